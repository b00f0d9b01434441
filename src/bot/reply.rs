//! What a handler answers: Bot API method calls. The first goes back in the
//! webhook's HTTP response (no outbound call); the rest go through the client.

use frankenstein::ParseMode;
use frankenstein::methods::{AnswerCallbackQueryParams, EditMessageTextParams, SendMessageParams};
use frankenstein::types::{InlineKeyboardMarkup, LinkPreviewOptions, ReplyMarkup};
use serde::Serialize;

/// Telegram refuses messages longer than this many UTF-16 units; we count
/// characters, which is never more than UTF-16 units, and stay below it.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// One Bot API call. Serialises to the webhook-reply form
/// `{"method": "sendMessage", ...parameters}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum BotMethod {
    /// A new message.
    SendMessage(SendMessageParams),
    /// Replace the text (and keyboard) of a message the bot sent.
    EditMessageText(EditMessageTextParams),
    /// Stop the spinner on an inline-keyboard button, optionally with a toast.
    AnswerCallbackQuery(AnswerCallbackQueryParams),
}

impl BotMethod {
    /// The Bot API method name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SendMessage(_) => "sendMessage",
            Self::EditMessageText(_) => "editMessageText",
            Self::AnswerCallbackQuery(_) => "answerCallbackQuery",
        }
    }

    /// The chat a message goes to (`None` for callback answers, which have none).
    pub fn chat_id(&self) -> Option<i64> {
        let chat = match self {
            Self::SendMessage(p) => Some(&p.chat_id),
            Self::EditMessageText(p) => p.chat_id.as_ref(),
            Self::AnswerCallbackQuery(_) => None,
        };
        match chat {
            Some(frankenstein::types::ChatId::Integer(id)) => Some(*id),
            _ => None,
        }
    }

    /// An HTML message to `chat_id`; link previews off, since our links are
    /// deep links and pages the person already knows.
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
                .text(text)
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
                .text(text)
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

/// The replies to one update, in the order they should reach the person.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Replies(pub Vec<BotMethod>);

impl Replies {
    /// No answer at all (a message not meant for us).
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// One answer.
    pub fn one(method: BotMethod) -> Self {
        Self(vec![method])
    }

    /// One HTML message to `chat_id`.
    pub fn html(chat_id: i64, text: impl Into<String>) -> Self {
        Self::one(BotMethod::html(chat_id, text))
    }

    /// Appends another answer.
    #[must_use]
    pub fn then(mut self, method: BotMethod) -> Self {
        self.0.push(method);
        self
    }
}

/// Escapes text for Telegram's HTML parse mode: everything a person or an ERP
/// typed goes through here before it is put in a reply.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
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

    #[test]
    fn html_escaping_neutralises_markup() {
        assert_eq!(
            escape_html(r#"<script>"a" & b</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; b&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("Șoseaua Ștefan cel Mare"),
            "Șoseaua Ștefan cel Mare"
        );
    }
}
