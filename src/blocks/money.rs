//! Exact money: amounts as integer minor units, parsed from the JSON API's decimal strings
//! and from what a person types in the bot, and formatted for Romanian and English readers.
//!
//! Nothing here ever touches a float: an [`Amount`] counts bani (or cents), and every parser
//! works on the digits themselves. Currencies travel beside amounts as a [`Currency`].

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// An exact sum of money in minor units: `Amount::from_minor(123_456)` is 1234.56.
///
/// Every currency ledgerbot handles has two decimals, so the scale is fixed at 100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

/// Why a piece of text is not an amount or a currency.
///
/// The messages are English; the bot maps the variants to the person's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing but whitespace was given.
    #[error("the amount is empty")]
    Empty,
    /// The text is not written as an amount; the reason says what is wrong.
    #[error("invalid amount: {0}")]
    Invalid(&'static str),
    /// A character that has no place in an amount.
    #[error("invalid amount: unexpected character {0:?}")]
    UnexpectedCharacter(char),
    /// More than two digits after the decimal separator.
    #[error("an amount has at most two decimals")]
    TooManyDecimals,
    /// A lone `,` or `.` followed by three digits, which reads both as a thousands
    /// separator and as a decimal separator with three decimals.
    #[error(
        "ambiguous amount {0:?}: write it without the separator (1234) or with at most two decimals (1,23)"
    )]
    Ambiguous(String),
    /// The magnitude is above [`Amount::MAX`].
    #[error("the amount is larger than 999999999999.99")]
    TooLarge,
    /// A currency that is not three ASCII letters.
    #[error("a currency is a three-letter code such as RON or EUR")]
    InvalidCurrency,
}

/// A sign that a person typed in front of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// `+`
    Plus,
    /// `-` (or the typographic minus `−` that some keyboards substitute)
    Minus,
}

/// The digit grouping and decimal separator of a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberStyle {
    /// `1.234,56`
    Ro,
    /// `1,234.56`
    En,
}

/// An ISO 4217-shaped currency code: three uppercase ASCII letters, such as `RON`.
///
/// Only the shape is checked, not membership of the ISO list, so that a new currency
/// needs no release.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

