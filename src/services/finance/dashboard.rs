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

/// One row of `dashboard_figures` (schema.sql): a section (`treasury`,
/// `issued`, `received`, `cash`) in one currency. The sections share the
/// columns; [`assemble`] gives them their meaning.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Which section.
    pub section: String,
    /// In which currency (as stored).
    pub currency: String,
    /// Accounts, invoices or cash entries counted.
    pub count: i64,
    /// The treasury balance, the invoices' total, or the cash income.
    pub total: i64,
    /// What invoices had paid, or the cash expenses.
    pub paid: i64,
    /// Invoices: the positive remainders.
    pub outstanding: i64,
    /// Invoices: the positive remainders past their due date.
    pub overdue: i64,
    /// Invoices: how many are overdue.
    pub overdue_count: i64,
}

/// Computes the dashboard of `company` on `today`: one statement, one round
/// trip (`dashboard_figures` in schema.sql, which the bot's `/dashboard`
/// also reads in the same statement as the sender's account). It reads
/// per-company totals that triggers keep as the rows change, so its cost
/// does not grow with the number of invoices.
///
/// # Errors
/// The database failed.
pub async fn compute(
    db: &mut PgConnection,
    company: &Company,
    today: Date,
) -> Result<Dashboard, sqlx::Error> {
    // Today's month passed apart, a value the plan reads once rather than
    // an expression of today (schema.sql says why). The casts pick this
    // signature over the previous build's `(bigint, date, text)`, which an
    // untyped parameter would resolve to.
    let rows = sqlx::query_as!(
        Figure,
        r#"SELECT section AS "section!", currency AS "currency!", count AS "count!",
                  total AS "total!", paid AS "paid!", outstanding AS "outstanding!",
                  overdue AS "overdue!", overdue_count AS "overdue_count!"
           FROM dashboard_figures($1, $2::date, $3::date)"#,
        company.id,
        today,
        today.replace_day(1).expect("every month has a first day")
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(assemble(company, today, rows))
}

/// The dashboard of `company` on `today` from its figures, in any order:
/// each section lists the company's own currency first, then the others
/// alphabetically. (`dashboard_figures` leaves the order to this function: a
/// sort of a few rows costs the database more than the rows' reading.)
pub fn assemble(
    company: &Company,
    today: Date,
    figures: impl IntoIterator<Item = Figure>,
) -> Dashboard {
    let mut figures: Vec<Figure> = figures.into_iter().collect();
    let own = company.currency.as_str();
    // Stable, and the sections go to vectors of their own: one order by
    // currency orders each section.
    figures.sort_by(|a, b| (a.currency != own, &a.currency).cmp(&(b.currency != own, &b.currency)));
    let mut dashboard = Dashboard {
        company_id: company.id,
        company_name: company.name.clone(),
        as_of: today,
        treasury: Vec::new(),
        receivables: Vec::new(),
        payables: Vec::new(),
        cash_this_month: Vec::new(),
    };
    for r in figures {
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
            // The month's slots in one currency (`cash_month_slots`),
            // adjacent once sorted: summed into one line.
            "cash" => match dashboard.cash_this_month.last_mut() {
                Some(line) if line.currency == currency => {
                    line.income = line.income + total;
                    line.expenses = line.expenses + paid;
                    line.count += r.count;
                }
                _ => dashboard.cash_this_month.push(CashTotals {
                    currency,
                    income: total,
                    expenses: paid,
                    count: r.count,
                }),
            },
            section => match Direction::parse(section) {
                Some(Direction::Received) => dashboard.payables.push(invoices()),
                _ => dashboard.receivables.push(invoices()),
            },
        }
    }
    // A month whose entries were all deleted is not shown.
    dashboard.cash_this_month.retain(|line| line.count > 0);
    dashboard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(section: &str, currency: &str, total: i64) -> Figure {
        Figure {
            section: section.into(),
            currency: currency.into(),
            count: 1,
            total,
            paid: 0,
            outstanding: 0,
            overdue: 0,
            overdue_count: 0,
        }
    }

    #[test]
    fn each_section_lists_the_own_currency_first_then_alphabetically() {
        let company = Company::from_stored(7, "Firma SRL".into(), None, "RON", "owner");
        // As `dashboard_figures` may give them: in no particular order.
        let figures = [
            figure("treasury", "USD", 1),
            figure("issued", "EUR", 2),
            figure("treasury", "EUR", 3),
            figure("cash", "EUR", 4),
            figure("issued", "RON", 5),
            figure("treasury", "RON", 6),
            figure("cash", "RON", 7),
        ];
        let today = Date::from_calendar_date(2026, time::Month::December, 3).expect("date");
        let d = assemble(&company, today, figures);
        let codes = |c: Vec<Currency>| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            codes(d.treasury.iter().map(|m| m.currency).collect()),
            ["RON", "EUR", "USD"]
        );
        assert_eq!(
            codes(d.receivables.iter().map(|i| i.currency).collect()),
            ["RON", "EUR"]
        );
        assert_eq!(
            codes(d.cash_this_month.iter().map(|c| c.currency).collect()),
            ["RON", "EUR"]
        );
        assert!(d.payables.is_empty());
    }

    #[test]
    fn a_months_cash_slots_add_up_to_one_line_shown_while_it_has_entries() {
        let company = Company::from_stored(7, "Firma SRL".into(), None, "RON", "owner");
        let slot = |currency: &str, count, income, expenses| Figure {
            count,
            paid: expenses,
            ..figure("cash", currency, income)
        };
        // As `dashboard_figures` gives them: a row per slot, in any order.
        // EUR: an entry counted in one slot and deleted while another
        // writer held it, so counted off in a second: nothing left.
        let figures = [
            slot("RON", 2, 10000, 0),
            slot("EUR", 1, 0, 500),
            figure("treasury", "RON", 1),
            slot("RON", 1, 0, 1250),
            slot("EUR", -1, 0, -500),
            slot("RON", 0, 0, 0),
        ];
        let today = Date::from_calendar_date(2026, time::Month::December, 3).expect("date");
        let d = assemble(&company, today, figures);
        assert_eq!(
            d.cash_this_month,
            [CashTotals {
                currency: Currency::RON,
                income: Amount::from_minor(10000),
                expenses: Amount::from_minor(1250),
                count: 3,
            }]
        );
    }
}
