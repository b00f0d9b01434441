//! Invoices: the bulk upsert behind the ERP's pushes and the e-Factura import,
//! and the paged lists the API and the bot show.
//!
//! Identity (schema.sql, `invoices_identity`): an issued invoice is one
//! number within the company; a received one is a supplier and a number, the
//! supplier being its CUI when known, else its name folded by
//! [`partner_key`]. Totals may be negative (storno invoices, credit notes)
//! and `paid` may exceed the total (an overpayment: a credit).

use serde::Serialize;
use sqlx::PgConnection;
use time::Date;

use super::{Direction, PaidFilter, iso_date, stored_currency};
use crate::blocks::money::{Amount, Currency};
use crate::blocks::validate::Cui;

/// One validated invoice of a push or an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvoice {
    /// The number, series included.
    pub number: String,
    /// Issued or received.
    pub direction: Direction,
    /// Customer or supplier name.
    pub partner: String,
    /// The partner's CUI, when known. For a received invoice it is the
    /// supplier's identity (with the number); see [`partner_key`].
    pub partner_cui: Option<Cui>,
    /// Issue date.
    pub issue_date: Date,
    /// Due date, not before the issue date.
    pub due_date: Date,
    /// Total; negative on a storno invoice or a credit note.
    pub total: Amount,
    /// Paid so far, with the total's sign (or zero); above the total is an
    /// overpayment. See [`paid_fits_total`].
    pub paid: Amount,
    /// Currency of both amounts.
    pub currency: Currency,
}

impl NewInvoice {
    /// The key that identifies this invoice within its company and
    /// direction: `(partner key, number)`. Two rows with the same key are
    /// the same invoice, so a batch may carry each key once.
    pub fn key(&self) -> (Direction, String, String) {
        (
            self.direction,
            partner_key(self.direction, self.partner_cui.as_ref(), &self.partner),
            self.number.clone(),
        )
    }
}

/// Whether `paid` may go with `total`: the same sign, or zero (a refund
/// paid back on a credit note is negative; a payment on an invoice is not).
pub fn paid_fits_total(total: Amount, paid: Amount) -> bool {
    (paid >= Amount::ZERO && total >= Amount::ZERO)
        || (paid <= Amount::ZERO && total <= Amount::ZERO)
}

/// The supplier part of an invoice's identity, exactly as the database's
/// `invoice_partner_key` computes it: `""` for issued invoices (their number
/// alone identifies them), the CUI's digits when there is one, else `name:`
/// and the name folded to lowercase ASCII letters and digits (Romanian
/// diacritics, either spelling, become their base letter; anything else is
/// dropped): `ACME S.R.L.` and `Acme SRL` are one supplier.
pub fn partner_key(direction: Direction, cui: Option<&Cui>, partner: &str) -> String {
    match (direction, cui) {
        (Direction::Issued, _) => String::new(),
        (Direction::Received, Some(cui)) => cui.as_str().to_owned(),
        (Direction::Received, None) => format!("name:{}", fold(partner)),
    }
}

/// `text` folded to lowercase ASCII letters and digits: Romanian diacritics,
/// in either spelling (comma or cedilla below), become their base letter;
/// anything else is dropped. The same folding as the database's
/// `invoice_partner_key` (for a name) does.
pub fn fold(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c {
                'Ă' | 'Â' => 'a',
                'Î' => 'i',
                'Ș' | 'Ş' => 's',
                'Ț' | 'Ţ' => 't',
                'ă' | 'â' => 'a',
                'î' => 'i',
                'ș' | 'ş' => 's',
                'ț' | 'ţ' => 't',
                c => c.to_ascii_lowercase(),
            };
            (c.is_ascii_lowercase() || c.is_ascii_digit()).then_some(c)
        })
        .collect()
}

/// What an upsert did, row by row: every row of the batch is counted once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Upserted {
    /// Rows that were new.
    pub inserted: u64,
    /// Rows that existed and changed.
    pub updated: u64,
    /// Rows that existed exactly so.
    pub unchanged: u64,
}

impl Upserted {
    /// Rows inserted or changed: what the API answers as `upserted`.
    pub fn changed(self) -> u64 {
        self.inserted + self.updated
    }
}

