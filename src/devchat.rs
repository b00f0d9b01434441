//! Dev mode's chat in the browser (`/dev/chat`), so the bot can be tried
//! without Telegram. The page builds real Update JSON and posts it to the same
//! `/telegram/webhook` as Telegram would; in dev mode the Bot API client
//! points back at `/dev/bot<token>/<method>`, which records outbound calls
//! here for the page to show. Never routed outside dev mode.

use std::sync::Mutex;

use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::http::{ApiError, HttpResponse, Request, read_json, with_type};

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
    let demo =
        crate::demo::load(pool, &crate::demo::Target::Email(DEV_EMAIL.to_owned()), 42).await?;
    let password = crate::auth::password::hash(DEV_PASSWORD.to_owned()).await?;
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

/// Answers everything under `/dev/`; `None` when not in dev mode (then the
/// caller answers 404, as for any unknown path).
pub async fn route(app: &App, req: Request) -> Option<HttpResponse> {
    let outbox = app.dev_outbox.as_ref()?;
    let path = req.uri().path().to_owned();
    Some(match (req.method().clone(), path.as_str()) {
        (Method::GET, "/dev/chat") => page(app),
        (Method::GET, "/dev/outbox") => {
            let after = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("after="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            crate::http::json(StatusCode::OK, &outbox.after(after))
        }
        (Method::POST, p) if p.starts_with("/dev/bot") => fake_bot_api(outbox, req, p).await,
        _ => ApiError::NotFound.into_response(),
    })
}

async fn fake_bot_api(outbox: &Outbox, req: Request, path: &str) -> HttpResponse {
    let Some((_token, method)) = path.trim_start_matches("/dev/bot").split_once('/') else {
        return ApiError::NotFound.into_response();
    };
    let method = method.to_owned();
    let params: Value = match read_json(req.into_body()).await {
        Ok(params) => params,
        Err(e) => return e.into_response(),
    };
    let seq = outbox.record(&method, params.clone());
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
    crate::http::json(StatusCode::OK, &json!({"ok": true, "result": result}))
}

fn page(app: &App) -> HttpResponse {
    let html = include_str!("devchat.html")
        .replace("{{WEBHOOK_SECRET}}", app.config.webhook_secret.expose())
        .replace("{{DEV_USER_ID}}", &DEV_TELEGRAM_USER_ID.to_string())
        .replace(
            "{{BOT_USERNAME}}",
            &crate::bot::reply::escape_html(&app.config.bot_username),
        );
    with_type(StatusCode::OK, "text/html; charset=utf-8", html)
}
