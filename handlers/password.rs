//! `/password` (`/parola`): a one-time link to choose a password for the web
//! (and an email, for a Telegram-only account made with `/register`), so
//! the same account works on the web too.

use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::accounts::password_reset;
use crate::services::linking;

/// Makes a password link for the sender's account and answers with it.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let has_email = linking::person(ctx.db, account.user_id)
        .await?
        .is_some_and(|p| p.email.is_some());
    let new = password_reset::create(ctx.db, account.user_id).await?;
    let url = format!("{}/password/{}", ctx.config.public_url, new.token);
    // The answer carries the token: not stored for replays.
    ctx.reply_is_secret = true;
    let link = format!("<a href=\"{url}\">{url}</a>");
    let text = match has_email {
        true => ctx.t(
            format!("Alege o parolă nouă pentru web aici:\n{link}\nLinkul merge o singură dată, 15 minute."),
            format!("Choose a new password for the web here:\n{link}\nThe link works once, for 15 minutes."),
        ),
        false => ctx.t(
            format!(
                "Alege aici un email și o parolă, ca să folosești contul și pe web:\n{link}\n\
                 Linkul merge o singură dată, 15 minute."
            ),
            format!(
                "Choose an email and a password here, to use your account on the web too:\n{link}\n\
                 The link works once, for 15 minutes."
            ),
        ),
    };
    Ok(Replies::html(ctx.chat_id, text))
}
