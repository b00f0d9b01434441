//! Schema upgrades: a database made by the previous release's `schema.sql`
//! (commit 31037b2, kept as tests/fixtures/schema-31037b2.sql) upgrades with
//! `ledgerbot migrate` to the current model, data intact, as often as it is
//! run; and the previous build's statements behave on the upgraded database
//! as docs/schema-upgrades.md says. Also: the earlier builds' markers of kept
//! figures built (a table per kind) move into `built_figures`, and only what
//! was not built is built.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::spawn_app;
use crate::people::token;

/// The whole data model of commit 31037b2, verbatim.
const PREVIOUS_SCHEMA: &str = include_str!("../fixtures/schema-31037b2.sql");

/// An invoice row as both models store it.
type InvoiceRow = (
    i64,
    String,
    String,
    String,
    time::Date,
    time::Date,
    i64,
    i64,
    String,
    time::OffsetDateTime,
);

/// The previous release's database with a company, invoices in both
/// directions (two received from one supplier, spelt two ways), a treasury
/// account and a cash entry, written with that release's own statements.
/// Returns the owner's and the company's ids.
async fn previous_release_with_data(pool: &PgPool) -> (i64, i64) {
    sqlx::raw_sql(PREVIOUS_SCHEMA)
        .execute(pool)
        .await
        .expect("the previous schema applies");
    sqlx::query("INSERT INTO schema_version (checksum) VALUES ('the-previous-release')")
        .execute(pool)
        .await
        .expect("its version");
    let owner: i64 =
        sqlx::query_scalar("INSERT INTO users (email) VALUES ('ana@example.ro') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("user");
    let company: i64 = sqlx::query_scalar(
        "INSERT INTO companies (name, cui) VALUES ('Exemplu SRL', '18547290') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("company");
    sqlx::query("INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(company)
        .bind(owner)
        .execute(pool)
        .await
        .expect("member");
    sqlx::query(PREVIOUS_UPSERT)
        .bind(company)
        .bind(vec!["E-1", "E-2", "F-100", "F-101"])
        .bind(vec!["issued", "issued", "received", "received"])
        .bind(vec!["Client SRL", "Client SRL", "ACME S.R.L.", "Acme SRL"])
        .bind(vec![date(2026, 1, 10); 4])
        .bind(vec![date(2026, 2, 10); 4])
        .bind(vec![1234_56_i64, 500_00, 99_99, 10_00])
        .bind(vec![0_i64, 500_00, 50_00, 0])
        .bind(vec!["RON", "RON", "RON", "EUR"])
        .execute(pool)
        .await
        .expect("the previous build's upsert on its own schema");
    sqlx::query(
        "INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ($1, 'BT', 'bank', 'RON', 100000)",
    )
    .bind(company)
    .execute(pool)
    .await
    .expect("account");
    sqlx::query(
        "INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ($1, -1250, 'RON', 'taxi', '2026-01-11')",
    )
    .bind(company)
    .execute(pool)
    .await
    .expect("cash entry");
    (owner, company)
}

fn date(year: i32, month: u8, day: u8) -> time::Date {
    let month = time::Month::try_from(month).expect("a month");
    time::Date::from_calendar_date(year, month, day).expect("a date")
}

async fn invoices(pool: &PgPool) -> Vec<InvoiceRow> {
    sqlx::query_as(
        "SELECT id, direction, number, partner, issue_date, due_date, total_minor, paid_minor,
                currency, updated_at
         FROM invoices ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("invoices")
}

async fn constraint_names(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint WHERE conrelid = 'invoices'::regclass
         UNION ALL
         SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'invoices'::regclass
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("constraints")
}

#[sqlx::test(migrations = false)]
async fn a_previous_release_database_upgrades_with_its_data_intact_and_twice_changes_nothing(
    pool: PgPool,
) {
    // Arrange
    let (_, company) = previous_release_with_data(&pool).await;
    let before = invoices(&pool).await;

    // Act
    let first = ledgerbot::infra::db::migrate(&pool).await.expect("upgrade");
    let after_first = invoices(&pool).await;
    let constraints_first = constraint_names(&pool).await;
    let second = ledgerbot::infra::db::migrate(&pool).await.expect("again");

    // Assert: the data, as it was, through both runs
    assert_eq!(first, second, "the same schema");
    assert_eq!(after_first, before, "every invoice intact, updated_at too");
    assert_eq!(
        invoices(&pool).await,
        before,
        "a second run changes nothing"
    );
    assert_eq!(constraint_names(&pool).await, constraints_first);
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT checksum FROM schema_version ORDER BY applied_at, checksum")
            .fetch_all(&pool)
            .await
            .expect("versions");
    assert_eq!(
        versions.len(),
        2,
        "the old version and the new, once: {versions:?}"
    );
    assert!(versions.contains(&first));
    let keys: Vec<(String, Option<String>, String)> =
        sqlx::query_as("SELECT number, partner_cui, partner_key FROM invoices ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("keys");
    assert_eq!(
        keys,
        [
            ("E-1".into(), None, String::new()),
            ("E-2".into(), None, String::new()),
            ("F-100".into(), None, "name:acmesrl".into()),
            ("F-101".into(), None, "name:acmesrl".into()),
        ],
        "existing rows get the supplier key of their name"
    );
    for (table, rows) in [
        ("treasury_accounts", 1),
        ("cash_entries", 1),
        ("companies", 1),
    ] {
        assert_eq!(
            crate::helpers::count_rows(&pool, table).await,
            rows,
            "{table}"
        );
    }

    // Assert: the old rules are gone, the new identity holds
    let names = constraint_names(&pool).await;
    for gone in [
        "invoices_company_id_direction_number_key",
        "invoices_total_minor_check",
        "invoices_check1",
    ] {
        assert!(
            !names.iter().any(|n| n == gone),
            "{gone} dropped: {names:?}"
        );
    }
    for new in [
        "invoices_identity",
        "invoices_paid_sign",
        "invoices_partner_cui_digits",
    ] {
        assert!(names.iter().any(|n| n == new), "{new} added: {names:?}");
    }
    let insert = |number: &'static str, partner: &'static str, total: i64, paid: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO invoices (company_id, direction, number, partner, issue_date,
                                       due_date, total_minor, paid_minor, currency)
                 VALUES ($1, 'received', $2, $3, '2026-03-01', '2026-03-31', $4, $5, 'RON')",
            )
            .bind(company)
            .bind(number)
            .bind(partner)
            .bind(total)
            .bind(paid)
            .execute(&pool)
            .await
        }
    };
    insert("F-100", "Beta Distribuție SRL", 10_00, 0)
        .await
        .expect("another supplier's F-100");
    insert("ST-1", "Beta Distribuție SRL", -10_00, 0)
        .await
        .expect("a storno invoice");
    insert("F-7", "Beta Distribuție SRL", 10_00, 15_00)
        .await
        .expect("an overpayment");
    let twice = insert("F-100", "acme srl", 1_00, 0).await;
    assert!(
        twice.is_err(),
        "the same supplier (spelt another way) cannot have F-100 twice"
    );
    // The dashboard's totals were built from the old rows, and kept since.
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

/// The previous build's invoice upsert (src/finance/invoices.rs at 31037b2).
const PREVIOUS_UPSERT: &str = r"INSERT INTO invoices AS i
       (company_id, number, direction, partner, issue_date, due_date, total_minor, paid_minor, currency)
   SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::date[], $6::date[],
                            $7::int8[], $8::int8[], $9::text[])
   ON CONFLICT (company_id, direction, number) DO UPDATE SET
       partner = EXCLUDED.partner, issue_date = EXCLUDED.issue_date,
       due_date = EXCLUDED.due_date, total_minor = EXCLUDED.total_minor,
       paid_minor = EXCLUDED.paid_minor, currency = EXCLUDED.currency, updated_at = now()
   WHERE (i.partner, i.issue_date, i.due_date, i.total_minor, i.paid_minor, i.currency)
         IS DISTINCT FROM
         (EXCLUDED.partner, EXCLUDED.issue_date, EXCLUDED.due_date,
          EXCLUDED.total_minor, EXCLUDED.paid_minor, EXCLUDED.currency)";

/// A row of [`PREVIOUS_LIST`]: number, direction, partner, issue and due
/// dates, total, paid, currency.
type PreviousListRow = (
    String,
    String,
    String,
    time::Date,
    time::Date,
    i64,
    i64,
    String,
);

/// The previous build's invoice list (src/finance/invoices.rs at 31037b2).
const PREVIOUS_LIST: &str = r"SELECT number, direction, partner, issue_date, due_date, total_minor, paid_minor, currency
   FROM invoices
   WHERE company_id = $1 AND ($2::text IS NULL OR direction = $2)
     AND ($3 = 'all' OR ($3 = 'unpaid') = (paid_minor < total_minor))
   ORDER BY CASE WHEN $3 = 'unpaid' THEN due_date END ASC, issue_date DESC, id DESC
   LIMIT $4 OFFSET $5";

#[sqlx::test(migrations = false)]
async fn the_previous_build_reads_an_upgraded_database_and_its_invoice_push_fails_as_documented(
    pool: PgPool,
) {
    // Arrange: upgraded, and the new build has written what the old model forbade
    let (owner, company) = previous_release_with_data(&pool).await;
    let app = spawn_app(pool.clone()).await; // migrates
    let t = token(owner);
    let path = format!("/api/v1/companies/{company}/invoices");
    let storno = json!([{
        "number": "ST-1", "direction": "issued", "partner": "Client SRL",
        "issue_date": "2026-03-01", "due_date": "2026-03-01",
        "total": "-100.00", "paid": "0.00", "currency": "RON"
    }]);
    let (status, body) = app.api(Method::PUT, &t, &path, Some(&storno)).await;
    assert_eq!(status, 200, "{body}");

    // Act
    let listed: Result<Vec<(String, i64)>, _> = sqlx::query_as::<_, PreviousListRow>(PREVIOUS_LIST)
        .bind(company)
        .bind(None::<String>)
        .bind("all")
        .bind(50_i64)
        .bind(0_i64)
        .fetch_all(&pool)
        .await
        .map(|rows| rows.into_iter().map(|r| (r.0, r.5)).collect());
    let pushed = sqlx::query(PREVIOUS_UPSERT)
        .bind(company)
        .bind(vec!["E-3"])
        .bind(vec!["issued"])
        .bind(vec!["Client SRL"])
        .bind(vec![date(2026, 1, 10)])
        .bind(vec![date(2026, 2, 10)])
        .bind(vec![1_00_i64])
        .bind(vec![0_i64])
        .bind(vec!["RON"])
        .execute(&pool)
        .await;

    // Assert
    let listed = listed.expect("the previous build's list reads the new table");
    assert_eq!(listed.len(), 5, "the four old invoices and the storno");
    assert!(listed.contains(&("ST-1".into(), -100_00)));
    let code = match &pushed {
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        other => panic!("the previous build's upsert must fail, not {other:?}"),
    };
    assert_eq!(
        code.as_deref(),
        Some("42P10"),
        "no constraint matches its ON CONFLICT: refused before writing anything"
    );
    let (status, page) = app.api(Method::GET, &t, &path, None).await;
    let items = page["items"].as_array().map(Vec::len);
    assert_eq!((status, items), (200, Some(5)), "{page}");
}

/// How a database of an earlier build marks one kind of kept figures as
/// built: a table `<name>_built` of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EarlierMarker {
    /// The table, with its row: built.
    Row,
    /// The table, emptied (how a rebuild was asked for): not built.
    Empty,
    /// No table: that build predates those figures.
    Absent,
}

/// The time in the earlier markers' rows.
const EARLIER_BUILT_AT: &str = "2026-01-02 03:04:05+00";

/// Each kind of kept figures: its name in `built_figures`, a statement that
/// spoils them (one invoice more on every row: what a rebuild would put
/// right) and the sum it changes.
const KEPT: [(&str, &str, &str); 2] = [
    (
        "dashboard_totals",
        "UPDATE invoice_totals SET count = count + 1",
        "SELECT sum(count)::int8 FROM invoice_totals",
    ),
    (
        "partner_totals",
        "UPDATE partner_totals SET open_invoices = open_invoices + 1",
        "SELECT sum(open_invoices)::int8 FROM partner_totals",
    ),
];

async fn scalar(pool: &PgPool, sql: &'static str) -> Option<i64> {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a sum")
}

/// `built_figures` as (name, whether it kept the earlier markers' time), for
/// the kinds that had markers of their own (the kept account rows came
/// after `built_figures`).
async fn built_figures(pool: &PgPool) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT name, built_at = $1::timestamptz FROM built_figures
         WHERE name = ANY ($2) ORDER BY name",
    )
    .bind(EARLIER_BUILT_AT)
    .bind(KEPT.map(|(name, _, _)| name).to_vec())
    .fetch_all(pool)
    .await
    .expect("built_figures")
}

