//! `/help` (`/ajutor`): what the bot can do, in the person's language,
//! derived from the command table ([`super::COMMANDS`]).

use crate::front::bot::{HandlerResult, Replies, UpdateCtx};

/// Answers with the list of commands.
///
/// # Errors
/// Never; a handler's signature.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    Ok(Replies::html(ctx.chat_id, text(ctx)))
}

/// The list of commands: one line per command of the table.
pub fn text(ctx: &UpdateCtx<'_>) -> String {
    let mut text = ctx.t("<b>Comenzi</b>\n", "<b>Commands</b>\n").to_owned();
    for spec in super::COMMANDS {
        text.push_str(&spec.help_line(ctx.lang));
        text.push('\n');
    }
    text.push_str(ctx.t(
        "Un mesaj care este doar un cod de 8 caractere leagă contul.",
        "A message that is just an 8-character code links your account.",
    ));
    text
}
