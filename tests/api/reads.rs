//! Updates that only read: one statement that waits for the chat's write in
//! flight (and only for that), nothing written, no claim; a retry is
//! answered afresh. `read_update` in schema.sql; `front/bot/webhook.rs`.

use std::time::Duration;

use ledgerbot::infra::db::Pooler;
use ledgerbot::infra::server::Limits;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use crate::helpers::{TestApp, TgUser, next_update_id, reply_text};
use crate::people::{Inv, activate, company, invoice, linked_user, member, token};
use crate::pg_proxy::{PgProxy, STATEMENTS};

/// `tg` linked as `ana@example.ro`, owner of the active company "Exemplu
/// SRL", which has one invoice (F-1); returns the company.
async fn owner_with_an_invoice(pool: &PgPool, tg: &TgUser) -> i64 {
    let user_id = linked_user(pool, "ana@example.ro", tg.id).await;
    let company_id = company(pool, user_id, "Exemplu SRL").await;
    activate(pool, tg.id, company_id).await;
    invoice(pool, company_id, Inv::default()).await;
    company_id
}

/// A treasury account of `company_id`: `name`, `kind`, a balance in minor units.
async fn account(
    pool: &PgPool,
    company_id: i64,
    name: &str,
    kind: &str,
    currency: &str,
    minor: i64,
) {
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(company_id)
    .bind(name)
    .bind(kind)
    .bind(currency)
    .bind(minor)
    .execute(pool)
    .await
    .expect("account");
}

/// Binds the group chat `chat_id` to `company_id`, as an owner's /group does.
async fn bind_group(pool: &PgPool, chat_id: i64, company_id: i64) {
    sqlx::query("INSERT INTO group_chats (chat_id, company_id) VALUES ($1, $2)")
        .bind(chat_id)
        .bind(company_id)
        .execute(pool)
        .await
        .expect("bind the group");
}

/// [`owner_with_an_invoice`] with a treasury account too, and an app whose
/// requests give up after 3 s (a read stuck behind a lock answers 503
/// instead of hanging the test).
async fn owner_with_figures(pool: &PgPool, tg: &TgUser) -> (TestApp, i64) {
    let limits = Limits {
        request_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let app = TestApp::builder(pool.clone()).limits(limits).spawn().await;
    let company_id = owner_with_an_invoice(pool, tg).await;
    account(pool, company_id, "Casa", "cash", "RON", 100).await;
    (app, company_id)
}

/// Stands in for an update of the chat in flight on any instance: a
/// transaction holding the chat's lock as the webhook takes it, exclusive
/// for a write (`claim_update`), shared for a read (`read_update`).
async fn chat_lock_held(
    pool: &PgPool,
    chat_id: i64,
    shared: bool,
) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    let lock = if shared {
        "SELECT pg_advisory_xact_lock_shared($1)"
    } else {
        "SELECT pg_advisory_xact_lock($1)"
    };
    sqlx::query(lock)
        .bind(chat_id)
        .execute(&mut *tx)
        .await
        .expect("lock");
    tx
}

/// Sends `update` without waiting for the answer.
fn send(app: &TestApp, update: &Value) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = app.webhook_request().json(update);
    tokio::spawn(async move { request.send().await.expect("send") })
}

