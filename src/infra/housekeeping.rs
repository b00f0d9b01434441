//! Housekeeping: deletes what has outlived its use (old update claims, expired
//! refresh tokens, link codes and web sessions, dead rate-limit counters,
//! spent Telegram logins past their age, wrong-password counts long quiet,
//! old invitations, Telegram-only accounts no one can reach any more, outbox
//! rows done a week ago): every
//! table a client can grow without an account of its own is bounded here.
//! Every instance runs the loop; an advisory lock lets one at a time do the
//! work, and deletes go in small batches, a transaction each, so requests are
//! never held up behind a long lock.
//!
//! The lock is transaction-scoped, taken again by each batch's transaction:
//! behind a transaction-mode pooler a session lock and its unlock can land on
//! different server connections, leaving it held for good.

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
    /// Link codes a day past their expiry.
    pub link_codes: u64,
    /// Rate-limit counters whose window ended long ago.
    pub rate_limit_windows: u64,
    /// Web sessions past their expiry.
    pub web_sessions: u64,
    /// Telegram-signed payloads past the age at which they are refused anyway.
    pub telegram_auth_seen: u64,
    /// Password links a day past their expiry.
    pub password_tokens: u64,
    /// Wrong-password counts a day after their last failure (then forgotten).
    pub login_failures: u64,
    /// Invitations a month past their expiry (used, withdrawn or not).
    pub invitations: u64,
    /// Telegram-only accounts no one can reach: see [`ORPHANS`].
    pub orphaned_accounts: u64,
    /// Outbox rows done (sent or ended otherwise) over a week ago, and the
    /// per-chat send slots of chats not written to for a day.
    pub outbox: u64,
}

/// A Telegram-only account (no email, no password) whose Telegram account
/// was unlinked or moved to another person can never be logged into again:
/// no Telegram account, no live refresh token, web session or password
/// link. Deleted a day after it was made, unless it is a member of a
/// company (company data is never deleted behind its members' backs).
const ORPHANS: &str = "DELETE FROM users WHERE id IN (
     SELECT u.id FROM users u
     WHERE u.email IS NULL AND u.password_hash IS NULL
       AND u.created_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM telegram_accounts t WHERE t.user_id = u.id)
       AND NOT EXISTS (SELECT 1 FROM company_members m WHERE m.user_id = u.id)
       AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.user_id = u.id
                       AND r.expires_at > now() AND r.used_at IS NULL AND r.revoked_at IS NULL)
       AND NOT EXISTS (SELECT 1 FROM web_sessions s WHERE s.user_id = u.id AND s.expires_at > now())
       AND NOT EXISTS (SELECT 1 FROM password_tokens p WHERE p.user_id = u.id
                       AND p.expires_at > now() AND p.used_at IS NULL)
     LIMIT $1)";

/// Runs one pass, or returns `None` when another instance is doing it now
/// (its lock was held when this pass began, or taken between two batches).
///
/// # Errors
/// The database failed; the next pass tries again.
pub async fn run_once(pool: &PgPool) -> Result<Option<Swept>, sqlx::Error> {
    match sweep(pool).await {
        Ok(swept) => Ok(Some(swept)),
        Err(Skip::Locked) => Ok(None),
        Err(Skip::Db(e)) => Err(e),
    }
}

