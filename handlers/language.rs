//! `/language ro|en` (`/limba`): the account's language, which then wins over
//! Telegram's `language_code`.

use crate::front::bot::{HandlerResult, Lang, Replies, UpdateCtx, require};

/// Sets the language and answers in it.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, code: Option<&str>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => {
            let why = ctx.t(
                "Limba se salvează în cont, așa că trebuie întâi să-l legi.",
                "The language is saved in your account, so link it first.",
            );
            return Ok(Replies::html(ctx.chat_id, format!("{why}\n\n{unmet}")));
        }
    };
    let Some(lang) = code.and_then(Lang::parse) else {
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Trimite /limba ro sau /limba en.",
                "Send /language ro or /language en.",
            ),
        ));
    };
    sqlx::query!(
        "UPDATE users SET language = $2 WHERE id = $1",
        account.user_id,
        lang.code()
    )
    .execute(&mut *ctx.db)
    .await?;
    ctx.lang = lang;
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Gata: îți răspund în română.",
            "Done: I will answer in English.",
        ),
    ))
}
