//! `PUT` and `GET /api/v1/companies/{id}/invoices`.

use http::StatusCode;
use serde_json::json;

use super::companies::{limit_reached, member_of, writer_of};
use super::rows::{Batch, FieldError, Row, parse_date, writable_batch};
use crate::blocks::validate::Cui;
use crate::infra::http_io::{ApiError, HttpResponse, empty, json};
use crate::infra::router::{Id, Req};
use crate::services::finance::invoices::{self, Cursor, NewInvoice, Replace, Search};
use crate::services::finance::quota;
use crate::services::finance::{Direction, PaidFilter};

/// An invoice row's fields, in the order of a CSV file's usual columns.
pub const FIELDS: &[&str] = &[
    "number",
    "direction",
    "partner",
    "partner_cui",
    "issue_date",
    "due_date",
    "total",
    "paid",
    "currency",
];

/// The shape of a push, JSON or CSV.
const BATCH: Batch<NewInvoice, (Direction, String, String)> = Batch {
    fields: FIELDS,
    key_field: "number",
    key: NewInvoice::key,
    parse: parse_row,
};

/// Invoices per page of the API's list.
pub const PAGE_SIZE: i64 = 50;

/// `PUT /api/v1/companies/{id}/invoices` (owner, accountant): bulk upsert
/// (issued invoices by number, received ones by supplier and number) of a
/// JSON array or a CSV file (`Content-Type: text/csv`, [`super::csv_file`]):
/// 200 `{"upserted", "inserted", "updated", "unchanged"}`, `upserted`
/// counting rows inserted or actually changed. With
/// `?replace_issue_dates=FROM..TO` (and optionally `&direction=`), a full
/// sync: the company's invoices issued in that range that the batch lacks
/// are removed too, in the same transaction, and the answer adds `deleted`.
pub async fn push(mut req: Req) -> Result<HttpResponse, ApiError> {
    let replace = parse_push_query(req.query().unwrap_or_default())?;
    let quotas = req.app.config.quotas;
    let (company, rows) = writable_batch(&mut req, quotas.rows_per_batch, &BATCH).await?;
    let mut tx = req.app.pool.begin().await?;
    let done = invoices::upsert(&mut tx, company.id, &rows)
        .await
        .map_err(same_invoice_twice)?;
    let deleted = match replace {
        Some(replace) => Some(invoices::remove_missing(&mut tx, company.id, replace, &rows).await?),
        None => None,
    };
    if let Some(over) = quota::invoices_within(&mut tx, quotas, company.id).await? {
        return Err(limit_reached(over));
    }
    tx.commit().await?;
    tracing::info!(
        company.id = company.id,
        rows = rows.len(),
        inserted = done.inserted,
        updated = done.updated,
        deleted,
        "invoices pushed"
    );
    let mut answer = json!({
        "upserted": done.changed(),
        "inserted": done.inserted,
        "updated": done.updated,
        "unchanged": done.unchanged,
    });
    if let Some(deleted) = deleted {
        answer["deleted"] = json!(deleted);
    }
    Ok(json(StatusCode::OK, &answer))
}

/// `DELETE /api/v1/companies/{id}/invoices/{invoice_id}` (owner,
/// accountant): 204; an id the company does not have: 404.
pub async fn delete(req: Req) -> Result<HttpResponse, ApiError> {
    let Id(invoice_id) = req.param("invoice_id")?;
    let company = writer_of(&req).await?;
    let mut db = req.app.pool.acquire().await?;
    if !invoices::delete(&mut db, company.id, invoice_id).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(
        company.id = company.id,
        invoice.id = invoice_id,
        "invoice deleted"
    );
    Ok(empty(StatusCode::NO_CONTENT))
}

