//! `/api/v1/companies`: creating, listing, members and roles, and the rule
//! that a non-member learns nothing (404 everywhere).

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use ledgerbot::front::api::companies::PAGE_SIZE;

use crate::helpers::{TestApp, header, spawn_app};
use crate::people::{
    activate, active_company, companies_by_name, company, linked_user, many_companies, member,
    token, user,
};
use crate::web::Browser;

#[sqlx::test(migrations = false)]
async fn creating_a_company_makes_the_caller_its_owner(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;

    // Act
    let (status, created) = app
        .api(
            Method::POST,
            &token(ana),
            "/api/v1/companies",
            Some(&json!({"name": "  Exemplu SRL ", "cui": "RO 18547290"})),
        )
        .await;
    let (_, list) = app
        .api(Method::GET, &token(ana), "/api/v1/companies", None)
        .await;

    // Assert
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Exemplu SRL");
    assert_eq!(created["cui"], "18547290", "stored as digits");
    assert_eq!(created["currency"], "RON", "the default currency");
    assert_eq!(created["role"], "owner");
    assert_eq!(
        list,
        json!({"items": [created], "page_size": 50, "next_cursor": null})
    );
    let (status, one) = app
        .api(
            Method::GET,
            &token(ana),
            &format!("/api/v1/companies/{}", created["id"]),
            None,
        )
        .await;
    assert_eq!((status, &one), (200, &created));
}

#[sqlx::test(migrations = false)]
async fn company_creation_refuses_bad_input_naming_the_field(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ana = token(user(&pool, "ana@example.ro").await);
    let cases = [
        (json!({"name": ""}), 422, "name", "empty name"),
        (json!({"name": "   "}), 422, "name", "blank name"),
        (
            json!({"name": "x".repeat(201)}),
            422,
            "name",
            "201 characters",
        ),
        (
            json!({"name": "A", "cui": "18547291"}),
            422,
            "cui",
            "wrong check digit",
        ),
        (
            json!({"name": "A", "cui": "RO12AB"}),
            422,
            "cui",
            "not digits",
        ),
        (
            json!({"name": "A", "currency": "EURO"}),
            422,
            "currency",
            "4 letters",
        ),
        (json!({"cui": "18547290"}), 422, "name", "missing name"),
    ];
    for (body, want, field, why) in cases {
        let (status, error) = app
            .api(Method::POST, &ana, "/api/v1/companies", Some(&body))
            .await;
        assert_eq!(status, want, "{why}: {error}");
        assert_eq!(error["error"], "unprocessable", "{why}");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{why}: {error}"
        );
    }
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(companies, 0);
}

#[sqlx::test(migrations = false)]
async fn every_company_route_needs_a_valid_token(pool: PgPool) {
    let app = spawn_app(pool).await;
    for (token, why) in [("", "no token"), ("not-a-jwt", "garbage token")] {
        let (status, body) = app.api(Method::GET, token, "/api/v1/companies", None).await;
        assert_eq!(status, 401, "{why}: {body}");
    }
}

