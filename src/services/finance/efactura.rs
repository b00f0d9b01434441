//! The e-Factura import: documents read from uploaded files
//! ([`crate::blocks::efactura`]) become the company's invoices.
//!
//! Whose invoice a document is comes from the company's own CUI: the
//! company as supplier makes it issued, as customer received, neither
//! skips it. The partner is the other party (its name, and its CUI when it
//! is Romanian). Rows go through the same upsert as the ERP's pushes
//! ([`invoices::upsert`]), so re-importing a file changes nothing and an
//! ERP's row and an imported document meet on the same invoice.
//!
//! Reading is CPU work and memory on untrusted bytes: the process runs at most
//! a few imports at once ([`Imports`], `App::imports`), and [`import_uploads`]
//! reads off the async runtime. A front end takes a [`Slot`] before it reads
//! the upload (the bound is on the bytes held as much as on the CPU), then
//! hands the slot and the files to [`import_uploads`], which does the rest.

use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Direction;
use super::invoices::{self, NewInvoice, Upserted, paid_fits_total};
use super::quota::{self, Exceeded, Quotas};
use crate::blocks::Lang;
use crate::blocks::efactura::{Document, Problem, ReadFile, ZipError, ZipLimits, read_files};
use crate::blocks::local_time::count;
use crate::blocks::validate::Cui;
use crate::services::Failure;

/// e-Factura imports one process runs at once: each holds at most the upload
/// and 50 MB unpacked, and the machine is small.
pub const MAX_CONCURRENT_IMPORTS: usize = 2;

/// The process's bound on imports running at once: cheap to clone, every
/// clone shares the same slots.
#[derive(Debug, Clone)]
pub struct Imports(Arc<Semaphore>);

/// One import's place within [`Imports`], held from before its upload is read
/// until it is done; dropping it frees the place.
#[derive(Debug)]
pub struct Slot(#[expect(dead_code, reason = "held only to keep the place")] OwnedSemaphorePermit);

impl Imports {
    /// A bound of `slots` imports at once (tests use 0 to see the refusal).
    pub fn new(slots: usize) -> Self {
        Self(Arc::new(Semaphore::new(slots)))
    }

    /// A free place, or `None` when imports are at their bound: the caller
    /// turns the import away (it does not wait, so a queue of uploads cannot
    /// pile up in memory).
    pub fn try_slot(&self) -> Option<Slot> {
        self.0.clone().try_acquire_owned().ok().map(Slot)
    }
}

impl Default for Imports {
    /// [`MAX_CONCURRENT_IMPORTS`] at once.
    fn default() -> Self {
        Self::new(MAX_CONCURRENT_IMPORTS)
    }
}

/// Longest partner name kept (the invoices table's bound); longer legal names are cut.
const MAX_PARTNER_CHARS: usize = 300;
/// Longest number kept (the invoices table's bound).
const MAX_NUMBER_CHARS: usize = 100;

/// Why a file of an upload was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The file holds no document ledgerbot reads.
    Unreadable(Problem),
    /// A whole ZIP that was not opened (among several uploads).
    Archive(ZipError),
    /// Neither the supplier nor the customer is the company.
    NotOurs,
    /// The same invoice came earlier in this upload, in `first`.
    Repeated {
        /// The file that carried it first.
        first: String,
    },
    /// The document reads but its figures do not make an invoice ledgerbot keeps.
    Unfit(Unfit),
}

/// What makes a document's figures unfit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfit {
    /// The number is longer than 100 characters.
    LongNumber,
    /// The due date is before the issue date.
    DueBeforeIssue,
    /// The amount paid has the other sign than the total.
    PaidSign,
}

impl Reason {
    /// The reason as a person reads it; the API answers in English.
    pub fn describe(&self, lang: Lang) -> String {
        match self {
            Self::Unreadable(problem) => problem.describe(lang),
            Self::Archive(error) => error.describe(lang),
            Self::NotOurs => lang
                .pick(
                    "nici furnizorul, nici clientul nu este această firmă (după CUI)",
                    "neither the supplier nor the customer is this company (by CUI)",
                )
                .into(),
            Self::Repeated { first } => match lang {
                Lang::Ro => format!("aceeași factură este și în {first}"),
                Lang::En => format!("the same invoice is also in {first}"),
            },
            Self::Unfit(unfit) => match unfit {
                Unfit::LongNumber => lang.pick(
                    "numărul facturii are peste 100 de caractere",
                    "the invoice number is longer than 100 characters",
                ),
                Unfit::DueBeforeIssue => lang.pick(
                    "scadența este înaintea datei facturii",
                    "the due date is before the issue date",
                ),
                Unfit::PaidSign => lang.pick(
                    "suma achitată are alt semn decât totalul",
                    "the amount paid has the other sign than the total",
                ),
            }
            .into(),
        }
    }
}

