//! `/login`, `/register` and `/logout`: the same accounts, password rules and
//! per-IP limits as the JSON API ([`crate::auth::account`]), with a session
//! cookie instead of tokens.

use http::StatusCode;

use super::html::{esc, local_path, redirect, url_param};
use super::session::{self, Ctx, SESSION_COOKIE, SESSION_TTL, add_cookie};
use super::{Form, Token, WebError, checked_form, render};
use crate::api::limit_client;
use crate::app::App;
use crate::auth::account::{self, Invalid, NewAccount};
use crate::auth::password::PasswordRule;
use crate::http::{HttpResponse, Request};

/// Where to go after logging in: `next` when it is a path of ours.
fn next_of<'a>(ctx: &'a Ctx, form: Option<&'a Form>) -> &'a str {
    form.and_then(|f| f.get("next"))
        .or_else(|| ctx.param("next"))
        .and_then(local_path)
        .unwrap_or("/telegram")
}

/// The login form, returning to `next`; `email` refilled, `error` shown.
pub fn login_form(ctx: &Ctx, next: &str, email: &str, error: Option<&str>) -> String {
    let t = |ro, en| ctx.lang.pick(ro, en);
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>\n", esc(e))
    });
    format!(
        "<form method=\"post\" action=\"/login\" class=\"card\">\n{error}\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"email\">{email_label}</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{email}\">\n\
         <label for=\"password\">{password_label}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">{submit}</button>\n\
         <p>{no_account} <a href=\"/register?next={next_param}\">{register}</a></p>\n</form>",
        csrf = esc(ctx.pre_csrf()),
        next = esc(next),
        next_param = esc(&url_param(next)),
        email = esc(email),
        email_label = t("Email", "Email"),
        password_label = t("Parolă", "Password"),
        submit = t("Intră în cont", "Log in"),
        no_account = t("Nu ai cont?", "No account yet?"),
        register = t("Creează unul", "Create one"),
    )
}

/// `GET /login`; a logged-in visitor goes on to `next`.
pub fn login_page(ctx: &Ctx) -> Result<HttpResponse, WebError> {
    let next = next_of(ctx, None);
    if ctx.session.is_some() {
        return Ok(redirect(next));
    }
    Ok(login_answer(ctx, StatusCode::OK, next, "", None))
}

fn login_answer(
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> HttpResponse {
    let title = ctx.lang.pick("Intră în cont", "Log in");
    let body = format!("<h1>{title}</h1>\n{}", login_form(ctx, next, email, error));
    render(ctx, status, title, &body)
}

/// `POST /login`: a session and on to `next`, or the form again with
/// "wrong email or password" (401) and no cookie.
pub async fn login(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let limited = limit_client(app, &req, app.config.rate_limits.login);
    let form = checked_form(app, ctx, req, Token::PreSession).await?;
    limited.await?;
    let email = form.get("email").unwrap_or_default();
    let password = form.get("password").unwrap_or_default().to_owned();
    let next = next_of(ctx, Some(&form));
    match account::check_login(&app.pool, email, password).await? {
        Some(user_id) => start_session(app, ctx, user_id, next).await,
        None => Ok(login_answer(
            ctx,
            StatusCode::UNAUTHORIZED,
            next,
            email,
            Some(
                ctx.lang
                    .pick("Email sau parolă greșită.", "Wrong email or password."),
            ),
        )),
    }
}

/// `GET /register`.
pub fn register_page(ctx: &Ctx) -> Result<HttpResponse, WebError> {
    let next = next_of(ctx, None);
    if ctx.session.is_some() {
        return Ok(redirect(next));
    }
    Ok(register_answer(ctx, StatusCode::OK, next, ("", ""), None))
}

fn register_answer(
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    (email, first_name): (&str, &str),
    error: Option<&str>,
) -> HttpResponse {
    let t = |ro, en| ctx.lang.pick(ro, en);
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>\n", esc(e))
    });
    let title = t("Cont nou", "Create an account");
    let body = format!(
        "<h1>{title}</h1>\n<form method=\"post\" action=\"/register\" class=\"card\">\n{error}\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"first_name\">{name_label}</label>\n\
         <input id=\"first_name\" name=\"first_name\" type=\"text\" autocomplete=\"given-name\" maxlength=\"100\" value=\"{first_name}\">\n\
         <label for=\"email\">Email</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{email}\">\n\
         <label for=\"password\">{password_label}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required aria-describedby=\"password-hint\">\n\
         <p id=\"password-hint\" class=\"muted\">{hint}</p>\n\
         <button type=\"submit\">{submit}</button>\n\
         <p>{have} <a href=\"/login?next={next_param}\">{login}</a></p>\n</form>",
        csrf = esc(ctx.pre_csrf()),
        next = esc(next),
        next_param = esc(&url_param(next)),
        email = esc(email),
        first_name = esc(first_name),
        name_label = t("Prenume (opțional)", "First name (optional)"),
        password_label = t("Parolă", "Password"),
        hint = t("Cel puțin 8 caractere.", "At least 8 characters."),
        submit = t("Creează contul", "Create the account"),
        have = t("Ai deja cont?", "Already have an account?"),
        login = t("Intră în cont", "Log in"),
    );
    render(ctx, status, title, &body)
}

/// `POST /register`: the account, a session, and on to `next`; or the form
/// again with what is wrong (422) or "email taken" (409).
pub async fn register(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let limited = limit_client(app, &req, app.config.rate_limits.register);
    let form = checked_form(app, ctx, req, Token::PreSession).await?;
    limited.await?;
    let email = form.get("email").unwrap_or_default();
    let first_name = form.get("first_name").unwrap_or_default();
    let next = next_of(ctx, Some(&form));
    let password = form.get("password").unwrap_or_default().to_owned();
    let refill = (email, first_name);
    let t = |ro, en| ctx.lang.pick(ro, en);
    let new = match NewAccount::parse(email, password, Some(first_name)) {
        Ok(new) => new.hash().await?,
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
            return Ok(register_answer(ctx, status, next, refill, Some(message)));
        }
    };
    let mut conn = app.pool.acquire().await?;
    let Some(user_id) = new.insert(&mut conn).await? else {
        let message = t(
            "Există deja un cont cu acest email. Intră în cont.",
            "An account with this email already exists. Log in instead.",
        );
        return Ok(register_answer(
            ctx,
            StatusCode::CONFLICT,
            next,
            refill,
            Some(message),
        ));
    };
    drop(conn);
    tracing::info!(user.id = user_id, "account registered on the web");
    start_session(app, ctx, user_id, next).await
}

/// A new session for `user_id`: its cookie, and a redirect to `next`.
async fn start_session(
    app: &App,
    ctx: &Ctx,
    user_id: i64,
    next: &str,
) -> Result<HttpResponse, WebError> {
    let mut conn = app.pool.acquire().await?;
    let id = session::create(&mut conn, user_id).await?;
    let mut response = redirect(next);
    add_cookie(
        &mut response,
        &ctx.cookie(SESSION_COOKIE, &id, Some(SESSION_TTL.as_secs())),
    );
    Ok(response)
}

/// `POST /logout`: the session is deleted and its cookie cleared.
pub async fn logout(app: &App, ctx: &Ctx, req: Request) -> Result<HttpResponse, WebError> {
    let Some(session) = &ctx.session else {
        return Ok(redirect("/"));
    };
    checked_form(app, ctx, req, Token::Session).await?;
    let mut conn = app.pool.acquire().await?;
    session::delete(&mut conn, session).await?;
    let mut response = redirect("/");
    add_cookie(&mut response, &ctx.cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}