/// GETs a page of `GET /api/v1/companies` with `token` as the Mini App's
/// chooser does: status, `Cache-Control`, and the JSON.
async fn company_list(app: &TestApp, token: &str, query: &str) -> (u16, String, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/companies{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    let cache = header(response.headers(), "cache-control");
    (status, cache, response.json().await.expect("JSON"))
}

/// The ids of a page's items, in order.
fn page_ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

/// A person in more companies than a page sees them all, by name, each
/// once, page after page through `next_cursor` (the Mini App's "more"
/// button reads these pages); the same cursor gives the same page again.
#[sqlx::test(migrations = false)]
async fn the_company_list_pages_by_fifty_in_name_order(pool: PgPool) {
    // Arrange: Ana in 120 companies, named out of id order.
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    many_companies(&pool, ana, 120).await;
    let expected = companies_by_name(&pool, ana).await;
    let expected_ids: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();

    // Act: the first page, then each next one until the last.
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut query = String::new();
    loop {
        let (status, cache, page) = company_list(&app, &token(ana), &query).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(cache, "no-store", "a person's companies are never cached");
        assert_eq!(page["page_size"], PAGE_SIZE, "{page}");
        let items = page["items"].as_array().expect("items");
        pages.push(items.len());
        seen.extend(items.iter().map(|c| {
            (
                c["id"].as_i64().expect("id"),
                c["name"].as_str().expect("name").to_owned(),
            )
        }));
        assert!(pages.len() <= 3, "a last page that says so: {page}");
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        query = format!("?cursor={next}");
    }

    // Assert: 50, 50, 20; every company once, by name; stable pages.
    assert_eq!(pages, [50, 50, 20]);
    assert_eq!(seen, expected, "all 120, by name, none twice");
    let (_, _, first) = company_list(&app, &token(ana), "").await;
    assert_eq!(page_ids(&first), expected_ids[..50]);
    assert_eq!(first["next_cursor"], expected_ids[49].to_string());
    let (_, _, again) =
        company_list(&app, &token(ana), &format!("?cursor={}", expected_ids[99])).await;
    assert_eq!(page_ids(&again), expected_ids[100..]);
    assert!(again["next_cursor"].is_null(), "the last page: {again}");
}

/// A cursor the list did not write, or one naming a company that is not
/// the caller's (another person's, none at all, one left since), has no
/// place in the caller's list: 400, saying to start again; another person's
/// token lists that person's companies only.
#[sqlx::test(migrations = false)]
async fn the_company_list_refuses_tampered_cursors_and_other_peoples_companies(pool: PgPool) {
    // Arrange: Ana in 3 companies, Bob in 2 of his own.
    let app = spawn_app(pool.clone()).await;
    let ana = user(&pool, "ana@example.ro").await;
    let anas = many_companies(&pool, ana, 3).await;
    let bob = user(&pool, "bob@example.ro").await;
    let bobs = [
        company(&pool, bob, "Bob Unu SRL").await,
        company(&pool, bob, "Bob Doi SRL").await,
    ];
    let left = company(&pool, bob, "Plecată SRL").await;
    member(&pool, left, ana, "viewer").await;
    sqlx::query("DELETE FROM company_members WHERE company_id = $1 AND user_id = $2")
        .bind(left)
        .bind(ana)
        .execute(&pool)
        .await
        .expect("Ana left");

    // Act, assert: refused, each saying what to do.
    let cases = [
        ("abc".to_owned(), "not a number"),
        ("-5".to_owned(), "a sign"),
        (format!("+{}", anas[0]), "a plus sign"),
        (format!("0{}", anas[0]), "a leading zero"),
        (format!("{}.5", anas[0]), "a fraction"),
        ("99999999999999999999".to_owned(), "past i64"),
        (String::new(), "empty"),
        (bobs[0].to_string(), "Bob's company"),
        (left.to_string(), "a company Ana has left"),
        ("9223372036854775807".to_owned(), "no such company"),
    ];
    for (cursor, why) in &cases {
        let (status, _, body) = company_list(&app, &token(ana), &format!("?cursor={cursor}")).await;
        assert_eq!(status, 400, "{why}: {body}");
        assert_eq!(body["error"], "bad_request", "{why}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("cursor")
                && (message.contains("unchanged") || message.contains("start again")),
            "{why}: {message}"
        );
    }
    // Her own company's id as written: her page after it.
    let (status, _, page) = company_list(&app, &token(ana), &format!("?cursor={}", anas[0])).await;
    assert_eq!(status, 200, "{page}");
    // Bob's token: his companies only, by name.
    let (status, _, page) = company_list(&app, &token(bob), "").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Bob Doi SRL", "Bob Unu SRL", "Plecată SRL"],
        "{page}"
    );
}

/// Every company route, for a company `id`.
fn company_routes(id: i64, other_user: i64) -> Vec<(Method, String, Option<Value>)> {
    let base = format!("/api/v1/companies/{id}");
    vec![
        (Method::GET, base.clone(), None),
        (Method::GET, format!("{base}/members"), None),
        (
            Method::PATCH,
            format!("{base}/members/{other_user}"),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("{base}/members/{other_user}"), None),
        (Method::GET, format!("{base}/invitations"), None),
        (
            Method::POST,
            format!("{base}/invitations"),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("{base}/invitations/1"), None),
        (Method::GET, format!("{base}/invoices"), None),
        (Method::PUT, format!("{base}/invoices"), Some(json!([]))),
        (Method::GET, format!("{base}/treasury-accounts"), None),
        (
            Method::PUT,
            format!("{base}/treasury-accounts"),
            Some(json!([])),
        ),
        (Method::GET, format!("{base}/dashboard"), None),
    ]
}

#[sqlx::test(migrations = false)]
async fn non_members_get_404_on_every_company_route_as_if_it_did_not_exist(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let stranger = user(&pool, "stranger@example.ro").await;
    let id = company(&pool, owner, "Secret SRL").await;

    for (existing, missing) in company_routes(id, owner)
        .into_iter()
        .zip(company_routes(id + 1000, owner))
    {
        // Act
        let (status, body) = app
            .api(
                existing.0.clone(),
                &token(stranger),
                &existing.1,
                existing.2.as_ref(),
            )
            .await;
        let (missing_status, missing_body) = app
            .api(missing.0, &token(stranger), &missing.1, missing.2.as_ref())
            .await;

        // Assert
        assert_eq!(status, 404, "{} {}: {body}", existing.0, existing.1);
        assert_eq!(
            (status, &body),
            (missing_status, &missing_body),
            "an existing company answers exactly like a missing one: {}",
            existing.1
        );
    }
    let (_, list) = app
        .api(Method::GET, &token(stranger), "/api/v1/companies", None)
        .await;
    assert_eq!(list["items"], json!([]), "{list}");
}

