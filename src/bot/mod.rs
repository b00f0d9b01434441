//! The bot engine the handlers plug into: what an update says ([`command`]),
//! what a handler gets ([`context`]), what it answers ([`reply`]), and in which
//! language ([`lang`]).

pub mod callback;
pub mod command;
pub mod context;
pub mod format;
pub mod lang;
pub mod reply;
pub mod require;

pub use callback::Callback;
pub use command::{Command, Incoming};
pub use context::{Account, Ctx, TelegramUser};
pub use lang::Lang;
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
