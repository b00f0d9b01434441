//! Behind a transaction-mode pooler, and through a failover: statements never
//! outlive their transaction, a database that turns read-only or drops its
//! connections mid-request is answered 5xx (Telegram delivers again, nothing
//! is half-applied), and the pool recovers on its own.
//!
//! Every test here runs in both passes of deploy/test.sh: directly, and with
//! the app through a PgBouncer in transaction mode (`LEDGERBOT_PGBOUNCER`).
//! The database is managed on a direct connection of the test's own (ALTER
//! DATABASE and pg_terminate_backend are the "failover"), never through the app.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::{TestApp, TgUser, app_database, pgbouncer, spawn_app};
use crate::people::{activate, company, linked_user};

/// A connection of the test's own, straight to the server: survives what
/// happens to the app's.
async fn admin_of(pool: &PgPool) -> PgConnection {
    PgConnection::connect_with(&pool.connect_options())
        .await
        .expect("direct connection")
}

/// Closes every other session on the test's database, as a failover does.
async fn terminate_other_sessions(admin: &mut PgConnection) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut *admin)
    .await
    .expect("terminate");
}

/// Makes the test's database read-only for new sessions (a standby, as
/// reconnections find during a failover) or writable again (promoted).
async fn set_read_only(admin: &mut PgConnection, read_only: bool) {
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *admin)
        .await
        .expect("name");
    let sql = if read_only {
        format!("ALTER DATABASE \"{database}\" SET default_transaction_read_only = on")
    } else {
        format!("ALTER DATABASE \"{database}\" RESET default_transaction_read_only")
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *admin)
        .await
        .expect("alter database");
}

/// How many cash entries update `update_id` recorded.
async fn entries_of(admin: &mut PgConnection, update_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cash_entries WHERE telegram_update_id = $1")
        .bind(update_id)
        .fetch_one(&mut *admin)
        .await
        .expect("count")
}

