//! `/login`, `/register` and `/logout`: the same accounts, password rules and
//! per-IP limits as the JSON API ([`crate::services::accounts::account`]),
//! with a session cookie instead of tokens.

use askama::Template;
use http::StatusCode;

use super::html::{local_path, redirect, url_param};
use super::session::{self, SESSION_COOKIE, SESSION_TTL, Visitor, add_cookie};
use super::{
    Form, Frame, PageReq, PageResult, Token, WebError, checked_form, locked_out_text, render,
    too_many,
};
use crate::front::limit_client;
use crate::infra::config::Config;
use crate::services::accounts::account::{self, Invalid, LoginCheck, NewAccount};
use crate::services::accounts::password::PasswordRule;
use crate::services::telegram_login;

/// Where to go after logging in: `next` when it is a path of ours.
fn next_of<'a>(visitor: &'a Visitor, form: Option<&'a Form>) -> &'a str {
    form.and_then(|f| f.get("next"))
        .or_else(|| visitor.param("next"))
        .and_then(local_path)
        .unwrap_or("/telegram")
}

/// The login form (`templates/login_form.html`), returning to `next`;
/// `email` refilled, `error` shown.
pub struct LoginForm<'a> {
    /// The pre-session CSRF token.
    pub csrf: &'a str,
    /// Where to go after logging in.
    pub next: &'a str,
    /// `next`, percent-encoded for the register link.
    pub next_param: String,
    /// The email to refill.
    pub email: &'a str,
    /// What was wrong, if anything.
    pub error: Option<&'a str>,
}

impl<'a> LoginForm<'a> {
    /// The form for `visitor`.
    pub fn new(
        visitor: &'a Visitor,
        next: &'a str,
        email: &'a str,
        error: Option<&'a str>,
    ) -> Self {
        Self {
            csrf: visitor.pre_csrf(),
            next,
            next_param: url_param(next),
            email,
            error,
        }
    }
}

/// A page with the login form: `/login`, and `/link/{code}` logged out
/// (with a word on why).
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The layout's.
    pub frame: Frame<'a>,
    /// The page's title.
    pub title: &'a str,
    /// A paragraph before the form, if any.
    pub intro: Option<&'a str>,
    /// The form.
    pub form: LoginForm<'a>,
    /// The Telegram Login Widget, on `/login` itself.
    pub widget: Option<Widget>,
}

/// The Telegram Login Widget of the login page.
pub struct Widget {
    /// `TELEGRAM_BOT_USERNAME`.
    pub bot: String,
    /// Where Telegram sends the browser back: `/login/telegram?state=...`.
    pub url: String,
}

/// `GET /login`; a logged-in visitor goes on to `next`.
pub async fn login_page(p: PageReq) -> PageResult {
    let next = next_of(&p.visitor, None);
    if p.visitor.session.is_some() {
        return Ok(redirect(next));
    }
    login_answer(&p.visitor, &p.app().config, StatusCode::OK, next, "", None)
}