/// Why a pass stopped early.
enum Skip {
    /// Another instance holds the lock.
    Locked,
    /// The database failed.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Skip {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

async fn sweep(pool: &PgPool) -> Result<Swept, Skip> {
    Ok(Swept {
        // Telegram gives up on an update after 24 hours; a claim kept twice as
        // long still catches every retry.
        update_claims: delete_in_batches(
            pool,
            "DELETE FROM telegram_updates WHERE update_id IN (
                 SELECT update_id FROM telegram_updates
                 WHERE received_at < now() - interval '48 hours' LIMIT $1)",
        )
        .await?,
        refresh_tokens: delete_in_batches(
            pool,
            "DELETE FROM refresh_tokens WHERE token_hash IN (
                 SELECT token_hash FROM refresh_tokens WHERE expires_at < now() LIMIT $1)",
        )
        .await?,
        // Codes stay a day past their expiry so that a late attempt hears
        // "expired" rather than "unknown".
        link_codes: delete_in_batches(
            pool,
            "DELETE FROM link_codes WHERE code_hash IN (
                 SELECT code_hash FROM link_codes
                 WHERE expires_at < now() - interval '1 day' LIMIT $1)",
        )
        .await?,
        // The longest window is well under an hour: a day-old counter is dead.
        rate_limit_windows: delete_in_batches(
            pool,
            "DELETE FROM rate_limits WHERE (action, key) IN (
                 SELECT action, key FROM rate_limits
                 WHERE window_start < now() - interval '1 day' LIMIT $1)",
        )
        .await?,
        web_sessions: delete_in_batches(
            pool,
            "DELETE FROM web_sessions WHERE id_hash IN (
                 SELECT id_hash FROM web_sessions WHERE expires_at < now() LIMIT $1)",
        )
        .await?,
        // A stale payload is refused by its `auth_date`: its key is no longer needed.
        telegram_auth_seen: delete_in_batches(
            pool,
            "DELETE FROM telegram_auth_seen WHERE replay_key IN (
                 SELECT replay_key FROM telegram_auth_seen WHERE expires_at < now() LIMIT $1)",
        )
        .await?,
        password_tokens: delete_in_batches(
            pool,
            "DELETE FROM password_tokens WHERE token_hash IN (
                 SELECT token_hash FROM password_tokens
                 WHERE expires_at < now() - interval '1 day' LIMIT $1)",
        )
        .await?,
        // `rate_limit::FAILURES_FORGOTTEN_AFTER`: a day, longer than any lock.
        login_failures: delete_in_batches(
            pool,
            "DELETE FROM login_failures WHERE key_hash IN (
                 SELECT key_hash FROM login_failures
                 WHERE last_failure_at < now() - interval '1 day' LIMIT $1)",
        )
        .await?,
        // Kept a month past their expiry so that a late click hears "expired"
        // (or "used", "withdrawn") rather than "unknown".
        invitations: delete_in_batches(
            pool,
            "DELETE FROM invitations WHERE id IN (
                 SELECT id FROM invitations
                 WHERE expires_at < now() - interval '30 days' LIMIT $1)",
        )
        .await?,
        orphaned_accounts: delete_in_batches(pool, ORPHANS).await?,
        // A week of done rows answers "was it sent?"; their text is wiped already.
        outbox: delete_in_batches(
            pool,
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox WHERE done_at < now() - interval '7 days' LIMIT $1)",
        )
        .await?
            + delete_in_batches(
                pool,
                "DELETE FROM outbox_chats WHERE chat_id IN (
                     SELECT chat_id FROM outbox_chats
                     WHERE next_at < now() - interval '1 day' LIMIT $1)",
            )
            .await?,
    })
}

/// Runs `delete` (a `DELETE ... LIMIT $1` statement) until it deletes less
/// than a batch, each batch in a transaction that holds the lock; returns the
/// rows deleted in all. Plain `query`: the statements share this loop, and
/// the housekeeping tests run each of them.
async fn delete_in_batches(pool: &PgPool, delete: &'static str) -> Result<u64, Skip> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let locked: bool =
            sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, LOCK)
                .fetch_one(&mut *tx)
                .await?;
        if !locked {
            return Err(Skip::Locked);
        }
        let n = sqlx::query(delete)
            .bind(BATCH)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        total += n;
        if n < BATCH.unsigned_abs() {
            return Ok(total);
        }
    }
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
                Err(e) => {
                    crate::infra::db::note_error(&e);
                    tracing::warn!(error = %e, "housekeeping failed; will retry");
                }
            }
        }
    })
}
