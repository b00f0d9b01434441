//! Account commands in the bot: `/register`, `/link` with its confirmation
//! through the API, `/unlink`, and what linking does to existing links.

use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TgUser, Tokens, count_rows, next_update_id, reply_text, spawn_app};

/// The confirm code in the bot's `/link` answer.
fn confirm_code(reply: &Value) -> String {
    let text = reply_text(reply);
    let after = text
        .split("http://ledgerbot.test/link/")
        .nth(1)
        .unwrap_or_else(|| panic!("no /link/ URL in {text}"));
    after[..8].to_owned()
}

#[sqlx::test(migrations = false)]
async fn register_creates_one_telegram_only_account_and_links_it(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let user = TgUser::en(1101);

    // Act
    let first = app.reply_to(&user.text("/register")).await;
    let second = app.reply_to(&user.text("/register")).await;

    // Assert
    assert!(
        reply_text(&first).contains("Done: you have an account"),
        "{first}"
    );
    assert!(reply_text(&second).contains("already linked"), "{second}");
    assert_eq!(
        app.linked_email(1101).await,
        Some(None),
        "linked, without an email"
    );
    assert_eq!(count_rows(&app.pool, "users").await, 1);
    let help = app.reply_to(&TgUser::ro(1102).text("/inregistrare")).await;
    assert!(reply_text(&help).contains("Gata"), "Romanian alias: {help}");
}

#[sqlx::test(migrations = false)]
async fn concurrent_registers_from_one_telegram_user_create_one_account(pool: PgPool) {
    // Arrange: distinct updates (not retries). A lock on `users` holds every
    // one of them after it has seen "not linked yet" and before it creates the
    // person, so they all race for the link once the lock goes.
    let app = spawn_app(pool).await;
    let user = TgUser::en(1201);
    // Four: with the lock's own connection, the test pool's five are all in use.
    let updates: Vec<Value> = (0..4)
        .map(|_| user.text_with_id(next_update_id(), "/register"))
        .collect();
    let mut blocker = app.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE users IN EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let release = async {
        app.wait_for_lock_waiters(4).await;
        blocker.rollback().await.expect("release");
    };

    // Act
    let (replies, ()) = tokio::join!(join_all(updates.iter().map(|u| app.reply_to(u))), release);

    // Assert
    let created = replies
        .iter()
        .filter(|r| reply_text(r).contains("Done: you have an account"))
        .count();
    assert_eq!(created, 1, "{replies:?}");
    assert_eq!(
        count_rows(&app.pool, "users").await,
        1,
        "no orphan person left behind"
    );
    assert_eq!(count_rows(&app.pool, "telegram_accounts").await, 1);
}

#[sqlx::test(migrations = false)]
async fn link_then_confirm_through_the_api_links_and_tells_the_chat(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let user = TgUser::ro(1301);
    let reply = app.reply_to(&user.text("/link")).await;
    let code = confirm_code(&reply);

    // Act
    let response = app
        .post_json(
            "/api/v1/telegram/confirm",
            &json!({"code": code.to_lowercase()}),
            Some(&tokens.access),
        )
        .await;

    // Assert
    assert!(reply_text(&reply).contains("15 minute"), "{reply}");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["telegram_user_id"], 1301);
    assert_eq!(body["moved_from_other_account"], false);
    assert_eq!(body["replaced_telegram_account"], false);
    assert_eq!(
        app.linked_email(1301).await,
        Some(Some("ana@example.com".to_owned()))
    );
    let calls = app.telegram.wait_for_calls(1).await;
    assert_eq!(calls[0].method, "sendMessage");
    assert_eq!(calls[0].params["chat_id"], 1301);
    let text = calls[0].params["text"].as_str().expect("text");
    assert!(
        text.contains("legat de <b>ana@example.com</b>"),
        "in the /link asker's language: {text}"
    );
}

