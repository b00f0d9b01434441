//! The per-company totals the dashboard reads (issue 18: `invoice_totals`,
//! `invoice_due_buckets`, `cash_month_slots`, `treasury_totals`, kept by
//! triggers in schema.sql) always equal what the rows add up to: after
//! random sequences of writes of every kind (a seeded generator: a failure
//! names its seed and the operations), and after each real write path
//! (`assert_totals_kept`, called by the tests of those paths).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{PgConnection, PgPool};

use crate::helpers::spawn_app;
use crate::people::{company, user};

/// One figure row: section, currency, count, total, paid, outstanding,
/// overdue, overdue count.
type FigureRow = (String, String, i64, i64, i64, i64, i64, i64);

/// The dashboard's figures computed from the rows themselves, as the
/// dashboard did before it kept totals: the oracle.
const FROM_SCRATCH: &str = "
    SELECT section, currency, count, total, paid, outstanding, overdue, overdue_count
    FROM (
        SELECT 'treasury' AS section, currency, count(*) AS count,
               sum(balance_minor)::int8 AS total, 0::int8 AS paid, 0::int8 AS outstanding,
               0::int8 AS overdue, 0::int8 AS overdue_count
        FROM treasury_accounts WHERE company_id = $1
        GROUP BY currency
        UNION ALL
        SELECT direction, currency, count(*),
               sum(total_minor)::int8, sum(paid_minor)::int8,
               coalesce(sum(total_minor - paid_minor) FILTER (WHERE paid_minor < total_minor), 0)::int8,
               coalesce(sum(total_minor - paid_minor)
                        FILTER (WHERE paid_minor < total_minor AND due_date < $2), 0)::int8,
               count(*) FILTER (WHERE paid_minor < total_minor AND due_date < $2)
        FROM invoices WHERE company_id = $1
        GROUP BY direction, currency
        UNION ALL
        SELECT 'cash', currency, count(*),
               coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0)::int8,
               coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0)::int8,
               0, 0, 0
        FROM cash_entries
        WHERE company_id = $1 AND entry_date >= date_trunc('month', $2::date)::date
          AND entry_date < (date_trunc('month', $2::date) + interval '1 month')::date
        GROUP BY currency
    ) AS figures
    ORDER BY section, currency <> $3, currency";

async fn figures(
    db: &mut PgConnection,
    sql: &'static str,
    company_id: i64,
    day: i32,
) -> Vec<FigureRow> {
    let day: time::Date =
        sqlx::query_scalar("SELECT (now() AT TIME ZONE 'Europe/Bucharest')::date + $1")
            .bind(day)
            .fetch_one(&mut *db)
            .await
            .expect("day");
    sqlx::query_as(sql)
        .bind(company_id)
        .bind(day)
        .bind("RON")
        .fetch_all(&mut *db)
        .await
        .expect("figures")
}

/// The dashboard's kept totals: their name in `built_figures`, their tables.
const KEPT: (&str, &str) = (
    "dashboard_totals",
    "invoice_totals, invoice_due_buckets, cash_month_slots, treasury_totals",
);

