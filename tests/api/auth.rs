//! Accounts and tokens: register, login, refresh (rotation and reuse), logout,
//! and the Bearer check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, Tokens, count_rows, spawn_app};

const JWT_SECRET: &str = "test-jwt-secret-that-is-at-least-32-bytes";

#[sqlx::test(migrations = false)]
async fn register_answers_201_with_a_token_pair_that_opens_the_api(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;

    // Act
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "  Ana.Pop@Example.COM ", "password": PASSWORD, "first_name": " Ana "}),
            None,
        )
        .await;

    // Assert
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let tokens = Tokens::from_json(&body);
    let row = sqlx::query!("SELECT email, password_hash, first_name FROM users")
        .fetch_one(&app.pool)
        .await
        .expect("one user");
    assert_eq!(
        row.email.as_deref(),
        Some("ana.pop@example.com"),
        "trimmed, lowercased"
    );
    assert_eq!(row.first_name.as_deref(), Some("Ana"));
    let hash = row.password_hash.expect("a password hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    let code = app
        .post_json(
            "/api/v1/telegram/link-code",
            &json!({}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(code.status(), 201, "the access token works");
}

#[sqlx::test(migrations = false)]
async fn registering_a_taken_email_is_409_whatever_its_case(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ana@example.com").await;

    let again = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ANA@example.com ", "password": "another password"}),
            None,
        )
        .await;

    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.expect("JSON");
    assert_eq!(body["error"], "conflict");
    let users = count_rows(&app.pool, "users").await;
    assert_eq!(users, 1);
}

#[sqlx::test(migrations = false)]
async fn unusable_registrations_are_refused_and_create_nothing(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| {
            config.rate_limits.register.max = 100;
        })
        .spawn()
        .await;
    let cases = [
        (
            json!({"email": "ana", "password": PASSWORD}),
            422,
            "email without @",
        ),
        (
            json!({"email": "ana@localhost", "password": PASSWORD}),
            422,
            "undotted domain",
        ),
        (
            json!({"email": "a na@example.com", "password": PASSWORD}),
            422,
            "space",
        ),
        (
            json!({"email": "", "password": PASSWORD}),
            422,
            "empty email",
        ),
        (
            json!({"email": "ana@example.com", "password": "1234567"}),
            422,
            "7-character password",
        ),
        (
            json!({"email": "ana@example.com", "password": "x".repeat(1025)}),
            422,
            "1025-character password",
        ),
        (json!({"email": "ana@example.com"}), 422, "no password"),
        (json!({"password": PASSWORD}), 422, "no email"),
        (
            json!({"email": "ana@example.com", "password": PASSWORD, "first_name": "x".repeat(101)}),
            422,
            "long first name",
        ),
        (json!("ana@example.com"), 422, "a string, not an object"),
    ];
    for (body, status, why) in cases {
        let response = app.post_json("/api/v1/auth/register", &body, None).await;
        assert_eq!(response.status(), status, "{why}");
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["error"], "unprocessable", "{why}");
    }
    let not_json = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .body("{email")
        .send()
        .await
        .expect("answers");
    assert_eq!(not_json.status(), 400, "not JSON");

    let users = count_rows(&app.pool, "users").await;
    assert_eq!(users, 0);
}

#[sqlx::test(migrations = false)]
async fn login_with_the_right_password_gives_a_new_token_pair(pool: PgPool) {
    let app = spawn_app(pool).await;
    let registered = app.register("ana@example.com").await;

    let response = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": " ANA@example.com", "password": PASSWORD}),
            None,
        )
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["token_type"], "Bearer");
    let tokens = Tokens::from_json(&body);
    assert_ne!(tokens.refresh, registered.refresh);
}

#[sqlx::test(migrations = false)]
async fn wrong_password_and_unknown_email_get_the_same_401(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ana@example.com").await;
    let cases = [
        (
            json!({"email": "ana@example.com", "password": "wrong password"}),
            "wrong password",
        ),
        (
            json!({"email": "ana@example.com", "password": ""}),
            "empty password",
        ),
        (
            json!({"email": "nobody@example.com", "password": PASSWORD}),
            "unknown email",
        ),
        (
            json!({"email": "not an email", "password": PASSWORD}),
            "malformed email",
        ),
    ];
    let mut bodies = Vec::new();
    for (body, why) in cases {
        let response = app.post_json("/api/v1/auth/login", &body, None).await;
        assert_eq!(response.status(), 401, "{why}");
        bodies.push(response.json::<Value>().await.expect("JSON"));
    }
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "one answer for all: {bodies:?}"
    );
    assert_eq!(bodies[0]["message"], "wrong email or password");
}

/// A token signed with the test app's key, with chosen claims.
fn signed(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("encodes")
}

