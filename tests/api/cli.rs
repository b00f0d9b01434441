//! The binary itself: its command line, start-up errors, `migrate`,
//! `set-webhook`, and `serve` with JSON logs and graceful SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ledgerbot::blocks::Lang;
use ledgerbot::front::bot::command::menu;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::fake_telegram::FakeTelegram;
use crate::helpers::{BOT_TOKEN, Http, WEBHOOK_SECRET, app_database};

const BIN: &str = env!("CARGO_BIN_EXE_ledgerbot");

/// A `ledgerbot` command with an empty environment but `PATH`.
pub fn ledgerbot(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// `DATABASE_URL` and `DATABASE_POOLER` for a `ledgerbot` process on the
/// test's database, as the app reaches it (through the PgBouncer when the
/// tests run through one).
pub fn database_env<'c>(cmd: &'c mut Command, pool: &PgPool) -> &'c mut Command {
    let (url, pooler) = app_database(pool);
    cmd.env("DATABASE_URL", url)
        .env("DATABASE_POOLER", pooler.name())
}

/// Everything `serve` needs, on the test's database.
pub fn serve_env(cmd: &mut Command, pool: &PgPool, telegram_url: &str) {
    bot_env(database_env(cmd, pool), telegram_url);
}

/// `ledgerbot serve` running as a child process on the test's database, with
/// a fake Bot API, logging JSON to stderr, which a thread reads all along (so
/// that a chatty log never blocks the server).
pub struct Served {
    /// The process.
    pub child: std::process::Child,
    /// The Bot API it calls.
    pub fake: FakeTelegram,
    /// A client of its address.
    pub http: Http,
    /// Every log line, once the process has exited and the thread is joined.
    pub log: std::thread::JoinHandle<Vec<String>>,
}

/// Starts `ledgerbot serve` on port 0 with the variables `adjust` adds to
/// [`serve_env`]'s, and waits until it says where it listens.
pub async fn serve(pool: &PgPool, adjust: impl FnOnce(&mut Command)) -> Served {
    ledgerbot::infra::db::migrate(pool).await.expect("schema");
    let fake = FakeTelegram::start().await;
    let mut cmd = ledgerbot(&["serve"]);
    serve_env(&mut cmd, pool, &fake.url);
    cmd.env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped());
    adjust(&mut cmd);
    let mut child = cmd.spawn().expect("spawns");
    let stderr = child.stderr.take().expect("stderr");
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("ledgerbot listening") {
                let parsed: Value = serde_json::from_str(&line).expect("JSON log line");
                let _ = addr_tx.send(parsed["addr"].as_str().map(str::to_owned));
            }
            lines.push(line);
        }
        lines
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the server starts")
        .expect("addr field")
        .replace("0.0.0.0", "127.0.0.1");
    Served {
        child,
        fake,
        http: Http::new(&format!("http://{addr}")),
        log,
    }
}

/// `ledgerbot notify --once --at <at>` on the test's database, with the
/// Bot API at `telegram_url`; run off the test's runtime, which serves the
/// fake Bot API meanwhile.
pub async fn notify_once(
    pool: &PgPool,
    telegram_url: &str,
    at: time::OffsetDateTime,
) -> std::process::Output {
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    let mut cmd = ledgerbot(&["notify", "--once", "--at", &at]);
    serve_env(&mut cmd, pool, telegram_url);
    tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("joined")
}

/// The Telegram settings, the JWT secret and the public URL.
fn bot_env<'c>(cmd: &'c mut Command, telegram_url: &str) -> &'c mut Command {
    cmd.env("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        .env("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("JWT_SECRET", "j".repeat(32))
        .env("TELEGRAM_API_URL", telegram_url)
        .env("PUBLIC_URL", "https://bot.example.com")
}

#[test]
fn help_lists_the_subcommands() {
    let output = ledgerbot(&["--help"]).output().expect("runs");

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for sub in ["serve", "migrate", "set-webhook", "dev", "demo-data"] {
        assert!(help.contains(sub), "{sub} missing from:\n{help}");
    }
}

