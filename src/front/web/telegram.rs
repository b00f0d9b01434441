//! `/telegram`: the logged-in person's Telegram link. Shows whether (and to
//! whom) it is linked; "Generate code" makes a link code exactly as
//! `POST /api/v1/telegram/link-code` does and shows it with a copy button,
//! the deep link and its QR code; and the Telegram Login Widget links
//! without any code (`/telegram/login-widget`).

use askama::Template;
use http::StatusCode;
use time::OffsetDateTime;

use super::html::{redirect, url_param};
use super::login_widget::{self, Refused};
use super::session::widget_state;
use super::{Frame, PageReq, PageResult, Token, WebError, checked_form, render};
use crate::infra::http_io::HttpResponse;
use crate::services::linking::{self, NewCode, TelegramIdentity};

fn login_first(path: &str) -> HttpResponse {
    redirect(&format!("/login?next={}", url_param(path)))
}

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
    checked_form(&mut p, Token::Session).await?;
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
/// redirect after the Login Widget. Valid data, a logged-in session and the
/// session's `state` link that Telegram account and go back to `/telegram`.
/// Without `state` (should Telegram drop it from the return URL) the person
/// confirms with a button first: a link to someone else's session must not
/// happen just by following a link.
pub async fn widget(p: PageReq) -> PageResult {
    let (app, visitor) = (p.app(), &p.visitor);
    let Some(session) = &visitor.session else {
        return Err(NOT_LOGGED_IN);
    };
    let user = check_widget(&p, &visitor.query)?;
    match visitor.param("state") {
        Some(state) if same(state, &widget_state(&app.config, session)) => {
            link_widget_user(&p, session.user_id, &user).await
        }
        Some(_) => Err(WebError::Csrf),
        None => widget_confirm_page(&p, &user),
    }
}

/// `POST /telegram/login-widget`: the confirmation of [`widget`] without `state`.
pub async fn widget_confirm(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Err(NOT_LOGGED_IN);
    };
    let form = checked_form(&mut p, Token::Session).await?;
    let fields: Vec<(String, String)> = form
        .fields()
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    let user = check_widget(&p, &fields)?;
    link_widget_user(&p, session.user_id, &user).await
}

fn same(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

fn check_widget(
    p: &PageReq,
    fields: &[(String, String)],
) -> Result<login_widget::WidgetUser, WebError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    login_widget::verify(fields, p.app().config.bot_token.expose(), now).map_err(|refused| {
        tracing::warn!(why = %refused, "Login Widget data refused");
        match refused {
            Refused::Stale | Refused::Future => WebError::Page(
                StatusCode::FORBIDDEN,
                "Autentificarea Telegram a expirat. Încearcă din nou de pe pagina Telegram.",
                "The Telegram login has expired. Try again from the Telegram page.",
            ),
            _ => WebError::Page(
                StatusCode::FORBIDDEN,
                "Datele de la Telegram nu sunt valide.",
                "The data from Telegram is not valid.",
            ),
        }
    })
}

#[derive(Template)]
#[template(path = "widget_confirm.html")]
struct WidgetConfirm<'a> {
    frame: Frame<'a>,
    title: &'a str,
    who: String,
    csrf: &'a str,
    fields: &'a [(String, String)],
}

fn widget_confirm_page(p: &PageReq, user: &login_widget::WidgetUser) -> PageResult {
    let visitor = &p.visitor;
    let page = WidgetConfirm {
        frame: Frame::of(visitor),
        title: "Telegram",
        who: telegram_name(&identity(user)),
        csrf: visitor
            .session
            .as_ref()
            .map(|s| s.csrf.as_str())
            .unwrap_or_default(),
        fields: &visitor.query,
    };
    render(StatusCode::OK, &page)
}

fn identity(user: &login_widget::WidgetUser) -> TelegramIdentity {
    TelegramIdentity {
        telegram_user_id: user.id,
        // A private chat's id is the user's id.
        chat_id: user.id,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
    }
}

/// Links the widget's Telegram user to `user_id` (the same path as a code:
/// moves and replacements included, and the chats are told), then back to
/// `/telegram`.
async fn link_widget_user(
    p: &PageReq,
    user_id: i64,
    user: &login_widget::WidgetUser,
) -> PageResult {
    let who = identity(user);
    linking::link_and_tell(p.app(), user_id, &who, p.visitor.lang).await?;
    tracing::info!(
        user.id = user_id,
        "Telegram account linked by the Login Widget"
    );
    Ok(redirect("/telegram"))
}
