//! `/cash` (`/casa`): the active company's latest cash entries; and the undo
//! button on `/add`'s answer (`cu:<entry id>`), with which the author takes
//! back their own last entry within 10 minutes, once.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::format::{clip, date, fit, money};
use crate::blocks::money::Amount;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::cash::{self, Entry, UNDO_WINDOW_MINUTES, Undo};

/// Entries listed.
pub const LISTED: i64 = 15;

/// Characters of a note shown.
const NOTE_CHARS: usize = 60;

/// Lists the latest entries.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let entries = cash::latest(ctx.db, company.id, LISTED).await?;
    let mut text = format!(
        "<b>💵 {}</b> · {}\n",
        ctx.t("Numerar", "Cash"),
        escape(&clip(&company.name, 100))
    );
    if entries.is_empty() {
        text.push_str(ctx.t(
            "Nicio înregistrare încă. Adaugă una cu /adauga &lt;sumă&gt; &lt;notă&gt;.",
            "No entries yet. Add one with /add &lt;amount&gt; &lt;note&gt;.",
        ));
        return Ok(Replies::html(ctx.chat_id, text));
    }
    text.push_str(ctx.t("ultimele înregistrări\n", "the latest entries\n"));
    for entry in &entries {
        text.push('\n');
        text.push_str(&line(ctx, entry));
    }
    Ok(Replies::html(ctx.chat_id, fit(text)))
}

/// One entry: `📥 +250,00 RON · 12.11.2026 · vânzare` (📤 and − for an expense).
fn line(ctx: &UpdateCtx<'_>, e: &Entry) -> String {
    let (icon, sign) = if e.amount.is_negative() {
        ("📤", "−")
    } else {
        ("📥", "+")
    };
    format!(
        "{icon} <b>{sign}{}</b> · {} · {}\n",
        money(ctx.lang, magnitude(e.amount), e.currency),
        date(ctx.lang, e.entry_date),
        escape(&clip(&e.note, NOTE_CHARS)),
    )
}

/// The amount without its sign.
fn magnitude(amount: Amount) -> Amount {
    if amount.is_negative() {
        -amount
    } else {
        amount
    }
}

/// The undo button of `/add`'s answer.
pub fn undo_keyboard(ctx: &UpdateCtx<'_>, entry_id: i64) -> InlineKeyboardMarkup {
    let label = ctx.t("↩️ Anulează", "↩️ Undo");
    InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![vec![
            InlineKeyboardButton::builder()
                .text(label)
                .callback_data(Callback::UndoCash(entry_id).data())
                .build(),
        ]])
        .build()
}

/// A press on `cu:<id>`: undoes the entry when it is the presser's own
/// last one, recent, and they may still write; otherwise says why.
///
/// # Errors
/// The database failed.
pub async fn undo_pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    entry_id: i64,
) -> HandlerResult {
    let refuse = |notice: &str| Ok(Replies::notice(callback_query_id, notice));
    let Some(account) = ctx.account.clone() else {
        return refuse(require::link_first(ctx));
    };
    let notice = match cash::undo(ctx.db, entry_id, account.user_id).await? {
        Undo::Undone(entry) => {
            let shown = money(ctx.lang, magnitude(entry.amount), entry.currency);
            let note = escape(&clip(&entry.note, 200));
            let text = ctx.t(
                format!("↩️ Am anulat înregistrarea de <s>{shown}</s>: {note}."),
                format!("↩️ Undone: the entry of <s>{shown}</s>: {note}."),
            );
            return Ok(
                Replies::one(BotMethod::edit_html(ctx.chat_id, message_id, text, None))
                    .then(BotMethod::answer_callback(callback_query_id, None)),
            );
        }
        Undo::Gone => ctx.t(
            "Înregistrarea aceasta a fost deja anulată.",
            "This entry was already undone.",
        ),
        Undo::NotYours => ctx.t(
            "Poți anula doar înregistrările tale.",
            "You can only undo your own entries.",
        ),
        Undo::NotLast => ctx.t(
            "Poți anula doar ultima ta înregistrare.",
            "You can only undo your last entry.",
        ),
        Undo::TooLate => ctx.t(
            "Au trecut mai mult de 10 minute: nu mai pot anula înregistrarea.",
            "More than 10 minutes have passed: the entry can no longer be undone.",
        ),
        Undo::NoLongerAllowed => ctx.t(
            "Nu mai poți înregistra la această firmă, deci nici anula.",
            "You can no longer record entries for this company, so you cannot undo either.",
        ),
    };
    debug_assert_eq!(UNDO_WINDOW_MINUTES, 10, "the texts say 10 minutes");
    refuse(notice)
}
