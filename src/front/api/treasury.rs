//! `PUT` and `GET /api/v1/companies/{id}/treasury-accounts`.

use http::StatusCode;
use serde_json::json;

use super::companies::{limit_reached, member_of};
use super::rows::{Batch, FieldError, Row, writable_batch};
use crate::blocks::validate::Iban;
use crate::infra::http_io::{ApiError, HttpResponse, json};
use crate::infra::router::Req;
use crate::services::finance::quota;
use crate::services::finance::treasury::{self, Kind, NewAccount};

/// The shape of a push, JSON or CSV.
const BATCH: Batch<NewAccount, String> = Batch {
    fields: &["name", "kind", "iban", "currency", "balance", "as_of"],
    key_field: "name",
    key: account_name,
    parse: parse_row,
};

fn account_name(account: &NewAccount) -> String {
    account.name.clone()
}

/// `PUT /api/v1/companies/{id}/treasury-accounts` (owner, accountant): bulk
/// upsert by `name`, of a JSON array or a CSV file: 200 `{"upserted": n}`.
pub async fn push(mut req: Req) -> Result<HttpResponse, ApiError> {
    let quotas = req.app.config.quotas;
    let (company, rows) = writable_batch(&mut req, quotas.rows_per_batch, &BATCH).await?;
    let mut tx = req.app.pool.begin().await?;
    let upserted = treasury::upsert(&mut tx, company.id, &rows).await?;
    if let Some(over) = quota::treasury_accounts_within(&mut tx, quotas, company.id).await? {
        return Err(limit_reached(over));
    }
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

/// `GET /api/v1/companies/{id}/treasury-accounts`: the company's accounts, as an array.
pub async fn list(req: Req) -> Result<HttpResponse, ApiError> {
    let company = member_of(&req).await?;
    let mut db = req.app.pool.acquire().await?;
    let accounts = treasury::list(&mut db, company.id).await?;
    Ok(json(StatusCode::OK, &accounts))
}
