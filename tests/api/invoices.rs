//! The ERP's side: bulk pushes of invoices and treasury accounts, the invoice
//! list, and the dashboard's figures (per currency, exact).
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use std::time::Duration;

use crate::helpers::{
    TestApp, count_rows, eventually, numbered_invoices, owned_company_among_invoices, spawn_app,
};
use crate::people::{Inv, company, invoice, token, user};

fn row(number: &str) -> Value {
    json!({
        "number": number, "direction": "issued", "partner": "Client SRL",
        "issue_date": "2026-01-10", "due_date": "2026-02-10",
        "total": "1234.56", "paid": "0.00", "currency": "RON"
    })
}

async fn owner_and_company(pool: &PgPool) -> (String, i64) {
    let owner = user(pool, "owner@example.ro").await;
    (token(owner), company(pool, owner, "Exemplu SRL").await)
}

#[sqlx::test(migrations = false)]
async fn re_pushing_the_same_batch_changes_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let mut received = row("F-1");
    received["direction"] = json!("received");
    let batch = json!([row("F-1"), row("F-2"), received]);

    // Act
    let first = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let again = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let mut changed = batch.clone();
    changed[1]["paid"] = json!("100.00");
    let third = app.api(Method::PUT, &t, &path, Some(&changed)).await;

    // Assert
    assert_eq!(
        first,
        (
            200,
            json!({"upserted": 3, "inserted": 3, "updated": 0, "unchanged": 0})
        ),
        "F-1 issued and received are two invoices"
    );
    assert_eq!(
        again,
        (
            200,
            json!({"upserted": 0, "inserted": 0, "updated": 0, "unchanged": 3})
        ),
        "nothing changed"
    );
    assert_eq!(
        third,
        (
            200,
            json!({"upserted": 1, "inserted": 0, "updated": 1, "unchanged": 2})
        ),
        "only the changed row counts"
    );
    assert_eq!(count_rows(&pool, "invoices").await, 3);
    let paid: i64 = sqlx::query_scalar("SELECT paid_minor FROM invoices WHERE number = 'F-2'")
        .fetch_one(&pool)
        .await
        .expect("F-2");
    assert_eq!(paid, 100_00, "exact minor units");
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn one_bad_row_rejects_the_batch_naming_row_and_field(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("number", json!(""), "empty number"),
        ("number", json!(17), "number not a string"),
        ("partner", Value::Null, "missing partner"),
        ("direction", json!("sent"), "unknown direction"),
        ("issue_date", json!("2026-13-01"), "no 13th month"),
        ("issue_date", json!("10.01.2026"), "Romanian date form"),
        ("due_date", json!("2026-01-09"), "due before issue"),
        ("total", json!(1234.56), "money as a JSON number"),
        ("total", json!("12.345"), "three decimals"),
        ("paid", json!("-0.01"), "negative paid on a positive total"),
        ("partner_cui", json!("RO18547291"), "CUI check digit"),
        ("partner_cui", json!("CUI 123"), "not a CUI"),
        ("partner_cui", json!(18547290), "CUI as a JSON number"),
        ("currency", json!("EURO"), "four letters"),
    ];
    for (field, value, why) in cases {
        // Arrange: the bad value in the third row
        let mut bad = row("F-3");
        bad[field] = value;
        let batch = json!([row("F-1"), row("F-2"), bad]);

        // Act
        let (status, error) = app.api(Method::PUT, &t, &path, Some(&batch)).await;

        // Assert
        assert_eq!(status, 422, "{why}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("row 2: {field}: ")),
            "{why}: {message}"
        );
    }
    let (status, error) = app
        .api(
            Method::PUT,
            &t,
            &path,
            Some(&json!([row("F-1"), row("F-2"), row("F-1")])),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        error["message"],
        "row 2: number: repeats row 0; each key may appear once per batch"
    );
    assert_eq!(
        count_rows(&pool, "invoices").await,
        0,
        "no row of a refused batch is kept"
    );
}

