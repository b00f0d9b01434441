//! Invoices: the ERP's bulk upsert and the paged lists the API and the bot show.

use serde::Serialize;
use sqlx::PgConnection;
use time::Date;

use super::{Direction, PaidFilter, iso_date, stored_currency};
use crate::blocks::money::{Amount, Currency};

/// The most rows one push may carry.
pub const MAX_BATCH: usize = 5000;

/// One validated invoice of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvoice {
    /// The ERP's number, unique per company and direction.
    pub number: String,
    /// Issued or received.
    pub direction: Direction,
    /// Customer or supplier name.
    pub partner: String,
    /// Issue date.
    pub issue_date: Date,
    /// Due date, not before the issue date.
    pub due_date: Date,
    /// Total, at least zero.
    pub total: Amount,
    /// Paid so far, between zero and the total.
    pub paid: Amount,
    /// Currency of both amounts.
    pub currency: Currency,
}

/// Inserts new invoices and updates changed ones, in one statement. Returns
/// how many rows were inserted or actually changed: re-sending a batch counts 0.
///
/// The rows must not repeat a `(direction, number)`: Postgres refuses to
/// update a row twice in one statement (the API checks this first).
///
/// # Errors
/// The database failed.
pub async fn upsert(
    db: &mut PgConnection,
    company_id: i64,
    rows: &[NewInvoice],
) -> Result<u64, sqlx::Error> {
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    let directions: Vec<&str> = rows.iter().map(|r| r.direction.as_str()).collect();
    let partners: Vec<&str> = rows.iter().map(|r| r.partner.as_str()).collect();
    let issued: Vec<Date> = rows.iter().map(|r| r.issue_date).collect();
    let due: Vec<Date> = rows.iter().map(|r| r.due_date).collect();
    let totals: Vec<i64> = rows.iter().map(|r| r.total.minor()).collect();
    let paid: Vec<i64> = rows.iter().map(|r| r.paid.minor()).collect();
    let currencies: Vec<&str> = rows.iter().map(|r| r.currency.as_str()).collect();
    let result = sqlx::query!(
        r#"INSERT INTO invoices AS i
               (company_id, number, direction, partner, issue_date, due_date, total_minor, paid_minor, currency)
           SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::date[], $6::date[],
                                    $7::int8[], $8::int8[], $9::text[])
           ON CONFLICT (company_id, direction, number) DO UPDATE SET
               partner = EXCLUDED.partner, issue_date = EXCLUDED.issue_date,
               due_date = EXCLUDED.due_date, total_minor = EXCLUDED.total_minor,
               paid_minor = EXCLUDED.paid_minor, currency = EXCLUDED.currency, updated_at = now()
           WHERE (i.partner, i.issue_date, i.due_date, i.total_minor, i.paid_minor, i.currency)
                 IS DISTINCT FROM
                 (EXCLUDED.partner, EXCLUDED.issue_date, EXCLUDED.due_date,
                  EXCLUDED.total_minor, EXCLUDED.paid_minor, EXCLUDED.currency)"#,
        company_id,
        &numbers as &[&str],
        &directions as &[&str],
        &partners as &[&str],
        &issued,
        &due,
        &totals,
        &paid,
        &currencies as &[&str],
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// An invoice as the API and the bot show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// The ERP's number.
    pub number: String,
    /// Issued or received.
    pub direction: Direction,
    /// Customer or supplier.
    pub partner: String,
    /// Issue date.
    #[serde(serialize_with = "iso_date")]
    pub issue_date: Date,
    /// Due date.
    #[serde(serialize_with = "iso_date")]
    pub due_date: Date,
    /// Total.
    pub total: Amount,
    /// Paid so far.
    pub paid: Amount,
    /// What is left: total − paid.
    pub outstanding: Amount,
    /// Currency of the amounts.
    pub currency: Currency,
    /// Something is left to pay and the due date has passed.
    pub overdue: bool,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The rows of this page (empty past the last page).
    pub items: Vec<T>,
    /// This page's number, from 1.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
    /// Rows on all pages together.
    pub total: i64,
}

impl<T> Page<T> {
    /// How many pages there are (at least 1, so an empty list has page 1 of 1).
    pub fn page_count(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

/// What to list: the filters and the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Paid, unpaid or all.
    pub status: PaidFilter,
    /// Only one direction, or both.
    pub direction: Option<Direction>,
    /// From 1.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
}

/// A page of a company's invoices. Unpaid invoices come most urgent first
/// (earliest due date); otherwise the newest first.
///
/// # Errors
/// The database failed.
pub async fn list(
    db: &mut PgConnection,
    company_id: i64,
    query: Query,
    today: Date,
) -> Result<Page<Invoice>, sqlx::Error> {
    let status = query.status.as_str();
    let direction = query.direction.map(Direction::as_str);
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM invoices
           WHERE company_id = $1 AND ($2::text IS NULL OR direction = $2)
             AND ($3 = 'all' OR ($3 = 'unpaid') = (paid_minor < total_minor))"#,
        company_id,
        direction,
        status
    )
    .fetch_one(&mut *db)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT number, direction, partner, issue_date, due_date, total_minor, paid_minor, currency
           FROM invoices
           WHERE company_id = $1 AND ($2::text IS NULL OR direction = $2)
             AND ($3 = 'all' OR ($3 = 'unpaid') = (paid_minor < total_minor))
           ORDER BY CASE WHEN $3 = 'unpaid' THEN due_date END ASC, issue_date DESC, id DESC
           LIMIT $4 OFFSET $5"#,
        company_id,
        direction,
        status,
        query.page_size,
        (query.page - 1).saturating_mul(query.page_size)
    )
    .fetch_all(&mut *db)
    .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let (total, paid) = (
                Amount::from_minor(r.total_minor),
                Amount::from_minor(r.paid_minor),
            );
            Invoice {
                number: r.number,
                direction: Direction::parse(&r.direction).unwrap_or(Direction::Issued),
                partner: r.partner,
                issue_date: r.issue_date,
                due_date: r.due_date,
                total,
                paid,
                outstanding: total - paid,
                currency: stored_currency(&r.currency),
                overdue: paid < total && r.due_date < today,
            }
        })
        .collect();
    Ok(Page {
        items,
        page: query.page,
        page_size: query.page_size,
        total,
    })
}
