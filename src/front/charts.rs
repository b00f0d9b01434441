//! The charts as people see them, shared by the bot's `/chart` (PNG photos)
//! and the Mini App (SVG pictures): each chart's title, legend, month names
//! and key figures in the reader's language, from the figures of
//! [`crate::services::finance::charts`], and the bound on drawing them.
//!
//! Drawing is CPU and memory (an 800 × 600 RGB buffer, 1.4 MB, per chart):
//! at most [`MAX_RENDERING`] requests draw at once in a process, up to
//! [`RENDER_QUEUE`] more wait for a turn (at most [`RENDER_WAIT`]; a waiting
//! request holds no buffer), and the rest are told to try again; a request
//! draws at most the four charts here. The wait is what lets the Mini App
//! ask for its four pictures at once.

use std::sync::LazyLock;
use std::time::Duration;

use crate::blocks::Lang;
use crate::blocks::chart::{self, BarChart, Rgb, Series, colours};
use crate::blocks::format::money;
use crate::blocks::gate::Gate;
use crate::blocks::money::{Amount, Currency};
use crate::services::finance::charts::{ChartData, Month};

/// Requests drawing charts at once in one process (each on a blocking
/// thread, so the async runtime keeps serving meanwhile).
pub const MAX_RENDERING: usize = 2;

/// Requests that may wait for a turn to draw: the Mini App's four pictures
/// of one person, with room for a second person's.
pub const RENDER_QUEUE: usize = 8;

/// How long a request waits for its turn before it is told to try again.
pub const RENDER_WAIT: Duration = Duration::from_secs(5);

static RENDERING: LazyLock<Gate> =
    LazyLock::new(|| Gate::new(MAX_RENDERING, RENDER_QUEUE, RENDER_WAIT));

/// The process's bound on drawing: every chart drawn passes it. Public so
/// that a test can hold its slots and see requests wait for their turn.
pub fn rendering() -> &'static Gate {
    &RENDERING
}

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

