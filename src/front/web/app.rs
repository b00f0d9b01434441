//! The Telegram Mini App: `/app`, opened from the bot's menu button and from
//! the "Open dashboard" button under `/dashboard`.
//!
//! `GET /app` is a page with a little script (no build step): it takes the
//! `initData` Telegram hands the app (from `telegram-web-app.js`, or from
//! the URL's `#tgWebAppData=` where Telegram puts it, so the page works
//! when that script cannot load), trades it for tokens at
//! `POST /api/v1/auth/telegram`, and from then on fetches server-rendered
//! parts of the page with the access token: the dashboard, the invoices
//! (filters, keyset pages), the partners (customers and suppliers, keyset
//! pages) and the charts. Each part is an
//! askama template, escaped like every page; the script only places it.
//! Each part carries the company chooser with the first page of the
//! person's companies; its "more" button appends the next pages, read as
//! JSON from the API's own list, `GET /api/v1/companies?cursor=ID` (names
//! placed as text, never as HTML).
//! Charts come as SVG images (`.../charts/{kind}.svg`), shown through
//! `<img>` so that nothing in them can run.
//!
//! Every part answers 401 without a valid token and 404 to a non-member,
//! as the JSON API does (its company check, [`crate::front::api`]).

use askama::Template;
use http::StatusCode;

use super::{Frame, PageReq, PageResult, render};
use crate::blocks::Lang;
use crate::blocks::chart::Theme;
use crate::blocks::format::{date, money};
use crate::front::api::companies::{PAGE_SIZE, member_of};
use crate::front::api::{caller, no_store};
use crate::front::charts::{self, Kind, Picture, RenderError};
use crate::infra::config::Config;
use crate::infra::http_io::{ApiError, HttpResponse, with_type};
use crate::infra::router::Req;
use crate::services::finance::companies::Opening;
use crate::services::finance::dashboard::{self, Dashboard};
use crate::services::finance::invoices::{self, Cursor, Invoice};
use crate::services::finance::partners::{self, Partner};
use crate::services::finance::{Company, Direction, PaidFilter, cash, companies, treasury};

/// The Mini App's address, as the menu button and the dashboard's button open it.
pub fn url(config: &Config) -> String {
    format!("{}/app", config.public_url)
}

/// Invoices per page in the Mini App: a phone's screenful or two.
pub const INVOICES_PER_PAGE: i64 = 20;

/// Partners per page in the Mini App.
pub const PARTNERS_PER_PAGE: i64 = 20;

/// Cash entries per page in the Mini App.
pub const CASH_PER_PAGE: i64 = 20;

#[derive(Template)]
#[template(path = "app.html")]
struct Shell<'a> {
    frame: Frame<'a>,
}

/// `GET /app`: the page the script fills in.
pub async fn shell(p: PageReq) -> PageResult {
    render(
        StatusCode::OK,
        &Shell {
            frame: Frame::of(&p.visitor),
        },
    )
}

/// The language of a part: the account's choice (`/language`, from its
/// [`Opening`]), else what the script says Telegram's app is in (`?lang=`),
/// else English.
fn lang_of(req: &Req, opening: Opening) -> Lang {
    opening.language.unwrap_or_else(|| {
        param(req, "lang")
            .and_then(|l| Lang::parse(&l))
            .unwrap_or(Lang::En)
    })
}

/// The first value of `name` in the query, decoded.
fn param(req: &Req, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A part of the page: HTML, never cached.
fn part(page: &impl Template) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(no_store(with_type(
        StatusCode::OK,
        "text/html; charset=utf-8",
        html,
    )))
}

/// A label and a figure, written out.
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// The amount, in the reader's format.
    pub value: String,
}

/// A titled group of figures.
pub struct Section {
    /// The heading.
    pub title: &'static str,
    /// The figures; empty shows `empty`.
    pub figures: Vec<Figure>,
    /// What an empty section says.
    pub empty: &'static str,
}

/// The company chooser: a page of the person's companies, as the web's
/// `/companies` and the API's list page them ([`companies::of_user_slice`]),
/// so a part costs one range of an index however many companies the person
/// belongs to. The script's "more" button appends the next pages from
/// the API's list ([`crate::front::api::companies::list`]).
struct Chooser {
    /// The first page by name; the company shown comes first when it is
    /// further down the list, so that it is always the one chosen.
    companies: Vec<Company>,
    /// The next page's cursor (the last company's id), when there is one.
    more: Option<String>,
}

