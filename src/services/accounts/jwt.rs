//! Access tokens: HS256 JWTs with `sub` (the user id), `exp`, `iat` and `jti`,
//! valid 15 minutes. Verification pins the algorithm, so `alg: none` and
//! algorithm-confusion tokens are refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::infra::config::Secret;

/// How long an access token is valid.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string per RFC 7519.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
}

impl Claims {
    /// The user id in `sub`; verification guarantees it parses.
    pub fn user_id(&self) -> i64 {
        self.sub.parse().unwrap_or_default()
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token")]
pub struct InvalidToken;

/// Issues an access token for `user_id`.
pub fn issue(secret: &Secret, user_id: i64) -> String {
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = Claims {
        sub: user_id.to_string(),
        exp: iat + ACCESS_TOKEN_TTL.as_secs(),
        iat,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

/// Verifies signature, algorithm and expiry (no leeway).
///
/// # Errors
/// [`InvalidToken`] for anything but a valid, unexpired HS256 token of ours.
pub fn verify(secret: &Secret, token: &str) -> Result<Claims, InvalidToken> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    )
    .map_err(|_| InvalidToken)?;
    if data.claims.sub.parse::<i64>().is_err() {
        return Err(InvalidToken);
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn secret() -> Secret {
        Secret::new("k".repeat(32))
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let token = issue(&secret(), 42);
        let claims = verify(&secret(), &token).expect("valid");
        assert_eq!(claims.user_id(), 42);
        assert_eq!(claims.exp - claims.iat, ACCESS_TOKEN_TTL.as_secs());
        assert!(!claims.jti.is_empty());
        assert_ne!(
            verify(&secret(), &issue(&secret(), 42)).expect("valid").jti,
            claims.jti
        );
    }

    #[test]
    fn forged_tokens_are_refused() {
        let token = issue(&secret(), 42);
        let (header_and_claims, _signature) = token.rsplit_once('.').expect("three parts");
        let claims_part = header_and_claims.split('.').nth(1).expect("claims");
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let expired = {
            let claims = Claims {
                sub: "42".into(),
                exp: 1,
                iat: 0,
                jti: "x".into(),
            };
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret().expose().as_bytes()),
            )
            .expect("encodes")
        };
        // Algorithm confusion: the right key, another HMAC algorithm.
        let other_algorithm = |alg| {
            let claims = Claims {
                sub: "42".into(),
                exp: 4_102_444_800,
                iat: 0,
                jti: "x".into(),
            };
            jsonwebtoken::encode(
                &Header::new(alg),
                &claims,
                &EncodingKey::from_secret(secret().expose().as_bytes()),
            )
            .expect("encodes")
        };
        let cases = [
            (format!("{none_header}.{claims_part}."), "alg none"),
            (
                other_algorithm(Algorithm::HS512),
                "HS512 with the right key",
            ),
            (
                other_algorithm(Algorithm::HS384),
                "HS384 with the right key",
            ),
            (format!("{header_and_claims}.AAAA"), "wrong signature"),
            (issue(&Secret::new("z".repeat(32)), 42), "other key"),
            (expired, "expired"),
            ("not.a.jwt".to_owned(), "garbage"),
            (String::new(), "empty"),
        ];
        for (token, why) in cases {
            assert!(verify(&secret(), &token).is_err(), "{why} was accepted");
        }
    }
}
