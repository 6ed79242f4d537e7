//! Email addresses, validated strictly.

use std::fmt;

use email_address::{EmailAddress, Options};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

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
/// One mailbox has many spellings; [`normalized`](Self::normalized) gives all of them one form,
/// which is what accounts are found by: the domain in its ASCII (punycode) form by the IDNA
/// rules of UTS 46 (`bücher.example` and `xn--bcher-kva.example` are one domain), the local part
/// in Unicode normalisation form C (`josé` typed as `e` + U+0301 is the precomposed `é`), all
/// lower case.
///
/// ```
/// use shopkeep::Email;
///
/// let email = Email::parse("  Ana.Lima@Example.com ")?;
/// assert_eq!(email.as_str(), "Ana.Lima@Example.com");
/// assert_eq!(email.normalized(), "ana.lima@example.com");
/// assert_eq!(Email::parse("Ana@Bücher.example")?.normalized(), "ana@xn--bcher-kva.example");
/// assert!(Email::parse("Ana <ana@example.com>").is_err());
/// assert!(Email::parse("ana@localhost").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email {
    /// As given, trimmed.
    text: String,
    /// See [`Email::normalized`].
    normalized: String,
}

impl Email {
    /// Validates an address. It is kept trimmed and in Unicode NFC (a canonically equivalent
    /// spelling: it looks the same).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `email`) saying what is wrong; the message does not repeat
    /// the address. A domain that has no IDNA (punycode) form is refused too.
    pub fn parse(text: &str) -> Result<Email> {
        // Composed first, so that `e` + U+0301 in a domain label is the letter `é` it shows.
        let text: String = text.trim().nfc().collect();
        let text = text.as_str();
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
        // Invisible format characters (bidi controls, zero-width joiners and spaces) would let
        // one mailbox be spelt in ways that look alike and index differently.
        if text
            .chars()
            .any(|c| c.general_category() == GeneralCategory::Format)
        {
            return Err(invalid("it contains invisible formatting characters"));
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
        // UTS 46 maps (lower case, width, compatibility forms, NFC) and encodes each label; what
        // has no such form (a label that is bad punycode, say) is no deliverable domain. The
        // host name rules apply to the encoded form, the one DNS sees.
        let domain = idna::domain_to_ascii(parsed.domain())
            .map_err(|_| invalid("the domain is not a valid internationalised domain name"))?;
        let hostname_labels = domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !hostname_labels {
            return Err(invalid("the domain is not a valid host name"));
        }
        let tld = domain.rsplit('.').next().unwrap_or_default();
        let tld_ok = (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            || (tld.len() > 4 && tld.starts_with("xn--"));
        if !tld_ok {
            return Err(invalid("the domain has no real top-level domain"));
        }
        let local: String = parsed.local_part().to_lowercase().nfc().collect();
        let normalized = format!("{local}@{domain}");
        if normalized.len() > MAX_LEN {
            return Err(invalid("it is longer than 254 characters"));
        }
        Ok(Email {
            text: text.to_owned(),
            normalized,
        })
    }

    /// An address read back from the database, where only what [`parse`](Self::parse)
    /// returned is ever stored (sealed under a data key, so that nothing else can be put
    /// there). An ASCII address is taken as it is: its normal form is its lower case, which is
    /// what `parse` makes of every ASCII address it accepts (the IDNA mapping of an ASCII
    /// domain is its lower case), and re-validating it was most of the time of a customer
    /// read. Any other address goes through `parse`.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), for an address that is not ASCII.
    pub(crate) fn from_stored(text: &str) -> Result<Email> {
        if !text.is_ascii() {
            return Email::parse(text);
        }
        Ok(Email {
            text: text.to_owned(),
            normalized: text.to_ascii_lowercase(),
        })
    }

    /// The address as given (trimmed, in NFC).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The form used to find an account, the same for every spelling of one mailbox: lower
    /// case, the local part in Unicode NFC, the domain in its ASCII (punycode) form.
    /// `Ana@Bücher.example` and `ana@xn--bcher-kva.example` are one account.
    pub fn normalized(&self) -> String {
        self.normalized.clone()
    }
}

/// The address as given, like [`as_str`](Email::as_str). It is personal data: unlike `Debug`,
/// `Display` shows it, for the places that must (a `To:` header, the customer's own profile).
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// As [`Email::parse`].
///
/// # Errors
///
/// As [`Email::parse`]: `Validation` (field `email`).
impl std::str::FromStr for Email {
    type Err = Error;

    fn from_str(text: &str) -> Result<Email> {
        Email::parse(text)
    }
}

/// The address as given (personal data: it serialises where the caller could read it anyway).
#[cfg(feature = "serde")]
impl serde::Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Through [`Email::parse`]: the same validation and normalisation.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Email::parse(&text).map_err(serde::de::Error::custom)
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
            "an\u{200D}a@example.com",
            "ana\u{202E}@example.com",
            "ana@exa\u{200B}mple.com",
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

    #[test]
    fn every_spelling_of_one_mailbox_normalises_alike() {
        let same = |a: &str, b: &str| {
            let (a, b) = (Email::parse(a).unwrap(), Email::parse(b).unwrap());
            assert_eq!(
                a.normalized(),
                b.normalized(),
                "{:?} {:?}",
                a.as_str(),
                b.as_str()
            );
        };
        same("ana@bücher.example", "ana@xn--bcher-kva.example");
        same("ana@BÜCHER.example", "Ana@xn--bcher-kva.EXAMPLE");
        same("jos\u{e9}@example.com", "jose\u{301}@example.com");
        same("JOS\u{c9}@example.com", "jose\u{301}@example.com");
        same("ana@ｅｘａｍｐｌｅ.com", "ana@example.com");
        assert_eq!(
            Email::parse("JOSE\u{301}@Bücher.Example")
                .unwrap()
                .normalized(),
            "jos\u{e9}@xn--bcher-kva.example"
        );
        // Different mailboxes stay different.
        assert_ne!(
            Email::parse("ana@bucher.example").unwrap().normalized(),
            Email::parse("ana@bücher.example").unwrap().normalized()
        );
    }

    #[test]
    fn a_domain_without_a_punycode_form_is_refused() {
        for text in ["ana@xn--a.example", "ana@xn--bcher-kva-.example"] {
            let err = Email::parse(text).expect_err(text);
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "email" },
                "{text}"
            );
        }
    }

    proptest::proptest! {
        /// Every spelling of one mailbox (letter case, NFC or NFD, Unicode or punycode domain)
        /// normalises to one form, and that form normalises to itself.
        #[test]
        fn spellings_of_one_mailbox_share_one_normal_form(
            local in "[a-zA-Z\u{e0}-\u{f6}\u{f8}-\u{fe}]{1,12}",
            label in "[a-z\u{e0}-\u{f6}\u{f8}-\u{fe}]{1,12}",
        ) {
            use unicode_normalization::UnicodeNormalization;
            let text = format!("{local}@{label}.example");
            let email = Email::parse(&text).unwrap();
            let normal = email.normalized();
            let nfd: String = text.nfd().collect();
            proptest::prop_assert_eq!(Email::parse(&nfd).unwrap().normalized(), normal.clone());
            let upper = text.to_uppercase();
            proptest::prop_assert_eq!(Email::parse(&upper).unwrap().normalized(), normal.clone());
            proptest::prop_assert_eq!(Email::parse(&normal).unwrap().normalized(), normal.clone());
            // The domain's punycode form is the same mailbox.
            let (_, domain) = normal.split_once('@').unwrap();
            proptest::prop_assert!(domain.is_ascii());
            let punycode = format!("{local}@{domain}");
            proptest::prop_assert_eq!(Email::parse(&punycode).unwrap().normalized(), normal);
        }
    }

    proptest::proptest! {
        /// An ASCII address read back from the database is exactly what `parse` made of it:
        /// the same text and the same normal form (mixed case, `xn--` labels, sub-domains).
        #[test]
        fn a_stored_ascii_address_reads_back_as_parsed(
            local in "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,12}(\\.[a-zA-Z0-9_-]{1,8}){0,2}",
            labels in proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", 1..3),
            tld in "([a-zA-Z]{2,6}|[xX][nN]--[a-z0-9]{2,8})",
        ) {
            let text = format!("{local}@{}.{tld}", labels.join("."));
            if let Ok(parsed) = Email::parse(&text) {
                let stored = Email::from_stored(parsed.as_str()).unwrap();
                proptest::prop_assert_eq!(stored.as_str(), parsed.as_str());
                proptest::prop_assert_eq!(stored.normalized(), parsed.normalized());
                proptest::prop_assert_eq!(stored, parsed);
            }
        }
    }

    #[test]
    fn a_stored_address_that_is_not_ascii_is_parsed() {
        let parsed = Email::parse("José@Bücher.example").unwrap();
        let stored = Email::from_stored(parsed.as_str()).unwrap();
        assert_eq!(stored.normalized(), "josé@xn--bcher-kva.example");
        assert_eq!(stored, parsed);
    }

    #[test]
    fn text_forms_round_trip() {
        let email: Email = "Ana.Lima@Example.com".parse().unwrap();
        assert_eq!(email, Email::parse("Ana.Lima@Example.com").unwrap());
        assert_eq!(email.to_string(), "Ana.Lima@Example.com");
        assert_eq!(email.as_ref(), email.as_str());
        let err = "not an email".parse::<Email>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "email" });
    }
}
