//! Demo data: a realistic Romanian company (a few hundred invoices issued and
//! received over the last months, some paid, some partly, some overdue; two
//! bank accounts in RON and EUR with valid IBANs and a cash register; a few
//! cash entries), for `ledgerbot demo-data` and the benchmark.
//!
//! [`generate`] is pure and deterministic: the same seed and day give the same
//! data (a small SplitMix64 generator, no network, no clock). [`load`] writes
//! it for one account through the same upserts the API uses, so running it
//! again the same day changes nothing; on a later day the same invoices (same
//! numbers) are re-dated relative to that day. Cash entries are added only
//! when the demo company is first created.

use anyhow::Context as _;
use sqlx::PgPool;
use time::{Date, Duration};

use crate::blocks::money::{Amount, Currency};
use crate::blocks::validate::{Cui, Iban};
use crate::services::finance::companies;
use crate::services::finance::invoices::{self, NewInvoice};
use crate::services::finance::treasury::{self, Kind, NewAccount};
use crate::services::finance::{Direction, cash};

/// The demo company's name; [`load`] reuses a company of this name the
/// account owns.
pub const COMPANY_NAME: &str = "Exemplu Distribuție SRL";

/// The demo company's fiscal code (a valid one).
pub const COMPANY_CUI: &str = "18547290";

const CUSTOMERS: &[&str] = &[
    "Dacia Distribuție SRL",
    "Carpați Logistic SRL",
    "Transilvania Construct SA",
    "Bucovina Lemn SRL",
    "Delta Pescărie SRL",
    "Mureș Tehnic SRL",
    "Banat Food SRL",
    "Someș Print SRL",
    "Argeș Auto SRL",
    "Cluj Soft SRL",
    "Brașov Turism SRL",
    "Sibiu Textile SRL",
    "Crișana Mobilă SRL",
    "Maramureș Casa SRL",
    "Alba Vin SRL",
];

const SUPPLIERS: &[&str] = &[
    "Prahova Petrol SA",
    "Olt Metal SA",
    "Dobrogea Vânt SRL",
    "Iași IT Solutions SRL",
    "Timiș Farm SRL",
    "Constanța Port Services SA",
    "Vâlcea Chim SA",
    "Bihor Electric SRL",
    "Hunedoara Oțel SA",
    "Neamț Hârtie SRL",
    "Dâmbovița Lapte SRL",
    "Enel Energie Muntenia SA",
];

const CASH_NOTES: &[(&str, bool)] = &[
    ("Cafea și apă pentru birou", false),
    ("Taxi la client", false),
    ("Rechizite", false),
    ("Parcare", false),
    ("Curier documente", false),
    ("Încasare numerar client", true),
    ("Vânzare la ghișeu", true),
];

/// A cash entry of the demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoCash {
    /// Positive: income; negative: expense.
    pub amount: Amount,
    /// What for.
    pub note: &'static str,
    /// When.
    pub date: Date,
}

/// Everything [`generate`] makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demo {
    /// Issued and received invoices.
    pub invoices: Vec<NewInvoice>,
    /// Two banks and a cash register.
    pub accounts: Vec<NewAccount>,
    /// This month's and last month's cash entries.
    pub cash: Vec<DemoCash>,
}

/// SplitMix64: tiny, good enough for demo data, and stable forever (unlike a
/// library generator whose algorithm may change between versions).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `true` with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[index]
    }

    fn days(&mut self, max: u64) -> Duration {
        Duration::days(i64::try_from(self.below(max)).unwrap_or(0))
    }
}

