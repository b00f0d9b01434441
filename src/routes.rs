//! Which path goes to which piece. Plain `match` on method and path: the whole
//! HTTP surface of ledgerbot is readable here in one screen.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;

use crate::app::App;
use crate::http::{ApiError, HttpResponse, Request};
use crate::webhook;

/// Answers one request.
pub async fn route(app: App, req: Request) -> HttpResponse {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::POST, "/telegram/webhook") => webhook::handle(&app, req).await,
        (&Method::GET, "/healthz") => crate::http::json(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::GET, "/readyz") => readiness(&app).await,
        _ if is_companies(path) => crate::api::companies::route(&app, req).await,
        (_, "/telegram/webhook" | "/healthz" | "/readyz") => {
            ApiError::MethodNotAllowed.into_response()
        }
        _ => ApiError::NotFound.into_response(),
    }
}

/// The route a path belongs to, as a template: what logs and metrics record,
/// so that codes and ids in paths never reach a log.
pub fn route_name(path: &str) -> &'static str {
    match path {
        "/telegram/webhook" => "/telegram/webhook",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        _ if is_companies(path) => crate::api::companies::route_name(path),
        _ => "other",
    }
}

/// Whether `path` is under `/api/v1/companies` (the company finances API).
fn is_companies(path: &str) -> bool {
    path.strip_prefix(crate::api::companies::PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Ready when the database answers within a second.
async fn readiness(app: &App) -> HttpResponse {
    let ping = sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&app.pool);
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(_)) => crate::http::json(StatusCode::OK, &json!({"status": "ready"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            ApiError::Unavailable.into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: database did not answer in time");
            ApiError::Unavailable.into_response()
        }
    }
}
