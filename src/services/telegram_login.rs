//! Telegram as the login: data Telegram signed (the Login Widget, a Mini
//! App's `initData`; checked by [`crate::blocks::telegram_auth`]) names a
//! Telegram user, and the person linked to that user is logged in. Each
//! signed payload is accepted once (`telegram_auth_seen`), so data copied
//! from a log, a proxy or a browser's history opens nothing.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::blocks::telegram_auth::{TelegramUser, Verified};
use crate::services::linking::{self, TelegramIdentity};

/// What a Telegram login came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    /// The person linked to the Telegram user.
    Linked(i64),
    /// A Telegram-only person, created and linked just now (asked for).
    Registered(i64),
    /// No one is linked to the Telegram user (and no account was asked for).
    NotLinked,
    /// This very payload was accepted before.
    Replayed,
}

/// The Telegram side of a link for a user the signed data names: a private
/// chat's id is the user's id.
pub fn identity(user: &TelegramUser) -> TelegramIdentity {
    TelegramIdentity {
        telegram_user_id: user.id,
        chat_id: user.id,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
    }
}

/// Marks `verified` as used; `false` when it was used before.
///
/// # Errors
/// The database failed.
pub async fn accept_once(db: &mut PgConnection, verified: &Verified) -> Result<bool, sqlx::Error> {
    let expires_at = OffsetDateTime::from_unix_timestamp(verified.expires_at)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(sqlx::query!(
        "INSERT INTO telegram_auth_seen (replay_key, expires_at) VALUES ($1, $2)
         ON CONFLICT (replay_key) DO NOTHING",
        &verified.replay_key[..],
        expires_at,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// The person linked to Telegram user `telegram_user_id`, if any.
///
/// # Errors
/// The database failed.
pub async fn account_of(
    db: &mut PgConnection,
    telegram_user_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT user_id FROM telegram_accounts WHERE telegram_user_id = $1",
        telegram_user_id
    )
    .fetch_optional(db)
    .await
}

/// Logs in the person linked to the user `verified` names, once per payload;
/// with `register`, an unlinked Telegram user first gets a Telegram-only
/// account (as the bot's `/register` makes). Run it in a transaction and
/// commit only on [`Login::Linked`] or [`Login::Registered`]: rolled back,
/// the payload is not spent.
///
/// # Errors
/// The database failed.
pub async fn login(
    db: &mut PgConnection,
    verified: &Verified,
    register: bool,
) -> Result<Login, sqlx::Error> {
    if !accept_once(db, verified).await? {
        return Ok(Login::Replayed);
    }
    if let Some(user_id) = account_of(db, verified.user.id).await? {
        return Ok(Login::Linked(user_id));
    }
    if !register {
        return Ok(Login::NotLinked);
    }
    match linking::register_telegram_only(db, &identity(&verified.user)).await? {
        Some(user_id) => Ok(Login::Registered(user_id)),
        // Linked meanwhile (a concurrent /register): that account it is.
        None => Ok(account_of(db, verified.user.id)
            .await?
            .map_or(Login::NotLinked, Login::Linked)),
    }
}
