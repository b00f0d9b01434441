//! The load test's driver, the `loadtest` binary of the `ledgerbot-bench`
//! crate (run it through `deploy/loadtest.sh`, which builds it in release mode
//! and gives it an empty database).
//!
//! It seeds people, companies and memberships with SQL, starts a fake Bot API
//! and two `ledgerbot serve` processes on loopback, delivers a mix of updates
//! (commands, button presses, `/add`, and deliberate duplicates sent to the
//! other instance) at high concurrency, samples each instance's RSS from
//! /proc at start, middle and end, then checks: every update answered, no
//! 5xx, every distinct update claimed once, exactly one cash entry per
//! distinct `/add`, memory flat. Exits non-zero when a check fails. Bounded:
//! a fixed number of requests, and a deadline after which it stops.
//!
//! ```text
//! loadtest <ledgerbot binary> <database url> [updates] [concurrency]
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sqlx::PgPool;

const SECRET: &str = "load_test-webhook-secret";
const TOKEN: &str = "123456:LOAD-test-token";
/// Linked people (each a private chat with the bot).
const PEOPLE: i64 = 500;
/// Companies; person `i` owns company `i % COMPANIES` (first come) or is its accountant.
const COMPANIES: i64 = 100;
/// The whole run stops after this, whatever its state.
const DEADLINE: Duration = Duration::from_secs(600);

/// One request to send.
struct Delivery {
    update_id: i64,
    body: Value,
    /// Which instance (0 or 1) receives it.
    instance: usize,
    /// A `/add` (counted for the cash-entry check).
    is_add: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(bin), Some(database_url)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: loadtest <ledgerbot binary> <database url> [updates] [concurrency]");
    };
    let total: usize = args.get(3).map_or(Ok(20_000), |s| s.parse())?;
    let concurrency: usize = args.get(4).map_or(Ok(128), |s| s.parse())?;
    match tokio::time::timeout(DEADLINE, run(bin, database_url, total, concurrency)).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the load test did not finish within {DEADLINE:?}"),
    }
}

