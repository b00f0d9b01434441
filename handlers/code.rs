//! A link code sent to the bot, by `/start <code>` (the deep link and the QR
//! code) or as a message that is just the code: links this Telegram account to
//! the person who asked for the code on the web.
//!
//! Wrong codes (unknown, used, expired) count against the Telegram user; too
//! many in a while lock them out of code attempts until the window ends, even
//! for a correct code ([`crate::rate_limit::RateLimits::bot_code_failures`]).

use std::time::Duration;

use crate::bot::reply::escape_html;
use crate::bot::{BotMethod, Ctx, HandlerResult, Lang, Replies};
use crate::link_code::LinkCode;
use crate::linking::{self, Linked, Redeemed, TelegramIdentity};
use crate::rate_limit;

/// What a Telegram account is told when its person linked another one instead.
pub const REPLACED_TEXT: &str = "Contul tău ledgerbot a fost legat de alt cont Telegram; acesta nu mai este legat.\n\
     Your ledgerbot account was linked to another Telegram account; this one is no longer linked.";

/// Redeems `code` for the sender.
///
/// # Errors
/// The database failed.
pub async fn redeem(ctx: &mut Ctx<'_>, code: &LinkCode) -> HandlerResult {
    if let Some(refusal) = private_only(ctx) {
        return Ok(refusal);
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
    let who = TelegramIdentity::of(&ctx.from, ctx.chat_id);
    let linked = linking::link(ctx.db, user_id, &who).await?;
    tracing::info!(user.id = user_id, "Telegram account linked by code");
    let mut replies = Replies::html(ctx.chat_id, linked_text(ctx.lang, &linked));
    if let Some(chat_id) = linked.replaced_chat_id {
        replies = replies.then(BotMethod::html(chat_id, REPLACED_TEXT));
    }
    Ok(replies)
}

/// Account commands and codes only in the private chat: in a group, others
/// would see the code, and the link would be made for the wrong chat.
pub fn private_only(ctx: &Ctx<'_>) -> Option<Replies> {
    (!ctx.is_private()).then(|| {
        Replies::html(
            ctx.chat_id,
            ctx.t(
                "Pentru asta scrie-mi în chatul privat cu mine.",
                "Please do this in your private chat with me.",
            ),
        )
    })
}

fn failure_text<T>(ctx: &Ctx<'_>, failure: &Redeemed<T>) -> &'static str {
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
            "Nu cunosc acest cod. Verifică-l, sau cere unul nou din pagina Telegram a contului tău.",
            "I do not know this code. Check it, or ask for a new one on the Telegram page of your account.",
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

/// What the Telegram user is told once linked, by a code or a confirmation.
pub fn linked_text(lang: Lang, linked: &Linked) -> String {
    let account = linked.email.as_deref().map_or_else(
        || lang.pick("contul tău", "your account").to_owned(),
        |email| format!("<b>{}</b>", escape_html(email)),
    );
    let mut text = if linked.already {
        lang.pick(
            format!("Contul acesta Telegram era deja legat de {account}."),
            format!("This Telegram account was already linked to {account}."),
        )
    } else {
        lang.pick(
            format!("✅ Gata: contul acesta Telegram este legat de {account}. Trimite /help pentru comenzi."),
            format!("✅ Done: this Telegram account is linked to {account}. Send /help for the commands."),
        )
    };
    if linked.moved_from_other_person {
        text.push_str(lang.pick(
            "\nEra legat de alt cont ledgerbot; legătura a fost mutată aici.",
            "\nIt was linked to another ledgerbot account; the link has moved here.",
        ));
    }
    if linked.replaced_chat_id.is_some() {
        text.push_str(lang.pick(
            "\nContul Telegram legat înainte de acest cont nu mai este legat.",
            "\nThe Telegram account linked to this account before is no longer linked.",
        ));
    }
    text
}
