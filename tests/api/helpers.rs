//! Test harness: [`TestApp::builder`] (or [`spawn_app`] without options)
//! runs the real server on 127.0.0.1:0 against the test's own fresh
//! database, with a fake Bot API; [`Http`] is the one client; [`eventually`]
//! is how a test waits; helpers build Telegram updates the way Telegram
//! sends them.

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ledgerbot::infra::app::App;
use ledgerbot::infra::config::Config;
use ledgerbot::infra::db::Pooler;
use ledgerbot::infra::server::{Limits, run_with_limits};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_telegram::FakeTelegram;
use crate::people;

/// The webhook secret every test app uses.
pub const WEBHOOK_SECRET: &str = "test_webhook-secret";
/// The bot token every test app uses.
pub const BOT_TOKEN: &str = "123456:TEST-token_value";
/// The bot's username.
pub const BOT_USERNAME: &str = "ledger_test_bot";

/// The one HTTP client of the tests: a server's base URL and a client.
#[derive(Clone)]
pub struct Http {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client; a new [`Http`] has its own connections.
    pub client: reqwest::Client,
}

impl Http {
    /// A client of the server at `base` that follows redirects.
    pub fn new(base: &str) -> Self {
        Self::with(base, reqwest::Client::builder())
    }

    /// A client that does not follow redirects: it sees each answer, as the
    /// web tests' browser needs to.
    pub fn without_redirects(base: &str) -> Self {
        let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        Self::with(base, builder)
    }

    fn with(base: &str, builder: reqwest::ClientBuilder) -> Self {
        Self {
            base: base.to_owned(),
            client: builder.build().expect("client"),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `method` on `path`, without a body.
    pub async fn send(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .expect("answers")
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path).await
    }

    /// GETs `path` and reads its JSON answer.
    pub async fn get_json(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("json")
    }

    /// POSTs JSON to `path`, with a Bearer token when given.
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("server answers")
    }

    /// Calls the API with a Bearer token; returns the status and the JSON
    /// body (`Value::Null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("API answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))
        };
        (status, json)
    }

    /// A POST to the webhook with the secret header, as Telegram sends it;
    /// the body is the caller's.
    pub fn webhook_request(&self) -> reqwest::RequestBuilder {
        self.client
            .post(self.url("/telegram/webhook"))
            .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
    }

    /// Delivers an update the way Telegram does: POST with the secret header.
    pub async fn post_update(&self, update: &Value) -> reqwest::Response {
        self.webhook_request()
            .json(update)
            .send()
            .await
            .expect("webhook answers")
    }

    /// Delivers an update and returns the Bot API method the server answered
    /// with in the response body (`Value::Null` for an empty body).
    pub async fn reply_to(&self, update: &Value) -> Value {
        let response = self.post_update(update).await;
        assert_eq!(response.status(), 200, "webhook status for {update}");
        let body = response.text().await.expect("body");
        if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).expect("JSON reply")
        }
    }
}

/// Polls `check` every 20 ms until it returns `Some`, and returns that;
/// panics naming `what` after `within`. How tests wait for anything that
/// happens off the response path: never a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll_until(within, check)
        .await
        .unwrap_or_else(|| panic!("timed out after {within:?} waiting for {what}"))
}

/// [`eventually`] for a caller that says itself what was missing: `None`
/// after `within`.
pub async fn poll_until<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A running server and what a test needs to talk to it; derefs to its
/// [`Http`] client (`app.url(..)`, `app.api(..)`, `app.reply_to(..)`).
pub struct TestApp {
    http: Http,
    /// The test's own database.
    pub pool: PgPool,
    /// The fake Bot API the server calls.
    pub telegram: FakeTelegram,
    /// The server's Bot API client (to see its background sends).
    pub bot: ledgerbot::infra::telegram::BotApi,
    /// Wakes the server's outbox sender (after a test queued a message).
    pub outbox: ledgerbot::infra::outbox::Waker,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::ops::Deref for TestApp {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

/// Logs to the terminal when `TEST_LOG` is set; quiet otherwise.
fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        ledgerbot::infra::telemetry::init(ledgerbot::infra::config::LogFormat::Text);
    }
}

