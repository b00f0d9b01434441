//! What one account may ask of the company API: requests per minute (429
//! with `Retry-After`) and the operator's caps (companies per account,
//! invoices and treasury accounts per company, rows per batch: 422
//! `limit_reached`, naming the limit, nothing kept).

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, count_rows};
use crate::people::{company, token, user};

fn invoice(number: &str) -> Value {
    json!({
        "number": number, "direction": "issued", "partner": "Client SRL",
        "issue_date": "2026-01-10", "due_date": "2026-02-10",
        "total": "100.00", "paid": "0.00", "currency": "RON"
    })
}

fn account(name: &str) -> Value {
    json!({"name": name, "kind": "bank", "currency": "RON", "balance": "10.00"})
}

/// Asserts a 422 `limit_reached` whose message names `limit`.
fn assert_limit(answer: &(u16, Value), limit: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 422, "{limit}: {body}");
    assert_eq!(body["error"], "limit_reached", "{limit}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(limit), "{limit} not named in {message:?}");
}

#[sqlx::test(migrations = false)]
async fn the_company_api_answers_429_with_retry_after_past_the_per_account_limit(pool: PgPool) {
    // Arrange: three company requests per minute per account.
    let app = TestApp::builder(pool.clone())
        .config(|c| c.rate_limits.company_api.max = 3)
        .spawn()
        .await;
    let (busy, other) = (
        user(&pool, "erp@example.ro").await,
        user(&pool, "other@example.ro").await,
    );
    let id = company(&pool, busy, "Exemplu SRL").await;
    let dashboard = format!("/api/v1/companies/{id}/dashboard");

    // Act
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.api(Method::GET, &token(busy), &dashboard, None).await.0);
    }
    let refused = app
        .client
        .get(app.url("/api/v1/companies"))
        .bearer_auth(token(busy))
        .send()
        .await
        .expect("answers");
    let another_account = app
        .api(Method::GET, &token(other), "/api/v1/companies", None)
        .await;

    // Assert
    assert_eq!(statuses, [200, 200, 200]);
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.expect("JSON error");
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert_eq!(another_account.0, 200, "the limit is per account");
}

#[sqlx::test(migrations = false)]
async fn each_cap_is_a_422_naming_its_limit_and_a_push_past_it_keeps_nothing(pool: PgPool) {
    // Arrange: tiny caps.
    let app = TestApp::builder(pool.clone())
        .config(|c| {
            c.quotas.companies_per_account = 1;
            c.quotas.invoices_per_company = 3;
            c.quotas.treasury_accounts_per_company = 1;
            c.quotas.rows_per_batch = 2;
        })
        .spawn()
        .await;
    let owner = user(&pool, "owner@example.ro").await;
    let t = token(owner);
    let create = |name: &str| json!({ "name": name });

    // Act and assert, cap by cap.
    let first = app
        .api(
            Method::POST,
            &t,
            "/api/v1/companies",
            Some(&create("Una SRL")),
        )
        .await;
    assert_eq!(first.0, 201, "{first:?}");
    let id = first.1["id"].as_i64().expect("id");
    let second = app
        .api(
            Method::POST,
            &t,
            "/api/v1/companies",
            Some(&create("Două SRL")),
        )
        .await;
    assert_limit(&second, "companies per account");
    assert_eq!(count_rows(&pool, "companies").await, 1);

    let invoices = format!("/api/v1/companies/{id}/invoices");
    let too_many_rows = json!([invoice("F-1"), invoice("F-2"), invoice("F-3")]);
    assert_limit(
        &app.api(Method::PUT, &t, &invoices, Some(&too_many_rows))
            .await,
        "rows per batch",
    );
    let two = json!([invoice("F-1"), invoice("F-2")]);
    assert_eq!(app.api(Method::PUT, &t, &invoices, Some(&two)).await.0, 200);
    let two_more = json!([invoice("F-3"), invoice("F-4")]);
    assert_limit(
        &app.api(Method::PUT, &t, &invoices, Some(&two_more)).await,
        "invoices per company",
    );
    assert_eq!(
        count_rows(&pool, "invoices").await,
        2,
        "the refused push kept nothing"
    );
    let updating = json!([invoice("F-2"), invoice("F-3")]);
    assert_eq!(
        app.api(Method::PUT, &t, &invoices, Some(&updating)).await.0,
        200,
        "updating what is there counts once"
    );

    let treasury = format!("/api/v1/companies/{id}/treasury-accounts");
    let accounts = json!([account("BT"), account("ING")]);
    assert_limit(
        &app.api(Method::PUT, &t, &treasury, Some(&accounts)).await,
        "treasury accounts per company",
    );
    assert_eq!(count_rows(&pool, "treasury_accounts").await, 0);
}
