//! Company administration in the bot: `/newcompany` (`/firmanoua`) with its
//! CUI check, `/companies` with each CUI, `/selectcompany` paging and search
//! by CUI.

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{TgUser, reply_text, spawn_app};
use crate::people::{active_company, linked_user};

async fn companies_named(pool: &PgPool, name: &str) -> Vec<(i64, Option<String>, String)> {
    sqlx::query_as(
        "SELECT c.id, c.cui, m.role FROM companies c JOIN company_members m ON m.company_id = c.id
         WHERE c.name = $1",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .expect("companies")
}

#[sqlx::test(migrations = false)]
async fn a_telegram_only_account_creates_a_company_it_owns_and_it_becomes_active(pool: PgPool) {
    // Arrange: a Telegram-only account, made with /register
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::ro(1600);
    app.reply_to(&tg.text("/inregistrare")).await;

    // Act
    let reply = app
        .reply_to(&tg.text("/firmanoua Exemplu & Fiii SRL RO18547290"))
        .await;
    let dashboard = app.reply_to(&tg.text("/sold")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(
        text.contains("<b>Exemplu &amp; Fiii SRL</b> (CUI 18547290)"),
        "{text}"
    );
    let created = companies_named(&pool, "Exemplu & Fiii SRL").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(
        created[0].1.as_deref(),
        Some("18547290"),
        "stored as digits"
    );
    assert_eq!(created[0].2, "owner");
    assert_eq!(active_company(&pool, 1600).await, Some(created[0].0));
    assert!(
        reply_text(&dashboard).contains("<b>Exemplu &amp; Fiii SRL</b>"),
        "{dashboard}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_company_without_a_cui_and_the_english_name_work_too(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    linked_user(&pool, "ana@example.ro", 1601).await;

    let reply = app
        .reply_to(&TgUser::en(1601).text("/newcompany Alfa"))
        .await;

    assert!(
        reply_text(&reply).contains("✅ Created <b>Alfa</b>."),
        "{reply}"
    );
    let created = companies_named(&pool, "Alfa").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].1, None);
}

#[sqlx::test(migrations = false)]
async fn a_bad_cui_or_name_is_explained_and_nothing_is_created(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    linked_user(&pool, "ana@example.ro", 1602).await;
    let long = format!("/newcompany {}", "x".repeat(201));
    let cases: [(TgUser, &str, &str, &str); 6] = [
        (
            TgUser::ro(1602),
            "/firmanoua Beta SRL 18547291",
            "cifra de control nu se potrivește",
            "check digit, Romanian",
        ),
        (
            TgUser::en(1602),
            "/newcompany Beta SRL RO18547291",
            "check digit does not match",
            "check digit, English",
        ),
        (
            TgUser::en(1602),
            "/newcompany Beta SRL 012345",
            "does not start with 0",
            "leading zero",
        ),
        (
            TgUser::en(1602),
            "/newcompany Beta SRL 12345678901",
            "2 to 10 digits",
            "too long",
        ),
        (
            TgUser::en(1602),
            "/newcompany",
            "Send /newcompany &lt;name&gt; [CUI]",
            "no name",
        ),
        (
            TgUser::en(1602),
            long.as_str(),
            "at most 200 characters",
            "name too long",
        ),
    ];
    for (user, command, says, why) in cases {
        let reply = app.reply_to(&user.text(command)).await;
        assert!(reply_text(&reply).contains(says), "{why}: {reply}");
    }
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(companies, 0, "nothing created");
    assert_eq!(active_company(&pool, 1602).await, None);
}

#[sqlx::test(migrations = false)]
async fn creating_a_company_needs_a_linked_account(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;

    let reply: Value = app
        .reply_to(&TgUser::en(1603).text("/newcompany Gamma"))
        .await;

    assert!(reply_text(&reply).contains("/register"), "{reply}");
    assert!(companies_named(&pool, "Gamma").await.is_empty());
}
