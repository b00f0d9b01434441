//! Email addresses as accounts use them: trimmed, lowercased, shape-checked.

use std::fmt;

/// The one normalisation of an email: trimmed of whitespace, lowercased
/// (Unicode's full mapping). [`Email::parse`] applies it before checking the
/// shape; the per-account login limit keys by it even when the shape is
/// wrong, so that a variant in case or spaces counts as the same account.
/// SQL's twin, `normalized_email()` in `schema.sql`, gives the same answer
/// (tests/api/auth.rs proves it on tricky inputs): it is what stores and
/// looks up `users.email`, and `users_email_normalized` holds every stored
/// email to it, whoever writes the row.
pub fn normalize(input: &str) -> String {
    input.trim().to_lowercase()
}

/// A normalised email address: trimmed, lowercase, `local@domain.tld`.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Reads an address as a person typed it. Only the shape is checked (one
    /// `@`, a dotted domain, no spaces, RFC 5321 lengths); whether it receives
    /// mail is not something a regular expression can know.
    pub fn parse(input: &str) -> Option<Self> {
        let email = normalize(input);
        let (local, domain) = email.split_once('@')?;
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        (email.len() <= 254 && domain_ok && local_ok).then_some(Self(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let cases = [
            ("ana@example.com", "ana@example.com"),
            ("  Ana.Pop@Example.COM \n", "ana.pop@example.com"),
            ("a+tag@firma.co.ro", "a+tag@firma.co.ro"),
            ("ștefan@exemplu.ro", "ștefan@exemplu.ro"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Email::parse(input).map(|e| e.0),
                Some(want.to_owned()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let cases = [
            ("", "empty"),
            ("ana", "no @"),
            ("ana@", "no domain"),
            ("@example.com", "no local part"),
            ("ana@localhost", "undotted domain"),
            ("ana@@example.com", "two @"),
            ("ana@exa mple.com", "space in domain"),
            ("an a@example.com", "space in local part"),
            ("ana@example..com", "empty label"),
            ("ana@-example.com", "label starts with a dash"),
            (".ana@example.com", "local part starts with a dot"),
            ("a..na@example.com", "two dots"),
            ("<ana>@example.com", "angle brackets"),
            (long_local.as_str(), "local part over 64"),
        ];
        for (input, why) in cases {
            assert_eq!(Email::parse(input), None, "{input:?}: {why}");
        }
    }
}
