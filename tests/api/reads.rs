//! Updates that only read: one statement that waits for the chat's write in
//! flight (and only for that), nothing written, no claim; a retry is
//! answered afresh. `read_update` in schema.sql; `front/bot/webhook.rs`.

use std::time::Duration;

use ledgerbot::infra::server::Limits;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{TestApp, TgUser, next_update_id, reply_text};
use crate::people::{Inv, activate, company, invoice, linked_user};

/// A linked person owning the active company "Exemplu SRL", with an invoice
/// and a treasury account, and an app whose requests give up after 3 s (a
/// read stuck behind a lock answers 503 instead of hanging the test).
async fn owner_with_figures(pool: &PgPool, tg: &TgUser) -> (TestApp, i64) {
    let limits = Limits {
        request_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let app = TestApp::builder(pool.clone()).limits(limits).spawn().await;
    let user_id = linked_user(pool, "ana@example.ro", tg.id).await;
    let company_id = company(pool, user_id, "Exemplu SRL").await;
    activate(pool, tg.id, company_id).await;
    invoice(pool, company_id, Inv::default()).await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'Casa', 'cash', 'RON', 100)",
    )
    .bind(company_id)
    .execute(pool)
    .await
    .expect("account");
    (app, company_id)
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
    // Stands in for the chat's `/add` mid-way (on this instance or another):
    // it holds the chat's lock, as `claim_update` takes it, and has written
    // its entry, not yet committed.
    let mut add = pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(tg.id)
        .execute(&mut *add)
        .await
        .expect("lock");
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
    // Stands in for a read of the chat in flight: the chat's lock, shared.
    let mut read = pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
        .bind(tg.id)
        .execute(&mut *read)
        .await
        .expect("lock");

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

#[sqlx::test(migrations = false)]
async fn a_retried_dashboard_is_answered_afresh(pool: PgPool) {
    let tg = TgUser::en(705);
    let (app, company_id) = owner_with_figures(&pool, &tg).await;
    let update = tg.text_with_id(next_update_id(), "/dashboard");

    let first = app.reply_to(&update).await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'Banca', 'bank', 'EUR', 4200)",
    )
    .bind(company_id)
    .execute(&pool)
    .await
    .expect("account");
    let retried = app.reply_to(&update).await;

    assert!(!reply_text(&first).contains("EUR 42.00"), "{first}");
    assert!(
        reply_text(&retried).contains("EUR 42.00"),
        "read again, not replayed: {retried}"
    );
    assert_eq!(app.claimed_updates().await, 0, "nothing claimed");
}
