//! `/invite/{code}`: an invitation to a company on the web. It shows the
//! company, the role and who invites; logged out, the login form (and the
//! way to register) that comes back here; logged in, an "Accept" button,
//! which makes the person a member exactly as the bot's Accept does
//! ([`invitations::accept`]) and tells the inviter in Telegram. Every visit
//! counts as a code attempt of the client (the `code` rate limit).

use askama::Template;
use http::StatusCode;

use super::account::LoginForm;
use super::html::{redirect, url_param};
use super::{Frame, PageReq, PageResult, Token, WebError, checked_form, render};
use crate::blocks::invite_code::InviteCode;
use crate::blocks::local_time::date_time;
use crate::front::{invitation_refusal, limit_client};
use crate::services::invitations::{self, Found};
use crate::services::notices;

fn refused<T>(found: &Found<T>) -> WebError {
    let status = match found {
        Found::Unknown | Found::Open(_) => StatusCode::NOT_FOUND,
        Found::Used | Found::Expired | Found::Revoked => StatusCode::GONE,
    };
    let (ro, en) = invitation_refusal(found);
    WebError::Page(status, ro, en)
}

#[derive(Template)]
#[template(path = "invite.html")]
struct Invite<'a> {
    frame: Frame<'a>,
    title: &'a str,
    inviter: Option<&'a str>,
    company: &'a str,
    role: &'static str,
    can: &'static str,
    until: String,
    /// Logged out: the login form, coming back here.
    form: Option<LoginForm<'a>>,
    action: &'a str,
    display: &'a str,
    csrf: &'a str,
}

/// `GET /invite/{code}`.
pub async fn page(p: PageReq) -> PageResult {
    limit_client(&p.req, p.app().config.rate_limits.code).await?;
    let code: InviteCode = p.req.param("code")?;
    let mut conn = p.req.app.pool.acquire().await?;
    let found = invitations::look_up(&mut conn, &code).await?;
    drop(conn);
    let Found::Open(invitation) = found else {
        return Err(refused(&found));
    };
    let visitor = &p.visitor;
    let lang = visitor.lang;
    let session = visitor.session.as_ref();
    let page = Invite {
        frame: Frame::of(visitor),
        title: lang.pick("Invitație", "Invitation"),
        inviter: invitation.inviter.as_deref(),
        company: &invitation.company_name,
        role: invitation.role.name(lang),
        can: invitation.role.can(lang),
        until: date_time(lang, invitation.expires_at),
        form: session
            .is_none()
            .then(|| LoginForm::new(visitor, &visitor.path, "", None)),
        action: &visitor.path,
        display: session.map_or("", |s| s.display.as_str()),
        csrf: session.map_or("", |s| s.csrf.as_str()),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "invite_done.html")]
struct Done<'a> {
    frame: Frame<'a>,
    title: &'a str,
    company: &'a str,
    role: &'static str,
    joined: bool,
    bot: &'a str,
}

/// `POST /invite/{code}`: accepts, for the logged-in person.
pub async fn accept(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(redirect(&format!(
            "/login?next={}",
            url_param(&visitor.path)
        )));
    };
    let limited = limit_client(&p.req, p.app().config.rate_limits.code);
    checked_form(&mut p, Token::Session, &[]).await?;
    limited.await?;
    let code: InviteCode = p.req.param("code")?;
    let app = p.app();
    let mut tx = app.pool.begin().await?;
    let answered = match invitations::accept(&mut tx, &code, session.user_id).await? {
        Found::Open(answered) => answered,
        failure => return Err(refused(&failure)),
    };
    if answered.joined {
        let tell = notices::invitation_answered_message(&answered, &session.display, true);
        crate::infra::outbox::enqueue(&mut tx, tell.as_slice()).await?;
    }
    tx.commit().await?;
    if answered.joined {
        app.outbox.wake();
        tracing::info!(
            company.id = answered.invitation.company_id,
            "invitation accepted on the web"
        );
    }
    let lang = visitor.lang;
    let page = Done {
        frame: Frame::of(&visitor),
        title: lang.pick("Invitație acceptată", "Invitation accepted"),
        company: &answered.invitation.company_name,
        role: answered.invitation.role.name(lang),
        joined: answered.joined,
        bot: &app.config.bot_username,
    };
    render(StatusCode::OK, &page)
}
