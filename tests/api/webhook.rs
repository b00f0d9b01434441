//! The webhook: secret, parsing, claims, routing, languages.

use std::time::Duration;

use futures_util::future::join_all;
use ledgerbot::infra::server::Limits;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::helpers::{BOT_USERNAME, TestApp, TgUser, next_update_id, reply_text, spawn_app};
use crate::people::{activate, company, linked_user};
use crate::pooler::deliver_until_ok;

#[sqlx::test(migrations = false)]
async fn start_greets_in_english_by_default_and_romanian_for_ro(pool: PgPool) {
    let app = spawn_app(pool).await;

    let mut no_language = TgUser::en(1001);
    no_language.language_code = None;
    let en = app.reply_to(&no_language.text("/start")).await;
    let ro = app.reply_to(&TgUser::ro(1002).text("/start")).await;

    assert_eq!(en["method"], "sendMessage");
    assert_eq!(en["chat_id"], 1001);
    assert_eq!(en["parse_mode"], "HTML");
    assert!(reply_text(&en).contains("Hello, Ana"), "{en}");
    assert!(
        en["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "st:reg",
        "welcome offers to register: {en}"
    );
    assert!(reply_text(&ro).contains("Bună, Ana"), "{ro}");
    assert!(
        app.telegram.calls().is_empty(),
        "the reply rides in the response, no outbound call"
    );
}

#[sqlx::test(migrations = false)]
async fn names_are_escaped_in_the_greeting(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut user = TgUser::en(1003);
    user.first_name = "<b>Eve</b> & co".into();

    let reply = app.reply_to(&user.text("/start")).await;

    assert!(
        reply_text(&reply).contains("&lt;b&gt;Eve&lt;/b&gt; &amp; co"),
        "{reply}"
    );
}

#[sqlx::test(migrations = false)]
async fn help_and_its_alias_list_the_commands(pool: PgPool) {
    let app = spawn_app(pool).await;
    for (user, text, expect) in [
        (TgUser::en(7), "/help", "Commands"),
        (TgUser::en(7), "/ajutor", "Commands"),
        (TgUser::ro(8), "/help", "Comenzi"),
        (TgUser::ro(8), "/AJUTOR", "Comenzi"),
    ] {
        let reply = app.reply_to(&user.text(text)).await;
        assert!(reply_text(&reply).contains(expect), "{text}: {reply}");
    }
}

#[sqlx::test(migrations = false)]
async fn unknown_commands_are_named_and_answered_with_help(pool: PgPool) {
    let app = spawn_app(pool).await;

    let reply = app.reply_to(&TgUser::en(9).text("/frobnicate <x>")).await;
    let text_reply = app.reply_to(&TgUser::ro(9).text("ce faci?")).await;

    assert!(reply_text(&reply).contains("/frobnicate"), "{reply}");
    assert!(reply_text(&reply).contains("/help"), "{reply}");
    assert!(reply_text(&text_reply).contains("/ajutor"), "{text_reply}");
}

#[sqlx::test(migrations = false)]
async fn group_commands_answer_only_when_addressed_to_us(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(10);

    let ours = app
        .reply_to(&user.group_text(-100, &format!("/help@{BOT_USERNAME}")))
        .await;
    let bare = app.reply_to(&user.group_text(-100, "/help")).await;
    let theirs = app
        .reply_to(&user.group_text(-100, "/help@some_other_bot"))
        .await;
    let chatter = app.reply_to(&user.group_text(-100, "good morning")).await;

    assert_eq!(ours["chat_id"], -100);
    assert_eq!(bare["chat_id"], -100);
    assert_eq!(theirs, Value::Null, "addressed to another bot");
    assert_eq!(chatter, Value::Null, "group chatter is not for us");
    assert!(app.telegram.calls().is_empty());
}

#[sqlx::test(migrations = false)]
async fn wrong_or_missing_secret_is_refused_and_changes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let update = TgUser::en(11).text("/start");
    let cases: [(Option<&str>, &str); 4] = [
        (None, "missing header"),
        (Some(""), "empty"),
        (Some("test_webhook-secreT"), "one character off"),
        (Some("test_webhook-secret-and-more"), "longer"),
    ];
    for (secret, why) in cases {
        let mut request = app.client.post(app.url("/telegram/webhook")).json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), 401, "{why}");
        let body: Value = response.json().await.expect("JSON error");
        assert_eq!(body["error"], "unauthorized", "{why}");
    }

    assert_eq!(app.claimed_updates().await, 0, "nothing written");
    assert!(app.telegram.calls().is_empty(), "nothing sent");
}

#[sqlx::test(migrations = false)]
async fn bodies_that_are_not_updates_are_bad_requests(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cases = [
        ("not json at all", "not JSON"),
        ("{\"update_id\": 1", "truncated JSON"),
        ("{\"message\": {}}", "no update_id"),
        ("{\"update_id\": \"12\"}", "update_id not a number"),
        ("[]", "an array"),
    ];
    for (body, why) in cases {
        let response = app
            .webhook_request()
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400, "{why}");
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["error"], "bad_request", "{why}");
    }
    assert_eq!(app.claimed_updates().await, 0);
}

