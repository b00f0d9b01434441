//! The daily digest: once per person and day from the first tick at or after
//! their hour, nothing before it, nothing to a former member; its figures
//! for seeded data; the chart photo, and none alone after the day's digest;
//! the settings buttons and line on `/notificari`.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use std::io::Cursor;

use ledgerbot::blocks::local_time::{bucharest_date, in_bucharest};
use ledgerbot::front::bot::handlers::chart::digest_chart;
use ledgerbot::services::notifications::digest;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::cli::notify_once;
use crate::fake_telegram::FakeTelegram;
use crate::helpers::{TgUser, reply_text, spawn_app};
use crate::people::{Inv, activate, company, invoice, linked_user, member};

/// Today at 10:00 UTC (12:00 or 13:00 in Bucharest).
fn at_ten_utc() -> OffsetDateTime {
    bucharest_date(OffsetDateTime::now_utc())
        .with_hms(10, 0, 0)
        .expect("a time")
        .assume_utc()
}

/// The hour `at` shows on Bucharest's clocks.
fn local_hour(at: OffsetDateTime) -> i16 {
    i16::from(in_bucharest(at).hour())
}

/// One digest tick at `at`, with the real chart drawing.
async fn tick(pool: &PgPool, at: OffsetDateTime) -> digest::Sent {
    digest::run_due(pool, at, digest_chart)
        .await
        .expect("runs")
        .expect("no other tick holds the lock")
}

async fn digest_on(pool: &PgPool, user_id: i64, hour: i16, chart: bool) {
    sqlx::query(
        "INSERT INTO digest_settings (user_id, enabled, hour, chart) VALUES ($1, true, $2, $3)",
    )
    .bind(user_id)
    .bind(hour)
    .bind(chart)
    .execute(pool)
    .await
    .expect("digest settings");
}

/// The person turns the chart on (in `/notificari`).
async fn chart_on(pool: &PgPool, user_id: i64) {
    sqlx::query("UPDATE digest_settings SET chart = true WHERE user_id = $1")
        .bind(user_id)
        .execute(pool)
        .await
        .expect("chart on");
}

/// The outbox's messages to `chat_id`, in order: (method, text or caption).
async fn queued_to(pool: &PgPool, chat_id: i64) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT method->>'method', coalesce(method->>'text', method->>'caption')
         FROM outbox WHERE chat_id = $1 ORDER BY id",
    )
    .bind(chat_id)
    .fetch_all(pool)
    .await
    .expect("outbox")
}

/// A person with the digest on at `hour`, their active company with
/// treasury, cash and invoices in every list of the digest and out of it.
async fn person_with_a_day(pool: &PgPool, telegram_id: i64, hour: i16) -> (i64, i64) {
    ledgerbot::infra::db::migrate(pool).await.expect("schema");
    let user_id = linked_user(pool, &format!("d{telegram_id}@example.ro"), telegram_id).await;
    let company_id = company(pool, user_id, "Exemplu SRL").await;
    activate(pool, telegram_id, company_id).await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'BT', 'bank', 'RON', 1234567), ($1, 'Casa', 'cash', 'RON', 50000),
                ($1, 'BT EUR', 'bank', 'EUR', 100000)",
    )
    .bind(company_id)
    .execute(pool)
    .await
    .expect("treasury");
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, 30000, 'RON', 'vânzare', (now() AT TIME ZONE 'Europe/Bucharest')::date),
                ($1, -12050, 'RON', 'benzină', (now() AT TIME ZONE 'Europe/Bucharest')::date)",
    )
    .bind(company_id)
    .execute(pool)
    .await
    .expect("cash");
    let invoices = [
        ("F-AZI-1", "issued", 0, 1000_00, 0),
        ("F-AZI-2", "issued", 0, 500_00, 0),
        ("F-PLATA", "received", 0, 250_00, 0),
        ("F-ACHITAT", "issued", 0, 700_00, 700_00),
        ("F-SAPT", "issued", 3, 800_00, 300_00),
        ("F-RESTANT", "issued", -1, 400_00, 0),
        ("F-VECHI", "issued", -10, 900_00, 0),
        ("F-DEPARTE", "issued", 9, 600_00, 0),
    ];
    for (number, direction, due_in_days, total, paid) in invoices {
        let inv = Inv {
            number,
            direction,
            due_in_days,
            total,
            paid,
            ..Inv::default()
        };
        invoice(pool, company_id, inv).await;
    }
    digest_on(pool, user_id, hour, false).await;
    (user_id, company_id)
}

