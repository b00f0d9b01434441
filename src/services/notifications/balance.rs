//! `balance_low`: the bank and cash accounts of the person's active company
//! (`treasury_accounts`, as the ERP last reported them: the cash register is
//! an account of kind `cash`) whose balance is under the person's threshold
//! for the account's currency. Thresholds are per person and currency
//! (`notification_thresholds`); there are no exchange rates, so an account
//! in a currency without a threshold is not compared. Each account is told
//! at most once a day (subject `account:<id>`); one message lists them.
//! The cash entries of `/add` are movements without an opening balance, so
//! they have no balance to compare.

use sqlx::PgConnection;
use time::Date;

use super::{Found, Kind, People, Person, list, send};
use crate::blocks::format;
use crate::blocks::local_time::count;
use crate::blocks::money::{Amount, Currency};
use crate::blocks::telegram_html::escape;

/// One account under its threshold.
struct Line {
    name: String,
    cash: bool,
    currency: Currency,
    balance: Amount,
    threshold: Amount,
}

/// Finds and queues today's low-balance alerts; returns how many.
pub(super) async fn run(
    db: &mut PgConnection,
    people: &People,
    today: Date,
) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.user_id AS "user_id!", a.id, a.name, a.kind, a.currency, a.balance_minor,
                  th.amount_minor
           FROM unnest($1::bigint[], $2::bigint[]) AS p (user_id, company_id)
           JOIN notification_settings s ON s.user_id = p.user_id AND s.kind = 'balance_low'
           JOIN notification_thresholds th ON th.user_id = p.user_id
           JOIN treasury_accounts a ON a.company_id = p.company_id AND a.currency = th.currency
                                   AND a.balance_minor < th.amount_minor
           ORDER BY p.user_id, a.kind, a.name"#,
        &people.user_ids,
        &people.company_ids
    )
    .fetch_all(&mut *db)
    .await?;
    let mut alerts: Vec<Found<Line>> = Vec::new();
    for row in rows {
        let Ok(currency) = Currency::parse(&row.currency) else {
            continue;
        };
        let item = (
            format!("account:{}", row.id),
            Line {
                name: row.name,
                cash: row.kind == "cash",
                currency,
                balance: Amount::from_minor(row.balance_minor),
                threshold: Amount::from_minor(row.amount_minor),
            },
        );
        match alerts.last_mut() {
            Some(last) if last.user_id == row.user_id => last.items.push(item),
            _ => alerts.push(Found {
                user_id: row.user_id,
                kind: Kind::BalanceLow,
                items: vec![item],
            }),
        }
    }
    let mut queued = 0;
    for found in alerts {
        if send(db, people, today, found, text).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The message: which accounts, their balance and the threshold.
fn text(person: &Person, lines: &[Line]) -> String {
    let lang = person.lang;
    let company = escape(&person.company_name);
    let n = count(
        lang,
        lines.len() as u64,
        ["cont", "conturi"],
        ["account", "accounts"],
    );
    let (verb_ro, verb_en) = if lines.len() == 1 {
        ("are", "is")
    } else {
        ("au", "are")
    };
    let mut text = lang.pick(
        format!("🏦 <b>{company}</b>: {n} {verb_ro} soldul sub prag:"),
        format!("🏦 <b>{company}</b>: {n} {verb_en} under the threshold:"),
    );
    list(
        &mut text,
        lang,
        lines,
        (["cont", "conturi"], ["account", "accounts"]),
        |line| {
            let kind = if line.cash {
                lang.pick("casă", "cash")
            } else {
                lang.pick("bancă", "bank")
            };
            format!(
                "{} ({kind}): {}, {} {}",
                escape(&line.name),
                format::money(lang, line.balance, line.currency),
                lang.pick("pragul", "threshold"),
                format::money(lang, line.threshold, line.currency)
            )
        },
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::Lang;

    fn line(name: &str, cash: bool) -> Line {
        Line {
            name: name.to_owned(),
            cash,
            currency: Currency::RON,
            balance: Amount::from_minor(45_000),
            threshold: Amount::from_minor(100_000),
        }
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
    fn the_message_names_each_account_with_its_balance_and_threshold() {
        let ro = text(&person(Lang::Ro), &[line("BT lei", false)]);
        let ro_two = text(
            &person(Lang::Ro),
            &[line("BT lei", false), line("Casa", true)],
        );
        let en_two = text(
            &person(Lang::En),
            &[line("BT lei", false), line("Casa", true)],
        );
        assert!(ro.contains("1 cont are soldul sub prag:"), "{ro}");
        assert!(
            ro.contains("BT lei (bancă): 450,00 RON, pragul 1.000,00 RON"),
            "{ro}"
        );
        assert!(ro_two.contains("2 conturi au soldul sub prag:"), "{ro_two}");
        assert!(ro_two.contains("Casa (casă)"), "{ro_two}");
        assert!(
            en_two.contains("2 accounts are under the threshold:"),
            "{en_two}"
        );
        assert!(
            en_two.contains("Casa (cash): RON 450.00")
                || en_two.contains("Casa (cash): 450.00 RON"),
            "{en_two}"
        );
    }
}
