//! The Telegram Mini App's server side: the `/app` page (framable by
//! Telegram's web client only), its parts behind the access token (401
//! without, 404 to a non-member), the dashboard, invoices with filters and
//! keyset pages, the charts as SVG, in Romanian and English; the "Open
//! dashboard" button under `/dashboard`; the company chooser in pages of 50
//! whose "more" pages are the API's list (`GET /api/v1/companies?cursor=`,
//! tested on its own in companies.rs) read with the Mini App's token. The
//! page's script is exercised in Chromium: tests/browser/miniapp.test.mjs.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{BOT_TOKEN, TestApp, TgUser, header, reply_text, spawn_app};
use crate::people::{
    Inv, activate, companies_by_name, company, invoice, linked_user, many_companies, token, user,
};
use crate::telegram_login::init_data;

/// GETs a part of the Mini App with `token` (none: no header).
async fn part(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answers");
    let status = response.status().as_u16();
    let kind = header(response.headers(), "content-type");
    (status, kind, response.text().await.expect("body"))
}

#[sqlx::test(migrations = false)]
async fn the_app_page_loads_telegrams_script_and_only_telegram_web_may_frame_it(pool: PgPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/app").await;

    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors https://web.telegram.org"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(!headers.contains_key("x-frame-options"));
    assert_eq!(headers["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"src="https://telegram.org/js/telegram-web-app.js""#));
    assert!(
        html.contains("tgWebAppData"),
        "reads the data from the URL too"
    );
    // Other pages stay unframeable.
    let login = app.get("/login").await;
    assert_eq!(login.headers()["x-frame-options"], "DENY");
}

#[sqlx::test(migrations = false)]
async fn parts_need_a_token_and_hide_other_companies(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    let ana_co = company(&pool, ana, "Ana SRL").await;
    let bob = user(&pool, "bob@example.ro").await;

    let paths = [
        "/app/home".to_owned(),
        format!("/app/companies/{ana_co}/dashboard"),
        format!("/app/companies/{ana_co}/invoices"),
        format!("/app/companies/{ana_co}/partners"),
        format!("/app/companies/{ana_co}/charts"),
        format!("/app/companies/{ana_co}/charts/sales.svg"),
    ];
    for path in &paths {
        // Act, assert: no token, a bad token.
        let (status, kind, _) = part(&app, None, path).await;
        assert_eq!((status, kind.as_str()), (401, "application/json"), "{path}");
        let (status, _, _) = part(&app, Some("not-a-jwt"), path).await;
        assert_eq!(status, 401, "{path}");
    }
    for path in &paths[1..] {
        // Someone else's company: as if it did not exist.
        let (status, _, body) = part(&app, Some(&token(bob)), path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("Ana SRL"));
    }
    let (status, _, body) = part(&app, Some(&token(bob)), "/app/home").await;
    assert_eq!(status, 200);
    assert!(body.contains("not in any company yet"), "{body}");
    let (status, _, _) = part(
        &app,
        Some(&token(ana)),
        &format!("/app/companies/{ana_co}/charts/pie.svg"),
    )
    .await;
    assert_eq!(status, 404, "no such chart");
}

#[sqlx::test(migrations = false)]
async fn signed_in_with_init_data_the_home_shows_the_active_companys_dashboard_in_romanian(
    pool: PgPool,
) {
    // Arrange: linked to Telegram 8201 (whose app is in Romanian), two
    // companies, the second active in the bot.
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 8201).await;
    let first = company(&pool, ana, "Alfa <SRL>").await;
    let active = company(&pool, ana, "Beta SRL").await;
    activate(&pool, 8201, active).await;
    invoice(
        &pool,
        active,
        Inv {
            total: 1234_56,
            ..Inv::default()
        },
    )
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    // Act: the page's sign-in, then its first part.
    let exchanged = app
        .post_json(
            "/api/v1/auth/telegram",
            &json!({"init_data": init_data(8201, now, BOT_TOKEN)}),
            None,
        )
        .await;
    assert_eq!(exchanged.status(), 200);
    let access = exchanged.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, kind, html) = part(&app, Some(&access), "/app/home?lang=ro").await;

    // Assert
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(
        html.contains(r#"<h1 id="company-name">Beta SRL</h1>"#),
        "{html}"
    );
    assert!(html.contains("Facturi emise (de încasat)"), "{html}");
    assert!(html.contains("1.234,56 RON"), "{html}");
    assert!(
        html.contains("Alfa &lt;SRL&gt;"),
        "escaped in the chooser: {html}"
    );
    assert!(!html.contains("<SRL>"));
    assert!(html.contains(&format!(r#"data-path="/app/companies/{active}/invoices""#)));

    // The chooser's other company, in English.
    let (_, _, html) = part(
        &app,
        Some(&access),
        &format!("/app/home?company={first}&lang=en"),
    )
    .await;
    assert!(
        html.contains(r#"<h1 id="company-name">Alfa &lt;SRL&gt;</h1>"#),
        "{html}"
    );
    assert!(html.contains("no invoices"), "{html}");
}

#[sqlx::test(migrations = false)]
async fn invoices_filter_and_page_with_a_cursor(pool: PgPool) {
    // Arrange: 25 unpaid issued invoices, 3 paid received ones.
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    let id = company(&pool, ana, "Ana SRL").await;
    for n in 0..25 {
        let number = format!("F-{n:02}");
        invoice(
            &pool,
            id,
            Inv {
                number: &number,
                due_in_days: n - 5,
                ..Inv::default()
            },
        )
        .await;
    }
    for n in 0..3 {
        let number = format!("P-{n}");
        let bill = Inv {
            number: &number,
            direction: "received",
            total: 50_00,
            paid: 50_00,
            ..Inv::default()
        };
        invoice(&pool, id, bill).await;
    }
    let t = token(ana);
    let base = format!("/app/companies/{id}/invoices");

    // Act, assert: the first page of the unpaid ones.
    let (status, _, html) = part(&app, Some(&t), &format!("{base}?status=unpaid&lang=en")).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("<li>").count(), 20, "{html}");
    assert!(html.contains("F-00") && !html.contains("P-0"), "{html}");
    assert!(html.contains("overdue"), "due 5 days ago: {html}");
    let next = html
        .split("cursor=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .to_owned();

    // The second page: the last five, no further page.
    let (_, _, html) = part(
        &app,
        Some(&t),
        &format!("{base}?status=unpaid&direction=issued&cursor={next}&lang=en"),
    )
    .await;
    assert_eq!(html.matches("<li>").count(), 5, "{html}");
    assert!(html.contains("F-24") && !html.contains("F-00"), "{html}");
    assert!(!html.contains("id=\"next-page\""), "{html}");
    assert!(html.contains("First page"), "{html}");

    // Paid received ones only, in Romanian.
    let (_, _, html) = part(
        &app,
        Some(&t),
        &format!("{base}?status=paid&direction=received&lang=ro"),
    )
    .await;
    assert_eq!(html.matches("<li>").count(), 3, "{html}");
    assert!(html.contains("plătită"), "{html}");
    assert!(
        html.contains(r#"<option value="received" selected>"#),
        "{html}"
    );

    // A search by number, kept in the page links.
    let (_, _, html) = part(&app, Some(&t), &format!("{base}?q=F-07&lang=en")).await;
    assert_eq!(html.matches("<li>").count(), 1, "{html}");
    assert!(
        html.contains("F-07") && html.contains(r#"value="F-07""#),
        "{html}"
    );

    // Bad filters are named.
    for query in ["status=maybe", "direction=sideways", "cursor=yesterday"] {
        let (status, _, body) = part(&app, Some(&t), &format!("{base}?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

/// The app, and a company of Ana's with `invoices`: her token, its id, and
/// its charts part in English (answered 200).
async fn charts_of(pool: &PgPool, invoices: Vec<Inv<'_>>) -> (TestApp, String, i64, String) {
    let app = spawn_app(pool.clone()).await;
    let ana = user(pool, "ana@example.ro").await;
    let id = company(pool, ana, "Ana SRL").await;
    for inv in invoices {
        invoice(pool, id, inv).await;
    }
    let t = token(ana);
    let (status, _, html) = part(
        &app,
        Some(&t),
        &format!("/app/companies/{id}/charts?lang=en"),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    (app, t, id, html)
}

#[sqlx::test(migrations = false)]
async fn charts_are_listed_with_their_figures_and_served_as_svg(pool: PgPool) {
    // Arrange, Act: an overdue invoice, and the charts part.
    let (app, t, id, html) = charts_of(
        &pool,
        vec![Inv {
            total: 900_00,
            paid: 400_00,
            due_in_days: -35,
            ..Inv::default()
        }],
    )
    .await;

    // Assert: the invoices' chart and the ageing chart, nothing else.
    assert_eq!(html.matches("<img data-src=").count(), 2, "{html}");
    assert!(html.contains(&format!(
        r#"data-src="/app/companies/{id}/charts/sales.svg""#
    )));
    assert!(html.contains(&format!(
        r#"data-src="/app/companies/{id}/charts/ageing.svg""#
    )));
    assert!(
        html.contains(
            "alt=\"Overdue receivables, by days late. to collect: RON 500.00; overdue: RON 500.00"
        ),
        "{html}"
    );
    let (status, kind, svg) = part(
        &app,
        Some(&t),
        &format!("/app/companies/{id}/charts/ageing.svg?lang=ro"),
    )
    .await;
    assert_eq!((status, kind.as_str()), (200, "image/svg+xml"));
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("Restanțe de încasat"), "{svg}");
    assert!(svg.contains("#C62828"), "red bars drawn: {svg}");
}

/// The Mini App asks for a page's pictures all at once (up to four); the
/// process draws two at a time, and the others wait for their turn instead
/// of being refused (the browser test once saw "could not be drawn" in
/// place of the first chart: its request was answered 503 at once).
#[sqlx::test(migrations = false)]
async fn a_pages_pictures_requested_at_once_are_all_drawn(pool: PgPool) {
    // Arrange: an overdue invoice issued and a bill received: three charts
    // (sales, purchases, ageing), one more than are drawn at once.
    let invoices = [("F-1", "issued", -35), ("F-2", "received", 10)]
        .into_iter()
        .map(|(number, direction, due_in_days)| Inv {
            number,
            direction,
            total: 900_00,
            paid: 400_00,
            due_in_days,
            ..Inv::default()
        })
        .collect();
    let (app, t, _, html) = charts_of(&pool, invoices).await;
    let sources: Vec<&str> = html
        .split("data-src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(
        sources.len() > ledgerbot::front::charts::MAX_RENDERING,
        "{html}"
    );

    // Act: every picture at once, as the page's script asks for them, while
    // the process's drawing slots are all taken (as by other people's
    // charts); freed once every picture waits for its turn.
    let gate = ledgerbot::front::charts::rendering();
    let mut held = Vec::new();
    for _ in 0..ledgerbot::front::charts::MAX_RENDERING {
        held.push(gate.enter().await.expect("a slot within the wait"));
    }
    let paths: Vec<String> = sources.iter().map(|src| format!("{src}?lang=en")).collect();
    let release = async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while gate.waiting() < paths.len() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(held);
    };
    let (answers, ()) = tokio::join!(
        futures_util::future::join_all(paths.iter().map(|path| part(&app, Some(&t), path))),
        release
    );

    // Assert
    for (src, (status, kind, svg)) in paths.iter().zip(answers) {
        assert_eq!(
            (status, kind.as_str()),
            (200, "image/svg+xml"),
            "{src}: {svg}"
        );
        assert!(svg.starts_with("<svg"), "{src}: {svg}");
    }
}

#[sqlx::test(migrations = false)]
async fn dashboard_in_private_has_the_open_dashboard_button_and_in_a_group_none(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tg = TgUser::en(8202);
    let ana = linked_user(&pool, "ana@example.ro", tg.id).await;
    let id = company(&pool, ana, "Ana SRL").await;
    activate(&pool, tg.id, id).await;

    let reply = app.reply_to(&tg.text("/dashboard")).await;

    assert!(reply_text(&reply).contains("Ana SRL"));
    let button = &reply["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["text"], "📱 Open dashboard", "{reply}");
    assert_eq!(
        button["web_app"]["url"], "http://ledgerbot.test/app",
        "{reply}"
    );
    let reply = app.reply_to(&tg.group_text(-100_555, "/dashboard")).await;
    assert!(reply["reply_markup"].is_null(), "{reply}");
}

#[sqlx::test(migrations = false)]
async fn partners_show_customers_or_suppliers_largest_first_with_their_ageing(pool: PgPool) {
    // Arrange: two customers (one 35 days late), one supplier.
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    let id = company(&pool, ana, "Ana SRL").await;
    let late = Inv {
        number: "F-1",
        partner: "Client <Mare>",
        total: 700_00,
        due_in_days: -35,
        ..Inv::default()
    };
    invoice(&pool, id, late).await;
    invoice(
        &pool,
        id,
        Inv {
            number: "F-2",
            partner: "Client Mic",
            total: 100_00,
            ..Inv::default()
        },
    )
    .await;
    let bill = Inv {
        number: "P-1",
        direction: "received",
        partner: "Furnizor SA",
        total: 300_00,
        ..Inv::default()
    };
    invoice(&pool, id, bill).await;
    let t = token(ana);
    let base = format!("/app/companies/{id}/partners");

    // Act
    let (status, _, html) = part(&app, Some(&t), &format!("{base}?lang=en")).await;

    // Assert: customers by default, the largest first, escaped, aged.
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(r#"id="tab-partners" data-path"#)
            && html.contains(r#"aria-current="page">Partners"#),
        "{html}"
    );
    let big = html.find("Client &lt;Mare&gt;").expect("escaped name");
    let small = html.find("Client Mic").expect("the other customer");
    assert!(big < small, "largest first: {html}");
    assert!(html.contains("overdue RON 700.00"), "{html}");
    assert!(html.contains("31–60 days: RON 700.00"), "{html}");
    assert!(
        html.contains("<dt>outstanding</dt><dd>RON 800.00</dd>"),
        "company total: {html}"
    );
    assert!(!html.contains("Furnizor SA"), "{html}");

    let (_, _, html) = part(
        &app,
        Some(&t),
        &format!("{base}?direction=received&lang=ro"),
    )
    .await;
    assert!(
        html.contains("Furnizor SA") && !html.contains("Client Mic"),
        "{html}"
    );
    assert!(
        html.contains("<dt>de încasat</dt><dd>300,00 RON</dd>") || html.contains("300,00 RON"),
        "{html}"
    );

    for query in ["direction=both", "cursor=2026-01-10.4"] {
        let (status, _, body) = part(&app, Some(&t), &format!("{base}?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

#[sqlx::test(migrations = false)]
async fn cash_shows_the_accounts_then_entries_by_month_newest_first_with_month_totals(
    pool: PgPool,
) {
    // Arrange: a bank account; 21 incomes of 10 lei in November, one
    // expense of 50 lei in October (one entry more than a page).
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    let id = company(&pool, ana, "Ana SRL").await;
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor, as_of)
         VALUES ($1, 'Banca <Transilvania>', 'bank', 'RON', 123456, '2026-11-30')",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("account");
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         SELECT $1, 1000, 'RON', 'vânzare ' || n, date '2026-11-05' FROM generate_series(1, 21) n
         UNION ALL SELECT $1, -5000, 'RON', 'hârtie', date '2026-10-20'",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("entries");
    let t = token(ana);
    let base = format!("/app/companies/{id}/cash");

    // Act
    let (status, kind, first) = part(&app, Some(&t), &format!("{base}?lang=en")).await;
    let next = first
        .split("cash?cursor=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .to_owned();
    let (_, _, second) = part(&app, Some(&t), &format!("{base}?lang=ro&cursor={next}")).await;

    // Assert: the first page: the account, escaped; November's 20 newest
    // entries under the month's totals of all 21.
    assert_eq!(status, 200, "{first}");
    assert!(kind.starts_with("text/html"));
    assert!(first.contains(r#"aria-current="page">Cash"#), "{first}");
    assert!(first.contains("Banca &lt;Transilvania&gt;"), "{first}");
    assert!(first.contains("RON 1,234.56"), "{first}");
    assert!(first.contains("November 2026"), "{first}");
    assert!(
        first.contains("<dt>income</dt><dd>RON 210.00</dd>"),
        "the month's total, not the page's: {first}"
    );
    assert_eq!(first.matches("vânzare").count(), 20, "{first}");
    assert!(
        first.contains("vânzare 21") && !first.contains("hârtie"),
        "{first}"
    );
    // The second page, in Romanian: the last November entry and October's.
    assert!(!second.contains("Banca"), "accounts on the first page only");
    assert!(second.contains("vânzare 1<"), "{second}");
    assert!(second.contains("octombrie 2026"), "{second}");
    assert!(
        second.contains("<dt>cheltuieli</dt><dd>50,00 RON</dd>"),
        "{second}"
    );
    assert!(!second.contains("next-page"), "{second}");

    let (status, _, _) = part(&app, Some(&t), &format!("{base}?cursor=nope")).await;
    assert_eq!(status, 400);
    let bob = user(&pool, "bob@example.ro").await;
    let (status, _, _) = part(&app, Some(&token(bob)), &base).await;
    assert_eq!(status, 404, "not a member");
    let (status, _, _) = part(&app, None, &base).await;
    assert_eq!(status, 401);
}

/// The access token the Mini App's script gets for Telegram user
/// `telegram_id`: its `initData`, signed at `auth_date`, traded at
/// `POST /api/v1/auth/telegram`.
async fn signed_in(app: &TestApp, telegram_id: i64, auth_date: i64) -> String {
    let exchanged = app
        .post_json(
            "/api/v1/auth/telegram",
            &json!({"init_data": init_data(telegram_id, auth_date, BOT_TOKEN)}),
            None,
        )
        .await;
    assert_eq!(
        exchanged.status(),
        200,
        "initData of {telegram_id} accepted"
    );
    exchanged.json::<serde_json::Value>().await.expect("tokens")["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The chooser's options in a part: `(id, name as written)`, in order.
fn options(html: &str) -> Vec<(i64, String)> {
    let select = html
        .split(r#"<select id="company" name="company">"#)
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap_or_default();
    select
        .split(r#"<option value=""#)
        .skip(1)
        .map(|option| {
            let (id, rest) = option.split_once('"').expect("a quoted value");
            let name = rest
                .split_once('>')
                .and_then(|(_, n)| n.split_once("</option>"))
                .map(|(n, _)| n.to_owned())
                .expect("a name");
            (id.parse().expect("a company id"), name)
        })
        .collect()
}

/// The "more companies" button's cursor, when the part has one.
fn more_cursor(html: &str) -> Option<String> {
    html.split(r#"id="more-companies" data-cursor=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// GETs a page of the chooser as its "more" button does, from the API's
/// list: status and JSON.
async fn chooser_page(app: &TestApp, token: Option<&str>, query: &str) -> (u16, serde_json::Value) {
    let (status, kind, body) = part(app, token, &format!("/api/v1/companies{query}")).await;
    assert_eq!(kind, "application/json", "{query}: {body}");
    (status, serde_json::from_str(&body).expect("JSON"))
}

#[sqlx::test(migrations = false)]
async fn the_company_chooser_shows_fifty_and_more_pages_by_fifty_in_name_order(pool: PgPool) {
    // Arrange: Ana, signed in through her Mini App's initData, in 120 companies.
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 8301).await;
    many_companies(&pool, ana, 120).await;
    let expected = companies_by_name(&pool, ana).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let access = signed_in(&app, 8301, now).await;

    // Act: the home part, then the "more" button's pages (the API's list,
    // with the token the initData gave) until the last.
    let (status, _, html) = part(&app, Some(&access), "/app/home?lang=ro").await;
    assert_eq!(status, 200, "{html}");
    let mut seen = options(&html);
    let mut pages = vec![seen.len()];
    let mut after = more_cursor(&html);
    while let Some(cursor) = after {
        let (status, page) = chooser_page(&app, Some(&access), &format!("?cursor={cursor}")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["page_size"], 50, "{page}");
        let items = page["items"].as_array().expect("items");
        pages.push(items.len());
        seen.extend(items.iter().map(|c| {
            (
                c["id"].as_i64().expect("id"),
                c["name"].as_str().expect("name").to_owned(),
            )
        }));
        after = page["next_cursor"].as_str().map(str::to_owned);
        assert!(pages.len() <= 3, "a last page that says so: {page}");
    }

    // Assert: 50, 50, 20; every company once, by name; the first shown.
    assert_eq!(pages, [50, 50, 20]);
    assert_eq!(seen, expected, "all 120, by name, none twice");
    assert!(
        html.contains(&format!(r#"<h1 id="company-name">{}</h1>"#, expected[0].1)),
        "{html}"
    );
    assert!(html.contains("Mai multe firme ▶"), "{html}");
    let (_, _, english) = part(&app, Some(&access), "/app/home?lang=en").await;
    assert!(english.contains("More companies ▶"), "{english}");
    let expected_ids: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();
    // Every company part carries the same paged chooser.
    let id = expected_ids[7];
    let (_, _, invoices) = part(
        &app,
        Some(&access),
        &format!("/app/companies/{id}/invoices"),
    )
    .await;
    assert_eq!(options(&invoices), expected[..50], "{invoices}");
    assert_eq!(more_cursor(&invoices), Some(expected_ids[49].to_string()));
    let (_, _, html) = part(&app, Some(&access), &format!("/app/home?company={id}")).await;
    assert!(
        html.contains(&format!(r#"<option value="{id}" selected>"#)),
        "{html}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_company_further_down_the_list_is_shown_chosen_at_the_top_of_the_chooser(pool: PgPool) {
    // Arrange: 60 companies; the active one in the bot is the last by name.
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 8302).await;
    many_companies(&pool, ana, 60).await;
    let (last, name): (i64, String) = sqlx::query_as(
        "SELECT c.id, c.name FROM company_members m JOIN companies c ON c.id = m.company_id
         WHERE m.user_id = $1 ORDER BY m.company_name_key DESC, m.company_id DESC LIMIT 1",
    )
    .bind(ana)
    .fetch_one(&pool)
    .await
    .expect("the last company");
    activate(&pool, 8302, last).await;
    let t = token(ana);

    // Act
    let (status, _, html) = part(&app, Some(&t), "/app/home").await;

    // Assert: shown and chosen, first, then the first page (which it is not on).
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!(r#"<h1 id="company-name">{name}</h1>"#)),
        "{html}"
    );
    let listed = options(&html);
    assert_eq!(listed.len(), 51, "{html}");
    assert_eq!(listed[0], (last, name), "{html}");
    assert_eq!(listed.iter().filter(|(id, _)| *id == last).count(), 1);
    assert!(
        html.contains(&format!(r#"<option value="{last}" selected>"#)),
        "{html}"
    );
    let (_, page) = chooser_page(&app, Some(&t), &format!("?cursor={}", listed[50].0)).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(10), "{page}");
}

#[sqlx::test(migrations = false)]
async fn the_chooser_lists_only_the_persons_companies_and_refuses_strangers(pool: PgPool) {
    // Arrange: Ana in 3 companies, Bob in 2 of his own.
    let app = spawn_app(pool.clone()).await;
    let ana = linked_user(&pool, "ana@example.ro", 8303).await;
    let anas = many_companies(&pool, ana, 3).await;
    let bob = linked_user(&pool, "bob@example.ro", 8304).await;
    let bobs = [
        company(&pool, bob, "Bob Unu SRL").await,
        company(&pool, bob, "Bob Doi SRL").await,
    ];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ana_token = signed_in(&app, 8303, now).await;
    let bob_token = signed_in(&app, 8304, now - 1).await;

    // Act, assert: a cursor naming Bob's company is no place in Ana's list
    // (the API's refusals: companies.rs).
    let (status, body) =
        chooser_page(&app, Some(&ana_token), &format!("?cursor={}", bobs[0])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "bad_request", "{body}");
    // No token, a token that is not one, a tampered initData: refused.
    let (status, _) = chooser_page(&app, None, "").await;
    assert_eq!(status, 401);
    let (status, _) = chooser_page(&app, Some("not-a-jwt"), "").await;
    assert_eq!(status, 401);
    let tampered = init_data(8303, now - 2, BOT_TOKEN).replace("8303", "8304");
    let refused = app
        .post_json(
            "/api/v1/auth/telegram",
            &json!({"init_data": tampered}),
            None,
        )
        .await;
    assert_eq!(refused.status(), 401, "another id, the old signature");
    // Bob's initData: his companies only, and Ana's are not his to choose.
    let (status, page) = chooser_page(&app, Some(&bob_token), "").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["Bob Doi SRL", "Bob Unu SRL"], "{page}");
    let (_, _, html) = part(&app, Some(&bob_token), "/app/home").await;
    assert_eq!(options(&html).len(), 2, "{html}");
    assert!(!html.contains("Firma"), "{html}");
    assert!(more_cursor(&html).is_none(), "{html}");
    for (query, want) in [
        (format!("company={}", anas[0]), 404),
        ("company=abc".to_owned(), 400),
        (format!("company=0{}", bobs[1]), 400),
        (format!("company=+{}", bobs[1]), 400),
        (format!("company={}", bobs[1]), 200),
    ] {
        let (status, _, body) = part(&app, Some(&bob_token), &format!("/app/home?{query}")).await;
        assert_eq!(status, want, "{query}: {body}");
        assert!(!body.contains("Firma"), "{query}: {body}");
    }
    let (status, _, _) = part(
        &app,
        Some(&bob_token),
        &format!("/app/companies/{}/dashboard", anas[0]),
    )
    .await;
    assert_eq!(status, 404, "not his");
}
