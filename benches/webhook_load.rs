//! The benchmark's load generator and cold-start timer, run by
//! `deploy/bench.sh` (not by `cargo test`; nothing here is timed in tests).
//!
//! `load`: `--concurrency` workers, each on one kept-alive HTTP/1.1
//! connection, post `/dashboard` updates from random users of the benchmark's
//! data set (deploy/bench/data.sql) with unique update ids to the webhook,
//! back to back, for `--warmup` seconds unmeasured and then `--duration`
//! seconds measured. With `--adds-percent`, that share of the updates are
//! `/add` (a cash expense, a write) from random writers of the data set
//! instead: the mixed load. The bodies are serialised once per user; a
//! request only writes its update id between a prefix and a suffix. Anything
//! but a 200 (or a broken connection) is an error. Prints one line of
//! `key=value` figures: all updates, then the reads and the `/add`s apart.
//!
//! `cold-start`: `--runs` times, starts the server binary (with this process's
//! environment) and posts one update every millisecond until the first 200;
//! prints the time from exec to that answer for each run and their median.
//!
//! One thread (a current-thread runtime) and a minimal HTTP/1.1 client (the
//! whole request written at once, the answer read by `Content-Length`): the
//! generator shares the machine's two cores with the server and PostgreSQL,
//! so it should take as little as it can. The `webhook-load` binary of the
//! `ledgerbot-bench` crate (see benches/Cargo.toml for why a crate of its own).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The data set's Telegram user ids are this plus 1..=users (deploy/bench/data.sql).
const TELEGRAM_ID_BASE: i64 = 7_000_000_000;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Drive the webhook and report throughput, latency and errors.
    Load {
        #[command(flatten)]
        target: Target,
        /// Requests in flight at once (one connection each).
        #[arg(long)]
        concurrency: usize,
        /// Seconds of load before measuring.
        #[arg(long, default_value_t = 5)]
        warmup: u64,
        /// Seconds measured.
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Users in the data set.
        #[arg(long, default_value_t = 1000)]
        users: i64,
        /// Percentage of the updates that are `/add` (0: only `/dashboard`).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        adds_percent: u8,
        /// Users 1..=writers may write (owners and accountants in the data set).
        #[arg(long, default_value_t = 600)]
        writers: i64,
        /// The first update id; each request takes the next one.
        #[arg(long)]
        first_update_id: i64,
    },
    /// Time from exec to the webhook's first 200, over several starts.
    ColdStart {
        #[command(flatten)]
        target: Target,
        /// The server binary, started as `<bin> serve`.
        #[arg(long)]
        bin: String,
        /// How many starts.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// The first update id.
        #[arg(long)]
        first_update_id: i64,
    },
}

