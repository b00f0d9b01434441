//! ledgerbot: a Telegram front end for a small company's finances, and the
//! account system behind it. One stateless binary; all state in PostgreSQL.
//!
//! Layout of the engine (`src/`):
//!
//! - [`config`]: every setting, from the environment, in one typed struct.
//! - [`db`]: the connection pool and `migrate` (applies `schema.sql`).
//! - [`server`]: the hyper + tower stack, `run(listener, app, shutdown)`.
//! - [`routes`]: which path goes to which piece; [`http`]: bodies, JSON, errors.
//! - [`webhook`]: Telegram update intake: secret, parse, claim, dispatch, answer.
//! - [`bot`]: the engine the handlers plug into: commands, context, replies, language.
//! - [`handlers`] (top-level `handlers/`): one file per bot command.
//! - [`telegram`]: the outbound Bot API client.
//! - [`metrics`]: what `GET /metrics` shows.
//! - [`outbound`]: messages sent after the webhook's answer, with retries.
//! - [`devchat`]: dev mode's chat with the bot in the browser.
//! - [`housekeeping`]: periodic deletion of expired rows, one instance at a time.
//! - [`app`]: the shared state every request sees.
//! - [`auth`]: passwords, access tokens, refresh tokens and the Bearer check.
//! - [`api`]: the JSON API (`/api/v1/...`); [`web`]: the web pages (sessions,
//!   CSRF, the Login Widget) and the QR images.
//! - [`linking`]: link codes and the Telegram account ↔ person binding.
//! - [`rate_limit`]: attempt limits shared by every instance, in PostgreSQL.
//! - [`money`], [`validate`], [`link_code`], [`secret_token`], [`qr`]: pure
//!   building blocks (exact amounts, CUI and IBAN, one-time codes, QR images).

pub mod api;
pub mod app;
pub mod auth;
pub mod bot;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod devchat;
pub mod finance;
pub mod housekeeping;
pub mod http;
pub mod link_code;
pub mod linking;
pub mod metrics;
pub mod money;
pub mod outbound;
pub mod qr;
pub mod rate_limit;
pub mod routes;
pub mod secret_token;
pub mod server;
pub mod telegram;
pub mod telemetry;
pub mod validate;
pub mod web;
pub mod webhook;

#[path = "../handlers/mod.rs"]
pub mod handlers;
