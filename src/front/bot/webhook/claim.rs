//! The first statement of every update, one round trip: `claim_update` for
//! an update that may write (the chat's lock held to its commit, the claim of
//! the id, today's date and the sender's account), `read_update` for one that
//! only reads (the chat's lock in shared mode, today's date, the sender's
//! account, in a group the group's binding, and for `/dashboard` the figures
//! of the company the chat shows; nothing written). Both are in
//! `schema.sql`.

use sqlx::PgConnection;
use time::Date;

use crate::blocks::Lang;
use crate::front::bot::{Account, GroupBinding};
use crate::services::finance::Company;
use crate::services::finance::dashboard::{self, Dashboard, Figure};

/// What claiming an update found.
pub struct Claim {
    /// The id was ours to claim; `false` for a retry or a duplicate.
    pub fresh: bool,
    /// For an id claimed before: the answer stored with it, if any.
    pub stored_response: Option<String>,
    /// Today in Romania, as of the claim.
    pub today: Date,
    /// The sender's account, if linked.
    pub account: Option<Account>,
}

/// What the read of an update that only reads found.
pub struct Read {
    /// Today in Romania.
    pub today: Date,
    /// The sender's account, if linked.
    pub account: Option<Account>,
    /// The figures of the company the chat shows, when asked for: the
    /// active company in the private chat, the bound one in a group (when
    /// the sender is a member of it).
    pub dashboard: Option<Dashboard>,
    /// In a group chat, its binding; `None` in the private chat.
    pub group: Option<GroupBinding>,
}

/// The account columns both functions return, from a row of either.
macro_rules! account_columns {
    ($row:expr) => {
        AccountColumns {
            user_id: $row.user_id,
            language: $row.language,
            active_company_id: $row.active_company_id,
            company_id: $row.company_id,
            company_name: $row.company_name,
            company_cui: $row.company_cui,
            company_currency: $row.company_currency,
            role: $row.role,
        }
    };
}

/// The account columns, as read.
struct AccountColumns {
    user_id: Option<i64>,
    language: Option<String>,
    active_company_id: Option<i64>,
    company_id: Option<i64>,
    company_name: Option<String>,
    company_cui: Option<String>,
    company_currency: Option<String>,
    role: Option<String>,
}

impl AccountColumns {
    fn account(self) -> Option<Account> {
        let user_id = self.user_id?;
        let active_company = match (
            self.company_id,
            self.company_name,
            self.company_currency,
            self.role,
        ) {
            (Some(id), Some(name), Some(currency), Some(role)) => Some(Company::from_stored(
                id,
                name,
                self.company_cui,
                &currency,
                &role,
            )),
            _ => None,
        };
        Some(Account {
            user_id,
            language: self.language.as_deref().and_then(Lang::parse),
            active_company_id: self.active_company_id,
            active_company,
        })
    }
}

impl Claim {
    /// Takes the chat's lock to the end of `db`'s transaction, claims
    /// `update_id` and reads the sender's account.
    ///
    /// # Errors
    /// The database failed.
    pub async fn take(
        db: &mut PgConnection,
        update_id: i64,
        chat_id: i64,
        telegram_user_id: i64,
    ) -> Result<Self, sqlx::Error> {
        let row = sqlx::query!(
            r#"SELECT claimed AS "claimed!", today AS "today!", response, user_id,
                      language, active_company_id, company_id, company_name, company_cui,
                      company_currency, role
               FROM claim_update($1, $2, $3, false)"#,
            update_id,
            chat_id,
            telegram_user_id,
        )
        .fetch_one(db)
        .await?;
        let account = account_columns!(row).account();
        Ok(Self {
            fresh: row.claimed,
            stored_response: row.response,
            today: row.today,
            account,
        })
    }
}

impl Read {
    /// Waits for the chat's write in flight, if any (not for its other
    /// reads), then reads the sender's account, in a group the group's
    /// binding, and with `dashboard` the figures of the company the chat
    /// shows. `db` must be in autocommit: the shared lock is the statement's
    /// own, and released when it ends.
    ///
    /// # Errors
    /// The database failed.
    pub async fn take(
        db: &mut PgConnection,
        chat_id: i64,
        telegram_user_id: i64,
        dashboard: bool,
    ) -> Result<Self, sqlx::Error> {
        let rows = sqlx::query!(
            r#"SELECT today AS "today!", user_id, language, active_company_id, company_id,
                      company_name, company_cui, company_currency, role, section, currency,
                      count, total, paid, outstanding, overdue, overdue_count,
                      group_company_id, group_company_name, group_company_cui,
                      group_company_currency, group_role
               FROM read_update($1, $2, $3)"#,
            chat_id,
            telegram_user_id,
            dashboard
        )
        .fetch_all(db)
        .await?;
        let mut rows = rows.into_iter();
        let first = rows
            .next()
            .ok_or_else(|| sqlx::Error::Protocol("read_update returned no row".into()))?;
        let today = first.today;
        let group = (chat_id != telegram_user_id).then(|| match first.group_company_id {
            None => GroupBinding::Unbound,
            Some(company_id) => GroupBinding::Bound {
                company_id,
                member: match (
                    first.group_company_name.clone(),
                    first.group_company_currency.as_deref(),
                    first.group_role.as_deref(),
                ) {
                    (Some(name), Some(currency), Some(role)) => Some(Company::from_stored(
                        company_id,
                        name,
                        first.group_company_cui.clone(),
                        currency,
                        role,
                    )),
                    _ => None,
                },
            },
        });
        let account = account_columns!(first).account();
        // The company whose figures `read_update` read, as it chose it.
        let shown = match &group {
            Some(GroupBinding::Bound { member, .. }) => member.as_ref(),
            Some(GroupBinding::Unbound) => None,
            None => account.as_ref().and_then(|a| a.active_company.as_ref()),
        };
        let dashboard = match shown {
            Some(company) if dashboard => {
                let figures = rows.map(|r| Figure {
                    section: r.section.unwrap_or_default(),
                    currency: r.currency.unwrap_or_default(),
                    count: r.count.unwrap_or_default(),
                    total: r.total.unwrap_or_default(),
                    paid: r.paid.unwrap_or_default(),
                    outstanding: r.outstanding.unwrap_or_default(),
                    overdue: r.overdue.unwrap_or_default(),
                    overdue_count: r.overdue_count.unwrap_or_default(),
                });
                Some(dashboard::assemble(company, today, figures))
            }
            _ => None,
        };
        Ok(Self {
            today,
            account,
            dashboard,
            group,
        })
    }
}
