//! What an ERP does beyond the plain upsert: deleting one invoice, and the
//! full sync of a period (`?replace_issue_dates=FROM..TO`).

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, spawn_app};
use crate::people::{company, member, token, user};

fn issued(number: &str, issue_date: &str) -> Value {
    json!({
        "number": number, "direction": "issued", "partner": "Client SRL",
        "issue_date": issue_date, "due_date": issue_date,
        "total": "100.00", "paid": "0.00", "currency": "RON"
    })
}

fn received(number: &str, partner: &str, cui: Option<&str>) -> Value {
    json!({
        "number": number, "direction": "received", "partner": partner, "partner_cui": cui,
        "issue_date": "2026-11-10", "due_date": "2026-11-25",
        "total": "50.00", "paid": "0.00", "currency": "RON"
    })
}

/// `(direction, number, partner)` of every stored invoice, in a fixed order.
async fn stored(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT direction, number, partner FROM invoices ORDER BY direction, number, partner",
    )
    .fetch_all(pool)
    .await
    .expect("invoices")
}

fn triples(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(d, n, p)| ((*d).to_owned(), (*n).to_owned(), (*p).to_owned()))
        .collect()
}

async fn push(app: &TestApp, t: &str, id: i64, query: &str, batch: Value) -> (u16, Value) {
    let path = format!("/api/v1/companies/{id}/invoices{query}");
    app.api(Method::PUT, t, &path, Some(&batch)).await
}

#[sqlx::test(migrations = false)]
async fn one_invoice_is_deleted_by_its_id_and_only_by_a_writer_of_its_company(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let viewer = user(&pool, "viewer@example.ro").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let other = company(&pool, stranger, "Alta SRL").await;
    member(&pool, id, viewer, "viewer").await;
    let t = token(owner);
    push(
        &app,
        &t,
        id,
        "",
        json!([issued("E-1", "2026-11-05"), issued("E-2", "2026-11-06")]),
    )
    .await;
    push(
        &app,
        &token(stranger),
        other,
        "",
        json!([issued("X-1", "2026-11-05")]),
    )
    .await;
    let (_, list) = app
        .api(
            Method::GET,
            &t,
            &format!("/api/v1/companies/{id}/invoices"),
            None,
        )
        .await;
    let e1 = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["number"] == "E-1"))
        .and_then(|i| i["id"].as_i64())
        .expect("E-1 has an id");
    let x1: i64 = sqlx::query_scalar("SELECT id FROM invoices WHERE number = 'X-1'")
        .fetch_one(&pool)
        .await
        .expect("X-1");
    let delete = |who: i64, company: i64, invoice: i64| {
        let app = &app;
        async move {
            let path = format!("/api/v1/companies/{company}/invoices/{invoice}");
            app.api(Method::DELETE, &token(who), &path, None).await.0
        }
    };

    // Act and assert
    let cases = [
        (viewer, id, e1, 403, "a viewer may not"),
        (
            stranger,
            id,
            e1,
            404,
            "not a member: as if there were no company",
        ),
        (owner, id, x1, 404, "another company's invoice"),
        (owner, id, e1, 204, "the owner deletes it"),
        (owner, id, e1, 404, "it is gone"),
    ];
    for (who, company, invoice, status, why) in cases {
        assert_eq!(delete(who, company, invoice).await, status, "{why}");
    }
    assert_eq!(
        stored(&pool).await,
        triples(&[
            ("issued", "E-2", "Client SRL"),
            ("issued", "X-1", "Client SRL")
        ])
    );
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn a_full_sync_removes_what_the_period_lacks_and_nothing_else(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let t = token(owner);
    let before = json!([
        issued("O-1", "2026-10-31"),
        issued("N-1", "2026-11-01"),
        issued("N-2", "2026-11-30"),
        issued("D-1", "2026-12-01"),
        received("R-1", "ACME S.R.L.", None),
        received("R-1", "Beta SRL", None),
    ]);
    push(&app, &t, id, "", before).await;
    let november = "?replace_issue_dates=2026-11-01..2026-11-30";
    let mut changed = issued("N-1", "2026-11-01");
    changed["paid"] = json!("100.00");
    let batch = json!([
        changed,
        issued("N-3", "2026-11-15"),
        received("R-1", "Acme SRL", Some("RO18547290")),
    ]);

    // Act
    let (status, answer) = push(&app, &t, id, november, batch).await;

    // Assert
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"upserted": 3, "inserted": 1, "updated": 2, "unchanged": 0, "deleted": 2})
        ),
        "N-2 and Beta's R-1 removed; ACME's R-1 is the same invoice, now with its CUI"
    );
    assert_eq!(
        stored(&pool).await,
        triples(&[
            ("issued", "D-1", "Client SRL"),
            ("issued", "N-1", "Client SRL"),
            ("issued", "N-3", "Client SRL"),
            ("issued", "O-1", "Client SRL"),
            ("received", "R-1", "Acme SRL"),
        ]),
        "the edges of the range are inside it; outside it nothing is touched"
    );

    // Act: one direction only, with an empty batch
    let (status, answer) = push(
        &app,
        &t,
        id,
        &format!("{november}&direction=issued"),
        json!([]),
    )
    .await;

    // Assert
    assert_eq!(
        (status, answer["deleted"].clone()),
        (200, json!(2)),
        "{answer}"
    );
    assert_eq!(
        stored(&pool).await,
        triples(&[
            ("issued", "D-1", "Client SRL"),
            ("issued", "O-1", "Client SRL"),
            ("received", "R-1", "Acme SRL"),
        ]),
        "received invoices of November stay"
    );
}

#[sqlx::test(migrations = false)]
async fn a_bad_full_sync_query_changes_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let t = token(owner);
    push(&app, &t, id, "", json!([issued("N-1", "2026-11-05")])).await;
    let cases = [
        ("?replace_issue_dates=2026-11-30..2026-11-01", "backwards"),
        ("?replace_issue_dates=2026-11", "not a range"),
        (
            "?replace_issue_date=2026-11-01..2026-11-30",
            "a typo is not a plain upsert",
        ),
        ("?direction=issued", "a direction without a range"),
    ];
    for (query, why) in cases {
        // Act
        let (status, error) = push(&app, &t, id, query, json!([issued("N-2", "2026-11-06")])).await;

        // Assert
        assert_eq!(status, 400, "{why}: {error}");
    }
    assert_eq!(
        stored(&pool).await,
        triples(&[("issued", "N-1", "Client SRL")]),
        "nothing removed, nothing added"
    );
}
