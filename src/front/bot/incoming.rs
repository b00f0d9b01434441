//! What an update says: the few kinds of update the bot acts on (a text
//! message, a button press), read from Telegram's `Update`.

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
    /// A message without text in the private chat: a photo, a voice message,
    /// a sticker and the like, which the bot answers with what it does read.
    /// (Not a document: a file is the e-Factura import's.)
    Media {
        /// Chat to answer in (the sender's private chat).
        chat_id: i64,
        /// Sender.
        from: TelegramUser,
        /// What it was, for the answer: `photo`, `voice`, `sticker`, ...
        kind: &'static str,
    },
    /// A file sent as a document (an e-Factura XML or ZIP, or anything else).
    Document {
        /// Chat to answer in.
        chat_id: i64,
        /// Whether the chat is a one-to-one chat with the bot.
        private: bool,
        /// Sender.
        from: TelegramUser,
        /// The file, as the Bot API names it.
        file: SentFile,
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

/// A file someone sent, to download with `getFile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentFile {
    /// The Bot API's id for `getFile`.
    pub file_id: String,
    /// The name it was sent under, if any.
    pub name: Option<String>,
    /// Its size as Telegram states it, if it does.
    pub size: Option<u64>,
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
        let chat_id = message.chat.id;
        let private = message.chat.type_field == ChatType::Private;
        if let Some(document) = &message.document {
            return Some(Self::Document {
                chat_id,
                private,
                from: user(from),
                file: SentFile {
                    file_id: document.file_id.clone(),
                    name: document.file_name.clone(),
                    size: document.file_size,
                },
            });
        }
        if let Some(text) = &message.text {
            return Some(Self::Text {
                chat_id,
                private,
                from: user(from),
                text: text.clone(),
            });
        }
        // In a group, a photo is people talking to each other, not to us.
        let kind = media_kind(message).filter(|_| private)?;
        Some(Self::Media {
            chat_id,
            from: user(from),
            kind,
        })
    }

    /// The sender.
    pub fn from(&self) -> &TelegramUser {
        match self {
            Self::Text { from, .. }
            | Self::Media { from, .. }
            | Self::Document { from, .. }
            | Self::Callback { from, .. } => from,
        }
    }

    /// The chat the update belongs to.
    pub fn chat_id(&self) -> i64 {
        match self {
            Self::Text { chat_id, .. }
            | Self::Media { chat_id, .. }
            | Self::Document { chat_id, .. }
            | Self::Callback { chat_id, .. } => *chat_id,
        }
    }
}

/// What a message without text carries, when it is something a person sends
/// to talk (not a service message such as a member joining).
fn media_kind(message: &Message) -> Option<&'static str> {
    let kinds = [
        (message.photo.is_some(), "photo"),
        (message.voice.is_some(), "voice"),
        (message.sticker.is_some(), "sticker"),
        (message.video.is_some(), "video"),
        (message.video_note.is_some(), "video_note"),
        (message.audio.is_some(), "audio"),
        (message.animation.is_some(), "animation"),
        (message.location.is_some(), "location"),
        (message.contact.is_some(), "contact"),
    ];
    kinds
        .into_iter()
        .find_map(|(present, kind)| present.then_some(kind))
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
