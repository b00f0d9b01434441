//! `/add <amount> [currency] [date] <note>` (`/adauga`): a cash entry for the
//! active company. An expense by default; `+` before the amount records
//! income. Amounts in Romanian or English notation (`12,50`, `1.234,56`,
//! `12.50`); the currency is the company's unless a code follows the amount
//! (`/add 50 EUR taxi`); the day is today in Romania unless one follows
//! (`ieri`/`yesterday`, `12.11`, `12.11.2026`), never a future one. The
//! answer carries a button with which the author undoes it within 10 minutes.

use time::{Date, Duration, Month};

use crate::blocks::format::{date, money};
use crate::blocks::money::{Amount, Currency, MoneyError, Sign, parse_signed_human};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::cash::{self, NewEntry};

/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// `/add`'s arguments, read.
#[derive(Debug, PartialEq, Eq)]
pub struct AddArgs<'a> {
    /// Income (`+`) rather than an expense.
    pub income: bool,
    /// The amount, positive.
    pub magnitude: Amount,
    /// The currency, when one was given.
    pub currency: Option<Currency>,
    /// The day, when one was given.
    pub day: Option<Date>,
    /// The note, trimmed.
    pub note: &'a str,
}

/// Why `/add`'s arguments cannot be recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError<'a> {
    /// Something missing, or a note too long: the usage.
    Usage,
    /// Not an amount.
    Amount(&'a str, MoneyError),
    /// Zero.
    Zero,
    /// Three capital letters that are no currency.
    Currency(&'a str),
    /// A day that does not exist (`31.02`).
    Day(&'a str),
    /// A day after today.
    Future(Date),
}

/// The first word and the rest (trimmed).
pub fn split_args(args: &str) -> (&str, &str) {
    let args = args.trim();
    args.split_once(char::is_whitespace)
        .map_or((args, ""), |(first, rest)| (first, rest.trim()))
}

/// Reads `/add`'s arguments; `today` is today in Romania.
///
/// # Errors
/// What is wrong with them, for the answer.
pub fn parse(args: &str, today: Date) -> Result<AddArgs<'_>, AddError<'_>> {
    let (amount_text, mut rest) = split_args(args);
    if amount_text.is_empty() {
        return Err(AddError::Usage);
    }
    let (sign, magnitude) =
        parse_signed_human(amount_text).map_err(|e| AddError::Amount(amount_text, e))?;
    if magnitude.is_zero() {
        return Err(AddError::Zero);
    }
    let (mut currency, mut day) = (None, None);
    // A currency and a day, in either order, before the note.
    for _ in 0..2 {
        let (word, after) = split_args(rest);
        if currency.is_none()
            && let Some(found) = currency_word(word)?
        {
            currency = Some(found);
        } else if day.is_none()
            && let Some(found) = day_word(word, today)?
        {
            day = Some(found);
        } else {
            break;
        }
        rest = after;
    }
    if rest.is_empty() || rest.chars().count() > MAX_NOTE_CHARS {
        return Err(AddError::Usage);
    }
    Ok(AddArgs {
        income: sign == Some(Sign::Plus),
        magnitude,
        currency,
        day,
        note: rest,
    })
}

/// A currency code: a current ISO 4217 code in capitals (`EUR`, `HUF`), or
/// in any case one of the few a Romanian company meets daily (`eur`), so that
/// a note's word such as "cup" or "all" (Cuban peso, Albanian lek) stays the
/// note. Three capitals that are no currency are a mistake; anything else is
/// part of the note.
fn currency_word(word: &str) -> Result<Option<Currency>, AddError<'_>> {
    const EVERYDAY: [&str; 5] = ["RON", "EUR", "USD", "GBP", "CHF"];
    let Ok(currency) = Currency::parse(word) else {
        return Ok(None);
    };
    let capitals = word.bytes().all(|b| b.is_ascii_uppercase());
    if capitals && currency.is_iso_4217() || EVERYDAY.contains(&currency.as_str()) {
        Ok(Some(currency))
    } else if capitals {
        Err(AddError::Currency(word))
    } else {
        Ok(None)
    }
}

/// A day: `azi`/`today`, `ieri`/`yesterday`, `DD.MM` (this year) or
/// `DD.MM.YYYY`; never after `today`. Anything else is part of the note.
fn day_word(word: &str, today: Date) -> Result<Option<Date>, AddError<'_>> {
    let day = match word.to_lowercase().as_str() {
        "azi" | "today" => today,
        "ieri" | "yesterday" => today - Duration::days(1),
        _ => {
            let parts: Vec<&str> = word.split('.').collect();
            let numeric =
                |p: &&str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
            if !(2..=3).contains(&parts.len()) || !parts.iter().all(numeric) {
                return Ok(None);
            }
            let bad = || AddError::Day(word);
            let number = |p: &str| p.parse::<u16>().map_err(|_| bad());
            let year = match parts.get(2) {
                Some(y) if y.len() == 4 => i32::from(number(y)?),
                Some(_) => return Err(bad()),
                None => today.year(),
            };
            let month = u8::try_from(number(parts[1])?)
                .ok()
                .and_then(|m| Month::try_from(m).ok())
                .ok_or_else(bad)?;
            let day = u8::try_from(number(parts[0])?).map_err(|_| bad())?;
            Date::from_calendar_date(year, month, day).map_err(|_| bad())?
        }
    };
    if day > today {
        return Err(AddError::Future(day));
    }
    Ok(Some(day))
}

