//! Telegram as the front door of the web: the Login Widget on `/login`,
//! "Forgot password" through the linked Telegram chat, and the bot's
//! `/password` for a Telegram-only account.

use std::time::Duration;

use ledgerbot::blocks::telegram_auth::{self, Kind};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sqlx::PgPool;

use crate::helpers::{
    BOT_TOKEN, Http, PASSWORD, TestApp, TgUser, count_rows, database_text, eventually, reply_text,
    spawn_app,
};

/// A browser: keeps cookies, does not follow redirects.
struct Browser<'a> {
    app: &'a TestApp,
    http: Http,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn field(&self, name: &str) -> String {
        crate::helpers::hidden_field(&self.body, name)
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: Http::without_redirects(&app.base),
            cookies: std::sync::Mutex::default(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let jar = self
            .cookies
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header(COOKIE, jar)
            .header("accept-language", "en")
            .send()
            .await
            .expect("answers");
        for cookie in response.headers().get_all(SET_COOKIE) {
            let pair = cookie
                .to_str()
                .expect("ascii")
                .split(';')
                .next()
                .expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            let mut jar = self.cookies.lock().expect("jar");
            jar.retain(|(k, _)| k != name);
            jar.push((name.to_owned(), value.to_owned()));
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().expect("ascii").to_owned()),
            body: response.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.http.client.get(self.app.url(path))).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            self.http
                .client
                .post(self.app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }
}

/// Login Widget data for Telegram user `id`, now, as Telegram signs it.
fn widget_query(id: i64) -> Vec<(String, String)> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut fields = vec![
        ("id".to_owned(), id.to_string()),
        ("first_name".to_owned(), "Ana".to_owned()),
        ("auth_date".to_owned(), now.to_string()),
    ];
    fields.push((
        "hash".to_owned(),
        telegram_auth::sign(Kind::Widget, &fields, BOT_TOKEN),
    ));
    fields
}

fn with_state(fields: &[(String, String)], state: &str) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(fields);
    serializer.append_pair("state", state);
    format!("/login/telegram?{}", serializer.finish())
}

fn state_in(page: &Answer) -> String {
    let start = page
        .body
        .find("/login/telegram?state=")
        .expect("widget URL")
        + 22;
    let len = page.body[start..].find('"').expect("end");
    page.body[start..start + len].to_owned()
}

/// Registers `email` and links Telegram user `telegram_id` to it.
async fn linked(app: &TestApp, email: &str, telegram_id: i64) {
    let tokens = app.register(email).await;
    let code = app.link_code(&tokens.access).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    app.reply_to(&TgUser::en(telegram_id).text(&code)).await;
}

#[sqlx::test(migrations = false)]
async fn the_login_widget_on_the_login_page_logs_a_linked_person_in_once(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    linked(&app, "ana@example.com", 9301).await;
    let browser = Browser::new(&app);
    let login = browser.get("/login").await;
    let state = state_in(&login);
    let fields = widget_query(9301);

    // Act
    let planted = Browser::new(&app).get(&with_state(&fields, &state)).await;
    let logged_in = browser.get(&with_state(&fields, &state)).await;
    let page = browser.get("/telegram").await;
    let replayed = Browser::new(&app).get(&with_state(&fields, &state)).await;
    let unlinked_browser = Browser::new(&app);
    let other_state = state_in(&unlinked_browser.get("/login").await);
    let unlinked = unlinked_browser
        .get(&with_state(&widget_query(9302), &other_state))
        .await;

    // Assert
    assert!(login.body.contains("telegram-widget.js"), "{}", login.body);
    assert_eq!(
        planted.status, 403,
        "another browser's state: {}",
        planted.body
    );
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    assert_eq!(logged_in.location.as_deref(), Some("/telegram"));
    assert_eq!(page.status, 200, "logged in, no password");
    assert!(page.body.contains("ana@example.com"), "{}", page.body);
    assert_eq!(replayed.status, 403);
    assert_eq!(unlinked.status, 404, "{}", unlinked.body);
    assert!(unlinked.body.contains("not linked"), "{}", unlinked.body);
}

/// The `/password/<token>` link in a message text.
fn password_link(text: &str) -> String {
    let start = text.find("/password/").expect("a /password/ link");
    text[start..start + 10 + 43].to_owned()
}

