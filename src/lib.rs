//! ledgerbot: a Telegram front end for a small company's finances.

pub mod money;
pub mod validate;
