//! Integration tests: the real server on a loopback port, a fresh PostgreSQL
//! database per test (`#[sqlx::test]`), a fake Bot API server that records
//! every call. One binary, so it is built once.

mod auth;
mod bot_accounts;
mod bot_api;
mod budget;
mod cash_bot;
mod cash_entries;
mod chatter;
mod cli;
mod companies;
mod company_admin;
mod config_docs;
mod demo;
mod devchat;
mod efactura;
mod fake_telegram;
mod faults;
mod finance_bot;
mod first_contact;
mod fuzz_replay;
mod helpers;
mod hostile;
mod housekeeping;
mod instances;
mod invitations;
mod invoice_sync;
mod invoices;
mod invoices_csv;
mod limits;
mod linking;
mod login_lockout;
mod metrics;
mod outbox;
mod people;
mod pooler;
mod rate_limits;
mod schema_upgrade;
mod secret_logs;
mod server;
mod telegram_front_door;
mod telegram_login;
mod web;
mod webhook;
