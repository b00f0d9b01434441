//! Notifications: each kind once per person, subject and day, however often
//! the tick runs; nothing to a former member, nor in a person's quiet hours;
//! N days per person; new received invoices found whatever wrote them; low
//! balances once a day per account; the `/notificari` screen and buttons.

use ledgerbot::blocks::local_time::bucharest_date;
use ledgerbot::services::notifications::run_due;
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::cli::{ledgerbot, serve_env};
use crate::fake_telegram::FakeTelegram;
use crate::helpers::{TgUser, reply_text, spawn_app};
use crate::people::{Inv, activate, company, invoice, linked_user, member, token};

/// Today at 10:00 UTC (noon or 13:00 in Bucharest): outside the default
/// quiet hours.
fn midday() -> OffsetDateTime {
    bucharest_date(OffsetDateTime::now_utc())
        .with_hms(10, 0, 0)
        .expect("a time")
        .assume_utc()
}

/// 04:00 UTC today: 06:00 or 07:00 in Bucharest, inside the default quiet hours.
fn early_morning() -> OffsetDateTime {
    bucharest_date(OffsetDateTime::now_utc())
        .with_hms(4, 0, 0)
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

/// The texts queued for `chat_id`, oldest first.
async fn texts_to(pool: &PgPool, chat_id: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT method ->> 'text' FROM outbox WHERE chat_id = $1 ORDER BY id")
        .bind(chat_id)
        .fetch_all(pool)
        .await
        .expect("texts")
}

/// Marks every invoice of `company_id` as written long ago (not new).
async fn age_invoices(pool: &PgPool, company_id: i64) {
    sqlx::query("UPDATE invoices SET created_at = now() - interval '3 days' WHERE company_id = $1")
        .bind(company_id)
        .execute(pool)
        .await
        .expect("aged");
}

/// Sets when the invoice `number` was written.
async fn written_at(pool: &PgPool, number: &str, at: OffsetDateTime) {
    sqlx::query("UPDATE invoices SET created_at = $2 WHERE number = $1")
        .bind(number)
        .bind(at)
        .execute(pool)
        .await
        .expect("created_at set");
}

async fn account(pool: &PgPool, company_id: i64, name: &str, currency: &str, balance: i64) {
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, $2, 'bank', $3, $4)
         ON CONFLICT (company_id, name) DO UPDATE SET balance_minor = excluded.balance_minor",
    )
    .bind(company_id)
    .bind(name)
    .bind(currency)
    .bind(balance)
    .execute(pool)
    .await
    .expect("account");
}

async fn quiet(pool: &PgPool, user_id: i64, hours: Option<(i16, i16)>) {
    sqlx::query(
        "INSERT INTO notification_quiet (user_id, quiet_from, quiet_until) VALUES ($1, $2, $3)",
    )
    .bind(user_id)
    .bind(hours.map(|h| h.0))
    .bind(hours.map(|h| h.1))
    .execute(pool)
    .await
    .expect("quiet hours");
}

/// The kinds, each with something due at [`midday`].
const EVERY_KIND: [&str; 5] = [
    "due_soon",
    "payables_due",
    "overdue",
    "imported",
    "balance_low",
];

