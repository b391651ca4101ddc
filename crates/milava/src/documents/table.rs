//! Tables the coordinators download: one list of cells that becomes CSV (the chat's `/participants`) or an
//! `.xlsx` workbook (the console) that Finnish Excel opens as it is: real dates in Finnish format
//! (31.12.2024 18.00), a bold frozen header row and column widths that fit the content.
use super::DocumentError;
use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

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

/// The table as an `.xlsx` workbook with one sheet named `sheet` (at most 31 characters are kept).
pub fn xlsx(sheet: &str, table: &Table) -> Result<Vec<u8>, DocumentError> {
    let mut workbook = Workbook::new();
    // The fastest compression: the participant list of 10,000 people is made on each request, and the level's
    // default (6) spent most of its time compressing for a file a little smaller.
    workbook.set_zip_compression_level(1);
    let worksheet = workbook.add_worksheet();
    let name: String = sheet
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if !name.trim().is_empty() {
        worksheet.set_name(name).map_err(failed)?;
    }
    let bold = Format::new().set_bold();
    let time = Format::new().set_num_format(TIME_FORMAT);
    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
    for (col, header) in table.headers.iter().enumerate() {
        worksheet
            .write_string_with_format(0, col as u16, header, &bold)
            .map_err(failed)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let c = col as u16;
            let width = match cell {
                Cell::Text(t) => {
                    worksheet.write_string(r, c, t).map_err(failed)?;
                    t.chars().count()
                }
                Cell::Number(n) => {
                    worksheet.write_number(r, c, *n as f64).map_err(failed)?;
                    n.to_string().len()
                }
                Cell::Time(t) => {
                    let at =
                        ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
                            .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second()))
                            .map_err(failed)?;
                    worksheet
                        .write_datetime_with_format(r, c, &at, &time)
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
