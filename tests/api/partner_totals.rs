//! The partners' kept figures (issue 18 item 3: `partner_totals`,
//! `partner_due` and their company-wide sums, kept by triggers in
//! schema.sql) always give the list the invoices give: after random
//! sequences of writes (a seeded generator: a failure names its seed and the
//! writes), every page of every company, for several days and each
//! direction, equals what the previous build computed from every open
//! invoice (the oracle, below); and a page reads a bounded number of rows,
//! the first as a deep one, whatever the number of invoices and partners.

use rand::Rng;
use rand::rngs::StdRng;
use sqlx::{PgConnection, PgPool};
use time::Date;

use ledgerbot::blocks::money::Currency;
use ledgerbot::services::finance::partners::{self, Cursor, Partner, Query, Totals};
use ledgerbot::services::finance::{Company, Direction, Role};

use crate::dashboard_totals::{self, RandomWrite, assert_migrate_builds_once, random_transactions};
use crate::helpers::{company_among_invoices, spawn_app};
use crate::keyset::{Touched, touched};
use crate::people::{company, user};

/// A partner row or a totals line: the partner's CUI (empty for a name and
/// on totals lines), name and figures: count, outstanding, credit, the
/// four buckets (1–30 days to > 90).
#[derive(Debug, PartialEq, Eq)]
struct Row {
    total: bool,
    direction: String,
    currency: String,
    name: Option<String>,
    cui: Option<String>,
    figures: [i64; 7],
}

