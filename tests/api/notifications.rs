//! Notifications: each kind once per person, company and day, however often
//! the tick runs; nothing to a former member or in the quiet hours; the
//! `/notificari` toggles.

use ledgerbot::blocks::local_time::bucharest_date;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::cli::{ledgerbot, serve_env};
use crate::fake_telegram::FakeTelegram;
use crate::helpers::{TgUser, reply_text, spawn_app};
use crate::people::{Inv, activate, company, invoice, linked_user, member};

/// Today at 10:00 UTC (noon or 13:00 in Bucharest): outside the quiet hours.
fn midday() -> OffsetDateTime {
    bucharest_date(OffsetDateTime::now_utc())
        .with_hms(10, 0, 0)
        .expect("a time")
        .assume_utc()
}

async fn turn_on(pool: &PgPool, user_id: i64, kind: &str) {
    sqlx::query("INSERT INTO notification_settings (user_id, kind) VALUES ($1, $2)")
        .bind(user_id)
        .bind(kind)
        .execute(pool)
        .await
        .expect("setting");
}

async fn queued(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(pool)
        .await
        .expect("count")
}

/// A person with both kinds on, their active company with one invoice of
/// each kind due, and one of neither.
async fn person_with_alerts(pool: &PgPool, telegram_id: i64) -> (i64, i64) {
    ledgerbot::infra::db::migrate(pool).await.expect("schema");
    let user_id = linked_user(pool, &format!("n{telegram_id}@example.ro"), telegram_id).await;
    let company_id = company(pool, user_id, "Exemplu SRL").await;
    activate(pool, telegram_id, company_id).await;
    let invoices = [
        ("F-SOON", "issued", 3, 0),
        ("F-LATE", "received", -1, 0),
        ("F-PAID", "issued", 3, 10_000),
        ("F-LATER", "issued", 4, 0),
    ];
    for (number, direction, due_in_days, paid) in invoices {
        let inv = Inv {
            number,
            direction,
            due_in_days,
            paid,
            ..Inv::default()
        };
        invoice(pool, company_id, inv).await;
    }
    turn_on(pool, user_id, "due_soon").await;
    turn_on(pool, user_id, "overdue").await;
    (user_id, company_id)
}

#[sqlx::test(migrations = false)]
async fn every_kind_goes_once_when_notify_once_runs_twice(pool: PgPool) {
    // Arrange
    person_with_alerts(&pool, 9_101).await;
    let fake = FakeTelegram::start().await;
    let at = midday()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    // Off the test's runtime, which serves the fake Bot API meanwhile.
    let run = || {
        let mut cmd = ledgerbot(&["notify", "--once", "--at", &at]);
        serve_env(&mut cmd, &pool, &fake.url);
        async move {
            tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
                .await
                .expect("joined")
        }
    };

    // Act
    let first = run().await;
    let calls_after_first = fake.calls().len();
    let second = run().await;

    // Assert
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("2 notifications queued"));
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 notifications queued"));
    let calls = fake.calls();
    assert_eq!(calls_after_first, 2, "one message per kind: {calls:?}");
    assert_eq!(calls.len(), 2, "the second run sends nothing");
    let texts: Vec<&str> = calls
        .iter()
        .map(|c| c.params["text"].as_str().expect("text"))
        .collect();
    let soon = texts
        .iter()
        .find(|t| t.contains("F-SOON"))
        .expect("due soon");
    let late = texts
        .iter()
        .find(|t| t.contains("F-LATE"))
        .expect("overdue");
    assert!(soon.contains("1 factură de încasat"), "{soon}");
    assert!(
        !soon.contains("F-PAID") && !soon.contains("F-LATER"),
        "{soon}"
    );
    assert!(late.contains("de plătit"), "{late}");
    for text in texts {
        assert!(
            text.contains("/notificari"),
            "says how to turn it off: {text}"
        );
        assert_eq!(calls[0].params["chat_id"], 9_101);
    }
}

#[sqlx::test(migrations = false)]
async fn a_person_removed_from_the_company_gets_nothing(pool: PgPool) {
    let (_, company_id) = person_with_alerts(&pool, 9_102).await;
    let viewer = linked_user(&pool, "viewer@example.ro", 9_103).await;
    member(&pool, company_id, viewer, "viewer").await;
    activate(&pool, 9_103, company_id).await;
    turn_on(&pool, viewer, "overdue").await;
    sqlx::query("DELETE FROM company_members WHERE user_id = $1")
        .bind(viewer)
        .execute(&pool)
        .await
        .expect("removed");

    let tick = ledgerbot::services::notifications::run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    assert_eq!(tick.queued, 2, "only the owner's two");
    let to_viewer: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE chat_id = 9103")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(to_viewer, 0);
}

#[sqlx::test(migrations = false)]
async fn nothing_goes_in_the_quiet_hours_and_a_later_tick_catches_up(pool: PgPool) {
    person_with_alerts(&pool, 9_104).await;
    let day = bucharest_date(OffsetDateTime::now_utc());
    // 04:00 UTC is 06:00 or 07:00 in Bucharest: before the first hour.
    let night = day.with_hms(4, 0, 0).expect("a time").assume_utc();

    let quiet = ledgerbot::services::notifications::run_due(&pool, night)
        .await
        .expect("runs")
        .expect("the lock");
    let queued_at_night = queued(&pool).await;
    let later = ledgerbot::services::notifications::run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    assert!(quiet.quiet);
    assert_eq!(queued_at_night, 0);
    assert_eq!(later.queued, 2, "the morning's tick sends today's alerts");
}

#[sqlx::test(migrations = false)]
async fn the_toggles_turn_each_kind_on_and_off(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tg = TgUser::ro(9_105);
    let user_id = linked_user(&app.pool, "t@example.ro", tg.id).await;
    let settings = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT kind FROM notification_settings WHERE user_id = $1 ORDER BY kind",
        )
        .bind(user_id)
        .fetch_all(&app.pool)
        .await
        .expect("settings")
    };

    let shown = app.reply_to(&tg.text("/notificari")).await;
    let on = app.reply_to(&tg.callback(10, "nt:overdue")).await;
    let after_on = settings().await;
    let edit = app.telegram.wait_for_calls(1).await;
    app.reply_to(&tg.callback(10, "nt:overdue")).await;
    let after_off = settings().await;

    assert!(reply_text(&shown).contains("Notificări"), "{shown}");
    assert_eq!(
        shown["reply_markup"]["inline_keyboard"][1][0]["callback_data"],
        "nt:overdue"
    );
    assert_eq!(on["method"], "answerCallbackQuery");
    assert_eq!(on["text"], "Pornit.");
    assert_eq!(after_on, ["overdue"]);
    assert_eq!(edit[0].method, "editMessageText");
    assert!(
        edit[0].params["text"]
            .as_str()
            .expect("text")
            .contains("✅")
    );
    assert!(after_off.is_empty());
}