#[sqlx::test(migrations = false)]
async fn batches_must_be_arrays_within_the_size_cap(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let too_many: Vec<Value> = (0..5001).map(|i| row(&i.to_string())).collect();
    let cases = [
        (json!({"number": "F-1"}), "an object, not an array"),
        (json!(["F-1"]), "rows that are not objects"),
        (Value::Array(too_many), "5001 rows"),
    ];
    for (body, why) in cases {
        let (status, error) = app.api(Method::PUT, &t, &path, Some(&body)).await;
        assert_eq!(status, 422, "{why}: {error}");
    }
    let exactly: Vec<Value> = (0..5000).map(|i| row(&i.to_string())).collect();
    let (status, body) = app
        .api(Method::PUT, &t, &path, Some(&Value::Array(exactly)))
        .await;
    assert_eq!(
        (status, body["upserted"].clone()),
        (200, json!(5000)),
        "5000 rows is the cap itself"
    );
}

#[sqlx::test(migrations = false)]
async fn the_invoice_list_filters_and_pages(pool: PgPool) {
    // Arrange: 60 unpaid issued, 45 paid received
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    numbered_invoices(&pool, id, ("E", 60), |i| Inv {
        due_in_days: i - 30,
        ..Inv::default()
    })
    .await;
    numbered_invoices(&pool, id, ("R", 45), |_| Inv {
        direction: "received",
        paid: 100_00,
        ..Inv::default()
    })
    .await;
    let cases = [
        ("", vec![50, 50, 5], "all, newest first"),
        ("?status=unpaid", vec![50, 10], "unpaid"),
        ("?status=paid", vec![45], "paid: exactly one page"),
        (
            "?direction=received&status=unpaid",
            vec![0],
            "nothing matches",
        ),
    ];
    for (query, sizes, why) in cases {
        // Act
        let (pages, items) = every_page(&app, &t, id, query).await;

        // Assert
        assert_eq!(pages, sizes, "{why}");
        let mut ids: Vec<i64> = items.iter().filter_map(|i| i["id"].as_i64()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), items.len(), "{why}: no invoice twice");
    }
    let (_, unpaid) = every_page(&app, &t, id, "?status=unpaid").await;
    let first = &unpaid[0];
    assert_eq!(first["number"], "E-000", "most urgent first");
    assert_eq!(first["overdue"], true);
    assert_eq!(first["total"], "100.00", "money is a decimal string");
    assert_eq!(first["outstanding"], "100.00");
    assert!(
        first["due_date"]
            .as_str()
            .is_some_and(|d| d.len() == 10 && &d[4..5] == "-")
    );
    let dues: Vec<&str> = unpaid
        .iter()
        .filter_map(|i| i["due_date"].as_str())
        .collect();
    assert!(dues.is_sorted(), "unpaid by due date across pages");
    for (query, why) in [
        ("?page=2", "page is replaced by cursor"),
        ("?cursor=tomorrow", "not a cursor"),
        ("?status=open", "unknown status"),
    ] {
        let path = format!("/api/v1/companies/{id}/invoices{query}");
        let (status, body) = app.api(Method::GET, &t, &path, None).await;
        assert_eq!(status, 400, "{why}: {body}");
    }
}

/// Follows `next_cursor` from the first page of `query` to the last: each
/// page's size, and every item in order.
async fn every_page(app: &TestApp, t: &str, id: i64, query: &str) -> (Vec<usize>, Vec<Value>) {
    let (mut sizes, mut items) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "?" } else { "&" };
        let after = cursor
            .map(|c| format!("{sep}cursor={c}"))
            .unwrap_or_default();
        let path = format!("/api/v1/companies/{id}/invoices{query}{after}");
        let (status, page) = app.api(Method::GET, t, &path, None).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(page["page_size"], 50);
        assert!(page.get("total").is_none(), "nothing counts every row");
        let rows = page["items"].as_array().expect("items").clone();
        sizes.push(rows.len());
        items.extend(rows);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (sizes, items),
        }
        assert!(sizes.len() < 100, "pages never end");
    }
}

