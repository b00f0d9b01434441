//! Ids as we write them: a database id (a company, a user, an entry) goes
//! out in paths, cursors, links and buttons as `i64::to_string` of a positive
//! number, and is read back only in that form, so that one thing has one
//! spelling (one path, one cursor) and anything else is refused rather than
//! guessed at.

/// A positive `i64` in canonical decimal: ASCII digits only (no sign, no
/// spaces), no leading zero, within `i64`; `None` for anything else.
pub fn parse(text: &str) -> Option<i64> {
    let canonical =
        !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_only_as_written() {
        for (text, expected, why) in [
            ("1", Some(1), "the smallest"),
            ("4711", Some(4711), "plain"),
            ("9223372036854775807", Some(i64::MAX), "the largest"),
            ("", None, "empty"),
            ("0", None, "no such id"),
            ("00", None, "zeros"),
            ("04711", None, "a leading zero"),
            ("+4711", None, "a plus sign"),
            ("-4711", None, "negative"),
            ("-0", None, "minus zero"),
            ("47.11", None, "a fraction"),
            ("4_711", None, "a separator"),
            (" 4711", None, "a space before"),
            ("4711 ", None, "a space after"),
            ("4711\n", None, "a newline"),
            ("9223372036854775808", None, "past i64"),
            ("99999999999999999999", None, "far past i64"),
            ("abc", None, "not a number"),
            ("٤٧١١", None, "non-ASCII digits"),
        ] {
            assert_eq!(parse(text), expected, "{why}: {text:?}");
        }
    }

    #[test]
    fn every_positive_id_reads_back_from_how_it_is_written() {
        for id in [
            1,
            9,
            10,
            99,
            100,
            4711,
            i64::MAX / 10,
            i64::MAX - 1,
            i64::MAX,
        ] {
            assert_eq!(parse(&id.to_string()), Some(id), "{id}");
        }
    }
}
