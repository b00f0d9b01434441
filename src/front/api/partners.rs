//! `GET /api/v1/companies/{id}/partners`: what each partner owes or is owed,
//! overdue and aged, computed by [`crate::services::finance::partners`].

use http::StatusCode;

use super::companies::member_of;
use crate::infra::http_io::{ApiError, HttpResponse, json};
use crate::infra::router::Req;
use crate::services::finance::Direction;
use crate::services::finance::partners::{self, Cursor, Query};

/// Partners per page.
pub const PAGE_SIZE: i64 = 50;

/// `GET /api/v1/companies/{id}/partners?direction=issued|received&cursor=C`
/// (any member): a keyset page of partners with open invoices →
/// `{items, page_size, next_cursor, totals}`.
pub async fn list(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    let query = parse_query(req.query().unwrap_or_default())?;
    let mut db = req.app.pool.acquire().await?;
    let today = crate::services::finance::today(&mut *db).await?;
    let page = partners::list_after(&mut db, &company, &query, PAGE_SIZE, today).await?;
    Ok(json(StatusCode::OK, &page))
}

/// `direction` and `cursor`; other parameters are ignored, as the invoice
/// list ignores them.
fn parse_query(query: &str) -> Result<Query, ApiError> {
    let mut parsed = Query::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "direction" => {
                parsed.direction = Some(Direction::parse(value).ok_or_else(|| {
                    ApiError::BadRequest("direction must be issued or received".into())
                })?);
            }
            "cursor" => {
                parsed.after = Some(Cursor::decode(value).ok_or_else(|| {
                    ApiError::BadRequest(
                        "cursor must be a next_cursor from an earlier answer, unchanged".into(),
                    )
                })?);
            }
            _ => {}
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_checked() {
        let ok = parse_query("direction=received&cursor=RON.100.r.c18547290").expect("valid");
        assert_eq!(ok.direction, Some(Direction::Received));
        assert_eq!(
            ok.after.map(|c| c.encode()).as_deref(),
            Some("RON.100.r.c18547290")
        );
        assert_eq!(parse_query("").expect("defaults"), Query::default());
        for (query, why) in [
            ("direction=both", "unknown direction"),
            ("direction=", "empty direction"),
            ("cursor=", "empty cursor"),
            ("cursor=2026-01-10.42", "an invoice list's cursor"),
        ] {
            assert!(parse_query(query).is_err(), "{why}: {query}");
        }
    }
}
