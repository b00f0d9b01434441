//! Partners: `GET .../partners` (figures per partner and currency, credits
//! netted oldest debt first, ageing, the company-wide lines, keyset pages,
//! who may read) and the bot's `/parteneri` (`/partners`).
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    ActiveOwner, TgUser, eventually, owned_company_among_invoices, owner_with_active_company,
    owner_with_active_company_in, reply_text, spawn_app,
};
use crate::people::{Inv, company, invoice, member, token, user};

/// A customer with a CUI and debts in every bucket and a credit note; one
/// spelt two ways without a CUI; one only in credit; a supplier; the first
/// customer again in euros; a fully paid invoice that counts nowhere.
async fn a_company_with_partners(pool: &PgPool, company_id: i64) {
    let alfa = |number, due_in_days, total, paid| Inv {
        number,
        partner: "Alfa SRL",
        partner_cui: Some("18547290"),
        issued_days_ago: 250,
        due_in_days,
        total,
        paid,
        ..Inv::default()
    };
    for one in [
        alfa("A-1", -100, 1000_00, 0),    // > 90 days late
        alfa("A-2", -45, 600_00, 100_00), // 31-60 days, 500 left
        alfa("A-3", -30, 300_00, 0),      // 30 days late: the first bucket's edge
        alfa("A-4", 0, 200_00, 0),        // due today: not overdue
        alfa("A-5", -10, -400_00, 0),     // a credit note: settles the oldest first
        alfa("A-6", -200, 50_00, 50_00),  // paid: not open
    ] {
        invoice(pool, company_id, one).await;
    }
    let beta = |number, partner, issued_days_ago| Inv {
        number,
        partner,
        due_in_days: 5,
        issued_days_ago,
        total: 350_00,
        ..Inv::default()
    };
    invoice(pool, company_id, beta("B-1", "BETA S.R.L.", 30)).await;
    invoice(pool, company_id, beta("B-2", "Beta Srl", 3)).await;
    invoice(
        pool,
        company_id,
        Inv {
            number: "C-1",
            partner: "Gama SA",
            total: 100_00,
            paid: 150_00,
            ..Inv::default()
        },
    )
    .await;
    invoice(
        pool,
        company_id,
        Inv {
            number: "S-1",
            direction: "received",
            partner: "Furnizor SRL",
            partner_cui: Some("14399840"),
            due_in_days: -61,
            issued_days_ago: 250,
            total: 900_00,
            ..Inv::default()
        },
    )
    .await;
    invoice(
        pool,
        company_id,
        Inv {
            number: "A-7",
            partner: "Alfa SRL",
            partner_cui: Some("18547290"),
            due_in_days: -1,
            issued_days_ago: 250,
            total: 100_00,
            currency: "EUR",
            ..Inv::default()
        },
    )
    .await;
}

fn ageing(d0: &str, d31: &str, d61: &str, d91: &str) -> Value {
    json!({"days_0_30": d0, "days_31_60": d31, "days_61_90": d61, "days_over_90": d91})
}

