//! Invitations to a company: an owner makes one for a role, and whoever
//! opens its link (in the bot, or on the web) accepts or declines it. This
//! replaces adding members by email, which told anyone whether an email was
//! registered and gave access to whoever had registered it first.
//!
//! The code is long and random ([`InviteCode`]), stored only as its SHA-256,
//! works once, for [`INVITATION_TTL`], and an owner can revoke it.

use std::time::Duration;

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::blocks::Lang;
use crate::blocks::invite_code::{InviteCode, START_PREFIX};
use crate::infra::config::Config;
use crate::services::finance::{Company, Role};

/// How long an invitation works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most open invitations a company may have at once: a bound on what
/// one owner can make the table hold.
pub const MAX_OPEN_PER_COMPANY: i64 = 50;

/// The deep link that opens the bot with `/start inv_<code>`.
pub fn deep_link(config: &Config, code: &InviteCode) -> String {
    format!(
        "https://t.me/{}?start={START_PREFIX}{code}",
        config.bot_username
    )
}

/// The web page of the invitation.
pub fn web_url(config: &Config, code: &InviteCode) -> String {
    format!("{}/invite/{code}", config.public_url)
}

/// The QR code of the deep link, as a PNG.
pub fn qr_png_url(config: &Config, code: &InviteCode) -> String {
    format!("{}/invite/{code}/qr.png", config.public_url)
}

/// A freshly made invitation, to hand to the owner once.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// The code (only its hash is stored).
    pub code: InviteCode,
    /// The role it grants.
    pub role: Role,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What asking for an invitation came to.
#[derive(Clone, Debug)]
pub enum Create {
    /// Made.
    Created(NewInvitation),
    /// The asker is a member, not an owner.
    NotOwner,
    /// The company has [`MAX_OPEN_PER_COMPANY`] open invitations already.
    TooMany,
}

/// Makes an invitation to `company` (as `inviter` sees it) for `role`. Only
/// owners invite. `lang`: the inviter's language, to tell them of the answer.
///
/// # Errors
/// The database failed.
pub async fn create(
    db: &mut PgConnection,
    company: &Company,
    inviter: i64,
    role: Role,
    lang: Option<Lang>,
) -> Result<Create, sqlx::Error> {
    if company.role != Role::Owner {
        return Ok(Create::NotOwner);
    }
    prune(db).await?;
    let open = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM invitations
           WHERE company_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()"#,
        company.id
    )
    .fetch_one(&mut *db)
    .await?;
    if open >= MAX_OPEN_PER_COMPANY {
        return Ok(Create::TooMany);
    }
    let code = InviteCode::generate();
    let expires_at = sqlx::query_scalar!(
        "INSERT INTO invitations (code_hash, company_id, role, invited_by, language, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
         RETURNING expires_at",
        &code.hash()[..],
        company.id,
        role.as_str(),
        inviter,
        lang.map(Lang::code),
        INVITATION_TTL.as_secs_f64(),
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(Create::Created(NewInvitation {
        code,
        role,
        expires_at,
    }))
}

/// An invitation that can still be accepted, as its invitee sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// `invitations.id`.
    pub id: i64,
    /// The company.
    pub company_id: i64,
    /// Its name.
    pub company_name: String,
    /// The role it grants.
    pub role: Role,
    /// Who invites: their name, else email, else `None` (a removed account).
    pub inviter: Option<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What a presented code turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found<T> {
    /// Open (or, for [`accept`], now used): here it is.
    Open(T),
    /// Never made, or pruned.
    Unknown,
    /// Already accepted.
    Used,
    /// Past its seven days.
    Expired,
    /// Revoked by an owner, or declined.
    Revoked,
}

/// The invitation of `code`, if it can still be accepted; else why not.
///
/// # Errors
/// The database failed.
pub async fn look_up(
    db: &mut PgConnection,
    code: &InviteCode,
) -> Result<Found<Invitation>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT i.id, i.company_id, c.name AS company_name, i.role, i.expires_at,
                  coalesce(u.first_name, '@' || t.username, u.email) AS inviter,
                  i.used_at IS NOT NULL AS "used!", i.revoked_at IS NOT NULL AS "revoked!",
                  i.expires_at <= now() AS "expired!"
           FROM invitations i JOIN companies c ON c.id = i.company_id
           LEFT JOIN users u ON u.id = i.invited_by
           LEFT JOIN telegram_accounts t ON t.user_id = i.invited_by
           WHERE i.code_hash = $1"#,
        &code.hash()[..]
    )
    .fetch_optional(db)
    .await?;
    let Some(r) = row else {
        return Ok(Found::Unknown);
    };
    Ok(if r.used {
        Found::Used
    } else if r.revoked {
        Found::Revoked
    } else if r.expired {
        Found::Expired
    } else {
        Found::Open(Invitation {
            id: r.id,
            company_id: r.company_id,
            company_name: r.company_name,
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
            inviter: r.inviter,
            expires_at: r.expires_at,
        })
    })
}