#[sqlx::test(migrations = false)]
async fn notify_once_run_twice_sends_one_digest_with_the_days_figures(pool: PgPool) {
    // Arrange
    let at = at_ten_utc();
    person_with_a_day(&pool, 9_201, local_hour(at)).await;
    let fake = FakeTelegram::start().await;

    // Act
    let first = notify_once(&pool, &fake.url, at).await;
    let calls_after_first = fake.calls().len();
    let second = notify_once(&pool, &fake.url, at).await;

    // Assert
    for output in [&first, &second] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(String::from_utf8_lossy(&first.stdout).contains("1 daily digests queued"));
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 daily digests queued"));
    let calls = fake.calls();
    assert_eq!(calls_after_first, 1, "one digest: {calls:?}");
    assert_eq!(calls.len(), 1, "the second run sends nothing");
    assert_eq!(calls[0].method, "sendMessage");
    assert_eq!(calls[0].params["chat_id"], 9_201);
    let text = calls[0].params["text"].as_str().expect("text");
    let expected = [
        ("Rezumatul zilei", "the title"),
        ("Exemplu SRL", "the company"),
        ("12.845,67 RON", "the RON treasury (bank and cash register)"),
        ("1.000,00 EUR", "the EUR treasury"),
        (
            "încasări 300,00 RON, cheltuieli 120,50 RON",
            "this month's cash",
        ),
        (
            "De încasat: 2 facturi, 1.500,00 RON",
            "due today to collect, the paid one left out",
        ),
        ("• F-AZI-1 — Client SRL, 1.000,00 RON", "named"),
        ("De plătit: 1 factură, 250,00 RON", "due today to pay"),
        (
            "De încasat: 1 factură, 500,00 RON",
            "this week: what is left of F-SAPT",
        ),
        ("F-RESTANT", "became overdue today"),
        ("Intrate azi în întârziere", "the overdue title"),
        ("/notificari", "how to turn it off"),
    ];
    for (part, why) in expected {
        assert!(text.contains(part), "{why}: {part:?} in\n{text}");
    }
    for absent in ["F-ACHITAT", "F-VECHI", "F-DEPARTE"] {
        assert!(!text.contains(absent), "{absent} is not listed:\n{text}");
    }
}

#[sqlx::test(migrations = false)]
async fn nothing_before_the_hour_then_the_first_tick_at_or_after_it(pool: PgPool) {
    let at = at_ten_utc();
    let hour = local_hour(at);
    person_with_a_day(&pool, 9_202, hour).await;
    let before = at - Duration::minutes(1);
    // Yesterday late: that day's digest was missed whole; it never goes today.
    let yesterday = at - Duration::hours(24);

    let early = tick(&pool, before).await;
    let on_time = tick(&pool, at + Duration::minutes(3)).await;
    let again = tick(&pool, at + Duration::hours(2)).await;
    let days: Vec<time::Date> =
        sqlx::query_scalar("SELECT day FROM notifications_sent WHERE kind = 'digest'")
            .fetch_all(&pool)
            .await
            .expect("sent");

    assert_eq!(early.digests, 0, "before the hour");
    assert_eq!(on_time.digests, 1, "the first tick at or after the hour");
    assert_eq!(again.digests, 0, "once a day");
    assert_eq!(days, [bucharest_date(at)], "today's, never yesterday's");
    assert_ne!(bucharest_date(yesterday), bucharest_date(at));
    assert_eq!(queued_to(&pool, 9_202).await.len(), 1);
}

