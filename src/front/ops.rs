//! What operators and load balancers ask: `GET /healthz` (the process
//! answers), `GET /readyz` (the database answers within a second) and
//! `GET /metrics` (Prometheus; behind `METRICS_TOKEN` when one is set).

use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use crate::infra::http_io::{ApiError, HttpResponse, with_type};
use crate::infra::router::Req;

/// `GET /healthz`: 200 while the process answers.
pub async fn health(_req: Req) -> HttpResponse {
    crate::infra::http_io::json(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers within a second, else 503.
/// Asked on the webhook's pool: ready means Telegram's updates can be
/// served, whatever the API's pool is doing.
pub async fn readiness(req: Req) -> Result<HttpResponse, ApiError> {
    let ping = sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&req.app.webhook_pool);
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(_)) => Ok(crate::infra::http_io::json(
            StatusCode::OK,
            &json!({"status": "ready"}),
        )),
        Ok(Err(e)) => {
            crate::infra::db::note_error(&e);
            tracing::warn!(error = %e, "not ready: database unreachable");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("not ready: database did not answer in time");
            Err(ApiError::Unavailable)
        }
    }
}

/// `GET /metrics`: the Prometheus text format; with `METRICS_TOKEN` set,
/// only for `Authorization: Bearer <token>` (compared in constant time).
pub async fn metrics(req: Req) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &req.app.config.metrics_token {
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
            return Err(ApiError::Unauthorized(
                "a Bearer token is required for metrics",
            ));
        }
    }
    Ok(with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        crate::infra::metrics::render(&req.app.webhook_pool, &req.app.pool),
    ))
}