#[sqlx::test(migrations = false)]
async fn forgot_password_sends_a_one_time_link_to_the_linked_telegram_and_reveals_nothing(
    pool: PgPool,
) {
    // Arrange
    let app = spawn_app(pool).await;
    linked(&app, "ana@example.com", 9303).await;
    app.register("bob@example.com").await;
    let browser = Browser::new(&app);
    let form = browser.get("/forgot-password").await;
    let csrf = form.field("csrf");

    // Act: three emails, one answer.
    let answers = [
        browser
            .post(
                "/forgot-password",
                &[("csrf", &csrf), ("email", "ana@example.com")],
            )
            .await,
        browser
            .post(
                "/forgot-password",
                &[("csrf", &csrf), ("email", "bob@example.com")],
            )
            .await,
        browser
            .post(
                "/forgot-password",
                &[("csrf", &csrf), ("email", "nobody@example.com")],
            )
            .await,
    ];

    // Assert: the same page for all; a message to Ana's chat only.
    for answer in &answers {
        assert_eq!(answer.status, 200);
        assert!(answer.body.contains("id=\"sent\""), "{}", answer.body);
    }
    let calls = app.telegram.wait_for_calls(1).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].params["chat_id"], 9303);
    let link = password_link(calls[0].params["text"].as_str().expect("text"));
    let token = &link[10..];
    // The sender empties the outbox row (the link's text) only after
    // Telegram has answered, so the call can arrive first: the row must be
    // done before the tables are searched for the token.
    eventually(
        "the link's outbox row done",
        Duration::from_secs(60),
        || async {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')",
            )
            .fetch_one(&app.pool)
            .await
            .expect("outbox");
            (open == 0).then_some(())
        },
    )
    .await;
    assert!(
        !database_text(&app.pool).await.contains(token),
        "stored hashed"
    );

    // The link sets a new password once, and logs in.
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("name=\"email\""), "Ana has an email");
    let csrf = page.field("csrf");
    let short = browser
        .post(&link, &[("csrf", &csrf), ("password", "short")])
        .await;
    assert_eq!(short.status, 422);
    let set = browser
        .post(
            &link,
            &[("csrf", &csrf), ("password", "a brand new password")],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let again = browser.get(&link).await;
    assert_eq!(again.status, 410, "single use");
    let old = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(old.status(), 401, "the old password is gone");
    let new = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.com", "password": "a brand new password"}),
            None,
        )
        .await;
    assert_eq!(new.status(), 200);
}

#[sqlx::test(migrations = false)]
async fn a_new_password_from_the_telegram_link_lifts_a_lock_left_by_guesses(pool: PgPool) {
    // Arrange: someone locked Ana's account with wrong passwords.
    let app = spawn_app(pool).await;
    linked(&app, "ana@example.com", 9306).await;
    let login = |password: &'static str| {
        let body = serde_json::json!({"email": "ana@example.com", "password": password});
        let app = &app;
        async move { app.post_json("/api/v1/auth/login", &body, None).await }
    };
    for _ in 0..5 {
        assert_eq!(login("a guess").await.status(), 401);
    }
    assert_eq!(login(PASSWORD).await.status(), 429, "locked");

    // Act: Ana asks the bot for a password link and chooses a new password.
    let reply = app.reply_to(&TgUser::en(9306).text("/password")).await;
    let link = password_link(reply_text(&reply));
    let browser = Browser::new(&app);
    let csrf = browser.get(&link).await.field("csrf");
    let set = browser
        .post(
            &link,
            &[("csrf", &csrf), ("password", "a brand new password")],
        )
        .await;

    // Assert
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(count_rows(&app.pool, "login_failures").await, 0);
    assert_eq!(login("a brand new password").await.status(), 200);
}

#[sqlx::test(migrations = false)]
async fn expired_password_links_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(9304);
    app.reply_to(&user.text("/register")).await;
    let reply = app.reply_to(&user.text("/password")).await;
    let link = password_link(reply_text(&reply));
    sqlx::query("UPDATE password_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");

    let page = Browser::new(&app).get(&link).await;

    assert_eq!(page.status, 410, "{}", page.body);
    assert_eq!(
        Browser::new(&app).get("/password/not-a-token").await.status,
        404
    );
}

#[sqlx::test(migrations = false)]
async fn password_in_the_bot_gives_a_telegram_only_account_an_email_and_a_password(pool: PgPool) {
    // Arrange: a Telegram-only account; Bob has bob@example.com.
    let app = spawn_app(pool).await;
    let user = TgUser::ro(9305);
    app.reply_to(&user.text("/register")).await;
    app.register("bob@example.com").await;

    // Act
    let reply = app.reply_to(&user.text("/parola")).await;
    let link = password_link(reply_text(&reply));
    let browser = Browser::new(&app);
    let page = browser.get(&link).await;
    let csrf = page.field("csrf");
    let taken = browser
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("email", "bob@example.com"),
                ("password", "parola lungă"),
            ],
        )
        .await;
    let set = browser
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("email", "Ana@Example.com"),
                ("password", "parola lungă"),
            ],
        )
        .await;

    // Assert
    assert!(reply_text(&reply).contains("email"), "{reply}");
    assert!(page.body.contains("name=\"email\""), "asks for an email");
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(
        app.linked_email(9305).await,
        Some(Some("ana@example.com".into()))
    );
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.com", "password": "parola lungă"}),
            None,
        )
        .await;
    assert_eq!(login.status(), 200, "the web works for the account now");
    let stored: i64 = count_rows(&app.pool, "password_tokens").await;
    assert_eq!(stored, 1);
}
