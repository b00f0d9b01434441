//! Passwords: argon2id with explicit parameters, hashed and verified off the
//! async threads (`spawn_blocking`): one hash takes tens of milliseconds of CPU.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 8;
/// The longest password accepted, in characters: bounds the work one request can cause.
pub const MAX_CHARS: usize = 1024;

/// Memory cost in KiB, passes and lanes: OWASP's minimum for argon2id
/// (19 MiB, 2 iterations, 1 degree of parallelism).
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// The hash verified when no account has the given email, so that "no such
/// email" takes as long as "wrong password". It has the parameters above (a
/// unit test holds them together) and a random salt and output, so no
/// password matches it.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$1ilphsu3j6Lm8OHOLSuCTQ$DqWvXqWUq6WQ0A/gK0qz/2C9N+EWPOADwP4iCwOU7eY";

/// Why a password is refused at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least 8 characters")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("the password must have at most 1024 characters")]
    TooLong,
}

/// Checks a new password's length.
///
/// # Errors
/// The rule it breaks.
pub fn check(password: &str) -> Result<(), PasswordRule> {
    match password.chars().count() {
        n if n < MIN_CHARS => Err(PasswordRule::TooShort),
        n if n > MAX_CHARS => Err(PasswordRule::TooLong),
        _ => Ok(()),
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .expect("the argon2 parameters are constants within argon2's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`),
/// with a random salt.
///
/// # Errors
/// The blocking pool is gone (shutdown) or argon2 fails (out of memory).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `stored` (a PHC string). With `None` (no such
/// account) a dummy hash is verified anyway, so both cases take as long.
///
/// # Errors
/// The blocking pool is gone (shutdown).
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        // The stored string carries its own parameters; verification uses them.
        let matches = hasher()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok();
        exists && matches
    })
    .await
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_in_characters() {
        let cases = [
            ("", Err(PasswordRule::TooShort), "empty"),
            ("1234567", Err(PasswordRule::TooShort), "seven"),
            ("12345678", Ok(()), "eight"),
            ("ăîșțâăîș", Ok(()), "eight two-byte characters"),
            (
                "ăîșțâăî",
                Err(PasswordRule::TooShort),
                "seven characters, 14 bytes",
            ),
        ];
        for (password, want, why) in cases {
            assert_eq!(check(password), want, "{why}");
        }
        assert_eq!(check(&"x".repeat(MAX_CHARS)), Ok(()));
        assert_eq!(
            check(&"x".repeat(MAX_CHARS + 1)),
            Err(PasswordRule::TooLong)
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_chosen_parameters_and_verify() {
        let stored = hash("correct horse".into()).await.unwrap();

        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify("correct horse".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("correct horsE".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert_ne!(
            stored,
            hash("correct horse".into()).await.unwrap(),
            "salted"
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_real_parameters_and_never_matches() {
        let real = hash("whatever1".into()).await.unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(str::to_owned);

        assert_eq!(
            params(DUMMY_HASH),
            params(&real),
            "same cost as a real check"
        );
        for password in ["", "password", "12345678"] {
            assert!(!verify(password.into(), None).await.unwrap(), "{password}");
        }
        // And it is really computed: no account takes about as long as a
        // wrong password (a loose bound, robust on a busy machine).
        let timed = |stored: Option<String>| async move {
            let start = std::time::Instant::now();
            verify("wrong password".into(), stored).await.unwrap();
            start.elapsed()
        };
        let mut with_account = std::time::Duration::MAX;
        let mut without = std::time::Duration::MAX;
        for _ in 0..3 {
            with_account = with_account.min(timed(Some(real.clone())).await);
            without = without.min(timed(None).await);
        }
        assert!(
            without * 3 >= with_account,
            "no account: {without:?}, wrong password: {with_account:?}"
        );
    }
}
