//! What browsers fetch outside the JSON API: the web pages and the QR images
//! of link codes.
//!
//! Pages are server-rendered HTML in Romanian and English, from askama
//! templates in `src/front/web/templates/` that escape every value unless
//! told otherwise (none is). [`page`] wraps each page handler: it reads who
//! is visiting ([`session::Visitor`]: session, language, CSRF tokens),
//! renders a failure as a page in the visitor's language, and adds the
//! cookies and the security headers every page carries ([`html`]).
//!
//! The Telegram Mini App ([`app`]) is one page and its parts, fetched with an access token.
//!
//! The pages are lines of the route table ([`crate::front::routes`]);
//! `docs/web.md` says what each does.

pub mod account;
pub mod app;
pub mod companies;
pub mod html;
pub mod import;
pub mod invite;
pub mod link;
pub mod password;
pub mod qr;
pub mod session;
pub mod telegram;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use http::StatusCode;

use crate::blocks::Lang;
use crate::infra::app::App;
use crate::infra::http_io::{ApiError, HttpResponse, retry_after, with_type};
use crate::infra::router::{BoxFuture, Endpoint, NoSuchPath, Req};
use session::Visitor;

/// A page request: the request, and who is visiting.
pub struct PageReq {
    /// The request.
    pub req: Req,
    /// Who is visiting, in which language.
    pub visitor: Arc<Visitor>,
}

impl PageReq {
    /// The shared state.
    pub fn app(&self) -> &App {
        &self.req.app
    }
}

/// What a page handler answers.
pub type PageResult = Result<HttpResponse, WebError>;

/// A page handler as a route: reads the visitor, runs `handler`, renders its
/// failure as a page, adds the visitor's cookies and the security headers.
pub fn page<F, Fut>(handler: F) -> Endpoint
where
    F: Fn(PageReq) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = PageResult> + Send + 'static,
{
    Endpoint::new(move |req| answer(req, handler.clone()), not_allowed)
}

/// A page of the Telegram Mini App ([`app`]): a [`page`] that Telegram's
/// web client may show in its frame ([`html::allow_telegram_framing`]).
pub fn mini_app<F, Fut>(handler: F) -> Endpoint
where
    F: Fn(PageReq) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = PageResult> + Send + 'static,
{
    Endpoint::new(
        move |req| {
            let handler = handler.clone();
            async move {
                let mut response = answer(req, handler).await;
                html::allow_telegram_framing(response.headers_mut());
                response
            }
        },
        not_allowed,
    )
}

/// A page's 405, in the visitor's language.
fn not_allowed(req: Req) -> BoxFuture {
    Box::pin(answer(req, |_| async { Err(WebError::MethodNotAllowed) }))
}

async fn answer<F, Fut>(req: Req, handler: F) -> HttpResponse
where
    F: FnOnce(PageReq) -> Fut,
    Fut: Future<Output = PageResult>,
{
    let visitor = match Visitor::read(&req).await {
        Ok(visitor) => Arc::new(visitor),
        // No visitor to render for: the JSON error, logged once there.
        Err(e) => return ApiError::from(e).into_response(),
    };
    let result = handler(PageReq {
        req,
        visitor: visitor.clone(),
    })
    .await;
    let mut response = result.unwrap_or_else(|e| e.render(&visitor));
    visitor.set_cookies(&mut response);
    html::secure_headers(response.headers_mut(), &visitor.nonce, visitor.is_https());
    response
}

/// What the layout needs besides the page's own content.
pub struct Frame<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The per-response CSP nonce for inline `<style>` and `<script>`.
    pub nonce: &'a str,
    /// The href of the other language (the current URL with `lang=` swapped).
    pub switch_href: String,
    /// Who is logged in, for the header and its logout form.
    pub user: Option<User<'a>>,
}

/// The logged-in person as the header shows them.
pub struct User<'a> {
    /// Email, else first name.
    pub display: &'a str,
    /// The session's CSRF token, for the logout form.
    pub csrf: &'a str,
}