impl Chooser {
    /// The chooser of `user_id` showing `shown`.
    async fn around(
        db: &mut sqlx::PgConnection,
        user_id: i64,
        shown: &Company,
    ) -> Result<Self, ApiError> {
        Ok(Self::of(first_page(db, user_id).await?, shown))
    }

    /// The chooser of the first page `(companies, next)` showing `shown`.
    fn of((mut companies, more): (Vec<Company>, Option<String>), shown: &Company) -> Self {
        if !companies.iter().any(|c| c.id == shown.id) {
            companies.insert(0, shown.clone());
        }
        Self { companies, more }
    }
}

/// The first page of `user_id`'s companies by name, and the next page's cursor.
async fn first_page(
    db: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<(Vec<Company>, Option<String>), ApiError> {
    // From the first company the place cannot be lost: there is no `None` to answer.
    Ok(companies::of_user_slice(db, user_id, None, PAGE_SIZE)
        .await?
        .map_or_else(|| (Vec::new(), None), |s| (s.items, s.next_cursor)))
}

/// The company chooser and navigation, on every part.
struct Nav {
    lang: Lang,
    company: Company,
    chooser: Chooser,
    current: &'static str,
}

impl Nav {
    fn t(&self, ro: &'static str, en: &'static str) -> &'static str {
        self.lang.pick(ro, en)
    }

    fn base(&self) -> String {
        format!("/app/companies/{}", self.company.id)
    }

    /// The navigation of the part `current` of `company`, with the chooser's first page.
    async fn read(
        db: &mut sqlx::PgConnection,
        user_id: i64,
        lang: Lang,
        company: Company,
        current: &'static str,
    ) -> Result<Self, ApiError> {
        let chooser = Chooser::around(db, user_id, &company).await?;
        Ok(Self {
            lang,
            company,
            chooser,
            current,
        })
    }

    /// The "more" button's words, the web's `/companies` page's.
    fn more_text(&self) -> &'static str {
        super::companies::more_text(self.lang)
    }
}

#[derive(Template)]
#[template(path = "app_dashboard.html")]
struct DashboardPart {
    nav: Nav,
    as_of: String,
    sections: Vec<Section>,
}

/// `GET /app/home?company=ID`: the dashboard of the company asked for (404
/// when it is not the caller's, as every company part), else the one active
/// in Telegram (while the caller is still its member), else the first by
/// name. Each a single membership lookup: the caller's companies are not
/// read whole.
pub async fn home(req: Req) -> Result<HttpResponse, ApiError> {
    let who = caller(&req)?;
    let wanted = match param(&req, "company").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(crate::blocks::id::parse(&text).ok_or_else(|| {
            ApiError::BadRequest("company must be the id of one of your companies".into())
        })?),
    };
    let mut db = req.app.pool.acquire().await?;
    let opening = companies::opening(&mut db, who.user_id).await?;
    let lang = lang_of(&req, opening);
    let chosen = match (wanted, opening.active_company) {
        (Some(id), _) => Some(
            companies::for_member(&mut db, id, who.user_id)
                .await?
                .ok_or(ApiError::NotFound)?,
        ),
        (None, Some(id)) => companies::for_member(&mut db, id, who.user_id).await?,
        (None, None) => None,
    };
    let (company, chooser) = match chosen {
        Some(company) => {
            let chooser = Chooser::around(&mut db, who.user_id, &company).await?;
            (company, chooser)
        }
        None => {
            let page = first_page(&mut db, who.user_id).await?;
            let Some(company) = page.0.first().cloned() else {
                return part(&NoCompany { lang });
            };
            let chooser = Chooser::of(page, &company);
            (company, chooser)
        }
    };
    dashboard_part(&mut db, lang, company, chooser).await
}

/// `GET /app/companies/{id}/dashboard`.
pub async fn company_dashboard(req: Req) -> Result<HttpResponse, ApiError> {
    let (company, lang, user_id, mut db) = member(&req).await?;
    let chooser = Chooser::around(&mut db, user_id, &company).await?;
    dashboard_part(&mut db, lang, company, chooser).await
}

