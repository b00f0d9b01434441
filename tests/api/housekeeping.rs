//! Housekeeping deletes what expired, keeps the rest, one instance at a time.

use sqlx::PgPool;

use crate::helpers::{TestApp, TgUser, spawn_app};

#[sqlx::test(migrations = false)]
async fn expired_rows_are_deleted_and_the_rest_kept(pool: PgPool) {
    let app = spawn_app(pool).await;
    sqlx::query(
        "INSERT INTO telegram_updates (update_id, received_at)
         SELECT g, now() - interval '3 days' FROM generate_series(1, 12000) g
         UNION ALL SELECT 20000, now() - interval '1 hour'",
    )
    .execute(&app.pool)
    .await
    .expect("claims");
    let user: i64 = sqlx::query_scalar("INSERT INTO users (email) VALUES ('a@b.ro') RETURNING id")
        .fetch_one(&app.pool)
        .await
        .expect("user");
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES
         ('\\x01', $1, gen_random_uuid(), now() - interval '1 minute'),
         ('\\x02', $1, gen_random_uuid(), now() + interval '1 day')",
    )
    .bind(user)
    .execute(&app.pool)
    .await
    .expect("tokens");

    sqlx::query(
        "INSERT INTO link_codes (code_hash, purpose, user_id, expires_at, used_at) VALUES
         ('\\x0a', 'link', $1, now() - interval '2 days', now() - interval '2 days'),
         ('\\x0b', 'link', $1, now() - interval '1 hour', NULL)",
    )
    .bind(user)
    .execute(&app.pool)
    .await
    .expect("codes");
    sqlx::query(
        "INSERT INTO rate_limits (action, key, window_start, hits) VALUES
         ('login', '10.0.0.1', now() - interval '2 days', 3),
         ('login', '10.0.0.2', now(), 1)",
    )
    .execute(&app.pool)
    .await
    .expect("counters");

    sqlx::query(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, expires_at) VALUES
         ('\\x0c', $1, 't', now() - interval '1 minute'),
         ('\\x0d', $1, 't', now() + interval '1 day')",
    )
    .bind(user)
    .execute(&app.pool)
    .await
    .expect("sessions");

    sqlx::query(
        "INSERT INTO telegram_auth_seen (replay_key, expires_at) VALUES
         ('\\x0e', now() - interval '1 minute'),
         ('\\x0f', now() + interval '1 hour')",
    )
    .execute(&app.pool)
    .await
    .expect("spent Telegram logins");
    sqlx::query(
        "INSERT INTO password_tokens (token_hash, user_id, expires_at) VALUES
         ('\\x10', $1, now() - interval '2 days'),
         ('\\x11', $1, now() - interval '1 hour')",
    )
    .bind(user)
    .execute(&app.pool)
    .await
    .expect("password links");

    sqlx::query(
        "INSERT INTO login_failures (key_hash, failures, last_failure_at, locked_until) VALUES
         ('\\x12', 9, now() - interval '25 hours', now() - interval '24 hours'),
         ('\\x13', 9, now() - interval '1 hour', now() + interval '1 minute')",
    )
    .execute(&app.pool)
    .await
    .expect("wrong-password counts");

    sqlx::query(
        "INSERT INTO outbox (chat_id, method, state, done_at) VALUES
         (1, '{}', 'sent', now() - interval '8 days'),
         (1, '{}', 'sent', now() - interval '1 day'),
         (1, '{}', 'pending', NULL)",
    )
    .execute(&app.pool)
    .await
    .expect("outbox rows");

    let swept = ledgerbot::infra::housekeeping::run_once(&app.pool)
        .await
        .expect("runs")
        .expect("got the lock");

    assert_eq!(swept.update_claims, 12000, "in batches, all of them");
    assert_eq!(swept.refresh_tokens, 1);
    assert_eq!(swept.link_codes, 1, "only the code expired for over a day");
    assert_eq!(swept.rate_limit_windows, 1);
    assert_eq!(swept.web_sessions, 1, "only the expired session");
    assert_eq!(swept.telegram_auth_seen, 1, "only the stale payload");
    assert_eq!(
        swept.password_tokens, 1,
        "only the link expired for over a day"
    );
    assert_eq!(
        swept.login_failures, 1,
        "only the count quiet for over a day"
    );
    assert_eq!(swept.outbox, 1, "only the row done over a week ago");
    assert_eq!(app.claimed_updates().await, 1, "the recent claim stays");
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(tokens, 1, "the live token stays");
}