/// Turns an up-to-date database back into one of an earlier build as far as
/// the markers go: no `built_figures` nor `build_once`, a `<name>_built`
/// table per kind as `markers` says, and every kept figure spoilt.
async fn with_earlier_markers(pool: &PgPool, markers: [EarlierMarker; 2]) {
    sqlx::raw_sql("DROP TABLE built_figures; DROP FUNCTION build_once(text)")
        .execute(pool)
        .await
        .expect("no built_figures");
    for ((name, spoil, _), marker) in KEPT.into_iter().zip(markers) {
        if marker != EarlierMarker::Absent {
            // The earlier builds' own statement.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE {name}_built (built_at timestamptz NOT NULL DEFAULT now())"
            )))
            .execute(pool)
            .await
            .expect("the earlier marker table");
        }
        if marker == EarlierMarker::Row {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {name}_built (built_at) VALUES ($1::timestamptz)"
            )))
            .bind(EARLIER_BUILT_AT)
            .execute(pool)
            .await
            .expect("its row");
        }
        sqlx::query(spoil).execute(pool).await.expect("spoilt");
    }
}

#[sqlx::test(migrations = false)]
async fn earlier_built_markers_move_to_built_figures_and_only_what_was_not_built_is_built(
    pool: PgPool,
) {
    use EarlierMarker::{Absent, Empty, Row};
    // Arrange: invoices of two partners in both directions, cash, an account
    ledgerbot::infra::db::migrate(&pool).await.expect("schema");
    let owner = crate::people::user(&pool, "ana@example.ro").await;
    let company = crate::people::company(&pool, owner, "Exemplu SRL").await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO invoices (company_id, direction, number, partner, issue_date, due_date,
                               total_minor, paid_minor, currency)
         VALUES ({company}, 'issued', 'E-1', 'Client SRL', current_date - 40, current_date - 10, 100000, 0, 'RON'),
                ({company}, 'issued', 'E-2', 'Client SRL', current_date - 5, current_date + 25, 50000, 10000, 'RON'),
                ({company}, 'received', 'F-1', 'Furnizor SRL', current_date - 20, current_date + 10, 25000, 0, 'EUR');
         INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date)
         VALUES ({company}, -1250, 'RON', 'taxi', current_date);
         INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor)
         VALUES ({company}, 'BT', 'bank', 'RON', 100000)"
    )))
    .execute(&pool)
    .await
    .expect("rows");
    let mut right = Vec::new();
    for (_, _, sum) in KEPT {
        right.push(scalar(&pool, sum).await);
    }
    let cases = [
        ([Row, Row], "the build before this one: both built"),
        (
            [Row, Absent],
            "a build between the dashboard's totals and the partners' figures",
        ),
        ([Empty, Empty], "markers emptied to ask for a rebuild"),
        ([Absent, Absent], "a build before both"),
    ];
    for (markers, why) in cases {
        with_earlier_markers(&pool, markers).await;
        let mut spoilt = Vec::new();
        for ((_, _, sum), right) in KEPT.into_iter().zip(&right) {
            let now = scalar(&pool, sum).await;
            assert_ne!(&now, right, "{why}: spoilt");
            spoilt.push(now);
        }

        // Act
        ledgerbot::infra::db::migrate(&pool).await.expect("upgrade");

        // Assert: a marker's row moved with its time, and those figures are
        // as they were (not built again); the others were built, and are right
        let moved: Vec<(String, bool)> = KEPT
            .into_iter()
            .zip(markers)
            .map(|((name, _, _), marker)| (name.to_owned(), marker == Row))
            .collect();
        assert_eq!(built_figures(&pool).await, moved, "{why}");
        for (((name, _, sum), marker), (spoilt, right)) in
            KEPT.into_iter().zip(markers).zip(spoilt.iter().zip(&right))
        {
            let expected = if marker == Row { spoilt } else { right };
            assert_eq!(&scalar(&pool, sum).await, expected, "{why}: {name}");
        }
        if markers[0] != Row {
            crate::dashboard_totals::assert_totals_kept(&pool).await;
        }
        if markers[1] != Row {
            crate::partner_totals::assert_partners_kept(&pool).await;
        }
        let earlier: (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT to_regclass('dashboard_totals_built')::text,
                    to_regclass('partner_totals_built')::text",
        )
        .fetch_one(&pool)
        .await
        .expect("earlier tables");
        assert_eq!(earlier, (None, None), "{why}: the earlier tables dropped");
        // Again: nothing built, nothing moved.
        let marked = || async {
            sqlx::query_scalar::<_, String>(
                "SELECT name || ' ' || built_at FROM built_figures ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .expect("built_figures")
        };
        let before = marked().await;
        sqlx::query(KEPT[0].1)
            .execute(&pool)
            .await
            .expect("spoilt again");
        ledgerbot::infra::db::migrate(&pool).await.expect("again");
        assert_eq!(marked().await, before, "{why}: again");
        assert_ne!(
            scalar(&pool, KEPT[0].2).await,
            right[0],
            "{why}: again, nothing built"
        );

        // For the next case: every figure right.
        sqlx::raw_sql("SELECT rebuild_dashboard_totals(); SELECT rebuild_partner_totals()")
            .execute(&pool)
            .await
            .expect("rebuilt");
    }
}

