//! e-Factura import through the API: UBL documents and SPV's ZIPs in, the
//! company's invoices out; hostile files refused; the dashboard's totals
//! equal the documents' sums. Fixtures: tests/fixtures/efactura/ (make.py).

use reqwest::Method;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    EFACTURA_CUI as OUR_CUI, TestApp, TgUser, efactura_fixture as fixture, reply_text, set_cui,
    spawn_app,
};
use crate::people::{activate, company, linked_user, member, token, user};

async fn owner_with_cui(pool: &PgPool, cui: Option<&str>) -> (String, i64) {
    let owner = user(pool, "owner@example.ro").await;
    let id = company(pool, owner, "Atelier Digital SRL").await;
    set_cui(pool, id, cui).await;
    (token(owner), id)
}

/// POSTs `body` as `content_type` to the company's import; the status, `Retry-After`
/// and the JSON answer.
async fn import(
    app: &TestApp,
    token: &str,
    id: i64,
    content_type: &str,
    body: Vec<u8>,
    filename: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/companies/{id}/efactura")))
        .bearer_auth(token)
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if let Some(name) = filename {
        request = request.header(
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        );
    }
    let response = request.send().await.expect("answers");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get(RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"));
    (status, retry, json)
}

async fn invoices(
    pool: &PgPool,
) -> Vec<(String, String, String, Option<String>, i64, i64, String)> {
    sqlx::query_as(
        "SELECT direction, number, partner, partner_cui, total_minor, paid_minor, currency
         FROM invoices ORDER BY direction, number",
    )
    .fetch_all(pool)
    .await
    .expect("invoices")
}

#[sqlx::test(migrations = false)]
async fn an_spv_zip_of_many_documents_imports_each_and_the_dashboard_adds_them_up(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;
    let zip = fixture("spv-noiembrie.zip");

    // Act
    let first = import(&app, &t, id, "application/zip", zip.clone(), None).await;
    let again = import(&app, &t, id, "application/zip", zip, None).await;
    let (status, dashboard) = app
        .api(
            Method::GET,
            &t,
            &format!("/api/v1/companies/{id}/dashboard"),
            None,
        )
        .await;

    // Assert
    assert_eq!(
        (first.0, &first.2),
        (
            200,
            &json!({"imported": 7, "updated": 0, "unchanged": 0, "skipped": []})
        )
    );
    assert_eq!(
        (again.0, &again.2),
        (
            200,
            &json!({"imported": 0, "updated": 0, "unchanged": 7, "skipped": []})
        ),
        "re-importing changes nothing"
    );
    let rows = invoices(&pool).await;
    let own = |s: &str| s.to_owned();
    assert_eq!(
        rows,
        [
            (
                own("issued"),
                own("AD-2026-0147"),
                own("Construct Nord SA"),
                Some(own("30684326")),
                1_428_000,
                0,
                own("RON")
            ),
            (
                own("issued"),
                own("AD-2026-0150"),
                own("Construct Nord SA"),
                Some(own("30684326")),
                -59_500,
                0,
                own("RON")
            ),
            (
                own("issued"),
                own("ADE 31"),
                own("Nordwind Logistik GmbH"),
                None,
                245_050,
                0,
                own("EUR")
            ),
            (
                own("issued"),
                own("NC AD-2026-0152"),
                own("Construct Nord SA"),
                Some(own("30684326")),
                -119_000,
                0,
                own("RON")
            ),
            (
                own("received"),
                own("EF-778812"),
                own("Energia Furnizare SA"),
                Some(own("35456787")),
                86_275,
                0,
                own("RON")
            ),
            (
                own("received"),
                own("EFC-4410"),
                own("Energia Furnizare SA"),
                Some(own("35456787")),
                -5_950,
                0,
                own("RON")
            ),
            (
                own("received"),
                own("PCL 9921"),
                own("Papetăria Centrală & Birotică SRL"),
                Some(own("14265474")),
                34_510,
                10_000,
                own("RON")
            ),
        ]
    );
    // The documents' sums: issued RON 14 280.00 − 595.00 − 1 190.00; EUR 2 450.50;
    // received RON 862.75 − 59.50 + 345.10, of which 100.00 prepaid.
    assert_eq!(status, 200, "{dashboard}");
    let totals = |side: &str| -> Vec<(String, String, String)> {
        dashboard[side]
            .as_array()
            .expect("per currency")
            .iter()
            .map(|c| {
                let text = |k: &str| c[k].as_str().expect(k).to_owned();
                (text("currency"), text("total"), text("paid"))
            })
            .collect()
    };
    assert_eq!(
        totals("receivables"),
        [
            (own("RON"), own("12495.00"), own("0.00")),
            (own("EUR"), own("2450.50"), own("0.00"))
        ]
    );
    assert_eq!(
        totals("payables"),
        [(own("RON"), own("1148.35"), own("100.00"))]
    );
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn in_a_zip_each_bad_file_is_skipped_with_its_reason_and_the_rest_import(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;

    // Act
    let (status, _, answer) =
        import(&app, &t, id, "application/zip", fixture("mixed.zip"), None).await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["imported"], 2, "{answer}");
    let skipped: Vec<(&str, &str)> = answer["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    let expected = [
        (
            "4200000002.xml",
            "the issue date (cbc:IssueDate) is not valid: \"03.11.2026\" is not a YYYY-MM-DD date",
        ),
        (
            "4200000004.xml",
            "neither the supplier nor the customer is this company (by CUI)",
        ),
        (
            "4200000005.xml",
            "the document has a DTD (<!DOCTYPE), which e-Factura never uses",
        ),
        ("factura.pdf", "not an XML file"),
        (
            "alta.zip",
            "a ZIP inside a ZIP is not opened; upload it on its own",
        ),
    ];
    assert_eq!(skipped, expected, "the signature is left out, not skipped");
    let numbers: Vec<String> = invoices(&pool).await.into_iter().map(|r| r.1).collect();
    assert_eq!(numbers, ["AD-2026-0147", "EF-778812"]);
}

#[sqlx::test(migrations = false)]
async fn one_xml_document_imports_and_a_changed_one_updates(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;
    let original = fixture("pcl-9921.xml");
    let paid_more = String::from_utf8(original.clone())
        .expect("utf-8")
        .replace(">100.00</cbc:PrepaidAmount>", ">345.10</cbc:PrepaidAmount>")
        .into_bytes();

    // Act
    let first = import(&app, &t, id, "application/xml", original, Some("pcl.xml")).await;
    let second = import(&app, &t, id, "text/xml; charset=utf-8", paid_more, None).await;
    let foreign = import(
        &app,
        &t,
        id,
        "application/xml",
        fixture("alt-client-77.xml"),
        None,
    )
    .await;

    // Assert
    assert_eq!(
        first.2,
        json!({"imported": 1, "updated": 0, "unchanged": 0, "skipped": []})
    );
    assert_eq!(
        second.2,
        json!({"imported": 0, "updated": 1, "unchanged": 0, "skipped": []})
    );
    assert_eq!(
        foreign.2,
        json!({"imported": 0, "updated": 0, "unchanged": 0, "skipped": [
            {"file": "document.xml", "reason": "neither the supplier nor the customer is this company (by CUI)"}
        ]})
    );
    let rows = invoices(&pool).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].4, rows[0].5), (34_510, 34_510), "paid in full now");
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn hostile_files_are_refused_and_nothing_is_written(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (t, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;
    let too_big = vec![b' '; 10 * 1024 * 1024 + 1];
    let cases = [
        (
            "hostile/bomb.zip",
            "application/zip",
            422,
            "unpacked, the ZIP archive would be larger than 10 MB",
        ),
        (
            "hostile/lying-bomb.zip",
            "application/zip",
            422,
            "the ZIP archive looks like a zip bomb (a file holds more than its header declares)",
        ),
        (
            "hostile/too-many.zip",
            "application/zip",
            422,
            "the ZIP archive has 1001 files; at most 1000 are read at once",
        ),
        (
            "hostile/truncated.zip",
            "application/zip",
            422,
            "this is not a ZIP archive, or it is cut short",
        ),
    ];

    // Act, Assert
    for (file, content_type, want_status, want_message) in cases {
        let (status, _, answer) = import(&app, &t, id, content_type, fixture(file), None).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want_status, Some(want_message)),
            "{file}: {answer}"
        );
    }
    for (file, reason) in [
        (
            "hostile/billion-laughs.xml",
            "the document has a DTD (<!DOCTYPE), which e-Factura never uses",
        ),
        (
            "hostile/external-entity.xml",
            "the document has a DTD (<!DOCTYPE), which e-Factura never uses",
        ),
        (
            "hostile/deep-nesting.xml",
            "the document nests deeper than 64 elements",
        ),
    ] {
        let (status, _, answer) =
            import(&app, &t, id, "application/xml", fixture(file), None).await;
        assert_eq!(status, 200, "{file}: {answer}");
        assert_eq!(answer["skipped"][0]["reason"], reason, "{file}");
    }
    let (status, _, answer) = import(&app, &t, id, "application/zip", too_big, None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (status, _, answer) =
        import(&app, &t, id, "text/plain", fixture("pcl-9921.xml"), None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    assert!(invoices(&pool).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn only_owners_and_accountants_of_a_company_with_a_cui_import(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;
    let viewer = user(&pool, "viewer@example.ro").await;
    member(&pool, id, viewer, "viewer").await;
    let accountant = user(&pool, "accountant@example.ro").await;
    member(&pool, id, accountant, "accountant").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    let other_owner = user(&pool, "other@example.ro").await;
    let without_cui = company(&pool, other_owner, "Fără CUI SRL").await;
    let xml = || fixture("f-ad-2026-0147.xml");

    // Act
    let viewer_tries = import(&app, &token(viewer), id, "application/xml", xml(), None).await;
    let stranger_tries = import(&app, &token(stranger), id, "application/xml", xml(), None).await;
    let accountant_does =
        import(&app, &token(accountant), id, "application/xml", xml(), None).await;
    let no_cui = import(
        &app,
        &token(other_owner),
        without_cui,
        "application/xml",
        xml(),
        None,
    )
    .await;

    // Assert
    assert_eq!(viewer_tries.0, 403);
    assert_eq!(stranger_tries.0, 404, "no hint that the company exists");
    assert_eq!(accountant_does.2["imported"], 1);
    assert_eq!(no_cui.0, 422);
    assert!(
        no_cui.2["message"].as_str().unwrap().contains("no CUI"),
        "{}",
        no_cui.2
    );
    let _ = owner;
}

#[sqlx::test(migrations = false)]
async fn when_imports_are_at_their_bound_the_next_waits_for_retry_after(pool: PgPool) {
    // Arrange: no slot free, as when two imports are running.
    let app = TestApp::builder(pool.clone())
        .app(|app| app.imports = ledgerbot::services::finance::efactura::Imports::new(0))
        .spawn()
        .await;
    let (t, id) = owner_with_cui(&pool, Some(OUR_CUI)).await;

    // Act
    let (status, retry, answer) = import(
        &app,
        &t,
        id,
        "application/xml",
        fixture("f-ad-2026-0147.xml"),
        None,
    )
    .await;

    // Assert
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("busy")),
        "{answer}"
    );
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(invoices(&pool).await.is_empty());
}

/// A Romanian-speaking owner, linked, with the fixtures' company active.
async fn linked_owner(pool: &PgPool, role: &str) -> (TgUser, i64) {
    let tg = TgUser::ro(7100);
    let user_id = linked_user(pool, "ana@example.ro", tg.id).await;
    let owner = user(pool, "owner@example.ro").await;
    let id = company(pool, owner, "Atelier Digital SRL").await;
    set_cui(pool, id, Some(OUR_CUI)).await;
    member(pool, id, user_id, role).await;
    activate(pool, tg.id, id).await;
    (tg, id)
}

fn sent_texts(calls: &[crate::fake_telegram::Call]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.method == "sendMessage")
        .map(|c| c.params["text"].as_str().expect("text").to_owned())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_zip_sent_to_the_bot_is_downloaded_imported_and_summed_up(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (tg, _) = linked_owner(&pool, "accountant").await;
    let zip = fixture("mixed.zip");
    app.telegram.serve_file("F-1", zip.clone());

    // Act
    let answer = app
        .reply_to(&tg.document("F-1", "noiembrie.zip", zip.len()))
        .await;
    let calls = app.telegram.wait_for_calls(2).await;

    // Assert
    assert_eq!(
        reply_text(&answer),
        "Import <b>noiembrie.zip</b> în Atelier Digital SRL; îți scriu când e gata."
    );
    assert_eq!(calls[0].method, "getFile");
    assert_eq!(calls[0].params["file_id"], "F-1");
    let summary = &sent_texts(&calls)[0];
    assert!(
        summary.starts_with(
            "<b>e-Factura</b>: 2 facturi noi, 0 facturi actualizate, 0 facturi neschimbate.\n\n5 fișiere sărite:\n"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("• factura.pdf: nu este un fișier XML"),
        "{summary}"
    );
    let numbers: Vec<String> = invoices(&pool).await.into_iter().map(|r| r.1).collect();
    assert_eq!(numbers, ["AD-2026-0147", "EF-778812"]);

    // The same file again: nothing changes.
    app.reply_to(&tg.document("F-1", "noiembrie.zip", zip.len()))
        .await;
    let calls = app.telegram.wait_for_calls(4).await;
    assert!(
        sent_texts(&calls)[1].starts_with(
            "<b>e-Factura</b>: 0 facturi noi, 0 facturi actualizate, 2 facturi neschimbate."
        ),
        "{:?}",
        sent_texts(&calls)
    );
}

#[sqlx::test(migrations = false)]
async fn other_documents_and_viewers_get_a_clear_answer_and_nothing_is_downloaded(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (tg, _) = linked_owner(&pool, "viewer").await;
    let (owner_tg, _) = {
        let tg = TgUser::en(7200);
        let user_id = linked_user(&pool, "bob@example.ro", tg.id).await;
        let id = company(&pool, user_id, "Bob SRL").await;
        activate(&pool, tg.id, id).await;
        (tg, id)
    };

    // Act
    let viewer = app.reply_to(&tg.document("F-2", "f.xml", 100)).await;
    let photo = app
        .reply_to(&owner_tg.document("F-3", "poza.jpg", 100))
        .await;
    let huge = app
        .reply_to(&owner_tg.document("F-4", "mare.zip", 11 * 1024 * 1024))
        .await;
    let stranger = app
        .reply_to(&TgUser::en(7300).document("F-5", "f.xml", 100))
        .await;

    // Assert
    assert!(
        reply_text(&viewer).starts_with("Ai doar drept de citire"),
        "{viewer}"
    );
    assert_eq!(
        reply_text(&photo),
        "I can only import e-Factura invoices: an XML file, or the ZIP downloaded from SPV."
    );
    assert!(
        reply_text(&huge).starts_with("The file is over 10 MB"),
        "{huge}"
    );
    assert!(
        reply_text(&stranger).starts_with("Your Telegram account is not linked yet"),
        "{stranger}"
    );
    assert!(
        app.telegram.calls().is_empty(),
        "nothing downloaded, nothing sent later"
    );
}

#[sqlx::test(migrations = false)]
async fn an_import_past_the_invoices_limit_keeps_nothing_and_says_so(pool: PgPool) {
    // Arrange: a company allowed 2 invoices that holds one; a ZIP of two.
    let app = crate::helpers::TestApp::builder(pool.clone())
        .config(|c| c.quotas.invoices_per_company = 2)
        .spawn()
        .await;
    let (tg, id) = linked_owner(&pool, "accountant").await;
    let second = user(&pool, "second@example.ro").await;
    member(&pool, id, second, "owner").await;
    let t = token(second);
    crate::people::invoice(&pool, id, crate::people::Inv::default()).await;
    let zip = fixture("mixed.zip");
    app.telegram.serve_file("F-1", zip.clone());

    // Act
    let (status, _, api) = import(&app, &t, id, "application/zip", zip.clone(), None).await;
    app.reply_to(&tg.document("F-1", "noiembrie.zip", zip.len()))
        .await;
    let calls = app.telegram.wait_for_calls(2).await;

    // Assert
    assert_eq!(status, 422, "{api}");
    assert_eq!(api["error"], "limit_reached", "{api}");
    assert_eq!(
        api["message"],
        "limit reached: at most 2 invoices per company; this request would make 3"
    );
    assert_eq!(
        sent_texts(&calls),
        [
            "Nu am importat nimic: o firmă poate avea cel mult 2 facturi, iar cu acest fișier \
          ar avea 3 facturi."
        ]
    );
    assert_eq!(
        invoices(&pool).await.len(),
        1,
        "nothing of either import kept"
    );

    // Room for both: imported.
    sqlx::query("DELETE FROM invoices")
        .execute(&pool)
        .await
        .expect("room");
    let (status, _, api) = import(&app, &t, id, "application/zip", zip, None).await;
    assert_eq!((status, &api["imported"]), (200, &json!(2)), "{api}");
}
