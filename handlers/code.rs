//! A link code sent to the bot, by `/start <code>` (the deep link and the QR
//! code) or as a message that is just the code: links this Telegram account to
//! the person who asked for the code on the web.
//!
//! Wrong codes (unknown, used, expired) count against the Telegram user; too
//! many in a while lock them out of code attempts until the window ends, even
//! for a correct code ([`crate::services::rate_limit::RateLimits::bot_code_failures`]).

use std::time::Duration;

use crate::blocks::link_code::LinkCode;
use crate::front::bot::{HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::linking::{self, Redeemed};
use crate::services::notices;
use crate::services::rate_limit;

/// Redeems `code` for the sender.
///
/// # Errors
/// The database failed.
pub async fn redeem(ctx: &mut UpdateCtx<'_>, code: &LinkCode) -> HandlerResult {
    if let Err(unmet) = require::private_chat(ctx) {
        return Ok(Replies::html(ctx.chat_id, unmet));
    }
    let limit = ctx.config.rate_limits.bot_code_failures;
    let key = ctx.from.id.to_string();
    if let Some(wait) = rate_limit::exhausted(ctx.db, limit, &key).await? {
        return Ok(Replies::html(ctx.chat_id, locked_text(ctx.lang, wait)));
    }
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
            return Ok(Replies::html(ctx.chat_id, text));
        }
    };
    let who = ctx.identity();
    let linked = linking::link(ctx.db, user_id, &who).await?;
    tracing::info!(user.id = user_id, "Telegram account linked by code");
    let text = notices::linked_text(ctx.lang, &linked);
    Ok(Replies(notices::linked_messages(
        &who, ctx.lang, text, &linked,
    )))
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
