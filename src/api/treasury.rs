//! `PUT` and `GET /api/v1/companies/{id}/treasury-accounts`.

use http::StatusCode;
use serde_json::{Value, json};

use super::rows::{FieldError, Row, parse_batch};
use crate::app::App;
use crate::finance::Company;
use crate::finance::treasury::{self, Kind, NewAccount};
use crate::http::{ApiError, HttpResponse, Request, json, read_json};
use crate::validate::Iban;

/// The most accounts one push may carry.
pub const MAX_BATCH: usize = 1000;

/// Bulk upsert by `name`: 200 `{"upserted": n}`.
pub async fn push(app: &App, company: &Company, req: Request) -> Result<HttpResponse, ApiError> {
    let body: Value = read_json(req.into_body()).await?;
    let rows = parse_batch(
        body,
        MAX_BATCH,
        "name",
        |r: &NewAccount| r.name.clone(),
        parse_row,
    )?;
    let mut tx = app.pool.begin().await?;
    let upserted = treasury::upsert(&mut tx, company.id, &rows).await?;
    tx.commit().await?;
    Ok(json(StatusCode::OK, &json!({ "upserted": upserted })))
}

fn parse_row(row: &Row<'_>) -> Result<NewAccount, FieldError> {
    Ok(NewAccount {
        name: row.text("name", 200)?,
        kind: row.one_of("kind", Kind::parse, "\"bank\" or \"cash\"")?,
        iban: row
            .optional_text("iban")?
            .map(Iban::parse)
            .transpose()
            .map_err(|e| FieldError::new("iban", e.to_string()))?,
        currency: row.currency("currency")?,
        balance: row.amount("balance")?,
        as_of: row.optional_date("as_of")?,
    })
}

/// The company's accounts, as an array.
pub async fn list(app: &App, company: &Company) -> Result<HttpResponse, ApiError> {
    let mut db = app.pool.acquire().await?;
    let accounts = treasury::list(&mut db, company.id).await?;
    Ok(json(StatusCode::OK, &accounts))
}
