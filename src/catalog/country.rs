//! ISO 3166-1 alpha-2 country codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A country, by its ISO 3166-1 alpha-2 code (`DE`, `AT`, `CH`).
///
/// Only officially assigned codes are accepted, in upper case: `"DE"` is a country, `"de"`,
/// `"EL"` (the EU's VAT prefix for Greece, whose ISO code is `GR`) and `"XK"` are not.
///
/// ```
/// use shopkeep::CountryCode;
///
/// let de = CountryCode::parse("DE")?;
/// assert_eq!(de.as_str(), "DE");
/// assert!(CountryCode::parse("de").is_err());
/// assert!(CountryCode::parse("ZZ").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// Looks up an ISO 3166-1 alpha-2 code.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `country`) for anything but an assigned code in upper case.
    pub fn parse(code: &str) -> Result<CountryCode> {
        ASSIGNED
            .binary_search(&code)
            .ok()
            .and_then(|i| ASSIGNED.get(i).copied())
            .map(CountryCode)
            .ok_or_else(|| {
                Error::validation(
                    "country",
                    "a country is an ISO 3166-1 alpha-2 code in upper case, such as \"DE\"",
                )
            })
    }

    /// The two-letter code.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.0)
    }
}

impl FromStr for CountryCode {
    type Err = Error;

    fn from_str(code: &str) -> Result<CountryCode> {
        CountryCode::parse(code)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<CountryCode, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        CountryCode::parse(&text).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// The officially assigned ISO 3166-1 alpha-2 codes, sorted for the binary search (249 codes,
/// from Debian's iso-codes 4.15). It is data: when ISO amends the list, edit it here.
static ASSIGNED: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_complete() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ASSIGNED.len(), 249);
        for code in ASSIGNED {
            assert_eq!(CountryCode::parse(code).unwrap().as_str(), *code);
        }
        for bad in ["", "D", "DEU", "de", "EL", "UK", "XK", "ZZ", " DE"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
