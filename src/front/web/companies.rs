//! `/companies`: the logged-in person's companies, their CUI and role, and
//! for an owner or accountant the way to import e-Factura files
//! ([`super::import`]). The web's one list of companies: the header links here.

use askama::Template;
use http::StatusCode;

use super::html::login_first;
use super::{Frame, PageReq, PageResult, render};
use crate::services::finance::companies;

/// One company as the list shows it.
struct Row {
    id: i64,
    name: String,
    cui: Option<String>,
    role: &'static str,
    can_import: bool,
}

#[derive(Template)]
#[template(path = "companies.html")]
struct CompaniesPage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    rows: Vec<Row>,
    bot: &'a str,
}

/// `GET /companies`.
pub async fn list(p: PageReq) -> PageResult {
    let visitor = &p.visitor;
    let Some(session) = &visitor.session else {
        return Ok(login_first(&visitor.path));
    };
    let app = p.app();
    let mut db = app.pool.acquire().await?;
    let list = companies::of_user(&mut db, session.user_id).await?;
    drop(db);
    let lang = visitor.lang;
    let rows = list
        .into_iter()
        .map(|c| Row {
            id: c.id,
            role: c.role.name(lang),
            can_import: c.role.can_write(),
            name: c.name,
            cui: c.cui,
        })
        .collect();
    let page = CompaniesPage {
        frame: Frame::of(visitor),
        title: lang.pick("Firmele tale", "Your companies"),
        rows,
        bot: &app.config.bot_username,
    };
    render(StatusCode::OK, &page)
}
