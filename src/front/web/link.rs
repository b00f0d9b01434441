//! `/link/{code}`: the page the bot's `/link` sends. Logged out, a login form
//! that comes back here; logged in, who on Telegram is asking and a
//! "Confirm" button, which confirms exactly as `POST /api/v1/telegram/confirm`
//! does ([`linking::confirm`]: the bot says so in Telegram). Every visit
//! counts as a code attempt of the client (the `code` rate limit).

use askama::Template;
use http::StatusCode;

use super::account::{LoginForm, LoginPage};
use super::html::{redirect, url_param};
use super::{Frame, PageReq, PageResult, Token, WebError, checked_form, render};
use crate::blocks::link_code::LinkCode;
use crate::front::limit_client;
use crate::services::linking::{self, Confirmed, Redeemed};

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

fn title(p: &PageReq) -> &'static str {
    p.visitor
        .lang
        .pick("Leagă contul Telegram", "Link your Telegram account")
}

#[derive(Template)]
#[template(path = "link_ask.html")]
struct Ask<'a> {
    frame: Frame<'a>,
    title: &'a str,
    action: &'a str,
    name: &'a str,
    username: Option<&'a str>,
    display: &'a str,
    csrf: &'a str,
}

/// `GET /link/{code}`.
pub async fn page(p: PageReq) -> PageResult {
    limit_client(&p.req, p.app().config.rate_limits.code).await?;
    let code: LinkCode = p.req.param("code")?;
    let mut conn = p.req.app.pool.acquire().await?;
    let found = linking::confirm_code_asker(&mut conn, &code).await?;
    drop(conn);
    let Redeemed::Valid(who) = found else {
        return Err(refused(&found));
    };
    let visitor = &p.visitor;
    let Some(session) = &visitor.session else {
        let page = LoginPage {
            frame: Frame::of(visitor),
            title: title(&p),
            intro: Some(visitor.lang.pick(
                "Intră în contul ledgerbot (sau creează unul) ca să legi contul Telegram care ți-a trimis linkul.",
                "Log in to your ledgerbot account (or create one) to link the Telegram account that sent you this link.",
            )),
            form: LoginForm::new(visitor, &visitor.path, "", None),
        };
        return render(StatusCode::OK, &page);
    };
    let page = Ask {
        frame: Frame::of(visitor),
        title: title(&p),
        action: &visitor.path,
        name: who.first_name.as_deref().unwrap_or_default(),
        username: who.username.as_deref(),
        display: &session.display,
        csrf: &session.csrf,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "link_done.html")]
struct Done<'a> {
    frame: Frame<'a>,
    title: &'a str,
    name: String,
    moved: bool,
    replaced: bool,
    bot: &'a str,
}

/// `POST /link/{code}`: confirms, like `POST /api/v1/telegram/confirm`.
pub async fn confirm(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(redirect(&format!(
            "/login?next={}",
            url_param(&visitor.path)
        )));
    };
    let limited = limit_client(&p.req, p.app().config.rate_limits.code);
    checked_form(&mut p, Token::Session).await?;
    limited.await?;
    let code: LinkCode = p.req.param("code")?;
    let Confirmed { who, linked } = match linking::confirm(p.app(), session.user_id, &code).await? {
        Redeemed::Valid(confirmed) => confirmed,
        failure => return Err(refused(&failure)),
    };
    let page = Done {
        frame: Frame::of(&visitor),
        title: visitor.lang.pick("Gata", "Done"),
        name: who
            .username
            .map_or_else(|| who.first_name.unwrap_or_default(), |u| format!("@{u}")),
        moved: linked.moved_from_other_person,
        replaced: linked.replaced_chat_id.is_some(),
        bot: &p.req.app.config.bot_username,
    };
    render(StatusCode::OK, &page)
}
