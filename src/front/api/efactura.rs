//! `POST /api/v1/companies/{id}/efactura`: e-Factura documents in, as one UBL
//! XML or a ZIP of them as SPV serves them.

use std::time::Duration;

use http::StatusCode;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use super::companies::{limit_reached, writer_of};
use crate::blocks::Lang;
use crate::infra::http_io::{ApiError, HttpResponse, json};
use crate::infra::router::Req;
use crate::services::finance::efactura::{self, Imported, Upload};

/// The largest upload: ANAF's own cap on one e-Factura XML, and room for a ZIP of
/// a few hundred of them.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// How long a client turned away because imports are at their bound should wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The media types taken: the two the contract names, and what browsers and
/// Windows call the same things.
const XML_TYPES: [&str; 2] = ["application/xml", "text/xml"];
const ZIP_TYPES: [&str; 2] = ["application/zip", "application/x-zip-compressed"];

/// `POST /api/v1/companies/{id}/efactura` (owner, accountant) → 200
/// `{imported, updated, unchanged, skipped: [{file, reason}]}`; 422
/// `limit_reached` (nothing imported) when the company would hold more
/// invoices than `MAX_INVOICES_PER_COMPANY`, as a push would.
pub async fn import(mut req: Req) -> Result<HttpResponse, ApiError> {
    let company = writer_of(&req).await?;
    let name = upload_name(&req)?;
    // Before the body is read: the bound is on memory as much as on CPU.
    let Some(slot) = req.app.imports.try_slot() else {
        return Err(ApiError::Busy(
            "other e-Factura imports are running; try again in a few seconds",
            RETRY_AFTER,
        ));
    };
    let bytes = req.bytes().await?;
    let imported = efactura::import_uploads(
        slot,
        &req.app.pool,
        req.app.config.quotas,
        company.id,
        company.cui.as_deref(),
        vec![Upload { name, bytes }],
    )
    .await?;
    let summary = match imported {
        Imported::Done(summary) => summary,
        Imported::Unopened { error, .. } => return Err(ApiError::Unprocessable(error.to_string())),
        Imported::NoCompanyCui => {
            return Err(ApiError::Unprocessable(
                "the company has no CUI: set it first, since whether a document is issued or \
                 received is read from it"
                    .into(),
            ));
        }
        Imported::OverLimit(over) => return Err(limit_reached(over)),
    };
    Ok(json(StatusCode::OK, &summary.to_json(Lang::En)))
}

/// The file's name for the answer: `Content-Disposition`'s `filename` when given, else
/// `document.xml` or `upload.zip` by the media type.
fn upload_name(req: &Req) -> Result<String, ApiError> {
    let media = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let default = if XML_TYPES.contains(&media.as_str()) {
        "document.xml"
    } else if ZIP_TYPES.contains(&media.as_str()) {
        "upload.zip"
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send one e-Factura XML as application/xml or a ZIP of them as application/zip".into(),
        ));
    };
    let given = req
        .headers()
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(filename);
    Ok(given.unwrap_or_else(|| default.to_owned()))
}

/// `filename="x.zip"` (or unquoted) of a `Content-Disposition`, if any, at most 200 characters.
fn filename(disposition: &str) -> Option<String> {
    let value = disposition
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("filename"))?
        .1
        .trim()
        .trim_matches('"');
    clean_name(value)
}

/// An uploaded file's name as the answer shows it: without a folder (old
/// browsers send the whole path), without control characters, at most 200
/// characters; `None` when nothing is left. The web upload page names its
/// files the same way.
pub fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let value: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_content_disposition() {
        for (header, want) in [
            (r#"attachment; filename="4123.zip""#, Some("4123.zip")),
            ("attachment; filename=f.xml", Some("f.xml")),
            ("attachment; FILENAME = \"a b.xml\"", Some("a b.xml")),
            ("attachment", None),
            (r#"attachment; filename="""#, None),
            (
                r#"attachment; filename="C:\SPV\4123.zip""#,
                Some("4123.zip"),
            ),
            (r#"attachment; filename="spv/4123.zip""#, Some("4123.zip")),
        ] {
            assert_eq!(filename(header).as_deref(), want, "{header}");
        }
    }
}
