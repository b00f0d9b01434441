//! Who is looking at a page ([`Visitor`]), and in which language: the session cookie
//! (an opaque random id; only its SHA-256 is stored, in `web_sessions`), the
//! language (`?lang=`, the `lb_lang` cookie, `Accept-Language`), and CSRF
//! protection for every POST form.
//!
//! CSRF: a form of a logged-in person carries the session's `csrf_token`.
//! The login and register forms, before any session exists, carry a
//! pre-session token that is also in the `lb_csrf` cookie (double submit),
//! signed with an HMAC under `JWT_SECRET` so that a cookie planted by a
//! neighbouring host is refused. Tokens are compared in constant time, and a
//! POST whose `Origin` is present and is not `PUBLIC_URL`'s is refused too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::header::{ACCEPT_LANGUAGE, COOKIE, HeaderValue, ORIGIN, SET_COOKIE};
use sha2::Sha256;
use sqlx::PgConnection;
use subtle::ConstantTimeEq;

use crate::blocks::Lang;
use crate::blocks::secret_token::{random_token, token_hash};
use crate::infra::config::Config;
use crate::infra::http_io::HttpResponse;
use crate::infra::router::Req;

/// The session cookie.
pub const SESSION_COOKIE: &str = "lb_session";
/// The pre-session CSRF cookie (login and register forms).
pub const CSRF_COOKIE: &str = "lb_csrf";
/// The chosen language.
pub const LANG_COOKIE: &str = "lb_lang";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A logged-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie's id: the row's key.
    id_hash: [u8; 32],
    /// `users.id`.
    pub user_id: i64,
    /// The token this session's forms carry.
    pub csrf: String,
    /// How the header names the person: email, else first name.
    pub display: String,
}

/// Who is visiting a page: the session, the language, the CSRF tokens, and
/// the path and query the page was asked with.
pub struct Visitor {
    /// The page's language.
    pub lang: Lang,
    /// `?lang=` chose it: the answer sets the cookie.
    lang_chosen: bool,
    /// The logged-in session, if any.
    pub session: Option<Session>,
    /// The request path.
    pub path: String,
    /// The query's pairs, decoded.
    pub query: Vec<(String, String)>,
    /// The pre-session CSRF token: the cookie's when valid, else a new one.
    pre_csrf: String,
    pre_csrf_is_new: bool,
    pre_csrf_used: AtomicBool,
    /// This response's CSP nonce.
    pub nonce: String,
    /// Cookies get `Secure` (PUBLIC_URL is https).
    secure: bool,
}

