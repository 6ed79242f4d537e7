//! EU VAT identification numbers, format-checked per country prefix.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// The longest input read, separators included.
const MAX_INPUT: usize = 32;

/// The shapes of each prefix's numbers, after the prefix, as used by the EU's VIES service.
///
/// In a pattern `#` is a digit, `@` a letter, `?` a letter or a digit; any other character
/// stands for itself. A number is valid if it matches one of its prefix's patterns exactly.
/// Greece uses `EL`, not its ISO code; `XI` is Northern Ireland under the Windsor Framework.
const PATTERNS: &[(&str, &[&str])] = &[
    ("AT", &["U########"]),
    ("BE", &["0#########", "1#########"]),
    ("BG", &["#########", "##########"]),
    ("CY", &["########@"]),
    ("CZ", &["########", "#########", "##########"]),
    ("DE", &["#########"]),
    ("DK", &["########"]),
    ("EE", &["#########"]),
    ("EL", &["#########"]),
    ("ES", &["?#######?"]),
    ("FI", &["########"]),
    ("FR", &["??#########"]),
    ("HR", &["###########"]),
    ("HU", &["########"]),
    (
        "IE",
        &["#######@", "#######@@", "#@#####@", "#+#####@", "#*#####@"],
    ),
    ("IT", &["###########"]),
    ("LT", &["#########", "############"]),
    ("LU", &["########"]),
    ("LV", &["###########"]),
    ("MT", &["########"]),
    ("NL", &["#########B##"]),
    ("PL", &["##########"]),
    ("PT", &["#########"]),
    (
        "RO",
        &[
            "##",
            "###",
            "####",
            "#####",
            "######",
            "#######",
            "########",
            "#########",
            "##########",
        ],
    ),
    ("SE", &["##########01"]),
    ("SI", &["########"]),
    ("SK", &["##########"]),
    ("XI", &["#########", "############", "GD###", "HA###"]),
];

/// An EU VAT identification number (`DE123456789`), for reverse-charge invoices.
///
/// The number is read without spaces, dots and hyphens, in upper case, and must match the
/// format of its country prefix: the 27 member states (Greece as `EL`) and `XI` for Northern
/// Ireland. Only the format is checked, not check digits and not whether the number is
/// registered: the EU's VIES service answers that, and the host asks it when it matters.
///
/// ```
/// use shopkeep::VatId;
///
/// let vat = VatId::parse("de 123 456 789")?;
/// assert_eq!(vat.as_str(), "DE123456789");
/// assert_eq!(vat.prefix(), "DE");
/// assert!(VatId::parse("DE12345678").is_err()); // one digit short
/// assert!(VatId::parse("GR123456789").is_err()); // Greece is EL
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VatId(String);

impl VatId {
    /// Reads and format-checks a VAT identification number.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `vat_id`) for an unknown prefix or a number that does not
    /// match its country's format. The message does not repeat the number.
    pub fn parse(text: &str) -> Result<VatId> {
        let invalid = |why: &str| {
            Error::validation(
                "vat_id",
                format!("not a valid EU VAT identification number: {why}"),
            )
        };
        if text.chars().count() > MAX_INPUT {
            return Err(invalid("it is too long"));
        }
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let (prefix, number) = match (compact.get(..2), compact.get(2..)) {
            (Some(prefix), Some(number)) => (prefix, number),
            _ => return Err(invalid("it is too short")),
        };
        if prefix == "GR" {
            return Err(invalid("Greek numbers start with EL"));
        }
        let Some((_, patterns)) = PATTERNS.iter().find(|(p, _)| *p == prefix) else {
            return Err(invalid(
                "it does not start with the prefix of an EU member state or XI",
            ));
        };
        if !patterns.iter().any(|pattern| matches(pattern, number)) {
            return Err(invalid("the number does not have its country's format"));
        }
        Ok(VatId(compact))
    }

    /// The number with its prefix, compact and upper case (`DE123456789`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter prefix (`DE`; `EL` for Greece; `XI` for Northern Ireland).
    pub fn prefix(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }

    /// A number read back from storage, where it was validated when written.
    pub(crate) fn from_stored(text: String) -> VatId {
        VatId(text)
    }
}

/// Whether `text` matches `pattern` character for character (see [`PATTERNS`]).
fn matches(pattern: &str, text: &str) -> bool {
    pattern.chars().count() == text.chars().count()
        && pattern.chars().zip(text.chars()).all(|(p, c)| match p {
            '#' => c.is_ascii_digit(),
            '@' => c.is_ascii_uppercase(),
            '?' => c.is_ascii_digit() || c.is_ascii_uppercase(),
            literal => c == literal,
        })
}

impl fmt::Debug for VatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VatId([REDACTED])")
    }
}

impl Serialize for VatId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn every_member_state_and_xi_has_a_pattern() {
        let prefixes: Vec<&str> = PATTERNS.iter().map(|(p, _)| *p).collect();
        assert_eq!(prefixes.len(), 28);
        assert!(
            prefixes.windows(2).all(|w| w[0] < w[1]),
            "sorted and unique"
        );
    }

    #[test]
    fn a_valid_number_of_each_prefix_is_accepted() {
        for good in [
            "ATU12345678",
            "BE0123456789",
            "BE1123456789",
            "BG123456789",
            "BG1234567890",
            "CY12345678X",
            "CZ12345678",
            "CZ1234567890",
            "DE123456789",
            "DK12345678",
            "EE123456789",
            "EL123456789",
            "ESX1234567X",
            "ES12345678Z",
            "FI12345678",
            "FRXX123456789",
            "FR12123456789",
            "HR12345678901",
            "HU12345678",
            "IE1234567T",
            "IE1234567TW",
            "IE1A23456T",
            "IE1+23456T",
            "IT12345678901",
            "LT123456789",
            "LT123456789012",
            "LU12345678",
            "LV12345678901",
            "MT12345678",
            "NL123456789B01",
            "PL1234567890",
            "PT123456789",
            "RO12",
            "RO1234567890",
            "SE123456789001",
            "SI12345678",
            "SK1234567890",
            "XI123456789",
            "XIGD123",
            "nl 1234.5678.9-b01",
        ] {
            VatId::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "D",
            "DE",
            "DE12345678",
            "DE1234567890",
            "DE12345678X",
            "GR123456789",
            "GB123456789",
            "US123456789",
            "ATU1234567",
            "AT12345678",
            "BE2123456789",
            "NL123456789A01",
            "SE123456789002",
            "RO1",
            "RO12345678901",
            "IE123456TT",
            "CY123456789",
            "DE12345678\u{0}",
            "DE_123456789",
        ] {
            let err = VatId::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "vat_id" },
                "{bad:?}"
            );
        }
        assert_eq!(
            format!("{:?}", VatId::parse("DE123456789").unwrap()),
            "VatId([REDACTED])"
        );
    }
}
