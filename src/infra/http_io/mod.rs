//! HTTP in and out, shared by every route: the body types, JSON answers,
//! the one JSON error type ([`ApiError`]), and who the client is.
//! Reading a request (its body under the route's limit, its path parameters)
//! is [`Req`](crate::infra::router::Req)'s job.

mod client_addr;
mod error;

pub use client_addr::{ClientAddr, client_ip, client_key};
pub use error::{ApiError, is_unavailable};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::Serialize;

/// Boxed error of a request body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Request body as every route sees it, whatever the transport (hyper or a test).
pub type ReqBody = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// Response body: every answer is a complete buffer.
pub type RespBody = Full<Bytes>;

/// A request as the server hands it to the router.
pub type Request = http::Request<ReqBody>;

/// A response as routes produce it.
pub type HttpResponse = Response<RespBody>;

/// Boxes any body into [`ReqBody`].
pub fn box_body<B>(body: B) -> ReqBody
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

/// What a handler may answer: a response, or an error that knows its own.
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> HttpResponse;
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> HttpResponse {
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        ApiError::into_response(self)
    }
}

impl<E: IntoResponse> IntoResponse for Result<HttpResponse, E> {
    fn into_response(self) -> HttpResponse {
        self.unwrap_or_else(IntoResponse::into_response)
    }
}

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, "application/json", body),
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

/// A response with `status`, a content type and a body.
pub fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An empty response with `status`.
pub fn empty(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Adds `Retry-After` (whole seconds, at least 1) to a response.
pub fn retry_after(response: &mut HttpResponse, after: std::time::Duration) {
    let secs = after.as_secs().max(1).to_string();
    if let Ok(value) = HeaderValue::from_str(&secs) {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, value);
    }
}

/// Headers from `(name, value)` pairs, for unit tests of header handling.
#[cfg(test)]
pub(crate) fn test_headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_static(k),
                v.parse().expect("test header values are valid"),
            )
        })
        .collect()
}