/// The push's query: nothing, or `replace_issue_dates=YYYY-MM-DD..YYYY-MM-DD`
/// with an optional `direction`. Anything else is refused, so that a typo
/// never turns a full sync into a plain upsert unnoticed.
fn parse_push_query(query: &str) -> Result<Option<Replace>, ApiError> {
    let mut range = None;
    let mut direction = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "replace_issue_dates" => {
                let dates = value
                    .split_once("..")
                    .and_then(|(from, to)| Some((parse_date(from)?, parse_date(to)?)))
                    .filter(|(from, to)| from <= to);
                range = Some(dates.ok_or_else(|| {
                    bad("replace_issue_dates must be FROM..TO, two dates YYYY-MM-DD with FROM not after TO")
                })?);
            }
            "direction" => {
                direction = Some(
                    Direction::parse(value)
                        .ok_or_else(|| bad("direction must be issued or received"))?,
                );
            }
            _ => {
                return Err(bad(
                    "the only parameters are replace_issue_dates=FROM..TO and direction",
                ));
            }
        }
    }
    match (range, direction) {
        (Some((from, to)), direction) => Ok(Some(Replace {
            from,
            to,
            direction,
        })),
        (None, Some(_)) => Err(bad("direction only goes with replace_issue_dates")),
        (None, None) => Ok(None),
    }
}

/// Two rows of one batch that reach the same stored invoice are the caller's
/// mistake (422), not ours.
fn same_invoice_twice(e: sqlx::Error) -> ApiError {
    if invoices::is_same_invoice_twice(&e) {
        ApiError::Unprocessable(
            "two rows of the batch are the same invoice (the same supplier, once with its CUI \
             and once without, and the same number); send it once"
                .into(),
        )
    } else {
        e.into()
    }
}

fn parse_row(row: &Row<'_>) -> Result<NewInvoice, FieldError> {
    let number = row.text("number", 100)?;
    let direction = row.one_of("direction", Direction::parse, "\"issued\" or \"received\"")?;
    let partner = row.text("partner", 300)?;
    let partner_cui = row
        .optional_text("partner_cui")?
        .map(Cui::parse)
        .transpose()
        .map_err(|e| FieldError::new("partner_cui", e.to_string()))?;
    let issue_date = row.date("issue_date")?;
    let due_date = row.date("due_date")?;
    if due_date < issue_date {
        return Err(FieldError::new("due_date", "is before issue_date"));
    }
    let total = row.amount("total")?;
    let paid = row.amount("paid")?;
    if !invoices::paid_fits_total(total, paid) {
        return Err(FieldError::new(
            "paid",
            "must have the sign of total (or be 0): negative only on a negative total",
        ));
    }
    let currency = row.currency("currency")?;
    Ok(NewInvoice {
        number,
        direction,
        partner,
        partner_cui,
        issue_date,
        due_date,
        total,
        paid,
        currency,
    })
}

/// `GET /api/v1/companies/{id}/invoices`: a keyset page of invoices,
/// `?status=unpaid|paid&direction=issued|received&q=TEXT&cursor=C` →
/// `{items, page_size, next_cursor}`; `q` searches partner names, numbers
/// and CUIs ([`Search`]).
pub async fn list(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    let query = parse_query(req.query().unwrap_or_default())?;
    let mut db = req.app.pool.acquire().await?;
    let today = crate::services::finance::today(&mut *db).await?;
    let filter = (query.status, query.direction, query.search);
    let page =
        invoices::list_after(&mut db, company.id, filter, query.after, PAGE_SIZE, today).await?;
    Ok(json(StatusCode::OK, &page))
}

/// What the list's query string asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct ListQuery {
    status: PaidFilter,
    direction: Option<Direction>,
    search: Option<Search>,
    after: Option<Cursor>,
}

