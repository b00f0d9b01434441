//! The figures behind the charts (`/chart` in the bot, the Mini App's
//! pictures): the last six months of invoiced and collected, payables and
//! paid, cash income and expenses, and the receivables' ageing. Figures
//! only: what they look like is the front ends' business.
//!
//! A chart shows one currency (lei are never drawn on the same bars as
//! euros): the company's own when it has figures in it, else the one with
//! the most; the others are named so that people know what is left out.

use serde::Serialize;
use sqlx::PgConnection;
use time::{Date, Month as CalendarMonth};

use super::{Company, iso_date, stored_currency};
use crate::blocks::money::{Amount, Currency};

/// Months the charts cover, the current one included.
pub const MONTHS: usize = 6;

/// One calendar month's figures in the charts' currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Month {
    /// The month's first day.
    #[serde(serialize_with = "iso_date")]
    pub start: Date,
    /// Totals of the invoices issued in the month.
    pub invoiced: Amount,
    /// What those invoices have had paid so far (the payments' own dates
    /// are not recorded: an invoice's collections count in its month).
    pub collected: Amount,
    /// Totals of the invoices received in the month.
    pub payables: Amount,
    /// What was paid of those.
    pub paid: Amount,
    /// Cash income recorded in the month (`/add +…`).
    pub income: Amount,
    /// Cash expenses recorded in the month, as a positive amount.
    pub expenses: Amount,
}

/// What issued invoices still have to collect, by how late they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ageing {
    /// Not yet due (due today or later).
    pub not_due: Amount,
    /// 0–30 days past the due date (at least a day: due yesterday is 1).
    pub days_0_30: Amount,
    /// 31–60 days past.
    pub days_31_60: Amount,
    /// 61–90 days past.
    pub days_61_90: Amount,
    /// More than 90 days past.
    pub over_90: Amount,
}

impl Ageing {
    /// Everything still to collect.
    pub fn outstanding(&self) -> Amount {
        self.not_due + self.overdue()
    }

    /// The part past its due date.
    pub fn overdue(&self) -> Amount {
        self.days_0_30 + self.days_31_60 + self.days_61_90 + self.over_90
    }
}

/// Everything the charts draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChartData {
    /// The currency of every figure here.
    pub currency: Currency,
    /// The day the figures are for (Romanian calendar).
    #[serde(serialize_with = "iso_date")]
    pub as_of: Date,
    /// [`MONTHS`] months, oldest first, the current one last.
    pub months: Vec<Month>,
    /// Receivables by lateness, on `as_of`.
    pub ageing: Ageing,
    /// Currencies with figures in the same period that the charts leave out.
    pub other_currencies: Vec<Currency>,
}

/// The first day of the month [`MONTHS`] − 1 months before `today`'s.
pub fn first_month(today: Date) -> Date {
    let (mut year, mut month) = (today.year(), today.month());
    for _ in 1..MONTHS {
        if month == CalendarMonth::January {
            year -= 1;
        }
        month = month.previous();
    }
    Date::from_calendar_date(year, month, 1).expect("every month has a first day")
}

