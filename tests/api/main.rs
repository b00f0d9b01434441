//! Integration tests: the real server on a loopback port, a fresh PostgreSQL
//! database per test (`#[sqlx::test]`), a fake Bot API server that records
//! every call. One binary, so it is built once.

mod bot_api;
mod cli;
mod companies;
mod demo;
mod fake_telegram;
mod finance_bot;
mod helpers;
mod invoices;
mod people;
mod server;
mod webhook;
