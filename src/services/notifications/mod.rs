//! Notifications: what the bot tells a person on its own, on a schedule,
//! about their active company, as they chose with `/notificari`
//! (`notification_settings`): invoices to collect falling due in N days
//! (`due_soon`), invoices that became overdue today (`overdue`).
//!
//! [`run_due`] is one tick: in one transaction, under a transaction-scoped
//! advisory lock (session locks do not survive a transaction-mode pooler),
//! it finds what is due today, records each alert in `notifications_sent`
//! (person, kind, subject, day: the primary key) and queues its message in the
//! outbox, together. So an alert goes at most once per person, subject and
//! day, whatever the instances and restarts. It looks only at today (Europe/
//! Bucharest): a tick missed while every instance was scaled to zero is
//! caught up by the next one the same day, and a day missed whole is not
//! sent late, so a start never brings a burst of stale alerts. Nothing goes
//! in the quiet hours ([`QUIET_FROM`]–[`QUIET_UNTIL`]), nor to a person who
//! is no longer a member of the company, nor to a chat that blocked the bot.
//!
//! [`spawn`] runs a tick every [`INTERVAL`] on every instance, the first at
//! start; `ledgerbot notify --once` runs one and sends what it queued.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

use crate::blocks::Lang;
use crate::blocks::format;
use crate::blocks::local_time::{count, in_bucharest};
use crate::blocks::money::{Amount, Currency};
use crate::blocks::telegram_html::escape;
use crate::infra::telegram::BotMethod;

/// How often each instance looks for what is due.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Advisory lock key ("ledgntfy" in ASCII): one instance per tick.
pub const LOCK: i64 = 0x6c65_6467_6e74_6679;
/// The first hour (Bucharest) alerts may go out.
pub const QUIET_UNTIL: u8 = 8;
/// The hour (Bucharest) from which alerts wait for the next morning.
pub const QUIET_FROM: u8 = 21;
/// Invoices listed in one message; the rest are counted.
const LISTED: usize = 10;

/// The kinds of alert a person may turn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Invoices to collect falling due in N days.
    DueSoon,
    /// Invoices (both directions) that became overdue today.
    Overdue,
}

impl Kind {
    /// Every kind, in the order `/notificari` lists them.
    pub const ALL: [Kind; 2] = [Kind::DueSoon, Kind::Overdue];

    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the kind is, for `/notificari`.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Self::DueSoon => lang.pick(
                "facturi de încasat care ajung la scadență în 3 zile",
                "invoices to collect falling due in 3 days",
            ),
            Self::Overdue => lang.pick(
                "facturi care au depășit azi scadența",
                "invoices that became overdue today",
            ),
        }
    }
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Alerts queued now.
    pub queued: usize,
    /// Whether it was quiet hours (nothing looked at).
    pub quiet: bool,
}

/// One invoice an alert names.
struct Line {
    user_id: i64,
    chat_id: i64,
    lang: Lang,
    company_id: i64,
    company_name: String,
    kind: Kind,
    direction: String,
    number: String,
    partner: String,
    outstanding: Amount,
    currency: Option<Currency>,
    due_date: Date,
}

