//! Rate limits per client IP, counted in PostgreSQL: 429 with `Retry-After`,
//! proxy headers only when trusted, one count for every instance.

use ledgerbot::infra::config::Config;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, count_rows};

fn lowered(max: u32) -> impl FnOnce(&mut Config) {
    move |config| {
        let limits = &mut config.rate_limits;
        limits.register.max = max;
        limits.login.max = max;
        limits.refresh.max = max;
    }
}

async fn login(app: &TestApp, header: Option<(&str, &str)>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ana@example.com", "password": "wrong password"}));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.expect("answers").status().as_u16()
}

#[sqlx::test(migrations = false)]
async fn each_auth_route_answers_429_with_retry_after_past_its_own_limit(pool: PgPool) {
    let app = TestApp::builder(pool).config(lowered(2)).spawn().await;
    let cases = [
        ("/api/v1/auth/register", "register"),
        ("/api/v1/auth/login", "login"),
        ("/api/v1/auth/refresh", "refresh"),
    ];
    for (path, why) in cases {
        // Arrange: the limit's worth of attempts, each answered on its merits.
        let body = |i: u32| match why {
            "register" => json!({"email": format!("p{i}@example.com"), "password": "long enough"}),
            "login" => json!({"email": "nobody@example.com", "password": "long enough"}),
            _ => json!({"refresh_token": "made-up"}),
        };
        for i in 0..2 {
            let status = app.post_json(path, &body(i), None).await.status();
            assert_ne!(status, 429, "{why}: attempt {i} is within the limit");
        }

        // Act
        let over = app.post_json(path, &body(2), None).await;

        // Assert
        assert_eq!(over.status(), 429, "{why}");
        let retry_after: u64 = over.headers()["retry-after"]
            .to_str()
            .expect("ASCII")
            .parse()
            .expect("whole seconds");
        assert!((1..=60).contains(&retry_after), "{why}: {retry_after}");
        let error: Value = over.json().await.expect("JSON error");
        assert_eq!(error["error"], "too_many_requests", "{why}");
    }
    let users = count_rows(&app.pool, "users").await;
    assert_eq!(users, 2, "the refused registration created nothing");
}

#[sqlx::test(migrations = false)]
async fn behind_a_trusted_proxy_each_client_ip_has_its_own_count(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| {
            lowered(1)(config);
            config.trust_proxy_headers = true;
        })
        .spawn()
        .await;

    let first = login(&app, Some(("Fly-Client-IP", "203.0.113.1"))).await;
    let same = login(&app, Some(("Fly-Client-IP", "203.0.113.1"))).await;
    let other = login(&app, Some(("Fly-Client-IP", "203.0.113.2"))).await;
    // The proxy appends the address it saw: the hop on the right; the one
    // on the left is whatever the client wrote.
    let forwarded = login(&app, Some(("X-Forwarded-For", "203.0.113.1, 203.0.113.3"))).await;
    let forwarded_again = login(&app, Some(("X-Forwarded-For", "203.0.113.3"))).await;

    assert_eq!(
        [first, same, other, forwarded, forwarded_again],
        [401, 429, 401, 401, 429]
    );
}

#[sqlx::test(migrations = false)]
async fn untrusted_proxy_headers_do_not_dodge_the_limit(pool: PgPool) {
    let app = TestApp::builder(pool).config(lowered(1)).spawn().await;

    let first = login(&app, Some(("Fly-Client-IP", "203.0.113.1"))).await;
    let spoofed_fly = login(&app, Some(("Fly-Client-IP", "203.0.113.2"))).await;
    let spoofed_xff = login(&app, Some(("X-Forwarded-For", "203.0.113.3"))).await;

    assert_eq!([first, spoofed_fly, spoofed_xff], [401, 429, 429]);
    let key: String = sqlx::query_scalar!("SELECT key FROM rate_limits WHERE action = 'login'")
        .fetch_one(&app.pool)
        .await
        .expect("one counter");
    assert_eq!(key, "127.0.0.1", "counted by the TCP peer");
}

#[sqlx::test(migrations = false)]
async fn instances_sharing_a_database_share_the_counts(pool: PgPool) {
    // Arrange: two instances on one database.
    let one = TestApp::builder(pool.clone())
        .config(lowered(2))
        .spawn()
        .await;
    let two = TestApp::builder(pool).config(lowered(2)).spawn().await;

    // Act
    let statuses = [
        login(&one, None).await,
        login(&two, None).await,
        login(&one, None).await,
    ];

    // Assert
    assert_eq!(statuses, [401, 401, 429]);
}