#[sqlx::test(migrations = false)]
async fn updates_we_cannot_read_or_do_not_handle_are_acknowledged(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(12);
    let edited = {
        let mut u = user.text("/start");
        let message = u["message"].take();
        json!({"update_id": u["update_id"], "edited_message": message})
    };
    let cases = [
        (
            json!({"update_id": next_update_id(), "future_kind_2030": {"x": 1}}),
            "unknown kind",
        ),
        (
            json!({"update_id": 5_000_000_000_i64, "message": {"nonsense": true}}),
            "id beyond u32",
        ),
        (
            json!({"update_id": next_update_id(), "message": {"message_id": 1}}),
            "message missing fields",
        ),
        (edited, "edited message"),
        (
            user.text_with_id(next_update_id(), "")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o["message"]
                        .as_object_mut()
                        .expect("message")
                        .remove("text");
                    Value::Object(o)
                })
                .expect("object"),
            "message without text (a photo)",
        ),
    ];
    for (update, why) in cases {
        let response = app.post_update(&update).await;
        assert_eq!(response.status(), 200, "{why}");
        assert_eq!(response.text().await.expect("body"), "", "{why}: no reply");
    }
    assert!(app.telegram.calls().is_empty());
}

#[sqlx::test(migrations = false)]
async fn a_retried_update_is_answered_again_but_applied_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let update = TgUser::en(13).text("/start");

    let first = app.reply_to(&update).await;
    let retried = app.reply_to(&update).await;

    assert_eq!(first, retried, "the retry gets the same answer");
    assert_eq!(app.claimed_updates().await, 1);
}

#[sqlx::test(migrations = false)]
async fn a_retried_read_is_answered_afresh_and_nothing_is_stored(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(15);
    let user_id = linked_user(&pool, "ana@example.ro", tg.id).await;
    let company_id = company(&pool, user_id, "Exemplu SRL").await;
    activate(&pool, tg.id, company_id).await;
    let update = tg.text_with_id(next_update_id(), "/treasury");

    let first = app.reply_to(&update).await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'Casa noua', 'cash', 'RON', 100)",
    )
    .bind(company_id)
    .execute(&pool)
    .await
    .expect("account");
    let retried = app.reply_to(&update).await;

    assert!(!reply_text(&first).contains("Casa noua"), "{first}");
    assert!(
        reply_text(&retried).contains("Casa noua"),
        "read again, not replayed: {retried}"
    );
    assert_eq!(
        app.claimed_updates().await,
        0,
        "a read claims nothing, nor keeps its reply"
    );
}

#[sqlx::test(migrations = false)]
async fn a_read_waiting_for_its_chat_sees_what_the_chats_previous_update_committed(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(17);
    let user_id = linked_user(&pool, "ana@example.ro", tg.id).await;
    // Stands in for the chat's previous update, mid-way on another instance:
    // it holds the chat's lock and has switched the person to Romanian.
    let mut previous = pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(tg.id)
        .execute(&mut *previous)
        .await
        .expect("lock");
    sqlx::query("UPDATE users SET language = 'ro' WHERE id = $1")
        .bind(user_id)
        .execute(&mut *previous)
        .await
        .expect("language");

    let help = tokio::spawn({
        let update = tg.text("/help");
        let request = app.webhook_request().json(&update);
        async move { request.send().await.expect("send") }
    });
    app.wait_for_lock_waiters(1).await;
    assert!(!help.is_finished(), "the read waits for the chat's lock");
    previous.commit().await.expect("commit");
    let reply: Value = help.await.expect("join").json().await.expect("json");

    assert!(
        reply_text(&reply).contains("Comenzi"),
        "read after the lock, in the language just committed: {reply}"
    );
}

/// Runs `claim_update(update_id, .., reads_only)` on `db` (`reads_only` as
/// the previous build passes it during a rolling deploy), then reads
/// `synchronous_commit` there: inside the claim's transaction if `db` is one,
/// after it if `db` is in autocommit.
async fn commit_mode_after_claim(
    db: &mut PgConnection,
    update_id: i64,
    reads_only: bool,
) -> String {
    sqlx::query("SELECT * FROM claim_update($1, 42, 42, $2)")
        .bind(update_id)
        .bind(reads_only)
        .execute(&mut *db)
        .await
        .expect("claim");
    sqlx::query_scalar("SELECT current_setting('synchronous_commit')")
        .fetch_one(&mut *db)
        .await
        .expect("setting")
}