#[sqlx::test(migrations = false)]
async fn partners_net_their_credits_oldest_debt_first_per_currency(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    a_company_with_partners(&pool, id).await;

    // Act
    let (status, page) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}/partners"),
            None,
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{page}");
    let zero = ageing("0.00", "0.00", "0.00", "0.00");
    assert_eq!(
        page["items"],
        json!([
            {"direction": "issued", "name": "Alfa SRL", "cui": "18547290", "currency": "RON",
             "open_invoices": 5, "outstanding": "1600.00", "credit": "0.00", "overdue": "1400.00",
             "ageing": ageing("300.00", "500.00", "0.00", "600.00")},
            {"direction": "received", "name": "Furnizor SRL", "cui": "14399840", "currency": "RON",
             "open_invoices": 1, "outstanding": "900.00", "credit": "0.00", "overdue": "900.00",
             "ageing": ageing("0.00", "0.00", "900.00", "0.00")},
            {"direction": "issued", "name": "Beta Srl", "cui": null, "currency": "RON",
             "open_invoices": 2, "outstanding": "700.00", "credit": "0.00", "overdue": "0.00",
             "ageing": zero},
            {"direction": "issued", "name": "Gama SA", "cui": null, "currency": "RON",
             "open_invoices": 1, "outstanding": "0.00", "credit": "50.00", "overdue": "0.00",
             "ageing": zero},
            {"direction": "issued", "name": "Alfa SRL", "cui": "18547290", "currency": "EUR",
             "open_invoices": 1, "outstanding": "100.00", "credit": "0.00", "overdue": "100.00",
             "ageing": ageing("100.00", "0.00", "0.00", "0.00")},
        ]),
        "RON first, largest outstanding first; Beta's two spellings are one partner, named \
         as its newest invoice; the credit note took 400 off the > 90 days bucket"
    );
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(page["page_size"], 50);
    assert_eq!(
        page["totals"],
        json!([
            {"direction": "issued", "currency": "RON", "partners": 3, "outstanding": "2300.00",
             "credit": "50.00", "overdue": "1400.00",
             "ageing": ageing("300.00", "500.00", "0.00", "600.00")},
            {"direction": "received", "currency": "RON", "partners": 1, "outstanding": "900.00",
             "credit": "0.00", "overdue": "900.00",
             "ageing": ageing("0.00", "0.00", "900.00", "0.00")},
            {"direction": "issued", "currency": "EUR", "partners": 1, "outstanding": "100.00",
             "credit": "0.00", "overdue": "100.00",
             "ageing": ageing("100.00", "0.00", "0.00", "0.00")},
        ])
    );

    // A credit larger than every overdue bucket empties them all.
    invoice(
        &pool,
        id,
        Inv {
            number: "A-8",
            partner: "Alfa SRL",
            partner_cui: Some("18547290"),
            total: -1400_00,
            ..Inv::default()
        },
    )
    .await;
    let (_, issued) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}/partners?direction=issued"),
            None,
        )
        .await;
    let alfa = issued["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "Alfa SRL" && p["currency"] == "RON")
        .unwrap_or_else(|| panic!("Alfa listed: {issued}"));
    assert_eq!(
        (&alfa["outstanding"], &alfa["overdue"], &alfa["ageing"]),
        (&json!("200.00"), &json!("0.00"), &zero),
        "only the invoice due today is left: {alfa}"
    );
    assert!(
        issued["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["direction"] == "issued"),
        "the direction filter: {issued}"
    );
    assert!(
        issued["totals"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["direction"] == "issued"),
        "{issued}"
    );
}

#[sqlx::test(migrations = false)]
async fn partner_pages_follow_the_cursor_without_repeats_or_gaps(pool: PgPool) {
    // Arrange: 130 customers, in ties of ten equal amounts, and 3 suppliers.
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    sqlx::query(
        "INSERT INTO invoices (company_id, number, direction, partner, issue_date, due_date,
                               total_minor, paid_minor, currency)
         SELECT $1, 'F-' || n, CASE WHEN n <= 3 THEN 'received' ELSE 'issued' END,
                'Client ' || n, date '2026-01-01', date '2026-02-01', (n / 10 + 1) * 1000, 0, 'RON'
         FROM generate_series(1, 133) AS n",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("invoices");
    let t = token(owner);

    // Act: every page of both directions, then of the customers only.
    let walk = |query: &'static str| {
        let (app, t) = (&app, &t);
        async move {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let path = match &cursor {
                    Some(c) => format!("/api/v1/companies/{id}/partners?{query}&cursor={c}"),
                    None => format!("/api/v1/companies/{id}/partners?{query}"),
                };
                let (status, page) = app.api(Method::GET, t, &path, None).await;
                assert_eq!(status, 200, "{path}: {page}");
                pages += 1;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                assert!(items.len() <= 50, "{path}");
                seen.extend(items);
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
                assert!(pages < 10, "paging ends");
            }
            (seen, pages)
        }
    };
    let (all, pages) = walk("").await;
    let (issued, _) = walk("direction=issued").await;

    // Assert
    assert_eq!(pages, 3);
    let names: BTreeSet<&str> = all.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!((all.len(), names.len()), (133, 133), "each partner once");
    let amounts: Vec<i64> = all
        .iter()
        .map(|p| {
            let text = p["outstanding"].as_str().unwrap_or_default();
            text.replace('.', "").parse().unwrap_or(-1)
        })
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {amounts:?}"
    );
    assert_eq!(issued.len(), 130);
    assert!(issued.iter().all(|p| p["direction"] == "issued"));
}

#[sqlx::test(migrations = false)]
async fn partners_are_for_members_only_and_bad_parameters_are_explained(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let viewer = user(&pool, "viewer@example.ro").await;
    member(&pool, id, viewer, "viewer").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    invoice(&pool, id, Inv::default()).await;
    let path = format!("/api/v1/companies/{id}/partners");

    // Act
    let (viewer_status, viewer_page) = app.api(Method::GET, &token(viewer), &path, None).await;
    let (stranger_status, _) = app.api(Method::GET, &token(stranger), &path, None).await;
    let (missing_status, _) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{}/partners", id + 1000),
            None,
        )
        .await;

    // Assert
    assert_eq!(viewer_status, 200, "any member reads: {viewer_page}");
    assert_eq!(viewer_page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(stranger_status, 404, "no hint that the company exists");
    assert_eq!(missing_status, 404);
    for (query, why) in [
        ("direction=both", "unknown direction"),
        ("cursor=2026-01-10.42", "an invoice list's cursor"),
        ("cursor=RON.100.i.cABC", "a tampered cursor"),
        ("cursor=RON.0100.i.c18547290", "not as written"),
    ] {
        let (status, error) = app
            .api(Method::GET, &token(owner), &format!("{path}?{query}"), None)
            .await;
        assert_eq!(status, 400, "{why}: {error}");
        assert_eq!(error["error"], "bad_request", "{why}: {error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("must")),
            "{why}: {error}"
        );
    }
    let (status, empty) = app
        .api(
            Method::GET,
            &token(owner),
            &format!(
                "/api/v1/companies/{}/partners",
                company(&pool, owner, "Gol SRL").await
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, empty),
        (
            200,
            json!({"items": [], "page_size": 50, "next_cursor": null, "totals": []})
        )
    );
}

