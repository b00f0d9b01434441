//! Round trips to PostgreSQL per update, counted where they happen: a proxy
//! between the webhook's pool and the database reads what the app sends and
//! counts the messages it must wait for an answer to (each Sync and each
//! simple Query brings one `ReadyForQuery`). Counted on a warmed connection
//! (its statements prepared), as under load. Also the transaction shapes the
//! webhook relies on, on the vendored sqlx-postgres's pipelined `BEGIN` and
//! `COMMIT` (vendor/README.md, patch 6).
//!
//! Runs in both passes of deploy/test.sh: directly, and through a PgBouncer
//! in transaction mode (`LEDGERBOT_PGBOUNCER`), the proxy in front of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Acquire, PgPool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, TgUser, app_database, reply_text};
use crate::people::{activate, company, linked_user};

/// A loopback proxy to the test's database (or its PgBouncer) that counts
/// the round trips its clients start.
struct Proxy {
    /// The URL to connect to instead of the database's.
    url: String,
    /// Sync and Query messages sent so far.
    waits: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(pool: &PgPool) -> (Self, ledgerbot::infra::db::Pooler) {
        let (url, pooler) = app_database(pool);
        let rest = url.trim_start_matches("postgres://");
        let (user, rest) = rest.split_once('@').expect("user@");
        let (upstream, database) = rest.split_once('/').expect("host/db");
        let upstream = upstream.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let waits = Arc::new(AtomicUsize::new(0));
        let counted = waits.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.expect("upstream");
                tokio::spawn(relay(client, server, counted.clone()));
            }
        });
        let url = format!("postgres://{user}@{addr}/{database}?sslmode=disable");
        (Self { url, waits }, pooler)
    }

    fn waits(&self) -> usize {
        self.waits.load(Ordering::SeqCst)
    }
}

