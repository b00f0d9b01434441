//! What the fuzz targets check, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/*.rs`, nightly, `deploy/fuzz.sh`) and the stable test
//! that replays the kept inputs (`tests/api/fuzz_replay.rs`, in every test run).
//!
//! Each check drives the same functions the server uses on untrusted input and
//! panics when an invariant breaks; a panic anywhere is a finding.

use ledgerbot::blocks::efactura::{DocumentKind, ZipLimits, read_files};
use ledgerbot::blocks::link_code::LinkCode;
use ledgerbot::blocks::money::{Amount, NumberStyle, parse_signed_human};
use ledgerbot::blocks::telegram_html::escape;
use ledgerbot::front::bot::webhook::{Parsed, parse_as_update, parse_update};
use ledgerbot::front::bot::{Callback, Command, Incoming, Lang};
use ledgerbot::services::finance::PaidFilter;

/// The bot username the checks run as.
pub const BOT_USERNAME: &str = "ledger_test_bot";

/// The names of the targets, each a directory under `fuzz/seeds/` and `fuzz/regressions/`
/// (the replay test walks them; each fuzz target names its own).
#[cfg_attr(not(test), allow(dead_code))]
pub const TARGETS: [&str; 4] = ["intake", "command", "amount", "efactura"];

/// Runs the check of `target` on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "intake" => intake(data),
        "command" => command_bytes(data),
        "amount" => amount_bytes(data),
        "efactura" => efactura(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// A raw webhook body, read as the webhook reads it, then routed: the command
/// and its arguments, or the button data.
pub fn intake(data: &[u8]) {
    let parsed = parse_update(data);
    // A plain message update is read without frankenstein's `Update`
    // (webhook.rs, `MessageUpdate`): the same answer as `Update` gives (its
    // every field, by their `Debug` text: the error in `Unreadable` has no `==`).
    assert_eq!(
        format!("{parsed:?}"),
        format!("{:?}", parse_as_update(data)),
        "read as frankenstein's Update reads it"
    );
    match parsed {
        // Both are 400, and which one a broken body gets is serde's choice: it
        // stops at the first problem (`{"update_id":1e3"` is NotAnUpdate) and
        // calls a struct read from an array with extra elements (`[0,0]`) a
        // syntax error. What holds: a JSON object is never NotJson. (`Value`,
        // not `IgnoredAny`, is the reference: skipping a string does not check
        // its UTF-8.) The fuzzer found each of these; they are kept in
        // fuzz/regressions/intake/.
        Parsed::NotJson => {
            let value = serde_json::from_slice::<serde_json::Value>(data);
            assert!(
                !value.is_ok_and(|v| v.is_object()),
                "NotJson for a well-formed JSON object"
            );
        }
        Parsed::NotAnUpdate => {}
        Parsed::Unreadable { .. } | Parsed::Ignored { .. } => {}
        Parsed::Act { kind, incoming, .. } => match incoming {
            Incoming::Text { text, private, .. } => {
                assert_eq!(kind, "message");
                command(&text, private);
            }
            Incoming::Media { .. } => assert_eq!(kind, "message"),
            Incoming::Document { .. } => assert_eq!(kind, "message"),
            Incoming::Callback { data, .. } => {
                assert_eq!(kind, "callback_query");
                callback(&data);
            }
        },
    }
}

/// Button data: parsed strictly, so what is accepted is what we produce.
pub fn callback(data: &str) {
    if let Some(callback) = Callback::parse(data) {
        assert_eq!(callback.data(), data, "only our own encoding is accepted");
        assert!(data.len() <= 64, "Telegram's limit");
    }
}

/// The first byte says whether the chat is private; the rest is the text.
pub fn command_bytes(data: &[u8]) {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    command(&String::from_utf8_lossy(text), flags & 1 == 1);
}

/// A message's text: the command, then its arguments through the same parsers
/// the handlers use.
pub fn command(text: &str, private: bool) {
    let parsed = Command::parse(text, private, BOT_USERNAME);
    let trimmed = text.trim();
    if !private && !trimmed.starts_with('/') {
        assert_eq!(parsed, None, "group chatter is never for us");
    }
    let addressed_to = trimmed
        .strip_prefix('/')
        .and_then(|rest| rest.split(char::is_whitespace).next())
        .and_then(|head| head.split_once('@'))
        .map(|(_, bot)| bot);
    if addressed_to.is_some_and(|bot| !bot.eq_ignore_ascii_case(BOT_USERNAME)) {
        assert_eq!(parsed, None, "a command for another bot is not ours");
    }
    let Some(parsed) = parsed else { return };
    if let Command::Known {
        args: Some(args), ..
    } = &parsed
    {
        assert!(!args.is_empty() && args.trim() == args, "{args:?}");
    }
    if let Command::Unknown(name) = &parsed {
        escaped(name);
    }
    if let Some(args) = parsed.args() {
        escaped(args);
    }
    // The arguments of the commands that read them, through the handlers'
    // own parsers (by name: a new command needs nothing here to be checked
    // for the rest; its seeds come from the table, see the replay test).
    match (parsed.name(), parsed.args()) {
        ("start" | "text", Some(code)) => {
            if let Some(code) = LinkCode::parse(code) {
                assert_eq!(code.as_str().len(), ledgerbot::blocks::link_code::LENGTH);
            }
        }
        ("add", args) => add_args(args.unwrap_or_default()),
        ("invoices", Some(filter)) => {
            let _ = PaidFilter::parse(filter);
        }
        ("language", Some(code)) => {
            let _ = Lang::parse(code);
        }
        ("selectcompany", Some(text)) => {
            let pattern = ledgerbot::services::finance::companies::contains_pattern(text);
            assert!(pattern.starts_with('%') && pattern.ends_with('%'));
        }
        _ => {}
    }
}

/// `/add`'s arguments, split and read as the handler does.
fn add_args(args: &str) {
    let (amount_text, note) = ledgerbot::front::bot::handlers::add::split_args(args);
    assert!(!amount_text.contains(char::is_whitespace));
    assert_eq!(note.trim(), note);
    signed_amount(amount_text);
}

/// Typed text in a reply is escaped: no markup survives.
fn escaped(text: &str) {
    let html = escape(text);
    assert!(!html.contains(['<', '>', '"']), "{html:?}");
    assert_eq!(
        html.matches('&').count(),
        ["&lt;", "&gt;", "&amp;", "&quot;"]
            .iter()
            .map(|e| html.matches(e).count())
            .sum::<usize>(),
        "every & starts an entity we wrote: {html:?}"
    );
}

/// Amounts as the API and a person write them.
pub fn amount_bytes(data: &[u8]) {
    amount(&String::from_utf8_lossy(data));
}

/// Every amount parser on `text`: whatever is accepted is in range and
/// survives formatting and parsing again.
pub fn amount(text: &str) {
    if let Ok(amount) = Amount::parse_decimal(text) {
        assert!(amount.minor().unsigned_abs() <= Amount::MAX.minor().unsigned_abs());
        assert_eq!(
            Amount::parse_decimal(&amount.to_decimal_string()),
            Ok(amount)
        );
        let json = serde_json::to_string(&amount).expect("serialises");
        assert_eq!(serde_json::from_str::<Amount>(&json).ok(), Some(amount));
    }
    if let Ok(amount) = Amount::parse_human(text) {
        assert!(
            (0..=Amount::MAX.minor()).contains(&amount.minor()),
            "{text:?}"
        );
        for style in [NumberStyle::Ro, NumberStyle::En] {
            assert_eq!(
                Amount::parse_human(&amount.format_number(style)),
                Ok(amount)
            );
        }
    }
    signed_amount(text);
}

fn signed_amount(text: &str) {
    if let Ok((sign, magnitude)) = parse_signed_human(text) {
        assert!((0..=Amount::MAX.minor()).contains(&magnitude.minor()));
        let signed = sign.map_or(magnitude, |s| s.apply(magnitude));
        for style in [NumberStyle::Ro, NumberStyle::En] {
            let (again_sign, again) =
                parse_signed_human(&signed.format_number(style)).expect("our format reads back");
            assert_eq!(again_sign.map_or(again, |s| s.apply(again)), signed);
        }
    }
}

/// An uploaded e-Factura file, XML or ZIP (the first bytes decide, as on the
/// server): never a panic, and what reads holds together. Small bounds, so a
/// fuzzer-made archive cannot take the run's memory.
pub fn efactura(data: &[u8]) {
    let limits = ZipLimits {
        max_entries: 64,
        max_entry_bytes: 1024 * 1024,
        max_total_bytes: 4 * 1024 * 1024,
        max_ratio: 100,
    };
    let Ok(files) = read_files("upload.xml", data, limits) else {
        return;
    };
    assert!(files.len() <= limits.max_entries);
    for file in files {
        let Ok(document) = file.document else {
            continue;
        };
        assert!(!document.number.trim().is_empty());
        assert!(document.total.minor().unsigned_abs() <= Amount::MAX.minor().unsigned_abs());
        if document.kind == DocumentKind::CreditNote {
            assert!(
                !document.total.minor().is_positive(),
                "a credit note counts negative"
            );
        }
    }
}
