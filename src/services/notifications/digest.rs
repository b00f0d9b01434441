//! The daily digest: once a day, at the hour the person picked in
//! `/notificari` (Europe/Bucharest), their active company's day in one
//! message: the cash position (treasury balances per currency and this
//! month's cash entries, the dashboard's own figures), what falls due today
//! and in the next 7 days (to collect and to pay: counts, totals, the first
//! few named), and the invoices that became overdue since the last digest;
//! then, if they asked for it, one chart (invoiced and collected, the last
//! six months) as a photo whose caption carries its key figures.
//!
//! **When.** [`run_due`] is called by every scheduler tick (and by `ledgerbot
//! notify --once`). In one transaction, under its own transaction-scoped
//! advisory lock, it finds the people whose hour has come today and who have
//! no digest today, records each digest in `notifications_sent` (kind
//! `digest`, one row per person and day, whatever the company) and queues
//! its message in the outbox, together: so a digest goes at most once per
//! person and day, and it goes with the first tick at or after the hour.
//! Only today counts: a day missed whole (every instance scaled to zero) is
//! not sent late the next day; the next day has its own digest.
//!
//! **Quiet hours.** The digest ignores them, the global ones and a person's
//! own: its hour was chosen by the person explicitly, for this message, so
//! that choice wins (someone who wants it at 06:00 gets it at 06:00). The
//! `/notificari` screen says so.
//!
//! **The chart** is drawn by the front end (the titles, legends and month
//! names in the reader's language live in `front/`, which services must not
//! depend on), so the tick takes the drawing function as a value ([`Draw`]).
//! It follows the digest's text in the same tick (the outbox keeps a chat's
//! messages in order), recorded as `digest_chart`; when the process's
//! drawing slots are all taken it waits for the next tick, the same day.
//! A digest sent without a chart records `digest_chart` too (nothing to
//! send): a chart turned on after the day's digest goes with the next
//! digest, never alone.
//!
//! Nothing goes to a person who is no longer a member of the company (the
//! join on `company_members`), nor to a chat that blocked the bot.

use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, OffsetDateTime};

use crate::blocks::Lang;
use crate::blocks::format::{clip, date, money};
use crate::blocks::local_time::{in_bucharest, invoices};
use crate::blocks::money::{Amount, Currency};
use crate::blocks::telegram_html::escape;
use crate::infra::telegram::{BotMethod, PhotoUpload};
use crate::services::finance::charts::{self, ChartData};
use crate::services::finance::companies::Company;
use crate::services::finance::dashboard::{self, Dashboard};

/// Advisory lock key ("ledgdgst" in ASCII): one instance per digest tick.
pub const LOCK: i64 = 0x6c65_6467_6467_7374;
/// The hour a digest is set to until the person picks one.
pub const DEFAULT_HOUR: u8 = 8;
/// Days ahead "this week" covers, after today.
pub const WEEK_DAYS: i64 = 7;
/// How far back "overdue since the last digest" looks at most, in days.
const OVERDUE_LOOKBACK_DAYS: i64 = 7;
/// Invoices named per list; the rest are counted.
const LISTED: i64 = 3;
/// Digests one tick composes at most; the rest go with the next tick, a
/// minute later, so one transaction stays short however many people chose
/// the same hour.
const BATCH: i64 = 200;
/// Charts one tick draws at most (each takes a drawing slot for ~0.1 s).
const CHART_BATCH: i64 = 10;
/// `notifications_sent.kind` of a digest and of its chart.
const KIND: &str = "digest";
const CHART_KIND: &str = "digest_chart";
/// `notifications_sent.subject`: the digest is per person, whatever the company.
const SUBJECT: &str = "daily";

/// An hour of the day, 0–23, on Bucharest's clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hour(u8);

impl Hour {
    /// `hour` if it is one of the day's (0–23).
    pub fn new(hour: u8) -> Option<Self> {
        (hour < 24).then_some(Self(hour))
    }

    /// The hour, 0–23.
    pub fn get(self) -> u8 {
        self.0
    }

    /// Every hour of the day, in order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..24).map(Self)
    }
}

