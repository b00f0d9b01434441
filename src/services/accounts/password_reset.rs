//! One-time links to choose a password on the web: "Forgot password" sends
//! one to the person's linked Telegram chat (ledgerbot sends no email), and
//! the bot's `/password` sends one to a Telegram-only person, whose page also
//! asks for an email. The token is 32 random bytes, stored as its SHA-256,
//! works once and for [`TTL`]; a new one replaces the person's previous
//! unused one. Choosing the password ends the person's other sessions (web
//! and API).

use std::time::Duration;

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::blocks::Lang;
use crate::blocks::secret_token::{random_token, token_hash};
use crate::services::linking::Redeemed;

use super::email::Email;

/// How long a link works.
pub const TTL: Duration = Duration::from_secs(15 * 60);

/// A fresh token, to hand to its person once.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// The token (only its hash is stored).
    pub token: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// Makes a token for `user_id`, replacing the person's unused ones.
///
/// # Errors
/// The database failed.
pub async fn create(db: &mut PgConnection, user_id: i64) -> Result<NewToken, sqlx::Error> {
    sqlx::query!(
        "DELETE FROM password_tokens WHERE user_id = $1 AND used_at IS NULL",
        user_id
    )
    .execute(&mut *db)
    .await?;
    let token = random_token();
    let expires_at = sqlx::query_scalar!(
        "INSERT INTO password_tokens (token_hash, user_id, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
        &token_hash(&token)[..],
        user_id,
        TTL.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    Ok(NewToken { token, expires_at })
}

/// Where to send a "forgot password" link for `email`: the account's id,
/// its linked Telegram chat and the language to write in; `None` when no
/// account has that email or it has no linked Telegram account (the caller
/// answers the same either way).
///
/// # Errors
/// The database failed.
pub async fn telegram_of_email(
    db: &mut PgConnection,
    email: &str,
) -> Result<Option<(i64, i64, Lang)>, sqlx::Error> {
    let Some(email) = Email::parse(email) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "SELECT u.id, t.chat_id, u.language FROM users u
         JOIN telegram_accounts t ON t.user_id = u.id
         WHERE u.email = normalized_email($1) AND t.blocked_at IS NULL",
        email.as_str()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let lang = r
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(Lang::Ro);
        (r.id, r.chat_id, lang)
    }))
}

/// Whose a token is, without using it: the person, and their email if
/// they have one (the page then asks only for a password).
///
/// # Errors
/// The database failed.
pub async fn holder(
    db: &mut PgConnection,
    token: &str,
) -> Result<Redeemed<(i64, Option<String>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT p.user_id, u.email, p.used_at IS NOT NULL AS "used!",
                  p.expires_at <= now() AS "expired!"
           FROM password_tokens p JOIN users u ON u.id = p.user_id
           WHERE p.token_hash = $1"#,
        &token_hash(token)[..]
    )
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Redeemed::Unknown,
        Some(r) if r.used => Redeemed::Used,
        Some(r) if r.expired => Redeemed::Expired,
        Some(r) => Redeemed::Valid((r.user_id, r.email)),
    })
}

/// What setting a password came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    /// Done, for this person.
    Done(i64),
    /// The token cannot be used (see [`holder`] for why).
    Unusable,
    /// The email chosen belongs to another account.
    EmailTaken,
}

/// Uses `token`: sets the password hash (and `email`, for a person without
/// one), ends every session of the person, web and API, and lifts a lock
/// left by someone else's wrong passwords. Run it in a
/// transaction; on [`Set::EmailTaken`] roll back.
///
/// # Errors
/// The database failed.
pub async fn set(
    db: &mut PgConnection,
    token: &str,
    email: Option<&Email>,
    password_hash: &str,
) -> Result<Set, sqlx::Error> {
    let Some(user_id) = sqlx::query_scalar!(
        "UPDATE password_tokens SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id",
        &token_hash(token)[..]
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(Set::Unusable);
    };
    let updated = sqlx::query!(
        "UPDATE users SET password_hash = $2, email = COALESCE(email, normalized_email($3))
         WHERE id = $1
           AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = normalized_email($3) AND o.id <> $1)",
        user_id,
        password_hash,
        email.map(Email::as_str),
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(Set::EmailTaken);
    }
    super::account::end_web_sessions(&mut *db, user_id).await?;
    super::refresh::revoke_all(&mut *db, user_id).await?;
    // Whoever was guessing no longer keeps the person out.
    super::account::forget_wrong_passwords(db, user_id).await?;
    Ok(Set::Done(user_id))
}