async fn dashboard_part(
    db: &mut sqlx::PgConnection,
    lang: Lang,
    company: Company,
    chooser: Chooser,
) -> Result<HttpResponse, ApiError> {
    let today = crate::services::finance::today(&mut *db).await?;
    let figures = dashboard::compute(db, &company, today).await?;
    part(&DashboardPart {
        as_of: date(lang, figures.as_of),
        sections: sections(lang, &figures),
        nav: Nav {
            lang,
            company,
            chooser,
            current: "dashboard",
        },
    })
}

#[derive(Template)]
#[template(path = "app_none.html")]
struct NoCompany {
    lang: Lang,
}

impl NoCompany {
    fn t(&self, ro: &'static str, en: &'static str) -> &'static str {
        self.lang.pick(ro, en)
    }
}

/// A part of one company: the company of the path (404 to a non-member:
/// one membership lookup, [`member_of`]), the reader's language, their
/// account (for the chooser), and the connection to go on with.
type Member = (
    Company,
    Lang,
    i64,
    sqlx::pool::PoolConnection<sqlx::Postgres>,
);

/// [`Member`] of the request.
async fn member(req: &Req) -> Result<Member, ApiError> {
    let company = member_of(req).await?;
    let who = caller(req)?;
    let mut db = req.app.pool.acquire().await?;
    let opening = companies::opening(&mut db, who.user_id).await?;
    Ok((company, lang_of(req, opening), who.user_id, db))
}

/// The dashboard's figures as sections, one figure a line, as `/dashboard` shows them.
fn sections(lang: Lang, d: &Dashboard) -> Vec<Section> {
    let mut out = vec![Section {
        title: lang.pick("Trezorerie", "Treasury"),
        figures: d
            .treasury
            .iter()
            .map(|m| Figure {
                label: lang.pick("sold", "balance"),
                value: money(lang, m.amount, m.currency),
            })
            .collect(),
        empty: lang.pick("niciun cont", "no accounts"),
    }];
    for (title, paid, outstanding, totals) in [
        (
            lang.pick("Facturi emise (de încasat)", "Issued invoices (to collect)"),
            lang.pick("încasat", "collected"),
            lang.pick("de încasat", "outstanding"),
            &d.receivables,
        ),
        (
            lang.pick("Facturi primite (de plătit)", "Received invoices (to pay)"),
            lang.pick("plătit", "paid"),
            lang.pick("de plătit", "outstanding"),
            &d.payables,
        ),
    ] {
        let mut figures = Vec::new();
        for t in totals {
            let m = |a| money(lang, a, t.currency);
            figures.push(Figure {
                label: "total",
                value: m(t.total),
            });
            figures.push(Figure {
                label: paid,
                value: m(t.paid),
            });
            figures.push(Figure {
                label: outstanding,
                value: m(t.outstanding),
            });
            figures.push(Figure {
                label: lang.pick("restanțe", "overdue"),
                value: m(t.overdue),
            });
        }
        out.push(Section {
            title,
            figures,
            empty: lang.pick("nicio factură", "no invoices"),
        });
    }
    out.push(Section {
        title: lang.pick("Numerar luna aceasta", "Cash this month"),
        figures: d
            .cash_this_month
            .iter()
            .flat_map(|c| {
                [
                    Figure {
                        label: lang.pick("încasări", "income"),
                        value: money(lang, c.income, c.currency),
                    },
                    Figure {
                        label: lang.pick("cheltuieli", "expenses"),
                        value: money(lang, c.expenses, c.currency),
                    },
                ]
            })
            .collect(),
        empty: lang.pick("nicio înregistrare", "no entries"),
    });
    out
}

/// One invoice as a row of the list.
struct Row {
    number: String,
    partner: String,
    issued: bool,
    due: String,
    total: String,
    outstanding: String,
    overdue: bool,
    paid: bool,
}

impl Row {
    fn of(lang: Lang, i: &Invoice) -> Self {
        Self {
            number: i.number.clone(),
            partner: i.partner.clone(),
            issued: i.direction == Direction::Issued,
            due: date(lang, i.due_date),
            total: money(lang, i.total, i.currency),
            outstanding: money(lang, i.outstanding, i.currency),
            overdue: i.overdue,
            paid: i.outstanding.is_zero(),
        }
    }
}