/// Delivers `update` as Telegram does until it is answered 200, for up to
/// `within`; returns the statuses of the attempts.
pub async fn deliver_until_ok(app: &TestApp, update: &Value, within: Duration) -> Vec<u16> {
    let deadline = Instant::now() + within;
    let mut statuses = Vec::new();
    loop {
        let status = app.post_update(update).await.status().as_u16();
        statuses.push(status);
        if status == 200 {
            return statuses;
        }
        assert!(
            Instant::now() < deadline,
            "not answered 200 within {within:?}: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A text from the owner [`owner`] makes for `telegram_id`.
fn owner_text(telegram_id: i64, text: &str) -> Value {
    TgUser::ro(telegram_id).text(text)
}

/// An owner with an active company, who can `/add`.
async fn owner(pool: &PgPool, telegram_id: i64) -> TgUser {
    let tg = TgUser::ro(telegram_id);
    let user_id = linked_user(pool, &format!("p{telegram_id}@example.ro"), telegram_id).await;
    let company_id = company(pool, user_id, "Firma SRL").await;
    activate(pool, telegram_id, company_id).await;
    tg
}

#[sqlx::test(migrations = false)]
async fn statements_of_many_clients_never_cross_on_shared_server_connections(pool: PgPool) {
    // Arrange: more client connections than the PgBouncer has server
    // connections for this database (10), so they take turns on them.
    let (url, pooler) = app_database(&pool);
    let clients = ledgerbot::infra::db::pool(&url, 16, pooler).expect("pool");

    // Act: statements of different shapes from every client at once. A
    // statement prepared under one Sync and bound under the next can meet
    // another client's statement of the same name (or the unnamed one) on
    // the server connection it lands on.
    let results = join_all((0..16_i64).map(|client| {
        let clients = clients.clone();
        async move {
            let mut wrong = Vec::new();
            for i in 0..60_i64 {
                let n = client * 1_000 + i;
                let outcome = match i % 3 {
                    0 => sqlx::query_scalar::<_, i64>("SELECT $1::int8 + 1")
                        .bind(n)
                        .fetch_one(&clients)
                        .await
                        .map(|got| (got, n + 1)),
                    1 => sqlx::query_scalar::<_, String>("SELECT $1::text || '/' || $2::text")
                        .bind(n.to_string())
                        .bind("x")
                        .fetch_one(&clients)
                        .await
                        .map(|got| (i64::from(got == format!("{n}/x")), 1)),
                    _ => sqlx::query_scalar::<_, i64>(
                        "SELECT count(*) FROM generate_series(1, $1::int4) AS s WHERE s > $2",
                    )
                    .bind(i32::try_from(i).expect("small"))
                    .bind(0_i64)
                    .fetch_one(&clients)
                    .await
                    .map(|got| (got, i)),
                };
                match outcome {
                    Ok((got, expected)) if got == expected => {}
                    other => wrong.push(format!("client {client}, statement {i}: {other:?}")),
                }
            }
            wrong
        }
    }))
    .await;

    // Assert
    let wrong: Vec<String> = results.into_iter().flatten().collect();
    assert!(
        wrong.is_empty(),
        "{} of 960 statements failed or answered another's: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[sqlx::test(migrations = false)]
async fn a_read_only_database_answers_5xx_and_the_pool_recovers_once_it_is_writable(pool: PgPool) {
    // Arrange: an owner who records a cash entry, on a warmed-up app.
    let app = spawn_app(pool.clone()).await;
    let tg = owner(&pool, 8_101).await;
    let mut admin = admin_of(&pool).await;
    assert_eq!(
        app.reply_to(&tg.text("/add 1,00 cafea")).await["method"],
        "sendMessage"
    );
    let update = tg.text("/add 2,50 taxi");
    let update_id = update["update_id"].as_i64().expect("id");

    // Act 1: the failover begins: connections drop, and reconnections reach
    // a read-only standby.
    set_read_only(&mut admin, true).await;
    terminate_other_sessions(&mut admin).await;
    let while_read_only = join_all((0..3).map(|_| app.post_update(&update))).await;
    let again_while_read_only = app.post_update(&update).await.status().as_u16();

    // Act 2: the standby is promoted. Behind a pooler its server connections
    // are the pooler's to renew (a promoted server's sessions become writable
    // by themselves; ALTER DATABASE's read-only sessions do not, so they are
    // closed here); the app's own connections are the app's to renew.
    set_read_only(&mut admin, false).await;
    if pgbouncer().is_some() {
        terminate_other_sessions(&mut admin).await;
    }
    let recovery = deliver_until_ok(&app, &update, Duration::from_secs(5)).await;

    // Assert
    for response in &while_read_only {
        assert!(
            response.status().is_server_error(),
            "a read-only database is answered 5xx, so Telegram delivers again: {}",
            response.status()
        );
    }
    assert!(
        (500..600).contains(&again_while_read_only),
        "{again_while_read_only}"
    );
    assert_eq!(
        entries_of(&mut admin, update_id).await,
        1,
        "applied once, after recovery ({recovery:?})"
    );
    assert_eq!(
        app.post_update(&update).await.status(),
        200,
        "a redelivery changes nothing"
    );
    assert_eq!(entries_of(&mut admin, update_id).await, 1);
}

#[sqlx::test(migrations = false)]
async fn sessions_killed_mid_request_answer_5xx_and_the_pool_recovers(pool: PgPool) {
    // Arrange: another instance is claiming the same updates (uncommitted),
    // so the app's requests wait inside their transactions.
    let app = spawn_app(pool.clone()).await;
    let mut admin = admin_of(&pool).await;
    let updates: Vec<Value> = (0..3)
        .map(|i| owner_text(8_202 + i, &format!("/add {i},50 nota {i}")))
        .collect();
    for (i, _) in updates.iter().enumerate() {
        owner(&pool, 8_202 + i64::try_from(i).expect("small")).await;
    }
    let mut lock = admin.begin().await.expect("begin");
    for update in &updates {
        sqlx::query("INSERT INTO telegram_updates (update_id) VALUES ($1)")
            .bind(update["update_id"].as_i64().expect("id"))
            .execute(&mut *lock)
            .await
            .expect("claim");
    }
    let in_flight: Vec<_> = updates
        .iter()
        .map(|u| tokio::spawn(app.webhook_request().json(u).send()))
        .collect();
    // Watched from outside the transaction: pg_stat_activity is read once per transaction.
    wait_for_lock_waiters(&mut admin_of(&pool).await, 3).await;

    // Act: the server (or, behind PgBouncer, its server connections) goes
    // away under the requests; PgBouncer answers them "server conn crashed?".
    terminate_other_sessions(&mut lock).await;
    let statuses: Vec<u16> = join_all(in_flight)
        .await
        .into_iter()
        .map(|r| r.expect("join").expect("answered").status().as_u16())
        .collect();
    lock.rollback().await.expect("release");
    let mut recoveries = Vec::new();
    for update in &updates {
        recoveries.push(deliver_until_ok(&app, update, Duration::from_secs(5)).await);
    }

    // Assert
    assert!(
        statuses.iter().all(|s| (500..600).contains(s)),
        "interrupted requests are answered 5xx, never 200: {statuses:?}"
    );
    for update in &updates {
        let id = update["update_id"].as_i64().expect("id");
        assert_eq!(entries_of(&mut admin, id).await, 1, "{recoveries:?}");
    }
}

/// Waits (up to 5 s) until `n` other sessions of this database wait for a lock.
async fn wait_for_lock_waiters(conn: &mut PgConnection, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("count waiters");
        if waiting >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {waiting} of {n} requests ever waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
