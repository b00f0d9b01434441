//! Attempt limits shared by every instance: fixed-window counters in
//! PostgreSQL (`rate_limits`), one upsert per attempt, so that no instance
//! keeps a count another one would need.
//!
//! The limits, by action and key, are listed in `docs/api.md` (Rate limits);
//! their values are [`RateLimits::default`].
//!
//! Failures of one key (wrong passwords for one account, from any address)
//! are counted apart, with a lock that doubles past a few ([`Backoff`],
//! table `login_failures`): a window that simply ends would let a patient
//! attacker spread guesses evenly forever.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

/// One limit: at most `max` attempts of `action` per key in each `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The name the counter is stored under.
    pub action: &'static str,
    /// Attempts allowed in one window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

impl Limit {
    const fn per_minute(action: &'static str, max: u32) -> Self {
        Self {
            action,
            max,
            window: Duration::from_secs(60),
        }
    }
}

/// Requests per minute one account may make to the company API unless
/// `API_REQUESTS_PER_MINUTE` says otherwise: an ERP's sync and a dashboard
/// that refreshes fit easily; a loop does not.
pub const DEFAULT_COMPANY_API_PER_MINUTE: u32 = 300;

/// Every limit ledgerbot applies. Fixed in code (see the module table) but
/// for the company API's, which `API_REQUESTS_PER_MINUTE` sets; tests lower
/// them through `Config::rate_limits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /api/v1/auth/register`, per client IP.
    pub register: Limit,
    /// `POST /api/v1/auth/login`, per client IP.
    pub login: Limit,
    /// `POST /api/v1/auth/refresh`, per client IP.
    pub refresh: Limit,
    /// Code attempts over HTTP (`GET /qr/...`, `POST /api/v1/telegram/confirm`), per client IP.
    pub code: Limit,
    /// Wrong codes sent to the bot, per Telegram user: reaching `max` locks
    /// that user out of code attempts until the window ends.
    pub bot_code_failures: Limit,
    /// Requests to `/api/v1/companies...`, per account (`API_REQUESTS_PER_MINUTE`).
    pub company_api: Limit,
    /// Wrong passwords per account (by the normalised email typed), from
    /// any address: the lock that follows.
    pub login_failures: Backoff,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            register: Limit::per_minute("register", 5),
            login: Limit::per_minute("login", 10),
            refresh: Limit::per_minute("refresh", 30),
            code: Limit::per_minute("code", 20),
            bot_code_failures: Limit {
                action: "bot_code_failure",
                max: 5,
                window: Duration::from_secs(15 * 60),
            },
            company_api: Limit::per_minute("company_api", DEFAULT_COMPANY_API_PER_MINUTE),
            login_failures: Backoff {
                free: 5,
                first: Duration::from_secs(60),
                max: Duration::from_secs(60 * 60),
            },
        }
    }
}

/// Failures of one key in a row: the `free`-th locks the key for `first`,
/// and each further one for twice the last lock, up to `max`. With the
/// defaults (5, a minute, an hour) a day allows about 35 guesses at one
/// account, however many addresses send them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The failure that starts the first lock.
    pub free: u32,
    /// The first lock.
    pub first: Duration,
    /// The longest lock.
    pub max: Duration,
}

/// A key's failures are forgotten this long after its last one (and
/// housekeeping deletes its row): longer than any lock.
pub const FAILURES_FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

impl Backoff {
    /// The lock that follows the `failures`-th failure in a row, if any.
    pub fn lock_after(&self, failures: u32) -> Option<Duration> {
        let past_free = failures.checked_sub(self.free)?;
        let doubled = self
            .first
            .checked_mul(1u32.checked_shl(past_free).unwrap_or(u32::MAX))
            .unwrap_or(self.max);
        Some(doubled.min(self.max))
    }
}

fn failure_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// How long `key` stays locked by its failures: `None` when it may try now.
///
/// # Errors
/// The database failed.
pub async fn locked_for(db: &mut PgConnection, key: &str) -> Result<Option<Duration>, sqlx::Error> {
    let remaining = sqlx::query_scalar!(
        r#"SELECT ceil(extract(epoch FROM locked_until - now()))::bigint AS "remaining!"
           FROM login_failures WHERE key_hash = $1 AND locked_until > now()"#,
        &failure_key(key)[..],
    )
    .fetch_optional(db)
    .await?;
    Ok(remaining.map(seconds))
}

