//! `/members` (`/membri`): an owner sees the active company's members with
//! their roles, and changes a role or removes someone with buttons, each
//! change asked and then confirmed. The last owner can be neither removed
//! nor demoted. Every press is checked again: the presser must be an owner
//! of the company the button names, now. The list is keyset pages of
//! [`PAGE`] members (▶ the next, ⏮ the first), each one range of an index
//! however many members the company has.

use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::blocks::format::clip;
use crate::blocks::telegram_html::escape;
use crate::front::bot::callback::MemberStep;
use crate::front::bot::{BotMethod, Callback, HandlerResult, Replies, UpdateCtx, require};
use crate::services::finance::companies::{self, ChangeRole, Member, MemberCursor, RemoveMember};
use crate::services::finance::{Company, Role};

/// Lists the active company's members, with a button each.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    if company.role != Role::Owner {
        return Ok(Replies::html(ctx.chat_id, only_owners(ctx)));
    }
    let (text, keyboard) = list(ctx, &company, None, None).await?;
    Ok(Replies::one(BotMethod::html_with_keyboard(
        ctx.chat_id,
        text,
        keyboard,
    )))
}

fn only_owners(ctx: &UpdateCtx<'_>) -> &'static str {
    ctx.t(
        "Doar proprietarii firmei pot vedea și administra membrii.",
        "Only the company's owners can see and manage its members.",
    )
}

fn button(text: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::builder()
        .text(text)
        .callback_data(callback.data())
        .build()
}

/// Members per page of the list.
const PAGE: usize = 20;

/// What a press on the members' buttons is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The list: the page after this member, or the first.
    List(Option<MemberCursor>),
    /// One member (`users.id`), and the step.
    Member(i64, MemberStep),
}

/// A page of the members' list (after `after`, or the first) and a button
/// per member, ▶/⏮ when there is more; `notice` (what just changed) first.
async fn list(
    ctx: &mut UpdateCtx<'_>,
    company: &Company,
    after: Option<MemberCursor>,
    notice: Option<String>,
) -> Result<(String, InlineKeyboardMarkup), sqlx::Error> {
    let size = i64::try_from(PAGE).unwrap_or(i64::MAX);
    let mut members = companies::members_page(ctx.db, company.id, after, size + 1).await?;
    let more = members.len() > PAGE;
    members.truncate(PAGE);
    let lang = ctx.lang;
    let name = escape(&clip(&company.name, 200));
    let mut text = notice.map(|n| format!("{n}\n\n")).unwrap_or_default();
    text.push_str(&ctx.t(
        format!("<b>Membrii firmei {name}</b>:"),
        format!("<b>Members of {name}</b>:"),
    ));
    for member in &members {
        text.push_str(&format!(
            "\n• {} — {}",
            escape(&clip(&member.display(), 80)),
            member.role.name(lang)
        ));
    }
    text.push_str(ctx.t(
        "\n\nApasă pe un nume ca să schimbi rolul sau să elimini persoana din firmă. Ca să inviți pe cineva, trimite /invita.",
        "\n\nTap a name to change the role or remove the person. To invite someone, send /invite.",
    ));
    let mut rows: Vec<Vec<InlineKeyboardButton>> = members
        .iter()
        .map(|m| {
            vec![button(
                format!("{} · {}", clip(&m.display(), 50), m.role.name(lang)),
                Callback::Member {
                    company: company.id,
                    user: m.user_id,
                    step: MemberStep::Options,
                },
            )]
        })
        .collect();
    let mut nav = Vec::new();
    if after.is_some() {
        nav.push(button("⏮", Callback::Members(company.id, None)));
    }
    if let (true, Some(last)) = (more, members.last()) {
        let next = Some(MemberCursor::after(last));
        nav.push(button("▶", Callback::Members(company.id, next)));
    }
    if !nav.is_empty() {
        rows.push(nav);
    }
    let keyboard = InlineKeyboardMarkup::builder()
        .inline_keyboard(rows)
        .build();
    Ok((text, keyboard))
}

