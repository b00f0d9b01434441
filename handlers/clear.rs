//! `/clear`: forget the active company.

use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::companies;

/// Clears the active company of this Telegram account.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    if let Err(unmet) = require::account(ctx) {
        return Ok(Replies::html(ctx.chat_id, unmet));
    }
    companies::set_active(ctx.db, ctx.from.id, None).await?;
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Firma activă a fost deselectată. Alege alta cu /alegefirma.",
            "The active company was deselected. Choose another with /selectcompany.",
        ),
    ))
}
