//! Checks for the identifiers a company gives us: the Romanian fiscal code (CUI/CIF) and
//! bank account numbers (IBAN). Each parser verifies the check digits, so a typo is caught
//! when it is typed rather than when an ERP export or a payment fails, and returns the
//! normalised form that is stored and compared.

use std::fmt;

/// A Romanian fiscal code (CUI, also called CIF) with a valid check digit, normalised to
/// its digits: `RO18547290`, `ro 18547290` and `18547290` are all `18547290`.
///
/// The `RO` prefix only says that the company is registered for VAT, which can change
/// over time, so it is not part of the identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cui(String);

/// Why a text is not a valid CUI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CuiError {
    /// Not 2 to 10 digits (after an optional `RO`), or it starts with a zero.
    #[error("a CUI is 2 to 10 digits, optionally after RO, and does not start with 0")]
    InvalidFormat,
    /// The last digit does not match the others: most likely a typo.
    #[error("the CUI's check digit does not match; please check it for a typo")]
    CheckDigit,
}

/// A valid IBAN in its electronic form: uppercase, without spaces, as in
/// `RO49AAAA1B31007593840000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

/// Why a text is not a valid IBAN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    /// A character that is neither a letter, a digit nor whitespace.
    #[error("an IBAN has only letters and digits, not {0:?}")]
    InvalidCharacter(char),
    /// It does not open with a two-letter country code and two check digits.
    #[error("an IBAN starts with a two-letter country code and two check digits, as in RO49")]
    InvalidFormat,
    /// Wrong length for a country whose IBAN length we know.
    #[error("an IBAN from {country} has {expected} characters, this one has {actual}")]
    WrongLengthForCountry {
        /// The two-letter country code.
        country: String,
        /// The length of that country's IBANs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// Outside 15–34 characters, the range of all IBANs.
    #[error("an IBAN has 15 to 34 characters, this one has {0}")]
    WrongLength(usize),
    /// The mod-97 check fails: most likely a typo.
    #[error("the IBAN's check digits do not match; please check it for a typo")]
    Checksum,
}

/// The CUI's weights, aligned to the right of the digits before the check digit.
const CUI_KEY: [u32; 9] = [7, 5, 3, 2, 1, 7, 5, 3, 2];

/// IBAN lengths of the EU and EEA, plus Switzerland, the UK and Romania's neighbours
/// outside the EU; other countries only get the general 15–34 range.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MD", 24),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("RS", 22),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("UA", 29),
];

impl Cui {
    /// Parses a CUI: surrounding whitespace is ignored, an `RO` prefix (any case, optionally
    /// followed by spaces) is accepted and dropped, then 2 to 10 digits must follow, the
    /// last being the check digit.
    ///
    /// The check digit is the official one: the other digits, aligned to the right of the
    /// key 753217532, are multiplied by it pairwise and summed; the sum times 10, modulo
    /// 11, is the check digit, with 10 written as 0.
    ///
    /// # Errors
    ///
    /// [`CuiError::InvalidFormat`] for the wrong shape, [`CuiError::CheckDigit`] when the
    /// check digit does not match.
    pub fn parse(input: &str) -> Result<Cui, CuiError> {
        let input = input.trim();
        let digits = match input.get(..2) {
            Some(prefix) if prefix.eq_ignore_ascii_case("RO") => input[2..].trim_start(),
            _ => input,
        };
        let well_formed = (2..=10).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !well_formed {
            return Err(CuiError::InvalidFormat);
        }

        let (body, check) = digits.split_at(digits.len() - 1);
        let sum: u32 = body
            .bytes()
            .rev()
            .zip(CUI_KEY.iter().rev())
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        let expected = sum * 10 % 11 % 10;
        if u32::from(check.as_bytes()[0] - b'0') != expected {
            return Err(CuiError::CheckDigit);
        }
        Ok(Cui(digits.to_owned()))
    }

