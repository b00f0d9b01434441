//! `/notify` (`/notificari`): what the bot tells a person on its own about
//! their active company, each kind turned on or off with a button
//! ([`crate::services::notifications`] sends them).

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::Lang;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::notifications::{self, Kind, QUIET_FROM, QUIET_UNTIL};

/// Shows the kinds, each with its toggle.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "notify"))]
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let on = notifications::enabled(ctx.db, account.user_id).await?;
    let (text, keyboard) = view(ctx.lang, &on);
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        keyboard,
    )))
}

/// A toggle pressed: turns the kind on or off and shows the new state.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    kind: Kind,
) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => {
            return Ok(Replies::one(BotMethod::answer_callback(
                callback_query_id,
                Some(unmet),
            )));
        }
    };
    let now_on = notifications::toggle(ctx.db, account.user_id, kind).await?;
    let on = notifications::enabled(ctx.db, account.user_id).await?;
    let (text, keyboard) = view(ctx.lang, &on);
    let notice = if now_on {
        ctx.t("Pornit.", "On.")
    } else {
        ctx.t("Oprit.", "Off.")
    };
    Ok(Replies(vec![
        BotMethod::answer_callback(callback_query_id, Some(notice.to_owned())),
        BotMethod::edit_html(ctx.chat_id, message_id, text, Some(keyboard)),
    ]))
}

/// The text and the toggles, for the kinds in `on` turned on.
fn view(lang: Lang, on: &[Kind]) -> (String, InlineKeyboardMarkup) {
    let mut text = lang
        .pick(
            "🔔 <b>Notificări</b> despre firma activă, trimise între {from}:00 și {until}:00 (ora României), cel mult una pe zi din fiecare fel:",
            "🔔 <b>Notifications</b> about the active company, sent between {from}:00 and {until}:00 (Bucharest time), at most one a day of each kind:",
        )
        .replace("{from}", &format!("{QUIET_UNTIL:02}"))
        .replace("{until}", &format!("{QUIET_FROM:02}"));
    let mut rows = Vec::new();
    for kind in Kind::ALL {
        let is_on = on.contains(&kind);
        let mark = if is_on { "✅" } else { "⬜" };
        text.push_str(&format!("\n{mark} {}", kind.label(lang)));
        let action = if is_on {
            lang.pick("Oprește", "Turn off")
        } else {
            lang.pick("Pornește", "Turn on")
        };
        let short = match kind {
            Kind::DueSoon => lang.pick("scadențe", "due dates"),
            Kind::Overdue => lang.pick("restanțe", "overdue"),
        };
        rows.push(vec![
            InlineKeyboardButton::builder()
                .text(format!("{action}: {short}"))
                .callback_data(Callback::Notify(kind).data())
                .build(),
        ]);
    }
    text.push_str(lang.pick(
        "\n\nApasă un buton ca să pornești sau să oprești.",
        "\n\nPress a button to turn one on or off.",
    ));
    (
        text,
        InlineKeyboardMarkup::builder()
            .inline_keyboard(rows)
            .build(),
    )
}
