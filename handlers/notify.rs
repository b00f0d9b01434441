//! `/notify` (`/notificari`): what the bot tells a person on its own about
//! their active company ([`crate::services::notifications`] sends it). The
//! screen lists every kind with a button that turns it on or off, the N days
//! of the kinds that look ahead, the quiet hours, and the low-balance
//! thresholds, which are set with `/notificari prag <sumă> [monedă]`
//! (`/notify threshold <amount> [currency]`; `fara`/`none` removes one).

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::Lang;
use crate::blocks::format;
use crate::blocks::money::{Amount, Currency, parse_signed_human};
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::notifications::digest;
use crate::services::notifications::settings::{self, DAYS, Settings};
use crate::services::notifications::{Change, Kind, QuietHours, days_text};

/// Shows the settings, or sets a threshold (`prag`/`threshold`).
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let mut notice = None;
    if let Some(args) = args.map(str::trim).filter(|a| !a.is_empty()) {
        let Some((currency, amount)) = threshold(args) else {
            return Ok(Replies::html(ctx.chat_id, usage(ctx.lang)));
        };
        settings::set_threshold(ctx.db, account.user_id, currency, amount).await?;
        notice = Some(match amount {
            Some(amount) => ctx
                .t(
                    "✅ Te anunț când un cont în {c} scade sub {a}.",
                    "✅ I will tell you when an account in {c} goes under {a}.",
                )
                .replace("{c}", currency.as_str())
                .replace("{a}", &format::money(ctx.lang, amount, currency)),
            None => ctx
                .t("Pragul în {c} e șters.", "The threshold in {c} is removed.")
                .replace("{c}", currency.as_str()),
        });
    }
    let (mut text, keyboard) = view(ctx, account.user_id).await?;
    if let Some(notice) = notice {
        text = format!("{notice}\n\n{text}");
    }
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        keyboard,
    )))
}

/// `prag 5000 [EUR]`, `threshold none EUR`: the currency (RON when not
/// given) and the threshold, `None` to remove it.
fn threshold(args: &str) -> Option<(Currency, Option<Amount>)> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (keyword, amount, currency) = match words.as_slice() {
        [keyword, amount] => (*keyword, *amount, None),
        [keyword, amount, currency] => (*keyword, *amount, Some(*currency)),
        _ => return None,
    };
    if !matches!(keyword.to_lowercase().as_str(), "prag" | "threshold") {
        return None;
    }
    let currency = match currency {
        None => Currency::RON,
        Some(word) => {
            Some(Currency::parse(&word.to_uppercase()).ok()?).filter(Currency::is_iso_4217)?
        }
    };
    let amount = match amount.to_lowercase().as_str() {
        "fara" | "fără" | "none" => None,
        text => {
            let (sign, magnitude) = parse_signed_human(text).ok()?;
            Some(sign.map_or(magnitude, |sign| sign.apply(magnitude)))
        }
    };
    Some((currency, amount))
}

/// How to write a threshold.
fn usage(lang: Lang) -> &'static str {
    lang.pick(
        "Scrie pragul așa: <code>/notificari prag 5000</code> (în lei) sau <code>/notificari prag 1.000,50 EUR</code>; <code>/notificari prag fara EUR</code> îl șterge.",
        "Write the threshold like this: <code>/notify threshold 5000</code> (in RON) or <code>/notify threshold 1,000.50 EUR</code>; <code>/notify threshold none EUR</code> removes it.",
    )
}

/// A button pressed: applies the change and shows the new state.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    change: Change,
) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::notice(callback_query_id, unmet)),
    };
    let now_on = settings::apply(ctx.db, account.user_id, change).await?;
    let (text, keyboard) = view(ctx, account.user_id).await?;
    let notice = match change {
        Change::Quiet(_) | Change::Days(..) => ctx.t("Salvat.", "Saved."),
        Change::Toggle(_) if now_on => ctx.t("Pornit.", "On."),
        Change::Toggle(_) => ctx.t("Oprit.", "Off."),
    };
    Ok(
        Replies::notice(callback_query_id, notice).then(BotMethod::edit_html(
            ctx.chat_id,
            message_id,
            text,
            Some(keyboard),
        )),
    )
}

/// The screen of `user_id`'s settings: the alerts', then the digest's line.
async fn view(
    ctx: &mut UpdateCtx<'_>,
    user_id: i64,
) -> Result<(String, InlineKeyboardMarkup), sqlx::Error> {
    let settings = settings::load(ctx.db, user_id).await?;
    let digest = digest::settings(ctx.db, user_id).await?;
    Ok(screen(ctx.lang, &settings, digest))
}