/// Inserts new invoices and updates changed ones, in one transaction if the
/// caller holds one (two statements). Unchanged rows are not written (not
/// even `updated_at`).
///
/// Received invoices find their supplier across spellings: a row with a CUI
/// takes over the same number from a supplier of the same (folded) name
/// stored without one, and a row without a CUI keeps the CUI of the same
/// number from a supplier of the same folded name. So an ERP that sends no
/// CUIs and an e-Factura import that does meet on the same invoices.
///
/// The rows must not repeat a [`NewInvoice::key`] (the API checks this
/// first); two rows that still reach the same stored invoice fail with
/// [`is_same_invoice_twice`].
///
/// # Errors
/// The database failed.
pub async fn upsert(
    db: &mut PgConnection,
    company_id: i64,
    rows: &[NewInvoice],
) -> Result<Upserted, sqlx::Error> {
    // 1. A received row with a CUI adopts the same number stored under the
    //    supplier's name alone (unless one under the CUI exists already).
    let (mut adopt_numbers, mut adopt_partners, mut adopt_cuis) =
        (Vec::new(), Vec::new(), Vec::new());
    for row in rows.iter().filter(|r| r.direction == Direction::Received) {
        if let Some(cui) = &row.partner_cui {
            adopt_numbers.push(row.number.as_str());
            adopt_partners.push(row.partner.as_str());
            adopt_cuis.push(cui.as_str());
        }
    }
    let mut updated_ids: Vec<i64> = if adopt_numbers.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar!(
            r#"UPDATE invoices AS i SET partner_cui = n.cui, updated_at = now()
               FROM UNNEST($2::text[], $3::text[], $4::text[]) AS n (number, partner, cui)
               WHERE i.company_id = $1 AND i.direction = 'received' AND i.partner_cui IS NULL
                 AND i.partner_key = invoice_partner_key('received', NULL, n.partner)
                 AND i.number = n.number
                 AND NOT EXISTS (SELECT FROM invoices o
                                 WHERE o.company_id = $1 AND o.direction = 'received'
                                   AND o.partner_key = n.cui AND o.number = n.number)
               RETURNING i.id"#,
            company_id,
            &adopt_numbers as &[&str],
            &adopt_partners as &[&str],
            &adopt_cuis as &[&str],
        )
        .fetch_all(&mut *db)
        .await?
    };

    // 2. The upsert itself; a received row without a CUI keeps the one its
    //    invoice has.
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    let directions: Vec<&str> = rows.iter().map(|r| r.direction.as_str()).collect();
    let partners: Vec<&str> = rows.iter().map(|r| r.partner.as_str()).collect();
    let cuis: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.partner_cui.as_ref().map(Cui::as_str))
        .collect();
    let issued: Vec<Date> = rows.iter().map(|r| r.issue_date).collect();
    let due: Vec<Date> = rows.iter().map(|r| r.due_date).collect();
    let totals: Vec<i64> = rows.iter().map(|r| r.total.minor()).collect();
    let paid: Vec<i64> = rows.iter().map(|r| r.paid.minor()).collect();
    let currencies: Vec<&str> = rows.iter().map(|r| r.currency.as_str()).collect();
    let written = sqlx::query!(
        r#"INSERT INTO invoices AS i
               (company_id, number, direction, partner, partner_cui, issue_date, due_date,
                total_minor, paid_minor, currency)
           SELECT $1, n.number, n.direction, n.partner,
                  coalesce(n.cui, (SELECT e.partner_cui FROM invoices e
                                   WHERE n.direction = 'received' AND e.company_id = $1
                                     AND e.direction = 'received' AND e.number = n.number
                                     AND e.partner_cui IS NOT NULL
                                     AND invoice_partner_key('received', NULL, e.partner)
                                         = invoice_partner_key('received', NULL, n.partner)
                                   ORDER BY e.id LIMIT 1)),
                  n.issue_date, n.due_date, n.total_minor, n.paid_minor, n.currency
           FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[],
                       $8::int8[], $9::int8[], $10::text[])
                AS n (number, direction, partner, cui, issue_date, due_date, total_minor,
                      paid_minor, currency)
           ON CONFLICT (company_id, direction, partner_key, number) DO UPDATE SET
               partner = EXCLUDED.partner, partner_cui = EXCLUDED.partner_cui,
               issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date,
               total_minor = EXCLUDED.total_minor, paid_minor = EXCLUDED.paid_minor,
               currency = EXCLUDED.currency, updated_at = now()
           WHERE (i.partner, i.partner_cui, i.issue_date, i.due_date, i.total_minor,
                  i.paid_minor, i.currency)
                 IS DISTINCT FROM
                 (EXCLUDED.partner, EXCLUDED.partner_cui, EXCLUDED.issue_date,
                  EXCLUDED.due_date, EXCLUDED.total_minor, EXCLUDED.paid_minor,
                  EXCLUDED.currency)
           RETURNING i.id AS "id!", (i.xmax = 0) AS "inserted!""#,
        company_id,
        &numbers as &[&str],
        &directions as &[&str],
        &partners as &[&str],
        &cuis as &[Option<&str>],
        &issued,
        &due,
        &totals,
        &paid,
        &currencies as &[&str],
    )
    .fetch_all(&mut *db)
    .await?;
    let inserted = written.iter().filter(|w| w.inserted).count();
    updated_ids.extend(written.iter().filter(|w| !w.inserted).map(|w| w.id));
    updated_ids.sort_unstable();
    updated_ids.dedup();
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Ok(Upserted {
        inserted: count(inserted),
        updated: count(updated_ids.len()),
        unchanged: count(rows.len().saturating_sub(inserted + updated_ids.len())),
    })
}

