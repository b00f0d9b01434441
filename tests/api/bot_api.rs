//! The outbound Bot API client against the fake server.

use std::time::{Duration, Instant};

use ledgerbot::front::bot::BotMethod;
use ledgerbot::infra::config::Secret;
use ledgerbot::infra::telegram::{BotApi, BotApiError};
use serde_json::json;

use crate::fake_telegram::{FakeTelegram, Scripted};
use crate::helpers::BOT_TOKEN;

async fn client(timeout: Duration) -> (FakeTelegram, BotApi) {
    let fake = FakeTelegram::start().await;
    let api = BotApi::with_timeout(&fake.url, &Secret::new(BOT_TOKEN), timeout).expect("client");
    (fake, api)
}

#[tokio::test]
async fn calls_carry_the_token_in_the_path_and_the_parameters_as_json() {
    let (fake, api) = client(Duration::from_secs(5)).await;

    api.call(&BotMethod::html(42, "<b>hi</b>"))
        .await
        .expect("ok:true succeeds");

    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].token, BOT_TOKEN);
    assert_eq!(calls[0].method, "sendMessage");
    assert_eq!(calls[0].params["chat_id"], 42);
    assert_eq!(calls[0].params["text"], "<b>hi</b>");
    assert_eq!(calls[0].params["parse_mode"], "HTML");
    assert!(
        calls[0].params.get("method").is_none(),
        "the webhook-reply tag is not a parameter"
    );
}

#[tokio::test]
async fn refusals_become_typed_errors() {
    let (fake, api) = client(Duration::from_secs(5)).await;
    fake.script(Scripted::Reply(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    ));

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("refused");

    match err {
        BotApiError::Api { code, description } => {
            assert_eq!(code, 403);
            assert!(description.contains("blocked"));
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

#[tokio::test]
async fn flood_control_waits_retry_after_then_retries_once() {
    let (fake, api) = client(Duration::from_secs(5)).await;
    fake.script(Scripted::Reply(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
               "parameters": {"retry_after": 1}}),
    ));
    let started = Instant::now();

    api.call(&BotMethod::html(42, "x"))
        .await
        .expect("second attempt succeeds");

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited retry_after"
    );
    assert_eq!(fake.calls().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_fails_at_once() {
    let (fake, api) = client(Duration::from_secs(5)).await;
    fake.script(Scripted::Reply(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests",
               "parameters": {"retry_after": 3600}}),
    ));

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("too long to wait");

    assert!(
        matches!(err, BotApiError::RetryAfter(d) if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert_eq!(fake.calls().len(), 1);
}

#[tokio::test]
async fn a_hanging_api_times_out_without_leaking_the_token() {
    let (fake, api) = client(Duration::from_millis(300)).await;
    for _ in 0..ledgerbot::infra::telegram::MAX_ATTEMPTS {
        fake.script(Scripted::Hang);
    }
    let started = Instant::now();

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("timed out");

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the timeout"
    );
    assert!(matches!(err, BotApiError::Network(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(BOT_TOKEN) && !shown.contains("TEST-token"),
        "token leaked: {shown}"
    );
}

#[tokio::test]
async fn garbage_answers_are_reported_as_such() {
    let (fake, api) = client(Duration::from_secs(5)).await;
    fake.script(Scripted::Reply(200, json!("<html>bad gateway</html>")));

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("unreadable");

    assert!(matches!(err, BotApiError::InvalidResponse(_)), "{err:?}");
}

#[tokio::test]
async fn set_webhook_registers_url_secret_and_update_kinds() {
    let (fake, api) = client(Duration::from_secs(5)).await;

    api.set_webhook(
        "https://bot.example.com/telegram/webhook",
        &Secret::new("s3cret"),
        40,
    )
    .await
    .expect("registered");

    let call = &fake.calls()[0];
    assert_eq!(call.method, "setWebhook");
    assert_eq!(
        call.params["url"],
        "https://bot.example.com/telegram/webhook"
    );
    assert_eq!(call.params["secret_token"], "s3cret");
    assert_eq!(call.params["max_connections"], 40);
    assert_eq!(
        call.params["allowed_updates"],
        json!(["message", "callback_query"])
    );
}