/// The text and the buttons of `settings`, and the line of `digest`'s.
fn screen(
    lang: Lang,
    settings: &Settings,
    digest: digest::Settings,
) -> (String, InlineKeyboardMarkup) {
    let mut text = lang
        .pick(
            "🔔 <b>Notificări</b> despre firma activă, cel mult una pe zi despre aceeași factură sau același cont:",
            "🔔 <b>Notifications</b> about the active company, at most one a day about the same invoice or account:",
        )
        .to_owned();
    let mut rows = Vec::new();
    kinds(lang, settings, &mut text, &mut rows);
    quiet_hours(lang, settings.quiet, &mut text, &mut rows);
    thresholds(lang, settings, &mut text);
    // The daily digest: its own settings (handlers/digest.rs).
    text.push_str(&format!("\n{}", super::digest::line(lang, digest)));
    rows.push(super::digest::button(lang));
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

fn button(text: String, change: Change) -> InlineKeyboardButton {
    InlineKeyboardButton::builder()
        .text(text)
        .callback_data(Callback::Notify(change).data())
        .build()
}

/// A line and a toggle per kind; under a look-ahead kind that is on, its
/// days.
fn kinds(
    lang: Lang,
    settings: &Settings,
    text: &mut String,
    rows: &mut Vec<Vec<InlineKeyboardButton>>,
) {
    for kind in Kind::all() {
        let days = settings.days(kind);
        let mark = if days.is_some() { "✅" } else { "⬜" };
        let shown_days = days.unwrap_or(settings::DEFAULT_DAYS);
        text.push_str(&format!("\n{mark} {}", kind.label(lang, shown_days)));
        let action = if days.is_some() {
            lang.pick("Oprește", "Turn off")
        } else {
            lang.pick("Pornește", "Turn on")
        };
        rows.push(vec![button(
            format!("{action}: {}", kind.short(lang)),
            Change::Toggle(kind),
        )]);
        if let Some(days) = days.filter(|_| kind.has_days()) {
            rows.push(
                DAYS.iter()
                    .map(|&n| {
                        let mark = if n == days { "✓ " } else { "" };
                        button(
                            format!("{mark}{}", days_text(lang, n)),
                            Change::Days(kind, n),
                        )
                    })
                    .collect(),
            );
        }
    }
}

/// `21:00–08:00`, or "none".
fn hours_text(lang: Lang, hours: QuietHours) -> String {
    match hours.hours() {
        Some((from, until)) => format!("{from:02}:00–{until:02}:00"),
        None => lang.pick("fără", "none").to_owned(),
    }
}

/// The quiet hours, and a row of presets.
fn quiet_hours(
    lang: Lang,
    quiet: QuietHours,
    text: &mut String,
    rows: &mut Vec<Vec<InlineKeyboardButton>>,
) {
    let line = match quiet.hours() {
        Some(_) => lang
            .pick(
                "\n\n🌙 Ore de liniște (ora României): {h}; ce apare atunci vine după.",
                "\n\n🌙 Quiet hours (Bucharest time): {h}; what comes up then follows after.",
            )
            .replace("{h}", &hours_text(lang, quiet)),
        None => lang
            .pick(
                "\n\n🌙 Ore de liniște: fără, mesajele vin la orice oră.",
                "\n\n🌙 Quiet hours: none, messages come at any hour.",
            )
            .to_owned(),
    };
    text.push_str(&line);
    rows.push(
        QuietHours::PRESETS
            .iter()
            .map(|&preset| {
                let mark = if preset == quiet { "✓ " } else { "" };
                let label = match preset.hours() {
                    Some((from, until)) => format!("🌙 {from:02}–{until:02}"),
                    None => lang.pick("🔔 fără", "🔔 none").to_owned(),
                };
                button(format!("{mark}{label}"), Change::Quiet(preset))
            })
            .collect(),
    );
}

/// The low-balance thresholds, and how to change them.
fn thresholds(lang: Lang, settings: &Settings, text: &mut String) {
    let list = settings
        .thresholds
        .iter()
        .map(|(currency, amount)| format::money(lang, *amount, *currency))
        .collect::<Vec<_>>()
        .join(", ");
    let set = if list.is_empty() {
        lang.pick("niciunul", "none").to_owned()
    } else {
        list
    };
    text.push_str(
        &lang
            .pick(
                "\n💰 Pragul soldului mic: {t}. Îl schimbi cu <code>/notificari prag 5000 [EUR]</code>.",
                "\n💰 Low balance threshold: {t}. Change it with <code>/notify threshold 5000 [EUR]</code>.",
            )
            .replace("{t}", &set),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_read_in_both_languages_and_odd_ones_refused() {
        let eur = Currency::parse("EUR").expect("EUR");
        let cases = [
            (
                "prag 5000",
                Some((Currency::RON, Some(Amount::from_minor(500_000)))),
            ),
            (
                "prag 1.000,50 eur",
                Some((eur, Some(Amount::from_minor(100_050)))),
            ),
            (
                "threshold 1,000.50 EUR",
                Some((eur, Some(Amount::from_minor(100_050)))),
            ),
            ("Prag fără EUR", Some((eur, None))),
            ("threshold none", Some((Currency::RON, None))),
            (
                "prag -200",
                Some((Currency::RON, Some(Amount::from_minor(-20_000)))),
            ),
            ("prag", None),
            ("prag cinci", None),
            ("prag 5000 XYZ", None),
            ("prag 5000 EUR extra", None),
            ("limita 5000", None),
        ];
        for (args, expected) in cases {
            assert_eq!(threshold(args), expected, "{args}");
        }
    }
}