#[derive(Template)]
#[template(path = "app_invoices.html")]
struct InvoicesPart {
    nav: Nav,
    /// The search text, as typed (partner, number or CUI).
    q: String,
    /// The same, for the page links' query.
    q_param: String,
    status: &'static str,
    direction: &'static str,
    rows: Vec<Row>,
    next: Option<String>,
    first_page: bool,
}

/// `GET /app/companies/{id}/invoices?status=&direction=&q=&cursor=`: a keyset
/// page of the invoices (`q` searches partner, number or CUI, as `/facturi <text>`) ([`invoices::list_after`], as the API pages them).
pub async fn invoice_list(req: Req) -> Result<HttpResponse, ApiError> {
    let (company, lang, user_id, mut db) = member(&req).await?;
    let status = match param(&req, "status").as_deref() {
        None | Some("" | "all") => PaidFilter::All,
        Some("unpaid") => PaidFilter::Unpaid,
        Some("paid") => PaidFilter::Paid,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "status must be all, unpaid or paid".into(),
            ));
        }
    };
    let direction = match param(&req, "direction").as_deref() {
        None | Some("" | "all") => None,
        Some(d) => Some(Direction::parse(d).ok_or_else(|| {
            ApiError::BadRequest("direction must be all, issued or received".into())
        })?),
    };
    let after = match param(&req, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(parse_cursor(&c).ok_or_else(|| {
            ApiError::BadRequest("cursor must be the one the previous page gave".into())
        })?),
    };
    let q = param(&req, "q").unwrap_or_default();
    let search = invoices::Search::parse(&q);
    let today = crate::services::finance::today(&mut *db).await?;
    let slice = invoices::list_after(
        &mut db,
        company.id,
        (status, direction, search),
        after,
        INVOICES_PER_PAGE,
        today,
    )
    .await?;
    let nav = Nav::read(&mut db, user_id, lang, company, "invoices").await?;
    part(&InvoicesPart {
        q_param: super::html::url_param(&q),
        q,
        status: status.as_str(),
        direction: direction.map_or("all", Direction::as_str),
        rows: slice.items.iter().map(|i| Row::of(lang, i)).collect(),
        next: slice.next_cursor,
        first_page: after.is_none(),
        nav,
    })
}

/// Reads a cursor as [`Cursor::encode`] writes it: `YYYY-MM-DD.id`.
fn parse_cursor(text: &str) -> Option<Cursor> {
    let (day, id) = text.split_once('.')?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Some(Cursor {
        date: time::Date::parse(day, &format).ok()?,
        id: id.parse().ok().filter(|id: &i64| *id > 0)?,
    })
}

/// A chart as the part lists it: its image's address, title and figures.
struct ChartView {
    src: String,
    title: String,
    alt: String,
    figures: Vec<Figure>,
}

#[derive(Template)]
#[template(path = "app_charts.html")]
struct ChartsPart {
    nav: Nav,
    charts: Vec<ChartView>,
    left_out: Option<String>,
}

/// `GET /app/companies/{id}/charts`: the charts with something to show,
/// each an image with its figures beside it (also its text alternative).
pub async fn chart_list(req: Req) -> Result<HttpResponse, ApiError> {
    let (company, lang, user_id, mut db) = member(&req).await?;
    let today = crate::services::finance::today(&mut *db).await?;
    let data = crate::services::finance::charts::compute(&mut db, &company, today).await?;
    let base = format!("/app/companies/{}/charts", company.id);
    let charts = charts::pictures(lang, &data)
        .into_iter()
        .map(|p| view(&base, &p))
        .collect();
    let nav = Nav::read(&mut db, user_id, lang, company, "charts").await?;
    part(&ChartsPart {
        charts,
        left_out: charts::left_out(lang, &data.other_currencies),
        nav,
    })
}

fn view(base: &str, p: &Picture) -> ChartView {
    let figures: Vec<Figure> = p
        .figures
        .iter()
        .map(|(label, value)| Figure {
            label,
            value: value.clone(),
        })
        .collect();
    let alt = figures
        .iter()
        .map(|f| format!("{}: {}", f.label, f.value))
        .collect::<Vec<_>>()
        .join("; ");
    ChartView {
        src: format!("{base}/{}.svg", p.kind.slug()),
        title: p.chart.title.clone(),
        alt: format!("{}. {alt}", p.chart.title),
        figures,
    }
}