/// Computes the charts' figures of `company` on `today`: three statements
/// (which currency, the months, the ageing), each bounded by the company's
/// index and the six months' dates.
///
/// # Errors
/// The database failed.
pub async fn compute(
    db: &mut PgConnection,
    company: &Company,
    today: Date,
) -> Result<ChartData, sqlx::Error> {
    let start = first_month(today);
    // Currencies with figures in the period (or still to collect), the most rows first.
    let currencies = sqlx::query_scalar!(
        r#"SELECT currency AS "currency!" FROM (
               SELECT currency FROM invoices
               WHERE company_id = $1
                 AND ((issue_date >= $2 AND issue_date <= $3)
                      OR (direction = 'issued' AND paid_minor < total_minor))
               UNION ALL
               SELECT currency FROM cash_entries
               WHERE company_id = $1 AND entry_date >= $2 AND entry_date <= $3
           ) AS figures
           GROUP BY currency
           ORDER BY count(*) DESC, currency"#,
        company.id,
        start,
        today
    )
    .fetch_all(&mut *db)
    .await?;
    let mut others: Vec<Currency> = currencies.iter().map(|c| stored_currency(c)).collect();
    let currency = if others.is_empty() || others.contains(&company.currency) {
        company.currency
    } else {
        others[0]
    };
    others.retain(|c| *c != currency);

    let rows = sqlx::query!(
        r#"SELECT m.month AS "month!",
                  coalesce(i.invoiced, 0)::int8 AS "invoiced!",
                  coalesce(i.collected, 0)::int8 AS "collected!",
                  coalesce(i.payables, 0)::int8 AS "payables!",
                  coalesce(i.paid, 0)::int8 AS "paid!",
                  coalesce(c.income, 0)::int8 AS "income!",
                  coalesce(c.expenses, 0)::int8 AS "expenses!"
           FROM (SELECT generate_series($2::date, $3::date, interval '1 month')::date AS month) AS m
           LEFT JOIN (
               SELECT date_trunc('month', issue_date)::date AS month,
                      sum(total_minor) FILTER (WHERE direction = 'issued') AS invoiced,
                      sum(paid_minor) FILTER (WHERE direction = 'issued') AS collected,
                      sum(total_minor) FILTER (WHERE direction = 'received') AS payables,
                      sum(paid_minor) FILTER (WHERE direction = 'received') AS paid
               FROM invoices
               WHERE company_id = $1 AND currency = $4 AND issue_date >= $2 AND issue_date <= $3
               GROUP BY 1
           ) AS i USING (month)
           LEFT JOIN (
               SELECT date_trunc('month', entry_date)::date AS month,
                      sum(amount_minor) FILTER (WHERE amount_minor > 0) AS income,
                      -sum(amount_minor) FILTER (WHERE amount_minor < 0) AS expenses
               FROM cash_entries
               WHERE company_id = $1 AND currency = $4 AND entry_date >= $2 AND entry_date <= $3
               GROUP BY 1
           ) AS c USING (month)
           ORDER BY m.month"#,
        company.id,
        start,
        today,
        currency.as_str()
    )
    .fetch_all(&mut *db)
    .await?;
    let months = rows
        .into_iter()
        .map(|r| Month {
            start: r.month,
            invoiced: Amount::from_minor(r.invoiced),
            collected: Amount::from_minor(r.collected),
            payables: Amount::from_minor(r.payables),
            paid: Amount::from_minor(r.paid),
            income: Amount::from_minor(r.income),
            expenses: Amount::from_minor(r.expenses),
        })
        .collect();

    // An invoice's remainder counts when positive, as the dashboard's
    // "outstanding" does: an overpayment is credit, not a negative debt.
    let a = sqlx::query!(
        r#"SELECT
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE due_date >= $2), 0)::int8 AS "not_due!",
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE $2 - due_date BETWEEN 1 AND 30), 0)::int8 AS "d30!",
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE $2 - due_date BETWEEN 31 AND 60), 0)::int8 AS "d60!",
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE $2 - due_date BETWEEN 61 AND 90), 0)::int8 AS "d90!",
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE $2 - due_date > 90), 0)::int8 AS "over!"
           FROM invoices
           WHERE company_id = $1 AND direction = 'issued' AND currency = $3
             AND paid_minor < total_minor"#,
        company.id,
        today,
        currency.as_str()
    )
    .fetch_one(&mut *db)
    .await?;
    let ageing = Ageing {
        not_due: Amount::from_minor(a.not_due),
        days_0_30: Amount::from_minor(a.d30),
        days_31_60: Amount::from_minor(a.d60),
        days_61_90: Amount::from_minor(a.d90),
        over_90: Amount::from_minor(a.over),
    };

    Ok(ChartData {
        currency,
        as_of: today,
        months,
        ageing,
        other_currencies: others,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn six_months_reach_back_across_a_new_year() {
        let cases = [
            (date!(2026 - 12 - 03), date!(2026 - 07 - 01)),
            (date!(2026 - 03 - 31), date!(2025 - 10 - 01)),
            (date!(2026 - 06 - 01), date!(2026 - 01 - 01)),
            (date!(2026 - 05 - 15), date!(2025 - 12 - 01)),
        ];
        for (today, want) in cases {
            assert_eq!(first_month(today), want, "from {today}");
        }
    }
}
