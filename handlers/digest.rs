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

/// The line `/notificari` shows about the digest: on or off, and when on,
/// its hour and whether a chart follows.
pub fn line(lang: Lang, s: Settings) -> String {
    if s.enabled {
        lang.pick(
            format!("📰 Rezumatul zilnic: {}.", state(lang, s)),
            format!("📰 Daily digest: {}.", state(lang, s)),
        )
    } else {
        lang.pick(
            "📰 Rezumatul zilnic: oprit; îl pornești și îi alegi ora de la butonul de mai jos.",
            "📰 Daily digest: off; turn it on and pick its hour with the button below.",
        )
        .to_owned()
    }
}

/// The settings in a few words: "pornit, la 07:00, cu grafic", "oprit";
/// the line on `/notificari`, the toast after a change and the digest's
/// own screen all say it so.
fn state(lang: Lang, s: Settings) -> String {
    let hour = s.hour.get();
    match (s.enabled, s.chart) {
        (false, _) => lang.pick("oprit", "off").to_owned(),
        (true, false) => lang.pick(
            format!("pornit, la {hour:02}:00"),
            format!("on, at {hour:02}:00"),
        ),
        (true, true) => lang.pick(
            format!("pornit, la {hour:02}:00, cu grafic"),
            format!("on, at {hour:02}:00, with a chart"),
        ),
    }
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

/// The toast after a change: "Rezumat pornit, la 07:00."
fn notice(lang: Lang, s: Settings) -> String {
    lang.pick(
        format!("Rezumat {}.", state(lang, s)),
        format!("Digest {}.", state(lang, s)),
    )
}

/// The settings' text and buttons: on/off, the chart, and the 24 hours
/// (the chosen one marked).
fn view(lang: Lang, s: Settings) -> (String, InlineKeyboardMarkup) {
    let mark = if s.enabled { "✅" } else { "⬜" };
    let state = format!("{mark} {}", state(lang, s));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_on_or_off_the_hour_and_the_chart_in_both_languages() {
        let seven = Hour::new(7).expect("an hour");
        let on = Settings::default().with(Change::Hour(seven));
        let with_chart = on.with(Change::Chart(true));
        let off = with_chart.with(Change::Off);
        let cases = [
            (Lang::Ro, on, "📰 Rezumatul zilnic: pornit, la 07:00."),
            (Lang::En, on, "📰 Daily digest: on, at 07:00."),
            (
                Lang::Ro,
                with_chart,
                "📰 Rezumatul zilnic: pornit, la 07:00, cu grafic.",
            ),
            (
                Lang::En,
                with_chart,
                "📰 Daily digest: on, at 07:00, with a chart.",
            ),
            (
                Lang::Ro,
                off,
                "📰 Rezumatul zilnic: oprit; îl pornești și îi alegi ora de la butonul de mai jos.",
            ),
            (
                Lang::En,
                off,
                "📰 Daily digest: off; turn it on and pick its hour with the button below.",
            ),
        ];
        for (lang, settings, line_expected) in cases {
            assert_eq!(line(lang, settings), line_expected, "{settings:?}");
        }
        assert_eq!(
            notice(Lang::Ro, with_chart),
            "Rezumat pornit, la 07:00, cu grafic."
        );
        assert_eq!(notice(Lang::En, off), "Digest off.");
    }
}
