//! The PostgreSQL pool and `ledgerbot migrate`: applying `schema.sql`.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The whole data model, compiled into the binary so a deploy cannot ship a
/// binary and a schema that disagree.
pub const SCHEMA: &str = include_str!("../schema.sql");

/// Advisory lock key that serialises concurrent `migrate` runs ("ledgerbo" in ASCII).
const MIGRATE_LOCK: i64 = 0x6c65_6467_6572_626f;

/// Opens the connection pool without connecting yet, so a server can start
/// (and answer `/healthz`) while the database is still waking up.
///
/// # Errors
/// The URL cannot be parsed.
pub fn pool(database_url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = database_url.parse()?;
    Ok(PgPoolOptions::new()
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
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options.application_name("ledgerbot")))
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

/// Applies `schema.sql` and records its checksum, holding an advisory lock so
/// that instances starting together apply it one at a time. Idempotent.
///
/// Returns the checksum of the schema now in place.
///
/// # Errors
/// The database is unreachable or a statement fails.
pub async fn migrate(pool: &PgPool) -> Result<String, sqlx::Error> {
    let checksum = hex::encode(Sha256::digest(SCHEMA.as_bytes()));
    let mut conn = pool.acquire().await?;
    // `void` results are not something the checked macros can type, hence plain `query`.
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *conn)
        .await?;
    let applied = async {
        sqlx::raw_sql(SCHEMA).execute(&mut *conn).await?;
        sqlx::query!(
            "INSERT INTO schema_version (checksum) VALUES ($1) ON CONFLICT DO NOTHING",
            checksum
        )
        .execute(&mut *conn)
        .await
    }
    .await;
    // Unlock even when the schema failed, or the lock lives on with the pooled connection.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *conn)
        .await;
    applied?;
    unlocked?;
    Ok(checksum)
}
