//! Bot commands as data: a [`Spec`] per command (its names in both
//! languages, its help line in both, whether it only reads, whether it works
//! only in the private chat, its handler). The table of them is
//! [`crate::front::bot::handlers::COMMANDS`]; the parser, `/help`, the
//! dispatch, the reads-only decision, the name in logs and metrics, and
//! Telegram's command menu ([`menu`]) are all derived from it.

use std::future::Future;
use std::pin::Pin;

use super::handlers::COMMANDS;
use super::{HandlerResult, UpdateCtx};
use crate::blocks::Lang;
use crate::blocks::telegram_html::escape;

/// A handler's future.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = HandlerResult> + Send + 'a>>;

/// A command's handler: the update's context and the command's arguments
/// (trimmed, never empty: `None` when there are none).
pub type Run = for<'a, 'c> fn(&'a mut UpdateCtx<'c>, Option<&'a str>) -> BoxFuture<'a>;

/// One bot command.
pub struct Spec {
    /// The English name: what logs and metrics record, and the command in
    /// Telegram's English menu.
    pub name: &'static str,
    /// Every other name it answers to (the Romanian ones, other English ones).
    pub aliases: &'static [&'static str],
    /// The help line in Romanian.
    pub ro: Help,
    /// The help line in English.
    pub en: Help,
    /// Whether it only reads. A read's claim commits on its own and its
    /// reply is not stored: a retry is answered afresh. Anything that may
    /// write (even only sometimes) runs in one transaction with its claim.
    pub reads_only: bool,
    /// Whether it works only in the private chat with the bot (account
    /// commands: in a group others would see the answer, and the link would
    /// be made for the wrong chat); elsewhere it says so and does nothing.
    pub private_only: bool,
    /// Who it is for, which decides where `/help` lists it.
    pub audience: Audience,
    /// Whether it shows or changes the active company's data (figures,
    /// invoices, entries). In a group it answers only when an owner bound
    /// the group to a company with `/group`, and then about that company,
    /// to its members; elsewhere in a group it refuses (everyone there would
    /// see one member's figures).
    pub company_data: bool,
    /// The handler.
    pub run: Run,
}

/// Who a command is for: `/help` lists, for a person not linked yet, the
/// `Unlinked` and `Everyone` commands; for a linked person without an
/// active company, the `Linked` and `Everyone` ones; once a company is
/// active, all but the `Unlinked` ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Ways in: for someone whose Telegram account is not linked.
    Unlinked,
    /// Anyone.
    Everyone,
    /// A linked person (the account and its companies).
    Linked,
    /// A linked person with an active company (its figures and entries).
    Company,
}

/// A command's line in `/help` and Telegram's menu, in one language.
pub struct Help {
    /// The name shown first in this language (the others are listed as aliases).
    pub name: &'static str,
    /// Its arguments as the person types them (`[unpaid|paid]`), or `""`.
    pub args: &'static str,
    /// What it does.
    pub text: &'static str,
}

impl Spec {
    /// Every name it answers to, the English one first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Its help in `lang`.
    pub fn help(&self, lang: Lang) -> &Help {
        lang.pick(&self.ro, &self.en)
    }

    /// Its line in `/help`, Telegram HTML: `/name args — what (alias /other, /names)`.
    pub fn help_line(&self, lang: Lang) -> String {
        let help = self.help(lang);
        let mut line = format!("/{}", help.name);
        if !help.args.is_empty() {
            line.push(' ');
            line.push_str(&escape(help.args));
        }
        line.push_str(" — ");
        line.push_str(help.text);
        let others: Vec<&str> = self.names().filter(|n| *n != help.name).collect();
        if !others.is_empty() {
            line.push_str(" (alias /");
            line.push_str(&others.join(", /"));
            line.push(')');
        }
        line
    }
}

/// The command with `name` (any of its names, lowercase).
pub fn find(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|spec| spec.names().any(|n| n == name))
}

/// Telegram's command menu in `lang` (`setMyCommands`): each command under
/// the name shown first in that language, with what it does.
pub fn menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    COMMANDS
        .iter()
        .map(|spec| {
            let help = spec.help(lang);
            (help.name, help.text)
        })
        .collect()
}

/// What a message's text asks for.
#[derive(Clone)]
pub enum Command {
    /// A command of the table, with its arguments (trimmed, never empty).
    Known {
        /// Which.
        spec: &'static Spec,
        /// Its arguments.
        args: Option<String>,
    },
    /// Text that is not a command, in a private chat.
    Text(String),
    /// A command we do not know (its name, lowercased).
    Unknown(String),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Known { spec, args } => write!(f, "/{} {args:?}", spec.name),
            Self::Text(text) => write!(f, "Text({text:?})"),
            Self::Unknown(name) => write!(f, "Unknown({name:?})"),
        }
    }
}

