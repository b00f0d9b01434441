//! `POST /telegram/webhook`: Telegram's updates come in here.
//!
//! Secret header (constant time) → body under the size limit → the update
//! (read once; [`parse_update`]) → run the handler: an update that may write
//! claims its id and runs in one transaction with the claim; one that only
//! reads claims nothing and starts with one statement that waits for the
//! chat's write in flight (`/dashboard` gets its figures in that same
//! statement) → answer with the first reply in the response body; the rest
//! are queued in the outbox ([`crate::infra::outbox`]), in the update's
//! transaction when it writes, and sent once that has committed.
//!
//! The status codes are chosen for Telegram's delivery queue: anything but 2xx
//! is retried, so a 5xx means "not applied, send it again", and an update we
//! cannot read is answered 200 so it never jams the queue.

use http::StatusCode;
use http::header::HeaderMap;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::front::bot::incoming::SentFile;
use crate::front::bot::{
    BotMethod, Callback, Command, HandlerResult, Incoming, Replies, UpdateCtx,
};
use crate::infra::app::App;
use crate::infra::http_io::{ApiError, HttpResponse, empty, with_type};
use crate::infra::router::Req;

mod claim;
use claim::{Claim, Read};

/// The header Telegram echoes the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Only the id, for a body frankenstein's `Update` refuses (it reads the id as
/// `u32` and knows a fixed set of kinds): whether it is an update at all.
#[derive(Deserialize)]
struct UpdateId {
    update_id: i64,
}

