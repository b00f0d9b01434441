//! Messages beyond the webhook's answer: sent in the background once the
//! update has committed, with the client's retries, and never to a chat whose
//! person blocked the bot (Telegram's 403). Writing to the bot again unblocks.

use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::infra::telegram::BotApi;
use crate::infra::telegram::BotMethod;

/// Sends `methods` in order, in a background task.
pub fn send_later(pool: &PgPool, bot: &BotApi, methods: Vec<BotMethod>) -> JoinHandle<()> {
    let pool = pool.clone();
    let bot = bot.clone();
    let running = bot.track();
    tokio::spawn(async move {
        send(&pool, &bot, methods).await;
        drop(running);
    })
}

/// Sends `methods` in order, skipping chats that blocked the bot; a refusal
/// because the bot was blocked is remembered for that chat.
pub async fn send(pool: &PgPool, bot: &BotApi, methods: Vec<BotMethod>) {
    let mut blocked_chats = Vec::new();
    for method in methods {
        let chat_id = method.chat_id();
        if let Some(chat_id) = chat_id {
            let blocked = blocked_chats.contains(&chat_id)
                || is_blocked(pool, chat_id).await.unwrap_or_else(|e| {
                    // Better to try and maybe hear 403 again than to drop the message.
                    tracing::warn!(chat.id = chat_id, error = %e, "could not read the chat's blocked flag");
                    false
                });
            if blocked {
                tracing::info!(
                    chat.id = chat_id,
                    "not sending: the bot is blocked in this chat"
                );
                continue;
            }
        }
        match bot.call(&method).await {
            Ok(()) => {}
            Err(e) if e.is_blocked() => {
                let Some(chat_id) = chat_id else { continue };
                tracing::info!(
                    chat.id = chat_id,
                    "the bot was blocked; marking the chat inactive"
                );
                blocked_chats.push(chat_id);
                if let Err(e) = mark_blocked(pool, chat_id).await {
                    tracing::warn!(chat.id = chat_id, error = %e, "could not mark the chat blocked");
                }
            }
            Err(e) => {
                tracing::warn!(chat.id = ?chat_id, method = method.name(), error = %e, "message not delivered")
            }
        }
    }
}

async fn is_blocked(pool: &PgPool, chat_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM telegram_accounts WHERE chat_id = $1 AND blocked_at IS NOT NULL) AS "blocked!""#,
        chat_id
    )
    .fetch_one(pool)
    .await
}

async fn mark_blocked(pool: &PgPool, chat_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE telegram_accounts SET blocked_at = now() WHERE chat_id = $1 AND blocked_at IS NULL",
        chat_id
    )
    .execute(pool)
    .await?;
    Ok(())
}
