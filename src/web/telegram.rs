//! `/telegram`: the logged-in person's Telegram link. Shows whether (and to
//! whom) it is linked; "Generate code" makes a link code exactly as
//! `POST /api/v1/telegram/link-code` does and shows it with a copy button,
//! the deep link and its QR code; and the Telegram Login Widget links
//! without any code (`/telegram/login-widget`).

use http::StatusCode;
use time::OffsetDateTime;

use super::html::{esc, redirect, url_param};
use super::login_widget::{self, Refused};
use super::session::{Ctx, widget_state};
use super::{Token, WebError, checked_form, render};
use crate::api::telegram_link::{deep_link, notify_linked};
use crate::app::App;
use crate::http::{HttpResponse, Request};
use crate::linking::{self, NewCode, TelegramIdentity};

fn login_first(path: &str) -> HttpResponse {
    redirect(&format!("/login?next={}", url_param(path)))
}

/// `GET /telegram` (and the answer to "Generate code", with the `code`).
pub async fn page(app: &App, ctx: &Ctx, code: Option<NewCode>) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Ok(login_first("/telegram"));
    };
    let t = |ro, en| ctx.lang.pick(ro, en);
    let mut conn = app.pool.acquire().await?;
    let linked = linking::linked_account(&mut conn, session.user_id).await?;
    drop(conn);
    let status = match &linked {
        Some(account) => format!(
            "<p class=\"ok\" id=\"status\" data-linked=\"true\">{} {}</p>",
            t(
                "✓ Contul tău Telegram este legat:",
                "✓ Your Telegram account is linked:"
            ),
            esc(&telegram_name(account)),
        ),
        None => format!(
            "<p id=\"status\" data-linked=\"false\">{}</p>",
            t(
                "Contul tău Telegram nu este legat încă.",
                "Your Telegram account is not linked yet."
            ),
        ),
    };
    let code_html = code.map_or_else(String::new, |c| code_card(app, ctx, &c));
    let widget_url = format!(
        "{}/telegram/login-widget?state={}",
        app.config.public_url,
        widget_state(&app.config, session)
    );
    let body = format!(
        "<h1>Telegram</h1>\n{code_html}\n<div class=\"card\">{status}\n<p>{explain}</p>\n\
         <form method=\"post\" action=\"/telegram\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" id=\"generate\">{generate}</button></form></div>\n\
         <div class=\"card\"><h2>{widget_title}</h2><p>{widget_explain}</p>\n\
         <script nonce=\"{nonce}\" async src=\"https://telegram.org/js/telegram-widget.js?22\" \
         data-telegram-login=\"{bot}\" data-size=\"large\" data-auth-url=\"{widget_url}\" \
         data-request-access=\"write\"></script></div>",
        explain = t(
            "Generează un cod și trimite-l botului: deschide linkul pe telefon, scanează codul QR \
             sau scrie codul în chat. Un cod nou îl înlocuiește pe cel vechi.",
            "Generate a code and send it to the bot: open the link on your phone, scan the QR code \
             or type the code in the chat. A new code replaces the previous one.",
        ),
        csrf = esc(&session.csrf),
        generate = t("Generează un cod", "Generate a code"),
        widget_title = t("Sau: cu Telegram, fără cod", "Or: with Telegram, no code"),
        widget_explain = t(
            "Intră cu Telegram și contul tău Telegram se leagă direct.",
            "Log in with Telegram and your Telegram account is linked right away.",
        ),
        nonce = esc(&ctx.nonce),
        bot = esc(&app.config.bot_username),
        widget_url = esc(&widget_url),
    );
    Ok(render(ctx, StatusCode::OK, "Telegram", &body))
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