/// The oracle's columns, as it returns them.
type OracleRow = (
    bool,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The previous build's computation, from every open invoice of the
/// company, without the keyset: all partners in the list's order, then the
/// totals lines in theirs.
const FROM_SCRATCH: &str = r#"
    WITH unsettled AS (
        SELECT direction, invoice_partner_key('received', partner_cui, partner) AS key,
               currency, total_minor - paid_minor AS rest, $3::date - due_date AS late,
               partner, partner_cui, issue_date, id
        FROM invoices
        WHERE company_id = $1 AND paid_minor <> total_minor
          AND ($2::text IS NULL OR direction = $2)
    ), raw AS (
        SELECT direction, key, currency,
               (array_agg(partner ORDER BY issue_date DESC, id DESC))[1] AS name,
               max(partner_cui) AS cui, count(*) AS invoices,
               sum(rest)::int8 AS net,
               coalesce(sum(-rest) FILTER (WHERE rest < 0), 0)::int8 AS credit,
               coalesce(sum(rest) FILTER (WHERE rest > 0 AND late > 90), 0)::int8 AS d91,
               coalesce(sum(rest) FILTER (WHERE rest > 0 AND late BETWEEN 61 AND 90), 0)::int8 AS d61,
               coalesce(sum(rest) FILTER (WHERE rest > 0 AND late BETWEEN 31 AND 60), 0)::int8 AS d31,
               coalesce(sum(rest) FILTER (WHERE rest > 0 AND late BETWEEN 1 AND 30), 0)::int8 AS d1
        FROM unsettled
        GROUP BY direction, key, currency
    ), partners AS (
        SELECT direction, key, currency, name, cui, invoices,
               greatest(net, 0) AS outstanding, greatest(-net, 0) AS credit,
               greatest(least(d91 - credit, d91), 0) AS a91,
               greatest(least(d91 + d61 - credit, d61), 0) AS a61,
               greatest(least(d91 + d61 + d31 - credit, d31), 0) AS a31,
               greatest(least(d91 + d61 + d31 + d1 - credit, d1), 0) AS a1
        FROM raw
    )
    SELECT * FROM (
        SELECT false AS total, direction, key, currency, name, cui, invoices,
               outstanding, credit, a1, a31, a61, a91
        FROM partners
        UNION ALL
        SELECT true, direction, '', currency, NULL, NULL, count(*),
               sum(outstanding)::int8, sum(credit)::int8,
               sum(a1)::int8, sum(a31)::int8, sum(a61)::int8, sum(a91)::int8
        FROM partners
        GROUP BY direction, currency
    ) AS listed
    ORDER BY total, currency <> $4, currency COLLATE "C",
             CASE WHEN NOT total THEN -outstanding END, direction, key COLLATE "C""#;

fn partner_row(p: &Partner) -> Row {
    let a = p.ageing;
    Row {
        total: false,
        direction: p.direction.as_str().to_owned(),
        currency: p.currency.as_str().to_owned(),
        name: Some(p.name.clone()),
        cui: p.cui.clone(),
        figures: [
            p.open_invoices,
            p.outstanding.minor(),
            p.credit.minor(),
            a.days_0_30.minor(),
            a.days_31_60.minor(),
            a.days_61_90.minor(),
            a.days_over_90.minor(),
        ],
    }
}

fn totals_row(t: &Totals) -> Row {
    let a = t.ageing;
    Row {
        total: true,
        direction: t.direction.as_str().to_owned(),
        currency: t.currency.as_str().to_owned(),
        name: None,
        cui: None,
        figures: [
            t.partners,
            t.outstanding.minor(),
            t.credit.minor(),
            a.days_0_30.minor(),
            a.days_31_60.minor(),
            a.days_61_90.minor(),
            a.days_over_90.minor(),
        ],
    }
}

/// The company as `list_after` takes it.
async fn company_of(db: &mut PgConnection, id: i64) -> Company {
    let (name, currency): (String, String) =
        sqlx::query_as("SELECT name, currency FROM companies WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await
            .expect("company");
    Company {
        id,
        name,
        cui: None,
        currency: Currency::parse(&currency).expect("a currency"),
        role: Role::Owner,
    }
}

/// Every page of the list, walked by cursor, `page_size` at a time: the
/// partners in order, and the totals lines (the same on every page).
async fn walk(
    db: &mut PgConnection,
    company: &Company,
    direction: Option<Direction>,
    today: Date,
    page_size: i64,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut totals: Option<Vec<Row>> = None;
    let mut after = None;
    loop {
        let query = Query { direction, after };
        let page = partners::list_after(&mut *db, company, &query, page_size, today)
            .await
            .expect("a page");
        let lines: Vec<Row> = page.totals.iter().map(totals_row).collect();
        assert!(
            totals.as_ref().is_none_or(|t| *t == lines),
            "the totals are the same on every page"
        );
        totals = Some(lines);
        rows.extend(page.items.iter().map(partner_row));
        match page.next_cursor {
            Some(cursor) => after = Some(Cursor::decode(&cursor).expect("a cursor")),
            None => break,
        }
    }
    rows.extend(totals.unwrap_or_default());
    rows
}

/// The partners' kept figures: their name in `built_figures`, their tables.
const KEPT: (&str, &str) = (
    "partner_totals",
    "partner_totals, partner_due, partner_list_totals, partner_due_totals",
);

/// Fails unless, for every company, several days around the due dates and
/// each direction, the list walked page by page gives what the oracle gives,
/// and the kept rows of deleted companies are all zero.
pub async fn assert_partners_kept(pool: &PgPool) {
    let mut db = pool.acquire().await.expect("connection");
    let companies: Vec<i64> = sqlx::query_scalar("SELECT id FROM companies ORDER BY id")
        .fetch_all(&mut *db)
        .await
        .expect("companies");
    let today: Date = sqlx::query_scalar("SELECT (now() AT TIME ZONE 'Europe/Bucharest')::date")
        .fetch_one(&mut *db)
        .await
        .expect("today");
    for id in companies {
        let company = company_of(&mut db, id).await;
        for day in [-130, -61, -31, -1, 0, 45] {
            let day = today + time::Duration::days(day);
            for direction in [None, Some(Direction::Issued), Some(Direction::Received)] {
                let counted: Vec<OracleRow> = sqlx::query_as(FROM_SCRATCH)
                    .bind(id)
                    .bind(direction.map(Direction::as_str))
                    .bind(day)
                    .bind(company.currency.as_str())
                    .fetch_all(&mut *db)
                    .await
                    .expect("the oracle");
                // The key is not shown: the CUI is.
                let counted: Vec<Row> = counted
                    .into_iter()
                    .map(|r| Row {
                        total: r.0,
                        direction: r.1,
                        currency: r.3,
                        name: r.4,
                        cui: r.5,
                        figures: [r.6, r.7, r.8, r.9, r.10, r.11, r.12],
                    })
                    .collect();
                for page_size in [3] {
                    let kept = walk(&mut db, &company, direction, day, page_size).await;
                    assert_eq!(
                        kept, counted,
                        "company {id}, today {day}, {direction:?}, pages of {page_size}"
                    );
                }
            }
        }
    }
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM partner_totals WHERE company_id NOT IN (SELECT id FROM companies))
              + (SELECT count(*) FROM partner_due WHERE company_id NOT IN (SELECT id FROM companies))
              + (SELECT count(*) FROM partner_list_totals
                 WHERE company_id NOT IN (SELECT id FROM companies)
                   AND (partners, outstanding, credit) <> (0, 0, 0))
              + (SELECT count(*) FROM partner_due_totals
                 WHERE company_id NOT IN (SELECT id FROM companies) AND (debt, absorbed) <> (0, 0))",
    )
    .fetch_one(&mut *db)
    .await
    .expect("leftovers");
    assert_eq!(
        leftovers, 0,
        "deleted companies' kept rows are gone or zero"
    );
}

