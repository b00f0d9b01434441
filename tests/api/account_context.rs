//! The kept account rows every update reads (issue 18:
//! `telegram_account_context_kept`, kept by triggers in schema.sql) always
//! equal the join they copy (the view `telegram_account_context`): after
//! random sequences of writes to the four tables it reads (a seeded
//! generator: a failure names its seed and the writes), when two
//! transactions change one account at once, and after `ledgerbot migrate`
//! builds them for accounts that existed before.

use rand::Rng;
use rand::rngs::StdRng;
use sqlx::{PgConnection, PgPool};

use crate::dashboard_totals::{RandomWrite, assert_migrate_builds_once, random_transactions};
use crate::helpers::spawn_app;
use crate::people::{company, linked_user, member, user};

/// How many people the random writes choose from: person `n` is
/// `p<n>@example.ro`, and Telegram user `TELEGRAM + n` is theirs when linked.
const PEOPLE: i64 = 4;
const TELEGRAM: i64 = 9_100;

/// Every kept row and every row of the view, each as JSON text in key
/// order: the two lists must be equal.
async fn kept_and_joined(db: &mut PgConnection) -> (Vec<String>, Vec<String>) {
    let rows = |table: &'static str| {
        sqlx::AssertSqlSafe(format!(
            "SELECT row_to_json(a)::text FROM {table} a ORDER BY telegram_user_id"
        ))
    };
    let kept = sqlx::query_scalar(rows("telegram_account_context_kept"))
        .fetch_all(&mut *db)
        .await
        .expect("kept rows");
    let joined = sqlx::query_scalar(rows("telegram_account_context"))
        .fetch_all(&mut *db)
        .await
        .expect("joined rows");
    (kept, joined)
}

/// Fails unless the kept rows are the join's, row for row.
pub async fn assert_contexts_kept(pool: &PgPool) {
    let mut db = pool.acquire().await.expect("connection");
    let (kept, joined) = kept_and_joined(&mut db).await;
    assert_eq!(kept, joined, "kept account rows = the join");
}

/// A person by number, as SQL the statements embed.
const PERSON: &str = "(SELECT id FROM users WHERE email = 'p' || $1 || '@example.ro')";

