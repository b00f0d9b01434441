//! The HTTP stack: health, readiness, errors, request ids, limits, shutdown.

use std::time::Duration;

use ledgerbot::infra::server::Limits;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Http, TestApp, TgUser, next_update_id, poll_until, spawn_app};

#[sqlx::test(migrations = false)]
async fn health_and_readiness_answer_ok(pool: PgPool) {
    let app = spawn_app(pool).await;

    let health = app.get("/healthz").await;
    let ready = app.get("/readyz").await;

    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.expect("json")["status"], "ok");
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.expect("json")["status"],
        "ready"
    );
}

#[sqlx::test(migrations = false)]
async fn without_a_database_readiness_and_the_webhook_say_503(pool: PgPool) {
    // A pool pointing at a port where nothing listens: the database is "down".
    let dead = ledgerbot::infra::db::pool(
        "postgres://postgres@127.0.0.1:1/nothing",
        2,
        ledgerbot::infra::db::Pooler::None,
    )
    .expect("lazy pool");
    let app = TestApp::builder(pool)
        .app(|app| {
            app.pool = dead.clone();
            app.webhook_pool = dead;
        })
        .spawn()
        .await;
    let http = &*app;

    let health = http.get("/healthz").await;
    let ready = http.get("/readyz").await;
    let webhook = http.post_update(&TgUser::en(1).text("/start")).await;

    assert_eq!(health.status(), 200, "alive even without the database");
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.expect("json")["error"],
        "unavailable"
    );
    assert_eq!(
        webhook.status(),
        503,
        "Telegram must retry an update we could not apply"
    );
    assert!(app.telegram.calls().is_empty());
}

#[sqlx::test(migrations = false)]
async fn unknown_paths_and_methods_get_json_errors(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cases = [
        (reqwest::Method::GET, "/nope", 404, "not_found"),
        (
            reqwest::Method::GET,
            "/telegram/webhook",
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::DELETE,
            "/healthz",
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let response = app.send(method.clone(), path).await;
        assert_eq!(response.status(), status, "{method} {path}");
        let body: Value = response.json().await.expect("JSON error");
        assert_eq!(body["error"], code, "{method} {path}");
        assert!(body["message"].is_string(), "{method} {path}");
    }
}

#[sqlx::test(migrations = false)]
async fn every_response_carries_a_request_id(pool: PgPool) {
    let app = spawn_app(pool).await;

    let generated = app.get("/healthz").await;
    let propagated = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("answers");

    let id = generated
        .headers()
        .get("x-request-id")
        .expect("generated id");
    assert_eq!(id.len(), 36, "a UUID");
    assert_eq!(
        propagated.headers().get("x-request-id").expect("id"),
        "abc-123"
    );
}

/// Holds the claim of `update_id` in an open transaction, so a webhook call
/// for it waits until the returned transaction ends.
async fn block_update(pool: &PgPool, update_id: i64) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("INSERT INTO telegram_updates (update_id) VALUES ($1)")
        .bind(update_id)
        .execute(&mut *tx)
        .await
        .expect("claim");
    tx
}

/// Delivers `update` from a background task, to watch it wait.
fn post_update_in_background(
    app: &crate::helpers::TestApp,
    update: serde_json::Value,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let request = app.webhook_request().json(&update);
    tokio::spawn(request.send())
}

#[sqlx::test(migrations = false)]
async fn shutdown_lets_requests_in_flight_finish(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let update_id = next_update_id();
    let blocker = block_update(&app.pool, update_id).await;
    let update = TgUser::en(2).text_with_id(update_id, "/start");
    let in_flight = post_update_in_background(&app, update);
    app.wait_for_lock_waiters(1).await;

    let server = app.begin_shutdown();
    // A new client: new connections, which the listener no longer accepts.
    let refused = poll_until(Duration::from_secs(5), || async {
        Http::new(&app.base)
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .err()
    })
    .await;
    blocker.rollback().await.expect("release");
    let response = in_flight
        .await
        .expect("task")
        .expect("the request in flight is answered");
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;

    assert!(refused.is_some(), "no new connections after shutdown began");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.expect("json")["method"],
        "sendMessage"
    );
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "server returned after draining: {stopped:?}"
    );
    assert_eq!(
        app.claimed_updates().await,
        1,
        "the drained update was applied"
    );
}

#[sqlx::test(migrations = false)]
async fn requests_beyond_the_concurrency_limit_wait_for_a_slot(pool: PgPool) {
    let limits = Limits {
        max_concurrent_requests: 1,
        ..Limits::default()
    };
    let app = TestApp::builder(pool).limits(limits).spawn().await;
    let update_id = next_update_id();
    let blocker = block_update(&app.pool, update_id).await;
    let occupying =
        post_update_in_background(&app, TgUser::en(3).text_with_id(update_id, "/start"));
    app.wait_for_lock_waiters(1).await;

    let waiting = tokio::spawn(app.client.get(app.url("/healthz")).send());
    // The sleep is what is tested: time in which `/healthz` (a millisecond's
    // work) would have been answered, had it not waited for the only slot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let finished_while_full = waiting.is_finished();
    blocker.rollback().await.expect("release");
    let health = waiting
        .await
        .expect("task")
        .expect("answers once a slot frees");

    assert!(
        !finished_while_full,
        "the second request had to wait for the only slot"
    );
    assert_eq!(health.status(), 200);
    assert_eq!(
        occupying.await.expect("task").expect("answers").status(),
        200
    );
}

#[sqlx::test(migrations = false)]
async fn a_method_a_path_does_not_take_is_405_naming_the_ones_it_does(pool: PgPool) {
    let app = spawn_app(pool).await;
    use reqwest::Method as M;
    const JSON: &str = "application/json";
    const HTML: &str = "text/html; charset=utf-8";
    let cases = [
        (M::DELETE, "/healthz", "GET", JSON),
        (M::GET, "/telegram/webhook", "POST", JSON),
        (M::PATCH, "/api/v1/companies", "GET, POST", JSON),
        (M::PUT, "/login", "GET, POST", HTML),
        (M::DELETE, "/link/K7TQ3MXA", "GET, POST", HTML),
    ];
    for (method, path, allow, content_type) in cases {
        let response = app.send(method.clone(), path).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{method} {path}"
        );
    }
}
