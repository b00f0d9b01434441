//! ledgerbot: a Telegram front end for a small company's finances, and the
//! account system behind it. One stateless binary; all state in PostgreSQL.
//!
//! The crate is four layers; each knows only the ones below it:
//!
//! - [`front`]: the front ends, thin translators between people and the
//!   services: the JSON API ([`front::api`]), the web pages ([`front::web`]),
//!   the Telegram bot ([`front::bot`], its commands in the top-level
//!   `handlers/` folder), dev mode's chat ([`front::devchat`]), the
//!   operators' endpoints ([`front::ops`]), and [`front::routes`]: every
//!   path, method and handler in one table.
//! - [`services`]: what ledgerbot does, in domain types: accounts and tokens,
//!   linking a Telegram account, company finances, attempt limits, the
//!   messages the bot sends on its own. No HTTP and no bot in here.
//! - [`blocks`]: pure building blocks: exact money, CUI and IBAN, one-time
//!   codes, QR images, the two languages, Telegram's HTML escaping.
//! - [`infra`]: the process around them: configuration, the database pool and
//!   migrations, the hyper + tower server and its router, the Bot API client,
//!   metrics, logs, housekeeping and the command line.

pub mod blocks;
pub mod front;
pub mod infra;
pub mod services;
