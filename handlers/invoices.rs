//! `/facturi [neplatite|platite]` (`/invoices [unpaid|paid]`): a page of the
//! active company's invoices, with ◀/▶ buttons that edit the message in place.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::local_time::count;
use crate::blocks::telegram_html::escape;
use crate::front::bot::format::{clip, date, fit, money};
use crate::front::bot::{BotMethod, Callback, HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::finance::invoices::{self, Invoice, Page, Query};
use crate::services::finance::{Company, Direction, PaidFilter};

/// Invoices per message: with partner names clipped, ten always fit.
pub const PAGE_SIZE: i64 = 10;

/// Characters of a partner's name shown; longer names end in `…`.
const PARTNER_CHARS: usize = 40;

/// Characters of an invoice number shown.
const NUMBER_CHARS: usize = 30;

/// Shows the first page.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "invoices"))]
pub async fn run(ctx: &mut UpdateCtx<'_>, filter: Option<&str>) -> HandlerResult {
    let Some(filter) = filter.map_or(Some(PaidFilter::All), PaidFilter::parse) else {
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Trimite /facturi, /facturi neplatite sau /facturi platite.",
                "Send /invoices, /invoices unpaid or /invoices paid.",
            ),
        ));
    };
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let (text, keyboard) = page(ctx, &company, filter, 1).await?;
    Ok(Replies::one(match keyboard {
        Some(keyboard) => BotMethod::html_with_keyboard(ctx.chat_id, text, keyboard),
        None => BotMethod::html(ctx.chat_id, text),
    }))
}

/// A press on ◀/▶: the page named by the (validated) button data, of the
/// company active now; a page beyond the last shows the last.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "invoices.pressed"))]
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    filter: PaidFilter,
    page_number: i64,
) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(_) => {
            let notice = ctx.t(
                "Nicio firmă activă: trimite /alegefirma.",
                "No active company: send /selectcompany.",
            );
            return Ok(Replies::one(BotMethod::answer_callback(
                callback_query_id,
                Some(notice.to_owned()),
            )));
        }
    };
    let (text, keyboard) = page(ctx, &company, filter, page_number).await?;
    Ok(Replies::one(BotMethod::edit_html(
        ctx.chat_id,
        message_id,
        text,
        keyboard,
    ))
    .then(BotMethod::answer_callback(callback_query_id, None)))
}

async fn page(
    ctx: &mut UpdateCtx<'_>,
    company: &Company,
    filter: PaidFilter,
    page_number: i64,
) -> Result<(String, Option<InlineKeyboardMarkup>), sqlx::Error> {
    let today = ctx.today;
    let mut query = Query {
        status: filter,
        direction: None,
        page: page_number,
        page_size: PAGE_SIZE,
    };
    let mut page = invoices::list(ctx.db, company.id, query, today).await?;
    if page.page > page.page_count() {
        query.page = page.page_count();
        page = invoices::list(ctx.db, company.id, query, today).await?;
    }
    Ok((
        render(ctx.lang, company, filter, &page),
        keyboard(filter, &page),
    ))
}

/// The page as a message.
pub fn render(lang: Lang, company: &Company, filter: PaidFilter, page: &Page<Invoice>) -> String {
    let title = match filter {
        PaidFilter::All => lang.pick("Facturi", "Invoices"),
        PaidFilter::Unpaid => lang.pick("Facturi neplătite", "Unpaid invoices"),
        PaidFilter::Paid => lang.pick("Facturi plătite", "Paid invoices"),
    };
    let mut text = format!("<b>{title}</b> · {}\n", escape(&clip(&company.name, 100)));
    if page.items.is_empty() {
        text.push_str(lang.pick("Nicio factură.", "No invoices."));
        return text;
    }
    let total = count(
        lang,
        page.total.unsigned_abs(),
        ["factură", "facturi"],
        ["invoice", "invoices"],
    );
    text.push_str(&lang.pick(
        format!("pagina {} din {} · {total}\n", page.page, page.page_count()),
        format!("page {} of {} · {total}\n", page.page, page.page_count()),
    ));
    for invoice in &page.items {
        text.push('\n');
        text.push_str(&line(lang, invoice));
    }
    fit(text)
}

fn line(lang: Lang, i: &Invoice) -> String {
    let arrow = match i.direction {
        Direction::Issued => "📤",
        Direction::Received => "📥",
    };
    let amount = if !i.credit.is_zero() {
        // overpaid, or a storno invoice / credit note: owed back (same word in both languages)
        format!(
            "{} · credit {}",
            money(lang, i.total, i.currency),
            money(lang, i.credit, i.currency)
        )
    } else if i.outstanding.is_zero() {
        format!("{} ✓", money(lang, i.total, i.currency))
    } else {
        lang.pick(
            format!(
                "rest {} din {}",
                money(lang, i.outstanding, i.currency),
                money(lang, i.total, i.currency)
            ),
            format!(
                "{} left of {}",
                money(lang, i.outstanding, i.currency),
                money(lang, i.total, i.currency)
            ),
        )
    };
    let overdue = if i.overdue {
        lang.pick(" ⚠️ restantă", " ⚠️ overdue")
    } else {
        ""
    };
    format!(
        "{arrow} <b>{}</b> {}\n{} {} · {amount}{overdue}\n",
        escape(&clip(&i.number, NUMBER_CHARS)),
        escape(&clip(&i.partner, PARTNER_CHARS)),
        lang.pick("scadență:", "due:"),
        date(lang, i.due_date),
    )
}

fn keyboard(filter: PaidFilter, page: &Page<Invoice>) -> Option<InlineKeyboardMarkup> {
    let button = |label: &str, page| {
        InlineKeyboardButton::builder()
            .text(label)
            .callback_data(Callback::InvoicePage { filter, page }.data())
            .build()
    };
    let mut row = Vec::new();
    if page.page > 1 {
        row.push(button("◀", page.page - 1));
    }
    if page.page < page.page_count() {
        row.push(button("▶", page.page + 1));
    }
    (!row.is_empty()).then(|| {
        InlineKeyboardMarkup::builder()
            .inline_keyboard(vec![row])
            .build()
    })
}