#[sqlx::test(migrations = false)]
async fn invoices_pushed_between_pages_neither_repeat_nor_skip_what_was_listed(pool: PgPool) {
    // Arrange: 60 invoices, the first page read.
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    numbered_invoices(&pool, id, ("E", 60), |_| Inv::default()).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let (_, first) = app.api(Method::GET, &t, &path, None).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();

    // Act: ten newer invoices arrive, then the second page is read.
    numbered_invoices(&pool, id, ("N", 10), |_| Inv::default()).await;
    let (status, second) = app
        .api(Method::GET, &t, &format!("{path}?cursor={cursor}"), None)
        .await;

    // Assert: an OFFSET page would have shown ten of the first page again.
    assert_eq!(status, 200);
    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["number"].as_str().map(str::to_owned))
            .collect()
    };
    let (first, second) = (numbers(&first), numbers(&second));
    assert_eq!(first.len() + second.len(), 60, "{second:?}");
    assert!(second.iter().all(|n| !first.contains(n)), "{second:?}");
    assert!(second.iter().all(|n| n.starts_with("E-")), "{second:?}");
}

#[sqlx::test(migrations = false)]
async fn a_page_is_read_from_an_index_not_by_sorting_the_company(pool: PgPool) {
    // Arrange: enough invoices, over two companies, that the planner
    // chooses freely; statistics current.
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owned_company_among_invoices(&pool).await;
    let t = token(owner);
    let scans = || async {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT indexrelname::text, idx_scan FROM pg_stat_user_indexes
             WHERE indexrelname IN ('invoices_company_settled_newest', 'invoices_company_direction_unpaid_due')
             ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .expect("index statistics")
    };
    let before = scans().await;

    // Act: a deep page of each list.
    for query in ["", "?status=unpaid"] {
        let sep = if query.is_empty() { "?" } else { "&" };
        let path = format!("/api/v1/companies/{id}/invoices{query}{sep}cursor=2024-06-01.30000");
        let (status, page) = app.api(Method::GET, &t, &path, None).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(50));
    }

    // Assert: each list read its own index (statistics arrive a moment later).
    let after = eventually("both indexes scanned", Duration::from_secs(10), || async {
        let now = scans().await;
        now.iter()
            .zip(&before)
            .all(|((_, n), (_, b))| n > b)
            .then_some(now)
    })
    .await;
    assert_eq!(after.len(), 2, "{after:?}");
}

#[sqlx::test(migrations = false)]
async fn treasury_accounts_upsert_by_name_with_checked_ibans(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/treasury-accounts");
    let batch = json!([
        {"name": "BT lei", "kind": "bank", "iban": "RO49 AAAA 1B31 0075 9384 0000",
         "currency": "RON", "balance": "10500.25", "as_of": "2026-05-01"},
        {"name": "Casa", "kind": "cash", "currency": "RON", "balance": "-20.00"}
    ]);

    // Act
    let first = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let again = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let (_, accounts) = app.api(Method::GET, &t, &path, None).await;

    // Assert
    assert_eq!(first, (200, json!({"upserted": 2})));
    assert_eq!(again, (200, json!({"upserted": 0})));
    assert_eq!(
        accounts[0]["iban"], "RO49AAAA1B31007593840000",
        "stored in electronic form"
    );
    assert_eq!(accounts[0]["balance"], "10500.25");
    assert_eq!(accounts[0]["as_of"], "2026-05-01");
    assert_eq!(accounts[1]["as_of"], Value::Null);
    let cases = [
        ("iban", json!("RO49AAAA1B31007593840001"), "IBAN checksum"),
        ("kind", json!("safe"), "unknown kind"),
        ("balance", json!(5), "JSON number"),
        ("as_of", json!("2026-02-30"), "no such day"),
        ("name", json!(""), "empty name"),
    ];
    for (field, value, why) in cases {
        let mut bad = batch.clone();
        bad[1][field] = value;
        let (status, error) = app.api(Method::PUT, &t, &path, Some(&bad)).await;
        assert_eq!(status, 422, "{why}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("row 1: {field}: ")),
            "{why}: {message}"
        );
    }
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn the_dashboard_keeps_each_currency_apart(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let issued = [
        // (number, due in days, total, paid, currency)
        ("E1", -5, 1000_00, 0, "RON"),     // overdue, fully outstanding
        ("E2", -5, 500_00, 200_00, "RON"), // overdue, partly paid
        ("E3", 10, 300_00, 0, "RON"),      // not yet due
        ("E4", -5, 99_99, 99_99, "RON"),   // paid: never overdue
        ("E5", -1, 250_50, 0, "EUR"),      // overdue, in euros
    ];
    for (number, due, total, paid, currency) in issued {
        invoice(
            &pool,
            id,
            Inv {
                number,
                due_in_days: due,
                total,
                paid,
                currency,
                ..Inv::default()
            },
        )
        .await;
    }
    invoice(
        &pool,
        id,
        Inv {
            direction: "received",
            total: 40_00,
            ..Inv::default()
        },
    )
    .await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'a', 'bank', 'RON', 100000), ($1, 'b', 'cash', 'RON', 550),
                ($1, 'c', 'bank', 'EUR', 7000)",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("accounts");
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, 5000, 'RON', 'in', (now() AT TIME ZONE 'Europe/Bucharest')::date), ($1, -1250, 'RON', 'out', (now() AT TIME ZONE 'Europe/Bucharest')::date),
                ($1, -999, 'RON', 'last year', (now() AT TIME ZONE 'Europe/Bucharest')::date - 400)",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("cash");

    // Act
    let (status, d) = app
        .api(
            Method::GET,
            &t,
            &format!("/api/v1/companies/{id}/dashboard"),
            None,
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d["treasury"],
        json!([{"currency": "RON", "amount": "1005.50"}, {"currency": "EUR", "amount": "70.00"}]),
        "the company's currency first, never summed across currencies"
    );
    assert_eq!(
        d["receivables"],
        json!([
            {"currency": "RON", "count": 4, "total": "1899.99", "paid": "299.99",
             "outstanding": "1600.00", "credit": "0.00", "overdue": "1300.00",
             "overdue_count": 2},
            {"currency": "EUR", "count": 1, "total": "250.50", "paid": "0.00",
             "outstanding": "250.50", "credit": "0.00", "overdue": "250.50",
             "overdue_count": 1}
        ])
    );
    assert_eq!(d["payables"][0]["outstanding"], "40.00");
    assert_eq!(
        d["cash_this_month"],
        json!([{"currency": "RON", "income": "50.00", "expenses": "12.50", "count": 2}])
    );
}

