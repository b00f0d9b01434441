//! `POST /telegram/webhook`: Telegram's updates come in here.
//!
//! Secret header (constant time) → body under the size limit → `update_id` →
//! the full update → claim the id and run the handler in one transaction →
//! answer with the first reply in the response body; the rest go out through
//! the Bot API client once the transaction has committed.
//!
//! The status codes are chosen for Telegram's delivery queue: anything but 2xx
//! is retried, so a 5xx means "not applied, send it again", and an update we
//! cannot read is answered 200 so it never jams the queue.

use http::StatusCode;
use http::header::HeaderMap;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::bot::{BotMethod, Command, Ctx, Incoming, Replies};
use crate::http::{ApiError, HttpResponse, Request, empty, read_body, with_type};

/// The header Telegram echoes the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Telegram's updates are small; this is generous.
const MAX_UPDATE_BYTES: usize = 1024 * 1024;

/// Only the id: frankenstein's `Update` reads it as `u32` and knows a fixed set
/// of kinds, so we read the id on its own first.
#[derive(Deserialize)]
struct UpdateId {
    update_id: i64,
}

/// Handles one webhook delivery.
pub async fn handle(app: &App, req: Request) -> HttpResponse {
    if !secret_matches(req.headers(), app.config.webhook_secret.expose()) {
        tracing::warn!("webhook call with a missing or wrong secret");
        return ApiError::Unauthorized("missing or wrong secret token").into_response();
    }
    let body = match read_body(req.into_body(), MAX_UPDATE_BYTES).await {
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
            crate::metrics::update("unreadable", "none");
            return empty(StatusCode::OK);
        }
        Parsed::Ignored { update_id, kind } => {
            tracing::debug!(update.id = update_id, update.kind = kind, "update ignored");
            crate::metrics::update(kind, "none");
            return empty(StatusCode::OK);
        }
        Parsed::Act {
            update_id,
            kind,
            incoming,
        } => (update_id, kind, incoming),
    };
    match apply(app, update_id, kind, incoming).await {
        Ok(Outcome::Applied { first, rest }) => {
            if !rest.is_empty() {
                // After the commit, off the response path: Telegram gets its answer at once.
                crate::outbound::send_later(&app.pool, &app.bot, rest);
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

/// Reads a webhook body: the `update_id` on its own first, then the full update.
pub fn parse_update(body: &[u8]) -> Parsed {
    let update_id = match serde_json::from_slice::<UpdateId>(body) {
        Ok(id) => id.update_id,
        Err(e) if e.is_data() => return Parsed::NotAnUpdate,
        Err(_) => return Parsed::NotJson,
    };
    let update = match serde_json::from_slice::<frankenstein::updates::Update>(body) {
        Ok(update) => update,
        Err(error) => return Parsed::Unreadable { update_id, error },
    };
    match Incoming::from_update(&update) {
        (kind, Some(incoming)) => Parsed::Act {
            update_id,
            kind,
            incoming,
        },
        (kind, None) => Parsed::Ignored { update_id, kind },
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
    /// Applied now: the first reply (serialised, for the response body) and the rest.
    Applied {
        first: Option<String>,
        rest: Vec<BotMethod>,
    },
    /// Claimed before; carries the answer given then, to give it again.
    AlreadyApplied { first: Option<String> },
}

/// Claims the update and runs its handler in one transaction.
async fn apply(
    app: &App,
    update_id: i64,
    kind: &'static str,
    incoming: Incoming,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = app.pool.begin().await?;
    // One statement, one round trip: take the chat's lock (so one chat's
    // updates are applied one at a time, whichever instance receives them),
    // then claim the id. The lock is released at commit or rollback. A row
    // comes back only when the id was ours to claim, with today's date in
    // Romania (`now()` is the transaction's start, so every statement of the
    // update agrees on the day). The reads come in later statements: they
    // must see what the chat's previous update committed while we waited
    // for the lock, and a statement's snapshot is taken before its lock wait.
    let claimed = sqlx::query_scalar!(
        r#"INSERT INTO telegram_updates (update_id)
           SELECT $1 FROM (SELECT pg_advisory_xact_lock($2)) AS chat_lock
           ON CONFLICT DO NOTHING
           RETURNING (now() AT TIME ZONE 'Europe/Bucharest')::date AS "today!""#,
        update_id,
        incoming.chat_id()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(today) = claimed else {
        drop(tx);
        let stored = sqlx::query_scalar!(
            "SELECT response FROM telegram_updates WHERE update_id = $1",
            update_id
        )
        .fetch_optional(&app.pool)
        .await?
        .flatten();
        return Ok(Outcome::AlreadyApplied { first: stored });
    };

    let from = incoming.from().clone();
    let chat_id = incoming.chat_id();
    let account = crate::bot::Account::of_telegram_user(&mut tx, from.id).await?;
    let lang = Ctx::language_for(account.as_ref(), &from);
    let mut ctx = Ctx {
        db: &mut tx,
        config: &app.config,
        update_id,
        today,
        chat_id,
        from,
        account,
        lang,
        reply_is_secret: false,
    };
    let (command_name, replies) = match incoming {
        Incoming::Text { text, private, .. } => {
            match Command::parse(&text, private, &app.config.bot_username) {
                Some(command) => {
                    let name = command.name();
                    record_on_request(update_id, name);
                    (name, crate::handlers::dispatch(command, &mut ctx).await)
                }
                None => ("none", Ok(Replies::none())),
            }
        }
        Incoming::Callback {
            id,
            message_id,
            data,
            ..
        } => {
            record_on_request(update_id, "callback");
            (
                "callback",
                crate::handlers::callback(&mut ctx, &id, message_id, &data).await,
            )
        }
    };
    crate::metrics::update(kind, command_name);
    let replies = replies.map_err(|crate::bot::HandlerError::Db(e)| {
        crate::metrics::handler_error(command_name);
        e
    })?;

    let mut methods = replies.0.into_iter();
    let first = methods
        .next()
        .map(|m| serde_json::to_string(&m).expect("Bot API parameters always serialise"));
    // A reply carrying a secret (a /link code) is not kept for replay: the
    // database never holds a code in plain text. A retry then gets no answer.
    if first.is_some() && !ctx.reply_is_secret {
        sqlx::query!(
            "UPDATE telegram_updates SET response = $2 WHERE update_id = $1",
            update_id,
            first
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Applied {
        first,
        rest: methods.collect(),
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