/// The partners' spellings: two CUIs, names that fold together
/// (`ACME S.R.L.`, `Acme SRL`) or not, diacritics.
const PARTNERS: [(&str, Option<&str>); 6] = [
    ("Acme SRL", None),
    ("ACME S.R.L.", None),
    ("Țesătoria Ștefan", None),
    ("Beta SA", Some("18547290")),
    ("BETA S.A.", Some("18547290")),
    ("Gama SRL", Some("40123458")),
];

/// An invoice to upsert: company, direction, number, partner, issued days
/// ago, due days after issue, total, paid, currency.
type InvoiceRow = (
    i64,
    &'static str,
    String,
    usize,
    i32,
    i32,
    i64,
    i64,
    &'static str,
);

/// One random write: invoices of several partners upserted, renamed (to
/// another partner or another spelling of the same), or written again
/// unchanged; or one of the dashboard test's (paid changes, due dates and
/// currencies moved, deletes, a company's deletion, cash and treasury).
#[derive(Debug)]
enum Write {
    UpsertInvoices(Vec<InvoiceRow>),
    Rename {
        modulo: i64,
        rest: i64,
        partner: usize,
    },
    Touch,
    Shared(dashboard_totals::Write),
}

fn currency(rng: &mut StdRng) -> &'static str {
    ["RON", "RON", "RON", "EUR", "EUR", "USD"][rng.random_range(0..6)]
}

impl RandomWrite for Write {
    fn random(rng: &mut StdRng, companies: &[i64]) -> Self {
        match rng.random_range(0..20) {
            0..=8 => {
                let mut rows = Vec::new();
                let mut keys = std::collections::HashSet::new();
                for _ in 0..rng.random_range(1..12) {
                    let company_id = companies[rng.random_range(0..companies.len())];
                    let direction = if rng.random_bool(0.5) {
                        "issued"
                    } else {
                        "received"
                    };
                    let partner = rng.random_range(0..PARTNERS.len());
                    let number = format!("N{}", rng.random_range(0..30));
                    // Received invoices are identified by supplier and number:
                    // one statement may upsert neither twice.
                    let supplier: String = match (direction, PARTNERS[partner]) {
                        ("issued", _) => String::new(),
                        (_, (_, Some(cui))) => cui.to_owned(),
                        (_, (name, None)) => name
                            .chars()
                            .filter(|c| c.is_alphanumeric())
                            .flat_map(char::to_lowercase)
                            .collect(),
                    };
                    if !keys.insert((company_id, direction, supplier, number.clone())) {
                        continue;
                    }
                    let total =
                        rng.random_range(1..100_000) * if rng.random_bool(0.2) { -1 } else { 1 };
                    let paid = total * rng.random_range(0..4) / 2;
                    rows.push((
                        company_id,
                        direction,
                        number,
                        partner,
                        rng.random_range(-30..250),
                        rng.random_range(0..60),
                        total,
                        paid,
                        currency(rng),
                    ));
                }
                Write::UpsertInvoices(rows)
            }
            9..=10 => {
                let modulo = rng.random_range(1..5);
                Write::Rename {
                    modulo,
                    rest: rng.random_range(0..modulo),
                    partner: rng.random_range(0..PARTNERS.len()),
                }
            }
            11 => Write::Touch,
            _ => Write::Shared(dashboard_totals::Write::random(rng, companies)),
        }
    }

