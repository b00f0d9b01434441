//! The JSON API under `/api/v1`: accounts and tokens ([`auth`]), Telegram
//! linking ([`telegram_link`]), and company data ([`companies`],
//! [`invoices`], [`treasury`]). Each route reads its request, does its work
//! and answers JSON; failures are [`ApiError`]s. Authenticated routes use
//! `Authorization: Bearer <access token>` ([`crate::auth::authenticate`]).

pub mod auth;
pub mod companies;
pub mod invoices;
pub mod rows;
pub mod telegram_link;
pub mod treasury;

use crate::app::App;
use crate::http::{ApiError, ClientAddr, HttpResponse, Request, client_ip};
use crate::rate_limit::{self, Limit};

/// Answers with the route's response, or its error's.
pub(crate) fn respond(result: Result<HttpResponse, ApiError>) -> HttpResponse {
    result.unwrap_or_else(ApiError::into_response)
}

/// The key of per-client limits: the client's IP (see [`client_ip`]).
pub(crate) fn client_key(app: &App, req: &Request) -> String {
    client_ip(
        req.headers(),
        req.extensions().get::<ClientAddr>().copied(),
        app.config.trust_proxy_headers,
    )
    .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Counts an attempt of `limit` by the request's client; 429 with
/// `Retry-After` once over the limit.
///
/// # Errors
/// [`ApiError::TooManyRequests`], or the database failed.
pub(crate) fn limit_client<'a>(
    app: &'a App,
    req: &Request,
    limit: Limit,
) -> impl Future<Output = Result<(), ApiError>> + Send + use<'a> {
    // The future must not hold the request: its body is not Sync, so a
    // borrowed request across an await would make the route's future !Send.
    let key = client_key(app, req);
    async move { limit_key(app, &key, limit).await }
}

async fn limit_key(app: &App, key: &str, limit: Limit) -> Result<(), ApiError> {
    let mut conn = app.pool.acquire().await?;
    match rate_limit::check(&mut conn, limit, key).await? {
        None => Ok(()),
        Some(retry_after) => {
            tracing::warn!(limit = limit.action, "rate limit hit");
            Err(ApiError::TooManyRequests(retry_after))
        }
    }
}
