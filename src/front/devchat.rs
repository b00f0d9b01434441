//! Dev mode's chat in the browser (`/dev/chat`), so the bot can be tried
//! without Telegram. The page builds real Update JSON and posts it to the same
//! `/telegram/webhook` as Telegram would; in dev mode the Bot API client
//! points back at `/dev/bot<token>/<method>`, which records outbound calls
//! here for the page to show. Never routed outside dev mode
//! ([`crate::front::routes`]).
//!
//! A file sent from the page (an e-Factura XML or ZIP) goes as Telegram's
//! would: the page uploads its bytes (`POST /dev/upload`, kept in memory,
//! the last few only) and posts an update with a `document` naming the
//! `file_id`; the bot then calls `getFile` and downloads
//! `/dev/file/bot<token>/<file_path>`, both answered from here.
//!
//! A file the bot sends (`sendPhoto`'s chart, a document) comes as Telegram
//! takes it, `multipart/form-data`: its fields become the call's parameters,
//! and each file is kept (the last [`KEEP_SENT`]) and named in them by a
//! `/dev/sent/{id}` URL, so the page can show the image with its caption.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

use askama::Template;
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::infra::http_io::{ApiError, HttpResponse, json, with_type};
use crate::infra::router::Req;

/// Calls kept for the page; older ones are dropped.
const KEEP: usize = 500;
/// Files sent from the page kept for the bot to download; older ones are dropped.
const KEEP_FILES: usize = 3;
/// Files the bot sent (photos, documents) kept for the page to show.
const KEEP_SENT: usize = 50;
/// The largest file the bot may send: Telegram's limit for a photo.
pub const SENT_FILE_LIMIT: usize = 10 * 1024 * 1024;
/// The largest file the page may send: what Telegram lets a bot download.
/// Past the bot's own limit the bot says so, as it would in Telegram.
pub const FILE_LIMIT: usize = 20 * 1024 * 1024;
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
    /// Files sent from the page, by `file_id`, newest last.
    files: Mutex<VecDeque<(String, Bytes)>>,
    /// How many files were ever sent: their ids.
    sent_files: std::sync::atomic::AtomicU64,
    /// Files the bot sent, by id, with their content type; newest last.
    from_bot: Mutex<VecDeque<SentByBot>>,
}

