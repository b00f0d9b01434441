//! Fault injection: the database going away in the middle of a stream of
//! updates, and a Bot API that answers 429, 5xx, garbage or nothing at all.
//!
//! The database outage is a TCP proxy between the app's pool and the real
//! server: "down" drops every connection through it and refuses new ones,
//! "up" forwards again. The shared server itself is never touched.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use ledgerbot::infra::telegram::BotApi;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::fake_telegram::Scripted;
use crate::helpers::{TestApp, TgUser, app_database, eventually, poll_until, spawn_app};
use crate::people::{activate, company, linked_user, member};

/// A TCP proxy to the test's PostgreSQL server (or to the PgBouncer in front
/// of it, when the tests run through one) that can be cut and restored.
pub(crate) struct DbProxy {
    addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
}

struct ProxyState {
    up: bool,
    connections: Vec<AbortHandle>,
}

impl DbProxy {
    pub(crate) async fn start(pool: &PgPool) -> Self {
        let (url, _) = app_database(pool);
        let target = url
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("host:port in the URL")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(Mutex::new(ProxyState {
            up: true,
            connections: Vec::new(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().expect("proxy state");
                if !state.up {
                    // Refused: the connection closes at once.
                    continue;
                }
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                state.connections.push(forward.abort_handle());
            }
        });
        Self { addr, state }
    }

    /// A URL for the test's database that goes through the proxy.
    pub(crate) fn url(&self, pool: &PgPool) -> String {
        let options = pool.connect_options();
        format!(
            "postgres://{}@{}/{}",
            options.get_username(),
            self.addr,
            options.get_database().expect("test database name")
        )
    }

    /// The database "stops": every open connection drops, new ones are refused.
    pub(crate) fn cut(&self) {
        let mut state = self.state.lock().expect("proxy state");
        state.up = false;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    /// The database is back.
    pub(crate) fn restore(&self) {
        self.state.lock().expect("proxy state").up = true;
    }
}

/// What one delivery attempt got.
#[derive(Debug)]
struct Attempt {
    status: u16,
    /// For a 200: whether the update was applied when the answer arrived:
    /// for an `/add`, its claim was in the database (read directly, not
    /// through the proxy); a read claims nothing and has nothing to apply.
    applied_at_answer: bool,
}

#[sqlx::test(migrations = false)]
async fn a_database_outage_mid_stream_loses_no_update_and_applies_none_twice(pool: PgPool) {
    // Arrange: four owners, each with an active company; the app reaches the
    // database only through the proxy, with the production pool settings.
    let proxy = DbProxy::start(&pool).await;
    let app_pool = ledgerbot::infra::db::pool(&proxy.url(&pool), 5, app_database(&pool).1)
        .expect("pool through the proxy");
    let app = Arc::new(spawn_app(app_pool).await);
    let users: Vec<TgUser> = (0..4).map(|i| TgUser::ro(7_000 + i)).collect();
    for tg in &users {
        let user_id = linked_user(&pool, &format!("p{}@example.ro", tg.id), tg.id).await;
        let company_id = company(&pool, user_id, &format!("Firma {}", tg.id)).await;
        activate(&pool, tg.id, company_id).await;
    }
    const PER_USER: i64 = 40;
    let streams: Vec<Vec<(i64, Value, bool)>> = users
        .iter()
        .enumerate()
        .map(|(u, tg)| {
            (0..PER_USER)
                .map(|i| {
                    let update_id = 900_000 + u as i64 * 1_000 + i;
                    let (text, is_add) = match i % 3 {
                        0 => (format!("/add 1,{:02} nota {update_id}", i % 100), true),
                        1 => ("/help".to_owned(), false),
                        _ => ("/sold".to_owned(), false),
                    };
                    (update_id, tg.text_with_id(update_id, &text), is_add)
                })
                .collect()
        })
        .collect();
    let total = streams.iter().map(Vec::len).sum::<usize>();
    let adds = streams.iter().flatten().filter(|(_, _, a)| *a).count();
    let answered = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));

