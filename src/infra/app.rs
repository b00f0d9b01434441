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
    /// The database, the only place state lives.
    pub pool: PgPool,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// The outbound Bot API client.
    pub bot: BotApi,
    /// The gate every password hash of this process passes: it bounds the
    /// memory and CPU hashing takes ([`crate::services::accounts::password`]).
    pub hashing: Arc<HashGate>,
    /// Dev mode's record of outbound calls, for `/dev/chat`; `None` in production.
    pub dev_outbox: Option<Arc<crate::front::devchat::Outbox>>,
}

impl App {
    /// Builds the state from a configuration and a pool.
    ///
    /// # Errors
    /// The Bot API client cannot be built (TLS initialisation).
    pub fn new(config: Config, pool: PgPool) -> anyhow::Result<Self> {
        let bot = BotApi::new(&config.telegram_api_url, &config.bot_token)?;
        // Install the recorder before the first request records anything.
        crate::infra::metrics::handle();
        Ok(Self {
            dev_outbox: config.dev_mode.then(Arc::default),
            hashing: Arc::new(HashGate::new(config.password_hashing)),
            pool,
            config: Arc::new(config),
            bot,
        })
    }
}
