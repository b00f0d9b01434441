//! What browsers fetch outside the JSON API: the web pages and the QR images
//! of link codes.
//!
//! Pages are plain server-rendered HTML in Romanian and English ([`html`]:
//! escaping and layout; [`session`]: cookies, sessions, language, CSRF):
//!
//! | page | what |
//! | --- | --- |
//! | `GET /` | what ledgerbot is; log in, register |
//! | `GET`/`POST /login`, `/register`, `POST /logout` | [`account`] |
//! | `GET`/`POST /telegram`, `/telegram/login-widget` | [`telegram`]: link codes, the Login Widget |
//! | `GET`/`POST /link/{code}` | [`link`]: confirm the bot's `/link` |

mod account;
pub mod html;
mod link;
pub mod login_widget;
pub mod qr;
pub mod session;
mod telegram;

use std::time::Duration;

use http::header::{HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};

use crate::app::App;
use crate::bot::Lang;
use crate::http::{ApiError, HttpResponse, MAX_BODY_BYTES, ReqBody, Request, read_body};
use html::{Frame, esc, layout};
use session::Ctx;

/// Whether `path` is one of the pages.
pub fn is_page(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login" | "/register" | "/logout" | "/telegram" | "/telegram/login-widget"
    ) || path.starts_with("/link/")
}

/// Answers a page request.
pub async fn route(app: &App, req: Request) -> HttpResponse {
    let ctx = match Ctx::read(app, req.uri(), req.headers()).await {
        Ok(ctx) => ctx,
        Err(e) => {
            // No context to render in: the JSON error, logged once there.
            return ApiError::from(e).into_response();
        }
    };
    let method = req.method().clone();
    let path = ctx.path.clone();
    let result = match (method, path.as_str()) {
        (Method::GET, "/") => Ok(home(&ctx)),
        (Method::GET, "/login") => account::login_page(&ctx),
        (Method::POST, "/login") => account::login(app, &ctx, req).await,
        (Method::GET, "/register") => account::register_page(&ctx),
        (Method::POST, "/register") => account::register(app, &ctx, req).await,
        (Method::POST, "/logout") => account::logout(app, &ctx, req).await,
        (Method::GET, "/telegram") => telegram::page(app, &ctx, None).await,
        (Method::POST, "/telegram") => telegram::generate(app, &ctx, req).await,
        (Method::GET, "/telegram/login-widget") => telegram::widget(app, &ctx).await,
        (Method::POST, "/telegram/login-widget") => telegram::widget_confirm(app, &ctx, req).await,
        (Method::GET, _) if path.starts_with("/link/") => link::page(app, &ctx, req).await,
        (Method::POST, _) if path.starts_with("/link/") => link::confirm(app, &ctx, req).await,
        _ => Err(WebError::MethodNotAllowed),
    };
    let mut response = result.unwrap_or_else(|e| e.render(&ctx));
    ctx.set_cookies(&mut response);
    html::secure_headers(response.headers_mut(), &ctx.nonce);
    response
}

/// A page in the layout, with `status`.
pub fn render(ctx: &Ctx, status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let switch = ctx.switch_href();
    let frame = Frame {
        lang: ctx.lang,
        nonce: &ctx.nonce,
        switch_href: &switch,
        user: ctx
            .session
            .as_ref()
            .map(|s| (s.display.as_str(), s.csrf.as_str())),
    };
    html::html(status, layout(&frame, title, body))
}

fn home(ctx: &Ctx) -> HttpResponse {
    let t = |ro, en| ctx.lang.pick(ro, en);
    let actions = if ctx.session.is_some() {
        format!(
            "<a class=\"btn\" href=\"/telegram\">{}</a>",
            t("Leagă contul Telegram", "Link your Telegram account")
        )
    } else {
        format!(
            "<a class=\"btn\" href=\"/login\">{}</a><a class=\"btn alt\" href=\"/register\">{}</a>",
            t("Intră în cont", "Log in"),
            t("Creează cont", "Create an account"),
        )
    };
    let body = format!(
        "<h1>ledgerbot</h1>\n<div class=\"card\">\n<p>{intro}</p>\n<p>{how}</p>\n{actions}\n</div>",
        intro = t(
            "Un bot Telegram pentru finanțele firmei tale: soldurile conturilor, facturile neplătite și scadențele, \
             încasările și plățile de numerar, în română și engleză.",
            "A Telegram bot for your company's finances: account balances, unpaid invoices and due dates, \
             cash in and out, in Romanian and English.",
        ),
        how = t(
            "Creează un cont (sau intră în cel pe care îl ai), apoi leagă-ți contul Telegram: cu un cod QR, \
             un link sau un cod de 8 caractere.",
            "Create an account (or log in to yours), then link your Telegram account: with a QR code, \
             a link or an 8-character code.",
        ),
    );
    render(ctx, StatusCode::OK, "ledgerbot", &body)
}

