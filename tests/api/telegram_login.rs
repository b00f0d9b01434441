//! Telegram as the login for API clients: `POST /api/v1/auth/telegram` with a
//! Mini App's `initData` or the Login Widget's data, signed as Telegram signs
//! them; tampered, stale, replayed and unlinked data, and `register`.

use ledgerbot::blocks::telegram_auth::{self, Kind};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{BOT_TOKEN, TestApp, TgUser, Tokens, count_rows, spawn_app};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `initData` for Telegram user `id` at `auth_date`, signed with `token` as
/// Telegram signs a Mini App's data.
pub fn init_data(id: i64, auth_date: i64, token: &str) -> String {
    let mut fields = vec![
        ("query_id".to_owned(), format!("AAH{id}{auth_date}")),
        (
            "user".to_owned(),
            json!({"id": id, "first_name": "Ana", "username": "ana_tg", "language_code": "ro"})
                .to_string(),
        ),
        ("auth_date".to_owned(), auth_date.to_string()),
    ];
    let hash = telegram_auth::sign(Kind::InitData, &fields, token);
    fields.push(("hash".to_owned(), hash));
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish()
}

/// The Login Widget's data for Telegram user `id`, as its JavaScript
/// callback hands it over (numbers for `id` and `auth_date`).
fn widget(id: i64, auth_date: i64, token: &str) -> Value {
    let fields = vec![
        ("id".to_owned(), id.to_string()),
        ("first_name".to_owned(), "Ana".to_owned()),
        ("auth_date".to_owned(), auth_date.to_string()),
    ];
    let hash = telegram_auth::sign(Kind::Widget, &fields, token);
    json!({"id": id, "first_name": "Ana", "auth_date": auth_date, "hash": hash})
}

/// Registers `email` and links Telegram user `telegram_id` to it with a code.
async fn linked_account(app: &TestApp, email: &str, telegram_id: i64) -> Tokens {
    let tokens = app.register(email).await;
    let code = app.link_code(&tokens.access).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    app.reply_to(&TgUser::en(telegram_id).text(&format!("/start {code}")))
        .await;
    assert_eq!(
        app.linked_email(telegram_id).await,
        Some(Some(email.into()))
    );
    tokens
}

async fn exchange(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app.post_json("/api/v1/auth/telegram", body, None).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// The names of the companies the holder of `access` sees.
async fn companies(app: &TestApp, access: &str) -> Value {
    let (status, body) = app
        .api(Method::GET, access, "/api/v1/companies", None)
        .await;
    assert_eq!(status, 200);
    body["items"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].clone())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn init_data_of_a_linked_account_trades_for_its_tokens_once(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let owner = linked_account(&app, "ana@example.com", 8101).await;
    let (status, _) = app
        .api(
            Method::POST,
            &owner.access,
            "/api/v1/companies",
            Some(&json!({"name": "Ana SRL"})),
        )
        .await;
    assert_eq!(status, 201);
    let body = json!({"init_data": init_data(8101, now() - 30, BOT_TOKEN)});

    // Act
    let (status, pair) = exchange(&app, &body).await;
    let (replayed, error) = exchange(&app, &body).await;
    let (widget_status, widget_pair) = exchange(
        &app,
        &json!({"login_widget": widget(8101, now(), BOT_TOKEN)}),
    )
    .await;

    // Assert: the linked account's own tokens, the shape of a login.
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert!(pair["expires_in"].as_u64().is_some());
    let tokens = Tokens::from_json(&pair);
    assert_eq!(companies(&app, &tokens.access).await, json!(["Ana SRL"]));
    assert_eq!(app.refresh(&tokens.refresh).await.status(), 200);
    assert_eq!(replayed, 401, "the same initData twice: {error}");
    assert!(error["message"].as_str().unwrap().contains("already used"));
    assert_eq!(widget_status, 200, "{widget_pair}");
    let widget_tokens = Tokens::from_json(&widget_pair);
    assert_eq!(
        companies(&app, &widget_tokens.access).await,
        json!(["Ana SRL"])
    );
}

#[sqlx::test(migrations = false)]
async fn tampered_stale_or_malformed_telegram_data_is_refused_and_changes_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    linked_account(&app, "ana@example.com", 8102).await;
    let users_before = count_rows(&app.pool, "users").await;
    let tampered = init_data(8102, now(), BOT_TOKEN).replace("8102", "8103");
    let mut forged_widget = widget(8102, now(), BOT_TOKEN);
    forged_widget["id"] = json!(8103);
    let cases = [
        (json!({"init_data": tampered}), 401, "another user id"),
        (
            json!({"init_data": init_data(8102, now(), "1:another-bot")}),
            401,
            "another bot's token",
        ),
        (
            json!({"init_data": init_data(8102, now() - 3601, BOT_TOKEN)}),
            401,
            "initData over an hour old",
        ),
        (
            json!({"init_data": init_data(8102, now() + 3600, BOT_TOKEN)}),
            401,
            "initData from the future",
        ),
        (
            json!({"login_widget": widget(8102, now() - 601, BOT_TOKEN)}),
            401,
            "widget data over ten minutes old",
        ),
        (json!({"login_widget": forged_widget}), 401, "forged widget"),
        (
            json!({"login_widget": {"id": [1], "hash": "00"}}),
            422,
            "a field that is neither text nor number",
        ),
        (
            json!({"init_data": init_data(8102, now(), BOT_TOKEN),
                   "login_widget": widget(8102, now(), BOT_TOKEN)}),
            422,
            "both kinds",
        ),
        (json!({"register": true}), 422, "neither kind"),
        (json!({"init_data": 5}), 422, "not a string"),
    ];

    // Act and assert
    for (body, status, why) in cases {
        let (got, answer) = exchange(&app, &body).await;
        assert_eq!(got, status, "{why}: {answer}");
        assert!(answer["message"].is_string(), "{why}: a clear error");
    }
    assert_eq!(count_rows(&app.pool, "telegram_auth_seen").await, 0);
    assert_eq!(count_rows(&app.pool, "users").await, users_before);
}

#[sqlx::test(migrations = false)]
async fn unlinked_telegram_accounts_get_404_or_with_register_a_telegram_only_account(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    // The second payload is signed a second earlier, so it differs from the
    // first however long the requests take.
    let signed_at = now();
    let data = init_data(8104, signed_at, BOT_TOKEN);

    // Act
    let (unlinked, error) = exchange(&app, &json!({"init_data": data})).await;
    let (created, pair) = exchange(&app, &json!({"init_data": data, "register": true})).await;
    let (again, second) = exchange(
        &app,
        &json!({"init_data": init_data(8104, signed_at - 1, BOT_TOKEN), "register": true}),
    )
    .await;

    // Assert: the 404 did not spend the payload; register made one account only.
    assert_eq!(unlinked, 404, "{error}");
    assert_eq!(error["error"], "not_linked");
    assert!(error["message"].as_str().unwrap().contains("register"));
    assert_eq!(created, 201, "{pair}");
    assert_eq!(app.linked_email(8104).await, Some(None), "Telegram-only");
    let tokens = Tokens::from_json(&pair);
    assert_eq!(companies(&app, &tokens.access).await, json!([]));
    assert_eq!(again, 200, "{second}");
    assert_eq!(count_rows(&app.pool, "users").await, 1, "never a second");
    let first_name: Option<String> = sqlx::query_scalar("SELECT first_name FROM users")
        .fetch_one(&app.pool)
        .await
        .expect("user");
    assert_eq!(first_name.as_deref(), Some("Ana"));
}
