//! The Telegram bot: the webhook that takes Telegram's updates in
//! ([`webhook`]), what an update says ([`incoming`]), the command table's
//! types and parser ([`command`]; the table is [`handlers::COMMANDS`]), the
//! buttons ([`callback`]), documents sent to be imported ([`document`]), what a handler gets ([`context`]) and answers
//! ([`reply`]). How numbers and dates read is [`crate::blocks::format`].
//!
//! The handlers, one file per command, live in the top-level `handlers/`
//! folder and know nothing of HTTP.

pub mod callback;
pub mod command;
pub mod context;
pub mod document;
pub mod incoming;
pub mod reply;
pub mod require;
pub mod webhook;

#[path = "../../../handlers/mod.rs"]
pub mod handlers;

pub use crate::blocks::Lang;
pub use callback::{Callback, StartChoice};
pub use command::{Command, Spec};
pub use context::{Account, GroupBinding, TelegramUser, UpdateCtx};
pub use incoming::Incoming;
pub use reply::{BotMethod, Replies};

/// What a handler fails with: only the unexpected. A person's mistake is a
/// reply, not an error; an error rolls the update back and Telegram retries it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The database failed; the whole update is rolled back.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// What every handler returns.
pub type HandlerResult = Result<Replies, HandlerError>;
