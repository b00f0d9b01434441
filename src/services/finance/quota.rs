//! What one account may hold and send: companies per account, invoices and
//! treasury accounts per company, rows per batch. The values are the
//! operator's (`MAX_*` in `docs/operations.md`), read by
//! [`crate::infra::config`]; the checks count in the caller's transaction,
//! so a push over a limit is refused whole and nothing of it stays.

use sqlx::PgConnection;

/// The limits, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Companies one account may own (`MAX_COMPANIES_PER_ACCOUNT`).
    pub companies_per_account: u32,
    /// Invoices one company may hold (`MAX_INVOICES_PER_COMPANY`).
    pub invoices_per_company: u32,
    /// Treasury accounts one company may hold (`MAX_TREASURY_ACCOUNTS_PER_COMPANY`).
    pub treasury_accounts_per_company: u32,
    /// Rows one push may carry (`MAX_ROWS_PER_BATCH`).
    pub rows_per_batch: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            companies_per_account: 50,
            invoices_per_company: 200_000,
            treasury_accounts_per_company: 200,
            rows_per_batch: 5_000,
        }
    }
}

/// A limit that a request would pass: which one, its value, and where the
/// request would have taken the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// What is counted, in words: `invoices per company`.
    pub what: &'static str,
    /// The limit.
    pub max: u32,
    /// The count the request would make.
    pub would_be: i64,
}

impl Exceeded {
    /// `Some` when `count` is past `max`.
    fn check(what: &'static str, max: u32, count: i64) -> Option<Self> {
        (count > i64::from(max)).then_some(Self {
            what,
            max,
            would_be: count,
        })
    }
}

/// Whether `user_id` may own one more company. Takes the user's row lock
/// first, so that two creations at once are counted one after the other.
///
/// # Errors
/// The database failed.
pub async fn one_more_company(
    db: &mut PgConnection,
    quotas: Quotas,
    user_id: i64,
) -> Result<Option<Exceeded>, sqlx::Error> {
    let owned = sqlx::query_scalar!(
        r#"WITH me AS (SELECT id FROM users WHERE id = $1 FOR UPDATE)
           SELECT count(m.company_id) AS "n!"
           FROM me LEFT JOIN company_members m ON m.user_id = me.id AND m.role = 'owner'"#,
        user_id
    )
    .fetch_one(db)
    .await?;
    Ok(Exceeded::check(
        "companies per account",
        quotas.companies_per_account,
        owned + 1,
    ))
}

/// Whether company `company_id` holds more invoices than allowed, counted in
/// the caller's transaction after its upsert (a push over the limit is then
/// rolled back whole).
///
/// # Errors
/// The database failed.
pub async fn invoices_within(
    db: &mut PgConnection,
    quotas: Quotas,
    company_id: i64,
) -> Result<Option<Exceeded>, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM invoices WHERE company_id = $1"#,
        company_id
    )
    .fetch_one(db)
    .await?;
    Ok(Exceeded::check(
        "invoices per company",
        quotas.invoices_per_company,
        n,
    ))
}

/// [`invoices_within`] for treasury accounts.
///
/// # Errors
/// The database failed.
pub async fn treasury_accounts_within(
    db: &mut PgConnection,
    quotas: Quotas,
    company_id: i64,
) -> Result<Option<Exceeded>, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM treasury_accounts WHERE company_id = $1"#,
        company_id
    )
    .fetch_one(db)
    .await?;
    Ok(Exceeded::check(
        "treasury accounts per company",
        quotas.treasury_accounts_per_company,
        n,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_count_past_the_limit_exceeds_it() {
        assert_eq!(Exceeded::check("x", 3, 3), None, "at the limit is allowed");
        assert_eq!(
            Exceeded::check("x", 3, 4),
            Some(Exceeded {
                what: "x",
                max: 3,
                would_be: 4
            })
        );
    }
}
