//! Notifications: what the bot tells a person on its own, on a schedule,
//! about their active company, as they chose with `/notificari`
//! ([`settings`]). [`Kind`] is the one table of the kinds of alert; each
//! kind finds its alerts in its own file ([`due`], [`imported`], [`balance`]).
//!
//! [`run_due`] is one tick: in one transaction, under a transaction-scoped
//! advisory lock ([`begin_tick`], which the digest's tick opens with too),
//! it finds what is due now, records each alert's subjects in
//! `notifications_sent` ([`record`]; person, kind, subject, day: the primary key) and
//! queues its message in the outbox, together. So a subject is told at most
//! once per person, kind and day, whatever the instances and restarts. It
//! looks only at today (Europe/Bucharest; the imports of the last day): a
//! tick missed while every instance was scaled to zero is caught up by the
//! next one the same day, and a day missed whole is not sent late, so a start
//! never brings a burst of stale alerts. Nothing goes in a person's quiet
//! hours ([`QuietHours`], 21–08 unless they chose otherwise: the alerts wait
//! for a later tick), nor to a person who is no longer a member of the
//! company, nor to a chat that blocked the bot. Every message ends saying
//! how to turn it off.
//!
//! [`spawn`] runs a tick every [`INTERVAL`] on every instance, the first at
//! start; `ledgerbot notify --once` runs one and sends what it queued.

pub mod balance;
pub mod digest;
pub mod due;
pub mod imported;
pub mod settings;

use std::time::Duration;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use time::{Date, OffsetDateTime};

use crate::blocks::Lang;
use crate::blocks::local_time::{count, in_bucharest};
use crate::infra::telegram::BotMethod;
pub use settings::{Change, QuietHours};

/// How often each instance looks for what is due.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Advisory lock key ("ledgntfy" in ASCII): one instance per tick.
pub const LOCK: i64 = 0x6c65_6467_6e74_6679;
/// Days the record of a sent alert is kept (the imported invoices need
/// the last one).
const KEPT_DAYS: i32 = 7;
/// Items (invoices, accounts) listed in one message; the rest are counted.
const LISTED: usize = 10;

/// The kinds of alert a person may turn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Invoices to collect falling due in N days.
    DueSoon,
    /// Received invoices to pay falling due in N days.
    PayablesDue,
    /// Invoices (both directions) that became overdue today.
    Overdue,
    /// Received invoices written in the last day, by any path.
    Imported,
    /// A bank or cash account under the person's threshold.
    BalanceLow,
}

/// One row of the table of kinds: everything `/notificari` and the database
/// need to know about a kind.
struct Spec {
    kind: Kind,
    /// The name stored in the database and carried by the buttons.
    name: &'static str,
    /// What it is, in Romanian and English; `{days}` is the person's N days.
    label: [&'static str; 2],
    /// The button's word for it.
    short: [&'static str; 2],
    /// Whether it looks N days ahead (the `days` buttons).
    has_days: bool,
}

/// The kinds, in the order `/notificari` lists them. A new kind: a row
/// here, its name in `notification_settings_kind` (schema.sql), and the file
/// that finds its alerts, called from [`run_due`].
#[rustfmt::skip]
const KINDS: [Spec; 5] = [
    Spec {
        kind: Kind::DueSoon,
        name: "due_soon",
        label: ["facturi de încasat care ajung la scadență peste {days}", "invoices to collect falling due in {days}"],
        short: ["încasări", "to collect"],
        has_days: true,
    },
    Spec {
        kind: Kind::PayablesDue,
        name: "payables_due",
        label: ["facturi de plătit care ajung la scadență peste {days}", "invoices to pay falling due in {days}"],
        short: ["plăți", "to pay"],
        has_days: true,
    },
    Spec {
        kind: Kind::Overdue,
        name: "overdue",
        label: ["facturi care au depășit azi scadența", "invoices that became overdue today"],
        short: ["restanțe", "overdue"],
        has_days: false,
    },
    Spec {
        kind: Kind::Imported,
        name: "imported",
        label: ["facturi primite noi (e-Factura, import)", "new received invoices (e-Factura, import)"],
        short: ["facturi primite", "received invoices"],
        has_days: false,
    },
    Spec {
        kind: Kind::BalanceLow,
        name: "balance_low",
        label: ["sold de bancă sau casă sub prag", "a bank or cash balance under the threshold"],
        short: ["sold mic", "low balance"],
        has_days: false,
    },
];

impl Kind {
    /// Every kind, in the order `/notificari` lists them.
    pub fn all() -> impl Iterator<Item = Kind> {
        KINDS.iter().map(|spec| spec.kind)
    }

    fn spec(self) -> &'static Spec {
        KINDS
            .iter()
            .find(|spec| spec.kind == self)
            .expect("every kind has its row in KINDS")
    }

    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        KINDS
            .iter()
            .find(|spec| spec.name == name)
            .map(|spec| spec.kind)
    }

