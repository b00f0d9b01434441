//! Data Telegram signs for us, checked in one place, exactly as Telegram
//! documents it:
//!
//! - the **Login Widget** (<https://core.telegram.org/widgets/login#checking-authorization>):
//!   `secret_key = SHA256(bot_token)`;
//! - a **Mini App's `initData`** (<https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app>):
//!   `secret_key = HMAC_SHA256(key = "WebAppData", message = bot_token)`.
//!
//! Both: `data_check_string` is every received field except `hash`, sorted by
//! key, as `key=value`, joined by `\n`; the data is valid when
//! `hex(HMAC_SHA256(key = secret_key, message = data_check_string)) == hash`
//! (compared in constant time), and `auth_date` is at most [`Kind::max_age`]
//! old and at most [`MAX_SKEW`] in the future. A valid payload is still
//! accepted only once: [`Verified::replay_key`] is what the caller stores
//! until [`Verified::expires_at`].
//!
//! `state` is ours, not Telegram's (the pages put it in the widget's return
//! URL to tie the redirect to the browser), so it is left out of the check
//! string.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far in the future `auth_date` may be (clocks differ), in seconds.
pub const MAX_SKEW: i64 = 5 * 60;
/// Query parameters of ours, not signed by Telegram.
pub const OWN_PARAMS: &[&str] = &["state"];

/// Which signed data: they differ in the key and in how long they are good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The Login Widget's redirect or callback.
    Widget,
    /// A Mini App's `Telegram.WebApp.initData`.
    InitData,
}

impl Kind {
    /// How old `auth_date` may be, in seconds: the widget's data is used at
    /// once (10 minutes); a Mini App may sit open a while (an hour).
    pub const fn max_age(self) -> i64 {
        match self {
            Self::Widget => 10 * 60,
            Self::InitData => 60 * 60,
        }
    }

    fn secret_key(self, bot_token: &str) -> Vec<u8> {
        match self {
            Self::Widget => Sha256::digest(bot_token.as_bytes()).to_vec(),
            Self::InitData => hmac(b"WebAppData", bot_token.as_bytes()),
        }
    }

    fn label(self) -> &'static [u8] {
        match self {
            Self::Widget => b"widget:",
            Self::InitData => b"init_data:",
        }
    }
}

/// A Telegram user, as the signed data vouches for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramUser {
    /// Telegram's user id (also the id of their private chat with the bot).
    pub id: i64,
    /// First name.
    pub first_name: Option<String>,
    /// `@username` without the `@`.
    pub username: Option<String>,
}

/// Data that passed the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Who.
    pub user: TelegramUser,
    /// SHA-256 of the kind and the payload's MAC: what is stored to accept
    /// the payload once (the MAC itself is not kept).
    pub replay_key: [u8; 32],
    /// Unix time after which the payload is refused anyway (stale), so its
    /// replay key may be forgotten.
    pub expires_at: i64,
}

/// Why signed data is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No `hash`.
    #[error("the data carries no hash")]
    MissingHash,
    /// The hash does not match the data: forged or changed.
    #[error("the hash does not match the data")]
    BadHash,
    /// A field appears twice.
    #[error("a field appears twice")]
    Duplicate,
    /// `id` (or `user`) or `auth_date` missing or not readable.
    #[error("the user or auth_date is missing or unreadable")]
    Malformed,
    /// `auth_date` is older than [`Kind::max_age`].
    #[error("the login is too old")]
    Stale,
    /// `auth_date` is too far in the future.
    #[error("the login is dated in the future")]
    Future,
}

/// The string Telegram signs: the fields but `hash`, sorted by key, `key=value`
/// joined by `\n`.
pub fn data_check_string(fields: &[(String, String)]) -> String {
    let mut pairs: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k != "hash")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    pairs.join("\n")
}

