//! `/add <amount> <note>` (`/adauga`): a cash entry for the active company.
//! An expense by default; `+` before the amount records income. Amounts in
//! Romanian or English notation (`12,50`, `1.234,56`, `12.50`).

use crate::blocks::money::{MoneyError, Sign, parse_signed_human};
use crate::blocks::telegram_html::escape;
use crate::front::bot::format::money;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::cash::{self, NewEntry};

/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// Records the entry.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "add"))]
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let (account, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    if !company.role.can_write() {
        return Ok(Replies::html(ctx.chat_id, require::read_only(ctx)));
    }
    let (amount_text, note) = split_args(args.unwrap_or_default());
    if amount_text.is_empty() {
        return Ok(Replies::html(ctx.chat_id, usage(ctx)));
    }
    let (income, magnitude) = match parse_signed_human(amount_text) {
        Ok((_, magnitude)) if magnitude.is_zero() => {
            return Ok(Replies::html(
                ctx.chat_id,
                ctx.t("Suma nu poate fi zero.", "The amount cannot be zero."),
            ));
        }
        Ok((sign, magnitude)) => (sign == Some(Sign::Plus), magnitude),
        Err(e) => {
            return Ok(Replies::html(
                ctx.chat_id,
                amount_error(ctx, amount_text, &e),
            ));
        }
    };
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Ok(Replies::html(ctx.chat_id, usage(ctx)));
    }
    let entry = NewEntry {
        company_id: company.id,
        amount: if income { magnitude } else { -magnitude },
        currency: company.currency,
        note,
        entry_date: ctx.today,
        created_by: account.user_id,
        telegram_update_id: Some(ctx.update_id),
    };
    if !cash::record(ctx.db, &entry).await? {
        tracing::warn!(
            update.id = ctx.update_id,
            "cash entry of this update exists already"
        );
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Mesajul acesta a fost deja înregistrat.",
                "This message was already recorded.",
            ),
        ));
    }
    let shown = money(ctx.lang, magnitude, company.currency);
    let (note, name) = (escape(note), escape(&company.name));
    Ok(Replies::html(
        ctx.chat_id,
        if income {
            ctx.t(
                format!("Am înregistrat încasarea de <b>{shown}</b>: {note} ({name})."),
                format!("Recorded income of <b>{shown}</b>: {note} ({name})."),
            )
        } else {
            ctx.t(
                format!("Am înregistrat cheltuiala de <b>{shown}</b>: {note} ({name})."),
                format!("Recorded an expense of <b>{shown}</b>: {note} ({name})."),
            )
        },
    ))
}

/// `/add`'s arguments split into the amount as typed and the note (trimmed):
/// the amount is everything before the first whitespace.
pub fn split_args(args: &str) -> (&str, &str) {
    args.split_once(char::is_whitespace)
        .map_or((args, ""), |(amount, note)| (amount, note.trim()))
}

fn usage(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Trimite /adauga &lt;sumă&gt; &lt;notă&gt;, de ex. <code>/adauga 12,50 cafea</code> (o cheltuială) \
         sau <code>/adauga +100 vânzare</code> (o încasare). Nota are cel mult 200 de caractere.",
        "Send /add &lt;amount&gt; &lt;note&gt;, e.g. <code>/add 12.50 coffee</code> (an expense) \
         or <code>/add +100 sale</code> (income). The note is at most 200 characters.",
    )
    .to_owned()
}

fn amount_error(ctx: &UpdateCtx<'_>, input: &str, e: &MoneyError) -> String {
    let input = escape(input);
    match e {
        MoneyError::Ambiguous(_) => ctx.t(
            format!(
                "Suma „{input}” e ambiguă: poate fi o mie sau un leu și ceva. \
                 Trimite 1234 (fără separator) sau cel mult două zecimale, ca 1,23."
            ),
            format!(
                "The amount “{input}” is ambiguous: it could mean thousands or decimals. \
                 Write 1234 (no separator) or at most two decimals, as in 1.23."
            ),
        ),
        MoneyError::TooLarge => ctx.t(
            format!("Suma „{input}” este prea mare."),
            format!("The amount “{input}” is too large."),
        ),
        _ => ctx.t(
            format!(
                "„{input}” nu este o sumă. Exemple: 12,50 · 1.234,56 · 12.50 · +100 pentru o încasare."
            ),
            format!(
                "“{input}” is not an amount. Examples: 12.50 · 1,234.56 · 12,50 · +100 for income."
            ),
        ),
    }
}
