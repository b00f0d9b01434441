//! `/forgot-password` and `/password/{token}`: choosing a password without
//! the old one. "Forgot password" sends a one-time link to the person's
//! linked Telegram chat (ledgerbot sends no email) and answers the same
//! whatever the email, so the page tells no one which emails have accounts.
//! The bot's `/password` sends the same kind of link; for a Telegram-only
//! person the page also asks for an email, so they can log in on the web.
//! The tokens: [`password_reset`].

use askama::Template;
use http::StatusCode;

use super::account::start_session;
use super::{Frame, PageReq, PageResult, Token, WebError, checked_form, render};
use crate::front::limit_client;
use crate::infra::telegram::BotMethod;
use crate::services::accounts::email::Email;
use crate::services::accounts::password::{self, PasswordRule};
use crate::services::accounts::password_reset::{self, Set};
use crate::services::linking::Redeemed;

#[derive(Template)]
#[template(path = "forgot.html")]
struct Forgot<'a> {
    frame: Frame<'a>,
    title: &'a str,
    csrf: &'a str,
    sent: bool,
}

fn forgot_title(p: &PageReq) -> &'static str {
    p.visitor
        .lang
        .pick("Ai uitat parola?", "Forgot your password?")
}

/// `GET /forgot-password`: the email form.
pub async fn forgot_page(p: PageReq) -> PageResult {
    let page = Forgot {
        frame: Frame::of(&p.visitor),
        title: forgot_title(&p),
        csrf: p.visitor.pre_csrf(),
        sent: false,
    };
    render(StatusCode::OK, &page)
}

/// `POST /forgot-password`: when the email's account has a linked Telegram
/// account, a one-time link goes to that chat; the answer is the same
/// either way. Counted in the `register` limit (it sends messages).
pub async fn forgot(mut p: PageReq) -> PageResult {
    let limited = limit_client(&p.req, p.app().config.rate_limits.register);
    let form = checked_form(&mut p, Token::PreSession, &["email"]).await?;
    limited.await?;
    let app = p.app();
    // The link and its message commit together.
    let mut tx = app.pool.begin().await?;
    let email = form.get("email").unwrap_or_default();
    if let Some((user_id, chat_id, lang)) =
        password_reset::telegram_of_email(&mut tx, email).await?
    {
        let new = password_reset::create(&mut tx, user_id).await?;
        let url = format!("{}/password/{}", app.config.public_url, new.token);
        let text = lang.pick(
            format!(
                "Cineva (sperăm că tu) a cerut o parolă nouă pentru contul tău ledgerbot. \
                 Alege-o aici:\n<a href=\"{url}\">{url}</a>\n\
                 Linkul merge o singură dată, 15 minute. Dacă nu ai cerut tu, nu face nimic."
            ),
            format!(
                "Someone (we hope you) asked for a new password for your ledgerbot account. \
                 Choose it here:\n<a href=\"{url}\">{url}</a>\n\
                 The link works once, for 15 minutes. If it was not you, do nothing."
            ),
        );
        crate::infra::outbox::enqueue(&mut tx, &[BotMethod::html(chat_id, text)]).await?;
        tx.commit().await?;
        app.outbox.wake();
        tracing::info!(user.id = user_id, "password link sent to Telegram");
    }
    let page = Forgot {
        frame: Frame::of(&p.visitor),
        title: forgot_title(&p),
        csrf: p.visitor.pre_csrf(),
        sent: true,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "password.html")]
struct Choose<'a> {
    frame: Frame<'a>,
    title: &'a str,
    action: &'a str,
    csrf: &'a str,
    ask_email: bool,
    email: &'a str,
    error: Option<&'a str>,
}

