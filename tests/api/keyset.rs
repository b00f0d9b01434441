//! Lists are keyset pages read from an index: the first page and one deep in
//! a large company touch about the same few rows, and walking the pages by
//! cursor returns every row once, in order (issue 18 item 3).
//!
//! Each list is run through the service function the API, the bot and the
//! Mini App call, in a transaction of its own, and PostgreSQL's own count of
//! the reads in that transaction (`pg_stat_get_xact_*`: rows read from the
//! table and through each of its indexes, sequential scans, blocks) says
//! what the plan touched. A sort of all the company's rows, or a scan that filters
//! them, would read them all; a page served from an index reads about a
//! page.

use ledgerbot::services::finance::cash;
use ledgerbot::services::finance::companies::{self, MemberCursor, Place};
use ledgerbot::services::finance::invoices::{self, Cursor, SEARCH_SCAN, Search};
use ledgerbot::services::finance::{Company, Direction, PaidFilter, Role};
use sqlx::{PgConnection, PgPool};
use time::Date;

use crate::helpers::company_among_invoices;

/// Rows of the measured company in each table.
const ROWS: i64 = 20_000;
/// Rows per page.
const PAGE: i64 = 20;

/// What a transaction's statements read from one table and its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touched {
    /// Sequential scans of the table.
    pub seq_scans: i64,
    /// Rows read by sequential scans and index entries read.
    pub rows: i64,
    /// Blocks of the table and its indexes asked for (from the cache or disk).
    pub blocks: i64,
}

/// What this backend has read from `table` and not yet reported: the
/// counts keep what earlier transactions on the connection read until the
/// backend next reports them (when idle, outside a transaction), so a
/// measure is the difference of two reads within one transaction.
pub async fn touched(db: &mut PgConnection, table: &str) -> Touched {
    let (seq_scans, rows, blocks): (i64, i64, i64) = sqlx::query_as(
        // A table's own scans and rows are its sequential ones.
        "SELECT pg_stat_get_xact_numscans(t.oid),
                pg_stat_get_xact_tuples_returned(t.oid)
                    + coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0)::int8,
                pg_stat_get_xact_blocks_fetched(t.oid)
                    + coalesce(sum(pg_stat_get_xact_blocks_fetched(i.indexrelid)), 0)::int8
         FROM pg_class t LEFT JOIN pg_index i ON i.indrelid = t.oid
         WHERE t.oid = $1::regclass
         GROUP BY t.oid",
    )
    .bind(table)
    .fetch_one(&mut *db)
    .await
    .expect("read the transaction's statistics");
    Touched {
        seq_scans,
        rows,
        blocks,
    }
}

impl std::ops::Sub for Touched {
    type Output = Self;

    fn sub(self, before: Self) -> Self {
        Self {
            seq_scans: self.seq_scans - before.seq_scans,
            rows: self.rows - before.rows,
            blocks: self.blocks - before.blocks,
        }
    }
}

/// Checks that a deep page cost about what the first one did, and a page's
/// worth: no sequential scan, rows read bounded by the page (a page and one
/// more row from each of up to `scans` index ranges merged), not by the
/// company.
fn assert_bounded(what: &str, scans: i64, first: Touched, deep: Touched) {
    for (page, cost) in [("first", first), ("deep", deep)] {
        assert_eq!(
            cost.seq_scans, 0,
            "{what}, {page} page: a sequential scan: {cost:?}"
        );
        assert!(
            cost.rows <= scans * (PAGE + 1) + 10,
            "{what}, {page} page read {} rows for {PAGE}: {cost:?}",
            cost.rows
        );
    }
    assert!(
        deep.blocks <= 2 * first.blocks + 10,
        "{what}: the deep page fetched {} blocks, the first {}",
        deep.blocks,
        first.blocks
    );
}

