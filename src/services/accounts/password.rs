//! Passwords: argon2id with explicit parameters, hashed and verified off the
//! async threads (`spawn_blocking`): one hash takes tens of milliseconds of CPU
//! and [`MEMORY_KIB`] of memory.
//!
//! Every hash and every verification passes a [`HashGate`] first (a
//! [`Gate`] that also keeps the slots' memory): at most its slots run at
//! once (sized from a memory budget and the cores), a few more callers wait
//! a short while, and the rest are turned away at once ([`Busy`]: the front
//! ends answer 503 with `Retry-After`). So the memory passwords take is
//! bounded whatever the number of clients, and nothing queues without bound.
//!
//! Each slot owns its argon2 memory, allocated once and reused: hashing
//! never hands 19 MiB back to the allocator, which would keep freed blocks
//! in per-thread arenas (glibc does), so the process's memory stays at the
//! slots' worth whichever threads ran the hashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;

use crate::blocks::gate::{Full, Gate};

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 8;
/// The longest password accepted, in characters: bounds the work one request can cause.
pub const MAX_CHARS: usize = 1024;

/// Memory cost in KiB, passes and lanes: OWASP's minimum for argon2id
/// (19 MiB, 2 iterations, 1 degree of parallelism).
pub const MEMORY_KIB: u32 = 19_456;
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

/// How many hashes may run at once and how many callers may wait for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once: each holds [`MEMORY_KIB`] while it runs.
    pub slots: usize,
    /// Callers that may wait for a slot; one more is [`Busy`] at once.
    pub queue: usize,
    /// How long a caller waits for a slot before it is [`Busy`].
    pub max_wait: Duration,
}

impl HashLimits {
    /// The limits for a memory budget (MiB spent on password hashes at
    /// most) on a machine with `cores` cores: as many slots as the budget
    /// holds, but no more than the cores (more would only make each hash
    /// slower), at least one; four waiting callers per slot, for 5 seconds.
    pub fn from_budget(memory_mib: u32, cores: usize) -> Self {
        let fits = usize::try_from(memory_mib.saturating_mul(1024) / MEMORY_KIB).unwrap_or(1);
        let slots = fits.min(cores).max(1);
        Self {
            slots,
            queue: slots * 4,
            max_wait: Duration::from_secs(5),
        }
    }
}

/// Every password hash is busy and the queue is full (or the wait ran
/// out): try again in a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked right now")]
pub struct Busy;

/// How long a [`Busy`] caller is asked to wait before trying again.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

/// The one gate every hash and verification of a process passes ([`HashLimits`]).
#[derive(Debug)]
pub struct HashGate {
    gate: Gate,
    /// The slots' argon2 memory, each taken by the hash that holds a slot:
    /// never more than `limits.slots` of them.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    limits: HashLimits,
}

impl HashGate {
    /// A gate with `limits`.
    pub fn new(limits: HashLimits) -> Self {
        Self {
            gate: Gate::new(limits.slots, limits.queue, limits.max_wait),
            memory: Arc::default(),
            limits,
        }
    }

    /// The gate's limits.
    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// Runs `work` with a slot's memory on the blocking pool once a slot
    /// is free. The slot moves into the blocking task, so it is held until
    /// the hash is done even when the request that asked is dropped halfway.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<Result<T, tokio::task::JoinError>, Busy> {
        let permit = self.gate.enter().await.map_err(|Full| Busy)?;
        let memory = self.memory.clone();
        Ok(tokio::task::spawn_blocking(move || {
            // A slot is held, so at most `slots` buffers are ever out.
            let taken = memory.lock().map(|mut free| free.pop()).ok().flatten();
            let mut blocks =
                taken.unwrap_or_else(|| vec![Block::default(); params().block_count()]);
            let answer = work(&mut blocks);
            if let Ok(mut free) = memory.lock() {
                free.push(blocks);
            }
            drop(permit);
            answer
        })
        .await)
    }
}

