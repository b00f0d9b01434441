//! Treasury accounts (bank and cash) with the balance the ERP last reported.

use serde::Serialize;
use sqlx::PgConnection;
use time::Date;

use super::{iso_date_opt, stored_currency};
use crate::blocks::money::{Amount, Currency};
use crate::blocks::validate::Iban;

/// A bank account or a cash register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A bank account (usually with an IBAN).
    Bank,
    /// Cash.
    Cash,
}

impl Kind {
    /// `bank` or `cash`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bank => "bank",
            Self::Cash => "cash",
        }
    }

    /// From the stored or API form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bank" => Some(Self::Bank),
            "cash" => Some(Self::Cash),
            _ => None,
        }
    }
}

/// One validated account of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    /// Unique per company.
    pub name: String,
    /// Bank or cash.
    pub kind: Kind,
    /// Checked when given.
    pub iban: Option<Iban>,
    /// The account's currency.
    pub currency: Currency,
    /// The balance (may be negative: an overdraft).
    pub balance: Amount,
    /// The date the balance is for.
    pub as_of: Option<Date>,
}

/// Inserts new accounts and updates changed ones, in one statement; returns
/// how many rows were inserted or actually changed.
///
/// # Errors
/// The database failed.
pub async fn upsert(
    db: &mut PgConnection,
    company_id: i64,
    rows: &[NewAccount],
) -> Result<u64, sqlx::Error> {
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let ibans: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.iban.as_ref().map(Iban::as_str))
        .collect();
    let currencies: Vec<&str> = rows.iter().map(|r| r.currency.as_str()).collect();
    let balances: Vec<i64> = rows.iter().map(|r| r.balance.minor()).collect();
    let as_of: Vec<Option<Date>> = rows.iter().map(|r| r.as_of).collect();
    let result = sqlx::query!(
        r#"INSERT INTO treasury_accounts AS t
               (company_id, name, kind, iban, currency, balance_minor, as_of)
           SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::date[])
           ON CONFLICT (company_id, name) DO UPDATE SET
               kind = EXCLUDED.kind, iban = EXCLUDED.iban, currency = EXCLUDED.currency,
               balance_minor = EXCLUDED.balance_minor, as_of = EXCLUDED.as_of, updated_at = now()
           WHERE (t.kind, t.iban, t.currency, t.balance_minor, t.as_of)
                 IS DISTINCT FROM
                 (EXCLUDED.kind, EXCLUDED.iban, EXCLUDED.currency, EXCLUDED.balance_minor, EXCLUDED.as_of)"#,
        company_id,
        &names as &[&str],
        &kinds as &[&str],
        &ibans as &[Option<&str>],
        &currencies as &[&str],
        &balances,
        &as_of as &[Option<Date>],
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// An account as the API and the bot show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Name.
    pub name: String,
    /// Bank or cash.
    pub kind: Kind,
    /// Electronic form, when known.
    pub iban: Option<String>,
    /// Currency.
    pub currency: Currency,
    /// Balance as of `as_of`.
    pub balance: Amount,
    /// The date of the balance.
    #[serde(serialize_with = "iso_date_opt")]
    pub as_of: Option<Date>,
}

/// A company's accounts: banks first, then cash, each by name.
///
/// # Errors
/// The database failed.
pub async fn list(db: &mut PgConnection, company_id: i64) -> Result<Vec<Account>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT name, kind, iban, currency, balance_minor, as_of FROM treasury_accounts
           WHERE company_id = $1 ORDER BY kind, lower(name)"#,
        company_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Account {
            name: r.name,
            kind: Kind::parse(&r.kind).unwrap_or(Kind::Bank),
            iban: r.iban,
            currency: stored_currency(&r.currency),
            balance: Amount::from_minor(r.balance_minor),
            as_of: r.as_of,
        })
        .collect())
}
