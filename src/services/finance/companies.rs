//! Companies, their members and roles, and a Telegram account's active company.

use serde::Serialize;
use sqlx::PgConnection;

use super::invoices::Slice;
use super::stored_currency;
use crate::blocks::Lang;
use crate::blocks::money::Currency;
use crate::blocks::validate::Cui;

/// What a member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing members.
    Owner,
    /// Reads and pushes data (invoices, treasury, cash entries).
    Accountant,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The stored and API form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Accountant => "accountant",
            Self::Viewer => "viewer",
        }
    }

    /// From the stored or API form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "accountant" => Some(Self::Accountant),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// Also the words people type in the bot, in either language, any case:
    /// `cititor`, `contabil`, `proprietar`.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim().to_lowercase().as_str() {
            "owner" | "proprietar" => Some(Self::Owner),
            "accountant" | "contabil" => Some(Self::Accountant),
            "viewer" | "cititor" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// The role's name as a person reads it.
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Self::Owner => lang.pick("proprietar", "owner"),
            Self::Accountant => lang.pick("contabil", "accountant"),
            Self::Viewer => lang.pick("cititor", "viewer"),
        }
    }

    /// What the role may do, as a person reads it.
    pub fn can(self, lang: Lang) -> &'static str {
        match self {
            Self::Owner => lang.pick(
                "vede tot și administrează membrii",
                "sees everything and manages the members",
            ),
            Self::Accountant => lang.pick(
                "vede cifrele și înregistrează date",
                "sees the figures and records data",
            ),
            Self::Viewer => lang.pick("vede cifrele", "sees the figures"),
        }
    }

    /// Whether this role may push data and record entries.
    pub fn can_write(self) -> bool {
        matches!(self, Self::Owner | Self::Accountant)
    }
}

/// A company as one of its members sees it: the API's company object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Company {
    /// `companies.id`.
    pub id: i64,
    /// The name, 1–200 characters.
    pub name: String,
    /// The fiscal code's digits, when known.
    pub cui: Option<String>,
    /// The default currency (cash entries are recorded in it).
    pub currency: Currency,
    /// The member's role.
    pub role: Role,
}

struct Row {
    id: i64,
    name: String,
    cui: Option<String>,
    currency: String,
    role: String,
}

impl Company {
    /// A company as read from `companies` joined with the member's
    /// `company_members` row.
    pub(crate) fn from_stored(
        id: i64,
        name: String,
        cui: Option<String>,
        currency: &str,
        role: &str,
    ) -> Self {
        Self {
            id,
            name,
            cui,
            currency: stored_currency(currency),
            // The CHECK on company_members.role allows nothing else; viewer is the safe reading.
            role: Role::parse(role).unwrap_or(Role::Viewer),
        }
    }
}

impl From<Row> for Company {
    fn from(r: Row) -> Self {
        Self::from_stored(r.id, r.name, r.cui, &r.currency, &r.role)
    }
}

/// Creates a company with `owner` as its first owner.
///
/// # Errors
/// The database failed.
pub async fn create(
    tx: &mut PgConnection,
    owner: i64,
    name: &str,
    cui: Option<&Cui>,
    currency: Currency,
) -> Result<Company, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO companies (name, cui, currency) VALUES ($1, $2, $3) RETURNING id",
        name,
        cui.map(Cui::as_str),
        currency.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, 'owner')",
        id,
        owner
    )
    .execute(&mut *tx)
    .await?;
    Ok(Company {
        id,
        name: name.to_owned(),
        cui: cui.map(|c| c.as_str().to_owned()),
        currency,
        role: Role::Owner,
    })
}

/// Where a page of a person's companies starts ([`of_user_page`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// From the first company, by name.
    First,
    /// Just after this company (`companies.id`), in the list's order.
    After(i64),
    /// Just before this company, in the list's order.
    Before(i64),
}