/// What hashing and verifying fail with.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The gate is full: try again in a moment.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The blocking pool is gone (shutdown) or argon2 failed (out of memory).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The parameters every new hash gets.
fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .expect("the argon2 parameters are constants within argon2's bounds")
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`),
/// with a random salt, once `gate` lets it.
///
/// # Errors
/// [`HashError::Busy`] when the gate is full; the blocking pool is gone
/// (shutdown) or argon2 fails.
pub async fn hash(gate: &HashGate, password: String) -> Result<String, HashError> {
    let hashed = gate
        .run(move |memory| hash_with(memory, password.as_bytes()))
        .await?;
    Ok(hashed.map_err(anyhow::Error::from)??)
}

fn hash_with(memory: &mut [Block], password: &[u8]) -> anyhow::Result<String> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("argon2 hashing failed: {e}");
    let params = params();
    let salt =
        Salt::new(&rand::random::<[u8; Salt::RECOMMENDED_LENGTH]>()).map_err(|e| fail(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, memory)
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches `stored` (a PHC string). With `None` (no such
/// account) a dummy hash is verified anyway, so both cases take as long.
///
/// # Errors
/// [`HashError::Busy`] when the gate is full; the blocking pool is gone (shutdown).
pub async fn verify(
    gate: &HashGate,
    password: String,
    stored: Option<String>,
) -> Result<bool, HashError> {
    let verified = gate
        .run(move |memory| {
            let exists = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            let matches = verify_with(memory, password.as_bytes(), &stored);
            exists && matches
        })
        .await?;
    Ok(verified.map_err(anyhow::Error::from)?)
}

/// Recomputes `stored`'s hash with its own parameters, salt and length in
/// the slot's memory and compares in constant time. A hash that is not
/// argon2, does not parse or asks for more memory than a slot has never
/// matches (ledgerbot writes only [`params`]).
fn verify_with(memory: &mut [Block], password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params), Some(salt), Some(expected)) = (
        algorithm,
        version,
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let Some(blocks) = memory.get_mut(..params.block_count()) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, &salt, &mut out, blocks);
    hashed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> HashGate {
        HashGate::new(HashLimits::from_budget(64, 2))
    }

    #[test]
    fn slots_come_from_the_memory_budget_and_the_cores() {
        let cases = [
            (64, 8, 3, "64 MiB holds three 19 MiB hashes"),
            (64, 2, 2, "no more slots than cores"),
            (128, 1, 1, "one core, one slot"),
            (10, 4, 1, "a budget under one hash still allows one"),
            (0, 0, 1, "never zero"),
        ];
        for (budget, cores, slots, why) in cases {
            let limits = HashLimits::from_budget(budget, cores);
            assert_eq!(limits.slots, slots, "{why}");
            assert_eq!(limits.queue, slots * 4, "{why}");
        }
    }

    #[tokio::test]
    async fn a_full_gate_with_a_full_queue_is_busy_at_once_and_frees_its_slots() {
        // Arrange: one slot, one place in the queue, both taken.
        let gate = Arc::new(HashGate::new(HashLimits {
            slots: 1,
            queue: 1,
            max_wait: Duration::from_secs(30),
        }));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let holder = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(move |_| hold.recv()).await })
        };
        while gate.gate.free() > 0 {
            tokio::task::yield_now().await;
        }
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|_| 7).await })
        };
        while gate.gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }

        // Act: a third caller, then the slot freed.
        let started = std::time::Instant::now();
        let third = gate.run(|_| 8).await;
        release.send(()).expect("the holder waits");

        // Assert
        assert!(matches!(third, Err(Busy)), "turned away");
        assert!(started.elapsed() < Duration::from_secs(5), "at once");
        assert!(holder.await.expect("joins").is_ok());
        assert_eq!(waiter.await.expect("joins").expect("ran").expect("ok"), 7);
        assert_eq!(gate.gate.free(), 1, "the slot is back");
        assert_eq!(gate.gate.waiting(), 0, "nobody queued");
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_phc_functions() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let made_there = theirs
            .hash_password(b"correct horse")
            .expect("hashes")
            .to_string();
        let made_here = hash(&gate(), "correct horse".into()).await.unwrap();

        assert!(
            verify(&gate(), "correct horse".into(), Some(made_there.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify(&gate(), "correct horsE".into(), Some(made_there))
                .await
                .unwrap()
        );
        assert!(
            theirs
                .verify_password(b"correct horse", made_here.as_str())
                .is_ok()
        );
        for broken in [
            "",
            "$argon2id$",
            "plain text",
            "$argon2id$v=19$m=999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(
                !verify(&gate(), "x".into(), Some(broken.into()))
                    .await
                    .unwrap(),
                "{broken}"
            );
        }
    }

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
        let stored = hash(&gate(), "correct horse".into()).await.unwrap();

        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify(&gate(), "correct horse".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify(&gate(), "correct horsE".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert_ne!(
            stored,
            hash(&gate(), "correct horse".into()).await.unwrap(),
            "salted"
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_real_parameters_and_never_matches() {
        let real = hash(&gate(), "whatever1".into()).await.unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(str::to_owned);

        assert_eq!(
            params(DUMMY_HASH),
            params(&real),
            "same cost as a real check"
        );
        for password in ["", "password", "12345678"] {
            assert!(
                !verify(&gate(), password.into(), None).await.unwrap(),
                "{password}"
            );
        }
        // And it is really computed: no account takes about as long as a
        // wrong password (a loose bound, robust on a busy machine).
        let timed = |stored: Option<String>| async move {
            let start = std::time::Instant::now();
            verify(&gate(), "wrong password".into(), stored)
                .await
                .unwrap();
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
