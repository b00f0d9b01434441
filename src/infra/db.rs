//! The PostgreSQL pool and `ledgerbot migrate`: applying `schema.sql`.
//!
//! Everything here works through a transaction-mode pooler (PgBouncer as
//! Neon, Supabase and fly.io's Managed Postgres run it), which lends a server
//! connection for one transaction at a time: nothing relies on the session
//! (no session-level lock, `SET` or named prepared statement outlives its
//! transaction), and a connection that met a failover is not used again.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::infra::config::Database;

/// The whole data model, compiled into the binary so a deploy cannot ship a
/// binary and a schema that disagree.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Advisory lock key that serialises concurrent `migrate` runs ("ledgerbo" in ASCII).
const MIGRATE_LOCK: i64 = 0x6c65_6467_6572_626f;

/// What sits between ledgerbot and PostgreSQL on a URL (`DATABASE_POOLER`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pooler {
    /// PostgreSQL itself.
    #[default]
    None,
    /// A pooler that gives each client connection a server connection of its
    /// own until it disconnects (PgBouncer's session mode): to us, the same as
    /// PostgreSQL itself.
    Session,
    /// A pooler that lends a server connection for one transaction at a time
    /// (PgBouncer's transaction mode): no prepared statement may outlive it.
    Transaction,
}

impl Pooler {
    const ALL: [Self; 3] = [Self::None, Self::Session, Self::Transaction];

    /// `transaction`, `session` or `none`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// The value of `DATABASE_POOLER` that means this.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Session => "session",
            Self::Transaction => "transaction",
        }
    }
}

/// The serving pool of `database`: `DATABASE_URL` as `DATABASE_POOLER` says.
///
/// # Errors
/// The URL cannot be parsed.
pub fn serving_pool(database: &Database) -> Result<PgPool, sqlx::Error> {
    pool(database.url.expose(), database.pool_size, database.pooler)
}

/// The one-connection pool of `ledgerbot migrate` and `demo-data`: the direct
/// URL when there is one (the hosts advise schema changes off the pooler, and
/// it spares the pooler's few server connections), else `DATABASE_URL`. The
/// migration is correct through either: it is one transaction.
///
/// # Errors
/// The URL cannot be parsed.
pub fn admin_pool(database: &Database) -> Result<PgPool, sqlx::Error> {
    match &database.direct_url {
        Some(direct) => pool(direct.expose(), 1, Pooler::None),
        None => pool(database.url.expose(), 1, database.pooler),
    }
}

/// Opens a connection pool without connecting yet, so a server can start
/// (and answer `/healthz`) while the database is still waking up.
///
/// Behind a transaction-mode pooler the statement cache is off: each
/// statement is then the unnamed one, parsed, bound and run in one flight
/// (vendor/sqlx-postgres's patch), so no statement outlives its transaction;
/// the cost is a parse and plan per statement (BENCHMARKS.md). Nor is the
/// `extra_float_digits` start-up parameter sent, which PgBouncer refuses
/// unless told to ignore it (we read no floats).
///
/// # Errors
/// The URL cannot be parsed.
pub fn pool(
    database_url: &str,
    max_connections: u32,
    pooler: Pooler,
) -> Result<PgPool, sqlx::Error> {
    let mut connect: PgConnectOptions = database_url.parse()?;
    connect = connect.application_name("ledgerbot");
    if pooler == Pooler::Transaction {
        connect = connect.statement_cache_capacity(0).extra_float_digits(None);
    }
    Ok(options(max_connections).connect_lazy_with(connect))
}

/// How every serving pool behaves.
fn options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        // A request waits this long for a connection before failing with 503;
        // Telegram retries, so failing fast beats queueing past its timeout.
        .acquire_timeout(Duration::from_secs(3))
        // No ping before handing out a connection: it is a round trip on every
        // request. A connection that died while idle (the database restarted)
        // fails its first query instead: that update is answered 5xx and
        // Telegram delivers it again, on a fresh connection.
        .test_before_acquire(false)
        // A connection opened before the last failover-like error (see
        // `note_error`) is closed rather than handed out: it may be attached
        // to a server that is now read-only, or about to drop it. No I/O.
        .before_acquire(|_, meta| Box::pin(async move { Ok(!opened_before_last_fault(meta.age)) }))
        .idle_timeout(Duration::from_secs(300))
}

/// When this process started: the clock `LAST_FAULT` counts from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
/// Microseconds from `EPOCH` to the last error that says the database's
/// connections are suspect; 0 for none.
static LAST_FAULT: AtomicU64 = AtomicU64::new(0);

/// Whether `e` says that the connection it happened on, and any opened with
/// it, should not be used again: the connection broke (reset, TLS, a reply
/// out of protocol), the server is going away or starting (57P01-57P03), a
/// pooler lost its server (class 08: PgBouncer's "server conn crashed?" is
/// 08P01), or the server is read-only (25006: a standby, as during a
/// failover, or a primary turned read-only). Each is answered 503 too, so
/// Telegram delivers the update again.
pub fn is_connection_fault(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "25006"),
        _ => false,
    }
}

