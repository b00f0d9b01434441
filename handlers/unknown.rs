//! A command the bot does not know: say so, and show what it does know.

use crate::blocks::telegram_html::escape;
use crate::front::bot::{Replies, UpdateCtx};

/// Names the unknown command and lists the known ones.
pub fn run(ctx: &UpdateCtx<'_>, name: &str) -> Replies {
    let name = escape(name);
    let intro = ctx.t(
        format!("Nu cunosc comanda /{name}."),
        format!("I do not know the command /{name}."),
    );
    Replies::html(
        ctx.chat_id,
        format!("{intro}\n\n{}", super::help::text(ctx)),
    )
}