/// The configuration of a test app talking to `telegram_url`.
pub fn test_config(telegram_url: &str) -> Config {
    let env = [
        (
            "DATABASE_URL",
            "postgres://unused-the-pool-is-given".to_owned(),
        ),
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_BOT_USERNAME", BOT_USERNAME.to_owned()),
        ("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("TELEGRAM_API_URL", telegram_url.to_owned()),
        (
            "JWT_SECRET",
            "test-jwt-secret-that-is-at-least-32-bytes".to_owned(),
        ),
        ("PUBLIC_URL", "http://ledgerbot.test".to_owned()),
    ];
    Config::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
        .expect("test config is valid")
}

/// Migrates the test's database and starts the app as every test needs it
/// unless it says otherwise: [`TestApp::builder`] with no options.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    TestApp::builder(pool).spawn().await
}

/// How to start a [`TestApp`]: the server's limits, the configuration, the
/// built [`App`] (its Bot API client, say), each changed only when asked.
pub struct Builder {
    pool: PgPool,
    limits: Limits,
    config: Vec<Change<Config>>,
    app: Vec<Change<App>>,
}

/// A change a test makes to what the builder built.
type Change<T> = Box<dyn FnOnce(&mut T)>;

impl Builder {
    /// The server's limits instead of the defaults.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Changes the configuration before the app is built.
    pub fn config(mut self, adjust: impl FnOnce(&mut Config) + 'static) -> Self {
        self.config.push(Box::new(adjust));
        self
    }

    /// Changes the built app before it serves.
    pub fn app(mut self, customize: impl FnOnce(&mut App) + 'static) -> Self {
        self.app.push(Box::new(customize));
        self
    }

    /// Migrates the test's database and starts the server on 127.0.0.1:0,
    /// with a fake Bot API of its own.
    pub async fn spawn(self) -> TestApp {
        init_logging();
        let pool = app_pool(self.pool);
        ledgerbot::infra::db::migrate(&pool)
            .await
            .expect("schema applies");
        let telegram = FakeTelegram::start().await;
        let mut config = test_config(&telegram.url);
        for adjust in self.config {
            adjust(&mut config);
        }
        let mut app = App::new(config, pool.clone()).expect("app builds");
        for customize in self.app {
            customize(&mut app);
        }
        let bot = app.bot.clone();
        let outbox = app.outbox.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(run_with_limits(
            listener,
            app,
            async { rx.await.unwrap_or(()) },
            self.limits,
        ));
        TestApp {
            http: Http::new(&format!("http://{addr}")),
            pool,
            telegram,
            bot,
            outbox,
            shutdown: Some(tx),
            server: Some(server),
        }
    }
}

impl TestApp {
    /// How to start an app with options; [`spawn_app`] starts one without.
    pub fn builder(pool: PgPool) -> Builder {
        Builder {
            pool,
            limits: Limits::default(),
            config: Vec::new(),
            app: Vec::new(),
        }
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.take().expect("server running")
    }