    /// Whether it looks N days ahead (and so has the days buttons).
    pub fn has_days(self) -> bool {
        self.spec().has_days
    }

    /// What the kind is, for `/notificari`, with the person's N days.
    pub fn label(self, lang: Lang, days: u8) -> String {
        let spec = self.spec();
        lang.pick(spec.label[0], spec.label[1])
            .replace("{days}", &days_text(lang, days))
    }

    /// The button's word for it.
    pub fn short(self, lang: Lang) -> &'static str {
        let spec = self.spec();
        lang.pick(spec.short[0], spec.short[1])
    }
}

/// `1 zi`, `3 zile`, `1 day`, `3 days`.
pub fn days_text(lang: Lang, days: u8) -> String {
    count(lang, u64::from(days), ["zi", "zile"], ["day", "days"])
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Alerts queued now.
    pub queued: usize,
    /// People not looked at because it is their quiet hours.
    pub quiet: usize,
}

/// A person who may be told something now, with their active company.
#[derive(Clone, Debug)]
pub struct Person {
    /// `users.id`.
    pub user_id: i64,
    /// Their private chat with the bot.
    pub chat_id: i64,
    /// Their language.
    pub lang: Lang,
    /// Their active company (they are a member of it).
    pub company_id: i64,
    /// Its name.
    pub company_name: String,
}

/// The people a tick looks at, in `users.id` order; the arrays are what the
/// kinds' queries take (`unnest($1::bigint[], $2::bigint[])`).
pub struct People {
    people: Vec<Person>,
    user_ids: Vec<i64>,
    company_ids: Vec<i64>,
}

impl People {
    /// The person with `user_id`.
    fn get(&self, user_id: i64) -> Option<&Person> {
        self.people
            .binary_search_by_key(&user_id, |p| p.user_id)
            .ok()
            .map(|at| &self.people[at])
    }
}

/// Runs one tick at `now`; `None` when another instance holds the tick's lock.
///
/// # Errors
/// The database failed; nothing of the tick is kept, and the next one tries again.
pub async fn run_due(pool: &PgPool, now: OffsetDateTime) -> Result<Option<Tick>, sqlx::Error> {
    let local = in_bucharest(now);
    let today = local.date();
    let Some(mut tx) = begin_tick(pool, LOCK).await? else {
        return Ok(None);
    };
    let (people, quiet) = awake(&mut tx, local.hour()).await?;
    let mut queued = 0;
    if !people.people.is_empty() {
        queued += due::run(&mut tx, &people, today).await?;
        queued += imported::run(&mut tx, &people, today, now).await?;
        queued += balance::run(&mut tx, &people, today).await?;
    }
    forget(&mut tx, today).await?;
    tx.commit().await?;
    Ok(Some(Tick { queued, quiet }))
}

