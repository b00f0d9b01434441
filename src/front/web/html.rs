//! What every page answer carries besides its template: the security
//! headers, redirects to our own paths, and URL parameters. (The layout and
//! the escaping are the templates': `templates/layout.html`.)

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue, LOCATION, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, StatusCode};

use crate::infra::http_io::{HttpResponse, empty};

/// How the page templates escape every value (askama's escaper for
/// `.html` templates, set in `askama.toml`): `& < > " '` become `&amp; &lt;
/// &gt; &quot; &#39;`, which is safe in element content and in quoted
/// attribute values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        let mut last = 0;
        for (i, c) in text.char_indices() {
            let entity = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&text[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&text[last..])
    }
}

/// Percent-encodes a value for a URL's query (`next=/link/...`).
pub fn url_param(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
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

/// Lets Telegram's web client (web.telegram.org) show the Mini App in its
/// frame: the page's policy with that one ancestor instead of none, and no
/// `X-Frame-Options` (which cannot name one). The phone apps open it in a
/// web view, not a frame. Every other page stays unframeable.
pub fn allow_telegram_framing(headers: &mut HeaderMap) {
    let relaxed = headers
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|csp| {
            csp.replace(
                "frame-ancestors 'none'",
                "frame-ancestors https://web.telegram.org",
            )
        })
        .and_then(|csp| HeaderValue::from_str(&csp).ok());
    if let Some(value) = relaxed {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    headers.remove(X_FRAME_OPTIONS);
}

/// HSTS over https: a year, subdomains included; browsers then never try
/// plain http for the site, so no one on the path can strip TLS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The headers every page and redirect carries: no caching (pages show
/// codes and who is logged in), no framing, no referrer to other sites
/// (paths carry codes); over https, HSTS.
pub fn secure_headers(headers: &mut HeaderMap, nonce: &str, https: bool) {
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
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

/// A `303 See Other` to a path of ours.
pub fn redirect(location: &str) -> HttpResponse {
    let mut response = empty(StatusCode::SEE_OTHER);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A 303 to the login form, which comes back to `path` after it.
pub fn login_first(path: &str) -> HttpResponse {
    redirect(&format!("/login?next={}", url_param(path)))
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
