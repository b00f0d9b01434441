//! Dev mode's browser chat: served only in dev mode; its fake Bot API records
//! outbound calls for the page.

use ledgerbot::infra::telegram::BotApi;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, WEBHOOK_SECRET, spawn_app};

/// An app in dev mode: the chat page and the fake Bot API it records.
async fn dev_app(pool: PgPool) -> TestApp {
    TestApp::builder(pool)
        .config(|config| config.dev_mode = true)
        .spawn()
        .await
}

/// The bot's own Bot API client, pointed at dev mode's fake one.
fn dev_bot_api(app: &TestApp) -> BotApi {
    let token = ledgerbot::infra::config::Secret::new("1:dev-token");
    BotApi::new(&app.url("/dev"), &token).expect("client")
}

#[sqlx::test(migrations = false)]
async fn the_dev_routes_do_not_exist_outside_dev_mode(pool: PgPool) {
    let app = spawn_app(pool).await;
    let message = json!({"chat_id": 1, "text": "x"});
    let routes = [
        ("GET", "/dev/chat", "the page"),
        ("GET", "/dev/outbox", "the recorded calls"),
        ("GET", "/dev/sent/1", "a photo sent"),
        (
            "GET",
            "/dev/file/bot1:x/documents/dev-file-1",
            "a file's download",
        ),
        ("POST", "/dev/bot1:x/sendMessage", "the fake Bot API"),
        ("POST", "/dev/upload", "a file's upload"),
    ];
    for (method, path, what) in routes {
        let response = match method {
            "GET" => app.get(path).await,
            _ => app.post_json(path, &message, None).await,
        };
        assert_eq!(response.status(), 404, "{what}: {method} {path}");
    }
}

#[sqlx::test(migrations = false)]
async fn in_dev_mode_the_page_is_served_and_outbound_calls_are_recorded(pool: PgPool) {
    let app = dev_app(pool).await;

    let page = app.get("/dev/chat").await;
    let sent: Value = app
        .post_json(
            "/dev/bot1:x/sendMessage",
            &json!({"chat_id": 5, "text": "<b>hi</b>"}),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    app.post_json(
        "/dev/bot1:x/answerCallbackQuery",
        &json!({"callback_query_id": "q", "text": "done"}),
        None,
    )
    .await;
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
    let app = dev_app(pool).await;

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

#[sqlx::test(migrations = false)]
async fn a_file_sent_from_the_page_is_what_the_bots_get_file_and_download_fetch(pool: PgPool) {
    // Arrange
    let app = dev_app(pool).await;
    let bot = dev_bot_api(&app);
    let zip = std::fs::read(format!(
        "{}/tests/fixtures/efactura/spv-4123456781.zip",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");

    // Act
    let kept: Value = app
        .client
        .post(app.url("/dev/upload"))
        .body(zip.clone())
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let file_id = kept["file_id"].as_str().expect("a file id").to_owned();
    let downloaded = bot.download(&file_id, 10 * 1024 * 1024).await;
    let too_small = bot.download(&file_id, 100).await;
    let unknown = bot.download("dev-file-999", 10 * 1024 * 1024).await;
    let calls = app.get_json("/dev/outbox").await;

    // Assert
    assert_eq!(kept["file_size"], zip.len());
    assert_eq!(downloaded.expect("downloaded").as_ref(), zip.as_slice());
    assert!(
        matches!(
            too_small,
            Err(ledgerbot::infra::telegram::DownloadError::TooLarge)
        ),
        "{too_small:?}"
    );
    let refused = unknown.expect_err("an unknown file id");
    assert!(refused.to_string().contains("invalid file_id"), "{refused}");
    let methods: Vec<&str> = calls
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["method"].as_str().expect("method"))
        .collect();
    assert_eq!(methods, ["getFile", "getFile", "getFile"]);
}

#[sqlx::test(migrations = false)]
async fn a_photo_the_bot_sends_is_kept_for_the_page_with_its_caption(pool: PgPool) {
    // Arrange: a PNG as the charts make them.
    let app = dev_app(pool).await;
    let bot = dev_bot_api(&app);
    let png = ledgerbot::blocks::png::encode_rgb(2, 1, &[255, 0, 0, 0, 0, 255]);
    let photo =
        ledgerbot::infra::telegram::BotMethod::SendPhoto(ledgerbot::infra::telegram::PhotoUpload {
            chat_id: 5,
            png: png.clone(),
            file_name: "cash.png".into(),
            caption: "<b>Cash</b>\nnet: <b>RON 150.00</b>".into(),
        });

    // Act
    bot.call_once(&photo).await.expect("the fake takes it");
    let calls = app.get_json("/dev/outbox").await;
    let sent = &calls[0]["params"];
    let url = sent["photo"]["url"].as_str().expect("the photo's URL");
    let image = app.get(url).await;
    let missing = app.get("/dev/sent/999").await;

    // Assert
    assert_eq!(calls[0]["method"], "sendPhoto");
    assert_eq!(sent["chat_id"], "5");
    assert_eq!(sent["caption"], "<b>Cash</b>\nnet: <b>RON 150.00</b>");
    assert_eq!(sent["parse_mode"], "HTML");
    assert_eq!(sent["photo"]["file_name"], "cash.png");
    assert!(sent["message_id"].is_number(), "{sent}");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.expect("bytes").as_ref(), png.as_slice());
    assert_eq!(missing.status(), 404);
}
