//! The route table: every method and path ledgerbot answers, its name in
//! logs and metrics (the template itself), and its handler, top to bottom.
//! 404, 405 with `Allow`, path parameters and the body limits are derived
//! from it ([`crate::infra::router`]).
//!
//! Adding a route is one line here plus its handler. [`json`] marks a
//! handler that answers JSON (its errors and its 405 are JSON too);
//! [`page`] a web page (HTML in the visitor's language, with the session,
//! the CSRF check and the security headers every page gets).

use crate::front::web::page;
use crate::front::{api, bot, devchat, ops, web};
use crate::infra::router::{Router, Table, json};

/// The table; the `/dev/` routes exist only in dev mode.
#[rustfmt::skip]
pub fn table(dev_mode: bool) -> Router {
    let mut r = Table::new();

    // Telegram's updates (src/front/bot/webhook.rs).
    r.post("/telegram/webhook", json(bot::webhook::handle));

    // Operators: liveness, readiness, Prometheus (src/front/ops.rs).
    r.get("/healthz", json(ops::health));
    r.get("/readyz", json(ops::readiness));
    r.get("/metrics", json(ops::metrics));

    // Accounts and tokens (src/front/api/auth.rs).
    r.post("/api/v1/auth/register", json(api::auth::register)).body_limit(api::auth::BODY_LIMIT);
    r.post("/api/v1/auth/login", json(api::auth::login)).body_limit(api::auth::BODY_LIMIT);
    r.post("/api/v1/auth/refresh", json(api::auth::refresh)).body_limit(api::auth::BODY_LIMIT);
    r.post("/api/v1/auth/logout", json(api::auth::logout));
    r.post("/api/v1/auth/telegram", json(api::auth::telegram)).body_limit(api::auth::BODY_LIMIT);

    // Linking a Telegram account (src/front/api/telegram_link.rs, src/front/web/qr.rs).
    r.post("/api/v1/telegram/link-code", json(api::telegram_link::create_code));
    r.post("/api/v1/telegram/confirm", json(api::telegram_link::confirm)).body_limit(api::auth::BODY_LIMIT);
    r.get("/qr/{code}.svg", json(web::qr::svg));
    r.get("/qr/{code}.png", json(web::qr::png));
    r.get("/invite/{code}/qr.png", json(api::members::qr_png));

    // Companies and their data (src/front/api/companies.rs, members.rs, invoices.rs, treasury.rs, cash.rs, partners.rs, efactura.rs).
    r.ignore_trailing_slash_under("/api/v1/companies");
    r.get("/api/v1/companies", json(api::companies::list));
    r.post("/api/v1/companies", json(api::companies::create));
    r.get("/api/v1/companies/{id}", json(api::companies::get));
    r.get("/api/v1/companies/{id}/members", json(api::members::members));
    r.patch("/api/v1/companies/{id}/members/{user_id}", json(api::members::change_role));
    r.delete("/api/v1/companies/{id}/members/{user_id}", json(api::members::remove));
    r.get("/api/v1/companies/{id}/invitations", json(api::members::invitations));
    r.post("/api/v1/companies/{id}/invitations", json(api::members::invite));
    r.delete("/api/v1/companies/{id}/invitations/{code}", json(api::members::revoke));
    r.get("/api/v1/companies/{id}/invoices", json(api::invoices::list));
    r.put("/api/v1/companies/{id}/invoices", json(api::invoices::push));
    r.delete("/api/v1/companies/{id}/invoices/{invoice_id}", json(api::invoices::delete));
    r.get("/api/v1/companies/{id}/cash-entries", json(api::cash::list));
    r.get("/api/v1/companies/{id}/partners", json(api::partners::list));
    r.get("/api/v1/companies/{id}/treasury-accounts", json(api::treasury::list));
    r.put("/api/v1/companies/{id}/treasury-accounts", json(api::treasury::push));
    r.get("/api/v1/companies/{id}/dashboard", json(api::companies::dashboard));
    r.post("/api/v1/companies/{id}/efactura", json(api::efactura::import)).body_limit(api::efactura::BODY_LIMIT);

    // The web pages (src/front/web/): HTML, sessions, CSRF.
    r.get("/", page(web::home));
    r.get("/login", page(web::account::login_page));
    r.post("/login", page(web::account::login)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/login/telegram", page(web::account::telegram_login));
    r.get("/forgot-password", page(web::password::forgot_page));
    r.post("/forgot-password", page(web::password::forgot)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/password/{token}", page(web::password::set_page));
    r.post("/password/{token}", page(web::password::set)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/register", page(web::account::register_page));
    r.post("/register", page(web::account::register)).body_limit(web::FORM_BODY_LIMIT);
    r.post("/logout", page(web::account::logout)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/telegram", page(web::telegram::page));
    r.post("/telegram", page(web::telegram::generate)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/telegram/login-widget", page(web::telegram::widget));
    r.get("/link/{code}", page(web::link::page));
    r.post("/link/{code}", page(web::link::confirm)).body_limit(web::FORM_BODY_LIMIT);
    r.get("/companies", page(web::companies::list));
    r.get("/companies/{id}/import", page(web::import::page));
    r.post("/companies/{id}/import", page(web::import::upload)).body_limit(web::import::BODY_LIMIT);
    r.get("/invite/{code}", page(web::invite::page));
    r.post("/invite/{code}", page(web::invite::accept)).body_limit(web::FORM_BODY_LIMIT);

    // The Telegram Mini App (src/front/web/app.rs): the page, then its parts with a Bearer token.
    r.get("/app", web::mini_app(web::app::shell));
    r.get("/app/home", json(web::app::home));
    r.get("/app/companies/{id}/dashboard", json(web::app::company_dashboard));
    r.get("/app/companies/{id}/invoices", json(web::app::invoice_list));
    r.get("/app/companies/{id}/partners", json(web::app::partner_list));
    r.get("/app/companies/{id}/charts", json(web::app::chart_list));
    r.get("/app/companies/{id}/cash", json(web::app::cash_list));
    r.get("/app/companies/{id}/charts/{kind}.svg", json(web::app::chart_svg));

    // Dev mode's chat with the bot (src/front/devchat.rs); never in production.
    if dev_mode {
        r.get("/dev/chat", json(devchat::page));
        r.get("/dev/outbox", json(devchat::outbox));
        r.post("/dev/bot{token}/{method}", json(devchat::fake_bot_api))
            .body_limit(devchat::SENT_FILE_LIMIT);
        r.get("/dev/sent/{id}", json(devchat::sent));
        r.post("/dev/upload", json(devchat::upload)).body_limit(devchat::FILE_LIMIT);
        r.get("/dev/file/bot{token}/documents/{file_id}", json(devchat::file));
    }

    r.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_named_by_their_template_never_by_what_they_carry() {
        let router = table(true);
        let cases = [
            ("/qr/K7TQ3MXA.svg", "/qr/{code}.svg"),
            ("/qr/K7TQ3MXA.png", "/qr/{code}.png"),
            ("/link/K7TQ3MXA", "/link/{code}"),
            ("/api/v1/auth/login", "/api/v1/auth/login"),
            (
                "/api/v1/companies/7/dashboard",
                "/api/v1/companies/{id}/dashboard",
            ),
            ("/dev/bot1:x/sendMessage", "/dev/bot{token}/{method}"),
            ("/K7TQ3MXA", "other"),
        ];
        for (path, want) in cases {
            assert_eq!(router.name(path), want, "{path}");
            assert!(!router.name(path).contains("K7TQ3MXA"), "{path}");
        }
    }

    #[test]
    fn company_paths_match_their_routes_with_or_without_a_trailing_slash() {
        let router = table(false);
        let cases = [
            ("/api/v1/companies", "/api/v1/companies"),
            ("/api/v1/companies/", "/api/v1/companies"),
            ("/api/v1/companies/7", "/api/v1/companies/{id}"),
            ("/api/v1/companies/7/", "/api/v1/companies/{id}"),
            (
                "/api/v1/companies/7/members",
                "/api/v1/companies/{id}/members",
            ),
            (
                "/api/v1/companies/7/members/9",
                "/api/v1/companies/{id}/members/{user_id}",
            ),
            (
                "/api/v1/companies/7/invoices",
                "/api/v1/companies/{id}/invoices",
            ),
            (
                "/api/v1/companies/7/treasury-accounts",
                "/api/v1/companies/{id}/treasury-accounts",
            ),
            (
                "/api/v1/companies/7/dashboard",
                "/api/v1/companies/{id}/dashboard",
            ),
            ("/api/v1/companies/7/nothing", "other"),
            (
                "/api/v1/companies/7/invoices/1",
                "/api/v1/companies/{id}/invoices/{invoice_id}",
            ),
            (
                "/api/v1/companies/7/cash-entries",
                "/api/v1/companies/{id}/cash-entries",
            ),
            (
                "/api/v1/companies/7/partners",
                "/api/v1/companies/{id}/partners",
            ),
            ("/api/v1/companies/7/invoices/1/x", "other"),
            ("/api/v1/companiesx", "other"),
            ("/healthz/", "other"),
        ];
        for (path, want) in cases {
            assert_eq!(router.name(path), want, "{path}");
        }
    }

    #[test]
    fn every_route_is_documented() {
        let docs: String = ["docs/api.md", "docs/web.md"]
            .iter()
            .map(|file| {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
                std::fs::read_to_string(path).expect("the docs are there")
            })
            .collect();
        for (method, template) in table(false).routes() {
            assert!(
                docs.contains(template),
                "{method} {template} is in no table of docs/api.md or docs/web.md"
            );
        }
    }

    #[test]
    fn dev_routes_exist_only_in_dev_mode() {
        assert_eq!(table(false).name("/dev/chat"), "other");
        assert_eq!(table(true).name("/dev/chat"), "/dev/chat");
    }
}