/// What Telegram puts in `hash` for `fields` of `kind`. Public so that tests
/// can sign data as Telegram would.
pub fn sign(kind: Kind, fields: &[(String, String)], bot_token: &str) -> String {
    hex::encode(mac(kind, fields, bot_token))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn mac(kind: Kind, fields: &[(String, String)], bot_token: &str) -> Vec<u8> {
    hmac(
        &kind.secret_key(bot_token),
        data_check_string(fields).as_bytes(),
    )
}

/// Checks the Login Widget's fields (our own [`OWN_PARAMS`] are skipped) at
/// Unix time `now`.
///
/// # Errors
/// Why the data is refused; the hash is checked before anything is read.
pub fn verify_widget(
    params: &[(String, String)],
    bot_token: &str,
    now: i64,
) -> Result<Verified, Refused> {
    let fields: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    let signed = check(Kind::Widget, &fields, bot_token, now)?;
    let get = |name: &str| field(&fields, name).map(str::to_owned);
    let id = field(&fields, "id").and_then(|v| v.parse::<i64>().ok());
    let id = id.ok_or(Refused::Malformed)?;
    Ok(signed.with(TelegramUser {
        id,
        first_name: get("first_name"),
        username: get("username"),
    }))
}

/// Checks a Mini App's `initData` (the URL-encoded query string
/// `Telegram.WebApp.initData`) at Unix time `now`.
///
/// # Errors
/// Why the data is refused; the hash is checked before anything is read.
pub fn verify_init_data(init_data: &str, bot_token: &str, now: i64) -> Result<Verified, Refused> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(init_data.as_bytes())
        .into_owned()
        .collect();
    let signed = check(Kind::InitData, &fields, bot_token, now)?;
    #[derive(serde::Deserialize)]
    struct User {
        id: i64,
        first_name: Option<String>,
        username: Option<String>,
    }
    let user: User = field(&fields, "user")
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or(Refused::Malformed)?;
    Ok(signed.with(TelegramUser {
        id: user.id,
        first_name: user.first_name,
        username: user.username,
    }))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What [`check`] learnt before the user is read.
struct Signed {
    replay_key: [u8; 32],
    expires_at: i64,
}

impl Signed {
    fn with(self, user: TelegramUser) -> Verified {
        Verified {
            user,
            replay_key: self.replay_key,
            expires_at: self.expires_at,
        }
    }
}

/// The checks both kinds share: no duplicate field, the hash, `auth_date`.
fn check(
    kind: Kind,
    fields: &[(String, String)],
    bot_token: &str,
    now: i64,
) -> Result<Signed, Refused> {
    let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(Refused::Duplicate);
    }
    let hash = field(fields, "hash").ok_or(Refused::MissingHash)?;
    let sent = hex::decode(hash).map_err(|_| Refused::BadHash)?;
    let expected = mac(kind, fields, bot_token);
    if !bool::from(sent.ct_eq(&expected)) {
        return Err(Refused::BadHash);
    }
    let auth_date = field(fields, "auth_date").and_then(|v| v.parse::<i64>().ok());
    let auth_date = auth_date.ok_or(Refused::Malformed)?;
    if now - auth_date > kind.max_age() {
        return Err(Refused::Stale);
    }
    if auth_date - now > MAX_SKEW {
        return Err(Refused::Future);
    }
    let mut key = Sha256::new();
    key.update(kind.label());
    key.update(&expected);
    Ok(Signed {
        replay_key: key.finalize().into(),
        expires_at: auth_date + kind.max_age(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:TEST-token_value";
    const NOW: i64 = 1_750_000_000;
    const MAX_AGE: i64 = Kind::Widget.max_age();

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn verify(fields: &[(String, String)], token: &str, now: i64) -> Result<TelegramUser, Refused> {
        verify_widget(fields, token, now).map(|v| v.user)
    }

    /// Signed data for `auth_date`, computed here from the documented recipe
    /// independently of [`sign`].
    fn signed(auth_date: i64) -> Vec<(String, String)> {
        let date = auth_date.to_string();
        let mut fields = pairs(&[
            ("id", "4242"),
            ("first_name", "Ana"),
            ("username", "ana_ro"),
            ("photo_url", "https://t.me/i/userpic/320/ana.jpg"),
            ("auth_date", &date),
        ]);
        let check = format!(
            "auth_date={date}\nfirst_name=Ana\nid=4242\nphoto_url=https://t.me/i/userpic/320/ana.jpg\nusername=ana_ro"
        );
        let key = Sha256::digest(TOKEN.as_bytes());
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(check.as_bytes());
        fields.push(("hash".into(), hex::encode(mac.finalize().into_bytes())));
        fields
    }

    #[test]
    fn the_check_string_is_sorted_key_value_lines_without_the_hash() {
        let fields = pairs(&[
            ("id", "1"),
            ("hash", "x"),
            ("auth_date", "2"),
            ("first_name", "A"),
        ]);
        assert_eq!(
            data_check_string(&fields),
            "auth_date=2\nfirst_name=A\nid=1"
        );
    }

    #[test]
    fn signed_data_verifies_and_names_the_user() {
        let user = verify(&signed(NOW - 60), TOKEN, NOW).expect("valid");
        assert_eq!(
            user,
            TelegramUser {
                id: 4242,
                first_name: Some("Ana".into()),
                username: Some("ana_ro".into()),
            }
        );
        let mut with_state = signed(NOW);
        with_state.push(("state".into(), "ours".into()));
        assert!(
            verify(&with_state, TOKEN, NOW).is_ok(),
            "state is not Telegram's"
        );
    }

    #[test]
    fn tampered_missing_stale_and_future_data_are_refused() {
        let tamper = |key: &str, value: &str| {
            let mut fields = signed(NOW);
            fields.iter_mut().find(|(k, _)| k == key).expect("field").1 = value.to_owned();
            fields
        };
        let without = |key: &str| {
            let mut fields = signed(NOW);
            fields.retain(|(k, _)| k != key);
            fields
        };
        let mut added = signed(NOW);
        added.push(("last_name".into(), "Popescu".into()));
        let mut doubled = signed(NOW);
        doubled.push(("id".into(), "4242".into()));
        let upper = {
            let mut fields = signed(NOW);
            let hash = fields.iter_mut().find(|(k, _)| k == "hash").expect("hash");
            hash.1 = hash.1.to_uppercase();
            fields
        };
        let cases = [
            (tamper("id", "1"), Refused::BadHash, "another user id"),
            (
                tamper("username", "boss"),
                Refused::BadHash,
                "another username",
            ),
            (
                tamper("auth_date", &NOW.to_string()[..9]),
                Refused::BadHash,
                "another date",
            ),
            (tamper("hash", "00"), Refused::BadHash, "another hash"),
            (tamper("hash", "not hex"), Refused::BadHash, "garbage hash"),
            (added, Refused::BadHash, "an unsigned field added"),
            (
                without("first_name"),
                Refused::BadHash,
                "a signed field dropped",
            ),
            (without("hash"), Refused::MissingHash, "no hash"),
            (doubled, Refused::Duplicate, "a field twice"),
            (
                signed(NOW - MAX_AGE - 1),
                Refused::Stale,
                "over ten minutes old",
            ),
            (
                signed(NOW + MAX_SKEW + 1),
                Refused::Future,
                "from the future",
            ),
        ];
        for (fields, want, why) in cases {
            assert_eq!(verify(&fields, TOKEN, NOW), Err(want), "{why}");
        }
        assert!(
            verify(&upper, TOKEN, NOW).is_ok(),
            "hex case does not matter"
        );
        assert_eq!(
            verify(&signed(NOW), "654321:OTHER", NOW),
            Err(Refused::BadHash),
            "another bot's token"
        );
        assert!(
            verify(&signed(NOW - MAX_AGE), TOKEN, NOW).is_ok(),
            "exactly ten minutes"
        );
    }

    /// `initData` for `auth_date` as Telegram builds it, signed here from
    /// the documented recipe independently of [`sign`]: the key is
    /// HMAC_SHA256("WebAppData", bot token).
    fn init_data(auth_date: i64, token: &str) -> String {
        let user = r#"{"id":4242,"first_name":"Ana","username":"ana_ro","language_code":"ro"}"#;
        let check = format!(
            "auth_date={auth_date}\nquery_id=AAHdF6IQAAAAAN0XohDhrOrc\nsignature=sig\nuser={user}"
        );
        let mut key = Hmac::<Sha256>::new_from_slice(b"WebAppData").unwrap();
        key.update(token.as_bytes());
        let key = key.finalize().into_bytes();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(check.as_bytes());
        let hash = hex::encode(mac.finalize().into_bytes());
        form_urlencoded::Serializer::new(String::new())
            .append_pair("query_id", "AAHdF6IQAAAAAN0XohDhrOrc")
            .append_pair("user", user)
            .append_pair("auth_date", &auth_date.to_string())
            .append_pair("signature", "sig")
            .append_pair("hash", &hash)
            .finish()
    }

    #[test]
    fn init_data_verifies_with_the_web_app_key_and_names_the_user() {
        let verified = verify_init_data(&init_data(NOW - 60, TOKEN), TOKEN, NOW).expect("valid");
        assert_eq!(verified.user.id, 4242);
        assert_eq!(verified.user.username.as_deref(), Some("ana_ro"));
        assert_eq!(verified.expires_at, NOW - 60 + 3600);
    }

    #[test]
    fn init_data_tampered_stale_or_signed_as_a_widget_is_refused() {
        let good = init_data(NOW, TOKEN);
        let as_widget = {
            let mut fields: Vec<(String, String)> = form_urlencoded::parse(good.as_bytes())
                .into_owned()
                .collect();
            fields.retain(|(k, _)| k != "hash");
            let hash = sign(Kind::Widget, &fields, TOKEN);
            fields.push(("hash".into(), hash));
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish()
        };
        let cases = [
            (
                good.replace("4242", "4243"),
                Refused::BadHash,
                "another user",
            ),
            (as_widget, Refused::BadHash, "the widget's key"),
            (
                init_data(NOW - 3601, TOKEN),
                Refused::Stale,
                "over an hour old",
            ),
            (
                init_data(NOW + MAX_SKEW + 1, TOKEN),
                Refused::Future,
                "from the future",
            ),
            (init_data(NOW, "1:other"), Refused::BadHash, "another bot"),
            ("user=x".to_owned(), Refused::MissingHash, "no hash"),
            (String::new(), Refused::MissingHash, "empty"),
        ];
        for (data, want, why) in cases {
            assert_eq!(
                verify_init_data(&data, TOKEN, NOW).map(|v| v.user),
                Err(want),
                "{why}"
            );
        }
        assert!(verify_init_data(&init_data(NOW - 3600, TOKEN), TOKEN, NOW).is_ok());
    }

    #[test]
    fn each_payload_has_its_own_replay_key_and_the_kinds_never_share_one() {
        let a = verify_widget(&signed(NOW), TOKEN, NOW).expect("valid");
        let b = verify_widget(&signed(NOW - 1), TOKEN, NOW).expect("valid");
        let c = verify_init_data(&init_data(NOW, TOKEN), TOKEN, NOW).expect("valid");
        assert_ne!(a.replay_key, b.replay_key);
        assert_ne!(a.replay_key, c.replay_key);
        assert_eq!(
            a.replay_key,
            verify_widget(&signed(NOW), TOKEN, NOW + 5)
                .unwrap()
                .replay_key
        );
        assert_eq!(a.expires_at, NOW + MAX_AGE);
    }
}
