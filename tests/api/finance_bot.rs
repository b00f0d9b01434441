//! The finance commands in Telegram: companies and the active company, the
//! dashboard, invoices with paging buttons, treasury, `/add`, `/clear`,
//! `/language`, and every refusal (not linked, no company, tampered buttons).
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{
    TestApp, TgUser, keyboard_data, listed_numbers, owner_with_active_company, reply_text,
    spawn_app,
};
use crate::people::{
    Inv, activate, active_company, cash_entries, company, company_in, invoice, linked_user, member,
    user,
};

#[sqlx::test(migrations = false)]
async fn every_finance_command_tells_an_unlinked_person_how_to_link(pool: PgPool) {
    let app = spawn_app(pool).await;
    let stranger = TgUser::en(404);
    for command in [
        "/companies",
        "/firme",
        "/selectcompany",
        "/dashboard",
        "/sold",
        "/facturi",
        "/trezorerie",
        "/add 10 taxi",
        "/clear",
        "/language ro",
    ] {
        let reply = app.reply_to(&stranger.text(command)).await;
        let text = reply_text(&reply);
        assert!(
            text.contains("/register") && text.contains("/start &lt;code&gt;"),
            "{command}: {text}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn commands_that_need_a_company_say_how_to_choose_one(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    linked_user(&pool, "ana@example.ro", 500).await;
    for command in ["/dashboard", "/facturi", "/trezorerie", "/add 10 taxi"] {
        let reply = app.reply_to(&TgUser::ro(500).text(command)).await;
        assert!(
            reply_text(&reply).contains("/alegefirma"),
            "{command}: {reply}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn companies_are_listed_with_the_active_one_marked_and_names_escaped(pool: PgPool) {
    // Arrange
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let other = user(&pool, "x@example.ro").await;
    let shared = company(&pool, other, "<b>Rău</b> & Fiii").await;
    member(&pool, shared, s.user_id, "viewer").await;
    company(&pool, other, "Not Ana's SRL").await;

    // Act
    let reply = s.app.reply_to(&s.tg.text("/companies")).await;

    // Assert
    let text = reply_text(&reply);
    assert_eq!(reply["parse_mode"], "HTML");
    assert!(text.contains("✅ <b>Exemplu SRL</b> · owner"), "{text}");
    assert!(
        text.contains("• &lt;b&gt;Rău&lt;/b&gt; &amp; Fiii · viewer"),
        "{text}"
    );
    assert!(
        !text.contains("Not Ana"),
        "only the person's companies: {text}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_single_match_is_selected_without_asking(pool: PgPool) {
    // Arrange
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let second = s.another_company("Alfa & Omega SRL").await;

    // Act
    let reply = s.app.reply_to(&s.tg.text("/selectcompany omega")).await;

    // Assert
    assert!(
        reply_text(&reply).contains("<b>Alfa &amp; Omega SRL</b>"),
        "{reply}"
    );
    assert!(keyboard_data(&reply).is_empty());
    assert_eq!(active_company(&pool, 500).await, Some(second));
}

#[sqlx::test(migrations = false)]
async fn several_matches_get_buttons_and_too_many_ask_to_narrow(pool: PgPool) {
    // Arrange: 12 companies, one with a % in its name
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let mut ids = vec![s.company_id];
    for i in 0..10 {
        ids.push(company(&pool, s.user_id, &format!("Firma {i:02} SRL")).await);
    }
    let percent = company(&pool, s.user_id, "Reducere 50% SRL").await;

    // Act
    let all = s.app.reply_to(&s.tg.text("/selectcompany")).await;
    let firma = s.app.reply_to(&s.tg.text("/selectcompany firma 0")).await;
    let wildcard = s.app.reply_to(&s.tg.text("/alegefirma 50%")).await;
    let nothing = s.app.reply_to(&s.tg.text("/selectcompany _")).await;

    // Assert
    let all = keyboard_data(&all);
    assert_eq!(
        all.iter().filter(|d| d.starts_with("co:")).count(),
        10,
        "10 to a page"
    );
    assert!(
        all.iter().any(|d| d.starts_with("cp:a")),
        "and ▶ to the rest: {all:?}"
    );
    let data = keyboard_data(&firma);
    assert_eq!(data.len(), 10, "Firma 00..09: {firma}");
    assert!(!reply_text(&firma).contains("narrow"), "exactly ten fit");
    assert!(data.iter().all(|d| d.starts_with("co:")));
    assert_eq!(
        active_company(&pool, 500).await,
        Some(percent),
        "'50%' matched one literally"
    );
    assert!(reply_text(&wildcard).contains("Reducere 50% SRL"));
    assert!(
        reply_text(&nothing).contains("None of your companies contains"),
        "_ is literal"
    );
}

#[sqlx::test(migrations = false)]
async fn pressing_a_button_selects_the_company_and_answers_the_press(pool: PgPool) {
    // Arrange
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let second = s.another_company("Beta SRL").await;
    let menu = s.app.reply_to(&s.tg.text("/selectcompany")).await;
    let data = keyboard_data(&menu);
    assert_eq!(
        data,
        vec![format!("co:{second}"), format!("co:{}", s.company_id)]
    );

    // Act
    let reply = s.app.reply_to(&s.tg.callback(77, &data[0])).await;

    // Assert
    assert_eq!(reply["method"], "editMessageText", "{reply}");
    assert_eq!(reply["message_id"], 77);
    assert!(reply_text(&reply).contains("<b>Beta SRL</b>"));
    assert_eq!(active_company(&pool, 500).await, Some(second));
    let calls = s.app.telegram.wait_for_calls(1).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "answerCallbackQuery");
}

#[sqlx::test(migrations = false)]
async fn tampered_or_replayed_buttons_are_refused_and_change_nothing(pool: PgPool) {
    // Arrange: Ana owns Exemplu (active); Bob owns Secret; Ana was in Gone, then removed
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let bob = user(&pool, "bob@example.ro").await;
    let secret = company(&pool, bob, "Secret SRL").await;
    let gone = company(&pool, bob, "Gone SRL").await;
    member(&pool, gone, s.user_id, "viewer").await;
    let menu = s.app.reply_to(&s.tg.text("/selectcompany gone")).await;
    assert_eq!(
        active_company(&pool, 500).await,
        Some(gone),
        "selected while a member: {menu}"
    );
    activate(&pool, 500, s.company_id).await;
    sqlx::query("DELETE FROM company_members WHERE company_id = $1 AND user_id = $2")
        .bind(gone)
        .bind(s.user_id)
        .execute(&pool)
        .await
        .expect("membership removed");
    let cases = [
        (
            format!("co:{secret}"),
            "another person's company",
            "not a member",
        ),
        (
            format!("co:{gone}"),
            "replayed after losing membership",
            "not a member",
        ),
        (
            format!("co:{}", secret + 1000),
            "a company that does not exist",
            "not a member",
        ),
        ("co:abc".to_owned(), "garbage id", "no longer valid"),
        ("co:-1".to_owned(), "negative id", "no longer valid"),
        ("zzz".to_owned(), "unknown kind", "no longer valid"),
        (String::new(), "empty data", "no longer valid"),
    ];
    for (data, why, notice) in cases {
        // Act
        let reply = s.app.reply_to(&s.tg.callback(77, &data)).await;

        // Assert
        assert_eq!(reply["method"], "answerCallbackQuery", "{why}: {reply}");
        assert!(
            reply["text"].as_str().unwrap_or_default().contains(notice),
            "{why}: {reply}"
        );
        assert_eq!(
            active_company(&pool, 500).await,
            Some(s.company_id),
            "{why}"
        );
    }
    let stranger = s
        .app
        .reply_to(&TgUser::en(999).callback(77, &format!("co:{secret}")))
        .await;
    assert_eq!(stranger["method"], "answerCallbackQuery");
    assert!(
        stranger["text"]
            .as_str()
            .unwrap_or_default()
            .contains("/register")
    );
}

#[sqlx::test(migrations = false)]
async fn a_member_removed_from_the_active_company_loses_it(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let bob = user(&pool, "bob@example.ro").await;
    let theirs = company(&pool, bob, "Bob SRL").await;
    // Active company set, but no membership (as after a removal done in SQL).
    activate(&pool, 500, theirs).await;

    let reply = s.app.reply_to(&s.tg.text("/dashboard")).await;

    assert!(reply_text(&reply).contains("/selectcompany"), "{reply}");
    assert!(!reply_text(&reply).contains("Bob SRL"));
}

#[sqlx::test(migrations = false)]
async fn add_reads_each_notation_and_records_exact_amounts(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::ro(500)).await;
    let cases = [
        ("12,50", -12_50, "Romanian decimals: an expense"),
        ("1.234,56", -1_234_56, "Romanian thousands and decimals"),
        ("12.50", -12_50, "English decimals"),
        ("1,234.56", -1_234_56, "English thousands and decimals"),
        ("+100", 100_00, "a plus records income"),
        ("-7", -7_00, "an explicit minus is an expense"),
    ];
    for (amount, want, why) in cases {
        // Act
        let reply = s
            .app
            .reply_to(&s.tg.text(&format!("/add {amount} cafea <b>")))
            .await;

        // Assert
        assert!(
            reply_text(&reply).contains("cafea &lt;b&gt;"),
            "{why}: {reply}"
        );
        let entries = cash_entries(&pool, s.company_id).await;
        assert_eq!(entries.last().map(|e| e.0), Some(want), "{why}");
    }
    let last = s.app.reply_to(&s.tg.text("/add 1.234,56 chirie")).await;
    assert!(
        reply_text(&last).contains("cheltuiala de <b>1.234,56 RON</b>"),
        "{last}"
    );
}

#[sqlx::test(migrations = false)]
async fn add_refuses_unclear_amounts_and_notes_in_the_persons_language(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let cases = [
        ("/add 1.234 taxi", "ambiguous", "thousands or decimals?"),
        ("/add 1,234 taxi", "ambiguous", "the same with a comma"),
        ("/add abc taxi", "is not an amount", "not a number"),
        (
            "/add 12,345 taxi",
            "ambiguous",
            "three decimals read as thousands",
        ),
        ("/add 0 taxi", "cannot be zero", "zero"),
        ("/add +0,00 taxi", "cannot be zero", "signed zero"),
        ("/add 12", "Send /add", "no note"),
        ("/add", "Send /add", "nothing"),
        (
            &*format!("/add 12 {}", "n".repeat(201)),
            "Send /add",
            "note of 201 characters",
        ),
        ("/add 1000000000000 big", "too large", "beyond the maximum"),
    ];
    for (command, expect, why) in cases {
        let reply = s.app.reply_to(&s.tg.text(command)).await;
        assert!(reply_text(&reply).contains(expect), "{why}: {reply}");
    }
    assert!(cash_entries(&pool, s.company_id).await.is_empty());
    let ro = s
        .app
        .reply_to(&TgUser::ro(500).text("/add 1.234 taxi"))
        .await;
    assert!(reply_text(&ro).contains("ambiguă"), "Romanian: {ro}");
}

#[sqlx::test(migrations = false)]
async fn the_same_add_update_delivered_twice_records_one_entry(pool: PgPool) {
    // Arrange
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let update = s.tg.text("/add 45 taxi");

    // Act
    let first = s.app.reply_to(&update).await;
    let second = s.app.reply_to(&update).await;

    // Assert
    assert_eq!(first, second, "the retry gets the same answer");
    assert_eq!(
        cash_entries(&pool, s.company_id).await,
        vec![(-45_00, "taxi".to_owned())]
    );
}

#[sqlx::test(migrations = false)]
async fn an_add_whose_update_already_has_an_entry_is_not_recorded_again(pool: PgPool) {
    // Arrange: an entry for update 9001 exists, but its claim is gone (e.g. pruned)
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date, telegram_update_id)
         VALUES ($1, -4500, 'RON', 'taxi', now()::date, 9001)",
    )
    .bind(s.company_id)
    .execute(&pool)
    .await
    .expect("entry");

    // Act
    let reply = s
        .app
        .reply_to(&s.tg.text_with_id(9001, "/add 45 taxi"))
        .await;

    // Assert
    assert!(reply_text(&reply).contains("already recorded"), "{reply}");
    assert_eq!(cash_entries(&pool, s.company_id).await.len(), 1);
}

#[sqlx::test(migrations = false)]
async fn viewers_cannot_add_entries(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let viewer = linked_user(&pool, "v@example.ro", 501).await;
    member(&pool, s.company_id, viewer, "viewer").await;
    activate(&pool, 501, s.company_id).await;

    let reply = s.app.reply_to(&TgUser::en(501).text("/add 10 taxi")).await;

    assert!(
        reply_text(&reply).contains("only owners and accountants"),
        "{reply}"
    );
    assert!(cash_entries(&pool, s.company_id).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn clear_forgets_the_active_company(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;

    let reply = s.app.reply_to(&s.tg.text("/clear")).await;
    let after = s.app.reply_to(&s.tg.text("/dashboard")).await;

    assert!(reply_text(&reply).contains("was deselected"), "{reply}");
    assert_eq!(active_company(&pool, 500).await, None);
    assert!(reply_text(&after).contains("/selectcompany"));
}

#[sqlx::test(migrations = false)]
async fn language_switches_the_replies_and_needs_a_link(pool: PgPool) {
    // Arrange: an English Telegram app
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;

    // Act
    let switched = s.app.reply_to(&s.tg.text("/limba ro")).await;
    let help = s.app.reply_to(&s.tg.text("/help")).await;
    let back = s.app.reply_to(&s.tg.text("/language en")).await;
    let invalid = s.app.reply_to(&s.tg.text("/language fr")).await;
    let unlinked = s.app.reply_to(&TgUser::en(404).text("/language ro")).await;

    // Assert
    assert!(
        reply_text(&switched).contains("îți răspund în română"),
        "{switched}"
    );
    assert!(
        reply_text(&help).contains("Comenzi"),
        "the account's choice wins: {help}"
    );
    assert!(reply_text(&back).contains("in English"), "{back}");
    assert!(reply_text(&invalid).contains("/language ro"), "{invalid}");
    assert!(
        reply_text(&unlinked).contains("link it first"),
        "{unlinked}"
    );
    let stored: Option<String> = sqlx::query_scalar("SELECT language FROM users WHERE id = $1")
        .bind(s.user_id)
        .fetch_one(&pool)
        .await
        .expect("user");
    assert_eq!(stored.as_deref(), Some("en"));
}

async fn invoices(pool: &PgPool, company_id: i64, n: usize, partner: &str) {
    for i in 0..n {
        let number = format!("F-{i:03}");
        let due_in_days = i32::try_from(i).expect("small") - 20;
        invoice(
            pool,
            company_id,
            Inv {
                number: &number,
                partner,
                due_in_days,
                ..Inv::default()
            },
        )
        .await;
    }
}

#[sqlx::test(migrations = false)]
async fn invoice_pages_cover_the_edges(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let empty = s.app.reply_to(&s.tg.text("/invoices")).await;
    assert!(reply_text(&empty).contains("No invoices."), "{empty}");
    assert!(keyboard_data(&empty).is_empty(), "empty: no buttons");

    invoices(&pool, s.company_id, 10, "Client SRL").await;
    let one_page = s.app.reply_to(&s.tg.text("/facturi")).await;
    assert_eq!(reply_text(&one_page).matches("📤").count(), 10);
    assert!(
        keyboard_data(&one_page).is_empty(),
        "exactly one page: no buttons"
    );

    // 25 invoices: three pages, walked by the ▶ buttons' cursors.
    invoices_from(&pool, s.company_id, 10, 15).await;
    let first = s.app.reply_to(&s.tg.text("/invoices")).await;
    let next = keyboard_data(&first);
    assert_eq!(next.len(), 1, "first page: ▶ only: {next:?}");
    assert!(
        next[0].starts_with("inv:a:") && next[0].ends_with(':'),
        "{next:?}"
    );

    let second = s.app.reply_to(&s.tg.callback(55, &next[0])).await;
    assert_eq!(second["method"], "editMessageText");
    assert_eq!(second["message_id"], 55);
    let buttons = keyboard_data(&second);
    assert_eq!(buttons.len(), 2, "⏮ and ▶: {buttons:?}");
    assert_eq!(buttons[0], "inv:a::", "⏮ goes back to the first page");

    let last = s.app.reply_to(&s.tg.callback(55, &buttons[1])).await;
    assert_eq!(
        reply_text(&last).matches("📤").count(),
        5,
        "the last page holds the rest"
    );
    assert_eq!(keyboard_data(&last), vec!["inv:a::"], "last page: ⏮ only");
    let mut seen: Vec<String> = [&first, &second, &last]
        .into_iter()
        .flat_map(listed_numbers)
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25, "every invoice once: {seen:?}");

    let back = s.app.reply_to(&s.tg.callback(55, "inv:a::")).await;
    assert_eq!(
        listed_numbers(&back),
        listed_numbers(&first),
        "⏮ shows the first page"
    );

    // A cursor past the end (the list changed, or a hand-made one): what follows, nothing.
    let beyond = s
        .app
        .reply_to(&s.tg.callback(55, "inv:a:1970-01-01.1:"))
        .await;
    assert!(
        reply_text(&beyond).contains("No more invoices."),
        "{beyond}"
    );
    assert_eq!(keyboard_data(&beyond), vec!["inv:a::"]);

    for (data, why) in [
        ("inv:a:2", "a page number, from before keyset pages"),
        ("inv:z::", "unknown filter"),
        ("inv:a:2026-13-01.5:", "no such month"),
        ("inv:a:2026-01-01.x:", "no id"),
        ("inv:a::Brasov", "a search not as the bot writes it"),
    ] {
        let tampered = s.app.reply_to(&s.tg.callback(55, data)).await;
        assert_eq!(
            tampered["method"], "answerCallbackQuery",
            "{why}: {tampered}"
        );
        assert!(
            tampered["text"]
                .as_str()
                .is_some_and(|t| t.contains("no longer valid")),
            "{why}: {tampered}"
        );
    }
}

async fn invoices_from(pool: &PgPool, company_id: i64, from: usize, n: usize) {
    for i in from..from + n {
        let number = format!("F-{i:03}");
        invoice(
            pool,
            company_id,
            Inv {
                number: &number,
                ..Inv::default()
            },
        )
        .await;
    }
}

#[sqlx::test(migrations = false)]
async fn unpaid_and_paid_filters_and_their_romanian_names(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::ro(500)).await;
    invoice(
        &pool,
        s.company_id,
        Inv {
            number: "NEPL",
            due_in_days: -3,
            ..Inv::default()
        },
    )
    .await;
    invoice(
        &pool,
        s.company_id,
        Inv {
            number: "PL",
            paid: 100_00,
            ..Inv::default()
        },
    )
    .await;

    let unpaid = s.app.reply_to(&s.tg.text("/facturi neplatite")).await;
    let paid = s.app.reply_to(&s.tg.text("/facturi platite")).await;
    let bad = s.app.reply_to(&s.tg.text("/facturi neplatite ???")).await;

    let unpaid = reply_text(&unpaid);
    assert!(
        unpaid.contains("NEPL") && !unpaid.contains("<b>PL</b>"),
        "{unpaid}"
    );
    assert!(
        unpaid.contains("rest 100,00 RON din 100,00 RON ⚠️ restantă"),
        "{unpaid}"
    );
    assert!(unpaid.contains("scadență: "), "{unpaid}");
    assert!(reply_text(&paid).contains("<b>PL</b>"), "{paid}");
    assert!(reply_text(&bad).contains("/facturi neplatite"), "{bad}");
}

#[sqlx::test(migrations = false)]
async fn long_partner_names_are_clipped_and_pages_stay_under_4096(pool: PgPool) {
    // Arrange: partners of 300 characters, full of characters HTML escapes
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let partner = "<&>\"".repeat(75);
    invoices(&pool, s.company_id, 10, &partner).await;

    // Act
    let reply = s.app.reply_to(&s.tg.text("/invoices")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(
        text.chars().count() <= 4096,
        "{} characters",
        text.chars().count()
    );
    assert_eq!(text.matches("📤").count(), 10, "all ten invoices shown");
    assert!(text.contains("&lt;&amp;&gt;&quot;"), "escaped");
    assert!(text.contains('…'), "clipped");
    assert!(!text.contains("<&"), "nothing unescaped");
}

#[sqlx::test(migrations = false)]
async fn replies_are_cut_to_telegrams_utf16_count_and_never_inside_a_tag(pool: PgPool) {
    // Arrange: 24 companies named in emoji (two UTF-16 units each: the list
    // has fewer than 4096 characters but more than 4096 units), then the
    // active one, listed last in bold, with line breaks in its name, right
    // where the cut falls.
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(501);
    let user_id = linked_user(&pool, "ana@example.ro", tg.id).await;
    for i in 0..24 {
        company(&pool, user_id, &format!("A{i:02}{}", "😀".repeat(77))).await;
    }
    let active = company(&pool, user_id, &format!("B{}", "\n😀".repeat(60))).await;
    activate(&pool, tg.id, active).await;

    // Act
    let reply = app.reply_to(&tg.text("/companies")).await;

    // Assert
    let text = reply_text(&reply);
    let units = ledgerbot::blocks::telegram_html::text_len(text);
    assert!(units <= 4096, "{units} UTF-16 units");
    assert!(
        text.contains("✅ <b>B\n😀"),
        "cut inside the bold name: {text}"
    );
    assert_eq!(
        text.matches("<b>").count(),
        text.matches("</b>").count(),
        "every <b> closed: {text}"
    );
    assert!(text.ends_with("</b>\n…"), "{text}");
}

#[sqlx::test(migrations = false)]
async fn dashboard_shows_the_same_figures_as_the_api_per_currency(pool: PgPool) {
    // Arrange
    let s = owner_with_active_company(&pool, TgUser::ro(500)).await;
    invoice(
        &pool,
        s.company_id,
        Inv {
            number: "A",
            total: 1234_56,
            due_in_days: -2,
            ..Inv::default()
        },
    )
    .await;
    invoice(
        &pool,
        s.company_id,
        Inv {
            number: "B",
            total: 100_00,
            currency: "EUR",
            ..Inv::default()
        },
    )
    .await;
    invoice(
        &pool,
        s.company_id,
        Inv {
            number: "C",
            direction: "received",
            total: 50_00,
            paid: 20_00,
            ..Inv::default()
        },
    )
    .await;
    s.app.reply_to(&s.tg.text("/add +250 vânzare")).await;
    s.app.reply_to(&s.tg.text("/add 12,50 cafea")).await;

    // Act
    let ro = s.app.reply_to(&s.tg.text("/sold")).await;
    let en = s.app.reply_to(&TgUser::en(500).text("/balance")).await;

    // Assert
    let ro = reply_text(&ro);
    assert!(ro.contains("<b>Exemplu SRL</b>"), "{ro}");
    // A figure per line, so that it reads on a phone.
    assert!(
        ro.contains(
            "1 factură în RON\ntotal: 1.234,56 RON\nîncasat: 0,00 RON\n\
             de încasat: 1.234,56 RON\nrestanțe (1 factură): 1.234,56 RON\n"
        ),
        "{ro}"
    );
    assert!(
        ro.contains("1 factură în EUR\ntotal: 100,00 EUR"),
        "euros apart: {ro}"
    );
    assert!(
        ro.contains("plătit: 20,00 RON\nde plătit: 30,00 RON\nrestanțe (0 facturi): 0,00 RON"),
        "{ro}"
    );
    assert!(
        ro.contains("încasări: 250,00 RON\ncheltuieli: 12,50 RON"),
        "{ro}"
    );
    let en = reply_text(&en);
    assert!(en.contains("1 invoice in RON\ntotal: RON 1,234.56"), "{en}");
    assert!(en.contains("overdue (1 invoice): RON 1,234.56"), "{en}");
    assert!(
        en.contains("income: RON 250.00\nexpenses: RON 12.50"),
        "{en}"
    );
}

#[sqlx::test(migrations = false)]
async fn treasury_lists_each_account_in_the_persons_format(pool: PgPool) {
    let s = owner_with_active_company(&pool, TgUser::ro(500)).await;
    let eur = company_in(&pool, s.user_id, "Euro SRL", "EUR").await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, iban, currency, balance_minor, as_of)
         VALUES ($1, 'BT <lei>', 'bank', 'RO49AAAA1B31007593840000', 'RON', 123456789, '2026-05-01'),
                ($1, 'Casa', 'cash', NULL, 'RON', -550, NULL), ($2, 'Other', 'bank', NULL, 'EUR', 1, NULL)",
    )
    .bind(s.company_id)
    .bind(eur)
    .execute(&pool)
    .await
    .expect("accounts");

    let reply = s.app.reply_to(&s.tg.text("/trezorerie")).await;

    let text = reply_text(&reply);
    assert!(
        text.contains("<b>BT &lt;lei&gt;</b> · <code>RO49 AAAA 1B31 0075 9384 0000</code>"),
        "{text}"
    );
    assert!(text.contains("1.234.567,89 RON · la 01.05.2026"), "{text}");
    assert!(text.contains("-5,50 RON"), "{text}");
    assert!(!text.contains("Other"), "another company's account: {text}");
}

