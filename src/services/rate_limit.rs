//! Attempt limits shared by every instance: fixed-window counters in
//! PostgreSQL (`rate_limits`), one upsert per attempt, so that no instance
//! keeps a count another one would need.
//!
//! The limits, by action and key, are listed in `docs/api.md` (Rate limits);
//! their values are [`RateLimits::default`].

use std::time::Duration;

use sqlx::PgConnection;

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
        }
    }
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
