//! `POST /api/v1/telegram/link-code` and `POST /api/v1/telegram/confirm`:
//! linking the caller's Telegram account, from either side.
//!
//! - link-code: the caller asks for a code, then sends it to the bot (deep
//!   link, QR code, or typed by hand).
//! - confirm: the bot gave a Telegram user a `/link/<code>` link; the caller
//!   confirms that code, the Telegram account is linked to the caller, and the
//!   bot says so in Telegram.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::caller;
use crate::blocks::link_code::LinkCode;
use crate::front::limit_client;
use crate::infra::http_io::{ApiError, HttpResponse};
use crate::infra::router::Req;
use crate::services::linking::{self, Confirmed, Redeemed};

#[derive(Serialize)]
struct CodeAnswer {
    code: String,
    expires_at: String,
    deep_link: String,
    qr_svg_url: String,
    qr_png_url: String,
}

#[derive(Deserialize)]
struct ConfirmBody {
    code: String,
}

/// `POST /api/v1/telegram/link-code` (Bearer): 201 with a fresh code; the
/// caller's previous unused code stops working.
pub async fn create_code(req: Req) -> Result<HttpResponse, ApiError> {
    let caller = caller(&req)?;
    let app = &req.app;
    let mut conn = app.pool.acquire().await?;
    let new = linking::create_link_code(&mut conn, caller.user_id)
        .await?
        .ok_or(ApiError::Unauthorized("the account no longer exists"))?;
    let base = &app.config.public_url;
    let code = &new.code;
    let answer = CodeAnswer {
        code: code.to_string(),
        expires_at: new
            .expires_at
            .format(&Rfc3339)
            .map_err(|e| ApiError::Internal(e.into()))?,
        deep_link: linking::deep_link(&app.config, code),
        qr_svg_url: format!("{base}/qr/{code}.svg"),
        qr_png_url: format!("{base}/qr/{code}.png"),
    };
    Ok(crate::infra::http_io::json(StatusCode::CREATED, &answer))
}

/// `POST /api/v1/telegram/confirm` (Bearer + `{code}`): links the Telegram
/// account that asked for the code with `/link` to the caller. 200; 422 for
/// something that is not a code, 404 for an unknown one, 410 for one used or
/// expired; counted in the per-client code-attempt limit (429).
pub async fn confirm(mut req: Req) -> Result<HttpResponse, ApiError> {
    let caller = caller(&req)?;
    limit_client(&req, req.app.config.rate_limits.code).await?;
    let body: ConfirmBody = req.json().await?;
    let code = LinkCode::parse(&body.code).ok_or_else(|| {
        ApiError::Unprocessable("code: a code is 8 letters and digits, as the bot sent it".into())
    })?;
    let Confirmed { who, linked } = match linking::confirm(&req.app, caller.user_id, &code).await? {
        Redeemed::Valid(confirmed) => confirmed,
        Redeemed::Unknown => return Err(ApiError::NotFound),
        Redeemed::Used => return Err(ApiError::Gone("this code was already used".into())),
        Redeemed::Expired => {
            return Err(ApiError::Gone(
                "this code has expired; send /link to the bot again".into(),
            ));
        }
    };
    Ok(crate::infra::http_io::json(
        StatusCode::OK,
        &json!({
            "telegram_user_id": who.telegram_user_id,
            "telegram_username": who.username,
            "moved_from_other_account": linked.moved_from_other_person,
            "replaced_telegram_account": linked.replaced_chat_id.is_some(),
        }),
    ))
}
