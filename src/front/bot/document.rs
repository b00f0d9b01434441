//! A document sent to the bot in a private chat: an e-Factura XML or a ZIP
//! from SPV, imported into the person's active company.
//!
//! The webhook answers at once ([`accept`]: who may import, and whether the
//! file looks like one); the download (`getFile`, then the file's URL) and
//! the import run after the update has committed, off the response path
//! ([`import_later`]), and the summary follows as a message of its own. A
//! retried update is not imported twice: only a fresh claim starts the job.

use crate::blocks::Lang;
use crate::blocks::efactura::ZipError;
use crate::blocks::local_time::invoices;
use crate::blocks::telegram_html::escape;
use crate::front::api::efactura::BODY_LIMIT;
use crate::front::bot::incoming::SentFile;
use crate::front::bot::{BotMethod, Replies, UpdateCtx, require};
use crate::infra::app::App;
use crate::infra::outbox::Answered;
use crate::infra::telegram::DownloadError;
use crate::services::Failure;
use crate::services::finance::efactura::{self, Imported, Summary, Upload};
use crate::services::finance::quota::Exceeded;

/// Skipped files listed in the summary; the rest are counted.
const MAX_LISTED: usize = 15;

/// An import to run once the update has committed.
#[derive(Debug, Clone)]
pub struct FileImport {
    chat_id: i64,
    lang: Lang,
    company_id: i64,
    company_cui: Option<String>,
    file: SentFile,
}

/// Whether a sent file looks like e-Factura: named `.xml` or `.zip` (or unnamed,
/// the bytes decide then).
fn looks_importable(file: &SentFile) -> bool {
    file.name.as_deref().is_none_or(|name| {
        let name = name.to_ascii_lowercase();
        name.ends_with(".xml") || name.ends_with(".zip")
    })
}

/// The webhook's answer to a document, and the import to start, if any.
pub fn accept(ctx: &UpdateCtx<'_>, file: SentFile) -> (Replies, Option<FileImport>) {
    let answer = |text: String| (Replies::html(ctx.chat_id, text), None);
    if !ctx.is_private() {
        // Files shared in a group are the group's business.
        return (Replies::none(), None);
    }
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return answer(unmet),
    };
    if !company.role.can_write() {
        return answer(require::read_only(ctx));
    }
    if !looks_importable(&file) {
        return answer(
            ctx.t(
                "Pot importa doar facturi e-Factura: un fișier XML sau arhiva ZIP descărcată din SPV.",
                "I can only import e-Factura invoices: an XML file, or the ZIP downloaded from SPV.",
            )
            .to_owned(),
        );
    }
    if file.size.is_some_and(|size| size > BODY_LIMIT as u64) {
        return answer(too_large(ctx.lang));
    }
    let name = escape(file.name.as_deref().unwrap_or("?"));
    let company_name = escape(&company.name);
    let text = match ctx.lang {
        Lang::Ro => format!("Import <b>{name}</b> în {company_name}; îți scriu când e gata."),
        Lang::En => {
            format!("Importing <b>{name}</b> into {company_name}; I'll write when it's done.")
        }
    };
    let job = FileImport {
        chat_id: ctx.chat_id,
        lang: ctx.lang,
        company_id: company.id,
        company_cui: company.cui.clone(),
        file,
    };
    (Replies::html(ctx.chat_id, text), Some(job))
}

fn too_large(lang: Lang) -> String {
    lang.pick(
        "Fișierul are peste 10 MB, cât primesc cel mult. Trimite facturile în mai multe arhive.",
        "The file is over 10 MB, the most I take. Send the invoices in several archives.",
    )
    .to_owned()
}

/// Runs `job` in the background: download, import, and the summary as a
/// message, which keeps the chat's spacing after the webhook's `answered`.
pub fn import_later(app: &App, job: FileImport, answered: Option<Answered>) {
    let app = app.clone();
    let running = app.bot.track();
    tokio::spawn(async move {
        let text = import(&app, &job).await;
        let message = BotMethod::html(job.chat_id, text);
        // The import has committed; its summary is queued right after.
        if let Err(e) =
            crate::infra::outbox::send_soon(&app.pool, &app.outbox, &[message], answered).await
        {
            tracing::warn!(chat.id = job.chat_id, error = %e, "the import's summary could not be queued");
        }
        drop(running);
    });
}

