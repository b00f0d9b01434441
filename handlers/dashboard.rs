//! `/dashboard` (`/sold`, `/balance`): the active company's figures, computed
//! by `dashboard_figures` (schema.sql), as the API's are: the webhook reads
//! them with the account (and in a group with the group's binding), in one
//! statement (see `front/bot/webhook.rs`); should that not have read them,
//! [`crate::services::finance::dashboard::compute`] does.
//! In the private chat, with a button that opens the Mini App.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};

use crate::blocks::format::{clip, date, fit, money};
use crate::blocks::local_time::invoices;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::finance::dashboard::{self, Dashboard, InvoiceTotals};

/// Shows the dashboard.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    // Read with the account when the update began, if it was for this company.
    let figures = match ctx.dashboard.take() {
        Some(figures) if figures.company_id == company.id => figures,
        _ => dashboard::compute(ctx.db, &company, ctx.today).await?,
    };
    let text = render(ctx.lang, &figures);
    if !ctx.is_private() {
        // Telegram opens Mini App buttons only in private chats.
        return Ok(Replies::html(ctx.chat_id, text));
    }
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        open_app(ctx),
    )))
}

/// "Open dashboard": the Mini App ([`crate::front::web::app`]), signed in
/// with the data Telegram gives it.
fn open_app(ctx: &UpdateCtx<'_>) -> InlineKeyboardMarkup {
    let button = InlineKeyboardButton::builder()
        .text(ctx.t("📱 Deschide panoul", "📱 Open dashboard"))
        .web_app(WebAppInfo {
            url: crate::front::web::app::url(ctx.config),
        })
        .build();
    InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![vec![button]])
        .build()
}

/// The dashboard as a message.
pub fn render(lang: Lang, d: &Dashboard) -> String {
    let mut text = format!(
        "<b>{}</b> · {}\n\n<b>🏦 {}</b>\n",
        escape(&clip(&d.company_name, 100)),
        date(lang, d.as_of),
        lang.pick("Trezorerie", "Treasury"),
    );
    if d.treasury.is_empty() {
        text.push_str(lang.pick("niciun cont\n", "no accounts\n"));
    }
    for m in &d.treasury {
        text.push_str(&format!("{}\n", money(lang, m.amount, m.currency)));
    }
    let sections = [
        (
            lang.pick(
                "📤 Facturi emise (de încasat)",
                "📤 Issued invoices (to collect)",
            ),
            lang.pick("încasat", "collected"),
            lang.pick("de încasat", "outstanding"),
            &d.receivables,
        ),
        (
            lang.pick(
                "📥 Facturi primite (de plătit)",
                "📥 Received invoices (to pay)",
            ),
            lang.pick("plătit", "paid"),
            lang.pick("de plătit", "outstanding"),
            &d.payables,
        ),
    ];
    for (title, paid_label, outstanding_label, totals) in sections {
        text.push_str(&format!("\n<b>{title}</b>\n"));
        if totals.is_empty() {
            text.push_str(lang.pick("nicio factură\n", "no invoices\n"));
        }
        for t in totals {
            text.push_str(&invoice_line(lang, t, paid_label, outstanding_label));
        }
    }
    text.push_str(&format!(
        "\n<b>💵 {}</b>\n",
        lang.pick("Numerar luna aceasta", "Cash this month")
    ));
    if d.cash_this_month.is_empty() {
        text.push_str(lang.pick("nicio înregistrare\n", "no entries\n"));
    }
    for c in &d.cash_this_month {
        text.push_str(&format!(
            "{}: {}\n{}: {}\n",
            lang.pick("încasări", "income"),
            money(lang, c.income, c.currency),
            lang.pick("cheltuieli", "expenses"),
            money(lang, c.expenses, c.currency),
        ));
    }
    fit(text)
}

/// One currency's invoice totals, a figure per line so that it reads on a
/// phone: the count, total, paid, outstanding, and the overdue with their count.
fn invoice_line(
    lang: Lang,
    t: &InvoiceTotals,
    paid_label: &str,
    outstanding_label: &str,
) -> String {
    let m = |amount| money(lang, amount, t.currency);
    // Overpayments, storno invoices and credit notes: owed back, shown apart
    // so they never hide what is still to collect or to pay.
    let credit = if t.credit.is_zero() {
        String::new()
    } else {
        format!("credit: {}\n", m(t.credit))
    };
    format!(
        "{} {} {}\ntotal: {}\n{paid_label}: {}\n{outstanding_label}: {}\n{credit}{} ({}): {}\n",
        invoices(lang, t.count.unsigned_abs()),
        lang.pick("în", "in"),
        t.currency,
        m(t.total),
        m(t.paid),
        m(t.outstanding),
        lang.pick("restanțe", "overdue"),
        invoices(lang, t.overdue_count.unsigned_abs()),
        m(t.overdue),
    )
}