/// A file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its name (in its ZIP, folders included).
    pub file: String,
    /// Why.
    pub reason: Reason,
}

/// What an import did: every document counted once, in exactly one place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// New invoices.
    pub imported: u64,
    /// Invoices that were there and changed.
    pub updated: u64,
    /// Invoices that were there exactly so.
    pub unchanged: u64,
    /// Files not imported, with their reasons.
    pub skipped: Vec<Skipped>,
}

/// The API's form of a [`Summary`]: reasons in English.
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    imported: u64,
    updated: u64,
    unchanged: u64,
    skipped: Vec<SkippedJson>,
}

#[derive(Debug, Serialize)]
struct SkippedJson {
    file: String,
    reason: String,
}

impl Summary {
    /// The three counts as a person reads them ("1 factură nouă", "20 de facturi
    /// neschimbate"): the bot's answer and the upload page say the same.
    pub fn counts(&self, lang: Lang) -> [String; 3] {
        [
            count(
                lang,
                self.imported,
                ["factură nouă", "facturi noi"],
                ["new invoice", "new invoices"],
            ),
            count(
                lang,
                self.updated,
                ["factură actualizată", "facturi actualizate"],
                ["updated invoice", "updated invoices"],
            ),
            count(
                lang,
                self.unchanged,
                ["factură neschimbată", "facturi neschimbate"],
                ["unchanged invoice", "unchanged invoices"],
            ),
        ]
    }

    /// "3 fișiere sărite" / "3 files skipped".
    pub fn skipped_count(&self, lang: Lang) -> String {
        count(
            lang,
            self.skipped.len() as u64,
            ["fișier sărit", "fișiere sărite"],
            ["file skipped", "files skipped"],
        )
    }

    /// The answer `POST .../efactura` gives.
    pub fn to_json(&self, lang: Lang) -> SummaryJson {
        SummaryJson {
            imported: self.imported,
            updated: self.updated,
            unchanged: self.unchanged,
            skipped: self
                .skipped
                .iter()
                .map(|s| SkippedJson {
                    file: s.file.clone(),
                    reason: s.reason.describe(lang),
                })
                .collect(),
        }
    }
}

/// One uploaded file: its name and bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it came with (a default when the upload has none).
    pub name: String,
    /// Its bytes.
    pub bytes: bytes::Bytes,
}

/// Reads uploaded files (blocking: call it off the async runtime). A ZIP that is
/// not read at all is `Err` when it is the only upload (the front end refuses the
/// request), and a skipped file among several.
///
/// # Errors
/// The single upload is a ZIP beyond the bounds or not a ZIP we read.
fn read(uploads: &[Upload]) -> Result<(Vec<ReadFile>, Vec<Skipped>), ZipError> {
    let limits = ZipLimits::default();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for upload in uploads {
        match read_files(&upload.name, &upload.bytes, limits) {
            Ok(read) => files.extend(read),
            Err(e) if uploads.len() == 1 => return Err(e),
            Err(e) => skipped.push(Skipped {
                file: upload.name.clone(),
                reason: Reason::Archive(e),
            }),
        }
    }
    Ok((files, skipped))
}

/// The invoice a document is for the company of CUI `ours`, or why it is none.
pub fn invoice_of(ours: &Cui, document: &Document) -> Result<NewInvoice, Reason> {
    let is_ours = |cui: &Option<Cui>| cui.as_ref() == Some(ours);
    let (direction, partner) = if is_ours(&document.supplier.cui) {
        (Direction::Issued, &document.customer)
    } else if is_ours(&document.customer.cui) {
        (Direction::Received, &document.supplier)
    } else {
        return Err(Reason::NotOurs);
    };
    if document.number.chars().count() > MAX_NUMBER_CHARS {
        return Err(Reason::Unfit(Unfit::LongNumber));
    }
    if document.due_date < document.issue_date {
        return Err(Reason::Unfit(Unfit::DueBeforeIssue));
    }
    if !paid_fits_total(document.total, document.paid) {
        return Err(Reason::Unfit(Unfit::PaidSign));
    }
    // A party without any name is still someone: its CUI, else a word saying so.
    let name: String = partner.name.chars().take(MAX_PARTNER_CHARS).collect();
    let name = match (name.trim(), &partner.cui) {
        ("", Some(cui)) => cui.as_str().to_owned(),
        ("", None) => "?".to_owned(),
        (name, _) => name.to_owned(),
    };
    Ok(NewInvoice {
        number: document.number.clone(),
        direction,
        partner: name,
        partner_cui: partner.cui.clone(),
        issue_date: document.issue_date,
        due_date: document.due_date,
        total: document.total,
        paid: document.paid,
        currency: document.currency,
    })
}

