//! The durable outbox: every message the bot sends that is not the webhook's
//! answer. [`enqueue`] writes it to the `outbox` table in the transaction of
//! the change that caused it; the sender ([`spawn`], one per instance, started
//! with the server) takes rows one at a time with `FOR UPDATE SKIP LOCKED`
//! and sends them, so whichever instance is up sends what any instance
//! queued, and a message is never lost to a restart, a SIGTERM or a crash.
//!
//! Telegram's limits hold for all instances together, because they are kept
//! in the database: the `outbox_gate` row spaces every send by
//! 1/[`OutboxLimits::messages_per_second`] and carries the pause a 429's
//! `retry_after` asks of everyone; `outbox_chats` spaces the sends to one
//! chat (one a second in private, 20 a minute in a group). Taking a row
//! locks the gate for the few statements of the take, so the takes of all
//! instances line up behind it; the calls themselves run outside any
//! transaction.
//!
//! **At most once.** A row is marked `sending` and committed before the call,
//! and marked `sent` (or what else happened) after it. Telegram has no
//! idempotency key, so when the call breaks off after the request left (a
//! timeout, a dropped connection), or the instance dies mid-call, nobody can
//! know whether the message arrived; such a row ends `uncertain` and is never
//! sent again (a duplicate of a password link or a due-date alert is worse
//! than a missing one, which the person can ask for again). Every other
//! failure retries: a 5xx, a connection that was never made, a 429 after its
//! `retry_after`, with backoff, up to [`OutboxLimits::max_attempts`]. A
//! SIGTERM stops taking rows and lets the calls in flight finish and be
//! recorded (the server's drain), so a clean shutdown loses and doubles
//! nothing; the rows left wait for the next instance.
//!
//! **The webhook's answer counts too.** An update's first reply goes back in
//! the webhook's HTTP response, and Telegram sends it as a message to the
//! chat without passing through here; the rows that update queues for that
//! same chat (`/grafic`'s photos, an import's summary) would otherwise go at
//! once, two messages to one chat within a second. So they are held back
//! ([`Answered`]): not before one chat spacing after the answer. The hold
//! rides on the rows the update queues anyway (`not_before`), so an update
//! that only reads and queues nothing still writes nothing.
//!
//! Wake-ups: an instance wakes its own sender when it queued something
//! ([`Waker`]); otherwise the sender polls, backing off to
//! [`OutboxLimits::idle_poll`] while there is nothing to do. Polling, not
//! `LISTEN`, because `LISTEN` does not work through a transaction-mode pooler.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::infra::telegram::{BotApi, BotApiError, BotMethod};

/// Telegram's sending limits, kept across all instances, and how the sender
/// paces itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutboxLimits {
    /// Messages a second in all (Telegram: about 30).
    pub messages_per_second: u32,
    /// The least time between two messages to one private chat (Telegram: 1 s).
    pub private_chat_interval: Duration,
    /// The least time between two messages to one group (Telegram: 20 a
    /// minute, so 3 s).
    pub group_chat_interval: Duration,
    /// A row still `sending` this long after it was taken: its sender died
    /// mid-call; it ends `uncertain`. Well past a call's timeout.
    pub uncertain_after: Duration,
    /// The longest wait between two looks at the table when idle.
    pub idle_poll: Duration,
    /// Calls one instance has in flight at most.
    pub concurrent_sends: usize,
    /// Attempts per row before it ends `failed`.
    pub max_attempts: i32,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            messages_per_second: 30,
            private_chat_interval: Duration::from_secs(1),
            group_chat_interval: Duration::from_secs(3),
            uncertain_after: Duration::from_secs(120),
            idle_poll: Duration::from_secs(2),
            concurrent_sends: 8,
            max_attempts: 10,
        }
    }
}

impl OutboxLimits {
    /// The spacing of all sends: a twentieth under the limit ([`MARGIN`]).
    fn spacing(&self) -> Duration {
        Duration::from_secs_f64(MARGIN / f64::from(self.messages_per_second.max(1)))
    }

    /// The spacing of sends to one chat: private chats have positive ids,
    /// groups negative ones.
    fn chat_interval(&self, chat_id: i64) -> Duration {
        let interval = if chat_id > 0 {
            self.private_chat_interval
        } else {
            self.group_chat_interval
        };
        interval.mul_f64(MARGIN)
    }
}