    async fn apply(&self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self {
            Write::UpsertInvoices(rows) => {
                let column =
                    |f: &dyn Fn(&InvoiceRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
                sqlx::query(
                "INSERT INTO invoices (company_id, direction, number, partner, partner_cui, issue_date,
                                       due_date, total_minor, paid_minor, currency)
                 SELECT c::int8, d, n, p, nullif(cui, ''), current_date - i::int,
                        current_date - i::int + o::int, t::int8, paid::int8, cur
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::text[], $10::text[])
                      AS r (c, d, n, p, cui, i, o, t, paid, cur)
                 ON CONFLICT (company_id, direction, partner_key, number) DO UPDATE
                 SET partner = excluded.partner, partner_cui = excluded.partner_cui,
                     issue_date = excluded.issue_date, due_date = excluded.due_date,
                     total_minor = excluded.total_minor, paid_minor = excluded.paid_minor,
                     currency = excluded.currency",
            )
            .bind(column(&|r| r.0.to_string()))
            .bind(column(&|r| r.1.to_owned()))
            .bind(column(&|r| r.2.clone()))
            .bind(column(&|r| PARTNERS[r.3].0.to_owned()))
            .bind(column(&|r| PARTNERS[r.3].1.unwrap_or_default().to_owned()))
            .bind(column(&|r| r.4.to_string()))
            .bind(column(&|r| r.5.to_string()))
            .bind(column(&|r| r.6.to_string()))
            .bind(column(&|r| r.7.to_string()))
            .bind(column(&|r| r.8.to_owned()))
            .execute(db)
            .await?;
            }
            Write::Rename {
                modulo,
                rest,
                partner,
            } => {
                sqlx::query(
                "UPDATE invoices SET partner = $3, partner_cui = nullif($4, '') WHERE id % $1 = $2",
            )
            .bind(modulo)
            .bind(rest)
            .bind(PARTNERS[*partner].0)
            .bind(PARTNERS[*partner].1.unwrap_or_default())
            .execute(db)
            .await?;
            }
            // A re-push that changes nothing the figures read.
            Write::Touch => {
                sqlx::query("UPDATE invoices SET updated_at = now()")
                    .execute(db)
                    .await?;
            }
            Write::Shared(write) => write.apply(db).await?,
        }
        Ok(())
    }

    fn deleted_company(&self) -> Option<i64> {
        match self {
            Write::Shared(write) => write.deleted_company(),
            _ => None,
        }
    }
}

#[sqlx::test(migrations = false)]
async fn kept_partner_figures_equal_the_invoices_after_random_writes(pool: PgPool) {
    let _app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "ana@example.ro").await;
    let seeds: u64 = std::env::var("LEDGERBOT_TOTALS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    for seed in 0..seeds {
        let companies = vec![
            company(&pool, owner, &format!("Firma {seed}-0")).await,
            company(&pool, owner, &format!("Firma {seed}-1")).await,
        ];
        // One company keeps its books in euros: its currency lists first.
        sqlx::query("UPDATE companies SET currency = 'EUR' WHERE id = $1")
            .bind(companies[1])
            .execute(&pool)
            .await
            .expect("a company in euros");
        random_transactions::<Write>(&pool, owner, (seed, 30), companies, assert_partners_kept)
            .await;
    }
}

#[sqlx::test(migrations = false)]
async fn migrate_builds_the_partner_figures_of_existing_invoices_once(pool: PgPool) {
    assert_migrate_builds_once::<Write>(&pool, (11, 25), 2, KEPT, assert_partners_kept).await;
}

/// Partners per page in the measure below.
const PAGE: i64 = 20;