/// Records the entry.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let (account, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    if !company.role.can_write() {
        return Ok(Replies::html(ctx.chat_id, require::read_only(ctx)));
    }
    let add = match parse(args.unwrap_or_default(), ctx.today) {
        Ok(add) => add,
        Err(e) => return Ok(Replies::html(ctx.chat_id, refusal(ctx, &e))),
    };
    let currency = add.currency.unwrap_or(company.currency);
    let day = add.day.unwrap_or(ctx.today);
    let entry = NewEntry {
        company_id: company.id,
        amount: if add.income {
            add.magnitude
        } else {
            -add.magnitude
        },
        currency,
        note: add.note,
        entry_date: day,
        created_by: account.user_id,
        telegram_update_id: Some(ctx.update_id),
    };
    let Some(entry_id) = cash::record(ctx.db, &entry).await? else {
        tracing::warn!(
            update.id = ctx.update_id,
            "cash entry of this update exists already"
        );
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Mesajul acesta a fost deja înregistrat.",
                "This message was already recorded.",
            ),
        ));
    };
    let shown = money(ctx.lang, add.magnitude, currency);
    let (note, name) = (escape(add.note), escape(&company.name));
    let when = if day == ctx.today {
        String::new()
    } else {
        format!(", {}", date(ctx.lang, day))
    };
    let text = if add.income {
        ctx.t(
            format!("Am înregistrat încasarea de <b>{shown}</b>: {note} ({name}{when})."),
            format!("Recorded income of <b>{shown}</b>: {note} ({name}{when})."),
        )
    } else {
        ctx.t(
            format!("Am înregistrat cheltuiala de <b>{shown}</b>: {note} ({name}{when})."),
            format!("Recorded an expense of <b>{shown}</b>: {note} ({name}{when})."),
        )
    };
    let undo = super::cash::undo_keyboard(ctx, entry_id);
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        undo,
    )))
}

fn usage(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Trimite /adauga &lt;sumă&gt; [monedă] [zi] &lt;notă&gt;, de ex. <code>/adauga 12,50 cafea</code> \
         (o cheltuială), <code>/adauga +100 vânzare</code> (o încasare), \
         <code>/adauga 50 EUR ieri taxi</code> sau <code>/adauga 30 12.11 parcare</code>. \
         Nota are cel mult 200 de caractere.",
        "Send /add &lt;amount&gt; [currency] [day] &lt;note&gt;, e.g. <code>/add 12.50 coffee</code> \
         (an expense), <code>/add +100 sale</code> (income), \
         <code>/add 50 EUR yesterday taxi</code> or <code>/add 30 12.11 parking</code>. \
         The note is at most 200 characters.",
    )
    .to_owned()
}

fn refusal(ctx: &UpdateCtx<'_>, e: &AddError<'_>) -> String {
    match e {
        AddError::Usage => usage(ctx),
        AddError::Zero => ctx
            .t("Suma nu poate fi zero.", "The amount cannot be zero.")
            .to_owned(),
        AddError::Amount(input, e) => amount_error(ctx, input, e),
        AddError::Currency(code) => {
            let code = escape(code);
            ctx.t(
                format!("Nu cunosc moneda „{code}”. Trimite codul ei din trei litere, ca RON, EUR sau USD."),
                format!("I do not know the currency “{code}”. Send its three-letter code, such as RON, EUR or USD."),
            )
        }
        AddError::Day(word) => {
            let word = escape(word);
            ctx.t(
                format!("„{word}” nu este o zi din calendar. Scrie ziua ca 12.11 sau 12.11.2026, ori „ieri”."),
                format!("“{word}” is not a day of the calendar. Write the day as 12.11 or 12.11.2026, or “yesterday”."),
            )
        }
        AddError::Future(day) => {
            let shown = date(ctx.lang, *day);
            ctx.t(
                format!("Ziua {shown} este în viitor: înregistrez doar ce s-a întâmplat deja."),
                format!("{shown} is in the future: I only record what has already happened."),
            )
        }
    }
}