impl Visitor {
    /// Reads language, session and CSRF cookie from a request.
    ///
    /// # Errors
    /// The database failed looking up the session.
    pub async fn read(req: &Req) -> Result<Self, sqlx::Error> {
        let (app, uri, headers) = (&req.app, req.uri(), req.headers());
        let cookies = cookies(headers);
        let secure = app.config.is_https();
        let cookie = |name: &str| {
            let name = cookie_name(secure, name);
            cookies
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let chosen = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = chosen
            .or_else(|| cookie(LANG_COOKIE).as_deref().and_then(Lang::parse))
            .unwrap_or_else(|| accept_language(headers));
        let session = match cookie(SESSION_COOKIE) {
            Some(id) => {
                let mut conn = app.pool.acquire().await?;
                find(&mut conn, &id).await?
            }
            None => None,
        };
        let existing = cookie(CSRF_COOKIE).filter(|t| pre_csrf_is_valid(&app.config, t));
        let pre_csrf_is_new = existing.is_none();
        Ok(Self {
            lang,
            lang_chosen: chosen.is_some(),
            session,
            path: uri.path().to_owned(),
            query,
            pre_csrf: existing.unwrap_or_else(|| new_pre_csrf(&app.config)),
            pre_csrf_is_new,
            pre_csrf_used: AtomicBool::new(false),
            nonce: random_token(),
            secure,
        })
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pre-session CSRF token for a login or register form; the answer
    /// sets its cookie when it is new.
    pub fn pre_csrf(&self) -> &str {
        self.pre_csrf_used.store(true, Ordering::Relaxed);
        &self.pre_csrf
    }

    /// The current URL with `lang=` set to the other language.
    pub fn switch_href(&self) -> String {
        let other = self.lang.pick("en", "ro");
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "lang") {
            query.append_pair(k, v);
        }
        query.append_pair("lang", other);
        format!("{}?{}", self.path, query.finish())
    }

    /// Whether `PUBLIC_URL` is https: cookies are `Secure` and `__Host-`, and
    /// pages carry HSTS.
    pub fn is_https(&self) -> bool {
        self.secure
    }

    /// A `Set-Cookie` value with the flags every cookie of ours has (and the
    /// `__Host-` prefix over https).
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        let name = cookie_name(self.secure, name);
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(secs) = max_age {
            cookie.push_str(&format!("; Max-Age={secs}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// Adds the cookies this request's context calls for (language, a new
    /// pre-session token) to an answer.
    pub fn set_cookies(&self, response: &mut HttpResponse) {
        if self.lang_chosen {
            let cookie = self.cookie(LANG_COOKIE, self.lang.code(), Some(365 * 24 * 60 * 60));
            add_cookie(response, &cookie);
        }
        if self.pre_csrf_is_new && self.pre_csrf_used.load(Ordering::Relaxed) {
            add_cookie(response, &self.cookie(CSRF_COOKIE, &self.pre_csrf, None));
        }
    }

    /// The `state` of the login page's Telegram widget: an HMAC of this
    /// browser's pre-session token (its cookie is set with the page).
    pub fn login_widget_state(&self, config: &Config) -> String {
        let mut mac = HmacSha256::new_from_slice(config.jwt_secret.expose().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"ledgerbot login widget login state:");
        mac.update(self.pre_csrf().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `sent` is [`Self::login_widget_state`] of this browser's
    /// (existing, signed) pre-session token.
    pub fn login_widget_state_ok(&self, config: &Config, sent: &str) -> bool {
        !self.pre_csrf_is_new && same(Some(sent), &self.login_widget_state(config))
    }

    /// Checks a POST form of a logged-in session: `Origin`, and its `csrf`
    /// field against the session's token.
    pub fn session_form_ok(
        &self,
        config: &Config,
        headers: &HeaderMap,
        sent: Option<&str>,
    ) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        origin_ok(config, headers) && same(sent, &session.csrf)
    }

    /// Checks a login or register form: `Origin`, and its `csrf` field
    /// against the (valid, signed) pre-session cookie.
    pub fn pre_session_form_ok(
        &self,
        config: &Config,
        headers: &HeaderMap,
        sent: Option<&str>,
    ) -> bool {
        origin_ok(config, headers) && !self.pre_csrf_is_new && same(sent, &self.pre_csrf)
    }
}

/// A cookie's name as sent: over https with the `__Host-` prefix, which
/// browsers accept only from a secure origin, with `Path=/` and no `Domain`,
/// so a neighbouring subdomain or a plain-http page cannot set or shadow it.
pub fn cookie_name(https: bool, name: &str) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// Appends a `Set-Cookie` header.
pub fn add_cookie(response: &mut HttpResponse, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

fn same(sent: Option<&str>, expected: &str) -> bool {
    sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())))
}

/// Whether the `Origin` header, when present, is `PUBLIC_URL`'s origin
/// (scheme, host and port). Browsers send it with every POST form; a
/// missing one (an old browser, a non-browser client) is left to the token.
pub fn origin_ok(config: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let ours = public_origin(&config.public_url);
    origin.to_str().is_ok_and(|o| o.eq_ignore_ascii_case(ours))
}

/// `scheme://host[:port]` of a base URL.
fn public_origin(public_url: &str) -> &str {
    let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
    match public_url[after_scheme..].find('/') {
        Some(slash) => &public_url[..after_scheme + slash],
        None => public_url,
    }
}

/// The cookies of a request, `name=value` pairs.
fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// Romanian when the preferred language of `Accept-Language` is `ro*` (or
/// `mo`), English otherwise. Preference: the highest `q`, then the order.
pub fn accept_language(headers: &HeaderMap) -> Lang {
    let header = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut best: Option<(f32, &str)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if !tag.is_empty() && tag != "*" && q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, tag));
        }
    }
    Lang::from_telegram(best.map(|(_, tag)| tag))
}

