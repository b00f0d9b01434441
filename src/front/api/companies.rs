//! `/api/v1/companies...`: companies, the dashboard, and (in
//! [`super::members`], [`super::invoices`] and [`super::treasury`]) members
//! and invitations, and the data an ERP pushes.
//!
//! Every route but the list and create answers 404 to a caller who is not a
//! member, whether or not the company exists; a member whose role does not
//! allow the action gets 403.

use http::StatusCode;
use serde::Deserialize;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::{Caller, caller};
use crate::blocks::money::Currency;
use crate::blocks::validate::Cui;
use crate::infra::http_io::{ApiError, HttpResponse, json};
use crate::infra::router::{Id, Req};
use crate::services::finance::companies;
use crate::services::finance::quota::{self, Exceeded};
use crate::services::finance::{Company, Role, dashboard};
use crate::services::rate_limit;

/// Companies per page of `GET /api/v1/companies`.
pub const PAGE_SIZE: i64 = 50;

/// `GET /api/v1/companies?cursor=C`: a keyset page of the caller's
/// companies, with their role, by name → `{items, page_size, next_cursor}`.
/// The cursor is the last company's id; one the caller is no longer a
/// member of has lost its place: 400. The Mini App's chooser pages through
/// it too ("more"), so the answer, a person's companies, is never cached.
pub async fn list(req: Req) -> Result<HttpResponse, ApiError> {
    let (caller, mut db) = counted_caller(&req).await?;
    let after = cursor_param(req.query().unwrap_or_default(), crate::blocks::id::parse)?;
    let page = companies::of_user_slice(&mut db, caller.user_id, after, PAGE_SIZE)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(
                "cursor names a company you are no longer a member of: start again without it"
                    .into(),
            )
        })?;
    Ok(super::no_store(json(StatusCode::OK, &page)))
}

/// The `cursor` of a list's query string, read by `parse` (which accepts
/// only what the list itself wrote); other parameters are ignored, as the
/// invoice list ignores them.
///
/// # Errors
/// 400 for a cursor `parse` does not accept.
pub(super) fn cursor_param<T>(
    query: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let mut cursor = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(value) = pair.strip_prefix("cursor=") {
            cursor = Some(parse(value).ok_or_else(|| {
                ApiError::BadRequest(
                    "cursor must be a next_cursor from an earlier answer, unchanged".into(),
                )
            })?);
        }
    }
    Ok(cursor)
}

/// `GET /api/v1/companies/{id}`.
pub async fn get(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    Ok(json(StatusCode::OK, &company))
}

/// `GET /api/v1/companies/{id}/dashboard`: the figures `/dashboard` shows.
pub async fn dashboard(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    let mut db = req.app.pool.acquire().await?;
    let today = crate::services::finance::today(&mut *db).await?;
    let figures = dashboard::compute(&mut db, &company, today).await?;
    Ok(json(StatusCode::OK, &figures))
}

/// The caller of a company route (`/api/v1/companies...`), counted against
/// the per-account limit (`API_REQUESTS_PER_MINUTE`): 401 without a valid
/// token, 429 with `Retry-After` past the limit. Returns the connection it counted on, for the request to go on with.
///
/// # Errors
/// As said, or the database failed.
pub(crate) async fn counted_caller(
    req: &Req,
) -> Result<(Caller, PoolConnection<Postgres>), ApiError> {
    // The token first: a request without one costs no connection.
    let caller = caller(req)?;
    let mut db = req.app.pool.acquire().await?;
    let limit = req.app.config.rate_limits.company_api;
    let key = caller.user_id.to_string();
    if let Some(retry_after) = rate_limit::check(&mut db, limit, &key).await? {
        tracing::warn!(user.id = caller.user_id, "company API rate limit hit");
        return Err(ApiError::TooManyRequests(retry_after));
    }
    Ok((caller, db))
}

/// The company of the path's `{id}` as its caller sees it: 404 when the
/// caller is not a member (or the id is malformed); the request is counted
/// against the caller's limit first.
async fn company(req: &Req) -> Result<Company, ApiError> {
    let (caller, mut db) = counted_caller(req).await?;
    let Id(company_id) = req.param("id")?;
    companies::for_member(&mut db, company_id, caller.user_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The company of the path, as the caller sees it: 401 without a valid token.
pub(crate) async fn member_of(req: &Req) -> Result<Company, ApiError> {
    company(req).await
}

/// The company of the path, when the caller may push data to it (owner, accountant).
pub(super) async fn writer_of(req: &Req) -> Result<Company, ApiError> {
    let company = member_of(req).await?;
    if !company.role.can_write() {
        return Err(ApiError::Forbidden(
            "viewers may read; pushing data needs the owner or accountant role",
        ));
    }
    Ok(company)
}

/// The company of the path, when the caller owns it: 404 to a non-member,
/// 403 to a member who is not an owner.
pub(super) async fn owner_of(req: &Req) -> Result<Company, ApiError> {
    let company = company(req).await?;
    if company.role != Role::Owner {
        return Err(ApiError::Forbidden("only an owner may manage members"));
    }
    Ok(company)
}

#[derive(Deserialize)]
struct NewCompany {
    name: String,
    cui: Option<String>,
    currency: Option<String>,
}

/// `POST /api/v1/companies` `{name, cui?, currency?}`: 201; the caller becomes owner.
pub async fn create(mut req: Req) -> Result<HttpResponse, ApiError> {
    let (caller, db) = counted_caller(&req).await?;
    drop(db);
    let body: NewCompany = req.json().await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Unprocessable(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    let cui = body
        .cui
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(Cui::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(format!("cui: {e}")))?;
    let currency = body
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(format!("currency: {e}")))?
        .unwrap_or(Currency::RON);
    let mut tx = req.app.pool.begin().await?;
    let quotas = req.app.config.quotas;
    if let Some(over) = quota::one_more_company(&mut tx, quotas, caller.user_id).await? {
        return Err(limit_reached(over));
    }
    let company = companies::create(&mut tx, caller.user_id, name, cui.as_ref(), currency).await?;
    tx.commit().await?;
    Ok(json(StatusCode::CREATED, &company))
}

/// The answer to a request that would pass one of the operator's limits:
/// 422 `limit_reached`, naming the limit and its value.
pub(super) fn limit_reached(over: Exceeded) -> ApiError {
    ApiError::LimitReached(format!(
        "limit reached: at most {} {}; this request would make {}",
        over.max, over.what, over.would_be
    ))
}
