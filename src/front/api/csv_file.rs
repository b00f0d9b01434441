//! CSV files as bulk pushes (`Content-Type: text/csv`): a header row naming
//! the same fields as the JSON rows, then one row per record, as Excel and
//! LibreOffice save them: `,` or `;` between cells (whichever the header
//! uses), cells quoted when they hold a separator, a quote or a line break,
//! UTF-8 with or without a byte-order mark, `\r\n` or `\n` line ends.
//!
//! This only turns the file into JSON-like objects (an empty cell is an
//! absent field); the rows are checked by the same code as JSON rows
//! ([`super::rows`]), which also reads decimal commas and `DD.MM.YYYY` dates
//! in cells from CSV.

use serde_json::{Map, Value};

use crate::infra::http_io::ApiError;

/// A CSV file read into rows.
pub struct Table {
    /// The header's field names, in column order.
    pub header: Vec<String>,
    /// One object per record: field name → cell text; empty cells left out.
    pub rows: Vec<Map<String, Value>>,
}

/// The spreadsheet letter of column `index` (0 → `A`, 25 → `Z`, 26 → `AA`).
pub fn column_letter(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn refuse(message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(message.into())
}

/// Reads `body` as a CSV file whose header names some of `fields`.
///
/// # Errors
/// 422 when the file is not UTF-8, has no header, names a column that is not
/// one of `fields` (or one twice), or a row has more or fewer cells than the
/// header; the message names the row or column.
pub fn read(body: &[u8], fields: &[&str]) -> Result<Table, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        refuse(format!(
            "line {line}: the file is not UTF-8 text; save it as \"CSV UTF-8\" (Excel) or \
             with the Unicode (UTF-8) character set (LibreOffice)"
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.trim().is_empty() {
        return Err(refuse(format!(
            "the file is empty; its first row names the columns: {}",
            fields.join(", ")
        )));
    }
    let separator = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(separator)
        .trim(::csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| refuse(format!("row 1: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    for (index, name) in header.iter().enumerate() {
        let column = column_letter(index);
        if !fields.contains(&name.as_str()) {
            return Err(refuse(format!(
                "row 1, column {column}: {name:?} is not a field; the columns are {}",
                fields.join(", ")
            )));
        }
        if header[..index].contains(name) {
            return Err(refuse(format!(
                "row 1, column {column}: {name} appears twice"
            )));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.map_err(|e| refuse(format!("row {row}: {e}")))?;
        // Spreadsheets save blank rows as separators alone: skip them.
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != header.len() {
            return Err(refuse(format!(
                "row {row}: has {} cells, the header has {}",
                record.len(),
                header.len()
            )));
        }
        let object = header
            .iter()
            .zip(record.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(name, cell)| (name.clone(), Value::String(cell.to_owned())))
            .collect();
        rows.push(object);
    }
    Ok(Table { header, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["number", "partner", "total"];

    fn cells(table: &Table) -> Vec<Vec<(String, String)>> {
        table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn semicolons_quotes_bom_and_crlf_are_read() {
        let file = "\u{feff}number;partner;total\r\n\"F-1\";\"Alfa \"\"Beta\"\"; SRL\";1.234,56\r\n;;\r\nF-2;\"Gama\nSRL\";\r\n";
        let table = read(file.as_bytes(), FIELDS).expect("valid");
        assert_eq!(table.header, ["number", "partner", "total"]);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            cells(&table),
            [
                vec![
                    pair("number", "F-1"),
                    pair("partner", "Alfa \"Beta\"; SRL"),
                    pair("total", "1.234,56"),
                ],
                vec![pair("number", "F-2"), pair("partner", "Gama\nSRL")],
            ],
            "the blank row is skipped, the empty cell left out"
        );
        let commas = read(b"number,total\nF-1,\"1,5\"\n", &["number", "total"]).expect("valid");
        assert_eq!(
            commas.rows[0]["total"], "1,5",
            "a quoted decimal comma in a comma file"
        );
    }

    #[test]
    fn bad_files_are_refused_naming_row_and_column() {
        let cases: [(&[u8], &str, &str); 5] = [
            (b"number,partner\n\xff,x\n", "line 2", "not UTF-8"),
            (b"", "empty", "nothing"),
            (
                b"number,partnr\n",
                "row 1, column B: \"partnr\"",
                "a typo in the header",
            ),
            (
                b"number,number\n",
                "row 1, column B: number appears twice",
                "twice",
            ),
            (
                b"number,partner\nF-1,x,y\n",
                "row 2: has 3 cells",
                "a cell too many",
            ),
        ];
        for (file, expected, why) in cases {
            let error = read(file, FIELDS)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{why}: {error}");
        }
    }

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letter)
            .collect();
        assert_eq!(
            letters,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }
}