#[sqlx::test(migrations = false)]
async fn reads_write_nothing_not_even_a_claim(pool: PgPool) {
    let tg = TgUser::en(700);
    let (app, _) = owner_with_figures(&pool, &tg).await;
    // Every table locked against writes (SHARE mode lets reads through): an
    // INSERT, UPDATE or DELETE anywhere would wait here until the request
    // timed out with 503.
    let mut no_writes = pool.begin().await.expect("begin");
    sqlx::query(
        "DO $$ BEGIN
             EXECUTE (SELECT 'LOCK TABLE ' || string_agg(format('%I', tablename), ', ') || ' IN SHARE MODE'
                      FROM pg_tables WHERE schemaname = 'public');
         END $$",
    )
    .execute(&mut *no_writes)
    .await
        .expect("lock");

    for (update, expected) in [
        (tg.text("/dashboard"), "Exemplu SRL"),
        (tg.text("/treasury"), "Casa"),
        (tg.text("/invoices"), "F-1"),
        (tg.text("/cash"), ""),
        (tg.text("/companies"), "Exemplu SRL"),
        (tg.text("/help"), "/dashboard"),
        (tg.text("/nosuchcommand"), "/help"),
        (tg.callback(1, "no longer ours"), ""),
        (TgUser::en(701).text("/dashboard"), "/register"),
        (tg.group_text(-100, "just chatting"), ""),
    ] {
        let response = app.post_update(&update).await;
        assert_eq!(response.status(), 200, "{update}");
        let body = response.text().await.expect("body");
        assert!(body.contains(expected), "{update}: {body}");
    }
    no_writes.rollback().await.expect("rollback");
    assert_eq!(app.claimed_updates().await, 0, "no read claimed its id");
}

#[sqlx::test(migrations = false)]
async fn a_dashboard_waits_for_the_chats_add_in_flight_and_shows_its_entry(pool: PgPool) {
    let tg = TgUser::en(702);
    let (app, company_id) = owner_with_figures(&pool, &tg).await;
    // The chat's `/add` mid-way: it has written its entry, not yet committed.
    let mut add = chat_lock_held(&pool, tg.id, false).await;
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, 25000, 'RON', 'sale', (now() AT TIME ZONE 'Europe/Bucharest')::date)",
    )
    .bind(company_id)
    .execute(&mut *add)
    .await
    .expect("entry");

    let dashboard = send(&app, &tg.text("/dashboard"));
    app.wait_for_lock_waiters(1).await;
    assert!(!dashboard.is_finished(), "the read waits for the write");
    add.commit().await.expect("commit");
    let response = dashboard.await.expect("join");

    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.expect("json");
    assert!(
        reply_text(&reply).contains("income: RON 250.00"),
        "read after the write committed: {reply}"
    );
}

#[sqlx::test(migrations = false)]
async fn add_then_dashboard_always_shows_the_entry(pool: PgPool) {
    let tg = TgUser::en(703);
    let (app, _) = owner_with_figures(&pool, &tg).await;

    for n in 1..=5 {
        let added = app.reply_to(&tg.text(&format!("/add +{n} sale {n}"))).await;
        assert!(!reply_text(&added).is_empty(), "{added}");
        let reply = app.reply_to(&tg.text("/dashboard")).await;
        let income = format!("income: RON {}.00", n * (n + 1) / 2);
        assert!(reply_text(&reply).contains(&income), "{income}: {reply}");
    }
    assert_eq!(app.claimed_updates().await, 5, "each /add claimed, once");
}

#[sqlx::test(migrations = false)]
async fn reads_of_one_chat_do_not_wait_for_each_other_but_its_write_waits_for_them(pool: PgPool) {
    let tg = TgUser::en(704);
    let (app, _) = owner_with_figures(&pool, &tg).await;
    let read = chat_lock_held(&pool, tg.id, true).await;

    // Answered while the other read holds the lock (3 s limit, else 503).
    let dashboard = app.reply_to(&tg.text("/dashboard")).await;
    let invoices = app.reply_to(&tg.text("/invoices")).await;
    assert!(
        reply_text(&dashboard).contains("Exemplu SRL"),
        "{dashboard}"
    );
    assert!(reply_text(&invoices).contains("F-1"), "{invoices}");

    let add = send(&app, &tg.text("/add 10 taxi"));
    app.wait_for_lock_waiters(1).await;
    assert!(!add.is_finished(), "a write waits for the chat's reads");
    read.commit().await.expect("release");
    assert_eq!(add.await.expect("join").status(), 200);
    assert_eq!(app.claimed_updates().await, 1, "only the write claimed");
}