/// Fails unless, for every company and several days (so that "overdue" and
/// "this month" are checked on both sides of due dates and month ends), the
/// kept totals give the figures the rows give, and the totals of deleted
/// companies are all zero.
pub async fn assert_totals_kept(pool: &PgPool) {
    let mut db = pool.acquire().await.expect("connection");
    let companies: Vec<i64> = sqlx::query_scalar("SELECT id FROM companies ORDER BY id")
        .fetch_all(&mut *db)
        .await
        .expect("companies");
    for company_id in companies {
        for day in [-40, -1, 0, 45] {
            let kept = figures(
                &mut db,
                // In the oracle's order: the function leaves it to the caller.
                // A row per key, slots summed, as `assemble` does.
                "SELECT section, currency, sum(count)::int8, sum(total)::int8, sum(paid)::int8,
                        sum(outstanding)::int8, sum(overdue)::int8, sum(overdue_count)::int8
                 FROM dashboard_figures($1, $2, $3)
                 GROUP BY section, currency HAVING sum(count) > 0
                 ORDER BY section, currency <> $3, currency",
                company_id,
                day,
            )
            .await;
            let counted = figures(&mut db, FROM_SCRATCH, company_id, day).await;
            assert_eq!(kept, counted, "company {company_id}, today {day:+} days");
        }
    }
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM invoice_totals
                 WHERE company_id NOT IN (SELECT id FROM companies)
                   AND (count, total, paid, outstanding, outstanding_count) <> (0, 0, 0, 0, 0))
              + (SELECT count(*) FROM invoice_due_buckets
                 WHERE company_id NOT IN (SELECT id FROM companies) AND (count, outstanding) <> (0, 0))
              + (SELECT count(*) FROM cash_month_totals
                 WHERE company_id NOT IN (SELECT id FROM companies) AND (count, income, expenses) <> (0, 0, 0))
              + (SELECT count(*) FROM treasury_totals
                 WHERE company_id NOT IN (SELECT id FROM companies) AND (count, balance) <> (0, 0))",
    )
    .fetch_one(&mut *db)
    .await
    .expect("leftovers");
    assert_eq!(leftovers, 0, "deleted companies' totals are zero");
}

/// One random write, as a statement of one of the shapes the code and
/// people (psql) send: multi-row inserts and upserts, updates of a subset,
/// deletes, a company's deletion.
/// An invoice to upsert: company, direction, number, due in days, total,
/// paid, currency.
type InvoiceRow = (i64, &'static str, String, i32, i64, i64, &'static str);

