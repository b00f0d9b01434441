//! Accounts: people with an email and a password ([`account`], [`email`],
//! [`password`]), the short-lived access tokens the API checks ([`jwt`]),
//! and the rotating refresh tokens ([`refresh`]).

pub mod account;
pub mod email;
pub mod jwt;
pub mod password;
pub mod refresh;