#[sqlx::test(migrations = false)]
async fn a_partner_page_is_read_from_the_open_invoices_index(pool: PgPool) {
    // Arrange: enough invoices, over two companies, that the planner
    // chooses freely; statistics current.
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owned_company_among_invoices(&pool).await;
    // Visible to index-only scans, as autovacuum would have left them.
    sqlx::query("VACUUM invoices")
        .execute(&pool)
        .await
        .expect("vacuum");
    let scans = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT idx_scan FROM pg_stat_user_indexes
             WHERE indexrelname = 'invoices_company_open_partners'",
        )
        .fetch_one(&pool)
        .await
        .expect("index statistics")
    };
    let before = scans().await;

    // Act
    let (status, page) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}/partners"),
            None,
        )
        .await;

    // Assert (statistics arrive a moment later)
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(page["totals"][0]["partners"], 500, "{}", page["totals"]);
    eventually("the index scanned", Duration::from_secs(10), || async {
        (scans().await > before).then_some(())
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn parteneri_names_who_owes_most_and_the_ageing_in_romanian(pool: PgPool) {
    // Arrange
    let ActiveOwner {
        app,
        tg,
        company_id: id,
        ..
    } = owner_with_active_company(&pool, TgUser::ro(500)).await;
    let empty = app.reply_to(&tg.text("/parteneri")).await;
    a_company_with_partners(&pool, id).await;

    // Act
    let reply = app.reply_to(&tg.text("/parteneri")).await;

    // Assert
    assert!(
        reply_text(&empty).contains("Nimeni nu datorează nimic firmei.")
            && reply_text(&empty).contains("Firma nu datorează nimic nimănui."),
        "{empty}"
    );
    assert!(
        !reply_text(&empty).contains("⏳"),
        "no ageing without debts"
    );
    let text = reply_text(&reply);
    for expected in [
        "<b>Parteneri</b> · Exemplu SRL",
        "<b>📤 Cine datorează cel mai mult firmei</b>\n1. <b>Alfa SRL</b> · CUI 18547290\nde încasat: 1.600,00 RON\ndin care restant: 1.400,00 RON\n2. <b>Beta Srl</b>\nde încasat: 700,00 RON\n3. <b>Alfa SRL</b> · CUI 18547290\nde încasat: 100,00 EUR\ndin care restant: 100,00 EUR\n",
        "<b>📥 Cui datorează firma cel mai mult</b>\n1. <b>Furnizor SRL</b> · CUI 14399840\nde plătit: 900,00 RON\ndin care restant: 900,00 RON\n",
        "<b>⏳ Restanțe de încasat, pe vechime (RON)</b>\n0–30 de zile: 300,00 RON\n31–60 de zile: 500,00 RON\n61–90 de zile: 0,00 RON\npeste 90 de zile: 600,00 RON\n",
        "<b>⏳ Restanțe de încasat, pe vechime (EUR)</b>\n0–30 de zile: 100,00 EUR\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(
        !text.contains("Gama"),
        "a partner only in credit owes nothing"
    );
}

#[sqlx::test(migrations = false)]
async fn partners_in_english_shows_five_a_side_and_is_in_help(pool: PgPool) {
    // Arrange: seven customers, the largest last inserted
    let ActiveOwner {
        app,
        tg,
        company_id: id,
        ..
    } = owner_with_active_company_in(&pool, TgUser::en(500), "Example Ltd", "EUR").await;
    for n in 1..=7_i64 {
        let (number, partner) = (format!("F-{n}"), format!("Customer {n} & Co"));
        invoice(
            &pool,
            id,
            Inv {
                number: &number,
                partner: &partner,
                due_in_days: -95,
                issued_days_ago: 250,
                total: n * 1000_00,
                currency: "EUR",
                ..Inv::default()
            },
        )
        .await;
    }

    // Act
    let reply = app.reply_to(&tg.text("/partners")).await;
    let help = app.reply_to(&tg.text("/help")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(
        text.contains(
            "<b>📤 Who owes the company most</b>\n1. <b>Customer 7 &amp; Co</b>\nto collect: EUR 7,000.00\nof which overdue: EUR 7,000.00\n"
        ),
        "{text}"
    );
    assert!(text.contains("5. <b>Customer 3 &amp; Co</b>"), "{text}");
    assert!(!text.contains("Customer 2 "), "five a side: {text}");
    assert!(
        text.contains("<b>📥 Whom the company owes most</b>\nThe company owes nobody anything.\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "<b>⏳ Overdue receivables by age (EUR)</b>\n0–30 days: EUR 0.00\n31–60 days: EUR 0.00\n61–90 days: EUR 0.00\nover 90 days: EUR 28,000.00\n"
        ),
        "{text}"
    );
    assert!(reply_text(&help).contains("/partners"), "{help}");
}
