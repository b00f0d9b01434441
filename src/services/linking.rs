//! Linking a Telegram account to a person: one-time link codes (stored as
//! their SHA-256, single use, 15 minutes) and the `telegram_accounts` binding,
//! one to one in both directions.
//!
//! Two kinds of code: a `link` code belongs to a person (asked for on the web
//! or the API) and is redeemed by a Telegram user in the bot; a `confirm` code
//! belongs to a Telegram user (asked for with `/link`) and is redeemed by a
//! person logged in on the web or the API.

use std::time::Duration;

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::blocks::Lang;
use crate::blocks::link_code::LinkCode;
use crate::infra::app::App;
use crate::infra::config::Config;

/// How long a code is valid.
pub const CODE_TTL: Duration = Duration::from_secs(15 * 60);

/// The Telegram side of a link: who, and the chat to talk to them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramIdentity {
    /// Telegram's user id.
    pub telegram_user_id: i64,
    /// The private chat with the bot.
    pub chat_id: i64,
    /// `@username` without the `@`.
    pub username: Option<String>,
    /// First name, as Telegram shows it.
    pub first_name: Option<String>,
}

/// The deep link that opens the bot with `/start <code>`.
pub fn deep_link(config: &Config, code: &LinkCode) -> String {
    format!("https://t.me/{}?start={code}", config.bot_username)
}

/// A freshly made code, to hand to its owner once.
#[derive(Clone, Debug)]
pub struct NewCode {
    /// The code (only its hash is stored).
    pub code: LinkCode,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What a presented code turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redeemed<T> {
    /// Valid: now used, and here is what it carried.
    Valid(T),
    /// Never issued, or replaced by a newer one.
    Unknown,
    /// Already used.
    Used,
    /// Past its 15 minutes.
    Expired,
}

/// Makes a `link` code for `user_id`, replacing the person's previous unused
/// one. `None` when the user does not exist (a token outliving its account).
///
/// # Errors
/// The database failed.
pub async fn create_link_code(
    db: &mut PgConnection,
    user_id: i64,
) -> Result<Option<NewCode>, sqlx::Error> {
    prune(db).await?;
    let code = LinkCode::generate();
    let expires_at = sqlx::query_scalar!(
        "INSERT INTO link_codes (code_hash, purpose, user_id, expires_at)
         SELECT $1, 'link', id, now() + make_interval(secs => $3) FROM users WHERE id = $2
         ON CONFLICT (user_id) WHERE purpose = 'link' AND used_at IS NULL DO UPDATE
             SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at,
                 created_at = now()
         RETURNING expires_at",
        &code.hash()[..],
        user_id,
        CODE_TTL.as_secs_f64(),
    )
    .fetch_optional(&mut *db)
    .await?;
    Ok(expires_at.map(|expires_at| NewCode { code, expires_at }))
}

/// Makes a `confirm` code for a Telegram user (`/link`), replacing that user's
/// previous unused one.
///
/// # Errors
/// The database failed.
pub async fn create_confirm_code(
    db: &mut PgConnection,
    who: &TelegramIdentity,
    lang: Lang,
) -> Result<NewCode, sqlx::Error> {
    prune(db).await?;
    let code = LinkCode::generate();
    let expires_at = sqlx::query_scalar!(
        "INSERT INTO link_codes
             (code_hash, purpose, telegram_user_id, chat_id, username, first_name, language, expires_at)
         VALUES ($1, 'confirm', $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
         ON CONFLICT (telegram_user_id) WHERE purpose = 'confirm' AND used_at IS NULL DO UPDATE
             SET code_hash = EXCLUDED.code_hash, chat_id = EXCLUDED.chat_id,
                 username = EXCLUDED.username, first_name = EXCLUDED.first_name,
                 language = EXCLUDED.language, expires_at = EXCLUDED.expires_at,
                 created_at = now()
         RETURNING expires_at",
        &code.hash()[..],
        who.telegram_user_id,
        who.chat_id,
        who.username,
        who.first_name,
        lang.code(),
        CODE_TTL.as_secs_f64(),
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(NewCode { code, expires_at })
}

/// Whether `code` is a `link` code that can still be redeemed (the QR images
/// are served only for those).
///
/// # Errors
/// The database failed.
pub async fn link_code_is_open(
    db: &mut PgConnection,
    code: &LinkCode,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM link_codes
                          WHERE code_hash = $1 AND purpose = 'link'
                            AND used_at IS NULL AND expires_at > now()) AS "open!""#,
        &code.hash()[..]
    )
    .fetch_one(db)
    .await
}

/// Redeems a `link` code: marks it used and returns the person it belongs to.
///
/// # Errors
/// The database failed.
pub async fn redeem_link_code(
    db: &mut PgConnection,
    code: &LinkCode,
) -> Result<Redeemed<i64>, sqlx::Error> {
    let user_id = sqlx::query_scalar!(
        r#"UPDATE link_codes SET used_at = now()
           WHERE code_hash = $1 AND purpose = 'link' AND used_at IS NULL AND expires_at > now()
           RETURNING user_id AS "user_id!""#,
        &code.hash()[..]
    )
    .fetch_optional(&mut *db)
    .await?;
    match user_id {
        Some(user_id) => Ok(Redeemed::Valid(user_id)),
        None => why_not(db, code, "link").await,
    }
}

/// Redeems a `confirm` code: marks it used and returns the Telegram user who
/// asked for it, and the language they asked in.
///
/// # Errors
/// The database failed.
pub async fn redeem_confirm_code(
    db: &mut PgConnection,
    code: &LinkCode,
) -> Result<Redeemed<(TelegramIdentity, Lang)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"UPDATE link_codes SET used_at = now()
           WHERE code_hash = $1 AND purpose = 'confirm' AND used_at IS NULL AND expires_at > now()
           RETURNING telegram_user_id AS "telegram_user_id!", chat_id AS "chat_id!",
                     username, first_name, language"#,
        &code.hash()[..]
    )
    .fetch_optional(&mut *db)
    .await?;
    match row {
        Some(r) => Ok(Redeemed::Valid((
            TelegramIdentity {
                telegram_user_id: r.telegram_user_id,
                chat_id: r.chat_id,
                username: r.username,
                first_name: r.first_name,
            },
            r.language
                .as_deref()
                .and_then(Lang::parse)
                .unwrap_or(Lang::En),
        ))),
        None => why_not(db, code, "confirm").await,
    }
}

