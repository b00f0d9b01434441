//! Searching invoices by partner name, CUI or number: `/facturi <text>`
//! (`/invoices <text>`) with the unpaid/paid words, its keyset pages with the
//! search in the buttons, and `GET .../invoices?q=`.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{
    ActiveOwner, TestApp, TgUser, keyboard_data, listed_numbers as numbers,
    owner_with_active_company, reply_text,
};
use crate::people::{Inv, invoice, token};

/// Four invoices: one partner spelt two ways (with and without its CUI and
/// diacritics), a supplier from Iași, and a customer from Cluj.
async fn searchable(pool: &PgPool) -> (TestApp, TgUser, i64, i64) {
    let ActiveOwner {
        app,
        tg,
        user_id: owner,
        company_id: id,
    } = owner_with_active_company(pool, TgUser::ro(500)).await;
    for one in [
        Inv {
            number: "F-100",
            partner: "Brașov Trans SRL",
            partner_cui: Some("18547290"),
            ..Inv::default()
        },
        Inv {
            number: "F-101",
            partner: "BRASOV TRANS S.R.L.",
            paid: 100_00,
            ..Inv::default()
        },
        Inv {
            number: "ABC-7",
            direction: "received",
            partner: "Furnizor Iași SA",
            partner_cui: Some("14399840"),
            ..Inv::default()
        },
        Inv {
            number: "X-2026-12",
            partner: "Cluj Impex 100%_",
            ..Inv::default()
        },
    ] {
        invoice(pool, id, one).await;
    }
    (app, tg, owner, id)
}

#[sqlx::test(migrations = false)]
async fn facturi_finds_a_partner_a_cui_or_a_number_with_or_without_diacritics(pool: PgPool) {
    // Arrange
    let (app, tg, _, _) = searchable(&pool).await;
    let cases: [(&str, &[&str], &str); 14] = [
        (
            "/facturi brasov",
            &["F-101", "F-100"],
            "no diacritics finds Brașov",
        ),
        (
            "/facturi BRAȘOV trans",
            &["F-101", "F-100"],
            "any case, spaces ignored",
        ),
        (
            "/facturi brasov-trans",
            &["F-101", "F-100"],
            "punctuation ignored",
        ),
        ("/facturi iasi", &["ABC-7"], "Iași"),
        ("/facturi Iaşi", &["ABC-7"], "ş with a cedilla"),
        ("/facturi RO14399840", &["ABC-7"], "a CUI with RO"),
        ("/facturi ro 14399840", &["ABC-7"], "RO and a space"),
        ("/facturi 18547290", &["F-100"], "a CUI without RO"),
        ("/facturi f-101", &["F-101"], "a number"),
        ("/facturi 2026-12", &["X-2026-12"], "part of a number"),
        ("/facturi neplatite brasov", &["F-100"], "filter word first"),
        ("/facturi brasov platite", &["F-101"], "filter word last"),
        ("/invoices unpaid iasi", &["ABC-7"], "English"),
        (
            "/facturi 100%_",
            &["F-100", "X-2026-12"],
            "% and _ are no wildcards: 100",
        ),
    ];
    for (command, expected, why) in cases {
        // Act
        let reply = app.reply_to(&tg.text(command)).await;

        // Assert
        let mut found = numbers(&reply);
        found.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        assert_eq!(found, expected, "{why}: {command}: {reply}");
    }
    let none = app.reply_to(&tg.text("/facturi zzz")).await;
    assert!(
        reply_text(&none).contains("🔎 „zzz”\nNicio factură nu se potrivește."),
        "{none}"
    );
    let searched = app.reply_to(&tg.text("/facturi Brașov")).await;
    assert!(reply_text(&searched).contains("🔎 „brasov”"), "{searched}");
    for nothing in ["/facturi ???", "/facturi neplatite %", "/facturi _"] {
        let reply = app.reply_to(&tg.text(nothing)).await;
        assert!(
            reply_text(&reply).contains("/facturi brasov"),
            "{nothing}: explained: {reply}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn a_searched_list_pages_with_the_search_in_buttons_of_at_most_64_bytes(pool: PgPool) {
    // Arrange: 13 invoices of a partner with a long name (ids made large, so
    // the cursor is at its longest), and others that must never show.
    let (app, tg, _, id) = searchable(&pool).await;
    sqlx::query("ALTER SEQUENCE invoices_id_seq RESTART WITH 9000000000000000000")
        .execute(&pool)
        .await
        .expect("large ids");
    let long = "Societatea Comercială Transporturi Internaționale Brașov SRL";
    for n in 0..13 {
        let number = format!("T-{n:02}");
        invoice(
            &pool,
            id,
            Inv {
                number: &number,
                partner: long,
                ..Inv::default()
            },
        )
        .await;
    }
    let mut seen = Vec::new();

    // Act: the first page, then ▶ until there is none.
    let mut reply = app.reply_to(&tg.text(&format!("/facturi {long}"))).await;
    loop {
        seen.extend(numbers(&reply));
        let data = keyboard_data(&reply);
        for d in &data {
            assert!(d.len() <= 64, "{d} is {} bytes", d.len());
            assert!(
                d.ends_with(":societateacomercialatran"),
                "the search rides along: {d}"
            );
        }
        match data.iter().find(|d| !d.starts_with("inv:a::")) {
            Some(next) => reply = app.reply_to(&tg.callback(9, next)).await,
            None => break,
        }
    }

    // Assert: the search (its first 24 letters and digits) on every page
    seen.sort();
    let expected: Vec<String> = (0..13).map(|n| format!("T-{n:02}")).collect();
    assert_eq!(seen, expected);
}

#[sqlx::test(migrations = false)]
async fn the_api_searches_the_same_way(pool: PgPool) {
    // Arrange
    let (app, _, owner, id) = searchable(&pool).await;
    let t = token(owner);
    let list = |query: &'static str| {
        let (app, t) = (&app, &t);
        async move {
            let path = format!("/api/v1/companies/{id}/invoices?{query}");
            app.api(Method::GET, t, &path, None).await
        }
    };

    // Act
    let brasov = list("q=bra%C8%99ov").await;
    let cui = list("status=unpaid&q=RO+14399840").await;
    let nothing = list("q=%3F%3F").await;

    // Assert
    let found = |page: &Value| -> Vec<String> {
        let mut n: Vec<String> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["number"].as_str().map(str::to_owned))
            .collect();
        n.sort();
        n
    };
    assert_eq!(brasov.0, 200, "{}", brasov.1);
    assert_eq!(found(&brasov.1), ["F-100", "F-101"]);
    assert_eq!(found(&cui.1), ["ABC-7"]);
    assert_eq!(nothing.0, 400, "{}", nothing.1);
    assert!(
        nothing.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("q must hold a letter or a digit")),
        "{}",
        nothing.1
    );
}