/// The group chat of the group tests.
const GROUP: i64 = -1_001_234;

/// What the bot answers `tg` saying `text` in the group.
async fn say(app: &TestApp, tg: &TgUser, text: &str) -> Value {
    app.reply_to(&tg.group_text(GROUP, text)).await
}

#[sqlx::test(migrations = false)]
async fn finance_commands_in_an_unbound_group_refuse_and_show_nothing(pool: PgPool) {
    // Arrange: an owner with an active company that has an invoice.
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    invoice(&pool, s.company_id, Inv::default()).await;

    for command in [
        "/dashboard",
        "/invoices",
        "/partners",
        "/treasury",
        "/add 12.50 coffee",
        "/companies",
        "/selectcompany Exemplu",
    ] {
        // Act
        let reply = s.app.reply_to(&s.tg.group_text(GROUP, command)).await;

        // Assert
        let text = reply_text(&reply);
        assert!(!text.contains("Exemplu"), "{command}: {text}");
        assert!(text.contains("private chat"), "{command}: {text}");
        assert!(reply.get("reply_markup").is_none(), "{command}: {reply}");
    }
    let page = s
        .app
        .reply_to(&s.tg.group_callback(GROUP, 77, "inv:a::"))
        .await;
    assert_eq!(page["method"], "answerCallbackQuery", "{page}");
    assert!(cash_entries(&pool, s.company_id).await.is_empty());
    let romanian = s
        .app
        .reply_to(&TgUser::ro(500).group_text(GROUP, "/sold"))
        .await;
    assert!(reply_text(&romanian).contains("chatul nostru privat"));
}

