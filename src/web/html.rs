//! The pages' tiny template kit: HTML escaping, the shared layout (language
//! switch, navigation, inline CSS), and the headers every page carries.
//!
//! Pages are `format!` strings. Every value that is not a literal of ours goes
//! through [`esc`] (or [`url_param`] then [`esc`] inside an `href`).

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, StatusCode};

use crate::bot::Lang;
use crate::http::{HttpResponse, empty, with_type};

/// Escapes text for HTML element content and quoted attribute values:
/// `& < > " '`.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for a URL's query (`next=/link/...`).
pub fn url_param(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What the layout needs besides the page's own content.
pub struct Frame<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The per-response CSP nonce for inline `<style>` and `<script>`.
    pub nonce: &'a str,
    /// The href of the other language (the current URL with `lang=` swapped).
    pub switch_href: &'a str,
    /// Who is logged in (email or first name) and the session's CSRF token
    /// for the logout form; `None` when nobody is.
    pub user: Option<(&'a str, &'a str)>,
}

const CSS: &str = "
:root{--fg:#1a1a1a;--muted:#555;--bg:#fafafa;--card:#fff;--accent:#1c5d99;--accent-fg:#fff;--err:#a40000;--ok:#1e6b30}
*{box-sizing:border-box}
body{margin:0;font:17px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.3rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:var(--accent);color:var(--accent-fg)}
header a,header button.link{color:var(--accent-fg)}
.brand{font-weight:700;font-size:1.15rem;text-decoration:none;margin-right:auto}
header form{display:inline;margin:0}
main{max-width:34rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:0 0 .5rem}
.card>:first-child{margin-top:0}
.who{font-size:.9rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:100%}
.card{background:var(--card);border:1px solid #ddd;border-radius:.6rem;padding:1rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:.8rem 0 .2rem}
input[type=email],input[type=password],input[type=text]{width:100%;font:inherit;padding:.55rem;border:1px solid #767676;border-radius:.4rem}
.btn,button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1.1rem;margin:.8rem .4rem 0 0;border:2px solid var(--accent);border-radius:.5rem;background:var(--accent);color:var(--accent-fg);text-decoration:none;cursor:pointer}
.btn.alt,button.alt{background:#fff;color:var(--accent)}
button.link{background:none;border:0;padding:0;margin:0;text-decoration:underline;font-weight:400}
a{color:var(--accent)}
:focus-visible{outline:3px solid #f2a900;outline-offset:2px}
.error{color:var(--err);font-weight:600}
.ok{color:var(--ok);font-weight:600}
.muted{color:var(--muted)}
.code{font:700 2.2rem/1.2 ui-monospace,'SFMono-Regular',Menlo,Consolas,monospace;letter-spacing:.15em;word-break:break-all}
.asker{font-size:1.3rem;font-weight:700}
.qr{display:block;width:240px;max-width:100%;height:auto;margin:1rem 0;image-rendering:pixelated}
footer{max-width:34rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.9rem}
";

/// A whole page: the layout around `body`.
pub fn layout(frame: &Frame<'_>, title: &str, body: &str) -> String {
    let lang = frame.lang;
    let t = |ro, en| lang.pick(ro, en);
    let nonce = esc(frame.nonce);
    let nav = match frame.user {
        Some((who, csrf)) => format!(
            "<a href=\"/telegram\">Telegram</a>\
             <span class=\"who\">{who}</span>\
             <form method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button class=\"link\" type=\"submit\">{logout}</button></form>",
            who = esc(who),
            csrf = esc(csrf),
            logout = t("Ieșire", "Log out"),
        ),
        None => format!(
            "<a href=\"/login\">{}</a><a href=\"/register\">{}</a>",
            t("Intră în cont", "Log in"),
            t("Cont nou", "Register"),
        ),
    };
    let (other_code, other_name) = lang.pick(("en", "English"), ("ro", "Română"));
    format!(
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · ledgerbot</title>\n<style nonce=\"{nonce}\">{CSS}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n\
         <header><a class=\"brand\" href=\"/\">ledgerbot</a>{nav}\
         <a href=\"{switch}\" lang=\"{other_code}\" hreflang=\"{other_code}\">{other_name}</a></header>\n\
         <main id=\"main\">\n{body}\n</main>\n\
         <footer>{footer}</footer>\n</body>\n</html>\n",
        code = lang.code(),
        title = esc(title),
        skip = t("Sari la conținut", "Skip to content"),
        switch = esc(frame.switch_href),
        footer = t(
            "ledgerbot: cifrele firmei tale, în Telegram.",
            "ledgerbot: your company's numbers, in Telegram."
        ),
    )
}

/// The Content-Security-Policy of a page: inline code only with the nonce,
/// Telegram's widget script and frame, nothing else from elsewhere.
fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' https://telegram.org; \
         style-src 'nonce-{nonce}'; img-src 'self' https://telegram.org https://t.me data:; \
         frame-src https://oauth.telegram.org; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The headers every page and redirect carries: no caching (pages show
/// codes and who is logged in), no framing, no referrer to other sites
/// (paths carry codes).
pub fn secure_headers(headers: &mut HeaderMap, nonce: &str) {
    if let Ok(value) = HeaderValue::from_str(&csp(nonce)) {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it, browsers send `Origin: null` on our own
    // form posts, and the Origin check could not tell them from a forgery.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// An HTML response.
pub fn html(status: StatusCode, page: String) -> HttpResponse {
    with_type(status, "text/html; charset=utf-8", page)
}

/// A `303 See Other` to a path of ours.
pub fn redirect(location: &str) -> HttpResponse {
    let mut response = empty(StatusCode::SEE_OTHER);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `next` when it is a path on this site (`/...`, not `//host` or `/\host`,
/// which browsers read as another site), else `None`.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 200
        && next.chars().all(|c| c.is_ascii_graphic());
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_every_character_that_can_break_out() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(esc("Ștefan"), "Ștefan");
    }

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        let cases = [
            ("/telegram", true, "a page"),
            ("/link/K7TQ3MXA", true, "a link page"),
            ("//evil.example", false, "protocol-relative"),
            ("/\\evil.example", false, "backslash"),
            ("https://evil.example", false, "absolute"),
            ("", false, "empty"),
            ("/a b", false, "whitespace"),
            ("/\r\nSet-Cookie:x", false, "header injection"),
        ];
        for (next, ok, why) in cases {
            assert_eq!(local_path(next).is_some(), ok, "{why}");
        }
    }
}
