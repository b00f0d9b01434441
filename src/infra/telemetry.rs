//! Logging: `tracing` events to stderr, as text or one JSON object per line.
//! `RUST_LOG` filters; the default keeps chatty dependencies quiet, which also
//! keeps request URLs that carry the bot token out of the logs.

use tracing_subscriber::EnvFilter;

use crate::infra::config::LogFormat;

/// The environment variable with the log filter (`tracing_subscriber`'s syntax).
pub const FILTER_VARIABLE: &str = "RUST_LOG";

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,reqwest=warn,hyper=warn,hyper_util=warn";

/// Installs the global subscriber. Calling it twice is harmless (tests do).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env(FILTER_VARIABLE).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // The request span is the only one: listing it again as `spans`
            // doubled every line's size and formatting cost.
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