impl<'a> Frame<'a> {
    /// The frame of `visitor`'s pages.
    pub fn of(visitor: &'a Visitor) -> Self {
        Self {
            lang: visitor.lang,
            nonce: &visitor.nonce,
            switch_href: visitor.switch_href(),
            user: visitor.session.as_ref().map(|s| User {
                display: &s.display,
                csrf: &s.csrf,
            }),
        }
    }

    /// The text for the page's language.
    pub fn t(&self, ro: &'static str, en: &'static str) -> &'static str {
        self.lang.pick(ro, en)
    }

    /// The other language's code, for the switch link.
    pub fn other_code(&self) -> &'static str {
        self.lang.pick("en", "ro")
    }

    /// The other language's name, in that language.
    pub fn other_name(&self) -> &'static str {
        self.lang.pick("English", "Română")
    }
}

/// A rendered template as an HTML response with `status`.
///
/// # Errors
/// The template failed to render (a value's `Display` failed): 500.
pub fn render(status: StatusCode, page: &impl Template) -> PageResult {
    let html = page
        .render()
        .map_err(|e| WebError::Api(ApiError::Internal(e.into())))?;
    Ok(with_type(status, "text/html; charset=utf-8", html))
}

/// What a page says when an account is locked out by wrong passwords: for
/// how long, in whole minutes, as each language counts them.
pub fn locked_out_text(lang: Lang, wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let when =
        crate::blocks::local_time::count(lang, minutes, ["minut", "minute"], ["minute", "minutes"]);
    lang.pick(
        format!("Prea multe parole greșite pentru acest cont. Încearcă din nou peste {when}."),
        format!("Too many wrong passwords for this account. Try again in {when}."),
    )
}

/// `page` answered with 429 and `Retry-After: wait` (a lockout shown on the
/// form itself, so the person can read why and still has the form).
pub fn too_many(page: PageResult, wait: Duration) -> PageResult {
    let mut response = page?;
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    retry_after(&mut response, wait);
    Ok(response)
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    frame: Frame<'a>,
    title: &'a str,
}

/// `GET /`: what ledgerbot is; log in or register, or link Telegram.
pub async fn home(p: PageReq) -> PageResult {
    let frame = Frame::of(&p.visitor);
    render(
        StatusCode::OK,
        &Home {
            frame,
            title: "ledgerbot",
        },
    )
}

/// Which token a form must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The logged-in session's.
    Session,
    /// The pre-session double-submit token (login and register forms).
    PreSession,
}

/// The largest body a page's form may have: the longest password (1024
/// characters, percent-encoded) and the rest fit; the route table sets it
/// on every page `POST`.
pub const FORM_BODY_LIMIT: usize = 8 * 1024;

/// The most `name=value` pairs a form may carry, wanted or not.
pub const MAX_FORM_FIELDS: usize = 16;

/// Reads a POST form (`application/x-www-form-urlencoded`, under the route's
/// body limit, [`FORM_BODY_LIMIT`]) keeping only the fields in `wanted`
/// (and `csrf`), and checks it came from our page: `Origin` (when sent) and
/// its `csrf` field against `token`.
///
/// # Errors
/// [`WebError::Csrf`] (403) when either check fails; 413 past the limit, 400
/// past [`MAX_FORM_FIELDS`] or when the client stops sending.
pub async fn checked_form(
    p: &mut PageReq,
    token: Token,
    wanted: &[&str],
) -> Result<Form, WebError> {
    let bytes = p.req.bytes().await?;
    let form = Form::parse(&bytes, wanted)?;
    let sent = form.get("csrf");
    let (config, headers) = (&p.req.app.config, p.req.headers());
    let ok = match token {
        Token::Session => p.visitor.session_form_ok(config, headers, sent),
        Token::PreSession => p.visitor.pre_session_form_ok(config, headers, sent),
    };
    if ok { Ok(form) } else { Err(WebError::Csrf) }
}

