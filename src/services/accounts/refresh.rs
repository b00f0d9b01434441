//! Refresh tokens: opaque random strings, stored as SHA-256, valid 30 days,
//! rotated on every use. Each login starts a family; presenting a token of the
//! family that was already used means a copy is in someone else's hands, so
//! the whole family is revoked (theft detection).

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::blocks::secret_token::{random_token, token_hash};

/// How long a refresh token is valid.
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Issues a refresh token for `user_id` in `family`, or in a new family.
/// Returns the token; only its hash is stored.
///
/// # Errors
/// The database failed (or the user does not exist: foreign key).
pub async fn issue(
    db: &mut PgConnection,
    user_id: i64,
    family: Option<Uuid>,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    let hash = token_hash(&token);
    sqlx::query!(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        &hash[..],
        user_id,
        family.unwrap_or_else(Uuid::new_v4),
        REFRESH_TOKEN_TTL.as_secs_f64(),
    )
    .execute(&mut *db)
    .await?;
    // Housekeeping while we are here: this user's long-dead tokens.
    sqlx::query!(
        "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < now() - interval '1 day'",
        user_id
    )
    .execute(&mut *db)
    .await?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Valid: it is now used, and `token` (same family) replaces it.
    Rotated {
        /// Whose token it was.
        user_id: i64,
        /// The new refresh token.
        token: String,
    },
    /// It was already used: its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Uses a refresh token: marks it used and issues its successor, or, when it
/// was used before, revokes its family. Run it in a transaction: the row lock
/// makes concurrent uses of one token see each other.
///
/// # Errors
/// The database failed.
pub async fn rotate(db: &mut PgConnection, token: &str) -> Result<Rotation, sqlx::Error> {
    let hash = token_hash(token);
    let Some(row) = sqlx::query!(
        r#"SELECT user_id, family_id, used_at IS NOT NULL AS "used!",
                  revoked_at IS NOT NULL AS "revoked!", expires_at <= now() AS "expired!"
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"#,
        &hash[..]
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(Rotation::Invalid);
    };
    if row.revoked || row.expired {
        return Ok(Rotation::Invalid);
    }
    if row.used {
        let revoked = sqlx::query!(
            "UPDATE refresh_tokens SET revoked_at = now()
             WHERE family_id = $1 AND revoked_at IS NULL",
            row.family_id
        )
        .execute(&mut *db)
        .await?
        .rows_affected();
        tracing::warn!(
            user.id = row.user_id,
            tokens = revoked,
            "refresh token reused: family revoked"
        );
        return Ok(Rotation::Reused);
    }
    sqlx::query!(
        "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1",
        &hash[..]
    )
    .execute(&mut *db)
    .await?;
    let token = issue(db, row.user_id, Some(row.family_id)).await?;
    Ok(Rotation::Rotated {
        user_id: row.user_id,
        token,
    })
}

/// Revokes every refresh token of `user_id` (logout). Returns how many.
///
/// # Errors
/// The database failed.
pub async fn revoke_all(db: &mut PgConnection, user_id: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id
    )
    .execute(db)
    .await?
    .rows_affected())
}