#[sqlx::test(migrations = false)]
async fn confirm_refuses_bad_codes_with_distinct_statuses(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let used = confirm_code(&app.reply_to(&TgUser::en(1401).text("/link")).await);
    let first = app
        .post_json(
            "/api/v1/telegram/confirm",
            &json!({"code": used}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(first.status(), 200);
    let expired = confirm_code(&app.reply_to(&TgUser::en(1402).text("/link")).await);
    app.expire_codes().await;
    let replaced = confirm_code(&app.reply_to(&TgUser::en(1403).text("/link")).await);
    app.reply_to(&TgUser::en(1403).text("/link")).await;
    let web_code = app.link_code(&tokens.access).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let cases = [
        (json!({"code": used}), Some(&tokens.access), 410, "used"),
        (
            json!({"code": expired}),
            Some(&tokens.access),
            410,
            "expired",
        ),
        (
            json!({"code": replaced}),
            Some(&tokens.access),
            404,
            "replaced by a newer /link",
        ),
        (
            json!({"code": "ABCDEFG2"}),
            Some(&tokens.access),
            404,
            "never issued",
        ),
        (
            json!({"code": web_code}),
            Some(&tokens.access),
            404,
            "a web link code is not a confirm code",
        ),
        (
            json!({"code": "nope"}),
            Some(&tokens.access),
            422,
            "not a code",
        ),
        (json!({}), Some(&tokens.access), 422, "no code"),
        (json!({"code": "ABCDEFG2"}), None, 401, "no Bearer token"),
    ];

    for (body, bearer, status, why) in cases {
        // Act
        let response = app
            .post_json(
                "/api/v1/telegram/confirm",
                &body,
                bearer.map(String::as_str),
            )
            .await;

        // Assert
        assert_eq!(response.status(), status, "{why}");
    }
    assert_eq!(app.linked_email(1402).await, None);
    assert_eq!(app.linked_email(1403).await, None);
}

#[sqlx::test(migrations = false)]
async fn unlink_removes_the_link_and_says_when_there_is_none(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(1501);
    app.reply_to(&user.text("/register")).await;

    let unlinked = app.reply_to(&user.text("/unlink")).await;
    let again = app.reply_to(&user.text("/unlink")).await;

    assert!(
        reply_text(&unlinked).contains("no longer linked"),
        "{unlinked}"
    );
    assert!(
        reply_text(&again).contains("not linked to any account"),
        "{again}"
    );
    assert_eq!(app.linked_email(1501).await, None);
    let ro = app.reply_to(&TgUser::ro(1502).text("/dezleaga")).await;
    assert!(reply_text(&ro).contains("nu este legat"), "{ro}");
}

/// The text of a reply, and the data of its buttons, row by row.
fn buttons(reply: &serde_json::Value) -> Vec<String> {
    reply["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap_or_else(|| panic!("no keyboard in {reply}"))
        .iter()
        .flat_map(|row| row.as_array().expect("a row").iter())
        .map(|b| b["callback_data"].as_str().expect("data").to_owned())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_code_of_another_account_moves_a_linked_telegram_account_only_once_confirmed(
    pool: PgPool,
) {
    // Arrange: the Telegram user is linked to Ana; Bob hands out codes.
    let app = spawn_app(pool).await;
    let user = TgUser::en(1601);
    let ana = app.register("ana@example.com").await;
    let code_of = |answer: serde_json::Value| answer["code"].as_str().expect("code").to_owned();
    let code = code_of(app.link_code(&ana.access).await);
    app.reply_to(&user.text(&code)).await;
    let bob = app.register("bob@example.com").await;
    let first = code_of(app.link_code(&bob.access).await);

    // Act and assert: the deep link only asks, naming both accounts.
    let ask = app.reply_to(&user.text(&format!("/start {first}"))).await;
    let text = reply_text(&ask);
    assert!(text.contains("<b>ana@example.com</b>"), "{ask}");
    assert!(text.contains("<b>bob@example.com</b>"), "{ask}");
    let data = buttons(&ask);
    assert_eq!(data, [format!("mv:{first}"), "mv:no".to_owned()]);
    let ana_still = Some(Some("ana@example.com".to_owned()));
    assert_eq!(
        app.linked_email(1601).await,
        ana_still,
        "nothing changed yet"
    );

    // "No": nothing changes.
    let kept = app.reply_to(&user.callback(77, "mv:no")).await;
    assert_eq!(kept["method"], "editMessageText");
    assert!(reply_text(&kept).contains("nothing changed"), "{kept}");
    assert_eq!(app.linked_email(1601).await, ana_still);

    // Tampered (a code never issued) and stale (expired) buttons are refused.
    let tampered = app.reply_to(&user.callback(77, "mv:ABCDEFG2")).await;
    assert!(
        reply_text(&tampered).contains("do not recognise this code"),
        "{tampered}"
    );
    let garbage = app.reply_to(&user.callback(77, "mv:abc")).await;
    assert_eq!(garbage["method"], "answerCallbackQuery", "{garbage}");
    app.expire_codes().await;
    let stale = app.reply_to(&user.callback(77, &data[0])).await;
    assert!(reply_text(&stale).contains("has expired"), "{stale}");
    assert_eq!(app.linked_email(1601).await, ana_still);

    // "Yes" on a fresh code: moved, and said so.
    let second = code_of(app.link_code(&bob.access).await);
    let ask = app.reply_to(&user.text(&second)).await;
    let moved = app.reply_to(&user.callback(78, &buttons(&ask)[0])).await;
    assert_eq!(moved["method"], "editMessageText");
    assert!(
        reply_text(&moved).contains("linked to <b>bob@example.com</b>"),
        "{moved}"
    );
    assert!(
        reply_text(&moved).contains("the link has moved here"),
        "{moved}"
    );
    assert_eq!(
        app.linked_email(1601).await,
        Some(Some("bob@example.com".to_owned()))
    );
    assert_eq!(
        count_rows(&app.pool, "telegram_accounts").await,
        1,
        "Ana has none now"
    );
    let again = app.reply_to(&user.callback(78, &buttons(&ask)[0])).await;
    assert!(reply_text(&again).contains("already used"), "{again}");
}

#[sqlx::test(migrations = false)]
async fn linking_a_person_with_another_telegram_account_replaces_it_and_tells_the_old_chat(
    pool: PgPool,
) {
    // Arrange: Ana is linked to Telegram user 1701.
    let app = spawn_app(pool).await;
    let ana: Tokens = app.register("ana@example.com").await;
    let code = app.link_code(&ana.access).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    app.reply_to(&TgUser::en(1701).text(&code)).await;
    let link_reply = app.reply_to(&TgUser::en(1702).text("/link")).await;

    // Act: Ana confirms a /link from Telegram user 1702.
    let response = app
        .post_json(
            "/api/v1/telegram/confirm",
            &json!({"code": confirm_code(&link_reply)}),
            Some(&ana.access),
        )
        .await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["replaced_telegram_account"], true);
    assert_eq!(
        app.linked_email(1701).await,
        None,
        "the old one is unlinked"
    );
    assert_eq!(
        app.linked_email(1702).await,
        Some(Some("ana@example.com".to_owned()))
    );
    let calls = app.telegram.wait_for_calls(2).await;
    let to = |chat: i64| {
        calls
            .iter()
            .find(|c| c.params["chat_id"] == chat)
            .unwrap_or_else(|| panic!("nothing sent to {chat}: {calls:?}"))
            .params["text"]
            .as_str()
            .expect("text")
            .to_owned()
    };
    assert!(
        to(1702).contains("no longer linked"),
        "the new chat hears of the replacement: {}",
        to(1702)
    );
    assert!(
        to(1701).contains("this one is no longer linked"),
        "{}",
        to(1701)
    );
    assert!(
        !to(1701).contains("legat"),
        "one language per message: {}",
        to(1701)
    );
}

#[sqlx::test(migrations = false)]
async fn account_commands_in_a_group_ask_for_the_private_chat(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(1801);
    for command in ["/register", "/link", "/unlink", "/start ABCDEFG2"] {
        let reply = app.reply_to(&user.group_text(-500, command)).await;
        assert!(
            reply_text(&reply).contains("private chat"),
            "{command}: {reply}"
        );
    }
    assert_eq!(count_rows(&app.pool, "users").await, 0);
    assert_eq!(count_rows(&app.pool, "link_codes").await, 0);
    assert_eq!(
        count_rows(&app.pool, "rate_limits").await,
        0,
        "no code attempt counted"
    );
}

#[sqlx::test(migrations = false)]
async fn a_retried_link_update_is_not_answered_from_a_stored_code(pool: PgPool) {
    let app = spawn_app(pool).await;
    let update = TgUser::en(1901).text("/link");

    let first = app.reply_to(&update).await;
    let retried = app.reply_to(&update).await;

    assert!(reply_text(&first).contains("/link/"), "{first}");
    assert_eq!(retried, Value::Null, "the code was not kept to replay");
    assert_eq!(count_rows(&app.pool, "link_codes").await, 1, "applied once");
}

#[sqlx::test(migrations = false)]
async fn help_lists_the_account_commands_in_both_languages(pool: PgPool) {
    let app = spawn_app(pool).await;

    let en = app.reply_to(&TgUser::en(2001).text("/help")).await;
    let ro = app.reply_to(&TgUser::ro(2002).text("/help")).await;

    for command in ["/register", "/link"] {
        assert!(reply_text(&en).contains(command), "{command}: {en}");
        assert!(reply_text(&ro).contains(command), "{command}: {ro}");
    }
    for command in ["/inregistrare", "/leaga"] {
        assert!(reply_text(&ro).contains(command), "{command}: {ro}");
    }
    assert!(
        !reply_text(&en).contains("/unlink"),
        "nothing to unlink yet: {en}"
    );
}
