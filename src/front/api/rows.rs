//! Reading the ERP's bulk pushes: a JSON array of objects, or a CSV file
//! with the same fields as columns ([`super::csv_file`]), checked row by row so
//! that a refusal names the row and the field: `row 3: due_date: is before
//! issue_date` (JSON: the 0-based index in the array) or `row 5, column
//! due_date (E): ...` (CSV: the row and column a spreadsheet shows). One bad
//! row refuses the batch.

use std::collections::HashMap;
use std::hash::Hash;

use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;

use crate::blocks::money::{Amount, Currency, parse_signed_human};
use crate::infra::http_io::ApiError;
use crate::infra::router::Req;
use crate::services::finance::Company;

/// Why one field of one row is refused.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// One object of a batch, with typed getters that name the field on failure.
pub struct Row<'a> {
    fields: &'a Map<String, Value>,
    /// Read from CSV: every value is text as a spreadsheet writes it, so
    /// amounts may have a decimal comma and dates the Romanian form.
    csv: bool,
}

impl Row<'_> {
    fn get(&self, field: &'static str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    fn string(&self, field: &'static str) -> Result<Option<&str>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(FieldError::new(field, "must be a string")),
        }
    }

    fn required(&self, field: &'static str) -> Result<&str, FieldError> {
        self.string(field)?
            .ok_or_else(|| FieldError::new(field, "is required"))
    }

    /// Non-blank text (trimmed) of at most `max_chars` characters.
    ///
    /// # Errors
    /// Missing, not a string, blank, or too long.
    pub fn text(&self, field: &'static str, max_chars: usize) -> Result<String, FieldError> {
        let text = self.required(field)?.trim();
        if text.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if text.chars().count() > max_chars {
            return Err(FieldError::new(
                field,
                format!("is longer than {max_chars} characters"),
            ));
        }
        Ok(text.to_owned())
    }

    /// Optional text; absent, `null` and blank are all `None`.
    ///
    /// # Errors
    /// Not a string.
    pub fn optional_text(&self, field: &'static str) -> Result<Option<&str>, FieldError> {
        Ok(self.string(field)?.map(str::trim).filter(|s| !s.is_empty()))
    }

    /// Money as a decimal string with a dot (`"1234.56"`); JSON numbers are
    /// refused. From CSV, also as a spreadsheet writes it: a decimal comma,
    /// thousands grouped (`-1.234,56`, `1,234.56`, `1 234,56`).
    ///
    /// # Errors
    /// Missing, a number, or not the decimal format.
    pub fn amount(&self, field: &'static str) -> Result<Amount, FieldError> {
        if self.csv {
            let (sign, magnitude) = parse_signed_human(self.required(field)?)
                .map_err(|e| FieldError::new(field, e.to_string()))?;
            return Ok(sign.map_or(magnitude, |sign| sign.apply(magnitude)));
        }
        match self.get(field) {
            Some(Value::Number(_)) => Err(FieldError::new(
                field,
                "money is a decimal string such as \"1234.56\", never a JSON number",
            )),
            _ => Amount::parse_decimal(self.required(field)?)
                .map_err(|e| FieldError::new(field, e.to_string())),
        }
    }

    /// A three-letter currency code.
    ///
    /// # Errors
    /// Missing or not three letters.
    pub fn currency(&self, field: &'static str) -> Result<Currency, FieldError> {
        Currency::parse(self.required(field)?).map_err(|e| FieldError::new(field, e.to_string()))
    }

    /// A date `YYYY-MM-DD`.
    ///
    /// # Errors
    /// Missing, or not a real date in that form.
    pub fn date(&self, field: &'static str) -> Result<Date, FieldError> {
        self.read_date(field, self.required(field)?)
    }

    fn read_date(&self, field: &'static str, text: &str) -> Result<Date, FieldError> {
        let date = if self.csv {
            parse_date(text).or_else(|| parse_romanian_date(text))
        } else {
            parse_date(text)
        };
        date.ok_or_else(|| {
            FieldError::new(
                field,
                if self.csv {
                    "must be a date written YYYY-MM-DD or DD.MM.YYYY, such as 2026-12-31 or 31.12.2026"
                } else {
                    "must be a date written YYYY-MM-DD, such as 2026-12-31"
                },
            )
        })
    }

    /// An optional date `YYYY-MM-DD`.
    ///
    /// # Errors
    /// Present but not a real date in that form.
    pub fn optional_date(&self, field: &'static str) -> Result<Option<Date>, FieldError> {
        self.optional_text(field)?
            .map(|s| self.read_date(field, s))
            .transpose()
    }

    /// One of a fixed set of words, read by `parse`; `expected` lists them for the message.
    ///
    /// # Errors
    /// Missing or not one of them.
    pub fn one_of<T>(
        &self,
        field: &'static str,
        parse: fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, FieldError> {
        parse(self.required(field)?)
            .ok_or_else(|| FieldError::new(field, format!("must be {expected}")))
    }
}

