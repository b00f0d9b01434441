//! `/link/{code}`: the page the bot's `/link` sends. Logged out, a login form
//! that comes back here; logged in, who on Telegram is asking (name,
//! `@username` and the numeric Telegram id), a warning, and a form that
//! confirms with the account's password, exactly as
//! `POST /api/v1/telegram/confirm` does ([`linking::confirm`]: the bot says
//! so in Telegram). The password is asked again because a link someone else
//! sent must not, with one click of a logged-in person, tie the sender's
//! Telegram account (and with it every company's figures) to the person's
//! account; the form also expires 5 minutes after it was shown
//! ([`session::PAGE_TTL`]). Every visit counts as a code attempt of the
//! client (the `code` rate limit), every password as a login attempt.

use askama::Template;
use http::StatusCode;
use time::OffsetDateTime;

use super::account::{LoginForm, LoginPage};
use super::html::{redirect, url_param};
use super::session::{self, Session};
use super::{
    Frame, PageReq, PageResult, Token, WebError, checked_form, locked_out_text, render, too_many,
};
use crate::blocks::link_code::LinkCode;
use crate::front::limit_client;
use crate::services::accounts::account::{self, PasswordCheck};
use crate::services::linking::{self, Confirmed, Redeemed, TelegramIdentity};

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

const PAGE_EXPIRED: WebError = WebError::Page(
    StatusCode::GONE,
    "Pagina aceasta a expirat (merge 5 minute). Reîncarcă pagina și confirmă din nou.",
    "This page has expired (it works for 5 minutes). Reload it and confirm again.",
);

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
    telegram_id: i64,
    display: &'a str,
    has_password: bool,
    error: Option<&'a str>,
    csrf: &'a str,
    shown: String,
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
            widget: None,
        };
        return render(StatusCode::OK, &page);
    };
    ask(&p, session, &who, StatusCode::OK, None).await
}

/// The question: who asks, the warning, and the password form.
async fn ask(
    p: &PageReq,
    session: &Session,
    who: &TelegramIdentity,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let visitor = &p.visitor;
    let mut conn = p.app().pool.acquire().await?;
    let has_password = account::has_password(&mut conn, session.user_id).await?;
    drop(conn);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let page = Ask {
        frame: Frame::of(visitor),
        title: title(p),
        action: &visitor.path,
        name: who.first_name.as_deref().unwrap_or_default(),
        username: who.username.as_deref(),
        telegram_id: who.telegram_user_id,
        display: &session.display,
        has_password,
        error,
        csrf: &session.csrf,
        shown: session::page_stamp(&p.app().config, session, &visitor.path, now),
    };
    render(status, &page)
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

/// `POST /link/{code}`: with the account's password and a page shown in the
/// last 5 minutes, confirms like `POST /api/v1/telegram/confirm`.
pub async fn confirm(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(redirect(&format!(
            "/login?next={}",
            url_param(&visitor.path)
        )));
    };
    let limits = p.app().config.rate_limits;
    limit_client(&p.req, limits.code).await?;
    let form = checked_form(&mut p, Token::Session, &["password", "shown"]).await?;
    let code: LinkCode = p.req.param("code")?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let shown = form.get("shown").unwrap_or_default();
    if !session::page_stamp_is_fresh(&p.app().config, session, &visitor.path, shown, now) {
        return Err(PAGE_EXPIRED);
    }
    limit_client(&p.req, limits.login).await?;
    let password = form.get("password").unwrap_or_default().to_owned();
    let app = p.app();
    let checked = account::check_password(
        &app.pool,
        &app.hashing,
        limits.login_failures,
        session.user_id,
        password,
    )
    .await?;
    match checked {
        PasswordCheck::Right => {}
        PasswordCheck::Wrong | PasswordCheck::LockedOut(_) => {
            let mut conn = p.app().pool.acquire().await?;
            let found = linking::confirm_code_asker(&mut conn, &code).await?;
            drop(conn);
            let Redeemed::Valid(who) = found else {
                return Err(refused(&found));
            };
            return match checked {
                PasswordCheck::LockedOut(wait) => {
                    let why = locked_out_text(visitor.lang, wait);
                    too_many(
                        ask(&p, session, &who, StatusCode::OK, Some(&why)).await,
                        wait,
                    )
                }
                _ => {
                    let wrong = visitor.lang.pick("Parolă greșită.", "Wrong password.");
                    ask(&p, session, &who, StatusCode::UNAUTHORIZED, Some(wrong)).await
                }
            };
        }
        PasswordCheck::NotSet => return Err(NO_PASSWORD),
    }
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

const NO_PASSWORD: WebError = WebError::Page(
    StatusCode::FORBIDDEN,
    "Contul tău nu are încă o parolă. Trimite /parola botului din contul Telegram legat acum, alege o parolă, apoi deschide din nou linkul.",
    "Your account has no password yet. Send /password to the bot from the Telegram account linked now, choose a password, then open the link again.",
);