/// Up to `limit` of the companies `user_id` is a member of, in name order
/// (lowercase, then id), starting at `place`; `None` when `place` names a
/// company the person is not (any longer) a member of, so the position is
/// lost.
///
/// A keyset page read from `company_members_user_name` (the membership rows
/// carry the company's name key): one range of it, however many companies
/// the person belongs to. A company's id is its position, since the key
/// comes with it (two index reads; no name in the cursor, so a cursor fits
/// in a Telegram button).
///
/// # Errors
/// The database failed.
pub async fn of_user_page(
    db: &mut PgConnection,
    user_id: i64,
    place: Place,
    limit: i64,
) -> Result<Option<Vec<Company>>, sqlx::Error> {
    let (anchor, backwards) = match place {
        Place::First => (None, false),
        Place::After(id) => (Some(id), false),
        Place::Before(id) => (Some(id), true),
    };
    let key = match anchor {
        None => None,
        Some(id) => {
            let key = sqlx::query_scalar!(
                r#"SELECT company_name_key AS "key!" FROM company_members
                   WHERE user_id = $1 AND company_id = $2"#,
                user_id,
                id
            )
            .fetch_optional(&mut *db)
            .await?;
            let Some(key) = key else { return Ok(None) };
            Some((key, id))
        }
    };
    // Before every membership: names are never empty. A position always
    // given (no `IS NULL OR`) keeps the range in the index condition, in
    // the generic plan too.
    let (key, id) = key.unwrap_or_default();
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT c.id, c.name, c.cui, c.currency, p.role AS "role!"
           FROM ((SELECT m.company_id, m.role, m.company_name_key
                  FROM company_members m
                  WHERE m.user_id = $1 AND NOT $4
                    AND (m.company_name_key, m.company_id) > ($2, $3)
                  ORDER BY m.company_name_key, m.company_id
                  LIMIT $5)
                 UNION ALL
                 (SELECT m.company_id, m.role, m.company_name_key
                  FROM company_members m
                  WHERE m.user_id = $1 AND $4 AND (m.company_name_key, m.company_id) < ($2, $3)
                  ORDER BY m.company_name_key DESC, m.company_id DESC
                  LIMIT $5)) p
           JOIN companies c ON c.id = p.company_id
           ORDER BY p.company_name_key, p.company_id"#,
        user_id,
        key,
        id,
        backwards,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(Some(rows.into_iter().map(Company::from).collect()))
}

/// A page of a person's companies as the API, the web page and the Mini
/// App's chooser show it: `page_size` of them ([`of_user_page`]) after the
/// company `after` (from the first when `None`), and the next page's
/// cursor, the last company's id (`None` on the last page; the front ends
/// read it back with [`crate::blocks::id::parse`]). `None` when
/// `after` names a company the person is no longer a member of: its place
/// is lost.
///
/// # Errors
/// The database failed.
pub async fn of_user_slice(
    db: &mut PgConnection,
    user_id: i64,
    after: Option<i64>,
    page_size: i64,
) -> Result<Option<Slice<Company>>, sqlx::Error> {
    let place = after.map_or(Place::First, Place::After);
    let Some(mut items) = of_user_page(db, user_id, place, page_size + 1).await? else {
        return Ok(None);
    };
    let keep = usize::try_from(page_size).unwrap_or(0);
    let more = items.len() > keep;
    items.truncate(keep);
    let next_cursor = more
        .then(|| items.last())
        .flatten()
        .map(|c| c.id.to_string());
    Ok(Some(Slice {
        items,
        page_size,
        next_cursor,
    }))
}

/// The company, if `user_id` is a member of it: the one check every company
/// route and every button press goes through.
///
/// # Errors
/// The database failed.
pub async fn for_member(
    db: &mut PgConnection,
    company_id: i64,
    user_id: i64,
) -> Result<Option<Company>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT c.id, c.name, c.cui, c.currency, m.role
           FROM company_members m JOIN companies c ON c.id = m.company_id
           WHERE m.company_id = $1 AND m.user_id = $2"#,
        company_id,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Company::from))
}

/// What a person's Mini App opens with: the language they chose with
/// `/language` (if any) and the company active in their Telegram chat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opening {
    /// `/language`'s choice; `None`: follow Telegram's.
    pub language: Option<Lang>,
    /// The company chosen in the bot, if any.
    pub active_company: Option<i64>,
}

/// [`Opening`] of `user_id` (the default for an unknown id).
///
/// # Errors
/// The database failed.
pub async fn opening(db: &mut PgConnection, user_id: i64) -> Result<Opening, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT u.language, t.active_company_id AS "active_company_id?"
           FROM users u LEFT JOIN telegram_accounts t ON t.user_id = u.id
           WHERE u.id = $1"#,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map_or_else(Opening::default, |r| Opening {
        language: r.language.as_deref().and_then(Lang::parse),
        active_company: r.active_company_id,
    }))
}

