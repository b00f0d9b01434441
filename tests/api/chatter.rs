//! What a person says that is not a command: words are not link codes and
//! never count against the code lockout; photos, voice messages and stickers
//! get an answer; and the texts read as a native speaker writes them.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TgUser, next_update_id, reply_text, spawn_app};

/// A private message from `user` that carries `kind` (`photo`, `voice`,
/// `sticker`) instead of text, as Telegram delivers it.
fn media(user: &TgUser, kind: &str) -> Value {
    let file = json!({"file_id": "f1", "file_unique_id": "u1"});
    let content = match kind {
        "photo" => json!([{"file_id": "f1", "file_unique_id": "u1", "width": 90, "height": 90}]),
        "voice" => json!({"file_id": "f1", "file_unique_id": "u1", "duration": 3}),
        "sticker" => json!({
            "file_id": "f1", "file_unique_id": "u1", "type": "regular",
            "width": 512, "height": 512, "is_animated": false, "is_video": false
        }),
        _ => file,
    };
    let mut message = json!({
        "message_id": 7,
        "from": {"id": user.id, "is_bot": false, "first_name": user.first_name,
                 "language_code": user.language_code},
        "chat": {"id": user.id, "first_name": user.first_name, "type": "private"},
        "date": 1_700_000_000,
    });
    message[kind] = content;
    json!({"update_id": next_update_id(), "message": message})
}

#[sqlx::test(migrations = false)]
async fn words_made_of_code_letters_are_chatter_and_never_lock_anyone_out(pool: PgPool) {
    // Arrange: a real code, and a person who chats before sending it
    let app = spawn_app(pool).await;
    let ana = app.register("ana@example.com").await;
    let code = app.link_code(&ana.access).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let user = TgUser::ro(860);

    // Act: more words than the lockout allows wrong codes
    let mut replies = Vec::new();
    for word in [
        "partener",
        "generate",
        "PARTENER",
        "factura",
        "generate",
        "parteneri",
    ] {
        replies.push(app.reply_to(&user.text(word)).await);
    }
    let linked = app.reply_to(&user.text(&code)).await;

    // Assert
    for reply in &replies {
        let text = reply_text(reply);
        assert!(text.contains("Nu am înțeles"), "{text}");
        assert!(!text.contains("cod"), "no word about codes: {text}");
    }
    let counted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rate_limits WHERE action = 'bot_code_failure'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(counted, 0, "words are not code attempts");
    assert!(reply_text(&linked).contains("este legat"), "{linked}");
    assert!(
        code.bytes().any(|b| b.is_ascii_digit()) && code.bytes().any(|b| b.is_ascii_alphabetic()),
        "{code}"
    );
}

#[sqlx::test(migrations = false)]
async fn photos_voice_messages_and_stickers_get_a_helpful_answer_in_private_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cases = [
        (
            TgUser::en(870),
            "photo",
            "I only read written messages",
            "/start",
        ),
        (
            TgUser::ro(871),
            "voice",
            "Citesc doar mesaje scrise",
            "/start",
        ),
        (
            TgUser::en(872),
            "sticker",
            "I only read written messages",
            "/start",
        ),
    ];
    for (user, kind, says, next) in cases {
        let reply = app.reply_to(&media(&user, kind)).await;
        let text = reply_text(&reply);
        assert!(text.contains(says) && text.contains(next), "{kind}: {text}");
    }

    // In a group a photo is people talking among themselves: no answer.
    let mut in_group = media(&TgUser::en(873), "photo");
    in_group["message"]["chat"] = json!({"id": -100_555, "title": "Firma", "type": "supergroup"});
    assert_eq!(app.reply_to(&in_group).await, Value::Null);
}

#[sqlx::test(migrations = false)]
async fn a_linked_person_sending_a_photo_is_pointed_to_the_commands(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    crate::people::linked_user(&pool, "ana@example.ro", 874).await;

    let reply = app.reply_to(&media(&TgUser::ro(874), "photo")).await;

    assert!(reply_text(&reply).contains("/ajutor"), "{reply}");
}

#[sqlx::test(migrations = false)]
async fn romanian_texts_name_the_romanian_commands_first(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ana = crate::people::linked_user(&pool, "ana@example.ro", 877).await;
    let firm = crate::people::company(&pool, ana, "Firma SRL").await;
    crate::people::activate(&pool, 877, firm).await;
    let stranger = TgUser::ro(875);

    let help = app.reply_to(&TgUser::ro(877).text("/ajutor")).await;
    let not_linked = app.reply_to(&stranger.text("/firme")).await;

    let help = reply_text(&help);
    for line in [
        "/firmanoua &lt;nume&gt; [CUI] — ",
        "/alegefirma [nume|CUI] — ",
        "/sold — ",
        "/adauga &lt;sumă&gt;",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
    assert!(help.contains("(alias /selectcompany)"), "{help}");
    assert!(
        reply_text(&not_linked).contains("Trimite /inregistrare"),
        "{not_linked}"
    );
}

#[sqlx::test(migrations = false)]
async fn clearing_the_active_company_says_it_was_deselected(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    crate::people::linked_user(&pool, "ana@example.ro", 876).await;

    let ro = app.reply_to(&TgUser::ro(876).text("/clear")).await;

    assert!(
        reply_text(&ro).contains("Firma activă a fost deselectată"),
        "{ro}"
    );
}