/// One random write to a table the kept rows copy from, as the code and
/// people (psql) send them.
#[derive(Debug)]
pub enum Write {
    /// Joins a company, or changes the role there (an upsert).
    Join(i64, i64, &'static str),
    /// Changes the role of whoever has one in the company.
    ChangeRoles(i64, &'static str),
    /// Leaves a company.
    Leave(i64, i64),
    /// Switches the active company (None: none).
    Switch(i64, Option<i64>),
    Language(i64, Option<&'static str>),
    Block(i64),
    Unblock(i64),
    /// Renames a company, with a new CUI and currency.
    Rename(i64, String, Option<String>, &'static str),
    DeleteCompany(i64),
    Unlink(i64),
    /// Links a Telegram user to a person, as linking.rs does: moved from
    /// whoever had it, the active company kept only by the same person.
    Link(i64, i64),
}

fn role(rng: &mut StdRng) -> &'static str {
    ["owner", "accountant", "viewer"][rng.random_range(0..3)]
}

fn random_write(rng: &mut StdRng, companies: &[i64]) -> Write {
    let pick = |rng: &mut StdRng| companies[rng.random_range(0..companies.len())];
    let person = |rng: &mut StdRng| rng.random_range(0..PEOPLE);
    match rng.random_range(0..22) {
        0..=3 => Write::Join(pick(rng), person(rng), role(rng)),
        4 => Write::ChangeRoles(pick(rng), role(rng)),
        5..=6 => Write::Leave(pick(rng), person(rng)),
        7..=10 => {
            let company = rng.random_bool(0.85).then(|| pick(rng));
            Write::Switch(person(rng), company)
        }
        11..=12 => {
            let language = [None, Some("ro"), Some("en")][rng.random_range(0..3)];
            Write::Language(person(rng), language)
        }
        13 => Write::Block(person(rng)),
        14 => Write::Unblock(person(rng)),
        15..=16 => Write::Rename(
            pick(rng),
            format!("Firma {}", rng.random_range(0..100)),
            rng.random_bool(0.5)
                .then(|| rng.random_range(10_000_000..99_999_999).to_string()),
            if rng.random_bool(0.7) { "RON" } else { "EUR" },
        ),
        17 => Write::DeleteCompany(pick(rng)),
        18 => Write::Unlink(person(rng)),
        _ => Write::Link(person(rng), person(rng)),
    }
}

async fn apply(db: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
    let telegram = |person: &i64| TELEGRAM + person;
    let query = match write {
        Write::Join(company, person, role) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO company_members (company_id, user_id, role) VALUES ($2, {PERSON}, $3)
             ON CONFLICT (company_id, user_id) DO UPDATE SET role = excluded.role"
        )))
        .bind(person.to_string())
        .bind(company)
        .bind(role),
        Write::ChangeRoles(company, role) => {
            sqlx::query("UPDATE company_members SET role = $2 WHERE company_id = $1")
                .bind(company)
                .bind(role)
        }
        Write::Leave(company, person) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM company_members WHERE company_id = $2 AND user_id = {PERSON}"
        )))
        .bind(person.to_string())
        .bind(company),
        Write::Switch(person, company) => sqlx::query(
            "UPDATE telegram_accounts SET active_company_id = $2 WHERE telegram_user_id = $1",
        )
        .bind(telegram(person))
        .bind(company),
        Write::Language(person, language) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET language = $2 WHERE id = {PERSON}"
        )))
        .bind(person.to_string())
        .bind(language),
        Write::Block(person) => sqlx::query(
            "UPDATE telegram_accounts SET blocked_at = now() WHERE telegram_user_id = $1",
        )
        .bind(telegram(person)),
        // As a read does it.
        Write::Unblock(person) => {
            sqlx::query("SELECT unblock_telegram_account($1)").bind(telegram(person))
        }
        Write::Rename(company, name, cui, currency) => {
            sqlx::query("UPDATE companies SET name = $2, cui = $3, currency = $4 WHERE id = $1")
                .bind(company)
                .bind(name)
                .bind(cui)
                .bind(currency)
        }
        Write::DeleteCompany(company) => {
            sqlx::query("DELETE FROM companies WHERE id = $1").bind(company)
        }
        Write::Unlink(person) => {
            sqlx::query("DELETE FROM telegram_accounts WHERE telegram_user_id = $1")
                .bind(telegram(person))
        }
        Write::Link(who, person) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH gone AS (DELETE FROM telegram_accounts
                           WHERE user_id = {PERSON} AND telegram_user_id <> $2)
             INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id)
             VALUES ($2, {PERSON}, $2)
             ON CONFLICT (telegram_user_id) DO UPDATE
             SET user_id = EXCLUDED.user_id,
                 active_company_id = CASE WHEN telegram_accounts.user_id = EXCLUDED.user_id
                                          THEN telegram_accounts.active_company_id END"
        )))
        .bind(person.to_string())
        .bind(telegram(who)),
    };
    query.execute(db).await?;
    Ok(())
}

impl RandomWrite for Write {
    fn random(rng: &mut StdRng, companies: &[i64]) -> Self {
        random_write(rng, companies)
    }
    fn apply(&self, db: &mut PgConnection) -> impl Future<Output = Result<(), sqlx::Error>> {
        apply(db, self)
    }
    fn deleted_company(&self) -> Option<i64> {
        match self {
            Write::DeleteCompany(id) => Some(*id),
            _ => None,
        }
    }
}

/// The people, each linked, with three companies of the first's, which the
/// others join in turn.
async fn people_and_companies(pool: &PgPool, seed: u64) -> (i64, Vec<i64>) {
    let mut people = Vec::new();
    for n in 0..PEOPLE {
        let email = format!("p{n}@example.ro");
        let id = match sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await
            .expect("person")
        {
            Some(id) => id,
            None => linked_user(pool, &email, TELEGRAM + n).await,
        };
        people.push(id);
    }
    let mut companies = Vec::new();
    for i in 0..3 {
        let id = company(pool, people[0], &format!("Firma {seed}-{i}")).await;
        member(pool, id, people[1 + i % 3], "viewer").await;
        companies.push(id);
    }
    (people[0], companies)
}

