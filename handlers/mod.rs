//! The bot's commands, one file per command. A handler gets the update's
//! [`Ctx`] (sender, chat, language, linked account, transaction) and returns
//! the replies; it knows nothing of HTTP. [`dispatch`] is the one place that
//! maps a [`Command`] to its handler.

use crate::bot::{Command, Ctx, HandlerResult, Replies};

pub mod code;
pub mod help;
pub mod link;
pub mod register;
pub mod start;
pub mod text;
pub mod unknown;
pub mod unlink;

/// Runs the handler of `command`.
///
/// # Errors
/// The database failed; the update is rolled back and Telegram retries it.
pub async fn dispatch(command: Command, ctx: &mut Ctx<'_>) -> HandlerResult {
    match command {
        Command::Start(payload) => start::run(ctx, payload.as_deref()).await,
        Command::Help => Ok(Replies::html(ctx.chat_id, help::text(ctx))),
        Command::Text(text) => text::run(ctx, &text).await,
        Command::Unknown(name) => Ok(unknown::run(ctx, &name)),
        Command::Register => register::run(ctx).await,
        Command::Link => link::run(ctx).await,
        Command::Unlink => unlink::run(ctx).await,
    }
}

/// A button press whose data we do not recognise (tampered, or from an old
/// version of the bot): stop the spinner and say so.
pub fn stale_button(ctx: &Ctx<'_>, callback_query_id: &str) -> Replies {
    let notice = ctx.t(
        "Butonul acesta nu mai este valabil.",
        "This button is no longer valid.",
    );
    Replies::one(crate::bot::BotMethod::answer_callback(
        callback_query_id,
        Some(notice.to_owned()),
    ))
}