fn login_answer(
    visitor: &Visitor,
    config: &Config,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> PageResult {
    let page = LoginPage {
        frame: Frame::of(visitor),
        title: visitor.lang.pick("Intră în cont", "Log in"),
        intro: None,
        form: LoginForm::new(visitor, next, email, error),
        widget: Some(Widget {
            bot: config.bot_username.clone(),
            url: format!(
                "{}/login/telegram?state={}",
                config.public_url,
                visitor.login_widget_state(config)
            ),
        }),
    };
    render(status, &page)
}

/// `GET /login/telegram?id=...&hash=...&state=...`: Telegram's redirect
/// after the Login Widget of `/login`. `state` must be this browser's (bound
/// to its pre-session token, so a link someone else made cannot log this
/// browser into their account); the data must pass Telegram's check and be
/// used for the first time. The linked person gets a session; a Telegram
/// account linked to no one gets a 404 page saying how to link it.
pub async fn telegram_login(p: PageReq) -> PageResult {
    let (app, visitor) = (p.app(), &p.visitor);
    limit_client(&p.req, app.config.rate_limits.login).await?;
    let sent = visitor.param("state").unwrap_or_default();
    if !visitor.login_widget_state_ok(&app.config, sent) {
        return Err(WebError::Csrf);
    }
    let verified = super::telegram::check_widget(&p, &visitor.query).await?;
    let mut conn = app.pool.acquire().await?;
    let linked = telegram_login::account_of(&mut conn, verified.user.id).await?;
    drop(conn);
    let Some(user_id) = linked else {
        return Err(WebError::Page(
            StatusCode::NOT_FOUND,
            "Contul acesta Telegram nu este legat de niciun cont ledgerbot. Intră cu emailul și parola și leagă-l din pagina Telegram, sau trimite /register botului.",
            "This Telegram account is not linked to any ledgerbot account. Log in with your email and password and link it on the Telegram page, or send /register to the bot.",
        ));
    };
    tracing::info!(user.id = user_id, "logged in with the Login Widget");
    start_session(&p, user_id, "/telegram").await
}

/// `POST /login`: a session and on to `next`, or the form again with
/// "wrong email or password" (401) and no cookie, or, while the email is
/// locked out by wrong passwords (from any address), the form with for how
/// long (429, `Retry-After`).
pub async fn login(mut p: PageReq) -> PageResult {
    // Counted first: a form that fails its CSRF check is an attempt too.
    limit_client(&p.req, p.app().config.rate_limits.login).await?;
    let form = checked_form(&mut p, Token::PreSession, &["email", "password", "next"]).await?;
    let visitor = &p.visitor;
    let email = form.get("email").unwrap_or_default();
    let password = form.get("password").unwrap_or_default().to_owned();
    let next = next_of(visitor, Some(&form));
    let app = p.app();
    let checked = account::check_login(
        &app.pool,
        &app.hashing,
        app.config.rate_limits.login_failures,
        email,
        password,
    )
    .await?;
    let t = |ro, en| visitor.lang.pick(ro, en);
    match checked {
        LoginCheck::Right(user_id) => start_session(&p, user_id, next).await,
        LoginCheck::Wrong => login_answer(
            visitor,
            &app.config,
            StatusCode::UNAUTHORIZED,
            next,
            email,
            Some(t("Email sau parolă greșită.", "Wrong email or password.")),
        ),
        LoginCheck::LockedOut(wait) => {
            let why = format!(
                "{} {}",
                locked_out_text(visitor.lang, wait),
                t(
                    "Între timp poți intra cu Telegram, mai jos, sau poți cere un link pentru o parolă nouă.",
                    "Meanwhile you can log in with Telegram, below, or ask for a link to choose a new password.",
                )
            );
            let page = login_answer(
                visitor,
                &app.config,
                StatusCode::OK,
                next,
                email,
                Some(&why),
            );
            too_many(page, wait)
        }
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    csrf: &'a str,
    next: &'a str,
    next_param: String,
    email: &'a str,
    first_name: &'a str,
    error: Option<&'a str>,
}

/// `GET /register`.
pub async fn register_page(p: PageReq) -> PageResult {
    let next = next_of(&p.visitor, None);
    if p.visitor.session.is_some() {
        return Ok(redirect(next));
    }
    register_answer(&p.visitor, StatusCode::OK, next, ("", ""), None)
}

fn register_answer(
    visitor: &Visitor,
    status: StatusCode,
    next: &str,
    (email, first_name): (&str, &str),
    error: Option<&str>,
) -> PageResult {
    let page = RegisterPage {
        frame: Frame::of(visitor),
        title: visitor.lang.pick("Cont nou", "Create an account"),
        csrf: visitor.pre_csrf(),
        next,
        next_param: url_param(next),
        email,
        first_name,
        error,
    };
    render(status, &page)
}

/// `POST /register`: the account, a session, and on to `next`; or the form
/// again with what is wrong (422) or "email taken" (409).
pub async fn register(mut p: PageReq) -> PageResult {
    // Counted first: a form that fails its CSRF check is an attempt too.
    limit_client(&p.req, p.app().config.rate_limits.register).await?;
    let fields = ["email", "password", "first_name", "next"];
    let form = checked_form(&mut p, Token::PreSession, &fields).await?;
    let visitor = &p.visitor;
    let email = form.get("email").unwrap_or_default();
    let first_name = form.get("first_name").unwrap_or_default();
    let next = next_of(visitor, Some(&form));
    let password = form.get("password").unwrap_or_default().to_owned();
    let refill = (email, first_name);
    let t = |ro, en| visitor.lang.pick(ro, en);
    let new = match NewAccount::parse(email, password, Some(first_name)) {
        Ok(new) => new.hash(&p.req.app.hashing).await?,
        Err(invalid) => {
            let message = match invalid {
                Invalid::Email => t(
                    "Adresa de email nu este validă.",
                    "The email address is not valid.",
                ),
                Invalid::Password(PasswordRule::TooShort) => t(
                    "Parola trebuie să aibă cel puțin 8 caractere.",
                    "The password must have at least 8 characters.",
                ),
                Invalid::Password(PasswordRule::TooLong) => t(
                    "Parola poate avea cel mult 1024 de caractere.",
                    "The password can have at most 1024 characters.",
                ),
                Invalid::FirstName => t(
                    "Prenumele poate avea cel mult 100 de caractere.",
                    "The first name can have at most 100 characters.",
                ),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return register_answer(visitor, status, next, refill, Some(message));
        }
    };
    let mut conn = p.req.app.pool.acquire().await?;
    let Some(user_id) = new.insert(&mut conn).await? else {
        let message = t(
            "Există deja un cont cu acest email. Intră în cont.",
            "An account with this email already exists. Log in instead.",
        );
        return register_answer(visitor, StatusCode::CONFLICT, next, refill, Some(message));
    };
    drop(conn);
    tracing::info!(user.id = user_id, "account registered on the web");
    start_session(&p, user_id, next).await
}

/// A new session for `user_id`: its cookie, and a redirect to `next`.
pub async fn start_session(p: &PageReq, user_id: i64, next: &str) -> PageResult {
    let mut conn = p.req.app.pool.acquire().await?;
    let id = session::create(&mut conn, user_id).await?;
    let mut response = redirect(next);
    add_cookie(
        &mut response,
        &p.visitor
            .cookie(SESSION_COOKIE, &id, Some(SESSION_TTL.as_secs())),
    );
    Ok(response)
}

/// `POST /logout`: the session is deleted and its cookie cleared.
pub async fn logout(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(redirect("/"));
    };
    checked_form(&mut p, Token::Session, &[]).await?;
    let mut conn = p.req.app.pool.acquire().await?;
    session::delete(&mut conn, session).await?;
    let mut response = redirect("/");
    add_cookie(&mut response, &visitor.cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}
