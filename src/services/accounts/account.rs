//! Accounts with an email and a password: registering one and checking a
//! login. Shared by the JSON API (`/api/v1/auth/...`) and the web pages
//! (`/register`, `/login`), so both apply the same rules.

use sqlx::{PgConnection, PgPool};

use crate::services::Failure;

use super::email::Email;
use super::password::{self, HashGate, PasswordRule};

/// The longest first name accepted, in characters.
pub const MAX_FIRST_NAME_CHARS: usize = 100;

/// Why a registration form is refused before anything is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// The email does not have the shape of one.
    #[error("email: not a valid email address")]
    Email,
    /// The password breaks a rule.
    #[error("password: {0}")]
    Password(PasswordRule),
    /// The first name is longer than [`MAX_FIRST_NAME_CHARS`].
    #[error("first_name: at most 100 characters")]
    FirstName,
}

/// A registration that passed the checks, password still in clear.
pub struct NewAccount {
    email: Email,
    password: String,
    first_name: Option<String>,
}

impl NewAccount {
    /// Checks a registration as a person typed it: the email's shape, the
    /// password's length, the first name's (trimmed; empty means none).
    ///
    /// # Errors
    /// The first rule broken.
    pub fn parse(email: &str, password: String, first_name: Option<&str>) -> Result<Self, Invalid> {
        let email = Email::parse(email).ok_or(Invalid::Email)?;
        password::check(&password).map_err(Invalid::Password)?;
        let first_name = first_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if first_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_FIRST_NAME_CHARS)
        {
            return Err(Invalid::FirstName);
        }
        Ok(Self {
            email,
            password,
            first_name,
        })
    }

    /// Hashes the password (argon2id, off the async threads, through the
    /// process's `gate`): done before a database connection is taken, so
    /// none is held for the tens of milliseconds it takes.
    ///
    /// # Errors
    /// [`Failure::Busy`] when the gate is full; the blocking pool failed (shutdown).
    pub async fn hash(self, gate: &HashGate) -> Result<HashedAccount, Failure> {
        let password_hash = password::hash(gate, self.password).await?;
        Ok(HashedAccount {
            email: self.email,
            password_hash,
            first_name: self.first_name,
        })
    }
}

/// A registration ready to store.
pub struct HashedAccount {
    email: Email,
    password_hash: String,
    first_name: Option<String>,
}

impl HashedAccount {
    /// Inserts the person. Returns the new user id, or `None` when the email
    /// is taken.
    ///
    /// # Errors
    /// The database failed.
    pub async fn insert(&self, db: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar!(
            "INSERT INTO users (email, password_hash, first_name) VALUES ($1, $2, $3)
             ON CONFLICT (email) DO NOTHING RETURNING id",
            self.email.as_str(),
            self.password_hash,
            self.first_name,
        )
        .fetch_optional(db)
        .await
    }
}

/// Ends every web session of `user_id` ("log out everywhere" through the
/// API); returns how many there were.
///
/// # Errors
/// The database failed.
pub async fn end_web_sessions(db: &mut PgConnection, user_id: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM web_sessions WHERE user_id = $1", user_id)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// What a password, asked again of a logged-in person, turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The account's password.
    Right,
    /// Not the account's password.
    Wrong,
    /// The account has no password (Telegram-only).
    NotSet,
}

/// Whether the account `user_id` has a password.
///
/// # Errors
/// The database failed.
pub async fn has_password(db: &mut PgConnection, user_id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT password_hash IS NOT NULL AS "set!" FROM users WHERE id = $1"#,
        user_id
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(false))
}

/// Checks `password` against the account `user_id`'s (a confirmation that
/// asks for it again), through the process's `gate`.
///
/// # Errors
/// [`Failure::Busy`] when the gate is full; the database or the blocking pool failed.
pub async fn check_password(
    pool: &PgPool,
    gate: &HashGate,
    user_id: i64,
    password: String,
) -> Result<PasswordCheck, Failure> {
    let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", user_id)
        .fetch_optional(pool)
        .await?
        .flatten();
    let Some(stored) = stored else {
        return Ok(PasswordCheck::NotSet);
    };
    Ok(if password::verify(gate, password, Some(stored)).await? {
        PasswordCheck::Right
    } else {
        PasswordCheck::Wrong
    })
}

/// The user id whose email and password these are, or `None` for a wrong
/// email or password alike, in about the same time (an unknown email still
/// verifies a dummy hash), through the process's `gate`.
///
/// # Errors
/// [`Failure::Busy`] when the gate is full; the database or the blocking pool failed.
pub async fn check_login(
    pool: &PgPool,
    gate: &HashGate,
    email: &str,
    password: String,
) -> Result<Option<i64>, Failure> {
    let row = match Email::parse(email) {
        Some(email) => sqlx::query!(
            "SELECT id, password_hash FROM users WHERE email = $1",
            email.as_str()
        )
        .fetch_optional(pool)
        .await?
        .and_then(|r| Some((r.id, r.password_hash?))),
        None => None,
    };
    let (user_id, stored) = row.unzip();
    let ok = password::verify(gate, password, stored).await?;
    Ok(user_id.filter(|_| ok))
}