    /// The digits, without any `RO` prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cui {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Iban {
    /// Parses an IBAN (ISO 13616): whitespace anywhere is dropped and letters are
    /// uppercased, so the printed form `RO49 AAAA 1B31 0075 9384 0000` is accepted. The
    /// length must be the country's for the EU and EEA, Switzerland, the UK, Moldova,
    /// Serbia and Ukraine, and within 15–34 for other countries; the check digits must be
    /// 02–98 and the whole must pass the mod-97 check.
    ///
    /// # Errors
    ///
    /// The [`IbanError`] variant naming the first check that fails.
    pub fn parse(input: &str) -> Result<Iban, IbanError> {
        let mut iban = String::with_capacity(34);
        for c in input.chars().filter(|c| !c.is_whitespace()) {
            if !c.is_ascii_alphanumeric() {
                return Err(IbanError::InvalidCharacter(c));
            }
            iban.push(c.to_ascii_uppercase());
        }

        let bytes = iban.as_bytes();
        let well_formed = bytes.len() >= 4
            && bytes[..2].iter().all(u8::is_ascii_alphabetic)
            && bytes[2..4].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(IbanError::InvalidFormat);
        }
        let country = &iban[..2];
        match IBAN_LENGTHS.iter().find(|(code, _)| *code == country) {
            Some(&(_, expected)) if iban.len() != expected => {
                return Err(IbanError::WrongLengthForCountry {
                    country: country.to_owned(),
                    expected,
                    actual: iban.len(),
                });
            }
            None if !(15..=34).contains(&iban.len()) => {
                return Err(IbanError::WrongLength(iban.len()));
            }
            _ => {}
        }