/// Digits of the integer part allowed by [`Amount::MAX`].
const MAX_INTEGER_DIGITS: usize = 12;

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// The largest magnitude the parsers accept, 999 999 999 999.99: far beyond any real
    /// invoice, and small enough that sums of many amounts cannot overflow an `i64`.
    pub const MAX: Amount = Amount(99_999_999_999_999);

    /// An amount of `minor` bani (cents).
    pub const fn from_minor(minor: i64) -> Amount {
        Amount(minor)
    }

    /// The amount in bani (cents).
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Whether the amount is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + other`, or `None` on `i64` overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// `self - other`, or `None` on `i64` overflow.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// Parses the JSON API's decimal string: exactly `-?\d+(\.\d{1,2})?`, such as `"1234.56"`,
    /// `"0.5"` or `"-3"`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::Empty`] for `""`; [`MoneyError::TooManyDecimals`] for three or more
    /// decimals; [`MoneyError::TooLarge`] above [`Amount::MAX`]; [`MoneyError::Invalid`] for
    /// anything else outside the format (spaces, `+`, a comma, an exponent, `".5"`, `"5."`).
    pub fn parse_decimal(input: &str) -> Result<Amount, MoneyError> {
        if input.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, unsigned) = match input.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (unsigned, None),
        };
        if !is_digits(integer) {
            return Err(MoneyError::Invalid(
                "expected digits, with an optional leading '-' and '.' before the decimals",
            ));
        }
        let fraction = match fraction {
            None => "",
            Some(fraction) if !is_digits(fraction) => {
                return Err(MoneyError::Invalid(
                    "expected one or two digits after the decimal point",
                ));
            }
            Some(fraction) if fraction.len() > 2 => return Err(MoneyError::TooManyDecimals),
            Some(fraction) => fraction,
        };
        let magnitude = magnitude_from_digits(integer, fraction)?;
        Ok(if negative { -magnitude } else { magnitude })
    }

    /// The JSON API's form: a dot and always two decimals, such as `"1234.56"` or `"-0.50"`.
    /// Same as `to_string()`.
    pub fn to_decimal_string(self) -> String {
        self.to_string()
    }

    /// Parses the magnitude of an amount as a person types it, in Romanian or English
    /// notation. Surrounding whitespace is ignored; a sign is an error here (see
    /// [`parse_signed_human`]); zero is accepted (the caller decides whether it makes sense).
    ///
    /// The rules, in order:
    ///
    /// 1. Only digits and separators: `.`, `,` and a space (also the no-break spaces
    ///    U+00A0 and U+202F that copied text carries). The text starts and ends with a
    ///    digit, and no two separators touch: `",5"`, `"5,"`, `"12,,5"` are invalid.
    /// 2. The last separator is the decimal separator when it is a `.` or `,` that occurs
    ///    only once and another kind of separator comes before it (`"1.234,56"`,
    ///    `"1,234.56"`, `"1 234,56"`). A space, or a `.`/`,` that repeats (`"1.234.567"`),
    ///    only ever groups thousands.
    /// 3. A lone `.` or `,` with no other separator is decimal when one or two digits follow
    ///    (`"12,50"`, `"12.5"`, `"0,99"`). With three digits after it, `"1,234"` and
    ///    `"1.234"` could be 1234 or 1.234, so they are [`MoneyError::Ambiguous`]; when the
    ///    digits before it cannot be a thousands group (`"0.125"`, `"1234,567"`) they are
    ///    simply [`MoneyError::TooManyDecimals`].
    /// 4. At most two decimals; `"1234,5"` is 1234.50.
    /// 5. Thousands separators are all of one kind, the first group has 1–3 digits and no
    ///    leading zero, and every later group exactly 3 digits: `"1.23.4"` and
    ///    `"1,23,45.6"` are invalid. Without separators leading zeros are harmless (`"007"`).
    /// 6. At most [`Amount::MAX`].
    ///
    /// # Errors
    ///
    /// The [`MoneyError`] variant named by the rule that fails.
    pub fn parse_human(input: &str) -> Result<Amount, MoneyError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(MoneyError::Empty);
        }

        let mut groups = Vec::new();
        let mut separators = Vec::new();
        let mut start = 0;
        for (index, c) in input.char_indices() {
            let separator = match c {
                '0'..='9' => continue,
                '.' => Separator::Dot,
                ',' => Separator::Comma,
                ' ' | '\u{a0}' | '\u{202f}' => Separator::Space,
                '+' | '-' | '\u{2212}' => {
                    return Err(MoneyError::Invalid("a sign may only stand at the start"));
                }
                other => return Err(MoneyError::UnexpectedCharacter(other)),
            };
            let group = &input[start..index];
            if group.is_empty() {
                return Err(MoneyError::Invalid(if groups.is_empty() {
                    "an amount starts with a digit (0,50 rather than ,50)"
                } else {
                    "two separators in a row"
                }));
            }
            groups.push(group);
            separators.push(separator);
            start = index + c.len_utf8();
        }
        let last_group = &input[start..];
        if last_group.is_empty() {
            return Err(MoneyError::Invalid("an amount ends with a digit"));
        }
        groups.push(last_group);

        let has_decimals = match separators.last() {
            None | Some(Separator::Space) => false,
            Some(last) if separators.iter().filter(|s| *s == last).count() > 1 => false,
            Some(_) if separators.len() > 1 => true,
            Some(_) => match last_group.len() {
                1 | 2 => true,
                3 if is_leading_group(groups[0]) => {
                    return Err(MoneyError::Ambiguous(input.to_owned()));
                }
                _ => return Err(MoneyError::TooManyDecimals),
            },
        };
        let fraction = if has_decimals {
            separators.pop();
            groups
                .pop()
                .filter(|fraction| fraction.len() <= 2)
                .ok_or(MoneyError::TooManyDecimals)?
        } else {
            ""
        };

        if let Some(first) = separators.first() {
            if separators.iter().any(|s| s != first) {
                return Err(MoneyError::Invalid(
                    "two kinds of thousands separator are mixed",
                ));
            }
            if !is_leading_group(groups[0]) || groups[1..].iter().any(|group| group.len() != 3) {
                return Err(MoneyError::Invalid(
                    "thousands are grouped in threes, as in 1.234.567",
                ));
            }
        }
        magnitude_from_digits(&groups.concat(), fraction)
    }

    /// The number alone, grouped in thousands and with two decimals, in the given style:
    /// `1.234,56` ([`NumberStyle::Ro`]) or `1,234.56` ([`NumberStyle::En`]), with a leading
    /// `-` when negative. [`parse_signed_human`] reads it back.
    pub fn format_number(self, style: NumberStyle) -> String {
        let mut out = String::with_capacity(16);
        self.push_number(&mut out, style);
        out
    }

    /// [`Amount::format_number`] appended to `out`: a message of many amounts
    /// (the dashboard) is written into one buffer, without a string per amount.
    pub fn push_number(self, out: &mut String, style: NumberStyle) {
        let (group_separator, decimal_separator) = match style {
            NumberStyle::Ro => ('.', ','),
            NumberStyle::En => (',', '.'),
        };
        // unsigned_abs, because negating i64::MIN would overflow.
        let magnitude = self.0.unsigned_abs();
        if self.is_negative() {
            out.push('-');
        }
        push_grouped(out, magnitude / 100, group_separator);
        out.push(decimal_separator);
        let cents = magnitude % 100;
        out.push(digit(cents / 10));
        out.push(digit(cents % 10));
    }

    /// The amount with its currency, as each language writes it: `1.234,56 RON` and
    /// `-1.234,56 RON` in Romanian, `RON 1,234.56` and `RON -1,234.56` in English.
    pub fn format_money(self, currency: Currency, style: NumberStyle) -> String {
        let mut out = String::with_capacity(24);
        self.push_money(&mut out, currency, style);
        out
    }

    /// [`Amount::format_money`] appended to `out`.
    pub fn push_money(self, out: &mut String, currency: Currency, style: NumberStyle) {
        match style {
            NumberStyle::Ro => {
                self.push_number(out, style);
                out.push(' ');
                out.push_str(currency.as_str());
            }
            NumberStyle::En => {
                out.push_str(currency.as_str());
                out.push(' ');
                self.push_number(out, style);
            }
        }
    }
}

