//! A photo, voice message, sticker (and the like) in the private chat: the
//! bot reads only text, and says so rather than staying silent.

use crate::front::bot::{Replies, UpdateCtx};

/// Says what the bot reads, and the next step for this person.
pub fn run(ctx: &UpdateCtx<'_>) -> Replies {
    let next = if ctx.account.is_some() {
        ctx.t(
            "Trimite /ajutor pentru comenzi.",
            "Send /help for the commands.",
        )
    } else {
        ctx.t("Ca să începi, trimite /start.", "To begin, send /start.")
    };
    Replies::html(
        ctx.chat_id,
        ctx.t(
            format!("Citesc doar mesaje scrise: fotografii, mesaje vocale sau stickere nu pot înțelege. {next}"),
            format!("I only read written messages: I cannot understand photos, voice messages or stickers. {next}"),
        ),
    )
}