type HmacSha256 = Hmac<Sha256>;

fn pre_csrf_mac(config: &Config, nonce: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(config.jwt_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"ledgerbot pre-session csrf:");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn new_pre_csrf(config: &Config) -> String {
    let nonce = random_token();
    let mac = pre_csrf_mac(config, &nonce);
    format!("{nonce}.{mac}")
}

fn pre_csrf_is_valid(config: &Config, token: &str) -> bool {
    token.split_once('.').is_some_and(|(nonce, mac)| {
        bool::from(pre_csrf_mac(config, nonce).as_bytes().ct_eq(mac.as_bytes()))
    })
}

/// A value derived from the session's CSRF token for the Login Widget's
/// return URL (`state=`): ties the widget's redirect to this session without
/// putting the token itself in a URL.
pub fn widget_state(config: &Config, session: &Session) -> String {
    let mut mac = HmacSha256::new_from_slice(config.jwt_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"ledgerbot login widget state:");
    mac.update(session.csrf.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// How long a confirmation form (`/link/{code}`) stays usable once shown, in seconds.
pub const PAGE_TTL: i64 = 5 * 60;

fn stamp_mac(config: &Config, session: &Session, path: &str, shown: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(config.jwt_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"ledgerbot page stamp:");
    mac.update(session.csrf.as_bytes());
    mac.update(b":");
    mac.update(path.as_bytes());
    mac.update(b":");
    mac.update(shown.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// A stamp for a confirmation form shown at Unix time `now` on `path`:
/// when, signed with the session's token, so that the form can be refused
/// once it is older than [`PAGE_TTL`] (and only this session, on this page,
/// can use it).
pub fn page_stamp(config: &Config, session: &Session, path: &str, now: i64) -> String {
    format!("{now}.{}", stamp_mac(config, session, path, now))
}

/// Whether `stamp` is [`page_stamp`]'s for this session and path, made at
/// most [`PAGE_TTL`] before `now`.
pub fn page_stamp_is_fresh(
    config: &Config,
    session: &Session,
    path: &str,
    stamp: &str,
    now: i64,
) -> bool {
    let Some((shown, mac)) = stamp.split_once('.') else {
        return false;
    };
    let Ok(shown) = shown.parse::<i64>() else {
        return false;
    };
    let signed = stamp_mac(config, session, path, shown);
    bool::from(signed.as_bytes().ct_eq(mac.as_bytes())) && (0..=PAGE_TTL).contains(&(now - shown))
}

/// Starts a session for `user_id`; returns the cookie's id (only its hash is
/// stored). Also deletes the person's expired sessions.
///
/// # Errors
/// The database failed.
pub async fn create(db: &mut PgConnection, user_id: i64) -> Result<String, sqlx::Error> {
    let id = random_token();
    sqlx::query!(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        &token_hash(&id)[..],
        user_id,
        random_token(),
        SESSION_TTL.as_secs_f64(),
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at < now()",
        user_id
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// The live session with cookie id `id`.
async fn find(db: &mut PgConnection, id: &str) -> Result<Option<Session>, sqlx::Error> {
    let id_hash = token_hash(id);
    let row = sqlx::query!(
        "SELECT s.user_id, s.csrf_token, u.email, u.first_name
         FROM web_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = $1 AND s.expires_at > now()",
        &id_hash[..]
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Session {
        id_hash,
        user_id: r.user_id,
        csrf: r.csrf_token,
        display: r.email.or(r.first_name).unwrap_or_default(),
    }))
}

/// Ends a session (logout).
///
/// # Errors
/// The database failed.
pub async fn delete(db: &mut PgConnection, session: &Session) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM web_sessions WHERE id_hash = $1",
        &session.id_hash[..]
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::infra::http_io::test_headers as headers;

    /// A configuration with only the required values set.
    fn config() -> crate::infra::config::Config {
        crate::infra::config::Config::from_lookup(|name| {
            Some(
                match name {
                    "DATABASE_URL" => "postgres://x",
                    "TELEGRAM_BOT_TOKEN" => "1:x",
                    "TELEGRAM_WEBHOOK_SECRET" => "a-webhook-secret",
                    "JWT_SECRET" => "0123456789abcdef0123456789abcdef",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .expect("valid")
    }

    #[test]
    fn accept_language_picks_romanian_only_when_preferred() {
        let cases = [
            ("ro-RO,ro;q=0.9,en;q=0.8", Lang::Ro, "Romanian first"),
            ("en-US,en;q=0.9,ro;q=0.8", Lang::En, "English first"),
            ("en;q=0.5,ro;q=0.9", Lang::Ro, "by q, not order"),
            ("de-DE", Lang::En, "neither: English"),
            ("", Lang::En, "missing"),
            ("*", Lang::En, "anything"),
            ("ro;q=0", Lang::En, "refused"),
        ];
        for (header, want, why) in cases {
            let map = headers(&[("accept-language", header)]);
            assert_eq!(accept_language(&map), want, "{why}");
        }
    }

    #[test]
    fn the_origin_of_public_url_is_scheme_host_and_port() {
        assert_eq!(
            public_origin("https://ledger.example"),
            "https://ledger.example"
        );
        assert_eq!(
            public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(public_origin("https://x.example/app"), "https://x.example");
    }

    #[test]
    fn pre_session_tokens_verify_only_with_their_signature() {
        let config = config();
        let token = new_pre_csrf(&config);
        assert!(pre_csrf_is_valid(&config, &token));
        let (nonce, _) = token.split_once('.').expect("two parts");
        assert!(!pre_csrf_is_valid(&config, &format!("{nonce}.00")));
        assert!(!pre_csrf_is_valid(&config, nonce));
        assert!(!pre_csrf_is_valid(&config, "planted.by-a-neighbour"));
    }

    #[test]
    fn page_stamps_expire_and_bind_the_session_and_the_page() {
        let config = config();
        let session = |csrf: &str| Session {
            id_hash: [0; 32],
            user_id: 1,
            csrf: csrf.to_owned(),
            display: String::new(),
        };
        let (ana, bob) = (session("ana"), session("bob"));
        let now = 1_750_000_000;
        let stamp = page_stamp(&config, &ana, "/link/K7TQ3MXA", now);
        let fresh = |session: &Session, path: &str, stamp: &str, at: i64| {
            page_stamp_is_fresh(&config, session, path, stamp, at)
        };
        assert!(fresh(&ana, "/link/K7TQ3MXA", &stamp, now + PAGE_TTL));
        assert!(
            !fresh(&ana, "/link/K7TQ3MXA", &stamp, now + PAGE_TTL + 1),
            "too old"
        );
        assert!(
            !fresh(&ana, "/link/K7TQ3MXA", &stamp, now - 1),
            "from the future"
        );
        assert!(
            !fresh(&bob, "/link/K7TQ3MXA", &stamp, now),
            "another session"
        );
        assert!(!fresh(&ana, "/link/ABCDEFGH", &stamp, now), "another page");
        let (_, mac) = stamp.split_once('.').expect("two parts");
        let moved = format!("{}.{mac}", now + 60);
        assert!(
            !fresh(&ana, "/link/K7TQ3MXA", &moved, now + 61),
            "another time"
        );
        assert!(!fresh(&ana, "/link/K7TQ3MXA", "garbage", now));
    }
}