fn code_card(app: &App, ctx: &Ctx, new: &NewCode) -> String {
    let t = |ro, en| ctx.lang.pick(ro, en);
    let code = new.code.to_string();
    let link = deep_link(&app.config, &new.code);
    let until = new
        .expires_at
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[hour]:[minute]"))
        .unwrap_or_default();
    let datetime = new
        .expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!(
        "<div class=\"card\" id=\"code-card\"><h2>{title}</h2>\n\
         <p class=\"code\" id=\"code\">{code}</p>\n\
         <button type=\"button\" class=\"alt\" id=\"copy\" data-code=\"{code}\" data-done=\"{copied}\">{copy}</button>\
         <a class=\"btn\" id=\"deep-link\" href=\"{link}\">{open}</a>\n\
         <img class=\"qr\" id=\"qr\" src=\"/qr/{code}.svg\" width=\"240\" height=\"240\" alt=\"{alt}\">\n\
         <p class=\"muted\">{valid} <time datetime=\"{datetime}\">{until} UTC</time>. {once}</p>\n\
         <script nonce=\"{nonce}\">\
         document.getElementById('copy').addEventListener('click',function(e){{\
         var b=e.currentTarget;navigator.clipboard.writeText(b.dataset.code).then(function(){{b.textContent=b.dataset.done}},\
         function(){{var r=document.createRange();r.selectNodeContents(document.getElementById('code'));\
         var s=getSelection();s.removeAllRanges();s.addRange(r)}})}});</script></div>",
        title = t("Codul tău", "Your code"),
        code = esc(&code),
        link = esc(&link),
        copy = t("Copiază codul", "Copy the code"),
        copied = t("Copiat ✓", "Copied ✓"),
        open = t("Deschide în Telegram", "Open in Telegram"),
        alt = esc(&ctx.lang.pick(
            format!("Cod QR: scanează-l cu telefonul ca să deschizi botul cu codul {code}"),
            format!("QR code: scan it with your phone to open the bot with the code {code}"),
        )),
        valid = t("Valabil 15 minute, până la", "Valid for 15 minutes, until"),
        datetime = esc(&datetime),
        until = esc(&until),
        once = t("Merge o singură dată.", "It works once."),
        nonce = esc(&ctx.nonce),
    )
}

/// `POST /telegram`: a new link code (replacing the previous unused one), shown on the page.
pub async fn generate(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Ok(login_first("/telegram"));
    };
    checked_form(app, ctx, req, Token::Session).await?;
    let mut conn = app.pool.acquire().await?;
    let new = linking::create_link_code(&mut conn, session.user_id)
        .await?
        .ok_or(WebError::Page(
            StatusCode::UNAUTHORIZED,
            "Contul nu mai există.",
            "The account no longer exists.",
        ))?;
    drop(conn);
    page(app, ctx, Some(new)).await
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
pub async fn widget(app: &App, ctx: &Ctx) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Err(NOT_LOGGED_IN);
    };
    let user = check_widget(app, &ctx.query)?;
    match ctx.param("state") {
        Some(state) if same(state, &widget_state(&app.config, session)) => {
            link_widget_user(app, ctx, session.user_id, &user).await
        }
        Some(_) => Err(WebError::Csrf),
        None => Ok(widget_confirm_page(ctx, &user)),
    }
}

/// `POST /telegram/login-widget`: the confirmation of [`widget`] without `state`.
pub async fn widget_confirm(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Err(NOT_LOGGED_IN);
    };
    let form = checked_form(app, ctx, req, Token::Session).await?;
    let fields: Vec<(String, String)> = form
        .fields()
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    let user = check_widget(app, &fields)?;
    link_widget_user(app, ctx, session.user_id, &user).await
}

fn same(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

fn check_widget(
    app: &App,
    fields: &[(String, String)],
) -> Result<login_widget::WidgetUser, WebError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    login_widget::verify(fields, app.config.bot_token.expose(), now).map_err(|refused| {
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

fn widget_confirm_page(ctx: &Ctx, user: &login_widget::WidgetUser) -> HttpResponse {
    let t = |ro, en| ctx.lang.pick(ro, en);
    let csrf = ctx
        .session
        .as_ref()
        .map(|s| s.csrf.as_str())
        .unwrap_or_default();
    let hidden: String = ctx
        .query
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let who = telegram_name(&identity(user));
    let body = format!(
        "<h1>Telegram</h1>\n<form method=\"post\" action=\"/telegram/login-widget\" class=\"card\">\
         <p>{ask} <strong>{who}</strong>?</p>\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{hidden}\
         <button type=\"submit\">{confirm}</button></form>",
        ask = t(
            "Legi de contul tău contul Telegram",
            "Link to your account the Telegram account"
        ),
        who = esc(&who),
        csrf = esc(csrf),
        confirm = t("Confirmă", "Confirm"),
    );
    render(ctx, StatusCode::OK, "Telegram", &body)
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
    app: &App,
    ctx: &Ctx,
    user_id: i64,
    user: &login_widget::WidgetUser,
) -> Result<HttpResponse, WebError> {
    let who = identity(user);
    let mut tx = app.pool.begin().await?;
    let linked = linking::link(&mut tx, user_id, &who).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = user_id,
        "Telegram account linked by the Login Widget"
    );
    notify_linked(app, &who, ctx.lang, &linked);
    Ok(redirect("/telegram"))
}