/// Who asked for a `confirm` code that can still be redeemed, without
/// redeeming it (the `/link/{code}` page shows it before the person confirms).
///
/// # Errors
/// The database failed.
pub async fn confirm_code_asker(
    db: &mut PgConnection,
    code: &LinkCode,
) -> Result<Redeemed<TelegramIdentity>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT telegram_user_id AS "telegram_user_id!", chat_id AS "chat_id!",
                  username, first_name
           FROM link_codes
           WHERE code_hash = $1 AND purpose = 'confirm' AND used_at IS NULL AND expires_at > now()"#,
        &code.hash()[..]
    )
    .fetch_optional(&mut *db)
    .await?;
    match row {
        Some(r) => Ok(Redeemed::Valid(TelegramIdentity {
            telegram_user_id: r.telegram_user_id,
            chat_id: r.chat_id,
            username: r.username,
            first_name: r.first_name,
        })),
        None => why_not(db, code, "confirm").await,
    }
}

/// The Telegram account linked to `user_id`, if any.
///
/// # Errors
/// The database failed.
pub async fn linked_account(
    db: &mut PgConnection,
    user_id: i64,
) -> Result<Option<TelegramIdentity>, sqlx::Error> {
    sqlx::query_as!(
        TelegramIdentity,
        "SELECT telegram_user_id, chat_id, username, first_name
         FROM telegram_accounts WHERE user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await
}

/// A person as the bot and the pages name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// `users.id`.
    pub user_id: i64,
    /// The email, if the account has one.
    pub email: Option<String>,
    /// The first name, if given.
    pub first_name: Option<String>,
}

