//! Housekeeping: deletes what has outlived its use (old update claims, expired
//! refresh tokens, ...). Every instance runs the loop; an advisory lock lets
//! one at a time do the work, and deletes go in small batches so requests are
//! never held up behind a long lock.

use std::time::Duration;

use sqlx::PgPool;

/// How often each instance tries.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Rows per delete statement.
const BATCH: i64 = 5_000;
/// Advisory lock key ("ledgerhk" in ASCII); distinct from the migration lock
/// and far outside the range of Telegram chat ids used for per-chat locks.
pub const LOCK: i64 = 0x6c65_6467_6572_686b;

/// What one pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Update claims older than Telegram's retry horizon.
    pub update_claims: u64,
    /// Refresh tokens past their expiry.
    pub refresh_tokens: u64,
}

/// Runs one pass, or returns `None` when another instance is doing it now.
///
/// # Errors
/// The database failed; the next pass tries again.
pub async fn run_once(pool: &PgPool) -> Result<Option<Swept>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "locked!""#, LOCK)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Ok(None);
    }
    let swept = sweep(&mut conn).await;
    // `void` is not something the checked macros can type, hence plain `query`.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK)
        .execute(&mut *conn)
        .await;
    let swept = swept?;
    unlocked?;
    Ok(Some(swept))
}

async fn sweep(conn: &mut sqlx::PgConnection) -> Result<Swept, sqlx::Error> {
    let mut swept = Swept::default();
    // Telegram gives up on an update after 24 hours; a claim kept twice as long
    // still catches every retry.
    loop {
        let n = sqlx::query!(
            "DELETE FROM telegram_updates WHERE update_id IN (
                 SELECT update_id FROM telegram_updates
                 WHERE received_at < now() - interval '48 hours' LIMIT $1)",
            BATCH
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        swept.update_claims += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = sqlx::query!(
            "DELETE FROM refresh_tokens WHERE token_hash IN (
                 SELECT token_hash FROM refresh_tokens WHERE expires_at < now() LIMIT $1)",
            BATCH
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        swept.refresh_tokens += n;
        if n < BATCH as u64 {
            break;
        }
    }
    Ok(swept)
}

/// Runs [`run_once`] every [`INTERVAL`] in the background, starting after a
/// random part of the interval so instances started together spread out.
pub fn spawn(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let jitter = Duration::from_millis(rand::random_range(0..INTERVAL.as_millis() as u64));
        tokio::time::sleep(jitter).await;
        let mut ticks = tokio::time::interval(INTERVAL);
        loop {
            ticks.tick().await;
            match run_once(&pool).await {
                Ok(Some(swept)) => tracing::info!(?swept, "housekeeping done"),
                Ok(None) => tracing::debug!("housekeeping: another instance is on it"),
                Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
            }
        }
    })
}
