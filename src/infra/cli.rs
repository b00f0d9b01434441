//! The command line: `serve` (the default), `migrate`, `set-webhook`, `dev`,
//! `demo-data`, `notify --once`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rand::RngCore;
use tokio::net::TcpListener;

use crate::blocks::Lang;
use crate::infra::app::App;
use crate::infra::config::{Config, ConfigError, Database, LogFormat};
use crate::infra::{db, server, telemetry};

/// ledgerbot: a company's finances in Telegram.
#[derive(Debug, Parser)]
#[command(name = "ledgerbot", version, about, long_about = None)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Serve the webhook, the web pages and the API (production).
    Serve,
    /// Apply schema.sql to DATABASE_DIRECT_URL, else DATABASE_URL (idempotent; safe to run from several instances).
    Migrate,
    /// Register PUBLIC_URL/telegram/webhook with Telegram, with the secret token,
    /// and set the bot's command menu in English and Romanian.
    SetWebhook {
        /// How many connections Telegram may open to us at once.
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100))]
        max_connections: u32,
    },
    /// Local development: no Telegram token or secrets needed (they are made
    /// up and printed); migrates the database and serves.
    Dev,
    /// Queue the notifications due now, send them (and whatever else waits in
    /// the outbox), and exit: for a scheduled machine or cron. `serve` runs
    /// the same schedule on its own.
    Notify {
        /// Run once and exit (the only mode: the server runs the schedule).
        #[arg(long)]
        once: bool,
        /// Act as if it were this moment (RFC 3339), not now: for tests, and
        /// to see what a given hour would send.
        #[arg(long)]
        at: Option<String>,
    },
    /// Load a demo company (a few hundred invoices, bank and cash accounts)
    /// for an account; the same day, running it again changes nothing.
    DemoData {
        /// The account's email; the account is made (without a password) when missing.
        #[arg(long, required_unless_present = "user_id", conflicts_with = "user_id")]
        email: Option<String>,
        /// The account's id (must exist).
        #[arg(long)]
        user_id: Option<i64>,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// Runs a parsed command line.
///
/// # Errors
/// Configuration, database or Bot API failures, each with its cause.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Cmd::Serve) {
        Cmd::Serve => {
            let config = Config::from_env().context("configuration error")?;
            telemetry::init(config.log_format);
            serve(config).await
        }
        Cmd::Notify { once, at } => {
            anyhow::ensure!(
                once,
                "give --once: `ledgerbot serve` runs the schedule itself"
            );
            let at = match at {
                Some(at) => {
                    time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                        .context("--at is not an RFC 3339 moment (2026-12-03T09:00:00+02:00)")?
                }
                None => time::OffsetDateTime::now_utc(),
            };
            let config = Config::from_env().context("configuration error")?;
            telemetry::init(config.log_format);
            notify_once(&config, at).await
        }
        Cmd::Migrate => {
            telemetry::init(LogFormat::Text);
            let pool = database_only()?;
            let checksum = db::migrate(&pool).await.context("migration failed")?;
            tracing::info!(schema.checksum = %checksum, "schema is up to date");
            Ok(())
        }
        Cmd::DemoData {
            email,
            user_id,
            seed,
        } => {
            telemetry::init(LogFormat::Text);
            let pool = database_only()?;
            db::migrate(&pool).await.context("migration failed")?;
            let target = match (email, user_id) {
                (Some(email), _) => crate::services::demo::Target::Email(email),
                (None, Some(id)) => crate::services::demo::Target::UserId(id),
                (None, None) => anyhow::bail!("give --email or --user-id"),
            };
            let loaded = crate::services::demo::load(&pool, &target, seed).await?;
            println!(
                "demo company {} ({}) for user {}: {} invoices and {} accounts inserted or changed, {} cash entries added",
                loaded.company_id,
                if loaded.created {
                    "created"
                } else {
                    "already there"
                },
                loaded.user_id,
                loaded.invoices_upserted,
                loaded.accounts_upserted,
                loaded.cash_added
            );
            Ok(())
        }
        Cmd::SetWebhook { max_connections } => {
            let config = Config::from_env().context("configuration error")?;
            telemetry::init(config.log_format);
            let bot =
                crate::infra::telegram::BotApi::new(&config.telegram_api_url, &config.bot_token)?;
            let url = format!("{}/telegram/webhook", config.public_url);
            bot.set_webhook(&url, &config.webhook_secret, max_connections)
                .await
                .context("setWebhook failed")?;
            tracing::info!(%url, max_connections, "webhook registered");
            // The command menu, from the one command table: English for
            // everyone, Romanian for apps in Romanian.
            for (lang, code) in [(Lang::En, None), (Lang::Ro, Some("ro"))] {
                bot.set_my_commands(&crate::front::bot::command::menu(lang), code)
                    .await
                    .context("setMyCommands failed")?;
            }
            tracing::info!("command menu set in English and Romanian");
            // The menu button opens the Mini App (docs/web.md, "The Mini App").
            let app_url = crate::front::web::app::url(&config);
            bot.set_menu_web_app("ledgerbot", &app_url)
                .await
                .context("setChatMenuButton failed")?;
            tracing::info!(url = %app_url, "menu button opens the Mini App");
            Ok(())
        }
        Cmd::Dev => {
            let (config, made_up) = dev_config().context("configuration error")?;
            telemetry::init(config.log_format);
            for name in made_up {
                tracing::info!(variable = name, "dev mode: not set, made one up");
            }
            tracing::info!(
                webhook_secret = config.webhook_secret.expose(),
                "dev mode: the webhook secret"
            );
            let pool = db::serving_pool(&config.database)?;
            db::migrate(&db::admin_pool(&config.database)?)
                .await
                .context("migration failed")?;
            crate::front::devchat::seed(&pool)
                .await
                .context("loading the demo company failed")?;
            tracing::info!(
                email = crate::front::devchat::DEV_EMAIL,
                password = crate::front::devchat::DEV_PASSWORD,
                telegram_user = crate::front::devchat::DEV_TELEGRAM_USER_ID,
                "dev mode: demo account with the demo company, linked to the dev chat's user"
            );
            tracing::info!(url = %format!("{}/dev/chat", config.public_url), "dev mode: chat with the bot in the browser");
            serve_with(config, pool).await
        }
    }
}

