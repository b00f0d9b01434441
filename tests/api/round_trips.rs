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

use sqlx::{Acquire, PgPool};

use crate::helpers::{TestApp, TgUser, app_database, reply_text};
use crate::people::{activate, company, linked_user};
use crate::pg_proxy::{PgProxy, ROUND_TRIPS};

/// A counting proxy in front of the test's database, through its PgBouncer
/// in that pass, and the pooler the app's pool must be set for.
async fn proxy_to_database(pool: &PgPool) -> (PgProxy, ledgerbot::infra::db::Pooler) {
    let (url, pooler) = app_database(pool);
    (PgProxy::start(&url).await, pooler)
}

/// The app with its webhook's pool (one connection) through `proxy`, and an
/// owner (Telegram 7100) with an active company.
async fn app_through(
    pool: &PgPool,
    proxy: &PgProxy,
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
async fn round_trips(app: &TestApp, proxy: &PgProxy, text: &str) -> usize {
    let owner = TgUser::ro(7100);
    app.reply_to(&owner.text(text)).await;
    let before = proxy.count(ROUND_TRIPS);
    let reply = app.reply_to(&owner.text(text)).await;
    assert!(!reply_text(&reply).is_empty(), "answered: {reply}");
    proxy.count(ROUND_TRIPS) - before
}

#[sqlx::test(migrations = false)]
async fn an_add_is_three_round_trips_and_a_dashboard_one(pool: PgPool) {
    // Arrange
    let (proxy, pooler) = proxy_to_database(&pool).await;
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
    let (proxy, pooler) = proxy_to_database(&pool).await;
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
        let before = proxy.count(ROUND_TRIPS);
        let mut tx = one.begin().await.expect("begin");
        insert(1).execute(&mut *tx).await.expect("insert 1");
        if warm {
            assert_eq!(
                proxy.count(ROUND_TRIPS) - before,
                1,
                "BEGIN travelled with the INSERT"
            );
        }
        tx.rollback().await.expect("rollback");
        assert_eq!(ids().await, Vec::<i32>::new(), "rolled back");
    }

    // The last statement carries the COMMIT: committed, one round trip, and
    // `commit` sends nothing more.
    let mut tx = one.begin().await.expect("begin");
    insert(2).execute(&mut *tx).await.expect("insert 2");
    let before = proxy.count(ROUND_TRIPS);
    tx.commit_with_next_statement();
    insert(3)
        .execute(&mut *tx)
        .await
        .expect("insert 3 and commit");
    tx.commit().await.expect("commit");
    assert_eq!(
        proxy.count(ROUND_TRIPS) - before,
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
    let before = proxy.count(ROUND_TRIPS);
    one.begin()
        .await
        .expect("begin")
        .commit()
        .await
        .expect("commit");
    assert_eq!(
        proxy.count(ROUND_TRIPS) - before,
        0,
        "an empty transaction is free"
    );
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
