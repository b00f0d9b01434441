//! Cash entries recorded from Telegram with `/add`.

use sqlx::PgConnection;
use time::Date;

use crate::blocks::money::{Amount, Currency};

/// One entry to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry<'a> {
    /// The company.
    pub company_id: i64,
    /// Positive: income; negative: an expense. Never zero.
    pub amount: Amount,
    /// The company's currency.
    pub currency: Currency,
    /// What it was for, 1–200 characters.
    pub note: &'a str,
    /// The day it happened.
    pub entry_date: Date,
    /// Who recorded it.
    pub created_by: i64,
    /// The Telegram update it came from, if any.
    pub telegram_update_id: Option<i64>,
}

/// Records an entry; `false` when one from the same Telegram update exists
/// already (the UNIQUE column makes that the database's promise, not only
/// the webhook's claim).
///
/// # Errors
/// The database failed.
pub async fn record(db: &mut PgConnection, entry: &NewEntry<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO cash_entries
             (company_id, amount_minor, currency, note, entry_date, created_by, telegram_update_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (telegram_update_id) DO NOTHING",
        entry.company_id,
        entry.amount.minor(),
        entry.currency.as_str(),
        entry.note,
        entry.entry_date,
        entry.created_by,
        entry.telegram_update_id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