        // Check digits are 98 minus a remainder, so 00, 01 and 99 are never issued, even
        // though 99 (like 02) can pass the mod-97 test.
        let check_digits = &iban[2..4];
        if matches!(check_digits, "00" | "01" | "99") || mod_97(&iban) != 1 {
            return Err(IbanError::Checksum);
        }
        Ok(Iban(iban))
    }

    /// The electronic form, such as `RO49AAAA1B31007593840000`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The IBAN of a country's basic bank account number, with its check
    /// digits computed: `with_check_digits("RO", "AAAA1B31007593840000")` is
    /// `RO49AAAA1B31007593840000`. For generated data (demo, tests).
    ///
    /// # Errors
    /// As [`Iban::parse`]: the country code or the BBAN's shape or length is wrong.
    pub fn with_check_digits(country: &str, bban: &str) -> Result<Iban, IbanError> {
        let unchecked = format!("{country}00{bban}").to_ascii_uppercase();
        if let Some(c) = unchecked.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(IbanError::InvalidCharacter(c));
        }
        let check = 98 - mod_97(&unchecked);
        Iban::parse(&format!("{country}{check:02}{bban}"))
    }

    /// The printed form, in groups of four: `RO49 AAAA 1B31 0075 9384 0000`.
    pub fn grouped(&self) -> String {
        let groups: Vec<&str> = self
            .0
            .as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).expect("an IBAN is ASCII"))
            .collect();
        groups.join(" ")
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ISO 13616 remainder: the first four characters moved to the end, letters read as
/// 10–35, the resulting digit string taken modulo 97. It is folded digit by digit because
/// the number has up to 68 digits.
fn mod_97(iban: &str) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.bytes().chain(head.bytes()).fold(0, |remainder, b| {
        if b.is_ascii_digit() {
            (remainder * 10 + u32::from(b - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_are_computed_for_a_bban() {
        let iban = Iban::with_check_digits("RO", "AAAA1B31007593840000").expect("valid");
        assert_eq!(iban.as_str(), "RO49AAAA1B31007593840000");
        assert!(Iban::with_check_digits("RO", "SHORT").is_err());
        assert!(Iban::with_check_digits("RO", "AAAA-B31007593840000").is_err());
    }

    #[test]
    fn cui_accepts_real_codes_and_normalises_to_digits() {
        let cases = [
            ("18547290", "18547290"),
            ("RO18547290", "18547290"),
            ("ro18547290", "18547290"),
            ("RO 18547290", "18547290"),
            ("  Ro 14399840 ", "14399840"),
            ("14399840", "14399840"),
            ("1590082", "1590082"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Cui::parse(input).map(|cui| cui.to_string()),
                Ok(expected.to_owned())
            );
        }
    }

    #[test]
    fn cui_check_digit_of_ten_is_written_as_zero() {
        // 1854729 weighs 111; 1110 mod 11 = 10, written as 0.
        assert!(Cui::parse("18547290").is_ok());
        assert_eq!(Cui::parse("18547291"), Err(CuiError::CheckDigit));
    }

    #[test]
    fn cui_rejects_wrong_check_digits_and_shapes() {
        let cases = [
            ("18547291", CuiError::CheckDigit, "last digit changed"),
            ("18547920", CuiError::CheckDigit, "two digits swapped"),
            ("1590083", CuiError::CheckDigit, "last digit changed"),
            ("", CuiError::InvalidFormat, "empty"),
            ("RO", CuiError::InvalidFormat, "prefix alone"),
            ("1", CuiError::InvalidFormat, "one digit"),
            ("12345678901", CuiError::InvalidFormat, "eleven digits"),
            ("01590082", CuiError::InvalidFormat, "leading zero"),
            ("00", CuiError::InvalidFormat, "all zeros"),
            ("1854 7290", CuiError::InvalidFormat, "space inside"),
            ("RO-18547290", CuiError::InvalidFormat, "dash after prefix"),
            (
                "DE18547290",
                CuiError::InvalidFormat,
                "another country's prefix",
            ),
            ("18547290RO", CuiError::InvalidFormat, "suffix"),
            ("١٨٥٤٧٢٩٠", CuiError::InvalidFormat, "non-ASCII digits"),
        ];
        for (input, expected, why) in cases {
            assert_eq!(Cui::parse(input), Err(expected), "{input:?}: {why}");
        }
    }

    #[test]
    fn iban_accepts_the_romanian_example_in_any_spacing_and_case() {
        for input in [
            "RO49AAAA1B31007593840000",
            "RO49 AAAA 1B31 0075 9384 0000",
            " ro49aaaa1b31007593840000 ",
        ] {
            let iban = Iban::parse(input).unwrap();
            assert_eq!(iban.as_str(), "RO49AAAA1B31007593840000", "{input:?}");
        }
    }

    #[test]
    fn iban_accepts_other_countries() {
        for input in [
            "DE89 3704 0044 0532 0130 00",
            "GB29 NWBK 6016 1331 9268 19",
            "NO93 8601 1117 947",
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        ] {
            assert!(Iban::parse(input).is_ok(), "{input:?}");
        }
    }

    #[test]
    fn iban_rejects_mutations() {
        let cases = [
            (
                "RO49AAAA1B31007593840001",
                IbanError::Checksum,
                "last digit changed",
            ),
            (
                "RO48AAAA1B31007593840000",
                IbanError::Checksum,
                "check digits changed",
            ),
            ("RO49AAAA1B31007593840", wrong_ro_length(21), "truncated"),
            (
                "RO49AAAA1B310075938400000",
                wrong_ro_length(25),
                "one digit too many",
            ),
            (
                "RO49AAAA1B31007539840000",
                IbanError::Checksum,
                "two digits swapped",
            ),
            (
                "RO49AAAB1B31007593840000",
                IbanError::Checksum,
                "letter changed",
            ),
            (
                "RO49-AAAA-1B31-0075-9384-0000",
                IbanError::InvalidCharacter('-'),
                "dashes",
            ),
            ("", IbanError::InvalidFormat, "empty"),
            (
                "49RO",
                IbanError::InvalidFormat,
                "country and check digits swapped",
            ),
            (
                "ROAB1234",
                IbanError::InvalidFormat,
                "letters for check digits",
            ),
            (
                "XX12345678901",
                IbanError::WrongLength(13),
                "unknown country, too short",
            ),
        ];
        for (input, expected, why) in cases {
            assert_eq!(Iban::parse(input), Err(expected), "{input:?}: {why}");
        }
    }

    #[test]
    fn iban_rejects_check_digits_99_even_when_mod_97_passes() {
        // Arrange: an IBAN whose issued check digits are 02, since 99 is 02 modulo 97.
        assert_eq!(
            iban_with_check_digits("RO", "AAAA1B31007593840000"),
            "RO49AAAA1B31007593840000"
        );
        let valid = (0..10_000)
            .map(|n| iban_with_check_digits("RO", &format!("AAAA1B3100759384{n:04}")))
            .find(|iban| &iban[2..4] == "02")
            .expect("about one account number in 97 gets check digits 02");
        let aliased = format!("RO99{}", &valid[4..]);

        // Act
        let (valid_result, aliased_result) = (Iban::parse(&valid), Iban::parse(&aliased));

        // Assert
        assert_eq!(mod_97(&aliased), 1, "99 passes the bare mod-97 test");
        assert!(valid_result.is_ok());
        assert_eq!(aliased_result, Err(IbanError::Checksum));
    }

    #[test]
    fn iban_grouped_prints_blocks_of_four() {
        let iban = Iban::parse("RO49AAAA1B31007593840000").unwrap();
        assert_eq!(iban.grouped(), "RO49 AAAA 1B31 0075 9384 0000");
        let norway = Iban::parse("NO9386011117947").unwrap();
        assert_eq!(norway.grouped(), "NO93 8601 1117 947");
    }

    /// Builds an IBAN the way a bank does, to test with check digits of our choosing.
    fn iban_with_check_digits(country: &str, bban: &str) -> String {
        let check = 98 - mod_97(&format!("{country}00{bban}"));
        format!("{country}{check:02}{bban}")
    }

    fn wrong_ro_length(actual: usize) -> IbanError {
        IbanError::WrongLengthForCountry {
            country: "RO".into(),
            expected: 24,
            actual,
        }
    }
}
