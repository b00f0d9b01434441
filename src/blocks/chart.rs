//! Bar charts of money, drawn the same way into a PNG (the bot's `/chart`
//! photos) and an SVG (the Mini App's pictures): a title, a legend, groups
//! of bars (months, ageing buckets) over labelled amounts.
//!
//! Drawn with plotters; text with DejaVu Sans compiled into the binary
//! (`assets/fonts/`, its licence beside it), so no system fonts are needed
//! and the same data always makes the same bytes. A chart is bounded before
//! anything is drawn: a fixed size, at most [`MAX_GROUPS`] groups of at most
//! [`MAX_SERIES`] bars, and the caller bounds how many render at once.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::blocks::Lang;

/// The font, compiled in: DejaVu Sans (Bitstream Vera licence,
/// `assets/fonts/LICENSE-DejaVu.txt`), which has Romanian's ș and ț.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family name charts ask plotters for; in an SVG, what the browser
/// falls back to (every phone has a sans-serif).
const FAMILY: &str = "sans-serif";

/// Pixels of a PNG chart: 4:3, which Telegram shows across a phone's width
/// with its text still readable, and a few hundred kilobytes of memory.
pub const WIDTH: u32 = 800;
/// See [`WIDTH`].
pub const HEIGHT: u32 = 600;

/// Most groups (bar positions along the axis) one chart takes.
pub const MAX_GROUPS: usize = 12;
/// Most bars in one group.
pub const MAX_SERIES: usize = 4;

/// Text sizes, in pixels of an 800-pixel-wide image: scaled to a phone's
/// width (about 360 points) the labels are still about 10 points.
const TITLE_PX: u32 = 34;
const LABEL_PX: u32 = 24;

/// A colour, red, green, blue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn plotters(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// The series colours, chosen to stay apart for the common colour
/// blindnesses (blue against orange) and on light and dark backgrounds.
pub mod colours {
    use super::Rgb;
    /// Money that came or comes in: invoiced, income.
    pub const BLUE: Rgb = Rgb(0x1F, 0x6F, 0xD0);
    /// What was settled: collected, paid.
    pub const ORANGE: Rgb = Rgb(0xE8, 0x7B, 0x14);
    /// Money going out: expenses.
    pub const PURPLE: Rgb = Rgb(0x8E, 0x44, 0xAD);
    /// Overdue.
    pub const RED: Rgb = Rgb(0xC6, 0x28, 0x28);
}

/// The colours around the bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Behind everything.
    pub background: Rgb,
    /// Title, labels, axes.
    pub text: Rgb,
    /// The light lines across the amounts.
    pub grid: Rgb,
}

impl Theme {
    /// Dark text on white: the bot's photos.
    pub const LIGHT: Self = Self {
        background: Rgb(0xFF, 0xFF, 0xFF),
        text: Rgb(0x22, 0x22, 0x22),
        grid: Rgb(0xDD, 0xDD, 0xDD),
    };
}

/// One kind of bar: its name in the legend, its colour, and an amount (in
/// minor units, cents) for each group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// The bars' colour.
    pub colour: Rgb,
    /// One amount per group, minor units.
    pub values: Vec<i64>,
}

/// A bar chart: what to draw, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    /// Above the chart.
    pub title: String,
    /// The label under each group.
    pub groups: Vec<String>,
    /// The bars of each group, left to right.
    pub series: Vec<Series>,
    /// The currency of every amount, shown on the amounts' axis.
    pub currency: String,
    /// How the amounts on the axis are written (`12.500` or `12,500`).
    pub lang: Lang,
}

impl BarChart {
    /// Whether any bar has a height: a chart of nothing but zeros says nothing.
    pub fn has_data(&self) -> bool {
        self.series.iter().flat_map(|s| &s.values).any(|&v| v != 0)
    }
}

/// Why a chart was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// More groups or series than a chart takes, or a series without one
    /// amount per group: the caller's mistake.
    #[error("the chart is malformed: {0}")]
    Shape(&'static str),
    /// The drawing library failed (it should not, drawing into memory).
    #[error("drawing the chart failed: {0}")]
    Draw(String),
}

