//! A message that is not a command, in a private chat: a link code typed by
//! hand (spaces, dashes and lowercase are fine), or something we do not know.

use crate::blocks::link_code::LinkCode;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx};

/// Links with a code, or points the person to the commands.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, text: &str) -> HandlerResult {
    if let Some(code) = LinkCode::parse(text) {
        return super::code::redeem(ctx, &code).await;
    }
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Nu am înțeles. Trimite /ajutor pentru lista de comenzi.",
            "I did not understand that. Send /help for the list of commands.",
        ),
    ))
}