    /// How many updates were claimed.
    pub async fn claimed_updates(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM telegram_updates")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Waits until `n` sessions of this database wait for a lock (a request
    /// parked behind a chat's lock or a test's own transaction). Asks on a
    /// connection of its own: the pool's may all be busy by then.
    pub async fn wait_for_lock_waiters(&self, n: i64) {
        let own = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with((*self.pool.connect_options()).clone())
            .await
            .expect("connect");
        let what = format!("{n} sessions waiting for a lock");
        eventually(&what, Duration::from_secs(5), || {
            let own = own.clone();
            async move {
                let waiting = sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(&own)
                .await
                .expect("count waiters");
                (waiting >= n).then_some(())
            }
        })
        .await;
        own.close().await;
    }
}

/// The transaction-mode PgBouncer the tests' second pass runs through
/// (`LEDGERBOT_PGBOUNCER`, host:port, set by deploy/test.sh), if any.
pub fn pgbouncer() -> Option<String> {
    std::env::var("LEDGERBOT_PGBOUNCER")
        .ok()
        .filter(|a| !a.is_empty())
}

/// How the app reaches the test's database: its URL and `DATABASE_POOLER`.
/// Through the PgBouncer when the tests run through one; `#[sqlx::test]`
/// itself (creating the database, the test's own `pool`) stays direct, since
/// CREATE DATABASE and its bookkeeping need no pooler.
pub fn app_database(pool: &PgPool) -> (String, Pooler) {
    let options = pool.connect_options();
    let (addr, pooler) = match pgbouncer() {
        Some(addr) => (addr, Pooler::Transaction),
        None => (
            format!("{}:{}", options.get_host(), options.get_port()),
            Pooler::None,
        ),
    };
    let url = format!(
        "postgres://{}@{addr}/{}",
        options.get_username(),
        options.get_database().expect("test database name")
    );
    (url, pooler)
}

/// The app's pool for a test's `pool`: a pool of its own with the
/// production settings (`ledgerbot::infra::db::pool`), on the same database, through
/// the PgBouncer when the tests run through one. A pool that reaches the
/// database another way (through a proxy, or nowhere) is the test's choice
/// and kept.
pub fn app_pool(pool: PgPool) -> PgPool {
    let direct = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let direct: PgConnectOptions = direct.parse().expect("DATABASE_URL parses");
    let options = pool.connect_options();
    if options.get_host() != direct.get_host() || options.get_port() != direct.get_port() {
        return pool;
    }
    let (url, pooler) = app_database(&pool);
    ledgerbot::infra::db::pool(&url, 5, pooler).expect("pool through the PgBouncer")
}

static NEXT_UPDATE_ID: AtomicI64 = AtomicI64::new(1);

/// A fresh update id.
pub fn next_update_id() -> i64 {
    NEXT_UPDATE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A Telegram user as updates carry it.
#[derive(Clone, Debug)]
pub struct TgUser {
    /// Telegram's user id (also the private chat's id).
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// The app's language.
    pub language_code: Option<String>,
}

impl TgUser {
    /// An English-speaking user.
    pub fn en(id: i64) -> Self {
        Self {
            id,
            first_name: "Ana".into(),
            language_code: Some("en".into()),
        }
    }

    /// A Romanian-speaking user.
    pub fn ro(id: i64) -> Self {
        Self {
            id,
            first_name: "Ana".into(),
            language_code: Some("ro".into()),
        }
    }

    fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(code) = &self.language_code {
            user["language_code"] = json!(code);
        }
        user
    }

    /// A private text message from this user, as Telegram delivers it.
    pub fn text(&self, text: &str) -> Value {
        self.text_with_id(next_update_id(), text)
    }

    /// The same, with a chosen update id.
    pub fn text_with_id(&self, update_id: i64, text: &str) -> Value {
        let entities = if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .map_or(0, |c| c.encode_utf16().count());
            json!([{"offset": 0, "length": len, "type": "bot_command"}])
        } else {
            json!([])
        };
        self.private_message(update_id, json!({"text": text, "entities": entities}))
    }

    /// A private message from this user with `content` (its `text`, its
    /// `document`, ...), as Telegram delivers it.
    fn private_message(&self, update_id: i64, content: Value) -> Value {
        let mut message = json!({
            "message_id": update_id * 10,
            "from": self.json(),
            "chat": {"id": self.id, "first_name": self.first_name, "type": "private"},
            "date": 1_700_000_000,
        });
        if let (Some(message), Value::Object(content)) = (message.as_object_mut(), content) {
            message.extend(content);
        }
        json!({"update_id": update_id, "message": message})
    }

    /// A private message carrying a document (a file), as Telegram delivers it.
    pub fn document(&self, file_id: &str, file_name: &str, file_size: usize) -> Value {
        self.private_message(
            next_update_id(),
            json!({"document": {"file_id": file_id, "file_unique_id": file_id,
                "file_name": file_name, "file_size": file_size}}),
        )
    }

    /// A text message from this user in a group chat.
    pub fn group_text(&self, group_id: i64, text: &str) -> Value {
        json!({
            "update_id": next_update_id(),
            "message": {
                "message_id": 5,
                "from": self.json(),
                "chat": {"id": group_id, "title": "Contabilitate", "type": "supergroup"},
                "date": 1_700_000_000,
                "text": text,
            }
        })
    }

    /// A press on an inline-keyboard button of message `message_id`.
    pub fn callback(&self, message_id: i64, data: &str) -> Value {
        let chat = json!({"id": self.id, "first_name": self.first_name, "type": "private"});
        self.callback_in(chat, message_id, data)
    }

    /// A press on a button of message `message_id` in group `group_id`.
    pub fn group_callback(&self, group_id: i64, message_id: i64, data: &str) -> Value {
        let chat = json!({"id": group_id, "title": "Contabilitate", "type": "supergroup"});
        self.callback_in(chat, message_id, data)
    }

    fn callback_in(&self, chat: Value, message_id: i64, data: &str) -> Value {
        json!({
            "update_id": next_update_id(),
            "callback_query": {
                "id": format!("cb{}", next_update_id()),
                "from": self.json(),
                "message": {
                    "message_id": message_id,
                    "from": {"id": 1, "is_bot": true, "first_name": "ledgerbot", "username": BOT_USERNAME},
                    "chat": chat,
                    "date": 1_700_000_000,
                    "text": "…",
                },
                "chat_instance": "42",
                "data": data,
            }
        })
    }
}