/// A person with every kind on, their active company with something of each
/// kind due at [`midday`] (and things of none).
async fn person_with_alerts(pool: &PgPool, telegram_id: i64) -> (i64, i64) {
    ledgerbot::infra::db::migrate(pool).await.expect("schema");
    let user_id = linked_user(pool, &format!("n{telegram_id}@example.ro"), telegram_id).await;
    let company_id = company(pool, user_id, "Exemplu SRL").await;
    activate(pool, telegram_id, company_id).await;
    let invoices = [
        ("F-SOON", "issued", 3, 0),
        ("F-LATE", "received", -1, 0),
        ("F-PAY", "received", 3, 0),
        ("F-PAID", "issued", 3, 10_000),
        ("F-LATER", "issued", 4, 0),
        ("F-NEW", "received", 30, 0),
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
    age_invoices(pool, company_id).await;
    written_at(pool, "F-NEW", midday() - Duration::minutes(10)).await;
    account(pool, company_id, "BT lei", "RON", 45_000).await;
    account(pool, company_id, "BCR lei", "RON", 500_000).await;
    account(pool, company_id, "BT euro", "EUR", 1_000).await;
    sqlx::query("INSERT INTO notification_thresholds (user_id, currency, amount_minor) VALUES ($1, 'RON', 100000)")
        .bind(user_id)
        .execute(pool)
        .await
        .expect("threshold");
    for kind in EVERY_KIND {
        turn_on(pool, user_id, kind).await;
    }
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
    for run in [&first, &second] {
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    assert!(String::from_utf8_lossy(&first.stdout).contains("5 notifications queued"));
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 notifications queued"));
    let calls = fake.calls();
    assert_eq!(calls_after_first, 5, "one message per kind: {calls:?}");
    assert_eq!(calls.len(), 5, "the second run sends nothing");
    let texts: Vec<&str> = calls
        .iter()
        .map(|c| c.params["text"].as_str().expect("text"))
        .collect();
    let find = |what: &str| {
        *texts
            .iter()
            .find(|t| t.contains(what))
            .unwrap_or_else(|| panic!("a message with {what}: {texts:?}"))
    };
    let soon = find("de încasat ajunge");
    assert!(
        soon.contains("1 factură de încasat ajunge la scadență"),
        "{soon}"
    );
    assert!(
        soon.contains("F-SOON") && !soon.contains("F-PAID") && !soon.contains("F-LATER"),
        "{soon}"
    );
    let pay = find("de plătit ajunge");
    assert!(pay.contains("F-PAY") && !pay.contains("F-LATE"), "{pay}");
    let late = find("a depășit azi scadența");
    assert!(
        late.contains("F-LATE") && late.contains("de plătit"),
        "{late}"
    );
    let new = find("s-a importat 1 factură primită");
    assert!(new.contains("F-NEW") && !new.contains("F-PAY"), "{new}");
    let low = find("soldul sub prag");
    assert!(
        low.contains("1 cont are soldul sub prag") && low.contains("BT lei (bancă): 450,00 RON"),
        "{low}"
    );
    assert!(
        !low.contains("BCR") && !low.contains("BT euro"),
        "no threshold in EUR: {low}"
    );
    for (call, text) in calls.iter().zip(&texts) {
        assert!(
            text.contains("/notificari"),
            "says how to turn it off: {text}"
        );
        assert_eq!(call.params["chat_id"], 9_101);
    }
}

#[sqlx::test(migrations = false)]
async fn a_person_removed_from_the_company_gets_nothing(pool: PgPool) {
    let (_, company_id) = person_with_alerts(&pool, 9_102).await;
    let viewer = linked_user(&pool, "viewer@example.ro", 9_103).await;
    member(&pool, company_id, viewer, "viewer").await;
    activate(&pool, 9_103, company_id).await;
    for kind in EVERY_KIND {
        turn_on(&pool, viewer, kind).await;
    }
    quiet(&pool, viewer, None).await;
    sqlx::query("DELETE FROM company_members WHERE user_id = $1")
        .bind(viewer)
        .execute(&pool)
        .await
        .expect("removed");

    let tick = run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    assert_eq!(tick.queued, 5, "only the owner's five");
    assert!(texts_to(&pool, 9_103).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn quiet_hours_are_each_persons_and_a_later_tick_catches_up(pool: PgPool) {
    // Arrange: the owner keeps the default (21–08); a member chose none.
    let (_, company_id) = person_with_alerts(&pool, 9_104).await;
    let night_owl = linked_user(&pool, "owl@example.ro", 9_106).await;
    member(&pool, company_id, night_owl, "viewer").await;
    activate(&pool, 9_106, company_id).await;
    turn_on(&pool, night_owl, "overdue").await;
    quiet(&pool, night_owl, None).await;

    // Act
    let early = run_due(&pool, early_morning())
        .await
        .expect("runs")
        .expect("the lock");
    let to_owner_early = texts_to(&pool, 9_104).await.len();
    let later = run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    // Assert
    assert_eq!(
        (early.queued, early.quiet),
        (1, 1),
        "only the one without quiet hours"
    );
    assert_eq!(texts_to(&pool, 9_106).await.len(), 1);
    assert_eq!(to_owner_early, 0);
    assert_eq!(
        later.queued, 5,
        "the owner's alerts, once their quiet hours end"
    );
    assert_eq!(queued(&pool).await, 6);
}

#[sqlx::test(migrations = false)]
async fn each_person_chooses_how_many_days_ahead(pool: PgPool) {
    let (user_id, company_id) = person_with_alerts(&pool, 9_107).await;
    for (number, direction) in [("F-WEEK", "issued"), ("F-PAY-WEEK", "received")] {
        let inv = Inv {
            number,
            direction,
            due_in_days: 7,
            ..Inv::default()
        };
        invoice(&pool, company_id, inv).await;
    }
    age_invoices(&pool, company_id).await;
    sqlx::query("UPDATE notification_settings SET days = 7 WHERE user_id = $1 AND kind IN ('due_soon', 'payables_due')")
        .bind(user_id)
        .execute(&pool)
        .await
        .expect("days");

    run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    let texts = texts_to(&pool, 9_107).await.join("\n---\n");
    assert!(
        texts.contains("F-WEEK") && texts.contains("F-PAY-WEEK"),
        "{texts}"
    );
    assert!(
        !texts.contains("F-SOON") && !texts.contains("F-PAY —"),
        "3 days ahead no more: {texts}"
    );
}

#[sqlx::test(migrations = false)]
async fn new_received_invoices_are_announced_once_whatever_wrote_them(pool: PgPool) {
    // Arrange: a person with only `imported` on, at any hour, and an ERP
    // pushing through the API (no hook in the import code).
    let app = spawn_app(pool).await;
    let user_id = linked_user(&app.pool, "imp@example.ro", 9_108).await;
    let company_id = company(&app.pool, user_id, "Exemplu SRL").await;
    activate(&app.pool, 9_108, company_id).await;
    turn_on(&app.pool, user_id, "imported").await;
    quiet(&app.pool, user_id, None).await;
    invoice(
        &app.pool,
        company_id,
        Inv {
            number: "OLD-1",
            direction: "received",
            ..Inv::default()
        },
    )
    .await;
    sqlx::query("UPDATE invoices SET created_at = NULL")
        .execute(&app.pool)
        .await
        .expect("from before the column");
    let row = |number: &str, total: &str| {
        json!({"number": number, "direction": "received", "partner": "Furnizor SRL",
               "issue_date": "2026-11-01", "due_date": "2026-12-31", "total": total,
               "paid": "0", "currency": "RON"})
    };
    let push = |rows: serde_json::Value| {
        let app = &app;
        async move {
            let (status, body) = app
                .api(
                    Method::PUT,
                    &token(user_id),
                    &format!("/api/v1/companies/{company_id}/invoices"),
                    Some(&rows),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let issued = json!({"number": "EM-1", "direction": "issued", "partner": "Client SRL",
                        "issue_date": "2026-11-01", "due_date": "2026-12-31", "total": "1.00",
                        "paid": "0", "currency": "RON"});
    let tick = |minutes: i64| {
        let pool = app.pool.clone();
        async move {
            run_due(
                &pool,
                OffsetDateTime::now_utc() + Duration::minutes(minutes),
            )
            .await
            .expect("runs")
            .expect("the lock")
        }
    };

    // Act
    push(json!([
        row("FZ-1", "100.00"),
        row("FZ-2", "250.50"),
        issued
    ]))
    .await;
    let still_arriving = tick(0).await;
    let settled = tick(3).await;
    push(json!([row("FZ-1", "120.00")])).await; // an update, not new
    let after_update = tick(6).await;
    push(json!([row("FZ-3", "10.00")])).await;
    let next_batch = tick(9).await;

    // Assert
    assert_eq!(still_arriving.queued, 0, "waits for the import to settle");
    assert_eq!(settled.queued, 1);
    assert_eq!(after_update.queued, 0, "an updated invoice is not new");
    assert_eq!(next_batch.queued, 1);
    // The app's outbox sends them (and keeps no text once sent).
    let texts: Vec<String> = app
        .telegram
        .wait_for_calls(2)
        .await
        .iter()
        .map(|call| call.params["text"].as_str().expect("text").to_owned())
        .collect();
    assert!(
        texts[0].contains("s-au importat 2 facturi primite:"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("FZ-1 — Furnizor SRL, 100,00 RON"),
        "{}",
        texts[0]
    );
    assert!(
        !texts[0].contains("OLD-1") && !texts[0].contains("EM-1"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("s-a importat 1 factură primită:") && texts[1].contains("FZ-3"),
        "{}",
        texts[1]
    );
    assert!(!texts[1].contains("FZ-1"), "{}", texts[1]);
}

#[sqlx::test(migrations = false)]
async fn a_low_balance_is_told_once_a_day_per_account(pool: PgPool) {
    let (user_id, company_id) = person_with_alerts(&pool, 9_109).await;
    sqlx::query("DELETE FROM notification_settings WHERE user_id = $1 AND kind <> 'balance_low'")
        .bind(user_id)
        .execute(&pool)
        .await
        .expect("only balance_low");
    sqlx::query("INSERT INTO notification_thresholds (user_id, currency, amount_minor) VALUES ($1, 'EUR', 5000)")
        .bind(user_id)
        .execute(&pool)
        .await
        .expect("EUR threshold");

    let first = run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");
    account(&pool, company_id, "BT lei", "RON", 40_000).await; // lower still: told already today
    account(&pool, company_id, "BCR lei", "RON", 90_000).await; // newly under
    let second = run_due(&pool, midday() + Duration::minutes(5))
        .await
        .expect("runs")
        .expect("the lock");
    let third = run_due(&pool, midday() + Duration::minutes(10))
        .await
        .expect("runs")
        .expect("the lock");

    assert_eq!((first.queued, second.queued, third.queued), (1, 1, 0));
    let texts = texts_to(&pool, 9_109).await;
    assert!(
        texts[0].contains("2 conturi au soldul sub prag"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("BT euro (bancă): 10,00 EUR, pragul 50,00 EUR"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("BCR lei") && !texts[1].contains("BT lei"),
        "{}",
        texts[1]
    );
}

#[sqlx::test(migrations = false)]
async fn the_screen_toggles_kinds_and_sets_days_quiet_hours_and_thresholds(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tg = TgUser::ro(9_105);
    let user_id = linked_user(&app.pool, "t@example.ro", tg.id).await;
    let settings = || async {
        sqlx::query_as::<_, (String, i32)>(
            "SELECT kind, days FROM notification_settings WHERE user_id = $1 ORDER BY kind",
        )
        .bind(user_id)
        .fetch_all(&app.pool)
        .await
        .expect("settings")
    };
    let button = |reply: &serde_json::Value, data: &str| {
        let rows = reply["reply_markup"]["inline_keyboard"]
            .as_array()
            .expect("rows")
            .clone();
        rows.iter()
            .flat_map(|row| row.as_array().expect("row").clone())
            .find(|b| b["callback_data"] == data)
            .map(|b| b["text"].as_str().expect("text").to_owned())
    };

    let shown = app.reply_to(&tg.text("/notificari")).await;
    let on = app.reply_to(&tg.callback(10, "nt:overdue")).await;
    let after_on = settings().await;
    let edit = app.telegram.wait_for_calls(1).await;
    app.reply_to(&tg.callback(10, "nt:overdue")).await;
    let after_off = settings().await;
    app.reply_to(&tg.callback(10, "nt:payables_due:7")).await;
    let days = settings().await;
    app.reply_to(&tg.callback(10, "nt:quiet:none")).await;
    let quiet: (Option<i16>, Option<i16>) =
        sqlx::query_as("SELECT quiet_from, quiet_until FROM notification_quiet WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.pool)
            .await
            .expect("quiet");
    let threshold = app.reply_to(&tg.text("/notificari prag 2500 EUR")).await;
    let bad = app.reply_to(&tg.text("/notificari prag multi")).await;
    let forged = app.reply_to(&tg.callback(10, "nt:overdue:99")).await;

    assert!(reply_text(&shown).contains("Notificări"), "{shown}");
    assert!(
        reply_text(&shown).contains("Ore de liniște (ora României): 21:00–08:00"),
        "{shown}"
    );
    assert_eq!(
        button(&shown, "nt:payables_due").as_deref(),
        Some("Pornește: plăți")
    );
    assert_eq!(
        button(&shown, "nt:quiet:21-8").as_deref(),
        Some("✓ 🌙 21–08")
    );
    assert_eq!(on["method"], "answerCallbackQuery");
    assert_eq!(on["text"], "Pornit.");
    assert_eq!(after_on, [("overdue".to_owned(), 3)]);
    assert_eq!(edit[0].method, "editMessageText");
    assert!(
        edit[0].params["text"]
            .as_str()
            .expect("text")
            .contains("✅ facturi care au depășit azi scadența")
    );
    assert!(after_off.is_empty());
    assert_eq!(days, [("payables_due".to_owned(), 7)]);
    assert_eq!(quiet, (None, None));
    assert!(
        reply_text(&threshold).contains("un cont în EUR scade sub 2.500,00 EUR"),
        "{threshold}"
    );
    assert!(
        reply_text(&threshold).contains("Pragul soldului mic: 2.500,00 EUR"),
        "{threshold}"
    );
    assert!(
        reply_text(&threshold).contains("✅ sold de bancă sau casă sub prag"),
        "{threshold}"
    );
    assert!(
        reply_text(&threshold).contains("Ore de liniște: fără"),
        "{threshold}"
    );
    assert_eq!(
        button(&threshold, "nt:payables_due:7").as_deref(),
        Some("✓ 7 zile")
    );
    assert!(reply_text(&bad).contains("Scrie pragul așa"), "{bad}");
    assert_ne!(forged["text"], "Salvat.", "{forged}");
}

#[sqlx::test(migrations = false)]
async fn the_record_of_alerts_older_than_a_week_is_forgotten(pool: PgPool) {
    let (user_id, _) = person_with_alerts(&pool, 9_110).await;
    let today = bucharest_date(midday());
    for days_ago in [0, 7, 8, 30] {
        sqlx::query("INSERT INTO notifications_sent (user_id, kind, subject, day) VALUES ($1, 'overdue', 'company:0', $2)")
            .bind(user_id)
            .bind(today - Duration::days(days_ago))
            .execute(&pool)
            .await
            .expect("an old record");
    }

    run_due(&pool, midday())
        .await
        .expect("runs")
        .expect("the lock");

    let kept: Vec<time::Date> = sqlx::query_scalar(
        "SELECT day FROM notifications_sent WHERE subject = 'company:0' ORDER BY day DESC",
    )
    .fetch_all(&pool)
    .await
    .expect("kept");
    assert_eq!(kept, [today, today - Duration::days(7)]);
}

#[sqlx::test(migrations = false)]
async fn the_screen_speaks_english_to_an_english_speaker(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tg = TgUser::en(9_111);
    linked_user(&app.pool, "en@example.ro", tg.id).await;

    let threshold = app.reply_to(&tg.text("/notify threshold 1,000.50")).await;
    let bad = app.reply_to(&tg.text("/notify limit 5")).await;

    let text = reply_text(&threshold);
    assert!(
        text.contains("I will tell you when an account in RON goes under RON 1,000.50."),
        "{text}"
    );
    assert!(
        text.contains("✅ a bank or cash balance under the threshold"),
        "{text}"
    );
    assert!(
        text.contains("⬜ invoices to pay falling due in 3 days"),
        "{text}"
    );
    assert!(
        text.contains("Quiet hours (Bucharest time): 21:00–08:00"),
        "{text}"
    );
    assert!(
        reply_text(&bad).contains("Write the threshold like this"),
        "{bad}"
    );
}

#[sqlx::test(migrations = false)]
async fn the_upgrade_keeps_old_invoices_out_of_the_new_ones_and_takes_the_new_kinds(pool: PgPool) {
    // Arrange: the schema as the previous build left it (no created_at, the
    // kinds checked inline), with an invoice and a setting in it.
    let (user_id, company_id) = person_with_alerts(&pool, 9_112).await;
    sqlx::raw_sql(
        "DELETE FROM notification_settings;
         ALTER TABLE invoices DROP COLUMN created_at;
         ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_kind;
         ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_kind_check
             CHECK (kind IN ('due_soon', 'overdue'));",
    )
    .execute(&pool)
    .await
    .expect("the previous schema");
    turn_on(&pool, user_id, "due_soon").await;

    // Act
    for _ in 0..2 {
        ledgerbot::infra::db::migrate(&pool)
            .await
            .expect("upgrades");
    }
    invoice(
        &pool,
        company_id,
        Inv {
            number: "F-AFTER",
            direction: "received",
            ..Inv::default()
        },
    )
    .await;
    turn_on(&pool, user_id, "imported").await;
    quiet(&pool, user_id, None).await;
    let tick = run_due(&pool, OffsetDateTime::now_utc() + Duration::minutes(3))
        .await
        .expect("runs")
        .expect("the lock");

    // Assert
    let unknown: i64 = sqlx::query_scalar("SELECT count(*) FROM invoices WHERE created_at IS NULL")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(unknown, 6, "the invoices from before keep no date");
    assert!(tick.queued >= 1);
    let texts = texts_to(&pool, 9_112).await.join("\n---\n");
    assert!(
        texts.contains("s-a importat 1 factură primită") && texts.contains("F-AFTER"),
        "{texts}"
    );
    assert!(!texts.contains("F-NEW —"), "{texts}");
}
