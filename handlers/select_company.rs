//! `/selectcompany [text]` (`/alegefirma`): search the person's companies (by
//! name, or by CUI) and choose the active one with a button; a single match
//! is chosen at once. Without a text, all of them, 10 to a page with ◀/▶:
//! keyset pages (`cp:a<id>`, `cp:b<id>`: after or before that company), each
//! one range of an index however many companies the person has. A press is
//! checked against membership again, every time; a page button naming a
//! company the person has left, or of the previous build's page numbers,
//! is no longer valid.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::format::clip;
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::companies::Place;
use crate::services::finance::{Company, companies};

/// Buttons per answer (and per page); more matches of a text ask for a
/// narrower search.
const MAX_BUTTONS: usize = 10;

/// Searches and answers with buttons, or selects the only match.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>, text: Option<&str>) -> HandlerResult {
    let account = match require::account(ctx) {
        Ok(account) => account,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let text = text.unwrap_or_default().trim();
    if text.is_empty() {
        let (prompt, keyboard) = match page(ctx, account.user_id, Place::First).await? {
            Listing::Page(prompt, keyboard) => (prompt, keyboard),
            Listing::Empty | Listing::Lost => {
                return Ok(Replies::html(
                    ctx.chat_id,
                    super::companies::no_companies(ctx),
                ));
            }
        };
        return Ok(Replies::one(BotMethod::html_with_keyboard(
            ctx.chat_id,
            prompt,
            keyboard,
        )));
    }
    let limit = i64::try_from(MAX_BUTTONS + 1).unwrap_or(i64::MAX);
    let mut found = companies::search(ctx.db, account.user_id, text, limit).await?;
    let answer = match found.len() {
        0 => ctx.t(
            format!(
                "Nicio firmă de-a ta nu conține „{}” și nu are acest CUI.",
                escape(text)
            ),
            format!(
                "None of your companies contains “{}” or has it as its CUI.",
                escape(text)
            ),
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
                    "\nSunt mai multe decât încap aici: restrânge căutarea, de ex. /alegefirma &lt;parte din nume&gt; sau CUI-ul.",
                    "\nThere are more than fit here: narrow the search, e.g. /selectcompany &lt;part of the name&gt; or the CUI.",
                ));
            }
            let keyboard = keyboard(&found, account.active_company_id, Vec::new());
            return Ok(Replies::one(BotMethod::html_with_keyboard(
                ctx.chat_id,
                prompt,
                keyboard,
            )));
        }
    };
    Ok(Replies::html(ctx.chat_id, answer))
}

/// What a page of the person's companies came to.
enum Listing {
    /// The prompt and its keyboard.
    Page(String, InlineKeyboardMarkup),
    /// The person is a member of no company.
    Empty,
    /// The page started at a company the person is no longer a member of.
    Lost,
}

/// The page of all the person's companies at `place`: the prompt and its
/// keyboard, with ◀/▶ when there are companies before or after it. A page
/// that comes out empty (the companies around it were left) shows the first.
async fn page(ctx: &mut UpdateCtx<'_>, user_id: i64, place: Place) -> Result<Listing, sqlx::Error> {
    let size = i64::try_from(MAX_BUTTONS).unwrap_or(i64::MAX);
    // One more than a page says whether another follows (or, backwards, precedes).
    let Some(mut found) = companies::of_user_page(ctx.db, user_id, place, size + 1).await? else {
        return Ok(Listing::Lost);
    };
    let mut place = place;
    if found.is_empty() && place != Place::First {
        place = Place::First;
        found = companies::of_user_page(ctx.db, user_id, place, size + 1)
            .await?
            .unwrap_or_default();
    }
    if found.is_empty() {
        return Ok(Listing::Empty);
    }
    let (before, after) = match place {
        Place::First => (false, found.len() > MAX_BUTTONS),
        Place::After(_) => (true, found.len() > MAX_BUTTONS),
        Place::Before(_) => {
            let more = found.len() > MAX_BUTTONS;
            if more {
                found.remove(0);
            }
            (more, true)
        }
    };
    found.truncate(MAX_BUTTONS);
    let mut nav = Vec::new();
    if let (true, Some(first)) = (before, found.first()) {
        nav.push(button(
            "◀".to_owned(),
            Callback::SelectPage(Place::Before(first.id)),
        ));
    }
    if let (true, Some(last)) = (after, found.last()) {
        nav.push(button(
            "▶".to_owned(),
            Callback::SelectPage(Place::After(last.id)),
        ));
    }
    let prompt = ctx
        .t("Alege firma activă:", "Choose the active company:")
        .to_owned();
    let active = ctx.account.as_ref().and_then(|a| a.active_company_id);
    Ok(Listing::Page(prompt, keyboard(&found, active, nav)))
}

fn button(text: String, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::builder()
        .text(text)
        .callback_data(callback.data())
        .build()
}

/// A button per company (its CUI beside the name, to tell like names
/// apart), then the row `nav` of ◀/▶ when not empty.
fn keyboard(
    companies: &[Company],
    active: Option<i64>,
    nav: Vec<InlineKeyboardButton>,
) -> InlineKeyboardMarkup {
    let mut rows: Vec<Vec<InlineKeyboardButton>> = companies
        .iter()
        .map(|c| {
            let mark = if active == Some(c.id) { "✅ " } else { "" };
            let cui = c
                .cui
                .as_deref()
                .map(|cui| format!(" · {cui}"))
                .unwrap_or_default();
            vec![button(
                format!("{mark}{}{cui}", clip(&c.name, 60)),
                Callback::SelectCompany(c.id),
            )]
        })
        .collect();
    if !nav.is_empty() {
        rows.push(nav);
    }
    InlineKeyboardMarkup::builder()
        .inline_keyboard(rows)
        .build()
}

/// A press on ◀/▶ (`cp:...`): that page of the presser's companies, in
/// place; a page starting at a company they have left is no longer valid.
///
/// # Errors
/// The database failed.
pub async fn page_pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    place: Place,
) -> HandlerResult {
    let Some(account) = ctx.account.clone() else {
        return Ok(Replies::notice(callback_query_id, require::link_first(ctx)));
    };
    let method = match page(ctx, account.user_id, place).await? {
        Listing::Page(prompt, keyboard) => {
            BotMethod::edit_html(ctx.chat_id, message_id, prompt, Some(keyboard))
        }
        Listing::Empty => BotMethod::edit_html(
            ctx.chat_id,
            message_id,
            super::companies::no_companies(ctx),
            None,
        ),
        Listing::Lost => return Ok(super::stale_button(ctx, callback_query_id)),
    };
    Ok(Replies::one(method).then(BotMethod::answer_callback(callback_query_id, None)))
}

/// A press on `co:<id>`: selects the company when the presser is a member of
/// it now; otherwise refuses and changes nothing.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    company_id: i64,
) -> HandlerResult {
    let refuse = |notice: &str| Ok(Replies::notice(callback_query_id, notice));
    let Some(account) = ctx.account.clone() else {
        return refuse(require::link_first(ctx));
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