/// A sender who had blocked the bot writes `/dashboard`: the figures, and
/// the block lifted, both from the one statement of the private chat's
/// `/dashboard` (`read_update`'s hot path).
#[sqlx::test(migrations = false)]
async fn a_blocked_senders_dashboard_lifts_the_block(pool: PgPool) {
    let tg = TgUser::en(708);
    let (app, _) = owner_with_figures(&pool, &tg).await;
    let blocked =
        "SELECT blocked_at IS NOT NULL FROM telegram_accounts WHERE telegram_user_id = $1";
    sqlx::query("UPDATE telegram_accounts SET blocked_at = now() WHERE telegram_user_id = $1")
        .bind(tg.id)
        .execute(&pool)
        .await
        .expect("block");

    let dashboard = app.reply_to(&tg.text("/dashboard")).await;

    assert!(
        reply_text(&dashboard).contains("Exemplu SRL"),
        "{dashboard}"
    );
    let still: bool = sqlx::query_scalar(blocked)
        .bind(tg.id)
        .fetch_one(&pool)
        .await
        .expect("blocked_at");
    assert!(!still, "writing to the bot lifts the block");
    assert_eq!(app.claimed_updates().await, 0, "a read claims nothing");
}

#[sqlx::test(migrations = false)]
async fn a_retried_dashboard_is_answered_afresh(pool: PgPool) {
    let tg = TgUser::en(705);
    let (app, company_id) = owner_with_figures(&pool, &tg).await;
    let update = tg.text_with_id(next_update_id(), "/dashboard");

    let first = app.reply_to(&update).await;
    account(&pool, company_id, "Banca", "bank", "EUR", 4200).await;
    let retried = app.reply_to(&update).await;

    assert!(!reply_text(&first).contains("EUR 42.00"), "{first}");
    assert!(
        reply_text(&retried).contains("EUR 42.00"),
        "read again, not replayed: {retried}"
    );
    assert_eq!(app.claimed_updates().await, 0, "nothing claimed");
}

/// The figures' day and month, in each of the three places that read them:
/// the private chat's `/dashboard` (`read_update`'s one statement), a bound
/// group's (its steps one by one) and the API's (`dashboard::compute`). An
/// invoice due today is not yet overdue, one due yesterday is; the month's
/// cash starts on its first day, and last month's last day is not in it.
#[sqlx::test(migrations = false)]
async fn the_figures_are_of_today_and_of_todays_month_wherever_read(pool: PgPool) {
    // Arrange
    const GROUP: i64 = -1_007_000;
    let app = TestApp::builder(pool.clone()).spawn().await;
    let tg = TgUser::en(709);
    let user_id = linked_user(&pool, "ana@example.ro", tg.id).await;
    let company_id = company(&pool, user_id, "Exemplu SRL").await;
    activate(&pool, tg.id, company_id).await;
    // (number, due in days, total in bani)
    for (number, due_in_days, total) in [("Y", -1, 3000), ("T", 0, 20000)] {
        let due = Inv {
            number,
            due_in_days,
            total,
            ..Inv::default()
        };
        invoice(&pool, company_id, due).await;
    }
    sqlx::query(
        "WITH d AS (SELECT (now() AT TIME ZONE 'Europe/Bucharest')::date AS today)
         INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         SELECT $1, amount, 'RON', note, day FROM d, LATERAL (VALUES
             (7000, 'the first', date_trunc('month', today)::date),
             (-1250, 'today', today),
             (500, 'last month', date_trunc('month', today)::date - 1)) AS e (amount, note, day)",
    )
    .bind(company_id)
    .execute(&pool)
    .await
    .expect("cash entries");
    bind_group(&pool, GROUP, company_id).await;

    // Act
    let private = app.reply_to(&tg.text("/dashboard")).await;
    let group = app.reply_to(&tg.group_text(GROUP, "/dashboard")).await;
    let (status, api) = app
        .api(
            reqwest::Method::GET,
            &token(user_id),
            &format!("/api/v1/companies/{company_id}/dashboard"),
            None,
        )
        .await;

    // Assert
    for (reply, chat) in [(&private, "private"), (&group, "group")] {
        let text = reply_text(reply);
        assert!(text.contains("2 invoices in RON"), "{chat}: {text}");
        assert!(
            text.contains("overdue (1 invoice): RON 30.00"),
            "{chat}: due today is not overdue yet: {text}"
        );
        assert!(
            text.contains("income: RON 70.00\nexpenses: RON 12.50"),
            "{chat}: this month's cash only: {text}"
        );
    }
    assert_eq!(status, 200, "{api}");
    assert_eq!(api["receivables"][0]["overdue"], "30.00", "{api}");
    assert_eq!(api["receivables"][0]["overdue_count"], 1, "{api}");
    assert_eq!(
        api["cash_this_month"],
        serde_json::json!([{"currency": "RON", "income": "70.00", "expenses": "12.50", "count": 2}])
    );
}

