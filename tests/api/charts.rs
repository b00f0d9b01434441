//! `/chart` (`/grafic`): a photo per chart through the fake Bot API, each
//! PNG decoded and its bars looked for; the captions' figures; one currency
//! and the others named; nothing to draw answered in words.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use std::io::Cursor;

use base64::Engine as _;
use serde_json::Value;
use sqlx::PgPool;

use crate::fake_telegram::Call;
use crate::helpers::{ActiveOwner, TgUser, owner_with_active_company, reply_text, spawn_app};
use crate::people::{self, Inv, linked_user};

/// The series colours of `ledgerbot::blocks::chart::colours`.
const BLUE: [u8; 3] = [0x1F, 0x6F, 0xD0];
const ORANGE: [u8; 3] = [0xE8, 0x7B, 0x14];
const PURPLE: [u8; 3] = [0x8E, 0x44, 0xAD];
const RED: [u8; 3] = [0xC6, 0x28, 0x28];

/// An invoice issued `issued_ago` days ago, due `due_ago` days ago (negative: ahead).
async fn invoice(
    pool: &PgPool,
    company_id: i64,
    (number, direction, currency): (&str, &str, &str),
    (issued_ago, due_ago): (i32, i32),
    (total, paid): (i64, i64),
) {
    let one = Inv {
        number,
        direction,
        currency,
        issued_days_ago: issued_ago,
        due_in_days: -due_ago,
        total,
        paid,
        ..Inv::default()
    };
    people::invoice(pool, company_id, one).await;
}

async fn cash(pool: &PgPool, company_id: i64, amount: i64) {
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, $2, 'RON', 'test', (now() AT TIME ZONE 'Europe/Bucharest')::date)",
    )
    .bind(company_id)
    .bind(amount)
    .execute(pool)
    .await
    .expect("cash entry inserted");
}

/// The RGB pixels of an uploaded photo, decoded with an independent decoder.
fn decode(call: &Call) -> (u32, u32, Vec<u8>) {
    let b64 = call.params["photo"]["base64"].as_str().expect("the file");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a small image")];
    let frame = reader.next_frame(&mut pixels).expect("valid PNG data");
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    pixels.truncate(frame.buffer_size());
    (frame.width, frame.height, pixels)
}

fn pixels_of(pixels: &[u8], colour: [u8; 3]) -> usize {
    pixels.chunks_exact(3).filter(|p| *p == colour).count()
}

fn caption(call: &Call) -> &str {
    call.params["caption"].as_str().unwrap_or_default()
}

fn photos(calls: &[Call]) -> Vec<&Call> {
    calls.iter().filter(|c| c.method == "sendPhoto").collect()
}