#[sqlx::test(migrations = false)]
async fn only_a_reads_claim_commits_without_waiting_for_the_disk(pool: PgPool) {
    let _app = spawn_app(pool.clone()).await;

    // Each transaction holds chat 42's lock until it is dropped (rolled back).
    let mut write = pool.begin().await.expect("begin");
    assert_eq!(commit_mode_after_claim(&mut write, 1, false).await, "on");
    drop(write);
    let mut read = pool.begin().await.expect("begin");
    assert_eq!(commit_mode_after_claim(&mut read, 2, true).await, "off");
    drop(read);
    // Local to the claim's transaction: the connection goes back to the pool
    // as durable as it came.
    let mut autocommit = pool.acquire().await.expect("acquire");
    assert_eq!(
        commit_mode_after_claim(&mut autocommit, 3, true).await,
        "on"
    );
}

#[sqlx::test(migrations = false)]
async fn concurrent_duplicates_are_applied_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let update = TgUser::en(14).text("/start");

    let replies = join_all((0..8).map(|_| app.reply_to(&update))).await;

    assert!(replies.iter().all(|r| r == &replies[0]), "{replies:?}");
    assert_eq!(replies[0]["method"], "sendMessage");
    assert_eq!(app.claimed_updates().await, 1);
}

#[sqlx::test(migrations = false)]
async fn huge_bodies_are_refused_with_413(pool: PgPool) {
    let app = spawn_app(pool).await;
    let huge = format!(
        "{{\"update_id\": 1, \"pad\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );

    let declared = app
        .webhook_request()
        .body(huge.clone())
        .send()
        .await
        .expect("answers");
    let chunks: Vec<Result<String, std::io::Error>> = huge
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let streamed = app
        .webhook_request()
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;

    assert_eq!(declared.status(), 413);
    let error: Value = declared.json().await.expect("JSON error");
    assert_eq!(error["error"], "payload_too_large");
    // Without Content-Length the server reads up to the limit, answers 413 and
    // may close the connection while the client is still sending.
    if let Ok(response) = streamed {
        assert_eq!(response.status(), 413);
    }
    assert_eq!(app.claimed_updates().await, 0);
}

#[sqlx::test(migrations = false)]
async fn stale_buttons_are_acknowledged(pool: PgPool) {
    let app = spawn_app(pool).await;

    let reply = app
        .reply_to(&TgUser::en(15).callback(77, "garbage:::"))
        .await;

    assert_eq!(reply["method"], "answerCallbackQuery");
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains("no longer valid")),
        "{reply}"
    );
}

#[sqlx::test(migrations = false)]
async fn an_update_waiting_on_the_database_times_out_with_503_and_is_not_claimed(pool: PgPool) {
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let app = TestApp::builder(pool).limits(limits).spawn().await;
    let update_id = next_update_id();
    // Another transaction holds the claim of this id: the webhook must wait.
    let mut blocker = app.pool.begin().await.expect("begin");
    sqlx::query("INSERT INTO telegram_updates (update_id) VALUES ($1)")
        .bind(update_id)
        .execute(&mut *blocker)
        .await
        .expect("claim");

    let response = app
        .post_update(&TgUser::en(16).text_with_id(update_id, "/start"))
        .await;
    blocker.rollback().await.expect("rollback");

    assert_eq!(response.status(), 503);
    let error: Value = response.json().await.expect("JSON error");
    assert_eq!(error["error"], "unavailable");
    assert_eq!(
        app.claimed_updates().await,
        0,
        "the timed-out update was not applied"
    );
    // Retried as Telegram does: a retry may itself meet the 300 ms limit
    // while the pool opens a connection on a busy machine.
    let update = TgUser::en(16).text_with_id(update_id, "/start");
    deliver_until_ok(&app, &update, Duration::from_secs(5)).await;
    let retried = app.reply_to(&update).await;
    assert_eq!(
        retried["method"], "sendMessage",
        "Telegram's retry is applied"
    );
    assert_eq!(app.claimed_updates().await, 1);
}

#[sqlx::test(migrations = false)]
async fn one_chats_updates_wait_for_each_other_but_not_for_other_chats(pool: PgPool) {
    let limits = Limits {
        request_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let app = TestApp::builder(pool).limits(limits).spawn().await;
    // Stands in for another instance in the middle of an update of chat 21.
    let mut other_instance = app.pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock(21)")
        .execute(&mut *other_instance)
        .await
        .expect("lock");
    let waiting_update = TgUser::en(21).text("/help");

    let same_chat = app.post_update(&waiting_update).await;
    let other_chat = app.post_update(&TgUser::en(22).text("/help")).await;
    other_instance.commit().await.expect("release");
    let retried = app.post_update(&waiting_update).await;

    assert_eq!(
        same_chat.status(),
        503,
        "waited for the chat's lock, then timed out unapplied"
    );
    assert_eq!(other_chat.status(), 200, "another chat is not held up");
    assert_eq!(retried.status(), 200, "applied once the chat is free");
    assert_eq!(app.claimed_updates().await, 0, "reads claim nothing");
}
