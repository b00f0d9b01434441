//! `/dashboard` (`/sold`, `/balance`): the active company's figures, computed
//! by `dashboard_figures` (schema.sql), as the API's are: the webhook reads
//! them with the account (and in a group with the group's binding), in one
//! statement (see `front/bot/webhook.rs`); should that not have read them,
//! [`crate::services::finance::dashboard::compute`] does.
//! In the private chat, with a button that opens the Mini App.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};

use std::fmt::Write as _;

use crate::blocks::format::{clip, date, fit, push_money};
use crate::blocks::local_time::push_invoices;
use crate::blocks::money::{Amount, Currency};
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

/// The dashboard as a message, written into one buffer: a string per
/// amount and line (`format!`, then copied) was a quarter of the server's
/// instructions per `/dashboard` update.
pub fn render(lang: Lang, d: &Dashboard) -> String {
    let mut text = String::with_capacity(1024);
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "<b>{}</b> · {}\n\n<b>🏦 {}</b>\n",
        escape(&clip(&d.company_name, 100)),
        date(lang, d.as_of),
        lang.pick("Trezorerie", "Treasury"),
    );
    if d.treasury.is_empty() {
        text.push_str(lang.pick("niciun cont\n", "no accounts\n"));
    }
    for m in &d.treasury {
        push_money(&mut text, lang, m.amount, m.currency);
        text.push('\n');
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
        let _ = write!(text, "\n<b>{title}</b>\n");
        if totals.is_empty() {
            text.push_str(lang.pick("nicio factură\n", "no invoices\n"));
        }
        for t in totals {
            invoice_line(&mut text, lang, t, paid_label, outstanding_label);
        }
    }
    let _ = write!(
        text,
        "\n<b>💵 {}</b>\n",
        lang.pick("Numerar luna aceasta", "Cash this month")
    );
    if d.cash_this_month.is_empty() {
        text.push_str(lang.pick("nicio înregistrare\n", "no entries\n"));
    }
    for c in &d.cash_this_month {
        let income = lang.pick("încasări", "income");
        money_line(&mut text, lang, income, c.income, c.currency);
        let expenses = lang.pick("cheltuieli", "expenses");
        money_line(&mut text, lang, expenses, c.expenses, c.currency);
    }
    fit(text)
}

/// One currency's invoice totals, appended to `text`, a figure per line so
/// that it reads on a phone: the count, total, paid, outstanding, and the
/// overdue with their count.
fn invoice_line(
    text: &mut String,
    lang: Lang,
    t: &InvoiceTotals,
    paid_label: &str,
    outstanding_label: &str,
) {
    push_invoices(text, lang, t.count.unsigned_abs());
    let _ = writeln!(text, " {} {}", lang.pick("în", "in"), t.currency);
    money_line(text, lang, "total", t.total, t.currency);
    money_line(text, lang, paid_label, t.paid, t.currency);
    money_line(text, lang, outstanding_label, t.outstanding, t.currency);
    // Overpayments, storno invoices and credit notes: owed back, shown apart
    // so they never hide what is still to collect or to pay.
    if !t.credit.is_zero() {
        money_line(text, lang, "credit", t.credit, t.currency);
    }
    let _ = write!(text, "{} (", lang.pick("restanțe", "overdue"));
    push_invoices(text, lang, t.overdue_count.unsigned_abs());
    text.push_str("): ");
    push_money(text, lang, t.overdue, t.currency);
    text.push('\n');
}

/// `label: amount` and a line break, appended to `text`.
fn money_line(text: &mut String, lang: Lang, label: &str, amount: Amount, currency: Currency) {
    text.push_str(label);
    text.push_str(": ");
    push_money(text, lang, amount, currency);
    text.push('\n');
}
