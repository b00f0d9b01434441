//! The bot's commands, one file per command. A handler gets the update's
//! [`Ctx`] (sender, chat, language, linked account, transaction) and returns
//! the replies; it knows nothing of HTTP. [`dispatch`] is the one place that
//! maps a [`Command`] to its handler.

use crate::bot::{Callback, Command, Ctx, HandlerResult, Replies};

pub mod add;
pub mod clear;
pub mod code;
pub mod companies;
pub mod dashboard;
pub mod help;
pub mod invoices;
pub mod language;
pub mod link;
pub mod register;
pub mod select_company;
pub mod start;
pub mod text;
pub mod treasury;
pub mod unknown;
pub mod unlink;

/// Runs the handler of `command`.
///
/// # Errors
/// The database failed; the update is rolled back and Telegram retries it.
pub async fn dispatch(command: Command, ctx: &mut Ctx<'_>) -> HandlerResult {
    match command {
        Command::Start(payload) => start::run(ctx, payload.as_deref()).await,
        Command::Help => Ok(Replies::html(ctx.chat_id, help::text(ctx))),
        Command::Companies => companies::run(ctx).await,
        Command::SelectCompany(text) => select_company::run(ctx, text.as_deref()).await,
        Command::Dashboard => dashboard::run(ctx).await,
        Command::Invoices(filter) => invoices::run(ctx, filter.as_deref()).await,
        Command::Treasury => treasury::run(ctx).await,
        Command::Add(args) => add::run(ctx, args.as_deref()).await,
        Command::Clear => clear::run(ctx).await,
        Command::Language(code) => language::run(ctx, code.as_deref()).await,
        Command::Text(text) => text::run(ctx, &text).await,
        Command::Unknown(name) => Ok(unknown::run(ctx, &name)),
        Command::Register => register::run(ctx).await,
        Command::Link => link::run(ctx).await,
        Command::Unlink => unlink::run(ctx).await,
    }
}

/// Runs the handler of a button press. The data is untrusted: it was parsed
/// into a [`Callback`] (`None`: anything else, a stale button), and each
/// handler re-checks what it names against the database.
///
/// # Errors
/// The database failed; the update is rolled back and Telegram retries it.
pub async fn callback(
    ctx: &mut Ctx<'_>,
    callback_query_id: &str,
    message_id: i32,
    pressed: Option<Callback>,
) -> HandlerResult {
    match pressed {
        Some(Callback::SelectCompany(company_id)) => {
            select_company::pressed(ctx, callback_query_id, message_id, company_id).await
        }
        Some(Callback::InvoicePage { filter, page }) => {
            invoices::pressed(ctx, callback_query_id, message_id, filter, page).await
        }
        None => Ok(stale_button(ctx, callback_query_id)),
    }
}

/// A button press whose data we do not recognise (tampered, or from an old
/// version of the bot): stop the spinner and say so.
pub fn stale_button(ctx: &Ctx<'_>, callback_query_id: &str) -> Replies {
    let notice = ctx.t(
        "Butonul acesta nu mai este valabil.",
        "This button is no longer valid.",
    );
    Replies::one(crate::bot::BotMethod::answer_callback(
        callback_query_id,
        Some(notice.to_owned()),
    ))
}