async fn run(
    bin: &str,
    database_url: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(database_url)
        .await?;
    ledgerbot::infra::db::migrate(&pool).await?;
    seed(&pool).await?;
    let (fake_url, bot_calls) = fake_bot_api().await?;
    let mut instances = Vec::new();
    for i in 0..2 {
        instances.push(Instance::start(bin, database_url, &fake_url, i)?);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    for instance in &instances {
        instance.wait_healthy(&client).await?;
    }
    let rss_start: Vec<u64> = instances.iter().map(Instance::rss_kib).collect();

    let deliveries = plan(total);
    let distinct_updates = deliveries
        .iter()
        .map(|d| d.update_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let distinct_adds = deliveries
        .iter()
        .filter(|d| d.is_add)
        .map(|d| d.update_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let duplicates = deliveries.len() - distinct_updates;
    println!(
        "loadtest: {} requests ({distinct_updates} distinct updates, {duplicates} duplicates, \
         {distinct_adds} distinct /add) over 2 instances, concurrency {concurrency}",
        deliveries.len()
    );

    let done = Arc::new(AtomicUsize::new(0));
    let rss_middle = Arc::new(std::sync::Mutex::new(Vec::new()));
    let pids: Vec<u32> = instances.iter().map(|i| i.child.id()).collect();
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let started = Instant::now();
    let half = deliveries.len() / 2;
    let results: Vec<(u16, Duration)> = futures_util::stream::iter(deliveries.iter())
        .map(|d| {
            let (client, base, done, rss_middle, pids) = (
                client.clone(),
                bases[d.instance].clone(),
                done.clone(),
                rss_middle.clone(),
                pids.clone(),
            );
            async move {
                let sent = Instant::now();
                let status = match client
                    .post(format!("{base}/telegram/webhook"))
                    .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                    // Not `.json()`: that is a reqwest feature the product's
                    // build does not enable, and enabling it here would make
                    // this crate's build compile reqwest and ledgerbot again.
                    .header("Content-Type", "application/json")
                    .body(d.body.to_string())
                    .send()
                    .await
                {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // Read the answer to the end, as Telegram does.
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                if done.fetch_add(1, Ordering::Relaxed) + 1 == half {
                    *rss_middle.lock().expect("rss") = pids.iter().map(|p| rss_of(*p)).collect();
                }
                (status, sent.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let rss_end: Vec<u64> = instances.iter().map(Instance::rss_kib).collect();
    let rss_middle = rss_middle.lock().expect("rss").clone();

    // Let the background Bot API calls finish before counting them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM telegram_updates")
        .fetch_one(&pool)
        .await?;
    let (entries, entry_updates): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT telegram_update_id) FROM cash_entries
         WHERE note LIKE 'load %'",
    )
    .fetch_one(&pool)
    .await?;
    for instance in &mut instances {
        instance.stop();
    }

    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (status, _) in &results {
        *by_status.entry(*status).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = results.iter().map(|(_, l)| *l).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    let mib = |kib: &[u64]| {
        kib.iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!(
        "loadtest: {} requests in {:.1} s ({:.0}/s); statuses {:?}; latency p50 {:?}, p99 {:?}, max {:?}",
        results.len(),
        elapsed.as_secs_f64(),
        results.len() as f64 / elapsed.as_secs_f64(),
        sorted(&by_status),
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "loadtest: claims {claims} (distinct updates {distinct_updates}); cash entries {entries} for \
         {entry_updates} updates (distinct /add {distinct_adds}); Bot API calls {}",
        bot_calls.load(Ordering::Relaxed)
    );
    println!(
        "loadtest: RSS MiB (instance 1 / instance 2): start {}, middle {}, end {}",
        mib(&rss_start),
        mib(&rss_middle),
        mib(&rss_end)
    );

    let mut failures = Vec::new();
    let answered_ok = by_status.get(&200).copied().unwrap_or(0);
    if answered_ok != results.len() {
        failures.push(format!(
            "not every request answered 200: {:?}",
            sorted(&by_status)
        ));
    }
    if by_status.keys().any(|s| *s >= 500) {
        failures.push("5xx answers".to_owned());
    }
    if claims != distinct_updates as i64 {
        failures.push(format!(
            "{claims} claims for {distinct_updates} distinct updates"
        ));
    }
    if entries != distinct_adds as i64 || entry_updates != distinct_adds as i64 {
        failures.push(format!(
            "{entries} cash entries ({entry_updates} updates) for {distinct_adds} distinct /add"
        ));
    }
    for (i, (middle, end)) in rss_middle.iter().zip(&rss_end).enumerate() {
        // Flat: the second half of the run adds at most a quarter (and 16 MiB of slack).
        if *end > middle + middle / 4 + 16 * 1024 {
            failures.push(format!(
                "instance {}: RSS grew from {middle} KiB at the middle to {end} KiB",
                i + 1
            ));
        }
    }
    if failures.is_empty() {
        println!("loadtest: PASS (0 lost, 0 applied twice, 0 5xx)");
        Ok(())
    } else {
        anyhow::bail!("loadtest: FAIL: {}", failures.join("; "))
    }
}

fn sorted(map: &HashMap<u16, usize>) -> Vec<(u16, usize)> {
    let mut v: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
    v.sort();
    v
}

/// People 1..=PEOPLE (Telegram ids 1_000_000 + i), linked; companies with an
/// owner and accountants; each person's company active.
async fn seed(pool: &PgPool) -> anyhow::Result<()> {
    // Only numbers are formatted in: constants of this file.
    let script = format!(
        "TRUNCATE users, companies, telegram_updates, cash_entries RESTART IDENTITY CASCADE;
         INSERT INTO users (id, email, first_name) OVERRIDING SYSTEM VALUE
         SELECT i, 'load' || i || '@example.ro', 'Load' FROM generate_series(1, {PEOPLE}) AS i;
         INSERT INTO companies (id, name, currency) OVERRIDING SYSTEM VALUE
         SELECT i, 'Firma ' || i || ' SRL', 'RON' FROM generate_series(1, {COMPANIES}) AS i;
         INSERT INTO company_members (company_id, user_id, role)
         SELECT (i % {COMPANIES}) + 1, i,
                CASE WHEN i <= {COMPANIES} THEN 'owner' ELSE 'accountant' END
         FROM generate_series(1, {PEOPLE}) AS i;
         INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id, active_company_id)
         SELECT 1000000 + i, i, 1000000 + i, (i % {COMPANIES}) + 1
         FROM generate_series(1, {PEOPLE}) AS i;
         SELECT setval(pg_get_serial_sequence('users', 'id'), {PEOPLE});
         SELECT setval(pg_get_serial_sequence('companies', 'id'), {COMPANIES});"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(pool)
        .await?;
    Ok(())
}

/// The requests: a deterministic mix (xorshift), about 15 % of them resending
/// an earlier update to the other instance.
fn plan(total: usize) -> Vec<Delivery> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out: Vec<Delivery> = Vec::with_capacity(total);
    let mut update_id = 1_000_000_000_i64;
    while out.len() < total {
        let roll = next() % 100;
        if roll < 15 && !out.is_empty() {
            // A duplicate of a recent update, to the other instance, as
            // Telegram's redelivery or a second instance behind the balancer.
            let back = (next() as usize % 200).min(out.len() - 1);
            let original = &out[out.len() - 1 - back];
            let duplicate = Delivery {
                update_id: original.update_id,
                body: original.body.clone(),
                instance: 1 - original.instance,
                is_add: original.is_add,
            };
            out.push(duplicate);
            continue;
        }
        update_id += 1;
        let person = (next() % PEOPLE as u64) as i64 + 1;
        let tg = 1_000_000 + person;
        let company = (person % COMPANIES) + 1;
        let (body, is_add) = match roll {
            15..=49 => (
                text(
                    update_id,
                    tg,
                    &format!(
                        "/add {},{:02} load {update_id}",
                        next() % 5000 + 1,
                        next() % 100
                    ),
                ),
                true,
            ),
            50..=69 => {
                let data = if roll % 2 == 0 {
                    format!("co:{company}")
                } else {
                    "inv:u:1".to_owned()
                };
                (callback(update_id, tg, &data), false)
            }
            _ => {
                let commands = [
                    "/help",
                    "/sold",
                    "/companies",
                    "/facturi neplatite",
                    "/trezorerie",
                    "/start",
                    "/selectcompany firma",
                    "hello",
                    "/nosuch",
                    "/add 1.234 ambiguous",
                ];
                (
                    text(update_id, tg, commands[next() as usize % commands.len()]),
                    false,
                )
            }
        };
        out.push(Delivery {
            update_id,
            body,
            instance: (next() % 2) as usize,
            is_add,
        });
    }
    out
}

fn user(tg: i64) -> Value {
    json!({"id": tg, "is_bot": false, "first_name": "Load", "language_code": "ro"})
}

fn text(update_id: i64, tg: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": 1, "from": user(tg), "date": 1_700_000_000, "text": text,
        "chat": {"id": tg, "first_name": "Load", "type": "private"}}})
}

fn callback(update_id: i64, tg: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cb{update_id}"), "from": user(tg), "chat_instance": "1", "data": data,
        "message": {"message_id": 7, "date": 1_700_000_000, "text": "…",
                    "chat": {"id": tg, "first_name": "Load", "type": "private"}}}})
}

/// A Bot API that says yes to everything, on loopback; counts the calls.
async fn fake_bot_api() -> anyhow::Result<(String, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let calls = counted.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let calls = calls.clone();
                    async move {
                        calls.fetch_add(1, Ordering::Relaxed);
                        let send = req.uri().path().ends_with("/sendMessage");
                        let _ = req.into_body().collect().await;
                        let result = if send {
                            json!({"message_id": 1, "date": 1_700_000_000,
                                   "chat": {"id": 1, "type": "private"}, "text": "ok"})
                        } else {
                            json!(true)
                        };
                        let body = json!({"ok": true, "result": result}).to_string();
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((url, calls))
}

/// One `ledgerbot serve` process.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    fn start(bin: &str, database_url: &str, fake_url: &str, n: usize) -> anyhow::Result<Self> {
        let mut child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("TELEGRAM_BOT_TOKEN", TOKEN)
            .env("TELEGRAM_WEBHOOK_SECRET", SECRET)
            .env("JWT_SECRET", "load-test-jwt-secret-of-at-least-32-bytes")
            .env("TELEGRAM_API_URL", fake_url)
            .env("PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,ledgerbot::infra::cli=info")
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let log_path = std::env::temp_dir().join(format!("ledgerbot-load-{}.log", n + 1));
        std::thread::spawn(move || {
            let mut log = std::fs::File::create(log_path).ok();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("ledgerbot listening") {
                    let parsed: Value = serde_json::from_str(&line).unwrap_or_default();
                    let _ = tx.send(parsed["addr"].as_str().unwrap_or_default().to_owned());
                }
                if let Some(log) = &mut log {
                    let _ = writeln!(log, "{line}");
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| anyhow::anyhow!("instance {} did not start", n + 1))?;
        Ok(Self {
            child,
            base: format!("http://{}", addr.replace("0.0.0.0", "127.0.0.1")),
        })
    }

    async fn wait_healthy(&self, client: &reqwest::Client) -> anyhow::Result<()> {
        for _ in 0..100 {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("{} never became ready", self.base)
    }

    fn rss_kib(&self) -> u64 {
        rss_of(self.child.id())
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmRSS of a process, in KiB.
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
