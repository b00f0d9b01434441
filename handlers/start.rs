//! `/start [code]`: the greeting, and the deep-link entry point
//! (`https://t.me/<bot>?start=<code>` arrives as `/start <code>`; an
//! invitation's, `?start=inv_<code>`, goes to `invite::opened`). To someone
//! not linked yet, in the private chat, the greeting comes with three buttons:
//! create an account here, link an existing account, help.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::link_code::LinkCode;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{
    BotMethod, Callback, HandlerResult, Replies, StartChoice, UpdateCtx, require,
};

/// Greets the person and offers the ways in; with a code, links.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, payload: Option<&str>) -> HandlerResult {
    let Some(payload) = payload else {
        return Ok(greeting(ctx, welcome(ctx)));
    };
    // An invitation's deep link: `inv_<code>` (handlers/invite.rs).
    if let Some(code) = payload.strip_prefix(crate::blocks::invite_code::START_PREFIX) {
        return super::invite::opened(ctx, code).await;
    }
    match LinkCode::parse(payload) {
        Some(code) => super::code::redeem(ctx, &code).await,
        None => {
            let not_a_code = ctx.t(
                "Linkul acesta nu conține un cod valid.",
                "This link does not carry a valid code.",
            );
            Ok(greeting(ctx, format!("{not_a_code}\n\n{}", welcome(ctx))))
        }
    }
}

/// `text`, with the buttons of the ways in when the person is not linked and
/// in the private chat (in a group the buttons would link the wrong chat).
fn greeting(ctx: &UpdateCtx<'_>, text: String) -> Replies {
    if ctx.account.is_some() || !ctx.is_private() {
        return Replies::html(ctx.chat_id, text);
    }
    let button = |label: &str, choice| {
        vec![
            InlineKeyboardButton::builder()
                .text(label)
                .callback_data(Callback::Start(choice).data())
                .build(),
        ]
    };
    let keyboard = InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![
            button(
                ctx.t("Creează un cont aici", "Create an account here"),
                StartChoice::Register,
            ),
            button(
                ctx.t("Leagă un cont existent", "Link an existing account"),
                StartChoice::Link,
            ),
            button(ctx.t("Ajutor", "Help"), StartChoice::Help),
        ])
        .build();
    Replies::one(BotMethod::html_with_keyboard(ctx.chat_id, text, keyboard))
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
            "Ca să începi: creează un cont aici, dintr-o atingere, sau leagă contul web pe care îl ai. \
             Ai un cod de 8 caractere de pe pagina Telegram a contului web? Trimite-mi-l.",
            "To begin: create an account here in one tap, or link the web account you have. \
             Have an 8-character code from the Telegram page of your web account? Send it to me.",
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

/// A press on a button of the welcome: does what `/register`, `/link` or
/// `/help` would, in the private chat only.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    choice: StartChoice,
) -> HandlerResult {
    if let Err(unmet) = require::private_chat(ctx) {
        return Ok(Replies::notice(callback_query_id, unmet));
    }
    let replies = match choice {
        StartChoice::Register => super::register::run(ctx).await?,
        StartChoice::Link => super::link::run(ctx).await?,
        StartChoice::Help => Replies::html(ctx.chat_id, super::help::text(ctx)),
    };
    Ok(replies.then(BotMethod::answer_callback(callback_query_id, None)))
}
