//! The process around the services and front ends.
//!
//! - [`config`]: every setting, from the environment, in one typed struct.
//! - [`db`]: the connection pool and `migrate` (applies `schema.sql`).
//! - [`app`]: the shared state every request sees.
//! - [`server`]: the hyper + tower stack, `run(listener, app, shutdown)`.
//! - [`router`]: how the route table is matched: 404, 405 with `Allow`,
//!   path parameters, the body limit.
//! - [`http_io`]: request and response types, bodies, JSON answers, the JSON error.
//! - [`telegram`]: the outbound Bot API client and the calls it makes.
//! - [`outbox`]: every message besides the webhook's answer, durable, sent
//!   by whichever instance takes it, within Telegram's limits.
//! - [`metrics`], [`telemetry`]: what `/metrics` shows; logs.
//! - [`housekeeping`]: periodic deletion of expired rows, one instance at a time.
//! - [`runtime`]: the tokio runtime, one worker per core unless `WORKER_THREADS` says.
//! - [`cli`]: the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod housekeeping;
pub mod http_io;
pub mod metrics;
pub mod outbox;
pub mod router;
pub mod runtime;
pub mod server;
pub mod telegram;
pub mod telemetry;