/// The member's companies whose name contains `text` (any case; `%` and `_`
/// are matched literally), or whose CUI is `text` (with or without `RO`),
/// by name: the first `limit` of them. Read in the list's order from
/// `company_members_user_name` until `limit` match, so a rare text reads
/// the person's memberships (not any company's data).
///
/// # Errors
/// The database failed.
pub async fn search(
    db: &mut PgConnection,
    user_id: i64,
    text: &str,
    limit: i64,
) -> Result<Vec<Company>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT c.id, c.name, c.cui, c.currency, m.role
           FROM company_members m JOIN companies c ON c.id = m.company_id
           WHERE m.user_id = $1 AND (c.name ILIKE $2 OR c.cui = $3)
           ORDER BY m.company_name_key, m.company_id LIMIT $4"#,
        user_id,
        contains_pattern(text),
        cui_digits(text),
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Company::from).collect())
}

/// The digits of a CUI as a person may type it (`RO 18547290`, `ro18547290`,
/// `18547290`), as stored; `None` for anything that is not such a number.
pub fn cui_digits(text: &str) -> Option<String> {
    let text = text.trim();
    let digits = match text.get(..2) {
        Some(prefix) if prefix.eq_ignore_ascii_case("ro") => text[2..].trim_start(),
        _ => text,
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_owned())
}

/// A LIKE pattern matching `text` anywhere, with LIKE's wildcards and its
/// escape character taken literally.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A member of a company, as its owners see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// `users.id`.
    pub user_id: i64,
    /// The account's email (`None` for a Telegram-only account).
    pub email: Option<String>,
    /// The account's first name, when known.
    pub first_name: Option<String>,
    /// The linked Telegram account's `@username`, without the `@`.
    pub telegram_username: Option<String>,
    /// The role.
    pub role: Role,
}

impl Member {
    /// How a person reads this member's name: first name, else `@username`,
    /// else email, else the account number.
    pub fn display(&self) -> String {
        self.first_name
            .clone()
            .or_else(|| self.telegram_username.as_ref().map(|u| format!("@{u}")))
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| format!("#{}", self.user_id))
    }
}

/// Where a page of members starts: just after the member of this rank
/// (`company_member_rank`: owners 0, accountants 1, viewers 2) and account.
/// Written `1.4711` ([`MemberCursor::encode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberCursor {
    rank: i32,
    user_id: i64,
}

impl MemberCursor {
    /// The position just after `member`.
    pub fn after(member: &Member) -> Self {
        let rank = match member.role {
            Role::Owner => 0,
            Role::Accountant => 1,
            Role::Viewer => 2,
        };
        Self {
            rank,
            user_id: member.user_id,
        }
    }

    /// The cursor as text.
    pub fn encode(self) -> String {
        format!("{}.{}", self.rank, self.user_id)
    }

    /// Reads exactly what [`MemberCursor::encode`] wrote; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (rank, user_id) = text.split_once('.')?;
        let cursor = Self {
            rank: rank.parse().ok().filter(|r| (0..=2).contains(r))?,
            user_id: user_id.parse().ok().filter(|id| *id > 0)?,
        };
        (cursor.encode() == text).then_some(cursor)
    }
}

/// Up to `limit` of the company's members after `after` (from the first
/// when `None`): owners first, then accountants, then viewers, each by
/// account number. A keyset page: one range of
/// `company_members_company_rank`, however many members the company has.
///
/// # Errors
/// The database failed.
pub async fn members_page(
    db: &mut PgConnection,
    company_id: i64,
    after: Option<MemberCursor>,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    // Before every member (always a position: see `of_user_page`).
    let after = after.unwrap_or(MemberCursor {
        rank: -1,
        user_id: 0,
    });
    let rows = sqlx::query_as!(
        MemberRow,
        r#"SELECT m.user_id AS "user_id!", u.email, coalesce(u.first_name, t.first_name) AS first_name,
                  t.username AS "telegram_username?", m.role AS "role!"
           FROM (SELECT user_id, role FROM company_members
                 WHERE company_id = $1
                   AND (company_member_rank(role), user_id) > ($2, $3)
                 ORDER BY company_member_rank(role), user_id
                 LIMIT $4) m
           JOIN users u ON u.id = m.user_id
           LEFT JOIN telegram_accounts t ON t.user_id = m.user_id
           ORDER BY company_member_rank(m.role), m.user_id"#,
        company_id,
        after.rank,
        after.user_id,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

/// A member as read from `company_members`, `users` and `telegram_accounts`.
struct MemberRow {
    user_id: i64,
    email: Option<String>,
    first_name: Option<String>,
    telegram_username: Option<String>,
    role: String,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Self {
            user_id: r.user_id,
            email: r.email,
            first_name: r.first_name,
            telegram_username: r.telegram_username,
            // The CHECK on company_members.role allows nothing else.
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
        }
    }
}

/// One member of the company, if `user_id` is one.
///
/// # Errors
/// The database failed.
pub async fn member(
    db: &mut PgConnection,
    company_id: i64,
    user_id: i64,
) -> Result<Option<Member>, sqlx::Error> {
    let row = sqlx::query_as!(
        MemberRow,
        r#"SELECT m.user_id, u.email, coalesce(u.first_name, t.first_name) AS first_name,
                  t.username AS "telegram_username?", m.role
           FROM company_members m JOIN users u ON u.id = m.user_id
           LEFT JOIN telegram_accounts t ON t.user_id = m.user_id
           WHERE m.company_id = $1 AND m.user_id = $2"#,
        company_id,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Member::from))
}

