//! VAT identification numbers (EU, Switzerland, the UK, Norway), format-checked per country
//! prefix, and the check digits of the national numbers they contain where they have them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// The longest input read, separators included.
const MAX_INPUT: usize = 32;

/// The shapes of each prefix's numbers, after the prefix: the EU's as used by its VIES service,
/// Switzerland's (`CHE` UID with its `MWST`, `TVA` or `IVA` suffix), the UK's and Norway's as
/// their tax authorities print them.
///
/// In a pattern `#` is a digit, `@` a letter, `?` a letter or a digit; any other character
/// stands for itself. A number is valid if it matches one of its prefix's patterns exactly.
/// Greece uses `EL`, not its ISO code; `XI` is Northern Ireland under the Windsor Framework.
const PATTERNS: &[(&str, &[&str])] = &[
    ("AT", &["U########"]),
    ("BE", &["0#########", "1#########"]),
    ("BG", &["#########", "##########"]),
    ("CH", &["E#########MWST", "E#########TVA", "E#########IVA"]),
    ("CY", &["########@"]),
    ("CZ", &["########", "#########", "##########"]),
    ("DE", &["#########"]),
    ("DK", &["########"]),
    ("EE", &["#########"]),
    ("EL", &["#########"]),
    ("ES", &["?#######?"]),
    ("FI", &["########"]),
    ("FR", &["??#########"]),
    ("GB", &["#########", "############", "GD###", "HA###"]),
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
    ("NO", &["#########MVA"]),
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

/// A VAT identification number (`DE123456789`): the seller's (EN 16931 BT-31) or a business
/// buyer's (BT-48).
///
/// The number is read without spaces, dots and hyphens, in upper case, and must match the
/// format of its country prefix: the 27 member states (Greece as `EL`), `XI` for Northern
/// Ireland, and three schemes from outside the EU that e-invoices carry: `CHE` (a Swiss UID
/// with its suffix `MWST`, `TVA` or `IVA`), `GB` (9 or 12 digits, or `GD` or `HA` and 3 digits)
/// and `NO` (9 digits and `MVA`). For these three the check digit of the national number is
/// verified too (Swiss UID and Norwegian organisation number modulo 11, UK modulo 97); EU
/// numbers are checked for format only. Whether a number is registered is for the EU's VIES
/// service or the national register to answer, and the host asks them when it matters.
///
/// A Swiss number is kept in the form Swiss law prints it, `CHE-123.456.788 MWST`; all others
/// compact.
///
/// ```
/// use shopkeep::customers::VatId;
///
/// let vat = VatId::parse("de 123 456 789")?;
/// assert_eq!(vat.as_str(), "DE123456789");
/// assert_eq!(vat.prefix(), "DE");
/// assert!(VatId::parse("DE12345678").is_err()); // one digit short
/// assert!(VatId::parse("GR123456789").is_err()); // Greece is EL
///
/// let swiss = VatId::parse("CHE123456788mwst")?;
/// assert_eq!(swiss.as_str(), "CHE-123.456.788 MWST");
/// assert!(VatId::parse("CHE-123.456.789 MWST").is_err()); // wrong check digit
/// assert_eq!(VatId::parse("NO 923 609 016 MVA")?.as_str(), "NO923609016MVA");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VatId(String);

impl VatId {
    /// Reads and format-checks a VAT identification number.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `vat_id`) for an unknown prefix, a number that does not
    /// match its country's format, or (CH, GB, NO) a check digit that does not match. The
    /// message does not repeat the number.
    pub fn parse(text: &str) -> Result<VatId> {
        let invalid = |why: &str| {
            Error::validation(
                "vat_id",
                format!("not a valid VAT identification number: {why}"),
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
                "it does not start with the prefix of an EU member state, XI, CH, GB or NO",
            ));
        };
        if !patterns.iter().any(|pattern| matches(pattern, number)) {
            return Err(invalid("the number does not have its country's format"));
        }
        if !check_digits_match(prefix, number) {
            return Err(invalid("its check digit does not match: a typing error?"));
        }
        Ok(VatId(written_form(compact)))
    }

    /// The number with its prefix, compact and upper case (`DE123456789`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter prefix (`DE`; `EL` for Greece; `XI` for Northern Ireland; `CH` for a
    /// Swiss UID).
    pub fn prefix(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }

    /// A number read back from storage, where it was validated when written.
    pub(crate) fn from_stored(text: String) -> VatId {
        VatId(text)
    }
}

