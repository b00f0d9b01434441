//! `/group [off]` (`/grup [stop]`): an owner binds the group chat it is sent
//! in to their active company, on purpose, so that the company's members can
//! ask for its figures there (everyone in the group sees the answers);
//! `off` undoes it. Unbound groups get no company data at all.

use crate::blocks::format::clip;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::{Role, companies, groups};

/// Binds or unbinds the group.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, args: Option<&str>) -> HandlerResult {
    if ctx.is_private() {
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Trimite /grup în grupul în care vrei să arăt firma activă.",
                "Send /group in the group where the active company should be shown.",
            ),
        ));
    }
    let off = match args.map(|a| a.trim().to_lowercase()) {
        None => false,
        Some(word) if ["off", "stop"].contains(&word.as_str()) => true,
        Some(_) => {
            return Ok(Replies::html(
                ctx.chat_id,
                ctx.t("Scrie /grup sau /grup stop.", "Send /group or /group off."),
            ));
        }
    };
    if off {
        return unbind(ctx).await;
    }
    let (account, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    if company.role != Role::Owner {
        return Ok(Replies::html(ctx.chat_id, only_owners(ctx)));
    }
    groups::bind(ctx.db, ctx.chat_id, company.id, account.user_id).await?;
    let name = escape(&clip(&company.name, 100));
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            format!(
                "Grupul acesta arată acum firma <b>{name}</b>: membrii ei pot cere aici /sold, /facturi, \
                 /trezorerie și pot înregistra cu /adauga, iar toți cei din grup văd răspunsurile. \
                 /grup stop oprește asta."
            ),
            format!(
                "This group now shows <b>{name}</b>: its members can ask for /dashboard, /invoices and \
                 /treasury here and record with /add, and everyone in the group sees the answers. \
                 /group off stops this."
            ),
        ),
    ))
}

/// Unbinds the group, when the sender owns the company it is bound to.
async fn unbind(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let Some(company_id) = groups::bound_company(ctx.db, ctx.chat_id).await? else {
        return Ok(Replies::html(
            ctx.chat_id,
            ctx.t(
                "Grupul acesta nu arată nicio firmă.",
                "This group shows no company.",
            ),
        ));
    };
    let owner = companies::for_member(ctx.db, company_id, account.user_id)
        .await?
        .is_some_and(|c| c.role == Role::Owner);
    if !owner {
        return Ok(Replies::html(ctx.chat_id, only_owners(ctx)));
    }
    groups::unbind(ctx.db, ctx.chat_id).await?;
    Ok(Replies::html(
        ctx.chat_id,
        ctx.t(
            "Gata: grupul acesta nu mai arată nicio firmă.",
            "Done: this group no longer shows any company.",
        ),
    ))
}

fn only_owners(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Doar un proprietar al firmei poate lega un grup de ea sau îl poate dezlega.",
        "Only an owner of the company can bind a group to it or unbind it.",
    )
    .to_owned()
}
