//! Invitation codes: 32 random bytes written as 43 characters of unpadded
//! base64url, long enough that guessing one is hopeless, and short enough to
//! fit Telegram's deep-link payload (64 characters of `A-Za-z0-9_-`) after the
//! `inv_` prefix. Stored only as their SHA-256.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// How many characters a code has.
pub const LENGTH: usize = 43;

/// What precedes the code in a `/start` payload: `inv_<code>`.
pub const START_PREFIX: &str = "inv_";

/// An invitation code. `Copy`, so that button data can carry one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InviteCode([u8; 32]);

impl InviteCode {
    /// A fresh code from the thread-local CSPRNG (seeded from the operating system).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        Self(bytes)
    }

    /// Reads a code exactly as we write it (43 characters of base64url, the
    /// canonical encoding of 32 bytes); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != LENGTH {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let code = Self(bytes.try_into().ok()?);
        // The last character carries 2 spare bits: only one spelling per code.
        (code.to_string() == text).then_some(code)
    }

    /// SHA-256 of the written code, the only form that is stored. A plain
    /// hash suffices for 256 random bits (see [`super::secret_token::token_hash`]).
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_string().as_bytes()).into()
    }
}

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteCode(********)")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_code_fits_telegrams_start_payload_with_its_prefix() {
        let code = InviteCode::generate();
        let payload = format!("{START_PREFIX}{code}");
        assert!(payload.len() <= 64, "{payload}");
        assert!(
            payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{payload}"
        );
        assert_eq!(InviteCode::parse(&code.to_string()), Some(code));
    }

    #[test]
    fn codes_differ_and_never_show_in_debug_output() {
        let (a, b) = (InviteCode::generate(), InviteCode::generate());
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(&a.to_string()));
    }

    #[test]
    fn anything_but_our_spelling_is_refused() {
        let good = InviteCode::generate().to_string();
        let cases = [
            (String::new(), "empty"),
            (good[..42].to_owned(), "one short"),
            (format!("{good}A"), "one long"),
            (format!("{}=", &good[..42]), "padding"),
            (format!("{}+", &good[..42]), "standard base64"),
            (format!(" {}", &good[..42]), "space"),
            ("K7TQ3MXA".to_owned(), "a link code"),
        ];
        for (text, why) in cases {
            assert_eq!(InviteCode::parse(&text), None, "{why}: {text:?}");
        }
    }

    proptest! {
        #[test]
        fn whatever_parses_is_written_back_the_same(text in "[A-Za-z0-9_-]{43}") {
            if let Some(code) = InviteCode::parse(&text) {
                prop_assert_eq!(code.to_string(), text);
            }
        }
    }
}