/// Whether `error` is Postgres refusing to write one invoice twice in one
/// statement: two rows of a batch reached the same stored invoice (for
/// example one with the supplier's CUI and one without, both matching it).
pub fn is_same_invoice_twice(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("21000"))
}

/// Removes invoice `invoice_id` of `company_id`; `false` when the company
/// has no such invoice.
///
/// # Errors
/// The database failed.
pub async fn delete(
    db: &mut PgConnection,
    company_id: i64,
    invoice_id: i64,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM invoices WHERE company_id = $1 AND id = $2",
        company_id,
        invoice_id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(deleted == 1)
}

/// What a full-sync push replaces: the invoices issued from `from` to `to`
/// (both included), of one direction or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replace {
    /// First issue date.
    pub from: Date,
    /// Last issue date, not before `from`.
    pub to: Date,
    /// Only this direction, or both.
    pub direction: Option<Direction>,
}

/// The second half of a full-sync push (after [`upsert`] of the same rows,
/// in the same transaction): removes the invoices of `company_id` within
/// `replace` that none of `rows` is. A stored invoice is one of the rows when
/// the direction and number match and, for a received one, the supplier does
/// as [`upsert`] matches it (the same key, or the same folded name). Returns
/// how many were removed.
///
/// # Errors
/// The database failed.
pub async fn remove_missing(
    db: &mut PgConnection,
    company_id: i64,
    replace: Replace,
    rows: &[NewInvoice],
) -> Result<u64, sqlx::Error> {
    let directions: Vec<&str> = rows.iter().map(|r| r.direction.as_str()).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    let partners: Vec<&str> = rows.iter().map(|r| r.partner.as_str()).collect();
    let cuis: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.partner_cui.as_ref().map(Cui::as_str))
        .collect();
    let removed = sqlx::query!(
        r#"DELETE FROM invoices AS i
           WHERE i.company_id = $1 AND i.issue_date BETWEEN $2 AND $3
             AND ($4::text IS NULL OR i.direction = $4)
             AND NOT EXISTS (
                 SELECT FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[])
                      AS n (direction, number, partner, cui)
                 WHERE n.direction = i.direction AND n.number = i.number
                   AND (i.partner_key = invoice_partner_key(n.direction, n.cui, n.partner)
                        OR (i.direction = 'received'
                            AND invoice_partner_key('received', NULL, i.partner)
                                = invoice_partner_key('received', NULL, n.partner))))"#,
        company_id,
        replace.from,
        replace.to,
        replace.direction.map(Direction::as_str),
        &directions as &[&str],
        &numbers as &[&str],
        &partners as &[&str],
        &cuis as &[Option<&str>],
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(removed)
}

