//! `PUT .../invoices` with `Content-Type: text/csv`: files as Excel and
//! LibreOffice save them (tests/fixtures/csv/) import exactly as the same
//! rows in JSON would, and a bad cell is refused naming its row and column.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, spawn_app};
use crate::people::{company, token, user};

/// A stored invoice: number, direction, partner, CUI, issue and due date,
/// total and paid in minor units, currency.
type Stored = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    String,
);

async fn stored(pool: &PgPool, company_id: i64) -> Vec<Stored> {
    sqlx::query_as(
        "SELECT number, direction, partner, partner_cui, issue_date::text, due_date::text,
                total_minor, paid_minor, currency
         FROM invoices WHERE company_id = $1 ORDER BY direction, number, partner",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await
    .expect("invoices")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/csv/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn put_csv(app: &TestApp, token: &str, company_id: i64, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(&format!("/api/v1/companies/{company_id}/invoices")))
        .bearer_auth(token)
        .header("Content-Type", "text/csv; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("API answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

fn expected() -> Vec<Stored> {
    let row = |n: &str,
               d: &str,
               p: &str,
               cui: Option<&str>,
               issue: &str,
               due: &str,
               total,
               paid,
               cur: &str| {
        (
            n.to_owned(),
            d.to_owned(),
            p.to_owned(),
            cui.map(str::to_owned),
            issue.to_owned(),
            due.to_owned(),
            total,
            paid,
            cur.to_owned(),
        )
    };
    let client = "Client \"Alfa\"; sucursala Iași";
    vec![
        row(
            "EXD-0001",
            "issued",
            client,
            Some("18547290"),
            "2026-11-02",
            "2026-12-02",
            1190_00,
            0,
            "RON",
        ),
        row(
            "EXD-0002",
            "issued",
            "Beta Distribuție SRL",
            None,
            "2026-11-15",
            "2026-12-15",
            12345_60,
            12345_60,
            "RON",
        ),
        row(
            "ST-0001",
            "issued",
            "Beta Distribuție SRL",
            None,
            "2026-11-20",
            "2026-11-20",
            -595_00,
            0,
            "RON",
        ),
        row(
            "1",
            "received",
            "Alt Furnizor SA",
            None,
            "2026-11-06",
            "2026-12-06",
            99_99,
            0,
            "EUR",
        ),
        row(
            "1",
            "received",
            "Furnizor Ţesături SRL",
            Some("14399840"),
            "2026-11-05",
            "2026-12-05",
            2380_50,
            2500_00,
            "RON",
        ),
    ]
}

#[sqlx::test(migrations = false)]
async fn csv_files_as_excel_and_libreoffice_save_them_import_like_json(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let t = token(owner);
    for name in ["excel-ro.csv", "excel-en.csv", "libreoffice-ro.csv"] {
        // Arrange
        let id = company(&pool, owner, name).await;

        // Act
        let (status, answer) = put_csv(&app, &t, id, fixture(name)).await;
        let (_, again) = put_csv(&app, &t, id, fixture(name)).await;

        // Assert
        assert_eq!(
            (status, answer),
            (
                200,
                json!({"upserted": 5, "inserted": 5, "updated": 0, "unchanged": 0})
            ),
            "{name}"
        );
        assert_eq!(
            again["unchanged"], 5,
            "{name}: the same file again changes nothing"
        );
        let mut rows = stored(&pool, id).await;
        rows.sort();
        let mut want = expected();
        want.sort();
        assert_eq!(rows, want, "{name}");
    }
    crate::dashboard_totals::assert_totals_kept(&pool).await;
}

#[sqlx::test(migrations = false)]
async fn a_bad_csv_file_is_refused_naming_row_and_column_and_nothing_is_kept(pool: PgPool) {
    // Arrange
    let app = spawn_app(pool.clone()).await;
    let owner = user(&pool, "owner@example.ro").await;
    let id = company(&pool, owner, "Exemplu SRL").await;
    let t = token(owner);
    let header = "number;direction;partner;issue_date;due_date;total;paid;currency\r\n";
    let line = |rest: &str| format!("{header}{rest}\r\n").into_bytes();
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            fixture("excel-ro-bad-total.csv"),
            "row 4, column total (G): ambiguous amount \"1,234\"",
            "1,234 could be either",
        ),
        (
            fixture("excel-ro-windows-1250.csv"),
            "line 2: the file is not UTF-8 text",
            "Excel's older CSV",
        ),
        (
            line("F-1;issued;X;2026-11-02;2026-12-02;1,00;0;RON;extra"),
            "row 2: has 9 cells, the header has 8",
            "a cell too many",
        ),
        (
            line("F-1;sent;X;2026-11-02;2026-12-02;1,00;0;RON"),
            "row 2, column direction (B): must be \"issued\" or \"received\"",
            "a bad word",
        ),
        (
            line("F-1;issued;X;11/02/2026;2026-12-02;1,00;0;RON"),
            "row 2, column issue_date (D): must be a date written YYYY-MM-DD or DD.MM.YYYY",
            "month/day/year",
        ),
        (
            format!("{header}F-1;issued;X;2026-11-02;2026-12-02;1,00;0;RON\r\nF-1;issued;Y;2026-11-02;2026-12-02;2,00;0;RON\r\n").into_bytes(),
            "row 3, column number (A): repeats row 2",
            "the same number twice",
        ),
        (
            b"number;direction;partner;total_ron\r\n".to_vec(),
            "row 1, column D: \"total_ron\" is not a field",
            "an unknown column",
        ),
        (
            line("F-1;issued;X;2026-11-02;2026-12-02;;0;RON"),
            "row 2, column total (F): is required",
            "an empty required cell",
        ),
    ];
    for (body, expected, why) in cases {
        // Act
        let (status, error) = put_csv(&app, &t, id, body).await;

        // Assert
        assert_eq!(status, 422, "{why}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(expected), "{why}: {message}");
    }
    assert!(
        stored(&pool, id).await.is_empty(),
        "no row of a refused file is kept"
    );
}
