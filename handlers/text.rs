//! A message that is not a command, in a private chat.

use crate::bot::{Ctx, HandlerResult, Replies};

/// Points the person to the commands.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut Ctx<'_>, _text: &str) -> HandlerResult {
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Nu am înțeles. Trimite /help pentru lista de comenzi.",
            "I did not understand that. Send /help for the list of commands.",
        ),
    ))
}