/// The chart as a PNG of [`WIDTH`] × [`HEIGHT`] pixels on [`Theme::LIGHT`].
///
/// # Errors
/// See [`ChartError`].
pub fn png(chart: &BarChart) -> Result<Vec<u8>, ChartError> {
    check(chart)?;
    let mut rgb = vec![0; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart, Theme::LIGHT)?;
        root.present().map_err(draw_error)?;
    }
    Ok(crate::blocks::png::encode_rgb(WIDTH, HEIGHT, &rgb))
}

/// The chart as an SVG image of [`WIDTH`] × [`HEIGHT`] with a `viewBox`, so
/// it scales to the width it is shown at.
///
/// # Errors
/// See [`ChartError`].
pub fn svg(chart: &BarChart, theme: Theme) -> Result<String, ChartError> {
    check(chart)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart, theme)?;
        root.present().map_err(draw_error)?;
    }
    Ok(out)
}

fn check(chart: &BarChart) -> Result<(), ChartError> {
    if chart.groups.is_empty() || chart.groups.len() > MAX_GROUPS {
        return Err(ChartError::Shape("1 to 12 groups"));
    }
    if chart.series.is_empty() || chart.series.len() > MAX_SERIES {
        return Err(ChartError::Shape("1 to 4 series"));
    }
    if chart
        .series
        .iter()
        .any(|s| s.values.len() != chart.groups.len())
    {
        return Err(ChartError::Shape("one amount per group in every series"));
    }
    Ok(())
}

fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Registers the embedded font with plotters, once per process.
fn font_registered() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ChartError::Draw("the embedded font is unreadable".into()))
    }
}

/// Draws `chart` on `root`: title and legend at the top, the bars below.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
    theme: Theme,
) -> Result<(), ChartError> {
    font_registered()?;
    let text = theme.text.plotters();
    let label = |px: u32| TextStyle::from((FAMILY, px).into_font()).color(&text);
    let d = |e: DrawingAreaErrorKind<DB::ErrorType>| draw_error(e);

    root.fill(&theme.background.plotters()).map_err(d)?;
    // A long title (a translation, say) is drawn smaller rather than cut.
    let mut title_px = TITLE_PX;
    while title_px > LABEL_PX
        && root
            .estimate_text_size(&chart.title, &label(title_px))
            .map_err(d)?
            .0
            > WIDTH - 48
    {
        title_px -= 2;
    }
    root.draw(&Text::new(chart.title.as_str(), (24, 18), label(title_px)))
        .map_err(d)?;
    draw_legend(root, chart, label(LABEL_PX))?;

    let (low, high) = range(chart);
    let groups = chart.groups.len();
    let area = root.margin(112, 16, 16, 16);
    let mut plot = ChartBuilder::on(&area)
        .x_label_area_size(44)
        .y_label_area_size(110)
        .build_cartesian_2d(0f64..groups as f64, low..high)
        .map_err(d)?;
    let axis_label = |v: &f64| axis_amount(chart.lang, *v);
    plot.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&axis_label)
        .y_desc(chart.currency.as_str())
        .label_style(label(LABEL_PX))
        .axis_desc_style(label(LABEL_PX))
        .axis_style(text)
        .light_line_style(theme.background.plotters())
        .bold_line_style(theme.grid.plotters())
        .draw()
        .map_err(d)?;

    // Bars: each group's slot, a tenth of it free on either side, shared by its series.
    let series = chart.series.len() as f64;
    let width = 0.8 / series;
    for (s, line) in chart.series.iter().enumerate() {
        let colour = line.colour.plotters();
        plot.draw_series(line.values.iter().enumerate().map(|(g, &minor)| {
            let x0 = g as f64 + 0.1 + s as f64 * width;
            // A sliver between neighbouring bars keeps them apart.
            let x1 = x0 + width * 0.92;
            Rectangle::new([(x0, 0.0), (x1, major(minor))], colour.filled())
        }))
        .map_err(d)?;
    }
    if low < 0.0 {
        plot.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (groups as f64, 0.0)],
            text,
        )))
        .map_err(d)?;
    }

    // The groups' labels, centred under their bars (drawn on the whole
    // image, where plotters' own x labels could not be placed per group).
    let under = label(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Top));
    for (g, name) in chart.groups.iter().enumerate() {
        let (x, y) = plot.backend_coord(&(g as f64 + 0.5, low));
        root.draw(&Text::new(name.as_str(), (x, y + 10), under.clone()))
            .map_err(d)?;
    }
    Ok(())
}

