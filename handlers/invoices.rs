//! `/facturi [neplatite|platite] [text]` (`/invoices [unpaid|paid] [text]`):
//! a page of the active company's invoices, those of a partner, a CUI or a
//! number when a text is given, with ⏮/▶ buttons that edit the message in
//! place. Pages are keyset pages ([`invoices::list_after`]): the ▶ button
//! carries where the page ended, so a page costs what the first does.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::format::{clip, date, fit, money};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::finance::invoices::{self, Cursor, Invoice, Search, Slice};
use crate::services::finance::{Company, Direction, PaidFilter};

/// Invoices per message: with partner names clipped, ten always fit.
pub const PAGE_SIZE: i64 = 10;

/// Characters of a partner's name shown; longer names end in `…`.
const PARTNER_CHARS: usize = 40;

/// Characters of an invoice number shown.
const NUMBER_CHARS: usize = 30;

/// Which invoices a message lists: the payment filter and the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct List {
    /// All, unpaid or paid.
    pub filter: PaidFilter,
    /// A partner's name, a CUI or a number, folded; all invoices when `None`.
    pub search: Option<Search>,
}

/// What `/facturi`'s text asks for: a filter word (`neplatite`, `unpaid`,
/// ...) first or last, and the rest is the search; `Err(())` when a text
/// holds no letter or digit to search for.
fn parse(args: Option<&str>) -> Result<List, ()> {
    let text = args.map(str::trim).unwrap_or_default();
    let (filter, rest) = match text.split_once(char::is_whitespace) {
        None if text.is_empty() => (PaidFilter::All, ""),
        None => match PaidFilter::parse(text) {
            Some(filter) => (filter, ""),
            None => (PaidFilter::All, text),
        },
        Some((first, rest)) => match PaidFilter::parse(first) {
            Some(filter) => (filter, rest),
            None => text
                .rsplit_once(char::is_whitespace)
                .and_then(|(rest, last)| Some((PaidFilter::parse(last)?, rest)))
                .unwrap_or((PaidFilter::All, text)),
        },
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(List {
            filter,
            search: None,
        });
    }
    let search = Search::parse(rest).ok_or(())?;
    Ok(List {
        filter,
        search: Some(search),
    })
}

/// Shows the first page.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let Ok(list) = parse(args) else {
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Caut după numele partenerului, CUI sau numărul facturii: scrie litere sau \
                 cifre, de exemplu /facturi brasov, /facturi RO18547290 sau /facturi neplatite.",
                "I search by partner name, CUI or invoice number: write letters or digits, \
                 for example /invoices brasov, /invoices RO18547290 or /invoices unpaid.",
            ),
        ));
    };
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let (text, keyboard) = page(ctx, &company, list, None).await?;
    Ok(Replies::one(match keyboard {
        Some(keyboard) => BotMethod::html_with_keyboard(ctx.chat_id, text, keyboard),
        None => BotMethod::html(ctx.chat_id, text),
    }))
}

/// A press on ⏮/▶: the page after the (validated) button's cursor, of the
/// company active now. A cursor is only a position in the list: one past
/// the end, or from a list that has changed since, shows what follows it.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    list: List,
    after: Option<Cursor>,
) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(_) => {
            let notice = ctx.t(
                "Nicio firmă activă: trimite /alegefirma.",
                "No active company: send /selectcompany.",
            );
            return Ok(Replies::notice(callback_query_id, notice));
        }
    };
    let (text, keyboard) = page(ctx, &company, list, after).await?;
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
    list: List,
    after: Option<Cursor>,
) -> Result<(String, Option<InlineKeyboardMarkup>), sqlx::Error> {
    let filter = (list.filter, None, list.search);
    let page =
        invoices::list_after(ctx.db, company.id, filter, after, PAGE_SIZE, ctx.today).await?;
    Ok((
        render(ctx.lang, company, list, after.is_none(), &page),
        keyboard(list, after.is_some(), &page),
    ))
}

/// The page as a message; `first` says whether it is the list's first page.
pub fn render(
    lang: Lang,
    company: &Company,
    list: List,
    first: bool,
    page: &Slice<Invoice>,
) -> String {
    let title = match list.filter {
        PaidFilter::All => lang.pick("Facturi", "Invoices"),
        PaidFilter::Unpaid => lang.pick("Facturi neplătite", "Unpaid invoices"),
        PaidFilter::Paid => lang.pick("Facturi plătite", "Paid invoices"),
    };
    let mut text = format!("<b>{title}</b> · {}\n", escape(&clip(&company.name, 100)));
    // The folded search is what was looked for: show it as such.
    let searched = list.search.as_ref().map(Search::as_str);
    if let Some(searched) = searched {
        text.push_str(&lang.pick(format!("🔎 „{searched}”\n"), format!("🔎 “{searched}”\n")));
    }
    if page.items.is_empty() {
        text.push_str(match (first, searched) {
            // A search of one or two letters reads a few hundred invoices a
            // page and may find none there (invoices::list_after).
            _ if page.next_cursor.is_some() => lang.pick(
                "Nicio potrivire în facturile căutate până aici: ▶ caută mai departe.",
                "No match in the invoices searched so far: ▶ searches further.",
            ),
            (false, _) => lang.pick("Nu mai sunt facturi.", "No more invoices."),
            (true, Some(_)) => lang.pick("Nicio factură nu se potrivește.", "No invoice matches."),
            (true, None) => lang.pick("Nicio factură.", "No invoices."),
        });
        return text;
    }
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

/// ⏮ back to the first page (when this is not it) and ▶ to the next (when
/// there is one). Keyset pages go forward only; the first page is one tap away.
fn keyboard(list: List, paged: bool, page: &Slice<Invoice>) -> Option<InlineKeyboardMarkup> {
    let button = |label: &str, after| {
        let data = Callback::InvoicePage {
            filter: list.filter,
            after,
            search: list.search,
        };
        InlineKeyboardButton::builder()
            .text(label)
            .callback_data(data.data())
            .build()
    };
    let mut row = Vec::new();
    if paged {
        row.push(button("⏮", None));
    }
    if let Some(next) = page.next_cursor.as_deref().and_then(Cursor::parse) {
        row.push(button("▶", Some(next)));
    }
    (!row.is_empty()).then(|| {
        InlineKeyboardMarkup::builder()
            .inline_keyboard(vec![row])
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn searched(args: &str) -> Result<(PaidFilter, Option<String>), ()> {
        parse(Some(args)).map(|l| (l.filter, l.search.map(|s| s.as_str().to_owned())))
    }

    #[test]
    fn filter_words_go_first_or_last_and_the_rest_is_searched() {
        let some = |s: &str| Some(s.to_owned());
        for (args, want) in [
            ("", (PaidFilter::All, None)),
            ("neplatite", (PaidFilter::Unpaid, None)),
            ("PLĂTITE", (PaidFilter::Paid, None)),
            ("brașov", (PaidFilter::All, some("brasov"))),
            (
                "neplatite Brașov Trans",
                (PaidFilter::Unpaid, some("brasovtrans")),
            ),
            (
                "Brașov Trans unpaid",
                (PaidFilter::Unpaid, some("brasovtrans")),
            ),
            ("paid  F-12 ", (PaidFilter::Paid, some("f12"))),
            ("RO 18547290", (PaidFilter::All, some("ro18547290"))),
            ("toate acme", (PaidFilter::All, some("acme"))),
        ] {
            assert_eq!(searched(args), Ok(want), "{args:?}");
        }
        for args in ["—", "neplatite ???", "* *"] {
            assert_eq!(searched(args), Err(()), "nothing to search in {args:?}");
        }
    }
}
