//! CSV files for coordinators: `;`-separated, UTF-8 with a BOM and CRLF line ends, so Excel with Finnish
//! settings opens them directly. Column names are stable identifiers that scripts can rely on.

/// A whole file: the header and one line per row.
pub fn table(columns: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&columns.join(";"));
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Characters that make Excel (or LibreOffice) read what follows as a formula or a DDE command.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// Where a spreadsheet may start a new cell when it guesses the separator or splits lines itself.
const CELL_BREAK: [char; 5] = [',', ';', '\t', '\r', '\n'];

/// Quotes a cell when needed, and defuses text that a spreadsheet would run as a formula.
pub fn cell(value: &str) -> String {
    let safe = defuse(value);
    if safe.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// Puts a `'` before every formula character that starts the cell or a piece of it: Excel set to split on
/// commas (or tabs) turns `x,=cmd|'/c calc'!A1` into the cells `x` and `=cmd|…`, so a check of the first
/// character alone is not enough. Spaces between the break and the character do not help either.
fn defuse(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    // Whether the text since the start or the last cell break has been only spaces.
    let mut at_cell_start = true;
    for c in value.chars() {
        if at_cell_start && FORMULA_START.contains(&c) {
            out.push('\'');
        }
        out.push(c);
        at_cell_start = CELL_BREAK.contains(&c) || (at_cell_start && c == ' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a;b"), "\"a;b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn a_formula_after_any_separator_is_defused() {
        assert_eq!(cell("x,=cmd|'/c calc'!A1"), "x,'=cmd|'/c calc'!A1");
        assert_eq!(cell("x, +1"), "x, '+1");
        assert_eq!(cell("x;@SUM(A1)"), "\"x;'@SUM(A1)\"");
        assert_eq!(cell("x\t-1"), "x\t'-1");
        assert_eq!(cell("a\n=1"), "\"a\n'=1\"");
        assert_eq!(cell(" =1"), " '=1");
        assert_eq!(cell("a,b,,=1,=2"), "a,b,,'=1,'=2");
        // Inside words and numbers nothing changes.
        assert_eq!(cell("2024-03-12 e=mc2 a@b.fi"), "2024-03-12 e=mc2 a@b.fi");
        assert_eq!(
            cell("Matti Meikäläinen-Virtanen"),
            "Matti Meikäläinen-Virtanen"
        );
    }

    #[test]
    fn a_table_has_a_bom_and_crlf_lines() {
        let bytes = table(&["a", "b"], &[vec!["1".into(), "x;y".into()]]);
        assert_eq!(bytes, "\u{feff}a;b\r\n1;\"x;y\"\r\n".as_bytes());
    }
}