/// A person's digest settings (the default: off, at [`DEFAULT_HOUR`], no chart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Whether the digest is sent.
    pub enabled: bool,
    /// From which hour (Bucharest) the day's digest goes.
    pub hour: Hour,
    /// Whether a chart follows it.
    pub chart: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: false,
            hour: Hour(DEFAULT_HOUR),
            chart: false,
        }
    }
}

/// What a person changes from `/notificari`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Turn the digest on.
    On,
    /// Turn it off (the hour is kept).
    Off,
    /// Send it from this hour; picking an hour also turns it on.
    Hour(Hour),
    /// A chart with it, or not.
    Chart(bool),
}

impl Settings {
    /// The settings after `change`.
    pub fn with(self, change: Change) -> Self {
        match change {
            Change::On => Self {
                enabled: true,
                ..self
            },
            Change::Off => Self {
                enabled: false,
                ..self
            },
            Change::Hour(hour) => Self {
                enabled: true,
                hour,
                ..self
            },
            Change::Chart(chart) => Self { chart, ..self },
        }
    }
}

/// The digest settings of `user_id`.
///
/// # Errors
/// The database failed.
pub async fn settings(db: &mut PgConnection, user_id: i64) -> Result<Settings, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT enabled, hour, chart FROM digest_settings WHERE user_id = $1",
        user_id
    )
    .fetch_optional(&mut *db)
    .await?;
    Ok(row.map_or_else(Settings::default, |r| Settings {
        enabled: r.enabled,
        // The CHECK keeps it within 0–23.
        hour: u8::try_from(r.hour)
            .ok()
            .and_then(Hour::new)
            .unwrap_or(Hour(DEFAULT_HOUR)),
        chart: r.chart,
    }))
}

/// Applies `change` to `user_id`'s settings; returns the new ones.
///
/// # Errors
/// The database failed.
pub async fn change(
    db: &mut PgConnection,
    user_id: i64,
    change: Change,
) -> Result<Settings, sqlx::Error> {
    let new = settings(db, user_id).await?.with(change);
    sqlx::query!(
        "INSERT INTO digest_settings (user_id, enabled, hour, chart) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE
         SET enabled = excluded.enabled, hour = excluded.hour, chart = excluded.chart",
        user_id,
        new.enabled,
        i16::from(new.hour.get()),
        new.chart
    )
    .execute(&mut *db)
    .await?;
    Ok(new)
}

/// The chart a digest sends, drawn and captioned.
#[derive(Clone, Debug)]
pub struct ChartPhoto {
    /// The PNG image.
    pub png: Vec<u8>,
    /// The file name Telegram is told.
    pub file_name: String,
    /// The caption (Telegram HTML) with the chart's key figures.
    pub caption: String,
}

/// What drawing a digest's chart gave.
#[derive(Clone, Debug)]
pub enum Drawn {
    /// The chart.
    Photo(ChartPhoto),
    /// Nothing to send: no figures to draw, or drawing failed (logged
    /// where it happened; trying again each minute would fail again).
    Nothing,
    /// The process's drawing slots are taken: try again at the next tick.
    Busy,
}

/// Draws a digest's chart from its figures, in the reader's language. A
/// plain function so the scheduler can be handed one without knowing the
/// front end (`front::bot::handlers::chart::digest_chart` is the real one).
pub type Draw = fn(Lang, ChartData) -> BoxFuture<'static, Drawn>;

/// What one digest tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Digests queued.
    pub digests: usize,
    /// Charts queued.
    pub charts: usize,
}

/// A person whose digest is due, with their active company.
struct Due {
    user_id: i64,
    chat_id: i64,
    lang: Lang,
    company: Company,
    /// The day of their last digest before today, if any.
    last_day: Option<Date>,
    /// Whether they asked for the chart.
    chart: bool,
}

