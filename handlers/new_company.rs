//! `/newcompany <name> [CUI]` (`/firmanoua`): a new company with the sender
//! as its owner, made the active one. The CUI, when given, must pass its
//! check digit; a Telegram-only account may do this too.

use crate::blocks::format::clip;
use crate::blocks::local_time::count;
use crate::blocks::money::Currency;
use crate::blocks::telegram_html::escape;
use crate::blocks::validate::{Cui, CuiError};
use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::{companies, quota};

/// The longest company name, in characters (as the API and the schema allow).
pub const MAX_NAME_CHARS: usize = 200;

/// What `/newcompany`'s arguments say.
#[derive(Debug, PartialEq, Eq)]
pub struct NewCompany<'a> {
    /// The name, trimmed.
    pub name: &'a str,
    /// The CUI as typed, when the last word looks like one (digits, with an
    /// optional `RO` before them or as the word before).
    pub cui: Option<String>,
}

/// Splits the arguments into the name and, when the last word is a number
/// (with an optional `RO`), the CUI.
pub fn parse(args: &str) -> NewCompany<'_> {
    let args = args.trim();
    let Some((rest, last)) = args.rsplit_once(char::is_whitespace) else {
        return NewCompany {
            name: args,
            cui: None,
        };
    };
    let digits = last
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("ro"))
        .map_or(last, |_| &last[2..]);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return NewCompany {
            name: args,
            cui: None,
        };
    }
    let rest = rest.trim_end();
    // `RO 18547290`: the prefix as a word of its own.
    let name = match rest.rsplit_once(char::is_whitespace) {
        Some((name, ro)) if ro.eq_ignore_ascii_case("ro") && digits == last => name.trim_end(),
        _ => rest,
    };
    NewCompany {
        name,
        cui: Some(last.to_owned()),
    }
}

/// Creates the company and makes it active.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let wanted = parse(args.unwrap_or_default());
    if wanted.name.is_empty() || wanted.name.chars().count() > MAX_NAME_CHARS {
        return Ok(Replies::html(ctx.chat_id, usage(ctx)));
    }
    let cui = match wanted.cui.as_deref().map(Cui::parse).transpose() {
        Ok(cui) => cui,
        Err(e) => {
            let typed = escape(wanted.cui.as_deref().unwrap_or_default());
            return Ok(Replies::html(ctx.chat_id, bad_cui(ctx, &typed, &e)));
        }
    };
    // The same cap as the API's (MAX_COMPANIES_PER_ACCOUNT).
    if let Some(over) = quota::one_more_company(ctx.db, ctx.config.quotas, account.user_id).await? {
        let owned = u64::from(over.max);
        let text = ctx.t(
            format!(
                "Ai deja {} în proprietate, cât permite ledgerbot pentru un cont. \
                 Nu am creat firma.",
                count(
                    ctx.lang,
                    owned,
                    ["firmă", "firme"],
                    ["company", "companies"]
                )
            ),
            format!(
                "You already own {}, as many as ledgerbot allows one account. \
                 No company was created.",
                count(
                    ctx.lang,
                    owned,
                    ["firmă", "firme"],
                    ["company", "companies"]
                )
            ),
        );
        return Ok(Replies::html(ctx.chat_id, text));
    }
    let company = companies::create(
        ctx.db,
        account.user_id,
        wanted.name,
        cui.as_ref(),
        Currency::RON,
    )
    .await?;
    companies::set_active(ctx.db, ctx.from.id, Some(company.id)).await?;
    tracing::info!(company.id = company.id, "company created in the bot");
    let name = escape(&clip(&company.name, 200));
    let cui = cui.map(|c| format!(" (CUI {c})")).unwrap_or_default();
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            format!(
                "✅ Am creat firma <b>{name}</b>{cui}. Ești proprietarul ei și este acum firma activă.\n\
                 Acum: /sold, /adauga, /casa."
            ),
            format!(
                "✅ Created <b>{name}</b>{cui}. You are its owner, and it is now the active company.\n\
                 Now try /dashboard, /add, /cash."
            ),
        ),
    ))
}

fn usage(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Trimite /firmanoua &lt;nume&gt; [CUI], de ex. <code>/firmanoua Exemplu SRL 18547290</code>. \
         Numele are cel mult 200 de caractere; CUI-ul poate lipsi.",
        "Send /newcompany &lt;name&gt; [CUI], e.g. <code>/newcompany Example SRL 18547290</code>. \
         The name is at most 200 characters; the CUI is optional.",
    )
    .to_owned()
}

fn bad_cui(ctx: &UpdateCtx<'_>, typed: &str, e: &CuiError) -> String {
    match e {
        CuiError::CheckDigit => ctx.t(
            format!(
                "„{typed}” nu este un CUI valid: cifra de control nu se potrivește, deci probabil \
                 s-a strecurat o greșeală de tastare. Verifică-l pe certificatul de înregistrare \
                 și trimite din nou. Nu am creat nicio firmă."
            ),
            format!(
                "“{typed}” is not a valid CUI: its check digit does not match, so there is \
                 probably a typo. Check it on the registration certificate and send it again. \
                 No company was created."
            ),
        ),
        CuiError::InvalidFormat => ctx.t(
            format!(
                "„{typed}” nu este un CUI valid: un CUI are 2–10 cifre (cu sau fără RO în față) \
                 și nu începe cu 0. Nu am creat nicio firmă."
            ),
            format!(
                "“{typed}” is not a valid CUI: a CUI has 2 to 10 digits (with or without RO \
                 before them) and does not start with 0. No company was created."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_the_cui_when_it_is_a_number() {
        let cases = [
            ("Exemplu SRL", "Exemplu SRL", None, "no CUI"),
            (
                "Exemplu SRL 18547290",
                "Exemplu SRL",
                Some("18547290"),
                "digits",
            ),
            (
                "Exemplu SRL RO18547290",
                "Exemplu SRL",
                Some("RO18547290"),
                "RO prefix",
            ),
            (
                "Exemplu SRL ro 18547290",
                "Exemplu SRL",
                Some("18547290"),
                "RO as a word",
            ),
            ("  Alfa   12 ", "Alfa", Some("12"), "spaces"),
            ("Solo", "Solo", None, "one word"),
            ("Firma ROMA", "Firma ROMA", None, "a word starting with RO"),
            ("Firma RO", "Firma RO", None, "RO alone"),
            ("", "", None, "nothing"),
        ];
        for (args, name, cui, why) in cases {
            let parsed = parse(args);
            assert_eq!(parsed.name, name, "{why}");
            assert_eq!(parsed.cui.as_deref(), cui, "{why}");
        }
    }
}