    // Act: each chat's updates are delivered in order, each one retried (as
    // Telegram does) until it is answered 200; meanwhile the database goes away
    // once a quarter of them are through, and comes back 4 s later.
    let senders = streams.iter().map(|stream| {
        let (app, pool, answered) = (app.clone(), pool.clone(), answered.clone());
        let stream = stream.clone();
        async move {
            let mut log = Vec::new();
            for (update_id, update, is_add) in stream {
                loop {
                    let status = app.post_update(&update).await.status().as_u16();
                    let applied_at_answer =
                        status == 200 && (!is_add || is_claimed(&pool, update_id).await);
                    log.push((
                        update_id,
                        Attempt {
                            status,
                            applied_at_answer,
                        },
                    ));
                    if status == 200 {
                        answered.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    // Telegram's pace between redeliveries: the sleep is the
                    // sender being modelled, not a wait for a condition.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            log
        }
    });
    let faults = {
        let (app, answered, done) = (app.clone(), answered.clone(), done.clone());
        let proxy = &proxy;
        async move {
            let quarter =
                || async { (answered.load(Ordering::Relaxed) >= total / 4).then_some(()) };
            eventually(
                "a quarter of the updates answered",
                Duration::from_secs(60),
                quarter,
            )
            .await;
            proxy.cut();
            let answered_at_cut = answered.load(Ordering::Relaxed);
            // The outage itself: 4 s without a database, readiness read halfway.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let ready_while_down = readiness(&app).await;
            let answered_while_down = answered.load(Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(2)).await;
            proxy.restore();
            let all_sent = || async { done.load(Ordering::Relaxed).then_some(()) };
            eventually("every update answered", Duration::from_secs(120), all_sent).await;
            (ready_while_down, answered_at_cut, answered_while_down)
        }
    };
    let (logs, (ready_while_down, answered_at_cut, answered_while_down)) = tokio::join!(
        async {
            let logs = join_all(senders).await;
            done.store(true, Ordering::Relaxed);
            logs
        },
        faults
    );
    let ready_after = readiness(&app).await;
    // Telegram may deliver any of them once more: nothing may change.
    let redelivered = join_all(
        streams
            .iter()
            .flatten()
            .map(|(_, update, _)| app.post_update(update)),
    )
    .await;

    // Assert
    let attempts: Vec<&(i64, Attempt)> = logs.iter().flatten().collect();
    let failed = attempts.iter().filter(|(_, a)| a.status != 200).count();
    for (update_id, attempt) in &attempts {
        assert!(
            attempt.status == 200 || (500..600).contains(&attempt.status),
            "update {update_id}: {attempt:?}: only 200 or a 5xx that Telegram retries"
        );
        if attempt.status == 200 {
            assert!(
                attempt.applied_at_answer,
                "update {update_id} answered 200 but not applied"
            );
        }
    }
    assert!(failed > 0, "the outage hit the stream");
    assert!(
        answered_while_down <= answered_at_cut + 4,
        "at most the requests in flight at the cut complete while the database is down \
         ({answered_at_cut} → {answered_while_down})"
    );
    assert_eq!(ready_while_down, 503, "/readyz while the database is down");
    assert_eq!(ready_after, 200, "/readyz once it is back");
    for response in &redelivered {
        assert_eq!(response.status(), 200, "a redelivery is answered");
    }
    let distinct: HashSet<i64> = attempts.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        distinct.len(),
        total,
        "every update was answered 200 in the end"
    );
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM telegram_updates")
        .fetch_one(&pool)
        .await
        .expect("claims");
    assert_eq!(
        claims, adds as i64,
        "each /add claimed exactly once, no read claimed"
    );
    let entries: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT telegram_update_id, count(*) FROM cash_entries GROUP BY telegram_update_id",
    )
    .fetch_all(&pool)
    .await
    .expect("entries");
    assert_eq!(entries.len(), adds, "one cash entry per /add update");
    assert!(entries.iter().all(|(_, n)| *n == 1), "{entries:?}");
    eprintln!(
        "database outage: {total} updates, {} delivery attempts, {failed} answered 5xx and retried, \
         0 lost, 0 applied twice",
        attempts.len()
    );
}

async fn readiness(app: &TestApp) -> u16 {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz answers")
        .status()
        .as_u16()
}

async fn is_claimed(pool: &PgPool, update_id: i64) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM telegram_updates WHERE update_id = $1)")
        .bind(update_id)
        .fetch_one(pool)
        .await
        .expect("claim lookup")
}

