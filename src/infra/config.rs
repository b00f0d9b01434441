//! Configuration: every setting ledgerbot reads, in one typed struct, from the
//! environment only.
//!
//! | variable | required by `serve` | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | yes | — |
//! | `DATABASE_POOLER` | no | `none` (`transaction` behind a transaction-mode pooler such as PgBouncer; `session`) |
//! | `DATABASE_DIRECT_URL` | no | unset: `migrate` uses `DATABASE_URL` |
//! | `DATABASE_POOL_SIZE` | no | 2 per core, 4–32 (1–1000): the webhook's connections |
//! | `DATABASE_API_POOL_SIZE` | no | half of `DATABASE_POOL_SIZE`, at least 1 (1–1000): the API's and the pages' connections, besides the webhook's |
//! | `WORKER_THREADS` | no | one per core, at most 256 (1–256): threads running the async tasks (1: one thread, no pool); blocking work (hashes, charts, imports) has its own |
//! | `PORT` | no | `8080` |
//! | `BIND_ADDR` | no | `0.0.0.0` (every interface); `127.0.0.1` in dev mode |
//! | `PUBLIC_URL` | no | `http://localhost:$PORT` |
//! | `TELEGRAM_BOT_TOKEN` | yes | — |
//! | `TELEGRAM_BOT_USERNAME` | no | `ledgerbot` |
//! | `TELEGRAM_WEBHOOK_SECRET` | yes | — (16–256 of `A-Z a-z 0-9 _ -`) |
//! | `TELEGRAM_API_URL` | no | `https://api.telegram.org` |
//! | `JWT_SECRET` | yes | — (at least 32 bytes) |
//! | `LOG_FORMAT` | no | `text` (`json` for one JSON object per line) |
//! | `TRUST_PROXY_HEADERS` | no | `false` (`true` behind fly.io's proxy: read `Fly-Client-IP` / `X-Forwarded-For`) |
//! | `IPV6_CLIENT_PREFIX` | no | `64`: per-client limits count an IPv6 client by this many leading bits (0-128) |
//! | `PASSWORD_HASH_MEMORY_MIB` | no | `64`: memory password hashes (19 MiB each) may take at once; slots = what fits, at most one per core, at least one |
//! | `METRICS_TOKEN` | no | unset: `/metrics` is open; set: it needs `Authorization: Bearer <token>` |
//! | `METRICS_REQUIRE_TOKEN` | no | `false`; `true` (as `fly.toml` ships): `serve` refuses to start without `METRICS_TOKEN` |
//! | `API_REQUESTS_PER_MINUTE` | no | `300`: requests one account may make to `/api/v1/companies...` per minute (then 429) |
//! | `MAX_COMPANIES_PER_ACCOUNT` | no | `50`: companies one account may own |
//! | `MAX_INVOICES_PER_COMPANY` | no | `200000` |
//! | `MAX_TREASURY_ACCOUNTS_PER_COMPANY` | no | `200` |
//! | `MAX_ROWS_PER_BATCH` | no | `5000`: rows one push of invoices or treasury accounts may carry |

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeBounds;
use std::str::FromStr;

use thiserror::Error;

use crate::infra::db::Pooler;
use crate::services::accounts::password::HashLimits;
use crate::services::finance::quota::Quotas;
use crate::services::rate_limit::RateLimits;

/// A value that must never reach a log: `Debug` and `Display` print a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the few places that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// A configuration value that is missing or unusable; the message names the variable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is not set (or is empty).
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("{name} is invalid: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it, never the value itself (it may be a secret).
        why: &'static str,
    },
}

