//! What an update asks for: the few kinds of update the bot acts on, and the
//! command a message's text names (with its aliases in both languages).

use frankenstein::types::{ChatType, MaybeInaccessibleMessage, Message};
use frankenstein::updates::{Update, UpdateContent};

use super::TelegramUser;

/// The part of an update the bot acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A text message.
    Text {
        /// Chat to answer in.
        chat_id: i64,
        /// Whether the chat is a one-to-one chat with the bot.
        private: bool,
        /// Sender.
        from: TelegramUser,
        /// The text.
        text: String,
    },
    /// A press on an inline-keyboard button.
    Callback {
        /// Id to answer with `answerCallbackQuery`.
        id: String,
        /// Chat of the message carrying the keyboard.
        chat_id: i64,
        /// That message, to edit in place.
        message_id: i32,
        /// Who pressed.
        from: TelegramUser,
        /// The button's data, untrusted.
        data: String,
    },
}

impl Incoming {
    /// What the bot should act on in an update; `None` for kinds it ignores
    /// (edits, channel posts, messages without text, members joining, ...).
    /// The string is the update's kind, for logs and metrics.
    pub fn from_update(update: &Update) -> (&'static str, Option<Self>) {
        match &update.content {
            UpdateContent::Message(message) => ("message", Self::from_message(message)),
            UpdateContent::CallbackQuery(query) => {
                let message = match &query.message {
                    Some(MaybeInaccessibleMessage::Message(m)) => Some((m.chat.id, m.message_id)),
                    Some(MaybeInaccessibleMessage::InaccessibleMessage(m)) => {
                        Some((m.chat.id, m.message_id))
                    }
                    None => None,
                };
                let incoming = message.map(|(chat_id, message_id)| Self::Callback {
                    id: query.id.clone(),
                    chat_id,
                    message_id,
                    from: user(&query.from),
                    data: query.data.clone().unwrap_or_default(),
                });
                ("callback_query", incoming)
            }
            UpdateContent::EditedMessage(_) => ("edited_message", None),
            UpdateContent::ChannelPost(_) => ("channel_post", None),
            UpdateContent::MyChatMember(_) => ("my_chat_member", None),
            _ => ("other", None),
        }
    }

    fn from_message(message: &Message) -> Option<Self> {
        let from = message.from.as_deref()?;
        if from.is_bot {
            return None;
        }
        Some(Self::Text {
            chat_id: message.chat.id,
            private: message.chat.type_field == ChatType::Private,
            from: user(from),
            text: message.text.clone()?,
        })
    }

    /// The sender.
    pub fn from(&self) -> &TelegramUser {
        match self {
            Self::Text { from, .. } | Self::Callback { from, .. } => from,
        }
    }

    /// The chat the update belongs to.
    pub fn chat_id(&self) -> i64 {
        match self {
            Self::Text { chat_id, .. } | Self::Callback { chat_id, .. } => *chat_id,
        }
    }
}

fn user(u: &frankenstein::types::User) -> TelegramUser {
    TelegramUser {
        // Telegram user ids fit in 52 bits.
        id: i64::try_from(u.id).unwrap_or(i64::MAX),
        first_name: u.first_name.clone(),
        username: u.username.clone(),
        language_code: u.language_code.clone(),
    }
}