/// Whether the national number inside a CH, GB or NO VAT id (`number`, after the prefix) has
/// the check digits its scheme gives it. EU numbers are checked for format only.
fn check_digits_match(prefix: &str, number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    match (prefix, number.get(..2)) {
        ("CH", _) => mod11(&digits, SWISS_UID_WEIGHTS),
        ("NO", _) => mod11(&digits, NORWEGIAN_ORG_WEIGHTS),
        // Government departments are GD000 to GD499, health authorities HA500 to HA999.
        ("GB", Some("GD")) => number_of(&digits) < 500,
        ("GB", Some("HA")) => number_of(&digits) >= 500,
        // A 12-digit number is a 9-digit one and a branch number.
        ("GB", _) => uk_mod97(digits.get(..9).unwrap_or_default()),
        _ => true,
    }
}

/// The weights of the Swiss UID's eight digits before its check digit (eCH-0097).
const SWISS_UID_WEIGHTS: [u32; 8] = [5, 4, 3, 2, 7, 6, 5, 4];
/// The weights of a Norwegian organisation number's eight digits before its check digit.
const NORWEGIAN_ORG_WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// Whether nine digits end in the modulo-11 check digit of the eight before them: 11 less the
/// weighted sum's remainder, 0 for a remainder of 0, and no valid number for a remainder of 1.
fn mod11(digits: &[u32], weights: [u32; 8]) -> bool {
    let [body @ .., check] = digits else {
        return false;
    };
    if body.len() != weights.len() {
        return false;
    }
    let sum: u32 = body.iter().zip(weights).map(|(d, w)| d * w).sum();
    let expected = (11 - sum % 11) % 11;
    expected != 10 && expected == *check
}

/// Whether a 9-digit UK VAT number's last two digits check its first seven: the weighted sum
/// (8 down to 2) plus the two-digit check is a multiple of 97, or, in the scheme HMRC added in
/// 2010, 55 more than one.
fn uk_mod97(digits: &[u32]) -> bool {
    let [body @ .., tens, units] = digits else {
        return false;
    };
    if body.len() != 7 {
        return false;
    }
    let weighted: u32 = body.iter().zip((2..=8).rev()).map(|(d, w)| d * w).sum();
    let total = weighted + tens * 10 + units;
    total.is_multiple_of(97) || (total + 55).is_multiple_of(97)
}

/// The digits read as one decimal number (at most three here).
fn number_of(digits: &[u32]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + d)
}

/// How a valid number is kept: compact, except the Swiss UID, which Swiss law prints as
/// `CHE-123.456.788 MWST`.
fn written_form(compact: String) -> String {
    match (
        compact.get(..3),
        compact.get(3..6),
        compact.get(6..9),
        compact.get(9..12),
        compact.get(12..),
    ) {
        (Some("CHE"), Some(a), Some(b), Some(c), Some(suffix)) => {
            format!("CHE-{a}.{b}.{c} {suffix}")
        }
        _ => compact,
    }
}

/// A Swiss UID (`CHE-123.456.788`; spaces, dots and hyphens optional) in its compact form
/// `CHE123456788`, if it has that shape and its check digit matches.
pub(crate) fn swiss_uid(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits: Vec<u32> = compact
        .strip_prefix("CHE")?
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    mod11(&digits, SWISS_UID_WEIGHTS).then_some(compact)
}

