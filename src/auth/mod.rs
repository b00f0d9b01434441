//! Who is calling: access tokens (JWT) and the `Authorization: Bearer` check
//! every authenticated API route starts with.

pub mod account;
pub mod email;
pub mod jwt;
pub mod password;
pub mod refresh;

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::app::App;
use crate::http::ApiError;

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
pub fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(ApiError::Unauthorized("a Bearer access token is required"))?;
    let claims = jwt::verify(&app.config.jwt_secret, token)
        .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired"))?;
    Ok(Caller {
        user_id: claims.user_id(),
    })
}
