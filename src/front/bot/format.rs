//! How numbers, money and dates read in each language, and keeping messages
//! within Telegram's size limit.
//!
//! Romanian: `1.234,56 RON`, `31.12.2026`. English: `RON 1,234.56`, `31 Dec 2026`.

use time::Date;

use super::reply::MAX_MESSAGE_CHARS;
use crate::blocks::Lang;
use crate::blocks::money::{Amount, Currency, NumberStyle};

/// The number style of a language.
pub fn style(lang: Lang) -> NumberStyle {
    lang.pick(NumberStyle::Ro, NumberStyle::En)
}

/// An amount with its currency, as the language writes it.
pub fn money(lang: Lang, amount: Amount, currency: Currency) -> String {
    amount.format_money(currency, style(lang))
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

/// The message whole when it fits in one Telegram message; otherwise cut at
/// the last line that fits, with `…` on a line of its own. Every line of our
/// messages closes the tags it opens, so a cut at a line never breaks HTML.
pub fn fit(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for line in text.lines() {
        let len = line.chars().count() + 1;
        if used + len + 1 > MAX_MESSAGE_CHARS {
            break;
        }
        out.push_str(line);
        out.push('\n');
        used += len;
    }
    out.push('…');
    out
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

    #[test]
    fn long_messages_are_cut_at_a_line() {
        let line = "x".repeat(99);
        let text = vec![line.as_str(); 100].join("\n");
        let fitted = fit(text);
        assert!(fitted.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(fitted.ends_with("\n…"));
        assert!(fitted.lines().all(|l| l == line || l == "…"));
        assert_eq!(fit("short".into()), "short");
    }
}
