//! Hostile traffic (issue 14): what one client, or many, can make the server
//! spend. Password hashing is bounded whatever the number of clients (503
//! with `Retry-After` past the bound; peak memory of the real binary measured).

use std::time::Duration;

use ledgerbot::services::accounts::password::HashLimits;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::json;
use sqlx::PgPool;

use crate::cli::{Served, serve};
use crate::helpers::{Http, PASSWORD, TestApp, spawn_app};

/// The memory the server may reach, at its peak, under 50 logins at once
/// (the budget for a 256 MB machine).
const PEAK_BUDGET_KIB: u64 = 128 * 1024;

/// `VmHWM` of process `pid`: its peak resident memory, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is there");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in kB")
}

#[sqlx::test(migrations = false)]
async fn fifty_logins_at_once_stay_within_128_mib_and_the_rest_are_told_to_retry(pool: PgPool) {
    // Arrange: the real binary with its default hashing budget, behind a
    // "proxy" so that each login comes from its own client address (one
    // address would meet the per-client rate limit first).
    let Served {
        mut child,
        http: served,
        ..
    } = serve(&pool, |cmd| {
        cmd.env("TRUST_PROXY_HEADERS", "true");
    })
    .await;
    let registered = served
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "many@example.ro", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(registered.status(), 201);

    // Act: 50 logins at once, each from another address.
    let logins = (0..50u8).map(|i| {
        let served = served.clone();
        async move {
            let response = served
                .client
                .post(served.url("/api/v1/auth/login"))
                .header("Fly-Client-IP", format!("198.51.100.{i}"))
                .json(&json!({"email": "many@example.ro", "password": PASSWORD}))
                .send()
                .await
                .expect("answers");
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status().as_u16(), retry_after)
        }
    });
    let answers = futures_util::future::join_all(logins).await;
    let peak = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();

    // Assert
    assert!(
        peak <= PEAK_BUDGET_KIB,
        "peak RSS {} MiB is over the 128 MiB budget",
        peak / 1024
    );
    let ok = answers.iter().filter(|(status, _)| *status == 200).count();
    assert!(ok >= 1, "some logins get through: {answers:?}");
    for (status, retry_after) in &answers {
        match status {
            200 => {}
            503 => assert!(retry_after.is_some(), "503 says when to retry"),
            other => panic!("{other}: only 200 or 503 (busy) expected"),
        }
    }
}

/// A pre-session CSRF token and its cookie, as a browser gets them from `/login`.
async fn login_form(http: &Http) -> (String, String) {
    let response = http.get("/login").await;
    let cookies: Vec<String> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let body = response.text().await.expect("body");
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).expect("a csrf field") + marker.len();
    let len = body[start..].find('"').expect("closing quote");
    (body[start..start + len].to_owned(), cookies.join("; "))
}

#[sqlx::test(migrations = false)]
async fn a_full_hashing_gate_answers_503_with_retry_after_on_the_api_and_the_pages(pool: PgPool) {
    // Arrange: one hash at a time and nobody waiting, no rate limit in the way.
    let app = TestApp::builder(pool)
        .config(|config| {
            config.password_hashing = HashLimits {
                slots: 1,
                queue: 0,
                max_wait: Duration::from_secs(1),
            };
            config.rate_limits.login.max = 1000;
            config.rate_limits.login_failures.free = 1000;
        })
        .spawn()
        .await;
    let http = Http::without_redirects(&app.base);
    let (csrf, cookie) = login_form(&http).await;

    // Act: twenty logins at once on each front end.
    let api = (0..20).map(|_| async {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "x@example.ro", "password": "wrong password"}),
                None,
            )
            .await;
        let retry = response.headers().get("retry-after").cloned();
        (
            response.status().as_u16(),
            retry,
            response.text().await.expect("body"),
        )
    });
    let web = (0..20).map(|_| async {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("email", "x@example.ro"),
                ("password", "wrong password"),
            ])
            .finish();
        let response = http
            .client
            .post(http.url("/login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(COOKIE, &cookie)
            .body(body)
            .send()
            .await
            .expect("answers");
        let retry = response.headers().get("retry-after").cloned();
        (
            response.status().as_u16(),
            retry,
            response.text().await.expect("body"),
        )
    });
    let (api, web) = tokio::join!(
        futures_util::future::join_all(api),
        futures_util::future::join_all(web)
    );

    // Assert
    for (front, answers, wrong, busy) in [
        ("api", &api, 401, "\"error\":\"busy\""),
        ("web", &web, 401, "The server is busy right now."),
    ] {
        let turned_away: Vec<_> = answers.iter().filter(|(s, ..)| *s == 503).collect();
        assert!(
            !turned_away.is_empty(),
            "{front}: some are turned away: {answers:?}"
        );
        for (status, retry, body) in answers {
            match *status {
                503 => {
                    assert!(retry.is_some(), "{front}: Retry-After");
                    assert!(body.contains(busy), "{front}: {body}");
                }
                s => assert_eq!(s, wrong, "{front}: answered on its merits"),
            }
        }
    }
}