/// Opens a tick: a transaction holding the transaction-scoped advisory lock
/// `lock` (a session lock would not survive a transaction-mode pooler), or
/// `None` when another instance holds it and so runs this tick. The alerts
/// ([`LOCK`]) and the digest ([`digest::LOCK`]) have a lock each, so one
/// instance's digests do not hold up another's alerts.
///
/// # Errors
/// The database failed.
pub(crate) async fn begin_tick(
    pool: &PgPool,
    lock: i64,
) -> Result<Option<Transaction<'static, Postgres>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let locked = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, lock)
        .fetch_one(&mut *tx)
        .await?;
    Ok(locked.then_some(tx))
}

/// Records that `user_id` is told `kind` about `subjects` on `day`, in
/// `notifications_sent`, and returns those not recorded already: what is
/// fresh, to tell now (the primary key makes "once per person, kind,
/// subject and day" the database's promise, whatever the instances).
///
/// # Errors
/// The database failed.
pub(crate) async fn record(
    db: &mut PgConnection,
    user_id: i64,
    kind: &str,
    subjects: &[String],
    day: Date,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO notifications_sent (user_id, kind, subject, day)
           SELECT $1, $2, subject, $4 FROM unnest($3::text[]) AS subject
           ON CONFLICT DO NOTHING RETURNING subject"#,
        user_id,
        kind,
        subjects,
        day
    )
    .fetch_all(&mut *db)
    .await
}

/// Forgets the alerts sent more than [`KEPT_DAYS`] days before `today`: the
/// kinds look only at today, and `imported` at the last day, so older rows
/// only grow the table. Few at a time (the day index), every tick.
async fn forget(db: &mut PgConnection, today: Date) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM notifications_sent
         WHERE (user_id, kind, subject, day) IN (
             SELECT user_id, kind, subject, day FROM notifications_sent
             WHERE day < $1::date - $2::integer LIMIT 1000)",
        today,
        KEPT_DAYS
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The people with some alert turned on who may be told now: linked chats
/// that did not block the bot, members of their active company (the join on
/// `company_members`), outside their quiet hours at `hour` (Bucharest);
/// and how many were in their quiet hours.
async fn awake(db: &mut PgConnection, hour: u8) -> Result<(People, usize), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT u.id AS user_id, t.chat_id, coalesce(u.language, 'ro') AS "lang!",
                  c.id AS company_id, c.name AS company_name,
                  q.user_id IS NOT NULL AS "chose_quiet!", q.quiet_from, q.quiet_until
           FROM users u
           JOIN telegram_accounts t ON t.user_id = u.id AND t.blocked_at IS NULL
           JOIN company_members m ON m.user_id = u.id AND m.company_id = t.active_company_id
           JOIN companies c ON c.id = m.company_id
           LEFT JOIN notification_quiet q ON q.user_id = u.id
           WHERE EXISTS (SELECT FROM notification_settings s WHERE s.user_id = u.id)
           ORDER BY u.id"#
    )
    .fetch_all(&mut *db)
    .await?;
    let mut quiet = 0;
    let mut people = People {
        people: Vec::new(),
        user_ids: Vec::new(),
        company_ids: Vec::new(),
    };
    for row in rows {
        let hours = if row.chose_quiet {
            QuietHours::from_stored(row.quiet_from, row.quiet_until)
        } else {
            QuietHours::DEFAULT
        };
        if hours.holds(hour) {
            quiet += 1;
            continue;
        }
        people.user_ids.push(row.user_id);
        people.company_ids.push(row.company_id);
        people.people.push(Person {
            user_id: row.user_id,
            chat_id: row.chat_id,
            lang: Lang::parse(&row.lang).unwrap_or(Lang::Ro),
            company_id: row.company_id,
            company_name: row.company_name,
        });
    }
    Ok((people, quiet))
}

/// One alert found: a kind for a person, and its items, each with the
/// subject it is told once a day about (several items may share one).
pub struct Found<T> {
    /// Who is told.
    pub user_id: i64,
    /// What kind of alert.
    pub kind: Kind,
    /// `(subject, item)`, in the order the message lists them.
    pub items: Vec<(String, T)>,
}

