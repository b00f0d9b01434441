//! `/unlink` (`/dezleaga`): this Telegram account stops being linked.

use crate::front::bot::{HandlerResult, Replies, UpdateCtx};
use crate::services::linking;

/// Removes the link, or says there is none.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let text = if linking::unlink(ctx.db, ctx.from.id).await? {
        ctx.t(
            "Gata: contul acesta Telegram nu mai este legat. Îl poți lega din nou oricând cu un cod sau cu /leaga.",
            "Done: this Telegram account is no longer linked. You can link it again any time with a code or /link.",
        )
    } else {
        ctx.t(
            "Contul acesta Telegram nu este legat de niciun cont.",
            "This Telegram account is not linked to any account.",
        )
    };
    Ok(Replies::html(ctx.chat_id, text))
}