/// Downloads and imports the file; the message to send, whatever happened.
async fn import(app: &App, job: &FileImport) -> String {
    let lang = job.lang;
    let Some(slot) = app.imports.try_slot() else {
        return lang
            .pick(
                "Rulează deja alte importuri. Trimite fișierul din nou peste un minut.",
                "Other imports are running. Send the file again in a minute.",
            )
            .to_owned();
    };
    let bytes = match app.bot.download(&job.file.file_id, BODY_LIMIT as u64).await {
        Ok(bytes) => bytes,
        Err(DownloadError::TooLarge) => return too_large(lang),
        Err(e) => {
            tracing::warn!(chat.id = job.chat_id, error = %e, "e-Factura file not downloaded");
            return lang
                .pick(
                    "Nu am putut descărca fișierul de la Telegram. Trimite-l din nou.",
                    "I could not download the file from Telegram. Please send it again.",
                )
                .to_owned();
        }
    };
    let name = job
        .file
        .name
        .clone()
        .unwrap_or_else(|| "document.xml".into());
    let imported = efactura::import_uploads(
        slot,
        &app.pool,
        app.config.quotas,
        job.company_id,
        job.company_cui.as_deref(),
        vec![Upload { name, bytes }],
    )
    .await;
    match imported {
        Ok(Imported::Done(summary)) => summary_text(lang, &summary),
        Ok(Imported::Unopened { error, .. }) => refused(lang, &error),
        Ok(Imported::NoCompanyCui) => lang
            .pick(
                "Firma nu are CUI, așa că nu pot spune care facturi sunt emise și care primite. \
                 Adaugă CUI-ul firmei, apoi trimite fișierul din nou.",
                "The company has no CUI, so I cannot tell issued invoices from received ones. \
                 Add the company's CUI, then send the file again.",
            )
            .to_owned(),
        Ok(Imported::OverLimit(over)) => over_limit(lang, over),
        Err(e) => {
            if let Failure::Db(e) = &e {
                crate::infra::db::note_error(e);
            }
            tracing::error!(error = format!("{e:#}"), "e-Factura import failed");
            went_wrong(lang)
        }
    }
}

fn refused(lang: Lang, zip: &ZipError) -> String {
    match lang {
        Lang::Ro => format!("Nu am importat nimic: {}.", escape(&zip.describe(lang))),
        Lang::En => format!("Nothing was imported: {}.", escape(&zip.describe(lang))),
    }
}

/// The company's invoices limit would be passed: nothing was imported.
fn over_limit(lang: Lang, over: Exceeded) -> String {
    let (max, would_be) = (
        invoices(lang, u64::from(over.max)),
        invoices(lang, over.would_be.unsigned_abs()),
    );
    match lang {
        Lang::Ro => format!(
            "Nu am importat nimic: o firmă poate avea cel mult {max}, iar cu acest fișier ar avea {would_be}."
        ),
        Lang::En => format!(
            "Nothing was imported: a company may hold at most {max}, and this file would make it {would_be}."
        ),
    }
}

fn went_wrong(lang: Lang) -> String {
    lang.pick(
        "Ceva nu a mers la import; nu s-a salvat nimic. Încearcă din nou peste puțin timp.",
        "Something went wrong with the import; nothing was saved. Please try again shortly.",
    )
    .to_owned()
}

/// The summary: what was imported, updated, unchanged, and each skipped file with its reason.
pub fn summary_text(lang: Lang, summary: &Summary) -> String {
    let counts = summary.counts(lang).join(", ");
    let mut text = format!("<b>e-Factura</b>: {counts}.");
    if !summary.skipped.is_empty() {
        let files = summary.skipped_count(lang);
        text.push_str(&format!("\n\n{files}:"));
        for skipped in summary.skipped.iter().take(MAX_LISTED) {
            text.push_str(&format!(
                "\n• {}: {}",
                escape(&skipped.file),
                escape(&skipped.reason.describe(lang))
            ));
        }
        let rest = summary.skipped.len().saturating_sub(MAX_LISTED);
        if rest > 0 {
            text.push_str(&match lang {
                Lang::Ro => format!("\n… și încă {rest}."),
                Lang::En => format!("\n… and {rest} more."),
            });
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::finance::efactura::{Reason, Skipped};

    #[test]
    fn the_summary_counts_with_plurals_and_lists_what_was_skipped() {
        let summary = Summary {
            imported: 1,
            updated: 2,
            unchanged: 20,
            skipped: vec![Skipped {
                file: "a<b>.pdf".into(),
                reason: Reason::NotOurs,
            }],
        };
        assert_eq!(
            summary_text(Lang::Ro, &summary),
            "<b>e-Factura</b>: 1 factură nouă, 2 facturi actualizate, 20 de facturi neschimbate.\n\n\
             1 fișier sărit:\n• a&lt;b&gt;.pdf: nici furnizorul, nici clientul nu este această firmă (după CUI)"
        );
        assert!(summary_text(Lang::En, &summary).starts_with(
            "<b>e-Factura</b>: 1 new invoice, 2 updated invoices, 20 unchanged invoices.\n\n1 file skipped:"
        ));
    }
}
