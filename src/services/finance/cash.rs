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

/// A recorded entry, as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's id: the list's order and its cursor.
    pub id: i64,
    /// Positive: income; negative: an expense.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// What it was for.
    pub note: String,
    /// The day it happened.
    pub entry_date: Date,
    /// Who recorded it (`None` once that account is deleted).
    pub created_by: Option<i64>,
    /// When it was recorded.
    pub created_at: time::OffsetDateTime,
}

/// Up to `limit` entries of `company_id` recorded after entry `after` (from
/// the first when `None`), in the order they were recorded: ids only grow,
/// so a reader that remembers the last id it saw never misses an entry nor
/// sees one twice.
///
/// # Errors
/// The database failed.
pub async fn list_after(
    db: &mut PgConnection,
    company_id: i64,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, amount_minor, currency, note, entry_date, created_by, created_at
         FROM cash_entries WHERE company_id = $1 AND id > $2
         ORDER BY id LIMIT $3",
        company_id,
        after.unwrap_or(0),
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            id: r.id,
            amount: Amount::from_minor(r.amount_minor),
            currency: super::stored_currency(&r.currency),
            note: r.note,
            entry_date: r.entry_date,
            created_by: r.created_by,
            created_at: r.created_at,
        })
        .collect())
}