/// A received invoice row from `partner` (with `cui` when given).
fn received(number: &str, partner: &str, cui: Option<&str>, total: &str, paid: &str) -> Value {
    json!({
        "number": number, "direction": "received", "partner": partner, "partner_cui": cui,
        "issue_date": "2026-01-10", "due_date": "2026-02-10",
        "total": total, "paid": paid, "currency": "RON"
    })
}

async fn stored(pool: &PgPool) -> Vec<(String, String, Option<String>, i64, i64)> {
    sqlx::query_as(
        "SELECT number, partner, partner_cui, total_minor, paid_minor FROM invoices ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("invoices")
}

#[sqlx::test(migrations = false)]
async fn two_suppliers_may_both_send_invoice_one(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let batch = json!([
        received("1", "ACME S.R.L.", None, "100.00", "0.00"),
        received("1", "Beta SRL", Some("RO18547290"), "200.00", "0.00"),
        received("1", "Gama SRL", Some("14399840"), "300.00", "0.00"),
        row("1"),
    ]);

    // Act
    let (status, body) = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let same_supplier = json!([
        received("1", "Acme SRL", None, "100.00", "0.00"),
        received("1", "ACME S.R.L.", None, "100.00", "0.00"),
    ]);
    let (repeat_status, repeat) = app.api(Method::PUT, &t, &path, Some(&same_supplier)).await;

    // Assert
    assert_eq!(
        (status, body["inserted"].clone()),
        (200, json!(4)),
        "three suppliers' invoice 1 and the company's own: {body}"
    );
    let rows = stored(&pool).await;
    assert_eq!(rows[1].2.as_deref(), Some("18547290"), "RO prefix dropped");
    assert_eq!(
        repeat_status, 422,
        "one supplier spelt two ways is one: {repeat}"
    );
    assert_eq!(
        repeat["message"],
        "row 1: number: repeats row 0; each key may appear once per batch"
    );
}

#[sqlx::test(migrations = false)]
async fn a_supplier_is_the_same_with_or_without_its_cui(pool: PgPool) {
    // Arrange: the ERP sends no CUI
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let erp = json!([received("F-9", "ACME S.R.L.", None, "100.00", "0.00")]);
    app.api(Method::PUT, &t, &path, Some(&erp)).await;

    // Act: an import with the CUI, then the ERP again without it
    let with_cui = json!([received(
        "F-9",
        "Acme SRL",
        Some("RO18547290"),
        "100.00",
        "0.00"
    )]);
    let adopted = app.api(Method::PUT, &t, &path, Some(&with_cui)).await;
    let again = app.api(Method::PUT, &t, &path, Some(&with_cui)).await;
    let erp_again = json!([received("F-9", "Acme SRL", None, "100.00", "40.00")]);
    let paid = app.api(Method::PUT, &t, &path, Some(&erp_again)).await;

    // Assert
    assert_eq!(
        adopted,
        (
            200,
            json!({"upserted": 1, "inserted": 0, "updated": 1, "unchanged": 0})
        )
    );
    assert_eq!(again.1["unchanged"], 1, "{:?}", again);
    assert_eq!(paid.1["updated"], 1, "{:?}", paid);
    assert_eq!(
        stored(&pool).await,
        [(
            "F-9".into(),
            "Acme SRL".into(),
            Some("18547290".into()),
            100_00,
            40_00
        )],
        "one invoice, which kept its CUI"
    );
}

#[sqlx::test(migrations = false)]
async fn storno_invoices_and_overpayments_are_kept_and_shown_as_credit(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_and_company(&pool).await;
    let path = format!("/api/v1/companies/{id}/invoices");
    let mut storno = row("ST-1");
    storno["total"] = json!("-300.00");
    let mut refunded = row("ST-2");
    refunded["total"] = json!("-50.00");
    refunded["paid"] = json!("-50.00");
    let mut overpaid = row("F-2");
    overpaid["paid"] = json!("1300.00");
    let batch = json!([row("F-1"), storno, refunded, overpaid]);

    // Act
    let (status, body) = app.api(Method::PUT, &t, &path, Some(&batch)).await;
    let (_, list) = app.api(Method::GET, &t, &path, None).await;
    let (_, d) = app
        .api(
            Method::GET,
            &t,
            &format!("/api/v1/companies/{id}/dashboard"),
            None,
        )
        .await;

    // Assert
    assert_eq!(
        (status, body["inserted"].clone()),
        (200, json!(4)),
        "{body}"
    );
    let by_number = |n: &str| {
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["number"] == n))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (
            by_number("ST-1")["outstanding"].clone(),
            by_number("ST-1")["credit"].clone()
        ),
        (json!("0.00"), json!("300.00")),
        "a storno not yet settled is owed back"
    );
    assert_eq!(by_number("ST-2")["credit"], "0.00", "refunded: settled");
    assert_eq!(
        by_number("F-2")["credit"],
        "65.44",
        "1300.00 paid on 1234.56"
    );
    assert_eq!(by_number("F-1")["outstanding"], "1234.56");
    assert_eq!(
        d["receivables"][0],
        json!({"currency": "RON", "count": 4, "total": "2119.12", "paid": "1250.00",
               "outstanding": "1234.56", "credit": "365.44", "overdue": "1234.56",
               "overdue_count": 1}),
        "the credit does not hide what F-1 still owes"
    );
    let mut wrong = row("F-3");
    wrong["total"] = json!("-10.00");
    wrong["paid"] = json!("5.00");
    let (status, error) = app.api(Method::PUT, &t, &path, Some(&json!([wrong]))).await;
    assert_eq!(status, 422);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("row 0: paid: ")),
        "{error}"
    );
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn the_supplier_key_is_the_same_in_rust_and_in_the_database(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let names = [
        "ACME S.R.L.",
        "Știință și Tehnică SA",
        "Ştiinţă şi Tehnică SA",
        "ĂÂÎȘȚ ăâîșț",
        "Café Zürich GmbH",
        "  --  ",
        "Ελληνικά 42",
    ];
    for name in names {
        // Act
        let in_db: String = sqlx::query_scalar("SELECT invoice_partner_key('received', NULL, $1)")
            .bind(name)
            .fetch_one(&pool)
            .await
            .expect("key");
        let in_rust = ledgerbot::services::finance::invoices::partner_key(
            ledgerbot::services::finance::Direction::Received,
            None,
            name,
        );

        // Assert
        assert_eq!(in_rust, in_db, "{name}");
    }
}