/// Handles one webhook delivery (at most the route's body limit: Telegram's
/// updates are small, and the default 1 MiB is generous).
pub async fn handle(mut req: Req) -> HttpResponse {
    if !secret_matches(req.headers(), req.app.config.webhook_secret.expose()) {
        tracing::warn!("webhook call with a missing or wrong secret");
        return ApiError::Unauthorized("missing or wrong secret token").into_response();
    }
    let body = match req.bytes().await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let (update_id, kind, incoming) = match parse_update(&body) {
        Parsed::NotJson => {
            return ApiError::BadRequest("the body is not JSON".into()).into_response();
        }
        Parsed::NotAnUpdate => {
            return ApiError::BadRequest("not a Telegram update: no numeric update_id".into())
                .into_response();
        }
        Parsed::Unreadable { update_id, error } => {
            // A kind newer than our types, or an id beyond u32: acknowledge it,
            // or Telegram would redeliver it forever and hold back the queue.
            tracing::warn!(update.id = update_id, error = %error, "unreadable update skipped");
            crate::infra::metrics::update("unreadable", "none");
            return empty(StatusCode::OK);
        }
        Parsed::Ignored { update_id, kind } => {
            tracing::debug!(update.id = update_id, update.kind = kind, "update ignored");
            crate::infra::metrics::update(kind, "none");
            return empty(StatusCode::OK);
        }
        Parsed::Act {
            update_id,
            kind,
            incoming,
        } => (update_id, kind, incoming),
    };
    let app = &req.app;
    // Boxed: `apply`'s states (the statements, the handler's) are most of
    // this future's size, and the router's box and the layers above would
    // otherwise copy all of it, kilobytes, as each request starts (`memmove`
    // was 3 % of the server's CPU per update). About 4 KB since the pool's
    // `acquire` no longer carries its connect path (17 KB before: vendor/,
    // patch 7).
    match Box::pin(apply(app, update_id, kind, incoming)).await {
        Ok(Outcome::Applied {
            first,
            queued,
            import,
        }) => {
            if queued {
                // Committed: off the response path, Telegram gets its answer at once.
                app.outbox.wake();
            }
            if let Some((import, answered)) = import {
                crate::front::bot::document::import_later(app, import, answered);
            }
            reply_body(first)
        }
        Ok(Outcome::AlreadyApplied { first }) => {
            tracing::info!(
                update.id = update_id,
                "retried update answered again, not applied twice"
            );
            reply_body(first)
        }
        // Nothing was committed: the 5xx makes Telegram deliver it again.
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// What a webhook body holds, read as [`handle`] reads it (no I/O: the seam
/// the fuzz targets drive).
#[derive(Debug)]
pub enum Parsed {
    /// Not JSON at all: 400.
    NotJson,
    /// JSON without a numeric `update_id`: 400.
    NotAnUpdate,
    /// An update our types cannot read (a newer kind, an id beyond u32): 200, skipped.
    Unreadable {
        /// Its id.
        update_id: i64,
        /// Why frankenstein refused it.
        error: serde_json::Error,
    },
    /// An update the bot does not act on (edits, channel posts, photos): 200.
    Ignored {
        /// Its id.
        update_id: i64,
        /// Its kind, for logs and metrics.
        kind: &'static str,
    },
    /// An update to claim and handle.
    Act {
        /// Its id.
        update_id: i64,
        /// Its kind, for logs and metrics.
        kind: &'static str,
        /// What it says.
        incoming: Incoming,
    },
}

/// A message update as Telegram sends every chat message: its id and the
/// message, no other member. Read straight into frankenstein's types: its
/// `Update` takes the kind through serde's `flatten`, which first copies the
/// whole body into serde's generic content (a string or vector per member,
/// nested) and then reads the `Message` again from that copy (a `/dashboard`
/// update: 23.4k instructions to read, 18.3k this way; callgrind).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageUpdate {
    update_id: u32,
    message: Box<frankenstein::types::Message>,
}

/// Reads a webhook body: a message update, and nothing else, in one pass as
/// `MessageUpdate`; any other body (a button, an edit, a duplicate or
/// unknown member, one that does not read) by [`parse_as_update`], after a
/// first pass that fails (for another kind, at its first member).
/// [`parse_as_update`]'s answer is the one that counts: for a body
/// both read, both give the same (checked by the fuzz targets' `intake`, also
/// over every kept input in the test suite).
pub fn parse_update(body: &[u8]) -> Parsed {
    match serde_json::from_slice::<MessageUpdate>(body) {
        Ok(MessageUpdate { update_id, message }) => Parsed::of(&frankenstein::updates::Update {
            update_id,
            content: frankenstein::updates::UpdateContent::Message(message),
        }),
        Err(_) => parse_as_update(body),
    }
}

/// Reads a webhook body as frankenstein's `Update`; only a body it refuses
/// is read again, for its `update_id` on its own, to tell an update we
/// cannot read (200) from one that is not an update at all (400).
pub fn parse_as_update(body: &[u8]) -> Parsed {
    match serde_json::from_slice::<frankenstein::updates::Update>(body) {
        Ok(update) => Parsed::of(&update),
        Err(error) => match serde_json::from_slice::<UpdateId>(body) {
            Ok(id) => Parsed::Unreadable {
                update_id: id.update_id,
                error,
            },
            Err(e) if e.is_data() => Parsed::NotAnUpdate,
            Err(_) => Parsed::NotJson,
        },
    }
}

impl Parsed {
    /// What the bot does with an update it has read.
    fn of(update: &frankenstein::updates::Update) -> Self {
        let update_id = i64::from(update.update_id);
        match Incoming::from_update(update) {
            (kind, Some(incoming)) => Self::Act {
                update_id,
                kind,
                incoming,
            },
            (kind, None) => Self::Ignored { update_id, kind },
        }
    }
}

/// The webhook answer: a Bot API method Telegram executes for us, or nothing.
fn reply_body(first: Option<String>) -> HttpResponse {
    first.map_or_else(
        || empty(StatusCode::OK),
        |body| with_type(StatusCode::OK, "application/json", body),
    )
}

fn secret_matches(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(SECRET_HEADER)
        .is_some_and(|got| bool::from(got.as_bytes().ct_eq(expected.as_bytes())))
}

enum Outcome {
    /// Applied now: the first reply (serialised, for the response body);
    /// whether more were queued in the outbox.
    Applied {
        first: Option<String>,
        queued: bool,
        /// A document to import once the update has committed, and the
        /// answer its summary must follow.
        import: Option<(
            crate::front::bot::document::FileImport,
            Option<crate::infra::outbox::Answered>,
        )>,
    },
    /// Claimed before: the answer stored then.
    AlreadyApplied { first: Option<String> },
}

/// What an update asks for, read before the claim: whether it may write
/// decides how its statements run.
enum Request {
    Command(Command),
    Button {
        id: String,
        message_id: i32,
        /// `None`: data we did not produce (tampered, or an old button).
        pressed: Option<Callback>,
    },
    /// A photo, voice message, sticker... in the private chat.
    Media,
    /// A file sent as a document: an e-Factura import, perhaps.
    Document(SentFile),
    /// Not for us (chatter in a group, `/cmd@otherbot`): unanswered.
    Nothing,
}

impl Request {
    fn of(incoming: Incoming, bot_username: &str) -> Self {
        match incoming {
            Incoming::Text { text, private, .. } => {
                Command::parse(&text, private, bot_username).map_or(Self::Nothing, Self::Command)
            }
            Incoming::Media { .. } => Self::Media,
            Incoming::Document { file, .. } => Self::Document(file),
            Incoming::Callback {
                id,
                message_id,
                data,
                ..
            } => Self::Button {
                id,
                message_id,
                pressed: Callback::parse(&data),
            },
        }
    }

    fn reads_only(&self) -> bool {
        match self {
            Self::Command(command) => command.reads_only(),
            Self::Button { pressed, .. } => pressed.is_none_or(Callback::reads_only),
            Self::Media | Self::Nothing => true,
            // The import writes later, in a transaction of its own, and only
            // once: the claim is what tells a retry from a second file.
            Self::Document(_) => false,
        }
    }

    /// Whether the first statement should read the dashboard's figures too:
    /// for `/dashboard` (`read_update` picks the company the chat shows).
    fn wants_dashboard(&self) -> bool {
        matches!(self, Self::Command(Command::Known { spec, .. }) if spec.name == "dashboard")
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Command(command) => command.name(),
            Self::Button { .. } => "callback",
            Self::Media => "media",
            Self::Document(_) => "document",
            Self::Nothing => "none",
        }
    }

    async fn run(self, ctx: &mut UpdateCtx<'_>) -> HandlerResult {
        match self {
            Self::Command(command) => crate::front::bot::handlers::dispatch(command, ctx).await,
            Self::Button {
                id,
                message_id,
                pressed,
            } => crate::front::bot::handlers::callback(ctx, &id, message_id, pressed).await,
            Self::Media => Ok(crate::front::bot::handlers::media::run(ctx)),
            Self::Document(_) | Self::Nothing => Ok(Replies::none()),
        }
    }
}

