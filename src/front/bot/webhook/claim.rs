//! Claiming an update: the one statement every update starts with
//! (`claim_update` in `schema.sql`: the chat's lock, the claim of the id,
//! today's date and the sender's account, in one round trip).

use sqlx::PgConnection;
use time::Date;

use crate::blocks::Lang;
use crate::front::bot::Account;
use crate::services::finance::Company;

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

impl Claim {
    /// Takes the chat's lock (to the end of `db`'s transaction, if any),
    /// claims `update_id` and reads the sender's account.
    ///
    /// `reads_only`: `db` is in autocommit and the update only reads, so the
    /// claim may commit without waiting for the disk (see `claim_update`).
    /// Never inside a transaction that writes: the transaction would inherit it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn take(
        db: &mut PgConnection,
        update_id: i64,
        chat_id: i64,
        telegram_user_id: i64,
        reads_only: bool,
    ) -> Result<Self, sqlx::Error> {
        let row = sqlx::query!(
            r#"SELECT claimed AS "claimed!", today AS "today!", response, user_id,
                      language, active_company_id, company_id, company_name, company_cui,
                      company_currency, role
               FROM claim_update($1, $2, $3, $4)"#,
            update_id,
            chat_id,
            telegram_user_id,
            reads_only
        )
        .fetch_one(db)
        .await?;
        let account = row.user_id.map(|user_id| {
            let active_company =
                match (
                    row.company_id,
                    row.company_name,
                    row.company_currency,
                    row.role,
                ) {
                    (Some(id), Some(name), Some(currency), Some(role)) => Some(
                        Company::from_stored(id, name, row.company_cui, &currency, &role),
                    ),
                    _ => None,
                };
            Account {
                user_id,
                language: row.language.as_deref().and_then(Lang::parse),
                active_company_id: row.active_company_id,
                active_company,
            }
        });
        Ok(Self {
            fresh: row.claimed,
            stored_response: row.response,
            today: row.today,
            account,
        })
    }
}