#[sqlx::test(migrations = false)]
async fn a_failing_bot_api_never_holds_up_the_webhook_and_every_send_ends(pool: PgPool) {
    // Arrange: Bot API calls time out after 500 ms; the fake answers 429,
    // 5xx, garbage and hangs, in turn, before it answers normally again.
    let app = TestApp::builder(pool.clone())
        .app(|app| {
            app.bot = BotApi::with_timeout(
                &app.config.telegram_api_url,
                &app.config.bot_token,
                Duration::from_millis(500),
            )
            .expect("client");
        })
        .spawn()
        .await;
    // One chat per press: a chat's updates wait for each other, chats do not.
    const PRESSES: usize = 16;
    let owner = linked_user(&pool, "owner@example.ro", 7_100).await;
    let company_id = company(&pool, owner, "Exemplu SRL").await;
    let mut pressers = Vec::new();
    for i in 1..=PRESSES as i64 {
        let tg = TgUser::en(7_100 + i);
        let user_id = linked_user(&pool, &format!("p{i}@example.ro"), tg.id).await;
        member(&pool, company_id, user_id, "viewer").await;
        pressers.push(tg);
    }
    let retry_after = |s: u64| {
        Scripted::Reply(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests",
                   "parameters": {"retry_after": s}}),
        )
    };
    let server_error = |code: u16| {
        Scripted::Reply(
            code,
            json!({"ok": false, "error_code": code, "description": "Internal Server Error"}),
        )
    };
    let garbage = || Scripted::Reply(200, json!("<html>502 Bad Gateway</html>"));
    let faults = [
        retry_after(1),
        server_error(500),
        garbage(),
        Scripted::Hang,
        server_error(502),
        Scripted::Hang,
        Scripted::Hang,
        retry_after(1),
        garbage(),
        server_error(500),
        server_error(500),
        server_error(500),
        Scripted::Hang,
        retry_after(3600),
    ];
    for fault in faults.iter().cloned() {
        app.telegram.script(fault);
    }
    let presses: Vec<Value> = pressers
        .iter()
        .map(|tg| tg.callback(100, &format!("co:{company_id}")))
        .collect();

    // The senders' gate closed, as a 429 would close it: nothing can be
    // sent until it opens, so a webhook that waited on the Bot API would
    // never answer, and every press is queued before the first send (the
    // faults then meet the presses in the queue's order, however slowly
    // the machine runs the webhooks).
    sqlx::query("UPDATE outbox_gate SET paused_until = now() + interval '1 day'")
        .execute(&pool)
        .await
        .expect("gate closed");

    // Act: every press answers with an edit in the webhook response and an
    // answerCallbackQuery sent in the background.
    let timed = tokio::time::timeout(
        Duration::from_secs(60),
        join_all(presses.iter().map(|press| async {
            let started = Instant::now();
            let response = app.post_update(press).await;
            let status = response.status();
            let body: Value = response.json().await.expect("a reply");
            (status, started.elapsed(), body)
        })),
    )
    .await
    .expect("the webhook answers while no Bot API call can be made");
    let calls_while_closed = app.telegram.calls().len();
    sqlx::query("UPDATE outbox_gate SET paused_until = now()")
        .execute(&pool)
        .await
        .expect("gate opened");
    app.outbox.wake();
    // The sends end within a bound (each fault costs at most a timeout of
    // 500 ms, a backoff or a 429's pause of 1 s, but for the last): a
    // generous one, so that a busy machine does not fail the test, but one
    // a send that never ended would pass.
    let bound = Duration::from_secs(60);
    let started = Instant::now();
    let settled = || async {
        // Settled: nothing in flight, and nothing pending but what waits
        // out the last 429's pause.
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE state = 'sending'
                 OR (state = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox_gate
                     WHERE paused_until > now() + interval '30 minutes'))",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        (open == 0 && app.bot.in_flight() == 0).then_some(())
    };
    let drained = poll_until(bound, settled).await.is_some();
    let drained_in = started.elapsed();
    let calls_at_end = app.telegram.calls().len();
    // The sleep is what is tested: a window in which a send that had not
    // really ended would still show up.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'pending'")
        .fetch_one(&pool)
        .await
        .expect("count");
    let paused: bool =
        sqlx::query_scalar("SELECT paused_until > now() + interval '30 minutes' FROM outbox_gate")
            .fetch_one(&pool)
            .await
            .expect("gate");

    // Assert
    for (status, _, body) in &timed {
        assert_eq!(*status, 200);
        assert_eq!(body["method"], "editMessageText", "{body}");
    }
    assert_eq!(
        calls_while_closed, 0,
        "the webhook answers without calling the Bot API itself"
    );
    assert!(
        drained,
        "every send ended or waits out the last 429 within {bound:?}"
    );
    assert_eq!(app.bot.in_flight(), 0, "no call holds a task");
    assert!(paused, "the last 429 (an hour) pauses every sender");
    let calls = app.telegram.calls();
    assert_eq!(
        calls.len(),
        calls_at_end,
        "nothing is sent during the pause"
    );
    assert!(
        calls.len()
            <= PRESSES * ledgerbot::infra::outbox::OutboxLimits::default().max_attempts as usize,
        "bounded retries: {} calls",
        calls.len()
    );
    let answered: HashSet<&str> = calls
        .iter()
        .filter(|c| c.method == "answerCallbackQuery")
        .filter_map(|c| c.params["callback_query_id"].as_str())
        .collect();
    // A press that met a 5xx waits out its backoff (a second or more) while
    // the others are sent: the call after it is another press's (all are
    // queued, so another is always due). A sender that retried one message
    // before going on would fail here; only a stall of the sender longer
    // than the backoff could.
    let press_of = |n: usize| calls[n].params["callback_query_id"].as_str();
    for (n, fault) in faults.iter().enumerate() {
        let five_xx = matches!(fault, Scripted::Reply(code, _) if *code >= 500);
        if five_xx && n + 1 < calls.len() {
            assert_ne!(
                press_of(n),
                press_of(n + 1),
                "call {n} met a {fault:?}; the next call went to the same press"
            );
        }
    }
    assert!(
        answered.len() + usize::try_from(waiting).expect("count") >= PRESSES,
        "every press was attempted or waits out the pause"
    );
    eprintln!(
        "bot api faults: {PRESSES} presses, {} faults scripted, {} calls, slowest webhook answer {:?}, \
         background sends drained in {drained_in:?}",
        faults.len(),
        calls.len(),
        timed.iter().map(|(_, t, _)| *t).max().unwrap_or_default()
    );
}