#[sqlx::test(migrations = false)]
async fn viewers_read_but_cannot_push_or_manage(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let viewer = user(&pool, "viewer@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    member(&pool, id, viewer, "viewer").await;

    for (method, path, body) in company_routes(id, owner) {
        // Act
        let (status, answer) = app
            .api(method.clone(), &token(viewer), &path, body.as_ref())
            .await;

        // Assert
        let manages = path.contains("/members") || path.contains("/invitations");
        let want = if method == Method::GET && !manages {
            200
        } else {
            403
        };
        assert_eq!(status, want, "{method} {path}: {answer}");
        if want == 403 {
            assert_eq!(answer["error"], "forbidden");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn accountants_push_data_but_only_owners_manage_members(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let accountant = user(&pool, "acc@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    member(&pool, id, accountant, "accountant").await;
    let t = token(accountant);

    let (push, _) = app
        .api(
            Method::PUT,
            &t,
            &format!("/api/v1/companies/{id}/invoices"),
            Some(&json!([])),
        )
        .await;
    let (invite, _) = app
        .api(
            Method::POST,
            &t,
            &format!("/api/v1/companies/{id}/invitations"),
            Some(&json!({"role": "viewer"})),
        )
        .await;
    let (remove, _) = app
        .api(
            Method::DELETE,
            &t,
            &format!("/api/v1/companies/{id}/members/{owner}"),
            None,
        )
        .await;

    assert_eq!((push, invite, remove), (200, 403, 403));
}

#[sqlx::test(migrations = false)]
async fn no_route_adds_a_member_by_email_so_none_tells_whether_an_email_is_registered(
    pool: PgPool,
) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    user(&pool, "bob@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let path = format!("/api/v1/companies/{id}/members");

    // Act
    let mut answers = Vec::new();
    for email in ["bob@example.ro", "nobody@example.ro"] {
        let body = json!({"email": email, "role": "viewer"});
        answers.push(
            app.api(Method::POST, &token(owner), &path, Some(&body))
                .await,
        );
    }

    // Assert
    assert_eq!(answers[0].0, 405, "{:?}", answers[0]);
    assert_eq!(
        answers[0], answers[1],
        "a registered and an unknown email answer alike"
    );
    let (_, members) = app.api(Method::GET, &token(owner), &path, None).await;
    assert_eq!(
        members["items"].as_array().map(Vec::len),
        Some(1),
        "{members}"
    );
}

#[sqlx::test(migrations = false)]
async fn owners_list_members_and_change_their_roles(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let bob = linked_user(&pool, "bob@example.ro", 778).await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    member(&pool, id, bob, "viewer").await;
    let path = |user: i64| format!("/api/v1/companies/{id}/members/{user}");

    // Act
    let (status, changed) = app
        .api(
            Method::PATCH,
            &token(owner),
            &path(bob),
            Some(&json!({"role": "accountant"})),
        )
        .await;
    let (_, list) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}/members"),
            None,
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["user_id"], bob);
    assert_eq!(changed["role"], "accountant");
    let list = &list["items"];
    assert_eq!(list[0]["user_id"], owner, "owners first: {list}");
    assert_eq!(list[0]["role"], "owner");
    assert_eq!(list[1]["email"], "bob@example.ro");
    assert_eq!(list[1]["role"], "accountant");
    let refusals = [
        (
            path(owner),
            json!({"role": "viewer"}),
            409,
            "demoting the last owner",
        ),
        (path(bob), json!({"role": "boss"}), 422, "unknown role"),
        (path(bob), json!({}), 422, "missing role"),
        (
            path(bob + 1000),
            json!({"role": "viewer"}),
            404,
            "not a member",
        ),
    ];
    for (path, body, want, why) in refusals {
        let (status, answer) = app
            .api(Method::PATCH, &token(owner), &path, Some(&body))
            .await;
        assert_eq!(status, want, "{why}: {answer}");
    }
    let (_, seen) = app
        .api(
            Method::GET,
            &token(owner),
            &format!("/api/v1/companies/{id}"),
            None,
        )
        .await;
    assert_eq!(seen["role"], "owner", "the last owner is still the owner");

    // A second owner makes the first one demotable.
    let (promoted, _) = app
        .api(
            Method::PATCH,
            &token(owner),
            &path(bob),
            Some(&json!({"role": "owner"})),
        )
        .await;
    let (demoted, _) = app
        .api(
            Method::PATCH,
            &token(bob),
            &path(owner),
            Some(&json!({"role": "viewer"})),
        )
        .await;
    assert_eq!((promoted, demoted), (200, 200));
}

#[sqlx::test(migrations = false)]
async fn the_last_owner_cannot_be_removed_but_others_can(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let viewer = linked_user(&pool, "viewer@example.ro", 777).await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    member(&pool, id, viewer, "viewer").await;
    activate(&pool, 777, id).await;
    let member_path = |user: i64| format!("/api/v1/companies/{id}/members/{user}");

    // Act
    let (last_owner, body) = app
        .api(Method::DELETE, &token(owner), &member_path(owner), None)
        .await;
    let (removed, _) = app
        .api(Method::DELETE, &token(owner), &member_path(viewer), None)
        .await;
    let (again, _) = app
        .api(Method::DELETE, &token(owner), &member_path(viewer), None)
        .await;
    let (after, _) = app
        .api(
            Method::GET,
            &token(viewer),
            &format!("/api/v1/companies/{id}"),
            None,
        )
        .await;

    // Assert
    assert_eq!(last_owner, 409, "{body}");
    assert_eq!(removed, 204);
    assert_eq!(again, 404, "no longer a member");
    assert_eq!(after, 404, "the removed member sees nothing");
    assert_eq!(
        active_company(&pool, 777).await,
        None,
        "the removed member's Telegram account no longer has it active"
    );

    // A second owner makes the first removable.
    member(&pool, id, viewer, "owner").await;
    let (status, _) = app
        .api(Method::DELETE, &token(viewer), &member_path(owner), None)
        .await;
    assert_eq!(status, 204);
}

#[sqlx::test(migrations = false)]
async fn unknown_paths_and_methods_under_companies_are_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let cases = [
        (
            Method::GET,
            format!("/api/v1/companies/{id}/nothing"),
            404,
            "unknown tail",
        ),
        (
            Method::GET,
            "/api/v1/companies/abc".to_owned(),
            404,
            "not an id",
        ),
        (
            Method::DELETE,
            format!("/api/v1/companies/{id}"),
            405,
            "method",
        ),
        (
            Method::PATCH,
            "/api/v1/companies".to_owned(),
            405,
            "method on the collection",
        ),
    ];
    for (method, path, want, why) in cases {
        let (status, body) = app.api(method, &token(owner), &path, None).await;
        assert_eq!(status, want, "{why}: {body}");
    }
}

/// The web's `/companies` pages a person's companies by name as the API
/// does (the same service function): one in more companies than a page sees
/// the rest through a plain link (no JavaScript needed), and the last page
/// offers no more. A link tampered with, or naming a company the person has
/// left since, is a 400 page saying what to do, not an error.
#[sqlx::test(migrations = false)]
async fn the_web_companies_page_pages_by_name_through_a_plain_link(pool: PgPool) {
    // Arrange: a page and five more, named in order.
    let app = spawn_app(pool.clone()).await;
    let browser = Browser::new(&app);
    assert_eq!(browser.register("ana@example.ro").await.status, 303);
    let ana: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ana@example.ro'")
        .fetch_one(&pool)
        .await
        .expect("registered");
    let mut ids = Vec::new();
    for n in 0..PAGE_SIZE + 5 {
        ids.push(company(&pool, ana, &format!("Firma {n:03} SRL")).await);
    }
    let name = |n: usize| format!(">Firma {n:03} SRL<");
    let more = |body: &str| {
        let at = body.find("id=\"more\" href=\"")? + "id=\"more\" href=\"".len();
        Some(body[at..].split('"').next()?.replace("&amp;", "&"))
    };

    // Act
    let first = browser.get("/companies").await;
    let link = more(&first.body).expect("a link to the next page");
    let second = browser.get(&link).await;
    let tampered = browser.get("/companies?after=0x7").await;
    let page = usize::try_from(PAGE_SIZE).expect("a small page");
    sqlx::query("DELETE FROM company_members WHERE company_id = $1 AND user_id = $2")
        .bind(ids[page - 1])
        .bind(ana)
        .execute(&pool)
        .await
        .expect("left");
    let left = browser.get(&link).await;

    // Assert
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(link, format!("/companies?after={}", ids[page - 1]));
    assert!(
        (0..page).all(|n| first.body.contains(&name(n))),
        "{}",
        first.body
    );
    assert!(!first.body.contains(&name(page)));
    assert!(
        (page..page + 5).all(|n| second.body.contains(&name(n))),
        "{}",
        second.body
    );
    assert!(!second.body.contains(&name(page - 1)));
    assert_eq!(more(&second.body), None, "the last page");
    assert!(
        second.body.contains("href=\"/companies\""),
        "back to the first page"
    );
    for bad in [&tampered, &left] {
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(
            bad.body.contains("no longer valid") || bad.body.contains("nu mai e valabil"),
            "{}",
            bad.body
        );
    }
}
