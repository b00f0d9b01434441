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
         /companies — firmele tale (alias /firme)\n\
         /selectcompany [text] — alege firma activă (alias /alegefirma)\n\
         /dashboard — cifrele firmei active (alias /sold, /balance)\n\
         /facturi [neplatite|platite] — facturile (alias /invoices)\n\
         /trezorerie — conturile și soldurile (alias /treasury)\n\
         /add &lt;sumă&gt; &lt;notă&gt; — o cheltuială de numerar; +sumă pentru o încasare\n\
         /clear — uită firma activă\n\
         /language ro|en — limba (alias /limba)\n\
         /help — această listă (alias /ajutor)\n\
         Un mesaj care este doar un cod de 8 caractere leagă contul.",
        "<b>Commands</b>\n\
         /start — begin and link your account\n\
         /register — create an account linked to this Telegram account (alias /inregistrare)\n\
         /link — link an existing web account (alias /leaga)\n\
         /unlink — unlink this Telegram account (alias /dezleaga)\n\
         /companies — your companies (alias /firme)\n\
         /selectcompany [text] — choose the active company (alias /alegefirma)\n\
         /dashboard — the active company's figures (alias /sold, /balance)\n\
         /invoices [unpaid|paid] — the invoices (alias /facturi)\n\
         /treasury — accounts and balances (alias /trezorerie)\n\
         /add &lt;amount&gt; &lt;note&gt; — a cash expense; +amount for income\n\
         /clear — forget the active company\n\
         /language ro|en — the language (alias /limba)\n\
         /help — this list (alias /ajutor)\n\
         A message that is just an 8-character code links your account.",
    )
    .to_owned()
}
