//! e-Factura files as people get them from ANAF's SPV: UBL 2.1 documents
//! (CIUS-RO), one at a time or in ZIP archives beside ANAF's signature.
//!
//! - [`ubl`]: one `Invoice` or `CreditNote` read down to the figures ledgerbot keeps.
//! - [`zip`]: the files of a ZIP, read within bounds that no zip bomb gets past.
//! - [`read_files`]: an uploaded file, XML or ZIP, as the documents in it, each
//!   read or with the reason it was not.
//!
//! All pure: bytes in, values or reasons out. What the company makes of a
//! document (issued or received, new or already known) is the import
//! service's business (`services::finance::efactura`).

pub mod ubl;
pub mod zip;

pub use ubl::{Document, DocumentKind, Party, UblError, read_document};
pub use zip::{Archive, EntryError, ZipError, ZipLimits};

use crate::blocks::Lang;

/// Why one file of an upload holds no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The XML is not a document ledgerbot can keep.
    #[error(transparent)]
    Ubl(#[from] UblError),
    /// The file could not be taken out of its ZIP.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A file in a ZIP that is not XML.
    #[error("not an XML file")]
    NotXml,
    /// A ZIP inside the ZIP.
    #[error("a ZIP inside a ZIP is not opened; upload it on its own")]
    NestedZip,
}

impl Problem {
    /// The reason in a person's language (the API uses `Display`, in English).
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Ubl(e), _) => e.describe(lang),
            (Self::Entry(e), _) => e.describe(lang),
            (_, Lang::En) => self.to_string(),
            (Self::NotXml, Lang::Ro) => "nu este un fișier XML".into(),
            (Self::NestedZip, Lang::Ro) => {
                "o arhivă ZIP din altă arhivă ZIP nu se deschide; încărcați-o separat".into()
            }
        }
    }
}

/// One file of an upload: its name, and its document or why it has none.
#[derive(Debug)]
pub struct ReadFile {
    /// The name it was uploaded under, or its name in the ZIP.
    pub file: String,
    /// The document, or why there is none.
    pub document: Result<Document, Problem>,
}

/// Whether `name` is ANAF's signature beside an invoice in SPV's ZIP (`semnatura_<id>.xml`).
pub fn is_anaf_signature(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    base.starts_with("semnatura_") && base.ends_with(".xml")
}

/// Files that archivers add beside the real ones (macOS's `__MACOSX/` folder).
fn is_archiver_litter(name: &str) -> bool {
    name.starts_with("__MACOSX/")
}

/// Reads an uploaded file: a ZIP (recognised by its first bytes, whatever its name) as
/// each document inside it, anything else as one XML document named `name`.
///
/// Inside a ZIP, ANAF's signatures are recognised and left out, as are folders and
/// macOS's `__MACOSX/` litter; every other file is in the answer, read or with its reason.
///
/// # Errors
///
/// [`ZipError`] when the ZIP as a whole is not read: not a ZIP we read, or beyond the bounds.
pub fn read_files(name: &str, bytes: &[u8], limits: ZipLimits) -> Result<Vec<ReadFile>, ZipError> {
    if !zip::looks_like_zip(bytes) {
        return Ok(vec![ReadFile {
            file: name.to_owned(),
            document: read_document(bytes).map_err(Problem::from),
        }]);
    }
    let archive = Archive::open(bytes, limits)?;
    let mut read = Vec::new();
    for entry in archive.files()? {
        if is_anaf_signature(&entry.name) || is_archiver_litter(&entry.name) {
            continue;
        }
        let lower = entry.name.to_ascii_lowercase();
        let document = match entry.content {
            Err(e) => Err(Problem::from(e)),
            Ok(_) if lower.ends_with(".zip") => Err(Problem::NestedZip),
            Ok(_) if !lower.ends_with(".xml") => Err(Problem::NotXml),
            Ok(bytes) => match read_document(&bytes) {
                // A signature under another name is still only a signature.
                Err(UblError::Signature) => continue,
                other => other.map_err(Problem::from),
            },
        };
        read.push(ReadFile {
            file: entry.name,
            document,
        });
    }
    Ok(read)
}

#[cfg(test)]
mod tests;