/// A decoded form: only the fields its page has.
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Decodes `body`, keeping the first value of each field in `wanted`
    /// and of `csrf`; the rest is skipped without being copied.
    ///
    /// # Errors
    /// 400 when the body has more than [`MAX_FORM_FIELDS`] pairs.
    pub fn parse(body: &[u8], wanted: &[&str]) -> Result<Self, ApiError> {
        let mut kept: Vec<(String, String)> = Vec::with_capacity(wanted.len() + 1);
        for (i, (name, value)) in form_urlencoded::parse(body).enumerate() {
            if i >= MAX_FORM_FIELDS {
                return Err(ApiError::BadRequest("the form has too many fields".into()));
            }
            let wanted = name == "csrf" || wanted.contains(&name.as_ref());
            if wanted && kept.iter().all(|(k, _)| *k != name) {
                kept.push((name.into_owned(), value.into_owned()));
            }
        }
        Ok(Self(kept))
    }

    /// A field's value (the first, when sent twice).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The fields kept.
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
    /// Busy now (503): the message (Romanian, English), and when to try again
    /// (`Retry-After`).
    Busy(&'static str, &'static str, Duration),
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

impl From<crate::services::Failure> for WebError {
    fn from(e: crate::services::Failure) -> Self {
        Self::Api(e.into())
    }
}

impl From<NoSuchPath> for WebError {
    fn from(_: NoSuchPath) -> Self {
        Self::NotFound
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    message: &'a str,
}

impl WebError {
    fn render(self, visitor: &Visitor) -> HttpResponse {
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
            Self::Busy(ro, en, after) => (StatusCode::SERVICE_UNAVAILABLE, ro, en, Some(after)),
            Self::Api(e) => api_message(e),
        };
        let title = status_title(visitor.lang, status);
        let page = ErrorPage {
            frame: Frame::of(visitor),
            title: &title,
            message: visitor.lang.pick(ro, en),
        };
        let rendered = render(status, &page);
        let mut response = match rendered {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = ?e, "the error page failed to render");
                ApiError::Internal(anyhow::anyhow!("error page")).into_response()
            }
        };
        if let Some(after) = retry {
            retry_after(&mut response, after);
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
        ApiError::TooManyFailures(after) => (
            status,
            "Prea multe parole greșite pentru acest cont. Așteaptă și încearcă din nou.",
            "Too many wrong passwords for this account. Wait and try again.",
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
        ApiError::Busy(_, after) => (
            status,
            "Serverul este ocupat acum. Încearcă din nou peste câteva secunde.",
            "The server is busy right now. Try again in a few seconds.",
            Some(after),
        ),
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
        413 => lang.pick("Prea mare", "Too large"),
        429 => lang.pick("Prea multe încercări", "Too many attempts"),
        503 => lang.pick("Ocupat", "Busy"),
        _ => lang.pick("Eroare", "Error"),
    };
    format!("{} · {text}", status.as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_only_their_fields_and_refuse_too_many() {
        let form = Form::parse(
            b"csrf=t&email=a%40b.ro&junk=x&email=second&password=p+w",
            &["email", "password"],
        )
        .expect("parses");
        assert_eq!(
            form.fields(),
            [
                ("csrf".to_owned(), "t".to_owned()),
                ("email".to_owned(), "a@b.ro".to_owned()),
                ("password".to_owned(), "p w".to_owned()),
            ]
        );

        let many = vec!["x=1"; MAX_FORM_FIELDS + 1].join("&");
        assert!(Form::parse(many.as_bytes(), &[]).is_err(), "17 pairs");
        let enough = vec!["x=1"; MAX_FORM_FIELDS].join("&");
        assert!(Form::parse(enough.as_bytes(), &[]).is_ok(), "16 pairs");
    }

    #[test]
    fn pages_escape_every_character_that_can_break_out() {
        let frame = Frame {
            lang: Lang::En,
            nonce: "n\"once",
            switch_href: "/?a=1&lang=ro".into(),
            user: Some(User {
                display: "<b>Ștefan</b>",
                csrf: "x\"y",
            }),
        };
        let page = ErrorPage {
            frame,
            title: "t",
            message: "<script>alert('x') & \"y\"</script>",
        };
        let html = page.render().expect("renders");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
        );
        assert!(html.contains("&lt;b&gt;Ștefan&lt;/b&gt;"));
        assert!(html.contains("value=\"x&quot;y\""));
        assert!(html.contains("nonce=\"n&quot;once\""));
        assert!(html.contains("href=\"/?a=1&amp;lang=ro\""));
        assert!(!html.contains("<script>"));
    }
}
