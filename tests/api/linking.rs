//! Web-initiated linking: link codes from the API, their QR images, and the
//! codes redeemed in the bot (`/start <code>`, or the bare code).

use std::io::Cursor;

use ledgerbot::blocks::link_code::ALPHABET;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{BOT_USERNAME, TestApp, TgUser, count_rows, reply_text, spawn_app};

fn code_of(answer: &Value) -> String {
    answer["code"].as_str().expect("a code").to_owned()
}

#[sqlx::test(migrations = false)]
async fn a_link_code_has_the_shape_expiry_and_links_of_the_contract(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;

    // Act
    let answer = app.link_code(&tokens.access).await;

    // Assert
    let code = code_of(&answer);
    assert_eq!(code.len(), 8, "{code}");
    assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
    let expires_at =
        OffsetDateTime::parse(answer["expires_at"].as_str().expect("string"), &Rfc3339)
            .expect("RFC 3339");
    let minutes = (expires_at - OffsetDateTime::now_utc()).whole_seconds();
    assert!(
        (14 * 60..=15 * 60).contains(&minutes),
        "expires in {minutes} s"
    );
    assert_eq!(
        answer["deep_link"],
        format!("https://t.me/{BOT_USERNAME}?start={code}")
    );
    assert_eq!(
        answer["qr_svg_url"],
        format!("http://ledgerbot.test/qr/{code}.svg")
    );
    assert_eq!(
        answer["qr_png_url"],
        format!("http://ledgerbot.test/qr/{code}.png")
    );
}

/// Decodes a PNG and reads the QR code in it, as a phone would.
fn scan_png(bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("small")];
    let frame = reader.next_frame(&mut pixels).expect("PNG data");
    let side = frame.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("readable").1
}

#[sqlx::test(migrations = false)]
async fn the_qr_png_scans_back_to_the_deep_link_and_is_never_cached(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let answer = app.link_code(&tokens.access).await;

    // Act
    let png = app
        .client
        .get(
            answer["qr_png_url"]
                .as_str()
                .expect("url")
                .replace("http://ledgerbot.test", &app.base),
        )
        .send()
        .await
        .expect("answers");
    let svg = app.get(&format!("/qr/{}.svg", code_of(&answer))).await;

    // Assert
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(png.headers()["cache-control"], "no-store");
    let bytes = png.bytes().await.expect("body");
    assert_eq!(
        scan_png(&bytes),
        answer["deep_link"].as_str().expect("link")
    );
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(svg.headers()["cache-control"], "no-store");
    assert!(svg.text().await.expect("body").contains("<svg"));
}

#[sqlx::test(migrations = false)]
async fn qr_images_are_404_unless_the_code_can_still_be_redeemed(pool: PgPool) {
    // Arrange: one code used, one expired, one replaced, one live.
    let app = spawn_app(pool).await;
    let used = code_of(
        &app.link_code(&app.register("used@example.com").await.access)
            .await,
    );
    app.reply_to(&TgUser::en(501).text(&format!("/start {used}")))
        .await;
    let replaced_owner = app.register("replaced@example.com").await;
    let replaced = code_of(&app.link_code(&replaced_owner.access).await);
    app.link_code(&replaced_owner.access).await;
    let expired = code_of(
        &app.link_code(&app.register("expired@example.com").await.access)
            .await,
    );
    app.expire_codes().await;
    let live = code_of(
        &app.link_code(&app.register("live@example.com").await.access)
            .await,
    );
    let cases = [
        (format!("/qr/{used}.png"), 404, "used"),
        (format!("/qr/{expired}.svg"), 404, "expired"),
        (
            format!("/qr/{replaced}.png"),
            404,
            "replaced by a newer code",
        ),
        ("/qr/ABCDEFG2.png".to_owned(), 404, "never issued"),
        ("/qr/not-a-code.png".to_owned(), 404, "not a code"),
        (format!("/qr/{live}.gif"), 404, "unknown format"),
        (format!("/qr/{live}"), 404, "no format"),
        (format!("/qr/{live}.png"), 200, "live"),
        (
            format!("/qr/{}.svg", live.to_lowercase()),
            200,
            "live, lowercase",
        ),
    ];

    for (path, status, why) in cases {
        // Act
        let response = app.get(&path).await;

        // Assert
        assert_eq!(response.status(), status, "{why}: {path}");
    }
}

