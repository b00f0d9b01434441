//! Invitations through the API: an owner makes one for a role, lists the
//! open ones and revokes them; only owners invite; the code is shown once
//! and stored only as its hash.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    BOT_USERNAME, TestApp, TgUser, count_rows, database_text, reply_text, spawn_app,
};
use crate::people::{activate, active_company, company, linked_user, member, token, user};

/// Makes an invitation to `company_id` for `role` as `owner`; the answer.
pub async fn invite(app: &TestApp, owner: i64, company_id: i64, role: &str) -> Value {
    let (status, body) = app
        .api(
            Method::POST,
            &token(owner),
            &format!("/api/v1/companies/{company_id}/invitations"),
            Some(&json!({"role": role})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// The code of an invitation answer.
pub fn code_of(invitation: &Value) -> String {
    invitation["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {invitation}"))
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn an_owner_invites_with_a_long_code_shown_once_and_stored_hashed(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;

    // Act
    let invitation = invite(&app, owner, id, "accountant").await;

    // Assert
    let code = code_of(&invitation);
    assert_eq!(code.len(), 43, "{code}");
    assert_eq!(
        invitation["deep_link"],
        format!("https://t.me/{BOT_USERNAME}?start=inv_{code}")
    );
    assert!(
        format!("inv_{code}").len() <= 64,
        "fits Telegram's start payload"
    );
    assert_eq!(
        invitation["url"],
        format!("http://ledgerbot.test/invite/{code}")
    );
    assert_eq!(
        invitation["qr_png_url"],
        format!("http://ledgerbot.test/invite/{code}/qr.png")
    );
    assert_eq!(invitation["role"], "accountant");
    let expires = time::OffsetDateTime::parse(
        invitation["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let days = (expires - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((167..=168).contains(&days), "seven days: {days} hours");
    assert!(!database_text(&pool).await.contains(&code), "stored hashed");

    let qr = app.get(&format!("/invite/{code}/qr.png")).await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/png");
    let png = qr.bytes().await.expect("png");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");

    let (status, open) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}/invitations"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["role"], "accountant");
    assert_eq!(open[0]["invited_by"], owner);
    assert!(
        !open.to_string().contains(&code),
        "the list never shows codes"
    );
}

#[sqlx::test(migrations = false)]
async fn only_owners_invite_and_a_bad_role_is_refused(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let accountant = user(&pool, "acc@example.ro").await;
    let viewer = user(&pool, "viewer@example.ro").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    member(&pool, id, accountant, "accountant").await;
    member(&pool, id, viewer, "viewer").await;
    let path = format!("/api/v1/companies/{id}/invitations");

    let cases = [
        (accountant, json!({"role": "viewer"}), 403, "an accountant"),
        (viewer, json!({"role": "viewer"}), 403, "a viewer"),
        (
            stranger,
            json!({"role": "viewer"}),
            404,
            "a company that is not yours",
        ),
        (owner, json!({"role": "boss"}), 422, "unknown role"),
        (owner, json!({}), 422, "no role"),
    ];
    for (who, body, want, why) in cases {
        // Act
        let (status, answer) = app.api(Method::POST, &token(who), &path, Some(&body)).await;

        // Assert
        assert_eq!(status, want, "{why}: {answer}");
    }
    let invitations: i64 = sqlx::query_scalar("SELECT count(*) FROM invitations")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(invitations, 0, "nothing was made");
}

#[sqlx::test(migrations = false)]
async fn a_revoked_invitation_is_gone_by_code_or_by_id(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let other_owner = user(&pool, "other@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let other = company(&pool, other_owner, "Alta SRL").await;
    let first = code_of(&invite(&app, owner, id, "viewer").await);
    invite(&app, owner, id, "owner").await;
    let list = format!("/api/v1/companies/{id}/invitations");
    let (_, open) = app.api(Method::GET, &token(owner), &list, None).await;
    let second_id = open[0]["id"].as_i64().expect("id");

    // Act
    let (foreign, _) = app
        .api(
            Method::DELETE,
            &token(other_owner),
            &format!("/api/v1/companies/{other}/invitations/{first}"),
            None,
        )
        .await;
    let revoke = |what: String| {
        let path = format!("{list}/{what}");
        let app = &app;
        let owner_token = token(owner);
        async move { app.api(Method::DELETE, &owner_token, &path, None).await.0 }
    };
    let by_code = revoke(first.clone()).await;
    let again = revoke(first.clone()).await;
    let by_id = revoke(second_id.to_string()).await;
    let garbage = revoke("not-a-code".to_owned()).await;

    // Assert
    assert_eq!(foreign, 404, "another company's owner cannot revoke it");
    assert_eq!((by_code, again, by_id, garbage), (204, 404, 204, 404));
    let (_, open) = app.api(Method::GET, &token(owner), &list, None).await;
    assert_eq!(open, json!([]));
    let qr = app.get(&format!("/invite/{first}/qr.png")).await;
    assert_eq!(qr.status(), 404, "no QR for a revoked invitation");
}

// ---------------------------------------------------------------- in the bot

/// The buttons' data of a reply with an inline keyboard, row by row.
fn buttons(reply: &Value) -> Vec<String> {
    reply["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap_or_else(|| panic!("no keyboard in {reply}"))
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["callback_data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A linked owner (Telegram id `telegram`) of a company that is active.
async fn owner_in_telegram(pool: &PgPool, telegram: i64) -> (i64, i64) {
    let owner = linked_user(pool, "owner@example.ro", telegram).await;
    let id = company(pool, owner, "Exemplu <SRL>").await;
    activate(pool, telegram, id).await;
    (owner, id)
}

async fn role_of(pool: &PgPool, company_id: i64, user_id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT role FROM company_members WHERE company_id = $1 AND user_id = $2")
        .bind(company_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .expect("role")
}

#[sqlx::test(migrations = false)]
async fn invite_answers_the_link_and_bucharest_expiry_then_uploads_the_qr_photo(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    owner_in_telegram(&pool, 501).await;
    let ana = TgUser::en(501);

    // Act
    let reply = app.reply_to(&ana.text("/invite accountant")).await;

    // Assert
    let text = reply_text(&reply);
    let link = format!("https://t.me/{BOT_USERNAME}?start=inv_");
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Exemplu &lt;SRL&gt;"), "escaped: {text}");
    assert!(text.contains("<b>accountant</b>"), "{text}");
    assert!(text.contains("(Bucharest time)"), "{text}");
    let code = text
        .split(&link)
        .nth(1)
        .and_then(|rest| rest.get(..43))
        .expect("the code follows the link");
    assert!(
        text.contains(&format!("http://ledgerbot.test/invite/{code}")),
        "{text}"
    );
    let calls = app.telegram.wait_for_calls(1).await;
    let photo = calls
        .iter()
        .find(|c| c.method == "sendPhoto")
        .expect("sendPhoto");
    assert_eq!(photo.params["chat_id"], "501", "{:?}", photo.params);
    assert_eq!(photo.params["photo"]["png"], true, "{:?}", photo.params);
    assert_eq!(photo.params["photo"]["content_type"], "image/png");
    assert!(
        !database_text(&pool).await.contains(code),
        "neither stored nor kept for a retry"
    );

    // Romanian: the expiry in Romanian words, the role in Romanian.
    let reply = app
        .reply_to(&TgUser::ro(501).text("/invita proprietar"))
        .await;
    let text = reply_text(&reply);
    assert!(
        text.contains("<b>proprietar</b>") && text.contains("(ora României)"),
        "{text}"
    );
}

#[sqlx::test(migrations = false)]
async fn only_owners_invite_or_manage_members_in_the_bot(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (_, id) = owner_in_telegram(&pool, 501).await;
    let viewer = linked_user(&pool, "viewer@example.ro", 502).await;
    member(&pool, id, viewer, "viewer").await;
    activate(&pool, 502, id).await;

    let cases = [
        (
            501,
            "/invite boss",
            "I do not know that role",
            "unknown role",
        ),
        (
            502,
            "/invite",
            "Only the company's owners can invite",
            "a viewer invites",
        ),
        (
            502,
            "/members",
            "Only the company's owners",
            "a viewer lists members",
        ),
        (503, "/invite", "not linked", "not linked"),
    ];
    for (user, command, want, why) in cases {
        // Act
        let reply = app.reply_to(&TgUser::en(user).text(command)).await;

        // Assert
        assert!(reply_text(&reply).contains(want), "{why}: {reply}");
    }
    assert_eq!(
        count_rows(&pool, "invitations").await,
        0,
        "nothing was made"
    );
}

#[sqlx::test(migrations = false)]
async fn accepting_in_the_bot_makes_a_telegram_only_member_and_tells_the_owner(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_in_telegram(&pool, 501).await;
    // Made through the API: the owner is told in the account's language.
    sqlx::query("UPDATE users SET first_name = 'Maria', language = 'en' WHERE id = $1")
        .bind(owner)
        .execute(&pool)
        .await
        .expect("name");
    let code = code_of(&invite(&app, owner, id, "accountant").await);
    let bob = TgUser::en(602);

    // Act
    let shown = app.reply_to(&bob.text(&format!("/start inv_{code}"))).await;
    let data = buttons(&shown);
    let accepted = app.reply_to(&bob.callback(77, &data[0])).await;

    // Assert
    let text = reply_text(&shown);
    assert!(
        text.contains(
            "<b>Maria</b> invites you to <b>Exemplu &lt;SRL&gt;</b> as <b>accountant</b>"
        ),
        "{text}"
    );
    assert!(text.contains("create a ledgerbot account"), "{text}");
    assert_eq!(data, [format!("ia:{code}"), format!("id:{code}")]);
    assert_eq!(accepted["method"], "editMessageText", "{accepted}");
    assert!(
        reply_text(&accepted).contains("Welcome to <b>Exemplu &lt;SRL&gt;</b>"),
        "{accepted}"
    );
    assert_eq!(
        app.linked_email(602).await,
        Some(None),
        "a Telegram-only account"
    );
    let bob_id: i64 =
        sqlx::query_scalar("SELECT user_id FROM telegram_accounts WHERE telegram_user_id = 602")
            .fetch_one(&pool)
            .await
            .expect("linked");
    assert_eq!(
        role_of(&pool, id, bob_id).await.as_deref(),
        Some("accountant")
    );
    assert_eq!(
        active_company(&pool, 602).await,
        Some(id),
        "the company is active"
    );
    let calls = app.telegram.wait_for_calls(2).await;
    let told = calls
        .iter()
        .find(|c| c.method == "sendMessage" && c.params["chat_id"] == 501)
        .unwrap_or_else(|| panic!("the owner is told: {calls:?}"));
    let told = told.params["text"].as_str().unwrap_or_default();
    assert!(
        told.contains("Ana accepted your invitation to <b>Exemplu &lt;SRL&gt;</b>"),
        "{told}"
    );

    // The code works once.
    let again = app
        .reply_to(&TgUser::en(603).text(&format!("/start inv_{code}")))
        .await;
    assert!(reply_text(&again).contains("already used"), "{again}");
    let pressed_again = app.reply_to(&TgUser::en(603).callback(78, &data[0])).await;
    assert!(
        reply_text(&pressed_again).contains("already used"),
        "{pressed_again}"
    );
    assert_eq!(
        app.linked_email(603).await,
        None,
        "no account made for a used invitation"
    );
}

#[sqlx::test(migrations = false)]
async fn expired_used_revoked_unknown_and_tampered_invitations_are_refused_and_change_nothing(
    pool: PgPool,
) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_in_telegram(&pool, 501).await;
    sqlx::query("UPDATE users SET language = 'en' WHERE id = $1")
        .bind(owner)
        .execute(&pool)
        .await
        .expect("language");
    let expired = code_of(&invite(&app, owner, id, "owner").await);
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expire");
    let revoked = code_of(&invite(&app, owner, id, "owner").await);
    let (status, _) = app
        .api(
            Method::DELETE,
            &token(owner),
            &format!("/api/v1/companies/{id}/invitations/{revoked}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let declined = code_of(&invite(&app, owner, id, "owner").await);
    let decline = app
        .reply_to(&TgUser::en(601).callback(70, &format!("id:{declined}")))
        .await;
    assert!(reply_text(&decline).contains("You declined"), "{decline}");
    let unknown = ledgerbot::blocks::invite_code::InviteCode::generate().to_string();
    let members_before = count_rows(&pool, "company_members").await;

    let cases = [
        (format!("/start inv_{expired}"), "has expired", "expired"),
        (format!("/start inv_{revoked}"), "was withdrawn", "revoked"),
        (
            format!("/start inv_{declined}"),
            "was withdrawn",
            "declined",
        ),
        (
            format!("/start inv_{unknown}"),
            "I do not know this invitation",
            "unknown",
        ),
        (
            "/start inv_abc".to_owned(),
            "I do not know this invitation",
            "malformed",
        ),
    ];
    for (i, (command, want, why)) in cases.iter().enumerate() {
        // Act
        let stranger = TgUser::en(700 + i64::try_from(i).expect("small"));
        let reply = app.reply_to(&stranger.text(command)).await;
        let code = command.trim_start_matches("/start inv_");
        let pressed = app
            .reply_to(&stranger.callback(71, &format!("ia:{code}")))
            .await;

        // Assert
        assert!(reply_text(&reply).contains(want), "{why}: {reply}");
        let pressed_text = pressed["text"].as_str().unwrap_or_default();
        let stale = pressed["method"] == "answerCallbackQuery";
        assert!(
            pressed_text.contains(want) || (why == &"malformed" && stale),
            "{why} pressed: {pressed}"
        );
        assert_eq!(
            app.linked_email(stranger.id).await,
            None,
            "{why}: no account made"
        );
    }
    assert_eq!(count_rows(&pool, "company_members").await, members_before);
    let told = app.telegram.wait_for_calls(2).await;
    assert!(
        told.iter().any(|c| c.params["chat_id"] == 501
            && c.params["text"]
                .as_str()
                .is_some_and(|t| t.contains("declined"))),
        "the owner is told of the refusal: {told:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn members_are_listed_twenty_to_a_page_by_role_then_account(pool: PgPool) {
    // Arrange: the owner, then 24 viewers and one accountant (25 members more).
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_in_telegram(&pool, 503).await;
    let mut viewers = Vec::new();
    for i in 0..24 {
        let viewer = user(&pool, &format!("v{i:02}@example.ro")).await;
        member(&pool, id, viewer, "viewer").await;
        viewers.push(viewer);
    }
    let accountant = user(&pool, "acc@example.ro").await;
    member(&pool, id, accountant, "accountant").await;
    let ana = TgUser::en(503);

    // Act
    let first = app.reply_to(&ana.text("/members")).await;
    let next = buttons(&first)
        .into_iter()
        .find(|d| d.starts_with(&format!("ml:{id}:")))
        .unwrap_or_else(|| panic!("▶ on {first}"));
    let second = app.reply_to(&ana.callback(81, &next)).await;

    // Assert: owners, accountants, viewers; each by account number.
    let people = |reply: &Value| -> Vec<String> {
        buttons(reply)
            .into_iter()
            .filter(|d| d.starts_with("mm:"))
            .collect()
    };
    let mut expected = vec![format!("mm:{id}:{owner}"), format!("mm:{id}:{accountant}")];
    expected.extend(viewers.iter().map(|v| format!("mm:{id}:{v}")));
    assert_eq!(people(&first), expected[..20], "{first}");
    assert_eq!(next, format!("ml:{id}:2.{}", viewers[17]));
    assert_eq!(second["method"], "editMessageText", "{second}");
    assert_eq!(people(&second), expected[20..], "{second}");
    assert!(
        buttons(&second).contains(&format!("ml:{id}")),
        "⏮ back to the first page: {second}"
    );
    assert!(
        !buttons(&second)
            .iter()
            .any(|d| d.starts_with(&format!("ml:{id}:"))),
        "no ▶ on the last page: {second}"
    );
}

#[sqlx::test(migrations = false)]
async fn members_buttons_change_a_role_after_confirmation_and_keep_the_last_owner(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_in_telegram(&pool, 501).await;
    let bob = linked_user(&pool, "bob@example.ro", 502).await;
    member(&pool, id, bob, "viewer").await;
    activate(&pool, 502, id).await;
    let ana = TgUser::en(501);

    // Act
    let list = app.reply_to(&ana.text("/members")).await;
    let options = app
        .reply_to(&ana.callback(80, &format!("mm:{id}:{bob}")))
        .await;
    let ask = app
        .reply_to(&ana.callback(80, &format!("mq:{id}:{bob}:a")))
        .await;
    let before_confirming = role_of(&pool, id, bob).await;
    let done = app
        .reply_to(&ana.callback(80, &format!("mr:{id}:{bob}:a")))
        .await;

    // Assert
    let text = reply_text(&list);
    assert!(
        text.contains("Members of Exemplu &lt;SRL&gt;</b>:"),
        "{text}"
    );
    assert!(text.contains("• bob@example.ro — viewer"), "{text}");
    assert_eq!(
        buttons(&list),
        [format!("mm:{id}:{owner}"), format!("mm:{id}:{bob}")]
    );
    let options_buttons = buttons(&options);
    for want in [
        format!("mq:{id}:{bob}:o"),
        format!("mq:{id}:{bob}:a"),
        format!("mx:{id}:{bob}"),
        format!("ml:{id}"),
    ] {
        assert!(
            options_buttons.contains(&want),
            "{want} in {options_buttons:?}"
        );
    }
    assert!(
        reply_text(&ask).contains("Make <b>bob@example.ro</b> accountant"),
        "{ask}"
    );
    assert_eq!(
        buttons(&ask),
        [format!("mr:{id}:{bob}:a"), format!("mm:{id}:{bob}")]
    );
    assert_eq!(
        before_confirming.as_deref(),
        Some("viewer"),
        "asking changes nothing"
    );
    assert!(reply_text(&done).contains("is now accountant"), "{done}");
    assert_eq!(role_of(&pool, id, bob).await.as_deref(), Some("accountant"));

    // The last owner can be neither demoted nor removed.
    for data in [format!("mr:{id}:{owner}:v"), format!("my:{id}:{owner}")] {
        let refused = app.reply_to(&ana.callback(80, &data)).await;
        assert!(
            reply_text(&refused).contains("must keep at least one owner"),
            "{data}: {refused}"
        );
    }
    assert_eq!(role_of(&pool, id, owner).await.as_deref(), Some("owner"));

    // Removing, confirmed.
    app.reply_to(&ana.callback(80, &format!("mx:{id}:{bob}")))
        .await;
    assert!(
        role_of(&pool, id, bob).await.is_some(),
        "asking removes nobody"
    );
    let removed = app
        .reply_to(&ana.callback(80, &format!("my:{id}:{bob}")))
        .await;
    assert!(
        reply_text(&removed).contains("is no longer a member"),
        "{removed}"
    );
    assert_eq!(role_of(&pool, id, bob).await, None);
}

#[sqlx::test(migrations = false)]
async fn tampered_members_buttons_from_non_owners_or_for_other_companies_change_nothing(
    pool: PgPool,
) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (owner, id) = owner_in_telegram(&pool, 501).await;
    let bob = linked_user(&pool, "bob@example.ro", 502).await;
    member(&pool, id, bob, "accountant").await;
    let eve = linked_user(&pool, "eve@example.ro", 503).await;
    let eves = company(&pool, eve, "Eve SRL").await;
    let cases = [
        (
            502,
            format!("mr:{id}:{bob}:o"),
            "an accountant promotes themselves",
        ),
        (
            502,
            format!("my:{id}:{owner}"),
            "an accountant removes the owner",
        ),
        (
            503,
            format!("my:{id}:{owner}"),
            "a company that is not yours",
        ),
        (601, format!("my:{id}:{bob}"), "not linked"),
    ];
    for (user, data, why) in cases {
        // Act
        let reply = app.reply_to(&TgUser::en(user).callback(90, &data)).await;

        // Assert
        assert_eq!(reply["method"], "answerCallbackQuery", "{why}: {reply}");
        assert_eq!(
            role_of(&pool, id, bob).await.as_deref(),
            Some("accountant"),
            "{why}"
        );
        assert_eq!(
            role_of(&pool, id, owner).await.as_deref(),
            Some("owner"),
            "{why}"
        );
    }
    // A button naming someone who is not a member makes nobody a member.
    for (user, data) in [
        (501, format!("mr:{id}:{eve}:o")),
        (503, format!("mr:{eves}:{owner}:o")),
    ] {
        let refused = app.reply_to(&TgUser::en(user).callback(90, &data)).await;
        assert!(
            reply_text(&refused).contains("no longer a member"),
            "{data}: {refused}"
        );
    }
    assert_eq!(role_of(&pool, id, eve).await, None);
    assert_eq!(role_of(&pool, eves, owner).await, None);
}