/// Where the database is and how to reach it: what every command needs.
#[derive(Clone, Debug)]
pub struct Database {
    /// PostgreSQL connection string, or the pooler's.
    pub url: Secret,
    /// What sits between us and PostgreSQL on `url`.
    pub pooler: Pooler,
    /// The host's direct (non-pooled) URL, for `ledgerbot migrate`.
    pub direct_url: Option<Secret>,
    /// Connections the webhook opens on `url` at most: Telegram's updates
    /// have this pool to themselves.
    pub pool_size: u32,
    /// Connections the API, the web pages and background work open on `url`
    /// at most, besides `pool_size`: however busy they are, they never take
    /// one of the webhook's.
    pub api_pool_size: u32,
}

impl Database {
    /// Reads the `DATABASE_*` variables through `lookup` (blank counts as unset).
    ///
    /// # Errors
    /// The first variable that is missing or unusable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let postgres_url = |name: &'static str, url: String| {
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Ok(Secret(url))
            } else {
                Err(ConfigError::Invalid {
                    name,
                    why: "must start with postgres:// or postgresql://",
                })
            }
        };
        let url = postgres_url(
            "DATABASE_URL",
            var("DATABASE_URL").ok_or(ConfigError::Missing("DATABASE_URL"))?,
        )?;
        let direct_url = var("DATABASE_DIRECT_URL")
            .map(|url| postgres_url("DATABASE_DIRECT_URL", url))
            .transpose()?;
        let pooler = match var("DATABASE_POOLER") {
            Some(p) => Pooler::parse(&p).ok_or(ConfigError::Invalid {
                name: "DATABASE_POOLER",
                why: "must be transaction, session or none",
            })?,
            None => Pooler::None,
        };
        let connections = |name: &'static str| {
            number_in(
                &lookup,
                name,
                1..=1000,
                "not a number of connections (1-1000)",
            )
        };
        let pool_size =
            connections("DATABASE_POOL_SIZE")?.unwrap_or_else(crate::infra::db::default_pool_size);
        let api_pool_size = connections("DATABASE_API_POOL_SIZE")?
            .unwrap_or_else(|| crate::infra::db::default_api_pool_size(pool_size));
        Ok(Self {
            url,
            pooler,
            direct_url,
            pool_size,
            api_pool_size,
        })
    }
}

/// Everything ledgerbot needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The database and how to reach it.
    pub database: Database,
    /// `WORKER_THREADS`: the threads running the async tasks. The binary
    /// reads it on its own before anything else, to build the runtime
    /// ([`worker_threads`]); here so that a bad value is named with the rest.
    pub worker_threads: usize,
    /// TCP port to listen on.
    pub port: u16,
    /// `BIND_ADDR`: the address to listen on, when not the mode's default
    /// (see [`Config::listen_addr`]).
    pub bind_addr: Option<IpAddr>,
    /// The public base URL, without a trailing slash (`https://ledgerbot.fly.dev`).
    pub public_url: String,
    /// The bot's token from BotFather; part of every Bot API URL.
    pub bot_token: Secret,
    /// The bot's username, without `@`, for deep links and `/cmd@bot` in groups.
    pub bot_username: String,
    /// The value Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook_secret: Secret,
    /// Base URL of the Bot API (tests point it at a fake server).
    pub telegram_api_url: String,
    /// HMAC key for access tokens.
    pub jwt_secret: Secret,
    /// Log output format.
    pub log_format: LogFormat,
    /// Whether client IPs come from `Fly-Client-IP` / `X-Forwarded-For`.
    pub trust_proxy_headers: bool,
    /// Bearer token `/metrics` requires, if any.
    pub metrics_token: Option<Secret>,
    /// `ledgerbot dev`: serves `/dev/chat`. Never set from the environment.
    pub dev_mode: bool,
    /// Attempt limits (see [`crate::services::rate_limit`]; tests lower them).
    pub rate_limits: RateLimits,
    /// What one account may hold and send (the `MAX_*` variables).
    pub quotas: Quotas,
    /// Leading bits of an IPv6 address that name one client for the
    /// per-client limits (`IPV6_CLIENT_PREFIX`, default 64).
    pub ipv6_client_prefix: u8,
    /// How many password hashes run at once and how many wait
    /// (`PASSWORD_HASH_MEMORY_MIB` and the cores).
    pub password_hashing: HashLimits,
    /// Telegram's sending limits the outbox keeps, across all instances
    /// (not from the environment: Telegram's; tests lower them).
    pub outbox: crate::infra::outbox::OutboxLimits,
}