/// Records `e` if it is a connection fault ([`is_connection_fault`]): the
/// pools then close, at their next use, every connection opened before it.
/// All of them rather than only the one that failed: sqlx cannot say which
/// connection an error came from once it is back in the pool, and a
/// failover makes every older connection suspect anyway. Called where a
/// database error is answered (`http::ApiError`, `/readyz`, housekeeping).
pub fn note_error(e: &sqlx::Error) {
    if is_connection_fault(e) {
        tracing::warn!(error = %e, "database connection fault: connections opened before it will be replaced");
        let micros = u64::try_from(EPOCH.elapsed().as_micros()).unwrap_or(u64::MAX);
        LAST_FAULT.fetch_max(micros.max(1), Ordering::Relaxed);
    }
}

/// Whether a connection of age `age` was opened before the last fault.
fn opened_before_last_fault(age: Duration) -> bool {
    let last = LAST_FAULT.load(Ordering::Relaxed);
    if last == 0 {
        return false;
    }
    let opened = EPOCH.elapsed().saturating_sub(age);
    opened.as_micros() <= u128::from(last)
}

/// The pool size when `DATABASE_POOL_SIZE` is not set: two connections per
/// core, at least four (PostgreSQL's own rule of thumb for a database's
/// cores). An update holds its connection across two round trips and our own
/// work between them, so a few connections keep the database busy; more only
/// make its backends contend. On the benchmark's two cores, with the database
/// on the same machine, 4 connections did 2-27% more updates per second than
/// 8 at a lower p99, and 6 did 20% more than 16 (BENCHMARKS.md). A database
/// across a network idles each connection through every round trip: set more.
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 2).unwrap_or(32).clamp(4, 32)
}

/// The API's pool size when `DATABASE_API_POOL_SIZE` is not set: half the
/// webhook's, rounded up. The API and the pages have a pool of their own so
/// that a burst of heavy API clients queues there and never takes a
/// connection Telegram's updates need; it is smaller because a person or an
/// ERP waits a moment without harm, while Telegram holds back a chat's next
/// updates until it has our answer.
pub fn default_api_pool_size(webhook_pool_size: u32) -> u32 {
    webhook_pool_size.div_ceil(2).max(1)
}

/// A second pool to the same database as `pool`, with the same settings and
/// at most `max_connections`: the API's pool beside the webhook's (see
/// [`crate::infra::app::App`]). Opens nothing until it is used.
pub fn sibling(pool: &PgPool, max_connections: u32) -> PgPool {
    options(max_connections).connect_lazy_with((*pool.connect_options()).clone())
}

/// Applies `schema.sql` and records its checksum in one transaction, which
/// first takes a transaction-scoped advisory lock so that instances starting
/// together apply it one at a time. Idempotent; all or nothing.
///
/// Transaction-scoped, not a session lock: behind a transaction-mode pooler
/// a session lock and its unlock can land on different server connections,
/// and the lock then stays held by the pooler's connection, so the next
/// `migrate` waits forever. The lock ends with the transaction, whatever
/// happens to the connection.
///
/// Returns the checksum of the schema now in place.
///
/// # Errors
/// The database is unreachable or a statement fails (nothing is applied).
pub async fn migrate(pool: &PgPool) -> Result<String, sqlx::Error> {
    let checksum = hex::encode(Sha256::digest(SCHEMA.as_bytes()));
    let mut tx = pool.begin().await?;
    // `void` results are not something the checked macros can type, hence plain `query`.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO schema_version (checksum) VALUES ($1) ON CONFLICT DO NOTHING",
        checksum
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(checksum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every update awaits `acquire` (or `begin`), and the webhook boxes the
    /// future that does: its size is allocated and copied per update.
    /// Upstream sqlx's holds the connect path inline: 14.5 KB in release
    /// builds, 4 KB in the tests' debug build. vendor/'s patch 7 boxes it,
    /// which leaves about 1 KB in release and 650 bytes in debug. This test
    /// fails if a sqlx upgrade drops the patch.
    #[tokio::test]
    async fn taking_a_connection_is_a_small_future() {
        let pool = options(1)
            .connect_lazy("postgres://nobody@127.0.0.1:1/nothing")
            .expect("a lazy pool opens nothing");
        let acquire = std::mem::size_of_val(&pool.acquire());
        let begin = std::mem::size_of_val(&pool.begin());
        println!("acquire {acquire} bytes, begin {begin} bytes");
        assert!(acquire <= 2048, "Pool::acquire's future is {acquire} bytes");
        assert!(begin <= 2048, "Pool::begin's future is {begin} bytes");
    }

    #[test]
    fn pooler_kinds_parse_in_any_case_and_nothing_else() {
        assert_eq!(Pooler::parse(" Transaction"), Some(Pooler::Transaction));
        assert_eq!(Pooler::parse("SESSION"), Some(Pooler::Session));
        assert_eq!(Pooler::parse("none"), Some(Pooler::None));
        assert_eq!(Pooler::parse("pgbouncer"), None);
    }

    #[test]
    fn failover_errors_are_connection_faults_and_others_are_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_connection_fault(&io));
        assert!(is_connection_fault(&sqlx::Error::Protocol("eof".into())));
        assert!(!is_connection_fault(&sqlx::Error::PoolTimedOut));
        assert!(!is_connection_fault(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn connections_opened_before_a_fault_are_not_reused() {
        let old = EPOCH.elapsed() + Duration::from_secs(1);
        note_error(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert!(opened_before_last_fault(old), "opened before the fault");
        assert!(!opened_before_last_fault(Duration::ZERO), "opened now");
        note_error(&sqlx::Error::PoolTimedOut);
        assert!(!opened_before_last_fault(Duration::ZERO), "not a fault");
    }
}
