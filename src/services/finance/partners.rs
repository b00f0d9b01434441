//! Partners: what each customer owes the company and what the company owes
//! each supplier, with the overdue part aged in buckets: the one computation
//! behind `GET .../partners`, the bot's `/parteneri` and the Mini App.
//!
//! A partner is its CUI when its invoices carry one, else its name folded as
//! [`super::invoices::partner_key`] folds a supplier's (`ACME S.R.L.` and
//! `Acme SRL` are one partner), in both directions. Figures are per
//! currency: a partner billed in lei and in euros is two rows, never a sum.
//!
//! Within one partner and currency, credits count: a credit note, a storno
//! invoice or an overpayment lowers what the partner owes, and is taken off
//! the oldest debt first (the >90 days bucket, then 61–90, and so on), as a
//! payment is allocated. So a partner's `outstanding` is the net of its
//! invoices when positive, and `credit` the net when negative. The
//! dashboard nets nothing across invoices (one customer's overpayment must
//! not hide another's debt), so its `outstanding` is the sum of this list's
//! `outstanding` plus the credits applied within each partner.
//!
//! "Overdue" and the ageing buckets count days past the due date as of
//! `today` in Romania ([`super::today`]): 1–30 days late is the `0–30`
//! bucket (an invoice due today is not overdue yet).

use serde::Serialize;
use sqlx::PgConnection;
use time::Date;

use super::{Company, Direction, stored_currency};
use crate::blocks::money::{Amount, Currency};

/// The overdue part of what is owed, by days past the due date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ageing {
    /// 1 to 30 days late.
    pub days_0_30: Amount,
    /// 31 to 60 days late.
    pub days_31_60: Amount,
    /// 61 to 90 days late.
    pub days_61_90: Amount,
    /// More than 90 days late.
    pub days_over_90: Amount,
}

impl Ageing {
    /// The four buckets together: the overdue amount.
    pub fn total(self) -> Amount {
        self.days_0_30 + self.days_31_60 + self.days_61_90 + self.days_over_90
    }
}

/// One partner, in one direction and one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Partner {
    /// Issued: a customer (what it owes the company); received: a supplier
    /// (what the company owes it).
    pub direction: Direction,
    /// The partner's name, as its newest invoice writes it.
    pub name: String,
    /// The partner's CUI (digits), when its invoices carry one.
    pub cui: Option<String>,
    /// The currency of every amount here.
    pub currency: Currency,
    /// Invoices with something left to pay or owed back.
    pub open_invoices: i64,
    /// Left to pay, credits counted: the net of total − paid when positive, else 0.
    pub outstanding: Amount,
    /// Owed back to the partner, after its debts: the net when negative, else 0.
    pub credit: Amount,
    /// The part of `outstanding` past its due date (the sum of `ageing`).
    pub overdue: Amount,
    /// `overdue` by how late it is.
    pub ageing: Ageing,
}

/// All partners of one direction and currency together: the company-wide
/// line (the sums of the [`Partner`] rows, all pages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Receivables (issued) or payables (received).
    pub direction: Direction,
    /// The currency.
    pub currency: Currency,
    /// Partners with open invoices.
    pub partners: i64,
    /// Sum of the partners' `outstanding`.
    pub outstanding: Amount,
    /// Sum of the partners' `credit`.
    pub credit: Amount,
    /// Sum of the partners' `overdue`.
    pub overdue: Amount,
    /// Sum of the partners' ageing buckets.
    pub ageing: Ageing,
}

/// A keyset page of partners, with the company-wide lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The partners of this page.
    pub items: Vec<Partner>,
    /// Rows per page.
    pub page_size: i64,
    /// Pass as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
    /// The company-wide lines of the listed direction(s), per currency, the
    /// company's currency first: the same on every page.
    pub totals: Vec<Totals>,
}

/// Where a page starts: just after the partner with this currency,
/// outstanding amount, direction and key, in the list's order. Written
/// `RON.123456.i.c18547290` ([`Cursor::encode`]: currency, outstanding in
/// minor units, `i`/`r`, the key with `c` before a CUI or `n` before a
/// folded name), so that it needs no escaping in a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    currency: Currency,
    outstanding: i64,
    direction: Direction,
    key: String,
}

