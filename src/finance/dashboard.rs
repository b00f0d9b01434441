//! The dashboard: the one computation behind both `GET .../dashboard` and the
//! bot's `/dashboard`, so the two can never disagree.
//!
//! Every figure is per currency (lei are never added to euros), the company's
//! own currency first. Treasury balances are the ones the ERP last pushed;
//! cash entries recorded with `/add` are shown on their own, for the month.

use serde::Serialize;
use sqlx::PgConnection;
use time::Date;

use super::{Company, Direction, Money, iso_date, stored_currency};
use crate::money::{Amount, Currency};

/// Invoice figures of one direction in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceTotals {
    /// The currency of these figures.
    pub currency: Currency,
    /// Number of invoices.
    pub count: i64,
    /// Sum of totals.
    pub total: Amount,
    /// Sum paid (collected, for issued invoices).
    pub paid: Amount,
    /// Sum left to pay: total − paid.
    pub outstanding: Amount,
    /// The part of `outstanding` whose due date has passed.
    pub overdue: Amount,
    /// How many invoices are overdue.
    pub overdue_count: i64,
}

/// Cash entries of the month in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CashTotals {
    /// The currency.
    pub currency: Currency,
    /// Sum of income (positive entries).
    pub income: Amount,
    /// Sum of expenses, as a positive amount.
    pub expenses: Amount,
    /// Number of entries.
    pub count: i64,
}

/// Everything `/dashboard` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// The company's id.
    pub company_id: i64,
    /// The company's name.
    pub company_name: String,
    /// The day the figures are for (Romanian calendar): it decides "overdue".
    #[serde(serialize_with = "iso_date")]
    pub as_of: Date,
    /// Treasury balance per currency.
    pub treasury: Vec<Money>,
    /// Issued invoices: money to collect.
    pub receivables: Vec<InvoiceTotals>,
    /// Received invoices: money to pay.
    pub payables: Vec<InvoiceTotals>,
    /// This month's cash entries.
    pub cash_this_month: Vec<CashTotals>,
}

/// Computes the dashboard of `company` on `today`.
///
/// # Errors
/// The database failed.
pub async fn compute(
    db: &mut PgConnection,
    company: &Company,
    today: Date,
) -> Result<Dashboard, sqlx::Error> {
    let own = company.currency.as_str();
    let treasury = sqlx::query!(
        r#"SELECT currency, sum(balance_minor)::int8 AS "balance!" FROM treasury_accounts
           WHERE company_id = $1 GROUP BY currency ORDER BY currency <> $2, currency"#,
        company.id,
        own
    )
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .map(|r| Money {
        currency: stored_currency(&r.currency),
        amount: Amount::from_minor(r.balance),
    })
    .collect();

    let invoice_rows = sqlx::query!(
        r#"SELECT direction, currency, count(*) AS "count!",
                  sum(total_minor)::int8 AS "total!", sum(paid_minor)::int8 AS "paid!",
                  coalesce(sum(total_minor - paid_minor) FILTER (WHERE due_date < $2), 0)::int8 AS "overdue!",
                  count(*) FILTER (WHERE paid_minor < total_minor AND due_date < $2) AS "overdue_count!"
           FROM invoices WHERE company_id = $1
           GROUP BY direction, currency ORDER BY direction, currency <> $3, currency"#,
        company.id,
        today,
        own
    )
    .fetch_all(&mut *db)
    .await?;
    let (mut receivables, mut payables) = (Vec::new(), Vec::new());
    for r in invoice_rows {
        let (total, paid) = (Amount::from_minor(r.total), Amount::from_minor(r.paid));
        let totals = InvoiceTotals {
            currency: stored_currency(&r.currency),
            count: r.count,
            total,
            paid,
            outstanding: total - paid,
            overdue: Amount::from_minor(r.overdue),
            overdue_count: r.overdue_count,
        };
        match Direction::parse(&r.direction) {
            Some(Direction::Received) => payables.push(totals),
            _ => receivables.push(totals),
        }
    }

    let month_start = today.replace_day(1).expect("every month has a first day");
    let cash_this_month = sqlx::query!(
        r#"SELECT currency,
                  coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0)::int8 AS "income!",
                  coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0)::int8 AS "expenses!",
                  count(*) AS "count!"
           FROM cash_entries
           WHERE company_id = $1 AND entry_date >= $2 AND entry_date < ($2 + interval '1 month')::date
           GROUP BY currency ORDER BY currency <> $3, currency"#,
        company.id,
        month_start,
        own
    )
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .map(|r| CashTotals {
        currency: stored_currency(&r.currency),
        income: Amount::from_minor(r.income),
        expenses: Amount::from_minor(r.expenses),
        count: r.count,
    })
    .collect();

    Ok(Dashboard {
        company_id: company.id,
        company_name: company.name.clone(),
        as_of: today,
        treasury,
        receivables,
        payables,
        cash_this_month,
    })
}