/// Runs one digest tick at `now`; `None` when another instance holds its lock.
///
/// # Errors
/// The database failed; nothing of the tick is kept, and the next one tries again.
pub async fn run_due(
    pool: &PgPool,
    now: OffsetDateTime,
    draw: Draw,
) -> Result<Option<Sent>, sqlx::Error> {
    let local = in_bucharest(now);
    let today = local.date();
    let Some(mut tx) = super::begin_tick(pool, LOCK).await? else {
        return Ok(None);
    };
    let mut sent = Sent::default();
    let hour = local.hour();
    for due in people(&mut tx, today, Phase::Digests { hour }, BATCH).await? {
        if !record_once(&mut tx, due.user_id, KIND, today).await? {
            continue;
        }
        let figures = dashboard::compute(&mut tx, &due.company, today).await?;
        let since = overdue_since(today, due.last_day);
        let invoices = coming(&mut tx, due.company.id, today, since).await?;
        let text = compose(due.lang, &figures, &invoices, today, since);
        crate::infra::outbox::enqueue(&mut tx, &[BotMethod::html(due.chat_id, text)]).await?;
        sent.digests += 1;
        if !due.chart {
            // No chart goes with this digest: today's is settled, so turning
            // the chart on later today brings it with tomorrow's digest, not
            // alone at the next tick.
            record_once(&mut tx, due.user_id, CHART_KIND, today).await?;
        }
    }
    for due in people(&mut tx, today, Phase::Charts, CHART_BATCH).await? {
        let data = charts::compute(&mut tx, &due.company, today).await?;
        let photo = match draw(due.lang, data).await {
            Drawn::Busy => break,
            Drawn::Nothing => None,
            Drawn::Photo(photo) => Some(photo),
        };
        if record_once(&mut tx, due.user_id, CHART_KIND, today).await?
            && let Some(photo) = photo
        {
            let upload = BotMethod::SendPhoto(PhotoUpload {
                chat_id: due.chat_id,
                png: photo.png,
                file_name: photo.file_name,
                caption: photo.caption,
            });
            crate::infra::outbox::enqueue(&mut tx, &[upload]).await?;
            sent.charts += 1;
        }
    }
    tx.commit().await?;
    Ok(Some(sent))
}

/// Records that `user_id` got `kind` today; `false` when they already had.
async fn record_once(
    db: &mut PgConnection,
    user_id: i64,
    kind: &str,
    today: Date,
) -> Result<bool, sqlx::Error> {
    let fresh = super::record(db, user_id, kind, &[SUBJECT.to_owned()], today).await?;
    Ok(!fresh.is_empty())
}

/// Whom a tick looks for.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// People whose digest hour (on Bucharest's clocks) has come today and
    /// who have no digest yet.
    Digests {
        /// The hour now.
        hour: u8,
    },
    /// People who asked for a chart and got today's digest but not its chart.
    Charts,
}

/// The people `phase` looks for, members of their active company with a
/// chat that did not block the bot, at most `limit`.
async fn people(
    db: &mut PgConnection,
    today: Date,
    phase: Phase,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    let (charts, hour) = match phase {
        Phase::Digests { hour } => (false, hour),
        Phase::Charts => (true, 0),
    };
    let rows = sqlx::query!(
        r#"SELECT s.user_id, t.chat_id, coalesce(u.language, 'ro') AS "lang!",
                  c.id AS company_id, c.name AS company_name, c.cui, c.currency, m.role, s.chart,
                  (SELECT max(p.day) FROM notifications_sent p
                   WHERE p.user_id = s.user_id AND p.kind = 'digest' AND p.day < $1) AS last_day
           FROM digest_settings s
           JOIN users u ON u.id = s.user_id
           JOIN telegram_accounts t ON t.user_id = s.user_id AND t.blocked_at IS NULL
           JOIN company_members m ON m.user_id = s.user_id AND m.company_id = t.active_company_id
           JOIN companies c ON c.id = m.company_id
           WHERE s.enabled
             AND CASE WHEN $3 THEN
                   s.chart
                   AND EXISTS (SELECT 1 FROM notifications_sent n WHERE n.user_id = s.user_id
                               AND n.kind = 'digest' AND n.day = $1)
                   AND NOT EXISTS (SELECT 1 FROM notifications_sent n WHERE n.user_id = s.user_id
                                   AND n.kind = 'digest_chart' AND n.day = $1)
                 ELSE
                   s.hour <= $2
                   AND NOT EXISTS (SELECT 1 FROM notifications_sent n WHERE n.user_id = s.user_id
                                   AND n.kind = 'digest' AND n.day = $1)
                 END
           ORDER BY s.user_id
           LIMIT $4"#,
        today,
        i16::from(hour),
        charts,
        limit
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Due {
            user_id: r.user_id,
            chat_id: r.chat_id,
            lang: Lang::parse(&r.lang).unwrap_or(Lang::Ro),
            company: Company::from_stored(
                r.company_id,
                r.company_name,
                r.cui,
                &r.currency,
                &r.role,
            ),
            last_day: r.last_day,
            chart: r.chart,
        })
        .collect())
}

