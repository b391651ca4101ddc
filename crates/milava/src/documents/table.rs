//! Tables the coordinators download: one list of cells that becomes CSV (the chat's `/participants`) or an
//! `.xlsx` workbook (the console) that Finnish Excel opens as it is: real dates in Finnish format
//! (31.12.2024 18.00), a bold frozen header row and column widths that fit the content.
use super::DocumentError;
use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;

/// One cell: text, a whole number (Telegram ids, counts) or a local date and time.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Time(NaiveDateTime),
    Empty,
}

impl Cell {
    /// The cell as CSV text (times as 2024-12-31 18:00, which Excel reads as a date in any locale).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// Headers (already in the reader's language) and rows of cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The rows as text, for CSV.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|row| row.iter().map(Cell::text).collect())
            .collect()
    }
}

/// Finnish date and time as Excel shows it (the number format is the same in every locale's Excel).
const TIME_FORMAT: &str = "d.m.yyyy h.mm";
/// Column widths in characters: at least the header's, at most this.
const MAX_WIDTH: usize = 50;

fn failed(e: rust_xlsxwriter::XlsxError) -> DocumentError {
    DocumentError::Table(e.to_string())
}

/// The table as an `.xlsx` workbook with one sheet named `sheet` (at most 31 characters are kept). The table
/// is given, not lent: its texts move into the workbook instead of being copied.
pub fn xlsx(sheet: &str, table: Table) -> Result<Vec<u8>, DocumentError> {
    xlsx_with_rows_in(sheet, table, &std::env::temp_dir())
}

/// `xlsx`, with the rows waiting in `tempdir` as they are written.
fn xlsx_with_rows_in(sheet: &str, table: Table, tempdir: &Path) -> Result<Vec<u8>, DocumentError> {
    let mut workbook = Workbook::new();
    // The fastest compression: the participant list of 10,000 people is made on each request, and the level's
    // default (6) spent most of its time compressing for a file a little smaller.
    workbook.set_zip_compression_level(1);
    // Row by row ("constant memory"): each row is written out as the next begins, with its text in the row,
    // instead of a map of every cell and a table of every distinct text (twice as fast for 10,000 people).
    // The rows wait in an anonymous temporary file (`O_TMPFILE`, or unlinked as soon as made; gone when closed,
    // even after a crash); where none can be made, the sheet is kept in memory.
    let row_by_row = workbook.set_tempdir(tempdir).is_ok()
        && workbook.add_worksheet_with_constant_memory().is_ok();
    let worksheet = if row_by_row {
        workbook.worksheet_from_index(0).map_err(failed)?
    } else {
        workbook.add_worksheet()
    };
    let name: String = sheet
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if !name.trim().is_empty() {
        worksheet.set_name(name).map_err(failed)?;
    }
    let bold = Format::new().set_bold();
    // Times are numbers in a column formatted as dates: a format given per cell is looked up by its hash for
    // every cell.
    let time = Format::new().set_num_format(TIME_FORMAT);
    let columns = table
        .headers
        .len()
        .max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
    for col in 0..columns {
        if table
            .rows
            .iter()
            .any(|row| matches!(row.get(col), Some(Cell::Time(_))))
        {
            worksheet
                .set_column_format(col as u16, &time)
                .map_err(failed)?;
        }
    }
    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
    for (col, header) in table.headers.iter().enumerate() {
        worksheet
            .write_string_with_format(0, col as u16, header, &bold)
            .map_err(failed)?;
    }
    for (r, row) in table.rows.into_iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in row.into_iter().enumerate() {
            let c = col as u16;
            let width = match cell {
                Cell::Text(t) => {
                    let width = t.chars().count();
                    worksheet.write_string(r, c, t).map_err(failed)?;
                    width
                }
                Cell::Number(n) => {
                    worksheet.write_number(r, c, n as f64).map_err(failed)?;
                    n.to_string().len()
                }
                Cell::Time(t) => {
                    let at =
                        ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
                            .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second()))
                            .map_err(failed)?;
                    worksheet
                        .write_number(r, c, at.to_excel())
                        .map_err(failed)?;
                    16
                }
                Cell::Empty => 0,
            };
            if let Some(w) = widths.get_mut(col) {
                *w = (*w).max(width);
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        worksheet
            .set_column_width(col as u16, (*width).clamp(6, MAX_WIDTH) as f64 + 2.0)
            .map_err(failed)?;
    }
    worksheet.set_freeze_panes(1, 0).map_err(failed)?;
    workbook.save_to_buffer().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use chrono::NaiveDate;

    fn read(bytes: Vec<u8>) -> (Vec<String>, Vec<Vec<Data>>) {
        let mut workbook: Xlsx<_> =
            open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
        let names = workbook.sheet_names();
        let range = workbook.worksheet_range_at(0).unwrap().unwrap();
        (names, range.rows().map(|r| r.to_vec()).collect())
    }

    fn table() -> Table {
        let at = NaiveDate::from_ymd_opt(2027, 3, 4)
            .unwrap()
            .and_hms_opt(18, 30, 0)
            .unwrap();
        Table {
            headers: vec!["Nimi".into(), "Tunnus".into(), "Ilmoittautunut".into()],
            rows: vec![
                vec![
                    Cell::Text(" Äijä & <Poika> \"_x0041_\" 👶".into()),
                    Cell::Number(7001),
                    Cell::Time(at),
                ],
                vec![Cell::Text("Pekka".into()), Cell::Empty, Cell::Time(at)],
            ],
        }
    }

    fn check(bytes: Vec<u8>) {
        let (names, rows) = read(bytes);
        assert_eq!(
            names,
            ["kevat2027"],
            "characters Excel forbids in a name are left out"
        );
        assert_eq!(
            rows[0],
            [
                Data::String("Nimi".into()),
                Data::String("Tunnus".into()),
                Data::String("Ilmoittautunut".into())
            ]
        );
        assert_eq!(
            rows[1][0],
            Data::String(" Äijä & <Poika> \"_x0041_\" 👶".into())
        );
        assert_eq!(rows[1][1], Data::Float(7001.0));
        assert_eq!(rows[2][1], Data::Empty);
        for row in &rows[1..] {
            let Data::DateTime(at) = &row[2] else {
                panic!("a date: {:?}", row[2]);
            };
            // 4.3.2027 18.30: days since 30.12.1899 and the time as a fraction of the day.
            assert!(
                (at.as_f64() - (46450.0 + 18.5 / 24.0)).abs() < 1e-9,
                "{at:?}"
            );
        }
    }

    #[test]
    fn the_workbook_has_the_texts_numbers_and_real_dates_it_was_given() {
        check(xlsx("kevat:2027", table()).unwrap());
    }

    #[test]
    fn without_a_place_for_the_rows_the_workbook_is_made_in_memory_the_same() {
        let nowhere = Path::new("/nonexistent/milava-rows");
        check(xlsx_with_rows_in("kevat:2027", table(), nowhere).unwrap());
    }
}
