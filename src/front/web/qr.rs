//! `GET /qr/{code}.svg` and `GET /qr/{code}.png`: the QR code of the deep link
//! `https://t.me/<bot>?start=<code>`, for a phone to scan off a desktop screen.
//!
//! Served only while the code can be redeemed (else 404), never cached, and
//! counted in the per-client code-attempt limit, so the images cannot be used
//! to test guessed codes at leisure.

use http::StatusCode;

use crate::blocks::link_code::LinkCode;
use crate::blocks::qr::{self, TooLong};
use crate::front::api::no_store;
use crate::front::limit_client;
use crate::infra::http_io::{ApiError, HttpResponse, with_type};
use crate::infra::router::Req;
use crate::services::linking;

/// `GET /qr/{code}.svg`.
pub async fn svg(req: Req) -> Result<HttpResponse, ApiError> {
    let link = open_link(&req).await?;
    let image = qr::svg(&link).map_err(too_long)?;
    Ok(image_response("image/svg+xml", image))
}

/// `GET /qr/{code}.png`.
pub async fn png(req: Req) -> Result<HttpResponse, ApiError> {
    let link = open_link(&req).await?;
    let image = qr::png(&link).map_err(too_long)?;
    Ok(image_response("image/png", image))
}

/// The deep link of the path's code, when that code can still be redeemed;
/// the attempt is counted first.
async fn open_link(req: &Req) -> Result<String, ApiError> {
    limit_client(req, req.app.config.rate_limits.code).await?;
    let code: LinkCode = req.param("code")?;
    let mut conn = req.app.pool.acquire().await?;
    if !linking::link_code_is_open(&mut conn, &code).await? {
        return Err(ApiError::NotFound);
    }
    Ok(linking::deep_link(&req.app.config, &code))
}

fn too_long(e: TooLong) -> ApiError {
    ApiError::Internal(e.into())
}

fn image_response(content_type: &'static str, image: impl Into<bytes::Bytes>) -> HttpResponse {
    no_store(with_type(StatusCode::OK, content_type, image))
}
