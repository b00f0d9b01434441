//! `/companies` (`/firme`): the person's companies with their CUI, the active
//! one marked.

use crate::blocks::format::{clip, fit};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{HandlerResult, Lang, Replies, UpdateCtx, require};
use crate::services::finance::companies::Place;
use crate::services::finance::{Role, companies};

/// The most companies listed (the first by name, one range of an index);
/// beyond them the person is pointed to the search.
const MAX_LISTED: usize = 50;

/// Lists the companies.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    // One more than listed says whether there are more: read no further.
    let limit = i64::try_from(MAX_LISTED + 1).unwrap_or(i64::MAX);
    let list = companies::of_user_page(ctx.db, account.user_id, Place::First, limit)
        .await?
        .unwrap_or_default();
    if list.is_empty() {
        return Ok(Replies::html(ctx.chat_id, no_companies(ctx)));
    }
    let mut text = ctx
        .t("<b>Firmele tale</b>\n", "<b>Your companies</b>\n")
        .to_owned();
    for company in list.iter().take(MAX_LISTED) {
        let name = escape(&clip(&company.name, 80));
        let role = role_name(ctx.lang, company.role);
        let cui = company
            .cui
            .as_deref()
            .map(|cui| format!(" · CUI {}", escape(cui)))
            .unwrap_or_default();
        if account.active_company_id == Some(company.id) {
            text.push_str(&format!("✅ <b>{name}</b>{cui} · {role}\n"));
        } else {
            text.push_str(&format!("• {name}{cui} · {role}\n"));
        }
    }
    if list.len() > MAX_LISTED {
        text.push_str(ctx.t(
            "… și altele: caută cu /alegefirma &lt;nume sau CUI&gt;\n",
            "… and more: search with /selectcompany &lt;name or CUI&gt;\n",
        ));
    }
    text.push_str(ctx.t(
        "\nAlege firma activă cu /alegefirma.",
        "\nChoose the active company with /selectcompany.",
    ));
    Ok(Replies::html(ctx.chat_id, fit(text)))
}

/// The role as the language names it.
pub fn role_name(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Owner => lang.pick("proprietar", "owner"),
        Role::Accountant => lang.pick("contabil", "accountant"),
        Role::Viewer => lang.pick("doar citire", "viewer"),
    }
}

/// The answer to someone who is a member of no company.
pub fn no_companies(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Nu ești membru în nicio firmă. Creează una cu /firmanoua &lt;nume&gt; [CUI], \
         sau roagă proprietarul unei firme să te invite.",
        "You are not a member of any company yet. Create one with /newcompany &lt;name&gt; [CUI], \
         or ask a company's owner to invite you.",
    )
    .to_owned()
}
