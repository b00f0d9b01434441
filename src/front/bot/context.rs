//! What a handler gets: who wrote, in which chat, in which language, the
//! linked account if any, and the update's database transaction.

use sqlx::PgConnection;
use time::Date;

use crate::blocks::Lang;
use crate::infra::config::Config;
use crate::services::finance::Company;
use crate::services::finance::dashboard::Dashboard;
use crate::services::linking::TelegramIdentity;

/// The Telegram user behind an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramUser {
    /// Telegram's user id.
    pub id: i64,
    /// First name, as Telegram shows it.
    pub first_name: String,
    /// `@username` without the `@`, when the user has one.
    pub username: Option<String>,
    /// The IETF language tag of the user's Telegram app.
    pub language_code: Option<String>,
}

/// The person a Telegram user is linked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// `users.id`.
    pub user_id: i64,
    /// The language chosen with `/language`, if any.
    pub language: Option<Lang>,
    /// The company `/selectcompany` chose, if any.
    pub active_company_id: Option<i64>,
    /// That company with the person's role, if they are still a member of
    /// it (a member removed from a company no longer has it active).
    pub active_company: Option<Company>,
}

/// A group chat's binding to a company (`/group`), as the update's first
/// statement read it (`read_update` in schema.sql).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBinding {
    /// No owner bound the group to a company.
    Unbound,
    /// Bound to `company_id`.
    Bound {
        /// The bound company.
        company_id: i64,
        /// That company with the sender's role, when the sender is a member of it.
        member: Option<Company>,
    },
}

/// Everything a handler may use for one update. Handlers know nothing of HTTP.
pub struct UpdateCtx<'a> {
    /// Where the handler's statements run: for a command that may write, the
    /// update's transaction (its writes commit together with the claim of
    /// the update id, or not at all); for one that only reads, a connection
    /// in autocommit (see [`super::Spec::reads_only`]).
    pub db: &'a mut PgConnection,
    /// Process configuration (bot username, public URL).
    pub config: &'a Config,
    /// Telegram's id of this update.
    pub update_id: i64,
    /// Today in Romania (Europe/Bucharest) as of the update's transaction:
    /// the calendar "overdue" and "this month" follow.
    pub today: Date,
    /// The chat to answer in.
    pub chat_id: i64,
    /// Who sent the update.
    pub from: TelegramUser,
    /// The linked account, if any.
    pub account: Option<Account>,
    /// For `/dashboard`: the figures of the company the chat shows,
    /// read in the update's first statement (one round trip in all).
    pub dashboard: Option<Dashboard>,
    /// In a group, for an update that only reads: the group's binding, read
    /// in the update's first statement; `None` when not read (the private
    /// chat, or an update that may write: [`super::require::company_chat`]
    /// then reads it).
    pub group: Option<GroupBinding>,
    /// The language to answer in.
    pub lang: Lang,
    /// Set by a handler whose reply carries a secret (a link code): the reply
    /// is then not stored for replaying to a retried update.
    pub reply_is_secret: bool,
}

impl UpdateCtx<'_> {
    /// The language to answer in: the account's choice, else Telegram's.
    pub fn language_for(account: Option<&Account>, from: &TelegramUser) -> Lang {
        account
            .and_then(|a| a.language)
            .unwrap_or_else(|| Lang::from_telegram(from.language_code.as_deref()))
    }

    /// Whether the update comes from the sender's private chat with the bot
    /// (Telegram gives a private chat the id of the user).
    pub fn is_private(&self) -> bool {
        self.chat_id == self.from.id
    }

    /// The sender as the other side of a link: who, and this chat.
    pub fn identity(&self) -> TelegramIdentity {
        TelegramIdentity {
            telegram_user_id: self.from.id,
            chat_id: self.chat_id,
            username: self.from.username.clone(),
            first_name: Some(self.from.first_name.clone()),
        }
    }

    /// Picks the text for the person's language.
    pub fn t<T>(&self, ro: T, en: T) -> T {
        self.lang.pick(ro, en)
    }
}