#[derive(clap::Args)]
struct Target {
    /// host:port of the server.
    #[arg(long)]
    addr: String,
    /// The webhook secret (X-Telegram-Bot-Api-Secret-Token).
    #[arg(long, env = "TELEGRAM_WEBHOOK_SECRET")]
    secret: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime always builds");
    let result = runtime.block_on(async {
        match cli.mode {
            Mode::Load {
                target,
                concurrency,
                warmup,
                duration,
                users,
                adds_percent,
                writers,
                first_update_id,
            } => {
                let mix = Mix {
                    users,
                    writers: writers.min(users),
                    adds_percent: u64::from(adds_percent),
                };
                load(
                    target,
                    concurrency,
                    Duration::from_secs(warmup),
                    Duration::from_secs(duration),
                    &mix,
                    first_update_id,
                )
                .await
            }
            Mode::ColdStart {
                target,
                bin,
                runs,
                first_update_id,
            } => cold_start(target, &bin, runs, first_update_id).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webhook_load: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The command of a `/dashboard` update (a read).
const DASHBOARD: &str = "/dashboard";
/// The command of an `/add` update (a write: a cash expense of 12.50).
const ADD: &str = "/add 12,50 bench";

/// A command from one user, serialised but for its update id.
struct Body {
    prefix: &'static [u8],
    suffix: Vec<u8>,
}

impl Body {
    fn for_user(telegram_id: i64, text: &str) -> Self {
        let command = text.split(' ').next().unwrap_or(text).len();
        let suffix = format!(
            r#","message":{{"message_id":1,"from":{{"id":{telegram_id},"is_bot":false,"first_name":"Bench","language_code":"ro"}},"chat":{{"id":{telegram_id},"first_name":"Bench","type":"private"}},"date":1700000000,"text":"{text}","entities":[{{"offset":0,"length":{command},"type":"bot_command"}}]}}}}"#
        );
        Self {
            prefix: br#"{"update_id":"#,
            suffix: suffix.into_bytes(),
        }
    }

    /// The whole request, headers and body, for `update_id`.
    fn request(&self, target: &Target, update_id: i64, out: &mut Vec<u8>) {
        let id = update_id.to_string();
        let length = self.prefix.len() + id.len() + self.suffix.len();
        out.clear();
        out.extend_from_slice(
            format!(
                "POST /telegram/webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
                 X-Telegram-Bot-Api-Secret-Token: {}\r\nContent-Length: {length}\r\n\r\n",
                target.addr, target.secret
            )
            .as_bytes(),
        );
        out.extend_from_slice(self.prefix);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&self.suffix);
    }
}

/// One kept-alive HTTP/1.1 connection. Enough of the protocol for our own
/// server's answers, which always carry `Content-Length`.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    closing: bool,
}

impl Conn {
    async fn open(addr: &str) -> Result<Self, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
            closing: false,
        })
    }

    /// Sends one whole request; the answer's status, its body read to the end.
    async fn send(&mut self, request: &[u8]) -> Result<u16, BoxError> {
        self.stream.write_all(request).await?;
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 = head.get(9..12).ok_or("no status line")?.parse()?;
                let mut length = 0;
                for (name, value) in head.lines().skip(1).filter_map(|l| l.split_once(':')) {
                    let value = value.trim();
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.parse()?;
                    } else if name.eq_ignore_ascii_case("connection") {
                        self.closing = value.eq_ignore_ascii_case("close");
                    } else if name.eq_ignore_ascii_case("transfer-encoding") {
                        return Err("chunked answers are not expected".into());
                    }
                }
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.read_more().await?;
                }
                self.buf.drain(..total);
                return Ok(status);
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> Result<(), BoxError> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}

/// SplitMix64: which user sends the next update.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// Who sends what: the users, the writers among them, and how many updates
/// in a hundred are `/add`.
struct Mix {
    users: i64,
    writers: i64,
    adds_percent: u64,
}

/// What one worker saw in the measured window, per kind of update.
#[derive(Default)]
struct Tally {
    reads_us: Vec<u32>,
    adds_us: Vec<u32>,
    read_errors: u64,
    add_errors: u64,
    /// Every `/add` answered 200, warm-up included: what the database must
    /// have recorded (deploy/bench.sh counts it).
    adds_answered: u64,
}

/// The latency at percentile `p` (0..=1) of sorted microseconds, in ms.
fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[index]) / 1000.0
}