/// Exactly `YYYY-MM-DD` with a real day: no signs, no five-digit years.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// `DD.MM.YYYY`, the Romanian form a spreadsheet writes a date in.
fn parse_romanian_date(s: &str) -> Option<Date> {
    let mut parts = s.split('.');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let shaped = parts.next().is_none()
        && day.len() == 2
        && month.len() == 2
        && year.len() == 4
        && [day, month, year]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return None;
    }
    parse_date(&format!("{year}-{month}-{day}"))
}

/// What a batch's rows are: the shape of each push.
pub struct Batch<T, K> {
    /// Every field a row may have, in the usual column order (a CSV header
    /// naming anything else is refused).
    pub fields: &'static [&'static str],
    /// The field a repeated key is reported on.
    pub key_field: &'static str,
    /// A row's key: no two rows of a batch may share one.
    pub key: fn(&T) -> K,
    /// Reads and checks one row.
    pub parse: fn(&Row<'_>) -> Result<T, FieldError>,
}

/// How refusals name rows and fields.
enum Places<'a> {
    /// A JSON array: rows by their 0-based index, fields by name.
    Json,
    /// A CSV file: rows as a spreadsheet numbers them (the header is row 1),
    /// fields by name and column letter.
    Csv { header: &'a [String] },
}

impl Places<'_> {
    fn row(&self, index: usize) -> usize {
        match self {
            Self::Json => index,
            Self::Csv { .. } => index + 2,
        }
    }

    fn refuse(&self, index: usize, e: &FieldError) -> ApiError {
        let row = self.row(index);
        ApiError::Unprocessable(match self {
            Self::Json => format!("row {row}: {}: {}", e.field, e.message),
            Self::Csv { header } => match header.iter().position(|h| h == e.field) {
                Some(column) => format!(
                    "row {row}, column {} ({}): {}",
                    e.field,
                    super::csv_file::column_letter(column),
                    e.message
                ),
                None => format!("row {row}, column {} (missing): {}", e.field, e.message),
            },
        })
    }
}

