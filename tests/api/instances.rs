//! Several instances on one database behave as one.

use futures_util::future::join_all;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{TgUser, spawn_app};

#[sqlx::test(migrations = false)]
async fn updates_spread_over_two_instances_are_applied_exactly_once(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    // The second instance has its own pool, as a second process would.
    let own_pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("second pool");
    let second = spawn_app(own_pool).await;
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
        60,
        "each update applied once"
    );
}