/// A header's value as text: empty when it is missing or not visible ASCII.
/// Takes the map, so that a response the tests read and a request the fake
/// Bot API reads use the same one.
pub fn header(headers: &http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The text of a `sendMessage`/`editMessageText` reply.
pub fn reply_text(reply: &Value) -> &str {
    reply["text"]
        .as_str()
        .unwrap_or_else(|| panic!("reply has no text: {reply}"))
}

/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery";

/// What register, login and refresh answer.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The JWT.
    pub access: String,
    /// The opaque refresh token.
    pub refresh: String,
}

impl Tokens {
    /// Reads a token pair answer.
    pub fn from_json(body: &Value) -> Self {
        Self {
            access: body["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("no access_token in {body}"))
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .unwrap_or_else(|| panic!("no refresh_token in {body}"))
                .to_owned(),
        }
    }
}

impl TestApp {
    /// Registers `email` with [`PASSWORD`] and returns its tokens.
    pub async fn register(&self, email: &str) -> Tokens {
        let response = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(response.status(), 201, "register {email}");
        Tokens::from_json(&response.json().await.expect("JSON"))
    }

    /// Trades a refresh token at `/api/v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token}),
            None,
        )
        .await
    }

    /// Asks for a link code as the holder of `access`; returns the answer.
    pub async fn link_code(&self, access: &str) -> Value {
        let response = self
            .post_json("/api/v1/telegram/link-code", &json!({}), Some(access))
            .await;
        assert_eq!(response.status(), 201, "link-code");
        response.json().await.expect("JSON")
    }

    /// The email of the person Telegram user `telegram_user_id` is linked to
    /// (`Some(None)` for a Telegram-only person), `None` when not linked.
    pub async fn linked_email(&self, telegram_user_id: i64) -> Option<Option<String>> {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT u.email FROM telegram_accounts t JOIN users u ON u.id = t.user_id
             WHERE t.telegram_user_id = $1",
        )
        .bind(telegram_user_id)
        .fetch_optional(&self.pool)
        .await
        .expect("query")
    }

    /// Moves every link code's expiry into the past.
    pub async fn expire_codes(&self) {
        sqlx::query("UPDATE link_codes SET expires_at = now() - interval '1 second'")
            .execute(&self.pool)
            .await
            .expect("expire codes");
    }
}

/// Every row of every table of ours, as text: to check that a secret is not
/// stored anywhere in plain text.
pub async fn database_text(pool: &PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.len() >= 5, "{tables:?}");
    let mut text = String::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT t::text FROM {table} t"
        )))
        .fetch_all(pool)
        .await
        .expect("rows");
        for row in rows {
            text.push_str(&row);
            text.push('\n');
        }
    }
    text
}

/// How many rows `table` holds.
pub async fn count_rows(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .expect("count")
}

// Companies with many invoices, for the list and index tests.

/// `count` invoices of `company_id`, one statement each, numbered
/// `<prefix>-000` on: the `i`th is `like(i)` with that number.
pub async fn numbered_invoices(
    pool: &PgPool,
    company_id: i64,
    (prefix, count): (&str, i32),
    like: impl Fn(i32) -> people::Inv<'static>,
) {
    for i in 0..count {
        let number = format!("{prefix}-{i:03}");
        let invoice = people::Inv {
            number: &number,
            ..like(i)
        };
        people::invoice(pool, company_id, invoice).await;
    }
}

/// The columns [`company_among_invoices`] writes, in its select list's order.
const BULK_INVOICE_COLUMNS: &str = "company_id, direction, number, partner, partner_cui, \
                                    issue_date, due_date, total_minor, paid_minor, currency";

/// A company whose reads are measured and its neighbour, created together
/// (the neighbour's id is the company's plus one), and `rows` invoices
/// written by one statement: row `g` of `generate_series(1, rows)` selects
/// `columns`, SQL of `g` and of `$1` (the company's id) for the columns of
/// [`BULK_INVOICE_COLUMNS`] in order. Then ANALYZE (every table: the
/// triggers have filled the kept figures too), as autovacuum would have long
/// before a company has that many. Returns the company's id.
pub async fn company_among_invoices(pool: &PgPool, rows: i64, columns: &'static str) -> i64 {
    let company: i64 = sqlx::query_scalar(
        "WITH c AS (INSERT INTO companies (name) VALUES ('Mare SRL'), ('Vecina SRL') RETURNING id)
         SELECT min(id) FROM c",
    )
    .fetch_one(pool)
    .await
    .expect("companies");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO invoices ({BULK_INVOICE_COLUMNS})
         SELECT {columns} FROM generate_series(1, $2::int) g"
    )))
    .bind(company)
    .bind(rows)
    .execute(pool)
    .await
    .expect("invoices");
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    company
}

