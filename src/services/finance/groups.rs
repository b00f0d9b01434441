//! Group chats bound to a company on purpose (`/group`): where the finance
//! commands may answer in a group, and about which company.

use sqlx::PgConnection;

/// The company group chat `chat_id` is bound to, if any.
///
/// # Errors
/// The database failed.
pub async fn bound_company(
    db: &mut PgConnection,
    chat_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT company_id FROM group_chats WHERE chat_id = $1",
        chat_id
    )
    .fetch_optional(db)
    .await
}

/// Binds group chat `chat_id` to `company_id` (replacing an earlier binding),
/// by `user_id`.
///
/// # Errors
/// The database failed.
pub async fn bind(
    db: &mut PgConnection,
    chat_id: i64,
    company_id: i64,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO group_chats (chat_id, company_id, bound_by) VALUES ($1, $2, $3)
         ON CONFLICT (chat_id) DO UPDATE
             SET company_id = EXCLUDED.company_id, bound_by = EXCLUDED.bound_by, bound_at = now()",
        chat_id,
        company_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Unbinds group chat `chat_id`; whether it was bound.
///
/// # Errors
/// The database failed.
pub async fn unbind(db: &mut PgConnection, chat_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM group_chats WHERE chat_id = $1", chat_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
