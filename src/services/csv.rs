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

/// Quotes a cell when needed, and defuses text that Excel would run as a formula.
pub fn cell(value: &str) -> String {
    let safe = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if safe.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
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
    fn a_table_has_a_bom_and_crlf_lines() {
        let bytes = table(&["a", "b"], &[vec!["1".into(), "x;y".into()]]);
        assert_eq!(bytes, "\u{feff}a;b\r\n1;\"x;y\"\r\n".as_bytes());
    }
}
