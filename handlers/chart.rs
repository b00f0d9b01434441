//! `/chart` (`/grafic`): the active company's charts as photos: the last six
//! months of invoiced and collected, bills received and paid, cash income
//! and expenses, and the overdue receivables by how late they are. Each
//! photo's caption carries the key figures; a chart with nothing to draw is
//! left out, and with nothing at all the answer says so in words.

use crate::blocks::Lang;
use crate::blocks::format::{clip, date};
use crate::blocks::telegram_html::escape;
use crate::front::bot::{BotMethod, HandlerResult, Replies, UpdateCtx, require};
use crate::front::charts::{self, Picture, RenderError};
use crate::infra::telegram::PhotoUpload;
use crate::services::finance::charts as figures;
use crate::services::finance::charts::ChartData;
use crate::services::notifications::digest::{ChartPhoto, Drawn};
use futures_util::future::BoxFuture;

/// Sends the charts.
///
/// # Errors
/// The database failed.
pub async fn run(ctx: &mut UpdateCtx<'_>) -> HandlerResult {
    let (_, company) = match require::company(ctx) {
        Ok(found) => found,
        Err(unmet) => return Ok(Replies::html(ctx.chat_id, unmet)),
    };
    let data = figures::compute(ctx.db, &company, ctx.today).await?;
    let lang = ctx.lang;
    let pictures = charts::pictures(lang, &data);
    let name = escape(&clip(&company.name, 100));
    if pictures.is_empty() {
        let text = ctx.t(
            format!(
                "<b>{name}</b> nu are încă nimic de desenat: nicio factură și nicio înregistrare de numerar în ultimele 6 luni, nimic restant de încasat."
            ),
            format!(
                "<b>{name}</b> has nothing to chart yet: no invoices and no cash entries in the last 6 months, nothing overdue to collect."
            ),
        );
        return Ok(Replies::html(ctx.chat_id, text));
    }
    let drawn = match charts::png(pictures).await {
        Ok(drawn) => drawn,
        Err(RenderError::Busy) => {
            let text = ctx.t(
                "Se desenează deja alte grafice. Trimite /grafic din nou peste câteva secunde.",
                "Other charts are being drawn. Send /chart again in a few seconds.",
            );
            return Ok(Replies::html(ctx.chat_id, text));
        }
        Err(RenderError::Failed) => {
            let text = ctx.t(
                "Nu am reușit să desenez graficele. Încearcă din nou mai târziu.",
                "I could not draw the charts. Please try again later.",
            );
            return Ok(Replies::html(ctx.chat_id, text));
        }
    };
    let mut intro = ctx.t(
        format!(
            "📊 <b>{name}</b>: graficele ultimelor 6 luni, în {}, la {}.",
            data.currency.as_str(),
            date(lang, data.as_of)
        ),
        format!(
            "📊 <b>{name}</b>: the charts of the last 6 months, in {}, as of {}.",
            data.currency.as_str(),
            date(lang, data.as_of)
        ),
    );
    if let Some(note) = charts::left_out(lang, &data.other_currencies) {
        intro.push('\n');
        intro.push_str(&escape(&note));
    }
    let chat_id = ctx.chat_id;
    Ok(drawn
        .into_iter()
        .fold(Replies::html(chat_id, intro), |replies, (picture, png)| {
            replies.then(BotMethod::SendPhoto(PhotoUpload {
                chat_id,
                png,
                file_name: file_name(&picture).to_owned(),
                caption: caption(&picture),
            }))
        }))
}

/// The daily digest's chart: invoiced and collected over the last six
/// months, captioned with its figures
/// ([`crate::services::notifications::digest::Draw`]). It lives with
/// `/chart` because it is the same photo; the scheduler gets it passed in,
/// as services may not depend on the front end.
pub fn digest_chart(lang: Lang, data: ChartData) -> BoxFuture<'static, Drawn> {
    Box::pin(async move {
        let picture = charts::picture(lang, &data, charts::Kind::Sales);
        if !picture.chart.has_data() {
            return Drawn::Nothing;
        }
        match charts::png(vec![picture]).await {
            Ok(drawn) => drawn
                .into_iter()
                .next()
                .map_or(Drawn::Nothing, |(picture, png)| {
                    Drawn::Photo(ChartPhoto {
                        png,
                        file_name: file_name(&picture).to_owned(),
                        caption: format!(
                            "{}\n<i>{}</i>",
                            caption(&picture),
                            lang.pick("ultimele 6 luni", "the last 6 months")
                        ),
                    })
                }),
            Err(RenderError::Busy) => Drawn::Busy,
            Err(RenderError::Failed) => Drawn::Nothing,
        }
    })
}

/// The photo's caption: the title in bold, then a figure a line.
fn caption(picture: &Picture) -> String {
    let mut text = format!("<b>{}</b>", escape(&picture.chart.title));
    for (label, amount) in &picture.figures {
        text.push_str(&format!("\n{label}: <b>{}</b>", escape(amount)));
    }
    text
}

fn file_name(picture: &Picture) -> &'static str {
    match picture.kind {
        charts::Kind::Sales => "sales.png",
        charts::Kind::Purchases => "purchases.png",
        charts::Kind::Cash => "cash.png",
        charts::Kind::Ageing => "ageing.png",
    }
}