/// [`company_among_invoices`] with 20,000 invoices each for the company and
/// its neighbour, written alternately, enough that the planner chooses
/// freely: issued to 500 clients, dated over 700 days from 2024-01-01 (row
/// `n` of a company on day `n % 700`), due a month after, one in three paid.
/// The company belongs to a new person: their id, then the company's.
pub async fn owned_company_among_invoices(pool: &PgPool) -> (i64, i64) {
    let owner = people::user(pool, "owner@example.ro").await;
    let company = company_among_invoices(
        pool,
        40_000,
        "$1 + g % 2, 'issued', 'F-' || g, 'Client ' || g / 2 % 500, NULL,
         date '2024-01-01' + g / 2 % 700, date '2024-02-01' + g / 2 % 700,
         10000, CASE WHEN g / 2 % 3 = 0 THEN 10000 ELSE 0 END, 'RON'",
    )
    .await;
    people::member(pool, company, owner, "owner").await;
    (owner, company)
}

// The finance fixtures that the bot, chart, import and search tests share.

/// A person linked to Telegram who owns the company active in their chat,
/// and the app they talk to: where most finance tests in the bot start.
pub struct ActiveOwner {
    /// The running app.
    pub app: TestApp,
    /// The person in Telegram.
    pub tg: TgUser,
    /// Their account, `ana@example.ro`.
    pub user_id: i64,
    /// Their active company.
    pub company_id: i64,
}

/// An app, and `tg` linked as `ana@example.ro`, owner of the RON company
/// "Exemplu SRL", which is active.
pub async fn owner_with_active_company(pool: &PgPool, tg: TgUser) -> ActiveOwner {
    owner_with_active_company_in(pool, tg, "Exemplu SRL", "RON").await
}

/// [`owner_with_active_company`], the company named `name` and in `currency`.
pub async fn owner_with_active_company_in(
    pool: &PgPool,
    tg: TgUser,
    name: &str,
    currency: &str,
) -> ActiveOwner {
    let app = spawn_app(pool.clone()).await;
    let user_id = people::linked_user(pool, "ana@example.ro", tg.id).await;
    let company_id = people::company_in(pool, user_id, name, currency).await;
    people::activate(pool, tg.id, company_id).await;
    ActiveOwner {
        app,
        tg,
        user_id,
        company_id,
    }
}

impl ActiveOwner {
    /// Another company the person owns, not active.
    pub async fn another_company(&self, name: &str) -> i64 {
        people::company(&self.app.pool, self.user_id, name).await
    }
}

/// The CUI of the company the e-Factura fixtures are for (Atelier Digital SRL).
pub const EFACTURA_CUI: &str = "18547290";

/// A file of `tests/fixtures/efactura/` (see its `make.py`).
pub fn efactura_fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/efactura/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sets the CUI of company `company_id` (`None`: it has none).
pub async fn set_cui(pool: &PgPool, company_id: i64, cui: Option<&str>) {
    sqlx::query("UPDATE companies SET cui = $1 WHERE id = $2")
        .bind(cui)
        .bind(company_id)
        .execute(pool)
        .await
        .expect("cui set");
}

/// Every button of a reply's inline keyboard, row after row.
fn keyboard(reply: &Value) -> impl Iterator<Item = &Value> {
    reply["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
}

/// The callback data of a reply's inline keyboard, row after row (buttons
/// without any, such as links, are left out).
pub fn keyboard_data(reply: &Value) -> Vec<String> {
    keyboard(reply)
        .filter_map(|button| button["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// Each button of a reply's inline keyboard as `(text, callback data)`,
/// row after row; a button without callback data has `""`.
pub fn buttons(reply: &Value) -> Vec<(String, String)> {
    keyboard(reply)
        .map(|b| {
            (
                b["text"].as_str().unwrap_or_default().to_owned(),
                b["callback_data"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The invoice numbers a `/facturi` reply lists, in order (the bold runs
/// after the title's).
pub fn listed_numbers(reply: &Value) -> Vec<String> {
    reply_text(reply)
        .split("<b>")
        .skip(2)
        .filter_map(|part| part.split("</b>").next())
        .map(str::to_owned)
        .collect()
}

/// The value of the first hidden field `name` in an HTML page.
pub fn hidden_field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
        + marker.len();
    let len = body[start..].find('"').expect("closing quote");
    body[start..start + len].to_owned()
}