/// `n` appended to `out` with `separator` between groups of three digits
/// (`1.234.567`): amounts' units and counts are grouped alike.
pub fn push_grouped(out: &mut String, n: u64, separator: char) {
    // u64::MAX has 20 digits; least significant first.
    let mut digits = ['0'; 20];
    let mut len = 0;
    let mut rest = n;
    loop {
        digits[len] = digit(rest % 10);
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for index in 0..len {
        if index > 0 && (len - index).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digits[len - 1 - index]);
    }
}

/// The decimal digit `d` (0 to 9).
fn digit(d: u64) -> char {
    char::from(b'0' + u8::try_from(d).expect("a digit"))
}

/// Parses an amount as a person types it, with an optional leading `+` or `-` (or `−`),
/// and returns the sign separately so the caller can tell "no sign" from `+`: for a cash
/// entry, no sign may mean an expense. The magnitude follows [`Amount::parse_human`].
///
/// # Errors
///
/// As [`Amount::parse_human`]; a sign alone is [`MoneyError::Empty`].
pub fn parse_signed_human(input: &str) -> Result<(Option<Sign>, Amount), MoneyError> {
    let input = input.trim_start();
    let mut chars = input.chars();
    let sign = match chars.next() {
        Some('+') => Some(Sign::Plus),
        Some('-' | '\u{2212}') => Some(Sign::Minus),
        _ => None,
    };
    let magnitude = if sign.is_some() {
        chars.as_str()
    } else {
        input
    };
    Ok((sign, Amount::parse_human(magnitude)?))
}