/// The kept account rows (`telegram_account_context_kept`) of a database
/// from before them: `ledgerbot migrate` builds one per existing Telegram
/// account, and the triggers keep it from then on.
#[sqlx::test(migrations = false)]
async fn migrate_fills_the_kept_account_rows_of_existing_accounts(pool: PgPool) {
    // Arrange: the previous release's data, its owner linked to Telegram
    let (owner, company) = previous_release_with_data(&pool).await;
    sqlx::query(
        "INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id) VALUES (4200, $1, 4200)",
    )
    .bind(owner)
    .execute(&pool)
    .await
    .expect("the previous build's link");

    // Act
    ledgerbot::infra::db::migrate(&pool).await.expect("upgrade");

    // Assert: the account's row, as the join has it; then kept
    let row = || async {
        sqlx::query_as::<_, (i64, Option<i64>, Option<String>)>(
            "SELECT user_id, company_id, role FROM telegram_account_context_kept",
        )
        .fetch_all(&pool)
        .await
        .expect("kept rows")
    };
    assert_eq!(row().await, [(owner, None, None)], "built at the upgrade");
    crate::account_context::assert_contexts_kept(&pool).await;
    crate::people::activate(&pool, 4200, company).await;
    assert_eq!(
        row().await,
        [(owner, Some(company), Some("owner".into()))],
        "kept since"
    );
    ledgerbot::infra::db::migrate(&pool).await.expect("again");
    crate::account_context::assert_contexts_kept(&pool).await;
}