/// A text in both languages: Romanian, English.
type Words = [&'static str; 2];

/// One of a monthly chart's two bars: its legend, its label among the
/// caption's figures, its colour, and which figure of a month it draws.
struct Bar {
    legend: Words,
    figure: Words,
    colour: Rgb,
    of: fn(&Month) -> Amount,
}

/// A chart of two amounts a month side by side, its caption carrying both
/// sums and what is left between them. Sales, purchases and cash differ only
/// in this table.
struct Monthly {
    title: Words,
    bars: [Bar; 2],
    /// The caption's name for the first sum less the second.
    rest: Words,
}

/// A [`Bar`] whose caption label is its legend.
const fn bar(legend: Words, colour: Rgb, of: fn(&Month) -> Amount) -> Bar {
    Bar {
        legend,
        figure: legend,
        colour,
        of,
    }
}

const SALES: Monthly = Monthly {
    title: ["Facturi emise și încasate", "Invoiced and collected"],
    bars: [
        bar(["facturat", "invoiced"], colours::BLUE, |m| m.invoiced),
        bar(["încasat", "collected"], colours::ORANGE, |m| m.collected),
    ],
    rest: ["rămas de încasat", "still to collect"],
};

const PURCHASES: Monthly = Monthly {
    title: ["Facturi primite și plătite", "Bills received and paid"],
    bars: [
        Bar {
            figure: ["facturi primite", "bills received"],
            ..bar(["primite", "received"], colours::PURPLE, |m| m.payables)
        },
        bar(["plătit", "paid"], colours::ORANGE, |m| m.paid),
    ],
    rest: ["rămas de plătit", "still to pay"],
};

const CASH: Monthly = Monthly {
    title: [
        "Numerar: încasări și cheltuieli",
        "Cash income and expenses",
    ],
    bars: [
        bar(["încasări", "income"], colours::BLUE, |m| m.income),
        bar(["cheltuieli", "expenses"], colours::PURPLE, |m| m.expenses),
    ],
    rest: ["net", "net"],
};

/// What a picture is made of before it becomes one: title, groups, series, figures.
type Parts = (
    String,
    Vec<String>,
    Vec<Series>,
    Vec<(&'static str, String)>,
);

/// The chart `kind` of `data`, even when it has nothing to show.
pub fn picture(lang: Lang, data: &ChartData, kind: Kind) -> Picture {
    let (title, groups, series, figures) = match kind {
        Kind::Sales => monthly(lang, data, &SALES),
        Kind::Purchases => monthly(lang, data, &PURCHASES),
        Kind::Cash => monthly(lang, data, &CASH),
        Kind::Ageing => ageing(lang, data),
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

/// The parts of a [`Monthly`] chart: a group a month, a series a bar.
fn monthly(lang: Lang, data: &ChartData, chart: &Monthly) -> Parts {
    let pick = |[ro, en]: Words| lang.pick(ro, en);
    let m = |amount: Amount| money(lang, amount, data.currency);
    let months = data
        .months
        .iter()
        .map(|month| month_name(lang, month.start.month()).to_owned())
        .collect();
    let series = chart
        .bars
        .iter()
        .map(|bar| Series {
            name: pick(bar.legend).to_owned(),
            colour: bar.colour,
            values: data.months.iter().map(|m| (bar.of)(m).minor()).collect(),
        })
        .collect();
    let [first, second] = chart
        .bars
        .each_ref()
        .map(|bar| -> Amount { data.months.iter().map(bar.of).sum() });
    let figures = vec![
        (pick(chart.bars[0].figure), m(first)),
        (pick(chart.bars[1].figure), m(second)),
        (pick(chart.rest), m(first - second)),
    ];
    (pick(chart.title).to_owned(), months, series, figures)
}

/// The parts of the receivables' ageing: a group per lateness.
fn ageing(lang: Lang, data: &ChartData) -> Parts {
    let m = |amount: Amount| money(lang, amount, data.currency);
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
        vec![Series {
            name: lang.pick("restante", "overdue").to_owned(),
            colour: colours::RED,
            values: [a.days_0_30, a.days_31_60, a.days_61_90, a.over_90]
                .map(Amount::minor)
                .to_vec(),
        }],
        vec![
            (lang.pick("de încasat", "to collect"), m(a.outstanding())),
            (lang.pick("restante", "overdue"), m(a.overdue())),
            (lang.pick("peste 90 de zile", "over 90 days"), m(a.over_90)),
        ],
    )
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
    let Ok(permit) = RENDERING.enter().await else {
        return Err(RenderError::Busy);
    };
    // The turn moves into the blocking task: held until the drawing is done,
    // even when the request that asked is dropped halfway.
    let drawn = tokio::task::spawn_blocking(move || {
        let _turn = permit;
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

#[cfg(test)]
#[expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts in minor units read best as units_cents: 1234_56 is 1234.56"
)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::services::finance::charts::{Ageing, Month};

    fn data() -> ChartData {
        let lei = Amount::from_minor;
        let month = |start, n: i64| Month {
            start,
            invoiced: lei(1_000_00 * n),
            collected: lei(600_00 * n),
            payables: lei(400_00 * n),
            paid: lei(100_00 * n),
            income: lei(50_00 * n),
            expenses: lei(20_00 * n),
        };
        ChartData {
            currency: Currency::RON,
            as_of: date!(2026 - 12 - 03),
            months: vec![
                month(date!(2026 - 11 - 01), 1),
                month(date!(2026 - 12 - 01), 2),
            ],
            ageing: Ageing {
                not_due: lei(10_00),
                days_0_30: lei(1_00),
                days_31_60: lei(2_00),
                days_61_90: lei(3_00),
                over_90: lei(4_00),
            },
            other_currencies: vec![],
        }
    }

    #[test]
    fn each_monthly_chart_draws_its_two_figures_and_sums_them_with_what_is_left() {
        /// The kind, its title, legends, values per series, and figures.
        type Case = (
            Kind,
            &'static str,
            Words,
            [[i64; 2]; 2],
            [(&'static str, &'static str); 3],
        );
        let cases: [Case; 3] = [
            (
                Kind::Sales,
                "Invoiced and collected",
                ["invoiced", "collected"],
                [[1_000_00, 2_000_00], [600_00, 1_200_00]],
                [
                    ("invoiced", "RON 3,000.00"),
                    ("collected", "RON 1,800.00"),
                    ("still to collect", "RON 1,200.00"),
                ],
            ),
            (
                Kind::Purchases,
                "Bills received and paid",
                ["received", "paid"],
                [[400_00, 800_00], [100_00, 200_00]],
                [
                    ("bills received", "RON 1,200.00"),
                    ("paid", "RON 300.00"),
                    ("still to pay", "RON 900.00"),
                ],
            ),
            (
                Kind::Cash,
                "Cash income and expenses",
                ["income", "expenses"],
                [[50_00, 100_00], [20_00, 40_00]],
                [
                    ("income", "RON 150.00"),
                    ("expenses", "RON 60.00"),
                    ("net", "RON 90.00"),
                ],
            ),
        ];
        for (kind, title, legends, values, figures) in cases {
            let picture = picture(Lang::En, &data(), kind);
            assert_eq!(picture.chart.title, title, "{kind:?}");
            assert_eq!(picture.chart.groups, ["Nov", "Dec"], "{kind:?}");
            let series: Vec<_> = picture
                .chart
                .series
                .iter()
                .map(|s| (s.name.as_str(), s.values.clone()))
                .collect();
            assert_eq!(
                series,
                [
                    (legends[0], values[0].to_vec()),
                    (legends[1], values[1].to_vec())
                ],
                "{kind:?}"
            );
            let got: Vec<_> = picture
                .figures
                .iter()
                .map(|(label, amount)| (*label, amount.as_str()))
                .collect();
            assert_eq!(got, figures, "{kind:?}");
        }
    }

    #[test]
    fn the_monthly_charts_keep_their_colours_and_romanian_names() {
        use colours::{BLUE, ORANGE, PURPLE, RED};
        /// The kind, its title, its legends with their colours, its figures' labels.
        type Case = (
            Kind,
            &'static str,
            &'static [(&'static str, Rgb)],
            [&'static str; 3],
        );
        let cases: [Case; 4] = [
            (
                Kind::Sales,
                "Facturi emise și încasate",
                &[("facturat", BLUE), ("încasat", ORANGE)],
                ["facturat", "încasat", "rămas de încasat"],
            ),
            (
                Kind::Purchases,
                "Facturi primite și plătite",
                &[("primite", PURPLE), ("plătit", ORANGE)],
                ["facturi primite", "plătit", "rămas de plătit"],
            ),
            (
                Kind::Cash,
                "Numerar: încasări și cheltuieli",
                &[("încasări", BLUE), ("cheltuieli", PURPLE)],
                ["încasări", "cheltuieli", "net"],
            ),
            (
                Kind::Ageing,
                "Restanțe de încasat, pe zile",
                &[("restante", RED)],
                ["de încasat", "restante", "peste 90 de zile"],
            ),
        ];
        for (kind, title, series, figures) in cases {
            let p = picture(Lang::Ro, &data(), kind);
            assert_eq!(p.chart.title, title, "{kind:?}");
            let got: Vec<_> = p
                .chart
                .series
                .iter()
                .map(|s| (s.name.as_str(), s.colour))
                .collect();
            assert_eq!(got, series, "{kind:?}");
            let labels: Vec<_> = p.figures.iter().map(|f| f.0).collect();
            assert_eq!(labels, figures, "{kind:?}");
        }
        assert_eq!(
            picture(Lang::Ro, &data(), Kind::Ageing).chart.series[0].values,
            [1_00, 2_00, 3_00, 4_00]
        );
    }
}
