//! The web pages against the real server: languages, escaping, sessions and
//! their cookies, CSRF and Origin checks, link codes on `/telegram`, the
//! `/link/{code}` confirmation, and the Telegram Login Widget.

use std::collections::BTreeMap;
use std::sync::Mutex;

use ledgerbot::blocks::telegram_auth::{self, Kind};
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use sqlx::PgPool;

use crate::helpers::{
    BOT_TOKEN, BOT_USERNAME, Http, PASSWORD, TestApp, TgUser, count_rows, database_text,
    reply_text, spawn_app,
};

/// A browser of sorts: keeps cookies, does not follow redirects (also used by
/// the upload page's tests, `web_import.rs`).
pub struct Browser<'a> {
    app: &'a TestApp,
    pub client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
    language: &'static str,
}

/// One answer, read whole.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of the hidden field `name` (the first form that has it).
    pub fn field(&self, name: &str) -> String {
        crate::helpers::hidden_field(&self.body, name)
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::with_language(app, "en-US,en;q=0.9")
    }

    pub fn with_language(app: &'a TestApp, language: &'static str) -> Self {
        Self {
            app,
            client: Http::without_redirects(&app.base).client,
            cookies: Mutex::default(),
            language,
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .expect("cookies")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let response = request
            .header(ACCEPT_LANGUAGE, self.language)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("server answers");
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect();
        {
            let mut jar = self.cookies.lock().expect("cookies");
            for cookie in &set_cookies {
                let pair = cookie.split(';').next().expect("a pair");
                let (name, value) = pair.split_once('=').expect("name=value");
                if cookie.contains("Max-Age=0") {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().expect("ascii").to_owned()),
            retry_after: response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().expect("ascii").to_owned()),
            set_cookies,
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(self.app.url(path))).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, None).await
    }

    async fn post_with(&self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        self.send(request).await
    }

    fn has_cookie(&self, name: &str) -> bool {
        self.cookies.lock().expect("cookies").contains_key(name)
    }

    /// Registers `email` through the form; returns the answer.
    pub async fn register(&self, email: &str) -> Page {
        let form = self.get("/register").await;
        let csrf = form.field("csrf");
        self.post(
            "/register",
            &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
        )
        .await
    }

    /// The session's CSRF token, from the logout form of any page.
    pub async fn session_csrf(&self) -> String {
        self.get("/").await.field("csrf")
    }
}

fn code_in(page: &Page) -> String {
    let start = page.body.find("id=\"code\">").expect("a code on the page") + 10;
    page.body[start..start + 8].to_owned()
}

#[sqlx::test(migrations = false)]
async fn pages_render_in_the_language_asked_for_and_switch_with_a_cookie(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let romanian = Browser::with_language(&app, "ro-RO,ro;q=0.9,en;q=0.5");
    let english = Browser::new(&app);

    // Act and assert: Accept-Language.
    for path in ["/", "/login", "/register"] {
        let ro = romanian.get(path).await;
        let en = english.get(path).await;
        assert_eq!((ro.status, en.status), (200, 200), "{path}");
        assert!(ro.body.contains("<html lang=\"ro\">"), "{path}");
        assert!(en.body.contains("<html lang=\"en\">"), "{path}");
        assert!(ro.body.contains("Intră în cont"), "{path}");
        assert!(en.body.contains("Log in"), "{path}");
        assert!(en.body.contains("name=\"viewport\""), "{path}");
        assert!(
            en.body.contains("hreflang=\"ro\""),
            "{path}: a switch to Romanian"
        );
    }
    let form = english.get("/login").await;
    assert!(form.body.contains("<label for=\"email\">") && form.body.contains("id=\"email\""));

    // ?lang= wins over Accept-Language and sticks through its cookie.
    let switched = english.get("/login?next=%2Ftelegram&lang=ro").await;
    assert!(switched.body.contains("<html lang=\"ro\">"));
    let cookie = switched.cookie("lb_lang").expect("the language cookie");
    assert!(cookie.starts_with("lb_lang=ro;"), "{cookie}");
    assert!(
        switched
            .body
            .contains("href=\"/login?next=%2Ftelegram&amp;lang=en\""),
        "the switch keeps the rest of the URL: {}",
        switched.body
    );
    let later = english.get("/").await;
    assert!(later.body.contains("<html lang=\"ro\">"));
}

