//! `/selectcompany [text]` (`/alegefirma`): search the person's companies and
//! choose the active one with a button; a single match is chosen at once.
//! A press is checked against membership again, every time.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::telegram_html::escape;
use crate::front::bot::format::clip;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::{Company, companies};

/// Buttons per answer; more matches ask for a narrower search.
const MAX_BUTTONS: usize = 10;

/// Searches and answers with buttons, or selects the only match.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "selectcompany"))]
pub async fn run(ctx: &mut UpdateCtx<'_>, text: Option<&str>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let text = text.unwrap_or_default().trim();
    let limit = i64::try_from(MAX_BUTTONS + 1).unwrap_or(i64::MAX);
    let mut found = companies::search(ctx.db, account.user_id, text, limit).await?;
    let answer = match found.len() {
        0 if text.is_empty() => super::companies::no_companies(ctx),
        0 => ctx.t(
            format!("Nicio firmă de-a ta nu conține „{}”.", escape(text)),
            format!("None of your companies contains “{}”.", escape(text)),
        ),
        1 => {
            let company = found.remove(0);
            companies::set_active(ctx.db, ctx.from.id, Some(company.id)).await?;
            selected(ctx, &company)
        }
        n => {
            let more = n > MAX_BUTTONS;
            found.truncate(MAX_BUTTONS);
            let mut prompt = ctx
                .t("Alege firma activă:", "Choose the active company:")
                .to_owned();
            if more {
                prompt.push_str(ctx.t(
                    "\nSunt mai multe decât încap aici: restrânge căutarea, de ex. /alegefirma &lt;parte din nume&gt;.",
                    "\nThere are more than fit here: narrow the search, e.g. /selectcompany &lt;part of the name&gt;.",
                ));
            }
            let keyboard = keyboard(&found, account.active_company_id);
            return Ok(Replies::one(BotMethod::html_with_keyboard(
                ctx.chat_id,
                prompt,
                keyboard,
            )));
        }
    };
    Ok(Replies::html(ctx.chat_id, answer))
}

fn keyboard(companies: &[Company], active: Option<i64>) -> InlineKeyboardMarkup {
    let rows = companies
        .iter()
        .map(|c| {
            let mark = if active == Some(c.id) { "✅ " } else { "" };
            vec![
                InlineKeyboardButton::builder()
                    .text(format!("{mark}{}", clip(&c.name, 60)))
                    .callback_data(Callback::SelectCompany(c.id).data())
                    .build(),
            ]
        })
        .collect();
    InlineKeyboardMarkup::builder()
        .inline_keyboard(rows)
        .build()
}

/// A press on `co:<id>`: selects the company when the presser is a member of
/// it now; otherwise refuses and changes nothing.
///
/// # Errors
/// The database failed.
#[tracing::instrument(skip_all, fields(cmd = "selectcompany.pressed"))]
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    company_id: i64,
) -> HandlerResult {
    let refuse = |notice: &str| {
        Ok(Replies::one(BotMethod::answer_callback(
            callback_query_id,
            Some(notice.to_owned()),
        )))
    };
    let Some(account) = ctx.account.clone() else {
        return refuse(ctx.t(
            "Leagă-ți întâi contul: /inregistrare sau /start <cod>.",
            "Link your account first: /register or /start <code>.",
        ));
    };
    let Some(company) = companies::for_member(ctx.db, company_id, account.user_id).await? else {
        tracing::warn!(
            company.id = company_id,
            "button for a company the presser is not a member of"
        );
        return refuse(ctx.t(
            "Nu ești membru al acestei firme.",
            "You are not a member of this company.",
        ));
    };
    companies::set_active(ctx.db, ctx.from.id, Some(company.id)).await?;
    Ok(Replies::one(BotMethod::edit_html(
        ctx.chat_id,
        message_id,
        selected(ctx, &company),
        None,
    ))
    .then(BotMethod::answer_callback(callback_query_id, None)))
}

fn selected(ctx: &UpdateCtx<'_>, company: &Company) -> String {
    let name = escape(&clip(&company.name, 200));
    ctx.t(
        format!("Firma activă: <b>{name}</b>. Acum: /sold, /facturi, /trezorerie, /adauga."),
        format!("Active company: <b>{name}</b>. Now try /dashboard, /invoices, /treasury, /add."),
    )
}