/// `GET /app/companies/{id}/charts/{kind}.svg`: one chart as SVG, drawn
/// within the process's bound (503 with `Retry-After` past it).
pub async fn chart_svg(req: Req) -> Result<HttpResponse, ApiError> {
    let kind: String = req.param("kind")?;
    let kind = Kind::from_slug(&kind).ok_or(ApiError::NotFound)?;
    let (company, lang, _, mut db) = member(&req).await?;
    let today = crate::services::finance::today(&mut *db).await?;
    let data = crate::services::finance::charts::compute(&mut db, &company, today).await?;
    drop(db);
    let picture = charts::picture(lang, &data, kind);
    let drawn = charts::svg(vec![picture], Theme::LIGHT)
        .await
        .map_err(|e| match e {
            RenderError::Busy => ApiError::Busy(
                "other charts are being drawn; try again in a few seconds",
                std::time::Duration::from_secs(2),
            ),
            RenderError::Failed => ApiError::Internal(anyhow::anyhow!("a chart was not drawn")),
        })?;
    let (_, svg) = drawn.into_iter().next().ok_or(ApiError::NotFound)?;
    Ok(no_store(with_type(StatusCode::OK, "image/svg+xml", svg)))
}

/// One partner as a row of the list.
struct PartnerRow {
    name: String,
    cui: Option<String>,
    outstanding: String,
    credit: Option<String>,
    overdue: Option<String>,
    /// `0–30: …; 31–60: …` of the non-empty buckets.
    ageing: String,
}

impl PartnerRow {
    fn of(lang: Lang, p: &Partner) -> Self {
        let m = |a| money(lang, a, p.currency);
        let a = p.ageing;
        let ageing = [
            ("0–30", a.days_0_30),
            ("31–60", a.days_31_60),
            ("61–90", a.days_61_90),
            ("> 90", a.days_over_90),
        ]
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(days, amount)| format!("{days} {}: {}", lang.pick("zile", "days"), m(amount)))
        .collect::<Vec<_>>()
        .join("; ");
        Self {
            name: p.name.clone(),
            cui: p.cui.clone(),
            outstanding: m(p.outstanding),
            credit: (!p.credit.is_zero()).then(|| m(p.credit)),
            overdue: (!p.overdue.is_zero()).then(|| m(p.overdue)),
            ageing,
        }
    }
}

#[derive(Template)]
#[template(path = "app_partners.html")]
struct PartnersPart {
    nav: Nav,
    direction: &'static str,
    totals: Vec<Figure>,
    rows: Vec<PartnerRow>,
    next: Option<String>,
    first_page: bool,
}

/// `GET /app/companies/{id}/partners?direction=issued|received&cursor=`:
/// who owes the company most (issued, the default) or whom it owes most,
/// with the company-wide line and the ageing of each
/// ([`partners::list_after`], as the API and `/parteneri` compute them).
pub async fn partner_list(req: Req) -> Result<HttpResponse, ApiError> {
    let (company, lang, user_id, mut db) = member(&req).await?;
    let direction = match param(&req, "direction").as_deref() {
        None | Some("" | "issued") => Direction::Issued,
        Some("received") => Direction::Received,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "direction must be issued or received".into(),
            ));
        }
    };
    let after = match param(&req, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(partners::Cursor::decode(&c).ok_or_else(|| {
            ApiError::BadRequest("cursor must be the one the previous page gave".into())
        })?),
    };
    let first_page = after.is_none();
    let today = crate::services::finance::today(&mut *db).await?;
    let query = partners::Query {
        direction: Some(direction),
        after,
    };
    let page = partners::list_after(&mut db, &company, &query, PARTNERS_PER_PAGE, today).await?;
    let totals = page
        .totals
        .iter()
        .flat_map(|t| {
            let m = |a| money(lang, a, t.currency);
            [
                Figure {
                    label: lang.pick("de încasat", "outstanding"),
                    value: m(t.outstanding),
                },
                Figure {
                    label: lang.pick("restant", "overdue"),
                    value: m(t.overdue),
                },
            ]
        })
        .collect();
    let nav = Nav::read(&mut db, user_id, lang, company, "partners").await?;
    part(&PartnersPart {
        direction: direction.as_str(),
        totals,
        rows: page.items.iter().map(|p| PartnerRow::of(lang, p)).collect(),
        next: page.next_cursor,
        first_page,
        nav,
    })
}

