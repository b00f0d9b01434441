//! Reading the ERP's bulk pushes: a JSON array of objects, checked row by row
//! so that a refusal names the row (its 0-based index in the array) and the
//! field: `row 3: due_date: is before issue_date`. One bad row refuses the batch.

use std::collections::HashMap;
use std::hash::Hash;

use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;

use crate::blocks::money::{Amount, Currency};
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
pub struct Row<'a>(&'a Map<String, Value>);

impl Row<'_> {
    fn get(&self, field: &'static str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
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

    /// Money as a decimal string with a dot (`"1234.56"`); JSON numbers are refused.
    ///
    /// # Errors
    /// Missing, a number, or not the decimal format.
    pub fn amount(&self, field: &'static str) -> Result<Amount, FieldError> {
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
        parse_date(self.required(field)?).ok_or_else(|| {
            FieldError::new(
                field,
                "must be a date written YYYY-MM-DD, such as 2026-12-31",
            )
        })
    }

    /// An optional date `YYYY-MM-DD`.
    ///
    /// # Errors
    /// Present but not a real date in that form.
    pub fn optional_date(&self, field: &'static str) -> Result<Option<Date>, FieldError> {
        self.optional_text(field)?
            .map(|s| {
                parse_date(s).ok_or_else(|| {
                    FieldError::new(
                        field,
                        "must be a date written YYYY-MM-DD, such as 2026-12-31",
                    )
                })
            })
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

/// Reads a batch: a JSON array of at most `max_rows` objects, each through
/// `parse`, refusing any `key` that repeats an earlier row's.
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
    key_field: &'static str,
    key: impl Fn(&T) -> K,
    parse: impl Fn(&Row<'_>) -> Result<T, FieldError>,
) -> Result<Vec<T>, ApiError> {
    let refusal = std::cell::RefCell::new(None);
    let reader = BatchReader {
        max_rows,
        key_field,
        key: &key,
        parse: &parse,
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

/// [`parse_batch`]'s reader: a refusal is kept in `refusal` (and the
/// reading stopped with a placeholder error), so it reaches the client as
/// written, without serde's position suffix.
struct BatchReader<'a, KF, P> {
    max_rows: usize,
    key_field: &'static str,
    key: &'a KF,
    parse: &'a P,
    refusal: &'a std::cell::RefCell<Option<ApiError>>,
}

impl<'de, T, K, KF, P> serde::de::DeserializeSeed<'de> for BatchReader<'_, KF, P>
where
    K: Eq + Hash,
    KF: Fn(&T) -> K,
    P: Fn(&Row<'_>) -> Result<T, FieldError>,
{
    type Value = Vec<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T, K, KF, P> serde::de::Visitor<'de> for BatchReader<'_, KF, P>
where
    K: Eq + Hash,
    KF: Fn(&T) -> K,
    P: Fn(&Row<'_>) -> Result<T, FieldError>,
{
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of rows")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Vec<T>, A::Error> {
        let stop = |refused: ApiError| {
            *self.refusal.borrow_mut() = Some(refused);
            serde::de::Error::custom("refused")
        };
        let mut seen = HashMap::new();
        let mut rows = Vec::new();
        let mut index = 0;
        while let Some(item) = items.next_element::<Value>()? {
            if index == self.max_rows {
                return Err(stop(ApiError::LimitReached(format!(
                    "limit reached: at most {} rows per batch; this one has more",
                    self.max_rows
                ))));
            }
            let refuse = |e: FieldError| {
                ApiError::Unprocessable(format!("row {index}: {}: {}", e.field, e.message))
            };
            let Value::Object(object) = item else {
                return Err(stop(ApiError::Unprocessable(format!(
                    "row {index}: must be a JSON object"
                ))));
            };
            let row = (self.parse)(&Row(&object)).map_err(|e| stop(refuse(e)))?;
            if let Some(first) = seen.insert((self.key)(&row), index) {
                return Err(stop(refuse(FieldError::new(
                    self.key_field,
                    format!("repeats row {first}; each key may appear once per batch"),
                ))));
            }
            rows.push(row);
            index += 1;
        }
        Ok(rows)
    }
}

/// The company of the path (when the caller may push data to it) and the
/// body read as a batch (see [`parse_batch`]): the start of every bulk push.
///
/// # Errors
/// 401, 403 or 404 for the company; 400, 413 or 422 for the body.
pub async fn writable_batch<T, K: Eq + Hash>(
    req: &mut Req,
    max_rows: u32,
    key_field: &'static str,
    key: impl Fn(&T) -> K,
    parse: impl Fn(&Row<'_>) -> Result<T, FieldError>,
) -> Result<(Company, Vec<T>), ApiError> {
    let company = super::companies::writer_of(req).await?;
    let body = req.bytes().await?;
    let max_rows = usize::try_from(max_rows).unwrap_or(usize::MAX);
    let rows = parse_batch(&body, max_rows, key_field, key, parse)?;
    Ok((company, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str, max_rows: usize) -> Result<Vec<String>, ApiError> {
        parse_batch(body.as_bytes(), max_rows, "name", String::clone, |row| {
            row.text("name", 10)
        })
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
}
