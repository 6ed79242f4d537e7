//! Email addresses, validated strictly.

use std::fmt;

use email_address::{EmailAddress, Options};

use crate::error::{Error, Result};

/// The longest address accepted (RFC 5321's limit on a forward path, less the angle brackets).
const MAX_LEN: usize = 254;

/// A validated email address. Personal data: `Debug` redacts it.
///
/// Accepted: `local@domain.tld` with a dot-atom local part and a domain of at least two labels
/// whose top-level label is alphabetic (or an IDNA `xn--` label). Refused: display names
/// (`Ana <ana@example.com>`), domain literals (`ana@[192.0.2.1]`), quoted local parts, whitespace
/// and control characters, a missing top-level domain, more than 254 characters. Surrounding
/// whitespace is trimmed first.
///
/// ```
/// use shopkeep::Email;
///
/// let email = Email::parse("  Ana.Lima@Example.com ")?;
/// assert_eq!(email.as_str(), "Ana.Lima@Example.com");
/// assert_eq!(email.normalized(), "ana.lima@example.com");
/// assert!(Email::parse("Ana <ana@example.com>").is_err());
/// assert!(Email::parse("ana@localhost").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates an address.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `email`) saying what is wrong; the message does not repeat
    /// the address.
    pub fn parse(text: &str) -> Result<Email> {
        let text = text.trim();
        let invalid =
            |why: &str| Error::validation("email", format!("not a valid email address: {why}"));
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.len() > MAX_LEN {
            return Err(invalid("it is longer than 254 characters"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("it contains spaces or control characters"));
        }
        if text.starts_with('"') || text.contains("\"@") {
            return Err(invalid("quoted local parts are not accepted"));
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        let parsed = EmailAddress::parse_with_options(text, options)
            .map_err(|_| invalid("it is not of the form name@domain.tld"))?;
        let hostname_labels = parsed.domain().split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !hostname_labels {
            return Err(invalid("the domain is not a valid host name"));
        }
        let tld = parsed.domain().rsplit('.').next().unwrap_or_default();
        let tld_ok = (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            || (tld.len() > 4 && tld.starts_with("xn--"));
        if !tld_ok {
            return Err(invalid("the domain has no real top-level domain"));
        }
        Ok(Email(text.to_owned()))
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to find an account: lower case, so `Ana@Example.com` and
    /// `ana@example.com` are one account.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn tricky_addresses_are_refused_with_a_validation_error() {
        let bad = [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "ana@",
            "ana@example",
            "ana@localhost",
            "ana@example.c",
            "ana@example.123",
            "ana@@example.com",
            "ana@exa mple.com",
            "ana lima@example.com",
            "ana@exa\nmple.com",
            "ana\u{0}@example.com",
            "ana\t@example.com",
            "Ana <ana@example.com>",
            "<ana@example.com>",
            "ana@[192.0.2.1]",
            "ana@[IPv6:2001:db8::1]",
            "\"ana lima\"@example.com",
            "\"ana\"@example.com",
            ".ana@example.com",
            "ana.@example.com",
            "an..a@example.com",
            "ana@-example.com",
            "ana@example-.com",
            "ana@example..com",
            "ana@.example.com",
            "ana@example.com.",
            "ana(comment)@example.com",
            "ana,lima@example.com",
            "ana@exa_mple.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("ana@{}.com", "d".repeat(250)),
        ];
        for text in bad {
            let err = Email::parse(text).expect_err(text);
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "email" },
                "{text:?}"
            );
            if text.len() > 3 {
                assert!(!err.to_string().contains(text.trim()), "echoed {text:?}");
            }
        }
    }

    #[test]
    fn ordinary_addresses_are_accepted_and_normalised() {
        for text in [
            "ana@example.com",
            "ana.lima+shop@mail.example.co.uk",
            "A_B-c@Ex-Ample.DE",
            "x@xn--mnchen-3ya.de",
        ] {
            let email = Email::parse(text).expect(text);
            assert_eq!(email.normalized(), text.to_lowercase());
        }
        assert_eq!(
            format!("{:?}", Email::parse("ana@example.com").unwrap()),
            "Email([REDACTED])"
        );
    }
}