/// The measured company with `ROWS` invoices and cash entries, and a larger
/// neighbour with three times as many, written interleaved, as companies'
/// data arrives in a shared database (so a plan that walks the whole table
/// in id order, or filters a wider index, reads mostly the neighbour's).
/// Of the measured company's invoices, one in 100 is received (a company
/// that mostly sells), one in 3 is paid.
async fn seed(pool: &PgPool) -> i64 {
    let company = company_among_invoices(
        pool,
        4 * ROWS,
        "$1 + (g % 4 <> 0)::int, CASE WHEN g % 400 = 0 THEN 'received' ELSE 'issued' END,
         'F-' || g, 'Client ' || (g % 700), NULL,
         date '2023-01-01' + (g * 7919 % 1000), date '2023-01-01' + (g * 7919 % 1000) + g % 60,
         10000 + g, CASE WHEN g % 3 = 0 THEN 10000 + g ELSE g % 5000 END, 'RON'",
    )
    .await;
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         SELECT $1 + (g % 4 <> 0)::int, CASE WHEN g % 8 = 0 THEN g ELSE -g END, 'RON', 'nota ' || g,
                date '2023-01-01' + (g * 7919 % 1000)
         FROM generate_series(1, 4 * $2::int) g",
    )
    .bind(company)
    .bind(ROWS)
    .execute(pool)
    .await
    .expect("cash entries");
    // As autovacuum would have, long before a company has this many rows.
    sqlx::query("ANALYZE cash_entries")
        .execute(pool)
        .await
        .expect("analyze");
    company
}

/// One page of `list` and what reading it touched, in a transaction of its own.
async fn invoice_page(
    pool: &PgPool,
    company: i64,
    filter: (PaidFilter, Option<Direction>, Option<Search>),
    after: Option<Cursor>,
) -> (invoices::Slice<invoices::Invoice>, Touched) {
    let today = Date::from_calendar_date(2025, time::Month::June, 1).expect("a date");
    let mut tx = pool.begin().await.expect("begin");
    let before = touched(&mut tx, "invoices").await;
    let page = invoices::list_after(&mut tx, company, filter, after, PAGE, today)
        .await
        .expect("a page");
    let cost = touched(&mut tx, "invoices").await - before;
    tx.rollback().await.expect("rollback");
    (page, cost)
}

#[sqlx::test(migrations = false)]
async fn invoice_pages_cost_the_same_at_any_depth_and_walk_every_invoice_once(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let company = seed(&pool).await;

    for filter in [
        (PaidFilter::All, None),
        (PaidFilter::Unpaid, None),
        (PaidFilter::Paid, None),
        (PaidFilter::All, Some(Direction::Received)),
        (PaidFilter::Unpaid, Some(Direction::Received)),
        (PaidFilter::Paid, Some(Direction::Issued)),
    ] {
        let what = format!("invoices {filter:?}");
        let expected: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM invoices WHERE company_id = $1
               AND ($2 = 'all' OR ($2 = 'unpaid') = (paid_minor < total_minor))
               AND ($3::text IS NULL OR direction = $3)",
        )
        .bind(company)
        .bind(filter.0.as_str())
        .bind(filter.1.map(Direction::as_str))
        .fetch_one(&pool)
        .await
        .expect("count");

        // Act: every page, by cursor.
        let with = (filter.0, filter.1, None);
        let (first, first_cost) = invoice_page(&pool, company, with, None).await;
        let mut seen: Vec<(Date, i64)> = Vec::new();
        let mut page = first;
        let mut deep_cursor = None;
        loop {
            let key = |i: &invoices::Invoice| {
                let date = if filter.0 == PaidFilter::Unpaid {
                    i.due_date
                } else {
                    i.issue_date
                };
                (date, i.id)
            };
            seen.extend(page.items.iter().map(key));
            let Some(next) = page.next_cursor else { break };
            let cursor = Cursor::parse(&next).expect("a cursor the list wrote");
            if seen.len() as i64 >= expected - 3 * PAGE && deep_cursor.is_none() {
                deep_cursor = Some(cursor);
            }
            page = invoice_page(&pool, company, with, Some(cursor)).await.0;
        }
        let (_, deep_cost) = invoice_page(
            &pool,
            company,
            with,
            Some(deep_cursor.expect("a deep page")),
        )
        .await;

        // Assert
        assert_eq!(seen.len() as i64, expected, "{what}: every invoice");
        let mut ordered = seen.clone();
        if filter.0 == PaidFilter::Unpaid {
            ordered.sort();
        } else {
            ordered.sort_by(|a, b| b.cmp(a));
        }
        ordered.dedup();
        assert_eq!(seen, ordered, "{what}: in order, each once");
        // One range per direction, and for all invoices per paid state.
        let directions = if filter.1.is_some() { 1 } else { 2 };
        let states = if filter.0 == PaidFilter::All { 2 } else { 1 };
        assert_bounded(&what, directions * states, first_cost, deep_cost);
    }
}

