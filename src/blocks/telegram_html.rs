//! Telegram's HTML parse mode: the one escape function for text a person
//! or an ERP typed before it goes into a bot message. (Web pages are
//! escaped by their templates, [`crate::front::web`].)

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_neutralises_markup() {
        assert_eq!(
            escape(r#"<script>"a" & b</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; b&lt;/script&gt;"
        );
        assert_eq!(escape("Șoseaua Ștefan cel Mare"), "Șoseaua Ștefan cel Mare");
    }
}