fn amount_error(ctx: &UpdateCtx<'_>, input: &str, e: &MoneyError) -> String {
    let input = escape(input);
    match e {
        MoneyError::Ambiguous(_) => ctx.t(
            format!(
                "Suma „{input}” e ambiguă: poate fi o mie sau un leu și ceva. \
                 Trimite 1234 (fără separator) sau cel mult două zecimale, ca 1,23."
            ),
            format!(
                "The amount “{input}” is ambiguous: it could mean thousands or decimals. \
                 Write 1234 (no separator) or at most two decimals, as in 1.23."
            ),
        ),
        MoneyError::TooLarge => ctx.t(
            format!("Suma „{input}” este prea mare."),
            format!("The amount “{input}” is too large."),
        ),
        _ => ctx.t(
            format!(
                "„{input}” nu este o sumă. Exemple: 12,50 · 1.234,56 · 12.50 · +100 pentru o încasare."
            ),
            format!(
                "“{input}” is not an amount. Examples: 12.50 · 1,234.56 · 12,50 · +100 for income."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 15);

    #[test]
    fn currency_and_day_may_follow_the_amount_in_either_order() {
        let eur = Currency::parse("EUR").ok();
        let cases = [
            ("12,50 cafea", None, None, "cafea", "neither"),
            ("50 EUR taxi", eur, None, "taxi", "a currency"),
            ("50 eur taxi", eur, None, "taxi", "any case"),
            (
                "5 ieri cafea",
                None,
                Some(date!(2026 - 11 - 14)),
                "cafea",
                "yesterday",
            ),
            (
                "5 yesterday x",
                None,
                Some(date!(2026 - 11 - 14)),
                "x",
                "English",
            ),
            (
                "5 EUR 12.11 parcare",
                eur,
                Some(date!(2026 - 11 - 12)),
                "parcare",
                "both",
            ),
            (
                "5 12.11.2025 EUR parcare",
                eur,
                Some(date!(2025 - 11 - 12)),
                "parcare",
                "day first",
            ),
            (
                "5 1.3 x",
                None,
                Some(date!(2026 - 03 - 01)),
                "x",
                "one digit each",
            ),
            (
                "5 bus ticket",
                None,
                None,
                "bus ticket",
                "a lowercase word is the note",
            ),
            (
                "5 cup cafea",
                None,
                None,
                "cup cafea",
                "a lowercase ISO code is the note",
            ),
            (
                "5 HUF x",
                Currency::parse("HUF").ok(),
                None,
                "x",
                "any ISO code in capitals",
            ),
            (
                "5 taxi EUR",
                None,
                None,
                "taxi EUR",
                "a currency after the note is the note",
            ),
            (
                "5 azi 12.11 x",
                None,
                Some(TODAY),
                "12.11 x",
                "one day only",
            ),
        ];
        for (args, currency, day, note, why) in cases {
            let parsed = parse(args, TODAY).unwrap_or_else(|e| panic!("{why}: {e:?}"));
            assert_eq!(
                (parsed.currency, parsed.day, parsed.note),
                (currency, day, note),
                "{why}"
            );
        }
    }

    #[test]
    fn future_days_unknown_currencies_and_impossible_days_are_refused() {
        let cases = [
            (
                "5 16.11 x",
                AddError::Future(date!(2026 - 11 - 16)),
                "tomorrow",
            ),
            (
                "5 1.1.2027 x",
                AddError::Future(date!(2027 - 01 - 01)),
                "next year",
            ),
            ("5 EUU x", AddError::Currency("EUU"), "no such currency"),
            ("5 31.02 x", AddError::Day("31.02"), "no such day"),
            ("5 12.13 x", AddError::Day("12.13"), "no such month"),
            (
                "5 12.11.26 x",
                AddError::Day("12.11.26"),
                "a two-digit year",
            ),
            ("5 EUR", AddError::Usage, "no note"),
            ("", AddError::Usage, "nothing"),
            ("0 x", AddError::Zero, "zero"),
        ];
        for (args, want, why) in cases {
            assert_eq!(parse(args, TODAY), Err(want), "{why}");
        }
    }
}
