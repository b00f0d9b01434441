//! `GET /qr/{code}.svg` and `GET /qr/{code}.png`: the QR code of the deep link
//! `https://t.me/<bot>?start=<code>`, for a phone to scan off a desktop screen.
//!
//! Served only while the code can be redeemed (else 404), never cached, and
//! counted in the per-client code-attempt limit, so the images cannot be used
//! to test guessed codes at leisure.

use http::StatusCode;
use http::header::{CACHE_CONTROL, HeaderValue};

use crate::app::App;
use crate::http::{ApiError, HttpResponse, Request, with_type};
use crate::link_code::LinkCode;

/// Answers `GET /qr/...`.
pub async fn image(app: &App, req: Request) -> HttpResponse {
    crate::api::respond(image_inner(app, req).await)
}

async fn image_inner(app: &App, req: Request) -> Result<HttpResponse, ApiError> {
    crate::api::limit_client(app, &req, app.config.rate_limits.code).await?;
    let name = req.uri().path().strip_prefix("/qr/").unwrap_or_default();
    let (code, ext) = name.rsplit_once('.').ok_or(ApiError::NotFound)?;
    let code = LinkCode::parse(code).ok_or(ApiError::NotFound)?;
    let mut conn = app.pool.acquire().await?;
    if !crate::linking::link_code_is_open(&mut conn, &code).await? {
        return Err(ApiError::NotFound);
    }
    let link = crate::api::telegram_link::deep_link(&app.config, &code);
    let too_long = |e: crate::qr::TooLong| ApiError::Internal(e.into());
    let mut response = match ext {
        "svg" => with_type(
            StatusCode::OK,
            "image/svg+xml",
            crate::qr::svg(&link).map_err(too_long)?,
        ),
        "png" => with_type(
            StatusCode::OK,
            "image/png",
            crate::qr::png(&link).map_err(too_long)?,
        ),
        _ => return Err(ApiError::NotFound),
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
