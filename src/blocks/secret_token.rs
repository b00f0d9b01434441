//! Opaque bearer secrets, such as refresh tokens: random strings handed to a client once
//! and stored only as a hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// A new random token: 32 bytes from the thread-local CSPRNG (ChaCha12 seeded from the
/// operating system), as 43 characters of unpadded base64url, safe in URLs, headers and
/// JSON without escaping.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, the form in which it is stored and looked up.
///
/// A plain hash suffices: a 256-bit random token cannot be brute-forced from its hash,
/// so salts or slow hashes (needed for passwords) would add cost and no safety.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn random_token_is_32_bytes_of_base64url() {
        let token = random_token();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
    }

    #[test]
    fn random_tokens_differ() {
        let tokens: HashSet<String> = (0..1_000).map(|_| random_token()).collect();
        assert_eq!(tokens.len(), 1_000);
    }

    #[test]
    fn token_hash_is_sha256() {
        assert_eq!(
            hex::encode(token_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
