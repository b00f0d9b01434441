//! `/api/v1/companies/{id}/members` and `/invitations`: who belongs to a
//! company, and how people join it. Owners only (a member who is not an
//! owner gets 403, a non-member 404).
//!
//! There is no way to add a member by email: people join by accepting an
//! invitation, so no route tells whether an email is registered, and an
//! address someone registered first grants nothing.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use super::companies::{cursor_param, owner_of};
use crate::blocks::invite_code::InviteCode;
use crate::front::limit_client;
use crate::infra::http_io::{ApiError, HttpResponse, empty, json, with_type};
use crate::infra::router::{Id, Req};
use crate::services::finance::Role;
use crate::services::finance::companies::{self, ChangeRole, MemberCursor, RemoveMember};
use crate::services::finance::invoices::Slice;
use crate::services::invitations::{self, Create, Found, Which};

#[derive(Deserialize)]
struct RoleBody {
    role: String,
}

fn role_of(body: &RoleBody) -> Result<Role, ApiError> {
    Role::parse(body.role.trim())
        .ok_or_else(|| ApiError::Unprocessable("role: must be owner, accountant or viewer".into()))
}

#[derive(Serialize)]
struct InvitationAnswer {
    code: String,
    role: Role,
    deep_link: String,
    url: String,
    qr_png_url: String,
    expires_at: String,
}

/// `POST /api/v1/companies/{id}/invitations` `{role}`: 201 with the code,
/// its links and its expiry (shown this once: only its hash is kept).
pub async fn invite(mut req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let inviter = super::caller(&req)?.user_id;
    let role = role_of(&req.json().await?)?;
    let mut db = req.app.pool.acquire().await?;
    let new = match invitations::create(&mut db, &company, inviter, role, None).await? {
        Create::Created(new) => new,
        Create::NotOwner => return Err(ApiError::Forbidden("only an owner may invite")),
        Create::TooMany => {
            return Err(ApiError::Conflict(format!(
                "the company has {} open invitations; revoke some first",
                invitations::MAX_OPEN_PER_COMPANY
            )));
        }
    };
    let config = &req.app.config;
    let answer = InvitationAnswer {
        code: new.code.to_string(),
        role: new.role,
        deep_link: invitations::deep_link(config, &new.code),
        url: invitations::web_url(config, &new.code),
        qr_png_url: invitations::qr_png_url(config, &new.code),
        expires_at: new
            .expires_at
            .format(&Rfc3339)
            .map_err(|e| ApiError::Internal(e.into()))?,
    };
    Ok(json(StatusCode::CREATED, &answer))
}

/// `GET /api/v1/companies/{id}/invitations`: the open ones (never their codes).
pub async fn invitations(req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let mut db = req.app.pool.acquire().await?;
    let open = invitations::open_of(&mut db, company.id).await?;
    Ok(json(StatusCode::OK, &open))
}

/// `DELETE /api/v1/companies/{id}/invitations/{code}` (the code, or the id
/// the list shows): 204; 404 when no such invitation is open.
pub async fn revoke(req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let which = match req.param::<Id>("code") {
        Ok(Id(id)) => Which::Id(id),
        Err(_) => Which::Code(req.param::<InviteCode>("code")?),
    };
    let mut db = req.app.pool.acquire().await?;
    if invitations::revoke(&mut db, company.id, which).await? {
        Ok(empty(StatusCode::NO_CONTENT))
    } else {
        Err(ApiError::NotFound)
    }
}

/// `GET /invite/{code}/qr.png`: the QR code of the invitation's deep link,
/// while it is open (else 404); counted as a code attempt, never cached.
pub async fn qr_png(req: Req) -> Result<HttpResponse, ApiError> {
    limit_client(&req, req.app.config.rate_limits.code).await?;
    let code: InviteCode = req.param("code")?;
    let mut db = req.app.pool.acquire().await?;
    let Found::Open(_) = invitations::look_up(&mut db, &code).await? else {
        return Err(ApiError::NotFound);
    };
    drop(db);
    let link = invitations::deep_link(&req.app.config, &code);
    let image = crate::blocks::qr::png(&link).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(super::no_store(with_type(
        StatusCode::OK,
        "image/png",
        image,
    )))
}

/// Members per page of `GET .../members`.
pub const PAGE_SIZE: i64 = 50;

/// `GET /api/v1/companies/{id}/members?cursor=C`: a keyset page of the
/// members and their roles (owners, accountants, viewers, each by account
/// number) → `{items, page_size, next_cursor}`.
pub async fn members(req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let after = cursor_param(req.query().unwrap_or_default(), MemberCursor::parse)?;
    let mut db = req.app.pool.acquire().await?;
    let mut items = companies::members_page(&mut db, company.id, after, PAGE_SIZE + 1).await?;
    let more = items.len() > PAGE_SIZE as usize;
    items.truncate(PAGE_SIZE as usize);
    let next_cursor = more
        .then(|| items.last())
        .flatten()
        .map(|m| MemberCursor::after(m).encode());
    let page = Slice {
        items,
        page_size: PAGE_SIZE,
        next_cursor,
    };
    Ok(json(StatusCode::OK, &page))
}

/// `PATCH /api/v1/companies/{id}/members/{user_id}` `{role}`: 200 with the
/// member; the last owner stays an owner (409).
pub async fn change_role(mut req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let Id(user_id) = req.param("user_id")?;
    let role = role_of(&req.json().await?)?;
    let mut tx = req.app.pool.begin().await?;
    match companies::change_role(&mut tx, company.id, user_id, role).await? {
        ChangeRole::Changed => {}
        ChangeRole::NotMember => return Err(ApiError::NotFound),
        ChangeRole::LastOwner => return Err(last_owner()),
    }
    let member = companies::member(&mut tx, company.id, user_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(json(StatusCode::OK, &member))
}

/// `DELETE /api/v1/companies/{id}/members/{user_id}`: 204; the last owner stays.
pub async fn remove(req: Req) -> Result<HttpResponse, ApiError> {
    let company = owner_of(&req).await?;
    let Id(user_id) = req.param("user_id")?;
    let mut tx = req.app.pool.begin().await?;
    let outcome = companies::remove_member(&mut tx, company.id, user_id).await?;
    tx.commit().await?;
    match outcome {
        RemoveMember::Removed => Ok(empty(StatusCode::NO_CONTENT)),
        RemoveMember::NotMember => Err(ApiError::NotFound),
        RemoveMember::LastOwner => Err(last_owner()),
    }
}

fn last_owner() -> ApiError {
    ApiError::Conflict("a company keeps at least one owner: make someone else owner first".into())
}
