//! Dev mode's chat in the browser (`/dev/chat`), so the bot can be tried
//! without Telegram. The page builds real Update JSON and posts it to the same
//! `/telegram/webhook` as Telegram would; in dev mode the Bot API client
//! points back at `/dev/bot<token>/<method>`, which records outbound calls
//! here for the page to show. Never routed outside dev mode
//! ([`crate::front::routes`]).

use std::sync::Mutex;

use askama::Template;
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::infra::http_io::{ApiError, HttpResponse, json, with_type};
use crate::infra::router::Req;

/// Calls kept for the page; older ones are dropped.
const KEEP: usize = 500;
/// The Telegram user the page speaks as unless changed there; linked to the
/// demo account at start.
pub const DEV_TELEGRAM_USER_ID: i64 = 424_242;
/// The demo account dev mode makes, and its password for the web pages.
pub const DEV_EMAIL: &str = "demo@ledgerbot.local";
/// See [`DEV_EMAIL`]; printed at start, and only ever used in dev mode.
pub const DEV_PASSWORD: &str = "demo-password";

/// Prepares the dev database: the demo company for [`DEV_EMAIL`] (password
/// [`DEV_PASSWORD`]), and the page's Telegram user linked to it with the demo
/// company active, so `/dashboard` answers at once. Idempotent; a link made
/// since by hand is left alone.
///
/// # Errors
/// The database failed.
pub async fn seed(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let demo = crate::services::demo::load(
        pool,
        &crate::services::demo::Target::Email(DEV_EMAIL.to_owned()),
        42,
    )
    .await?;
    use crate::services::accounts::password::{self, HashGate, HashLimits};
    // Before the server starts: the only hash running, so a gate of its own.
    let gate = HashGate::new(HashLimits::from_budget(password::MEMORY_KIB / 1024 + 1, 1));
    let password = password::hash(&gate, DEV_PASSWORD.to_owned()).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $2, first_name = 'Demo' WHERE id = $1 AND password_hash IS NULL",
        demo.user_id,
        password
    )
    .execute(pool)
    .await?;
    sqlx::query!(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id, first_name, active_company_id)
         VALUES ($1, $2, $1, 'Dev', $3) ON CONFLICT DO NOTHING",
        DEV_TELEGRAM_USER_ID,
        demo.user_id,
        demo.company_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The Bot API calls the bot made in dev mode, in order.
#[derive(Debug, Default)]
pub struct Outbox {
    calls: Mutex<Vec<OutboundCall>>,
}

/// One recorded Bot API call.
#[derive(Clone, Debug, Serialize)]
pub struct OutboundCall {
    /// Position in the outbox, from 1.
    pub seq: u64,
    /// `sendMessage`, `editMessageText`, ...
    pub method: String,
    /// The parameters, with the message id the fake Bot API gave a new message.
    pub params: Value,
}

impl Outbox {
    fn record(&self, method: &str, mut params: Value) -> u64 {
        let mut calls = self.calls.lock().expect("outbox lock is never poisoned");
        let seq = calls.last().map_or(1, |c| c.seq + 1);
        if method == "sendMessage" {
            // Message ids from 1,000,000 up never meet the page's own.
            params["message_id"] = json!(1_000_000 + seq);
        }
        calls.push(OutboundCall {
            seq,
            method: method.to_owned(),
            params,
        });
        if calls.len() > KEEP {
            calls.remove(0);
        }
        seq
    }

    fn after(&self, seq: u64) -> Vec<OutboundCall> {
        let calls = self.calls.lock().expect("outbox lock is never poisoned");
        calls.iter().filter(|c| c.seq > seq).cloned().collect()
    }
}

/// The recorded calls of dev mode (the routes exist only in dev mode, so
/// the outbox is always there; 404 otherwise, as for any unknown path).
fn outbox_of(req: &Req) -> Result<&Outbox, ApiError> {
    req.app.dev_outbox.as_deref().ok_or(ApiError::NotFound)
}

/// `GET /dev/outbox?after=N`: the calls recorded after the `N`th.
pub async fn outbox(req: Req) -> Result<HttpResponse, ApiError> {
    let outbox = outbox_of(&req)?;
    let after = req
        .query()
        .and_then(|q| q.strip_prefix("after="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(json(StatusCode::OK, &outbox.after(after)))
}

/// `POST /dev/bot{token}/{method}`: the Bot API as dev mode fakes it: the
/// call is recorded, and answered as Telegram would.
pub async fn fake_bot_api(mut req: Req) -> Result<HttpResponse, ApiError> {
    let method: String = req.param("method")?;
    let params: Value = req.json().await?;
    let seq = outbox_of(&req)?.record(&method, params.clone());
    let result = if method == "sendMessage" {
        json!({
            "message_id": 1_000_000 + seq,
            "date": 0,
            "chat": {"id": params["chat_id"], "type": "private"},
            "text": params["text"],
        })
    } else {
        json!(true)
    };
    Ok(json(StatusCode::OK, &json!({"ok": true, "result": result})))
}

#[derive(Template)]
#[template(path = "devchat.html")]
struct ChatPage<'a> {
    webhook_secret: &'a str,
    dev_user_id: i64,
    bot_username: &'a str,
}

/// `GET /dev/chat`: the chat page.
pub async fn page(req: Req) -> Result<HttpResponse, ApiError> {
    outbox_of(&req)?;
    let config = &req.app.config;
    let page = ChatPage {
        webhook_secret: config.webhook_secret.expose(),
        dev_user_id: DEV_TELEGRAM_USER_ID,
        bot_username: &config.bot_username,
    };
    let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(with_type(StatusCode::OK, "text/html; charset=utf-8", html))
}