#[sqlx::test(migrations = false)]
async fn searches_read_a_few_ranges_or_the_trigram_index_never_the_company(pool: PgPool) {
    // Arrange: beside the seed's 700 clients, one partner on 6 invoices
    // spread over the years, and a CUI on 3 more.
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let company = seed(&pool).await;
    sqlx::query(
        "INSERT INTO invoices (company_id, direction, number, partner, partner_cui, issue_date,
                               due_date, total_minor, paid_minor, currency)
         SELECT $1, 'issued', 'RAR-' || g, CASE WHEN g <= 6 THEN 'Rarisim Ștefan SRL' ELSE 'Alt SRL' END,
                CASE WHEN g > 6 THEN '18547290' END,
                date '2023-01-01' + g * 150, date '2023-01-01' + g * 150 + 30, 100, g % 2 * 100, 'RON'
         FROM generate_series(1, 9) g",
    )
    .bind(company)
    .execute(&pool)
    .await
    .expect("rare invoices");
    sqlx::query("ANALYZE invoices")
        .execute(&pool)
        .await
        .expect("analyze");

    for (text, why) in [
        ("client", "every invoice: the ranges fill the page"),
        ("client12", "one in 60: the trigram index"),
        ("rarisim stefan", "six invoices: the trigram index"),
        ("RO18547290", "a CUI: the trigram index's CUI"),
        (
            "f1",
            "two letters, no trigram, common: the ranges fill the page",
        ),
        (
            "ra",
            "two letters, no trigram, rare (the nine RAR- invoices): each page \
             reads the capped ranges once and may be short",
        ),
        ("zq", "two letters, no match: short pages to the end"),
    ] {
        let search = Search::parse(text).expect("a search");
        for filter in [
            (PaidFilter::All, None),
            (PaidFilter::Unpaid, None),
            (PaidFilter::Paid, Some(Direction::Issued)),
        ] {
            let what = format!("{text:?} ({why}), {filter:?}");
            let expected: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM invoices WHERE company_id = $1
                   AND ($2 = 'all' OR ($2 = 'unpaid') = (paid_minor < total_minor))
                   AND ($3::text IS NULL OR direction = $3)
                   AND (invoice_search_text(partner, number) LIKE '%' || $4 || '%'
                        OR partner_cui = $5)
                 ORDER BY CASE WHEN $2 = 'unpaid' THEN due_date END,
                          CASE WHEN $2 = 'unpaid' THEN id END,
                          issue_date DESC, id DESC",
            )
            .bind(company)
            .bind(filter.0.as_str())
            .bind(filter.1.map(Direction::as_str))
            .bind(search.as_str())
            .bind(search.cui())
            .fetch_all(&pool)
            .await
            .expect("expected");

            // Act: every page, by cursor, with what each read.
            let with = (filter.0, filter.1, Some(search));
            let mut seen = Vec::new();
            let mut costs = Vec::new();
            let mut after = None;
            loop {
                let (page, cost) = invoice_page(&pool, company, with, after).await;
                seen.extend(page.items.iter().map(|i| i.id));
                costs.push(cost);
                let Some(next) = page.next_cursor else { break };
                after = Some(Cursor::parse(&next).expect("a cursor the list wrote"));
            }

            // Assert: the matches, in order, each once; and no page read
            // more than the capped ranges (one per direction and state)
            // and the company's matches: far from its 20,000 invoices.
            assert_eq!(seen, expected, "{what}");
            let ranges = if filter.0 == PaidFilter::All && filter.1.is_none() {
                4
            } else if filter.1.is_none() {
                2
            } else {
                1
            };
            // Where what is left of a range is a few times the cap (near
            // the list's end), the planner may rather read it whole from a
            // bitmap than in order (about when the cap is over a quarter of
            // it): hence four times the cap. A search of two letters never
            // reads the trigram index, only the capped ranges, once a page.
            let bound = if search.as_str().len() >= 3 {
                4 * ranges * (SEARCH_SCAN + 1) + expected.len() as i64 + 10
            } else {
                4 * ranges * (SEARCH_SCAN + 1) + 10
            };
            for (page, cost) in costs.iter().enumerate() {
                assert_eq!(cost.seq_scans, 0, "{what}, page {page}: {cost:?}");
                assert!(
                    cost.rows <= bound,
                    "{what}, page {page} read {} rows (at most {bound}): {cost:?}",
                    cost.rows
                );
            }
        }
    }
}

