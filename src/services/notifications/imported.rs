//! `imported`: received invoices newly written to the person's active
//! company, by any path (e-Factura from the bot, the web page or the API; a
//! JSON or CSV push), found from the scheduler's side with no hook in the
//! import code: the invoices whose `created_at` is within the last day and
//! that were never announced to the person (a subject per invoice,
//! `invoice:<id>`). One message lists them, clipped, the rest counted.
//!
//! An import arrives over several requests (an ERP pushing a page at a
//! time), so a company's new invoices wait until none came for [`SETTLE`]
//! (at most [`LONGEST_WAIT`] after the first), and go out together. The
//! window is a day rather than the calendar day so that what arrived in the
//! person's quiet hours of the evening is told in the morning; invoices
//! written before the column existed (`created_at` NULL) are never new.

use sqlx::PgConnection;
use time::{Date, Duration, OffsetDateTime};

use super::{Found, Kind, People, Person, list, send};
use crate::blocks::format;
use crate::blocks::local_time::count;
use crate::blocks::money::{Amount, Currency};
use crate::blocks::telegram_html::escape;

/// How long an import must have been still before it is announced.
pub const SETTLE: Duration = Duration::minutes(2);
/// The longest the first invoice of an import waits for the rest.
pub const LONGEST_WAIT: Duration = Duration::minutes(15);
/// How far back new invoices are looked for.
pub const WINDOW: Duration = Duration::days(1);

/// One new invoice.
struct Line {
    number: String,
    partner: String,
    total: Amount,
    currency: Option<Currency>,
    due_date: Date,
}

/// Finds and queues the announcements of new received invoices; returns how many.
pub(super) async fn run(
    db: &mut PgConnection,
    people: &People,
    today: Date,
    now: OffsetDateTime,
) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.user_id AS "user_id!", i.id, i.number, i.partner, i.total_minor, i.currency,
                  i.due_date, i.created_at AS "created_at!"
           FROM unnest($1::bigint[], $2::bigint[]) AS p (user_id, company_id)
           JOIN notification_settings s ON s.user_id = p.user_id AND s.kind = 'imported'
           JOIN invoices i ON i.company_id = p.company_id AND i.direction = 'received'
                          AND i.created_at > $3 AND i.created_at <= $4
           WHERE NOT EXISTS (SELECT FROM notifications_sent n
                             WHERE n.user_id = p.user_id AND n.kind = 'imported'
                               AND n.subject = 'invoice:' || i.id)
           ORDER BY p.user_id, i.created_at, i.id"#,
        &people.user_ids,
        &people.company_ids,
        now - WINDOW,
        now
    )
    .fetch_all(&mut *db)
    .await?;
    let mut alerts: Vec<(Found<Line>, OffsetDateTime, OffsetDateTime)> = Vec::new();
    for row in rows {
        let line = Line {
            number: row.number,
            partner: row.partner,
            total: Amount::from_minor(row.total_minor),
            currency: Currency::parse(&row.currency).ok(),
            due_date: row.due_date,
        };
        let item = (format!("invoice:{}", row.id), line);
        match alerts.last_mut() {
            Some((last, _, newest)) if last.user_id == row.user_id => {
                last.items.push(item);
                *newest = row.created_at;
            }
            _ => alerts.push((
                Found {
                    user_id: row.user_id,
                    kind: Kind::Imported,
                    items: vec![item],
                },
                row.created_at,
                row.created_at,
            )),
        }
    }
    let mut queued = 0;
    for (found, oldest, newest) in alerts {
        if !settled(now, oldest, newest) {
            continue;
        }
        if send(db, people, today, found, text).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Whether the new invoices written from `oldest` to `newest` are announced
/// at `now`: nothing came for [`SETTLE`], or the first has waited long enough.
fn settled(now: OffsetDateTime, oldest: OffsetDateTime, newest: OffsetDateTime) -> bool {
    now - newest >= SETTLE || now - oldest >= LONGEST_WAIT
}

/// The message: how many, for which company, the invoices.
fn text(person: &Person, lines: &[Line]) -> String {
    let lang = person.lang;
    let company = escape(&person.company_name);
    let n = count(
        lang,
        lines.len() as u64,
        ["factură primită", "facturi primite"],
        ["received invoice", "received invoices"],
    );
    let verb_ro = if lines.len() == 1 {
        "s-a importat"
    } else {
        "s-au importat"
    };
    let mut text = lang.pick(
        format!("📥 <b>{company}</b>: {verb_ro} {n}:"),
        format!("📥 <b>{company}</b>: {n} imported:"),
    );
    list(
        &mut text,
        lang,
        lines,
        (["factură", "facturi"], ["invoice", "invoices"]),
        |line| {
            let amount = line.currency.map_or_else(
                || line.total.minor().to_string(),
                |currency| format::money(lang, line.total, currency),
            );
            let due = format::date(lang, line.due_date);
            format!(
                "{} — {}, {amount}, {} {due}",
                escape(&line.number),
                escape(&line.partner),
                lang.pick("scadentă pe", "due")
            )
        },
    );
    text
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::blocks::Lang;

    fn lines(n: usize) -> Vec<Line> {
        (0..n)
            .map(|i| Line {
                number: format!("FZ-{i}"),
                partner: "Furnizor SRL".to_owned(),
                total: Amount::from_minor(50_000),
                currency: Some(Currency::RON),
                due_date: date!(2026 - 12 - 20),
            })
            .collect()
    }

    fn person(lang: Lang) -> Person {
        Person {
            user_id: 1,
            chat_id: 1,
            lang,
            company_id: 1,
            company_name: "Exemplu SRL".to_owned(),
        }
    }

    #[test]
    fn the_message_counts_in_good_romanian_and_english() {
        let ro = person(Lang::Ro);
        let en = person(Lang::En);
        assert!(text(&ro, &lines(1)).contains("s-a importat 1 factură primită:"));
        assert!(text(&ro, &lines(3)).contains("s-au importat 3 facturi primite:"));
        assert!(text(&ro, &lines(20)).contains("s-au importat 20 de facturi primite:"));
        assert!(text(&en, &lines(1)).contains("1 received invoice imported:"));
        assert!(
            text(&ro, &lines(1))
                .contains("FZ-0 — Furnizor SRL, 500,00 RON, scadentă pe 20.12.2026")
        );
        assert!(text(&en, &lines(12)).ends_with("… and 2 more invoices"));
    }

    #[test]
    fn an_import_waits_until_it_is_still_or_has_waited_long_enough() {
        let now = datetime!(2026-12-03 10:00 UTC);
        let cases = [
            (1, 1, false, "one minute ago: may still be arriving"),
            (10, 3, true, "still for three minutes"),
            (16, 1, true, "the first waited more than 15 minutes"),
        ];
        for (oldest, newest, told, why) in cases {
            let at = |m: i64| now - Duration::minutes(m);
            assert_eq!(settled(now, at(oldest), at(newest)), told, "{why}");
        }
    }
}
