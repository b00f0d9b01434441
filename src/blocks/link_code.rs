//! One-time link codes: the eight characters that bind a Telegram chat to an account,
//! typed by hand into the bot, carried in the deep link `https://t.me/<bot>?start=<code>`,
//! or scanned from its QR code.
//!
//! A code is only ever stored as its [`LinkCode::hash`], is single use and lives 15 minutes
//! (the store enforces both).

use std::fmt;

use rand::Rng;
use rand::distr::slice::Choose;
use sha2::{Digest, Sha256};

/// The characters of a code: uppercase letters and digits without the look-alikes
/// `0`/`O`, `1`/`I`/`L`, and `U` (read as `V`), so a code read off a screen or
/// dictated survives. 30 characters, so 30^8 ≈ 6.6 × 10^11 codes.
pub const ALPHABET: &[u8; 30] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";

/// The number of characters in a code.
pub const LENGTH: usize = 8;

/// A well-formed link code: [`LENGTH`] characters from [`ALPHABET`].
///
/// `Debug` hides the code, so it cannot leak into logs; `Display` shows it, for the page
/// and the bot message that hand it to the person.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LinkCode(String);

impl LinkCode {
    /// A fresh random code, with at least one digit and one letter (see [`LinkCode::parse`]).
    ///
    /// `rand::rng()` is a ChaCha12 generator seeded and periodically reseeded from the
    /// operating system, i.e. a CSPRNG. `Choose` samples by rejection (Lemire's method),
    /// unlike `IndexedRandom::choose`, whose single-shot sampling may be very slightly
    /// biased in rand 0.9; every character is thus exactly equally likely. A draw without
    /// a digit or without a letter (about one in eight) is drawn again, which leaves
    /// 30^8 − 23^8 − 7^8 ≈ 5.8 × 10^11 codes, all equally likely.
    pub fn generate() -> LinkCode {
        let alphabet = Choose::new(ALPHABET).expect("the alphabet is not empty");
        loop {
            let code: String = rand::rng()
                .sample_iter(alphabet)
                .take(LENGTH)
                .map(|&b| char::from(b))
                .collect();
            if mixed(&code) {
                return LinkCode(code);
            }
        }
    }

    /// Reads a code as a person may type it: surrounding whitespace, spaces and dashes
    /// anywhere (`"abcd-efgh"`, `"ABCD EFGH"`) are dropped and letters uppercased.
    ///
    /// Returns `None` if what remains is not [`LENGTH`] characters of [`ALPHABET`] with
    /// at least one digit and one letter (so that a word such as "partener" or "generate",
    /// sent as chatter, is never taken for a code and counted as a wrong one),
    /// including when it holds a look-alike the alphabet leaves out (`0`, `O`, `1`, `I`,
    /// `L`, `U`): guessing which character was meant would only turn a clear "invalid
    /// code" into a confusing "unknown code".
    pub fn parse(input: &str) -> Option<LinkCode> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let well_formed =
            code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)) && mixed(&code);
        well_formed.then_some(LinkCode(code))
    }

    /// The code, such as `"K7TQ3MXA"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the code, the only form that is stored.
    ///
    /// No salt or slow hash: the code is random, so a reader of the database would have
    /// to try the whole space of 6.6 × 10^11 codes per hash, and the code is dead within
    /// 15 minutes anyway; online guessing is stopped by attempt limits, not by the hash.
    /// An unsalted hash also lets the store look a typed code up by equality.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// Whether `code` holds at least one digit and one letter.
fn mixed(code: &str) -> bool {
    code.bytes().any(|b| b.is_ascii_digit()) && code.bytes().any(|b| b.is_ascii_alphabetic())
}

