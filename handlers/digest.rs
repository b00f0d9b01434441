//! The daily digest's part of `/notify` (`/notificari`): a line and a button
//! on that screen ([`line`], [`button`]), which open the digest's own
//! settings as a new message: on or off, the hour (Bucharest), and whether
//! a chart follows. Each press edits that message to the new state.
//! [`crate::services::notifications::digest`] sends the digests.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::Lang;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::notifications::digest::{self, Change, Hour, Settings, WEEK_DAYS};

/// Hours a row of the picker holds.
const HOURS_PER_ROW: usize = 6;

/// The line `/notificari` shows about the digest.
pub fn line(lang: Lang) -> &'static str {
    lang.pick(
        "📰 Rezumatul zilnic vine la ora pe care o alegi tu.",
        "📰 The daily digest comes at the hour you pick.",
    )
}

/// The button on `/notificari` that opens the digest's settings.
pub fn button(lang: Lang) -> Vec<InlineKeyboardButton> {
    vec![
        InlineKeyboardButton::builder()
            .text(lang.pick("📰 Rezumat zilnic…", "📰 Daily digest…"))
            .callback_data(Callback::Digest(None).data())
            .build(),
    ]
}

/// A press on the digest's buttons: `None` opens the settings (a new
/// message), a change applies and edits that message.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    change: Option<Change>,
) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::notice(callback_query_id, unmet)),
    };
    let lang = ctx.lang;
    let Some(change) = change else {
        let settings = digest::settings(ctx.db, account.user_id).await?;
        let (text, keyboard) = view(lang, settings);
        return Ok(Replies(vec![
            BotMethod::answer_callback(callback_query_id, None),
            BotMethod::html_with_keyboard(ctx.chat_id, text, keyboard),
        ]));
    };
    let settings = digest::change(ctx.db, account.user_id, change).await?;
    let (text, keyboard) = view(lang, settings);
    Ok(
        Replies::notice(callback_query_id, notice(lang, settings)).then(BotMethod::edit_html(
            ctx.chat_id,
            message_id,
            text,
            Some(keyboard),
        )),
    )
}

/// The toast after a change: the state in a few words.
fn notice(lang: Lang, s: Settings) -> String {
    let hour = s.hour.get();
    match (s.enabled, s.chart) {
        (false, _) => lang.pick("Rezumat oprit.", "Digest off.").to_owned(),
        (true, false) => lang.pick(
            format!("Rezumat pornit, la {hour:02}:00."),
            format!("Digest on, at {hour:02}:00."),
        ),
        (true, true) => lang.pick(
            format!("Rezumat pornit, la {hour:02}:00, cu grafic."),
            format!("Digest on, at {hour:02}:00, with a chart."),
        ),
    }
}

/// The settings' text and buttons: on/off, the chart, and the 24 hours
/// (the chosen one marked).
fn view(lang: Lang, s: Settings) -> (String, InlineKeyboardMarkup) {
    let hour = s.hour.get();
    let state = match (s.enabled, s.chart) {
        (false, _) => lang.pick("⬜ oprit", "⬜ off").to_owned(),
        (true, false) => lang.pick(
            format!("✅ pornit, la {hour:02}:00"),
            format!("✅ on, at {hour:02}:00"),
        ),
        (true, true) => lang.pick(
            format!("✅ pornit, la {hour:02}:00, cu grafic"),
            format!("✅ on, at {hour:02}:00, with a chart"),
        ),
    };
    let text = lang.pick(
        format!(
            "📰 <b>Rezumatul zilnic</b> al firmei active, o dată pe zi, la ora aleasă (ora României): soldurile și numerarul, ce e scadent azi și în următoarele {WEEK_DAYS} zile, facturile intrate în întârziere. La cerere, și un grafic cu facturat și încasat pe 6 luni.\nVine la ora aleasă chiar și în orele de liniște: ora o alegi tu.\n\nAcum: {state}\n\nAlege ora la care să vină:"
        ),
        format!(
            "📰 <b>Daily digest</b> of the active company, once a day at the hour you pick (Bucharest time): balances and cash, what falls due today and in the next {WEEK_DAYS} days, invoices that became overdue. Optionally a chart of invoiced and collected over 6 months.\nIt comes at your hour even within quiet hours: you chose it.\n\nNow: {state}\n\nPick the hour it comes at:"
        ),
    );
    let press = |label: String, change: Change| {
        InlineKeyboardButton::builder()
            .text(label)
            .callback_data(Callback::Digest(Some(change)).data())
            .build()
    };
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Hour::all()
        .collect::<Vec<_>>()
        .chunks(HOURS_PER_ROW)
        .map(|hours| {
            hours
                .iter()
                .map(|&h| {
                    let chosen = s.enabled && h == s.hour;
                    let mark = if chosen { "✅" } else { "" };
                    press(format!("{mark}{:02}", h.get()), Change::Hour(h))
                })
                .collect()
        })
        .collect();
    let toggle = if s.enabled {
        press(
            lang.pick("Oprește rezumatul", "Turn the digest off")
                .to_owned(),
            Change::Off,
        )
    } else {
        press(
            lang.pick("Pornește rezumatul", "Turn the digest on")
                .to_owned(),
            Change::On,
        )
    };
    let chart = if s.chart {
        press(
            lang.pick("📊 Fără grafic", "📊 No chart").to_owned(),
            Change::Chart(false),
        )
    } else {
        press(
            lang.pick("📊 Cu grafic", "📊 With a chart").to_owned(),
            Change::Chart(true),
        )
    };
    rows.push(vec![toggle, chart]);
    (
        text,
        InlineKeyboardMarkup::builder()
            .inline_keyboard(rows)
            .build(),
    )
}
