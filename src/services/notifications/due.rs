//! The invoice alerts of a day, one message per person and kind, its subject
//! the company: `due_soon` (invoices to collect falling due in the person's
//! N days), `payables_due` (received invoices to pay falling due in N days),
//! `overdue` (invoices of both directions whose due date was yesterday).

use sqlx::PgConnection;
use time::Date;

use super::{Found, Kind, People, Person, list, send};
use crate::blocks::format;
use crate::blocks::local_time::invoices;
use crate::blocks::money::{Amount, Currency};
use crate::blocks::telegram_html::escape;

/// One invoice an alert names.
struct Line {
    direction: String,
    number: String,
    partner: String,
    outstanding: Amount,
    currency: Option<Currency>,
    due_date: Date,
}

/// Finds and queues today's invoice alerts for `people`; returns how many.
pub(super) async fn run(
    db: &mut PgConnection,
    people: &People,
    today: Date,
) -> Result<usize, sqlx::Error> {
    // Only invoices still open.
    let rows = sqlx::query!(
        r#"SELECT p.user_id AS "user_id!", p.company_id AS "company_id!", s.kind, i.direction,
                  i.number, i.partner, i.total_minor - i.paid_minor AS "outstanding!",
                  i.currency, i.due_date
           FROM unnest($2::bigint[], $3::bigint[]) AS p (user_id, company_id)
           JOIN notification_settings s ON s.user_id = p.user_id
           JOIN invoices i ON i.company_id = p.company_id AND i.total_minor > i.paid_minor
           WHERE (s.kind = 'due_soon' AND i.direction = 'issued' AND i.due_date = $1::date + s.days)
              OR (s.kind = 'payables_due' AND i.direction = 'received' AND i.due_date = $1::date + s.days)
              OR (s.kind = 'overdue' AND i.due_date = $1::date - 1)
           ORDER BY p.user_id, s.kind, i.direction, i.due_date, i.number"#,
        today,
        &people.user_ids,
        &people.company_ids
    )
    .fetch_all(&mut *db)
    .await?;
    let mut alerts: Vec<Found<Line>> = Vec::new();
    for row in rows {
        let Some(kind) = Kind::parse(&row.kind) else {
            continue;
        };
        let line = Line {
            direction: row.direction,
            number: row.number,
            partner: row.partner,
            outstanding: Amount::from_minor(row.outstanding),
            currency: Currency::parse(&row.currency).ok(),
            due_date: row.due_date,
        };
        let subject = format!("company:{}", row.company_id);
        match alerts.last_mut() {
            Some(last) if last.user_id == row.user_id && last.kind == kind => {
                last.items.push((subject, line));
            }
            _ => alerts.push(Found {
                user_id: row.user_id,
                kind,
                items: vec![(subject, line)],
            }),
        }
    }
    let mut queued = 0;
    for found in alerts {
        let kind = found.kind;
        if send(db, people, today, found, |person, lines| {
            text(person, kind, lines)
        })
        .await?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The message: what, for which company, the invoices.
fn text(person: &Person, kind: Kind, lines: &[Line]) -> String {
    let lang = person.lang;
    let company = escape(&person.company_name);
    let one = lines.len() == 1;
    let n = invoices(lang, lines.len() as u64);
    let due_on = format::date(lang, lines[0].due_date);
    let mut text = match kind {
        Kind::DueSoon | Kind::PayablesDue => {
            let (side_ro, side_en) = if kind == Kind::DueSoon {
                ("de încasat", "to collect")
            } else {
                ("de plătit", "to pay")
            };
            let (verb_ro, verb_en) = if one {
                ("ajunge", "falls")
            } else {
                ("ajung", "fall")
            };
            lang.pick(
                format!("📅 <b>{company}</b>: {n} {side_ro} {verb_ro} la scadență pe {due_on}:"),
                format!("📅 <b>{company}</b>: {n} {side_en} {verb_en} due on {due_on}:"),
            )
        }
        _ => {
            let verb_ro = if one { "a depășit" } else { "au depășit" };
            lang.pick(
                format!("⚠️ <b>{company}</b>: {n} {verb_ro} azi scadența:"),
                format!("⚠️ <b>{company}</b>: {n} became overdue today:"),
            )
        }
    };
    list(
        &mut text,
        lang,
        lines,
        (["factură", "facturi"], ["invoice", "invoices"]),
        |line| {
            let amount = line.currency.map_or_else(
                || line.outstanding.minor().to_string(),
                |currency| format::money(lang, line.outstanding, currency),
            );
            let direction = match line.direction.as_str() {
                "issued" => lang.pick("de încasat", "to collect"),
                _ => lang.pick("de plătit", "to pay"),
            };
            format!(
                "{} — {}, {amount} ({direction})",
                escape(&line.number),
                escape(&line.partner)
            )
        },
    );
    text
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::blocks::Lang;

    fn person(lang: Lang) -> Person {
        Person {
            user_id: 1,
            chat_id: 1,
            lang,
            company_id: 1,
            company_name: "Exemplu & Fiii SRL".to_owned(),
        }
    }

    fn line(number: &str, direction: &str) -> Line {
        Line {
            direction: direction.to_owned(),
            number: number.to_owned(),
            partner: "Furnizor SRL".to_owned(),
            outstanding: Amount::from_minor(123_456),
            currency: Some(Currency::RON),
            due_date: date!(2026 - 12 - 10),
        }
    }

    #[test]
    fn the_verb_agrees_with_the_count_in_both_languages() {
        let one = [line("F-1", "received")];
        let two = [line("F-1", "received"), line("F-2", "received")];
        let ro = person(Lang::Ro);
        let en = person(Lang::En);
        assert!(
            text(&ro, Kind::PayablesDue, &one)
                .contains("1 factură de plătit ajunge la scadență pe 10.12.2026:")
        );
        assert!(
            text(&ro, Kind::PayablesDue, &two)
                .contains("2 facturi de plătit ajung la scadență pe 10.12.2026:")
        );
        assert!(text(&en, Kind::PayablesDue, &one).contains("1 invoice to pay falls due on"));
        assert!(text(&en, Kind::DueSoon, &two).contains("2 invoices to collect fall due on"));
        assert!(text(&ro, Kind::Overdue, &one).contains("1 factură a depășit azi scadența"));
        assert!(text(&ro, Kind::Overdue, &two).contains("2 facturi au depășit azi scadența"));
        assert!(text(&ro, Kind::Overdue, &one).contains("Exemplu &amp; Fiii SRL"));
        assert!(text(&ro, Kind::Overdue, &one).contains("1.234,56 RON (de plătit)"));
    }

    #[test]
    fn a_long_list_is_clipped_and_the_rest_counted() {
        let lines: Vec<Line> = (0..31).map(|n| line(&format!("F-{n}"), "issued")).collect();
        let ro = text(&person(Lang::Ro), Kind::DueSoon, &lines);
        let en = text(&person(Lang::En), Kind::DueSoon, &lines);
        assert!(ro.contains("31 de facturi de încasat ajung"), "{ro}");
        assert!(ro.contains("F-9 —") && !ro.contains("F-10 —"), "{ro}");
        assert!(ro.ends_with("… și încă 21 de facturi"), "{ro}");
        assert!(en.ends_with("… and 21 more invoices"), "{en}");
    }
}
