//! The outbound Bot API client: frankenstein's types and reqwest client, with
//! a base URL tests can point at a fake server, timeouts, `retry_after` on 429,
//! and a token that never reaches a log (it is part of every request URL).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use frankenstein::client_reqwest::Bot;
use frankenstein::methods::{AnswerCallbackQueryParams, EditMessageTextParams, SendMessageParams};
use frankenstein::methods::{SetMyCommandsParams, SetWebhookParams};
use frankenstein::response::ErrorResponse;
use frankenstein::types::{AllowedUpdate, BotCommand};
use frankenstein::types::{InlineKeyboardMarkup, LinkPreviewOptions, ReplyMarkup};
use frankenstein::{AsyncTelegramApi, ParseMode};
use serde::{Deserialize, Serialize};

use crate::blocks::telegram_html::{self, MAX_CAPTION_UNITS, MAX_MESSAGE_UNITS};
use crate::infra::config::Secret;

/// How long one Bot API call may take in all, by default.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `retry_after` we honour; beyond it the call fails instead of
/// holding a task for minutes.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The wait before retry number `attempt` (1-based): 250 ms, then 1 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 4u64.pow(attempt.saturating_sub(1).min(3)))
}

/// Why a Bot API call failed.
#[derive(Debug, thiserror::Error)]
pub enum BotApiError {
    /// Telegram refused the call (`ok: false`).
    #[error("Bot API error {code}: {description}")]
    Api {
        /// Telegram's `error_code` (400, 403, ...).
        code: u64,
        /// Telegram's `description`.
        description: String,
    },
    /// Flood control: Telegram asks us to wait (longer than we are willing to,
    /// or again after we waited).
    #[error("Bot API asked to retry after {0:?}")]
    RetryAfter(Duration),
    /// The request did not complete (timeout, a connection dropped mid-way):
    /// Telegram may or may not have acted on it. The URL, and so the token, is
    /// stripped from the error before it gets here.
    #[error("Bot API call broke off: {0}")]
    Network(String),
    /// No connection could be made: the request never left, so sending it
    /// again cannot make a duplicate.
    #[error("Bot API unreachable: {0}")]
    Unreachable(String),
    /// The answer was not the JSON envelope Telegram sends.
    #[error("Bot API answered something unreadable: {0}")]
    InvalidResponse(String),
}

impl BotApiError {
    /// Whether Telegram refused because the person blocked the bot (or the
    /// chat is gone): sending again is pointless until they write to us.
    pub fn is_blocked(&self) -> bool {
        matches!(self, Self::Api { code: 403, .. })
    }
}

impl From<frankenstein::Error> for BotApiError {
    fn from(e: frankenstein::Error) -> Self {
        match e {
            frankenstein::Error::Api(ErrorResponse {
                error_code,
                description,
                parameters,
                ..
            }) => match parameters.and_then(|p| p.retry_after) {
                Some(secs) => Self::RetryAfter(Duration::from_secs(u64::from(secs))),
                None => Self::Api {
                    code: error_code,
                    description,
                },
            },
            frankenstein::Error::HttpReqwest(e) if e.is_connect() => {
                Self::Unreachable(e.without_url().to_string())
            }
            frankenstein::Error::HttpReqwest(e) => Self::Network(e.without_url().to_string()),
            frankenstein::Error::JsonDecode { source, .. } => {
                Self::InvalidResponse(source.to_string())
            }
            other => Self::InvalidResponse(other.to_string()),
        }
    }
}

/// A Bot API client. Cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct BotApi {
    bot: Bot,
    /// The same client, for the calls frankenstein cannot make: file
    /// downloads ([`BotApi::download`]) and uploads from memory
    /// ([`BotApi::send_photo`]).
    client: frankenstein::reqwest::Client,
    /// `<base>/file/bot<token>`: where files named by `getFile` are downloaded.
    /// Holds the token: never logged.
    file_base: Arc<str>,
    /// `<base>/bot<token>`, for uploads. Holds the token: never logged.
    api_url: String,
    /// Background sends still running (see [`BotApi::track`]), shared by clones.
    in_flight: Arc<AtomicUsize>,
}

/// Counts one background send as running until dropped.
#[derive(Debug)]
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotApi(***)")
    }
}