/// Runs one tick at `now`; `None` when another instance holds the tick's lock.
///
/// # Errors
/// The database failed; nothing of the tick is kept, and the next one tries again.
pub async fn run_due(pool: &PgPool, now: OffsetDateTime) -> Result<Option<Tick>, sqlx::Error> {
    let local = in_bucharest(now);
    if local.hour() < QUIET_UNTIL || local.hour() >= QUIET_FROM {
        return Ok(Some(Tick {
            queued: 0,
            quiet: true,
        }));
    }
    let today = local.date();
    let mut tx = pool.begin().await?;
    let locked = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    // Members only (the join on company_members), linked chats that did not
    // block the bot, and only invoices still open.
    let rows = sqlx::query!(
        r#"SELECT s.user_id, t.chat_id, coalesce(u.language, 'ro') AS "lang!", c.id AS company_id,
                  c.name AS company_name, s.kind, i.direction, i.number, i.partner,
                  i.total_minor - i.paid_minor AS "outstanding!", i.currency, i.due_date
           FROM notification_settings s
           JOIN users u ON u.id = s.user_id
           JOIN telegram_accounts t ON t.user_id = s.user_id AND t.blocked_at IS NULL
           JOIN company_members m ON m.user_id = s.user_id AND m.company_id = t.active_company_id
           JOIN companies c ON c.id = m.company_id
           JOIN invoices i ON i.company_id = c.id AND i.total_minor > i.paid_minor
           WHERE (s.kind = 'due_soon' AND i.direction = 'issued' AND i.due_date = $1::date + s.days)
              OR (s.kind = 'overdue' AND i.due_date = $1::date - 1)
           ORDER BY s.user_id, s.kind, i.direction, i.due_date, i.number"#,
        today
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut alerts: BTreeMap<(i64, i64, Kind), Vec<Line>> = BTreeMap::new();
    for row in rows {
        let Some(kind) = Kind::parse(&row.kind) else {
            continue;
        };
        alerts
            .entry((row.user_id, row.company_id, kind))
            .or_default()
            .push(Line {
                user_id: row.user_id,
                chat_id: row.chat_id,
                lang: Lang::parse(&row.lang).unwrap_or(Lang::Ro),
                company_id: row.company_id,
                company_name: row.company_name,
                kind,
                direction: row.direction,
                number: row.number,
                partner: row.partner,
                outstanding: Amount::from_minor(row.outstanding),
                currency: Currency::parse(&row.currency).ok(),
                due_date: row.due_date,
            });
    }
    let mut queued = 0;
    for lines in alerts.values() {
        let first = &lines[0];
        let fresh = sqlx::query_scalar!(
            r#"INSERT INTO notifications_sent (user_id, kind, subject, day)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true AS "fresh!""#,
            first.user_id,
            first.kind.name(),
            format!("company:{}", first.company_id),
            today
        )
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if fresh {
            let message = BotMethod::html(first.chat_id, text(lines));
            crate::infra::outbox::enqueue(&mut tx, &[message]).await?;
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(Some(Tick {
        queued,
        quiet: false,
    }))
}

/// The message of one alert: what, for which company, the invoices, and how
/// to turn it off.
fn text(lines: &[Line]) -> String {
    let first = &lines[0];
    let lang = first.lang;
    let company = escape(&first.company_name);
    let n = count(
        lang,
        lines.len() as u64,
        ["factură", "facturi"],
        ["invoice", "invoices"],
    );
    let mut text = match first.kind {
        Kind::DueSoon => lang.pick(
            format!(
                "📅 <b>{company}</b>: {n} de încasat ajung la scadență pe {}:",
                format::date(lang, first.due_date)
            ),
            format!(
                "📅 <b>{company}</b>: {n} to collect fall due on {}:",
                format::date(lang, first.due_date)
            ),
        ),
        Kind::Overdue => lang.pick(
            format!("⚠️ <b>{company}</b>: {n} au depășit azi scadența:"),
            format!("⚠️ <b>{company}</b>: {n} became overdue today:"),
        ),
    };
    for line in lines.iter().take(LISTED) {
        let amount = line.currency.map_or_else(
            || line.outstanding.minor().to_string(),
            |currency| format::money(lang, line.outstanding, currency),
        );
        let direction = match line.direction.as_str() {
            "issued" => lang.pick("de încasat", "to collect"),
            _ => lang.pick("de plătit", "to pay"),
        };
        text.push_str(&format!(
            "\n• {} — {}, {amount} ({direction})",
            escape(&line.number),
            escape(&line.partner)
        ));
    }
    if lines.len() > LISTED {
        let more = count(
            lang,
            (lines.len() - LISTED) as u64,
            ["factură", "facturi"],
            ["invoice", "invoices"],
        );
        text.push_str(&lang.pick(
            format!("\n… și încă {more}"),
            format!("\n… and {more} more"),
        ));
    }
    text.push_str(lang.pick(
        "\n\nOprești aceste mesaje cu /notificari.",
        "\n\nTurn these messages off with /notify.",
    ));
    text
}

/// Runs a tick every [`INTERVAL`] on this instance, the first at once (the
/// catch-up after a start), and wakes the outbox when it queued something.
pub fn spawn(pool: PgPool, outbox: crate::infra::outbox::Waker) -> tokio::task::JoinHandle<()> {
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
        }
    })
}

/// The kinds `user_id` has turned on.
///
/// # Errors
/// The database failed.
pub async fn enabled(db: &mut sqlx::PgConnection, user_id: i64) -> Result<Vec<Kind>, sqlx::Error> {
    let names = sqlx::query_scalar!(
        "SELECT kind FROM notification_settings WHERE user_id = $1",
        user_id
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(names.iter().filter_map(|n| Kind::parse(n)).collect())
}

/// Turns `kind` on or off for `user_id`; returns whether it is now on.
///
/// # Errors
/// The database failed.
pub async fn toggle(
    db: &mut sqlx::PgConnection,
    user_id: i64,
    kind: Kind,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM notification_settings WHERE user_id = $1 AND kind = $2",
        user_id,
        kind.name()
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    if removed > 0 {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO notification_settings (user_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user_id,
        kind.name()
    )
    .execute(&mut *db)
    .await?;
    Ok(true)
}