/// One page of the cash entries (`GET .../cash-entries`) and what it touched.
async fn cash_page(pool: &PgPool, company: i64, after: Option<i64>) -> (Vec<cash::Entry>, Touched) {
    let mut tx = pool.begin().await.expect("begin");
    let before = touched(&mut tx, "cash_entries").await;
    let page = cash::list_after(&mut tx, company, after, PAGE + 1)
        .await
        .expect("a page");
    let cost = touched(&mut tx, "cash_entries").await - before;
    tx.rollback().await.expect("rollback");
    (page, cost)
}

#[sqlx::test(migrations = false)]
async fn cash_entry_pages_cost_the_same_at_any_depth_and_walk_every_entry_once(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let company = seed(&pool).await;

    // Act
    let (mut page, first_cost) = cash_page(&pool, company, None).await;
    let mut seen = Vec::new();
    let mut deep = None;
    loop {
        let more = page.len() as i64 > PAGE;
        page.truncate(PAGE as usize);
        seen.extend(page.iter().map(|e| e.id));
        if !more {
            break;
        }
        let after = seen.last().copied();
        if seen.len() as i64 >= ROWS - 3 * PAGE && deep.is_none() {
            deep = after;
        }
        page = cash_page(&pool, company, after).await.0;
    }
    let (_, deep_cost) = cash_page(&pool, company, deep).await;

    // Assert
    assert_eq!(seen.len() as i64, ROWS, "every entry");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order, each once");
    assert_bounded("cash entries", 1, first_cost, deep_cost);
}

#[sqlx::test(migrations = false)]
async fn the_latest_cash_entries_are_read_from_an_index_without_a_sort(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let company = seed(&pool).await;
    let mut tx = pool.begin().await.expect("begin");
    let before = touched(&mut tx, "cash_entries").await;

    // Act: what `/cash` shows.
    let latest = cash::latest(&mut tx, company, PAGE).await.expect("latest");
    let cost = touched(&mut tx, "cash_entries").await - before;

    // Assert
    let keys: Vec<(Date, i64)> = latest.iter().map(|e| (e.entry_date, e.id)).collect();
    let mut ordered = keys.clone();
    ordered.sort_by(|a, b| b.cmp(a));
    assert_eq!((keys.len() as i64, &keys), (PAGE, &ordered), "latest first");
    assert_bounded("latest cash entries", 1, cost, cost);
}

/// Members (of one company) and memberships (of one person): a person in
/// `MEMBERSHIPS` companies, a company with as many members, beside another
/// person and company as large, so that a plan reading every membership
/// would show.
const MEMBERSHIPS: i64 = 3_000;

/// The measured person and company (both hold `MEMBERSHIPS` rows of
/// `company_members`), with a neighbour of each.
async fn seed_memberships(pool: &PgPool) -> (i64, i64) {
    let users: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO users (email) SELECT 'u' || g || '@example.ro'
         FROM generate_series(1, $1::int + 2) g RETURNING id",
    )
    .bind(MEMBERSHIPS)
    .fetch_all(pool)
    .await
    .expect("users");
    let companies: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO companies (name) SELECT 'Firma ' || (g * 7919 % 100000) || ' SRL'
         FROM generate_series(1, $1::int + 2) g RETURNING id",
    )
    .bind(MEMBERSHIPS)
    .fetch_all(pool)
    .await
    .expect("companies");
    let (person, neighbour) = (users[0], users[1]);
    let (company, next_door) = (companies[0], companies[1]);
    // The person and the neighbour belong to every other company; the
    // company and its neighbour have every other user as a member, in
    // every role.
    sqlx::query(
        "INSERT INTO company_members (company_id, user_id, role)
         SELECT c, u, 'viewer' FROM unnest($1::int8[]) c, unnest($2::int8[]) u
         UNION ALL
         SELECT c, u, (ARRAY['owner', 'accountant', 'viewer'])[1 + u % 3]
         FROM unnest($3::int8[]) c, unnest($4::int8[]) u",
    )
    .bind(&companies[2..])
    .bind([person, neighbour])
    .bind([company, next_door])
    .bind(&users[2..])
    .execute(pool)
    .await
    .expect("memberships");
    sqlx::query("ANALYZE company_members, companies, users")
        .execute(pool)
        .await
        .expect("analyze");
    (person, company)
}