/// Sorts read files into rows to import (each invoice once) and skipped files.
pub fn sort(
    ours: &Cui,
    files: Vec<ReadFile>,
    mut skipped: Vec<Skipped>,
) -> (Vec<NewInvoice>, Vec<Skipped>) {
    let mut rows: Vec<NewInvoice> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    for file in files {
        let reason = match file.document {
            Err(problem) => Reason::Unreadable(problem),
            Ok(document) => match invoice_of(ours, &document) {
                Err(reason) => reason,
                Ok(row) => match rows.iter().position(|r| r.key() == row.key()) {
                    Some(at) => Reason::Repeated {
                        first: sources[at].clone(),
                    },
                    None => {
                        rows.push(row);
                        sources.push(file.file);
                        continue;
                    }
                },
            },
        };
        skipped.push(Skipped {
            file: file.file,
            reason,
        });
    }
    (rows, skipped)
}

/// What became of an import.
#[derive(Debug)]
pub enum Imported {
    /// Done; the summary says what happened to each file.
    Done(Summary),
    /// The only upload is a ZIP that was not opened at all (not a ZIP we
    /// read, or beyond the bounds): nothing to import.
    Unopened {
        /// The upload's name.
        file: String,
        /// Why it was not opened.
        error: ZipError,
    },
    /// The company has no CUI, so whose a document is cannot be told.
    NoCompanyCui,
    /// The import would take the company past its invoices limit
    /// (`MAX_INVOICES_PER_COMPANY`), so nothing of it was kept, as with a push.
    OverLimit(Exceeded),
}

/// The whole import of uploaded files into the company of `company_id` and
/// CUI `company_cui`: reads them off the async runtime (within
/// [`ZipLimits`]), sorts the documents, and upserts them in one transaction
/// under the company's invoices limit ([`import`]). `slot` is the place the
/// caller took in [`Imports`] before reading the upload; it is held until the
/// import is done.
///
/// # Errors
/// The database failed, or reading panicked.
pub async fn import_uploads(
    slot: Slot,
    pool: &PgPool,
    quotas: Quotas,
    company_id: i64,
    company_cui: Option<&str>,
    uploads: Vec<Upload>,
) -> Result<Imported, Failure> {
    let single = match uploads.as_slice() {
        [only] => Some(only.name.clone()),
        _ => None,
    };
    let read = tokio::task::spawn_blocking(move || read(&uploads))
        .await
        .map_err(|e| Failure::Internal(anyhow::Error::new(e).context("reading e-Factura files")))?;
    let (files, skipped) = match read {
        Ok(read) => read,
        Err(error) => {
            return Ok(Imported::Unopened {
                file: single.unwrap_or_default(),
                error,
            });
        }
    };
    let imported = import(pool, quotas, company_id, company_cui, files, skipped).await?;
    drop(slot);
    if let Imported::Done(summary) = &imported {
        tracing::info!(
            company.id = company_id,
            imported = summary.imported,
            updated = summary.updated,
            unchanged = summary.unchanged,
            skipped = summary.skipped.len(),
            "e-Factura imported"
        );
    }
    Ok(imported)
}