fn refused<T>(found: &Redeemed<T>) -> WebError {
    match found {
        Redeemed::Used | Redeemed::Expired => WebError::Page(
            StatusCode::GONE,
            "Linkul acesta a fost deja folosit sau a expirat (merge 15 minute). Cere unul nou.",
            "This link was already used or has expired (it works for 15 minutes). Ask for a new one.",
        ),
        Redeemed::Unknown | Redeemed::Valid(_) => WebError::Page(
            StatusCode::NOT_FOUND,
            "Nu cunosc acest link. Cere unul nou: „Ai uitat parola?” pe pagina de intrare, sau /parola în bot.",
            "I do not know this link. Ask for a new one: “Forgot your password?” on the login page, or /password in the bot.",
        ),
    }
}

/// The token in the path: the random token's shape, else 404.
fn token_of(p: &PageReq) -> Result<String, WebError> {
    let token: String = p.req.param("token")?;
    let ok = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(token)
    } else {
        Err(WebError::NotFound)
    }
}

fn choose(
    p: &PageReq,
    ask_email: bool,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let visitor = &p.visitor;
    let page = Choose {
        frame: Frame::of(visitor),
        title: visitor.lang.pick("Alege parola", "Choose your password"),
        action: &visitor.path,
        csrf: visitor.pre_csrf(),
        ask_email,
        email,
        error,
    };
    render(status, &page)
}

/// `GET /password/{token}`: the form (with an email field when the account
/// has no email yet).
pub async fn set_page(p: PageReq) -> PageResult {
    limit_client(&p.req, p.app().config.rate_limits.code).await?;
    let token = token_of(&p)?;
    let mut conn = p.app().pool.acquire().await?;
    let found = password_reset::holder(&mut conn, &token).await?;
    drop(conn);
    let Redeemed::Valid((_, email)) = found else {
        return Err(refused(&found));
    };
    choose(&p, email.is_none(), "", StatusCode::OK, None)
}

/// `POST /password/{token}`: sets the password (and the email), ends the
/// person's other sessions, logs this browser in, and goes to `/telegram`.
pub async fn set(mut p: PageReq) -> PageResult {
    let limited = limit_client(&p.req, p.app().config.rate_limits.code);
    let form = checked_form(&mut p, Token::PreSession, &["email", "password"]).await?;
    limited.await?;
    let token = token_of(&p)?;
    let app = p.app();
    let mut conn = app.pool.acquire().await?;
    let found = password_reset::holder(&mut conn, &token).await?;
    drop(conn);
    let Redeemed::Valid((_, existing)) = found else {
        return Err(refused(&found));
    };
    let ask_email = existing.is_none();
    let typed = form.get("email").unwrap_or_default();
    let t = |ro, en| p.visitor.lang.pick(ro, en);
    let again = |message, status| choose(&p, ask_email, typed, status, Some(message));
    let email = match (ask_email, Email::parse(typed)) {
        (false, _) => None,
        (true, Some(email)) => Some(email),
        (true, None) => {
            let message = t(
                "Adresa de email nu este validă.",
                "The email address is not valid.",
            );
            return again(message, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let new_password = form.get("password").unwrap_or_default().to_owned();
    if let Err(rule) = password::check(&new_password) {
        let message = match rule {
            PasswordRule::TooShort => t(
                "Parola trebuie să aibă cel puțin 8 caractere.",
                "The password must have at least 8 characters.",
            ),
            PasswordRule::TooLong => t(
                "Parola poate avea cel mult 1024 de caractere.",
                "The password can have at most 1024 characters.",
            ),
        };
        return again(message, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let hash = password::hash(&app.hashing, new_password)
        .await
        .map_err(crate::services::Failure::from)?;
    let mut tx = app.pool.begin().await?;
    match password_reset::set(&mut tx, &token, email.as_ref(), &hash).await? {
        Set::Done(user_id) => {
            tx.commit().await?;
            tracing::info!(user.id = user_id, "password chosen with a one-time link");
            start_session(&p, user_id, "/telegram").await
        }
        Set::EmailTaken => {
            drop(tx);
            let message = t(
                "Există deja un cont cu acest email. Alege alt email.",
                "An account with this email already exists. Choose another email.",
            );
            again(message, StatusCode::CONFLICT)
        }
        Set::Unusable => Err(refused(&Redeemed::<()>::Used)),
    }
}