#[sqlx::test(migrations = false)]
async fn only_one_instance_sweeps_at_a_time(pool: PgPool) {
    let app = spawn_app(pool).await;
    // Another instance in the middle of a batch: its transaction holds the lock.
    let mut other_instance = app.pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ledgerbot::infra::housekeeping::LOCK)
        .execute(&mut *other_instance)
        .await
        .expect("lock");

    let skipped = ledgerbot::infra::housekeeping::run_once(&app.pool)
        .await
        .expect("runs");
    other_instance.rollback().await.expect("unlock");
    let ran = ledgerbot::infra::housekeeping::run_once(&app.pool)
        .await
        .expect("runs");

    assert_eq!(skipped, None, "another instance holds the lock");
    assert!(ran.is_some());
}

/// Runs one pass, which must get the lock.
async fn sweep(app: &crate::helpers::TestApp) -> ledgerbot::infra::housekeeping::Swept {
    ledgerbot::infra::housekeeping::run_once(&app.pool)
        .await
        .expect("runs")
        .expect("got the lock")
}

/// The account Telegram user `id` is linked to.
async fn account_of(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("SELECT user_id FROM telegram_accounts WHERE telegram_user_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("linked")
}

async fn exists(app: &TestApp, table: &str, column: &str, id: i64) -> bool {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} = $1)"
    )))
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("query")
}

#[sqlx::test(migrations = false)]
async fn telegram_only_accounts_no_one_can_reach_are_deleted_and_the_rest_kept(pool: PgPool) {
    // Arrange: five Telegram users make accounts with /register; four unlink,
    // which leaves their accounts with no email, no password, no Telegram.
    let app = spawn_app(pool).await;
    let mut accounts = Vec::new();
    for id in 8101..=8105 {
        app.reply_to(&TgUser::en(id).text("/register")).await;
        accounts.push(account_of(&app, id).await);
    }
    for id in 8101..=8104 {
        app.reply_to(&TgUser::en(id).text("/unlink")).await;
    }
    let [orphan, member, with_token, fresh, linked] = accounts[..] else {
        unreachable!("five accounts")
    };
    crate::people::company(&app.pool, member, "Firma SRL").await;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
         VALUES ('\\x21', $1, gen_random_uuid(), now() + interval '1 day')",
    )
    .bind(with_token)
    .execute(&app.pool)
    .await
    .expect("a live token");
    let with_email = crate::people::user(&app.pool, "ana@example.com").await;
    sqlx::query("UPDATE users SET created_at = now() - interval '2 days' WHERE id <> $1")
        .bind(fresh)
        .execute(&app.pool)
        .await
        .expect("made two days ago");

    // Act
    let swept = sweep(&app).await;

    // Assert
    assert_eq!(
        swept.orphaned_accounts, 1,
        "only the account no one can reach"
    );
    assert!(!exists(&app, "users", "id", orphan).await, "deleted");
    for (user, why) in [
        (member, "a member of a company"),
        (with_token, "a live refresh token"),
        (fresh, "made less than a day ago"),
        (linked, "still linked"),
        (with_email, "has an email"),
    ] {
        assert!(exists(&app, "users", "id", user).await, "kept: {why}");
    }
}

#[sqlx::test(migrations = false)]
async fn invitations_are_deleted_a_month_past_their_expiry(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let owner = crate::people::user(&app.pool, "ana@example.com").await;
    let company = crate::people::company(&app.pool, owner, "Firma SRL").await;
    let invite = |code: &'static str, expired: &'static str, used: bool| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "INSERT INTO invitations (code_hash, company_id, role, invited_by, expires_at, used_at)
                 VALUES ('{code}', $1, 'viewer', $2, now() - interval '{expired}', {})
                 RETURNING id",
                if used { "now() - interval '40 days'" } else { "NULL" }
            )))
            .bind(company)
            .bind(owner)
            .fetch_one(&app.pool)
            .await
            .expect("invitation")
        }
    };
    let old = invite("\\x31", "31 days", false).await;
    let old_used = invite("\\x32", "35 days", true).await;
    let recent = invite("\\x33", "29 days", false).await;

    // Act
    let swept = sweep(&app).await;

    // Assert
    assert_eq!(swept.invitations, 2);
    assert!(!exists(&app, "invitations", "id", old).await);
    assert!(!exists(&app, "invitations", "id", old_used).await);
    assert!(
        exists(&app, "invitations", "id", recent).await,
        "a late click still hears 'expired'"
    );
}
