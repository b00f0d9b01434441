//! Logging: `tracing` events to stderr, as text or one JSON object per line.
//! `RUST_LOG` filters; the default keeps chatty dependencies quiet, which also
//! keeps request URLs that carry the bot token out of the logs.
//!
//! The JSON lines are tracing-subscriber's JSON format (flattened event, the
//! current span's fields under `span`), written by [`JsonLine`] instead: that
//! format keeps a span's fields as a JSON object in text and parses it back
//! into a map on every `Span::record` and again for every line, three parses
//! per webhook request (the request span gets `update_id` and `cmd` late).
//! Here a span's fields are kept as the members of that object, ready to
//! copy: recording one appends it, a line copies them. (Members are in the
//! order recorded, not sorted; a field recorded twice appears twice, the
//! later one last.)

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::infra::config::LogFormat;

/// The environment variable with the log filter (`tracing_subscriber`'s syntax).
pub const FILTER_VARIABLE: &str = "RUST_LOG";

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,reqwest=warn,hyper=warn,hyper_util=warn";

/// Installs the global subscriber. Calling it twice is harmless (tests do).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env(FILTER_VARIABLE).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match format {
        // The request span is the only one a line shows: listing every
        // entered span too (`spans`) doubled every line's size and cost.
        LogFormat::Json => builder
            .fmt_fields(JsonMembers)
            .event_format(JsonLine)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// A span's fields as the members of a JSON object, without the braces
/// (`"method":"POST","route":"/x"`), appended to as fields are recorded.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonMembers;

impl<'writer> FormatFields<'writer> for JsonMembers {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut members = Members::new(writer, true);
        fields.record(&mut members);
        members.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut members = Members::new(current.as_writer(), first);
        fields.record(&mut members);
        members.result
    }
}

/// One JSON object per event: `timestamp`, `level`, the event's fields
/// (`message` first), `target`, and the current span as `span` (its fields
/// and `name`), as tracing-subscriber's `json().flatten_event(true)
/// .with_current_span(true).with_span_list(false)` writes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonLine;

impl<S> FormatEvent<S, JsonMembers> for JsonLine
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonMembers>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events forwarded from the `log` crate carry their level and target as fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", meta.level())?;
        let mut fields = Members::new(writer.by_ref(), false);
        event.record(&mut fields);
        fields.result?;
        writer.write_str(",\"target\":")?;
        string(&mut writer, meta.target())?;
        let span = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = span {
            writer.write_str(",\"span\":{")?;
            if let Some(members) = span.extensions().get::<FormattedFields<JsonMembers>>()
                && !members.fields.is_empty()
            {
                writer.write_str(&members.fields)?;
                writer.write_char(',')?;
            }
            writer.write_str("\"name\":")?;
            string(&mut writer, span.name())?;
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

/// Writes fields as JSON object members: strings quoted and escaped,
/// integers and booleans bare, anything else as its `Debug` text in a string.
struct Members<'w> {
    writer: Writer<'w>,
    /// No member written yet: the next needs no comma before it.
    first: bool,
    result: fmt::Result,
}

impl<'w> Members<'w> {
    fn new(writer: Writer<'w>, first: bool) -> Self {
        Self {
            writer,
            first,
            result: Ok(()),
        }
    }

    /// The key, then `value` writes the value.
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let comma = if std::mem::take(&mut self.first) {
            ""
        } else {
            ","
        };
        self.result = self
            .writer
            .write_str(comma)
            .and_then(|()| string(&mut self.writer, field.name()))
            .and_then(|()| self.writer.write_char(':'))
            .and_then(|()| value(&mut self.writer));
    }
}

impl Visit for Members<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |w| string(w, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinities: null, as serde_json writes them.
        if value.is_finite() {
            self.member(field, |w| write!(w, "{value:?}"));
        } else {
            self.member(field, |w| w.write_str("null"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |w| {
            w.write_char('"')?;
            write!(Escaped(&mut *w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

/// `text` as a JSON string.
fn string(writer: &mut impl fmt::Write, text: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escaped(&mut *writer).write_str(text)?;
    writer.write_char('"')
}

/// Escapes what is written through it for the inside of a JSON string.
struct Escaped<W>(W);

impl<W: fmt::Write> fmt::Write for Escaped<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&text[plain..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = at + 1;
        }
        self.0.write_str(&text[plain..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The lines a subscriber wrote, parsed, without their timestamps.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        fn parsed(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().expect("not poisoned").clone();
            let text = String::from_utf8(bytes).expect("UTF-8");
            text.lines()
                .map(|line| {
                    let mut value: serde_json::Value =
                        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                    let timestamp = value
                        .as_object_mut()
                        .and_then(|o| o.remove("timestamp"))
                        .expect("a timestamp");
                    assert!(
                        timestamp.as_str().is_some_and(|t| t.ends_with('Z')),
                        "{timestamp}"
                    );
                    value
                })
                .collect()
        }
    }

    /// A request's life as the server logs it, and events around it.
    fn events() {
        let span = tracing::info_span!(
            "request",
            method = %"POST",
            route = "/telegram/webhook",
            request_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            update_id = tracing::field::Empty,
            cmd = tracing::field::Empty,
        );
        let entered = span.enter();
        span.record("update_id", 7_i64);
        span.record("cmd", "dashboard");
        tracing::warn!(error = %"a \"quoted\"\nline", "unreadable update skipped");
        tracing::info!(latency = %"3 ms", status = 200_u64, "finished processing request");
        drop(entered);
        tracing::info!(
            count = -2_i64,
            ok = true,
            ratio = 0.5_f64,
            "outside any span"
        );
    }

    #[test]
    fn lines_carry_what_tracing_subscribers_json_format_writes() {
        let ours = Lines::default();
        let theirs = Lines::default();
        let writer = ours.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonMembers)
            .event_format(JsonLine)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, events);
        let writer = theirs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, events);

        let (ours, theirs) = (ours.parsed(), theirs.parsed());
        assert_eq!(ours.len(), 3);
        assert_eq!(ours, theirs);
        assert_eq!(ours[1]["span"]["update_id"], 7);
        assert_eq!(ours[1]["span"]["cmd"], "dashboard");
        assert_eq!(ours[0]["error"], "a \"quoted\"\nline");
    }

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        string(&mut out, text).expect("a String takes any text");
        out
    }

    #[test]
    fn strings_are_escaped_as_json_reads_them() {
        for text in [
            "plain",
            "a \"quote\" and \\",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "ă€💵",
            "",
        ] {
            let json = escaped(text);
            assert_eq!(
                serde_json::from_str::<String>(&json).expect("valid JSON"),
                text,
                "{json}"
            );
        }
        assert_eq!(escaped("\u{7}"), "\"\\u0007\"");
    }
}