/// Queues the alert with the items whose subjects were not told today:
/// records the subjects and the message in one go (the caller's
/// transaction). `render` writes the message from those items; the footer
/// that says how to turn it off is added here. Returns whether it queued.
async fn send<T>(
    db: &mut PgConnection,
    people: &People,
    today: Date,
    found: Found<T>,
    render: impl FnOnce(&Person, &[T]) -> String,
) -> Result<bool, sqlx::Error> {
    let Some(person) = people.get(found.user_id) else {
        return Ok(false);
    };
    let mut subjects: Vec<String> = found.items.iter().map(|(s, _)| s.clone()).collect();
    subjects.sort();
    subjects.dedup();
    let fresh = record(db, found.user_id, found.kind.name(), &subjects, today).await?;
    let items: Vec<T> = found
        .items
        .into_iter()
        .filter(|(subject, _)| fresh.contains(subject))
        .map(|(_, item)| item)
        .collect();
    if items.is_empty() {
        return Ok(false);
    }
    let mut text = render(person, &items);
    text.push_str(person.lang.pick(
        "\n\nOprești aceste mesaje cu /notificari.",
        "\n\nTurn these messages off with /notify.",
    ));
    crate::infra::outbox::enqueue(db, &[BotMethod::html(person.chat_id, text)]).await?;
    Ok(true)
}

/// Appends the first [`LISTED`] lines of `items`, and "… and N more"
/// counted with `noun` (Romanian and English singular and plural).
fn list<T>(
    text: &mut String,
    lang: Lang,
    items: &[T],
    noun: ([&str; 2], [&str; 2]),
    line: impl Fn(&T) -> String,
) {
    for item in items.iter().take(LISTED) {
        text.push_str("\n• ");
        text.push_str(&line(item));
    }
    if items.len() > LISTED {
        // "… și încă 21 de facturi", "… and 21 more invoices".
        let (ro, en) = noun;
        let en = [format!("more {}", en[0]), format!("more {}", en[1])];
        let more = count(lang, (items.len() - LISTED) as u64, ro, [&en[0], &en[1]]);
        text.push_str(&lang.pick(format!("\n… și încă {more}"), format!("\n… and {more}")));
    }
}

/// Runs a tick every [`INTERVAL`] on this instance, the first at once (the
/// catch-up after a start), and wakes the outbox when it queued something.
/// `draw` draws the daily digest's chart ([`digest::Draw`]).
pub fn spawn(
    pool: PgPool,
    outbox: crate::infra::outbox::Waker,
    draw: digest::Draw,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match run_due(&pool, OffsetDateTime::now_utc()).await {
                Ok(Some(tick)) if tick.queued > 0 => {
                    tracing::info!(alerts = tick.queued, "notifications queued");
                    outbox.wake();
                }
                Ok(_) => {}
                Err(e) => {
                    crate::infra::db::note_error(&e);
                    tracing::warn!(error = %e, "notifications: the tick failed; the next one tries again");
                }
            }
            // The daily digest: its own transaction, outside the quiet hours (digest.rs).
            if digest::tick(&pool, OffsetDateTime::now_utc(), draw).await {
                outbox.wake();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_and_its_name_reads_back() {
        let kinds: Vec<Kind> = Kind::all().collect();
        assert_eq!(kinds.len(), KINDS.len());
        for kind in kinds {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
            assert_eq!(KINDS.iter().filter(|s| s.kind == kind).count(), 1);
        }
        assert_eq!(Kind::parse("digest_or_anything_else"), None);
    }

    #[test]
    fn labels_count_the_days_in_each_language() {
        assert_eq!(
            Kind::DueSoon.label(Lang::Ro, 1),
            "facturi de încasat care ajung la scadență peste 1 zi"
        );
        assert_eq!(
            Kind::PayablesDue.label(Lang::Ro, 14),
            "facturi de plătit care ajung la scadență peste 14 zile"
        );
        assert_eq!(
            Kind::PayablesDue.label(Lang::En, 1),
            "invoices to pay falling due in 1 day"
        );
    }
}