impl Person {
    /// The email, else the first name, else `#<id>`.
    pub fn display(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.first_name.clone())
            .unwrap_or_else(|| format!("#{}", self.user_id))
    }
}

/// The person `user_id`, if they exist.
///
/// # Errors
/// The database failed.
pub async fn person(db: &mut PgConnection, user_id: i64) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        r#"SELECT id AS user_id, email, first_name FROM users WHERE id = $1"#,
        user_id
    )
    .fetch_optional(db)
    .await
}

/// The person a `link` code that can still be redeemed belongs to, without
/// redeeming it (the bot asks before moving a linked Telegram account).
///
/// # Errors
/// The database failed.
pub async fn link_code_owner(
    db: &mut PgConnection,
    code: &LinkCode,
) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        r#"SELECT u.id AS user_id, u.email, u.first_name
           FROM link_codes c JOIN users u ON u.id = c.user_id
           WHERE c.code_hash = $1 AND c.purpose = 'link'
             AND c.used_at IS NULL AND c.expires_at > now()"#,
        &code.hash()[..]
    )
    .fetch_optional(db)
    .await
}

/// Why a code could not be redeemed.
async fn why_not<T>(
    db: &mut PgConnection,
    code: &LinkCode,
    purpose: &str,
) -> Result<Redeemed<T>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT used_at IS NOT NULL AS "used!" FROM link_codes
           WHERE code_hash = $1 AND purpose = $2"#,
        &code.hash()[..],
        purpose
    )
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Redeemed::Unknown,
        Some(r) if r.used => Redeemed::Used,
        Some(_) => Redeemed::Expired,
    })
}

/// Drops codes that expired more than a day ago; until then they are kept so
/// that a late attempt is told "expired" or "used", not "unknown".
async fn prune(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM link_codes WHERE expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(())
}

/// What linking changed besides the new binding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linked {
    /// The person's email, for the confirmation (`None` for a Telegram-only account).
    pub email: Option<String>,
    /// The Telegram account was linked to another person; it moved here.
    pub moved_from_other_person: bool,
    /// The person had another Telegram account linked; that one is unlinked.
    /// Its private chat, to tell it so.
    pub replaced_chat_id: Option<i64>,
    /// The Telegram account was already linked to this very person.
    pub already: bool,
}

/// Links a Telegram account to `user_id`, keeping the binding one to one: a
/// Telegram account linked to someone else moves, and the person's other
/// Telegram account, if any, is unlinked.
///
/// # Errors
/// The database failed.
pub async fn link(
    db: &mut PgConnection,
    user_id: i64,
    who: &TelegramIdentity,
) -> Result<Linked, sqlx::Error> {
    let previous_owner = sqlx::query_scalar!(
        "SELECT user_id FROM telegram_accounts WHERE telegram_user_id = $1 FOR UPDATE",
        who.telegram_user_id
    )
    .fetch_optional(&mut *db)
    .await?;
    let replaced_chat_id = sqlx::query_scalar!(
        "DELETE FROM telegram_accounts WHERE user_id = $1 AND telegram_user_id <> $2
         RETURNING chat_id",
        user_id,
        who.telegram_user_id
    )
    .fetch_optional(&mut *db)
    .await?;
    // Moving to another person drops the active company: it was the old person's.
    sqlx::query!(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id, username, first_name)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (telegram_user_id) DO UPDATE
             SET user_id = EXCLUDED.user_id, chat_id = EXCLUDED.chat_id,
                 username = EXCLUDED.username, first_name = EXCLUDED.first_name,
                 linked_at = now(),
                 active_company_id = CASE WHEN telegram_accounts.user_id = EXCLUDED.user_id
                                          THEN telegram_accounts.active_company_id END",
        who.telegram_user_id,
        user_id,
        who.chat_id,
        who.username,
        who.first_name,
    )
    .execute(&mut *db)
    .await?;
    let email = sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", user_id)
        .fetch_one(&mut *db)
        .await?;
    Ok(Linked {
        email,
        moved_from_other_person: previous_owner.is_some_and(|owner| owner != user_id),
        replaced_chat_id,
        already: previous_owner == Some(user_id),
    })
}