#[sqlx::test(migrations = false)]
async fn registering_sets_an_httponly_samesite_session_cookie_stored_only_hashed(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);

    // Act
    let answer = browser.register("ana@example.com").await;

    // Assert
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/telegram"));
    let cookie = answer.cookie("lb_session").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "http PUBLIC_URL: {cookie}");
    let id = cookie
        .split(';')
        .next()
        .and_then(|p| p.strip_prefix("lb_session="))
        .expect("value");
    assert!(
        !database_text(&app.pool).await.contains(id),
        "stored hashed"
    );
    assert_eq!(count_rows(&app.pool, "web_sessions").await, 1);
    let page = browser.get("/telegram").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ana@example.com"));
}

#[sqlx::test(migrations = false)]
async fn with_an_https_public_url_cookies_are_secure_host_only_and_pages_carry_hsts(pool: PgPool) {
    let app = TestApp::builder(pool)
        .config(|config| {
            config.public_url = "https://ledgerbot.example".into();
        })
        .spawn()
        .await;
    let browser = Browser::new(&app);

    let form = browser.get("/register?lang=en").await;
    let answer = browser
        .post(
            "/register",
            &[
                ("csrf", &form.field("csrf")),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(answer.status, 303, "{}", answer.body);
    let all: Vec<&String> = form.set_cookies.iter().chain(&answer.set_cookies).collect();
    assert_eq!(
        all.len(),
        3,
        "language, pre-session token, session: {all:?}"
    );
    for cookie in all {
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.starts_with("__Host-"), "{cookie}");
        assert!(
            cookie.contains("; Path=/") && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
    let logged_in = browser.get("/telegram").await;
    assert_eq!(
        logged_in.status, 200,
        "the __Host- session cookie is read back"
    );
    let page = app.get("/login").await;
    assert_eq!(
        page.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[sqlx::test(migrations = false)]
async fn over_plain_http_cookies_keep_their_names_and_pages_carry_no_hsts(pool: PgPool) {
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);

    let answer = browser.register("ana@example.com").await;

    assert!(
        answer.cookie("lb_session").is_some(),
        "{:?}",
        answer.set_cookies
    );
    let page = app.get("/login").await;
    assert!(page.headers().get("strict-transport-security").is_none());
}

#[sqlx::test(migrations = false)]
async fn api_logout_everywhere_also_ends_the_web_sessions(pool: PgPool) {
    // Arrange: Ana is logged in on the web, and has API tokens.
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let tokens = crate::helpers::Tokens::from_json(&login.json().await.expect("JSON"));

    // Act: a plain logout, then one everywhere.
    let plain = app
        .post_json(
            "/api/v1/auth/logout",
            &serde_json::json!({}),
            Some(&tokens.access),
        )
        .await;
    let web_after_plain = browser.get("/telegram").await;
    let everywhere = app
        .post_json(
            "/api/v1/auth/logout",
            &serde_json::json!({"everywhere": true}),
            Some(&tokens.access),
        )
        .await;
    let web_after_everywhere = browser.get("/telegram").await;

    // Assert
    assert_eq!(plain.status(), 204);
    assert_eq!(
        web_after_plain.status, 200,
        "a plain logout keeps the web session"
    );
    assert_eq!(everywhere.status(), 204);
    assert_eq!(web_after_everywhere.status, 303);
    assert_eq!(count_rows(&app.pool, "web_sessions").await, 0);
    assert_eq!(app.refresh(&tokens.refresh).await.status(), 401);
}

#[sqlx::test(migrations = false)]
async fn a_wrong_password_shows_the_form_again_and_sets_no_session(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    app.register("ana@example.com").await;
    let browser = Browser::new(&app);
    let csrf = browser.get("/login").await.field("csrf");

    // Act
    let wrong = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "ana@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let right = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("next", "/link/ABCDEFG2"),
            ],
        )
        .await;

    // Assert
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong email or password."));
    assert!(
        wrong.body.contains("value=\"ana@example.com\""),
        "email kept"
    );
    assert!(wrong.cookie("lb_session").is_none());
    assert_eq!(right.status, 303);
    assert_eq!(
        right.location.as_deref(),
        Some("/link/ABCDEFG2"),
        "back to next"
    );
    assert!(right.cookie("lb_session").is_some());
}

#[sqlx::test(migrations = false)]
async fn forms_without_the_right_csrf_token_or_from_another_origin_are_403_and_change_nothing(
    pool: PgPool,
) {
    // Arrange
    // Refused forms count as attempts (hostile.rs): room for them all here.
    let app = TestApp::builder(pool)
        .config(|config| config.rate_limits.register.max = 100)
        .spawn()
        .await;
    let stranger = Browser::new(&app);
    let csrf = stranger.get("/register").await.field("csrf");
    let signup = |token| {
        [
            ("csrf", token),
            ("email", "eve@example.com"),
            ("password", PASSWORD),
        ]
    };
    let ana = Browser::new(&app);
    ana.register("ana@example.com").await;
    let session_csrf = ana.session_csrf().await;

    // Act and assert: before a session.
    let cases = [
        (
            stranger.post("/register", &signup("")[1..]).await,
            "no token",
        ),
        (
            stranger.post("/register", &signup("wrong")).await,
            "wrong token",
        ),
        (
            Browser::new(&app).post("/register", &signup(&csrf)).await,
            "the token without its cookie",
        ),
        (
            stranger
                .post_with("/register", &signup(&csrf), Some("https://evil.example"))
                .await,
            "right token, another origin",
        ),
        (
            stranger
                .post_with("/register", &signup(&csrf), Some("null"))
                .await,
            "right token, an opaque origin",
        ),
        (
            stranger
                .post(
                    "/login",
                    &[
                        ("csrf", &session_csrf),
                        ("email", "ana@example.com"),
                        ("password", PASSWORD),
                    ],
                )
                .await,
            "a session token is not a pre-session token",
        ),
    ];
    for (page, why) in cases {
        assert_eq!(page.status, 403, "{why}");
        assert!(page.body.contains("Reload the page"), "{why}");
        assert!(page.cookie("lb_session").is_none(), "{why}");
    }
    assert_eq!(count_rows(&app.pool, "users").await, 1, "no account made");

    // With a session.
    let cases = [
        (ana.post("/telegram", &[]).await, "generate, no token"),
        (
            ana.post("/telegram", &[("csrf", &csrf)]).await,
            "generate, the pre-session token",
        ),
        (
            ana.post_with(
                "/telegram",
                &[("csrf", &session_csrf)],
                Some("http://127.0.0.1:1"),
            )
            .await,
            "generate, another origin",
        ),
        (
            ana.post("/logout", &[("csrf", "x")]).await,
            "logout, wrong token",
        ),
    ];
    for (page, why) in cases {
        assert_eq!(page.status, 403, "{why}");
    }
    assert_eq!(count_rows(&app.pool, "link_codes").await, 0, "no code made");
    assert_eq!(
        count_rows(&app.pool, "web_sessions").await,
        1,
        "still logged in"
    );

    // The right token from our own origin works.
    let ok = ana
        .post_with(
            "/telegram",
            &[("csrf", &session_csrf)],
            Some("http://ledgerbot.test"),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(count_rows(&app.pool, "link_codes").await, 1);
}

#[sqlx::test(migrations = false)]
async fn a_login_form_posted_from_another_site_cannot_log_a_browser_into_someone_elses_account(
    pool: PgPool,
) {
    // Arrange: Eve has an account and a login form of her own (its token and
    // cookie); Ana's browser has visited the login page too.
    let app = spawn_app(pool).await;
    app.register("eve@example.com").await;
    let eve = Browser::new(&app);
    let eves_token = eve.get("/login").await.field("csrf");
    let ana = Browser::new(&app);
    ana.get("/login").await;
    let eves_login = [
        ("csrf", eves_token.as_str()),
        ("email", "eve@example.com"),
        ("password", PASSWORD),
    ];

    // Act: Eve's page makes Ana's browser post Eve's login.
    let cases = [
        (
            ana.post("/login", &eves_login).await,
            "a token not of this browser's cookie",
        ),
        (
            ana.post_with("/login", &eves_login, Some("https://evil.example"))
                .await,
            "and from another origin",
        ),
        (
            Browser::new(&app).post("/login", &eves_login).await,
            "a browser with no cookie yet",
        ),
    ];

    // Assert
    for (page, why) in cases {
        assert_eq!(page.status, 403, "{why}");
        assert!(page.cookie("lb_session").is_none(), "{why}: no session");
    }
    assert_eq!(count_rows(&app.pool, "web_sessions").await, 0);
    let own = eve.post("/login", &eves_login).await;
    assert_eq!(
        own.status, 303,
        "the same form from Eve's own browser logs her in"
    );
}

#[sqlx::test(migrations = false)]
async fn the_telegram_page_requires_a_login_and_comes_back_after_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ana@example.com").await;
    let browser = Browser::new(&app);

    let page = browser.get("/telegram").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/login?next=%2Ftelegram"));
    let form = browser.get("/login?next=%2Ftelegram").await;
    assert_eq!(form.field("next"), "/telegram");
    let login = browser
        .post(
            "/login",
            &[
                ("csrf", &form.field("csrf")),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("next", &form.field("next")),
            ],
        )
        .await;
    assert_eq!(login.location.as_deref(), Some("/telegram"));
    let offsite = browser.get("/login?next=%2F%2Fevil.example").await;
    assert_eq!(
        offsite.location.as_deref(),
        Some("/telegram"),
        "logged in: on, but never off-site"
    );
}

#[sqlx::test(migrations = false)]
async fn a_code_generated_on_the_page_links_with_start_and_the_page_then_says_so(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let before = browser.get("/telegram").await;
    assert!(before.body.contains("data-linked=\"false\""));
    assert!(before.body.contains("telegram-widget.js?22"));

    // Act
    let page = browser
        .post("/telegram", &[("csrf", &browser.session_csrf().await)])
        .await;
    let code = code_in(&page);
    let qr = app.get(&format!("/qr/{code}.svg")).await;
    let reply = app
        .reply_to(&TgUser::en(7001).text(&format!("/start {code}")))
        .await;
    let after = browser.get("/telegram").await;

    // Assert
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("src=\"/qr/{code}.svg\"")));
    assert!(page.body.contains(&format!(
        "href=\"https://t.me/{BOT_USERNAME}?start={code}\""
    )));
    assert!(page.body.contains("id=\"copy\""));
    let expires_at: time::OffsetDateTime = sqlx::query_scalar("SELECT expires_at FROM link_codes")
        .fetch_one(&app.pool)
        .await
        .expect("the code's expiry");
    let bucharest = ledgerbot::blocks::local_time::clock(expires_at);
    assert!(
        page.body.contains(&format!(">{bucharest}</time>")),
        "the expiry on Romania's clocks, {bucharest}: {}",
        page.body
    );
    assert_eq!(qr.status(), 200);
    assert!(reply_text(&reply).contains("ana@example.com"), "{reply}");
    assert!(
        after.body.contains("data-linked=\"true\""),
        "{}",
        after.body
    );
    assert_eq!(
        app.linked_email(7001).await,
        Some(Some("ana@example.com".into()))
    );
}