/// An invoice as the API and the bot show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// The invoice's id (for `DELETE .../invoices/{id}`).
    pub id: i64,
    /// The number, series included.
    pub number: String,
    /// Issued or received.
    pub direction: Direction,
    /// Customer or supplier.
    pub partner: String,
    /// The partner's CUI (digits), when known.
    pub partner_cui: Option<String>,
    /// Issue date.
    #[serde(serialize_with = "iso_date")]
    pub issue_date: Date,
    /// Due date.
    #[serde(serialize_with = "iso_date")]
    pub due_date: Date,
    /// Total.
    pub total: Amount,
    /// Paid so far.
    pub paid: Amount,
    /// What is left to pay: total − paid when positive, else 0.
    pub outstanding: Amount,
    /// What the partner is owed back: paid − total when positive (an
    /// overpayment, a storno invoice or a credit note not yet settled), else 0.
    pub credit: Amount,
    /// Currency of the amounts.
    pub currency: Currency,
    /// Something is left to pay and the due date has passed.
    pub overdue: bool,
}

/// Where a keyset page of invoices starts: just after the invoice with this
/// sort date (the due date in unpaid lists, else the issue date) and id.
/// Written `YYYY-MM-DD.id` (`2026-01-10.4711`, [`Cursor::encode`]); opaque
/// to clients, read back by the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last invoice's sort date.
    pub date: Date,
    /// The last invoice's id.
    pub id: i64,
}

impl Cursor {
    /// The cursor as text.
    pub fn encode(self) -> String {
        format!(
            "{:04}-{:02}-{:02}.{}",
            self.date.year(),
            u8::from(self.date.month()),
            self.date.day(),
            self.id
        )
    }

    /// Reads exactly what [`Cursor::encode`] writes (a positive id, a date
    /// of the calendar); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (date, id) = text.split_once('.')?;
        let date = Date::parse(
            date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
        let cursor = Self { date, id };
        // `04`, `+4` or a five-digit year would read as another text's position.
        (cursor.encode() == text).then_some(cursor)
    }
}

/// What to look for in a list of invoices: a piece of a partner's name, of
/// an invoice number, or a CUI (`18547290`, `RO18547290`), compared folded
/// ([`fold`]: any case, with or without diacritics, spaces and punctuation
/// ignored), so `brasov` finds `Brașov` and `f 12` finds `F-12`. At most
/// [`Search::MAX`] letters and digits are kept, so that the search fits,
/// with a page's cursor, in a bot button's 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Search {
    folded: [u8; Search::MAX],
    len: u8,
}

impl Search {
    /// Letters and digits kept.
    pub const MAX: usize = 24;

    /// The search for `text`; `None` when it has no letter or digit.
    pub fn parse(text: &str) -> Option<Self> {
        let folded = fold(text);
        if folded.is_empty() {
            return None;
        }
        let mut search = Self {
            folded: [0; Self::MAX],
            len: 0,
        };
        for (at, b) in folded.bytes().take(Self::MAX).enumerate() {
            search.folded[at] = b;
            search.len += 1;
        }
        Some(search)
    }

    /// The folded text: lowercase ASCII letters and digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever stored.
        std::str::from_utf8(&self.folded[..usize::from(self.len)]).unwrap_or_default()
    }

    /// The CUI it names, when it is one's digits (after an optional `ro`).
    pub fn cui(&self) -> Option<&str> {
        let text = self.as_str();
        let digits = text.strip_prefix("ro").unwrap_or(text);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
    }
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Search").field(&self.as_str()).finish()
    }
}

/// A keyset page: the rows, and the cursor of the next page (`None` on the last).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slice<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows per page.
    pub page_size: i64,
    /// Pass as `cursor` for the next page; `None` (null) on the last one.
    pub next_cursor: Option<String>,
}

/// An invoice as stored, before today's date says whether it is overdue.
struct Stored {
    id: i64,
    number: String,
    direction: String,
    partner: String,
    partner_cui: Option<String>,
    issue_date: Date,
    due_date: Date,
    total_minor: i64,
    paid_minor: i64,
    currency: String,
    /// Whether it is in the list (it matches the search, if any): a row
    /// that is not is only a [`Stored::cut`] mark.
    hit: bool,
    /// The last row a capped range read (see [`list_after`]): that range
    /// stopped here, so nothing after it is known.
    cut: bool,
}