/// The legend: a square of each series' colour and its name, in a row under the title.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
    style: TextStyle<'_>,
) -> Result<(), ChartError> {
    let d = |e: DrawingAreaErrorKind<DB::ErrorType>| draw_error(e);
    let mut x = 24;
    let y = 70;
    for line in &chart.series {
        root.draw(&Rectangle::new(
            [(x, y), (x + 22, y + 22)],
            line.colour.plotters().filled(),
        ))
        .map_err(d)?;
        root.draw(&Text::new(line.name.as_str(), (x + 30, y), style.clone()))
            .map_err(d)?;
        let (w, _) = root.estimate_text_size(&line.name, &style).map_err(d)?;
        x += 30 + i32::try_from(w).unwrap_or(200) + 28;
    }
    Ok(())
}

/// Minor units as the major units drawn (a picture, not a figure: the
/// caption carries the exact amounts).
#[expect(
    clippy::cast_precision_loss,
    reason = "drawn to a pixel, far coarser than f64"
)]
fn major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// The amounts' range: from zero (or the lowest negative) to the highest
/// bar with a little room above, never empty.
fn range(chart: &BarChart) -> (f64, f64) {
    let values = chart.series.iter().flat_map(|s| &s.values).copied();
    let low = major(values.clone().min().unwrap_or(0).min(0));
    let high = major(values.max().unwrap_or(0).max(0));
    if low == 0.0 && high == 0.0 {
        return (0.0, 1.0);
    }
    let room = (high - low) * 0.08;
    (if low < 0.0 { low - room } else { 0.0 }, high + room)
}

