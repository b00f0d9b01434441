//! First contact: the welcome of a bare `/start` with its three buttons
//! (create an account here, link an existing one, help), each button's
//! effect and the refusal of tampered ones, and `/help` for where the person
//! is (not linked, linked without a company, ready).

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{TgUser, buttons, reply_text, spawn_app};
use crate::people::{activate, company, linked_user};

#[sqlx::test(migrations = false)]
async fn a_bare_start_offers_three_ways_in_to_someone_not_linked(pool: PgPool) {
    let app = spawn_app(pool).await;

    let en = app.reply_to(&TgUser::en(1500).text("/start")).await;
    let ro = app.reply_to(&TgUser::ro(1501).text("/start")).await;

    assert_eq!(
        buttons(&en),
        [
            ("Create an account here".to_owned(), "st:reg".to_owned()),
            ("Link an existing account".to_owned(), "st:link".to_owned()),
            ("Help".to_owned(), "st:help".to_owned()),
        ]
    );
    let ro_labels: Vec<String> = buttons(&ro).into_iter().map(|(label, _)| label).collect();
    assert_eq!(
        ro_labels,
        ["Creează un cont aici", "Leagă un cont existent", "Ajutor"]
    );
    assert!(reply_text(&ro).contains("Bună, Ana!"), "{ro}");
}

#[sqlx::test(migrations = false)]
async fn no_buttons_for_a_linked_person_or_in_a_group(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    linked_user(&pool, "ana@example.ro", 1502).await;

    let linked = app.reply_to(&TgUser::en(1502).text("/start")).await;
    let group = app
        .reply_to(&TgUser::en(1503).group_text(-10_077, "/start"))
        .await;

    assert!(buttons(&linked).is_empty(), "{linked}");
    assert!(reply_text(&linked).contains("/help"), "{linked}");
    assert!(buttons(&group).is_empty(), "{group}");
}

#[sqlx::test(migrations = false)]
async fn create_an_account_here_registers_and_answers_the_press(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let user = TgUser::en(1504);

    // Act
    let reply = app.reply_to(&user.callback(77, "st:reg")).await;
    let again = app.reply_to(&user.callback(77, "st:reg")).await;

    // Assert
    assert!(reply_text(&reply).contains("✅ Done"), "{reply}");
    assert_eq!(
        app.linked_email(1504).await,
        Some(None),
        "a Telegram-only account"
    );
    assert!(reply_text(&again).contains("already linked"), "{again}");
    let calls = app.telegram.wait_for_calls(2).await;
    assert!(
        calls.iter().all(|c| c.method == "answerCallbackQuery"),
        "each press is answered: {calls:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn link_an_existing_account_sends_the_one_time_link(pool: PgPool) {
    let app = spawn_app(pool).await;

    let reply = app
        .reply_to(&TgUser::ro(1505).callback(78, "st:link"))
        .await;

    let text = reply_text(&reply);
    assert!(text.contains("/link/"), "{text}");
    assert!(text.contains("o singură dată"), "{text}");
    assert_eq!(app.linked_email(1505).await, None, "nothing linked yet");
}

#[sqlx::test(migrations = false)]
async fn the_help_button_shows_the_ways_in_and_tampered_buttons_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(1506);

    let help = app.reply_to(&user.callback(79, "st:help")).await;
    let mut refused = Vec::new();
    for data in ["st:admin", "st:reg:1", "st:", "st:REG"] {
        refused.push((data, app.reply_to(&user.callback(79, data)).await));
    }

    assert!(reply_text(&help).contains("/register"), "{help}");
    for (data, reply) in refused {
        assert_eq!(reply["method"], "answerCallbackQuery", "{data}: {reply}");
        assert!(
            reply["text"]
                .as_str()
                .is_some_and(|t| t.contains("no longer valid")),
            "{data}: {reply}"
        );
    }
    assert_eq!(app.linked_email(1506).await, None, "nothing registered");
}

#[sqlx::test(migrations = false)]
async fn help_depends_on_where_the_person_is(pool: PgPool) {
    // Arrange: a stranger, a linked person without a company, one with an active company
    let app = spawn_app(pool.clone()).await;
    linked_user(&pool, "bea@example.ro", 1508).await;
    let ready = linked_user(&pool, "cora@example.ro", 1509).await;
    let firm = company(&pool, ready, "Cora & Co SRL").await;
    activate(&pool, 1509, firm).await;

    // Act
    let stranger = app.reply_to(&TgUser::en(1507).text("/help")).await;
    let linked = app.reply_to(&TgUser::en(1508).text("/help")).await;
    let ready = app.reply_to(&TgUser::en(1509).text("/help")).await;

    // Assert
    let has = |reply: &Value, command: &str| reply_text(reply).contains(&format!("\n/{command}"));
    let cases = [
        (&stranger, "register", true, "a stranger may register"),
        (&stranger, "link", true, "a stranger may link"),
        (&stranger, "dashboard", false, "a stranger has no figures"),
        (&stranger, "companies", false, "a stranger has no companies"),
        (&linked, "register", false, "linked already"),
        (&linked, "companies", true, "the account's companies"),
        (&linked, "selectcompany", true, "how to choose one"),
        (&linked, "dashboard", false, "no company yet"),
        (&ready, "dashboard", true, "the figures"),
        (&ready, "add", true, "entries"),
        (&ready, "companies", true, "other companies"),
        (&ready, "register", false, "linked already"),
        (&ready, "help", true, "help everywhere"),
    ];
    for (reply, command, listed, why) in cases {
        assert_eq!(has(reply, command), listed, "/{command}: {why}: {reply}");
    }
    assert!(
        reply_text(&linked).contains("no company is selected"),
        "{linked}"
    );
    assert!(
        reply_text(&ready).contains("<b>Cora &amp; Co SRL</b>"),
        "{ready}"
    );
}
