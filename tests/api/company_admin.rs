//! Company administration in the bot: `/newcompany` (`/firmanoua`) with its
//! CUI check, `/companies` with each CUI, `/selectcompany` paging and search
//! by CUI.

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{TestApp, TgUser, buttons, reply_text, set_cui, spawn_app};
use crate::people::{activate, active_company, company, linked_user};

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

async fn company_with_cui(pool: &PgPool, owner: i64, name: &str, cui: Option<&str>) -> i64 {
    let id = company(pool, owner, name).await;
    set_cui(pool, id, cui).await;
    id
}

#[sqlx::test(migrations = false)]
async fn companies_shows_each_companys_cui(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 1610).await;
    let alfa = company_with_cui(&pool, ana, "Alfa SRL", Some("18547290")).await;
    company_with_cui(&pool, ana, "Beta SRL", None).await;
    activate(&pool, 1610, alfa).await;

    let reply = app.reply_to(&TgUser::ro(1610).text("/firme")).await;

    let text = reply_text(&reply);
    assert!(
        text.contains("✅ <b>Alfa SRL</b> · CUI 18547290 · proprietar"),
        "{text}"
    );
    assert!(
        text.contains("• Beta SRL · proprietar"),
        "no CUI, no label: {text}"
    );
}

#[sqlx::test(migrations = false)]
async fn selectcompany_pages_past_ten_companies_with_keyset_arrows(pool: PgPool) {
    // Arrange: 23 companies
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 1611).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(company(&pool, ana, &format!("Firma {i:02} SRL")).await);
    }
    let tg = TgUser::en(1611);
    let companies_on = |reply: &Value| -> Vec<String> {
        buttons(reply)
            .into_iter()
            .filter(|(_, data)| data.starts_with("co:"))
            .map(|(label, _)| label)
            .collect()
    };
    let arrows = |reply: &Value| -> Vec<(String, String)> {
        buttons(reply)
            .into_iter()
            .filter(|(_, data)| data.starts_with("cp:"))
            .collect()
    };
    let arrow = |reply: &Value, which: &str| -> String {
        arrows(reply)
            .into_iter()
            .find(|(label, _)| label == which)
            .map(|(_, data)| data)
            .unwrap_or_else(|| panic!("no {which} on {reply}"))
    };

    // Act: forward to the end, then back.
    let first = app.reply_to(&tg.text("/selectcompany")).await;
    let second = app.reply_to(&tg.callback(40, &arrow(&first, "▶"))).await;
    let third = app.reply_to(&tg.callback(40, &arrow(&second, "▶"))).await;
    let back = app.reply_to(&tg.callback(40, &arrow(&third, "◀"))).await;
    let back_to_first = app.reply_to(&tg.callback(40, &arrow(&back, "◀"))).await;

    // Assert: the cursor names the company the page ends (or starts) at.
    assert_eq!(companies_on(&first).len(), 10);
    assert_eq!(companies_on(&first)[0], "Firma 00 SRL");
    assert_eq!(
        arrows(&first),
        [("▶".to_owned(), format!("cp:a{}", ids[9]))]
    );
    assert_eq!(second["method"], "editMessageText", "{second}");
    assert_eq!(companies_on(&second)[0], "Firma 10 SRL");
    assert_eq!(
        arrows(&second),
        [
            ("◀".to_owned(), format!("cp:b{}", ids[10])),
            ("▶".to_owned(), format!("cp:a{}", ids[19]))
        ]
    );
    assert_eq!(
        companies_on(&third),
        ["Firma 20 SRL", "Firma 21 SRL", "Firma 22 SRL"]
    );
    assert_eq!(
        arrows(&third),
        [("◀".to_owned(), format!("cp:b{}", ids[20]))]
    );
    assert_eq!(companies_on(&back), companies_on(&second), "◀ goes back");
    assert_eq!(arrows(&back), arrows(&second));
    assert_eq!(companies_on(&back_to_first), companies_on(&first));
    assert_eq!(arrows(&back_to_first), arrows(&first), "no ◀ on the first");
}

#[sqlx::test(migrations = false)]
async fn selectcompany_page_buttons_of_old_builds_or_of_companies_left_are_no_longer_valid(
    pool: PgPool,
) {
    // Arrange: 12 companies, paged; then Ana leaves the one the ▶ names.
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 1613).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(company(&pool, ana, &format!("Firma {i:02} SRL")).await);
    }
    let tg = TgUser::en(1613);
    let first = app.reply_to(&tg.text("/selectcompany")).await;
    let next = format!("cp:a{}", ids[9]);
    assert!(
        buttons(&first).iter().any(|(_, data)| *data == next),
        "{first}"
    );
    sqlx::query("DELETE FROM company_members WHERE company_id = $1")
        .bind(ids[9])
        .execute(&pool)
        .await
        .expect("left");

    // Act
    let mut answers = Vec::new();
    for (data, why) in [
        (next.as_str(), "a company she left"),
        ("cp:2", "a page number of the previous build"),
        ("cp:a99999999", "a company she never had"),
    ] {
        answers.push((app.reply_to(&tg.callback(41, data)).await, why));
    }

    // Assert
    for (answer, why) in answers {
        assert_eq!(answer["method"], "answerCallbackQuery", "{why}: {answer}");
        assert!(
            reply_text(&answer).contains("no longer valid"),
            "{why}: {answer}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn selectcompany_finds_a_company_by_its_cui(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 1612).await;
    let alfa = company_with_cui(&pool, ana, "Alfa SRL", Some("18547290")).await;
    company_with_cui(&pool, ana, "Beta SRL", Some("14399840")).await;
    let bob = crate::people::user(&pool, "bob@example.ro").await;
    company_with_cui(&pool, bob, "Not Ana's SRL", Some("13548146")).await;

    let by_cui = app
        .reply_to(&TgUser::en(1612).text("/selectcompany RO 18547290"))
        .await;
    let others = app
        .reply_to(&TgUser::en(1612).text("/selectcompany 13548146"))
        .await;

    assert!(reply_text(&by_cui).contains("<b>Alfa SRL</b>"), "{by_cui}");
    assert_eq!(active_company(&pool, 1612).await, Some(alfa));
    assert!(
        reply_text(&others).contains("None of your companies"),
        "another person's company stays hidden: {others}"
    );
}

#[sqlx::test(migrations = false)]
async fn newcompany_keeps_the_companies_per_account_cap(pool: PgPool) {
    // Arrange: one company per account, already owned.
    let app = TestApp::builder(pool.clone())
        .config(|c| c.quotas.companies_per_account = 1)
        .spawn()
        .await;
    let tg = TgUser::en(1650);
    app.reply_to(&tg.text("/register")).await;
    app.reply_to(&tg.text("/newcompany First SRL")).await;

    // Act
    let second = app.reply_to(&tg.text("/newcompany Second SRL")).await;

    // Assert
    let text = reply_text(&second);
    assert!(text.contains("You already own 1 company"), "{text}");
    assert_eq!(companies_named(&pool, "First SRL").await.len(), 1);
    assert!(companies_named(&pool, "Second SRL").await.is_empty());
}
