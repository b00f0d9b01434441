//! A link code sent to the bot, by `/start <code>` (the deep link and the QR
//! code) or as a message that is just the code: links this Telegram account to
//! the person who asked for the code on the web.
//!
//! When this Telegram account is already linked to someone else, nothing
//! changes yet: the bot names both accounts and asks, with Yes / No buttons
//! (`mv:<code>`, `mv:no`); only "Yes" redeems the code and moves the link. A
//! deep link someone sent cannot move a person's Telegram account silently.
//!
//! Wrong codes (unknown, used, expired) count against the Telegram user, by
//! message or by button; too many in a while lock them out of code attempts
//! until the window ends, even for a correct code
//! ([`crate::services::rate_limit::RateLimits::bot_code_failures`]).

use std::time::Duration;

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::link_code::LinkCode;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::linking::{self, Linked, Person, Redeemed, TelegramIdentity};
use crate::services::notices;
use crate::services::rate_limit;

/// Redeems `code` for the sender, or first asks when the sender's Telegram
/// account is linked to someone other than the code's person.
///
/// # Errors
/// The database failed.
pub async fn redeem(ctx: &mut UpdateCtx<'_>, code: &LinkCode) -> HandlerResult {
    if let Err(unmet) = require::private_chat(ctx) {
        return Ok(Replies::html(ctx.chat_id, unmet));
    }
    if let Some(text) = locked_out(ctx).await? {
        return Ok(Replies::html(ctx.chat_id, text));
    }
    if let Some(account) = ctx.account.clone()
        && let Some(owner) = linking::link_code_owner(ctx.db, code).await?
        && owner.user_id != account.user_id
    {
        let current = linking::person(ctx.db, account.user_id).await?;
        return Ok(ask_to_move(ctx, current.as_ref(), &owner, code));
    }
    match redeem_and_link(ctx, code).await? {
        Ok((who, linked)) => {
            let text = notices::linked_text(ctx.lang, &linked);
            Ok(Replies(notices::linked_messages(
                &who, ctx.lang, text, &linked,
            )))
        }
        Err(text) => Ok(Replies::html(ctx.chat_id, text)),
    }
}

/// The answer when the sender is locked out of code attempts now.
async fn locked_out(ctx: &mut UpdateCtx<'_>) -> Result<Option<String>, sqlx::Error> {
    let limit = ctx.config.rate_limits.bot_code_failures;
    let wait = rate_limit::exhausted(ctx.db, limit, &ctx.from.id.to_string()).await?;
    Ok(wait.map(|wait| locked_text(ctx.lang, wait)))
}

/// Redeems `code` and links the sender; a refusal is the text to answer
/// (a wrong code counted, the lockout said when it begins).
async fn redeem_and_link(
    ctx: &mut UpdateCtx<'_>,
    code: &LinkCode,
) -> Result<Result<(TelegramIdentity, Linked), String>, sqlx::Error> {
    let limit = ctx.config.rate_limits.bot_code_failures;
    let key = ctx.from.id.to_string();
    let user_id = match linking::redeem_link_code(ctx.db, code).await? {
        Redeemed::Valid(user_id) => user_id,
        failure => {
            let count = rate_limit::count(ctx.db, limit, &key).await?;
            let mut text = failure_text(ctx, &failure).to_owned();
            if count.hits >= limit.max {
                tracing::warn!(
                    telegram.user_id = ctx.from.id,
                    "locked out of code attempts"
                );
                text = format!("{text}\n\n{}", locked_text(ctx.lang, count.resets_in));
            }
            return Ok(Err(text));
        }
    };
    let who = ctx.identity();
    let linked = linking::link(ctx.db, user_id, &who).await?;
    tracing::info!(user.id = user_id, "Telegram account linked by code");
    Ok(Ok((who, linked)))
}

