//! Time as people in Romania read it: Europe/Bucharest, and the moments and
//! counts shown to them in messages and pages.
//!
//! Timestamps are stored and sent in UTC; anything a person reads (a code's
//! expiry, an invitation's, "today" for the daily digest) is shown in
//! Bucharest time. Romania follows the EU's summer-time rule (since 1997):
//! EET (UTC+2), and EEST (UTC+3) from 01:00 UTC on the last Sunday of March
//! to 01:00 UTC on the last Sunday of October. The rule is written out here
//! rather than read from a time-zone database: it is one rule, tested at its
//! edges, and a binary that carries no tzdata cannot go stale in a container.
//! Should the EU abolish the clock change, this is the one place to edit.

use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

use super::Lang;
use super::money::push_grouped;

/// Romania's standard time, EET.
const WINTER: UtcOffset = match UtcOffset::from_hms(2, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+2 is a valid offset"),
};
/// Romania's summer time, EEST.
const SUMMER: UtcOffset = match UtcOffset::from_hms(3, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+3 is a valid offset"),
};

/// The last Sunday of `month` in `year`, at 01:00 UTC: when the EU's clocks change.
fn last_sunday_at_one_utc(year: i32, month: Month) -> OffsetDateTime {
    let last_day = Date::from_calendar_date(year, month, month.length(year))
        .expect("the last day of a month is a valid date");
    let back = i64::from(last_day.weekday().number_days_from_sunday());
    let sunday = last_day - Duration::days(back);
    debug_assert_eq!(sunday.weekday(), Weekday::Sunday);
    sunday
        .with_hms(1, 0, 0)
        .expect("01:00 is a valid time")
        .assume_utc()
}

/// Bucharest's offset from UTC at the moment `t`.
pub fn bucharest_offset(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let starts = last_sunday_at_one_utc(utc.year(), Month::March);
    let ends = last_sunday_at_one_utc(utc.year(), Month::October);
    if utc >= starts && utc < ends {
        SUMMER
    } else {
        WINTER
    }
}

/// The moment `t` on Bucharest's clocks.
pub fn in_bucharest(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(bucharest_offset(t))
}

/// The calendar date in Bucharest at the moment `t` (what "today" means to
/// a Romanian company, whatever the server's clock says).
pub fn bucharest_date(t: OffsetDateTime) -> Date {
    in_bucharest(t).date()
}

/// A moment as a person reads it, on Bucharest's clocks: `12.11.2026, 14:05`
/// in Romanian, `12 Nov 2026, 14:05` in English.
pub fn date_time(lang: Lang, t: OffsetDateTime) -> String {
    let local = in_bucharest(t);
    let date = local.date();
    let (hour, minute) = (local.hour(), local.minute());
    match lang {
        Lang::Ro => format!(
            "{:02}.{:02}.{}, {hour:02}:{minute:02}",
            date.day(),
            u8::from(date.month()),
            date.year()
        ),
        Lang::En => {
            let month = date.month().to_string();
            format!(
                "{} {} {}, {hour:02}:{minute:02}",
                date.day(),
                &month[..3],
                date.year()
            )
        }
    }
}

