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
    /// For `/dashboard` in the private chat: the active company's figures,
    /// read in the update's first statement (one round trip in all).
    pub dashboard: Option<Dashboard>,
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