#[sqlx::test(migrations = false)]
async fn kept_account_rows_equal_the_join_after_random_writes(pool: PgPool) {
    let _app = spawn_app(pool.clone()).await;
    let seeds: u64 = std::env::var("LEDGERBOT_TOTALS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    for seed in 0..seeds {
        let (owner, companies) = people_and_companies(&pool, seed).await;
        assert_contexts_kept(&pool).await;
        random_transactions::<Write>(&pool, owner, (seed, 40), companies, assert_contexts_kept)
            .await;
    }
}

/// Waits until some other connection waits for a lock.
async fn until_a_lock_wait(pool: &PgPool, why: &str) {
    let started = std::time::Instant::now();
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT FROM pg_stat_activity
                            WHERE datname = current_database() AND wait_event_type = 'Lock')",
        )
        .fetch_one(pool)
        .await
        .expect("activity");
        if waiting {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{why}: the second writer never waited"
        );
        tokio::task::yield_now().await;
    }
}

/// Two transactions change one account's row at once, each through a
/// different table; the second to reach the account waits for the first
/// and recomputes the row after it, so the row has both changes. (Computed
/// from the snapshots the statements started with, it would miss the
/// first's.)
#[sqlx::test(migrations = false)]
async fn two_writers_of_one_account_at_once_leave_its_row_current(pool: PgPool) {
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let ana = linked_user(&pool, "ana@example.ro", 4_200).await;
    let bob = user(&pool, "bob@example.ro").await;
    let first = company(&pool, bob, "Prima SRL").await;
    let second = company(&pool, bob, "A Doua SRL").await;
    member(&pool, first, ana, "viewer").await;
    member(&pool, second, ana, "viewer").await;
    crate::people::activate(&pool, 4_200, first).await;
    let role = |company: i64| {
        sqlx::query(
            "UPDATE company_members SET role = 'accountant' WHERE company_id = $1 AND user_id = $2",
        )
        .bind(company)
        .bind(ana)
    };
    let switch = |company: i64| {
        sqlx::query(
            "UPDATE telegram_accounts SET active_company_id = $1 WHERE telegram_user_id = 4200",
        )
        .bind(company)
    };
    let rename = |company: i64| {
        sqlx::query("UPDATE companies SET name = 'Redenumita SRL', currency = 'EUR' WHERE id = $1")
            .bind(company)
    };
    // (what the first transaction does, what the second does), each case
    // on the state the previous left.
    let cases = [
        (
            "a role, then a switch to its company",
            role(second),
            switch(second),
        ),
        (
            "a switch, then a role in the company left",
            switch(first),
            role(first),
        ),
        (
            "a rename, then a switch to it",
            rename(second),
            switch(second),
        ),
    ];
    for (why, one, other) in cases {
        let mut tx = pool.begin().await.expect("begin");
        one.execute(&mut *tx).await.expect("the first write");
        let pool2 = pool.clone();
        let waiting = tokio::spawn(async move {
            let mut tx = pool2.begin().await.expect("begin");
            other.execute(&mut *tx).await.expect("the second write");
            tx.commit().await.expect("commit");
        });
        until_a_lock_wait(&pool, why).await;
        tx.commit().await.expect("commit");
        waiting.await.expect("the second writer");
        let mut db = pool.acquire().await.expect("connection");
        let (kept, joined) = kept_and_joined(&mut db).await;
        assert_eq!(kept, joined, "{why}");
    }
    let row: (Option<i64>, Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT company_id, company_name, company_currency, role
         FROM telegram_account_context_kept WHERE telegram_user_id = 4200",
    )
    .fetch_one(&pool)
    .await
    .expect("the row");
    assert_eq!(
        row,
        (
            Some(second),
            Some("Redenumita SRL".into()),
            Some("EUR".into()),
            Some("accountant".into())
        )
    );
}

#[sqlx::test(migrations = false)]
async fn migrate_builds_the_rows_of_existing_accounts_once(pool: PgPool) {
    // The people the writes name, linked (the helper's own migrate then
    // finds the schema there).
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    people_and_companies(&pool, 0).await;
    assert_migrate_builds_once::<Write>(
        &pool,
        (11, 30),
        3,
        ("account_context", "telegram_account_context_kept"),
        async |pool: &PgPool| {
            let mut db = pool.acquire().await.expect("connection");
            let (kept, joined) = kept_and_joined(&mut db).await;
            assert!(!kept.is_empty(), "accounts to keep");
            assert_eq!(kept, joined, "built from the join");
        },
    )
    .await;
}
