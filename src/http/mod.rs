//! HTTP plumbing shared by every route: body types, reading bodies under a
//! size limit, JSON answers, and the one error type of the HTTP boundary.

mod client_addr;
mod error;

pub use client_addr::{ClientAddr, client_ip};
pub use error::ApiError;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Boxed error of a request body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Request body as every route sees it, whatever the transport (hyper or a test).
pub type ReqBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// Response body: every answer is a complete buffer.
pub type RespBody = Full<Bytes>;

/// A request as routes see it.
pub type Request = http::Request<ReqBody>;

/// A response as routes produce it.
pub type HttpResponse = Response<RespBody>;

/// Boxes any body into [`ReqBody`].
pub fn box_body<B>(body: B) -> ReqBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// The largest body any route accepts; Telegram updates and API batches fit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Reads a whole body, refusing more than `limit` bytes with 413.
///
/// # Errors
/// [`ApiError::PayloadTooLarge`] past the limit, [`ApiError::BadRequest`] when
/// the client stops sending halfway.
pub async fn read_body(mut body: ReqBody, limit: usize) -> Result<Bytes, ApiError> {
    // A hand-rolled loop rather than `http_body_util::Limited`: Limited's
    // `Into<BoxError>` bound makes the futures holding it fail the `Send`
    // check hyper needs.
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ApiError::PayloadTooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Reads a JSON body into `T`.
///
/// # Errors
/// 413 past [`MAX_BODY_BYTES`], 400 when the body is not JSON, 422 when it is
/// JSON of the wrong shape (the message says which field).
pub async fn read_json<T: DeserializeOwned>(body: ReqBody) -> Result<T, ApiError> {
    let bytes = read_body(body, MAX_BODY_BYTES).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::Unprocessable(e.to_string())
        } else {
            ApiError::BadRequest(format!("the body is not valid JSON: {e}"))
        }
    })
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