fn link_code_in(reply: &serde_json::Value) -> String {
    let text = reply_text(reply);
    let start = text.find("/link/").expect("a /link/ URL") + 6;
    text[start..start + 8].to_owned()
}

#[sqlx::test(migrations = false)]
async fn the_link_page_logs_in_shows_who_asks_escaped_and_confirms_with_a_telegram_notice(
    pool: PgPool,
) {
    // Arrange: a Telegram user with a hostile name asks with /link.
    let app = spawn_app(pool).await;
    app.register("ana@example.com").await;
    let asker = TgUser {
        id: 7002,
        first_name: "<script>alert(1)</script>".into(),
        language_code: Some("en".into()),
    };
    let code = link_code_in(&app.reply_to(&asker.text("/link")).await);
    let path = format!("/link/{code}");
    let browser = Browser::new(&app);

    // Act: logged out, the page is a login form that returns here.
    let logged_out = browser.get(&path).await;
    let login = browser
        .post(
            "/login",
            &[
                ("csrf", &logged_out.field("csrf")),
                ("next", &logged_out.field("next")),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let ask = browser.get(&path).await;
    let confirmed = browser
        .post(
            &path,
            &[
                ("csrf", &ask.field("csrf")),
                ("shown", &ask.field("shown")),
                ("password", PASSWORD),
            ],
        )
        .await;
    let again = browser.get(&path).await;

    // Assert
    assert_eq!(logged_out.status, 200);
    assert!(logged_out.body.contains("action=\"/login\""));
    assert!(
        logged_out
            .body
            .contains(&format!("/register?next=%2Flink%2F{code}"))
    );
    assert!(
        !logged_out.body.contains("&lt;script"),
        "who asks only once logged in"
    );
    assert_eq!(login.location.as_deref(), Some(path.as_str()));
    assert_eq!(ask.status, 200);
    assert!(
        ask.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        ask.body
    );
    assert!(!ask.body.contains("<script>alert"), "escaped");
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("id=\"linked\""));
    assert_eq!(
        app.linked_email(7002).await,
        Some(Some("ana@example.com".into()))
    );
    let calls = app.telegram.wait_for_calls(1).await;
    assert_eq!(calls[0].method, "sendMessage");
    assert_eq!(calls[0].params["chat_id"], 7002);
    assert!(
        calls[0].params["text"]
            .as_str()
            .is_some_and(|t| t.contains("ana@example.com")),
        "{calls:?}"
    );
    assert_eq!(again.status, 410, "used");
}

#[sqlx::test(migrations = false)]
async fn the_link_page_names_the_telegram_id_warns_and_links_only_with_the_password_on_a_fresh_page(
    pool: PgPool,
) {
    // Arrange: Ana is logged in; someone's Telegram account 7010 sent her a /link link.
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let code = link_code_in(&app.reply_to(&TgUser::en(7010).text("/link")).await);
    let path = format!("/link/{code}");

    // Act
    let ask = browser.get(&path).await;
    let (csrf, shown) = (ask.field("csrf"), ask.field("shown"));
    let one_click = browser.post(&path, &[("csrf", &csrf)]).await;
    let wrong = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("shown", &shown),
                ("password", "not her password"),
            ],
        )
        .await;
    let (at, mac) = shown.split_once('.').expect("time.mac");
    let older = format!("{}.{mac}", at.parse::<i64>().expect("time") - 301);
    let stale = browser
        .post(
            &path,
            &[("csrf", &csrf), ("shown", &older), ("password", PASSWORD)],
        )
        .await;
    let unlinked_so_far = app.linked_email(7010).await;
    let right = browser
        .post(
            &path,
            &[("csrf", &csrf), ("shown", &shown), ("password", PASSWORD)],
        )
        .await;

    // Assert
    assert_eq!(ask.status, 200);
    assert!(
        ask.body.contains("id=\"telegram-id\">7010<"),
        "{}",
        ask.body
    );
    assert!(ask.body.contains("id=\"warning\""), "{}", ask.body);
    assert!(ask.body.contains("type=\"password\""), "{}", ask.body);
    assert_eq!(one_click.status, 410, "one click without the form's fields");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("Wrong password"), "{}", wrong.body);
    assert_eq!(
        stale.status, 410,
        "a page older than 5 minutes: {}",
        stale.body
    );
    assert!(stale.body.contains("page has expired"), "{}", stale.body);
    assert_eq!(unlinked_so_far, None, "nothing linked before the password");
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(
        app.linked_email(7010).await,
        Some(Some("ana@example.com".into()))
    );
}

