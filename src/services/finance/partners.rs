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
//!
//! The figures are not summed from the invoices when read (issue 18 item
//! 3): schema.sql ("the partners' figures") keeps them as invoices are
//! written, per partner (`partner_totals`), per partner and due date
//! (`partner_due`: the debt due that day and the part of it the partner's
//! credits settle, oldest due date first, an order today does not change)
//! and per company (`partner_list_totals`, `partner_due_totals`). A page
//! reads its partners from an index in the list's order, and the ageing as
//! sums over the due dates of the last 90 days and later (what is older is
//! the rest of `outstanding`): its cost depends neither on the number of
//! invoices nor on its depth. tests/api/partner_totals.rs holds the kept
//! figures to the computation from every open invoice.

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
/// One statement, over the kept figures: one index range per direction and
/// currency listed, from the cursor on, merged (a company has few
/// currencies); then, for the page's partners only, the name on the newest
/// open invoice (one index entry each) and the due dates from 90 days back;
/// the totals lines from a few kept rows. The keyset spares the
/// sort-and-skip of an OFFSET and keeps pages stable.
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
        r#"WITH lanes AS (
               SELECT direction, currency, partners, outstanding, credit
               FROM partner_list_totals
               WHERE company_id = $1 AND partners > 0 AND ($2::text IS NULL OR direction = $2)
           ), page AS (
               -- One range of partner_totals_list per lane from the
               -- cursor on (lanes of the cursor's currency start after it,
               -- in the order outstanding, direction, key; later
               -- currencies at their start), merged.
               SELECT l.direction, p.partner_key, l.currency, p.open_invoices,
                      p.outstanding, p.credit
               FROM lanes l
               CROSS JOIN LATERAL (
                   SELECT p.partner_key, p.open_invoices, p.outstanding, p.credit
                   FROM partner_totals p
                   WHERE p.company_id = $1 AND p.direction = l.direction
                     AND p.currency = l.currency
                     AND (-p.outstanding, p.partner_key COLLATE "C")
                         > (CASE WHEN $5::text IS NULL OR l.currency <> $5
                                 THEN -9223372036854775807::int8
                                 WHEN l.direction < $7 THEN 1 - $6::int8
                                 ELSE -$6::int8 END,
                            (CASE WHEN l.currency = $5 AND l.direction = $7 THEN $8::text
                                  ELSE '' END) COLLATE "C")
                   ORDER BY -p.outstanding, p.partner_key COLLATE "C"
                   LIMIT $9
               ) AS p
               WHERE $5::text IS NULL
                  OR (l.currency <> $4, l.currency COLLATE "C") >= ($5 <> $4, $5 COLLATE "C")
               ORDER BY l.currency <> $4, l.currency COLLATE "C", p.outstanding DESC, l.direction,
                        p.partner_key COLLATE "C"
               LIMIT $9
           ), listed AS (
               SELECT false AS total, direction, partner_key, currency, open_invoices AS count,
                      outstanding, credit
               FROM page
               UNION ALL
               SELECT true, direction, '', currency, partners, outstanding, credit FROM lanes
           )
           SELECT r.total AS "total!", r.direction AS "direction!", r.partner_key AS "key!",
                  r.currency AS "currency!", name.partner AS "name?",
                  CASE WHEN r.total OR r.partner_key LIKE 'name:%' THEN NULL
                       ELSE r.partner_key END AS cui,
                  r.count AS "count!", r.outstanding AS "outstanding!", r.credit AS "credit!",
                  due.a1 AS "a1!", due.a31 AS "a31!", due.a61 AS "a61!",
                  r.outstanding - due.recent AS "a91!"
           FROM listed r
           -- the name on the partner's newest open invoice
           LEFT JOIN LATERAL (
               SELECT i.partner FROM invoices i
               WHERE NOT r.total AND i.company_id = $1 AND i.direction = r.direction
                 AND invoice_partner_key('received', i.partner_cui, i.partner) = r.partner_key
                 AND i.currency = r.currency AND i.paid_minor <> i.total_minor
               ORDER BY i.issue_date DESC, i.id DESC
               LIMIT 1
           ) AS name ON true
           -- What the credits left of the debts due in the last 90 days and
           -- later, by days late; the rest of `outstanding` is older.
           CROSS JOIN LATERAL (
               SELECT coalesce(sum(d.left) FILTER (WHERE d.due_date BETWEEN $3::date - 30 AND $3::date - 1),
                               0)::int8 AS a1,
                      coalesce(sum(d.left) FILTER (WHERE d.due_date BETWEEN $3::date - 60 AND $3::date - 31),
                               0)::int8 AS a31,
                      coalesce(sum(d.left) FILTER (WHERE d.due_date BETWEEN $3::date - 90 AND $3::date - 61),
                               0)::int8 AS a61,
                      coalesce(sum(d.left), 0)::int8 AS recent
               FROM (SELECT p.due_date, p.debt - p.absorbed AS left
                     FROM partner_due p
                     WHERE NOT r.total AND p.company_id = $1 AND p.direction = r.direction
                       AND p.partner_key = r.partner_key AND p.currency = r.currency
                       AND p.due_date >= $3::date - 90
                     UNION ALL
                     SELECT t.due_date, t.debt - t.absorbed
                     FROM partner_due_totals t
                     WHERE r.total AND t.company_id = $1 AND t.direction = r.direction
                       AND t.currency = r.currency AND t.due_date >= $3::date - 90) AS d
           ) AS due"#,
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