#[sqlx::test(migrations = false)]
async fn an_owner_binds_a_group_and_its_members_see_that_company_there(pool: PgPool) {
    // Arrange: the owner (500) of "Exemplu SRL"; an accountant (501) whose
    // own active company is another; a viewer (502); a stranger (503).
    let s = owner_with_active_company(&pool, TgUser::en(500)).await;
    let accountant = TgUser::en(501);
    let accountant_id = linked_user(&pool, "cont@example.ro", accountant.id).await;
    member(&pool, s.company_id, accountant_id, "accountant").await;
    let own = company(&pool, accountant_id, "Propria SRL").await;
    activate(&pool, accountant.id, own).await;
    let viewer = TgUser::en(502);
    let viewer_id = linked_user(&pool, "vaz@example.ro", viewer.id).await;
    member(&pool, s.company_id, viewer_id, "viewer").await;
    activate(&pool, viewer.id, s.company_id).await;
    let stranger = TgUser::en(503);
    let stranger_id = linked_user(&pool, "x@example.ro", stranger.id).await;
    activate(
        &pool,
        stranger.id,
        company(&pool, stranger_id, "Alta SRL").await,
    )
    .await;

    // Act and assert: only an owner binds.
    let refused = say(&s.app, &viewer, "/group").await;
    assert!(reply_text(&refused).contains("Only an owner"), "{refused}");
    let bound = say(&s.app, &s.tg, "/group").await;
    assert!(reply_text(&bound).contains("Exemplu SRL"), "{bound}");

    // Members see the group's company, whatever they chose privately.
    let dashboard = say(&s.app, &accountant, "/dashboard").await;
    assert!(
        reply_text(&dashboard).contains("Exemplu SRL"),
        "{dashboard}"
    );
    assert!(!reply_text(&dashboard).contains("Propria"), "{dashboard}");
    let added = say(&s.app, &accountant, "/add 12.50 coffee").await;
    assert_eq!(cash_entries(&pool, s.company_id).await.len(), 1, "{added}");
    assert!(cash_entries(&pool, own).await.is_empty());
    let viewer_add = say(&s.app, &viewer, "/add 1 x").await;
    assert!(
        reply_text(&viewer_add).contains("only read"),
        "{viewer_add}"
    );
    let outsider = say(&s.app, &stranger, "/dashboard").await;
    assert!(reply_text(&outsider).contains("not a member"), "{outsider}");
    assert!(!reply_text(&outsider).contains("Alta"), "{outsider}");
    assert_eq!(
        active_company(&pool, accountant.id).await,
        Some(own),
        "the private choice is untouched"
    );

    // Unbinding: not by a stranger; by the owner, and then nothing shows.
    let not_theirs = say(&s.app, &stranger, "/group off").await;
    assert!(reply_text(&not_theirs).contains("Only an owner"));
    let unbound = say(&s.app, &s.tg, "/group off").await;
    assert!(reply_text(&unbound).contains("no longer"), "{unbound}");
    let after = say(&s.app, &accountant, "/dashboard").await;
    assert!(!reply_text(&after).contains("Exemplu"), "{after}");
}
