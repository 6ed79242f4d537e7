//! Countries: ISO 3166-1 alpha-2 codes, checked against the officially assigned list.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted, one space apart.
///
/// Reserved and user-assigned codes (`UK`, `EU`, `XK`, `XI`) are not countries of an address.
const CODES: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET \
FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ \
OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA \
RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ \
VA VC VE VG VI VN VU \
WF WS \
YE YT \
ZA ZM ZW";

/// A country, by its ISO 3166-1 alpha-2 code (`DE`, `FR`, `US`).
///
/// Only officially assigned codes are accepted; case is ignored on input and the code is kept
/// in upper case.
///
/// ```
/// use shopkeep::customers::Country;
///
/// assert_eq!(Country::parse(" de ")?.as_str(), "DE");
/// assert!(Country::parse("UK").is_err()); // the United Kingdom is GB
/// assert!(Country::parse("ZZ").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(&'static str);

impl Country {
    /// Reads a two-letter code.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `country`) if the text is not an assigned ISO 3166-1
    /// alpha-2 code.
    pub fn parse(text: &str) -> Result<Country> {
        // A binary search of the sorted list, whose codes stand at every third byte, with no
        // allocation: every address read back parses its country, several per sale.
        if let [first, second] = text.trim().as_bytes() {
            let wanted = [first.to_ascii_uppercase(), second.to_ascii_uppercase()];
            let (mut low, mut high) = (0, CODES.len().div_ceil(3));
            while low < high {
                let middle = low + (high - low) / 2;
                let Some(code) = CODES.get(middle * 3..middle * 3 + 2) else {
                    break;
                };
                match code.as_bytes().cmp(wanted.as_slice()) {
                    std::cmp::Ordering::Less => low = middle + 1,
                    std::cmp::Ordering::Greater => high = middle,
                    std::cmp::Ordering::Equal => return Ok(Country(code)),
                }
            }
        }
        Err(Error::validation(
            "country",
            "not an ISO 3166-1 alpha-2 country code",
        ))
    }

    /// The upper-case code.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.0)
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// Through [`Country::parse`]: only assigned ISO 3166-1 alpha-2 codes.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Country::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn the_list_is_the_249_assigned_codes_sorted_and_unique() {
        let codes: Vec<&str> = CODES.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(codes.iter().all(|c| c.len() == 2));
    }

    #[test]
    fn parse_accepts_exactly_the_listed_codes_in_any_case() {
        // Every pair of ASCII characters, against a plain scan of the list.
        for a in 0..128u8 {
            for b in 0..128u8 {
                let text = String::from_utf8(vec![a, b]).unwrap();
                let upper = text.to_ascii_uppercase();
                let listed = text.trim() == text && CODES.split(' ').any(|c| c == upper);
                match Country::parse(&text) {
                    Ok(country) => {
                        assert!(listed, "{text:?} was accepted");
                        assert_eq!(country.as_str(), upper);
                    }
                    Err(_) => assert!(!listed, "{text:?} was refused"),
                }
            }
        }
    }

    #[test]
    fn codes_are_accepted_in_any_case_and_others_refused() {
        assert_eq!(Country::parse("gb").unwrap().as_str(), "GB");
        assert_eq!(Country::parse("AX").unwrap().to_string(), "AX");
        for bad in [
            "", "D", "DEU", "UK", "EU", "XK", "XI", "ZZ", "D1", "É", "D\u{0}", "D E",
        ] {
            let err = Country::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "country" },
                "{bad:?}"
            );
        }
    }
}
