//! Integration tests: the real server on a loopback port, a fresh PostgreSQL
//! database per test (`#[sqlx::test]`), a fake Bot API server that records
//! every call. One binary, so it is built once.

mod auth;
mod bot_accounts;
mod bot_api;
mod cli;
mod fake_telegram;
mod helpers;
mod linking;
mod rate_limits;
mod server;
mod webhook;
