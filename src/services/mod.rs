//! The services: what ledgerbot does, in domain types. Each takes plain
//! values and a database connection (or the [`App`](crate::infra::app::App))
//! and returns domain values; none knows HTTP, the web pages or the bot's
//! commands, so the three front ends share the same rules.
//!
//! - [`accounts`]: email accounts, passwords, access and refresh tokens.
//! - [`linking`]: link codes and the Telegram account ↔ person binding.
//! - [`finance`]: companies and members, invoices, treasury, cash, the dashboard.
//! - [`invitations`]: invitations to a company, accepted in the bot or on the web.
//! - [`rate_limit`]: attempt limits shared by every instance.
//! - [`telegram_login`]: Telegram-signed data as a login, each payload once.
//! - [`notices`]: what the bot tells a person on its own (a link was made or replaced).
//! - [`notifications`]: alerts on a schedule, as each person chose (`/notificari`).
//! - [`demo`]: the demo company (`ledgerbot demo-data`, dev mode).

pub mod accounts;
pub mod demo;
pub mod finance;
pub mod invitations;
pub mod linking;
pub mod notices;
pub mod notifications;
pub mod rate_limit;
pub mod telegram_login;

/// What a service fails with besides the outcomes it returns: never a
/// person's mistake (those are outcomes), only the unexpected.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Too many passwords are being hashed: try again in a moment.
    #[error(transparent)]
    Busy(#[from] accounts::password::Busy),
    /// Anything else (the password hashing pool at shutdown).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<accounts::password::HashError> for Failure {
    fn from(e: accounts::password::HashError) -> Self {
        match e {
            accounts::password::HashError::Busy(busy) => Self::Busy(busy),
            accounts::password::HashError::Internal(e) => Self::Internal(e),
        }
    }
}
