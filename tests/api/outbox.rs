//! The outbox: messages beyond the webhook's answer are durable, sent once,
//! within Telegram's limits across instances, through a database outage and
//! a shutdown mid-send.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ledgerbot::front::bot::BotMethod;
use ledgerbot::infra::config::Secret;
use ledgerbot::infra::outbox::OutboxLimits;
use ledgerbot::infra::telegram::BotApi;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::fake_telegram::{Call, Scripted};
use crate::faults::DbProxy;
use crate::helpers::{BOT_TOKEN, TestApp, TgUser, app_database, eventually, spawn_app};
use crate::people::{activate, company, linked_user};

fn server_error() -> Scripted {
    Scripted::Reply(
        502,
        json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
    )
}

fn retry_after(seconds: u64) -> Scripted {
    Scripted::Reply(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry later",
               "parameters": {"retry_after": seconds}}),
    )
}

async fn linked_chat(pool: &PgPool, telegram_id: i64) {
    let user_id: i64 =
        sqlx::query_scalar("INSERT INTO users (first_name) VALUES ('Ana') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("user");
    sqlx::query(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id) VALUES ($1, $2, $1)",
    )
    .bind(telegram_id)
    .bind(user_id)
    .execute(pool)
    .await
    .expect("link");
}

async fn blocked_at_is_set(pool: &PgPool, telegram_id: i64) -> bool {
    sqlx::query_scalar(
        "SELECT blocked_at IS NOT NULL FROM telegram_accounts WHERE telegram_user_id = $1",
    )
    .bind(telegram_id)
    .fetch_one(pool)
    .await
    .expect("row")
}

/// Queues `methods` as a change's transaction would, and wakes the app's sender.
async fn queue(app: &TestApp, methods: &[BotMethod]) {
    ledgerbot::infra::outbox::send_soon(&app.pool, &app.outbox, methods, None)
        .await
        .expect("queued");
}

/// The rows' states, by count.
async fn states(pool: &PgPool) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT state, count(*) FROM outbox GROUP BY state")
        .fetch_all(pool)
        .await
        .expect("states")
        .into_iter()
        .collect()
}

/// Waits until every row has ended as `state`.
async fn all_rows_end(pool: &PgPool, rows: i64, state: &str, within: Duration) {
    let what = format!("{rows} outbox rows {state}");
    eventually(&what, within, || async {
        let states = states(pool).await;
        (states.get(state).copied() == Some(rows) && states.len() == 1).then_some(())
    })
    .await;
}

/// The texts of the messages sent, with how often each was sent.
fn texts(calls: &[Call]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for call in calls {
        let text = call.params["text"].as_str().unwrap_or_default().to_owned();
        *seen.entry(text).or_default() += 1;
    }
    seen
}

/// An instance on `pool`'s database with a pool of its own, as another
/// process would have, with `limits` and its own bot token (so the fake tells
/// who sent what); sending to `telegram_url` when given, else to its own fake.
async fn instance(
    pool: &PgPool,
    telegram_url: Option<&str>,
    token: &str,
    limits: OutboxLimits,
) -> TestApp {
    let own_pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("own pool");
    let (url, token) = (telegram_url.map(str::to_owned), token.to_owned());
    TestApp::builder(own_pool)
        .config(move |config| {
            if let Some(url) = url {
                config.telegram_api_url = url;
            }
            config.bot_token = Secret::new(token);
            config.outbox = limits;
        })
        .spawn()
        .await
}

#[sqlx::test(migrations = false)]
async fn server_errors_are_retried_with_backoff_until_delivered(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.telegram.script(server_error());
    app.telegram.script(server_error());

    queue(&app, &[BotMethod::html(42, "hi")]).await;

    all_rows_end(&app.pool, 1, "sent", Duration::from_secs(60)).await;
    let calls = app.telegram.calls();
    assert_eq!(calls.len(), 3, "two failures, then delivered");
    assert!(
        calls[2].at - calls[1].at >= Duration::from_millis(1_900),
        "the second retry waits longer than the first: {:?} then {:?}",
        calls[1].at - calls[0].at,
        calls[2].at - calls[1].at
    );
}

