//! What the bot tells a person on its own, outside an answer to them: a
//! Telegram account was linked (by a confirmation on the web or the API, or
//! the Login Widget), or replaced by another one; someone answered an
//! invitation they made. Telegram HTML, in the
//! person's language, queued in the outbox in the transaction of the change
//! ([`crate::infra::outbox`]). The bot's handlers reply with the same texts.

use crate::blocks::Lang;
use crate::blocks::telegram_html::escape;
use crate::infra::telegram::BotMethod;
use crate::services::linking::{Linked, TelegramIdentity};

/// What a Telegram account is told when its person linked another one
/// instead, in that person's language (the same person linked both).
pub fn replaced_text(lang: Lang) -> &'static str {
    lang.pick(
        "Contul tău ledgerbot a fost legat de alt cont Telegram; acesta nu mai este legat.",
        "Your ledgerbot account was linked to another Telegram account; this one is no longer linked.",
    )
}

/// What the Telegram user is told once linked, by a code or a confirmation.
pub fn linked_text(lang: Lang, linked: &Linked) -> String {
    let account = linked.email.as_deref().map_or_else(
        || lang.pick("contul tău", "your account").to_owned(),
        |email| format!("<b>{}</b>", escape(email)),
    );
    let mut text = if linked.already {
        lang.pick(
            format!("Contul acesta Telegram era deja legat de {account}."),
            format!("This Telegram account was already linked to {account}."),
        )
    } else {
        lang.pick(
            format!("✅ Gata: contul acesta Telegram este legat de {account}. Trimite /ajutor pentru comenzi."),
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

/// The messages that tell a link's Telegram chats about it: the new one
/// that it is linked (with `first` as its text), the replaced one, if any,
/// that it no longer is.
pub fn linked_messages(
    who: &TelegramIdentity,
    lang: Lang,
    first: String,
    linked: &Linked,
) -> Vec<BotMethod> {
    let mut notices = vec![BotMethod::html(who.chat_id, first)];
    if let Some(chat_id) = linked.replaced_chat_id {
        notices.push(BotMethod::html(chat_id, replaced_text(lang)));
    }
    notices
}

/// Tells a newly linked Telegram chat that it is linked, and the chat it
/// replaced, if any, that it no longer is: queued in `tx`, the link's own
/// transaction.
///
/// # Errors
/// The database failed.
pub async fn linked(
    tx: &mut sqlx::PgConnection,
    who: &TelegramIdentity,
    lang: Lang,
    linked: &Linked,
) -> Result<(), sqlx::Error> {
    let notices = linked_messages(who, lang, linked_text(lang, linked), linked);
    crate::infra::outbox::enqueue(tx, &notices).await
}

/// What an inviter is told when `who` answered their invitation to
/// `company` (for `role`): accepted, or declined.
pub fn invitation_answered(
    lang: Lang,
    who: &str,
    company: &str,
    role: crate::services::finance::Role,
    accepted: bool,
) -> String {
    let (who, company, role) = (escape(who), escape(company), role.name(lang));
    if accepted {
        lang.pick(
            format!("✅ {who} a acceptat invitația ta la firma <b>{company}</b> și are acum rolul <b>{role}</b>."),
            format!("✅ {who} accepted your invitation to <b>{company}</b> and is now a member as <b>{role}</b>."),
        )
    } else {
        lang.pick(
            format!("{who} a refuzat invitația ta la firma <b>{company}</b>."),
            format!("{who} declined your invitation to <b>{company}</b>."),
        )
    }
}

/// The message that tells an inviter about the answer, if they have a
/// Telegram chat to tell (see [`invitation_answered`]).
pub fn invitation_answered_message(
    answered: &crate::services::invitations::Accepted,
    who: &str,
    accepted: bool,
) -> Option<BotMethod> {
    let (chat_id, lang) = answered.tell?;
    let invitation = &answered.invitation;
    Some(BotMethod::html(
        chat_id,
        invitation_answered(
            lang,
            who,
            &invitation.company_name,
            invitation.role,
            accepted,
        ),
    ))
}
