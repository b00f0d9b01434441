//! `/trezorerie` (`/treasury`): each account of the active company with its balance.

use crate::blocks::format::{clip, date, fit, money};
use crate::blocks::telegram_html::escape;
use crate::blocks::validate::Iban;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::treasury::{self, Kind};

/// Lists the accounts.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let accounts = treasury::list(ctx.db, company.id).await?;
    let mut text = format!(
        "<b>🏦 {}</b> · {}\n",
        ctx.t("Trezorerie", "Treasury"),
        escape(&clip(&company.name, 100))
    );
    if accounts.is_empty() {
        text.push_str(ctx.t(
            "Niciun cont încă: apar aici după ce programul de contabilitate le trimite.",
            "No accounts yet: they appear here once your accounting software sends them.",
        ));
    }
    for a in &accounts {
        let icon = match a.kind {
            Kind::Bank => "🏦",
            Kind::Cash => "💵",
        };
        let iban = a
            .iban
            .as_deref()
            .and_then(|i| Iban::parse(i).ok())
            .map(|i| format!(" · <code>{}</code>", i.grouped()))
            .unwrap_or_default();
        let as_of = a
            .as_of
            .map(|d| format!(" · {} {}", ctx.t("la", "as of"), date(ctx.lang, d)))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n{icon} <b>{}</b>{iban}\n{}{as_of}\n",
            escape(&clip(&a.name, 80)),
            money(ctx.lang, a.balance, a.currency),
        ));
    }
    Ok(Replies::html(ctx.chat_id, fit(text)))
}
