//! A command the bot does not know: say so, and show what it does know.

use crate::bot::reply::escape_html;
use crate::bot::{Ctx, Replies};

/// Names the unknown command and lists the known ones.
pub fn run(ctx: &Ctx<'_>, name: &str) -> Replies {
    let name = escape_html(name);
    let intro = ctx.t(
        format!("Nu cunosc comanda /{name}."),
        format!("I do not know the command /{name}."),
    );
    Replies::html(
        ctx.chat_id,
        format!("{intro}\n\n{}", super::help::text(ctx)),
    )
}
