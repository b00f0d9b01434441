//! `/help` (`/ajutor`): what the bot can do, in the person's language.

use crate::bot::Ctx;

/// The list of commands.
pub fn text(ctx: &Ctx<'_>) -> String {
    ctx.t(
        "<b>Comenzi</b>\n\
         /start — începe și leagă contul\n\
         /register — creează un cont legat de acest cont Telegram (alias /inregistrare)\n\
         /link — leagă un cont web existent (alias /leaga)\n\
         /unlink — dezleagă acest cont Telegram (alias /dezleaga)\n\
         /help — această listă (alias /ajutor)\n\
         Un mesaj care este doar un cod de 8 caractere leagă contul.",
        "<b>Commands</b>\n\
         /start — begin and link your account\n\
         /register — create an account linked to this Telegram account (alias /inregistrare)\n\
         /link — link an existing web account (alias /leaga)\n\
         /unlink — unlink this Telegram account (alias /dezleaga)\n\
         /help — this list (alias /ajutor)\n\
         A message that is just an 8-character code links your account.",
    )
    .to_owned()
}
