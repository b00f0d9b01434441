//! Company finances: companies and their members, invoices, treasury accounts,
//! cash entries, the dashboard, partners, the charts' figures, and the e-Factura import. The store
//! functions here are shared by the JSON API (`crate::front::api`) and the bot's handlers, so both see the same rules
//! and the same figures.
//!
//! Money is `bigint` minor units in the database and [`Amount`] in Rust, always
//! beside its [`Currency`]: sums are grouped by currency, never added across.

pub mod cash;
pub mod charts;
pub mod companies;
pub mod dashboard;
pub mod efactura;
pub mod groups;
pub mod invoices;
pub mod partners;
pub mod quota;
pub mod treasury;

use serde::Serialize;
use time::Date;

use crate::blocks::money::{Amount, Currency};

pub use companies::{Company, Role};

/// Today in Romania, the calendar that "overdue" and "this month" follow.
///
/// # Errors
/// The database failed.
pub async fn today(db: impl sqlx::PgExecutor<'_>) -> Result<Date, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT (now() AT TIME ZONE 'Europe/Bucharest')::date AS "today!""#)
        .fetch_one(db)
        .await
}

/// A currency code read back from the database, where a CHECK guarantees its shape.
pub(crate) fn stored_currency(code: &str) -> Currency {
    Currency::parse(code).unwrap_or(Currency::RON)
}

/// An amount in a currency, as the API shows it: `{"currency":"RON","amount":"12.50"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Money {
    /// The currency.
    pub currency: Currency,
    /// The amount.
    pub amount: Amount,
}

/// Which invoices: to customers (receivables) or from suppliers (payables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Issued to customers: money to collect.
    Issued,
    /// Received from suppliers: money to pay.
    Received,
}

impl Direction {
    /// `issued` or `received`, as stored and as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Received => "received",
        }
    }

    /// From the stored or API form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "issued" => Some(Self::Issued),
            "received" => Some(Self::Received),
            _ => None,
        }
    }
}

/// Which invoices by payment: all, those with something left to pay, or the
/// fully paid ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaidFilter {
    /// Every invoice.
    #[default]
    All,
    /// `paid < total`.
    Unpaid,
    /// `paid = total`.
    Paid,
}

impl PaidFilter {
    /// `all`, `unpaid` or `paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Unpaid => "unpaid",
            Self::Paid => "paid",
        }
    }

    /// From `unpaid`/`paid` (and the Romanian `neplatite`/`platite`), any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "all" | "toate" => Some(Self::All),
            "unpaid" | "neplatite" | "neplătite" => Some(Self::Unpaid),
            "paid" | "platite" | "plătite" => Some(Self::Paid),
            _ => None,
        }
    }
}

/// Serialises a date as the API writes dates: `YYYY-MM-DD`.
///
/// # Errors
/// Never, beyond the serializer's own.
pub fn iso_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// [`iso_date`] for an optional date.
///
/// # Errors
/// Never, beyond the serializer's own.
pub fn iso_date_opt<S: serde::Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => iso_date(date, serializer),
        None => serializer.serialize_none(),
    }
}
