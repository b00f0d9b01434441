//! Which path goes to which piece. Plain `match` on method and path: the whole
//! HTTP surface of ledgerbot is readable here in one screen.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;

use crate::app::App;
use crate::http::{ApiError, HttpResponse, Request};
use crate::{api, web, webhook};

/// Answers one request.
pub async fn route(app: App, req: Request) -> HttpResponse {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::POST, "/telegram/webhook") => webhook::handle(&app, req).await,
        (&Method::GET, "/healthz") => crate::http::json(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::GET, "/readyz") => readiness(&app).await,
        (&Method::GET, "/metrics") => metrics(&app, &req),
        _ if is_companies(path) => crate::api::companies::route(&app, req).await,
        (_, "/telegram/webhook" | "/healthz" | "/readyz" | "/metrics") => {
            ApiError::MethodNotAllowed.into_response()
        }
        // Accounts and Telegram linking (src/api/auth.rs, src/api/telegram_link.rs, src/web/qr.rs).
        (&Method::POST, "/api/v1/auth/register") => api::auth::register(&app, req).await,
        (&Method::POST, "/api/v1/auth/login") => api::auth::login(&app, req).await,
        (&Method::POST, "/api/v1/auth/refresh") => api::auth::refresh(&app, req).await,
        (&Method::POST, "/api/v1/auth/logout") => api::auth::logout(&app, req).await,
        (&Method::POST, "/api/v1/telegram/link-code") => {
            api::telegram_link::create_code(&app, req).await
        }
        (&Method::POST, "/api/v1/telegram/confirm") => api::telegram_link::confirm(&app, req).await,
        (&Method::GET, p) if p.starts_with("/qr/") => web::qr::image(&app, req).await,
        (
            _,
            "/api/v1/auth/register"
            | "/api/v1/auth/login"
            | "/api/v1/auth/refresh"
            | "/api/v1/auth/logout"
            | "/api/v1/telegram/link-code"
            | "/api/v1/telegram/confirm",
        ) => ApiError::MethodNotAllowed.into_response(),
        // The web pages (src/web/): HTML, sessions, CSRF.
        (_, p) if web::is_page(p) => web::route(&app, req).await,
        (_, p) if p.starts_with("/dev/") => crate::devchat::route(&app, req)
            .await
            .unwrap_or_else(|| ApiError::NotFound.into_response()),
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
        "/api/v1/auth/register" => "/api/v1/auth/register",
        "/api/v1/auth/login" => "/api/v1/auth/login",
        "/api/v1/auth/refresh" => "/api/v1/auth/refresh",
        "/api/v1/auth/logout" => "/api/v1/auth/logout",
        "/api/v1/telegram/link-code" => "/api/v1/telegram/link-code",
        "/api/v1/telegram/confirm" => "/api/v1/telegram/confirm",
        p if p.starts_with("/qr/") && p.ends_with(".svg") => "/qr/{code}.svg",
        p if p.starts_with("/qr/") && p.ends_with(".png") => "/qr/{code}.png",
        p if p.starts_with("/qr/") => "/qr/{code}",
        p if p.starts_with("/link/") => "/link/{code}",
        "/" => "/",
        "/login" => "/login",
        "/register" => "/register",
        "/logout" => "/logout",
        "/telegram" => "/telegram",
        "/telegram/login-widget" => "/telegram/login-widget",
        "/metrics" => "/metrics",
        "/dev/chat" => "/dev/chat",
        "/dev/outbox" => "/dev/outbox",
        p if p.starts_with("/dev/bot") => "/dev/bot{token}/{method}",
        _ if is_companies(path) => crate::api::companies::route_name(path),
        _ => "other",
    }
}

/// The Prometheus text format; behind `METRICS_TOKEN` when one is set.
fn metrics(app: &App, req: &Request) -> HttpResponse {
    if let Some(token) = &app.config.metrics_token {
        let presented = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            presented.as_bytes(),
            token.expose().as_bytes(),
        )) {
            return ApiError::Unauthorized("a Bearer token is required for metrics")
                .into_response();
        }
    }
    crate::http::with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        crate::metrics::render(&app.pool),
    )
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
            crate::db::note_error(&e);
            tracing::warn!(error = %e, "not ready: database unreachable");
            ApiError::Unavailable.into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: database did not answer in time");
            ApiError::Unavailable.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_carrying_codes_are_named_by_their_template() {
        let cases = [
            ("/qr/K7TQ3MXA.svg", "/qr/{code}.svg"),
            ("/qr/K7TQ3MXA.png", "/qr/{code}.png"),
            ("/qr/K7TQ3MXA", "/qr/{code}"),
            ("/link/K7TQ3MXA", "/link/{code}"),
            ("/api/v1/auth/login", "/api/v1/auth/login"),
            ("/K7TQ3MXA", "other"),
        ];
        for (path, want) in cases {
            assert_eq!(route_name(path), want, "{path}");
            assert!(!route_name(path).contains("K7TQ3MXA"), "{path}");
        }
    }
}