/// A form POSTed with the pre-session cookie it needs, raw.
async fn post_form(http: &Http, path: &str, cookie: &str, body: String) -> u16 {
    http.client
        .post(http.url(path))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(COOKIE, cookie)
        .body(body)
        .send()
        .await
        .expect("answers")
        .status()
        .as_u16()
}

#[sqlx::test(migrations = false)]
async fn login_and_register_forms_count_the_attempt_before_reading_even_a_forged_one(pool: PgPool) {
    // Arrange: two attempts a minute each.
    let app = TestApp::builder(pool)
        .config(|config| {
            config.rate_limits.login.max = 2;
            config.rate_limits.register.max = 2;
        })
        .spawn()
        .await;
    let http = Http::without_redirects(&app.base);
    let (_, cookie) = login_form(&http).await;

    for path in ["/login", "/register"] {
        // Act: forged forms (no valid CSRF token), then one more.
        let forged = || "csrf=forged&email=a%40b.ro&password=whatever1".to_owned();
        let first = post_form(&http, path, &cookie, forged()).await;
        let second = post_form(&http, path, &cookie, forged()).await;
        let third = post_form(&http, path, &cookie, forged()).await;

        // Assert
        assert_eq!(
            (first, second),
            (403, 403),
            "{path}: refused on their merits"
        );
        assert_eq!(third, 429, "{path}: the forged attempts were counted");
    }
}

#[sqlx::test(migrations = false)]
async fn page_forms_are_capped_in_bytes_and_fields(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let http = Http::without_redirects(&app.base);
    let (csrf, cookie) = login_form(&http).await;
    let login = |extra: &str| format!("csrf={csrf}&email=a%40b.ro&password=whatever1{extra}");
    let cases = [
        (login(""), 401, "a login form"),
        (login(&"&x=1".repeat(14)), 400, "17 fields"),
        (login(&"&x=1".repeat(13)), 401, "16 fields"),
        (
            login(&format!("&x={}", "a".repeat(8 * 1024))),
            413,
            "over 8 KiB",
        ),
    ];
    for (body, want, why) in cases {
        // Act
        let status = post_form(&http, "/login", &cookie, body).await;

        // Assert
        assert_eq!(status, want, "{why}");
    }
    for path in ["/register", "/logout", "/telegram", "/link/ABCDEFGH"] {
        let big = format!("csrf={csrf}&x={}", "a".repeat(8 * 1024));
        assert_eq!(post_form(&http, path, &cookie, big).await, 413, "{path}");
    }
}

#[sqlx::test(migrations = false)]
async fn ipv6_clients_share_a_limit_per_64_and_forged_hops_change_nothing(pool: PgPool) {
    // Arrange: behind a trusted proxy, two login attempts a minute.
    let app = TestApp::builder(pool)
        .config(|config| {
            config.trust_proxy_headers = true;
            config.rate_limits.login.max = 2;
        })
        .spawn()
        .await;
    let login = |forwarded: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("X-Forwarded-For", forwarded)
                .json(&json!({"email": "x@example.ro", "password": "wrong password"}))
                .send()
                .await
                .expect("answers")
                .status()
                .as_u16()
        }
    };

    // Act: three addresses of one /64, each with a forged first hop.
    let same_network = [
        login("1.1.1.1, 2001:db8:1:2::1").await,
        login("2.2.2.2, 2001:db8:1:2::2").await,
        login("3.3.3.3, 2001:db8:1:2:ffff::3").await,
    ];
    let next_network = login("2001:db8:1:2::1, 2001:db8:1:3::1").await;

    // Assert
    assert_eq!(same_network, [401, 401, 429], "one /64, one client");
    assert_eq!(next_network, 401, "another /64 is another client");
}

#[sqlx::test(migrations = false)]
async fn credential_api_bodies_are_capped_at_8_kib(pool: PgPool) {
    // Arrange: a body just over 8 KiB, whatever it says.
    let app = spawn_app(pool).await;
    let big = json!({"init_data": "a".repeat(8 * 1024)});
    let routes = [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/telegram",
        "/api/v1/telegram/confirm",
    ];
    for path in routes {
        // Act
        let response = app.post_json(path, &big, None).await;

        // Assert
        assert_eq!(response.status(), 413, "{path}");
    }
    let fits = app
        .post_json(
            "/api/v1/auth/telegram",
            &json!({"init_data": "a".repeat(7 * 1024)}),
            None,
        )
        .await;
    assert_eq!(fits.status(), 401, "under the cap: answered on its merits");
}
