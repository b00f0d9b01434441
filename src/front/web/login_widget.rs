//! The Telegram Login Widget's data, checked as Telegram documents it
//! (<https://core.telegram.org/widgets/login#checking-authorization>):
//!
//! - `data_check_string`: every received field except `hash`, sorted by key,
//!   as `key=value`, joined by `\n`;
//! - `secret_key = SHA256(bot_token)`;
//! - valid when `hex(HMAC_SHA256(data_check_string, secret_key)) == hash`
//!   (compared in constant time), and `auth_date` is at most [`MAX_AGE`] old
//!   and at most [`MAX_SKEW`] in the future.
//!
//! `state` is ours, not Telegram's (the `/telegram` page puts it in the
//! widget's return URL to tie the redirect to the session), so it is left
//! out of the check string.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How old `auth_date` may be, in seconds: a day.
pub const MAX_AGE: i64 = 24 * 60 * 60;
/// How far in the future `auth_date` may be (clocks differ), in seconds.
pub const MAX_SKEW: i64 = 5 * 60;
/// Query parameters of ours, not signed by Telegram.
pub const OWN_PARAMS: &[&str] = &["state"];

/// A Telegram user, as the widget vouches for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetUser {
    /// Telegram's user id (also the id of their private chat with the bot).
    pub id: i64,
    /// First name.
    pub first_name: Option<String>,
    /// `@username` without the `@`.
    pub username: Option<String>,
}

/// Why widget data is refused.
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
    /// `id` or `auth_date` missing or not a number.
    #[error("id or auth_date is missing or not a number")]
    Malformed,
    /// `auth_date` is older than [`MAX_AGE`].
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

/// `hex(HMAC_SHA256(data_check_string, SHA256(bot_token)))`: what Telegram
/// puts in `hash`. Public so that tests can sign data as Telegram would.
pub fn sign(fields: &[(String, String)], bot_token: &str) -> String {
    hex::encode(mac(fields, bot_token))
}

fn mac(fields: &[(String, String)], bot_token: &str) -> Vec<u8> {
    let secret_key = Sha256::digest(bot_token.as_bytes());
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&secret_key).expect("HMAC takes a key of any length");
    mac.update(data_check_string(fields).as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks the widget's query parameters (our own [`OWN_PARAMS`] are
/// skipped) at Unix time `now`.
///
/// # Errors
/// Why the data is refused; the hash is checked before anything is read.
pub fn verify(
    params: &[(String, String)],
    bot_token: &str,
    now: i64,
) -> Result<WidgetUser, Refused> {
    let fields: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(Refused::Duplicate);
    }
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let hash = get("hash").ok_or(Refused::MissingHash)?;
    let sent = hex::decode(hash).map_err(|_| Refused::BadHash)?;
    if !bool::from(sent.ct_eq(&mac(&fields, bot_token))) {
        return Err(Refused::BadHash);
    }
    let id = get("id").and_then(|v| v.parse::<i64>().ok());
    let auth_date = get("auth_date").and_then(|v| v.parse::<i64>().ok());
    let (Some(id), Some(auth_date)) = (id, auth_date) else {
        return Err(Refused::Malformed);
    };
    if now - auth_date > MAX_AGE {
        return Err(Refused::Stale);
    }
    if auth_date - now > MAX_SKEW {
        return Err(Refused::Future);
    }
    Ok(WidgetUser {
        id,
        first_name: get("first_name").map(str::to_owned),
        username: get("username").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:TEST-token_value";
    const NOW: i64 = 1_750_000_000;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
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
            WidgetUser {
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
            (signed(NOW - MAX_AGE - 1), Refused::Stale, "over a day old"),
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
            "exactly a day"
        );
    }
}