/// The first due date whose invoices count as newly overdue: an invoice
/// becomes overdue the day after its due date, so since the last digest
/// (day `L`) those due from `L` on; the first digest, or one after a long
/// pause, looks back at most [`OVERDUE_LOOKBACK_DAYS`].
fn overdue_since(today: Date, last_day: Option<Date>) -> Date {
    let yesterday = today - Duration::days(1);
    let earliest = today - Duration::days(OVERDUE_LOOKBACK_DAYS);
    last_day.map_or(yesterday, |day| day.clamp(earliest, yesterday))
}

/// When an invoice falls (or fell) due, as the digest groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum When {
    /// Due today.
    Today,
    /// Due in the next [`WEEK_DAYS`] days.
    Week,
    /// Became overdue since the last digest.
    Overdue,
}

/// One list of the digest: invoices of one [`When`] and direction.
#[derive(Clone, Debug, Default)]
struct List {
    /// How many, in all currencies.
    count: i64,
    /// The sum left to pay, per currency.
    totals: Vec<(Currency, Amount)>,
    /// The first few: number, partner, amount left, currency, due date.
    named: Vec<(String, String, Amount, Currency, Date)>,
}

/// The open invoices the digest lists, by when and direction (`true`: to collect).
#[derive(Clone, Debug, Default)]
struct Coming {
    lists: Vec<((When, bool), List)>,
}

impl Coming {
    fn list(&mut self, key: (When, bool)) -> &mut List {
        let at = match self.lists.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.lists.push((key, List::default()));
                self.lists.len() - 1
            }
        };
        &mut self.lists[at].1
    }

    fn get(&self, key: (When, bool)) -> Option<&List> {
        self.lists.iter().find(|(k, _)| *k == key).map(|(_, l)| l)
    }
}

fn when_of(bucket: &str) -> When {
    match bucket {
        "today" => When::Today,
        "week" => When::Week,
        _ => When::Overdue,
    }
}