impl BotApi {
    /// A client for the Bot API at `base_url` (`https://api.telegram.org`).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(base_url: &str, token: &Secret) -> anyhow::Result<Self> {
        Self::with_timeout(base_url, token, REQUEST_TIMEOUT)
    }

    /// [`BotApi::new`] with a chosen timeout per call.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn with_timeout(base_url: &str, token: &Secret, timeout: Duration) -> anyhow::Result<Self> {
        let client = frankenstein::reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        let base = base_url.trim_end_matches('/');
        let api_url = format!("{base}/bot{}", token.expose());
        Ok(Self {
            file_base: format!("{base}/file/bot{}", token.expose()).into(),
            bot: Bot::builder()
                .api_url(api_url.clone())
                .client(client.clone())
                .build(),
            client,
            api_url,
            in_flight: Arc::default(),
        })
    }

    /// Marks a background send as running until the returned guard drops;
    /// [`BotApi::in_flight`] counts them, so a leak shows.
    pub fn track(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.in_flight.clone())
    }

    /// Background sends of this client (and its clones) still running.
    /// Each is bounded by [`MAX_ATTEMPTS`] timeouts and backoffs.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Calls one method, retrying what may pass: a 429 after its
    /// `retry_after` (when at most [`MAX_RETRY_AFTER`]), a 5xx or a network
    /// failure after a short backoff; at most [`MAX_ATTEMPTS`] attempts in all.
    /// Never called on the webhook's critical path.
    ///
    /// # Errors
    /// The last attempt's [`BotApiError`].
    pub async fn call(&self, method: &BotMethod) -> Result<(), BotApiError> {
        let mut attempt = 1;
        loop {
            let result = self.call_once(method).await;
            let wait = match &result {
                Err(BotApiError::RetryAfter(after)) if *after <= MAX_RETRY_AFTER => *after,
                Err(BotApiError::Api { code, .. }) if *code >= 500 => backoff(attempt),
                Err(BotApiError::Network(_) | BotApiError::Unreachable(_)) => backoff(attempt),
                _ => return result,
            };
            if attempt == MAX_ATTEMPTS {
                return result;
            }
            if let Err(e) = &result {
                tracing::warn!(method = method.name(), attempt, error = %e, wait_ms = wait.as_millis(), "Bot API call failed; retrying");
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Calls one method once, without retrying: the outbox decides what to
    /// retry, and when ([`crate::infra::outbox`]).
    ///
    /// # Errors
    /// See [`BotApiError`].
    pub async fn call_once(&self, method: &BotMethod) -> Result<(), BotApiError> {
        let result = match method {
            BotMethod::SendMessage(p) => self.bot.send_message(p).await.map(drop),
            BotMethod::EditMessageText(p) => self.bot.edit_message_text(p).await.map(drop),
            BotMethod::AnswerCallbackQuery(p) => self.bot.answer_callback_query(p).await.map(drop),
            BotMethod::SendPhoto(p) => self.send_photo(p).await,
        }
        .map_err(BotApiError::from);
        let outcome = match &result {
            Ok(()) => "ok",
            Err(BotApiError::Api { .. }) => "api_error",
            Err(BotApiError::RetryAfter(_)) => "retry_after",
            Err(BotApiError::Network(_)) => "network",
            Err(BotApiError::Unreachable(_)) => "unreachable",
            Err(BotApiError::InvalidResponse(_)) => "invalid",
        };
        crate::infra::metrics::bot_api_call(method.name(), outcome);
        result
    }

    /// `sendPhoto` with the image in the request (multipart/form-data):
    /// frankenstein uploads only from a file path, and an image we made
    /// in memory has none.
    async fn send_photo(&self, photo: &PhotoUpload) -> Result<(), frankenstein::Error> {
        use frankenstein::reqwest::multipart::{Form, Part};
        let part = Part::bytes(photo.png.clone())
            .file_name(photo.file_name.clone())
            .mime_str("image/png")?;
        let form = Form::new()
            .text("chat_id", photo.chat_id.to_string())
            .text(
                "caption",
                telegram_html::fit(photo.caption.clone(), MAX_CAPTION_UNITS),
            )
            .text("parse_mode", "HTML")
            .part("photo", part);
        let response = self
            .client
            .post(format!("{}/sendPhoto", self.api_url))
            .multipart(form)
            .send()
            .await?;
        let body = response.bytes().await?;
        let envelope: Envelope =
            serde_json::from_slice(&body).map_err(|source| frankenstein::Error::JsonDecode {
                source,
                input: String::from_utf8_lossy(&body).into_owned(),
            })?;
        if envelope.ok {
            return Ok(());
        }
        Err(frankenstein::Error::Api(ErrorResponse {
            ok: false,
            description: envelope.description.unwrap_or_default(),
            error_code: envelope.error_code.unwrap_or_default(),
            parameters: envelope.parameters,
        }))
    }

    /// Registers `url` as the webhook, with the secret Telegram will echo in
    /// `X-Telegram-Bot-Api-Secret-Token`.
    ///
    /// # Errors
    /// See [`BotApiError`].
    pub async fn set_webhook(
        &self,
        url: &str,
        secret: &Secret,
        max_connections: u32,
    ) -> Result<(), BotApiError> {
        let params = SetWebhookParams::builder()
            .url(url)
            .secret_token(secret.expose())
            .max_connections(max_connections)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
            .build();
        self.bot
            .set_webhook(&params)
            .await
            .map(drop)
            .map_err(BotApiError::from)
    }

    /// Sets Telegram's command menu: `commands` as (name, description), for
    /// people whose app is in `language_code` (`None`: everyone else).
    ///
    /// # Errors
    /// See [`BotApiError`].
    pub async fn set_my_commands(
        &self,
        commands: &[(&str, &str)],
        language_code: Option<&str>,
    ) -> Result<(), BotApiError> {
        let commands = commands
            .iter()
            .map(|(name, description)| {
                BotCommand::builder()
                    .command(*name)
                    .description(*description)
                    .build()
            })
            .collect();
        let params = SetMyCommandsParams::builder()
            .commands(commands)
            .maybe_language_code(language_code.map(str::to_owned))
            .build();
        self.bot
            .set_my_commands(&params)
            .await
            .map(drop)
            .map_err(BotApiError::from)
    }
}

impl BotApi {
    /// Sets the button beside every private chat's text field to open the
    /// Mini App at `url` (`setChatMenuButton` with a `web_app`), labelled `text`.
    ///
    /// # Errors
    /// See [`BotApiError`].
    pub async fn set_menu_web_app(&self, text: &str, url: &str) -> Result<(), BotApiError> {
        use frankenstein::types::{MenuButton, MenuButtonWebApp, WebAppInfo};
        let params = frankenstein::methods::SetChatMenuButtonParams::builder()
            .menu_button(MenuButton::WebApp(MenuButtonWebApp {
                text: text.to_owned(),
                web_app: WebAppInfo {
                    url: url.to_owned(),
                },
            }))
            .build();
        self.bot
            .set_chat_menu_button(&params)
            .await
            .map(drop)
            .map_err(BotApiError::from)
    }

    /// Downloads a file a person sent: `getFile`, then the file's URL, at most
    /// `max_bytes` (the size `getFile` states is checked first, then the bytes as
    /// they arrive). One attempt: the person can send the file again.
    ///
    /// # Errors
    /// [`DownloadError::TooLarge`] past `max_bytes`; [`DownloadError::Failed`] when
    /// Telegram refuses or the download breaks off (the URL, and so the token,
    /// stripped from the error).
    pub async fn download(
        &self,
        file_id: &str,
        max_bytes: u64,
    ) -> Result<bytes::Bytes, DownloadError> {
        let params = frankenstein::methods::GetFileParams::builder()
            .file_id(file_id)
            .build();
        let file = self.bot.get_file(&params).await.map_err(|e| {
            crate::infra::metrics::bot_api_call("getFile", "error");
            DownloadError::Failed(BotApiError::from(e).to_string())
        })?;
        crate::infra::metrics::bot_api_call("getFile", "ok");
        let file = file.result;
        if file.file_size.is_some_and(|size| size > max_bytes) {
            return Err(DownloadError::TooLarge);
        }
        let path = file
            .file_path
            .ok_or_else(|| DownloadError::Failed("getFile named no file path".into()))?;
        let failed =
            |e: frankenstein::reqwest::Error| DownloadError::Failed(e.without_url().to_string());
        let mut response = self
            .client
            .get(format!("{}/{path}", self.file_base))
            .send()
            .await
            .map_err(failed)?
            .error_for_status()
            .map_err(failed)?;
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(DownloadError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// Why a file could not be downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Larger than allowed.
    #[error("the file is too large")]
    TooLarge,
    /// Telegram refused, or the download broke off.
    #[error("the download failed: {0}")]
    Failed(String),
}

/// The Bot API's answer envelope, as far as an upload needs it.
#[derive(serde::Deserialize)]
struct Envelope {
    ok: bool,
    description: Option<String>,
    error_code: Option<u64>,
    parameters: Option<frankenstein::response::ResponseParameters>,
}

/// A PNG image to send as a photo, made in memory (a QR code). In the outbox
/// the image and its name are columns of their own, not part of the JSON.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoUpload {
    /// The chat.
    pub chat_id: i64,
    /// The image; uploaded, so never part of a webhook reply.
    #[serde(skip)]
    pub png: Vec<u8>,
    /// The file name Telegram is told.
    #[serde(skip)]
    pub file_name: String,
    /// The caption, Telegram HTML.
    pub caption: String,
}

impl std::fmt::Debug for PhotoUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotoUpload")
            .field("chat_id", &self.chat_id)
            .field("png_bytes", &self.png.len())
            .finish_non_exhaustive()
    }
}

/// One Bot API call. Serialises to the webhook-reply form
/// `{"method": "sendMessage", ...parameters}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum BotMethod {
    /// A new message.
    SendMessage(SendMessageParams),
    /// Replace the text (and keyboard) of a message the bot sent.
    EditMessageText(EditMessageTextParams),
    /// Stop the spinner on an inline-keyboard button, optionally with a toast.
    AnswerCallbackQuery(AnswerCallbackQueryParams),
    /// An image we made, uploaded: only through the client, never as the
    /// webhook's reply ([`BotMethod::is_upload`]).
    SendPhoto(PhotoUpload),
}