#[sqlx::test(migrations = false)]
async fn a_person_removed_from_the_company_gets_no_digest(pool: PgPool) {
    let at = at_ten_utc();
    let (_, company_id) = person_with_a_day(&pool, 9_203, local_hour(at)).await;
    let viewer = linked_user(&pool, "fost@example.ro", 9_204).await;
    member(&pool, company_id, viewer, "viewer").await;
    activate(&pool, 9_204, company_id).await;
    digest_on(&pool, viewer, 0, true).await;
    sqlx::query("DELETE FROM company_members WHERE user_id = $1")
        .bind(viewer)
        .execute(&pool)
        .await
        .expect("removed");

    let sent = tick(&pool, at).await;

    assert_eq!(sent.digests, 1, "only the owner's");
    assert!(queued_to(&pool, 9_204).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn the_chart_follows_the_digest_as_a_png_with_its_figures(pool: PgPool) {
    let at = at_ten_utc();
    let (user_id, _) = person_with_a_day(&pool, 9_205, local_hour(at)).await;
    chart_on(&pool, user_id).await;
    sqlx::query("UPDATE users SET language = 'en' WHERE id = $1")
        .bind(user_id)
        .execute(&pool)
        .await
        .expect("English");

    let sent = tick(&pool, at).await;
    let again = tick(&pool, at + Duration::minutes(1)).await;
    let queued = queued_to(&pool, 9_205).await;
    let photo: Vec<u8> =
        sqlx::query_scalar("SELECT photo FROM outbox WHERE chat_id = 9205 AND photo IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("the photo");

    assert_eq!((sent.digests, sent.charts), (1, 1));
    assert_eq!((again.digests, again.charts), (0, 0), "once a day");
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0].0, "sendMessage", "the text first");
    assert!(queued[0].1.contains("Daily digest"), "{}", queued[0].1);
    assert!(queued[0].1.contains("/notify"), "{}", queued[0].1);
    assert_eq!(queued[1].0, "sendPhoto");
    let caption = &queued[1].1;
    // Every seeded invoice was issued 40 days ago: the issued ones' totals
    // and what was paid of them.
    assert!(caption.contains("Invoiced and collected"), "{caption}");
    assert!(
        caption.contains("invoiced: <b>RON 4,900.00</b>"),
        "{caption}"
    );
    assert!(
        caption.contains("collected: <b>RON 1,000.00</b>"),
        "{caption}"
    );
    let decoder = png::Decoder::new(Cursor::new(photo));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    assert!(info.width >= 400 && info.height >= 300, "{info:?}");
}

#[sqlx::test(migrations = false)]
async fn a_chart_turned_on_after_the_days_digest_comes_with_the_next_digest(pool: PgPool) {
    // Arrange: today's digest has gone, without a chart.
    let at = at_ten_utc();
    let (user_id, _) = person_with_a_day(&pool, 9_207, local_hour(at)).await;
    let first = tick(&pool, at).await;
    chart_on(&pool, user_id).await;

    // Act
    let later_today = tick(&pool, at + Duration::minutes(1)).await;
    let tomorrow = tick(&pool, at + Duration::days(1)).await;

    // Assert
    assert_eq!((first.digests, first.charts), (1, 0));
    assert_eq!(
        (later_today.digests, later_today.charts),
        (0, 0),
        "no chart alone after the day's digest"
    );
    assert_eq!(
        (tomorrow.digests, tomorrow.charts),
        (1, 1),
        "the chart with the next digest"
    );
    let methods: Vec<String> = queued_to(&pool, 9_207)
        .await
        .into_iter()
        .map(|(method, _)| method)
        .collect();
    assert_eq!(methods, ["sendMessage", "sendMessage", "sendPhoto"]);
}

#[sqlx::test(migrations = false)]
async fn the_settings_buttons_change_the_digest_and_tampered_ones_are_refused(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tg = TgUser::ro(9_206);
    let user_id = linked_user(&app.pool, "s@example.ro", tg.id).await;
    let settings = || async {
        sqlx::query_as::<_, (bool, i16, bool)>(
            "SELECT enabled, hour, chart FROM digest_settings WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&app.pool)
        .await
        .expect("settings")
    };

    // Act
    let shown = app.reply_to(&tg.text("/notificari")).await;
    let opened = app.reply_to(&tg.callback(10, "dg:show")).await;
    let screen = app.telegram.wait_for_calls(1).await;
    let hour = app.reply_to(&tg.callback(11, "dg:h:07")).await;
    let after_hour = settings().await;
    app.reply_to(&tg.callback(11, "dg:chart:on")).await;
    let after_chart = settings().await;
    let shown_on = app.reply_to(&tg.text("/notificari")).await;
    let tampered = [
        "dg:h:24",
        "dg:h:7",
        "dg:h:-1",
        "dg:chart:da",
        "dg:on:1",
        "dg:",
    ];
    let mut refusals = Vec::new();
    for data in tampered {
        refusals.push(app.reply_to(&tg.callback(11, data)).await);
    }
    let after_tampering = settings().await;
    app.reply_to(&tg.callback(11, "dg:off")).await;
    let after_off = settings().await;
    let shown_off = app.reply_to(&tg.text("/notificari")).await;

    // Assert
    let rows = shown["reply_markup"]["inline_keyboard"]
        .as_array()
        .expect("buttons");
    assert!(
        rows.iter().any(|row| row[0]["callback_data"] == "dg:show"),
        "{shown}"
    );
    for (notificari, line, why) in [
        (
            &shown,
            "📰 Rezumatul zilnic: oprit; îl pornești",
            "never turned on",
        ),
        (
            &shown_on,
            "📰 Rezumatul zilnic: pornit, la 07:00, cu grafic.",
            "on, its hour and the chart",
        ),
        (&shown_off, "📰 Rezumatul zilnic: oprit;", "turned off"),
    ] {
        assert!(reply_text(notificari).contains(line), "{why}: {notificari}");
    }
    assert_eq!(opened["method"], "answerCallbackQuery");
    assert_eq!(screen[0].method, "sendMessage");
    let screen_text = screen[0].params["text"].as_str().expect("text");
    assert!(screen_text.contains("⬜ oprit"), "{screen_text}");
    assert!(screen_text.contains("orele de liniște"), "{screen_text}");
    assert_eq!(
        screen[0].params["reply_markup"]["inline_keyboard"][1][1]["callback_data"],
        "dg:h:07"
    );
    assert_eq!(hour["text"], "Rezumat pornit, la 07:00.");
    assert_eq!(after_hour, Some((true, 7, false)));
    assert_eq!(after_chart, Some((true, 7, true)));
    for (data, refusal) in tampered.iter().zip(&refusals) {
        assert_eq!(refusal["method"], "answerCallbackQuery", "{data}");
        assert_eq!(
            refusal["text"], "Butonul acesta nu mai este valabil.",
            "{data}"
        );
    }
    assert_eq!(after_tampering, after_chart, "nothing changed");
    assert_eq!(after_off, Some((false, 7, true)), "off keeps the hour");
}
