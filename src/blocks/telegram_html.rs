//! Telegram's HTML parse mode: the one escape function for text a person
//! or an ERP typed before it goes into a bot message, and the one place a
//! message is cut to Telegram's length, [`fit`]. (Web pages are escaped by
//! their templates, [`crate::front::web`].)

/// The longest message text Telegram accepts: 4096 UTF-16 code units of
/// text after its entities are parsed (so tags count nothing and an entity
/// such as `&amp;` counts as the one character it stands for).
pub const MAX_MESSAGE_UNITS: usize = 4096;

/// The longest photo caption Telegram accepts, counted the same way.
pub const MAX_CAPTION_UNITS: usize = 1024;

/// Escapes text for Telegram's HTML: `<`, `>`, `&` and `"`, the entities
/// Telegram's parser knows by name.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// One piece of a message's HTML.
enum Piece<'a> {
    /// `<b>`, `<a href="...">`: the tag's name.
    Open(&'a str),
    /// `</b>`.
    Close,
    /// Visible text: one character, or one entity, with its UTF-16 length.
    Text(usize),
}

/// Splits `html` into pieces, each with its byte range. A `<` without its
/// `>` or an `&` without its `;` is taken as text, as it then is for us.
fn pieces(html: &str) -> impl Iterator<Item = (std::ops::Range<usize>, Piece<'_>)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &html[at..];
        let c = rest.chars().next()?;
        let (len, piece) = match c {
            '<' => match tag_len(rest) {
                Some(len) if rest[1..].starts_with('/') => (len, Piece::Close),
                Some(len) => {
                    let name_end = rest[1..len - 1]
                        .find(|c: char| c.is_whitespace() || c == '/')
                        .map_or(len - 1, |i| i + 1);
                    (len, Piece::Open(&rest[1..name_end]))
                }
                None => (1, Piece::Text(1)),
            },
            '&' => match rest.find(';').filter(|&end| end <= 10) {
                Some(end) => (end + 1, Piece::Text(entity_units(&rest[1..end]))),
                None => (1, Piece::Text(1)),
            },
            c => (c.len_utf8(), Piece::Text(c.len_utf16())),
        };
        let range = at..at + len;
        at += len;
        Some((range, piece))
    })
}

