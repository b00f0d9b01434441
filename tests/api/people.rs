//! Finance test fixtures made directly in SQL (no dependency on the accounts
//! API): people, their Telegram links, companies and members, invoices; and
//! the access token of a person.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use sqlx::PgPool;

use crate::helpers::test_config;

/// A person with an email and password-less account.
pub async fn user(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("INSERT INTO users (email) VALUES ($1) RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("user inserted")
}

/// A person whose Telegram account `telegram_id` is linked.
pub async fn linked_user(pool: &PgPool, email: &str, telegram_id: i64) -> i64 {
    let id = user(pool, email).await;
    sqlx::query(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id) VALUES ($1, $2, $1)",
    )
    .bind(telegram_id)
    .bind(id)
    .execute(pool)
    .await
    .expect("telegram account linked");
    id
}

/// An access token for `user_id`, signed with the test app's secret.
pub fn token(user_id: i64) -> String {
    ledgerbot::services::accounts::jwt::issue(&test_config("http://unused").jwt_secret, user_id)
}

/// A company in `currency` with `owner` as owner.
pub async fn company_in(pool: &PgPool, owner: i64, name: &str, currency: &str) -> i64 {
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO companies (name, currency) VALUES ($1, $2) RETURNING id",
    )
    .bind(name)
    .bind(currency)
    .fetch_one(pool)
    .await
    .expect("company inserted");
    member(pool, id, owner, "owner").await;
    id
}

/// A RON company with `owner` as owner.
pub async fn company(pool: &PgPool, owner: i64, name: &str) -> i64 {
    company_in(pool, owner, name, "RON").await
}

/// `count` companies owned by `owner`, named out of id order
/// (`Firma 037`, `Firma 074`, ...), so that a list's name order shows.
pub async fn many_companies(pool: &PgPool, owner: i64, count: i32) -> Vec<i64> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO companies (name)
         SELECT 'Firma ' || lpad((g * 37 % $1)::text, 3, '0') FROM generate_series(1, $1) g
         RETURNING id",
    )
    .bind(count)
    .fetch_all(pool)
    .await
    .expect("companies");
    sqlx::query(
        "INSERT INTO company_members (company_id, user_id, role)
         SELECT c, $2, 'owner' FROM unnest($1::int8[]) c",
    )
    .bind(&ids)
    .bind(owner)
    .execute(pool)
    .await
    .expect("memberships");
    ids
}

/// `user_id`'s companies `(id, name)` in the order the lists show them:
/// by name key, then id.
pub async fn companies_by_name(pool: &PgPool, user_id: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT c.id, c.name FROM company_members m JOIN companies c ON c.id = m.company_id
         WHERE m.user_id = $1 ORDER BY m.company_name_key, m.company_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .expect("the memberships in name order")
}

/// Makes `user_id` a member of `company_id` with `role`.
pub async fn member(pool: &PgPool, company_id: i64, user_id: i64, role: &str) {
    sqlx::query("INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(company_id)
        .bind(user_id)
        .bind(role)
        .execute(pool)
        .await
        .expect("member inserted");
}

/// Makes `company_id` the active company of Telegram user `telegram_id`.
pub async fn activate(pool: &PgPool, telegram_id: i64, company_id: i64) {
    sqlx::query("UPDATE telegram_accounts SET active_company_id = $2 WHERE telegram_user_id = $1")
        .bind(telegram_id)
        .bind(company_id)
        .execute(pool)
        .await
        .expect("active company set");
}

/// The active company of Telegram user `telegram_id`.
pub async fn active_company(pool: &PgPool, telegram_id: i64) -> Option<i64> {
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT active_company_id FROM telegram_accounts WHERE telegram_user_id = $1",
    )
    .bind(telegram_id)
    .fetch_one(pool)
    .await
    .expect("telegram account exists")
}

/// An invoice, straight into the table. Amounts in minor units; dates are
/// offsets in days from today (negative: in the past).
#[derive(Clone, Debug)]
pub struct Inv<'a> {
    pub number: &'a str,
    pub direction: &'a str,
    pub partner: &'a str,
    pub partner_cui: Option<&'a str>,
    pub issued_days_ago: i32,
    pub due_in_days: i32,
    pub total: i64,
    pub paid: i64,
    pub currency: &'a str,
}

impl Default for Inv<'_> {
    fn default() -> Self {
        Self {
            number: "F-1",
            direction: "issued",
            partner: "Client SRL",
            partner_cui: None,
            issued_days_ago: 40,
            due_in_days: 10,
            total: 100_00,
            paid: 0,
            currency: "RON",
        }
    }
}

/// Inserts `invoice` for `company_id`.
pub async fn invoice(pool: &PgPool, company_id: i64, invoice: Inv<'_>) {
    sqlx::query(
        "INSERT INTO invoices (company_id, number, direction, partner, partner_cui, issue_date,
                               due_date, total_minor, paid_minor, currency)
         VALUES ($1, $2, $3, $4, $5, (now() AT TIME ZONE 'Europe/Bucharest')::date - $6,
                 (now() AT TIME ZONE 'Europe/Bucharest')::date + $7, $8, $9, $10)",
    )
    .bind(company_id)
    .bind(invoice.number)
    .bind(invoice.direction)
    .bind(invoice.partner)
    .bind(invoice.partner_cui)
    .bind(invoice.issued_days_ago)
    .bind(invoice.due_in_days)
    .bind(invoice.total)
    .bind(invoice.paid)
    .bind(invoice.currency)
    .execute(pool)
    .await
    .expect("invoice inserted");
}

/// Cash entries of `company_id` as `(amount_minor, note)`, oldest first.
pub async fn cash_entries(pool: &PgPool, company_id: i64) -> Vec<(i64, String)> {
    sqlx::query_as::<_, (i64, String)>(
        "SELECT amount_minor, note FROM cash_entries WHERE company_id = $1 ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await
    .expect("cash entries")
}
