//! `/telegram`: the logged-in person's Telegram link. Shows whether (and to
//! whom) it is linked; "Generate code" makes a link code exactly as
//! `POST /api/v1/telegram/link-code` does and shows it with a copy button,
//! the deep link and its QR code; and the Telegram Login Widget links
//! without any code (`/telegram/login-widget`).

use askama::Template;
use http::StatusCode;
use time::OffsetDateTime;

use super::html::{login_first, redirect};
use super::session::widget_state;
use super::{Frame, PageReq, PageResult, Token, WebError, checked_form, render};
use crate::blocks::telegram_auth::{self, Refused, Verified};
use crate::services::linking::{self, NewCode, TelegramIdentity};
use crate::services::telegram_login;

/// A fresh code as the page shows it.
struct CodeCard {
    code: String,
    link: String,
    alt: String,
    datetime: String,
    until: String,
}

#[derive(Template)]
#[template(path = "telegram.html")]
struct TelegramPage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    code: Option<CodeCard>,
    linked: Option<String>,
    csrf: &'a str,
    bot: &'a str,
    widget_url: String,
}

/// `GET /telegram`.
pub async fn page(p: PageReq) -> PageResult {
    show(p, None).await
}

/// The page, with a fresh `code` after "Generate code".
async fn show(p: PageReq, code: Option<NewCode>) -> PageResult {
    let visitor = &p.visitor;
    let Some(session) = &visitor.session else {
        return Ok(login_first("/telegram"));
    };
    let app = p.app();
    let mut conn = app.pool.acquire().await?;
    let linked = linking::linked_account(&mut conn, session.user_id).await?;
    drop(conn);
    let page = TelegramPage {
        frame: Frame::of(visitor),
        title: "Telegram",
        code: code.map(|c| code_card(&p, &c)),
        linked: linked.as_ref().map(telegram_name),
        csrf: &session.csrf,
        bot: &app.config.bot_username,
        widget_url: format!(
            "{}/telegram/login-widget?state={}",
            app.config.public_url,
            widget_state(&app.config, session)
        ),
    };
    render(StatusCode::OK, &page)
}

/// `@username (first name)`, whichever the account has.
fn telegram_name(account: &TelegramIdentity) -> String {
    match (&account.username, &account.first_name) {
        (Some(u), Some(f)) => format!("@{u} ({f})"),
        (Some(u), None) => format!("@{u}"),
        (None, Some(f)) => f.clone(),
        (None, None) => format!("#{}", account.telegram_user_id),
    }
}

fn code_card(p: &PageReq, new: &NewCode) -> CodeCard {
    let code = new.code.to_string();
    // On Romania's clocks: the person reads it against the time on their phone.
    let until = crate::blocks::local_time::clock(new.expires_at);
    let datetime = new
        .expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    CodeCard {
        link: linking::deep_link(&p.app().config, &new.code),
        alt: p.visitor.lang.pick(
            format!("Cod QR: scanează-l cu telefonul ca să deschizi botul cu codul {code}"),
            format!("QR code: scan it with your phone to open the bot with the code {code}"),
        ),
        code,
        datetime,
        until,
    }
}

/// `POST /telegram`: a new link code (replacing the previous unused one), shown on the page.
pub async fn generate(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(login_first("/telegram"));
    };
    checked_form(&mut p, Token::Session, &[]).await?;
    let mut conn = p.app().pool.acquire().await?;
    let new = linking::create_link_code(&mut conn, session.user_id)
        .await?
        .ok_or(WebError::Page(
            StatusCode::UNAUTHORIZED,
            "Contul nu mai există.",
            "The account no longer exists.",
        ))?;
    drop(conn);
    show(p, Some(new)).await
}

const NOT_LOGGED_IN: WebError = WebError::Page(
    StatusCode::UNAUTHORIZED,
    "Intră mai întâi în contul ledgerbot, apoi folosește butonul Telegram de pe pagina Telegram.",
    "Log in to your ledgerbot account first, then use the Telegram button on the Telegram page.",
);

/// `GET /telegram/login-widget?id=...&hash=...&state=...`: Telegram's
/// redirect after the Login Widget. Valid data, used for the first time, a
/// logged-in session and the session's `state` link that Telegram account
/// and go back to `/telegram`. Without `state` nothing is linked: a link
/// someone else made must not tie their Telegram account to this session.
pub async fn widget(p: PageReq) -> PageResult {
    let (app, visitor) = (p.app(), &p.visitor);
    let Some(session) = &visitor.session else {
        return Err(NOT_LOGGED_IN);
    };
    let ours = widget_state(&app.config, session);
    if !visitor
        .param("state")
        .is_some_and(|state| same(state, &ours))
    {
        return Err(WebError::Csrf);
    }
    let verified = check_widget(&p, &visitor.query).await?;
    let who = telegram_login::identity(&verified.user);
    linking::link_and_tell(app, session.user_id, &who, visitor.lang).await?;
    tracing::info!(
        user.id = session.user_id,
        "Telegram account linked by the Login Widget"
    );
    Ok(redirect("/telegram"))
}

fn same(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

/// Checks the Login Widget's data (Telegram's signature, a fresh
/// `auth_date`) and spends it: a payload is accepted once.
///
/// # Errors
/// A 403 page saying what to do.
pub async fn check_widget(p: &PageReq, fields: &[(String, String)]) -> Result<Verified, WebError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let verified = telegram_auth::verify_widget(fields, p.app().config.bot_token.expose(), now)
        .map_err(|refused| {
            tracing::warn!(why = %refused, "Login Widget data refused");
            match refused {
                Refused::Stale | Refused::Future => EXPIRED,
                _ => WebError::Page(
                    StatusCode::FORBIDDEN,
                    "Datele de la Telegram nu sunt valide.",
                    "The data from Telegram is not valid.",
                ),
            }
        })?;
    let mut conn = p.app().pool.acquire().await?;
    if !telegram_login::accept_once(&mut conn, &verified).await? {
        tracing::warn!("Login Widget data replayed");
        return Err(EXPIRED);
    }
    Ok(verified)
}

const EXPIRED: WebError = WebError::Page(
    StatusCode::FORBIDDEN,
    "Autentificarea Telegram a expirat sau a fost deja folosită. Apasă din nou butonul Telegram.",
    "The Telegram login has expired or was already used. Press the Telegram button again.",
);
