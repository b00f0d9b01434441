//! The bot's commands: [`COMMANDS`] is the one table of them (names in both
//! languages, help lines, reads-only, private-chat only, handler), and each
//! command's handler is a file here. A handler gets the update's
//! [`UpdateCtx`] (sender, chat, language, linked account, transaction) and
//! returns the replies; it knows nothing of HTTP.
//!
//! Adding a command: an entry in [`COMMANDS`], its handler file, its test
//! (and its row in `docs/bot.md`, which a test compares with this table).

use crate::front::bot::command::{Audience, Command, Help, Spec};
use crate::front::bot::{Callback, HandlerResult, Replies, UpdateCtx, require};

pub mod add;
pub mod cash;
pub mod chart;
pub mod clear;
pub mod code;
pub mod companies;
pub mod dashboard;
pub mod digest;
pub mod group;
pub mod help;
pub mod invite;
pub mod invoices;
pub mod language;
pub mod link;
pub mod media;
pub mod members;
pub mod new_company;
pub mod notify;
pub mod partners;
pub mod password;
pub mod register;
pub mod select_company;
pub mod start;
pub mod text;
pub mod treasury;
pub mod unknown;
pub mod unlink;

/// Every command, in the order `/help` lists them. Each `Help` is the name
/// shown first in that language, its arguments, and what it does.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "start",
        aliases: &[],
        ro: Help { name: "start", args: "", text: "începe și leagă contul" },
        en: Help { name: "start", args: "", text: "begin and link your account" },
        reads_only: false,
        // `/start <code>` is private-only, bare `/start` is not: see code.rs.
        private_only: false,
        audience: Audience::Unlinked,
        company_data: false,
        run: |ctx, args| Box::pin(start::run(ctx, args)),
    },
    Spec {
        name: "register",
        aliases: &["inregistrare"],
        ro: Help { name: "inregistrare", args: "", text: "creează un cont legat de acest cont Telegram" },
        en: Help { name: "register", args: "", text: "create an account linked to this Telegram account" },
        reads_only: false,
        private_only: true,
        audience: Audience::Unlinked,
        company_data: false,
        run: |ctx, _| Box::pin(register::run(ctx)),
    },
    Spec {
        name: "link",
        aliases: &["leaga"],
        ro: Help { name: "leaga", args: "", text: "leagă un cont web existent" },
        en: Help { name: "link", args: "", text: "link an existing web account" },
        reads_only: false,
        private_only: true,
        audience: Audience::Unlinked,
        company_data: false,
        run: |ctx, _| Box::pin(link::run(ctx)),
    },
    Spec {
        name: "password",
        aliases: &["parola"],
        ro: Help { name: "parola", args: "", text: "un link ca să alegi emailul și parola pentru web" },
        en: Help { name: "password", args: "", text: "a link to choose an email and a password for the web" },
        reads_only: false,
        private_only: true,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, _| Box::pin(password::run(ctx)),
    },
    Spec {
        name: "unlink",
        aliases: &["dezleaga"],
        ro: Help { name: "dezleaga", args: "", text: "dezleagă acest cont Telegram" },
        en: Help { name: "unlink", args: "", text: "unlink this Telegram account" },
        reads_only: false,
        private_only: true,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, _| Box::pin(unlink::run(ctx)),
    },
    Spec {
        name: "companies",
        aliases: &["firme"],
        ro: Help { name: "firme", args: "", text: "firmele tale" },
        en: Help { name: "companies", args: "", text: "your companies" },
        reads_only: true,
        private_only: true,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, _| Box::pin(companies::run(ctx)),
    },
    Spec {
        name: "newcompany",
        aliases: &["firmanoua"],
        ro: Help { name: "firmanoua", args: "<nume> [CUI]", text: "creează o firmă, cu tine proprietar" },
        en: Help { name: "newcompany", args: "<name> [CUI]", text: "create a company, with you as its owner" },
        reads_only: false,
        private_only: false,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, args| Box::pin(new_company::run(ctx, args)),
    },
    Spec {
        name: "selectcompany",
        aliases: &["alegefirma"],
        ro: Help { name: "alegefirma", args: "[nume|CUI]", text: "alege firma activă" },
        en: Help { name: "selectcompany", args: "[name|CUI]", text: "choose the active company" },
        reads_only: false,
        private_only: true,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, args| Box::pin(select_company::run(ctx, args)),
    },
    Spec {
        name: "dashboard",
        aliases: &["sold", "balance"],
        ro: Help { name: "sold", args: "", text: "cifrele firmei active" },
        en: Help { name: "dashboard", args: "", text: "the active company's figures" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, _| Box::pin(dashboard::run(ctx)),
    },
    Spec {
        name: "invoices",
        aliases: &["facturi"],
        ro: Help { name: "facturi", args: "[neplatite|platite] [text]", text: "facturile; text: un partener, un CUI sau un număr" },
        en: Help { name: "invoices", args: "[unpaid|paid] [text]", text: "the invoices; text: a partner, a CUI or a number" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, args| Box::pin(invoices::run(ctx, args)),
    },
    Spec {
        name: "partners",
        aliases: &["parteneri"],
        ro: Help { name: "parteneri", args: "", text: "cine datorează firmei cel mai mult și cui datorează ea" },
        en: Help { name: "partners", args: "", text: "who owes the company most, and whom it owes most" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, _| Box::pin(partners::run(ctx)),
    },
    Spec {
        name: "treasury",
        aliases: &["trezorerie"],
        ro: Help { name: "trezorerie", args: "", text: "conturile și soldurile" },
        en: Help { name: "treasury", args: "", text: "accounts and balances" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, _| Box::pin(treasury::run(ctx)),
    },
    Spec {
        name: "add",
        aliases: &["adauga"],
        ro: Help { name: "adauga", args: "<sumă> [monedă] [zi] <notă>", text: "o cheltuială de numerar; +sumă pentru o încasare" },
        en: Help { name: "add", args: "<amount> [currency] [day] <note>", text: "a cash expense; +amount for income" },
        reads_only: false,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, args| Box::pin(add::run(ctx, args)),
    },
    Spec {
        name: "cash",
        aliases: &["casa"],
        ro: Help { name: "casa", args: "", text: "ultimele înregistrări de numerar" },
        en: Help { name: "cash", args: "", text: "the latest cash entries" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, _| Box::pin(cash::run(ctx)),
    },
    Spec {
        name: "chart",
        aliases: &["grafic"],
        ro: Help { name: "grafic", args: "", text: "graficele ultimelor 6 luni: facturi, plăți, numerar, restanțe" },
        en: Help { name: "chart", args: "", text: "charts of the last 6 months: invoices, payments, cash, overdue" },
        reads_only: true,
        private_only: false,
        audience: Audience::Company,
        company_data: true,
        run: |ctx, _| Box::pin(chart::run(ctx)),
    },
    Spec {
        name: "invite",
        aliases: &["invita"],
        ro: Help { name: "invita", args: "[cititor|contabil|proprietar]", text: "invită pe cineva în firma activă (proprietarii)" },
        en: Help { name: "invite", args: "[viewer|accountant|owner]", text: "invite someone to the active company (owners)" },
        reads_only: false,
        // The answer carries the invitation's code.
        private_only: true,
        audience: Audience::Company,
        company_data: false,
        run: |ctx, args| Box::pin(invite::run(ctx, args)),
    },
    Spec {
        name: "members",
        aliases: &["membri"],
        ro: Help { name: "membri", args: "", text: "membrii firmei active și rolurile lor (proprietarii)" },
        en: Help { name: "members", args: "", text: "the active company's members and their roles (owners)" },
        reads_only: true,
        private_only: true,
        audience: Audience::Company,
        company_data: false,
        run: |ctx, _| Box::pin(members::run(ctx)),
    },
    Spec {
        name: "notify",
        aliases: &["notificari"],
        ro: Help { name: "notificari", args: "[prag <sumă> [monedă]]", text: "ce îți spun singur despre firma activă (scadențe, restanțe, facturi noi, sold mic)" },
        en: Help { name: "notify", args: "[threshold <amount> [currency]]", text: "what I tell you on my own about the active company (due dates, overdue, new invoices, low balance)" },
        // It may set a threshold.
        reads_only: false,
        private_only: true,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, args| Box::pin(notify::run(ctx, args)),
    },
    Spec {
        name: "clear",
        aliases: &[],
        ro: Help { name: "clear", args: "", text: "deselectează firma activă" },
        en: Help { name: "clear", args: "", text: "deselect the active company" },
        reads_only: false,
        private_only: false,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, _| Box::pin(clear::run(ctx)),
    },
    Spec {
        name: "language",
        aliases: &["limba"],
        ro: Help { name: "limba", args: "ro|en", text: "limba" },
        en: Help { name: "language", args: "ro|en", text: "the language" },
        reads_only: false,
        private_only: false,
        audience: Audience::Linked,
        company_data: false,
        run: |ctx, args| Box::pin(language::run(ctx, args)),
    },
    Spec {
        name: "group",
        aliases: &["grup"],
        ro: Help { name: "grup", args: "[stop]", text: "arată firma activă în acest grup (proprietarii)" },
        en: Help { name: "group", args: "[off]", text: "show the active company in this group (owners)" },
        reads_only: false,
        private_only: false,
        audience: Audience::Company,
        company_data: false,
        run: |ctx, args| Box::pin(group::run(ctx, args)),
    },
    Spec {
        name: "help",
        aliases: &["ajutor"],
        ro: Help { name: "ajutor", args: "", text: "această listă" },
        en: Help { name: "help", args: "", text: "this list" },
        reads_only: true,
        private_only: false,
        audience: Audience::Everyone,
        company_data: false,
        run: |ctx, _| Box::pin(help::run(ctx)),
    },
];

/// Runs the handler of `command`: a command of the table (refused outside
/// the private chat when it is private-only), text, or an unknown command.
///
/// # Errors
/// The database failed; the update is rolled back and Telegram retries it.
pub async fn dispatch(command: Command, ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    match command {
        Command::Known { spec, args } => {
            if spec.private_only
                && let Err(unmet) = require::private_chat(ctx)
            {
                return Ok(Replies::html(ctx.chat_id, unmet));
            }
            if spec.company_data
                && let Err(unmet) = require::company_chat(ctx).await?
            {
                return Ok(Replies::html(ctx.chat_id, unmet));
            }
            (spec.run)(ctx, args.as_deref()).await
        }
        Command::Text(text) => text::run(ctx, &text).await,
        Command::Unknown(name) => Ok(unknown::run(ctx, &name)),
    }
}

/// Runs the handler of a button press. The data is untrusted: it was parsed
/// into a [`Callback`] (`None`: anything else, a stale button), and each
/// handler re-checks what it names against the database.
///
/// # Errors
/// The database failed; the update is rolled back and Telegram retries it.
pub async fn callback(
    ctx: &mut UpdateCtx<'_>,
    callback_query_id: &str,
    message_id: i32,
    pressed: Option<Callback>,
) -> HandlerResult {
    // Buttons act in the chat their message is in: the same rules as the
    // commands that made them.
    let refused = match pressed {
        // Company choice and administration: private, as their commands.
        Some(
            Callback::SelectCompany(_)
            | Callback::SelectPage(_)
            | Callback::Invitation { .. }
            | Callback::Members(..)
            | Callback::Notify(_)
            | Callback::Digest(_)
            | Callback::Member { .. },
        ) => require::private_chat(ctx).err(),
        Some(Callback::InvoicePage { .. }) => require::company_chat(ctx).await?.err(),
        // The sender's own link, start buttons, and an author taking back
        // their own entry: answered wherever they were asked.
        Some(
            Callback::MoveLink(_) | Callback::KeepLink | Callback::Start(_) | Callback::UndoCash(_),
        )
        | None => None,
    };
    if let Some(unmet) = refused {
        // Plain text: none of these answers carries markup.
        return Ok(Replies::notice(callback_query_id, unmet));
    }
    match pressed {
        Some(Callback::SelectCompany(company_id)) => {
            select_company::pressed(ctx, callback_query_id, message_id, company_id).await
        }
        Some(Callback::Start(choice)) => start::pressed(ctx, callback_query_id, choice).await,
        Some(Callback::SelectPage(page)) => {
            select_company::page_pressed(ctx, callback_query_id, message_id, page).await
        }
        Some(Callback::UndoCash(entry_id)) => {
            cash::undo_pressed(ctx, callback_query_id, message_id, entry_id).await
        }
        Some(Callback::InvoicePage {
            filter,
            after,
            search,
        }) => {
            let list = invoices::List { filter, search };
            invoices::pressed(ctx, callback_query_id, message_id, list, after).await
        }
        Some(Callback::MoveLink(bytes)) => match Callback::link_code(bytes) {
            Some(code) => code::pressed_move(ctx, callback_query_id, message_id, &code).await,
            None => Ok(stale_button(ctx, callback_query_id)),
        },
        Some(Callback::KeepLink) => Ok(code::pressed_keep(ctx, callback_query_id, message_id)),
        Some(Callback::Invitation { code, accept }) => {
            invite::pressed(ctx, callback_query_id, message_id, code, accept).await
        }
        Some(Callback::Notify(change)) => {
            notify::pressed(ctx, callback_query_id, message_id, change).await
        }
        Some(Callback::Digest(change)) => {
            digest::pressed(ctx, callback_query_id, message_id, change).await
        }
        Some(Callback::Members(company, after)) => {
            let target = members::Target::List(after);
            members::pressed(ctx, callback_query_id, message_id, company, target).await
        }
        Some(Callback::Member {
            company,
            user,
            step,
        }) => {
            let target = members::Target::Member(user, step);
            members::pressed(ctx, callback_query_id, message_id, company, target).await
        }
        None => Ok(stale_button(ctx, callback_query_id)),
    }
}

/// A button press whose data we do not recognise (tampered, or from an old
/// version of the bot): stop the spinner and say so.
pub fn stale_button(ctx: &UpdateCtx<'_>, callback_query_id: &str) -> Replies {
    let notice = ctx.t(
        "Butonul acesta nu mai este valabil.",
        "This button is no longer valid.",
    );
    Replies::notice(callback_query_id, notice)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::front::bot::command::find;

    /// Where the commands are documented, and the heading of their table.
    const DOCS: (&str, &str) = ("docs/bot.md", "## Commands");

    /// The command names in the first two cells of each row of the table
    /// under `heading` in `markdown`.
    fn documented_rows(markdown: &str, heading: &str) -> Vec<Vec<String>> {
        let section = markdown
            .split_once(heading)
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("no {heading:?} section"));
        section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|row| {
                // `\|` is a `|` inside a cell.
                let row = row.replace("\\|", " ");
                let cells: Vec<&str> = row.split('|').skip(1).take(2).collect();
                cells
                    .concat()
                    .split('/')
                    .skip(1)
                    .map(|after| {
                        after
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .filter(|name: &String| !name.is_empty())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_documented_command_table_matches_the_commands() {
        let (file, heading) = DOCS;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let markdown = std::fs::read_to_string(&path).expect("the docs are there");
        let mut documented = BTreeSet::new();
        for names in documented_rows(&markdown, heading) {
            let spec = find(&names[0])
                .unwrap_or_else(|| panic!("{file} documents /{} which is no command", names[0]));
            for name in &names {
                let same = find(name).is_some_and(|s| std::ptr::eq(s, spec));
                assert!(same, "{file}: /{name} is not an alias of /{}", spec.name);
                documented.insert(name.clone());
            }
        }
        let table: BTreeSet<String> = COMMANDS
            .iter()
            .flat_map(Spec::names)
            .map(str::to_owned)
            .collect();
        assert_eq!(
            documented, table,
            "{file}'s command table and COMMANDS differ"
        );
    }
}