#[derive(Debug)]
pub enum Write {
    UpsertInvoices(Vec<InvoiceRow>),
    SetPaid {
        modulo: i64,
        rest: i64,
        halves: i64,
    },
    MoveInvoices {
        modulo: i64,
        rest: i64,
        days: i32,
        other_currency: bool,
    },
    DeleteInvoices {
        modulo: i64,
        rest: i64,
    },
    AddCash(Vec<(i64, i64, &'static str, i32)>),
    ChangeCash {
        modulo: i64,
        rest: i64,
        days: i32,
        negate: bool,
    },
    DeleteCash {
        modulo: i64,
        rest: i64,
    },
    UpsertTreasury(Vec<(i64, String, &'static str, i64)>),
    DeleteTreasury {
        modulo: i64,
        rest: i64,
    },
    DeleteCompany(i64),
}

fn currency(rng: &mut StdRng) -> &'static str {
    if rng.random_bool(0.7) { "RON" } else { "EUR" }
}

fn subset(rng: &mut StdRng) -> (i64, i64) {
    let modulo = rng.random_range(1..5);
    (modulo, rng.random_range(0..modulo))
}

fn random_write(rng: &mut StdRng, companies: &[i64]) -> Write {
    let pick = |rng: &mut StdRng| companies[rng.random_range(0..companies.len())];
    match rng.random_range(0..20) {
        0..=4 => {
            let mut rows = Vec::new();
            let mut keys = std::collections::HashSet::new();
            for _ in 0..rng.random_range(1..12) {
                let company_id = pick(rng);
                let direction = if rng.random_bool(0.5) {
                    "issued"
                } else {
                    "received"
                };
                let number = format!("N{}", rng.random_range(0..25));
                // One statement may not upsert a row twice.
                if !keys.insert((company_id, direction, number.clone())) {
                    continue;
                }
                // Storno invoices and credit notes sometimes; paid has the
                // total's sign: nothing, part, all, or more (overpaid).
                let total =
                    rng.random_range(1..100_000) * if rng.random_bool(0.1) { -1 } else { 1 };
                let paid = total * rng.random_range(0..4) / 2;
                rows.push((
                    company_id,
                    direction,
                    number,
                    rng.random_range(-60..60),
                    total,
                    paid,
                    currency(rng),
                ));
            }
            Write::UpsertInvoices(rows)
        }
        5..=6 => {
            let (modulo, rest) = subset(rng);
            Write::SetPaid {
                modulo,
                rest,
                halves: rng.random_range(0..4),
            }
        }
        7..=8 => {
            let (modulo, rest) = subset(rng);
            Write::MoveInvoices {
                modulo,
                rest,
                days: rng.random_range(-40..40),
                other_currency: rng.random_bool(0.3),
            }
        }
        9 => {
            let (modulo, rest) = subset(rng);
            Write::DeleteInvoices { modulo, rest }
        }
        10..=12 => Write::AddCash(
            (0..rng.random_range(1..4))
                .map(|_| {
                    let amount =
                        rng.random_range(1..50_000) * if rng.random_bool(0.6) { -1 } else { 1 };
                    (pick(rng), amount, currency(rng), rng.random_range(-70..40))
                })
                .collect(),
        ),
        13 => {
            let (modulo, rest) = subset(rng);
            Write::ChangeCash {
                modulo,
                rest,
                days: rng.random_range(-35..35),
                negate: rng.random_bool(0.5),
            }
        }
        14 => {
            let (modulo, rest) = subset(rng);
            Write::DeleteCash { modulo, rest }
        }
        15..=16 => {
            let mut names = std::collections::HashSet::new();
            Write::UpsertTreasury(
                (0..rng.random_range(1..4))
                    .map(|_| {
                        (
                            pick(rng),
                            format!("Cont {}", rng.random_range(0..5)),
                            currency(rng),
                            rng.random_range(-10_000..1_000_000),
                        )
                    })
                    .filter(|(c, name, _, _)| names.insert((*c, name.clone())))
                    .collect(),
            )
        }
        17..=18 => {
            let (modulo, rest) = subset(rng);
            Write::DeleteTreasury { modulo, rest }
        }
        _ => Write::DeleteCompany(pick(rng)),
    }
}

async fn apply(db: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
    match write {
        Write::UpsertInvoices(rows) => {
            let column = |f: fn(&InvoiceRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
            sqlx::query(
                "INSERT INTO invoices (company_id, direction, number, partner, issue_date, due_date,
                                       total_minor, paid_minor, currency)
                 SELECT c::int8, d, n, 'Partener SRL', current_date - 400, current_date + o::int,
                        t::int8, p::int8, cur
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                      AS r (c, d, n, o, t, p, cur)
                 ON CONFLICT (company_id, direction, partner_key, number) DO UPDATE
                 SET due_date = excluded.due_date, total_minor = excluded.total_minor,
                     paid_minor = excluded.paid_minor, currency = excluded.currency",
            )
            .bind(column(|r| r.0.to_string()))
            .bind(column(|r| r.1.to_owned()))
            .bind(column(|r| r.2.clone()))
            .bind(column(|r| r.3.to_string()))
            .bind(column(|r| r.4.to_string()))
            .bind(column(|r| r.5.to_string()))
            .bind(column(|r| r.6.to_owned()))
            .execute(db)
            .await?;
        }
        Write::SetPaid {
            modulo,
            rest,
            halves,
        } => {
            sqlx::query("UPDATE invoices SET paid_minor = total_minor * $3 / 2 WHERE id % $1 = $2")
                .bind(modulo)
                .bind(rest)
                .bind(halves)
                .execute(db)
                .await?;
        }
        Write::MoveInvoices {
            modulo,
            rest,
            days,
            other_currency,
        } => {
            sqlx::query(
                "UPDATE invoices SET due_date = due_date + $3,
                        currency = CASE WHEN $4 THEN (CASE currency WHEN 'RON' THEN 'EUR' ELSE 'RON' END)
                                   ELSE currency END
                 WHERE id % $1 = $2",
            )
            .bind(modulo)
            .bind(rest)
            .bind(days)
            .bind(other_currency)
            .execute(db)
            .await?;
        }
        Write::DeleteInvoices { modulo, rest } => {
            sqlx::query("DELETE FROM invoices WHERE id % $1 = $2")
                .bind(modulo)
                .bind(rest)
                .execute(db)
                .await?;
        }
        Write::AddCash(rows) => {
            for (company_id, amount, currency, day) in rows {
                sqlx::query(
                    "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
                     VALUES ($1, $2, $3, 'notă', current_date + $4)",
                )
                .bind(company_id)
                .bind(amount)
                .bind(currency)
                .bind(day)
                .execute(&mut *db)
                .await?;
            }
        }
        Write::ChangeCash {
            modulo,
            rest,
            days,
            negate,
        } => {
            sqlx::query(
                "UPDATE cash_entries SET entry_date = entry_date + $3,
                        amount_minor = CASE WHEN $4 THEN -amount_minor ELSE amount_minor END
                 WHERE id % $1 = $2",
            )
            .bind(modulo)
            .bind(rest)
            .bind(days)
            .bind(negate)
            .execute(db)
            .await?;
        }
        Write::DeleteCash { modulo, rest } => {
            sqlx::query("DELETE FROM cash_entries WHERE id % $1 = $2")
                .bind(modulo)
                .bind(rest)
                .execute(db)
                .await?;
        }
        Write::UpsertTreasury(rows) => {
            for (company_id, name, currency, balance) in rows {
                sqlx::query(
                    "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
                     VALUES ($1, $2, 'bank', $3, $4)
                     ON CONFLICT (company_id, name) DO UPDATE
                     SET currency = excluded.currency, balance_minor = excluded.balance_minor",
                )
                .bind(company_id)
                .bind(name)
                .bind(currency)
                .bind(balance)
                .execute(&mut *db)
                .await?;
            }
        }
        Write::DeleteTreasury { modulo, rest } => {
            sqlx::query("DELETE FROM treasury_accounts WHERE id % $1 = $2")
                .bind(modulo)
                .bind(rest)
                .execute(db)
                .await?;
        }
        Write::DeleteCompany(company_id) => {
            sqlx::query("DELETE FROM companies WHERE id = $1")
                .bind(company_id)
                .execute(db)
                .await?;
        }
    }
    Ok(())
}

/// Random writes of one kind of kept figures (the dashboard's totals, the
/// partners' figures), for `random_transactions`.
pub trait RandomWrite: std::fmt::Debug + Sized {
    /// One write to some of `companies`.
    fn random(rng: &mut StdRng, companies: &[i64]) -> Self;
    /// Sends it.
    fn apply(&self, db: &mut PgConnection) -> impl Future<Output = Result<(), sqlx::Error>>;
    /// The company it deletes, if any.
    fn deleted_company(&self) -> Option<i64>;
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

/// `steps` transactions of a few random writes each over `companies` of
/// `owner` (a deleted one replaced by a new one), committed or rolled back,
/// and `check` after each: a failure names the seed and the writes so far.
pub async fn random_transactions<W: RandomWrite>(
    pool: &PgPool,
    owner: i64,
    (seed, steps): (u64, usize),
    mut companies: Vec<i64>,
    check: impl AsyncFn(&PgPool),
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut history = Vec::new();
    for _ in 0..steps {
        // A few writes per transaction, committed or rolled back: the
        // totals follow the rows either way.
        let writes: Vec<W> = (0..rng.random_range(1..4))
            .map(|_| W::random(&mut rng, &companies))
            .collect();
        let commit = rng.random_bool(0.85);
        let mut tx = pool.begin().await.expect("begin");
        let mut failed = false;
        for write in &writes {
            // A write the constraints refuse (a due date before the
            // issue date, two suppliers' keys meeting) aborts its
            // transaction, as it would in the code.
            if write.apply(&mut tx).await.is_err() {
                failed = true;
                break;
            }
        }
        if commit && !failed {
            tx.commit().await.expect("commit");
        } else {
            tx.rollback().await.expect("rollback");
        }
        history.push((writes, commit && !failed));
        for id in history
            .last()
            .into_iter()
            .flat_map(|(w, _)| w)
            .filter_map(W::deleted_company)
        {
            if let Some(at) = companies.iter().position(|c| *c == id) {
                companies[at] = company(pool, owner, &format!("Firma {seed}-{id}-new")).await;
            }
        }
        let check = std::panic::AssertUnwindSafe(check(pool));
        if futures_util::FutureExt::catch_unwind(check).await.is_err() {
            panic!("seed {seed}: kept figures diverged after {history:#?}");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn kept_totals_equal_the_rows_after_random_writes(pool: PgPool) {
    let _app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "ana@example.ro").await;
    let seeds: u64 = std::env::var("LEDGERBOT_TOTALS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    for seed in 0..seeds {
        let mut companies = Vec::new();
        for i in 0..3 {
            companies.push(company(&pool, owner, &format!("Firma {seed}-{i}")).await);
        }
        random_transactions::<Write>(&pool, owner, (seed, 40), companies, assert_totals_kept).await;
    }
}

/// A database of the release before the kept figures `name`: `writes`
/// random writes of `W` (from `seed`) over `companies` new companies, then
/// those figures forgotten (their row in `built_figures`, every row of
/// `tables`, a list as TRUNCATE takes it). `ledgerbot migrate` builds them
/// from the rows, and a second run adds nothing: `check` after each.
pub async fn assert_migrate_builds_once<W: RandomWrite>(
    pool: &PgPool,
    (seed, writes): (u64, usize),
    companies: usize,
    (name, tables): (&str, &'static str),
    check: impl AsyncFn(&PgPool),
) {
    ledgerbot::infra::db::migrate(pool).await.expect("schema");
    let owner = user(pool, "ana@example.ro").await;
    let mut ids = Vec::new();
    for i in 0..companies {
        ids.push(company(pool, owner, &format!("Firma {i}")).await);
    }
    let mut db = pool.acquire().await.expect("connection");
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..writes {
        // A write the constraints refuse changes nothing, as in the code.
        let _ = W::random(&mut rng, &ids).apply(&mut db).await;
    }
    sqlx::query("DELETE FROM built_figures WHERE name = $1")
        .bind(name)
        .execute(&mut *db)
        .await
        .expect("not built");
    sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {tables}")))
        .execute(&mut *db)
        .await
        .expect("nothing kept");
    drop(db);

    ledgerbot::infra::db::migrate(pool).await.expect("migrate");
    check(pool).await;
    // Again: built once, not added twice.
    ledgerbot::infra::db::migrate(pool)
        .await
        .expect("migrate again");
    check(pool).await;
}

#[sqlx::test(migrations = false)]
async fn migrate_builds_the_totals_of_existing_rows_once(pool: PgPool) {
    assert_migrate_builds_once::<Write>(&pool, (7, 10), 1, KEPT, assert_totals_kept).await;
}

/// The build before kept a month's cash totals in one row per key, in a
/// table under the name the view has now (`cash_month_totals`). `ledgerbot
/// migrate` makes those rows slot 0 of `cash_month_slots`, totals intact,
/// and the build before's own statement (its `cash::month_totals`) reads the
/// view as it read the table, during a rolling deploy.
#[sqlx::test(migrations = false)]
async fn the_cash_totals_of_the_build_before_become_slots(pool: PgPool) {
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let owner = user(&pool, "ana@example.ro").await;
    let firm = company(&pool, owner, "Firma SRL").await;
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         SELECT $1, amount, currency, 'entry', (now() AT TIME ZONE 'Europe/Bucharest')::date - days
         FROM (VALUES (10000, 'RON', 0), (-1250, 'RON', 0), (500, 'EUR', 0), (-100, 'RON', 40))
              AS e (amount, currency, days)",
    )
    .bind(firm)
    .execute(&pool)
    .await
    .expect("entries");
    // The build before's table, as its schema.sql created it, holding the
    // same totals.
    sqlx::raw_sql(
        "DROP VIEW cash_month_totals;
         CREATE TABLE cash_month_totals (
             company_id bigint NOT NULL,
             month      date   NOT NULL,
             currency   text   NOT NULL,
             count      bigint NOT NULL,
             income     bigint NOT NULL,
             expenses   bigint NOT NULL,
             PRIMARY KEY (company_id, month, currency)
         );
         INSERT INTO cash_month_totals
             SELECT company_id, month, currency, sum(count), sum(income), sum(expenses)
             FROM cash_month_slots GROUP BY 1, 2, 3;
         DROP TABLE cash_month_slots;",
    )
    .execute(&pool)
    .await
    .expect("the build before's shape");

    for _ in 0..2 {
        ledgerbot::infra::db::migrate(&pool).await.expect("migrate");
        assert_totals_kept(&pool).await;
        let slots: Vec<i16> = sqlx::query_scalar("SELECT DISTINCT slot FROM cash_month_slots")
            .fetch_all(&pool)
            .await
            .expect("slots");
        assert_eq!(slots, [0], "the rows of before are slot 0");
    }
    // A write after the upgrade (nobody else writing: slot 0 again), and
    // the build before's statement reads the totals through the view.
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, 700, 'RON', 'e', (now() AT TIME ZONE 'Europe/Bucharest')::date)",
    )
    .bind(firm)
    .execute(&pool)
    .await
    .expect("an entry after");
    assert_totals_kept(&pool).await;
    let previous: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT currency, count, income, expenses FROM cash_month_totals
         WHERE company_id = $1 AND month = ANY($2) AND count > 0
         ORDER BY month DESC, currency",
    )
    .bind(firm)
    .bind(vec![this_month()])
    .fetch_all(&pool)
    .await
    .expect("the build before's month totals");
    assert_eq!(
        previous,
        [("EUR".into(), 1, 500, 0), ("RON".into(), 3, 10700, 1250)]
    );
}

/// The first day of today's month where the dashboard counts days.
fn this_month() -> time::Date {
    ledgerbot::blocks::local_time::bucharest_date(time::OffsetDateTime::now_utc())
        .replace_day(1)
        .expect("every month has a first day")
}

/// People of one company recording cash at the same moment (`/add` from
/// two chats) do not wait for each other's commit: the second writes its
/// own slot of the month's totals (`cash_month_slots`) while the first
/// still holds slot 0, and the dashboard sums both. With one row per month,
/// the second INSERT waited for the first transaction to end.
#[sqlx::test(migrations = false)]
async fn two_writers_of_one_companys_cash_do_not_wait_for_each_other(pool: PgPool) {
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let owner = user(&pool, "ana@example.ro").await;
    let firm = company(&pool, owner, "Firma SRL").await;
    let insert = "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
                  VALUES ($1, $2, 'RON', 'entry', (now() AT TIME ZONE 'Europe/Bucharest')::date)";
    let mut first = pool.begin().await.expect("first");
    sqlx::query(insert)
        .bind(firm)
        .bind(-1250_i64)
        .execute(&mut *first)
        .await
        .expect("the first entry");
    let mut second = pool.begin().await.expect("second");
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::query(insert)
            .bind(firm)
            .bind(4000_i64)
            .execute(&mut *second),
    )
    .await
    .expect("the second writer waited for the first's commit")
    .expect("the second entry");
    second.commit().await.expect("second commit");
    first.commit().await.expect("first commit");

    let slots: Vec<(i16, i64)> = sqlx::query_as(
        "SELECT slot, count FROM cash_month_slots WHERE company_id = $1 ORDER BY slot",
    )
    .bind(firm)
    .fetch_all(&pool)
    .await
    .expect("slots");
    assert_eq!(slots.len(), 2, "one slot each: {slots:?}");
    assert_eq!(slots[0], (0, 1), "the first writer's is slot 0");
    assert_totals_kept(&pool).await;
    // The dashboard shows one line for the month's cash in RON.
    let app = spawn_app(pool.clone()).await;
    let (status, dashboard) = app
        .api(
            reqwest::Method::GET,
            &crate::people::token(owner),
            &format!("/api/v1/companies/{firm}/dashboard"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        dashboard["cash_this_month"],
        serde_json::json!([{"currency": "RON", "income": "40.00", "expenses": "12.50", "count": 2}])
    );
    // And once nobody else is writing, slot 0 again.
    sqlx::query(insert)
        .bind(firm)
        .bind(100_i64)
        .execute(&pool)
        .await
        .expect("a third entry");
    let zero: i64 =
        sqlx::query_scalar("SELECT count FROM cash_month_slots WHERE company_id = $1 AND slot = 0")
            .bind(firm)
            .fetch_one(&pool)
            .await
            .expect("slot 0");
    assert_eq!(zero, 2);
    assert_totals_kept(&pool).await;
}
