//! `GET /api/v1/companies/{id}/cash-entries`: the cash entries recorded with
//! `/add`, for the ERP to fetch, paged by a cursor.

use http::StatusCode;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::companies::member_of;
use crate::blocks::money::{Amount, Currency};
use crate::infra::http_io::{ApiError, HttpResponse, json};
use crate::infra::router::Req;
use crate::services::finance::cash::{self, Entry};
use crate::services::finance::iso_date;

/// Entries per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 100;

/// The most entries one page may ask for.
const MAX_LIMIT: i64 = 500;

#[derive(Serialize)]
struct Item {
    id: i64,
    amount: Amount,
    currency: Currency,
    note: String,
    #[serde(serialize_with = "iso_date")]
    entry_date: time::Date,
    created_by: Option<i64>,
    created_at: String,
}

impl From<Entry> for Item {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            amount: e.amount,
            currency: e.currency,
            note: e.note,
            entry_date: e.entry_date,
            created_by: e.created_by,
            created_at: e.created_at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct Page {
    items: Vec<Item>,
    /// Where the next page starts: after the last item (or where this one
    /// started, when it is empty). Always present, so that a reader can keep
    /// it and ask again later for what was recorded since.
    next_cursor: String,
    /// Whether more entries follow right now.
    has_more: bool,
}

/// `GET /api/v1/companies/{id}/cash-entries?cursor=&limit=` (members): the
/// entries in the order they were recorded, `limit` (1-500, default 100)
/// at a time: `{items, next_cursor, has_more}`.
pub async fn list(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    let (after, limit) = parse_query(req.query().unwrap_or_default())?;
    let mut db = req.app.pool.acquire().await?;
    // One more than asked: whether it exists says `has_more`.
    let mut entries = cash::list_after(&mut db, company.id, after, limit + 1).await?;
    let has_more = entries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let last = entries.last().map(|e| e.id).or(after).unwrap_or(0);
    Ok(json(
        StatusCode::OK,
        &Page {
            items: entries.into_iter().map(Item::from).collect(),
            next_cursor: last.to_string(),
            has_more,
        },
    ))
}

/// `cursor` (as a previous page gave it) and `limit`.
fn parse_query(query: &str) -> Result<(Option<i64>, i64), ApiError> {
    let mut after = None;
    let mut limit = DEFAULT_LIMIT;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "cursor" => {
                after = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|c: &i64| *c >= 0)
                        .ok_or_else(|| {
                            ApiError::BadRequest(
                                "cursor must be a next_cursor this list gave".into(),
                            )
                        })?,
                );
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            _ => {}
        }
    }
    Ok((after, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_limits_are_checked() {
        assert_eq!(parse_query("").expect("defaults"), (None, 100));
        assert_eq!(
            parse_query("cursor=42&limit=500").expect("valid"),
            (Some(42), 500)
        );
        for (query, why) in [
            ("cursor=x", "not a cursor"),
            ("cursor=-1", "negative"),
            ("limit=0", "zero"),
            ("limit=501", "above the cap"),
        ] {
            assert!(parse_query(query).is_err(), "{why}: {query}");
        }
    }
}
