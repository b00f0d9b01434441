//! Integration tests: the real server on a loopback port, a fresh PostgreSQL
//! database per test (`#[sqlx::test]`), a fake Bot API server that records
//! every call. One binary, so it is built once.

mod bot_api;
mod cli;
mod devchat;
mod fake_telegram;
mod helpers;
mod housekeeping;
mod instances;
mod metrics;
mod outbound;
mod server;
mod webhook;