/// How an update starts: claimed in the transaction its writes commit in,
/// or read (nothing claimed) on a connection in autocommit.
enum Start {
    Write(Transaction<'static, Postgres>, Claim),
    Read(PoolConnection<Postgres>, Read),
}

/// Claims the update and runs its handler in one transaction when it may
/// write; when it only reads, one statement waits for the chat's write in
/// flight and reads the account (and for `/dashboard`, the figures: one
/// round trip in all), and the handler's own reads, if any, follow in
/// autocommit. A read claims nothing: Telegram's retry of it is answered
/// afresh.
async fn apply(
    app: &App,
    update_id: i64,
    kind: &'static str,
    incoming: Incoming,
) -> Result<Outcome, sqlx::Error> {
    let chat_id = incoming.chat_id();
    let from = incoming.from().clone();
    let request = Request::of(incoming, &app.config.bot_username);
    // The webhook's own pool: API traffic cannot take these connections.
    let pool = &app.webhook_pool;
    let mut start = if request.reads_only() {
        let dashboard = request.wants_dashboard();
        let mut conn = pool.acquire().await?;
        let read = Read::take(&mut conn, chat_id, from.id, dashboard).await?;
        Start::Read(conn, read)
    } else {
        // Sends nothing yet: the BEGIN goes in the claim's flight, under
        // its Sync (vendored sqlx-postgres), one round trip for both.
        let mut tx = pool.begin().await?;
        let claim = Claim::take(&mut tx, update_id, chat_id, from.id).await?;
        if !claim.fresh {
            // Applied before (Telegram lost our answer): the answer given then.
            return Ok(Outcome::AlreadyApplied {
                first: claim.stored_response,
            });
        }
        Start::Write(tx, claim)
    };
    let (db, today, account, dashboard, group): (&mut PgConnection, _, _, _, _) = match &mut start {
        Start::Write(tx, claim) => (&mut **tx, claim.today, claim.account.take(), None, None),
        Start::Read(conn, read) => (
            &mut **conn,
            read.today,
            read.account.take(),
            read.dashboard.take(),
            read.group.take(),
        ),
    };

    let lang = UpdateCtx::language_for(account.as_ref(), &from);
    let mut ctx = UpdateCtx {
        db,
        config: &app.config,
        update_id,
        today,
        chat_id,
        from,
        account,
        dashboard,
        group,
        lang,
        reply_is_secret: false,
    };
    let command_name = request.name();
    if !matches!(request, Request::Nothing) {
        record_on_request(update_id, command_name);
    }
    let (replies, import) = match request {
        Request::Document(file) => {
            let (replies, import) = crate::front::bot::document::accept(&ctx, file);
            (Ok(replies), import)
        }
        request => (request.run(&mut ctx).await, None),
    };
    crate::infra::metrics::update(kind, command_name);
    let replies = replies.map_err(|crate::front::bot::HandlerError::Db(e)| {
        crate::infra::metrics::handler_error(command_name);
        e
    })?;

    let mut methods = replies.0.into_iter().peekable();
    // An upload (a photo) cannot be a JSON answer: the client sends it.
    let first = methods.next_if(|m| !m.is_upload());
    // [outbox hold] The answer is a message to its chat that the outbox's
    // spacing does not see: what this update queues for that chat waits.
    let answered = first
        .as_ref()
        .and_then(BotMethod::chat_id)
        .map(|chat| crate::infra::outbox::Answered::now(chat, &app.config.outbox));
    let first =
        first.map(|m| serde_json::to_string(&m).expect("Bot API parameters always serialise"));
    let reply_is_secret = ctx.reply_is_secret;
    let rest: Vec<BotMethod> = methods.collect();
    match start {
        Start::Write(mut tx, _) => {
            // Queued with the writes that caused them: both or neither.
            crate::infra::outbox::enqueue_after(&mut tx, &rest, answered).await?;
            // Kept for a retry, unless it carries a secret (a /link code): the
            // database never holds a code in plain text, and a retry then gets
            // no answer. The last statement, so it carries the COMMIT in its
            // own round trip (vendored sqlx-postgres; then `commit` sends
            // nothing); an error is the statement's or the COMMIT's, and
            // either way nothing was committed.
            if first.is_some() && !reply_is_secret {
                tx.commit_with_next_statement();
                sqlx::query!(
                    "UPDATE telegram_updates SET response = $2 WHERE update_id = $1",
                    update_id,
                    first
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        // A read's further replies (the charts' photos) are the one thing it
        // writes; a retried read queues them again, as it answers afresh.
        Start::Read(mut conn, _) => {
            crate::infra::outbox::enqueue_after(&mut conn, &rest, answered).await?;
        }
    }
    Ok(Outcome::Applied {
        first,
        queued: !rest.is_empty(),
        import: import.map(|import| (import, answered)),
    })
}

/// Puts the update id and command on the request's span, so the one log line
/// per request says what the update was (a line of its own per update costs
/// measurable time at load; see BENCHMARKS.md).
fn record_on_request(update_id: i64, command: &'static str) {
    let span = tracing::Span::current();
    span.record("update_id", update_id);
    span.record("cmd", command);
}