fn parse_query(query: &str) -> Result<ListQuery, ApiError> {
    let mut parsed = ListQuery::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "status" => {
                parsed.status = match value {
                    "unpaid" => PaidFilter::Unpaid,
                    "paid" => PaidFilter::Paid,
                    _ => return Err(bad("status must be unpaid or paid")),
                }
            }
            "direction" => {
                parsed.direction = Some(
                    Direction::parse(value)
                        .ok_or_else(|| bad("direction must be issued or received"))?,
                );
            }
            "q" => {
                // Percent-decoded (`+` a space); bytes that are not UTF-8
                // become U+FFFD, which no search holds.
                let text = form_urlencoded::parse(pair.as_bytes())
                    .next()
                    .map(|(_, text)| text)
                    .unwrap_or_default();
                parsed.search = Some(Search::parse(&text).ok_or_else(|| {
                    bad("q must hold a letter or a digit: part of a partner's name, a number or a CUI")
                })?);
            }
            "cursor" => {
                parsed.after = Some(Cursor::parse(value).ok_or_else(|| {
                    bad("cursor must be a next_cursor from an earlier answer, unchanged")
                })?);
            }
            "page" => {
                return Err(bad(
                    "page is no longer read: the first request has no cursor, and each answer's \
                     next_cursor, passed as cursor, gives the next page",
                ));
            }
            _ => {}
        }
    }
    Ok(parsed)
}

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_checked() {
        let ok =
            parse_query("status=unpaid&direction=received&cursor=2026-01-10.42").expect("valid");
        assert_eq!(ok.status, PaidFilter::Unpaid);
        assert_eq!(ok.direction, Some(Direction::Received));
        let cursor = ok.after.expect("a cursor");
        assert_eq!(cursor.id, 42);
        assert_eq!(cursor.encode(), "2026-01-10.42", "read as written");
        assert_eq!(parse_query("").expect("defaults"), ListQuery::default());
        let search = parse_query("q=Bra%C8%99ov+Trans").expect("valid");
        assert_eq!(
            search.search.map(|s| s.as_str().to_owned()).as_deref(),
            Some("brasovtrans")
        );
        for (query, why) in [
            ("q=", "nothing to search"),
            ("q=%20-%20", "no letter or digit"),
            ("q=%C8", "not UTF-8"),
            ("page=2", "replaced by cursor"),
            ("cursor=", "empty"),
            ("cursor=2026-01-10", "no id"),
            ("cursor=2026-02-30.4", "no such day"),
            ("cursor=2026-01-10.0", "no such id"),
            ("cursor=2026-01-10.-4", "negative id"),
            ("cursor=2026-01-10.04", "not as written"),
            ("status=open", "unknown status"),
            ("direction=both", "unknown direction"),
        ] {
            assert!(parse_query(query).is_err(), "{why}: {query}");
        }
    }

    #[test]
    fn full_sync_queries_are_checked() {
        assert_eq!(parse_push_query("").expect("plain"), None);
        let replace =
            parse_push_query("replace_issue_dates=2026-11-01..2026-11-30&direction=issued")
                .expect("valid")
                .expect("a full sync");
        assert_eq!(
            (replace.from.day(), replace.to.day(), replace.direction),
            (1, 30, Some(Direction::Issued))
        );
        let one_day =
            parse_push_query("replace_issue_dates=2026-11-05..2026-11-05").expect("valid");
        assert_eq!(one_day.map(|r| r.direction), Some(None));
        for (query, why) in [
            ("replace_issue_dates=2026-11-30..2026-11-01", "backwards"),
            ("replace_issue_dates=2026-11-01", "one date"),
            ("replace_issue_dates=2026-11-01...2026-11-30", "three dots"),
            ("replace_issue_dates=2026-11-01..2026-11-31", "no such day"),
            ("replace_issue_date=2026-11-01..2026-11-30", "a typo"),
            ("direction=issued", "direction alone"),
            (
                "replace_issue_dates=2026-11-01..2026-11-30&direction=both",
                "unknown direction",
            ),
        ] {
            assert!(parse_push_query(query).is_err(), "{why}: {query}");
        }
    }
}
