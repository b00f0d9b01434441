//! `/help` (`/ajutor`): what the bot can do, in the person's language.

use crate::bot::Ctx;

/// The list of commands.
pub fn text(ctx: &Ctx<'_>) -> String {
    ctx.t(
        "<b>Comenzi</b>\n\
         /start — începe și leagă contul\n\
         /help — această listă (alias /ajutor)",
        "<b>Commands</b>\n\
         /start — begin and link your account\n\
         /help — this list (alias /ajutor)",
    )
    .to_owned()
}
