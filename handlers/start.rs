//! `/start [code]`: the greeting, and the deep-link entry point
//! (`https://t.me/<bot>?start=<code>` arrives as `/start <code>`).

use crate::blocks::link_code::LinkCode;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx};

/// Greets the person and says how to link or register; with a code, links.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, payload: Option<&str>) -> HandlerResult {
    let Some(payload) = payload else {
        return Ok(Replies::html(ctx.chat_id, welcome(ctx)));
    };
    match LinkCode::parse(payload) {
        Some(code) => super::code::redeem(ctx, &code).await,
        None => {
            let not_a_code = ctx.t(
                "Linkul acesta nu conține un cod valid.",
                "This link does not carry a valid code.",
            );
            Ok(Replies::html(
                ctx.chat_id,
                format!("{not_a_code}\n\n{}", welcome(ctx)),
            ))
        }
    }
}

/// The welcome: who the bot is and the next step for this person.
pub fn welcome(ctx: &UpdateCtx<'_>) -> String {
    let name = escape(&ctx.from.first_name);
    let next_step = if ctx.account.is_some() {
        ctx.t(
            "Contul tău este legat. Trimite /ajutor pentru comenzi.",
            "Your account is linked. Send /help for the commands.",
        )
    } else {
        ctx.t(
            "Ca să începi, leagă-ți contul: deschide pagina Telegram din contul tău web și scanează codul QR, \
             sau trimite-mi codul de 8 caractere. Ai cont web? Trimite /leaga. Nu ai cont? Trimite /inregistrare.",
            "To begin, link your account: open the Telegram page of your web account and scan the QR code, \
             or send me the 8-character code. Have a web account? Send /link. No account yet? Send /register.",
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