#[sqlx::test(migrations = false)]
async fn forged_expired_or_missing_access_tokens_are_401(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    let user_id: i64 = sqlx::query_scalar!("SELECT id FROM users")
        .fetch_one(&app.pool)
        .await
        .expect("user");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (head, rest) = tokens.access.split_once('.').expect("a JWT");
    let (payload, signature) = rest.split_once('.').expect("a JWT");
    let claims = |sub: String| {
        URL_SAFE_NO_PAD
            .encode(json!({"sub": sub, "exp": now + 600, "iat": now, "jti": "x"}).to_string())
    };
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let flipped = {
        let mut s = signature.to_owned();
        let last = if s.ends_with('A') { 'B' } else { 'A' };
        s.pop();
        s.push(last);
        s
    };
    let cases = [
        (Some(format!("Bearer {none_header}.{payload}.")), "alg none"),
        (
            Some(format!(
                "Bearer {none_header}.{}.",
                claims(user_id.to_string())
            )),
            "alg none, fresh claims",
        ),
        (
            Some(format!("Bearer {head}.{payload}.{flipped}")),
            "tampered signature",
        ),
        (
            Some(format!(
                "Bearer {head}.{}.{signature}",
                claims((user_id + 1).to_string())
            )),
            "tampered claims",
        ),
        (
            Some(format!(
                "Bearer {}",
                signed(
                    &json!({"sub": user_id.to_string(), "exp": now - 10, "iat": now - 910, "jti": "x"})
                )
            )),
            "expired",
        ),
        (
            Some(format!(
                "Bearer {}",
                jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                    &json!({"sub": user_id.to_string(), "exp": now + 600, "iat": now, "jti": "x"}),
                    &jsonwebtoken::EncodingKey::from_secret(&[b'k'; 32]),
                )
                .expect("encodes")
            )),
            "another key",
        ),
        (Some(format!("Basic {}", tokens.access)), "not Bearer"),
        (Some("Bearer".to_owned()), "no token"),
        (Some("Bearer not.a.jwt".to_owned()), "garbage"),
        (
            Some(format!("Bearer {}", tokens.refresh)),
            "a refresh token",
        ),
        (None, "no Authorization header"),
    ];
    for (authorization, why) in cases {
        let mut request = app
            .client
            .post(app.url("/api/v1/telegram/link-code"))
            .json(&json!({}));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), 401, "{why}");
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["error"], "unauthorized", "{why}");
    }
    let codes = count_rows(&app.pool, "link_codes").await;
    assert_eq!(codes, 0, "no forged token made a code");
}

#[sqlx::test(migrations = false)]
async fn refresh_rotates_the_pair_and_the_old_token_stops_working(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let first = app.register("ana@example.com").await;

    // Act
    let response = app.refresh(&first.refresh).await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["token_type"], "Bearer");
    let second = Tokens::from_json(&body);
    assert_ne!(second.refresh, first.refresh);
    let code = app
        .post_json(
            "/api/v1/telegram/link-code",
            &json!({}),
            Some(&second.access),
        )
        .await;
    assert_eq!(code.status(), 201, "the new access token works");
    let third = app.refresh(&second.refresh).await;
    assert_eq!(third.status(), 200, "the new refresh token works once");
}

#[sqlx::test(migrations = false)]
async fn reusing_a_refresh_token_revokes_its_whole_family_but_not_other_sessions(pool: PgPool) {
    // Arrange: one session rotated once, and a second session (another login).
    let app = spawn_app(pool).await;
    let first = app.register("ana@example.com").await;
    let rotated = app.refresh(&first.refresh).await;
    let second = Tokens::from_json(&rotated.json().await.expect("JSON"));
    let other_session = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let other = Tokens::from_json(&other_session.json().await.expect("JSON"));

    // Act: the first token, already used, is presented again (a stolen copy).
    let reuse = app.refresh(&first.refresh).await;

    // Assert
    assert_eq!(reuse.status(), 401);
    let after = app.refresh(&second.refresh).await;
    assert_eq!(
        after.status(),
        401,
        "the family's live token is revoked too"
    );
    let unrevoked: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM refresh_tokens
           WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens
                                                      WHERE token_hash = $1)"#,
        &Sha256::digest(second.refresh.as_bytes())[..]
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(unrevoked, 0);
    let elsewhere = app.refresh(&other.refresh).await;
    assert_eq!(
        elsewhere.status(),
        200,
        "another session (family) is untouched"
    );
}

#[sqlx::test(migrations = false)]
async fn unknown_and_expired_refresh_tokens_are_401(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;
    sqlx::query!("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");
    let cases = [
        (json!({"refresh_token": tokens.refresh}), 401, "expired"),
        (json!({"refresh_token": "made-up"}), 401, "unknown"),
        (json!({"refresh_token": ""}), 401, "empty"),
        (json!({}), 422, "missing"),
    ];
    for (body, status, why) in cases {
        let response = app.post_json("/api/v1/auth/refresh", &body, None).await;
        assert_eq!(response.status(), status, "{why}");
    }
}

