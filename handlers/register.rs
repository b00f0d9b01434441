//! `/register` (`/inregistrare`): a Telegram-only account in one tap, linked
//! to this Telegram account. Never a second one.

use crate::front::bot::{HandlerResult, Replies, UpdateCtx};
use crate::services::linking;

/// Creates and links the account, unless this Telegram account is linked.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let already = ctx.t(
        "Contul acesta Telegram este deja legat de un cont; nu am creat altul. Trimite /ajutor pentru comenzi.",
        "This Telegram account is already linked to an account; I did not create another. Send /help for the commands.",
    );
    if ctx.account.is_some() {
        return Ok(Replies::html(ctx.chat_id, already));
    }
    let who = ctx.identity();
    // A concurrent /register may have linked it since we looked: the unique key decides.
    let Some(user_id) = linking::register_telegram_only(ctx.db, &who).await? else {
        return Ok(Replies::html(ctx.chat_id, already));
    };
    tracing::info!(user.id = user_id, "Telegram-only account registered");
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "✅ Gata: ți-am creat un cont legat de acest cont Telegram. Trimite /ajutor pentru comenzi.",
            "✅ Done: you have an account, linked to this Telegram account. Send /help for the commands.",
        ),
    ))
}