/// Counts one failure of `key` and locks it as `backoff` says; returns the
/// lock now in force, if any. Counting and locking share a transaction (the
/// upsert holds the row), so concurrent failures on any instance each count
/// and the lock follows the last count.
///
/// # Errors
/// The database failed.
pub async fn note_failure(
    db: &mut PgConnection,
    backoff: Backoff,
    key: &str,
) -> Result<Option<Duration>, sqlx::Error> {
    let key = failure_key(key);
    let mut tx = db.begin().await?;
    let failures = sqlx::query_scalar!(
        r#"INSERT INTO login_failures AS f (key_hash, failures, last_failure_at)
           VALUES ($1, 1, now())
           ON CONFLICT (key_hash) DO UPDATE SET
               failures = CASE WHEN f.last_failure_at < now() - make_interval(secs => $2)
                               THEN 1 ELSE f.failures + 1 END,
               last_failure_at = now()
           RETURNING failures"#,
        &key[..],
        FAILURES_FORGOTTEN_AFTER.as_secs_f64(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let lock = backoff.lock_after(u32::try_from(failures).unwrap_or(u32::MAX));
    if let Some(lock) = lock {
        sqlx::query!(
            "UPDATE login_failures SET locked_until = now() + make_interval(secs => $2)
             WHERE key_hash = $1",
            &key[..],
            lock.as_secs_f64(),
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(lock)
}

/// Forgets `key`'s failures (it got it right, or chose a new password).
///
/// # Errors
/// The database failed.
pub async fn forget_failures(db: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM login_failures WHERE key_hash = $1",
        &failure_key(key)[..]
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The state of a counter right after an attempt was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    /// Attempts in the current window, this one included.
    pub hits: u32,
    /// Time until the current window ends.
    pub resets_in: Duration,
}

/// Counts one attempt of `limit.action` by `key`, starting a new window when
/// the previous one is over. One statement, so concurrent attempts on any
/// instance are all counted.
///
/// # Errors
/// The database failed.
pub async fn count(db: &mut PgConnection, limit: Limit, key: &str) -> Result<Count, sqlx::Error> {
    let window = limit.window.as_secs_f64();
    let row = sqlx::query!(
        r#"INSERT INTO rate_limits AS r (action, key, window_start, hits)
           VALUES ($1, $2, now(), 1)
           ON CONFLICT (action, key) DO UPDATE SET
               window_start = CASE WHEN r.window_start + make_interval(secs => $3) <= now()
                                   THEN now() ELSE r.window_start END,
               hits = CASE WHEN r.window_start + make_interval(secs => $3) <= now()
                           THEN 1 ELSE r.hits + 1 END
           RETURNING hits AS "hits!",
                     ceil(extract(epoch FROM window_start + make_interval(secs => $3) - now()))::bigint
                         AS "resets_in!""#,
        limit.action,
        key,
        window,
    )
    .fetch_one(&mut *db)
    .await?;
    if rand::random_ratio(1, 100) {
        prune(db).await?;
    }
    Ok(Count {
        hits: u32::try_from(row.hits).unwrap_or(0),
        resets_in: seconds(row.resets_in),
    })
}

/// Counts an attempt and says whether it is over the limit.
///
/// Returns `Some(retry_after)` when this attempt is one too many.
///
/// # Errors
/// The database failed.
pub async fn check(
    db: &mut PgConnection,
    limit: Limit,
    key: &str,
) -> Result<Option<Duration>, sqlx::Error> {
    let count = count(db, limit, key).await?;
    Ok((count.hits > limit.max).then_some(count.resets_in))
}

/// Whether `key` has already used up `limit` in the current window, without
/// counting anything: `Some(time until it may try again)`.
///
/// # Errors
/// The database failed.
pub async fn exhausted(
    db: &mut PgConnection,
    limit: Limit,
    key: &str,
) -> Result<Option<Duration>, sqlx::Error> {
    let max = i32::try_from(limit.max).unwrap_or(i32::MAX);
    let remaining = sqlx::query_scalar!(
        r#"SELECT ceil(extract(epoch FROM window_start + make_interval(secs => $3) - now()))::bigint
                  AS "remaining!"
           FROM rate_limits
           WHERE action = $1 AND key = $2 AND hits >= $4
             AND window_start + make_interval(secs => $3) > now()"#,
        limit.action,
        key,
        limit.window.as_secs_f64(),
        max,
    )
    .fetch_optional(&mut *db)
    .await?;
    Ok(remaining.map(seconds))
}

/// Drops counters whose window ended long ago.
async fn prune(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(())
}

fn seconds(secs: i64) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(0).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_doubles_past_the_free_failures_up_to_its_max() {
        let backoff = RateLimits::default().login_failures;
        let minutes = |n| backoff.lock_after(n).map(|d| d.as_secs() / 60);
        let cases = [
            (1, None, "the first failures are free"),
            (4, None, "four cost nothing"),
            (5, Some(1), "the fifth locks for a minute"),
            (6, Some(2), "doubling"),
            (8, Some(8), "doubling again"),
            (11, Some(60), "up to an hour"),
            (40, Some(60), "and no further, without overflowing"),
            (u32::MAX, Some(60), "even at the end"),
        ];
        for (failures, want, why) in cases {
            assert_eq!(minutes(failures), want, "{failures}: {why}");
        }
    }
}