#[sqlx::test(migrations = false)]
async fn qr_attempts_are_rate_limited_per_client(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| {
            config.rate_limits.code.max = 3;
        })
        .spawn()
        .await;
    let live = code_of(
        &app.link_code(&app.register("ana@example.com").await.access)
            .await,
    );

    let mut statuses = Vec::new();
    for guess in ["ABCDEFG2", "ABCDEFG3", "ABCDEFG4"] {
        let response = app.get(&format!("/qr/{guess}.png")).await;
        statuses.push(response.status().as_u16());
    }
    let limited = app.get(&format!("/qr/{live}.png")).await;

    assert_eq!(statuses, [404, 404, 404]);
    assert_eq!(
        limited.status(),
        429,
        "even a live code, once over the limit"
    );
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
}

#[sqlx::test(migrations = false)]
async fn start_with_a_code_links_the_telegram_account_in_its_language(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cases = [
        (
            TgUser::en(601),
            "en@example.com",
            "Done: this Telegram account is linked to <b>en@example.com</b>",
        ),
        (
            TgUser::ro(602),
            "ro@example.com",
            "Gata: contul acesta Telegram este legat de <b>ro@example.com</b>",
        ),
    ];
    for (user, email, expected) in cases {
        // Arrange
        let code = code_of(&app.link_code(&app.register(email).await.access).await);

        // Act
        let reply = app.reply_to(&user.text(&format!("/start {code}"))).await;

        // Assert
        assert!(reply_text(&reply).contains(expected), "{reply}");
        assert_eq!(
            app.linked_email(user.id).await,
            Some(Some(email.to_owned()))
        );
        let row = sqlx::query!(
            "SELECT chat_id, first_name FROM telegram_accounts WHERE telegram_user_id = $1",
            user.id
        )
        .fetch_one(&app.pool)
        .await
        .expect("linked");
        assert_eq!(row.chat_id, user.id);
        assert_eq!(row.first_name.as_deref(), Some("Ana"));
    }
}

#[sqlx::test(migrations = false)]
async fn a_message_that_is_just_the_code_links_however_it_is_typed(pool: PgPool) {
    let app = spawn_app(pool).await;
    type Typing = fn(&str) -> String;
    let typings: [(Typing, &str); 4] = [
        (|c| c.to_owned(), "as given"),
        (|c| c.to_lowercase(), "lowercase"),
        (|c| format!("  {} {} ", &c[..4], &c[4..]), "with spaces"),
        (
            |c| format!("{}-{}", &c[..4], &c[4..]).to_lowercase(),
            "with a dash, lowercase",
        ),
    ];
    for (i, (typed, why)) in typings.into_iter().enumerate() {
        // Arrange
        let user = TgUser::en(700 + i64::try_from(i).expect("small"));
        let email = format!("p{i}@example.com");
        let code = code_of(&app.link_code(&app.register(&email).await.access).await);

        // Act
        let reply = app.reply_to(&user.text(&typed(&code))).await;

        // Assert
        assert!(
            reply_text(&reply).contains("is linked to"),
            "{why}: {reply}"
        );
        assert_eq!(app.linked_email(user.id).await, Some(Some(email)), "{why}");
    }
}

#[sqlx::test(migrations = false)]
async fn used_expired_and_unknown_codes_get_distinct_answers_and_link_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let used = code_of(&app.link_code(&tokens.access).await);
    app.reply_to(&TgUser::en(801).text(&used)).await;
    let expired = code_of(
        &app.link_code(&app.register("bob@example.com").await.access)
            .await,
    );
    app.expire_codes().await;
    let replaced_owner = app.register("cora@example.com").await;
    let replaced = code_of(&app.link_code(&replaced_owner.access).await);
    app.link_code(&replaced_owner.access).await;
    let user = TgUser::en(802);
    let ro = TgUser::ro(803);
    let cases = [
        (&user, format!("/start {used}"), "already used", "used"),
        (&user, expired.clone(), "has expired", "expired"),
        (
            &user,
            "ABCDEFG2".to_owned(),
            "I do not recognise this code",
            "never issued",
        ),
        (
            &user,
            replaced,
            "I do not recognise this code",
            "replaced by a newer code",
        ),
        (&ro, used, "deja folosit", "used, Romanian"),
        (&ro, expired, "a expirat", "expired, Romanian"),
        (
            &ro,
            "/start ABCDEFG3".to_owned(),
            "Nu recunosc acest cod",
            "unknown, Romanian",
        ),
    ];

    for (user, text, expected, why) in cases {
        // Act
        let reply = app.reply_to(&user.text(&text)).await;

        // Assert
        assert!(reply_text(&reply).contains(expected), "{why}: {reply}");
    }
    assert_eq!(app.linked_email(802).await, None);
    assert_eq!(app.linked_email(803).await, None);
}

