//! `GET /api/v1/companies/{id}/cash-entries`: the `/add` entries, for the
//! ERP, paged by a cursor that also serves to fetch only what is new.

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::spawn_app;
use crate::people::{company, token, user};

async fn record(pool: &PgPool, company_id: i64, amount_minor: i64, note: &str) {
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, $2, 'RON', $3, '2026-05-14')",
    )
    .bind(company_id)
    .bind(amount_minor)
    .bind(note)
    .execute(pool)
    .await
    .expect("cash entry");
}

fn notes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["note"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrations = false)]
async fn cash_entries_are_paged_in_the_order_recorded_and_the_cursor_resumes(pool: PgPool) {
    // Arrange: five entries, and one of another company in between
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let other = company(&pool, owner, "Alta SRL").await;
    for (i, note) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        record(&pool, id, -1250 * (i as i64 + 1), note).await;
        if i == 2 {
            record(&pool, other, 100, "other company").await;
        }
    }
    let t = token(owner);
    let get = |query: String| {
        let (app, t) = (&app, t.clone());
        async move {
            let path = format!("/api/v1/companies/{id}/cash-entries{query}");
            app.api(Method::GET, &t, &path, None).await
        }
    };

    // Act: pages of two
    let (s1, first) = get("?limit=2".into()).await;
    let cursor = |page: &Value| page["next_cursor"].as_str().unwrap_or_default().to_owned();
    let (_, second) = get(format!("?limit=2&cursor={}", cursor(&first))).await;
    let (_, third) = get(format!("?limit=2&cursor={}", cursor(&second))).await;
    let (_, past_end) = get(format!("?limit=2&cursor={}", cursor(&third))).await;
    record(&pool, id, 5000, "f").await;
    let (_, since) = get(format!("?cursor={}", cursor(&past_end))).await;

    // Assert
    assert_eq!(s1, 200, "{first}");
    assert_eq!(notes(&first), ["a", "b"]);
    assert_eq!(first["has_more"], true);
    assert_eq!(
        notes(&second),
        ["c", "d"],
        "the other company's entry is not listed"
    );
    assert_eq!(
        (notes(&third), third["has_more"].clone()),
        (vec!["e".to_owned()], Value::Bool(false))
    );
    assert!(notes(&past_end).is_empty());
    assert_eq!(
        cursor(&past_end),
        cursor(&third),
        "an empty page keeps its cursor"
    );
    assert_eq!(notes(&since), ["f"], "only what was recorded since");
    let a = &first["items"][0];
    assert_eq!(
        (
            a["amount"].clone(),
            a["currency"].clone(),
            a["entry_date"].clone()
        ),
        ("-12.50".into(), "RON".into(), "2026-05-14".into())
    );
    assert!(
        a["created_at"].as_str().is_some_and(|t| t.contains('T')),
        "{a}"
    );
}

#[sqlx::test(migrations = false)]
async fn cash_entries_are_for_members_and_bad_parameters_are_refused(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let path = format!("/api/v1/companies/{id}/cash-entries");

    // Act and assert
    let (status, _) = app.api(Method::GET, &token(stranger), &path, None).await;
    assert_eq!(status, 404, "not a member");
    for (query, why) in [
        ("?cursor=abc", "not a cursor"),
        ("?limit=501", "above the cap"),
        ("?limit=0", "zero"),
    ] {
        let (status, error) = app
            .api(Method::GET, &token(owner), &format!("{path}{query}"), None)
            .await;
        assert_eq!(status, 400, "{why}: {error}");
    }
}