impl Sign {
    /// The magnitude with this sign: `Minus` negates, `Plus` keeps it.
    pub fn apply(self, magnitude: Amount) -> Amount {
        match self {
            Sign::Plus => magnitude,
            Sign::Minus => -magnitude,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Separator {
    Dot,
    Comma,
    Space,
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `group` can open a thousands-grouped number.
fn is_leading_group(group: &str) -> bool {
    (1..=3).contains(&group.len()) && !group.starts_with('0')
}

/// Builds a magnitude from ASCII digits: `integer` of any length (leading zeros allowed),
/// `fraction` of at most two digits.
fn magnitude_from_digits(integer: &str, fraction: &str) -> Result<Amount, MoneyError> {
    let integer = integer.trim_start_matches('0');
    // Counting digits bounds the value before any arithmetic can overflow.
    if integer.len() > MAX_INTEGER_DIGITS {
        return Err(MoneyError::TooLarge);
    }
    let digits = |text: &str| {
        text.bytes()
            .fold(0, |acc, b| acc * 10 + i64::from(b - b'0'))
    };
    let cents = match fraction.len() {
        0 => 0,
        1 => digits(fraction) * 10,
        _ => digits(fraction),
    };
    Ok(Amount(digits(integer) * 100 + cents))
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.is_negative() { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

// The operators panic on overflow instead of wrapping: a wrapped balance would be silently
// wrong, and amounts bounded by `Amount::MAX` need ~92 000 of them summed to get there.
impl Add for Amount {
    type Output = Amount;

    fn add(self, other: Amount) -> Amount {
        self.checked_add(other)
            .expect("a sum of amounts fits in i64 minor units")
    }
}

impl Sub for Amount {
    type Output = Amount;

    fn sub(self, other: Amount) -> Amount {
        self.checked_sub(other)
            .expect("a difference of amounts fits in i64 minor units")
    }
}

impl Neg for Amount {
    type Output = Amount;

    fn neg(self) -> Amount {
        Amount(
            self.0
                .checked_neg()
                .expect("a negated amount fits in i64 minor units"),
        )
    }
}

impl Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        deserializer.deserialize_str(StrVisitor {
            expecting: "money as a decimal string with a dot, such as \"1234.56\" (never a JSON number)",
            parse: Amount::parse_decimal,
        })
    }
}

impl Currency {
    /// The Romanian leu, the default currency of a company.
    pub const RON: Currency = Currency(*b"RON");

    /// Parses a currency code, ignoring surrounding whitespace and case: `" ron "` is `RON`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidCurrency`] unless the text is exactly three ASCII letters.
    pub fn parse(input: &str) -> Result<Currency, MoneyError> {
        match input.trim().as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(MoneyError::InvalidCurrency),
        }
    }

    /// The code, such as `"RON"`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a currency code is three ASCII letters")
    }

    /// Whether the code is one of ISO 4217's current currencies: what a person
    /// may type in the bot, where `EURO` or `LEI` mistyped as `EUU` should be
    /// refused rather than recorded. (The API checks only the shape, so that
    /// an ERP is never held back by a list that is behind.)
    pub fn is_iso_4217(&self) -> bool {
        ISO_4217
            .split_ascii_whitespace()
            .any(|code| code == self.as_str())
    }
}

/// ISO 4217's current currency codes (without funds, metals and test codes).
const ISO_4217: &str = "\
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN \
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP \
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR \
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT \
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR \
    ZMW ZWG";

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        deserializer.deserialize_str(StrVisitor {
            expecting: "a three-letter currency code such as \"RON\"",
            parse: Currency::parse,
        })
    }
}

/// Deserializes a value from a string through its parser, so that JSON input gets exactly
/// the checks and messages of the parser.
struct StrVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, MoneyError>,
}

