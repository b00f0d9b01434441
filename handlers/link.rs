//! `/link` (`/leaga`): bind an existing web account. The bot answers with a
//! one-time link to `<PUBLIC_URL>/link/<code>`; the person logs in there (or
//! through the API, `POST /api/v1/telegram/confirm`) and confirms, and the bot
//! then says in this chat that the link is done.

use crate::front::bot::{HandlerResult, Replies, UpdateCtx};
use crate::services::linking;

/// Makes a `confirm` code for the sender and answers with its link.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let who = ctx.identity();
    let new = linking::create_confirm_code(ctx.db, &who, ctx.lang).await?;
    let url = format!("{}/link/{}", ctx.config.public_url, new.code);
    ctx.reply_is_secret = true;
    let mut text = ctx.t(
        format!(
            "Deschide linkul, intră în cont (sau creează unul) și confirmă:\n<a href=\"{url}\">{url}</a>\n\
             Linkul merge o singură dată, 15 minute."
        ),
        format!(
            "Open the link, log in (or create an account) and confirm:\n<a href=\"{url}\">{url}</a>\n\
             The link works once, for 15 minutes."
        ),
    );
    if ctx.account.is_some() {
        text.push_str(ctx.t(
            "\nContul acesta Telegram este legat acum; confirmarea îl mută la contul cu care intri.",
            "\nThis Telegram account is linked now; confirming moves it to the account you log in with.",
        ));
    }
    Ok(Replies::html(ctx.chat_id, text))
}