/// What accepting an invitation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The invitation as it was.
    pub invitation: Invitation,
    /// `false`: the person was a member already (the invitation stays
    /// unused, and their role unchanged).
    pub joined: bool,
    /// The inviter's Telegram chat and language, to tell them, if linked.
    pub tell: Option<(i64, Lang)>,
}

/// Accepts the invitation of `code` for `user_id`: makes them a member with
/// its role and uses it up. Run it in a transaction: the invitation row is
/// locked, so two people racing for one invitation cannot both get in.
///
/// # Errors
/// The database failed.
pub async fn accept(
    tx: &mut PgConnection,
    code: &InviteCode,
    user_id: i64,
) -> Result<Found<Accepted>, sqlx::Error> {
    sqlx::query!(
        "SELECT id FROM invitations WHERE code_hash = $1 FOR UPDATE",
        &code.hash()[..]
    )
    .fetch_optional(&mut *tx)
    .await?;
    let invitation = match look_up(tx, code).await? {
        Found::Open(invitation) => invitation,
        other => return Ok(other.without()),
    };
    let joined = sqlx::query!(
        "INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        invitation.company_id,
        user_id,
        invitation.role.as_str()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !joined {
        return Ok(Found::Open(Accepted {
            invitation,
            joined,
            tell: None,
        }));
    }
    let tell = sqlx::query!(
        "UPDATE invitations i SET used_at = now(), used_by = $2 WHERE i.id = $1
         RETURNING (SELECT chat_id FROM telegram_accounts t WHERE t.user_id = i.invited_by) AS chat_id,
                   coalesce(i.language, (SELECT language FROM users u WHERE u.id = i.invited_by)) AS language",
        invitation.id,
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Found::Open(Accepted {
        invitation,
        joined,
        tell: inviter_chat(tell.chat_id, tell.language.as_deref()),
    }))
}

/// Declines the invitation of `code`: it stops working (a forwarded copy
/// cannot be used instead). Returns it, with the inviter's chat to tell.
///
/// # Errors
/// The database failed.
pub async fn decline(
    db: &mut PgConnection,
    code: &InviteCode,
) -> Result<Found<Accepted>, sqlx::Error> {
    let invitation = match look_up(db, code).await? {
        Found::Open(invitation) => invitation,
        other => return Ok(other.without()),
    };
    let tell = sqlx::query!(
        "UPDATE invitations i SET revoked_at = now()
         WHERE i.id = $1 AND used_at IS NULL AND revoked_at IS NULL
         RETURNING (SELECT chat_id FROM telegram_accounts t WHERE t.user_id = i.invited_by) AS chat_id,
                   coalesce(i.language, (SELECT language FROM users u WHERE u.id = i.invited_by)) AS language",
        invitation.id
    )
    .fetch_optional(db)
    .await?;
    let Some(tell) = tell else {
        return Ok(Found::Used);
    };
    Ok(Found::Open(Accepted {
        invitation,
        joined: false,
        tell: inviter_chat(tell.chat_id, tell.language.as_deref()),
    }))
}

/// The inviter's chat and language (Romanian unless they chose), if linked.
fn inviter_chat(chat_id: Option<i64>, language: Option<&str>) -> Option<(i64, Lang)> {
    let lang = language.and_then(Lang::parse).unwrap_or(Lang::Ro);
    chat_id.map(|chat| (chat, lang))
}

impl<T> Found<T> {
    /// A refusal, as a `Found` of another kind (`Open` never comes here).
    fn without<U>(self) -> Found<U> {
        match self {
            Self::Used => Found::Used,
            Self::Expired => Found::Expired,
            Self::Revoked => Found::Revoked,
            Self::Unknown | Self::Open(_) => Found::Unknown,
        }
    }
}

/// An open invitation as its company's owners see it (never its code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Open {
    /// `invitations.id`: what revoking by id names.
    pub id: i64,
    /// The role it grants.
    pub role: Role,
    /// The user who made it.
    pub invited_by: Option<i64>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The company's invitations that can still be accepted, newest first.
///
/// # Errors
/// The database failed.
pub async fn open_of(db: &mut PgConnection, company_id: i64) -> Result<Vec<Open>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, role, invited_by, created_at, expires_at FROM invitations
         WHERE company_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at DESC, id DESC",
        company_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Open {
            id: r.id,
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
            invited_by: r.invited_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
        .collect())
}

/// Which invitation to revoke: by its code, or by the id the list shows.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    /// The code.
    Code(InviteCode),
    /// `invitations.id`.
    Id(i64),
}

/// Revokes an open invitation of the company. Returns whether there was one.
///
/// # Errors
/// The database failed.
pub async fn revoke(
    db: &mut PgConnection,
    company_id: i64,
    which: Which,
) -> Result<bool, sqlx::Error> {
    let (hash, id) = match which {
        Which::Code(code) => (Some(code.hash().to_vec()), None),
        Which::Id(id) => (None, Some(id)),
    };
    let revoked = sqlx::query!(
        "UPDATE invitations SET revoked_at = now()
         WHERE company_id = $1 AND (code_hash = $2 OR id = $3)
           AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()",
        company_id,
        hash,
        id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(revoked == 1)
}

/// Drops invitations that ended more than a day ago.
async fn prune(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM invitations WHERE expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(())
}
