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
use crate::blocks::money::{Amount, Currency};

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
    /// Sum left to pay: total − paid of each invoice that has something left.
    pub outstanding: Amount,
    /// Sum owed back to partners: paid − total of each overpaid invoice, and
    /// the unsettled part of storno invoices and credit notes (negative totals).
    pub credit: Amount,
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
/// One statement, one round trip: a row per section and currency. The three
/// sections share the columns: `total` is the treasury balance, the invoices'
/// total, or the cash income; `paid` is what invoices had paid, or the cash
/// expenses; columns a section has no use for are 0. An invoice's remainder
/// (total − paid) counts as outstanding when positive and as credit when
/// negative, so that one customer's overpayment does not hide another's debt.
///
/// # Errors
/// The database failed.
pub async fn compute(
    db: &mut PgConnection,
    company: &Company,
    today: Date,
) -> Result<Dashboard, sqlx::Error> {
    let month_start = today.replace_day(1).expect("every month has a first day");
    let rows = sqlx::query!(
        r#"SELECT section AS "section!", currency AS "currency!", count AS "count!",
                  total AS "total!", paid AS "paid!", outstanding AS "outstanding!",
                  overdue AS "overdue!", overdue_count AS "overdue_count!"
           FROM (
               SELECT 'treasury' AS section, currency, count(*) AS count,
                      sum(balance_minor)::int8 AS total, 0::int8 AS paid, 0::int8 AS outstanding,
                      0::int8 AS overdue, 0::int8 AS overdue_count
               FROM treasury_accounts WHERE company_id = $1
               GROUP BY currency
               UNION ALL
               SELECT direction, currency, count(*),
                      sum(total_minor)::int8, sum(paid_minor)::int8,
                      coalesce(sum(total_minor - paid_minor) FILTER (WHERE paid_minor < total_minor), 0)::int8,
                      coalesce(sum(total_minor - paid_minor)
                               FILTER (WHERE paid_minor < total_minor AND due_date < $2), 0)::int8,
                      count(*) FILTER (WHERE paid_minor < total_minor AND due_date < $2)
               FROM invoices WHERE company_id = $1
               GROUP BY direction, currency
               UNION ALL
               SELECT 'cash', currency, count(*),
                      coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0)::int8,
                      coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0)::int8,
                      0, 0, 0
               FROM cash_entries
               WHERE company_id = $1 AND entry_date >= $3
                 AND entry_date < ($3 + interval '1 month')::date
               GROUP BY currency
           ) AS figures
           ORDER BY section, currency <> $4, currency"#,
        company.id,
        today,
        month_start,
        company.currency.as_str()
    )
    .fetch_all(&mut *db)
    .await?;

    let mut dashboard = Dashboard {
        company_id: company.id,
        company_name: company.name.clone(),
        as_of: today,
        treasury: Vec::new(),
        receivables: Vec::new(),
        payables: Vec::new(),
        cash_this_month: Vec::new(),
    };
    for r in rows {
        let currency = stored_currency(&r.currency);
        let (total, paid) = (Amount::from_minor(r.total), Amount::from_minor(r.paid));
        let outstanding = Amount::from_minor(r.outstanding);
        let invoices = || InvoiceTotals {
            currency,
            count: r.count,
            total,
            paid,
            outstanding,
            // total − paid = outstanding − credit
            credit: outstanding - (total - paid),
            overdue: Amount::from_minor(r.overdue),
            overdue_count: r.overdue_count,
        };
        match r.section.as_str() {
            "treasury" => dashboard.treasury.push(Money {
                currency,
                amount: total,
            }),
            "cash" => dashboard.cash_this_month.push(CashTotals {
                currency,
                income: total,
                expenses: paid,
                count: r.count,
            }),
            section => match Direction::parse(section) {
                Some(Direction::Received) => dashboard.payables.push(invoices()),
                _ => dashboard.receivables.push(invoices()),
            },
        }
    }
    Ok(dashboard)
}