/// The open invoices of `company_id` due from `since` (newly overdue) to
/// today plus [`WEEK_DAYS`]: totals per currency, and the first [`LISTED`]
/// of each list (soonest due, then largest). Two statements, both on the
/// `(company_id, due_date)` index and bounded by the dates.
async fn coming(
    db: &mut PgConnection,
    company_id: i64,
    today: Date,
    since: Date,
) -> Result<Coming, sqlx::Error> {
    let until = today + Duration::days(WEEK_DAYS);
    let totals = sqlx::query!(
        r#"SELECT CASE WHEN due_date = $2 THEN 'today' WHEN due_date > $2 THEN 'week'
                       ELSE 'overdue' END AS "bucket!",
                  direction = 'issued' AS "collect!", currency,
                  count(*) AS "count!", sum(total_minor - paid_minor)::int8 AS "outstanding!"
           FROM invoices
           WHERE company_id = $1 AND due_date BETWEEN $3 AND $4 AND total_minor > paid_minor
           GROUP BY 1, 2, 3
           ORDER BY 1, 2, 3"#,
        company_id,
        today,
        since,
        until
    )
    .fetch_all(&mut *db)
    .await?;
    let named = sqlx::query!(
        r#"SELECT bucket AS "bucket!", collect AS "collect!", number, partner,
                  outstanding AS "outstanding!", currency, due_date
           FROM (SELECT b.bucket, i.direction = 'issued' AS collect, i.number, i.partner,
                        i.total_minor - i.paid_minor AS outstanding, i.currency, i.due_date,
                        row_number() OVER (PARTITION BY b.bucket, i.direction
                                           ORDER BY i.due_date, i.total_minor - i.paid_minor DESC, i.id) AS rn
                 FROM invoices i
                 CROSS JOIN LATERAL (SELECT CASE WHEN i.due_date = $2 THEN 'today'
                                                 WHEN i.due_date > $2 THEN 'week'
                                                 ELSE 'overdue' END AS bucket) b
                 WHERE i.company_id = $1 AND i.due_date BETWEEN $3 AND $4
                   AND i.total_minor > i.paid_minor) AS ranked
           WHERE rn <= $5
           ORDER BY 1, 2, rn"#,
        company_id,
        today,
        since,
        until,
        LISTED
    )
    .fetch_all(&mut *db)
    .await?;
    let mut coming = Coming::default();
    for row in totals {
        let list = coming.list((when_of(&row.bucket), row.collect));
        list.count += row.count;
        let currency = crate::services::finance::stored_currency(&row.currency);
        list.totals
            .push((currency, Amount::from_minor(row.outstanding)));
    }
    for row in named {
        let currency = crate::services::finance::stored_currency(&row.currency);
        coming
            .list((when_of(&row.bucket), row.collect))
            .named
            .push((
                row.number,
                row.partner,
                Amount::from_minor(row.outstanding),
                currency,
                row.due_date,
            ));
    }
    Ok(coming)
}

/// The digest's message: the company and day, the cash position, what is
/// due today and this week, what became overdue, and how to turn it off.
/// (Sending cuts it to Telegram's length, [`BotMethod::html`]; the lists are
/// short anyway.)
fn compose(lang: Lang, d: &Dashboard, coming: &Coming, today: Date, since: Date) -> String {
    let m = |amount, currency| money(lang, amount, currency);
    let none = |text: &str| vec![text.to_owned()];
    let treasury = if d.treasury.is_empty() {
        none(lang.pick("niciun cont", "no accounts"))
    } else {
        d.treasury.iter().map(|t| m(t.amount, t.currency)).collect()
    };
    let cash = if d.cash_this_month.is_empty() {
        none(lang.pick("nicio înregistrare", "no entries"))
    } else {
        d.cash_this_month
            .iter()
            .map(|c| {
                lang.pick(
                    format!(
                        "încasări {}, cheltuieli {}",
                        m(c.income, c.currency),
                        m(c.expenses, c.currency)
                    ),
                    format!(
                        "income {}, expenses {}",
                        m(c.income, c.currency),
                        m(c.expenses, c.currency)
                    ),
                )
            })
            .collect()
    };
    let mut text = format!(
        "☀️ <b>{}</b> · <b>{}</b> · {}\n\n🏦 <b>{}:</b> {}\n💵 <b>{}:</b> {}\n",
        lang.pick("Rezumatul zilei", "Daily digest"),
        escape(&clip(&d.company_name, 100)),
        date(lang, today),
        lang.pick("Trezorerie", "Treasury"),
        treasury.join(" · "),
        lang.pick("Numerar luna aceasta", "Cash this month"),
        cash.join(" · "),
    );
    // Due on `since` means overdue from the day after.
    let overdue_from = since + Duration::days(1);
    let overdue_title = if overdue_from < today {
        lang.pick(
            format!("⚠️ Intrate în întârziere din {}", date(lang, overdue_from)),
            format!("⚠️ Became overdue since {}", date(lang, overdue_from)),
        )
    } else {
        lang.pick("⚠️ Intrate azi în întârziere", "⚠️ Became overdue today")
            .to_owned()
    };
    let sections = [
        (
            When::Today,
            lang.pick("📅 Scadente azi", "📅 Due today").to_owned(),
        ),
        (
            When::Week,
            lang.pick(
                "📆 Scadente în următoarele 7 zile",
                "📆 Due in the next 7 days",
            )
            .to_owned(),
        ),
        (When::Overdue, overdue_title),
    ];
    for (when, title) in sections {
        text.push_str(&format!("\n<b>{title}</b>\n"));
        let lists = [true, false].map(|collect| (collect, coming.get((when, collect))));
        if lists.iter().all(|(_, list)| list.is_none()) {
            text.push_str(lang.pick("nimic\n", "nothing\n"));
            continue;
        }
        for (collect, list) in lists {
            let Some(list) = list else { continue };
            text.push_str(&list_lines(lang, collect, when, list));
        }
    }
    text.push_str(lang.pick(
        "\nOprești rezumatul sau îi schimbi ora din /notificari.",
        "\nTurn the digest off or change its hour in /notify.",
    ));
    text
}

