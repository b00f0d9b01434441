//! How numbers, money and dates read in each language, and clipping a
//! name to the room a line has. (A whole message is cut to Telegram's size
//! limit in one place, [`crate::blocks::telegram_html::fit`], which [`fit`]
//! and every message sent apply.)
//!
//! Romanian: `1.234,56 RON`, `31.12.2026`. English: `RON 1,234.56`, `31 Dec 2026`.

use time::Date;

use crate::blocks::money::{Amount, Currency, NumberStyle};
use crate::blocks::{Lang, telegram_html};

/// The number style of a language.
pub fn style(lang: Lang) -> NumberStyle {
    lang.pick(NumberStyle::Ro, NumberStyle::En)
}

/// An amount with its currency, as the language writes it.
pub fn money(lang: Lang, amount: Amount, currency: Currency) -> String {
    amount.format_money(currency, style(lang))
}

/// [`money`] appended to `out`.
pub fn push_money(out: &mut String, lang: Lang, amount: Amount, currency: Currency) {
    amount.push_money(out, currency, style(lang));
}

/// A date: `31.12.2026` in Romanian, `31 Dec 2026` in English.
pub fn date(lang: Lang, date: Date) -> String {
    match lang {
        Lang::Ro => format!(
            "{:02}.{:02}.{}",
            date.day(),
            u8::from(date.month()),
            date.year()
        ),
        Lang::En => {
            let month = date.month().to_string();
            format!("{} {} {}", date.day(), &month[..3], date.year())
        }
    }
}

/// At most `max` characters of `text`, ending in `…` when cut. Cut before
/// escaping, so that an entity such as `&amp;` is never split.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The message cut to Telegram's length, as every message is anyway when
/// it is sent ([`crate::infra::telegram::BotMethod::html`] applies
/// [`telegram_html::fit`]); for a handler that wants the fitted text itself.
pub fn fit(text: String) -> String {
    telegram_html::fit(text, telegram_html::MAX_MESSAGE_UNITS)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn dates_and_money_follow_the_language() {
        let d = date!(2026 - 12 - 31);
        assert_eq!(date(Lang::Ro, d), "31.12.2026");
        assert_eq!(date(Lang::En, d), "31 Dec 2026");
        assert_eq!(date(Lang::Ro, date!(2026 - 01 - 05)), "05.01.2026");
        let amount = Amount::from_minor(123_456);
        assert_eq!(money(Lang::Ro, amount, Currency::RON), "1.234,56 RON");
        assert_eq!(money(Lang::En, amount, Currency::RON), "RON 1,234.56");
    }

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("Șoseaua", 10), "Șoseaua");
        assert_eq!(clip("Șoseaua Ștefan", 5), "Șose…");
        assert_eq!(clip("abc", 3), "abc");
    }
}