/// A Norwegian organisation number (nine digits; spaces optional), if its check digit matches.
pub(crate) fn norwegian_org_number(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    let digits: Vec<u32> = compact
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    mod11(&digits, NORWEGIAN_ORG_WEIGHTS).then_some(compact)
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
    fn every_member_state_xi_ch_gb_and_no_have_a_pattern() {
        let prefixes: Vec<&str> = PATTERNS.iter().map(|(p, _)| *p).collect();
        assert_eq!(prefixes.len(), 31);
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
            "CHE-123.456.788 MWST",
            "CHE-116.281.710 TVA",
            "che116281710iva",
            "GB999999973",
            "GB980780684",
            "GB 434 0314 94",
            "GB999999973001",
            "GBGD001",
            "GBHA599",
            "NO923609016MVA",
            "NO 974 760 673 MVA",
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
            // Swiss UIDs: a wrong check digit, no suffix, an unknown suffix, a short number,
            // and a check digit that would have to be 10.
            "CHE-123.456.789 MWST",
            "CHE-123.456.788",
            "CHE-123.456.788 VAT",
            "CHE-123.456.78 MWST",
            "CHE-109.322.180 MWST",
            "CH123456788MWST",
            // UK: a wrong check digit (also in the branch form), GD above 499, HA below 500.
            "GB999999974",
            "GB999999974001",
            "GB12345678",
            "GBGD500",
            "GBHA499",
            // Norway: a wrong check digit, no MVA, eight digits.
            "NO923609017MVA",
            "NO923609016",
            "NO92360901MVA",
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

    #[test]
    fn swiss_numbers_keep_their_printed_form_and_others_are_compact() {
        for (input, kept) in [
            ("che116281710mwst", "CHE-116.281.710 MWST"),
            ("CHE-116.281.710 TVA", "CHE-116.281.710 TVA"),
            ("CHE 116 281 710 IVA", "CHE-116.281.710 IVA"),
            ("GB 999 9999 73", "GB999999973"),
            ("NO 923 609 016 MVA", "NO923609016MVA"),
        ] {
            let vat = VatId::parse(input).unwrap();
            assert_eq!(vat.as_str(), kept, "{input}");
            // The kept form reads back as itself (settings and orders store it).
            assert_eq!(VatId::parse(vat.as_str()).unwrap(), vat, "{input}");
        }
        assert_eq!(VatId::parse("CHE-116.281.710 MWST").unwrap().prefix(), "CH");
    }

    /// The number `body` completes with its modulo-11 check digit, if it has one.
    fn completed(body: &[u32], weights: [u32; 8]) -> Option<String> {
        let sum: u32 = body.iter().zip(weights).map(|(d, w)| d * w).sum();
        let check = (11 - sum % 11) % 11;
        (check != 10).then(|| body.iter().chain([&check]).map(u32::to_string).collect())
    }

    proptest::proptest! {
        /// Modulo 11 with these weights catches every mistyped digit: a valid Swiss or
        /// Norwegian number is accepted (and reads back as itself), and any one digit of it
        /// changed is refused.
        #[test]
        fn every_single_mistyped_digit_is_refused(
            body in proptest::collection::vec(0_u32..10, 8),
            position in 0_usize..9,
            shift in 1_u32..10,
        ) {
            let schemes = [
                (SWISS_UID_WEIGHTS, "CHE", "MWST"),
                (NORWEGIAN_ORG_WEIGHTS, "NO", "MVA"),
            ];
            for (weights, prefix, suffix) in schemes {
                let write = |n: &str| format!("{prefix}{n}{suffix}");
                let Some(number) = completed(&body, weights) else {
                    continue;
                };
                let good = VatId::parse(&write(&number)).unwrap();
                proptest::prop_assert_eq!(VatId::parse(good.as_str()).unwrap(), good);
                let mut typo: Vec<char> = number.chars().collect();
                let digit = typo[position].to_digit(10).unwrap();
                typo[position] = char::from_digit((digit + shift) % 10, 10).unwrap();
                let typo: String = typo.into_iter().collect();
                proptest::prop_assert!(VatId::parse(&write(&typo)).is_err(), "{}", typo);
            }
        }
    }

    #[test]
    fn national_numbers_inside_identifiers_check_their_digits() {
        assert_eq!(
            swiss_uid("CHE-123.456.788").as_deref(),
            Some("CHE123456788")
        );
        assert_eq!(swiss_uid("che116281710").as_deref(), Some("CHE116281710"));
        for bad in [
            "CHE-123.456.789",
            "CHE-109.322.180",
            "CHE-123.456.78",
            "CHE123456788MWST",
            "123456788",
            "",
        ] {
            assert_eq!(swiss_uid(bad), None, "{bad}");
        }
        assert_eq!(
            norwegian_org_number("923 609 016").as_deref(),
            Some("923609016")
        );
        for bad in ["923609017", "92360901", "9236090160", "NO923609016", ""] {
            assert_eq!(norwegian_org_number(bad), None, "{bad}");
        }
    }
}
