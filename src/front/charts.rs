//! The charts as people see them, shared by the bot's `/chart` (PNG photos)
//! and the Mini App (SVG pictures): each chart's title, legend, month names
//! and key figures in the reader's language, from the figures of
//! [`crate::services::finance::charts`], and the bound on drawing them.
//!
//! Drawing is CPU and memory (an 800 × 600 RGB buffer, 1.4 MB, per chart):
//! at most [`MAX_RENDERING`] requests draw at once in a process, one more
//! is told to try again; a request draws at most the four charts here.

use tokio::sync::Semaphore;

use crate::blocks::Lang;
use crate::blocks::chart::{self, BarChart, Series, colours};
use crate::blocks::format::money;
use crate::blocks::money::{Amount, Currency};
use crate::services::finance::charts::ChartData;

/// Requests drawing charts at once in one process (each on a blocking
/// thread, so the async runtime keeps serving meanwhile).
pub const MAX_RENDERING: usize = 2;

static RENDERING: Semaphore = Semaphore::const_new(MAX_RENDERING);

/// Which chart: also its name in the Mini App's image URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Invoiced and collected, by month.
    Sales,
    /// Received invoices and paid, by month.
    Purchases,
    /// Cash income and expenses, by month.
    Cash,
    /// Receivables past their due date, by how late.
    Ageing,
}

impl Kind {
    /// Every chart, in the order they are shown.
    pub const ALL: [Kind; 4] = [Kind::Sales, Kind::Purchases, Kind::Cash, Kind::Ageing];