/// Every spacing is this much longer than the limit asks: the margin for the
/// jitter between the database's clock, where slots are reserved, and the
/// moment a request reaches Telegram.
const MARGIN: f64 = 1.05;
/// How long after our response Telegram may send the webhook's answer: the
/// response leaves after the commit and crosses the network before Telegram
/// acts on it. Part of every [`Answered`] hold.
const ANSWER_SLACK: Duration = Duration::from_millis(250);
/// How long an answer to a button press is worth sending: Telegram refuses
/// one for a query older than about 15 s.
const CALLBACK_ANSWER_TTL: Duration = Duration::from_secs(10);
/// The shortest wait between two looks at the table.
const MIN_POLL: Duration = Duration::from_millis(50);
/// The longest backoff between two attempts at one row.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The longest pause a 429 may impose; Telegram asks for seconds.
const MAX_PAUSE: Duration = Duration::from_secs(3600);

/// Wakes this instance's sender once something was queued and committed.
/// Cheap to clone; a wake with nobody waiting is kept for the next wait.
#[derive(Clone, Debug, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Tells the sender to look at the table now.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The webhook answered a chat in its HTTP response (a message Telegram
/// sends for us, unseen by the outbox's spacing): messages queued for that
/// chat wait until one chat spacing after it.
///
/// Why a hold on the queued rows, and not a write to `outbox_chats`: the
/// answer is sent whether or not anything is queued, so recording it there
/// would add a write to every update, reads included (a read writes nothing;
/// see `docs/reliability.md`), and a lock on a row the senders update while
/// they hold the gate. Rows the update queues are written anyway; their
/// `not_before` carries the hold for free. What it does not cover: a message
/// queued earlier for that chat (a notification) may still go just after
/// the answer; Telegram allows a person's chat such a short burst.
#[derive(Clone, Copy, Debug)]
pub struct Answered {
    chat_id: i64,
    /// The earliest moment a queued message to the chat may go.
    until: tokio::time::Instant,
}

impl Answered {
    /// The webhook answers `chat_id` now: the answer leaves once the update
    /// has committed, and Telegram sends it a moment after our response
    /// reaches it, so the hold is the chat's spacing plus [`ANSWER_SLACK`].
    pub fn now(chat_id: i64, limits: &OutboxLimits) -> Self {
        Self {
            chat_id,
            until: tokio::time::Instant::now() + limits.chat_interval(chat_id) + ANSWER_SLACK,
        }
    }

    /// How long a message to `chat_id` must still wait, if it goes to the
    /// answered chat (`None`: it need not wait).
    fn hold(&self, chat_id: Option<i64>) -> Option<Duration> {
        (chat_id == Some(self.chat_id))
            .then(|| {
                self.until
                    .saturating_duration_since(tokio::time::Instant::now())
            })
            .filter(|hold| !hold.is_zero())
    }
}

/// Queues `methods`, in order, on `db`: in the caller's transaction, so they
/// are sent if and only if it commits. Call [`Waker::wake`] after the commit.
///
/// # Errors
/// The database failed (and the caller's transaction with it).
pub async fn enqueue(db: &mut PgConnection, methods: &[BotMethod]) -> Result<(), sqlx::Error> {
    enqueue_after(db, methods, None).await
}

