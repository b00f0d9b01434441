//! Cash entries recorded from Telegram with `/add`, listed by `/cash`, and
//! the author's undo of their own last entry.

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

/// Records an entry and returns its id; `None` when one from the same
/// Telegram update exists already (the UNIQUE column makes that the
/// database's promise, not only the webhook's claim).
///
/// # Errors
/// The database failed.
pub async fn record(
    db: &mut PgConnection,
    entry: &NewEntry<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO cash_entries
             (company_id, amount_minor, currency, note, entry_date, created_by, telegram_update_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (telegram_update_id) DO NOTHING
         RETURNING id",
        entry.company_id,
        entry.amount.minor(),
        entry.currency.as_str(),
        entry.note,
        entry.entry_date,
        entry.created_by,
        entry.telegram_update_id
    )
    .fetch_optional(db)
    .await
}

/// How long the author may undo their last entry.
pub const UNDO_WINDOW_MINUTES: i64 = 10;

/// The company's latest `limit` entries, the most recent day first (and,
/// within a day, the last recorded first): read backwards from
/// `cash_entries_company_date_id`, `limit` entries whatever the company's
/// size.
///
/// # Errors
/// The database failed.
pub async fn latest(
    db: &mut PgConnection,
    company_id: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EntryRow,
        "SELECT id, amount_minor, currency, note, entry_date, created_by, created_at
         FROM cash_entries WHERE company_id = $1 ORDER BY entry_date DESC, id DESC LIMIT $2",
        company_id,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Entry::from).collect())
}

/// What an undo did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undo {
    /// Removed: the entry as it was.
    Undone(Entry),
    /// No such entry (undone already, or never ours to know).
    Gone,
    /// Recorded by someone else.
    NotYours,
    /// The author has recorded another entry in the company since.
    NotLast,
    /// Older than [`UNDO_WINDOW_MINUTES`].
    TooLate,
    /// The author may no longer write in the company (removed, or now a viewer).
    NoLongerAllowed,
}

/// Removes entry `entry_id` for `user_id`: only their own, only their last
/// in its company, only within [`UNDO_WINDOW_MINUTES`], only while they may
/// still write there. The row is locked while deciding, so two presses undo
/// it once.
///
/// # Errors
/// The database failed.
pub async fn undo(db: &mut PgConnection, entry_id: i64, user_id: i64) -> Result<Undo, sqlx::Error> {
    let Some(row) = sqlx::query!(
        r#"SELECT e.created_by IS NOT DISTINCT FROM $2 AS "yours!",
                  e.created_at > now() - make_interval(mins => $3::int) AS "recent!",
                  NOT EXISTS (SELECT 1 FROM cash_entries later
                              WHERE later.company_id = e.company_id
                                AND later.created_by = e.created_by
                                AND later.id > e.id) AS "last!",
                  EXISTS (SELECT 1 FROM company_members m
                          WHERE m.company_id = e.company_id AND m.user_id = $2
                            AND m.role IN ('owner', 'accountant')) AS "allowed!"
           FROM cash_entries e WHERE e.id = $1 FOR UPDATE OF e"#,
        entry_id,
        user_id,
        i32::try_from(UNDO_WINDOW_MINUTES).unwrap_or(i32::MAX)
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(Undo::Gone);
    };
    let refusal = [
        (!row.yours, Undo::NotYours),
        (!row.allowed, Undo::NoLongerAllowed),
        (!row.last, Undo::NotLast),
        (!row.recent, Undo::TooLate),
    ]
    .into_iter()
    .find_map(|(refused, why)| refused.then_some(why));
    if let Some(why) = refusal {
        return Ok(why);
    }
    // The row is locked: the entry deleted is the one just judged.
    let removed = sqlx::query_as!(
        EntryRow,
        "DELETE FROM cash_entries WHERE id = $1
         RETURNING id, amount_minor, currency, note, entry_date, created_by, created_at",
        entry_id
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(Undo::Undone(removed.into()))
}

/// A recorded entry, as the API and `/cash` list it.
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

/// A row of `cash_entries` as read: every query that lists entries reads
/// these columns into it (`query_as!`), and [`Entry`] is made from it here only.
struct EntryRow {
    id: i64,
    amount_minor: i64,
    currency: String,
    note: String,
    entry_date: Date,
    created_by: Option<i64>,
    created_at: time::OffsetDateTime,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            amount: Amount::from_minor(r.amount_minor),
            currency: super::stored_currency(&r.currency),
            note: r.note,
            entry_date: r.entry_date,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Up to `limit` entries of `company_id` recorded after entry `after` (from
/// the first when `None`), in the order they were recorded: ids only grow,
/// so a reader that remembers the last id it saw never misses an entry nor
/// sees one twice.
///
/// One range read of `cash_entries_company_id`, `limit` entries however
/// deep the page. The bounds and the order name the company as well as the
/// id, so that only that index can give the order: by `id` alone, the
/// primary key could too, and a plan walking it would read every other
/// company's entries recorded meanwhile.
///
/// # Errors
/// The database failed.
pub async fn list_after(
    db: &mut PgConnection,
    company_id: i64,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EntryRow,
        "SELECT id, amount_minor, currency, note, entry_date, created_by, created_at
         FROM cash_entries
         WHERE (company_id, id) > ($1, $2) AND (company_id, id) <= ($1, 9223372036854775807)
         ORDER BY company_id, id LIMIT $3",
        company_id,
        after.unwrap_or(0),
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Entry::from).collect())
}

// ---- The Mini App's cash view (src/front/web/app.rs): newest first, keyset-paged.

/// Up to `limit` entries of `company_id`, the most recent day first (within
/// a day, the last recorded first), starting just after `before` (the last
/// entry of the previous page: its date and id) or at the newest.
///
/// # Errors
/// The database failed.
pub async fn newest_after(
    db: &mut PgConnection,
    company_id: i64,
    before: Option<super::invoices::Cursor>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let (day, id) = before.map_or((None, None), |c| (Some(c.date), Some(c.id)));
    let rows = sqlx::query_as!(
        EntryRow,
        "SELECT id, amount_minor, currency, note, entry_date, created_by, created_at
         FROM cash_entries
         WHERE company_id = $1 AND ($2::date IS NULL OR (entry_date, id) < ($2, $3))
         ORDER BY entry_date DESC, id DESC LIMIT $4",
        company_id,
        day,
        id,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Entry::from).collect())
}

/// One month's cash income and expenses in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthTotals {
    /// The month's first day.
    pub month: Date,
    /// The totals.
    pub totals: super::dashboard::CashTotals,
}

/// The income and expenses of `months` (each a month's first day), from
/// the totals the triggers keep (`cash_month_slots`, summed), by month then
/// currency.
///
/// # Errors
/// The database failed.
pub async fn month_totals(
    db: &mut PgConnection,
    company_id: i64,
    months: &[Date],
) -> Result<Vec<MonthTotals>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT month, currency, sum(count)::int8 AS "count!", sum(income)::int8 AS "income!",
                  sum(expenses)::int8 AS "expenses!"
           FROM cash_month_slots
           WHERE company_id = $1 AND month = ANY($2)
           GROUP BY month, currency HAVING sum(count) > 0
           ORDER BY month DESC, currency"#,
        company_id,
        months
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MonthTotals {
            month: r.month,
            totals: super::dashboard::CashTotals {
                currency: super::stored_currency(&r.currency),
                income: Amount::from_minor(r.income),
                expenses: Amount::from_minor(r.expenses),
                count: r.count,
            },
        })
        .collect())
}