async fn load(
    target: Target,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    mix: &Mix,
    first_update_id: i64,
) -> Result<(), BoxError> {
    let target = std::sync::Arc::new(target);
    let bodies: std::sync::Arc<Vec<Body>> = std::sync::Arc::new(
        (1..=mix.users)
            .map(|n| Body::for_user(TELEGRAM_ID_BASE + n, DASHBOARD))
            .collect(),
    );
    let adds: std::sync::Arc<Vec<Body>> = std::sync::Arc::new(
        (1..=mix.writers)
            .map(|n| Body::for_user(TELEGRAM_ID_BASE + n, ADD))
            .collect(),
    );
    let adds_percent = mix.adds_percent;
    let next_id = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(first_update_id));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;

    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let (target, bodies, adds, next_id) = (
            target.clone(),
            bodies.clone(),
            adds.clone(),
            next_id.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut rng = Rng(worker as u64 + 1);
            let mut tally = Tally {
                reads_us: Vec::with_capacity(100_000),
                ..Tally::default()
            };
            let mut conn: Option<Conn> = None;
            let mut request = Vec::with_capacity(1024);
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let add = adds_percent > 0 && rng.below(100) < adds_percent;
                let pool = if add { &adds } else { &bodies };
                let user = rng.below(pool.len() as u64) as usize;
                let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                pool[user].request(&target, id, &mut request);
                let outcome = match conn.as_mut() {
                    Some(c) => c.send(&request).await,
                    None => match Conn::open(&target.addr).await {
                        Ok(c) => conn.insert(c).send(&request).await,
                        Err(e) => Err(e),
                    },
                };
                let ok = matches!(outcome, Ok(200));
                if outcome.is_err() || conn.as_ref().is_some_and(|c| c.closing) {
                    conn = None;
                }
                let done = Instant::now();
                if ok && add {
                    tally.adds_answered += 1;
                }
                if sent < measure_from || done > end {
                    continue;
                }
                let us = u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX);
                match (ok, add) {
                    (true, false) => tally.reads_us.push(us),
                    (true, true) => tally.adds_us.push(us),
                    (false, false) => tally.read_errors += 1,
                    (false, true) => tally.add_errors += 1,
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for worker in workers {
        let tally = worker.await?;
        all.reads_us.extend(tally.reads_us);
        all.adds_us.extend(tally.adds_us);
        all.read_errors += tally.read_errors;
        all.add_errors += tally.add_errors;
        all.adds_answered += tally.adds_answered;
    }
    let mut latencies: Vec<u32> = all.reads_us.iter().chain(&all.adds_us).copied().collect();
    latencies.sort_unstable();
    all.reads_us.sort_unstable();
    all.adds_us.sort_unstable();
    let seconds = duration.as_secs_f64();
    println!(
        "concurrency={concurrency} seconds={} updates={} updates_per_s={:.1} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={} \
         reads={} read_p50_ms={:.2} read_p99_ms={:.2} \
         adds={} adds_per_s={:.1} add_p50_ms={:.2} add_p99_ms={:.2} add_max_ms={:.2} add_errors={} \
         adds_answered={} next_update_id={}",
        duration.as_secs(),
        latencies.len(),
        latencies.len() as f64 / seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        all.read_errors + all.add_errors,
        all.reads_us.len(),
        percentile(&all.reads_us, 0.50),
        percentile(&all.reads_us, 0.99),
        all.adds_us.len(),
        all.adds_us.len() as f64 / seconds,
        percentile(&all.adds_us, 0.50),
        percentile(&all.adds_us, 0.99),
        percentile(&all.adds_us, 1.0),
        all.add_errors,
        all.adds_answered,
        next_id.load(std::sync::atomic::Ordering::Relaxed),
    );
    Ok(())
}

async fn cold_start(
    target: Target,
    bin: &str,
    runs: usize,
    first_update_id: i64,
) -> Result<(), BoxError> {
    let body = Body::for_user(TELEGRAM_ID_BASE + 1, DASHBOARD);
    let mut request = Vec::with_capacity(1024);
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs {
        body.request(&target, first_update_id + run as i64, &mut request);
        let started = Instant::now();
        let mut child = std::process::Command::new(bin)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let answered = loop {
            if let Some(status) = child.try_wait()? {
                return Err(format!("run {run}: the server exited ({status})").into());
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                return Err(format!("run {run}: no 200 within 10 s").into());
            }
            // Refused while the server is not listening yet: try again shortly.
            let Ok(mut conn) = Conn::open(&target.addr).await else {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            };
            match conn.send(&request).await {
                Ok(200) => break started.elapsed(),
                Ok(status) => {
                    let _ = child.kill();
                    return Err(format!("run {run}: the webhook answered {status}").into());
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        };
        child.kill()?;
        child.wait()?;
        println!(
            "cold_start_run={run} ms={:.1}",
            answered.as_secs_f64() * 1000.0
        );
        times.push(answered);
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    println!("cold_start_median_ms={:.1}", median.as_secs_f64() * 1000.0);
    Ok(())
}
