//! Accounts: people with an email and a password ([`account`], [`email`],
//! [`password`]), the short-lived access tokens the API checks ([`jwt`]),
//! the rotating refresh tokens ([`refresh`]), and one-time links to choose a
//! password ([`password_reset`]).

pub mod account;
pub mod email;
pub mod jwt;
pub mod password;
pub mod password_reset;
pub mod refresh;