/// [`enqueue`], for an update the webhook `answered` directly: the messages
/// to the answered chat wait one chat spacing after the answer.
///
/// # Errors
/// The database failed (and the caller's transaction with it).
pub async fn enqueue_after(
    db: &mut PgConnection,
    methods: &[BotMethod],
    answered: Option<Answered>,
) -> Result<(), sqlx::Error> {
    for method in methods {
        let hold = answered
            .and_then(|answered| answered.hold(method.chat_id()))
            .map(|hold| hold.as_secs_f64());
        let (photo, photo_name) = match method {
            BotMethod::SendPhoto(p) => (Some(p.png.as_slice()), Some(p.file_name.as_str())),
            _ => (None, None),
        };
        let ttl = matches!(method, BotMethod::AnswerCallbackQuery(_))
            .then_some(CALLBACK_ANSWER_TTL.as_secs_f64());
        let json = serde_json::to_string(method).expect("Bot API parameters always serialise");
        sqlx::query!(
            "INSERT INTO outbox (chat_id, method, photo, photo_name, expires_at, not_before)
             VALUES ($1, ($2::text)::jsonb, $3, $4, now() + make_interval(secs => $5),
                     coalesce(clock_timestamp() + make_interval(secs => $6), now()))",
            method.chat_id(),
            json,
            photo,
            photo_name,
            ttl,
            hold
        )
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Queues `methods` outside any other transaction and wakes the sender: for
/// a message caused by something already committed (an import's summary,
/// held after the webhook's answer to the file when `answered`).
///
/// # Errors
/// The database failed: the messages are not queued.
pub async fn send_soon(
    pool: &PgPool,
    waker: &Waker,
    methods: &[BotMethod],
    answered: Option<Answered>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    enqueue_after(&mut conn, methods, answered).await?;
    waker.wake();
    Ok(())
}

/// Starts this instance's sender. It runs until `stop` turns true, then
/// takes nothing more and returns once its calls in flight are recorded.
pub fn spawn(
    pool: PgPool,
    bot: BotApi,
    limits: OutboxLimits,
    waker: Waker,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let sender = Arc::new(Sender {
        slots: Arc::new(Semaphore::new(limits.concurrent_sends.max(1))),
        pool,
        bot,
        limits,
    });
    tokio::spawn(sender.run(waker, stop))
}

/// Sends everything due now and returns when nothing more is (or `within`
/// ran out): for `ledgerbot notify --once` and tests, without a server.
///
/// # Errors
/// The database failed.
pub async fn drain(
    pool: &PgPool,
    bot: &BotApi,
    limits: OutboxLimits,
    within: Duration,
) -> Result<(), sqlx::Error> {
    let sender = Arc::new(Sender {
        slots: Arc::new(Semaphore::new(limits.concurrent_sends.max(1))),
        pool: pool.clone(),
        bot: bot.clone(),
        limits,
    });
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let permit = sender
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        match sender.take().await? {
            Taken::Row(row) => {
                tokio::spawn(sender.clone().deliver(row, permit));
            }
            Taken::Again => {}
            Taken::Wait(wait) => tokio::time::sleep(wait.min(MIN_POLL * 4)).await,
            Taken::Idle { next_due } => {
                let busy = sender.slots.available_permits() + 1 < limits.concurrent_sends.max(1);
                match next_due {
                    // Something is still due or in flight: look again soon.
                    Some(due) if due <= within => tokio::time::sleep(due.max(MIN_POLL)).await,
                    _ if busy => tokio::time::sleep(MIN_POLL).await,
                    _ => break,
                }
            }
        }
    }
    let all = u32::try_from(limits.concurrent_sends.max(1)).unwrap_or(u32::MAX);
    let _all = sender.slots.acquire_many(all).await;
    Ok(())
}

struct Sender {
    pool: PgPool,
    bot: BotApi,
    limits: OutboxLimits,
    /// Calls in flight: one permit each.
    slots: Arc<Semaphore>,
}

/// What one look at the table found.
enum Taken {
    /// A row to send, marked `sending`.
    Row(Box<Row>),
    /// A row ended without a call (expired, or its chat blocked the bot):
    /// look again at once.
    Again,
    /// The gate is closed this long (spacing, or a 429's pause).
    Wait(Duration),
    /// Nothing to send now; the earliest pending row is due in `next_due`.
    Idle { next_due: Option<Duration> },
}

/// A row taken for sending.
struct Row {
    id: i64,
    chat_id: Option<i64>,
    attempts: i32,
    method: BotMethod,
}

/// What a call came to, as the row records it.
#[derive(Debug)]
enum Outcome {
    Sent,
    /// 403: the person blocked the bot.
    Blocked(String),
    /// Refused for good (a 400), or out of attempts.
    Failed(String),
    /// It may have arrived: never sent again.
    Uncertain(String),
    /// Send again after `after`; `pause_all`: a 429, every instance waits.
    Retry {
        after: Duration,
        pause_all: bool,
        error: String,
    },
}

impl Outcome {
    fn of(result: Result<(), BotApiError>, attempts: i32, limits: &OutboxLimits) -> Self {
        let backoff = || {
            let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
            Duration::from_secs(1u64 << exp.min(16)).min(MAX_BACKOFF)
        };
        let outcome = match result {
            Ok(()) => return Self::Sent,
            Err(e) if e.is_blocked() => return Self::Blocked(e.to_string()),
            Err(BotApiError::RetryAfter(after)) => Self::Retry {
                after: after.min(MAX_PAUSE),
                pause_all: true,
                error: format!("retry after {} s", after.as_secs()),
            },
            Err(e @ BotApiError::Api { code, .. }) if code >= 500 => Self::Retry {
                after: backoff(),
                pause_all: false,
                error: e.to_string(),
            },
            Err(e @ BotApiError::Unreachable(_)) => Self::Retry {
                after: backoff(),
                pause_all: false,
                error: e.to_string(),
            },
            Err(e @ BotApiError::Api { .. }) => return Self::Failed(e.to_string()),
            Err(e @ (BotApiError::Network(_) | BotApiError::InvalidResponse(_))) => {
                return Self::Uncertain(e.to_string());
            }
        };
        match outcome {
            Self::Retry { error, .. } if attempts >= limits.max_attempts => {
                Self::Failed(format!("gave up after {attempts} attempts: {error}"))
            }
            retry => retry,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Blocked(_) => "blocked",
            Self::Failed(_) => "failed",
            Self::Uncertain(_) => "uncertain",
            Self::Retry { .. } => "retry",
        }
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64((ms / 1000.0).clamp(0.0, MAX_PAUSE.as_secs_f64()))
}

impl Sender {
    async fn run(self: Arc<Self>, waker: Waker, mut stop: watch::Receiver<bool>) {
        let mut idle = MIN_POLL;
        loop {
            if *stop.borrow() {
                break;
            }
            let permit = tokio::select! {
                permit = self.slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                _ = stop.changed() => continue,
            };
            let wait = match self.take().await {
                Ok(Taken::Row(row)) => {
                    idle = MIN_POLL;
                    tokio::spawn(self.clone().deliver(row, permit));
                    continue;
                }
                Ok(Taken::Again) => continue,
                Ok(Taken::Wait(wait)) => wait,
                Ok(Taken::Idle { next_due }) => {
                    let wait = next_due.map_or(idle, |due| due.clamp(MIN_POLL, idle));
                    idle = (idle * 2).min(self.limits.idle_poll.max(MIN_POLL));
                    wait
                }
                Err(e) => {
                    crate::infra::db::note_error(&e);
                    tracing::warn!(error = %e, "outbox: could not take a message; will retry");
                    self.limits.idle_poll
                }
            };
            drop(permit);
            tokio::select! {
                () = waker.0.notified() => idle = MIN_POLL,
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        // Every call in flight is recorded before the sender ends.
        let all = u32::try_from(self.limits.concurrent_sends.max(1)).unwrap_or(u32::MAX);
        let _all = self.slots.acquire_many(all).await;
    }

    /// Takes the next row that may go now, if the gate is open: marks it
    /// `sending`, reserves its chat's next slot and the gate's, and commits.
    async fn take(&self) -> Result<Taken, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let wait_ms = sqlx::query_scalar!(
            r#"SELECT extract(epoch FROM greatest(next_at, paused_until) - clock_timestamp())::float8 * 1000
                   AS "wait_ms!"
               FROM outbox_gate FOR UPDATE"#
        )
        .fetch_one(&mut *tx)
        .await?;
        if wait_ms > 0.0 {
            tx.commit().await?;
            return Ok(Taken::Wait(millis(wait_ms)));
        }
        // The first open row of each chat, so a chat's messages keep their
        // order; none whose chat's slot is still taken.
        let found = sqlx::query!(
            r#"SELECT o.id, o.chat_id, o.method::text AS "method!", o.photo, o.photo_name, o.attempts,
                      coalesce(o.expires_at < clock_timestamp(), false) AS "expired!",
                      EXISTS (SELECT 1 FROM telegram_accounts t
                              WHERE t.chat_id = o.chat_id AND t.blocked_at IS NOT NULL) AS "blocked!"
               FROM outbox o
               WHERE o.state = 'pending' AND o.not_before <= clock_timestamp()
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id
                                 AND e.state IN ('pending', 'sending') AND e.id < o.id)
                 AND NOT EXISTS (SELECT 1 FROM outbox_chats c WHERE c.chat_id = o.chat_id
                                 AND c.next_at > clock_timestamp())
               ORDER BY o.id
               LIMIT 1
               FOR UPDATE OF o SKIP LOCKED"#
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(found) = found else {
            let taken = self.idle(&mut tx).await?;
            tx.commit().await?;
            return Ok(taken);
        };
        let method = serde_json::from_str::<BotMethod>(&found.method).map(|mut method| {
            if let BotMethod::SendPhoto(photo) = &mut method {
                photo.png = found.photo.unwrap_or_default();
                photo.file_name = found.photo_name.unwrap_or_else(|| "image.png".into());
            }
            method
        });
        let ended = match (&method, found.expired, found.blocked) {
            (Err(e), ..) => Some(Outcome::Failed(format!("unreadable row: {e}"))),
            (_, true, _) => Some(Outcome::Failed("expired".into())),
            (_, _, true) => Some(Outcome::Blocked("the chat had blocked the bot".into())),
            _ => None,
        };
        if let Some(outcome) = ended {
            let state = if found.expired {
                "expired"
            } else {
                outcome.name()
            };
            finish(&mut tx, found.id, state, &outcome).await?;
            tx.commit().await?;
            record_metric(state);
            return Ok(Taken::Again);
        }
        let chat_interval = found
            .chat_id
            .map(|chat_id| self.limits.chat_interval(chat_id).as_secs_f64());
        sqlx::query!(
            "WITH taken AS (
                 UPDATE outbox SET state = 'sending', attempts = attempts + 1,
                                   taken_at = clock_timestamp()
                 WHERE id = $1),
             chat AS (
                 INSERT INTO outbox_chats (chat_id, next_at)
                 SELECT $2, clock_timestamp() + make_interval(secs => $3)
                 WHERE $2::bigint IS NOT NULL
                 ON CONFLICT (chat_id) DO UPDATE SET next_at = EXCLUDED.next_at)
             UPDATE outbox_gate SET next_at = clock_timestamp() + make_interval(secs => $4)",
            found.id,
            found.chat_id,
            chat_interval,
            self.limits.spacing().as_secs_f64()
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Taken::Row(Box::new(Row {
            id: found.id,
            chat_id: found.chat_id,
            attempts: found.attempts + 1,
            method: method.expect("checked above"),
        })))
    }

    /// Nothing to take: ends the rows whose sender died mid-call, and says
    /// when the next pending row is due.
    async fn idle(&self, tx: &mut PgConnection) -> Result<Taken, sqlx::Error> {
        let orphaned = sqlx::query_scalar!(
            "WITH ended AS (
                 UPDATE outbox SET state = 'uncertain', done_at = now(), photo = NULL,
                        method = jsonb_build_object('method', method->'method'),
                        last_error = 'the sender stopped during the call'
                 WHERE state = 'sending'
                   AND taken_at < clock_timestamp() - make_interval(secs => $1)
                 RETURNING id)
             SELECT count(*) FROM ended",
            self.limits.uncertain_after.as_secs_f64()
        )
        .fetch_one(&mut *tx)
        .await?
        .unwrap_or(0);
        if orphaned > 0 {
            tracing::warn!(
                rows = orphaned,
                "outbox: messages whose sender stopped mid-call are not sent again (they may have arrived)"
            );
            metrics::counter!("ledgerbot_outbox_messages_total", "outcome" => "uncertain")
                .increment(orphaned.unsigned_abs());
        }
        let next_ms = sqlx::query_scalar!(
            r#"SELECT extract(epoch FROM min(greatest(o.not_before, c.next_at)) - clock_timestamp())::float8 * 1000
               FROM outbox o LEFT JOIN outbox_chats c ON c.chat_id = o.chat_id
               WHERE o.state = 'pending'"#
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(Taken::Idle {
            next_due: next_ms.map(millis),
        })
    }

    /// Makes the call and records what came of it.
    async fn deliver(self: Arc<Self>, row: Box<Row>, permit: tokio::sync::OwnedSemaphorePermit) {
        let running = self.bot.track();
        let result = self.bot.call_once(&row.method).await;
        let outcome = Outcome::of(result, row.attempts, &self.limits);
        match &outcome {
            Outcome::Sent => {}
            Outcome::Retry { error, after, .. } => tracing::info!(
                outbox.id = row.id, chat.id = ?row.chat_id, method = row.method.name(),
                error = %error, retry_in_ms = after.as_millis(), "outbox: not delivered yet; retrying later"),
            Outcome::Blocked(_) => tracing::info!(
                outbox.id = row.id,
                chat.id = ?row.chat_id,
                "the bot was blocked; marking the chat inactive"
            ),
            other => tracing::warn!(
                outbox.id = row.id, chat.id = ?row.chat_id, method = row.method.name(),
                outcome = ?other, "outbox: message not delivered"),
        }
        // The outcome is known only here: keep trying to record it through a
        // database outage (until a sweep would call the row uncertain anyway).
        let mut wait = MIN_POLL;
        let started = tokio::time::Instant::now();
        loop {
            match self.record(&row, &outcome).await {
                Ok(()) => break,
                Err(e) if started.elapsed() < self.limits.uncertain_after => {
                    crate::infra::db::note_error(&e);
                    tracing::warn!(outbox.id = row.id, error = %e, "outbox: could not record a send; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                Err(e) => {
                    tracing::error!(outbox.id = row.id, error = %e, "outbox: gave up recording a send");
                    break;
                }
            }
        }
        record_metric(outcome.name());
        drop(permit);
        drop(running);
    }

    async fn record(&self, row: &Row, outcome: &Outcome) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        match outcome {
            Outcome::Retry {
                after,
                pause_all,
                error,
            } => {
                sqlx::query!(
                    "UPDATE outbox SET state = 'pending', last_error = $2,
                            not_before = clock_timestamp() + make_interval(secs => $3)
                     WHERE id = $1 AND state = 'sending'",
                    row.id,
                    error,
                    after.as_secs_f64()
                )
                .execute(&mut *tx)
                .await?;
                if *pause_all {
                    sqlx::query!(
                        "UPDATE outbox_gate SET paused_until = greatest(paused_until,
                             clock_timestamp() + make_interval(secs => $1))",
                        after.as_secs_f64()
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
            ended => {
                finish(&mut tx, row.id, ended.name(), ended).await?;
                if let (Outcome::Blocked(_), Some(chat_id)) = (ended, row.chat_id) {
                    sqlx::query!(
                        "UPDATE telegram_accounts SET blocked_at = now()
                         WHERE chat_id = $1 AND blocked_at IS NULL",
                        chat_id
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await
    }
}

/// Ends a row in `state`, wiping what it said (it may have carried a code).
/// A row a sweep called uncertain while its call was still running gets the
/// call's real outcome.
async fn finish(
    tx: &mut PgConnection,
    id: i64,
    state: &str,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let error = match outcome {
        Outcome::Sent => None,
        Outcome::Blocked(e) | Outcome::Failed(e) | Outcome::Uncertain(e) => Some(e.as_str()),
        Outcome::Retry { error, .. } => Some(error.as_str()),
    };
    sqlx::query!(
        "UPDATE outbox SET state = $2, done_at = now(), last_error = $3, photo = NULL,
                method = jsonb_build_object('method', method->'method')
         WHERE id = $1 AND state IN ('pending', 'sending', 'uncertain')",
        id,
        state,
        error
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn record_metric(outcome: &'static str) {
    metrics::counter!("ledgerbot_outbox_messages_total", "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_may_pass_is_retried_and_what_may_have_arrived_is_not() {
        let limits = OutboxLimits::default();
        let api = |code| BotApiError::Api {
            code,
            description: String::new(),
        };
        let cases: [(Result<(), BotApiError>, &str, &str); 8] = [
            (Ok(()), "sent", "delivered"),
            (Err(api(403)), "blocked", "the person blocked the bot"),
            (
                Err(api(400)),
                "failed",
                "Telegram refused it; again is no better",
            ),
            (Err(api(502)), "retry", "Telegram did not act on it"),
            (
                Err(BotApiError::RetryAfter(Duration::from_secs(3))),
                "retry",
                "flood control",
            ),
            (
                Err(BotApiError::Unreachable("refused".into())),
                "retry",
                "the request never left",
            ),
            (
                Err(BotApiError::Network("timed out".into())),
                "uncertain",
                "it may have arrived",
            ),
            (
                Err(BotApiError::InvalidResponse("<html>".into())),
                "uncertain",
                "it may have arrived",
            ),
        ];
        for (result, expected, why) in cases {
            assert_eq!(Outcome::of(result, 1, &limits).name(), expected, "{why}");
        }
        let last = Outcome::of(Err(api(500)), limits.max_attempts, &limits);
        assert_eq!(last.name(), "failed", "attempts are bounded");
    }

    #[test]
    fn a_429_pauses_everyone_for_its_retry_after() {
        let outcome = Outcome::of(
            Err(BotApiError::RetryAfter(Duration::from_secs(7))),
            1,
            &OutboxLimits::default(),
        );
        assert!(
            matches!(outcome, Outcome::Retry { after, pause_all: true, .. } if after == Duration::from_secs(7)),
            "{outcome:?}"
        );
    }

    #[test]
    fn sends_are_spaced_a_little_under_the_limits() {
        let limits = OutboxLimits::default();
        assert!(limits.spacing() > Duration::from_secs(1) / 30);
        assert!(limits.spacing() < Duration::from_secs(1) / 28);
        assert_eq!(limits.chat_interval(42), Duration::from_millis(1050));
        assert_eq!(limits.chat_interval(-10_042), Duration::from_millis(3150));
    }
}
