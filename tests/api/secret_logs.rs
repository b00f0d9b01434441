//! No secret reaches the logs: the real binary at `RUST_LOG=debug`, driven
//! through everything that handles one (the Bot API client with its token in
//! every URL, failing and retrying; the webhook secret, right and wrong;
//! passwords; link codes issued, scanned, typed, used and wrong; refresh and
//! access tokens), then its whole stderr searched for each of them.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::cli::{Served, serve};
use crate::fake_telegram::Scripted;
use crate::helpers::{BOT_TOKEN, PASSWORD, TgUser, Tokens, WEBHOOK_SECRET};
use crate::people::{activate, company, linked_user};

const JWT_SECRET: &str = "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj";

#[sqlx::test(migrations = false)]
async fn debug_logs_carry_no_token_secret_password_code_or_refresh_token(pool: PgPool) {
    // Arrange: the binary at debug level, against the test's database and a fake Bot API.
    let Served {
        mut child,
        fake,
        http: served,
        log: reader,
    } = serve(&pool, |cmd| {
        cmd.env("JWT_SECRET", JWT_SECRET).env("RUST_LOG", "debug");
    })
    .await;
    let mut secrets: Vec<(String, &str)> = vec![
        (BOT_TOKEN.to_owned(), "bot token"),
        (
            BOT_TOKEN.split_once(':').expect("id:secret").1.to_owned(),
            "bot token's secret part",
        ),
        (WEBHOOK_SECRET.to_owned(), "webhook secret"),
        (JWT_SECRET.to_owned(), "JWT secret"),
        (PASSWORD.to_owned(), "password"),
        ("wrong password 123".to_owned(), "wrong password"),
        ("a wrong webhook secret".to_owned(), "wrong webhook secret"),
    ];

    // Act
    // Accounts: register, log in (right and wrong), refresh, reuse, logout.
    let registered = served
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "logs@example.ro", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(registered.status(), 201);
    let first = Tokens::from_json(&registered.json().await.expect("JSON"));
    let wrong = served
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "logs@example.ro", "password": "wrong password 123"}),
            None,
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let login = served
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "logs@example.ro", "password": PASSWORD}),
            None,
        )
        .await;
    let second = Tokens::from_json(&login.json().await.expect("JSON"));
    let refreshed = served
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second.refresh}),
            None,
        )
        .await;
    let third = Tokens::from_json(&refreshed.json().await.expect("JSON"));
    let reused = served
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second.refresh}),
            None,
        )
        .await;
    assert_eq!(reused.status(), 401, "reuse refused");
    for tokens in [&first, &second, &third] {
        secrets.push((tokens.refresh.clone(), "refresh token"));
        secrets.push((tokens.access.clone(), "access token"));
    }

    // Link codes: issued, its QR fetched, typed to the bot; a wrong one typed.
    let issued = served
        .post_json(
            "/api/v1/telegram/link-code",
            &json!({}),
            Some(&first.access),
        )
        .await;
    assert_eq!(issued.status(), 201);
    let code = issued.json::<Value>().await.expect("JSON")["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let qr = served
        .client
        .get(format!("{}/qr/{code}.svg", served.base))
        .send()
        .await
        .expect("qr");
    assert_eq!(qr.status(), 200);
    let start = served
        .reply_to(&TgUser::en(8_801).text(&format!("/start {code}")))
        .await;
    assert!(start["text"].as_str().is_some(), "{start}");
    served.reply_to(&TgUser::en(8_802).text("K7TQ3MXA")).await;
    secrets.push((code.clone(), "link code"));
    secrets.push(("K7TQ3MXA".to_owned(), "wrong link code"));

    // /link, confirmed through the API: the bot then writes to the chat
    // through the Bot API client, which fails once (500) and retries.
    let link = served.reply_to(&TgUser::en(8_803).text("/link")).await;
    let confirm_code = link["text"]
        .as_str()
        .and_then(|t| t.split("/link/").nth(1))
        .map(|rest| rest[..8].to_owned())
        .expect("a /link/ URL");
    secrets.push((confirm_code.clone(), "confirm code"));
    let other = served
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "logs2@example.ro", "password": PASSWORD}),
            None,
        )
        .await;
    let other = Tokens::from_json(&other.json().await.expect("JSON"));
    secrets.push((other.refresh.clone(), "refresh token"));
    fake.script(Scripted::Reply(
        500,
        json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
    ));
    let confirmed = served
        .post_json(
            "/api/v1/telegram/confirm",
            &json!({"code": confirm_code}),
            Some(&other.access),
        )
        .await;
    assert_eq!(confirmed.status(), 200);

    // A button press: answerCallbackQuery through the client.
    let tg = TgUser::en(8_804);
    let user_id = linked_user(&pool, "presser@example.ro", tg.id).await;
    let company_id = company(&pool, user_id, "Exemplu SRL").await;
    activate(&pool, tg.id, company_id).await;
    served
        .reply_to(&tg.callback(5, &format!("co:{company_id}")))
        .await;

    // The webhook with a wrong secret.
    let refused = served
        .client
        .post(served.url("/telegram/webhook"))
        .header("X-Telegram-Bot-Api-Secret-Token", "a wrong webhook secret")
        .json(&TgUser::en(8_805).text("/help"))
        .send()
        .await
        .expect("webhook answers");
    assert_eq!(refused.status(), 401);
    served
        .post_json("/api/v1/auth/logout", &json!({}), Some(&third.access))
        .await;

    // Wait for the background sends (the failed one is retried after 250 ms).
    let sent = fake.wait_for_calls(3).await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    let lines = reader.join().expect("reader");

    // Assert
    assert!(
        sent.iter().all(|c| c.token == BOT_TOKEN),
        "the client did call the Bot API with the token"
    );
    assert!(
        lines.len() > 50,
        "debug logging is on: {} lines",
        lines.len()
    );
    let log = lines.join("\n");
    assert!(log.contains("retrying"), "the failing call was logged");
    for (secret, what) in &secrets {
        let leaked: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(leaked.is_empty(), "the {what} is in the logs: {leaked:?}");
    }
}