/// An amount on the axis, whole units grouped by thousands as people write
/// them: `12.500` (Romanian), `12,500` (English); millions shortened:
/// `1,5 mil.`, `1.5M`.
pub fn axis_amount(lang: Lang, value: f64) -> String {
    let (thousands, decimal) = lang.pick(('.', ','), (',', '.'));
    let sign = if value < 0.0 { "−" } else { "" };
    let value = value.abs();
    if value >= 1_000_000.0 {
        let tenths = (value / 100_000.0).round() / 10.0;
        let text = format!("{tenths}").replace('.', &decimal.to_string());
        return format!("{sign}{text}{}", lang.pick(" mil.", "M"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "under a million, non-negative"
    )]
    let whole = value.round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}")
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn sample() -> BarChart {
        BarChart {
            title: "Facturi emise și încasări".into(),
            groups: vec!["iul.".into(), "aug.".into(), "sept.".into()],
            series: vec![
                Series {
                    name: "facturat".into(),
                    colour: colours::BLUE,
                    values: vec![120_000, 0, 250_000],
                },
                Series {
                    name: "încasat".into(),
                    colour: colours::ORANGE,
                    values: vec![100_000, 0, 50_000],
                },
            ],
            currency: "RON".into(),
            lang: Lang::Ro,
        }
    }

    /// The image's RGB pixels, decoded with an independent decoder.
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a small image")];
        let frame = reader.next_frame(&mut pixels).expect("valid PNG data");
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        pixels.truncate(frame.buffer_size());
        (frame.width, frame.height, pixels)
    }

    fn count(pixels: &[u8], colour: Rgb) -> usize {
        pixels
            .chunks_exact(3)
            .filter(|p| *p == [colour.0, colour.1, colour.2])
            .count()
    }

    #[test]
    fn png_is_the_size_and_draws_each_series_in_its_colour() {
        // Arrange
        let chart = sample();

        // Act
        let bytes = png(&chart).expect("drawn");

        // Assert
        let (width, height, pixels) = decode(&bytes);
        assert_eq!((width, height), (WIDTH, HEIGHT));
        let blue = count(&pixels, colours::BLUE);
        let orange = count(&pixels, colours::ORANGE);
        assert!(blue > 5_000, "{blue} blue pixels");
        assert!(orange > 2_000, "{orange} orange pixels");
        // 3.7 against 1.5 thousand: the taller bars are the larger area.
        assert!(blue > orange, "{blue} blue against {orange} orange");
        assert_eq!(count(&pixels, colours::RED), 0, "no series is red");
        // Text was drawn: dark pixels beyond the axes' lines.
        let dark = pixels
            .chunks_exact(3)
            .filter(|p| p.iter().all(|&c| c < 80))
            .count();
        assert!(dark > 3_000, "{dark} dark pixels");
    }

    #[test]
    fn the_same_chart_makes_the_same_bytes() {
        assert_eq!(png(&sample()).unwrap(), png(&sample()).unwrap());
        assert_eq!(
            svg(&sample(), Theme::LIGHT).unwrap(),
            svg(&sample(), Theme::LIGHT).unwrap()
        );
    }

    #[test]
    fn more_data_draws_more_bars() {
        let mut bigger = sample();
        bigger.series[1].values = vec![100_000, 80_000, 50_000];
        let (_, _, before) = decode(&png(&sample()).unwrap());
        let (_, _, after) = decode(&png(&bigger).unwrap());
        assert!(count(&after, colours::ORANGE) > count(&before, colours::ORANGE));
    }

    #[test]
    fn negative_amounts_draw_below_zero() {
        let mut chart = sample();
        chart.series[0].values = vec![-120_000, 0, 250_000];
        let (_, _, pixels) = decode(&png(&chart).unwrap());
        assert!(count(&pixels, colours::BLUE) > 5_000);
    }

    #[test]
    fn svg_scales_and_escapes_its_text() {
        let mut chart = sample();
        chart.title = "<script>alert(1)</script> & co".into();
        let image = svg(&chart, Theme::LIGHT).unwrap();
        assert!(image.starts_with("<svg"), "{image}");
        assert_eq!(image.matches(r#"viewBox="0 0 800 600""#).count(), 1);
        well_formed(&image);
        assert!(!image.contains("<script>"));
        assert!(image.contains("&lt;script&gt;"));
        assert!(
            image.contains("fill=\"#1F6FD0\"") || image.contains("#1F6FD0"),
            "blue bars"
        );
        assert!(image.contains("încasat"));
    }

    /// Parses `svg` as XML, every attribute checked (a duplicate one makes
    /// browsers refuse the whole image).
    fn well_formed(svg: &str) {
        let mut reader = quick_xml::Reader::from_str(svg);
        loop {
            match reader.read_event().expect("well-formed XML") {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(tag) | quick_xml::events::Event::Empty(tag) => {
                    for attribute in tag.attributes() {
                        attribute.expect("a valid, unique attribute");
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn malformed_charts_are_refused() {
        type Spoil = fn(&mut BarChart);
        let cases: [(&str, Spoil); 4] = [
            ("no groups", |c| {
                c.groups.clear();
                for s in &mut c.series {
                    s.values.clear();
                }
            }),
            ("too many groups", |c| {
                c.groups = vec!["x".into(); MAX_GROUPS + 1];
            }),
            ("no series", |c| c.series.clear()),
            ("an amount missing", |c| {
                c.series[0].values.pop();
            }),
        ];
        for (why, spoil) in cases {
            let mut chart = sample();
            spoil(&mut chart);
            assert!(
                matches!(png(&chart), Err(ChartError::Shape(_))),
                "{why}: refused"
            );
        }
    }

    #[test]
    fn zeros_are_no_data() {
        let mut chart = sample();
        for s in &mut chart.series {
            s.values = vec![0; 3];
        }
        assert!(!chart.has_data());
        assert!(sample().has_data());
        // Still drawable, should a caller want to.
        assert!(png(&chart).is_ok());
    }

    #[test]
    fn axis_amounts_read_as_people_write_them() {
        let cases = [
            (Lang::Ro, 0.0, "0"),
            (Lang::Ro, 12_500.0, "12.500"),
            (Lang::En, 12_500.0, "12,500"),
            (Lang::Ro, 999_999.4, "999.999"),
            (Lang::Ro, 1_500_000.0, "1,5 mil."),
            (Lang::En, 1_500_000.0, "1.5M"),
            (Lang::En, -2_000.0, "−2,000"),
        ];
        for (lang, value, want) in cases {
            assert_eq!(axis_amount(lang, value), want, "{lang:?} {value}");
        }
    }
}