/// A treasury account as the cash view lists it.
struct AccountRow {
    name: String,
    bank: bool,
    balance: String,
    as_of: Option<String>,
}

/// A month of the cash view: its totals, then its entries on this page.
struct MonthView {
    title: String,
    totals: Vec<Figure>,
    entries: Vec<CashRow>,
}

/// One cash entry as a row of the list.
struct CashRow {
    day: String,
    note: String,
    amount: String,
    income: bool,
}

#[derive(Template)]
#[template(path = "app_cash.html")]
struct CashPart {
    nav: Nav,
    accounts: Vec<AccountRow>,
    months: Vec<MonthView>,
    next: Option<String>,
    first_page: bool,
}

/// A month's name and year: `noiembrie 2026`, `November 2026`.
fn month_title(lang: Lang, first_day: time::Date) -> String {
    const RO: [&str; 12] = [
        "ianuarie",
        "februarie",
        "martie",
        "aprilie",
        "mai",
        "iunie",
        "iulie",
        "august",
        "septembrie",
        "octombrie",
        "noiembrie",
        "decembrie",
    ];
    let month = first_day.month();
    match lang {
        Lang::Ro => format!(
            "{} {}",
            RO[usize::from(u8::from(month)) - 1],
            first_day.year()
        ),
        Lang::En => format!("{month} {}", first_day.year()),
    }
}

/// `GET /app/companies/{id}/cash?cursor=`: the treasury accounts' balances
/// (first page), then the cash entries newest first, a keyset page at a
/// time, grouped by month, each month with its income and expenses (all of
/// the month's entries, not only this page's).
pub async fn cash_list(req: Req) -> Result<HttpResponse, ApiError> {
    let (company, lang, user_id, mut db) = member(&req).await?;
    let after = match param(&req, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(parse_cursor(&c).ok_or_else(|| {
            ApiError::BadRequest("cursor must be the one the previous page gave".into())
        })?),
    };
    let accounts = if after.is_none() {
        treasury::list(&mut db, company.id).await?
    } else {
        Vec::new()
    };
    let mut entries = cash::newest_after(&mut db, company.id, after, CASH_PER_PAGE + 1).await?;
    let next = (entries.len() > CASH_PER_PAGE as usize).then(|| {
        entries.truncate(CASH_PER_PAGE as usize);
        entries.last().map(|e| {
            Cursor {
                date: e.entry_date,
                id: e.id,
            }
            .encode()
        })
    });
    let first_day = |d: time::Date| d.replace_day(1).expect("every month has a first day");
    let mut months: Vec<time::Date> = entries.iter().map(|e| first_day(e.entry_date)).collect();
    months.dedup();
    let totals = cash::month_totals(&mut db, company.id, &months).await?;
    let months = months
        .into_iter()
        .map(|month| MonthView {
            title: month_title(lang, month),
            totals: totals
                .iter()
                .filter(|t| t.month == month)
                .flat_map(|t| {
                    let m = |a| money(lang, a, t.totals.currency);
                    [
                        Figure {
                            label: lang.pick("încasări", "income"),
                            value: m(t.totals.income),
                        },
                        Figure {
                            label: lang.pick("cheltuieli", "expenses"),
                            value: m(t.totals.expenses),
                        },
                    ]
                })
                .collect(),
            entries: entries
                .iter()
                .filter(|e| first_day(e.entry_date) == month)
                .map(|e| CashRow {
                    day: date(lang, e.entry_date),
                    note: e.note.clone(),
                    amount: money(lang, e.amount, e.currency),
                    income: !e.amount.is_negative(),
                })
                .collect(),
        })
        .collect();
    let nav = Nav::read(&mut db, user_id, lang, company, "cash").await?;
    part(&CashPart {
        accounts: accounts
            .iter()
            .map(|a| AccountRow {
                name: a.name.clone(),
                bank: a.kind == treasury::Kind::Bank,
                balance: money(lang, a.balance, a.currency),
                as_of: a.as_of.map(|d| date(lang, d)),
            })
            .collect(),
        months,
        next: next.flatten(),
        first_page: after.is_none(),
        nav,
    })
}
