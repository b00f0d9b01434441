//! `/link/{code}`: the page the bot's `/link` sends. Logged out, a login form
//! that comes back here; logged in, who on Telegram is asking and a
//! "Confirm" button, which confirms exactly as `POST /api/v1/telegram/confirm`
//! does (and the bot says so in Telegram). Every visit counts as a code
//! attempt of the client (the `code` rate limit).

use http::StatusCode;

use super::account::login_form;
use super::html::{esc, url_param};
use super::session::Ctx;
use super::{Token, WebError, checked_form, render};
use crate::api::limit_client;
use crate::api::telegram_link::{Confirmed, confirm_code};
use crate::app::App;
use crate::http::{HttpResponse, Request};
use crate::link_code::LinkCode;
use crate::linking::{self, Redeemed};

fn code_of(ctx: &Ctx) -> Result<LinkCode, WebError> {
    ctx.path
        .strip_prefix("/link/")
        .and_then(LinkCode::parse)
        .ok_or(WebError::NotFound)
}

fn refused<T>(found: &Redeemed<T>) -> WebError {
    match found {
        Redeemed::Used => WebError::Page(
            StatusCode::GONE,
            "Linkul acesta a fost deja folosit. Trimite /link botului pentru unul nou.",
            "This link was already used. Send /link to the bot for a new one.",
        ),
        Redeemed::Expired => WebError::Page(
            StatusCode::GONE,
            "Linkul acesta a expirat (merge 15 minute). Trimite /link botului pentru unul nou.",
            "This link has expired (it works for 15 minutes). Send /link to the bot for a new one.",
        ),
        Redeemed::Unknown | Redeemed::Valid(_) => WebError::Page(
            StatusCode::NOT_FOUND,
            "Nu cunosc acest link. Verifică-l, sau trimite /link botului pentru unul nou.",
            "I do not know this link. Check it, or send /link to the bot for a new one.",
        ),
    }
}

/// `GET /link/{code}`.
pub async fn page(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    limit_client(app, &req, app.config.rate_limits.code).await?;
    let code = code_of(ctx)?;
    let mut conn = app.pool.acquire().await?;
    let found = linking::confirm_code_asker(&mut conn, &code).await?;
    drop(conn);
    let Redeemed::Valid(who) = found else {
        return Err(refused(&found));
    };
    let t = |ro, en| ctx.lang.pick(ro, en);
    let title = t("Leagă contul Telegram", "Link your Telegram account");
    let Some(session) = &ctx.session else {
        let body = format!(
            "<h1>{title}</h1>\n<p>{explain}</p>\n{form}",
            explain = t(
                "Intră în contul ledgerbot (sau creează unul) ca să legi contul Telegram care ți-a trimis linkul.",
                "Log in to your ledgerbot account (or create one) to link the Telegram account that sent you this link.",
            ),
            form = login_form(ctx, &ctx.path, "", None),
        );
        return Ok(render(ctx, StatusCode::OK, title, &body));
    };
    let name = who.first_name.as_deref().unwrap_or_default();
    let username = who
        .username
        .as_deref()
        .map_or_else(String::new, |u| format!(" (@{})", esc(u)));
    let body = format!(
        "<h1>{title}</h1>\n<form method=\"post\" action=\"{action}\" class=\"card\">\n\
         <p>{asks}</p>\n<p class=\"asker\" id=\"asker\">{name}{username}</p>\n\
         <p>{account} <strong>{display}</strong>.</p>\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <button type=\"submit\" id=\"confirm\">{confirm}</button>\n</form>",
        action = esc(&ctx.path),
        asks = t(
            "Contul Telegram acesta cere să fie legat de contul tău:",
            "This Telegram account asks to be linked to your account:"
        ),
        name = esc(name),
        account = t("Contul tău:", "Your account:"),
        display = esc(&session.display),
        csrf = esc(&session.csrf),
        confirm = t("Confirmă", "Confirm"),
    );
    Ok(render(ctx, StatusCode::OK, title, &body))
}

/// `POST /link/{code}`: confirms, like `POST /api/v1/telegram/confirm`.
pub async fn confirm(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Ok(super::html::redirect(&format!(
            "/login?next={}",
            url_param(&ctx.path)
        )));
    };
    let limited = limit_client(app, &req, app.config.rate_limits.code);
    checked_form(app, ctx, req, Token::Session).await?;
    limited.await?;
    let code = code_of(ctx)?;
    let Confirmed { who, linked } = match confirm_code(app, session.user_id, &code).await? {
        Redeemed::Valid(confirmed) => confirmed,
        failure => return Err(refused(&failure)),
    };
    let t = |ro, en| ctx.lang.pick(ro, en);
    let mut notes = String::new();
    if linked.moved_from_other_person {
        notes.push_str(&format!(
            "<p>{}</p>",
            t(
                "Era legat de alt cont ledgerbot; legătura a fost mutată aici.",
                "It was linked to another ledgerbot account; the link has moved here."
            )
        ));
    }
    if linked.replaced_chat_id.is_some() {
        notes.push_str(&format!(
            "<p>{}</p>",
            t(
                "Contul Telegram legat înainte nu mai este legat.",
                "The Telegram account linked before is no longer linked."
            )
        ));
    }
    let title = t("Gata", "Done");
    let body = format!(
        "<h1>{title}</h1>\n<div class=\"card\"><p class=\"ok\" id=\"linked\">{done} {name}</p>{notes}\n\
         <p>{back}</p><a class=\"btn\" href=\"https://t.me/{bot}\">{open}</a></div>",
        done = t(
            "✓ Contul Telegram este legat:",
            "✓ The Telegram account is linked:"
        ),
        name = esc(&who
            .username
            .map_or_else(|| who.first_name.unwrap_or_default(), |u| format!("@{u}"))),
        back = t(
            "Botul ți-a scris în Telegram. Te poți întoarce acolo.",
            "The bot has written to you in Telegram. You can go back there."
        ),
        bot = esc(&app.config.bot_username),
        open = t("Deschide Telegram", "Open Telegram"),
    );
    Ok(render(ctx, StatusCode::OK, title, &body))
}
