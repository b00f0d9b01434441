//! The state shared by every request: cheap to clone, nothing per-process that
//! another instance would need.

use std::sync::Arc;

use sqlx::PgPool;

use crate::infra::config::Config;
use crate::infra::telegram::BotApi;
use crate::services::accounts::password::HashGate;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct App {
    /// The database, the only place state lives, as the JSON API, the web
    /// pages and background work reach it (`DATABASE_API_POOL_SIZE`
    /// connections).
    pub pool: PgPool,
    /// The webhook's own connections to the same database
    /// (`DATABASE_POOL_SIZE`): only Telegram's updates (and `/readyz`, which
    /// asks whether they can be served) take from it, so API traffic, however
    /// heavy, never makes an update wait for a connection. Telegram updates
    /// come first.
    pub webhook_pool: PgPool,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// The outbound Bot API client.
    pub bot: BotApi,
    /// e-Factura imports running at once in this process (reading a ZIP or a large
    /// XML is CPU and memory): one more is turned away with 503 and `Retry-After`.
    pub imports: crate::services::finance::efactura::Imports,
    /// The gate every password hash of this process passes: it bounds the
    /// memory and CPU hashing takes ([`crate::services::accounts::password`]).
    pub hashing: Arc<HashGate>,
    /// Wakes this instance's outbox sender after a commit that queued
    /// messages ([`crate::infra::outbox`]).
    pub outbox: crate::infra::outbox::Waker,
    /// Dev mode's record of outbound calls, for `/dev/chat`; `None` in production.
    pub dev_outbox: Option<Arc<crate::front::devchat::Outbox>>,
}

impl App {
    /// Builds the state from a configuration and the webhook's pool; the
    /// API's pool is opened beside it, to the same database with the same
    /// settings ([`crate::infra::db::sibling`]).
    ///
    /// # Errors
    /// The Bot API client cannot be built (TLS initialisation).
    pub fn new(config: Config, pool: PgPool) -> anyhow::Result<Self> {
        let bot = BotApi::new(&config.telegram_api_url, &config.bot_token)?;
        // Install the recorder before the first request records anything.
        crate::infra::metrics::handle();
        Ok(Self {
            dev_outbox: config.dev_mode.then(Arc::default),
            pool: crate::infra::db::sibling(&pool, config.database.api_pool_size),
            webhook_pool: pool,
            imports: crate::services::finance::efactura::Imports::default(),
            hashing: Arc::new(HashGate::new(config.password_hashing)),
            config: Arc::new(config),
            bot,
            outbox: crate::infra::outbox::Waker::default(),
        })
    }
}
