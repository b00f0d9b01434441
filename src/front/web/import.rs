//! `/companies/{id}/import`: e-Factura files in through the browser. An
//! owner or accountant picks (or drops) one or many XML documents or SPV
//! ZIPs; the page then says what was imported, updated or unchanged, and
//! which files were skipped and why. The same import as
//! `POST /api/v1/companies/{id}/efactura` ([`efactura`]), under the same
//! bounds: one file at most the API's body limit, all of them together too,
//! and the process's import slots (`App::imports`).
//!
//! The form is plain `multipart/form-data`, so it works without JavaScript;
//! a few lines of script only let files be dropped on it. The body is read
//! as it arrives ([`multer`]) and refused at the first bound it breaks.

use askama::Template;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use multer::{Constraints, Multipart, SizeLimit};

use super::html::login_first;
use super::{Frame, PageReq, PageResult, WebError, render};
use crate::front::api::efactura::{self as api, RETRY_AFTER, clean_name};
use crate::infra::http_io::ApiError;
use crate::infra::router::{BodyTooLarge, Id};
use crate::services::finance::companies::{self, Company};
use crate::services::finance::efactura::{self, Imported, Reason, Skipped, Summary, Upload};
use crate::services::rate_limit;

/// The most files one upload may carry; more go in a ZIP.
pub const MAX_FILES: usize = 50;

/// The largest file: the API's body limit.
const FILE_LIMIT: usize = api::BODY_LIMIT;

/// The largest upload (the route's body limit): the files together as much
/// as the API takes in one request, plus room for each part's boundary and
/// headers.
pub const BODY_LIMIT: usize = FILE_LIMIT + 64 * 1024;

// The room beyond the files fits every part's boundary and headers (about
// 200 bytes from a browser; 1 KiB each leaves a margin).
const _: () = assert!(BODY_LIMIT - FILE_LIMIT >= (MAX_FILES + 1) * 1024);

/// The form's fields: its CSRF token (sent first, as the page orders them), then the files.
const CSRF_FIELD: &str = "csrf";
const FILES_FIELD: &str = "files";

/// The company of the path when the visitor may import into it: 404 page to a
/// non-member (no hint that the company exists), 403 page to a viewer.
async fn writable(p: &PageReq, user_id: i64) -> Result<Company, WebError> {
    let Id(company_id) = p.req.param("id")?;
    let mut db = p.app().pool.acquire().await?;
    let company = companies::for_member(&mut db, company_id, user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    if !company.role.can_write() {
        return Err(WebError::Page(
            StatusCode::FORBIDDEN,
            "Doar proprietarul sau contabilul firmei poate importa facturi. Rolul tău îți permite să vezi cifrele firmei.",
            "Only the company's owner or accountant can import invoices. Your role lets you see the company's figures.",
        ));
    }
    Ok(company)
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    company: &'a str,
    has_cui: bool,
    action: &'a str,
    csrf: &'a str,
    max_files: usize,
}

/// `GET /companies/{id}/import`: the form.
pub async fn page(p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(login_first(&visitor.path));
    };
    let company = writable(&p, session.user_id).await?;
    let page = ImportPage {
        frame: Frame::of(&visitor),
        title: visitor.lang.pick("Import e-Factura", "e-Factura import"),
        company: &company.name,
        has_cui: company.cui.is_some(),
        action: &visitor.path,
        csrf: &session.csrf,
        max_files: MAX_FILES,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "import_done.html")]
struct DonePage<'a> {
    frame: Frame<'a>,
    title: &'a str,
    company: &'a str,
    counts: [String; 3],
    skipped_count: String,
    /// Each skipped file and why, in the visitor's language.
    skipped: Vec<(String, String)>,
    action: &'a str,
}

/// `POST /companies/{id}/import`: reads the files, imports them, shows the summary.
pub async fn upload(mut p: PageReq) -> PageResult {
    let visitor = p.visitor.clone();
    let Some(session) = &visitor.session else {
        return Ok(login_first(&visitor.path));
    };
    // Before the body is read: counted like the API's company requests, and
    // nothing is read for someone who may not import.
    let app = p.app().clone();
    let mut db = app.pool.acquire().await?;
    let limit = app.config.rate_limits.company_api;
    if let Some(after) = rate_limit::check(&mut db, limit, &session.user_id.to_string()).await? {
        tracing::warn!(user.id = session.user_id, "upload page rate limit hit");
        return Err(ApiError::TooManyRequests(after).into());
    }
    drop(db);
    let company = writable(&p, session.user_id).await?;
    let Some(slot) = app.imports.try_slot() else {
        return Err(WebError::Busy(
            "Rulează deja alte importuri. Încearcă din nou peste câteva secunde.",
            "Other imports are running. Try again in a few seconds.",
            RETRY_AFTER,
        ));
    };
    let uploads = read_form(&mut p).await?;
    if uploads.is_empty() {
        return Err(WebError::Page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nu ai ales niciun fișier. Alege unul sau mai multe fișiere XML sau ZIP.",
            "You did not choose any file. Choose one or more XML or ZIP files.",
        ));
    }
    let lang = visitor.lang;
    let imported = efactura::import_uploads(
        slot,
        &app.pool,
        app.config.quotas,
        company.id,
        company.cui.as_deref(),
        uploads,
    )
    .await?;
    let done = |status, summary: &Summary| {
        let page = DonePage {
            frame: Frame::of(&visitor),
            title: lang.pick("Import e-Factura", "e-Factura import"),
            company: &company.name,
            counts: summary.counts(lang),
            skipped_count: summary.skipped_count(lang),
            skipped: summary
                .skipped
                .iter()
                .map(|s| (s.file.clone(), s.reason.describe(lang)))
                .collect(),
            action: &visitor.path,
        };
        render(status, &page)
    };
    let summary = match imported {
        Imported::Done(summary) => summary,
        // The one upload, a ZIP that was not opened: nothing to import.
        Imported::Unopened { file, error } => {
            let summary = Summary {
                skipped: vec![Skipped {
                    file,
                    reason: Reason::Archive(error),
                }],
                ..Summary::default()
            };
            return done(StatusCode::UNPROCESSABLE_ENTITY, &summary);
        }
        Imported::NoCompanyCui => {
            return Err(WebError::Page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Firma nu are CUI, așa că nu se poate spune care facturi sunt emise și care primite. Adaugă CUI-ul firmei, apoi importă din nou.",
                "The company has no CUI, so issued invoices cannot be told from received ones. Add the company's CUI, then import again.",
            ));
        }
        Imported::OverLimit(_) => {
            return Err(WebError::Page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Nu am importat nimic: cu aceste fișiere firma ar avea mai multe facturi decât îi sunt permise.",
                "Nothing was imported: with these files the company would hold more invoices than it is allowed.",
            ));
        }
    };
    done(StatusCode::OK, &summary)
}