/// Imports the read files into the company of `company_id` and CUI `company_cui`,
/// all in one transaction, which the company's invoices limit (`quotas`)
/// counts before it commits: past it, nothing is imported
/// ([`Imported::OverLimit`]), as the JSON and CSV pushes refuse a batch.
///
/// # Errors
/// The database failed.
async fn import(
    pool: &PgPool,
    quotas: Quotas,
    company_id: i64,
    company_cui: Option<&str>,
    files: Vec<ReadFile>,
    skipped: Vec<Skipped>,
) -> Result<Imported, sqlx::Error> {
    let Some(ours) = company_cui.and_then(|cui| Cui::parse(cui).ok()) else {
        return Ok(Imported::NoCompanyCui);
    };
    let (rows, skipped) = sort(&ours, files, skipped);
    let mut tx = pool.begin().await?;
    let done = match invoices::upsert(&mut tx, company_id, &rows).await {
        Ok(done) => done,
        // Two documents that reach one stored invoice (a supplier once with, once
        // without its CUI): one at a time, the later one wins, as two uploads would.
        Err(e) if invoices::is_same_invoice_twice(&e) => {
            drop(tx);
            tx = pool.begin().await?;
            let mut done = Upserted::default();
            for row in &rows {
                let one = invoices::upsert(&mut tx, company_id, std::slice::from_ref(row)).await?;
                done.inserted += one.inserted;
                done.updated += one.updated;
                done.unchanged += one.unchanged;
            }
            done
        }
        Err(e) => return Err(e),
    };
    if let Some(over) = quota::invoices_within(&mut tx, quotas, company_id).await? {
        return Ok(Imported::OverLimit(over));
    }
    tx.commit().await?;
    Ok(Imported::Done(Summary {
        imported: done.inserted,
        updated: done.updated,
        unchanged: done.unchanged,
        skipped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::efactura::read_document;

    fn ours() -> Cui {
        Cui::parse("RO18547290").expect("valid")
    }

    fn doc(name: &str) -> Document {
        let path = format!(
            "{}/tests/fixtures/efactura/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        read_document(&std::fs::read(path).expect("fixture")).expect("readable")
    }

    #[test]
    fn the_company_as_supplier_issues_and_as_customer_receives() {
        let issued = invoice_of(&ours(), &doc("f-ad-2026-0147.xml")).expect("ours");
        assert_eq!(issued.direction, Direction::Issued);
        assert_eq!(issued.partner, "Construct Nord SA");
        assert_eq!(
            issued.partner_cui.as_ref().map(Cui::as_str),
            Some("30684326")
        );
        let received = invoice_of(&ours(), &doc("pcl-9921.xml")).expect("ours");
        assert_eq!(received.direction, Direction::Received);
        assert_eq!(received.partner, "Papetăria Centrală & Birotică SRL");
        assert_eq!(
            received.partner_cui.as_ref().map(Cui::as_str),
            Some("14265474")
        );
        assert_eq!(
            invoice_of(&ours(), &doc("alt-client-77.xml")),
            Err(Reason::NotOurs)
        );
        let foreign = invoice_of(&ours(), &doc("inv-eur-2026-31.xml")).expect("ours");
        assert_eq!(foreign.partner_cui, None, "a German VAT number is no CUI");
    }

    #[test]
    fn a_document_twice_in_one_upload_is_imported_once() {
        let read = |file: &str, name: &str| ReadFile {
            file: file.into(),
            document: Ok(doc(name)),
        };
        let files = vec![
            read("a.xml", "f-ad-2026-0147.xml"),
            read("b.xml", "f-ad-2026-0147.xml"),
            read("c.xml", "pcl-9921.xml"),
        ];
        let (rows, skipped) = sort(&ours(), files, Vec::new());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            skipped,
            [Skipped {
                file: "b.xml".into(),
                reason: Reason::Repeated {
                    first: "a.xml".into()
                }
            }]
        );
    }

    #[test]
    fn imports_turn_the_next_away_at_their_bound_until_a_slot_is_freed() {
        let imports = Imports::new(2);
        let first = imports.try_slot().expect("a free slot");
        let _second = imports.clone().try_slot().expect("clones share the slots");
        assert!(imports.try_slot().is_none(), "both slots are taken");
        drop(first);
        assert!(imports.try_slot().is_some(), "a dropped slot is free again");
        assert!(Imports::new(0).try_slot().is_none());
    }

    #[tokio::test]
    async fn a_single_zip_that_does_not_open_is_unopened_before_the_database_is_asked() {
        // A pool that connects to nothing: the read refuses the upload first.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .expect("a lazy pool");
        let slot = Imports::new(1).try_slot().expect("a free slot");
        let uploads = vec![Upload {
            name: "spv.zip".into(),
            bytes: bytes::Bytes::from_static(b"PK\x03\x04 not really a zip"),
        }];
        let imported = import_uploads(slot, &pool, Quotas::default(), 1, Some("18547290"), uploads)
            .await
            .expect("no database needed");
        assert!(
            matches!(
                &imported,
                Imported::Unopened { file, error: ZipError::NotZip } if file == "spv.zip"
            ),
            "{imported:?}"
        );
    }

    #[test]
    fn every_reason_reads_in_both_languages() {
        let reasons = [
            Reason::NotOurs,
            Reason::Repeated {
                first: "a.xml".into(),
            },
            Reason::Unfit(Unfit::LongNumber),
            Reason::Unfit(Unfit::DueBeforeIssue),
            Reason::Unfit(Unfit::PaidSign),
            Reason::Archive(ZipError::NotZip),
        ];
        for reason in reasons {
            assert_ne!(
                reason.describe(Lang::Ro),
                reason.describe(Lang::En),
                "{reason:?}"
            );
        }
    }
}
