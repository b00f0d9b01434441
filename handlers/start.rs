//! `/start [code]`: the greeting, and the deep-link entry point
//! (`https://t.me/<bot>?start=<code>` arrives as `/start <code>`).

use crate::bot::reply::escape_html;
use crate::bot::{Ctx, HandlerResult, Replies};

/// Greets the person and says how to link or register.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut Ctx<'_>, _payload: Option<&str>) -> HandlerResult {
    Ok(Replies::html(ctx.chat_id, welcome(ctx)))
}

/// The welcome: who the bot is and the next step for this person.
pub fn welcome(ctx: &Ctx<'_>) -> String {
    let name = escape_html(&ctx.from.first_name);
    let next_step = if ctx.account.is_some() {
        ctx.t(
            "Contul tău este legat. Scrie /help pentru comenzi.",
            "Your account is linked. Send /help for the commands.",
        )
    } else {
        ctx.t(
            "Ca să începi, leagă-ți contul: deschide pagina Telegram din contul tău web și scanează codul QR, \
             sau trimite-mi codul de 8 caractere. Nu ai cont? Trimite /register.",
            "To begin, link your account: open the Telegram page of your web account and scan the QR code, \
             or send me the 8-character code. No account yet? Send /register.",
        )
    };
    format!(
        "{}\n\n{next_step}",
        ctx.t(
            format!("Bună, {name}! Sunt ledgerbot: cifrele firmei tale, în Telegram."),
            format!("Hello, {name}! I am ledgerbot: your company's numbers, in Telegram."),
        )
    )
}
