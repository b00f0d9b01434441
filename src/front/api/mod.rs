//! The JSON API under `/api/v1`: accounts and tokens ([`auth`]), Telegram
//! linking ([`telegram_link`]), companies ([`companies`]), their members
//! and invitations ([`members`]), and company data ([`invoices`],
//! [`treasury`], [`cash`], [`partners`], [`efactura`] for e-Factura imports). Each handler reads its request, calls the
//! services and answers JSON; failures are [`ApiError`]s. Authenticated
//! routes start with [`caller`]: `Authorization: Bearer <access token>`.

pub mod auth;
pub mod cash;
pub mod companies;
pub mod csv_file;
pub mod efactura;
pub mod invoices;
pub mod members;
pub mod partners;
pub mod rows;
pub mod telegram_link;
pub mod treasury;

use http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue};

use crate::infra::http_io::{ApiError, HttpResponse};
use crate::infra::router::Req;
use crate::services::accounts::jwt;

/// An authenticated caller of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `users.id`.
    pub user_id: i64,
}

/// Checks `Authorization: Bearer <access token>`.
///
/// # Errors
/// 401 when the header is missing, malformed, or the token is invalid,
/// expired, or signed with anything but HS256 and our key.
pub fn caller(req: &Req) -> Result<Caller, ApiError> {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(ApiError::Unauthorized("a Bearer access token is required"))?;
    let claims = jwt::verify(&req.app.config.jwt_secret, token)
        .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired"))?;
    Ok(Caller {
        user_id: claims.user_id(),
    })
}

/// `response` with `Cache-Control: no-store`: for an answer that shows a
/// person's own data to a browser (the Mini App's parts, the company list
/// its chooser pages through, a QR code that lets one in), which no cache,
/// shared or the device's own, should keep.
pub fn no_store(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
