//! A message that is not a command, in a private chat: a link code typed by
//! hand (spaces, dashes and lowercase are fine), or something we do not know.

use crate::bot::{Ctx, HandlerResult, Replies};
use crate::link_code::LinkCode;

/// Links with a code, or points the person to the commands.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut Ctx<'_>, text: &str) -> HandlerResult {
    if let Some(code) = LinkCode::parse(text) {
        return super::code::redeem(ctx, &code).await;
    }
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Nu am înțeles. Trimite /help pentru lista de comenzi.",
            "I did not understand that. Send /help for the list of commands.",
        ),
    ))
}