/// Reads a batch: a JSON array of at most `max_rows` objects, each through
/// `batch.parse`, refusing any key that repeats an earlier row's.
///
/// The array is read one row at a time: only the row being checked is ever
/// a `serde_json::Value`, the rows before it are already typed, and the
/// row one past `max_rows` stops the reading. So a batch takes about its
/// body's size in memory, never the ten times a whole `Value` tree would.
///
/// # Errors
/// 400 when the body is not JSON; 422 naming the row and field (or the
/// batch's shape, or its size).
pub fn parse_batch<T, K: Eq + Hash>(
    body: &[u8],
    max_rows: usize,
    batch: &Batch<T, K>,
) -> Result<Vec<T>, ApiError> {
    let refusal = std::cell::RefCell::new(None);
    let reader = BatchReader {
        max_rows,
        batch,
        refusal: &refusal,
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    let read = serde::de::DeserializeSeed::deserialize(reader, &mut json).and_then(|rows| {
        json.end()?;
        Ok(rows)
    });
    match (read, refusal.into_inner()) {
        (_, Some(refused)) => Err(refused),
        (Ok(rows), None) => Ok(rows),
        (Err(e), None) if e.is_data() => Err(ApiError::Unprocessable(
            "the body must be a JSON array of rows".into(),
        )),
        (Err(e), None) => Err(ApiError::BadRequest(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// Reads a CSV batch (see [`super::csv_file`]) with the same rules as JSON.
///
/// # Errors
/// 422 naming the row and column (or the file's shape, or its size).
pub fn parse_csv_batch<T, K: Eq + Hash>(
    body: &[u8],
    max_rows: usize,
    batch: &Batch<T, K>,
) -> Result<Vec<T>, ApiError> {
    let table = super::csv_file::read(body, batch.fields)?;
    if table.rows.len() > max_rows {
        return Err(ApiError::LimitReached(format!(
            "limit reached: at most {max_rows} rows per batch; this one has {}",
            table.rows.len()
        )));
    }
    let places = Places::Csv {
        header: &table.header,
    };
    let mut rows = Rows::with_capacity(table.rows.len());
    for (index, fields) in table.rows.iter().enumerate() {
        rows.push(batch, &places, index, &Row { fields, csv: true })?;
    }
    Ok(rows.rows)
}

/// The rows read so far and their keys: one place that checks a row and
/// refuses a key seen before, for JSON and CSV alike.
struct Rows<T, K> {
    seen: HashMap<K, usize>,
    rows: Vec<T>,
}

impl<T, K: Eq + Hash> Rows<T, K> {
    fn with_capacity(n: usize) -> Self {
        Self {
            seen: HashMap::with_capacity(n),
            rows: Vec::with_capacity(n),
        }
    }

    fn push(
        &mut self,
        batch: &Batch<T, K>,
        places: &Places<'_>,
        index: usize,
        row: &Row<'_>,
    ) -> Result<(), ApiError> {
        let row = (batch.parse)(row).map_err(|e| places.refuse(index, &e))?;
        if let Some(first) = self.seen.insert((batch.key)(&row), index) {
            let repeated = FieldError::new(
                batch.key_field,
                format!(
                    "repeats row {}; each key may appear once per batch",
                    places.row(first)
                ),
            );
            return Err(places.refuse(index, &repeated));
        }
        self.rows.push(row);
        Ok(())
    }
}

/// [`parse_batch`]'s reader: a refusal is kept in `refusal` (and the
/// reading stopped with a placeholder error), so it reaches the client as
/// written, without serde's position suffix.
struct BatchReader<'a, T, K> {
    max_rows: usize,
    batch: &'a Batch<T, K>,
    refusal: &'a std::cell::RefCell<Option<ApiError>>,
}

impl<'de, T, K: Eq + Hash> serde::de::DeserializeSeed<'de> for BatchReader<'_, T, K> {
    type Value = Vec<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T, K: Eq + Hash> serde::de::Visitor<'de> for BatchReader<'_, T, K> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of rows")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Vec<T>, A::Error> {
        let stop = |refused: ApiError| {
            *self.refusal.borrow_mut() = Some(refused);
            serde::de::Error::custom("refused")
        };
        let mut rows = Rows::with_capacity(0);
        let mut index = 0;
        while let Some(item) = items.next_element::<Value>()? {
            if index == self.max_rows {
                return Err(stop(ApiError::LimitReached(format!(
                    "limit reached: at most {} rows per batch; this one has more",
                    self.max_rows
                ))));
            }
            let Value::Object(fields) = item else {
                return Err(stop(ApiError::Unprocessable(format!(
                    "row {index}: must be a JSON object"
                ))));
            };
            let row = Row {
                fields: &fields,
                csv: false,
            };
            rows.push(self.batch, &Places::Json, index, &row)
                .map_err(stop)?;
            index += 1;
        }
        Ok(rows.rows)
    }
}

/// The company of the path (when the caller may push data to it) and the
/// body read as a batch: CSV when the `Content-Type` is `text/csv` (see
/// [`parse_csv_batch`]), else JSON ([`parse_batch`]). The start of every
/// bulk push.
///
/// # Errors
/// 401, 403 or 404 for the company; 400, 413 or 422 for the body.
pub async fn writable_batch<T, K: Eq + Hash>(
    req: &mut Req,
    max_rows: u32,
    batch: &Batch<T, K>,
) -> Result<(Company, Vec<T>), ApiError> {
    let company = super::companies::writer_of(req).await?;
    let is_csv = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/csv"));
    let max_rows = usize::try_from(max_rows).unwrap_or(usize::MAX);
    let rows = if is_csv {
        parse_csv_batch(&req.bytes().await?, max_rows, batch)?
    } else {
        parse_batch(&req.bytes().await?, max_rows, batch)?
    };
    Ok((company, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str, max_rows: usize) -> Result<Vec<String>, ApiError> {
        let batch = Batch {
            fields: &["name"],
            key_field: "name",
            key: String::clone,
            parse: |row| row.text("name", 10),
        };
        parse_batch(body.as_bytes(), max_rows, &batch)
    }

    fn message(answer: Result<Vec<String>, ApiError>) -> (u16, String) {
        let e = answer.expect_err("refused");
        (e.status_and_code().0.as_u16(), e.to_string())
    }

    #[test]
    fn batches_are_read_row_by_row_and_stop_at_the_first_row_too_many() {
        assert_eq!(
            names(r#"[{"name":"a"},{"name":"b"}]"#, 2).expect("two rows"),
            ["a", "b"]
        );
        // Past the cap, the rest is never read: not even its syntax.
        assert_eq!(
            message(names(
                r#"[{"name":"a"},{"name":"b"},{"name":"c"}, this is never read"#,
                2
            )),
            (
                422,
                "limit reached: at most 2 rows per batch; this one has more".to_owned()
            )
        );
        // A bad row stops the reading there too, and is named.
        assert_eq!(
            message(names(r#"[{"name":"a"},{"name":7}, garbage"#, 5)),
            (422, "row 1: name: must be a string".to_owned())
        );
        let cases = [
            (r#"{"name":"a"}"#, 422, "an object, not an array"),
            (r#"["a"]"#, 422, "a row that is not an object"),
            (r#"[{"name":"a"},{"name":"a"}]"#, 422, "a repeated key"),
            (r#"[{"name":"a"}"#, 400, "cut short"),
            (r#"[{"name":"a"}] []"#, 400, "trailing data"),
            ("", 400, "empty"),
        ];
        for (body, status, why) in cases {
            assert_eq!(message(names(body, 5)).0, status, "{why}");
        }
    }

    #[test]
    fn dates_must_be_exactly_year_month_day() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2028-02-29").is_some());
        let bad = [
            ("2026-02-30", "no such day"),
            ("2026-2-28", "unpadded month"),
            ("+2026-02-28", "sign"),
            ("28.02.2026", "Romanian form"),
            ("2026-02-28T00:00:00Z", "timestamp"),
            ("", "empty"),
        ];
        for (input, why) in bad {
            assert_eq!(parse_date(input), None, "{why}: {input}");
        }
    }

    #[test]
    fn csv_cells_read_as_spreadsheets_write_them() {
        let mut fields = Map::new();
        for (k, v) in [
            ("a", "-1.234,56"),
            ("b", "1234.5"),
            ("c", "31.12.2026"),
            ("d", "2026-12-31"),
            ("e", "1,234"),
            ("f", "12/31/2026"),
        ] {
            fields.insert(k.into(), Value::String(v.into()));
        }
        let csv = Row {
            fields: &fields,
            csv: true,
        };
        assert_eq!(csv.amount("a"), Ok(Amount::from_minor(-123_456)));
        assert_eq!(csv.amount("b"), Ok(Amount::from_minor(123_450)));
        assert_eq!(csv.date("c"), csv.date("d"));
        assert!(
            csv.amount("e").is_err(),
            "1,234: thousands or decimals? refused"
        );
        assert!(csv.date("f").is_err(), "month/day/year is ambiguous");
        let json = Row {
            fields: &fields,
            csv: false,
        };
        assert!(
            json.amount("a").is_err(),
            "JSON amounts are decimal strings with a dot"
        );
        assert!(json.date("c").is_err(), "JSON dates are YYYY-MM-DD");
        assert_eq!(
            parse_romanian_date("1.12.2026"),
            None,
            "two-digit days only"
        );
    }
}
