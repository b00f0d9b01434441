//! Telegram updates come first: API traffic, however heavy, never takes a
//! connection the webhook needs (`App::webhook_pool` beside `App::pool`).
//!
//! Shown by condition, not by timing: the API's connections are all held
//! (each parked in the database behind a lock the test holds, more clients
//! queued behind them), and while that lasts the webhook still answers.

use std::time::Duration;

use reqwest::Method;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, TgUser, reply_text};
use crate::people::{company, token, user};

/// The API's connections in these tests.
const API_CONNECTIONS: u32 = 2;

/// Sessions of this database waiting for a lock now.
async fn lock_waiters(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(pool)
    .await
    .expect("count waiters")
}

/// `n` clients asking for company `id`'s invoices at once; each ends with its status.
fn list_invoices(app: &TestApp, t: &str, id: i64, n: usize) -> Vec<JoinHandle<u16>> {
    (0..n)
        .map(|_| {
            let (http, t) = ((**app).clone(), t.to_owned());
            let path = format!("/api/v1/companies/{id}/invoices");
            tokio::spawn(async move { http.api(Method::GET, &t, &path, None).await.0 })
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn the_webhook_answers_while_api_clients_hold_every_api_connection(pool: PgPool) {
    // Arrange: an account with a company; the API has two connections.
    let app = TestApp::builder(pool.clone())
        .config(|c| c.database.api_pool_size = API_CONNECTIONS)
        .spawn()
        .await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let t = token(owner);
    // Every invoice list now waits in the database, holding its connection.
    let mut lock = pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");

    // Act: eight heavy clients, four times the API's connections; once two
    // of them hold both connections (the rest queued for one), Telegram
    // delivers updates from six chats.
    let clients = list_invoices(&app, &t, id, 8);
    app.wait_for_lock_waiters(i64::from(API_CONNECTIONS)).await;
    let mut replies = Vec::new();
    for chat in 0..6 {
        replies.push(app.post_update(&TgUser::en(900 + chat).text("/help")).await);
    }
    let parked = lock_waiters(&pool).await;
    lock.rollback().await.expect("release");
    let mut api_statuses = Vec::new();
    for client in clients {
        api_statuses.push(client.await.expect("client ran"));
    }

    // Assert
    for reply in replies {
        assert_eq!(
            reply.status(),
            200,
            "an update is never refused for API load"
        );
        let body: serde_json::Value = reply.json().await.expect("a reply");
        assert!(!reply_text(&body).is_empty(), "{body}");
    }
    assert_eq!(
        parked,
        i64::from(API_CONNECTIONS),
        "the API held exactly its own connections while the webhook answered"
    );
    // The parked two finish; the queued ones are served or told to retry.
    assert!(
        api_statuses.iter().filter(|s| **s == 200).count() >= 2,
        "{api_statuses:?}"
    );
    assert!(
        api_statuses.iter().all(|s| [200, 503].contains(s)),
        "{api_statuses:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn readiness_asks_on_the_webhooks_connections(pool: PgPool) {
    // Arrange: the API's only connection is held, five more clients queued.
    let app = TestApp::builder(pool.clone())
        .config(|c| c.database.api_pool_size = 1)
        .spawn()
        .await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let mut lock = pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let t = token(owner);
    let clients = list_invoices(&app, &t, id, 6);
    app.wait_for_lock_waiters(1).await;

    // Act
    let ready = tokio::time::timeout(Duration::from_secs(10), app.get("/readyz"))
        .await
        .expect("answers");
    lock.rollback().await.expect("release");

    // Assert
    assert_eq!(ready.status(), 200, "ready: updates can be served");
    for client in clients {
        assert!([200, 503].contains(&client.await.expect("client ran")));
    }
}