impl PartialEq for Command {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Known { spec: a, args: x }, Self::Known { spec: b, args: y }) => {
                std::ptr::eq(*a, *b) && x == y
            }
            (Self::Text(a), Self::Text(b)) | (Self::Unknown(a), Self::Unknown(b)) => a == b,
            _ => false,
        }
    }
}

impl Command {
    /// Reads a message's text. `None` when the message is not for this bot:
    /// `/cmd@otherbot`, or plain chatter in a group.
    pub fn parse(text: &str, private: bool, bot_username: &str) -> Option<Self> {
        let text = text.trim();
        let Some(rest) = text.strip_prefix('/') else {
            return private.then(|| Self::Text(text.to_owned()));
        };
        let (head, args) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(h, a)| (h, a.trim()));
        let name = match head.split_once('@') {
            Some((name, bot)) if bot.eq_ignore_ascii_case(bot_username) => name,
            Some(_) => return None,
            None => head,
        };
        let name = name.to_lowercase();
        Some(match find(&name) {
            Some(spec) => Self::Known {
                spec,
                args: (!args.is_empty()).then(|| args.to_owned()),
            },
            None => Self::Unknown(name),
        })
    }

    /// Whether it only reads (see [`Spec::reads_only`]); text may be a code
    /// that links, and an unknown command only answers.
    pub fn reads_only(&self) -> bool {
        match self {
            Self::Known { spec, .. } => spec.reads_only,
            Self::Text(_) => false,
            Self::Unknown(_) => true,
        }
    }

    /// A short name for logs and metrics (never the arguments: they may hold a code).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Known { spec, .. } => spec.name,
            Self::Text(_) => "text",
            Self::Unknown(_) => "unknown",
        }
    }

    /// The arguments, if any (a known command's, or the text).
    pub fn args(&self) -> Option<&str> {
        match self {
            Self::Known { args, .. } => args.as_deref(),
            Self::Text(text) => Some(text),
            Self::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A parse as `(name, arguments)`: the command's English name, `text`
    /// with the text, or `unknown` with the name.
    fn parsed(text: &str, private: bool, us: &str) -> Option<(&'static str, Option<String>)> {
        Command::parse(text, private, us).map(|c| match c {
            Command::Known { spec, args } => (spec.name, args),
            Command::Text(text) => ("text", Some(text)),
            Command::Unknown(name) => ("unknown", Some(name)),
        })
    }

    #[test]
    fn commands_aliases_and_bot_suffixes() {
        let some = |name, args: Option<&str>| Some((name, args.map(str::to_owned)));
        let cases = [
            ("/start", true, some("start", None), "bare start"),
            (
                "/start ABCD2345",
                true,
                some("start", Some("ABCD2345")),
                "deep-link payload",
            ),
            (
                "  /START   x  ",
                true,
                some("start", Some("x")),
                "case and spaces",
            ),
            ("/help", false, some("help", None), "help in a group"),
            ("/ajutor", true, some("help", None), "Romanian alias"),
            (
                "/help@LedgerBot",
                false,
                some("help", None),
                "addressed to us, any case",
            ),
            ("/help@otherbot", false, None, "addressed to another bot"),
            (
                "/firme",
                true,
                some("companies", None),
                "Romanian companies",
            ),
            (
                "/alegefirma Acme",
                true,
                some("selectcompany", Some("Acme")),
                "Romanian select with text",
            ),
            ("/sold", true, some("dashboard", None), "Romanian dashboard"),
            ("/balance", true, some("dashboard", None), "English alias"),
            (
                "/invoices unpaid",
                true,
                some("invoices", Some("unpaid")),
                "English invoices",
            ),
            (
                "/facturi",
                true,
                some("invoices", None),
                "Romanian invoices",
            ),
            (
                "/trezorerie",
                true,
                some("treasury", None),
                "Romanian treasury",
            ),
            (
                "/add +12,50 cafea",
                true,
                some("add", Some("+12,50 cafea")),
                "amount and note",
            ),
            (
                "/adauga 5 x",
                true,
                some("add", Some("5 x")),
                "Romanian add",
            ),
            ("/clear", true, some("clear", None), "clear"),
            (
                "/limba ro",
                true,
                some("language", Some("ro")),
                "Romanian language",
            ),
            (
                "/nosuch arg",
                true,
                some("unknown", Some("nosuch")),
                "unknown",
            ),
            (
                "hello",
                true,
                some("text", Some("hello")),
                "text in private",
            ),
            ("hello", false, None, "chatter in a group"),
            ("/register", true, some("register", None), "register"),
            (
                "/inregistrare",
                true,
                some("register", None),
                "Romanian register",
            ),
            ("/link", true, some("link", None), "link"),
            ("/LEAGA", true, some("link", None), "Romanian link"),
            ("/unlink", true, some("unlink", None), "unlink"),
            ("/dezleaga", true, some("unlink", None), "Romanian unlink"),
            ("/", true, some("unknown", Some("")), "lone slash"),
        ];
        for (text, private, want, why) in cases {
            assert_eq!(parsed(text, private, "ledgerbot"), want, "{why}: {text:?}");
        }
    }

    #[test]
    fn the_table_has_one_command_per_name_and_valid_menu_entries() {
        let mut seen = std::collections::HashSet::new();
        for spec in COMMANDS {
            for name in spec.names() {
                assert!(seen.insert(name), "/{name} names two commands");
            }
            for lang in [Lang::Ro, Lang::En] {
                let help = spec.help(lang);
                assert!(spec.names().any(|n| n == help.name), "{}", spec.name);
                // Telegram's rule for the menu: 1-32 of a-z, 0-9 and _;
                // descriptions of 1-256 characters.
                assert!((1..=32).contains(&help.name.len()), "{}", help.name);
                assert!(
                    help.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                );
                assert!(
                    (1..=256).contains(&help.text.chars().count()),
                    "{}",
                    help.name
                );
            }
        }
        assert_eq!(menu(Lang::Ro).len(), COMMANDS.len());
    }

    #[test]
    fn help_lines_show_the_languages_name_first_and_the_others_as_aliases() {
        let invoices = find("facturi").expect("a command");
        assert_eq!(
            invoices.help_line(Lang::Ro),
            "/facturi [neplatite|platite] [text] — facturile; text: un partener, un CUI sau un număr (alias /invoices)"
        );
        assert_eq!(
            invoices.help_line(Lang::En),
            "/invoices [unpaid|paid] [text] — the invoices; text: a partner, a CUI or a number (alias /facturi)"
        );
        let add = find("add").expect("a command");
        assert!(
            add.help_line(Lang::En)
                .starts_with("/add &lt;amount&gt; [currency] [day] &lt;note&gt; — ")
        );
    }

    const US: &str = "ledger_test_bot";

    /// A command name as it may follow the slash: no whitespace, no `@`.
    fn any_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z_]{0,16}",
            "[^\\s@]{0,16}",
            Just("start".to_owned()),
            Just("add".to_owned()),
            Just("ADAUGA".to_owned()),
        ]
    }

    /// A bot username that is not ours, in any case.
    fn other_bot() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z0-9_]{0,32}", "[^\\s]{0,20}"]
            .prop_filter("not us", |b| !b.eq_ignore_ascii_case(US))
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_arguments_are_trimmed(
            text in prop_oneof!["\\PC{0,64}", "/\\PC{0,64}", "\\s*/[a-z@]{0,10}\\s+\\PC{0,20}"],
            private in any::<bool>(),
        ) {
            let parsed = Command::parse(&text, private, US);
            if let Some(Command::Known { args: Some(args), .. }) = &parsed {
                prop_assert!(!args.is_empty() && args.trim() == args, "{:?}", args);
            }
            if !private && !text.trim().starts_with('/') {
                prop_assert_eq!(parsed, None, "group chatter is not for us");
            }
        }

        #[test]
        fn a_command_for_another_bot_is_never_for_us(
            name in any_name(),
            bot in other_bot(),
            args in "(\\s+\\PC{0,20})?",
            private in any::<bool>(),
        ) {
            let text = format!("/{name}@{bot}{args}");
            prop_assert_eq!(Command::parse(&text, private, US), None, "{:?}", text);
        }

        #[test]
        fn naming_us_is_the_same_as_naming_no_bot(
            name in any_name(),
            case in proptest::collection::vec(any::<bool>(), US.len()),
            args in "(\\s+\\PC{0,20})?",
            private in any::<bool>(),
        ) {
            let us: String = US
                .chars()
                .zip(case)
                .map(|(c, upper)| if upper { c.to_ascii_uppercase() } else { c })
                .collect();
            prop_assert_eq!(
                Command::parse(&format!("/{name}@{us}{args}"), private, US),
                Command::parse(&format!("/{name}{args}"), private, US)
            );
        }
    }
}