/// A bot command with its arguments, already told apart from its aliases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `/start` with the deep-link payload, if any.
    Start(Option<String>),
    /// `/help`, `/ajutor`.
    Help,
    /// `/companies`, `/firme`.
    Companies,
    /// `/selectcompany [text]`, `/alegefirma [text]`.
    SelectCompany(Option<String>),
    /// `/dashboard`, `/sold`, `/balance`.
    Dashboard,
    /// `/facturi [neplatite|platite]`, `/invoices [unpaid|paid]`.
    Invoices(Option<String>),
    /// `/trezorerie`, `/treasury`.
    Treasury,
    /// `/add <amount> <note>`, `/adauga`.
    Add(Option<String>),
    /// `/clear`: forget the active company.
    Clear,
    /// `/language ro|en`, `/limba`.
    Language(Option<String>),
    /// Text that is not a command, in a private chat.
    Text(String),
    /// A command we do not know (its name, lowercased).
    Unknown(String),
    /// `/register`, `/inregistrare`: a Telegram-only account, in one tap.
    Register,
    /// `/link`, `/leaga`: bind an existing web account (confirmed on the web).
    Link,
    /// `/unlink`, `/dezleaga`: remove the link.
    Unlink,
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
        let args = (!args.is_empty()).then(|| args.to_owned());
        Some(match name.as_str() {
            "start" => Self::Start(args),
            "help" | "ajutor" => Self::Help,
            "companies" | "firme" => Self::Companies,
            "selectcompany" | "alegefirma" => Self::SelectCompany(args),
            "dashboard" | "sold" | "balance" => Self::Dashboard,
            "facturi" | "invoices" => Self::Invoices(args),
            "trezorerie" | "treasury" => Self::Treasury,
            "add" | "adauga" => Self::Add(args),
            "clear" => Self::Clear,
            "language" | "limba" => Self::Language(args),
            "register" | "inregistrare" => Self::Register,
            "link" | "leaga" => Self::Link,
            "unlink" | "dezleaga" => Self::Unlink,
            _ => Self::Unknown(name),
        })
    }

    /// Whether the command only reads. A read's claim commits on its own
    /// and its reply is not stored: a retry is answered afresh. Anything
    /// that may write (even only sometimes) runs in one transaction with its
    /// claim. No wildcard arm: a new command has to choose.
    pub fn reads_only(&self) -> bool {
        match self {
            Self::Help
            | Self::Companies
            | Self::Dashboard
            | Self::Invoices(_)
            | Self::Treasury
            | Self::Unknown(_) => true,
            Self::Start(_)
            | Self::SelectCompany(_)
            | Self::Add(_)
            | Self::Clear
            | Self::Language(_)
            | Self::Text(_)
            | Self::Register
            | Self::Link
            | Self::Unlink => false,
        }
    }

    /// A short name for logs and metrics (never the arguments: they may hold a code).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start(_) => "start",
            Self::Help => "help",
            Self::Companies => "companies",
            Self::SelectCompany(_) => "selectcompany",
            Self::Dashboard => "dashboard",
            Self::Invoices(_) => "invoices",
            Self::Treasury => "treasury",
            Self::Add(_) => "add",
            Self::Clear => "clear",
            Self::Language(_) => "language",
            Self::Text(_) => "text",
            Self::Unknown(_) => "unknown",
            Self::Register => "register",
            Self::Link => "link",
            Self::Unlink => "unlink",
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn commands_aliases_and_bot_suffixes() {
        let cases: &[(&str, bool, Option<Command>, &str)] = &[
            ("/start", true, Some(Command::Start(None)), "bare start"),
            (
                "/start ABCD2345",
                true,
                Some(Command::Start(Some("ABCD2345".into()))),
                "deep-link payload",
            ),
            (
                "  /START   x  ",
                true,
                Some(Command::Start(Some("x".into()))),
                "case and spaces",
            ),
            ("/help", false, Some(Command::Help), "help in a group"),
            ("/ajutor", true, Some(Command::Help), "Romanian alias"),
            (
                "/help@LedgerBot",
                false,
                Some(Command::Help),
                "addressed to us, any case",
            ),
            ("/help@otherbot", false, None, "addressed to another bot"),
            (
                "/firme",
                true,
                Some(Command::Companies),
                "Romanian companies",
            ),
            (
                "/alegefirma Acme",
                true,
                Some(Command::SelectCompany(Some("Acme".into()))),
                "Romanian select with text",
            ),
            (
                "/sold",
                true,
                Some(Command::Dashboard),
                "Romanian dashboard",
            ),
            ("/balance", true, Some(Command::Dashboard), "English alias"),
            (
                "/invoices unpaid",
                true,
                Some(Command::Invoices(Some("unpaid".into()))),
                "English invoices",
            ),
            (
                "/trezorerie",
                true,
                Some(Command::Treasury),
                "Romanian treasury",
            ),
            (
                "/add +12,50 cafea",
                true,
                Some(Command::Add(Some("+12,50 cafea".into()))),
                "amount and note",
            ),
            (
                "/limba ro",
                true,
                Some(Command::Language(Some("ro".into()))),
                "Romanian language",
            ),
            (
                "/nosuch arg",
                true,
                Some(Command::Unknown("nosuch".into())),
                "unknown",
            ),
            (
                "hello",
                true,
                Some(Command::Text("hello".into())),
                "text in private",
            ),
            ("hello", false, None, "chatter in a group"),
            ("/register", true, Some(Command::Register), "register"),
            (
                "/inregistrare",
                true,
                Some(Command::Register),
                "Romanian register",
            ),
            ("/link", true, Some(Command::Link), "link"),
            ("/LEAGA", true, Some(Command::Link), "Romanian link"),
            ("/unlink", true, Some(Command::Unlink), "unlink"),
            ("/dezleaga", true, Some(Command::Unlink), "Romanian unlink"),
            (
                "/",
                true,
                Some(Command::Unknown(String::new())),
                "lone slash",
            ),
        ];
        for (text, private, want, why) in cases {
            assert_eq!(
                &Command::parse(text, *private, "ledgerbot"),
                want,
                "{why}: {text:?}"
            );
        }
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
            let args = match &parsed {
                Some(Command::Start(a) | Command::SelectCompany(a) | Command::Invoices(a)
                    | Command::Add(a) | Command::Language(a)) => a.clone(),
                _ => None,
            };
            if let Some(args) = args {
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