#[sqlx::test(migrations = false)]
async fn retries_are_bounded_for_errors_and_hanging_calls(pool: PgPool) {
    let app = spawn_app(pool).await;
    let api = BotApi::with_timeout(
        &app.telegram.url,
        &Secret::new(BOT_TOKEN),
        Duration::from_millis(200),
    )
    .expect("client");
    for _ in 0..5 {
        app.telegram.script(server_error());
    }
    let started = Instant::now();

    let err = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("gives up");
    let after_errors = app.telegram.calls().len();
    for _ in 0..5 {
        app.telegram.script(Scripted::Hang);
    }
    let hang = api
        .call(&BotMethod::html(42, "x"))
        .await
        .expect_err("gives up");

    assert!(
        matches!(
            err,
            ledgerbot::infra::telegram::BotApiError::Api { code: 502, .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        after_errors,
        ledgerbot::infra::telegram::MAX_ATTEMPTS as usize
    );
    assert!(
        matches!(hang, ledgerbot::infra::telegram::BotApiError::Network(_)),
        "{hang:?}"
    );
    assert_eq!(
        app.telegram.calls().len(),
        2 * ledgerbot::infra::telegram::MAX_ATTEMPTS as usize
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "bounded: {:?}",
        started.elapsed()
    );
}

#[sqlx::test(migrations = false)]
async fn a_chat_that_blocked_the_bot_is_not_written_to_until_it_writes_again(pool: PgPool) {
    let app = spawn_app(pool).await;
    linked_chat(&app.pool, 777).await;
    app.telegram.script(Scripted::Reply(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    ));

    queue(
        &app,
        &[BotMethod::html(777, "a"), BotMethod::html(777, "b")],
    )
    .await;
    all_rows_end(&app.pool, 2, "blocked", Duration::from_secs(60)).await;
    let blocked = blocked_at_is_set(&app.pool, 777).await;
    queue(&app, &[BotMethod::html(777, "c")]).await;
    all_rows_end(&app.pool, 3, "blocked", Duration::from_secs(60)).await;
    let calls_while_blocked = app.telegram.calls().len();
    app.reply_to(&TgUser::en(777).text("/help")).await;
    let unblocked = !blocked_at_is_set(&app.pool, 777).await;
    queue(&app, &[BotMethod::html(777, "d")]).await;
    app.telegram.wait_for_calls(2).await;

    assert!(blocked, "403 marks the chat");
    assert_eq!(
        calls_while_blocked, 1,
        "no retry after 403, nothing sent while blocked"
    );
    assert!(unblocked, "writing to the bot lifts the block");
    assert_eq!(app.telegram.calls()[1].params["text"], "d");
}

#[sqlx::test(migrations = false)]
async fn two_instances_together_keep_telegrams_limits(pool: PgPool) {
    // Arrange: two instances on one database and one Bot API, with limits
    // lowered so that the test is quick: 10 a second in all, one a second
    // per private chat, one every 400 ms per group.
    let limits = OutboxLimits {
        messages_per_second: 10,
        group_chat_interval: Duration::from_millis(400),
        ..OutboxLimits::default()
    };
    let first = instance(&pool, None, "1:first", limits).await;
    let second = instance(&pool, Some(&first.telegram.url), "2:second", limits).await;
    let mut methods = Vec::new();
    for round in 0..3 {
        for chat in 1..=8 {
            methods.push(BotMethod::html(chat, format!("{chat}/{round}")));
        }
        for n in 0..4 {
            methods.push(BotMethod::html(-100_500, format!("group/{round}/{n}")));
        }
    }
    let (a, b) = methods.split_at(methods.len() / 2);

    // Act: each instance queues half, at once.
    tokio::join!(queue(&first, a), queue(&second, b));
    all_rows_end(
        &pool,
        methods.len() as i64,
        "sent",
        Duration::from_secs(120),
    )
    .await;

    // Assert: every message once; in any second, at most 10; per chat, the
    // spacing; and both instances sent. The limits are checked where they
    // are kept, on the slots the instances reserved in the database (each
    // row's `taken_at`, on the database's clock): the moment the fake Bot
    // API reads a request adds the machine's scheduling delay, which under
    // load exceeds the 5 % margin the sender leaves for it (a check on
    // those moments failed now and then on a busy machine).
    let calls = first.telegram.calls();
    assert_eq!(calls.len(), methods.len());
    assert!(texts(&calls).values().all(|n| *n == 1), "none twice");
    let taken: Vec<(i64, Duration)> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT chat_id, (extract(epoch FROM taken_at - min(taken_at) OVER ()) * 1e6)::int8
         FROM outbox ORDER BY taken_at",
    )
    .fetch_all(&pool)
    .await
    .expect("the reserved slots")
    .into_iter()
    .map(|(chat, micros)| (chat, Duration::from_micros(micros.unsigned_abs())))
    .collect();
    assert_eq!(taken.len(), methods.len());
    for (i, (_, start)) in taken.iter().enumerate() {
        let in_a_second = taken[i..]
            .iter()
            .take_while(|(_, t)| *t - *start < Duration::from_secs(1))
            .count();
        assert!(
            in_a_second <= 10,
            "{in_a_second} sends within a second: {taken:?}"
        );
    }
    let mut per_chat: HashMap<i64, Vec<Duration>> = HashMap::new();
    for (chat, at) in &taken {
        per_chat.entry(*chat).or_default().push(*at);
    }
    for (chat, times) in per_chat {
        let least = if chat > 0 {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(400)
        };
        for pair in times.windows(2) {
            assert!(
                pair[1] - pair[0] >= least,
                "chat {chat}: two sends {:?} apart",
                pair[1] - pair[0]
            );
        }
    }
    let by_first = calls.iter().filter(|c| c.token == "1:first").count();
    assert!(
        by_first > 0 && by_first < calls.len(),
        "both instances sent ({by_first} of {} by the first)",
        calls.len()
    );
}

#[sqlx::test(migrations = false)]
async fn a_429_pauses_every_instance_for_its_retry_after(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let url = Some(first.telegram.url.as_str());
    let second = instance(&pool, url, "2:second", OutboxLimits::default()).await;
    first.telegram.script(retry_after(2));

    queue(&first, &[BotMethod::html(1, "one")]).await;
    // The pause starts when the first instance has the 429 answer and stores
    // it, not when Telegram receives the call: a message the second instance
    // sends in between is one Telegram would take too.
    eventually(
        "the 429's pause stored",
        Duration::from_secs(10),
        || async {
            let paused: bool =
                sqlx::query_scalar("SELECT paused_until > clock_timestamp() FROM outbox_gate")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            paused.then_some(())
        },
    )
    .await;
    queue(
        &second,
        &[BotMethod::html(2, "two"), BotMethod::html(3, "three")],
    )
    .await;
    all_rows_end(&pool, 3, "sent", Duration::from_secs(60)).await;

    let calls = first.telegram.calls();
    assert_eq!(calls.len(), 4, "the refused one again, and the two others");
    for call in &calls[1..] {
        assert!(
            call.at - calls[0].at >= Duration::from_secs(2),
            "{} went {:?} after the 429",
            call.params["text"],
            call.at - calls[0].at
        );
    }
    assert_eq!(texts(&calls)["one"], 2);
}

#[sqlx::test(migrations = false)]
async fn a_shutdown_mid_send_loses_nothing_and_sends_nothing_twice(pool: PgPool) {
    // Arrange: the first call takes a second to answer.
    let mut first = spawn_app(pool.clone()).await;
    first
        .telegram
        .script(Scripted::Slow(Duration::from_secs(1)));
    let methods: Vec<BotMethod> = (1..=6)
        .map(|chat| BotMethod::html(chat, format!("message {chat}")))
        .collect();
    queue(&first, &methods).await;
    first.telegram.wait_for_calls(1).await;

    // Act: SIGTERM while that call is in flight; then another instance starts.
    first
        .begin_shutdown()
        .await
        .expect("joined")
        .expect("clean exit");
    let states_at_exit = states(&pool).await;
    let url = Some(first.telegram.url.as_str());
    let second = instance(&pool, url, "2:second", OutboxLimits::default()).await;
    all_rows_end(&pool, 6, "sent", Duration::from_secs(60)).await;

    // Assert
    assert!(
        !states_at_exit.contains_key("sending"),
        "the call in flight was recorded before the exit: {states_at_exit:?}"
    );
    let calls = second.telegram.calls();
    let sent = texts(&first.telegram.calls());
    assert_eq!(sent.len(), 6, "every message: {sent:?}");
    assert!(sent.values().all(|n| *n == 1), "none twice: {sent:?}");
    assert!(calls.is_empty(), "the second instance's own fake is unused");
}

#[sqlx::test(migrations = false)]
async fn a_message_whose_sender_died_mid_call_is_not_sent_again(pool: PgPool) {
    // Arrange: a row left `sending` by an instance that died, long ago, and
    // a later message to the same chat.
    sqlx::raw_sql(include_str!("../../schema.sql"))
        .execute(&pool)
        .await
        .expect("schema");
    for (state, text) in [("sending", "maybe arrived"), ("pending", "after it")] {
        sqlx::query(
            "INSERT INTO outbox (chat_id, method, state, taken_at, attempts)
             VALUES (5, jsonb_build_object('method', 'sendMessage', 'chat_id', 5, 'text', $2::text),
                     $1, CASE WHEN $1 = 'sending' THEN now() - interval '1 hour' END, 0)",
        )
        .bind(state)
        .bind(text)
        .execute(&pool)
        .await
        .expect("row");
    }

    let app = spawn_app(pool.clone()).await;
    app.telegram.wait_for_calls(1).await;
    let uncertain = || async {
        let states = states(&pool).await;
        (states.get("uncertain") == Some(&1) && states.get("sent") == Some(&1)).then_some(())
    };
    eventually("the rows end", Duration::from_secs(5), uncertain).await;

    let calls = app.telegram.calls();
    assert_eq!(calls.len(), 1, "at most once: {calls:?}");
    assert_eq!(calls[0].params["text"], "after it");
}

#[sqlx::test(migrations = false)]
async fn a_database_outage_mid_send_loses_nothing_and_doubles_nothing(pool: PgPool) {
    // Arrange: the app reaches the database through a proxy that can be cut;
    // its first call takes 600 ms to answer.
    let proxy = DbProxy::start(&pool).await;
    let app_pool = ledgerbot::infra::db::pool(&proxy.url(&pool), 5, app_database(&pool).1)
        .expect("pool through the proxy");
    let app = spawn_app(app_pool).await;
    app.telegram
        .script(Scripted::Slow(Duration::from_millis(600)));
    let methods: Vec<BotMethod> = (1..=5)
        .map(|chat| BotMethod::html(chat, format!("message {chat}")))
        .collect();
    queue(&app, &methods).await;

    // Act: the database goes away while the first call is in flight, and
    // comes back two seconds later.
    app.telegram.wait_for_calls(1).await;
    proxy.cut();
    // The outage's length is what is modelled: not a wait for a condition.
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();
    all_rows_end(&pool, 5, "sent", Duration::from_secs(60)).await;

    // Assert
    let sent = texts(&app.telegram.calls());
    assert_eq!(sent.len(), 5, "every message: {sent:?}");
    assert!(sent.values().all(|n| *n == 1), "none twice: {sent:?}");
}

#[sqlx::test(migrations = false)]
async fn an_invitations_qr_photo_is_uploaded_from_the_outbox(pool: PgPool) {
    let app = spawn_app(pool).await;
    let png = ledgerbot::blocks::qr::png("https://t.me/x?start=inv_abc").expect("png");
    let photo = ledgerbot::infra::telegram::PhotoUpload {
        chat_id: 9,
        png,
        file_name: "invitation.png".to_owned(),
        caption: "scan".to_owned(),
    };

    queue(&app, &[BotMethod::SendPhoto(photo)]).await;
    let calls = app.telegram.wait_for_calls(1).await;
    all_rows_end(&app.pool, 1, "sent", Duration::from_secs(60)).await;

    assert_eq!(calls[0].method, "sendPhoto");
    assert_eq!(calls[0].params["caption"], "scan");
    assert_eq!(calls[0].params["photo"]["png"], true, "{}", calls[0].params);
    let kept: Option<Vec<u8>> = sqlx::query_scalar("SELECT photo FROM outbox")
        .fetch_one(&app.pool)
        .await
        .expect("row");
    assert!(
        kept.is_none(),
        "a sent row keeps no image (it may carry a code)"
    );
}

/// When the first call of `method` to `chat` arrived, waiting for it.
async fn first_arrival(app: &TestApp, method: &str, chat: i64) -> Instant {
    eventually(
        &format!("a {method} to chat {chat}"),
        Duration::from_secs(15),
        || async {
            app.telegram
                .calls()
                .into_iter()
                .find(|c| {
                    // JSON calls carry a number, uploads (multipart) a string.
                    let to = &c.params["chat_id"];
                    c.method == method
                        && (to.as_i64() == Some(chat) || to.as_str() == Some(&chat.to_string()))
                })
                .map(|c| c.at)
        },
    )
    .await
}

#[sqlx::test(migrations = false)]
async fn what_an_update_queues_for_the_chat_it_answered_waits_a_chat_spacing(pool: PgPool) {
    // Arrange: a person with a company that has something to draw; another
    // chat with a message queued at the same moment, not held.
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(4_242);
    let user = linked_user(&pool, "ana@example.ro", tg.id).await;
    let id = company(&pool, user, "Exemplu SRL").await;
    activate(&pool, tg.id, id).await;
    app.reply_to(&tg.text("/add 250 consulting")).await;

    // Act: /chart answers with its intro in the webhook's response and
    // queues the photos; an unrelated chat's message is queued right after.
    let reply = app.reply_to(&tg.text("/chart")).await;
    let answered = Instant::now();
    queue(&app, &[BotMethod::html(4_343, "other chat")]).await;
    let first_photo = first_arrival(&app, "sendPhoto", 4_242).await;
    let other = first_arrival(&app, "sendMessage", 4_343).await;

    // Assert: the answer was direct, the first photo came at least one
    // private chat's spacing (1 s) after it; the other chat waited for nothing.
    assert!(
        crate::helpers::reply_text(&reply).contains("the charts of the last 6 months"),
        "{reply}"
    );
    let gap = first_photo - answered;
    assert!(
        gap >= Duration::from_secs(1),
        "photo {gap:?} after the answer"
    );
    assert!(
        other < first_photo,
        "the other chat's message was not held: {:?} after the answer",
        other - answered
    );
}

#[sqlx::test(migrations = false)]
async fn rows_queued_without_an_answer_or_for_other_chats_are_not_held(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let answered = ledgerbot::infra::outbox::Answered::now(42, &OutboxLimits::default());

    // Act: messages to the answered chat and another, and one queued plainly.
    let mut conn = app.pool.acquire().await.expect("connection");
    ledgerbot::infra::outbox::enqueue_after(
        &mut conn,
        &[BotMethod::html(42, "held"), BotMethod::html(43, "free")],
        Some(answered),
    )
    .await
    .expect("queued");
    ledgerbot::infra::outbox::enqueue(&mut conn, &[BotMethod::html(42, "plain")])
        .await
        .expect("queued");

    // Assert: only the answered chat's row waits, about 1.05 s + 0.25 s.
    // The rows are told apart by their order, not their text: the sender may
    // already have sent the two free ones, and a sent row keeps no text.
    let holds: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT chat_id, extract(epoch FROM not_before - created_at)::float8
         FROM outbox ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows");
    let chats: Vec<i64> = holds.iter().map(|(chat, _)| *chat).collect();
    assert_eq!(chats, [42, 43, 42], "held, free, plain");
    assert!((1.0..1.4).contains(&holds[0].1), "{holds:?}");
    assert!(holds[1].1.abs() < 0.2, "another chat: {holds:?}");
    assert!(holds[2].1.abs() < 0.2, "no answer: {holds:?}");
}

#[sqlx::test(migrations = false)]
async fn an_imports_summary_waits_a_chat_spacing_after_the_answer_to_the_file(pool: PgPool) {
    // Arrange: an owner whose file is not e-Factura, so the import is quick.
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(4_444);
    let user = linked_user(&pool, "ana@example.ro", tg.id).await;
    let id = company(&pool, user, "Exemplu SRL").await;
    activate(&pool, tg.id, id).await;
    app.telegram
        .serve_file("F-9", b"<not-an-invoice/>".to_vec());

    // Act
    let reply = app.reply_to(&tg.document("F-9", "f.xml", 17)).await;
    let answered = Instant::now();
    let summary = first_arrival(&app, "sendMessage", 4_444).await;

    // Assert
    assert!(
        crate::helpers::reply_text(&reply).starts_with("Importing"),
        "{reply}"
    );
    let gap = summary - answered;
    assert!(
        gap >= Duration::from_secs(1),
        "summary {gap:?} after the answer"
    );
}
