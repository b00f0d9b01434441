//! `POST /api/v1/auth/{register,login,refresh,logout}`: accounts with an email
//! and a password, short-lived access tokens (JWT, 15 minutes) and rotating
//! refresh tokens (30 days).

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::front::limit_client;
use crate::infra::app::App;
use crate::infra::http_io::{ApiError, HttpResponse, empty, json};
use crate::infra::router::Req;
use crate::services::accounts::account::{self, NewAccount};
use crate::services::accounts::jwt;
use crate::services::accounts::refresh::{self, Rotation};

use super::caller;

/// What register, login and refresh answer.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque; trade it at `/api/v1/auth/refresh` for a new pair, once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl TokenPair {
    /// A new access token for `user_id`, with `refresh_token`.
    fn new(app: &App, user_id: i64, refresh_token: String) -> Self {
        Self {
            access_token: jwt::issue(&app.config.jwt_secret, user_id),
            refresh_token,
            token_type: "Bearer",
            expires_in: jwt::ACCESS_TOKEN_TTL.as_secs(),
        }
    }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    first_name: Option<String>,
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

/// The one answer to every failed login, whatever was wrong.
const WRONG_CREDENTIALS: &str = "wrong email or password";

/// `POST /api/v1/auth/register`: 201 and a token pair; 409 when the email is taken.
pub async fn register(mut req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.register).await?;
    let body: Credentials = req.json().await?;
    let new = NewAccount::parse(&body.email, body.password, body.first_name.as_deref())
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?
        .hash(&req.app.hashing)
        .await?;
    let mut tx = req.app.pool.begin().await?;
    let user_id = new
        .insert(&mut tx)
        .await?
        .ok_or_else(|| ApiError::Conflict("an account with this email already exists".into()))?;
    let pair = token_pair(&req.app, &mut tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(user.id = user_id, "account registered");
    Ok(json(StatusCode::CREATED, &pair))
}

/// `POST /api/v1/auth/login`: 200 and a token pair; 401 for a wrong email or
/// password alike, in about the same time.
pub async fn login(mut req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.login).await?;
    let body: Credentials = req.json().await?;
    let Some(user_id) =
        account::check_login(&req.app.pool, &req.app.hashing, &body.email, body.password).await?
    else {
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    };
    let mut tx = req.app.pool.begin().await?;
    let pair = token_pair(&req.app, &mut tx, user_id).await?;
    tx.commit().await?;
    Ok(json(StatusCode::OK, &pair))
}

/// `POST /api/v1/auth/refresh`: trades a refresh token for a new pair, once.
/// A token presented a second time revokes its whole family; 401 either way.
pub async fn refresh(mut req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.refresh).await?;
    let body: RefreshBody = req.json().await?;
    let mut tx = req.app.pool.begin().await?;
    let rotation = refresh::rotate(&mut tx, &body.refresh_token).await?;
    // Commit in every case: a reuse's revocation must stick.
    let answer = match rotation {
        Rotation::Rotated { user_id, token } => Ok(json(
            StatusCode::OK,
            &TokenPair::new(&req.app, user_id, token),
        )),
        Rotation::Reused => Err(ApiError::Unauthorized(
            "this refresh token was already used; its session is revoked, log in again",
        )),
        Rotation::Invalid => Err(ApiError::Unauthorized(
            "the refresh token is invalid, expired or revoked",
        )),
    };
    tx.commit().await?;
    answer
}

/// `POST /api/v1/auth/logout` (Bearer): 204; every refresh token of the caller
/// is revoked. Access tokens already issued run out within 15 minutes.
pub async fn logout(req: Req) -> Result<HttpResponse, ApiError> {
    let caller = caller(&req)?;
    let mut conn = req.app.pool.acquire().await?;
    refresh::revoke_all(&mut conn, caller.user_id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// A new access token and a refresh token in a new family (a new session).
async fn token_pair(
    app: &App,
    db: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<TokenPair, ApiError> {
    let refresh_token = refresh::issue(db, user_id, None).await?;
    Ok(TokenPair::new(app, user_id, refresh_token))
}
