//! `/api/v1/companies...`: companies, members, and (delegated to
//! [`super::invoices`] and [`super::treasury`]) the data an ERP pushes.
//!
//! Every route but the list and create answers 404 to a caller who is not a
//! member, whether or not the company exists; a member whose role does not
//! allow the action gets 403.

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::auth::{Caller, authenticate};
use crate::finance::companies::{self, AddMember, RemoveMember};
use crate::finance::{Company, Role, dashboard};
use crate::http::{ApiError, HttpResponse, Request, empty, json, read_json};
use crate::money::Currency;
use crate::validate::Cui;

/// The prefix of every route here.
pub const PREFIX: &str = "/api/v1/companies";

/// A path under [`PREFIX`], parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Collection,
    Company(i64),
    Members(i64),
    Member(i64, i64),
    Invoices(i64),
    Treasury(i64),
    Dashboard(i64),
}

impl Route {
    fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix(PREFIX)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Some(Self::Collection);
        }
        let mut parts = rest.strip_prefix('/')?.split('/');
        let id = parse_id(parts.next()?)?;
        let route = match (parts.next(), parts.next()) {
            (None, _) => Self::Company(id),
            (Some("members"), None) => Self::Members(id),
            (Some("members"), Some(user)) => Self::Member(id, parse_id(user)?),
            (Some("invoices"), None) => Self::Invoices(id),
            (Some("treasury-accounts"), None) => Self::Treasury(id),
            (Some("dashboard"), None) => Self::Dashboard(id),
            _ => return None,
        };
        parts.next().is_none().then_some(route)
    }

    /// The template logs record: never the ids.
    fn name(self) -> &'static str {
        match self {
            Self::Collection => "/api/v1/companies",
            Self::Company(_) => "/api/v1/companies/{id}",
            Self::Members(_) => "/api/v1/companies/{id}/members",
            Self::Member(..) => "/api/v1/companies/{id}/members/{user_id}",
            Self::Invoices(_) => "/api/v1/companies/{id}/invoices",
            Self::Treasury(_) => "/api/v1/companies/{id}/treasury-accounts",
            Self::Dashboard(_) => "/api/v1/companies/{id}/dashboard",
        }
    }
}

/// A positive id in canonical decimal (no sign, no leading zero).
fn parse_id(s: &str) -> Option<i64> {
    let canonical = !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| s.parse().ok()).flatten()
}

/// The route template of a path under [`PREFIX`], for logs.
pub fn route_name(path: &str) -> &'static str {
    Route::parse(path).map_or("/api/v1/companies/other", Route::name)
}

/// Answers a request under [`PREFIX`].
pub async fn route(app: &App, req: Request) -> HttpResponse {
    handle(app, req)
        .await
        .unwrap_or_else(ApiError::into_response)
}