/// A press on a members' button (`company`, and for a member's buttons
/// `user` and the step): refused unless the presser owns the company now.
///
/// # Errors
/// The database failed.
pub async fn pressed(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    company_id: i64,
    target: Target,
) -> HandlerResult {
    let (chat_id, lang) = (ctx.chat_id, ctx.lang);
    let edit = |text: String, keyboard: Option<InlineKeyboardMarkup>| {
        Replies::one(BotMethod::edit_html(chat_id, message_id, text, keyboard))
            .then(BotMethod::answer_callback(callback_query_id, None))
    };
    let owned = match &ctx.account {
        Some(account) => companies::for_member(ctx.db, company_id, account.user_id)
            .await?
            .filter(|c| c.role == Role::Owner),
        None => None,
    };
    let Some(company) = owned else {
        tracing::warn!(
            company.id = company_id,
            "members button of a company the presser does not own"
        );
        return Ok(Replies::notice(callback_query_id, only_owners(ctx)));
    };
    let (user, step) = match target {
        Target::List(after) => {
            let (text, keyboard) = list(ctx, &company, after, None).await?;
            return Ok(edit(text, Some(keyboard)));
        }
        Target::Member(user, step) => (user, step),
    };
    let Some(member) = companies::member(ctx.db, company.id, user).await? else {
        let gone = ctx.t(
            "Persoana aceasta nu mai este membră a firmei.",
            "This person is no longer a member of the company.",
        );
        let (text, keyboard) = list(ctx, &company, None, Some(gone.to_owned())).await?;
        return Ok(edit(text, Some(keyboard)));
    };
    let who = escape(&clip(&member.display(), 80));
    let company_name = escape(&clip(&company.name, 200));
    let at = |step| Callback::Member {
        company: company.id,
        user,
        step,
    };
    let confirm = |yes: &str, step| {
        let no = lang.pick("Nu", "No");
        InlineKeyboardMarkup::builder()
            .inline_keyboard(vec![vec![
                button(yes, at(step)),
                button(no, at(MemberStep::Options)),
            ]])
            .build()
    };
    let notice = match step {
        MemberStep::Options => {
            return Ok(edit(
                options(ctx, &company, &member),
                Some(keyboard(ctx, &company, &member)),
            ));
        }
        MemberStep::AskRole(role) => {
            let role_name = role.name(lang);
            let text = ctx.t(
                format!("Schimbi rolul pentru <b>{who}</b> în <b>{role_name}</b>, la firma <b>{company_name}</b>?"),
                format!("Make <b>{who}</b> {role_name} of <b>{company_name}</b>?"),
            );
            let yes = ctx.t("Da, schimbă", "Yes, change");
            return Ok(edit(text, Some(confirm(yes, MemberStep::SetRole(role)))));
        }
        MemberStep::AskRemove => {
            let text = ctx.t(
                format!("Elimini persoana <b>{who}</b> din firma <b>{company_name}</b>? Nu va mai vedea cifrele firmei."),
                format!("Remove <b>{who}</b> from <b>{company_name}</b>? They will no longer see its figures."),
            );
            let yes = ctx.t("Da, elimină", "Yes, remove");
            return Ok(edit(text, Some(confirm(yes, MemberStep::Remove))));
        }
        MemberStep::SetRole(role) => {
            match companies::change_role(ctx.db, company.id, user, role).await? {
                ChangeRole::Changed => {
                    tracing::info!(
                        company.id = company.id,
                        user.id = user,
                        role = role.as_str(),
                        "role changed in the bot"
                    );
                    let role_name = role.name(lang);
                    ctx.t(
                        format!("✅ <b>{who}</b> are acum rolul <b>{role_name}</b>."),
                        format!("✅ <b>{who}</b> is now {role_name}."),
                    )
                }
                ChangeRole::LastOwner => last_owner(ctx),
                ChangeRole::NotMember => not_member(ctx),
            }
        }
        MemberStep::Remove => match companies::remove_member(ctx.db, company.id, user).await? {
            RemoveMember::Removed => {
                tracing::info!(
                    company.id = company.id,
                    user.id = user,
                    "member removed in the bot"
                );
                ctx.t(
                    format!("✅ <b>{who}</b> nu mai este membru al firmei."),
                    format!("✅ <b>{who}</b> is no longer a member."),
                )
            }
            RemoveMember::LastOwner => last_owner(ctx),
            RemoveMember::NotMember => not_member(ctx),
        },
    };
    // The presser may have demoted or removed themselves: list only if still an owner.
    let account = ctx.account.as_ref().map_or(0, |a| a.user_id);
    match companies::for_member(ctx.db, company.id, account).await? {
        Some(c) if c.role == Role::Owner => {
            let (text, keyboard) = list(ctx, &c, None, Some(notice)).await?;
            Ok(edit(text, Some(keyboard)))
        }
        _ => Ok(edit(notice, None)),
    }
}

fn last_owner(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Firma trebuie să aibă cel puțin un proprietar: fă mai întâi pe altcineva proprietar.",
        "The company must keep at least one owner: make someone else owner first.",
    )
    .to_owned()
}

fn not_member(ctx: &UpdateCtx<'_>) -> String {
    ctx.t(
        "Persoana aceasta nu mai este membră a firmei.",
        "This person is no longer a member of the company.",
    )
    .to_owned()
}

fn options(ctx: &UpdateCtx<'_>, company: &Company, member: &Member) -> String {
    let who = escape(&clip(&member.display(), 80));
    let company_name = escape(&clip(&company.name, 200));
    let role = member.role.name(ctx.lang);
    let mut text = ctx.t(
        format!("<b>{who}</b> are rolul <b>{role}</b> la firma <b>{company_name}</b>."),
        format!("<b>{who}</b> is {role} of <b>{company_name}</b>."),
    );
    if let Some(email) = &member.email {
        text.push_str(&format!("\n{}", escape(email)));
    }
    text
}

fn keyboard(ctx: &UpdateCtx<'_>, company: &Company, member: &Member) -> InlineKeyboardMarkup {
    let lang = ctx.lang;
    let at = |step| Callback::Member {
        company: company.id,
        user: member.user_id,
        step,
    };
    let roles = [Role::Owner, Role::Accountant, Role::Viewer]
        .into_iter()
        .filter(|r| *r != member.role)
        .map(|r| {
            let text = lang.pick(
                format!("Rol: {}", r.name(lang)),
                format!("Make {}", r.name(lang)),
            );
            button(text, at(MemberStep::AskRole(r)))
        })
        .collect();
    InlineKeyboardMarkup::builder()
        .inline_keyboard(vec![
            roles,
            vec![button(
                ctx.t("Elimină din firmă", "Remove"),
                at(MemberStep::AskRemove),
            )],
            vec![button(
                ctx.t("« Înapoi", "« Back"),
                Callback::Members(company.id, None),
            )],
        ])
        .build()
}