/// Generates the demo for `today` from `seed`: 180 issued and 140 received
/// invoices over the last six months.
pub fn generate(seed: u64, today: Date) -> Demo {
    let mut rng = Rng(seed);
    let eur = Currency::parse("EUR").expect("EUR is a currency code");
    let mut invoices = Vec::with_capacity(320);
    for (direction, count) in [(Direction::Issued, 180), (Direction::Received, 140)] {
        for n in 1..=count {
            let issue_date = today - Duration::days(180) + rng.days(180);
            let due_date = issue_date + Duration::days(15 * (1 + rng.below(4) as i64));
            let currency = if rng.chance(10) { eur } else { Currency::RON };
            let total =
                Amount::from_minor(10_000 + i64::try_from(rng.below(5_000_000)).unwrap_or(0));
            let (full, partial) = if due_date < today { (75, 12) } else { (25, 10) };
            let roll = rng.below(100);
            let paid = if roll < full {
                total
            } else if roll < full + partial {
                Amount::from_minor(
                    total.minor() * i64::try_from(10 + rng.below(80)).unwrap_or(50) / 100,
                )
            } else {
                Amount::ZERO
            };
            let (number, partner) = match direction {
                Direction::Issued => (format!("EXD-{:04}", n), *rng.pick(CUSTOMERS)),
                Direction::Received => (format!("F-{:05}", 20_000 + n * 7), *rng.pick(SUPPLIERS)),
            };
            invoices.push(NewInvoice {
                number,
                direction,
                partner: partner.to_owned(),
                partner_cui: None,
                issue_date,
                due_date,
                total,
                paid,
                currency,
            });
        }
    }
    let account = |name: &str, kind, iban: Option<&str>, currency, balance| NewAccount {
        name: name.to_owned(),
        kind,
        iban: iban.map(|bban| Iban::with_check_digits("RO", bban).expect("a valid Romanian BBAN")),
        currency,
        balance: Amount::from_minor(balance),
        as_of: Some(today),
    };
    let accounts = vec![
        account(
            "Banca Transilvania RON",
            Kind::Bank,
            Some("BTRLRONCRT0000123401"),
            Currency::RON,
            8_425_317 + i64::try_from(rng.below(1_000_000)).unwrap_or(0),
        ),
        account(
            "ING Bank EUR",
            Kind::Bank,
            Some("INGB0000999912345678"),
            eur,
            1_253_090 + i64::try_from(rng.below(100_000)).unwrap_or(0),
        ),
        account("Casierie", Kind::Cash, None, Currency::RON, 312_550),
    ];
    let month_start = today.replace_day(1).expect("every month has a first day");
    let cash = (0..10)
        .map(|i| {
            let (note, income) = *rng.pick(CASH_NOTES);
            let magnitude = Amount::from_minor(500 + i64::try_from(rng.below(60_000)).unwrap_or(0));
            // Half this month (up to today), half last month.
            let date = if i % 2 == 0 {
                month_start + rng.days(u64::from(today.day()))
            } else {
                month_start - Duration::days(1) - rng.days(27)
            };
            DemoCash {
                amount: if income { magnitude } else { -magnitude },
                note,
                date,
            }
        })
        .collect();
    Demo {
        invoices,
        accounts,
        cash,
    }
}

/// Whose demo: an account by email (made, without a password, when missing)
/// or by id (must exist).
#[derive(Clone, Debug)]
pub enum Target {
    /// `users.email`, any case.
    Email(String),
    /// `users.id`.
    UserId(i64),
}

/// What [`load`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The account.
    pub user_id: i64,
    /// The demo company.
    pub company_id: i64,
    /// Whether the company was created now (else reused).
    pub created: bool,
    /// Invoice rows inserted or changed.
    pub invoices_upserted: u64,
    /// Account rows inserted or changed.
    pub accounts_upserted: u64,
    /// Cash entries added.
    pub cash_added: usize,
}