/// Reads a form body (`application/x-www-form-urlencoded`).
///
/// # Errors
/// 413 past the limit, 400 when the client stops sending.
pub async fn read_form(body: ReqBody) -> Result<Form, WebError> {
    let bytes = read_body(body, MAX_BODY_BYTES)
        .await
        .map_err(WebError::Api)?;
    Ok(Form(form_urlencoded::parse(&bytes).into_owned().collect()))
}

/// Which token a form must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The logged-in session's.
    Session,
    /// The pre-session double-submit token (login and register forms).
    PreSession,
}

/// Reads a POST form and checks it came from our page: `Origin` (when sent)
/// and its `csrf` field against `token`.
///
/// # Errors
/// [`WebError::Csrf`] (403) when either check fails; body errors.
pub async fn checked_form(
    app: &App,
    ctx: &Ctx,
    req: Request,
    token: Token,
) -> Result<Form, WebError> {
    let headers = req.headers().clone();
    let form = read_form(req.into_body()).await?;
    let sent = form.get("csrf");
    let ok = match token {
        Token::Session => ctx.session_form_ok(&app.config, &headers, sent),
        Token::PreSession => ctx.pre_session_form_ok(&app.config, &headers, sent),
    };
    if ok { Ok(form) } else { Err(WebError::Csrf) }
}

/// A decoded form.
pub struct Form(Vec<(String, String)>);

impl Form {
    /// A field's value (the first, when sent twice).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All fields.
    pub fn fields(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Why a page could not be answered as asked; shown as a page in the
/// visitor's language.
#[derive(Debug)]
pub enum WebError {
    /// A form without a valid CSRF token, or from another origin.
    Csrf,
    /// No such page or code.
    NotFound,
    /// The page exists, not with this method.
    MethodNotAllowed,
    /// A page with its own status and message (Romanian, English).
    Page(StatusCode, &'static str, &'static str),
    /// An error of the shared code (rate limit, database, ...).
    Api(ApiError),
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> Self {
        Self::Api(e.into())
    }
}

impl WebError {
    fn render(self, ctx: &Ctx) -> HttpResponse {
        let (status, ro, en, retry) = match self {
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "Formularul a expirat sau nu vine de pe această pagină. Reîncarcă pagina și încearcă din nou.",
                "The form has expired or did not come from this site. Reload the page and try again.",
                None,
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Pagina aceasta nu există.",
                "There is no such page.",
                None,
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Pagina aceasta nu acceptă cererea.",
                "This page does not accept that request.",
                None,
            ),
            Self::Page(status, ro, en) => (status, ro, en, None),
            Self::Api(e) => api_message(e),
        };
        let body = format!(
            "<h1>{title}</h1>\n<div class=\"card\"><p>{message}</p>\n<p><a href=\"/\">{home}</a></p></div>",
            title = esc(&status_title(ctx.lang, status)),
            message = esc(ctx.lang.pick(ro, en)),
            home = ctx.lang.pick("Prima pagină", "Home page"),
        );
        let mut response = render(ctx, status, &status_title(ctx.lang, status), &body);
        if let Some(after) = retry {
            let secs = after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

type Message = (StatusCode, &'static str, &'static str, Option<Duration>);

fn api_message(e: ApiError) -> Message {
    let (status, _) = e.status_and_code();
    match e {
        ApiError::TooManyRequests(after) => (
            status,
            "Prea multe încercări. Așteaptă puțin și încearcă din nou.",
            "Too many attempts. Wait a little and try again.",
            Some(after),
        ),
        ApiError::PayloadTooLarge => (
            status,
            "Cererea este prea mare.",
            "The request is too large.",
            None,
        ),
        ApiError::Internal(e) => {
            tracing::error!(error = format!("{e:#}"), "page failed");
            (
                status,
                "Ceva nu a mers. Încearcă din nou peste puțin timp.",
                "Something went wrong. Try again in a little while.",
                None,
            )
        }
        ApiError::Unavailable => {
            tracing::warn!("database unavailable");
            (
                status,
                "Serviciul nu este disponibil acum. Încearcă din nou peste puțin timp.",
                "The service is unavailable right now. Try again in a little while.",
                None,
            )
        }
        _ => (
            status,
            "Cererea nu a putut fi îndeplinită.",
            "The request could not be completed.",
            None,
        ),
    }
}

fn status_title(lang: Lang, status: StatusCode) -> String {
    let text = match status.as_u16() {
        401 => lang.pick("Trebuie să intri în cont", "Please log in"),
        403 => lang.pick("Nepermis", "Forbidden"),
        404 => lang.pick("Nu am găsit", "Not found"),
        410 => lang.pick("Nu mai este valabil", "No longer valid"),
        429 => lang.pick("Prea multe încercări", "Too many attempts"),
        _ => lang.pick("Eroare", "Error"),
    };
    format!("{} · {text}", status.as_u16())
}
