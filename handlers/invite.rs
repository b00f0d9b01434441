//! `/invite [viewer|accountant|owner]` (`/invita [cititor|contabil|proprietar]`):
//! an owner invites someone to the active company. The answer carries the
//! deep link `https://t.me/<bot>?start=inv_<code>` and its expiry, then the
//! QR code as a photo. The invitee's side, `/start inv_<code>` and the
//! Accept / Decline buttons, is here too.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::invite_code::InviteCode;
use crate::blocks::local_time::{count, date_time};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::infra::telegram::PhotoUpload;
use crate::services::finance::{Role, companies};
use crate::services::invitations::{self, Accepted, Create, Found, Invitation};
use crate::services::{linking, notices};

/// Makes an invitation to the active company and answers with its link,
/// then its QR code.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let (account, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let role = match args.map(str::trim).filter(|a| !a.is_empty()) {
        None => Role::Viewer,
        Some(word) => match Role::from_word(word) {
            Some(role) => role,
            None => return Ok(Replies::html(ctx.chat_id, usage(ctx))),
        },
    };
    let lang = ctx.lang;
    let new = match invitations::create(ctx.db, &company, account.user_id, role, Some(lang)).await?
    {
        Create::Created(new) => new,
        Create::NotOwner => return Ok(Replies::html(ctx.chat_id, only_owners(ctx))),
        Create::TooMany => {
            let open = count(
                lang,
                invitations::MAX_OPEN_PER_COMPANY.unsigned_abs(),
                ["invitație deschisă", "invitații deschise"],
                ["open invitation", "open invitations"],
            );
            let text = ctx.t(
                format!("Firma are deja {open}. Așteaptă să fie folosite sau să expire."),
                format!("The company already has {open}. Wait for them to be used or to expire."),
            );
            return Ok(Replies::html(ctx.chat_id, text));
        }
    };
    // The answer carries the code: never stored for replaying a retry.
    ctx.reply_is_secret = true;
    tracing::info!(
        company.id = company.id,
        role = role.as_str(),
        "invitation made"
    );
    let link = invitations::deep_link(ctx.config, &new.code);
    let web = invitations::web_url(ctx.config, &new.code);
    let (name, role_name) = (escape(&company.name), role.name(lang));
    let until = date_time(lang, new.expires_at);
    let text = ctx.t(
        format!(
            "Invitație la <b>{name}</b>, cu rolul <b>{role_name}</b>.\n\
             Trimite linkul acesta persoanei pe care o inviți; merge o singură dată, până la {until} (ora României):\n{link}\n\n\
             Fără Telegram, îl poate deschide pe web: {web}"
        ),
        format!(
            "Invitation to <b>{name}</b> as <b>{role_name}</b>.\n\
             Send this link to the person you invite; it works once, until {until} (Bucharest time):\n{link}\n\n\
             Without Telegram, they can open it on the web: {web}"
        ),
    );
    let replies = Replies::html(ctx.chat_id, text);
    // A deep link is far below a QR code's capacity; should that ever change,
    // the link above still works.
    let Ok(png) = crate::blocks::qr::png(&link) else {
        tracing::error!("the invitation link does not fit a QR code");
        return Ok(replies);
    };
    let photo = PhotoUpload {
        chat_id: ctx.chat_id,
        png,
        file_name: "invitation.png".to_owned(),
        caption: ctx
            .t(
                "Sau lasă persoana să scaneze codul acesta cu camera telefonului.",
                "Or let them scan this code with their phone's camera.",
            )
            .to_owned(),
    };
    Ok(replies.then(BotMethod::SendPhoto(photo)))
}

fn usage(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Nu cunosc acest rol. Trimite /invita cititor, /invita contabil sau /invita proprietar.",
        "I do not know that role. Send /invite viewer, /invite accountant or /invite owner.",
    )
    .to_owned()
}

fn only_owners(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Doar proprietarii firmei pot invita persoane.",
        "Only the company's owners can invite people.",
    )
    .to_owned()
}

/// `/start inv_<text>`: shows the invitation with Accept / Decline buttons,
/// or why it cannot be accepted.
///
/// # Errors
/// The database failed.
pub async fn opened(ctx: &mut UpdateCtx<'_>, text: &str) -> HandlerResult {
    if let Err(unmet) = require::private_chat(ctx) {
        return Ok(Replies::html(ctx.chat_id, unmet));
    }
    let Some(code) = InviteCode::parse(text) else {
        return Ok(Replies::html(
            ctx.chat_id,
            refusal(ctx, &Found::<()>::Unknown),
        ));
    };
    let invitation = match invitations::look_up(ctx.db, &code).await? {
        Found::Open(invitation) => invitation,
        other => return Ok(Replies::html(ctx.chat_id, refusal(ctx, &other))),
    };
    let text = shown(ctx, &invitation);
    let button = |text: &str, accept| {
        InlineKeyboardButton::builder()
            .text(text)
            .callback_data(Callback::Invitation { code, accept }.data())
            .build()
    };
    let keyboard = InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![vec![
            button(ctx.t("✅ Accept", "✅ Accept"), true),
            button(ctx.t("Refuz", "Decline"), false),
        ]])
        .build();
    // The buttons carry the code: the answer is not stored for a retry.
    ctx.reply_is_secret = true;
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        keyboard,
    )))
}

