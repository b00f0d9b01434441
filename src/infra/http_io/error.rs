//! The error type of the HTTP boundary: every failure a route can meet, each
//! turned into `{"error": "<code>", "message": "<text>"}` with a fitting status.

use std::time::Duration;

use http::StatusCode;
use serde::Serialize;

use super::{HttpResponse, json, retry_after};

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (not JSON, missing pieces).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such resource, or one the caller may not know exists.
    #[error("not found")]
    NotFound,
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The resource already exists or was changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// It existed, but is no longer usable (a used or expired code).
    #[error("{0}")]
    Gone(String),
    /// Well-formed, but a value is unacceptable; the message names it.
    #[error("{0}")]
    Unprocessable(String),
    /// Well-formed, but it would pass one of the operator's limits
    /// (companies per account, invoices per company, ...); the message
    /// names the limit and its value.
    #[error("{0}")]
    LimitReached(String),
    /// The body is larger than the route accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 415: a body of a media type the route does not take; the message says which it takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts; try again after the given time.
    #[error("too many requests")]
    TooManyRequests(Duration),
    /// Too many wrong passwords for one account, from anywhere: it is locked
    /// for the given time.
    #[error(
        "too many wrong passwords for this account; try again after the time in Retry-After, \
         or log in with Telegram"
    )]
    TooManyFailures(Duration),
    /// A dependency (the database) is unreachable; retrying later may work.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// 503 with `Retry-After`: a bounded kind of work (password hashes,
    /// imports) is at its limit; the message says which, retry after the time.
    #[error("{0}")]
    Busy(&'static str, Duration),
    /// Anything else: logged once here, answered without details.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    /// The HTTP status and the stable machine-readable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Gone(_) => (StatusCode::GONE, "gone"),
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            Self::LimitReached(_) => (StatusCode::UNPROCESSABLE_ENTITY, "limit_reached"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::TooManyFailures(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_failures"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Busy(..) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The JSON response; server-side failures are logged here, once.
    pub fn into_response(self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            Self::Unavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
        let mut response = json(
            status,
            &Body {
                error: code,
                message: self.to_string(),
            },
        );
        if let Self::TooManyRequests(after) | Self::TooManyFailures(after) | Self::Busy(_, after) =
            &self
        {
            retry_after(&mut response, *after);
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        crate::infra::db::note_error(&e);
        if is_unavailable(&e) {
            Self::Unavailable
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<crate::services::Failure> for ApiError {
    fn from(e: crate::services::Failure) -> Self {
        match e {
            crate::services::Failure::Db(e) => e.into(),
            crate::services::Failure::Busy(_) => {
                tracing::warn!("password hashing busy");
                Self::Busy(
                    "the server is busy; try again in a moment",
                    crate::services::accounts::password::BUSY_RETRY_AFTER,
                )
            }
            crate::services::Failure::Internal(e) => Self::Internal(e),
        }
    }
}

/// Whether a database error means "the database is not there right now"
/// (so the client should retry) rather than a bug.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
        || crate::infra::db::is_connection_fault(e)
}