#[sqlx::test(migrations = false)]
async fn wrong_passwords_on_the_link_page_and_the_login_form_share_one_lock_per_account(
    pool: PgPool,
) {
    // Arrange: two wrong passwords lock an account; Ana is logged in and
    // Telegram account 7011 asks to be linked to her.
    let app = crate::helpers::TestApp::builder(pool)
        .config(|config| config.rate_limits.login_failures.free = 2)
        .spawn()
        .await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let code = link_code_in(&app.reply_to(&TgUser::en(7011).text("/link")).await);
    let path = format!("/link/{code}");
    let ask = browser.get(&path).await;
    let (csrf, shown) = (ask.field("csrf"), ask.field("shown"));
    let confirm = |password: &'static str| {
        let fields = [
            ("csrf", csrf.clone()),
            ("shown", shown.clone()),
            ("password", password.to_owned()),
        ];
        let browser = &browser;
        let path = &path;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post(path, &fields).await
        }
    };

    // Act: one guess on the link page, one on the login form (another
    // browser), then Ana's right password on both.
    let first = confirm("not her password").await;
    let stranger = Browser::with_language(&app, "ro-RO,ro;q=0.9");
    let form = stranger.get("/login").await;
    let second = stranger
        .post(
            "/login",
            &[
                ("csrf", &form.field("csrf")),
                ("email", "Ana@Example.com"),
                ("password", "another guess"),
            ],
        )
        .await;
    let link_locked = confirm(PASSWORD).await;
    let login_locked = stranger
        .post(
            "/login",
            &[
                ("csrf", &form.field("csrf")),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;

    // Assert
    assert_eq!((first.status, second.status), (401, 401));
    assert_eq!(link_locked.status, 429, "{}", link_locked.body);
    assert!(
        link_locked
            .body
            .contains("Too many wrong passwords for this account. Try again in 1 minute."),
        "{}",
        link_locked.body
    );
    assert!(link_locked.retry_after.is_some(), "Retry-After");
    assert_eq!(
        app.linked_email(7011).await,
        None,
        "nothing linked while locked"
    );
    assert_eq!(login_locked.status, 429, "{}", login_locked.body);
    assert!(
        login_locked.body.contains(
            "Prea multe parole greșite pentru acest cont. Încearcă din nou peste 1 minut."
        ),
        "{}",
        login_locked.body
    );
    assert!(
        login_locked.body.contains("name=\"password\""),
        "the form is still there"
    );
    assert!(login_locked.retry_after.is_some(), "Retry-After");
    assert!(!stranger.has_cookie("lb_session"), "no session");
}

#[sqlx::test(migrations = false)]
async fn unknown_used_and_expired_link_codes_get_clear_pages(pool: PgPool) {
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    let expired = link_code_in(&app.reply_to(&TgUser::en(7003).text("/link")).await);
    app.expire_codes().await;

    let cases = [
        (
            "/link/ABCDEFG2".to_owned(),
            404,
            "I do not know this link",
            "unknown",
        ),
        (
            "/link/not-a-code".to_owned(),
            404,
            "no such page",
            "not a code",
        ),
        (format!("/link/{expired}"), 410, "has expired", "expired"),
    ];
    for (path, status, text, why) in cases {
        let page = browser.get(&path).await;
        assert_eq!(page.status, status, "{why}");
        assert!(page.body.contains(text), "{why}: {}", page.body);
        assert!(
            page.body.contains("<html lang=\"en\">"),
            "{why}: an HTML page"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn logging_out_deletes_the_session_and_its_cookie(pool: PgPool) {
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let stolen = browser.cookie_header();

    let answer = browser
        .post("/logout", &[("csrf", &browser.session_csrf().await)])
        .await;

    assert_eq!(answer.status, 303);
    assert_eq!(answer.location.as_deref(), Some("/"));
    assert!(
        answer
            .cookie("lb_session")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    assert!(!browser.has_cookie("lb_session"));
    assert_eq!(count_rows(&app.pool, "web_sessions").await, 0);
    let replayed = app
        .client
        .get(app.url("/telegram"))
        .header(COOKIE, stolen)
        .send()
        .await
        .expect("answers");
    assert!(
        replayed.url().path().starts_with("/login"),
        "the old cookie is worthless"
    );
}

/// Login Widget data for Telegram user `id`, signed as Telegram would sign it.
fn widget_query(id: i64, auth_date: i64, token: &str) -> Vec<(String, String)> {
    let mut fields = vec![
        ("id".to_owned(), id.to_string()),
        ("first_name".to_owned(), "Ana".to_owned()),
        ("username".to_owned(), "ana_tg".to_owned()),
        ("auth_date".to_owned(), auth_date.to_string()),
    ];
    fields.push((
        "hash".to_owned(),
        telegram_auth::sign(Kind::Widget, &fields, token),
    ));
    fields
}

fn query_string(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn state_of(page: &Page) -> String {
    let start = page.body.find("login-widget?state=").expect("widget URL") + 19;
    let len = page.body[start..].find('"').expect("end");
    page.body[start..start + len].to_owned()
}

#[sqlx::test(migrations = false)]
async fn the_login_widget_links_valid_data_and_refuses_the_rest(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let state = state_of(&browser.get("/telegram").await);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let with_state = |fields: Vec<(String, String)>, state: &str| {
        let mut fields = fields;
        fields.push(("state".into(), state.into()));
        format!("/telegram/login-widget?{}", query_string(&fields))
    };
    let mut tampered = widget_query(7004, now, BOT_TOKEN);
    tampered[0].1 = "7005".into();

    // Act and assert: refusals change nothing.
    let cases = [
        (with_state(tampered, &state), 403, "tampered"),
        (
            with_state(widget_query(7004, now - 2 * 86_400, BOT_TOKEN), &state),
            403,
            "stale",
        ),
        (
            with_state(widget_query(7004, now, "1:another-bot"), &state),
            403,
            "another bot's token",
        ),
        (
            with_state(widget_query(7004, now, BOT_TOKEN), "0000"),
            403,
            "another session's state",
        ),
    ];
    for (path, status, why) in cases {
        let page = browser.get(&path).await;
        assert_eq!(page.status, status, "{why}");
    }
    let logged_out = Browser::new(&app)
        .get(&with_state(widget_query(7004, now, BOT_TOKEN), &state))
        .await;
    assert_eq!(logged_out.status, 401);
    assert_eq!(app.linked_email(7004).await, None);

    // Valid, logged in, our state: linked, back to /telegram, and told in Telegram.
    let linked = browser
        .get(&with_state(widget_query(7004, now - 60, BOT_TOKEN), &state))
        .await;
    assert_eq!(linked.status, 303, "{}", linked.body);
    assert_eq!(linked.location.as_deref(), Some("/telegram"));
    assert_eq!(
        app.linked_email(7004).await,
        Some(Some("ana@example.com".into()))
    );
    let page = browser.get("/telegram").await;
    assert!(page.body.contains("@ana_tg"), "{}", page.body);
    let calls = app.telegram.wait_for_calls(1).await;
    assert_eq!(calls[0].params["chat_id"], 7004);
}

#[sqlx::test(migrations = false)]
async fn login_widget_data_without_state_or_used_before_links_nothing(pool: PgPool) {
    // Arrange: a victim logged in; an attacker's valid widget data.
    let app = spawn_app(pool).await;
    let browser = Browser::new(&app);
    browser.register("ana@example.com").await;
    let state = state_of(&browser.get("/telegram").await);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let fields = widget_query(7006, now, BOT_TOKEN);
    let mut with_state = fields.clone();
    with_state.push(("state".into(), state));

    // Act
    let bare = browser
        .get(&format!("/telegram/login-widget?{}", query_string(&fields)))
        .await;
    let posted = browser
        .post(
            "/telegram/login-widget",
            &[("csrf", &browser.session_csrf().await)],
        )
        .await;
    let first = browser
        .get(&format!(
            "/telegram/login-widget?{}",
            query_string(&with_state)
        ))
        .await;
    sqlx::query("DELETE FROM telegram_accounts")
        .execute(&app.pool)
        .await
        .expect("unlink");
    let replayed = browser
        .get(&format!(
            "/telegram/login-widget?{}",
            query_string(&with_state)
        ))
        .await;

    // Assert: no state, no link and no confirmation page; a payload works once.
    assert_eq!(bare.status, 403, "{}", bare.body);
    assert!(
        !bare
            .body
            .contains("<form method=\"post\" action=\"/telegram/login-widget\"")
    );
    assert_eq!(posted.status, 405, "the confirmation form is gone");
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(replayed.status, 403, "{}", replayed.body);
    assert!(replayed.body.contains("already used"), "{}", replayed.body);
    assert_eq!(app.linked_email(7006).await, None);
}

#[sqlx::test(migrations = false)]
async fn the_invite_page_shows_the_invitation_and_a_new_person_registers_and_accepts(pool: PgPool) {
    // Arrange: an owner, linked to Telegram, with a hostile first name.
    let app = spawn_app(pool.clone()).await;
    let owner = crate::people::linked_user(&pool, "owner@example.ro", 501).await;
    sqlx::query("UPDATE users SET first_name = '<b>Maria</b>', language = 'en' WHERE id = $1")
        .bind(owner)
        .execute(&pool)
        .await
        .expect("name");
    let id = crate::people::company(&pool, owner, "Exemplu SRL").await;
    let code = crate::invitations::code_of(
        &crate::invitations::invite(&app, owner, id, "accountant").await,
    );
    let path = format!("/invite/{code}");
    let browser = Browser::new(&app);

    // Act: logged out, the invitation and a login form that returns here;
    // the person registers instead, comes back, and accepts.
    let logged_out = browser.get(&path).await;
    let form = browser
        .get(&format!("/register?next=%2Finvite%2F{code}"))
        .await;
    let registered = browser
        .post(
            "/register",
            &[
                ("csrf", &form.field("csrf")),
                ("next", &form.field("next")),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let ask = browser.get(&path).await;
    let accepted = browser.post(&path, &[("csrf", &ask.field("csrf"))]).await;
    let again = browser.get(&path).await;

    // Assert
    assert_eq!(logged_out.status, 200, "{}", logged_out.body);
    for want in [
        "&lt;b&gt;Maria&lt;/b&gt;",
        "id=\"company\">Exemplu SRL<",
        "id=\"role\">accountant<",
        "(Bucharest time)",
        "action=\"/login\"",
    ] {
        assert!(
            logged_out.body.contains(want),
            "{want}: {}",
            logged_out.body
        );
    }
    assert!(!logged_out.body.contains("<b>Maria"), "escaped");
    assert!(
        logged_out
            .body
            .contains(&format!("/register?next=%2Finvite%2F{code}"))
    );
    assert_eq!(registered.location.as_deref(), Some(path.as_str()));
    assert!(ask.body.contains("id=\"accept\""), "{}", ask.body);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(accepted.body.contains("id=\"joined\""), "{}", accepted.body);
    let role: Option<String> = sqlx::query_scalar(
        "SELECT m.role FROM company_members m JOIN users u ON u.id = m.user_id
         WHERE m.company_id = $1 AND u.email = 'bob@example.com'",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .expect("role");
    assert_eq!(role.as_deref(), Some("accountant"));
    let calls = app.telegram.wait_for_calls(1).await;
    assert_eq!(calls[0].params["chat_id"], 501, "{calls:?}");
    assert!(
        calls[0].params["text"]
            .as_str()
            .is_some_and(|t| t.contains("bob@example.com accepted your invitation")),
        "{calls:?}"
    );
    assert_eq!(again.status, 410, "used");
    assert!(again.body.contains("already used"), "{}", again.body);
}

#[sqlx::test(migrations = false)]
async fn unknown_used_expired_and_revoked_invitations_get_clear_pages_and_forms_need_csrf(
    pool: PgPool,
) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = crate::people::user(&pool, "owner@example.ro").await;
    let id = crate::people::company(&pool, owner, "Exemplu SRL").await;
    let invite = |role| crate::invitations::invite(&app, owner, id, role);
    let expired = crate::invitations::code_of(&invite("viewer").await);
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expire");
    let revoked = crate::invitations::code_of(&invite("viewer").await);
    let (status, _) = app
        .api(
            reqwest::Method::DELETE,
            &crate::people::token(owner),
            &format!("/api/v1/companies/{id}/invitations/{revoked}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let open = crate::invitations::code_of(&invite("owner").await);
    let unknown = ledgerbot::blocks::invite_code::InviteCode::generate();
    let browser = Browser::new(&app);
    browser.register("mallory@example.com").await;

    let cases = [
        (
            format!("/invite/{unknown}"),
            404,
            "I do not know this invitation",
            "unknown",
        ),
        (
            "/invite/not-a-code".to_owned(),
            404,
            "no such page",
            "not a code",
        ),
        (format!("/invite/{expired}"), 410, "has expired", "expired"),
        (
            format!("/invite/{revoked}"),
            410,
            "was withdrawn",
            "revoked",
        ),
    ];
    for (path, status, text, why) in cases {
        // Act
        let page = browser.get(&path).await;

        // Assert
        assert_eq!(page.status, status, "{why}");
        assert!(page.body.contains(text), "{why}: {}", page.body);
    }
    let members = count_rows(&pool, "company_members").await;
    let forged = browser
        .post(&format!("/invite/{open}"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        count_rows(&pool, "company_members").await,
        members,
        "nobody joined"
    );
}