/// "This Telegram account is linked to A; the code is B's: move it?"
fn ask_to_move(
    ctx: &mut UpdateCtx<'_>,
    current: Option<&Person>,
    owner: &Person,
    code: &LinkCode,
) -> Replies {
    // The buttons carry the code: the answer is not stored for replays.
    ctx.reply_is_secret = true;
    let current = current.map_or_else(String::new, |p| escape(&p.display()));
    let new = escape(&owner.display());
    let text = ctx.t(
        format!(
            "Contul acesta Telegram este legat de contul <b>{current}</b>.\n\
             Codul este al contului <b>{new}</b>.\n\n\
             Muți contul Telegram la <b>{new}</b>? Cine folosește acel cont va vedea firmele lui aici, \
             iar <b>{current}</b> nu va mai fi legat de acest Telegram. \
             Confirmă doar dacă ai cerut tu codul."
        ),
        format!(
            "This Telegram account is linked to the account <b>{current}</b>.\n\
             The code belongs to the account <b>{new}</b>.\n\n\
             Move this Telegram account to <b>{new}</b>? Its companies will show here, \
             and <b>{current}</b> will no longer be linked to this Telegram. \
             Confirm only if you asked for the code yourself."
        ),
    );
    let button = |text: &str, callback: Callback| {
        InlineKeyboardButton::builder()
            .text(text.to_owned())
            .callback_data(callback.data())
            .build()
    };
    let keyboard = InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![vec![
            button(
                ctx.t("Da, mută-l", "Yes, move it"),
                Callback::move_link(code),
            ),
            button(ctx.t("Nu, lasă-l așa", "No, keep it"), Callback::KeepLink),
        ]])
        .build();
    Replies::one(BotMethod::html_with_keyboard(ctx.chat_id, text, keyboard))
}

/// A press on "Yes, move it" (`mv:<code>`): redeems the code now, as if it
/// had been sent (counted when wrong, used or expired), and links.
///
/// # Errors
/// The database failed.
pub async fn pressed_move(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    code: &LinkCode,
) -> HandlerResult {
    if let Err(unmet) = require::private_chat(ctx) {
        return Ok(Replies::notice(callback_query_id, unmet));
    }
    let outcome = match locked_out(ctx).await? {
        Some(text) => Err(text),
        None => redeem_and_link(ctx, code).await?,
    };
    let (text, others) = match outcome {
        Ok((who, linked)) => {
            let text = notices::linked_text(ctx.lang, &linked);
            let mut messages = notices::linked_messages(&who, ctx.lang, text.clone(), &linked);
            messages.remove(0);
            (text, messages)
        }
        Err(text) => (text, Vec::new()),
    };
    let mut replies = Replies::one(BotMethod::edit_html(ctx.chat_id, message_id, text, None))
        .then(BotMethod::answer_callback(callback_query_id, None));
    replies.0.extend(others);
    Ok(replies)
}

/// A press on "No, keep it" (`mv:no`): nothing changes.
pub fn pressed_keep(ctx: &UpdateCtx<'_>, callback_query_id: &str, message_id: i32) -> Replies {
    let text = ctx.t(
        "Bine, nu am schimbat nimic: contul Telegram rămâne legat ca până acum.",
        "All right, nothing changed: this Telegram account stays linked as it was.",
    );
    Replies::one(BotMethod::edit_html(ctx.chat_id, message_id, text, None))
        .then(BotMethod::answer_callback(callback_query_id, None))
}

fn failure_text<T>(ctx: &UpdateCtx<'_>, failure: &Redeemed<T>) -> &'static str {
    match failure {
        Redeemed::Used => ctx.t(
            "Codul acesta a fost deja folosit. Cere unul nou din pagina Telegram a contului tău.",
            "This code was already used. Ask for a new one on the Telegram page of your account.",
        ),
        Redeemed::Expired => ctx.t(
            "Codul acesta a expirat (un cod este valabil 15 minute). Cere unul nou din pagina Telegram a contului tău.",
            "This code has expired (a code is valid for 15 minutes). Ask for a new one on the Telegram page of your account.",
        ),
        Redeemed::Unknown | Redeemed::Valid(_) => ctx.t(
            "Nu recunosc acest cod. Verifică-l, sau cere unul nou din pagina Telegram a contului tău.",
            "I do not recognise this code. Check it, or ask for a new one on the Telegram page of your account.",
        ),
    }
}

/// The answer while locked out of code attempts.
fn locked_text(lang: Lang, wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    lang.pick(
        format!("Prea multe coduri greșite. Poți încerca din nou peste {minutes} min."),
        format!("Too many wrong codes. You can try again in {minutes} min."),
    )
}
