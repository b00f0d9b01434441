//! Building blocks: pure types and functions, no I/O, each with its tests
//! beside it. Everything above uses them; they use nothing above.
//!
//! - [`efactura`]: e-Factura (UBL) documents and SPV's ZIPs, read within bounds.
//! - [`format`]: how numbers, money and dates read in each language, and names clipped to a line.
//! - [`money`]: exact amounts and currencies, parsed and written in both languages.
//! - [`validate`]: Romanian CUI and IBAN, with their check digits.
//! - [`id`]: database ids as we write them in paths, cursors, links and buttons, read back.
//! - [`link_code`]: the 8-character one-time codes and their hashes.
//! - [`invite_code`]: the long invitation codes and their hashes.
//! - [`secret_token`]: random tokens (sessions, refresh tokens) and their hashes.
//! - [`qr`]: QR codes as SVG and PNG.
//! - [`png`]: the small PNG encoder of the images we make (QR codes, charts).
//! - [`chart`]: bar charts as PNG (for the bot) and SVG (for the Mini App), with their font.
//! - [`lang`]: Romanian or English, and how a person's is chosen.
//! - [`local_time`]: Europe/Bucharest time, and counts with their plurals, as people read them.
//! - [`telegram_html`]: the one escape function for Telegram's HTML.
//! - [`telegram_auth`]: the Login Widget's and a Mini App's signed data, checked.
//! - [`gate`]: a bound on expensive work (hashes, charts): slots, and a queue bounded in length and time.

pub mod chart;
pub mod efactura;
pub mod format;
pub mod gate;
pub mod id;
pub mod invite_code;
pub mod lang;
pub mod link_code;
pub mod local_time;
pub mod money;
pub mod png;
pub mod qr;
pub mod secret_token;
pub mod telegram_auth;
pub mod telegram_html;
pub mod validate;

pub use lang::Lang;