async fn handle(app: &App, req: Request) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(app, req.headers())?;
    let route = Route::parse(req.uri().path()).ok_or(ApiError::NotFound)?;
    let method = req.method().clone();
    match (route, method) {
        (Route::Collection, Method::GET) => {
            let mut db = app.pool.acquire().await?;
            let list = companies::of_user(&mut db, caller.user_id).await?;
            Ok(json(StatusCode::OK, &list))
        }
        (Route::Collection, Method::POST) => create(app, caller, req).await,
        (Route::Company(id), Method::GET) => {
            let company = member_of(app, id, caller).await?;
            Ok(json(StatusCode::OK, &company))
        }
        (Route::Members(id), Method::POST) => add_member(app, id, caller, req).await,
        (Route::Member(id, user_id), Method::DELETE) => {
            remove_member(app, id, caller, user_id).await
        }
        (Route::Invoices(id), Method::GET) => {
            let company = member_of(app, id, caller).await?;
            super::invoices::list(app, &company, req.uri().query()).await
        }
        (Route::Invoices(id), Method::PUT) => {
            let company = writer_of(app, id, caller).await?;
            super::invoices::push(app, &company, req).await
        }
        (Route::Treasury(id), Method::GET) => {
            let company = member_of(app, id, caller).await?;
            super::treasury::list(app, &company).await
        }
        (Route::Treasury(id), Method::PUT) => {
            let company = writer_of(app, id, caller).await?;
            super::treasury::push(app, &company, req).await
        }
        (Route::Dashboard(id), Method::GET) => {
            let company = member_of(app, id, caller).await?;
            let mut db = app.pool.acquire().await?;
            let today = crate::finance::today(&mut *db).await?;
            let figures = dashboard::compute(&mut db, &company, today).await?;
            Ok(json(StatusCode::OK, &figures))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// The company as the caller sees it; 404 when the caller is not a member.
async fn member_of(app: &App, company_id: i64, caller: Caller) -> Result<Company, ApiError> {
    let mut db = app.pool.acquire().await?;
    companies::for_member(&mut db, company_id, caller.user_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The company, when the caller may push data to it (owner, accountant).
async fn writer_of(app: &App, company_id: i64, caller: Caller) -> Result<Company, ApiError> {
    let company = member_of(app, company_id, caller).await?;
    if !company.role.can_write() {
        return Err(ApiError::Forbidden(
            "viewers may read; pushing data needs the owner or accountant role",
        ));
    }
    Ok(company)
}

async fn owner_of(app: &App, company_id: i64, caller: Caller) -> Result<Company, ApiError> {
    let company = member_of(app, company_id, caller).await?;
    if company.role != Role::Owner {
        return Err(ApiError::Forbidden("only an owner may manage members"));
    }
    Ok(company)
}

#[derive(Deserialize)]
struct NewCompany {
    name: String,
    cui: Option<String>,
    currency: Option<String>,
}

async fn create(app: &App, caller: Caller, req: Request) -> Result<HttpResponse, ApiError> {
    let body: NewCompany = read_json(req.into_body()).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Unprocessable(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    let cui = body
        .cui
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(Cui::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(format!("cui: {e}")))?;
    let currency = body
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(format!("currency: {e}")))?
        .unwrap_or(Currency::RON);
    let mut tx = app.pool.begin().await?;
    let company = companies::create(&mut tx, caller.user_id, name, cui.as_ref(), currency).await?;
    tx.commit().await?;
    Ok(json(StatusCode::CREATED, &company))
}

#[derive(Deserialize)]
struct NewMember {
    email: String,
    role: String,
}

async fn add_member(
    app: &App,
    company_id: i64,
    caller: Caller,
    req: Request,
) -> Result<HttpResponse, ApiError> {
    owner_of(app, company_id, caller).await?;
    let body: NewMember = read_json(req.into_body()).await?;
    let role = Role::parse(body.role.trim()).ok_or_else(|| {
        ApiError::Unprocessable("role: must be owner, accountant or viewer".into())
    })?;
    let mut db = app.pool.acquire().await?;
    match companies::add_member(&mut db, company_id, &body.email, role).await? {
        AddMember::Added(user_id) => Ok(json(
            StatusCode::CREATED,
            &json!({"user_id": user_id, "email": body.email.trim().to_lowercase(), "role": role}),
        )),
        AddMember::NoSuchUser => Err(ApiError::Unprocessable(
            "email: no account has this email; the person must register first".into(),
        )),
        AddMember::AlreadyMember(_) => Err(ApiError::Conflict(
            "this account is already a member of the company".into(),
        )),
    }
}

async fn remove_member(
    app: &App,
    company_id: i64,
    caller: Caller,
    user_id: i64,
) -> Result<HttpResponse, ApiError> {
    owner_of(app, company_id, caller).await?;
    let mut tx = app.pool.begin().await?;
    let outcome = companies::remove_member(&mut tx, company_id, user_id).await?;
    tx.commit().await?;
    match outcome {
        RemoveMember::Removed => Ok(empty(StatusCode::NO_CONTENT)),
        RemoveMember::NotMember => Err(ApiError::NotFound),
        RemoveMember::LastOwner => Err(ApiError::Conflict(
            "a company keeps at least one owner: add another owner first".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_into_routes() {
        let cases = [
            ("/api/v1/companies", Some(Route::Collection), "collection"),
            (
                "/api/v1/companies/",
                Some(Route::Collection),
                "trailing slash",
            ),
            ("/api/v1/companies/7", Some(Route::Company(7)), "one"),
            (
                "/api/v1/companies/7/members",
                Some(Route::Members(7)),
                "members",
            ),
            (
                "/api/v1/companies/7/members/9",
                Some(Route::Member(7, 9)),
                "member",
            ),
            (
                "/api/v1/companies/7/invoices",
                Some(Route::Invoices(7)),
                "invoices",
            ),
            (
                "/api/v1/companies/7/treasury-accounts",
                Some(Route::Treasury(7)),
                "treasury",
            ),
            (
                "/api/v1/companies/7/dashboard",
                Some(Route::Dashboard(7)),
                "dashboard",
            ),
            ("/api/v1/companies/007", None, "leading zero"),
            ("/api/v1/companies/-7", None, "sign"),
            ("/api/v1/companies/x", None, "not a number"),
            ("/api/v1/companies/99999999999999999999", None, "overflow"),
            ("/api/v1/companies/7/nothing", None, "unknown tail"),
            ("/api/v1/companies/7/invoices/1", None, "too deep"),
            ("/api/v1/companiesx", None, "prefix only"),
        ];
        for (path, want, why) in cases {
            assert_eq!(Route::parse(path), want, "{why}: {path}");
        }
    }
}