/// The length of the tag `s` starts with (through its `>`, quotes
/// respected), if it has one.
fn tag_len(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// UTF-16 units of the character entity `name` (`amp`, `#128512`, `#x1F600`).
fn entity_units(name: &str) -> usize {
    let code = match name.strip_prefix('#') {
        Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok(),
        Some(dec) => dec.parse().ok(),
        None => None,
    };
    code.and_then(char::from_u32).map_or(1, char::len_utf16)
}

/// The length of `html` as Telegram measures a message: UTF-16 code units
/// of its text, tags left out, an entity counted as its character.
pub fn text_len(html: &str) -> usize {
    pieces(html)
        .map(|(_, piece)| match piece {
            Piece::Text(units) => units,
            Piece::Open(_) | Piece::Close => 0,
        })
        .sum()
}

/// `html` whole when Telegram takes it (at most `max` units by
/// [`text_len`]); otherwise cut at the last line that fits (or, for one
/// long line, the last character that does) with `…` after it. The cut is
/// never inside a tag or an entity, and every tag open at the cut is
/// closed, so Telegram can always parse the result, even when a name
/// inside `<b>` holds line breaks.
pub fn fit(html: String, max: usize) -> String {
    // No piece counts more than its bytes (a character's UTF-16 units are
    // at most its UTF-8 bytes, an entity counts less than its text, a tag
    // nothing): a message no longer in bytes than `max` fits uncounted.
    if html.len() <= max || text_len(&html) <= max {
        return html;
    }
    // Room for the "\n…" that marks the cut.
    let budget = max.saturating_sub(2);
    let mut used = 0;
    let mut open: Vec<&str> = Vec::new();
    let mut last_line: Option<(usize, Vec<&str>)> = None;
    let mut cut = (0, Vec::new());
    for (range, piece) in pieces(&html) {
        match piece {
            Piece::Open(name) => open.push(name),
            Piece::Close => {
                open.pop();
            }
            Piece::Text(units) => {
                if &html[range.clone()] == "\n" {
                    last_line = Some((range.start, open.clone()));
                }
                if used + units > budget {
                    cut = (range.start, open.clone());
                    break;
                }
                used += units;
            }
        }
    }
    let (end, open, tail) = match last_line {
        Some((end, open)) => (end, open, "\n…"),
        None => (cut.0, cut.1, "…"),
    };
    let mut out = html[..end].to_owned();
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_counts_no_more_units_than_it_has_bytes() {
        // What lets `fit` pass a message short in bytes without counting it.
        for html in [
            "plain",
            "<b>bold</b> <a href=\"https://t.me/x?a=1&b=2\">link</a>",
            "&amp;&lt;&#128512;&#x1F600;&;&",
            "ă ș ț € 💵 𝄞",
            "< lone & signs >",
            "",
        ] {
            assert!(text_len(html) <= html.len(), "{html}");
            assert_eq!(fit(html.to_owned(), html.len()), html);
        }
    }

    #[test]
    fn html_escaping_neutralises_markup() {
        assert_eq!(
            escape(r#"<script>"a" & b</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; b&lt;/script&gt;"
        );
        assert_eq!(escape("Șoseaua Ștefan cel Mare"), "Șoseaua Ștefan cel Mare");
    }

    #[test]
    fn length_is_counted_in_utf16_units_of_the_text_as_telegram_counts() {
        let cases = [
            ("abc", 3, "ASCII"),
            ("Șoseaua", 7, "Romanian letters are one unit each"),
            ("😀", 2, "an emoji outside the BMP is two units"),
            ("𝔸", 2, "so is any non-BMP character"),
            (
                "👍🏽",
                4,
                "an emoji with a skin tone: two characters, four units",
            ),
            ("<b>x</b>", 1, "tags count nothing"),
            (
                r#"<a href="https://x.ro/?a=1&amp;b=2">link</a>"#,
                4,
                "nor do their attributes",
            ),
            ("&amp;&lt;&gt;&quot;", 4, "an entity is its character"),
            (
                "&#128512;&#x1F600;",
                4,
                "numeric entities of non-BMP characters: two each",
            ),
            ("a < b & c", 9, "a lone < or & is text"),
        ];
        for (html, want, why) in cases {
            assert_eq!(text_len(html), want, "{html:?}: {why}");
        }
    }

    /// Whether every tag opened in `html` is closed, in order.
    fn balanced(html: &str) -> bool {
        let mut open = Vec::new();
        for (range, piece) in pieces(html) {
            match piece {
                Piece::Open(name) => open.push(name.to_owned()),
                Piece::Close => {
                    let closing = &html[range.start + 2..range.end - 1];
                    if open.pop().as_deref() != Some(closing) {
                        return false;
                    }
                }
                Piece::Text(_) => {}
            }
        }
        open.is_empty()
    }

    #[test]
    fn long_messages_are_cut_at_a_line_within_telegrams_count() {
        let line = "x".repeat(99);
        let text = vec![line.as_str(); 100].join("\n");
        let fitted = fit(text, MAX_MESSAGE_UNITS);
        assert!(text_len(&fitted) <= MAX_MESSAGE_UNITS);
        assert!(fitted.ends_with("\n…"));
        assert!(fitted.lines().all(|l| l == line || l == "…"));
        assert_eq!(fit("short".into(), MAX_MESSAGE_UNITS), "short");
    }

    #[test]
    fn emoji_count_twice_so_a_message_of_them_is_cut_at_half_the_characters() {
        // 3000 characters, 6000 units: counting characters would send it whole.
        let line = "😀".repeat(30);
        let text = vec![line.as_str(); 100].join("\n");
        assert!(text.chars().count() < 4096 && text_len(&text) > 4096);

        let fitted = fit(text, MAX_MESSAGE_UNITS);

        assert!(
            text_len(&fitted) <= MAX_MESSAGE_UNITS,
            "{}",
            text_len(&fitted)
        );
        assert!(fitted.ends_with("\n…"));
        assert!(fitted.lines().all(|l| l == line || l == "…"));
    }

    #[test]
    fn a_cut_never_falls_inside_a_tag_or_an_entity_and_closes_what_is_open() {
        let cases = [
            (
                format!("<b>{}</b>", "Ana\nPop &amp; Fiii\n".repeat(500)),
                "a bold name with line breaks",
            ),
            (
                format!("<b>{}</b>", "a&amp;b".repeat(2000)),
                "one long line of entities",
            ),
            (
                format!(
                    "<i><a href=\"https://x.ro/a>b\">{}</a></i>",
                    "😀".repeat(3000)
                ),
                "nested tags, a quoted > and emoji on one line",
            ),
            (
                format!("{}<code>{}</code>", "x\n".repeat(2040), "y".repeat(100)),
                "the cut falls inside a tag's text",
            ),
        ];
        for (html, why) in cases {
            let fitted = fit(html.clone(), MAX_MESSAGE_UNITS);
            assert!(
                text_len(&fitted) <= MAX_MESSAGE_UNITS,
                "{why}: {}",
                text_len(&fitted)
            );
            assert!(balanced(&fitted), "{why}: {fitted}");
            assert!(fitted.ends_with('…'), "{why}");
            let body = fitted.trim_end_matches('…').trim_end_matches('\n');
            let entities_whole = body
                .match_indices('&')
                .all(|(i, _)| body[i..].starts_with("&amp;"));
            assert!(entities_whole, "{why}: an entity cut");
            assert!(
                body.rfind('<') <= body.rfind('>'),
                "{why}: a tag cut: {}",
                &body[body.len().saturating_sub(40)..]
            );
            let kept: String = body.chars().take(20).collect();
            assert!(html.starts_with(&kept), "{why}: the start is kept");
        }
    }

    #[test]
    fn captions_have_their_own_length() {
        let caption = "ș".repeat(2000);
        let fitted = fit(caption, MAX_CAPTION_UNITS);
        assert_eq!(text_len(&fitted), MAX_CAPTION_UNITS - 1);
        assert!(fitted.ends_with("ș…"));
    }
}