/// Only the clock time on Bucharest's clocks, `14:05`: for moments later today
/// (a code that expires in 15 minutes).
pub fn clock(t: OffsetDateTime) -> String {
    let local = in_bucharest(t);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// A count with its noun, as each language writes it. `ro` holds the
/// Romanian singular and plural (`["factură", "facturi"]`), `en` the English
/// ones. Romanian puts "de" before the plural from 20 on, unless the number
/// ends in 01–19: `1 factură`, `2 facturi`, `19 facturi`, `20 de facturi`,
/// `101 facturi`, `120 de facturi`; 0 takes the plain plural (`0 facturi`).
/// Numbers from 1,000 on are grouped as each language groups money
/// (`1.000 de facturi`, `1,000 invoices`).
pub fn count(lang: Lang, n: u64, ro: [&str; 2], en: [&str; 2]) -> String {
    let mut out = String::with_capacity(24);
    push_count(&mut out, lang, n, ro, en);
    out
}

/// [`count`] appended to `out`.
pub fn push_count(out: &mut String, lang: Lang, n: u64, ro: [&str; 2], en: [&str; 2]) {
    let (singular, plural) = lang.pick((ro[0], ro[1]), (en[0], en[1]));
    if n == 1 {
        out.push_str("1 ");
        out.push_str(singular);
        return;
    }
    push_grouped(out, n, lang.pick('.', ','));
    out.push(' ');
    if lang == Lang::Ro && n != 0 && !(1..=19).contains(&(n % 100)) {
        out.push_str("de ");
    }
    out.push_str(plural);
}

/// `n` invoices, as each language writes it (`count` with the noun said most
/// often: the dashboard, the digest, the alerts, the import's messages).
pub fn invoices(lang: Lang, n: u64) -> String {
    count(lang, n, INVOICE_RO, INVOICE_EN)
}

/// [`invoices`] appended to `out`.
pub fn push_invoices(out: &mut String, lang: Lang, n: u64) {
    push_count(out, lang, n, INVOICE_RO, INVOICE_EN);
}

/// The noun [`invoices`] counts, singular and plural.
const INVOICE_RO: [&str; 2] = ["factură", "facturi"];
const INVOICE_EN: [&str; 2] = ["invoice", "invoices"];

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn summer_time_starts_and_ends_at_one_utc_on_the_last_sundays() {
        // (moment in UTC, Bucharest's offset in hours, why)
        let cases = [
            (datetime!(2026-01-15 12:00 UTC), 2, "winter"),
            (datetime!(2026-07-15 12:00 UTC), 3, "summer"),
            // 2026: the last Sunday of March is the 29th, of October the 25th.
            (
                datetime!(2026-03-29 00:59:59 UTC),
                2,
                "a second before the change",
            ),
            (
                datetime!(2026-03-29 01:00 UTC),
                3,
                "03:00 becomes 04:00 local",
            ),
            (
                datetime!(2026-10-25 00:59:59 UTC),
                3,
                "a second before the change back",
            ),
            (
                datetime!(2026-10-25 01:00 UTC),
                2,
                "04:00 becomes 03:00 local",
            ),
            // 2027: March 28th and October 31st (the month's last day is a Sunday).
            (datetime!(2027-03-28 01:00 UTC), 3, "2027 start"),
            (
                datetime!(2027-10-31 00:30 UTC),
                3,
                "2027 end, last day of the month",
            ),
            (datetime!(2027-10-31 01:00 UTC), 2, "2027 end"),
            (
                datetime!(2027-03-27 23:30 +03:00),
                2,
                "an input in another offset",
            ),
        ];
        for (t, hours, why) in cases {
            assert_eq!(bucharest_offset(t).whole_hours(), hours, "{why}: {t}");
        }
    }

    #[test]
    fn the_bucharest_date_turns_at_local_midnight() {
        assert_eq!(
            bucharest_date(datetime!(2026-12-01 22:30 UTC)),
            time::macros::date!(2026 - 12 - 02),
            "00:30 in Bucharest in winter"
        );
        assert_eq!(
            bucharest_date(datetime!(2026-06-30 20:59 UTC)),
            time::macros::date!(2026 - 06 - 30),
            "23:59 in Bucharest in summer"
        );
        assert_eq!(
            bucharest_date(datetime!(2026-06-30 21:00 UTC)),
            time::macros::date!(2026 - 07 - 01),
            "midnight in Bucharest in summer"
        );
    }

    #[test]
    fn moments_read_in_bucharest_time_in_each_language() {
        let t = datetime!(2026-11-12 12:05 UTC);
        assert_eq!(date_time(Lang::Ro, t), "12.11.2026, 14:05");
        assert_eq!(date_time(Lang::En, t), "12 Nov 2026, 14:05");
        assert_eq!(clock(datetime!(2026-07-01 08:00 UTC)), "11:00");
    }

    #[test]
    fn counts_take_the_romanian_and_english_plurals() {
        let noun = invoices;
        let cases = [
            (0, "0 facturi", "0 invoices"),
            (1, "1 factură", "1 invoice"),
            (2, "2 facturi", "2 invoices"),
            (19, "19 facturi", "19 invoices"),
            (20, "20 de facturi", "20 invoices"),
            (100, "100 de facturi", "100 invoices"),
            (101, "101 facturi", "101 invoices"),
            (119, "119 facturi", "119 invoices"),
            (120, "120 de facturi", "120 invoices"),
            (1_000, "1.000 de facturi", "1,000 invoices"),
            (1_001_015, "1.001.015 facturi", "1,001,015 invoices"),
        ];
        for (n, ro, en) in cases {
            assert_eq!(noun(Lang::Ro, n), ro, "{n}");
            assert_eq!(noun(Lang::En, n), en, "{n}");
        }
    }
}
