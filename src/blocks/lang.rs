//! The two languages ledgerbot speaks, and how a person's is chosen.

/// Romanian or English.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Română.
    Ro,
    /// English, the default.
    En,
}

impl Lang {
    /// From Telegram's `language_code` (an IETF tag such as `ro` or `en-GB`):
    /// Romanian for `ro*` (and `mo`, the old Moldovan tag), English otherwise.
    pub fn from_telegram(code: Option<&str>) -> Self {
        match code.map(|c| c.get(..2).unwrap_or(c).to_ascii_lowercase()) {
            Some(prefix) if prefix == "ro" || prefix == "mo" => Self::Ro,
            _ => Self::En,
        }
    }

    /// From a stored or typed setting: exactly `ro` or `en`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ro" | "română" | "romana" => Some(Self::Ro),
            "en" | "english" => Some(Self::En),
            _ => None,
        }
    }

    /// The code stored in `users.language`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ro => "ro",
            Self::En => "en",
        }
    }

    /// Picks the text for this language; keeps both translations side by side
    /// where they are used.
    pub fn pick<T>(self, ro: T, en: T) -> T {
        match self {
            Self::Ro => ro,
            Self::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_codes_map_to_languages() {
        let cases = [
            (Some("ro"), Lang::Ro),
            (Some("ro-RO"), Lang::Ro),
            (Some("RO"), Lang::Ro),
            (Some("mo"), Lang::Ro),
            (Some("en"), Lang::En),
            (Some("en-GB"), Lang::En),
            (Some("de"), Lang::En),
            (Some("r"), Lang::En),
            (Some(""), Lang::En),
            (None, Lang::En),
        ];
        for (code, want) in cases {
            assert_eq!(Lang::from_telegram(code), want, "{code:?}");
        }
    }

    #[test]
    fn settings_parse_both_ways() {
        assert_eq!(Lang::parse(" RO "), Some(Lang::Ro));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        for lang in [Lang::Ro, Lang::En] {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
    }
}
