//! ledgerbot: a Telegram front end for a small company's finances.

pub mod link_code;
pub mod money;
pub mod qr;
pub mod secret_token;
pub mod validate;