/// One list: "De încasat: 2 facturi, 1.500,00 RON", the first few named, and
/// how many more.
fn list_lines(lang: Lang, collect: bool, when: When, list: &List) -> String {
    let totals = list
        .totals
        .iter()
        .map(|(currency, amount)| money(lang, *amount, *currency))
        .collect::<Vec<_>>()
        .join(" + ");
    let label = if collect {
        lang.pick("De încasat", "To collect")
    } else {
        lang.pick("De plătit", "To pay")
    };
    let mut text = format!(
        "{label}: {}, {totals}\n",
        invoices(lang, list.count.unsigned_abs())
    );
    for (number, partner, amount, currency, due) in &list.named {
        let due = if when == When::Today {
            String::new()
        } else {
            lang.pick(
                format!(" (scadentă {})", date(lang, *due)),
                format!(" (due {})", date(lang, *due)),
            )
        };
        text.push_str(&format!(
            "• {} — {}, {}{due}\n",
            escape(&clip(number, 40)),
            escape(&clip(partner, 60)),
            money(lang, *amount, *currency)
        ));
    }
    let more = list.count - list.named.len() as i64;
    if more > 0 {
        text.push_str(&lang.pick(
            format!("… și încă {}\n", invoices(lang, more.unsigned_abs())),
            format!("… and {} more\n", invoices(lang, more.unsigned_abs())),
        ));
    }
    text
}

/// Runs [`run_due`] and logs what it did; for the scheduler's loop.
/// Returns whether it queued anything (to wake the outbox).
pub async fn tick(pool: &PgPool, now: OffsetDateTime, draw: Draw) -> bool {
    match run_due(pool, now, draw).await {
        Ok(Some(sent)) if sent.digests + sent.charts > 0 => {
            tracing::info!(
                digests = sent.digests,
                charts = sent.charts,
                "daily digests queued"
            );
            true
        }
        Ok(_) => false,
        Err(e) => {
            crate::infra::db::note_error(&e);
            tracing::warn!(error = %e, "daily digest: the tick failed; the next one tries again");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn newly_overdue_looks_back_to_the_last_digest_and_at_most_a_week() {
        let today = date!(2026 - 12 - 03);
        let cases = [
            (
                None,
                date!(2026 - 12 - 02),
                "first digest: became overdue today",
            ),
            (
                Some(date!(2026 - 12 - 02)),
                date!(2026 - 12 - 02),
                "yesterday's digest: the same",
            ),
            (
                Some(date!(2026 - 11 - 30)),
                date!(2026 - 11 - 30),
                "three days ago: due from then on",
            ),
            (
                Some(date!(2026 - 10 - 01)),
                date!(2026 - 11 - 26),
                "long ago: one week back",
            ),
        ];
        for (last, since, why) in cases {
            assert_eq!(overdue_since(today, last), since, "{why}");
        }
    }

    #[test]
    fn picking_an_hour_turns_the_digest_on_and_off_keeps_the_hour() {
        let seven = Hour::new(7).expect("an hour");
        let on = Settings::default().with(Change::Hour(seven));
        let off = on.with(Change::Off);

        assert_eq!((on.enabled, on.hour), (true, seven));
        assert_eq!((off.enabled, off.hour), (false, seven));
        assert!(Settings::default().with(Change::Chart(true)).chart);
        assert_eq!(Hour::new(24), None);
        assert_eq!(Hour::all().count(), 24);
    }
}
