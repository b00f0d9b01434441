//! The e-Factura upload page (`/companies/{id}/import`) against the real
//! server: a logged-in owner uploads files and reads the summary; every
//! refusal (logged out, not a member, viewer, CSRF, too many parts, too large,
//! not a form, a bad file, imports busy) is a clear page and writes nothing.

use reqwest::header::{CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use sqlx::PgPool;

use crate::helpers::{
    EFACTURA_CUI as OUR_CUI, TestApp, efactura_fixture as fixture, set_cui, spawn_app,
};
use crate::people::{company, member, user};
use crate::web::{Browser, Page};

const BOUNDARY: &str = "----ledgerbot-test-7MA4YWxkTrZu0gW";

/// One part of a form: its field name, its file name (a file) and its bytes.
type Part<'a> = (&'a str, Option<&'a str>, Vec<u8>);

/// A `multipart/form-data` body as browsers write it.
fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// POSTs `parts` to `path` as the page's form would.
async fn upload(browser: &Browser<'_>, app: &TestApp, path: &str, parts: &[Part<'_>]) -> Page {
    let request = browser
        .client
        .post(app.url(path))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(parts));
    browser.send(request).await
}

/// A company with the fixtures' CUI, and a browser logged in as a person who
/// is its `role` (`None`: a stranger to it).
async fn visitor<'a>(app: &'a TestApp, pool: &PgPool, role: Option<&str>) -> (Browser<'a>, i64) {
    let browser = Browser::new(app);
    let registered = browser.register("ana@example.ro").await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let ana: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ana@example.ro'")
        .fetch_one(pool)
        .await
        .expect("registered");
    let owner = match role {
        Some("owner") => ana,
        _ => user(pool, "owner@example.ro").await,
    };
    let id = company(pool, owner, "Atelier Digital SRL").await;
    set_cui(pool, id, Some(OUR_CUI)).await;
    if let Some(role @ ("accountant" | "viewer")) = role {
        member(pool, id, ana, role).await;
    }
    (browser, id)
}

/// What `browser` gets for the import form of company `id`, then for posting `parts` to it.
async fn form_and_post(
    browser: &Browser<'_>,
    app: &TestApp,
    id: i64,
    parts: &[Part<'_>],
) -> (Page, Page) {
    let path = format!("/companies/{id}/import");
    (
        browser.get(&path).await,
        upload(browser, app, &path, parts).await,
    )
}

async fn invoices(pool: &PgPool) -> i64 {
    crate::helpers::count_rows(pool, "invoices").await
}

#[sqlx::test(migrations = false)]
async fn an_owner_uploads_two_files_and_reads_what_was_imported_and_what_skipped(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (browser, id) = visitor(&app, &pool, Some("owner")).await;
    let path = format!("/companies/{id}/import");

    // Act
    let list = browser.get("/companies").await;
    let form = browser.get(&path).await;
    let csrf = form.field("csrf");
    let files = |csrf: &str| -> Vec<Part<'static>> {
        vec![
            ("csrf", None, csrf.as_bytes().to_vec()),
            (
                "files",
                Some("f-ad-2026-0147.xml"),
                fixture("f-ad-2026-0147.xml"),
            ),
            (
                "files",
                Some("alt-client-77.xml"),
                fixture("alt-client-77.xml"),
            ),
        ]
    };
    let done = upload(&browser, &app, &path, &files(&csrf)).await;
    // The same files again, the page now in Romanian (the choice is remembered in a cookie).
    browser.get("/?lang=ro").await;
    let again = upload(&browser, &app, &path, &files(&csrf)).await;

    // Assert
    assert_eq!(list.status, 200);
    assert!(
        list.body
            .contains(&format!("href=\"/companies/{id}/import\"")),
        "{}",
        list.body
    );
    assert!(list.body.contains("CUI 18547290"), "{}", list.body);
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"files\" id=\"files\" multiple"));
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("<li id=\"imported\">1 new invoice</li>"),
        "{}",
        done.body
    );
    assert!(
        done.body
            .contains("<h2 id=\"skipped-count\">1 file skipped</h2>")
    );
    assert!(done.body.contains(
        "<strong class=\"file\">alt-client-77.xml</strong>: <span class=\"reason\">neither the supplier nor the customer is this company (by CUI)</span>"
    ), "{}", done.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again
            .body
            .contains("<li id=\"unchanged\">1 factură neschimbată</li>"),
        "{}",
        again.body
    );
    assert!(
        again
            .body
            .contains("<li id=\"imported\">0 facturi noi</li>")
    );
    assert!(again.body.contains("nici furnizorul, nici clientul"));
    let total: i64 = sqlx::query_scalar("SELECT total_minor FROM invoices WHERE company_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("one invoice");
    assert_eq!(total, 1_428_000, "the document's 14 280.00 RON");
}