impl Cursor {
    /// The cursor as text.
    pub fn encode(&self) -> String {
        let key = match self.key.strip_prefix("name:") {
            Some(name) => format!("n{name}"),
            None => format!("c{}", self.key),
        };
        let direction = match self.direction {
            Direction::Issued => 'i',
            Direction::Received => 'r',
        };
        format!("{}.{}.{direction}.{key}", self.currency, self.outstanding)
    }

    /// Reads what [`Cursor::encode`] wrote; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, '.');
        let currency = Currency::parse(parts.next()?).ok()?;
        let outstanding = parts.next()?;
        let outstanding: i64 = outstanding.parse().ok()?;
        let direction = match parts.next()? {
            "i" => Direction::Issued,
            "r" => Direction::Received,
            _ => return None,
        };
        let key = parts.next()?;
        let key = if let Some(cui) = key.strip_prefix('c') {
            let digits = cui.bytes().all(|b| b.is_ascii_digit());
            (digits && !cui.is_empty() && !cui.starts_with('0')).then(|| cui.to_owned())?
        } else {
            let name = key.strip_prefix('n')?;
            let folded = name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            folded.then(|| format!("name:{name}"))?
        };
        let cursor = Self {
            currency,
            outstanding,
            direction,
            key,
        };
        // Only the exact text this function's twin writes: `007`, `+7` or
        // `eur` would read as another cursor's position.
        (cursor.encode() == text).then_some(cursor)
    }
}

/// What to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only customers (issued) or only suppliers (received); both when `None`.
    pub direction: Option<Direction>,
    /// Start after this partner; from the first when `None`.
    pub after: Option<Cursor>,
}