impl BotMethod {
    /// The Bot API method name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SendMessage(_) => "sendMessage",
            Self::EditMessageText(_) => "editMessageText",
            Self::AnswerCallbackQuery(_) => "answerCallbackQuery",
            Self::SendPhoto(_) => "sendPhoto",
        }
    }

    /// Whether the call uploads a file: it cannot go back in the webhook's
    /// answer (that is JSON), so the client sends it.
    pub fn is_upload(&self) -> bool {
        matches!(self, Self::SendPhoto(_))
    }

    /// The chat a message goes to (`None` for callback answers, which have none).
    pub fn chat_id(&self) -> Option<i64> {
        let chat = match self {
            Self::SendMessage(p) => Some(&p.chat_id),
            Self::EditMessageText(p) => p.chat_id.as_ref(),
            Self::AnswerCallbackQuery(_) => None,
            Self::SendPhoto(p) => return Some(p.chat_id),
        };
        match chat {
            Some(frankenstein::types::ChatId::Integer(id)) => Some(*id),
            _ => None,
        }
    }

    /// An HTML message to `chat_id`; link previews off, since our links are
    /// deep links and pages the person already knows. Every message and
    /// edit is cut to Telegram's length here ([`telegram_html::fit`]), the
    /// one place, so no handler can send one Telegram refuses.
    pub fn html(chat_id: i64, text: impl Into<String>) -> Self {
        Self::message(chat_id, text.into(), None)
    }

    /// An HTML message with an inline keyboard.
    pub fn html_with_keyboard(
        chat_id: i64,
        text: impl Into<String>,
        keyboard: InlineKeyboardMarkup,
    ) -> Self {
        Self::message(chat_id, text.into(), Some(keyboard))
    }

    fn message(chat_id: i64, text: String, keyboard: Option<InlineKeyboardMarkup>) -> Self {
        Self::SendMessage(
            SendMessageParams::builder()
                .chat_id(chat_id)
                .text(telegram_html::fit(text, MAX_MESSAGE_UNITS))
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview())
                .maybe_reply_markup(keyboard.map(ReplyMarkup::InlineKeyboardMarkup))
                .build(),
        )
    }

    /// Replaces a message's text and keyboard in place (paging, selections).
    pub fn edit_html(
        chat_id: i64,
        message_id: i32,
        text: impl Into<String>,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Self {
        Self::EditMessageText(
            EditMessageTextParams::builder()
                .chat_id(chat_id)
                .message_id(message_id)
                .text(telegram_html::fit(text.into(), MAX_MESSAGE_UNITS))
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview())
                .maybe_reply_markup(keyboard)
                .build(),
        )
    }

    /// Acknowledges a button press, with an optional short notice.
    pub fn answer_callback(callback_query_id: impl Into<String>, notice: Option<String>) -> Self {
        Self::AnswerCallbackQuery(
            AnswerCallbackQueryParams::builder()
                .callback_query_id(callback_query_id)
                .maybe_text(notice)
                .build(),
        )
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions::builder().is_disabled(true).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_reply_form_carries_the_method_name() {
        let value = serde_json::to_value(BotMethod::html(42, "<b>hi</b>")).expect("serialises");
        assert_eq!(value["method"], "sendMessage");
        assert_eq!(value["chat_id"], 42);
        assert_eq!(value["text"], "<b>hi</b>");
        assert_eq!(value["parse_mode"], "HTML");
        assert_eq!(value["link_preview_options"]["is_disabled"], true);

        let edit =
            serde_json::to_value(BotMethod::edit_html(42, 7, "x", None)).expect("serialises");
        assert_eq!(edit["method"], "editMessageText");
        assert_eq!(edit["message_id"], 7);
        assert!(edit.get("reply_markup").is_none());

        let answer =
            serde_json::to_value(BotMethod::answer_callback("q1", None)).expect("serialises");
        assert_eq!(answer["method"], "answerCallbackQuery");
        assert_eq!(answer["callback_query_id"], "q1");
        for method in [
            BotMethod::html(1, ""),
            BotMethod::answer_callback("q", None),
        ] {
            assert_eq!(
                serde_json::to_value(&method).expect("serialises")["method"],
                method.name()
            );
        }
    }
}