/// Loads the demo for `target` in one transaction.
///
/// # Errors
/// The account id does not exist, or the database failed.
pub async fn load(pool: &PgPool, target: &Target, seed: u64) -> anyhow::Result<Loaded> {
    let mut tx = pool.begin().await?;
    let user_id = match target {
        Target::Email(email) => {
            let email = crate::services::accounts::email::Email::parse(email)
                .with_context(|| format!("--email {email:?} is not an email address"))?;
            sqlx::query_scalar!(
                r#"WITH made AS (INSERT INTO users (email) VALUES (normalized_email($1))
                                 ON CONFLICT (email) DO NOTHING RETURNING id)
                   SELECT id AS "id!" FROM made
                   UNION ALL SELECT id FROM users WHERE email = normalized_email($1)"#,
                email.as_str()
            )
            .fetch_one(&mut *tx)
            .await?
        }
        Target::UserId(id) => sqlx::query_scalar!("SELECT id FROM users WHERE id = $1", id)
            .fetch_optional(&mut *tx)
            .await?
            .with_context(|| format!("no account has id {id}"))?,
    };
    let existing = sqlx::query_scalar!(
        "SELECT c.id FROM companies c JOIN company_members m ON m.company_id = c.id
         WHERE m.user_id = $1 AND m.role = 'owner' AND c.name = $2 ORDER BY c.id LIMIT 1",
        user_id,
        COMPANY_NAME
    )
    .fetch_optional(&mut *tx)
    .await?;
    let today = crate::services::finance::today(&mut *tx).await?;
    let demo = generate(seed, today);
    let (company_id, created) = match existing {
        Some(id) => (id, false),
        None => {
            let cui = Cui::parse(COMPANY_CUI).expect("the demo CUI is valid");
            let company =
                companies::create(&mut tx, user_id, COMPANY_NAME, Some(&cui), Currency::RON)
                    .await?;
            (company.id, true)
        }
    };
    let invoices_upserted = invoices::upsert(&mut tx, company_id, &demo.invoices)
        .await?
        .changed();
    let accounts_upserted = treasury::upsert(&mut tx, company_id, &demo.accounts).await?;
    let mut cash_added = 0;
    if created {
        for entry in &demo.cash {
            let entry = cash::NewEntry {
                company_id,
                amount: entry.amount,
                currency: Currency::RON,
                note: entry.note,
                entry_date: entry.date,
                created_by: user_id,
                telegram_update_id: None,
            };
            cash_added += usize::from(cash::record(&mut tx, &entry).await?.is_some());
        }
    }
    tx.commit().await?;
    Ok(Loaded {
        user_id,
        company_id,
        created,
        invoices_upserted,
        accounts_upserted,
        cash_added,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn the_same_seed_and_day_give_the_same_data() {
        let day = date!(2026 - 05 - 14);
        assert_eq!(generate(7, day), generate(7, day));
        assert_ne!(generate(7, day), generate(8, day));
    }

    #[test]
    fn generated_invoices_pass_the_api_rules() {
        let today = date!(2026 - 05 - 14);
        let demo = generate(42, today);
        assert_eq!(demo.invoices.len(), 320);
        let mut keys = std::collections::HashSet::new();
        for i in &demo.invoices {
            assert!(i.due_date >= i.issue_date, "{i:?}");
            assert!(!i.paid.is_negative() && i.paid <= i.total, "{i:?}");
            assert!(keys.insert((i.direction, i.number.clone())), "unique keys");
        }
        let overdue = demo
            .invoices
            .iter()
            .filter(|i| i.paid < i.total && i.due_date < today)
            .count();
        let partial = demo
            .invoices
            .iter()
            .filter(|i| !i.paid.is_zero() && i.paid < i.total)
            .count();
        assert!(
            overdue > 10 && partial > 10,
            "overdue {overdue}, partial {partial}"
        );
        assert!(demo.invoices.iter().any(|i| i.currency.as_str() == "EUR"));
        assert!(demo.accounts.iter().filter(|a| a.iban.is_some()).count() == 2);
        assert!(
            demo.cash
                .iter()
                .all(|c| !c.amount.is_zero() && c.date <= today)
        );
    }
}