#[sqlx::test(migrations = false)]
async fn chart_sends_a_photo_per_chart_with_its_figures_and_its_bars_drawn(pool: PgPool) {
    // Arrange
    let ActiveOwner {
        app,
        tg,
        company_id: id,
        ..
    } = owner_with_active_company(&pool, TgUser::en(700)).await;
    invoice(
        &pool,
        id,
        ("F-1", "issued", "RON"),
        (0, -10),
        (1500_00, 500_00),
    )
    .await;
    invoice(
        &pool,
        id,
        ("F-2", "issued", "RON"),
        (60, 30),
        (800_00, 800_00),
    )
    .await;
    // 100 days past due: the "> 90" bucket.
    invoice(&pool, id, ("F-3", "issued", "RON"), (120, 100), (200_00, 0)).await;
    invoice(
        &pool,
        id,
        ("P-1", "received", "RON"),
        (5, -5),
        (300_00, 100_00),
    )
    .await;
    cash(&pool, id, 250_00).await;
    cash(&pool, id, -100_00).await;

    // Act
    let reply = app.reply_to(&tg.text("/chart")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(
        text.contains("<b>Exemplu SRL</b>: the charts of the last 6 months, in RON"),
        "{text}"
    );
    assert!(!text.contains("not in the charts"), "one currency: {text}");
    let calls = app.telegram.wait_for_calls(4).await;
    let photos = photos(&calls);
    assert_eq!(photos.len(), 4, "{calls:?}");
    for photo in &photos {
        assert_eq!(photo.params["chat_id"], "700");
        assert_eq!(photo.params["parse_mode"], "HTML");
        assert_eq!(photo.params["photo"]["content_type"], "image/png");
    }
    let (sales, purchases, cash, ageing) = (photos[0], photos[1], photos[2], photos[3]);

    let c = caption(sales);
    assert!(c.starts_with("<b>Invoiced and collected</b>"), "{c}");
    assert!(c.contains("invoiced: <b>RON 2,500.00</b>"), "{c}");
    assert!(c.contains("collected: <b>RON 1,300.00</b>"), "{c}");
    assert!(c.contains("still to collect: <b>RON 1,200.00</b>"), "{c}");
    let c = caption(purchases);
    assert!(c.contains("bills received: <b>RON 300.00</b>"), "{c}");
    assert!(c.contains("still to pay: <b>RON 200.00</b>"), "{c}");
    let c = caption(cash);
    assert!(c.contains("income: <b>RON 250.00</b>"), "{c}");
    assert!(c.contains("expenses: <b>RON 100.00</b>"), "{c}");
    assert!(c.contains("net: <b>RON 150.00</b>"), "{c}");
    let c = caption(ageing);
    assert!(c.contains("to collect: <b>RON 1,200.00</b>"), "{c}");
    assert!(c.contains("overdue: <b>RON 200.00</b>"), "{c}");
    assert!(c.contains("over 90 days: <b>RON 200.00</b>"), "{c}");

    // Each image is the size, and its series drew their bars.
    let expected = [
        (sales, vec![BLUE, ORANGE]),
        (purchases, vec![PURPLE, ORANGE]),
        (cash, vec![BLUE, PURPLE]),
        (ageing, vec![RED]),
    ];
    for (photo, colours) in expected {
        let (width, height, pixels) = decode(photo);
        assert_eq!((width, height), (800, 600));
        for colour in colours {
            let n = pixels_of(&pixels, colour);
            assert!(n > 500, "{n} pixels of {colour:?} in {}", caption(photo));
        }
    }
    // Ageing draws nothing but overdue bars.
    let (_, _, pixels) = decode(ageing);
    assert_eq!(pixels_of(&pixels, BLUE), 0);
}

#[sqlx::test(migrations = false)]
async fn chart_in_romanian_leaves_out_empty_charts_and_names_other_currencies(pool: PgPool) {
    // Arrange: only sales, in lei and in euros.
    let ActiveOwner {
        app,
        tg,
        company_id: id,
        ..
    } = owner_with_active_company(&pool, TgUser::ro(701)).await;
    invoice(
        &pool,
        id,
        ("F-1", "issued", "RON"),
        (3, -10),
        (1234_56, 1234_56),
    )
    .await;
    invoice(&pool, id, ("F-2", "issued", "EUR"), (3, -10), (99_00, 0)).await;

    // Act
    let reply = app.reply_to(&tg.text("/grafic")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(
        text.contains("graficele ultimelor 6 luni, în RON"),
        "{text}"
    );
    assert!(
        text.contains("Sumele în EUR nu sunt în grafice"),
        "the euros are named: {text}"
    );
    let calls = app.telegram.wait_for_calls(1).await;
    let photos = photos(&calls);
    assert_eq!(photos.len(), 1, "only the chart with data: {calls:?}");
    let c = caption(photos[0]);
    assert!(c.starts_with("<b>Facturi emise și încasate</b>"), "{c}");
    assert!(c.contains("facturat: <b>1.234,56 RON</b>"), "{c}");
    assert!(c.contains("rămas de încasat: <b>0,00 RON</b>"), "{c}");
}

#[sqlx::test(migrations = false)]
async fn chart_with_nothing_to_draw_answers_in_words(pool: PgPool) {
    // Arrange: an invoice older than six months, fully paid.
    let ActiveOwner {
        app,
        tg,
        company_id: id,
        ..
    } = owner_with_active_company(&pool, TgUser::en(702)).await;
    invoice(
        &pool,
        id,
        ("F-0", "issued", "RON"),
        (400, 370),
        (100_00, 100_00),
    )
    .await;

    // Act
    let reply = app.reply_to(&tg.text("/chart")).await;

    // Assert
    let text = reply_text(&reply);
    assert!(text.contains("has nothing to chart yet"), "{text}");
    // The answer is the only message: `/help` after it is the next call's
    // reply, and no photo was queued in between.
    let help = app.reply_to(&tg.text("/help")).await;
    assert!(reply_text(&help).contains("/chart"), "listed in /help");
    assert!(
        photos(&app.telegram.calls()).is_empty(),
        "{:?}",
        app.telegram.calls()
    );
}

#[sqlx::test(migrations = false)]
async fn chart_needs_an_active_company(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(703);
    linked_user(&pool, "ana@example.ro", tg.id).await;

    let reply: Value = app.reply_to(&tg.text("/chart")).await;

    let text = reply_text(&reply);
    assert!(
        text.contains("/selectcompany") || text.contains("company"),
        "{text}"
    );
    assert!(photos(&app.telegram.calls()).is_empty());
}