/// A file the bot sent in a multipart call.
#[derive(Debug)]
struct SentByBot {
    id: u64,
    content_type: String,
    bytes: Bytes,
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
        if matches!(method, "sendMessage" | "sendPhoto" | "sendDocument") {
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

    /// Keeps `bytes` for the bot to fetch; its `file_id`.
    fn keep_file(&self, bytes: Bytes) -> String {
        let n = self
            .sent_files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let file_id = format!("dev-file-{n}");
        let mut files = self.files.lock().expect("files lock is never poisoned");
        files.push_back((file_id.clone(), bytes));
        if files.len() > KEEP_FILES {
            files.pop_front();
        }
        file_id
    }

    /// Keeps a file the bot sent; the URL the page shows it from.
    fn keep_sent(&self, content_type: String, bytes: Bytes) -> String {
        let mut sent = self.from_bot.lock().expect("files lock is never poisoned");
        let id = sent.back().map_or(1, |last| last.id + 1);
        sent.push_back(SentByBot {
            id,
            content_type,
            bytes,
        });
        if sent.len() > KEEP_SENT {
            sent.pop_front();
        }
        format!("/dev/sent/{id}")
    }

    fn sent(&self, id: u64) -> Option<(String, Bytes)> {
        let sent = self.from_bot.lock().expect("files lock is never poisoned");
        sent.iter()
            .find(|file| file.id == id)
            .map(|file| (file.content_type.clone(), file.bytes.clone()))
    }

    fn file(&self, file_id: &str) -> Option<Bytes> {
        let files = self.files.lock().expect("files lock is never poisoned");
        files
            .iter()
            .find(|(id, _)| id == file_id)
            .map(|(_, bytes)| bytes.clone())
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
    let outbox = req.app.dev_outbox.clone().ok_or(ApiError::NotFound)?;
    let params: Value = match multipart_boundary(req.headers()) {
        Some(boundary) => multipart_params(&mut req, boundary, &outbox).await?,
        None => req.json().await?,
    };
    let seq = outbox.record(&method, params.clone());
    let result = match method.as_str() {
        "sendMessage" | "sendPhoto" | "sendDocument" => json!({
            "message_id": 1_000_000 + seq,
            "date": 0,
            "chat": {"id": params["chat_id"], "type": "private"},
            "text": params["text"],
        }),
        "getFile" => {
            let file_id = params["file_id"].as_str().unwrap_or_default();
            let Some(bytes) = outbox.file(file_id) else {
                // Telegram's answer to a file id it does not know (or no longer keeps).
                let refusal = json!({"ok": false, "error_code": 400,
                    "description": "Bad Request: invalid file_id"});
                return Ok(json(StatusCode::BAD_REQUEST, &refusal));
            };
            json!({
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": bytes.len(),
                "file_path": format!("documents/{file_id}"),
            })
        }
        _ => json!(true),
    };
    Ok(json(StatusCode::OK, &json!({"ok": true, "result": result})))
}

/// The boundary of a `multipart/form-data` body: how the Bot API takes a file.
fn multipart_boundary(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
}

/// A multipart call's fields as parameters: text as text, a file kept
/// ([`Outbox::keep_sent`]) and named by `{url, file_name, content_type, size}`.
async fn multipart_params(
    req: &mut Req,
    boundary: String,
    outbox: &Outbox,
) -> Result<Value, ApiError> {
    let unreadable = |e: multer::Error| ApiError::BadRequest(format!("unreadable form: {e}"));
    let mut form = multer::Multipart::new(req.body_stream(), boundary);
    let mut params = serde_json::Map::new();
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let content_type = field.content_type().map_or_else(
                    || "application/octet-stream".to_owned(),
                    ToString::to_string,
                );
                let bytes = field.bytes().await.map_err(unreadable)?;
                let size = bytes.len();
                let url = outbox.keep_sent(content_type.clone(), bytes);
                json!({"url": url, "file_name": file_name, "content_type": content_type, "size": size})
            }
            None => Value::String(field.text().await.map_err(unreadable)?),
        };
        params.insert(name, value);
    }
    Ok(Value::Object(params))
}

/// `GET /dev/sent/{id}`: a file the bot sent, for the page to show. Only an
/// image keeps its type; anything else is served as bytes to download.
pub async fn sent(req: Req) -> Result<HttpResponse, ApiError> {
    let id: String = req.param("id")?;
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let (content_type, bytes) = outbox_of(&req)?.sent(id).ok_or(ApiError::NotFound)?;
    let content_type = match content_type.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    Ok(with_type(StatusCode::OK, content_type, bytes))
}

/// `POST /dev/upload`: a file the page sends, kept for the bot's `getFile`;
/// answers `{file_id, file_size}` for the page's `document` update.
pub async fn upload(mut req: Req) -> Result<HttpResponse, ApiError> {
    outbox_of(&req)?;
    let bytes = req.bytes().await?;
    let size = bytes.len();
    let file_id = outbox_of(&req)?.keep_file(bytes);
    Ok(json(
        StatusCode::OK,
        &json!({"file_id": file_id, "file_size": size}),
    ))
}

/// `GET /dev/file/bot{token}/documents/{file_id}`: the download `getFile` names.
pub async fn file(req: Req) -> Result<HttpResponse, ApiError> {
    let file_id: String = req.param("file_id")?;
    let bytes = outbox_of(&req)?.file(&file_id).ok_or(ApiError::NotFound)?;
    Ok(with_type(StatusCode::OK, "application/octet-stream", bytes))
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
