//! Accounts with an email and a password: registering one and checking a
//! login. Shared by the JSON API (`/api/v1/auth/...`) and the web pages
//! (`/register`, `/login`), so both apply the same rules.

use sqlx::{PgConnection, PgPool};

use std::time::Duration;

use crate::services::Failure;
use crate::services::rate_limit::{self, Backoff};

use super::email::{self, Email};
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
            "INSERT INTO users (email, password_hash, first_name)
             VALUES (normalized_email($1), $2, $3)
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
    /// Too many wrong passwords for this account lately: nothing was
    /// checked; it may try again after this long.
    LockedOut(Duration),
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

/// The key an account's wrong passwords are counted under: its normalised
/// email, as typed at login (known or not), or the account id when it has
/// no email.
fn failure_key(email: Option<&str>, user_id: Option<i64>) -> String {
    match (email, user_id) {
        (Some(email), _) => format!("email:{}", email::normalize(email)),
        (None, Some(user_id)) => format!("user:{user_id}"),
        (None, None) => "email:".to_owned(),
    }
}

/// Verifies `password` against `stored` unless the account's key is locked
/// out by its wrong passwords; counts a wrong one, forgets them on a right
/// one. Every password check goes through here, so the login forms, the API
/// and confirmations share one count per account.
async fn verify_counted(
    pool: &PgPool,
    gate: &HashGate,
    backoff: Backoff,
    key: &str,
    password: String,
    stored: Option<String>,
) -> Result<Result<bool, Duration>, Failure> {
    let mut conn = pool.acquire().await?;
    if let Some(wait) = rate_limit::locked_for(&mut conn, key).await? {
        tracing::warn!(
            retry_after = wait.as_secs(),
            "account locked out by wrong passwords"
        );
        return Ok(Err(wait));
    }
    // No connection held while hashing: tens of milliseconds, maybe a wait.
    drop(conn);
    let ok = password::verify(gate, password, stored).await?;
    let mut conn = pool.acquire().await?;
    if ok {
        rate_limit::forget_failures(&mut conn, key).await?;
    } else if let Some(lock) = rate_limit::note_failure(&mut conn, backoff, key).await? {
        tracing::warn!(lock = lock.as_secs(), "wrong password: account locked out");
    }
    Ok(Ok(ok))
}

/// Checks `password` against the account `user_id`'s (a confirmation that
/// asks for it again), through the process's `gate`, counted in the
/// account's wrong passwords (`backoff`) like a login.
///
/// # Errors
/// [`Failure::Busy`] when the gate is full; the database or the blocking pool failed.
pub async fn check_password(
    pool: &PgPool,
    gate: &HashGate,
    backoff: Backoff,
    user_id: i64,
    password: String,
) -> Result<PasswordCheck, Failure> {
    let row = sqlx::query!(
        "SELECT email, password_hash FROM users WHERE id = $1",
        user_id
    )
    .fetch_optional(pool)
    .await?;
    let Some((email, Some(stored))) = row.map(|r| (r.email, r.password_hash)) else {
        return Ok(PasswordCheck::NotSet);
    };
    let key = failure_key(email.as_deref(), Some(user_id));
    Ok(
        match verify_counted(pool, gate, backoff, &key, password, Some(stored)).await? {
            Ok(true) => PasswordCheck::Right,
            Ok(false) => PasswordCheck::Wrong,
            Err(wait) => PasswordCheck::LockedOut(wait),
        },
    )
}

/// What a login's email and password turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginCheck {
    /// This person's.
    Right(i64),
    /// A wrong email or password alike.
    Wrong,
    /// Too many wrong passwords for this email lately (registered or not):
    /// nothing was checked; it may try again after this long.
    LockedOut(Duration),
}

/// Checks a login: [`LoginCheck::Wrong`] for a wrong email or password
/// alike, in about the same time (an unknown email still verifies a dummy
/// hash), through the process's `gate`. Wrong passwords are counted per
/// normalised email, known or not (`backoff`), so spreading guesses over
/// many addresses does not multiply them.
///
/// # Errors
/// [`Failure::Busy`] when the gate is full; the database or the blocking pool failed.
pub async fn check_login(
    pool: &PgPool,
    gate: &HashGate,
    backoff: Backoff,
    email: &str,
    password: String,
) -> Result<LoginCheck, Failure> {
    let row = match Email::parse(email) {
        Some(email) => sqlx::query!(
            "SELECT id, password_hash FROM users WHERE email = normalized_email($1)",
            email.as_str()
        )
        .fetch_optional(pool)
        .await?
        .and_then(|r| Some((r.id, r.password_hash?))),
        None => None,
    };
    let (user_id, stored) = row.unzip();
    let key = failure_key(Some(email), None);
    Ok(
        match verify_counted(pool, gate, backoff, &key, password, stored).await? {
            Ok(true) => user_id.map_or(LoginCheck::Wrong, LoginCheck::Right),
            Ok(false) => LoginCheck::Wrong,
            Err(wait) => LoginCheck::LockedOut(wait),
        },
    )
}

/// Forgets the wrong passwords counted against `user_id` (a new password was
/// just chosen through a link only that person received).
///
/// # Errors
/// The database failed.
pub async fn forget_wrong_passwords(
    db: &mut PgConnection,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    let email = sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", user_id)
        .fetch_optional(&mut *db)
        .await?
        .flatten();
    rate_limit::forget_failures(db, &failure_key(email.as_deref(), Some(user_id))).await
}
