//! Cash in the bot: `/add` with a currency and a day, its refusals, the undo
//! button (own last entry, 10 minutes, once), and `/cash` (`/casa`).

use serde_json::Value;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::{TestApp, TgUser, reply_text, spawn_app};
use crate::people::{activate, company, linked_user, member};

struct Setup {
    app: TestApp,
    company_id: i64,
}

/// Ana (Telegram 1700) owns the active company "Casa SRL".
async fn setup(pool: &PgPool) -> Setup {
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(pool, "ana@example.ro", 1700).await;
    let company_id = company(pool, ana, "Casa SRL").await;
    activate(pool, 1700, company_id).await;
    Setup { app, company_id }
}

fn today() -> Date {
    ledgerbot::blocks::local_time::bucharest_date(OffsetDateTime::now_utc())
}

async fn entries(pool: &PgPool, company_id: i64) -> Vec<(i64, String, Date, String)> {
    sqlx::query_as(
        "SELECT amount_minor, currency, entry_date, note FROM cash_entries
         WHERE company_id = $1 ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await
    .expect("entries")
}

fn undo_data(reply: &Value) -> String {
    reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap_or_else(|| panic!("an undo button: {reply}"))
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn add_takes_a_currency_and_a_day_and_offers_an_undo_button(pool: PgPool) {
    // Arrange
    let s = setup(&pool).await;
    let ana = TgUser::ro(1700);
    let yesterday = today() - Duration::days(1);

    // Act
    let eur = s.app.reply_to(&ana.text("/adauga 50 EUR ieri taxi")).await;
    let plain = s.app.reply_to(&ana.text("/adauga +12,50 vânzare")).await;

    // Assert
    assert_eq!(
        entries(&pool, s.company_id).await,
        [
            (-5000, "EUR".to_owned(), yesterday, "taxi".to_owned()),
            (1250, "RON".to_owned(), today(), "vânzare".to_owned()),
        ]
    );
    let text = reply_text(&eur);
    assert!(
        text.contains("cheltuiala de <b>50,00 EUR</b>: taxi"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{:02}.{:02}.{}",
            yesterday.day(),
            u8::from(yesterday.month()),
            yesterday.year()
        )),
        "the day, when not today: {text}"
    );
    assert!(undo_data(&eur).starts_with("cu:"), "{eur}");
    assert!(undo_data(&plain).starts_with("cu:"), "{plain}");
}

#[sqlx::test(migrations = false)]
async fn future_days_unknown_currencies_and_impossible_days_are_refused_and_nothing_recorded(
    pool: PgPool,
) {
    let s = setup(&pool).await;
    let tomorrow = today() + Duration::days(1);
    let tomorrow = format!(
        "{:02}.{:02}.{}",
        tomorrow.day(),
        u8::from(tomorrow.month()),
        tomorrow.year()
    );
    let cases = [
        (
            format!("/add 10 {tomorrow} taxi"),
            "is in the future",
            "tomorrow",
        ),
        (
            "/add 10 EUU taxi".to_owned(),
            "I do not know the currency “EUU”",
            "unknown currency",
        ),
        (
            "/add 10 31.02 taxi".to_owned(),
            "is not a day of the calendar",
            "no such day",
        ),
        ("/add 10 EUR".to_owned(), "Send /add", "no note"),
    ];
    for (command, says, why) in cases {
        let reply = s.app.reply_to(&TgUser::en(1700).text(&command)).await;
        assert!(reply_text(&reply).contains(says), "{why}: {reply}");
    }
    assert!(entries(&pool, s.company_id).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn the_author_undoes_the_last_entry_once(pool: PgPool) {
    // Arrange
    let s = setup(&pool).await;
    let ana = TgUser::en(1700);
    s.app.reply_to(&ana.text("/add 5 coffee")).await;
    let added = s.app.reply_to(&ana.text("/add 7 taxi")).await;
    let data = undo_data(&added);

    // Act
    let undone = s.app.reply_to(&ana.callback(10, &data)).await;
    let again = s.app.reply_to(&ana.callback(10, &data)).await;

    // Assert
    assert_eq!(undone["method"], "editMessageText", "{undone}");
    assert!(reply_text(&undone).contains("Undone"), "{undone}");
    assert!(
        undone["reply_markup"].is_null(),
        "the button is gone: {undone}"
    );
    assert_eq!(again["method"], "answerCallbackQuery");
    assert!(
        again["text"]
            .as_str()
            .is_some_and(|t| t.contains("already undone")),
        "{again}"
    );
    let left = entries(&pool, s.company_id).await;
    assert_eq!(left.len(), 1, "only the taxi is gone: {left:?}");
    assert_eq!(left[0].3, "coffee");
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn undo_is_refused_to_others_for_older_entries_and_after_ten_minutes(pool: PgPool) {
    // Arrange: Bea is an accountant of the same company
    let s = setup(&pool).await;
    let bea = linked_user(&pool, "bea@example.ro", 1701).await;
    member(&pool, s.company_id, bea, "accountant").await;
    activate(&pool, 1701, s.company_id).await;
    let ana = TgUser::en(1700);
    let first = undo_data(&s.app.reply_to(&ana.text("/add 1 first")).await);
    let second = undo_data(&s.app.reply_to(&ana.text("/add 2 second")).await);

    // Act
    let by_bea = s
        .app
        .reply_to(&TgUser::en(1701).callback(11, &second))
        .await;
    let not_last = s.app.reply_to(&ana.callback(12, &first)).await;
    sqlx::query("UPDATE cash_entries SET created_at = now() - interval '11 minutes'")
        .execute(&pool)
        .await
        .expect("age the entries");
    let too_late = s.app.reply_to(&ana.callback(13, &second)).await;

    // Assert
    let notice = |reply: &Value| reply["text"].as_str().unwrap_or_default().to_owned();
    assert!(notice(&by_bea).contains("only undo your own"), "{by_bea}");
    assert!(
        notice(&not_last).contains("only undo your last"),
        "{not_last}"
    );
    assert!(notice(&too_late).contains("10 minutes"), "{too_late}");
    assert_eq!(
        entries(&pool, s.company_id).await.len(),
        2,
        "nothing undone"
    );
}

#[sqlx::test(migrations = false)]
async fn cash_lists_the_latest_entries_most_recent_day_first(pool: PgPool) {
    let s = setup(&pool).await;
    let ana = TgUser::ro(1700);
    let empty = s.app.reply_to(&ana.text("/casa")).await;
    s.app
        .reply_to(&ana.text("/adauga 12,50 ieri <cafea>"))
        .await;
    s.app.reply_to(&ana.text("/adauga +250 vânzare")).await;

    let listed = s.app.reply_to(&ana.text("/casa")).await;

    assert!(reply_text(&empty).contains("Nicio înregistrare"), "{empty}");
    let text = reply_text(&listed);
    let sale = text.find("📥 <b>+250,00 RON</b>").expect("the sale");
    let coffee = text.find("📤 <b>−12,50 RON</b>").expect("the coffee");
    assert!(sale < coffee, "today before yesterday: {text}");
    assert!(text.contains("&lt;cafea&gt;"), "escaped: {text}");
}
