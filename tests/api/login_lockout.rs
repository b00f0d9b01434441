//! Wrong passwords counted per account (issue 14), whatever the client
//! address: past a few, the email (registered or not) is locked for a time
//! that doubles; a right password forgets them; a new password lifts the lock.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, count_rows};

/// Behind a trusted proxy (so each attempt may come from its own address),
/// with `free` failures before a lock of a minute.
async fn app_locking_after(pool: PgPool, free: u32) -> TestApp {
    TestApp::builder(pool)
        .config(move |config| {
            config.trust_proxy_headers = true;
            config.rate_limits.login_failures.free = free;
            config.rate_limits.login_failures.first = Duration::from_secs(60);
            config.rate_limits.login_failures.max = Duration::from_secs(600);
        })
        .spawn()
        .await
}

/// One API login from client address `ip`: the status, `Retry-After`, the body.
async fn login_from(
    app: &TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("Fly-Client-IP", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ASCII").parse().expect("whole seconds"));
    (
        response.status().as_u16(),
        retry_after,
        response.json().await.expect("JSON"),
    )
}

#[sqlx::test(migrations = false)]
async fn guesses_spread_over_many_addresses_lock_the_account_and_unknown_emails_alike(
    pool: PgPool,
) {
    // Arrange: three wrong passwords allowed; Ana is registered, nobody@ is not.
    let app = app_locking_after(pool, 3).await;
    app.register("ana@example.com").await;
    let mut answers = Vec::new();
    for (n, email) in ["ana@example.com", "nobody@example.com"]
        .into_iter()
        .enumerate()
    {
        // Act: three guesses, each from another address, then the right
        // password from a fourth, the email typed in another case and spaced.
        let mut seen = Vec::new();
        for i in 0..3 {
            let (status, _, body) =
                login_from(&app, &format!("198.51.{n}.{i}"), email, "a wrong guess").await;
            seen.push((status, body["error"].clone()));
        }
        let variant = format!("  {}  ", email.to_uppercase());
        let (status, retry_after, body) =
            login_from(&app, &format!("203.0.{n}.9"), &variant, PASSWORD).await;
        seen.push((status, body["error"].clone()));

        // Assert
        assert_eq!(
            seen[..3],
            [
                (401, json!("unauthorized")),
                (401, json!("unauthorized")),
                (401, json!("unauthorized"))
            ],
            "{email}: three guesses answered on their merits"
        );
        assert_eq!(status, 429, "{email}: locked, whatever the address: {body}");
        assert_eq!(body["error"], "too_many_failures", "{email}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("too many wrong passwords"),
            "{body}"
        );
        let retry_after = retry_after.expect("Retry-After");
        assert!((1..=60).contains(&retry_after), "{email}: {retry_after}");
        answers.push(seen);
    }
    assert_eq!(
        answers[0], answers[1],
        "a registered and an unknown email answer alike"
    );
    assert_eq!(
        count_rows(&app.pool, "login_failures").await,
        2,
        "one row per email"
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT key_hash FROM login_failures")
        .fetch_all(&app.pool)
        .await
        .expect("keys");
    assert!(
        stored.iter().all(|k| k.len() == 32),
        "emails stored only as SHA-256"
    );
}

#[sqlx::test(migrations = false)]
async fn a_right_password_forgets_the_failures_and_each_lock_doubles(pool: PgPool) {
    // Arrange
    let app = app_locking_after(pool, 3).await;
    app.register("ana@example.com").await;
    let login =
        |password: &'static str| login_from(&app, "198.51.100.1", "ana@example.com", password);

    // Act and assert: two guesses, then Ana's right password forgets them.
    assert_eq!(login("wrong one").await.0, 401);
    assert_eq!(login("wrong two").await.0, 401);
    assert_eq!(login(PASSWORD).await.0, 200);
    assert_eq!(
        count_rows(&app.pool, "login_failures").await,
        0,
        "forgotten"
    );

    // Counting starts again: without the reset, the next guess would lock.
    assert_eq!(login("wrong three").await.0, 401);
    assert_eq!(login("wrong four").await.0, 401);
    assert_eq!(
        login("wrong five").await.0,
        401,
        "the third in a row is still answered"
    );
    let (status, first_lock, _) = login(PASSWORD).await;
    assert_eq!(status, 429, "then locked, even for the right password");
    assert!((1..=60).contains(&first_lock.expect("Retry-After")));

    // Once the lock is over, the next wrong guess locks for twice as long.
    sqlx::query("UPDATE login_failures SET locked_until = now()")
        .execute(&app.pool)
        .await
        .expect("the lock runs out");
    assert_eq!(login("wrong six").await.0, 401);
    let (status, second_lock, _) = login(PASSWORD).await;
    assert_eq!(status, 429);
    let second_lock = second_lock.expect("Retry-After");
    assert!((61..=120).contains(&second_lock), "doubled: {second_lock}");
}