impl Stored {
    fn shown(self, today: Date) -> Invoice {
        let (total, paid) = (
            Amount::from_minor(self.total_minor),
            Amount::from_minor(self.paid_minor),
        );
        Invoice {
            id: self.id,
            number: self.number,
            direction: Direction::parse(&self.direction).unwrap_or(Direction::Issued),
            partner: self.partner,
            partner_cui: self.partner_cui,
            issue_date: self.issue_date,
            due_date: self.due_date,
            total,
            paid,
            outstanding: (total - paid).max(Amount::ZERO),
            credit: (paid - total).max(Amount::ZERO),
            currency: stored_currency(&self.currency),
            overdue: paid < total && self.due_date < today,
        }
    }
}

/// Rows of each index range a search reads in the list's order before it
/// turns to the trigram index (see [`list_after`]); written as a number in
/// `invoice_list_range` (schema.sql), where the planner must see it.
pub const SEARCH_SCAN: i64 = 500;

/// A keyset page of a company's invoices: at most `page_size` after `after`
/// (from the start when `None`), with ties on the date broken by id: unpaid
/// ones by due date, earliest first (the most urgent); the others newest
/// first.
///
/// Each page is a range read of an index per direction (and, for all or
/// paid invoices, per paid state) listed: `invoices_company_direction_unpaid_due`
/// or `invoices_company_settled_newest`, at most `page_size + 1` entries
/// from each, merged. So its cost does not grow with the company's invoices,
/// with how far the client has paged, or with how rare the direction or
/// state asked for is (one scan filtering both directions would read the
/// other one's invoices too).
///
/// With a `search`, the same ranges keep the invoices whose partner name or
/// number holds it, or whose partner has that CUI, but each reads at most
/// [`SEARCH_SCAN`] rows: a common match fills the page within them. When a
/// range stops before the page is full, the match is rare, and the page is
/// read instead from `invoices_company_search` (a trigram index of the
/// same folded text, with the company and the CUI): the company's matching
/// invoices, sorted. So a page costs at most the capped ranges plus the
/// company's matches, never the company. A search of one or two letters
/// or digits has no trigram, and holds for most of a company's invoices
/// (`sc`, a number's `12`): when the capped ranges do not fill the page,
/// the page is what they found (it may be short, even empty) and its
/// cursor is where they stopped, so the next page searches on from there.
/// Each page then reads at most the capped ranges: a rare short search
/// costs a page per few hundred invoices walked, not the company at once.
///
/// # Errors
/// The database failed.
pub async fn list_after(
    db: &mut PgConnection,
    company_id: i64,
    filter: (PaidFilter, Option<Direction>, Option<Search>),
    after: Option<Cursor>,
    page_size: i64,
    today: Date,
) -> Result<Slice<Invoice>, sqlx::Error> {
    let (status, search) = (filter.0, filter.2);
    let directions: Vec<String> = match filter.1 {
        Some(direction) => vec![direction.as_str().to_owned()],
        None => [Direction::Issued, Direction::Received]
            .map(|d| d.as_str().to_owned())
            .to_vec(),
    };
    let unpaid = status == PaidFilter::Unpaid;
    let after = after.unwrap_or(if unpaid {
        // Before every due date that an invoice can have (years 0000-9999).
        Cursor {
            date: Date::from_calendar_date(-4000, time::Month::January, 1).expect("a valid date"),
            id: 0,
        }
    } else {
        // After every issue date and id that an invoice can have.
        Cursor {
            date: Date::from_calendar_date(9999, time::Month::December, 31).expect("a valid date"),
            id: i64::MAX,
        }
    });
    // Settled: `paid >= total`, as `PaidFilter::Paid` says; the unpaid
    // ones are not (one range per direction).
    let settled: &[bool] = match status {
        PaidFilter::Paid => &[true],
        PaidFilter::Unpaid => &[false],
        PaidFilter::All => &[false, true],
    };
    let ranges = Ranges {
        company_id,
        directions: &directions,
        unpaid,
        settled,
        after,
        search: search.as_ref(),
        // One row more than the page says whether another page follows.
        fetch: page_size + 1,
    };
    let (mut rows, stopped) = ranges.page(db).await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > page_size;
    rows.truncate(usize::try_from(page_size).unwrap_or(0));
    let next_cursor = match stopped {
        Some(at) => Some(at.encode()),
        None => more.then(|| rows.last()).flatten().map(|last| {
            let date = if unpaid {
                last.due_date
            } else {
                last.issue_date
            };
            Cursor { date, id: last.id }.encode()
        }),
    };
    Ok(Slice {
        items: rows.into_iter().map(|r| r.shown(today)).collect(),
        page_size,
        next_cursor,
    })
}