#[sqlx::test(migrations = false)]
async fn a_dashboard_is_one_statement_in_a_bound_group_as_in_the_private_chat(pool: PgPool) {
    // Arrange: the owner's company bound to a group, where a member who is
    // not linked, a stranger and the owner ask too; the webhook reaches the
    // database through the counting proxy.
    const GROUP: i64 = -1_006_000;
    const UNBOUND: i64 = -1_006_001;
    let options = pool.connect_options();
    let counter = PgProxy::start(&format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("test database name")
    ))
    .await;
    let webhook_pool =
        ledgerbot::infra::db::pool(&counter.url, 2, Pooler::None).expect("pool through the proxy");
    let app = TestApp::builder(pool.clone())
        .app(move |app| app.webhook_pool = webhook_pool)
        .spawn()
        .await;
    let tg = TgUser::en(706);
    let company_id = owner_with_an_invoice(&pool, &tg).await;
    bind_group(&pool, GROUP, company_id).await;
    let viewer = TgUser::en(707);
    let viewer_id = linked_user(&pool, "vio@example.ro", viewer.id).await;
    member(&pool, company_id, viewer_id, "viewer").await;
    let stranger = TgUser::en(708);
    linked_user(&pool, "str@example.ro", stranger.id).await;

    for (update, expected, why) in [
        (
            tg.text("/dashboard"),
            "1 invoice in RON",
            "the private chat",
        ),
        (
            tg.group_text(GROUP, "/dashboard"),
            "1 invoice in RON",
            "the owner, in the group",
        ),
        (
            viewer.group_text(GROUP, "/dashboard"),
            "1 invoice in RON",
            "a member whose active company is none",
        ),
        (
            stranger.group_text(GROUP, "/dashboard"),
            "not a member",
            "a stranger",
        ),
        (
            tg.group_text(UNBOUND, "/dashboard"),
            "/group",
            "an unbound group",
        ),
        (
            tg.group_text(GROUP, "/invoices"),
            "F-1",
            "another read in the group",
        ),
    ] {
        // The first time on a connection also prepares the statement.
        app.reply_to(&update).await;
        let before = counter.count(STATEMENTS);

        // Act
        let reply = app.reply_to(&update).await;

        // Assert
        let statements = counter.count(STATEMENTS) - before;
        assert!(reply_text(&reply).contains(expected), "{why}: {reply}");
        if why != "another read in the group" {
            assert_eq!(statements, 1, "{why}: one statement, {statements} sent");
        } else {
            // The group's binding came with the account: the list is the only other.
            assert_eq!(statements, 2, "{why}: {statements} statements");
        }
    }
    assert_eq!(app.claimed_updates().await, 0, "nothing claimed");
}
