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

use crate::app::App;
use crate::auth::authenticate;
use crate::bot::{BotMethod, Lang};
use crate::config::Config;
use crate::handlers::code;
use crate::http::{ApiError, HttpResponse, Request, read_json};
use crate::link_code::LinkCode;
use crate::linking::{self, Linked, Redeemed, TelegramIdentity};

use super::{limit_client, respond};

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

/// The deep link that opens the bot with `/start <code>`.
pub fn deep_link(config: &Config, code: &LinkCode) -> String {
    format!("https://t.me/{}?start={code}", config.bot_username)
}

/// `POST /api/v1/telegram/link-code` (Bearer): 201 with a fresh code; the
/// caller's previous unused code stops working.
pub async fn create_code(app: &App, req: Request) -> HttpResponse {
    respond(create_code_inner(app, req).await)
}

async fn create_code_inner(app: &App, req: Request) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(app, req.headers())?;
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
        deep_link: deep_link(&app.config, code),
        qr_svg_url: format!("{base}/qr/{code}.svg"),
        qr_png_url: format!("{base}/qr/{code}.png"),
    };
    Ok(crate::http::json(StatusCode::CREATED, &answer))
}

/// `POST /api/v1/telegram/confirm` (Bearer + `{code}`): links the Telegram
/// account that asked for the code with `/link` to the caller. 200; 422 for
/// something that is not a code, 404 for an unknown one, 410 for one used or
/// expired; counted in the per-client code-attempt limit (429).
pub async fn confirm(app: &App, req: Request) -> HttpResponse {
    respond(confirm_inner(app, req).await)
}

async fn confirm_inner(app: &App, req: Request) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(app, req.headers())?;
    limit_client(app, &req, app.config.rate_limits.code).await?;
    let body: ConfirmBody = read_json(req.into_body()).await?;
    let code = LinkCode::parse(&body.code).ok_or_else(|| {
        ApiError::Unprocessable("code: a code is 8 letters and digits, as the bot sent it".into())
    })?;
    let Confirmed { who, linked } = match confirm_code(app, caller.user_id, &code).await? {
        Redeemed::Valid(confirmed) => confirmed,
        Redeemed::Unknown => return Err(ApiError::NotFound),
        Redeemed::Used => return Err(ApiError::Gone("this code was already used".into())),
        Redeemed::Expired => {
            return Err(ApiError::Gone(
                "this code has expired; send /link to the bot again".into(),
            ));
        }
    };
    Ok(crate::http::json(
        StatusCode::OK,
        &json!({
            "telegram_user_id": who.telegram_user_id,
            "telegram_username": who.username,
            "moved_from_other_account": linked.moved_from_other_person,
            "replaced_telegram_account": linked.replaced_chat_id.is_some(),
        }),
    ))
}

/// What confirming a `/link` code did.
#[derive(Clone, Debug)]
pub struct Confirmed {
    /// The Telegram account now linked.
    pub who: TelegramIdentity,
    /// What the link changed besides.
    pub linked: Linked,
}

/// Confirms a `confirm` code (from the bot's `/link`) for `user_id`: redeems
/// it, links the Telegram account that asked for it, commits, and tells that
/// Telegram chat (and a replaced one) in the background. The JSON API and the
/// `/link/{code}` page both confirm through here.
///
/// # Errors
/// The database failed.
pub async fn confirm_code(
    app: &App,
    user_id: i64,
    code: &LinkCode,
) -> Result<Redeemed<Confirmed>, ApiError> {
    let mut tx = app.pool.begin().await?;
    let (who, lang) = match linking::redeem_confirm_code(&mut tx, code).await? {
        Redeemed::Valid(found) => found,
        Redeemed::Unknown => return Ok(Redeemed::Unknown),
        Redeemed::Used => return Ok(Redeemed::Used),
        Redeemed::Expired => return Ok(Redeemed::Expired),
    };
    let linked = linking::link(&mut tx, user_id, &who).await?;
    tx.commit().await?;
    tracing::info!(user.id = user_id, "Telegram account linked by confirmation");
    notify_linked(app, &who, lang, &linked);
    Ok(Redeemed::Valid(Confirmed { who, linked }))
}

/// Tells a newly linked Telegram chat that it is linked, and the chat it
/// replaced, if any, that it no longer is; in the background, after the commit.
pub fn notify_linked(app: &App, who: &TelegramIdentity, lang: Lang, linked: &Linked) {
    let mut notices = vec![BotMethod::html(
        who.chat_id,
        code::linked_text(lang, linked),
    )];
    if let Some(chat_id) = linked.replaced_chat_id {
        notices.push(BotMethod::html(chat_id, code::REPLACED_TEXT));
    }
    crate::outbound::send_later(&app.pool, &app.bot, notices);
}
