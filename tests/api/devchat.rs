//! Dev mode's browser chat: served only in dev mode; its fake Bot API records
//! outbound calls for the page.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, WEBHOOK_SECRET, spawn_app};

#[sqlx::test(migrations = false)]
async fn the_dev_chat_does_not_exist_outside_dev_mode(pool: PgPool) {
    let app = spawn_app(pool).await;
    for path in ["/dev/chat", "/dev/outbox"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let fake_api = app
        .client
        .post(app.url("/dev/bot1:x/sendMessage"))
        .json(&json!({"chat_id": 1, "text": "x"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(fake_api.status(), 404);
}

#[sqlx::test(migrations = false)]
async fn in_dev_mode_the_page_is_served_and_outbound_calls_are_recorded(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| config.dev_mode = true)
        .spawn()
        .await;

    let page = app.get("/dev/chat").await;
    let sent: Value = app
        .client
        .post(app.url("/dev/bot1:x/sendMessage"))
        .json(&json!({"chat_id": 5, "text": "<b>hi</b>"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    app.client
        .post(app.url("/dev/bot1:x/answerCallbackQuery"))
        .json(&json!({"callback_query_id": "q", "text": "done"}))
        .send()
        .await
        .expect("answers");
    let all = app.get_json("/dev/outbox").await;
    let after_first = app.get_json("/dev/outbox?after=1").await;

    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("body");
    assert!(
        html.contains(WEBHOOK_SECRET),
        "the page posts to the webhook with the secret"
    );
    assert!(html.contains("/telegram/webhook"));
    assert_eq!(sent["ok"], true);
    assert_eq!(sent["result"]["chat"]["id"], 5);
    assert_eq!(all.as_array().expect("array").len(), 2);
    assert_eq!(all[0]["method"], "sendMessage");
    assert_eq!(all[0]["params"]["message_id"], sent["result"]["message_id"]);
    assert_eq!(after_first.as_array().expect("array").len(), 1);
    assert_eq!(after_first[0]["method"], "answerCallbackQuery");
}

#[sqlx::test(migrations = false)]
async fn dev_mode_seeds_a_demo_company_for_the_dev_chat_user(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| config.dev_mode = true)
        .spawn()
        .await;

    ledgerbot::front::devchat::seed(&app.pool)
        .await
        .expect("seeds");
    ledgerbot::front::devchat::seed(&app.pool)
        .await
        .expect("seeding again changes nothing");
    let mut dev = crate::helpers::TgUser::en(ledgerbot::front::devchat::DEV_TELEGRAM_USER_ID);
    dev.first_name = "Dev".into();
    let dashboard = app.reply_to(&dev.text("/dashboard")).await;

    let text = crate::helpers::reply_text(&dashboard);
    assert!(
        text.contains(ledgerbot::services::demo::COMPANY_NAME),
        "{text}"
    );
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(companies, 1, "idempotent");
    let has_password: bool =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE email = $1")
            .bind(ledgerbot::front::devchat::DEV_EMAIL)
            .fetch_one(&app.pool)
            .await
            .expect("user");
    assert!(has_password, "the demo account can log in on the web");
}