/// `PASSWORD_HASH_MEMORY_MIB`'s default: three 19 MiB hashes, so that with
/// the server's own memory a 256 MB machine keeps well clear of its limit.
pub const DEFAULT_PASSWORD_HASH_MEMORY_MIB: u32 = 64;

/// The real Bot API.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

impl Config {
    /// Reads the configuration `ledgerbot serve` needs from the process environment.
    ///
    /// # Errors
    /// The first variable that is missing or unusable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the
    /// process environment.
    ///
    /// # Errors
    /// The first variable that is missing or unusable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| var(name).ok_or(ConfigError::Missing(name));

        let port: u16 =
            number_in(&lookup, "PORT", .., "not a port number (1-65535)")?.unwrap_or(8080);
        let bind_addr = var("BIND_ADDR")
            .map(|addr| addr.trim().parse::<IpAddr>())
            .transpose()
            .map_err(|_| ConfigError::Invalid {
                name: "BIND_ADDR",
                why: "not an IP address (127.0.0.1, 0.0.0.0, ::, ...)",
            })?;
        let public_url = match var("PUBLIC_URL") {
            Some(url) => parse_base_url("PUBLIC_URL", &url)?,
            None => format!("http://localhost:{port}"),
        };
        let telegram_api_url = match var("TELEGRAM_API_URL") {
            Some(url) => parse_base_url("TELEGRAM_API_URL", &url)?,
            None => DEFAULT_TELEGRAM_API_URL.to_owned(),
        };
        let database = Database::from_lookup(&lookup)?;
        let worker_threads = worker_threads(&lookup)?;
        let bot_token = required("TELEGRAM_BOT_TOKEN")?;
        if !is_bot_token(&bot_token) {
            return Err(ConfigError::Invalid {
                name: "TELEGRAM_BOT_TOKEN",
                why: "expected the form <bot id>:<secret> that BotFather gives",
            });
        }
        let webhook_secret = required("TELEGRAM_WEBHOOK_SECRET")?;
        if !is_webhook_secret(&webhook_secret) {
            return Err(ConfigError::Invalid {
                name: "TELEGRAM_WEBHOOK_SECRET",
                why: "must be 16-256 characters of A-Z a-z 0-9 _ -",
            });
        }
        if webhook_secret.len() < MIN_WEBHOOK_SECRET_LEN {
            return Err(ConfigError::Invalid {
                name: "TELEGRAM_WEBHOOK_SECRET",
                why: "must be at least 16 characters (Telegram accepts fewer, but a short one \
                      can be guessed): make one with `openssl rand -hex 32`, set it, then run \
                      `ledgerbot set-webhook` so Telegram sends the new one",
            });
        }
        let jwt_secret = required("JWT_SECRET")?;
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                why: "must be at least 32 bytes",
            });
        }
        let bot_username = var("TELEGRAM_BOT_USERNAME")
            .map(|u| u.trim().trim_start_matches('@').to_owned())
            .unwrap_or_else(|| "ledgerbot".to_owned());
        if !bot_username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ConfigError::Invalid {
                name: "TELEGRAM_BOT_USERNAME",
                why: "a Telegram username is letters, digits and _",
            });
        }
        let log_format = match var("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    why: "must be text or json",
                });
            }
        };
        let trust_proxy_headers = parse_bool("TRUST_PROXY_HEADERS", var("TRUST_PROXY_HEADERS"))?;
        let metrics_token = var("METRICS_TOKEN").map(|t| Secret(t.trim().to_owned()));
        if parse_bool("METRICS_REQUIRE_TOKEN", var("METRICS_REQUIRE_TOKEN"))?
            && metrics_token.is_none()
        {
            // fly.toml ships METRICS_REQUIRE_TOKEN=true: a deployment that
            // forgot the secret must not serve its metrics to anyone.
            return Err(ConfigError::Invalid {
                name: "METRICS_TOKEN",
                why: "is not set, and METRICS_REQUIRE_TOKEN is true (fly.toml sets it): set a \
                      secret one, e.g. `fly secrets set METRICS_TOKEN=$(openssl rand -hex 32)`",
            });
        }
        let count = |name: &'static str, default: u32| {
            number_in(&lookup, name, 1.., "not a whole number of at least 1")
                .map(|n| n.unwrap_or(default))
        };
        let mut rate_limits = RateLimits::default();
        rate_limits.company_api.max =
            count("API_REQUESTS_PER_MINUTE", rate_limits.company_api.max)?;
        let defaults = Quotas::default();
        let quotas = Quotas {
            companies_per_account: count(
                "MAX_COMPANIES_PER_ACCOUNT",
                defaults.companies_per_account,
            )?,
            invoices_per_company: count("MAX_INVOICES_PER_COMPANY", defaults.invoices_per_company)?,
            treasury_accounts_per_company: count(
                "MAX_TREASURY_ACCOUNTS_PER_COMPANY",
                defaults.treasury_accounts_per_company,
            )?,
            rows_per_batch: count("MAX_ROWS_PER_BATCH", defaults.rows_per_batch)?,
        };
        // `/64` reads as 64, as a prefix is often written.
        let ipv6_client_prefix = match var("IPV6_CLIENT_PREFIX") {
            Some(n) => in_range(
                n.trim().trim_start_matches('/'),
                "IPV6_CLIENT_PREFIX",
                ..=128_u8,
                "not a prefix length (0-128)",
            )?,
            None => 64,
        };
        let hash_memory_mib = number_in(
            &lookup,
            "PASSWORD_HASH_MEMORY_MIB",
            1..=65_536,
            "not a number of MiB (1-65536)",
        )?
        .unwrap_or(DEFAULT_PASSWORD_HASH_MEMORY_MIB);

        Ok(Self {
            database,
            worker_threads,
            port,
            bind_addr,
            public_url,
            bot_token: Secret(bot_token),
            bot_username,
            webhook_secret: Secret(webhook_secret),
            telegram_api_url,
            jwt_secret: Secret(jwt_secret),
            log_format,
            trust_proxy_headers,
            metrics_token,
            dev_mode: false,
            rate_limits,
            quotas,
            ipv6_client_prefix,
            password_hashing: HashLimits::from_budget(hash_memory_mib, cores()),
            outbox: crate::infra::outbox::OutboxLimits::default(),
        })
    }

    /// Where to listen: `BIND_ADDR` when set; else every interface for
    /// `serve` (fly.io's proxy reaches the machine from outside), and only
    /// loopback in dev mode, whose `/dev/chat` page hands out the webhook
    /// secret and whose demo account has a published password.
    pub fn listen_addr(&self) -> SocketAddr {
        let default = if self.dev_mode {
            Ipv4Addr::LOCALHOST
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        SocketAddr::new(self.bind_addr.unwrap_or(default.into()), self.port)
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The cores this process may use (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The threads that run the async tasks (`WORKER_THREADS`; one per core
/// when unset): read before the runtime exists, so apart from [`Config`],
/// and by every command. What 1 means: [`crate::infra::runtime`].
///
/// # Errors
/// The variable is set to something other than a number from 1 to 256.
pub fn worker_threads(lookup: impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    Ok(number_in(
        lookup,
        "WORKER_THREADS",
        1..=256,
        "not a number of threads (1-256)",
    )?
    .unwrap_or_else(|| cores().min(256)))
}

/// `name`'s value through `lookup` as a number in `range`, spaces around it
/// ignored: `None` when unset or blank (the caller's default applies), and
/// `why` naming the range when it is anything else. The one reading of every
/// numeric variable; a free function, so that [`worker_threads`] can use it
/// before a [`Config`] exists.
///
/// # Errors
/// The value is not a `T` or is outside `range`.
fn number_in<T: FromStr + PartialOrd>(
    lookup: impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: impl RangeBounds<T>,
    why: &'static str,
) -> Result<Option<T>, ConfigError> {
    lookup(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| in_range(v.trim(), name, range, why))
        .transpose()
}

/// `text` exactly (no trimming) as a number in `range`, or `why` about `name`.
fn in_range<T: FromStr + PartialOrd>(
    text: &str,
    name: &'static str,
    range: impl RangeBounds<T>,
    why: &'static str,
) -> Result<T, ConfigError> {
    text.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or(ConfigError::Invalid { name, why })
}

/// The shortest webhook secret `serve` accepts: Telegram allows 1 to 256
/// characters, but a short one could be guessed, and whoever guesses it can
/// post updates as any Telegram user.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 16;

/// Telegram's rule for `secret_token` in `setWebhook` (the length we ask
/// for is [`MIN_WEBHOOK_SECRET_LEN`]).
pub fn is_webhook_secret(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_bot_token(s: &str) -> bool {
    match s.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

fn parse_base_url(name: &'static str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(ConfigError::Invalid {
            name,
            why: "must be an http:// or https:// URL",
        }),
    }
}

fn parse_bool(name: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(ConfigError::Invalid {
            name,
            why: "must be true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn complete() -> HashMap<&'static str, String> {
        HashMap::from([
            (
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1/ledgerbot".to_owned(),
            ),
            ("TELEGRAM_BOT_TOKEN", "123456:ABC-def_ghi".to_owned()),
            ("TELEGRAM_WEBHOOK_SECRET", "s3cret_-X-0123456".to_owned()),
            ("JWT_SECRET", "x".repeat(32)),
        ])
    }

    fn load(env: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn complete_environment_loads_with_defaults() {
        let config = load(&complete()).expect("complete environment");
        assert_eq!(config.port, 8080);
        assert_eq!(config.public_url, "http://localhost:8080");
        assert_eq!(config.telegram_api_url, DEFAULT_TELEGRAM_API_URL);
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(!config.trust_proxy_headers);
        assert_eq!(
            config.database.pool_size,
            crate::infra::db::default_pool_size()
        );
        assert_eq!(config.database.pooler, Pooler::None);
        assert!(config.database.direct_url.is_none());
    }

    #[test]
    fn limits_have_defaults_and_can_be_set() {
        let mut env = complete();
        let config = load(&env).expect("valid");
        assert_eq!(config.quotas, Quotas::default());
        assert_eq!(config.rate_limits, RateLimits::default());
        for (name, value) in [
            ("API_REQUESTS_PER_MINUTE", "60"),
            ("MAX_COMPANIES_PER_ACCOUNT", "2"),
            ("MAX_INVOICES_PER_COMPANY", "1000"),
            ("MAX_TREASURY_ACCOUNTS_PER_COMPANY", "5"),
            ("MAX_ROWS_PER_BATCH", " 100 "),
        ] {
            env.insert(name, value.to_owned());
        }
        let config = load(&env).expect("valid");
        assert_eq!(config.rate_limits.company_api.max, 60);
        assert_eq!(
            config.quotas,
            Quotas {
                companies_per_account: 2,
                invoices_per_company: 1000,
                treasury_accounts_per_company: 5,
                rows_per_batch: 100,
            }
        );
    }

    #[test]
    fn the_pool_size_can_be_set() {
        let mut env = complete();
        env.insert("DATABASE_POOL_SIZE", " 24 ".to_owned());
        assert_eq!(load(&env).expect("valid").database.pool_size, 24);
        assert_eq!(load(&env).expect("valid").database.api_pool_size, 12);
        env.insert("DATABASE_API_POOL_SIZE", "3".to_owned());
        assert_eq!(load(&env).expect("valid").database.api_pool_size, 3);
        assert!((4..=32).contains(&crate::infra::db::default_pool_size()));
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        for name in [
            "DATABASE_URL",
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET",
            "JWT_SECRET",
        ] {
            let mut env = complete();
            env.remove(name);
            assert_eq!(
                load(&env).unwrap_err(),
                ConfigError::Missing(name),
                "{name}"
            );
            env.insert(name, "  ".to_owned());
            assert_eq!(
                load(&env).unwrap_err(),
                ConfigError::Missing(name),
                "{name} blank"
            );
        }
    }

    #[test]
    fn a_short_webhook_secret_is_refused_with_how_to_make_one() {
        let mut env = complete();
        env.insert("TELEGRAM_WEBHOOK_SECRET", "abc-123".to_owned());
        let message = load(&env).expect_err("too short").to_string();
        assert!(message.contains("at least 16 characters"), "{message}");
        assert!(message.contains("openssl rand"), "{message}");
        assert!(!message.contains("abc-123"), "the value is never shown");
        env.insert("TELEGRAM_WEBHOOK_SECRET", "x".repeat(16));
        assert!(load(&env).is_ok(), "16 is enough");
    }

    #[test]
    fn metrics_require_token_refuses_to_start_without_the_token() {
        let mut env = complete();
        env.insert("METRICS_REQUIRE_TOKEN", "true".to_owned());
        let message = load(&env).expect_err("no token").to_string();
        assert!(message.starts_with("METRICS_TOKEN"), "{message}");
        assert!(message.contains("METRICS_REQUIRE_TOKEN"), "{message}");
        env.insert("METRICS_TOKEN", "a-metrics-token".to_owned());
        let config = load(&env).expect("with the token");
        assert!(config.metrics_token.is_some());
    }

    #[test]
    fn worker_threads_default_to_the_cores_and_can_be_set() {
        let with = |value: &str| {
            let value = value.to_owned();
            worker_threads(move |name| (name == "WORKER_THREADS").then(|| value.clone()))
        };
        assert_eq!(worker_threads(|_| None), Ok(cores().min(256)));
        assert_eq!(with(" "), Ok(cores().min(256)), "blank counts as unset");
        assert_eq!(with("1"), Ok(1));
        assert_eq!(with(" 4 "), Ok(4));
        assert_eq!(with("256"), Ok(256));
        for unusable in ["0", "257", "two", "-1", "1.5"] {
            assert_eq!(
                with(unusable),
                Err(ConfigError::Invalid {
                    name: "WORKER_THREADS",
                    why: "not a number of threads (1-256)"
                }),
                "{unusable}"
            );
        }
    }

    #[test]
    fn numbers_are_read_within_their_range_and_blank_is_unset() {
        let read = |value: &str| {
            let value = value.to_owned();
            number_in(
                move |name| (name == "N").then(|| value.clone()),
                "N",
                2..=10_u8,
                "not 2-10",
            )
        };
        for (value, expected, why) in [
            ("", None, "empty is unset"),
            (" \t ", None, "whitespace is unset"),
            ("2", Some(2), "the low end"),
            ("10", Some(10), "the high end"),
            (" 7\n", Some(7), "spaces around"),
            ("+3", Some(3), "a plus sign, as str::parse takes it"),
        ] {
            assert_eq!(read(value), Ok(expected), "{why}: {value:?}");
        }
        for (value, why) in [
            ("1", "below the range"),
            ("11", "above the range"),
            ("256", "past the type"),
            ("-3", "negative"),
            ("3.0", "a fraction"),
            ("three", "not a number"),
            ("3 4", "two numbers"),
        ] {
            assert_eq!(
                read(value),
                Err(ConfigError::Invalid {
                    name: "N",
                    why: "not 2-10"
                }),
                "{why}: {value:?}"
            );
        }
        assert_eq!(
            number_in(|_| None, "N", 2..=10_u8, "not 2-10"),
            Ok(None),
            "unset"
        );
    }

    #[test]
    fn the_ipv6_prefix_reads_with_or_without_its_slash() {
        let mut env = complete();
        assert_eq!(load(&env).expect("valid").ipv6_client_prefix, 64);
        for (value, expected) in [(" /56 ", 56), ("48", 48), ("0", 0), ("128", 128)] {
            env.insert("IPV6_CLIENT_PREFIX", value.to_owned());
            assert_eq!(
                load(&env).expect("valid").ipv6_client_prefix,
                expected,
                "{value:?}"
            );
        }
        for value in ["129", "/", "/ 56", "-1", "sixty"] {
            env.insert("IPV6_CLIENT_PREFIX", value.to_owned());
            assert_eq!(
                load(&env).unwrap_err(),
                ConfigError::Invalid {
                    name: "IPV6_CLIENT_PREFIX",
                    why: "not a prefix length (0-128)",
                },
                "{value:?}"
            );
        }
    }

    #[test]
    fn each_number_keeps_its_range_and_its_message() {
        for (name, good, bad, why) in [
            ("PORT", "1", "65536", "not a port number (1-65535)"),
            ("PORT", "65535", "-1", "not a port number (1-65535)"),
            (
                "PASSWORD_HASH_MEMORY_MIB",
                "1",
                "0",
                "not a number of MiB (1-65536)",
            ),
            (
                "PASSWORD_HASH_MEMORY_MIB",
                "65536",
                "65537",
                "not a number of MiB (1-65536)",
            ),
            (
                "DATABASE_POOL_SIZE",
                "1000",
                "1001",
                "not a number of connections (1-1000)",
            ),
            (
                "DATABASE_API_POOL_SIZE",
                "1",
                "0",
                "not a number of connections (1-1000)",
            ),
            (
                "MAX_ROWS_PER_BATCH",
                "4294967295",
                "4294967296",
                "not a whole number of at least 1",
            ),
        ] {
            let mut env = complete();
            env.insert(name, good.to_owned());
            assert!(load(&env).is_ok(), "{name}={good}");
            env.insert(name, bad.to_owned());
            assert_eq!(
                load(&env).unwrap_err(),
                ConfigError::Invalid { name, why },
                "{name}={bad}"
            );
        }
    }

    #[test]
    fn unusable_values_are_rejected_naming_the_variable() {
        let cases = [
            ("PORT", "eighty".to_owned(), "not a number"),
            ("PORT", "70000".to_owned(), "out of range"),
            ("DATABASE_POOL_SIZE", "0".to_owned(), "no connections"),
            ("DATABASE_POOL_SIZE", "many".to_owned(), "not a number"),
            ("DATABASE_API_POOL_SIZE", "0".to_owned(), "no connections"),
            ("DATABASE_API_POOL_SIZE", "two".to_owned(), "not a number"),
            ("TELEGRAM_WEBHOOK_SECRET", "has space".to_owned(), "space"),
            ("TELEGRAM_WEBHOOK_SECRET", "x".repeat(257), "too long"),
            ("TELEGRAM_WEBHOOK_SECRET", "ümlaut".to_owned(), "non-ASCII"),
            ("TELEGRAM_WEBHOOK_SECRET", "x".repeat(15), "shorter than 16"),
            ("METRICS_REQUIRE_TOKEN", "sure".to_owned(), "bool"),
            ("JWT_SECRET", "x".repeat(31), "too short"),
            ("TELEGRAM_BOT_TOKEN", "no-colon".to_owned(), "shape"),
            ("DATABASE_URL", "mysql://x".to_owned(), "scheme"),
            (
                "DATABASE_DIRECT_URL",
                "db.example:5432".to_owned(),
                "scheme",
            ),
            ("DATABASE_POOLER", "pgbouncer".to_owned(), "kind"),
            ("PUBLIC_URL", "ftp://x".to_owned(), "scheme"),
            ("LOG_FORMAT", "xml".to_owned(), "format"),
            ("TRUST_PROXY_HEADERS", "maybe".to_owned(), "bool"),
            ("API_REQUESTS_PER_MINUTE", "0".to_owned(), "none at all"),
            (
                "MAX_COMPANIES_PER_ACCOUNT",
                "lots".to_owned(),
                "not a number",
            ),
            ("MAX_INVOICES_PER_COMPANY", "-1".to_owned(), "negative"),
            (
                "MAX_TREASURY_ACCOUNTS_PER_COMPANY",
                "1.5".to_owned(),
                "fraction",
            ),
            ("MAX_ROWS_PER_BATCH", "0".to_owned(), "no rows"),
            (
                "BIND_ADDR",
                "localhost".to_owned(),
                "a name, not an address",
            ),
        ];
        for (name, value, why) in cases {
            let mut env = complete();
            env.insert(name, value);
            match load(&env) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name, "{why}"),
                other => panic!("{name} ({why}): expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_pooler_and_the_direct_url_can_be_set() {
        let mut env = complete();
        env.insert("DATABASE_POOLER", " Transaction ".to_owned());
        env.insert(
            "DATABASE_DIRECT_URL",
            "postgresql://u:p@db.internal:5432/ledgerbot".to_owned(),
        );
        let database = load(&env).expect("valid").database;
        assert_eq!(database.pooler, Pooler::Transaction);
        assert_eq!(
            database.direct_url.as_ref().map(Secret::expose),
            Some("postgresql://u:p@db.internal:5432/ledgerbot")
        );
        for (value, pooler) in [
            ("session", Pooler::Session),
            ("none", Pooler::None),
            ("", Pooler::None),
        ] {
            env.insert("DATABASE_POOLER", value.to_owned());
            assert_eq!(
                load(&env).expect("valid").database.pooler,
                pooler,
                "{value}"
            );
        }
    }

    #[test]
    fn serve_listens_on_every_interface_and_dev_mode_on_loopback_unless_bind_addr_says() {
        let cases = [
            (None, false, "0.0.0.0:8080", "serve"),
            (None, true, "127.0.0.1:8080", "dev"),
            (
                Some("0.0.0.0"),
                true,
                "0.0.0.0:8080",
                "dev opened on purpose",
            ),
            (Some(" ::1 "), false, "[::1]:8080", "serve on IPv6 loopback"),
            (
                Some("192.0.2.7"),
                true,
                "192.0.2.7:8080",
                "dev on one interface",
            ),
        ];
        for (bind_addr, dev_mode, expected, why) in cases {
            let mut env = complete();
            if let Some(addr) = bind_addr {
                env.insert("BIND_ADDR", addr.to_owned());
            }
            let mut config = load(&env).expect("valid");
            config.dev_mode = dev_mode;

            assert_eq!(config.listen_addr().to_string(), expected, "{why}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let config = load(&complete()).expect("complete environment");
        let debug = format!("{config:?}");
        for secret in ["ABC-def_ghi", "s3cret_-X", &"x".repeat(32), "postgres://"] {
            assert!(!debug.contains(secret), "{secret} leaked into {debug}");
        }
    }

    #[test]
    fn urls_lose_their_trailing_slash() {
        let mut env = complete();
        env.insert("PUBLIC_URL", "https://bot.example.com/".to_owned());
        let config = load(&env).expect("valid");
        assert_eq!(config.public_url, "https://bot.example.com");
        assert!(config.is_https());
    }
}