/// Removes a Telegram account's link. Returns whether there was one.
///
/// # Errors
/// The database failed.
pub async fn unlink(db: &mut PgConnection, telegram_user_id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM telegram_accounts WHERE telegram_user_id = $1",
        telegram_user_id
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Creates a Telegram-only person (no email, no password) linked to `who`.
/// Returns the new user id, or `None` when the Telegram account is already
/// linked (also when a concurrent `/register` got there first: the unique
/// key on `telegram_user_id` decides, and the extra person is removed).
///
/// # Errors
/// The database failed.
pub async fn register_telegram_only(
    db: &mut PgConnection,
    who: &TelegramIdentity,
) -> Result<Option<i64>, sqlx::Error> {
    let user_id = sqlx::query_scalar!(
        "INSERT INTO users (first_name) VALUES ($1) RETURNING id",
        who.first_name
    )
    .fetch_one(&mut *db)
    .await?;
    let linked = sqlx::query!(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id, username, first_name)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (telegram_user_id) DO NOTHING",
        who.telegram_user_id,
        user_id,
        who.chat_id,
        who.username,
        who.first_name,
    )
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1;
    if linked {
        return Ok(Some(user_id));
    }
    sqlx::query!("DELETE FROM users WHERE id = $1", user_id)
        .execute(db)
        .await?;
    Ok(None)
}

/// What confirming a `/link` code did.
#[derive(Clone, Debug)]
pub struct Confirmed {
    /// The Telegram account now linked.
    pub who: TelegramIdentity,
    /// What the link changed besides.
    pub linked: Linked,
}

/// Confirms a `confirm` code (from the bot's `/link`) for `user_id`: redeems
/// it, links the Telegram account that asked for it, and tells that Telegram
/// chat (and a replaced one), in the language it asked in, through the
/// outbox, in the same transaction. The JSON API and the `/link/{code}` page both confirm here.
///
/// # Errors
/// The database failed.
pub async fn confirm(
    app: &App,
    user_id: i64,
    code: &LinkCode,
) -> Result<Redeemed<Confirmed>, sqlx::Error> {
    let mut tx = app.pool.begin().await?;
    let (who, lang) = match redeem_confirm_code(&mut tx, code).await? {
        Redeemed::Valid(found) => found,
        Redeemed::Unknown => return Ok(Redeemed::Unknown),
        Redeemed::Used => return Ok(Redeemed::Used),
        Redeemed::Expired => return Ok(Redeemed::Expired),
    };
    let linked = link(&mut tx, user_id, &who).await?;
    crate::services::notices::linked(&mut tx, &who, lang, &linked).await?;
    tx.commit().await?;
    app.outbox.wake();
    tracing::info!(user.id = user_id, "Telegram account linked by confirmation");
    Ok(Redeemed::Valid(Confirmed { who, linked }))
}

/// Links `who` to `user_id` in a transaction of its own (the Login Widget:
/// Telegram vouched for the account), then tells the chats, in `lang`.
///
/// # Errors
/// The database failed.
pub async fn link_and_tell(
    app: &App,
    user_id: i64,
    who: &TelegramIdentity,
    lang: Lang,
) -> Result<Linked, sqlx::Error> {
    let mut tx = app.pool.begin().await?;
    let linked = link(&mut tx, user_id, who).await?;
    crate::services::notices::linked(&mut tx, who, lang, &linked).await?;
    tx.commit().await?;
    app.outbox.wake();
    Ok(linked)
}
