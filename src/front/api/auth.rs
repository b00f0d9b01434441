//! `POST /api/v1/auth/{register,login,refresh,logout}`: accounts with an email
//! and a password, short-lived access tokens (JWT, 15 minutes) and rotating
//! refresh tokens (30 days); `POST /api/v1/auth/telegram`: the same tokens
//! for data Telegram signed (a Mini App's `initData`, the Login Widget's).

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::blocks::telegram_auth::{self, Refused, Verified};
use crate::front::limit_client;
use crate::infra::app::App;
use crate::infra::http_io::{ApiError, HttpResponse, empty, json};
use crate::infra::router::Req;
use crate::services::accounts::account::{self, LoginCheck, NewAccount};
use crate::services::accounts::jwt;
use crate::services::accounts::refresh::{self, Rotation};
use crate::services::telegram_login::{self, Login};

use super::caller;

/// The largest body the credential routes (register, login, refresh,
/// Telegram data, the code confirmation) accept: an email, the longest
/// password and a name fit, and so does Telegram's signed data (a Mini App's
/// `initData` is a few hundred bytes to a couple of KiB).
pub const BODY_LIMIT: usize = 8 * 1024;

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
/// password alike, in about the same time; 429 `too_many_failures` while the
/// email is locked out by wrong passwords (from any address).
pub async fn login(mut req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.login).await?;
    let body: Credentials = req.json().await?;
    let app = &req.app;
    let checked = account::check_login(
        &app.pool,
        &app.hashing,
        app.config.rate_limits.login_failures,
        &body.email,
        body.password,
    )
    .await?;
    let user_id = match checked {
        LoginCheck::Right(user_id) => user_id,
        LoginCheck::Wrong => return Err(ApiError::Unauthorized(WRONG_CREDENTIALS)),
        LoginCheck::LockedOut(wait) => return Err(ApiError::TooManyFailures(wait)),
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

#[derive(Default, Deserialize)]
struct LogoutBody {
    #[serde(default)]
    everywhere: bool,
}

/// `POST /api/v1/auth/logout` (Bearer), optional body `{"everywhere": true}`:
/// 204; every refresh token of the caller is revoked, and with `everywhere`
/// every web session too. Access tokens already issued run out within 15
/// minutes.
pub async fn logout(mut req: Req) -> Result<HttpResponse, ApiError> {
    let caller = caller(&req)?;
    let bytes = req.bytes().await?;
    let body: LogoutBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        LogoutBody::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Unprocessable(e.to_string()))?
    };
    let mut tx = req.app.pool.begin().await?;
    refresh::revoke_all(&mut tx, caller.user_id).await?;
    if body.everywhere {
        let ended = account::end_web_sessions(&mut tx, caller.user_id).await?;
        tracing::info!(
            user.id = caller.user_id,
            web_sessions = ended,
            "logged out everywhere"
        );
    }
    tx.commit().await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
struct TelegramBody {
    #[serde(default)]
    init_data: Option<String>,
    #[serde(default)]
    login_widget: Option<Map<String, Value>>,
    #[serde(default)]
    register: bool,
}

/// `POST /api/v1/auth/telegram`: `{"init_data": "..."}` or
/// `{"login_widget": {...}}`, optional `"register": true` → the token pair
/// of the linked account (200; 201 when `register` created it). Data that
/// fails Telegram's check, is stale or was used before: 401; a Telegram
/// account linked to no one: 404 `not_linked`. Counted in the login limit.
pub async fn telegram(mut req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.login).await?;
    let body: TelegramBody = req.json().await?;
    let verified = verify_telegram(&req.app, &body)?;
    let mut tx = req.app.pool.begin().await?;
    let (status, user_id) = match telegram_login::login(&mut tx, &verified, body.register).await? {
        Login::Linked(user_id) => (StatusCode::OK, user_id),
        Login::Registered(user_id) => {
            tracing::info!(
                user.id = user_id,
                "Telegram-only account registered by the API"
            );
            (StatusCode::CREATED, user_id)
        }
        Login::Replayed => {
            return Err(ApiError::Unauthorized(
                "this Telegram data was already used; sign in with Telegram again",
            ));
        }
        Login::NotLinked => {
            return Ok(json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({
                    "error": "not_linked",
                    "message": "this Telegram account is not linked to any ledgerbot account; \
                                link it in the bot, or send \"register\": true to create an account",
                }),
            ));
        }
    };
    let pair = token_pair(&req.app, &mut tx, user_id).await?;
    tx.commit().await?;
    Ok(json(status, &pair))
}

/// Checks the one kind of Telegram data `body` carries.
fn verify_telegram(app: &App, body: &TelegramBody) -> Result<Verified, ApiError> {
    let (token, now) = (
        app.config.bot_token.expose(),
        OffsetDateTime::now_utc().unix_timestamp(),
    );
    let checked = match (&body.init_data, &body.login_widget) {
        (Some(init_data), None) => telegram_auth::verify_init_data(init_data, token, now),
        (None, Some(widget)) => telegram_auth::verify_widget(&widget_fields(widget)?, token, now),
        _ => {
            return Err(ApiError::Unprocessable(
                "send exactly one of init_data and login_widget".into(),
            ));
        }
    };
    checked.map_err(|refused| {
        tracing::warn!(why = %refused, "Telegram data refused");
        ApiError::Unauthorized(match refused {
            Refused::Stale | Refused::Future => {
                "the Telegram data has expired; sign in with Telegram again"
            }
            _ => "the Telegram data is not valid",
        })
    })
}

/// The widget's fields as Telegram signed them: strings, and numbers (`id`,
/// `auth_date`) as their decimal text.
fn widget_fields(widget: &Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    widget
        .iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key.clone(), s.clone())),
            Value::Number(n) => Ok((key.clone(), n.to_string())),
            _ => Err(ApiError::Unprocessable(format!(
                "login_widget.{key}: must be a string or a number"
            ))),
        })
        .collect()
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