/// What one page of [`list_after`] reads.
struct Ranges<'a> {
    company_id: i64,
    directions: &'a [String],
    unpaid: bool,
    settled: &'a [bool],
    after: Cursor,
    search: Option<&'a Search>,
    fetch: i64,
}

/// What reading the capped ranges once came to.
enum Read {
    /// The page (as many rows as asked for, or all there are).
    Page(Vec<Stored>),
    /// A range stopped at its cap first: the rows known up to there (all
    /// of the page's that come before it), and where it stopped.
    Cut(Vec<Stored>, Cursor),
}

impl Ranges<'_> {
    /// The page's rows (and one more, if there is one), and where the
    /// reading stopped when that was before the page filled (only for a
    /// search too short for the trigram index: see [`list_after`]).
    async fn page(
        &self,
        db: &mut PgConnection,
    ) -> Result<(Vec<Stored>, Option<Cursor>), sqlx::Error> {
        Ok(match self.read(db, self.after).await? {
            Read::Page(rows) => (rows, None),
            Read::Cut(..) if self.search.is_some_and(|s| s.as_str().len() >= 3) => {
                (self.matches(db).await?, None)
            }
            Read::Cut(rows, at) => (rows, Some(at)),
        })
    }

    /// The page from the ordered index ranges after `after`, each reading
    /// at most [`SEARCH_SCAN`] rows: [`Read::Cut`] when one stopped there
    /// before the page was full (what it did not read might hold the page's
    /// rows). Rows are read as the page needs them: without a search, a
    /// page's worth from each range. One range is `invoice_list_range` in
    /// schema.sql, which says why the cap is written there as a number.
    async fn read(&self, db: &mut PgConnection, after: Cursor) -> Result<Read, sqlx::Error> {
        let (search, cui) = (
            self.search.map(Search::as_str),
            self.search.and_then(Search::cui),
        );
        // Each range (`invoice_list_range` in schema.sql) yields its
        // matches and, if it reached the cap, the row there (`cut`): merged
        // in the list's order, the page is known up to the first cut.
        let rows = sqlx::query_as!(
            Stored,
            r#"SELECT p.id AS "id!", p.number AS "number!", p.direction AS "direction!",
                      p.partner AS "partner!", p.partner_cui, p.issue_date AS "issue_date!",
                      p.due_date AS "due_date!", p.total_minor AS "total_minor!",
                      p.paid_minor AS "paid_minor!", p.currency AS "currency!",
                      p.hit AS "hit!", p.cut AS "cut!"
               FROM unnest($2::text[]) AS d (direction)
               CROSS JOIN unnest($3::bool[]) AS st (settled)
               CROSS JOIN LATERAL invoice_list_range($1, d.direction, $4, st.settled, $5, $6,
                                                     $7, $8, $9) p
               ORDER BY CASE WHEN $4 THEN p.due_date END, CASE WHEN $4 THEN p.id END,
                        CASE WHEN NOT $4 THEN p.issue_date END DESC,
                        CASE WHEN NOT $4 THEN p.id END DESC"#,
            self.company_id,
            self.directions,
            self.settled,
            self.unpaid,
            after.date,
            after.id,
            search,
            cui,
            self.fetch
        )
        .fetch_all(&mut *db)
        .await?;
        let mut page = Vec::new();
        for row in rows {
            let cut = row.cut.then_some(Cursor {
                date: if self.unpaid {
                    row.due_date
                } else {
                    row.issue_date
                },
                id: row.id,
            });
            if row.hit {
                page.push(row);
                if i64::try_from(page.len()).unwrap_or(i64::MAX) >= self.fetch {
                    return Ok(Read::Page(page));
                }
            }
            if let Some(at) = cut {
                return Ok(Read::Cut(page, at));
            }
        }
        Ok(Read::Page(page))
    }

    /// The page from the company's invoices matching the search, read from
    /// the trigram index `invoices_company_search` and sorted: for a search
    /// too rare to fill a page from the capped ranges. The matches are
    /// found apart (a materialized CTE) so that the cursor, the direction
    /// and the state cannot tempt the planner to walk the rest of the
    /// company's range of another index instead.
    async fn matches(&self, db: &mut PgConnection) -> Result<Vec<Stored>, sqlx::Error> {
        let (search, cui) = (
            self.search.map(Search::as_str),
            self.search.and_then(Search::cui),
        );
        sqlx::query_as!(
            Stored,
            r#"WITH found AS MATERIALIZED (
                   SELECT i.id, i.number, i.direction, i.partner, i.partner_cui, i.issue_date,
                          i.due_date, i.total_minor, i.paid_minor, i.currency
                   FROM invoices i
                   WHERE i.company_id = $1
                     AND invoice_search_hit(i.partner, i.number, i.partner_cui, $2, $3)
               )
               SELECT i.id AS "id!", i.number AS "number!", i.direction AS "direction!",
                      i.partner AS "partner!", i.partner_cui, i.issue_date AS "issue_date!",
                      i.due_date AS "due_date!", i.total_minor AS "total_minor!",
                      i.paid_minor AS "paid_minor!", i.currency AS "currency!",
                      true AS "hit!", false AS "cut!"
               FROM found i
               WHERE i.direction = ANY ($4)
                 AND CASE WHEN $5 THEN i.paid_minor < i.total_minor AND (i.due_date, i.id) > ($6, $7)
                          ELSE (i.paid_minor >= i.total_minor) = ANY ($8)
                               AND (i.issue_date, i.id) < ($6, $7)
                     END
               ORDER BY CASE WHEN $5 THEN i.due_date END, CASE WHEN $5 THEN i.id END,
                        CASE WHEN NOT $5 THEN i.issue_date END DESC,
                        CASE WHEN NOT $5 THEN i.id END DESC
               LIMIT $9"#,
            self.company_id,
            search,
            cui,
            self.directions,
            self.unpaid,
            self.after.date,
            self.after.id,
            self.settled,
            self.fetch
        )
        .fetch_all(db)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_folded_cut_to_its_length_and_may_name_a_cui() {
        let folded = |text: &str| Search::parse(text).map(|s| s.as_str().to_owned());
        assert_eq!(folded("Brașov Trans S.R.L."), Some("brasovtranssrl".into()));
        assert_eq!(
            folded("ŢĂRANU"),
            Some("taranu".into()),
            "cedilla and capitals"
        );
        assert_eq!(folded("%_"), None, "no letter or digit");
        assert_eq!(folded(""), None);
        assert_eq!(
            folded("abcdefghijklmnopqrstuvwxyz").map(|s| s.len()),
            Some(Search::MAX)
        );
        let cui = |text: &str| Search::parse(text).and_then(|s| s.cui().map(str::to_owned));
        assert_eq!(cui("RO 18547290"), Some("18547290".into()));
        assert_eq!(cui("18547290"), Some("18547290".into()));
        assert_eq!(cui("ro"), None, "RO alone");
        assert_eq!(cui("F-12"), None);
    }

    #[test]
    fn cursors_read_back_only_as_written() {
        let cursor = Cursor::parse("2026-01-10.4711").expect("valid");
        assert_eq!(
            (cursor.id, cursor.encode()),
            (4711, "2026-01-10.4711".into())
        );
        for text in [
            "2026-1-10.4",
            "2026-01-10.+4",
            "2026-01-10.04",
            "2026-01-10",
            "x.4",
        ] {
            assert_eq!(Cursor::parse(text), None, "{text}");
        }
    }
}
