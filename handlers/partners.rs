//! `/parteneri` (`/partners`): who owes the active company most, whom it owes
//! most, and how late the receivables are, from
//! [`crate::services::finance::partners::list_after`], the computation the
//! API's `GET .../partners` shows.

use crate::blocks::format::{clip, fit, money};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::finance::partners::{self, Ageing, Page, Partner, Query};
use crate::services::finance::{Company, Direction};

/// Partners shown on each side.
pub const TOP: i64 = 5;

/// Characters of a partner's name shown; longer names end in `…`.
const NAME_CHARS: usize = 40;

/// Shows the two lists and the ageing of the receivables.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let side = |direction| Query {
        direction: Some(direction),
        after: None,
    };
    let customers =
        partners::list_after(ctx.db, &company, &side(Direction::Issued), TOP, ctx.today).await?;
    let suppliers =
        partners::list_after(ctx.db, &company, &side(Direction::Received), TOP, ctx.today).await?;
    Ok(Replies::html(
        ctx.chat_id,
        render(ctx.lang, &company, &customers, &suppliers),
    ))
}

/// The message: the customers who owe most, the suppliers owed most, then
/// the receivables' ageing per currency, one figure per line.
pub fn render(lang: Lang, company: &Company, customers: &Page, suppliers: &Page) -> String {
    let mut text = format!(
        "<b>{}</b> · {}\n",
        lang.pick("Parteneri", "Partners"),
        escape(&clip(&company.name, 100))
    );
    let sides = [
        (
            lang.pick(
                "📤 Cine datorează cel mai mult firmei",
                "📤 Who owes the company most",
            ),
            lang.pick("de încasat", "to collect"),
            lang.pick(
                "Nimeni nu datorează nimic firmei.",
                "Nobody owes the company anything.",
            ),
            customers,
        ),
        (
            lang.pick(
                "📥 Cui datorează firma cel mai mult",
                "📥 Whom the company owes most",
            ),
            lang.pick("de plătit", "to pay"),
            lang.pick(
                "Firma nu datorează nimic nimănui.",
                "The company owes nobody anything.",
            ),
            suppliers,
        ),
    ];
    for (title, owed, nobody, page) in sides {
        text.push_str(&format!("\n<b>{title}</b>\n"));
        // Partners only in credit owe nothing: they come last and are left out.
        let owing: Vec<&Partner> = page
            .items
            .iter()
            .filter(|p| !p.outstanding.is_zero())
            .collect();
        if owing.is_empty() {
            text.push_str(nobody);
            text.push('\n');
        }
        for (n, p) in owing.into_iter().enumerate() {
            text.push_str(&line(lang, n + 1, p, owed));
        }
    }
    for totals in customers.totals.iter().filter(|t| !t.overdue.is_zero()) {
        text.push_str(&format!(
            "\n<b>⏳ {} ({})</b>\n{}",
            lang.pick(
                "Restanțe de încasat, pe vechime",
                "Overdue receivables by age"
            ),
            totals.currency,
            ageing(lang, &totals.ageing, totals.currency),
        ));
    }
    fit(text)
}

/// One partner: its name (and CUI), what it owes, and the overdue part.
fn line(lang: Lang, n: usize, p: &Partner, owed: &str) -> String {
    let cui = p
        .cui
        .as_ref()
        .map(|cui| format!(" · CUI {cui}"))
        .unwrap_or_default();
    let mut out = format!(
        "{n}. <b>{}</b>{cui}\n{owed}: {}\n",
        escape(&clip(&p.name, NAME_CHARS)),
        money(lang, p.outstanding, p.currency),
    );
    if !p.overdue.is_zero() {
        out.push_str(&format!(
            "{}: {}\n",
            lang.pick("din care restant", "of which overdue"),
            money(lang, p.overdue, p.currency)
        ));
    }
    out
}

/// The four buckets, one per line. Romanian puts "de" before "zile" after
/// 20 and more: `0–30 de zile`, `peste 90 de zile`.
fn ageing(lang: Lang, a: &Ageing, currency: crate::blocks::money::Currency) -> String {
    let buckets = [
        (lang.pick("0–30 de zile", "0–30 days"), a.days_0_30),
        (lang.pick("31–60 de zile", "31–60 days"), a.days_31_60),
        (lang.pick("61–90 de zile", "61–90 days"), a.days_61_90),
        (
            lang.pick("peste 90 de zile", "over 90 days"),
            a.days_over_90,
        ),
    ];
    buckets
        .into_iter()
        .map(|(label, amount)| format!("{label}: {}\n", money(lang, amount, currency)))
        .collect()
}
