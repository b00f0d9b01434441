//! The JSON API under `/api/v1`. Every route authenticates with
//! `Authorization: Bearer <access token>` ([`crate::auth::authenticate`]).

pub mod companies;
pub mod invoices;
pub mod rows;
pub mod treasury;