#[test]
fn serve_names_the_first_missing_or_unusable_variable_in_one_line() {
    let complete = [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/x".to_owned(),
        ),
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("JWT_SECRET", "j".repeat(32)),
    ];
    let cases = [
        ("DATABASE_URL", None, "missing"),
        ("TELEGRAM_BOT_TOKEN", None, "missing"),
        ("TELEGRAM_WEBHOOK_SECRET", Some("bad secret!"), "invalid"),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            Some("only-15-chars-x"),
            "at least 16",
        ),
        ("JWT_SECRET", Some("short"), "invalid"),
        // Read before anything else, by the runtime it sizes.
        ("WORKER_THREADS", Some("0"), "1-256"),
    ];
    for (name, value, why) in cases {
        let mut cmd = ledgerbot(&["serve"]);
        for (k, v) in &complete {
            if *k != name {
                cmd.env(k, v);
            }
        }
        if let Some(v) = value {
            cmd.env(name, v);
        }

        let output = cmd.output().expect("runs");

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name} {why}: must not start");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{name}: one line, got:\n{stderr}"
        );
        assert!(stderr.contains(name), "{name} not named in: {stderr}");
        if why != "missing" && why != "invalid" {
            assert!(stderr.contains(why), "{name}: says why: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        if let Some(v) = value {
            assert!(
                !stderr.contains(v),
                "the value (maybe a secret) was printed: {stderr}"
            );
        }
    }
}

#[sqlx::test(migrations = false)]
async fn migrate_is_idempotent_and_records_the_schema_version(pool: PgPool) {
    // Each run's output is read while the others run: unread, a pipe that
    // fills (a slow statement's log holds the whole schema) would stop the
    // run holding the lock, and the others would wait for it forever.
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let child = database_env(&mut ledgerbot(&["migrate"]), &pool)
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawns");
            std::thread::spawn(move || child.wait_with_output().expect("exits"))
        })
        .collect();
    let statuses: Vec<_> = runs
        .into_iter()
        .map(|run| run.join().expect("the run's thread"))
        .collect();
    let again = database_env(&mut ledgerbot(&["migrate"]), &pool)
        .output()
        .expect("runs");

    for output in statuses.iter().chain([&again]) {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let versions: Vec<String> = sqlx::query_scalar("SELECT checksum FROM schema_version")
        .fetch_all(&pool)
        .await
        .expect("versions");
    assert_eq!(versions.len(), 1, "one schema, recorded once");
    assert_eq!(versions[0].len(), 64, "a SHA-256");
}

#[test]
fn migrate_without_a_database_url_says_so() {
    let output = ledgerbot(&["migrate"]).output().expect("runs");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"));
}

#[sqlx::test(migrations = false)]
async fn migrate_uses_the_direct_url_when_there_is_one(pool: PgPool) {
    // Arrange: DATABASE_URL (the pooled one) leads nowhere; the direct one is
    // the test's database.
    let options = pool.connect_options();
    let direct_server = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("test database name")
    );

    // Act
    let output = ledgerbot(&["migrate"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/pooled")
        .env("DATABASE_POOLER", "transaction")
        .env("DATABASE_DIRECT_URL", &direct_server)
        .output()
        .expect("runs");

    // Assert
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_version")
        .fetch_one(&pool)
        .await
        .expect("applied on the direct URL's database");
    assert_eq!(versions, 1);
}

#[tokio::test]
async fn set_webhook_registers_the_public_url_with_the_secret() {
    let fake = FakeTelegram::start().await;
    let mut cmd = ledgerbot(&["set-webhook", "--max-connections", "20"]);
    bot_env(&mut cmd, &fake.url).env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused");

    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let call = &fake.calls()[0];
    assert_eq!(call.method, "setWebhook");
    assert_eq!(call.token, BOT_TOKEN);
    assert_eq!(
        call.params["url"],
        "https://bot.example.com/telegram/webhook"
    );
    assert_eq!(call.params["secret_token"], WEBHOOK_SECRET);
    assert_eq!(call.params["max_connections"], 20);
    let calls = fake.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    let menus = &calls[1..3];
    for (call, lang, language_code) in [
        (&menus[0], Lang::En, Value::Null),
        (&menus[1], Lang::Ro, json!("ro")),
    ] {
        assert_eq!(call.method, "setMyCommands");
        assert_eq!(call.params["language_code"], language_code);
        let expected: Vec<Value> = menu(lang)
            .into_iter()
            .map(|(command, description)| json!({"command": command, "description": description}))
            .collect();
        assert_eq!(call.params["commands"], json!(expected), "{lang:?}");
    }
    let ro = &menus[1].params["commands"];
    assert!(
        ro.as_array()
            .expect("commands")
            .iter()
            .any(|c| c["command"] == "sold" && c["description"] == "cifrele firmei active"),
        "Romanian names in the Romanian menu: {ro}"
    );
    // The menu button opens the Mini App.
    let button = &calls[3];
    assert_eq!(button.method, "setChatMenuButton");
    assert_eq!(button.params["menu_button"]["type"], "web_app");
    assert_eq!(
        button.params["menu_button"]["web_app"]["url"],
        "https://bot.example.com/app"
    );
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        !logs.contains("TEST-token"),
        "the token reached the log: {logs}"
    );
}