fn shown(ctx: &UpdateCtx<'_>, invitation: &Invitation) -> String {
    let lang = ctx.lang;
    let company = escape(&invitation.company_name);
    let (role, can) = (invitation.role.name(lang), invitation.role.can(lang));
    let until = date_time(lang, invitation.expires_at);
    let inviter = invitation.inviter.as_deref().map(escape);
    let mut text = match inviter {
        Some(who) => ctx.t(
            format!(
                "<b>{who}</b> te invită la firma <b>{company}</b>, cu rolul <b>{role}</b> ({can})."
            ),
            format!("<b>{who}</b> invites you to <b>{company}</b> as <b>{role}</b> ({can})."),
        ),
        None => ctx.t(
            format!("Ești invitat la firma <b>{company}</b>, cu rolul <b>{role}</b> ({can})."),
            format!("You are invited to <b>{company}</b> as <b>{role}</b> ({can})."),
        ),
    };
    text.push('\n');
    text.push_str(&ctx.t(
        format!("Invitația este valabilă până la {until} (ora României)."),
        format!("The invitation is valid until {until} (Bucharest time)."),
    ));
    if ctx.account.is_none() {
        text.push_str(ctx.t(
            "\nDacă accepți, îți creez un cont ledgerbot legat de acest cont Telegram.",
            "\nIf you accept, I will create a ledgerbot account linked to this Telegram account.",
        ));
    }
    text
}

/// Why an invitation cannot be accepted.
pub fn refusal<T>(ctx: &UpdateCtx<'_>, found: &Found<T>) -> &'static str {
    let (ro, en) = crate::front::invitation_refusal(found);
    ctx.t(ro, en)
}

/// A press on Accept or Decline. Accepting links or creates the sender's
/// account (as `/register` does) and makes it a member; the inviter is told.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    code: InviteCode,
    accept: bool,
) -> HandlerResult {
    let chat_id = ctx.chat_id;
    let done = |text: String| {
        Replies::one(BotMethod::edit_html(chat_id, message_id, text, None))
            .then(BotMethod::answer_callback(callback_query_id, None))
    };
    let who = ctx.from.username.as_ref().map_or_else(
        || ctx.from.first_name.clone(),
        |u| format!("{} (@{u})", ctx.from.first_name),
    );
    if !accept {
        let answered = match invitations::decline(ctx.db, &code).await? {
            Found::Open(answered) => answered,
            other => return Ok(done(refusal(ctx, &other).to_owned())),
        };
        let company = escape(&answered.invitation.company_name);
        let text = ctx.t(
            format!("Ai refuzat invitația la firma <b>{company}</b>."),
            format!("You declined the invitation to <b>{company}</b>."),
        );
        let tell = notices::invitation_answered_message(&answered, &who, false);
        return Ok(Replies(done(text).0.into_iter().chain(tell).collect()));
    }
    // Checked before an account is made for someone unlinked; `accept`
    // checks again under the invitation's lock.
    if let other @ (Found::Unknown | Found::Used | Found::Expired | Found::Revoked) =
        invitations::look_up(ctx.db, &code).await?
    {
        return Ok(done(refusal(ctx, &other).to_owned()));
    }
    let user_id = match &ctx.account {
        Some(account) => account.user_id,
        None => {
            // Not linked yet: an account of their own, as /register makes.
            let identity = ctx.identity();
            let Some(user_id) = linking::register_telegram_only(ctx.db, &identity).await? else {
                let busy = ctx.t("Încearcă din nou.", "Please try again.");
                return Ok(done(busy.to_owned()));
            };
            tracing::info!(
                user.id = user_id,
                "Telegram-only account registered by an invitation"
            );
            user_id
        }
    };
    let answered = match invitations::accept(ctx.db, &code, user_id).await? {
        Found::Open(answered) => answered,
        other => return Ok(done(refusal(ctx, &other).to_owned())),
    };
    if answered.joined {
        companies::set_active(ctx.db, ctx.from.id, Some(answered.invitation.company_id)).await?;
    }
    Ok(accepted(ctx, &answered, &who, done))
}

fn accepted(
    ctx: &UpdateCtx<'_>,
    answered: &Accepted,
    who: &str,
    done: impl FnOnce(String) -> Replies,
) -> Replies {
    let invitation = &answered.invitation;
    let company = escape(&invitation.company_name);
    if !answered.joined {
        return done(ctx.t(
            format!("Ești deja membru al firmei <b>{company}</b>; rolul tău nu s-a schimbat."),
            format!("You are already a member of <b>{company}</b>; your role has not changed."),
        ));
    }
    tracing::info!(
        company.id = invitation.company_id,
        "invitation accepted in the bot"
    );
    let role = invitation.role.name(ctx.lang);
    let text = ctx.t(
        format!(
            "✅ Bine ai venit la <b>{company}</b>! Ai rolul <b>{role}</b>, iar firma este acum cea activă: trimite /sold pentru cifrele ei."
        ),
        format!(
            "✅ Welcome to <b>{company}</b>! You are a member as <b>{role}</b>, and it is now your active company: send /dashboard for its figures."
        ),
    );
    let tell = notices::invitation_answered_message(answered, who, true);
    Replies(done(text).0.into_iter().chain(tell).collect())
}