#[sqlx::test(migrations = false)]
async fn logout_revokes_every_refresh_token_of_the_caller(pool: PgPool) {
    // Arrange: two sessions.
    let app = spawn_app(pool).await;
    let first = app.register("ana@example.com").await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let second = Tokens::from_json(&login.json().await.expect("JSON"));

    // Act
    let response = app
        .post_json("/api/v1/auth/logout", &json!({}), Some(&first.access))
        .await;

    // Assert
    assert_eq!(response.status(), 204);
    for (token, why) in [
        (first.refresh, "this session"),
        (second.refresh, "the other session"),
    ] {
        let refresh = app.refresh(&token).await;
        assert_eq!(refresh.status(), 401, "{why}");
    }
    let anonymous = app.post_json("/api/v1/auth/logout", &json!({}), None).await;
    assert_eq!(anonymous.status(), 401, "logout needs a Bearer token");
}

#[sqlx::test(migrations = false)]
async fn auth_paths_answer_405_to_other_methods(pool: PgPool) {
    let app = spawn_app(pool).await;
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/telegram/link-code",
        "/api/v1/telegram/confirm",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 405, "{path}");
    }
}

#[sqlx::test(migrations = false)]
async fn refresh_tokens_are_stored_only_as_their_sha256(pool: PgPool) {
    let app = spawn_app(pool).await;
    let tokens = app.register("ana@example.com").await;

    let stored: Vec<u8> = sqlx::query_scalar!("SELECT token_hash FROM refresh_tokens")
        .fetch_one(&app.pool)
        .await
        .expect("one token");
    let dump = crate::helpers::database_text(&app.pool).await;

    assert_eq!(stored, Sha256::digest(tokens.refresh.as_bytes()).to_vec());
    assert!(
        !dump.contains(&tokens.refresh),
        "the plain token is nowhere in the database"
    );
}

#[sqlx::test(migrations = false)]
async fn rust_and_sql_normalise_emails_alike(pool: PgPool) {
    // Arrange: case, every kind of whitespace Rust trims, letters whose
    // lowercase is special (Romanian, Turkish dotted I, capital sharp s,
    // Greek final sigma, titlecase digraphs, fullwidth), and what neither trims.
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let cases = [
        ("  Ana.Pop@Example.COM \n", "case and ASCII spaces"),
        (
            "\t\u{b}\u{c}\r ana@x.ro\u{85}\u{a0}",
            "control and Latin-1 whitespace",
        ),
        (
            "\u{1680}\u{2000}\u{2005}\u{200a}ana@x.ro\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}",
            "Unicode spaces",
        ),
        (
            "\u{200b}ana@x.ro\u{feff}",
            "zero-width characters: not whitespace to either",
        ),
        ("ȘTEFAN.ȚUȚUIANU@EXEMPLU.RO", "Romanian comma-below letters"),
        ("ŞTEFAN@EXEMPLU.RO", "cedilla letters stay cedilla"),
        ("İSTANBUL@X.TR", "dotted capital I: i and a combining dot"),
        ("STRAẞE@X.DE", "capital sharp s"),
        ("ΟΔΥΣΣΕΥΣ@X.GR", "final sigma before @"),
        ("ΣΑΣ.ΣΑ@X.GR", "sigma before a dot"),
        ("Ǆǅǆ@X.RO", "titlecase digraphs"),
        ("ＡＮＡ@Ｘ.ＲＯ", "fullwidth letters"),
        ("ÅNGSTRÖM@X.SE", "precomposed letters"),
        ("A\u{30a}NGSTRO\u{308}M@X.SE", "combining marks"),
        ("", "empty"),
    ];
    for (input, why) in cases {
        // Act
        let sql: String = sqlx::query_scalar("SELECT normalized_email($1)")
            .bind(input)
            .fetch_one(&pool)
            .await
            .expect("normalised");

        // Assert
        let rust = ledgerbot::services::accounts::email::normalize(input);
        assert_eq!(sql, rust, "{why}: {input:?}");
    }
}

#[sqlx::test(migrations = false)]
async fn an_email_is_stored_normalised_and_found_however_it_is_typed(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let typed = "\u{a0} ȘTEFAN@Exemplu.RO\u{3000}";

    // Act
    let registered = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": typed, "password": PASSWORD}),
            None,
        )
        .await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": " ștefan@exemplu.ro ", "password": PASSWORD}),
            None,
        )
        .await;
    let raw = sqlx::query("INSERT INTO users (email) VALUES ('Bob@Example.com')")
        .execute(&app.pool)
        .await;

    // Assert
    assert_eq!(registered.status(), 201);
    assert_eq!(login.status(), 200);
    let stored: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&app.pool)
        .await
        .expect("emails");
    assert_eq!(stored, ["ștefan@exemplu.ro"]);
    let refused = raw.expect_err("an email not normalised is refused by the database");
    assert!(
        refused.to_string().contains("users_email_normalized"),
        "{refused}"
    );
}