#[sqlx::test(migrations = false)]
async fn serve_logs_json_and_drains_on_sigterm(pool: PgPool) {
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    // The default runtime (a worker per core) and the single thread.
    for workers in [None, Some("1")] {
        serves_and_drains_on_sigterm(&pool, workers).await;
    }
}

async fn serves_and_drains_on_sigterm(pool: &PgPool, workers: Option<&str>) {
    let fake = FakeTelegram::start().await;
    let mut cmd = ledgerbot(&["serve"]);
    serve_env(&mut cmd, pool, &fake.url);
    if let Some(workers) = workers {
        cmd.env("WORKER_THREADS", workers);
    }
    cmd.env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawns");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));

    let mut first = String::new();
    stderr.read_line(&mut first).expect("a log line");
    let listening: Value = serde_json::from_str(&first).expect("JSON log line");
    let addr = listening["addr"]
        .as_str()
        .expect("addr field")
        .replace("0.0.0.0", "127.0.0.1");
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("answers");
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("exits after SIGTERM")
    .expect("join")
    .expect("status");
    let rest: Vec<String> = stderr.lines().map_while(Result::ok).collect();

    assert_eq!(listening["message"], "ledgerbot listening", "{first}");
    assert_eq!(health.status(), 200);
    assert!(terminated.success());
    assert!(
        status.success(),
        "clean exit after SIGTERM ({workers:?} workers): {status:?}"
    );
    for line in &rest {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(parsed["level"].is_string(), "{line}");
    }
    assert!(rest.iter().any(|l| l.contains("drained")), "{rest:?}");
    assert!(
        fake.calls().is_empty(),
        "starting and stopping never touches the webhook registration: {:?}",
        fake.calls()
    );
    let all = format!("{first}{}", rest.join("\n"));
    assert!(
        !all.contains("TEST-token") && !all.contains(WEBHOOK_SECRET),
        "secret in logs: {all}"
    );
}

/// The address `ledgerbot dev` says it listens on, given `extra` environment;
/// the process is killed once it has said so (or after a minute of silence).
fn dev_listening_addr(pool: &PgPool, extra: &[(&str, &str)]) -> String {
    let mut cmd = ledgerbot(&["dev"]);
    let mut child = database_env(&mut cmd, pool)
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .envs(extra.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("ledgerbot listening") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    // The line comes once the demo company is loaded.
    let listening = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let line = listening.expect("ledgerbot dev said where it listens within a minute");
    let parsed: Value = serde_json::from_str(&line).expect("JSON log line");
    parsed["addr"].as_str().expect("addr field").to_owned()
}

#[sqlx::test(migrations = false)]
async fn dev_mode_listens_on_loopback_only_unless_bind_addr_opens_it(pool: PgPool) {
    let (default, opened) = tokio::task::spawn_blocking(move || {
        (
            dev_listening_addr(&pool, &[]),
            dev_listening_addr(&pool, &[("BIND_ADDR", "0.0.0.0")]),
        )
    })
    .await
    .expect("join");

    assert!(default.starts_with("127.0.0.1:"), "{default}");
    assert!(opened.starts_with("0.0.0.0:"), "{opened}");
}

#[sqlx::test(migrations = false)]
async fn demo_data_loads_a_company_for_an_email_and_says_what_it_did(pool: PgPool) {
    let first = database_env(
        &mut ledgerbot(&["demo-data", "--email", "demo@example.ro"]),
        &pool,
    )
    .output()
    .expect("runs");
    let again = database_env(
        &mut ledgerbot(&["demo-data", "--email", "demo@example.ro"]),
        &pool,
    )
    .output()
    .expect("runs");
    let neither = database_env(&mut ledgerbot(&["demo-data"]), &pool)
        .output()
        .expect("runs");

    let stdout = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout(&first).contains("created"), "{}", stdout(&first));
    assert!(
        stdout(&first).contains("320 invoices"),
        "{}",
        stdout(&first)
    );
    assert!(
        stdout(&again).contains("already there"),
        "{}",
        stdout(&again)
    );
    assert!(stdout(&again).contains(" 0 invoices"), "{}", stdout(&again));
    assert!(
        !neither.status.success(),
        "--email or --user-id is required"
    );
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(companies, 1);
}
