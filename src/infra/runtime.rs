//! The tokio runtime the binary runs on, sized by `WORKER_THREADS`.
//!
//! One worker per core by default, as `#[tokio::main]` had it. On one core
//! (the target, a shared vCPU) the current-thread scheduler instead of a
//! one-worker pool: every task runs where its socket was polled, with no
//! worker to wake and no shared run queue. Measured on the 2-core bench
//! machine with PostgreSQL beside the server, one thread took about the
//! same server CPU per `/dashboard` update (0.87-1.08 of two workers' per
//! round, 0.95 over the run) and 3-4 MB less RSS, but served 13-28 %
//! fewer updates per second than two workers (the one thread and
//! PostgreSQL's backends take turns on the cores): so not the default where
//! there are more cores. Blocking work (password hashes, charts, e-Factura
//! imports) runs on tokio's blocking threads either way, each kind bounded
//! by its own gate, never on a worker.

use anyhow::Context as _;

/// The runtime for `ledgerbot`'s commands: one thread polling every task
/// when `WORKER_THREADS` is 1, else that many workers sharing the tasks.
///
/// # Errors
/// `WORKER_THREADS` is not a number from 1 to 256, or the runtime cannot be
/// built (no threads or no I/O driver).
pub fn build() -> anyhow::Result<tokio::runtime::Runtime> {
    let workers = crate::infra::config::worker_threads(|name| std::env::var(name).ok())
        .context("configuration error")?;
    let mut builder = if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