#[sqlx::test(migrations = false)]
async fn a_start_payload_that_is_not_a_code_says_so_and_text_that_is_not_a_code_is_not_understood(
    pool: PgPool,
) {
    let app = spawn_app(pool).await;
    let user = TgUser::en(850);

    let start = app.reply_to(&user.text("/start hello-there")).await;
    let text = app.reply_to(&user.text("ABCDEFG0")).await;

    assert!(
        reply_text(&start).contains("does not carry a valid code"),
        "{start}"
    );
    assert!(
        reply_text(&start).contains("Hello, Ana"),
        "and the welcome: {start}"
    );
    assert!(reply_text(&text).contains("I did not understand"), "{text}");
    let failures = count_rows(&app.pool, "rate_limits").await;
    assert_eq!(failures, 0, "what cannot be a code is not a code attempt");
}

#[sqlx::test(migrations = false)]
async fn five_wrong_codes_lock_the_telegram_user_out_even_for_a_right_code(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let code = code_of(
        &app.link_code(&app.register("ana@example.com").await.access)
            .await,
    );
    let user = TgUser::en(901);
    let mut replies = Vec::new();
    for guess in ["ABCDEFG2", "ABCDEFG3", "ABCDEFG4", "ABCDEFG5", "ABCDEFG6"] {
        replies.push(app.reply_to(&user.text(guess)).await);
    }

    // Act
    let locked = app.reply_to(&user.text(&code)).await;
    let someone_else = app.reply_to(&TgUser::en(902).text("ABCDEFG7")).await;

    // Assert
    for reply in &replies[..4] {
        assert!(
            !reply_text(reply).contains("Too many wrong codes"),
            "{reply}"
        );
    }
    assert!(
        reply_text(&replies[4]).contains("Too many wrong codes"),
        "the fifth says so: {}",
        replies[4]
    );
    assert!(
        reply_text(&locked).contains("Too many wrong codes"),
        "{locked}"
    );
    assert!(reply_text(&locked).contains("15 min"), "{locked}");
    assert_eq!(app.linked_email(901).await, None, "not linked while locked");
    assert!(
        reply_text(&someone_else).contains("I do not recognise this code"),
        "others are not locked: {someone_else}"
    );

    // After the window the right code works (and was not used up meanwhile).
    sqlx::query!("UPDATE rate_limits SET window_start = now() - interval '16 minutes'")
        .execute(&app.pool)
        .await
        .expect("age the window");
    let later = app.reply_to(&user.text(&code)).await;
    assert!(reply_text(&later).contains("is linked to"), "{later}");
}

#[sqlx::test(migrations = false)]
async fn a_new_code_replaces_the_previous_unused_one(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let first = code_of(&app.link_code(&tokens.access).await);

    let second = code_of(&app.link_code(&tokens.access).await);
    let with_first = app.reply_to(&TgUser::en(950).text(&first)).await;
    let with_second = app.reply_to(&TgUser::en(950).text(&second)).await;

    assert_ne!(first, second);
    assert!(
        reply_text(&with_first).contains("I do not recognise this code"),
        "{with_first}"
    );
    assert!(
        reply_text(&with_second).contains("is linked to"),
        "{with_second}"
    );
    let open = count_rows(&app.pool, "link_codes").await;
    assert_eq!(open, 1, "one row per person: the replaced code is gone");
}

#[sqlx::test(migrations = false)]
async fn codes_are_stored_only_as_their_sha256(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let code = code_of(&app.link_code(&tokens.access).await);
    let link_reply = app.reply_to(&TgUser::en(990).text("/link")).await;
    let confirm_code = reply_text(&link_reply)
        .split("/link/")
        .nth(1)
        .expect("a /link/ URL")[..8]
        .to_owned();

    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar!("SELECT code_hash FROM link_codes ORDER BY purpose DESC")
            .fetch_all(&app.pool)
            .await
            .expect("codes");
    let dump = crate::helpers::database_text(&app.pool).await;

    assert_eq!(
        hashes,
        [
            Sha256::digest(code.as_bytes()).to_vec(),
            Sha256::digest(confirm_code.as_bytes()).to_vec()
        ]
    );
    for secret in [&code, &confirm_code] {
        assert!(
            !dump.contains(secret.as_str()),
            "{secret} is stored in plain text"
        );
    }
}