/// What changing a member's role came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRole {
    /// Changed (or it was that role already).
    Changed,
    /// Not a member of this company.
    NotMember,
    /// The only owner, asked to become something else; a company always keeps one.
    LastOwner,
}

/// Gives a member another role, unless that would leave the company without
/// an owner. Run it in a transaction: the owners are locked, as in
/// [`remove_member`].
///
/// # Errors
/// The database failed.
pub async fn change_role(
    tx: &mut PgConnection,
    company_id: i64,
    user_id: i64,
    role: Role,
) -> Result<ChangeRole, sqlx::Error> {
    let owners = lock_owners(tx, company_id).await?;
    if role != Role::Owner && owners == [user_id] {
        return Ok(ChangeRole::LastOwner);
    }
    let changed = sqlx::query!(
        "UPDATE company_members SET role = $3 WHERE company_id = $1 AND user_id = $2",
        company_id,
        user_id,
        role.as_str()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(if changed == 1 {
        ChangeRole::Changed
    } else {
        ChangeRole::NotMember
    })
}

/// The company's owners, locked to the end of the transaction.
async fn lock_owners(tx: &mut PgConnection, company_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT user_id FROM company_members WHERE company_id = $1 AND role = 'owner'
         ORDER BY user_id FOR UPDATE",
        company_id
    )
    .fetch_all(tx)
    .await
}

/// What removing a member came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveMember {
    /// Removed.
    Removed,
    /// Not a member of this company.
    NotMember,
    /// The only owner; a company always keeps one.
    LastOwner,
}

/// Removes a member, unless it is the company's last owner. Run it in a
/// transaction: the owners are locked so that two owners removing each other
/// at once cannot leave the company without one.
///
/// # Errors
/// The database failed.
pub async fn remove_member(
    tx: &mut PgConnection,
    company_id: i64,
    user_id: i64,
) -> Result<RemoveMember, sqlx::Error> {
    let owners = lock_owners(tx, company_id).await?;
    if owners == [user_id] {
        return Ok(RemoveMember::LastOwner);
    }
    let removed = sqlx::query!(
        "DELETE FROM company_members WHERE company_id = $1 AND user_id = $2",
        company_id,
        user_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Ok(RemoveMember::NotMember);
    }
    // A removed member's Telegram account must not keep working on the company.
    sqlx::query!(
        "UPDATE telegram_accounts SET active_company_id = NULL
         WHERE user_id = $1 AND active_company_id = $2",
        user_id,
        company_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(RemoveMember::Removed)
}

/// Sets (or, with `None`, forgets) the active company of a Telegram account.
///
/// # Errors
/// The database failed.
pub async fn set_active(
    db: &mut PgConnection,
    telegram_user_id: i64,
    company_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE telegram_accounts SET active_company_id = $2 WHERE telegram_user_id = $1",
        telegram_user_id,
        company_id
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        let cases = [
            ("acme", "%acme%", "plain text"),
            ("50%", "%50\\%%", "percent"),
            ("a_b", "%a\\_b%", "underscore"),
            ("c:\\x", "%c:\\\\x%", "backslash, LIKE's escape"),
            ("", "%%", "empty matches everything"),
        ];
        for (text, want, why) in cases {
            assert_eq!(contains_pattern(text), want, "{why}");
        }
    }

    #[test]
    fn only_owners_and_accountants_write() {
        for (role, can) in [
            (Role::Owner, true),
            (Role::Accountant, true),
            (Role::Viewer, false),
        ] {
            assert_eq!(role.can_write(), can, "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::from_word(role.as_str()), Some(role));
            assert_eq!(
                Role::from_word(&role.name(Lang::Ro).to_uppercase()),
                Some(role)
            );
        }
    }
}
