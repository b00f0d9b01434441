//! `/help` (`/ajutor`): what the bot can do for this person now, in their
//! language, derived from the command table ([`super::COMMANDS`]): the ways
//! in for someone not linked yet, the account's commands for a linked person
//! without an active company, and everything once a company is active.

use crate::blocks::format::clip;
use crate::blocks::telegram_html::escape;
use crate::front::bot::command::Audience;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx};

/// Where the person is, which decides what `/help` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// This Telegram account is not linked to an account.
    Unlinked,
    /// Linked, no active company.
    Linked,
    /// Linked, with an active company.
    Ready,
}

impl Stage {
    /// The sender's stage.
    pub fn of(ctx: &UpdateCtx<'_>) -> Self {
        match &ctx.account {
            None => Self::Unlinked,
            Some(account) if account.active_company.is_none() => Self::Linked,
            Some(_) => Self::Ready,
        }
    }

    /// Whether `/help` lists commands for `audience` at this stage.
    pub fn shows(self, audience: Audience) -> bool {
        match self {
            Self::Unlinked => matches!(audience, Audience::Unlinked | Audience::Everyone),
            Self::Linked => matches!(audience, Audience::Linked | Audience::Everyone),
            Self::Ready => audience != Audience::Unlinked,
        }
    }
}

/// Answers with the commands for where the person is.
///
/// # Errors
/// Never; a handler's signature.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    Ok(Replies::html(ctx.chat_id, text(ctx)))
}

/// The help: where the person is and the next step, then one line per
/// command of the table that fits that stage.
pub fn text(ctx: &UpdateCtx<'_>) -> String {
    let stage = Stage::of(ctx);
    let mut text = match stage {
        Stage::Unlinked => ctx.t(
            "Contul tău de Telegram nu este legat încă. Începe cu una dintre comenzile de mai jos, \
             sau trimite-mi codul de 8 caractere de pe pagina Telegram a contului tău web.",
            "Your Telegram account is not linked yet. Begin with one of the commands below, \
             or send me the 8-character code from the Telegram page of your web account.",
        )
        .to_owned(),
        Stage::Linked => ctx.t(
            "Contul tău este legat, dar nu ai ales o firmă. Alege una cu /alegefirma, \
             sau creează una cu /firmanoua; comenzile pentru cifrele firmei apar după aceea.",
            "Your account is linked, but no company is selected. Choose one with /selectcompany, \
             or create one with /newcompany; the commands for its figures come after that.",
        )
        .to_owned(),
        Stage::Ready => {
            let name = ctx
                .account
                .as_ref()
                .and_then(|a| a.active_company.as_ref())
                .map(|c| escape(&clip(&c.name, 100)))
                .unwrap_or_default();
            ctx.t(
                format!("Firma activă: <b>{name}</b>."),
                format!("Active company: <b>{name}</b>."),
            )
        }
    };
    text.push_str(ctx.t("\n\n<b>Comenzi</b>\n", "\n\n<b>Commands</b>\n"));
    for spec in super::COMMANDS.iter().filter(|s| stage.shows(s.audience)) {
        text.push_str(&spec.help_line(ctx.lang));
        text.push('\n');
    }
    text
}
