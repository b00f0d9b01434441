//! What commands need before they can run, each with the answer that says
//! how to get it: the private chat (account commands, codes), a linked
//! account, then an active company the person is (still) a member of, and
//! for writing, a role that may write.

use super::{Account, GroupBinding, UpdateCtx};
use crate::services::finance::{Company, companies, groups};

/// A requirement that is not met: the HTML answer that explains it.
pub type Unmet = String;

/// The private chat with the bot, or why this needs it: in a group, others
/// would see the answer (a code), and a link would be made for the wrong chat.
pub fn private_chat(ctx: &UpdateCtx<'_>) -> Result<(), Unmet> {
    if ctx.is_private() {
        return Ok(());
    }
    Err(ctx
        .t(
            "Pentru asta scrie-mi în chatul privat cu mine.",
            "Please do this in your private chat with me.",
        )
        .to_owned())
}

/// The linked account, or how to link one.
pub fn account(ctx: &UpdateCtx<'_>) -> Result<Account, Unmet> {
    ctx.account.clone().ok_or_else(|| not_linked(ctx))
}

/// The answer to someone whose Telegram account is not linked.
pub fn not_linked(ctx: &UpdateCtx<'_>) -> Unmet {
    ctx.t(
        "Contul tău de Telegram nu este legat încă. Trimite /inregistrare pentru un cont nou, \
         sau /start &lt;cod&gt; cu codul de 8 caractere de pe pagina Telegram a contului tău web.",
        "Your Telegram account is not linked yet. Send /register for a new account, \
         or /start &lt;code&gt; with the 8-character code from the Telegram page of your web account.",
    )
    .to_owned()
}

/// The short notice (for a button press) to someone not linked.
pub fn link_first(ctx: &UpdateCtx<'_>) -> &'static str {
    ctx.t(
        "Leagă-ți întâi contul: /inregistrare sau /start <cod>.",
        "Link your account first: /register or /start <code>.",
    )
}

/// The linked account and its active company, re-checked against membership
/// (a member removed from the company no longer has it active) when the
/// account was read at the start of the update.
pub fn company(ctx: &UpdateCtx<'_>) -> Result<(Account, Company), Unmet> {
    let account = account(ctx)?;
    match account.active_company.clone() {
        Some(company) => Ok((account, company)),
        None => Err(ctx
            .t(
                "Nu ai ales nicio firmă. Trimite /alegefirma ca să alegi una; /firme le arată pe toate.",
                "No company is selected. Send /selectcompany to choose one; /companies lists yours.",
            )
            .to_owned()),
    }
}

/// The answer to a viewer who tries to change something.
pub fn read_only(ctx: &UpdateCtx<'_>) -> Unmet {
    ctx.t(
        "Ai doar drept de citire la această firmă: numai proprietarii și contabilii pot înregistra.",
        "You may only read this company's data: only owners and accountants can record entries.",
    )
    .to_owned()
}

/// Where the active company's data may be shown: anywhere in the private
/// chat; in a group only when an owner bound the group to a company
/// (`/group`) and the sender is a member of it, and then that company is the
/// update's active one, whatever the sender chose privately. Otherwise the
/// answer that says why nothing is shown.
///
/// # Errors
/// The database failed.
pub async fn company_chat(ctx: &mut UpdateCtx<'_>) -> Result<Result<(), Unmet>, sqlx::Error> {
    if ctx.is_private() {
        return Ok(Ok(()));
    }
    let binding = match ctx.group.clone() {
        // Read with the account, in the update's first statement.
        Some(binding) => binding,
        None => group_binding(ctx).await?,
    };
    let GroupBinding::Bound { member, .. } = binding else {
        return Ok(Err(ctx
            .t(
                "Într-un grup nu arăt cifrele unei firme decât dacă un proprietar a legat grupul de firmă cu /grup. \
                 Întreabă-mă în chatul nostru privat.",
                "In a group I show a company's figures only once an owner has bound the group to it with /group. \
                 Ask me in our private chat.",
            )
            .to_owned()));
    };
    // Not linked: the handler says how to link, and shows nothing.
    if ctx.account.is_none() {
        return Ok(Ok(()));
    }
    let Some(company) = member else {
        return Ok(Err(ctx
            .t(
                "Grupul acesta arată o firmă al cărei membru nu ești.",
                "This group shows a company you are not a member of.",
            )
            .to_owned()));
    };
    if let Some(account) = ctx.account.as_mut() {
        account.active_company_id = Some(company.id);
        account.active_company = Some(company);
    }
    Ok(Ok(()))
}

/// The group's binding and the sender's membership of its company, read
/// now: for an update that may write (a read got them with the account).
async fn group_binding(ctx: &mut UpdateCtx<'_>) -> Result<GroupBinding, sqlx::Error> {
    let Some(company_id) = groups::bound_company(ctx.db, ctx.chat_id).await? else {
        return Ok(GroupBinding::Unbound);
    };
    let member = match ctx.account.as_ref().map(|a| a.user_id) {
        Some(user_id) => companies::for_member(ctx.db, company_id, user_id).await?,
        None => None,
    };
    Ok(GroupBinding::Bound { company_id, member })
}