/// One page of partners and what reading it touched in each table the list
/// reads, in a transaction of its own.
async fn partner_page(
    pool: &PgPool,
    company: &Company,
    after: Option<Cursor>,
) -> (partners::Page, Vec<(&'static str, Touched)>) {
    const TABLES: [&str; 5] = [
        "invoices",
        "partner_totals",
        "partner_due",
        "partner_list_totals",
        "partner_due_totals",
    ];
    let today = Date::from_calendar_date(2025, time::Month::June, 1).expect("a date");
    let mut tx = pool.begin().await.expect("begin");
    let mut before = Vec::new();
    for table in TABLES {
        before.push(touched(&mut tx, table).await);
    }
    let query = Query {
        direction: None,
        after,
    };
    let page = partners::list_after(&mut tx, company, &query, PAGE, today)
        .await
        .expect("a page");
    let mut cost = Vec::new();
    for (table, before) in TABLES.into_iter().zip(before) {
        let after = touched(&mut tx, table).await;
        cost.push((table, after - before));
    }
    tx.rollback().await.expect("rollback");
    (page, cost)
}

#[sqlx::test(migrations = false)]
async fn a_partner_page_reads_its_own_rows_at_any_depth(pool: PgPool) {
    // Arrange: 20,000 invoices of 2,000 partners (in lei and euros, both
    // directions, credit notes among them), beside a neighbour three times
    // as large, written interleaved.
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let id = company_among_invoices(
        &pool,
        80_000,
        "$1 + (g % 4 <> 0)::int, CASE WHEN g % 40 < 4 THEN 'received' ELSE 'issued' END,
         'F-' || g, 'Client ' || (g / 4 % 2000),
         CASE WHEN g / 4 % 2000 < 500 THEN (100000 + g / 4 % 2000)::text END,
         date '2023-01-01' + (g * 7919 % 800), date '2023-01-01' + (g * 7919 % 800) + g % 60,
         CASE WHEN g % 13 = 0 THEN -5000 ELSE 10000 + g END,
         CASE WHEN g % 3 = 0 THEN (CASE WHEN g % 13 = 0 THEN -5000 ELSE 10000 + g END) ELSE 0 END,
         CASE WHEN g % 7 = 0 THEN 'EUR' ELSE 'RON' END",
    )
    .await;
    let mut db = pool.acquire().await.expect("connection");
    let company = company_of(&mut db, id).await;
    // A cursor deep in the list: after its 1,500th partner.
    let deep: String = sqlx::query_scalar(
        "SELECT currency || '.' || outstanding || '.' || left(direction, 1) || '.'
                || CASE WHEN partner_key LIKE 'name:%' THEN 'n' || substr(partner_key, 6)
                        ELSE 'c' || partner_key END
         FROM partner_totals WHERE company_id = $1
         ORDER BY currency <> 'RON', currency, outstanding DESC, direction, partner_key COLLATE \"C\"
         OFFSET 1499 LIMIT 1",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await
    .expect("a deep cursor");

    // Act
    let (first, first_cost) = partner_page(&pool, &company, None).await;
    let (deep, deep_cost) = partner_page(
        &pool,
        &company,
        Some(Cursor::decode(&deep).expect("a cursor")),
    )
    .await;

    // Assert: full pages, the same totals, and the rows each read bounded
    // by the page (the name: one index entry per partner; the partners: a
    // page and one more per lane of direction and currency; what is due in
    // the last 90 days and later: a few dates per partner), not by the
    // company's 13,000 open invoices.
    assert_eq!(first.items.len(), 20);
    assert_eq!(deep.items.len(), 20);
    assert_eq!(first.totals, deep.totals);
    assert!(first.totals.iter().map(|t| t.partners).sum::<i64>() > 2000);
    for (page, cost) in [("first", &first_cost), ("deep", &deep_cost)] {
        for (table, touched) in cost {
            let bound = match *table {
                "invoices" => PAGE + 2,
                "partner_totals" => 4 * (PAGE + 1),
                "partner_due" => 10 * PAGE,
                _ => 200,
            };
            assert!(
                touched.rows <= bound,
                "the {page} page read {} rows of {table} (at most {bound}): {cost:?}",
                touched.rows
            );
            assert!(
                *table == "partner_list_totals" || touched.seq_scans == 0,
                "the {page} page scanned {table}: {cost:?}"
            );
        }
    }
    let blocks = |cost: &[(&str, Touched)]| cost.iter().map(|(_, t)| t.blocks).sum::<i64>();
    assert!(
        blocks(&deep_cost) <= 2 * blocks(&first_cost) + 20,
        "the deep page fetched {} blocks, the first {}",
        blocks(&deep_cost),
        blocks(&first_cost)
    );
}
