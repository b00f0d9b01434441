//! `GET /metrics`: Prometheus text, optionally behind a token.

use ledgerbot::front::bot::BotMethod;
use ledgerbot::infra::config::Secret;
use sqlx::PgPool;

use crate::helpers::{TestApp, TgUser, spawn_app};

#[sqlx::test(migrations = false)]
async fn metrics_count_requests_updates_and_bot_api_calls(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.get("/healthz").await;
    app.reply_to(&TgUser::en(1).text("/start")).await;
    app.reply_to(&TgUser::en(1).callback(5, "nonsense")).await;
    let api = ledgerbot::infra::telegram::BotApi::new(
        &app.telegram.url,
        &Secret::new(crate::helpers::BOT_TOKEN),
    )
    .expect("client");
    api.call(&BotMethod::html(1, "x")).await.expect("sent");

    let response = app.get("/metrics").await;

    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("body");
    for expected in [
        r#"ledgerbot_http_requests_total{route="/healthz",status="200"}"#,
        r#"ledgerbot_http_request_duration_seconds_bucket{route="/telegram/webhook",le="0.005"}"#,
        r#"ledgerbot_updates_total{kind="message",command="start"}"#,
        r#"ledgerbot_updates_total{kind="callback_query",command="callback"}"#,
        r#"ledgerbot_bot_api_calls_total{method="sendMessage",outcome="ok"}"#,
        r#"ledgerbot_db_pool_connections{pool="webhook",state="in_use"}"#,
        r#"ledgerbot_db_pool_connections{pool="api",state="idle"}"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
}

#[sqlx::test(migrations = false)]
async fn metrics_can_require_a_bearer_token(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| {
            config.metrics_token = Some(Secret::new("scrape-me"));
        })
        .spawn()
        .await;
    let cases = [
        (None, 401, "no token"),
        (Some("Bearer nope"), 401, "wrong token"),
        (Some("scrape-me"), 401, "no scheme"),
        (Some("Bearer scrape-me"), 200, "right token"),
    ];
    for (header, status, why) in cases {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), status, "{why}");
    }
}