/// One notification tick, then the outbox sent until nothing more is due
/// (at most a minute).
async fn notify_once(config: &Config, now: time::OffsetDateTime) -> anyhow::Result<()> {
    let pool = db::serving_pool(&config.database).context("DATABASE_URL is invalid")?;
    let tick = crate::services::notifications::run_due(&pool, now)
        .await
        .context("the notification tick failed")?;
    match tick {
        Some(tick) => println!(
            "{} notifications queued ({} people in their quiet hours)",
            tick.queued, tick.quiet
        ),
        None => println!("another instance is running this tick"),
    }
    let digests = crate::services::notifications::digest::run_due(
        &pool,
        now,
        crate::front::bot::handlers::chart::digest_chart,
    )
    .await
    .context("the daily digest tick failed")?;
    if let Some(sent) = digests {
        println!(
            "{} daily digests queued, {} charts",
            sent.digests, sent.charts
        );
    }
    let bot = crate::infra::telegram::BotApi::new(&config.telegram_api_url, &config.bot_token)?;
    crate::infra::outbox::drain(
        &pool,
        &bot,
        config.outbox,
        std::time::Duration::from_secs(60),
    )
    .await
    .context("sending the outbox failed")?;
    Ok(())
}

/// The one-connection pool of commands that need only the database
/// (`DATABASE_DIRECT_URL` when set, else `DATABASE_URL`).
fn database_only() -> anyhow::Result<sqlx::PgPool> {
    let database =
        Database::from_lookup(|name| std::env::var(name).ok()).context("configuration error")?;
    db::admin_pool(&database).context("the database URL is invalid")
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let pool = db::serving_pool(&config.database).context("DATABASE_URL is invalid")?;
    serve_with(config, pool).await
}

async fn serve_with(config: Config, pool: sqlx::PgPool) -> anyhow::Result<()> {
    let addr = config.listen_addr();
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, public_url = %config.public_url, "ledgerbot listening");
    let app = App::new(config, pool)?;
    // Background work takes the API's connections, never the webhook's.
    crate::infra::housekeeping::spawn(app.pool.clone());
    crate::services::notifications::spawn(
        app.pool.clone(),
        app.outbox.clone(),
        // Drawn by the front end: services do not know the charts' words.
        crate::front::bot::handlers::chart::digest_chart,
    );
    server::run(listener, app, shutdown).await?;
    Ok(())
}

/// The development configuration: the environment where set, made-up values
/// for the rest. Returns the names of the made-up variables.
fn dev_config() -> Result<(Config, Vec<&'static str>), ConfigError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let defaults: HashMap<&'static str, String> = HashMap::from([
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/ledgerbot_dev".to_owned(),
        ),
        ("TELEGRAM_BOT_TOKEN", "1:dev-mode-no-token".to_owned()),
        ("TELEGRAM_WEBHOOK_SECRET", random_hex(16)),
        ("JWT_SECRET", random_hex(32)),
    ]);
    let mut made_up: Vec<_> = defaults
        .keys()
        .copied()
        .filter(|name| env(name).is_none())
        .collect();
    let mut config = Config::from_lookup(|name| env(name).or_else(|| defaults.get(name).cloned()))?;
    config.dev_mode = true;
    if env("TELEGRAM_API_URL").is_none() {
        // Outbound Bot API calls come back to this process, for /dev/chat:
        // to the address it listens on, loopback when that is every interface.
        let mut own = config.listen_addr();
        if own.ip().is_unspecified() {
            own.set_ip(match own {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        config.telegram_api_url = format!("http://{own}/dev");
        made_up.push("TELEGRAM_API_URL");
    }
    Ok((config, made_up))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Completes on SIGTERM (what fly.io sends) or Ctrl-C. The handlers are
/// installed here, before the caller says it listens, not when the future is
/// first polled: the accept loop may not poll it before the first requests
/// are answered, and a SIGTERM in that window would kill the process instead
/// of draining it (seen under load).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle Ctrl-C")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("Ctrl-C received"),
                _ = terminate.recv() => tracing::info!("SIGTERM received"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("Ctrl-C received");
            } else {
                std::future::pending::<()>().await;
            }
        })
    }
}