impl fmt::Display for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkCode(********)")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn alphabet_has_no_look_alikes_or_duplicates() {
        for look_alike in b"0O1ILU" {
            assert!(
                !ALPHABET.contains(look_alike),
                "{}",
                char::from(*look_alike)
            );
        }
        let distinct: HashSet<_> = ALPHABET.iter().collect();
        assert_eq!(distinct.len(), ALPHABET.len());
        assert!(
            ALPHABET
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
    }

    #[test]
    fn generated_codes_have_the_length_and_alphabet() {
        for _ in 0..1_000 {
            let code = LinkCode::generate();
            assert_eq!(code.as_str().len(), LENGTH);
            assert!(
                code.as_str().bytes().all(|b| ALPHABET.contains(&b)),
                "{code}"
            );
        }
    }

    #[test]
    fn generated_codes_parse_back_unchanged() {
        for _ in 0..1_000 {
            let code = LinkCode::generate();
            assert_eq!(LinkCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn ten_thousand_generated_codes_are_distinct() {
        // Birthday bound: 10^4 choose 2 over 30^8 codes, about one collision in 13 000 runs.
        let codes: HashSet<String> = (0..10_000).map(|_| LinkCode::generate().0).collect();
        assert_eq!(codes.len(), 10_000);
    }

    #[test]
    fn generated_characters_are_spread_over_the_whole_alphabet() {
        // 80 000 characters, 8 digits and 22 letters. Redrawing codes without a digit or
        // a letter leaves 2.328 digits in a code on average, so a digit is expected
        // 2 910 times and a letter 2 578 times (standard deviations near 51): a ±10 %
        // band (about 5.5 of them) catches a wrong alphabet or a stuck generator, never
        // chance. (The band was once centred on 3 028 and 2 557, and failed by chance.)
        let mut counts = [0u32; 128];
        for _ in 0..10_000 {
            for b in LinkCode::generate().0.bytes() {
                counts[usize::from(b)] += 1;
            }
        }
        for &c in ALPHABET {
            let count = counts[usize::from(c)];
            let band = if c.is_ascii_digit() {
                2_619..=3_201
            } else {
                2_320..=2_836
            };
            assert!(band.contains(&count), "{}: {count}", char::from(c));
        }
    }

    #[test]
    fn every_generated_code_has_a_digit_and_a_letter() {
        for _ in 0..10_000 {
            let code = LinkCode::generate();
            assert!(mixed(code.as_str()), "{code}");
        }
    }

    #[test]
    fn words_and_numbers_are_not_codes() {
        let cases = [
            ("partener", "a Romanian word of the alphabet's letters"),
            ("generate", "an English word of the alphabet's letters"),
            ("ABCDEFGH", "letters only"),
            ("23456789", "digits only"),
        ];
        for (input, why) in cases {
            assert_eq!(LinkCode::parse(input), None, "{input:?}: {why}");
        }
    }

    #[test]
    fn parse_normalises_what_a_person_types() {
        let cases = [
            "ABCDEFG2",
            "abcdefg2",
            "abcd-efg2",
            "ABCD EFG2",
            "  AbCd - EfG2 \n",
            "A-B-C-D-E-F-G-2",
        ];
        for input in cases {
            assert_eq!(
                LinkCode::parse(input).map(|c| c.to_string()),
                Some("ABCDEFG2".into())
            );
        }
    }

    #[test]
    fn parse_rejects_wrong_length_and_foreign_characters() {
        let cases = [
            ("", "empty"),
            ("ABCDEF2", "seven characters"),
            ("ABCDEFGH2", "nine characters"),
            ("ABCDEF20", "zero"),
            ("ABCDEF2O", "letter O"),
            ("ABCDEF21", "one"),
            ("ABCDEF2I", "letter I"),
            ("ABCDEF2L", "letter L"),
            ("ABCDEF2U", "letter U"),
            ("ABCD_EF2", "underscore"),
            ("ABCDEF2Ä", "non-ASCII letter"),
            ("ABCD.EFG2", "dot"),
        ];
        for (input, why) in cases {
            assert_eq!(LinkCode::parse(input), None, "{input:?}: {why}");
        }
    }

    #[test]
    fn hash_is_sha256_of_the_code() {
        let code = LinkCode::parse("abcd-efg2").unwrap();
        assert_eq!(
            hex::encode(code.hash()),
            "4555ee337037d3bc369a505c7ec66f16af98208a71368ec2090c07d17cbee717"
        );
    }

    #[test]
    fn debug_hides_the_code() {
        let code = LinkCode::parse("ABCDEFG2").unwrap();
        assert!(!format!("{code:?}").contains("ABCDEFG2"));
        assert_eq!(code.to_string(), "ABCDEFG2");
    }

    fn any_code() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(ALPHABET.as_slice()), LENGTH)
            .prop_map(|bytes| bytes.into_iter().map(char::from).collect::<String>())
            .prop_filter("a code has a digit and a letter", |code| mixed(code))
    }

    proptest! {
        #[test]
        fn parse_ignores_case_dashes_and_spaces(
            code in any_code(),
            separators in proptest::collection::vec(prop_oneof![Just(""), Just("-"), Just(" ")], LENGTH),
        ) {
            let typed: String = code
                .chars()
                .zip(separators)
                .map(|(c, separator)| format!("{}{separator}", c.to_ascii_lowercase()))
                .collect();
            prop_assert_eq!(LinkCode::parse(&typed).map(|c| c.0), Some(code));
        }

        #[test]
        fn parse_accepts_only_the_alphabet(input in "\\PC{0,12}") {
            if let Some(code) = LinkCode::parse(&input) {
                prop_assert_eq!(code.0.len(), LENGTH);
                prop_assert!(code.0.bytes().all(|b| ALPHABET.contains(&b)));
                prop_assert!(mixed(&code.0));
            }
        }
    }
}
