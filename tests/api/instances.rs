//! Several instances on one database behave as one.

use futures_util::future::join_all;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{TestApp, TgUser, spawn_app};

/// Another instance on the same database, with its own pool, as a second
/// process would have.
async fn spawn_second_instance(pool: &PgPool) -> TestApp {
    let own_pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("second pool");
    spawn_app(own_pool).await
}

#[sqlx::test(migrations = false)]
async fn updates_spread_over_two_instances_are_applied_exactly_once(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_second_instance(&pool).await;
    let updates: Vec<_> = (0..60)
        .map(|i| TgUser::en(100 + i % 7).text(if i % 2 == 0 { "/help" } else { "/start" }))
        .collect();

    // Every update goes to both instances at once, as Telegram's retries might.
    let replies = join_all(
        updates
            .iter()
            .flat_map(|u| [first.reply_to(u), second.reply_to(u)]),
    )
    .await;

    for pair in replies.chunks(2) {
        assert_eq!(pair[0], pair[1], "both instances give the same answer");
        assert_eq!(pair[0]["method"], "sendMessage");
    }
    assert_eq!(
        first.claimed_updates().await,
        30,
        "each /start applied once; a /help claims nothing"
    );
}

#[sqlx::test(migrations = false)]
async fn logins_and_token_rotation_work_across_instances(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_second_instance(&pool).await;
    let registered = first.register("ana@example.ro").await;

    // Log in on the second instance, rotate there, then present the old
    // refresh token to the first: the theft check sees the rotation.
    let login = second
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.ro", "password": crate::helpers::PASSWORD}),
            None,
        )
        .await;
    assert_eq!(login.status(), 200);
    let rotated = second.refresh(&registered.refresh).await;
    let rotated_status = rotated.status();
    let next = crate::helpers::Tokens::from_json(&rotated.json().await.expect("json"));
    let reused = first.refresh(&registered.refresh).await;
    let after_reuse = second.refresh(&next.refresh).await;
    // A code asked for on one instance links through the other's webhook.
    let code = first.link_code(&next.access).await;
    let linked = second
        .reply_to(
            &TgUser::en(555).text(&format!("/start {}", code["code"].as_str().expect("code"))),
        )
        .await;

    assert_eq!(rotated_status, 200);
    assert_eq!(reused.status(), 401, "reuse detected across instances");
    assert_eq!(after_reuse.status(), 401, "the whole family was revoked");
    assert_eq!(
        second.linked_email(555).await,
        Some(Some("ana@example.ro".to_owned())),
        "linked: {linked}"
    );
}
