//! What a handler answers: Bot API method calls. The first goes back in the
//! webhook's HTTP response (no outbound call); the rest go through the client.

pub use crate::infra::telegram::BotMethod;

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

    /// Only the answer to a button press: `notice`, plain text shown briefly
    /// over the chat (a refusal, or why nothing changed).
    pub fn notice(callback_query_id: &str, notice: impl Into<String>) -> Self {
        Self::one(BotMethod::answer_callback(
            callback_query_id,
            Some(notice.into()),
        ))
    }

    /// Appends another answer.
    #[must_use]
    pub fn then(mut self, method: BotMethod) -> Self {
        self.0.push(method);
        self
    }
}
