//! `/companies`: the logged-in person's companies, their CUI and role, and
//! for an owner or accountant the way to import e-Factura files
//! ([`super::import`]). The web's one list of companies: the header links here.
//! A keyset page of them at a time, by name, as `GET /api/v1/companies`
//! pages them ([`companies::of_user_slice`]): "more" is a plain link.

use askama::Template;
use http::StatusCode;

use super::html::login_first;
use super::{Frame, PageReq, PageResult, WebError, render};
use crate::blocks::Lang;
use crate::front::api::companies::PAGE_SIZE;
use crate::services::finance::companies;

/// The words of the link (here) and the button (the Mini App's chooser,
/// [`super::app`]) to the next page of companies.
pub fn more_text(lang: Lang) -> &'static str {
    lang.pick("Mai multe firme ▶", "More companies ▶")
}

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
    /// The next page's `after` (a company id), when there is one.
    next: Option<String>,
    /// Whether this is the first page (the others link back to it).
    first_page: bool,
    /// The next page link's words.
    more: &'a str,
}

/// `GET /companies?after=ID`: the page after that company (the first
/// without `after`). A link that was not written here, or names a company
/// the person has left since, is 400 with a word on what to do.
pub async fn list(p: PageReq) -> PageResult {
    let visitor = &p.visitor;
    let Some(session) = &visitor.session else {
        return Ok(login_first(&visitor.path));
    };
    let lost = || {
        WebError::Page(
            StatusCode::BAD_REQUEST,
            "Linkul acestei pagini nu mai e valabil: deschide lista de firme de la început.",
            "This page's link is no longer valid: open the list of companies from the start.",
        )
    };
    let after = match visitor.param("after").filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => Some(crate::blocks::id::parse(text).ok_or_else(lost)?),
    };
    let app = p.app();
    let mut db = app.pool.acquire().await?;
    let page = companies::of_user_slice(&mut db, session.user_id, after, PAGE_SIZE)
        .await?
        .ok_or_else(lost)?;
    drop(db);
    let lang = visitor.lang;
    let rows = page
        .items
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
        next: page.next_cursor,
        first_page: after.is_none(),
        more: more_text(lang),
    };
    render(StatusCode::OK, &page)
}