/// Reads the upload form: its CSRF token first (checked as every form's,
/// [`super::session::Visitor::session_form_ok`]), then the files, each at
/// most [`FILE_LIMIT`], at most [`MAX_FILES`], all within [`BODY_LIMIT`].
///
/// # Errors
/// A page for each refusal: 415 when the body is no `multipart/form-data`,
/// 403 without the right token (or a file before it), 413 past a bound, 400
/// for a form that does not read.
async fn read_form(p: &mut PageReq) -> Result<Vec<Upload>, WebError> {
    let boundary = p
        .req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or(WebError::Page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Trimite fișierele cu formularul acestei pagini.",
            "Send the files with this page's form.",
        ))?;
    let (app, headers, visitor) = (
        p.req.app.clone(),
        p.req.headers().clone(),
        p.visitor.clone(),
    );
    let constraints = Constraints::new()
        .allowed_fields(vec![CSRF_FIELD, FILES_FIELD])
        .size_limit(
            SizeLimit::new()
                .whole_stream(BODY_LIMIT as u64)
                .per_field(FILE_LIMIT as u64)
                .for_field(CSRF_FIELD, 256),
        );
    let mut form = Multipart::with_constraints(p.req.body_stream(), boundary, constraints);
    let mut csrf_ok = false;
    let mut uploads: Vec<Upload> = Vec::new();
    let mut parts = 0;
    while let Some(field) = form.next_field().await.map_err(refusal)? {
        parts += 1;
        if parts > MAX_FILES + 1 {
            return Err(too_many());
        }
        if field.name() == Some(CSRF_FIELD) {
            let sent = field.text().await.map_err(refusal)?;
            csrf_ok = visitor.session_form_ok(&app.config, &headers, Some(&sent));
            if !csrf_ok {
                return Err(WebError::Csrf);
            }
            continue;
        }
        // The page's form sends its token before the files: a file before it
        // did not come from the page, and is not kept.
        if !csrf_ok {
            return Err(WebError::Csrf);
        }
        let name = field.file_name().and_then(clean_name);
        let bytes = field.bytes().await.map_err(refusal)?;
        // A file input left empty is sent as a part without a name or bytes.
        if name.is_none() && bytes.is_empty() {
            continue;
        }
        let name = name.unwrap_or_else(|| format!("file-{}", uploads.len() + 1));
        uploads.push(Upload { name, bytes });
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    Ok(uploads)
}

fn too_many() -> WebError {
    WebError::Page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Poți trimite cel mult 50 de fișiere deodată. Pune-le pe celelalte într-o arhivă ZIP.",
        "You can send at most 50 files at once. Put the others in a ZIP archive.",
    )
}

/// The page for a form the parser refused.
fn refusal(e: multer::Error) -> WebError {
    let too_large = WebError::Page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Fișierele trimise depășesc 10 MB (unul singur sau toate la un loc), cât se primește cel mult odată. Trimite-le în mai multe încărcări.",
        "The files sent are over 10 MB (one alone or all together), the most taken at once. Send them in several uploads.",
    );
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            too_large
        }
        multer::Error::StreamReadFailed(e) if e.is::<BodyTooLarge>() => too_large,
        multer::Error::StreamReadFailed(_) => WebError::Page(
            StatusCode::BAD_REQUEST,
            "Încărcarea s-a întrerupt. Încearcă din nou.",
            "The upload was interrupted. Please try again.",
        ),
        other => {
            tracing::info!(error = %other, "upload form refused");
            WebError::Page(
                StatusCode::BAD_REQUEST,
                "Formularul nu a putut fi citit. Reîncarcă pagina și încearcă din nou.",
                "The form could not be read. Reload the page and try again.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::Lang;

    #[test]
    fn summaries_read_with_plurals_in_both_languages() {
        let summary = Summary {
            imported: 1,
            updated: 0,
            unchanged: 20,
            skipped: vec![],
        };
        assert_eq!(
            summary.counts(Lang::Ro).join(", "),
            "1 factură nouă, 0 facturi actualizate, 20 de facturi neschimbate"
        );
        assert_eq!(
            summary.counts(Lang::En).join(", "),
            "1 new invoice, 0 updated invoices, 20 unchanged invoices"
        );
    }
}
