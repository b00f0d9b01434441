//! The front ends: thin translators between the outside world and the
//! [`services`](crate::services). Each reads its kind of request, calls the
//! services, and answers in its own form.
//!
//! - [`routes`]: the one route table: every method, path, name and handler.
//! - [`api`]: the JSON API under `/api/v1`.
//! - [`web`]: the HTML pages and the QR images.
//! - [`bot`]: the Telegram bot: the webhook, the command table, and the
//!   handlers (one file per command, in the top-level `handlers/` folder).
//! - [`charts`]: the charts as people see them (titles, legends, key figures), for the bot and the Mini App.
//! - [`devchat`]: dev mode's chat with the bot in the browser.
//! - [`ops`]: what operators and load balancers ask: health, readiness, metrics.

pub mod api;
pub mod bot;
pub mod charts;
pub mod devchat;
pub mod ops;
pub mod routes;
pub mod web;

use crate::infra::app::App;
use crate::infra::http_io::{ApiError, ClientAddr, client_ip, client_key};
use crate::infra::router::Req;
use crate::services::invitations::Found;
use crate::services::rate_limit::{self, Limit};

/// Counts an attempt of `limit` by the request's client (its IP, see
/// [`client_ip`], an IPv6 one by its network, [`client_key`]): the JSON
/// API and the pages share it. 429 with
/// `Retry-After` once over the limit.
///
/// The future owns what it needs, so it may be awaited after the request
/// is consumed (a page counts the attempt only once its form checked out).
///
/// # Errors
/// [`ApiError::TooManyRequests`], or the database failed.
pub fn limit_client(
    req: &Req,
    limit: Limit,
) -> impl Future<Output = Result<(), ApiError>> + Send + 'static {
    let key = client_ip(
        req.headers(),
        req.extension::<ClientAddr>(),
        req.app.config.trust_proxy_headers,
    )
    .map_or_else(
        || "unknown".to_owned(),
        |ip| client_key(ip, req.app.config.ipv6_client_prefix),
    );
    let app = req.app.clone();
    async move { limit_key(&app, &key, limit).await }
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

/// Why an invitation cannot be accepted, in Romanian and English: the bot
/// and the `/invite/{code}` page say the same.
pub fn invitation_refusal<T>(found: &Found<T>) -> (&'static str, &'static str) {
    match found {
        Found::Used => (
            "Invitația aceasta a fost deja folosită. Cere una nouă celui care te-a invitat.",
            "This invitation was already used. Ask whoever invited you for a new one.",
        ),
        Found::Expired => (
            "Invitația aceasta a expirat (o invitație este valabilă 7 zile). Cere una nouă celui care te-a invitat.",
            "This invitation has expired (an invitation is valid for 7 days). Ask whoever invited you for a new one.",
        ),
        Found::Revoked => (
            "Invitația aceasta a fost retrasă. Cere una nouă celui care te-a invitat, dacă e cazul.",
            "This invitation was withdrawn. Ask whoever invited you for a new one if needed.",
        ),
        Found::Unknown | Found::Open(_) => (
            "Nu recunosc această invitație. Verifică linkul sau cere una nouă celui care te-a invitat.",
            "I do not know this invitation. Check the link, or ask whoever invited you for a new one.",
        ),
    }
}