/// Relays one connection both ways, counting the client's Sync (`S`) and
/// Query (`Q`) messages: after the untyped startup message, every frontend
/// message is a type byte and a big-endian length that counts itself.
async fn relay(client: TcpStream, server: TcpStream, waits: Arc<AtomicUsize>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut started = false;
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        loop {
            let header = if started { 5 } else { 4 };
            if pending.len() < header {
                break;
            }
            let at = header - 4;
            let len = u32::from_be_bytes(pending[at..at + 4].try_into().expect("4 bytes"));
            let whole = at + usize::try_from(len).expect("fits");
            if pending.len() < whole {
                break;
            }
            if started && matches!(pending[0], b'S' | b'Q') {
                waits.fetch_add(1, Ordering::SeqCst);
            }
            started = true;
            pending.drain(..whole);
        }
        if server_write.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The app with its webhook's pool (one connection) through `proxy`, and an
/// owner (Telegram 7100) with an active company.
async fn app_through(
    pool: &PgPool,
    proxy: &Proxy,
    pooler: ledgerbot::infra::db::Pooler,
) -> TestApp {
    let webhook_pool = ledgerbot::infra::db::pool(&proxy.url, 1, pooler).expect("pool");
    let app = TestApp::builder(pool.clone())
        .app(move |app| app.webhook_pool = webhook_pool)
        .spawn()
        .await;
    let user_id = linked_user(pool, "rt@example.ro", 7100).await;
    let company_id = company(pool, user_id, "Drumuri SRL").await;
    activate(pool, 7100, company_id).await;
    app
}

/// The round trips `update` costs, on a connection that has run it before.
async fn round_trips(app: &TestApp, proxy: &Proxy, text: &str) -> usize {
    let owner = TgUser::ro(7100);
    app.reply_to(&owner.text(text)).await;
    let before = proxy.waits();
    let reply = app.reply_to(&owner.text(text)).await;
    assert!(!reply_text(&reply).is_empty(), "answered: {reply}");
    proxy.waits() - before
}

#[sqlx::test(migrations = false)]
async fn an_add_is_three_round_trips_and_a_dashboard_one(pool: PgPool) {
    // Arrange
    let (proxy, pooler) = Proxy::start(&pool).await;
    let app = app_through(&pool, &proxy, pooler).await;

    // Act
    let add = round_trips(&app, &proxy, "/add 12,50 cafea").await;
    let dashboard = round_trips(&app, &proxy, "/dashboard").await;

    // Assert: BEGIN with the claim, the entry's INSERT, the answer stored
    // with the COMMIT (five before: BEGIN and COMMIT each on their own).
    assert_eq!(add, 3, "round trips of an /add");
    assert_eq!(dashboard, 1, "round trips of a /dashboard");
    let entries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cash_entries e JOIN telegram_updates u
             ON u.update_id = e.telegram_update_id AND u.response IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(entries, 2, "both entries committed, each with its answer");
}

#[sqlx::test(migrations = false)]
async fn a_transaction_begins_with_its_first_statement_and_may_commit_with_its_last(pool: PgPool) {
    // Arrange: one connection (through the PgBouncer in that pass), so that
    // each step finds the connection as the step before left it.
    let (proxy, pooler) = Proxy::start(&pool).await;
    let one = ledgerbot::infra::db::pool(&proxy.url, 1, pooler).expect("pool");
    sqlx::query("CREATE TABLE rt (id int PRIMARY KEY)")
        .execute(&pool)
        .await
        .expect("table");
    let insert = |id: i32| sqlx::query("INSERT INTO rt VALUES ($1)").bind(id);
    let ids = || async {
        sqlx::query_scalar::<_, i32>("SELECT id FROM rt ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("ids")
    };

    // Act and assert: the first statement runs inside the transaction (a
    // rollback takes it back), and BEGIN costs no round trip of its own once
    // the statement is prepared (the first time, BEGIN goes before the
    // preparing).
    for warm in [false, true] {
        let before = proxy.waits();
        let mut tx = one.begin().await.expect("begin");
        insert(1).execute(&mut *tx).await.expect("insert 1");
        if warm {
            assert_eq!(proxy.waits() - before, 1, "BEGIN travelled with the INSERT");
        }
        tx.rollback().await.expect("rollback");
        assert_eq!(ids().await, Vec::<i32>::new(), "rolled back");
    }

    // The last statement carries the COMMIT: committed, one round trip, and
    // `commit` sends nothing more.
    let mut tx = one.begin().await.expect("begin");
    insert(2).execute(&mut *tx).await.expect("insert 2");
    let before = proxy.waits();
    tx.commit_with_next_statement();
    insert(3)
        .execute(&mut *tx)
        .await
        .expect("insert 3 and commit");
    tx.commit().await.expect("commit");
    assert_eq!(
        proxy.waits() - before,
        1,
        "COMMIT travelled with the INSERT"
    );
    assert_eq!(ids().await, vec![2, 3], "committed");

    // A failing last statement commits nothing, and leaves the connection
    // usable once the transaction is dropped (rolled back).
    let mut tx = one.begin().await.expect("begin");
    insert(4).execute(&mut *tx).await.expect("insert 4");
    tx.commit_with_next_statement();
    let duplicate = insert(2).execute(&mut *tx).await;
    assert!(duplicate.is_err(), "a duplicate key fails: {duplicate:?}");
    drop(tx);
    assert_eq!(ids().await, vec![2, 3], "nothing of the failed transaction");
    insert(5)
        .execute(&one)
        .await
        .expect("the connection works again");
    assert_eq!(
        ids().await,
        vec![2, 3, 5],
        "and is not left in a transaction"
    );

    // A transaction that runs nothing sends nothing; a savepoint follows the
    // BEGIN it needs.
    let before = proxy.waits();
    one.begin()
        .await
        .expect("begin")
        .commit()
        .await
        .expect("commit");
    assert_eq!(proxy.waits() - before, 0, "an empty transaction is free");
    let mut conn = one.acquire().await.expect("acquire");
    let mut tx = conn.begin().await.expect("begin");
    let mut inner = tx.begin().await.expect("savepoint");
    insert(6).execute(&mut *inner).await.expect("insert 6");
    inner.commit().await.expect("release savepoint");
    tx.rollback().await.expect("rollback");
    drop(conn);
    assert_eq!(
        ids().await,
        vec![2, 3, 5],
        "the savepoint's row rolled back"
    );
}