impl<T> de::Visitor<'_> for StrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        (self.parse)(value).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn minor(amount: Result<Amount, MoneyError>) -> Result<i64, MoneyError> {
        amount.map(Amount::minor)
    }

    #[test]
    fn iso_4217_knows_the_current_currencies_and_nothing_else() {
        for code in ["RON", "EUR", "USD", "GBP", "MDL", "HUF", "ZWG"] {
            let currency = Currency::parse(code).expect("shape");
            assert!(currency.is_iso_4217(), "{code}");
        }
        for code in ["EUU", "LEI", "XXX", "ROL", "ABC"] {
            let currency = Currency::parse(code).expect("shape");
            assert!(!currency.is_iso_4217(), "{code}");
        }
    }

    #[test]
    fn parse_decimal_accepts_the_api_format() {
        let cases = [
            ("1234.56", 123_456),
            ("0.5", 50),
            ("-3", -300),
            ("-0.50", -50),
            ("0", 0),
            ("-0", 0),
            ("007.10", 710),
            ("999999999999.99", 99_999_999_999_999),
            ("-999999999999.99", -99_999_999_999_999),
        ];
        for (input, expected) in cases {
            assert_eq!(
                minor(Amount::parse_decimal(input)),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_decimal_rejects_anything_else() {
        let cases = [
            ("", MoneyError::Empty, "empty"),
            ("1.234", MoneyError::TooManyDecimals, "three decimals"),
            (
                "1000000000000",
                MoneyError::TooLarge,
                "thirteen integer digits",
            ),
            (
                "99999999999999999999999",
                MoneyError::TooLarge,
                "would overflow i64",
            ),
        ];
        for (input, expected, why) in cases {
            assert_eq!(
                Amount::parse_decimal(input),
                Err(expected),
                "{input:?}: {why}"
            );
        }
        let invalid = [
            ("-", "a sign alone"),
            ("+1", "plus sign"),
            (" 1", "leading space"),
            ("1 ", "trailing space"),
            ("1,5", "comma"),
            ("1e3", "exponent"),
            (".5", "no integer digit"),
            ("5.", "no decimal digit"),
            ("1.2.3", "two dots"),
            ("--1", "two signs"),
            ("١", "non-ASCII digit"),
            ("1_000", "underscore"),
        ];
        for (input, why) in invalid {
            assert!(
                matches!(Amount::parse_decimal(input), Err(MoneyError::Invalid(_))),
                "{input:?} should be invalid: {why}"
            );
        }
    }

    #[test]
    fn to_decimal_string_always_has_two_decimals() {
        let cases = [
            (123_456, "1234.56"),
            (-50, "-0.50"),
            (0, "0.00"),
            (7, "0.07"),
            (-300, "-3.00"),
            (i64::MIN, "-92233720368547758.08"),
        ];
        for (minor, expected) in cases {
            assert_eq!(Amount::from_minor(minor).to_decimal_string(), expected);
        }
    }

    #[test]
    fn parse_human_accepts_romanian_and_english_notation() {
        let cases = [
            ("12", 1200),
            ("12,50", 1250),
            ("12.50", 1250),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1 234,56", 123_456),
            ("1 234.56", 123_456),
            ("1\u{a0}234,56", 123_456),
            ("1\u{202f}234,56", 123_456),
            ("1234,5", 123_450),
            ("0,99", 99),
            ("0.5", 50),
            ("  7,05  ", 705),
            ("1.234.567", 123_456_700),
            ("1,234,567", 123_456_700),
            ("1 234", 123_400),
            ("1.234.567,8", 123_456_780),
            ("999.999.999.999,99", 99_999_999_999_999),
            ("007", 700),
            ("0", 0),
        ];
        for (input, expected) in cases {
            assert_eq!(minor(Amount::parse_human(input)), Ok(expected), "{input:?}");
        }
    }

    #[test]
    fn parse_human_refuses_to_guess_a_lone_separator_before_three_digits() {
        for input in ["1,234", "1.234", "12.345", "999,000"] {
            assert_eq!(
                Amount::parse_human(input),
                Err(MoneyError::Ambiguous(input.to_owned())),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_human_rejects_bad_input_with_a_reason() {
        let cases = [
            ("", MoneyError::Empty, "empty"),
            ("   ", MoneyError::Empty, "blank"),
            (
                "12,505",
                MoneyError::Ambiguous("12,505".into()),
                "lone comma, three digits",
            ),
            (
                "0.125",
                MoneyError::TooManyDecimals,
                "0 cannot open a thousands group",
            ),
            (
                "1234,567",
                MoneyError::TooManyDecimals,
                "1234 cannot be a thousands group",
            ),
            ("1,2345", MoneyError::TooManyDecimals, "four decimals"),
            (
                "1.234,567",
                MoneyError::TooManyDecimals,
                "three decimals after grouping",
            ),
            (
                "1 234,567",
                MoneyError::TooManyDecimals,
                "three decimals after spaces",
            ),
            ("1000000000000", MoneyError::TooLarge, "thirteen digits"),
            ("1.000.000.000.000,00", MoneyError::TooLarge, "a trillion"),
            ("12a", MoneyError::UnexpectedCharacter('a'), "a letter"),
            (
                "12€",
                MoneyError::UnexpectedCharacter('€'),
                "a currency sign",
            ),
            ("1_000", MoneyError::UnexpectedCharacter('_'), "underscore"),
        ];
        for (input, expected, why) in cases {
            assert_eq!(
                Amount::parse_human(input),
                Err(expected),
                "{input:?}: {why}"
            );
        }
        let invalid = [
            ("1.23.4", "groups of the wrong size"),
            ("1,23,45.6", "Indian grouping"),
            ("12,,5", "two separators in a row"),
            (",5", "no leading digit"),
            (".50", "no leading digit"),
            ("5,", "trailing separator"),
            ("1.234 567", "mixed thousands separators"),
            ("1 234.567.890", "mixed thousands separators"),
            ("0.123.456", "a leading zero group"),
            ("1234.567,8", "first group longer than three digits"),
            ("12 50", "a space is never decimal"),
            ("1,5.3", "group of one digit after the first"),
            ("-12", "sign belongs to parse_signed_human"),
            ("+12", "sign belongs to parse_signed_human"),
            ("1-2", "sign in the middle"),
            ("1  234", "two spaces"),
        ];
        for (input, why) in invalid {
            assert!(
                matches!(Amount::parse_human(input), Err(MoneyError::Invalid(_))),
                "{input:?} should be invalid ({why}), got {:?}",
                Amount::parse_human(input)
            );
        }
    }

    #[test]
    fn parse_signed_human_separates_the_sign() {
        let cases = [
            ("12,50", None, 1250),
            ("+12,50", Some(Sign::Plus), 1250),
            ("-12,50", Some(Sign::Minus), 1250),
            ("\u{2212}3", Some(Sign::Minus), 300),
            (" - 1.234,56", Some(Sign::Minus), 123_456),
        ];
        for (input, sign, magnitude) in cases {
            assert_eq!(
                parse_signed_human(input),
                Ok((sign, Amount::from_minor(magnitude))),
                "{input:?}"
            );
        }
        assert_eq!(parse_signed_human("-"), Err(MoneyError::Empty));
        assert!(matches!(
            parse_signed_human("+-5"),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!(
            parse_signed_human("--5"),
            Err(MoneyError::Invalid(_))
        ));
    }

    #[test]
    fn sign_apply_negates_only_for_minus() {
        let amount = Amount::from_minor(250);
        assert_eq!(Sign::Plus.apply(amount), amount);
        assert_eq!(Sign::Minus.apply(amount), Amount::from_minor(-250));
    }

    #[test]
    fn format_number_groups_thousands_per_style() {
        let cases = [
            (123_456, "1.234,56", "1,234.56"),
            (-50, "-0,50", "-0.50"),
            (0, "0,00", "0.00"),
            (100_000, "1.000,00", "1,000.00"),
            (99_999, "999,99", "999.99"),
            (-123_456_789, "-1.234.567,89", "-1,234,567.89"),
            (
                99_999_999_999_999,
                "999.999.999.999,99",
                "999,999,999,999.99",
            ),
            (
                i64::MIN,
                "-92.233.720.368.547.758,08",
                "-92,233,720,368,547,758.08",
            ),
        ];
        for (minor, ro, en) in cases {
            let amount = Amount::from_minor(minor);
            assert_eq!(amount.format_number(NumberStyle::Ro), ro);
            assert_eq!(amount.format_number(NumberStyle::En), en);
        }
    }

    #[test]
    fn format_money_places_the_currency_per_language() {
        let ron = Currency::RON;
        let cases = [
            (123_456, "1.234,56 RON", "RON 1,234.56"),
            (-123_456, "-1.234,56 RON", "RON -1,234.56"),
        ];
        for (minor, ro, en) in cases {
            let amount = Amount::from_minor(minor);
            assert_eq!(amount.format_money(ron, NumberStyle::Ro), ro);
            assert_eq!(amount.format_money(ron, NumberStyle::En), en);
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        let a = Amount::from_minor(10);
        let b = Amount::from_minor(20);
        assert_eq!(a + b, Amount::from_minor(30));
        assert_eq!(a - b, Amount::from_minor(-10));
        assert_eq!(-a, Amount::from_minor(-10));
        assert_eq!(
            [a, b, b].into_iter().sum::<Amount>(),
            Amount::from_minor(50)
        );
        assert_eq!(std::iter::empty::<Amount>().sum::<Amount>(), Amount::ZERO);
        assert!(Amount::ZERO.is_zero() && !a.is_zero());
        assert!((-a).is_negative() && !a.is_negative() && !Amount::ZERO.is_negative());
        assert_eq!(Amount::from_minor(i64::MAX).checked_add(a), None);
        assert_eq!(Amount::from_minor(i64::MIN).checked_sub(a), None);
    }

    #[test]
    #[should_panic(expected = "fits in i64")]
    fn add_panics_rather_than_wrapping() {
        let _ = Amount::from_minor(i64::MAX) + Amount::from_minor(1);
    }

    #[test]
    fn amount_serializes_as_a_decimal_string() {
        let json = serde_json::to_string(&Amount::from_minor(-123_456)).unwrap();
        assert_eq!(json, r#""-1234.56""#);
        let back: Amount = serde_json::from_str(r#""1234.5""#).unwrap();
        assert_eq!(back, Amount::from_minor(123_450));
    }

    #[test]
    fn amount_deserialization_rejects_json_numbers_and_bad_strings() {
        for number in ["1234.56", "12", "-1"] {
            let error = serde_json::from_str::<Amount>(number)
                .unwrap_err()
                .to_string();
            assert!(error.contains("never a JSON number"), "{number}: {error}");
        }
        let error = serde_json::from_str::<Amount>(r#""1,5""#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid amount"), "{error}");
        let error = serde_json::from_str::<Amount>(r#""1.234""#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("at most two decimals"), "{error}");
    }

    #[test]
    fn currency_parse_normalises_case_and_checks_shape() {
        for (input, expected) in [("RON", "RON"), ("ron", "RON"), (" eUr ", "EUR")] {
            assert_eq!(
                Currency::parse(input).map(|c| c.to_string()),
                Ok(expected.to_owned())
            );
        }
        for input in ["", "RO", "RONN", "R0N", "ÅRS", "R N"] {
            assert_eq!(
                Currency::parse(input),
                Err(MoneyError::InvalidCurrency),
                "{input:?}"
            );
        }
        assert_eq!(format!("{:?}", Currency::RON), "Currency(RON)");
    }

    #[test]
    fn currency_serde_is_a_string() {
        assert_eq!(serde_json::to_string(&Currency::RON).unwrap(), r#""RON""#);
        let eur: Currency = serde_json::from_str(r#""eur""#).unwrap();
        assert_eq!(eur.as_str(), "EUR");
        assert!(serde_json::from_str::<Currency>(r#""euro""#).is_err());
        assert!(serde_json::from_str::<Currency>("978").is_err());
    }

    fn any_amount() -> impl Strategy<Value = Amount> {
        (-Amount::MAX.minor()..=Amount::MAX.minor()).prop_map(Amount::from_minor)
    }

    proptest! {
        #[test]
        fn formatted_numbers_parse_back(amount in any_amount()) {
            for style in [NumberStyle::Ro, NumberStyle::En] {
                let text = amount.format_number(style);
                let (sign, magnitude) = parse_signed_human(&text).unwrap();
                let parsed = sign.map_or(magnitude, |sign| sign.apply(magnitude));
                prop_assert_eq!(parsed, amount, "{}", text);
            }
        }

        #[test]
        fn decimal_strings_parse_back(amount in any_amount()) {
            prop_assert_eq!(Amount::parse_decimal(&amount.to_decimal_string()), Ok(amount));
        }

        #[test]
        fn parsers_never_panic(input in "[0-9.,+\\- ]{0,24}|\\PC{0,24}") {
            let _ = Amount::parse_decimal(&input);
            let _ = parse_signed_human(&input);
        }

        #[test]
        fn whatever_is_accepted_is_in_range_and_canonical(
            input in "[0-9.,+\\-\u{2212}\u{a0} ]{0,24}|[0-9]{10,16}([.,][0-9]{1,3})?|\\PC{0,24}",
        ) {
            if let Ok(amount) = Amount::parse_decimal(&input) {
                prop_assert!(amount.minor().abs() <= Amount::MAX.minor(), "{}", input);
                prop_assert_eq!(Amount::parse_decimal(&amount.to_decimal_string()), Ok(amount));
            }
            if let Ok(amount) = Amount::parse_human(&input) {
                prop_assert!((0..=Amount::MAX.minor()).contains(&amount.minor()), "{}", input);
                for style in [NumberStyle::Ro, NumberStyle::En] {
                    prop_assert_eq!(Amount::parse_human(&amount.format_number(style)), Ok(amount));
                }
            }
            if let Ok((sign, magnitude)) = parse_signed_human(&input) {
                prop_assert_eq!(Amount::parse_human(input.trim_start().trim_start_matches(['+', '-', '\u{2212}'])), Ok(magnitude));
                prop_assert_eq!(sign.is_some(), input.trim_start() != input.trim_start().trim_start_matches(['+', '-', '\u{2212}']));
            }
        }

        /// The ways a person writes the same sum in either language all read the same.
        #[test]
        fn every_human_notation_of_an_amount_reads_the_same(
            amount in (0..=Amount::MAX.minor()).prop_map(Amount::from_minor),
            space in prop_oneof![Just(' '), Just('\u{a0}'), Just('\u{202f}')],
        ) {
            let units = amount.minor() / 100;
            let cents = amount.minor() % 100;
            let grouped = |separator: char| {
                let digits = units.to_string();
                let mut out = String::new();
                for (index, digit) in digits.chars().enumerate() {
                    if index > 0 && (digits.len() - index).is_multiple_of(3) {
                        out.push(separator);
                    }
                    out.push(digit);
                }
                out
            };
            let mut notations = vec![
                format!("{units},{cents:02}"),
                format!("{units}.{cents:02}"),
                format!("{},{cents:02}", grouped('.')),
                format!("{}.{cents:02}", grouped(',')),
                format!("{},{cents:02}", grouped(space)),
                format!("{}.{cents:02}", grouped(space)),
                format!("  {units},{cents:02}\t"),
            ];
            if cents % 10 == 0 {
                notations.push(format!("{units},{}", cents / 10));
                notations.push(format!("{}.{}", grouped(','), cents / 10));
            }
            if cents == 0 {
                notations.push(units.to_string());
                notations.push(grouped(space));
                if units >= 1_000_000 {
                    // Repeated separators only ever group thousands.
                    notations.push(grouped('.'));
                    notations.push(grouped(','));
                }
            }
            for text in notations {
                prop_assert_eq!(Amount::parse_human(&text), Ok(amount), "{:?}", text);
                prop_assert_eq!(parse_signed_human(&format!("+{text}")), Ok((Some(Sign::Plus), amount)), "{:?}", text);
                prop_assert_eq!(parse_signed_human(&format!("\u{2212}{text}")), Ok((Some(Sign::Minus), amount)), "{:?}", text);
            }
        }
    }
}
