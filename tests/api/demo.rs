//! `ledgerbot::services::demo`: the demo company loads for an account, is realistic
//! enough to show every figure, and loading it again changes nothing.

use ledgerbot::blocks::validate::Iban;
use ledgerbot::services::demo::{Target, load};
use reqwest::Method;
use sqlx::PgPool;

use crate::helpers::spawn_app;
use crate::people::{token, user};

#[sqlx::test(migrations = false)]
async fn the_demo_loads_once_and_a_second_run_changes_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let target = Target::Email(" Demo@Example.ro ".into());

    // Act
    let first = load(&pool, &target, 42).await.expect("first load");
    let second = load(&pool, &target, 42).await.expect("second load");

    // Assert
    assert!(first.created);
    assert_eq!(
        (
            first.invoices_upserted,
            first.accounts_upserted,
            first.cash_added
        ),
        (320, 3, 10)
    );
    assert_eq!(
        (second.user_id, second.company_id),
        (first.user_id, first.company_id)
    );
    assert!(!second.created);
    assert_eq!(
        (
            second.invoices_upserted,
            second.accounts_upserted,
            second.cash_added
        ),
        (0, 0, 0)
    );
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(first.user_id)
        .fetch_one(&pool)
        .await
        .expect("user made");
    assert_eq!(email, "demo@example.ro");
    let ibans: Vec<String> =
        sqlx::query_scalar("SELECT iban FROM treasury_accounts WHERE iban IS NOT NULL")
            .fetch_all(&pool)
            .await
            .expect("ibans");
    assert_eq!(ibans.len(), 2);
    assert!(ibans.iter().all(|i| Iban::parse(i).is_ok()), "{ibans:?}");

    let (status, d) = app
        .api(
            Method::GET,
            &token(first.user_id),
            &format!("/api/v1/companies/{}/dashboard", first.company_id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        d["treasury"].as_array().map(Vec::len),
        Some(2),
        "RON and EUR: {d}"
    );
    assert!(
        d["receivables"][0]["overdue_count"].as_i64() > Some(0),
        "{d}"
    );
    assert!(d["payables"][0]["count"].as_i64() > Some(0), "{d}");
}

#[sqlx::test(migrations = false)]
async fn the_demo_goes_to_an_existing_account_by_id_and_refuses_unknown_ids(pool: PgPool) {
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let ana = user(&pool, "ana@example.ro").await;

    let loaded = load(&pool, &Target::UserId(ana), 1).await.expect("loads");
    let missing = load(&pool, &Target::UserId(ana + 100), 1).await;

    assert_eq!(loaded.user_id, ana);
    assert!(missing.is_err());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(users, 1, "no account made for an id");
}