    /// The chart's name in URLs and file names.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Sales => "sales",
            Kind::Purchases => "purchases",
            Kind::Cash => "cash",
            Kind::Ageing => "ageing",
        }
    }

    /// The kind named `slug`.
    pub fn from_slug(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// One chart ready to draw, with the figures its caption carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Which chart.
    pub kind: Kind,
    /// What to draw.
    pub chart: BarChart,
    /// The key figures: a label and the amount, written out.
    pub figures: Vec<(&'static str, String)>,
}

/// The charts of `data` that have something to show, in [`Kind::ALL`]'s order.
pub fn pictures(lang: Lang, data: &ChartData) -> Vec<Picture> {
    Kind::ALL
        .into_iter()
        .map(|kind| picture(lang, data, kind))
        .filter(|p| p.chart.has_data())
        .collect()
}

/// The chart `kind` of `data`, even when it has nothing to show.
pub fn picture(lang: Lang, data: &ChartData, kind: Kind) -> Picture {
    let m = |amount: Amount| money(lang, amount, data.currency);
    let months: Vec<String> = data
        .months
        .iter()
        .map(|month| month_name(lang, month.start.month()).to_owned())
        .collect();
    let sum = |f: fn(&crate::services::finance::charts::Month) -> Amount| -> Amount {
        data.months.iter().map(f).sum()
    };
    let series = |name: &str, colour, values: Vec<Amount>| Series {
        name: name.to_owned(),
        colour,
        values: values.into_iter().map(Amount::minor).collect(),
    };
    let by_month = |f: fn(&crate::services::finance::charts::Month) -> Amount| {
        data.months.iter().map(f).collect()
    };
    let (title, groups, series, figures) = match kind {
        Kind::Sales => {
            let (invoiced, collected) = (sum(|m| m.invoiced), sum(|m| m.collected));
            (
                lang.pick("Facturi emise și încasate", "Invoiced and collected")
                    .to_owned(),
                months,
                vec![
                    series(
                        lang.pick("facturat", "invoiced"),
                        colours::BLUE,
                        by_month(|m| m.invoiced),
                    ),
                    series(
                        lang.pick("încasat", "collected"),
                        colours::ORANGE,
                        by_month(|m| m.collected),
                    ),
                ],
                vec![
                    (lang.pick("facturat", "invoiced"), m(invoiced)),
                    (lang.pick("încasat", "collected"), m(collected)),
                    (
                        lang.pick("rămas de încasat", "still to collect"),
                        m(invoiced - collected),
                    ),
                ],
            )
        }
        Kind::Purchases => {
            let (payables, paid) = (sum(|m| m.payables), sum(|m| m.paid));
            (
                lang.pick("Facturi primite și plătite", "Bills received and paid")
                    .to_owned(),
                months,
                vec![
                    series(
                        lang.pick("primite", "received"),
                        colours::PURPLE,
                        by_month(|m| m.payables),
                    ),
                    series(
                        lang.pick("plătit", "paid"),
                        colours::ORANGE,
                        by_month(|m| m.paid),
                    ),
                ],
                vec![
                    (lang.pick("facturi primite", "bills received"), m(payables)),
                    (lang.pick("plătit", "paid"), m(paid)),
                    (
                        lang.pick("rămas de plătit", "still to pay"),
                        m(payables - paid),
                    ),
                ],
            )
        }
        Kind::Cash => {
            let (income, expenses) = (sum(|m| m.income), sum(|m| m.expenses));
            (
                lang.pick(
                    "Numerar: încasări și cheltuieli",
                    "Cash income and expenses",
                )
                .to_owned(),
                months,
                vec![
                    series(
                        lang.pick("încasări", "income"),
                        colours::BLUE,
                        by_month(|m| m.income),
                    ),
                    series(
                        lang.pick("cheltuieli", "expenses"),
                        colours::PURPLE,
                        by_month(|m| m.expenses),
                    ),
                ],
                vec![
                    (lang.pick("încasări", "income"), m(income)),
                    (lang.pick("cheltuieli", "expenses"), m(expenses)),
                    (lang.pick("net", "net"), m(income - expenses)),
                ],
            )
        }
        Kind::Ageing => {
            let a = &data.ageing;
            (
                lang.pick(
                    "Restanțe de încasat, pe zile",
                    "Overdue receivables, by days late",
                )
                .to_owned(),
                ["0–30", "31–60", "61–90", "> 90"]
                    .map(str::to_owned)
                    .to_vec(),
                vec![series(
                    lang.pick("restante", "overdue"),
                    colours::RED,
                    vec![a.days_0_30, a.days_31_60, a.days_61_90, a.over_90],
                )],
                vec![
                    (lang.pick("de încasat", "to collect"), m(a.outstanding())),
                    (lang.pick("restante", "overdue"), m(a.overdue())),
                    (lang.pick("peste 90 de zile", "over 90 days"), m(a.over_90)),
                ],
            )
        }
    };
    Picture {
        kind,
        chart: BarChart {
            title,
            groups,
            series,
            currency: data.currency.as_str().to_owned(),
            lang,
        },
        figures,
    }
}

/// The sentence saying which currencies the charts leave out, if any.
pub fn left_out(lang: Lang, others: &[Currency]) -> Option<String> {
    if others.is_empty() {
        return None;
    }
    let list = others
        .iter()
        .map(Currency::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    Some(lang.pick(
        format!("Sumele în {list} nu sunt în grafice: fiecare grafic are o singură monedă."),
        format!("Amounts in {list} are not in the charts: each chart has one currency."),
    ))
}

/// A month as the groups under the bars name it: `ian.`, `Jan`.
pub fn month_name(lang: Lang, month: time::Month) -> &'static str {
    const RO: [&str; 12] = [
        "ian.", "feb.", "mar.", "apr.", "mai", "iun.", "iul.", "aug.", "sept.", "oct.", "nov.",
        "dec.",
    ];
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let i = usize::from(u8::from(month)) - 1;
    lang.pick(RO[i], EN[i])
}

/// Why charts were not drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Other requests are drawing: try again in a few seconds.
    #[error("other charts are being drawn")]
    Busy,
    /// Drawing failed (logged where it happened).
    #[error("drawing failed")]
    Failed,
}

/// Draws `pictures` as PNGs, in order, on a blocking thread, within the
/// process's bound.
///
/// # Errors
/// [`RenderError`].
pub async fn png(pictures: Vec<Picture>) -> Result<Vec<(Picture, Vec<u8>)>, RenderError> {
    draw(pictures, chart::png).await
}

/// Draws `pictures` as SVG images, as [`png`] does.
///
/// # Errors
/// [`RenderError`].
pub async fn svg(
    pictures: Vec<Picture>,
    theme: chart::Theme,
) -> Result<Vec<(Picture, String)>, RenderError> {
    draw(pictures, move |chart| chart::svg(chart, theme)).await
}

async fn draw<T: Send + 'static>(
    pictures: Vec<Picture>,
    one: impl Fn(&BarChart) -> Result<T, chart::ChartError> + Send + 'static,
) -> Result<Vec<(Picture, T)>, RenderError> {
    let Ok(_permit) = RENDERING.try_acquire() else {
        return Err(RenderError::Busy);
    };
    let drawn = tokio::task::spawn_blocking(move || {
        pictures
            .into_iter()
            .map(|p| one(&p.chart).map(|image| (p, image)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    match drawn {
        Ok(Ok(images)) => Ok(images),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a chart was not drawn");
            Err(RenderError::Failed)
        }
        Err(e) => {
            tracing::error!(error = %e, "drawing charts panicked");
            Err(RenderError::Failed)
        }
    }
}