#[sqlx::test(migrations = false)]
async fn a_persons_companies_page_by_name_at_the_same_cost_at_any_depth(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let (person, _) = seed_memberships(&pool).await;
    let page = |place| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.expect("begin");
            let before = touched(&mut tx, "company_members").await;
            let found = companies::of_user_page(&mut tx, person, place, PAGE + 1)
                .await
                .expect("a page")
                .expect("a place the person has");
            let cost = touched(&mut tx, "company_members").await - before;
            tx.rollback().await.expect("rollback");
            (found, cost)
        }
    };

    // Act: every page forward, then one deep page backwards.
    let (mut found, first_cost) = page(Place::First).await;
    let mut seen: Vec<Company> = Vec::new();
    let mut deep = None;
    loop {
        let more = found.len() as i64 > PAGE;
        found.truncate(PAGE as usize);
        seen.extend(found.iter().cloned());
        let Some(last) = seen.last().filter(|_| more) else {
            break;
        };
        if seen.len() as i64 >= MEMBERSHIPS - 3 * PAGE && deep.is_none() {
            deep = Some(last.id);
        }
        found = page(Place::After(last.id)).await.0;
    }
    let deep = deep.expect("a deep page");
    let (_, deep_cost) = page(Place::After(deep)).await;
    let (backwards, back_cost) = page(Place::Before(deep)).await;

    // Assert
    let keys: Vec<(String, i64)> = seen.iter().map(|c| (c.name.to_lowercase(), c.id)).collect();
    let expected: Vec<(String, i64)> = sqlx::query_as(
        "SELECT lower(c.name), c.id FROM company_members m JOIN companies c ON c.id = m.company_id
         WHERE m.user_id = $1 ORDER BY lower(c.name), c.id",
    )
    .bind(person)
    .fetch_all(&pool)
    .await
    .expect("expected");
    assert_eq!(keys, expected, "every company once, by name");
    let at = seen.iter().position(|c| c.id == deep).expect("deep");
    // `PAGE + 1` asked for: the ones just before the deep company.
    let before: Vec<i64> = seen[at - (PAGE as usize + 1)..at]
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        backwards.iter().map(|c| c.id).collect::<Vec<_>>(),
        before,
        "a page backwards is the one before, in order"
    );
    // The anchor's own row is one more read.
    assert_bounded("companies of a person", 1, first_cost, deep_cost);
    assert_bounded("companies of a person, backwards", 1, first_cost, back_cost);
}

#[sqlx::test(migrations = false)]
async fn a_companys_members_page_at_the_same_cost_at_any_depth(pool: PgPool) {
    // Arrange
    ledgerbot::infra::db::migrate(&pool)
        .await
        .expect("schema applies");
    let (_, company) = seed_memberships(&pool).await;
    let page = |after| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.expect("begin");
            let before = touched(&mut tx, "company_members").await;
            let found = companies::members_page(&mut tx, company, after, PAGE + 1)
                .await
                .expect("a page");
            let cost = touched(&mut tx, "company_members").await - before;
            tx.rollback().await.expect("rollback");
            (found, cost)
        }
    };

    // Act
    let (mut found, first_cost) = page(None).await;
    let mut seen: Vec<(Role, i64)> = Vec::new();
    let mut deep = None;
    loop {
        let more = found.len() as i64 > PAGE;
        found.truncate(PAGE as usize);
        seen.extend(found.iter().map(|m| (m.role, m.user_id)));
        let Some(last) = found.last().filter(|_| more) else {
            break;
        };
        let cursor = MemberCursor::after(last);
        if seen.len() as i64 >= MEMBERSHIPS - 3 * PAGE && deep.is_none() {
            deep = Some(cursor);
        }
        found = page(Some(cursor)).await.0;
    }
    let (_, deep_cost) = page(deep).await;

    // Assert
    let rank = |role: Role| match role {
        Role::Owner => 0,
        Role::Accountant => 1,
        Role::Viewer => 2,
    };
    let mut ordered = seen.clone();
    ordered.sort_by_key(|(role, user)| (rank(*role), *user));
    ordered.dedup();
    assert_eq!(seen.len() as i64, MEMBERSHIPS, "every member");
    assert_eq!(
        seen, ordered,
        "owners, accountants, viewers; by account; once"
    );
    assert_bounded("members", 1, first_cost, deep_cost);
}