/// A page of `company`'s partners with open invoices (something left to pay
/// or owed back), at most `page_size`: the company's currency first, then
/// the others by code, and within a currency the largest `outstanding`
/// first (partners only in credit last); ties by direction and key. With
/// the company-wide lines of the listed direction(s).
///
/// One statement. The figures need every open invoice of the company (a
/// partner's sum is known only after its last invoice), so each page reads
/// them once, from `invoices_company_open_partners` alone (an index of the
/// open invoices, in partner order, carrying every column used); the keyset
/// spares the sort-and-skip of an OFFSET and keeps pages stable.
///
/// # Errors
/// The database failed.
pub async fn list_after(
    db: &mut PgConnection,
    company: &Company,
    query: &Query,
    page_size: i64,
    today: Date,
) -> Result<Page, sqlx::Error> {
    let after = query.after.as_ref();
    let rows = sqlx::query!(
        r#"WITH unsettled AS (
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
               -- Credits settle the oldest debt first: each bucket keeps
               -- what is left of it once the credit has gone through the
               -- buckets older than it and then through it.
               SELECT direction, key, currency, name, cui, invoices,
                      greatest(net, 0) AS outstanding, greatest(-net, 0) AS credit,
                      greatest(least(d91 - credit, d91), 0) AS a91,
                      greatest(least(d91 + d61 - credit, d61), 0) AS a61,
                      greatest(least(d91 + d61 + d31 - credit, d31), 0) AS a31,
                      greatest(least(d91 + d61 + d31 + d1 - credit, d1), 0) AS a1
               FROM raw
           ), page AS (
               SELECT * FROM partners
               WHERE $5::text IS NULL
                  OR (currency <> $4, currency COLLATE "C", -outstanding, direction, key COLLATE "C")
                     > ($5 <> $4, $5 COLLATE "C", -$6::int8, $7, $8 COLLATE "C")
               ORDER BY currency <> $4, currency COLLATE "C", outstanding DESC, direction,
                        key COLLATE "C"
               LIMIT $9
           )
           SELECT false AS "total!", direction AS "direction!", key AS "key!",
                  currency AS "currency!", name, cui, invoices AS "count!",
                  outstanding AS "outstanding!", credit AS "credit!",
                  a1 AS "a1!", a31 AS "a31!", a61 AS "a61!", a91 AS "a91!"
           FROM page
           UNION ALL
           SELECT true, direction, '', currency, NULL, NULL, count(*),
                  sum(outstanding)::int8, sum(credit)::int8,
                  sum(a1)::int8, sum(a31)::int8, sum(a61)::int8, sum(a91)::int8
           FROM partners
           GROUP BY direction, currency"#,
        company.id,
        query.direction.map(Direction::as_str),
        today,
        company.currency.as_str(),
        after.map(|c| c.currency.as_str().to_owned()),
        after.map(|c| c.outstanding),
        after.map(|c| c.direction.as_str()),
        after.map(|c| c.key.clone()),
        // One row more than the page says whether another page follows.
        page_size + 1,
    )
    .fetch_all(&mut *db)
    .await?;

    let mut items: Vec<(String, Partner)> = Vec::new();
    let mut totals = Vec::new();
    for r in rows {
        let direction = Direction::parse(&r.direction).unwrap_or(Direction::Issued);
        let currency = stored_currency(&r.currency);
        let ageing = Ageing {
            days_0_30: Amount::from_minor(r.a1),
            days_31_60: Amount::from_minor(r.a31),
            days_61_90: Amount::from_minor(r.a61),
            days_over_90: Amount::from_minor(r.a91),
        };
        let (outstanding, credit) = (
            Amount::from_minor(r.outstanding),
            Amount::from_minor(r.credit),
        );
        if r.total {
            totals.push(Totals {
                direction,
                currency,
                partners: r.count,
                outstanding,
                credit,
                overdue: ageing.total(),
                ageing,
            });
        } else {
            let partner = Partner {
                direction,
                name: r.name.unwrap_or_default(),
                cui: r.cui,
                currency,
                open_invoices: r.count,
                outstanding,
                credit,
                overdue: ageing.total(),
                ageing,
            };
            items.push((r.key, partner));
        }
    }
    // UNION ALL keeps no order: the page's rows are put back in the list's
    // order (the SQL's, byte order being the "C" collation), the totals in
    // the same currency order, receivables first.
    let away = |c: Currency| c != company.currency;
    items.sort_by(|(a_key, a), (b_key, b)| {
        let order = |key: &str, p: &Partner| {
            (
                away(p.currency),
                p.currency.as_str().to_owned(),
                std::cmp::Reverse(p.outstanding),
                p.direction.as_str(),
                key.to_owned(),
            )
        };
        order(a_key, a).cmp(&order(b_key, b))
    });
    totals.sort_by_key(|t| {
        (
            away(t.currency),
            t.currency.as_str().to_owned(),
            t.direction.as_str(),
        )
    });
    let more = i64::try_from(items.len()).unwrap_or(i64::MAX) > page_size;
    items.truncate(usize::try_from(page_size).unwrap_or(0));
    let next_cursor = more.then(|| items.last()).flatten().map(|(key, last)| {
        Cursor {
            currency: last.currency,
            outstanding: last.outstanding.minor(),
            direction: last.direction,
            key: key.clone(),
        }
        .encode()
    });
    let items = items.into_iter().map(|(_, partner)| partner).collect();
    Ok(Page {
        items,
        page_size,
        next_cursor,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_exactly_what_they_wrote() {
        for (text, key) in [
            ("RON.123456.i.c18547290", "18547290"),
            ("EUR.0.r.nacmesrl", "name:acmesrl"),
            ("RON.5.i.n", "name:"),
        ] {
            let cursor = Cursor::decode(text).unwrap_or_else(|| panic!("{text} reads"));
            assert_eq!(cursor.key, key, "{text}");
            assert_eq!(cursor.encode(), text, "{text} written back");
        }
        for (text, why) in [
            ("", "empty"),
            ("RON.12.i", "no key"),
            ("RON.12.x.c123", "no such direction"),
            ("ron.12.i.c123", "lowercase currency"),
            ("RON.012.i.c123", "a leading zero"),
            ("RON.+12.i.c123", "a plus sign"),
            ("RON.1x.i.c123", "not a number"),
            ("RON.12.i.c0123", "a CUI starting with 0"),
            ("RON.12.i.c", "an empty CUI"),
            ("RON.12.i.c12a", "a CUI with a letter"),
            ("RON.12.i.nAcme", "an unfolded name"),
            ("RON.12.i.nacme.srl", "a dot in the name"),
            ("RON.12.i.x123", "an unknown key kind"),
        ] {
            assert_eq!(Cursor::decode(text), None, "{why}: {text}");
        }
    }

    #[test]
    fn the_buckets_add_up_to_the_overdue_amount() {
        let ageing = Ageing {
            days_0_30: Amount::from_minor(1),
            days_31_60: Amount::from_minor(20),
            days_61_90: Amount::from_minor(300),
            days_over_90: Amount::from_minor(4000),
        };
        assert_eq!(ageing.total(), Amount::from_minor(4321));
    }
}
