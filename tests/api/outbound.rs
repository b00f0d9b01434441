//! Messages after the webhook's answer: retries, bounds, blocked chats.

use std::time::{Duration, Instant};

use ledgerbot::front::bot::BotMethod;
use ledgerbot::infra::config::Secret;
use ledgerbot::infra::telegram::BotApi;
use serde_json::json;
use sqlx::PgPool;

use crate::fake_telegram::Scripted;
use crate::helpers::{BOT_TOKEN, TgUser, spawn_app};

fn server_error() -> Scripted {
    Scripted::Reply(
        502,
        json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
    )
}

async fn linked_chat(pool: &PgPool, telegram_id: i64) {
    let user_id: i64 =
        sqlx::query_scalar("INSERT INTO users (first_name) VALUES ('Ana') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("user");
    sqlx::query(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id) VALUES ($1, $2, $1)",
    )
    .bind(telegram_id)
    .bind(user_id)
    .execute(pool)
    .await
    .expect("link");
}

async fn blocked_at_is_set(pool: &PgPool, telegram_id: i64) -> bool {
    sqlx::query_scalar(
        "SELECT blocked_at IS NOT NULL FROM telegram_accounts WHERE telegram_user_id = $1",
    )
    .bind(telegram_id)
    .fetch_one(pool)
    .await
    .expect("row")
}

#[sqlx::test(migrations = false)]
async fn server_errors_are_retried_with_backoff_until_delivered(pool: PgPool) {
    let app = spawn_app(pool).await;
    let api = BotApi::new(&app.telegram.url, &Secret::new(BOT_TOKEN)).expect("client");
    app.telegram.script(server_error());
    app.telegram.script(server_error());

    ledgerbot::infra::outbound::send(&app.pool, &api, vec![BotMethod::html(42, "hi")]).await;

    assert_eq!(
        app.telegram.calls().len(),
        3,
        "two failures, then delivered"
    );
}

#[sqlx::test(migrations = false)]
async fn retries_are_bounded_for_errors_and_hanging_calls(pool: PgPool) {
    let app = spawn_app(pool).await;
    let api = BotApi::with_timeout(
        &app.telegram.url,
        &Secret::new(BOT_TOKEN),
        Duration::from_millis(200),
    )
    .expect("client");
    for _ in 0..5 {
        app.telegram.script(server_error());
    }
    let started = Instant::now();

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("gives up");
    let after_errors = app.telegram.calls().len();
    for _ in 0..5 {
        app.telegram.script(Scripted::Hang);
    }
    let hang = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("gives up");

    assert!(
        matches!(
            err,
            ledgerbot::infra::telegram::BotApiError::Api { code: 502, .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        after_errors,
        ledgerbot::infra::telegram::MAX_ATTEMPTS as usize
    );
    assert!(
        matches!(hang, ledgerbot::infra::telegram::BotApiError::Network(_)),
        "{hang:?}"
    );
    assert_eq!(
        app.telegram.calls().len(),
        2 * ledgerbot::infra::telegram::MAX_ATTEMPTS as usize
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "bounded: {:?}",
        started.elapsed()
    );
}

#[sqlx::test(migrations = false)]
async fn a_chat_that_blocked_the_bot_is_not_written_to_until_it_writes_again(pool: PgPool) {
    let app = spawn_app(pool).await;
    linked_chat(&app.pool, 777).await;
    let api = BotApi::new(&app.telegram.url, &Secret::new(BOT_TOKEN)).expect("client");
    app.telegram.script(Scripted::Reply(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    ));

    ledgerbot::infra::outbound::send(
        &app.pool,
        &api,
        vec![BotMethod::html(777, "a"), BotMethod::html(777, "b")],
    )
    .await;
    let blocked = blocked_at_is_set(&app.pool, 777).await;
    ledgerbot::infra::outbound::send(&app.pool, &api, vec![BotMethod::html(777, "c")]).await;
    let calls_while_blocked = app.telegram.calls().len();
    app.reply_to(&TgUser::en(777).text("/help")).await;
    let unblocked = !blocked_at_is_set(&app.pool, 777).await;
    ledgerbot::infra::outbound::send(&app.pool, &api, vec![BotMethod::html(777, "d")]).await;

    assert!(blocked, "403 marks the chat");
    assert_eq!(
        calls_while_blocked, 1,
        "no retry after 403, nothing sent while blocked"
    );
    assert!(unblocked, "writing to the bot lifts the block");
    assert_eq!(app.telegram.calls().len(), 2);
}