#[sqlx::test(migrations = false)]
async fn strangers_viewers_and_the_logged_out_are_refused_before_anything_is_read(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (viewer, viewed) = visitor(&app, &pool, Some("viewer")).await;
    let other_owner = user(&pool, "other@example.ro").await;
    let foreign = company(&pool, other_owner, "Altă Firmă SRL").await;
    let logged_out = Browser::new(&app);
    let csrf = viewer.session_csrf().await;
    let xml = || -> Vec<Part<'static>> {
        vec![
            ("csrf", None, csrf.as_bytes().to_vec()),
            (
                "files",
                Some("f-ad-2026-0147.xml"),
                fixture("f-ad-2026-0147.xml"),
            ),
        ]
    };

    // Act: each looks at the form, then posts to it.
    let (viewer_sees, viewer_posts) = form_and_post(&viewer, &app, viewed, &xml()).await;
    let (stranger_sees, stranger_posts) = form_and_post(&viewer, &app, foreign, &xml()).await;
    let (nobody_sees, nobody_posts) = form_and_post(&logged_out, &app, viewed, &xml()).await;
    let list = viewer.get("/companies").await;

    // Assert
    assert_eq!(viewer_sees.status, 403);
    assert!(
        viewer_sees
            .body
            .contains("Only the company&#39;s owner or accountant can import invoices"),
        "{}",
        viewer_sees.body
    );
    assert_eq!(viewer_posts.status, 403);
    assert_eq!(stranger_sees.status, 404, "no hint that the company exists");
    assert_eq!(stranger_posts.status, 404);
    let login = format!("/login?next=%2Fcompanies%2F{viewed}%2Fimport");
    assert_eq!(
        (nobody_sees.status, nobody_sees.location.as_deref()),
        (303, Some(login.as_str()))
    );
    assert_eq!(nobody_posts.status, 303);
    assert!(list.body.contains("Atelier Digital SRL"));
    assert!(
        !list.body.contains("/import\""),
        "a viewer is offered no import: {}",
        list.body
    );
    assert_eq!(invoices(&pool).await, 0);
}

#[sqlx::test(migrations = false)]
async fn forged_oversized_and_malformed_uploads_get_clear_pages_and_write_nothing(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let (browser, id) = visitor(&app, &pool, Some("accountant")).await;
    let path = format!("/companies/{id}/import");
    let csrf = browser.session_csrf().await;
    let token = || ("csrf", None, csrf.as_bytes().to_vec());
    let xml = || ("files", Some("f.xml"), fixture("f-ad-2026-0147.xml"));
    let file_limit = ledgerbot::front::api::efactura::BODY_LIMIT;
    let cases: Vec<(Vec<Part<'_>>, u16, &str, &str)> = vec![
        (vec![xml()], 403, "did not come from this site", "no token"),
        (
            vec![("csrf", None, b"forged".to_vec()), xml()],
            403,
            "did not come from this site",
            "a wrong token",
        ),
        (
            vec![xml(), token()],
            403,
            "did not come from this site",
            "a file before the token",
        ),
        (
            std::iter::once(token())
                .chain((0..51).map(|_| xml()))
                .collect(),
            413,
            "at most 50 files at once",
            "51 files",
        ),
        (
            vec![
                token(),
                ("files", Some("big.xml"), vec![b' '; file_limit + 1]),
            ],
            413,
            "over 10 MB",
            "one file past the API's limit",
        ),
        (
            vec![token(), ("other", None, b"x".to_vec())],
            400,
            "The form could not be read",
            "a field the form does not have",
        ),
        (
            vec![token(), ("files", Some(""), Vec::new())],
            422,
            "You did not choose any file",
            "no file chosen",
        ),
        (
            vec![
                token(),
                ("files", Some("spv.zip"), b"PK\x05\x06broken".to_vec()),
            ],
            422,
            "this is not a ZIP archive, or it is cut short",
            "a ZIP that does not open",
        ),
        (
            vec![
                token(),
                (
                    "files",
                    Some("scan.pdf"),
                    b"%PDF-1.7 not an invoice".to_vec(),
                ),
            ],
            200,
            "<strong class=\"file\">scan.pdf</strong>",
            "a file that is no e-Factura is skipped with its reason",
        ),
    ];

    // Act and assert
    for (parts, status, says, why) in cases {
        let page = upload(&browser, &app, &path, &parts).await;
        assert_eq!(page.status, status, "{why}: {}", page.body);
        assert!(page.body.contains(says), "{why}: {}", page.body);
    }
    let other_origin = browser
        .send(
            browser
                .client
                .post(app.url(&path))
                .header(ORIGIN, "https://evil.example")
                .header(
                    CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(multipart(&[token(), xml()])),
        )
        .await;
    assert_eq!(other_origin.status, 403, "another origin");
    let not_a_form = browser
        .send(
            browser
                .client
                .post(app.url(&path))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(not_a_form.status, 415, "{}", not_a_form.body);
    let too_big = upload(
        &browser,
        &app,
        &path,
        &[
            token(),
            ("files", Some("a.xml"), vec![b' '; file_limit / 2 + 1024]),
            ("files", Some("b.xml"), vec![b' '; file_limit / 2 + 1024]),
            ("files", Some("c.xml"), vec![b' '; 64 * 1024]),
        ],
    )
    .await;
    assert_eq!(too_big.status, 413, "all the files together past the bound");
    assert_eq!(invoices(&pool).await, 0);
}

#[sqlx::test(migrations = false)]
async fn when_imports_are_at_their_bound_the_page_says_try_again(pool: PgPool) {
    // Arrange: no slot free, as when two imports are running.
    let app = TestApp::builder(pool.clone())
        .app(|app| app.imports = ledgerbot::services::finance::efactura::Imports::new(0))
        .spawn()
        .await;
    let (browser, id) = visitor(&app, &pool, Some("owner")).await;
    let csrf = browser.session_csrf().await;
    let path = format!("/companies/{id}/import");

    // Act
    let request = browser
        .client
        .post(app.url(&path))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&[
            ("csrf", None, csrf.as_bytes().to_vec()),
            ("files", Some("f.xml"), fixture("f-ad-2026-0147.xml")),
        ]));
    let response = request
        .header(reqwest::header::COOKIE, browser.cookie_header())
        .send()
        .await
        .expect("answers");

    // Assert
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let body = response.text().await.expect("body");
    assert!(
        body.contains("Other imports are running. Try again in a few seconds."),
        "{body}"
    );
    assert_eq!(invoices(&pool).await, 0);
}
