//! ISO 4217 currencies: the code, the numeric code and the minor-unit exponent.
//!
//! The table below is the ISO 4217 list one ("current currency & funds") as published on
//! 2026-01-01, less the codes that name no money a shop could invoice in (see [`Currency`]).
//! It is data, not logic: when ISO amends the list, edit the table and keep it sorted by code.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};

/// An ISO 4217 currency: its alphabetic code (`"EUR"`), its numeric code (`978`) and its
/// minor-unit exponent (`2`: one euro is 100 cents).
///
/// A `Currency` can only be obtained from the built-in table, by [`Currency::from_code`], by
/// [`str::parse`], by deserializing, or from one of the associated constants
/// ([`Currency::EUR`], ...), so a value always carries the correct exponent for its code.
///
/// The table holds every currency of the current ISO 4217 list (including national fund codes
/// such as `CLF`, `UYI` or `USN`, which are used to state prices and contracts), but leaves out
/// the codes that are not money a shop could invoice in: the precious metals `XAU`, `XAG`,
/// `XPT` and `XPD`; the testing and "no currency" codes `XTS` and `XXX`; and the units of
/// account of international bodies `XDR`, `XSU`, `XUA`, `XAD` and `XBA` to `XBD`.
/// Withdrawn currencies (for example `HRK`, `BGN`, `SLL`, `ZWL`, `CUC`, `ANG`) are not in the
/// table either.
///
/// `Display` and serde both use the alphabetic code; deserializing validates it.
///
/// ```
/// use shopkeep::Currency;
///
/// let kwd = Currency::from_code("KWD")?;
/// assert_eq!(kwd.exponent(), 3);
/// assert_eq!(kwd.numeric(), 414);
/// assert_eq!(Currency::EUR.to_string(), "EUR");
/// assert!(Currency::from_code("eur").is_err(), "codes are upper case");
/// assert!(Currency::from_code("XAU").is_err(), "gold is not money here");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    numeric: u16,
    exponent: u8,
}

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency::new("EUR", 978, 2);
    /// US dollar.
    pub const USD: Currency = Currency::new("USD", 840, 2);
    /// Pound sterling.
    pub const GBP: Currency = Currency::new("GBP", 826, 2);
    /// Swiss franc.
    pub const CHF: Currency = Currency::new("CHF", 756, 2);
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency::new("JPY", 392, 0);
    /// Kuwaiti dinar (three decimals).
    pub const KWD: Currency = Currency::new("KWD", 414, 3);
    /// Swedish krona.
    pub const SEK: Currency = Currency::new("SEK", 752, 2);
    /// Danish krone.
    pub const DKK: Currency = Currency::new("DKK", 208, 2);
    /// Norwegian krone.
    pub const NOK: Currency = Currency::new("NOK", 578, 2);
    /// Polish złoty.
    pub const PLN: Currency = Currency::new("PLN", 985, 2);
    /// Czech koruna.
    pub const CZK: Currency = Currency::new("CZK", 203, 2);
    /// Hungarian forint.
    pub const HUF: Currency = Currency::new("HUF", 348, 2);
    /// Romanian leu.
    pub const RON: Currency = Currency::new("RON", 946, 2);
    /// Canadian dollar.
    pub const CAD: Currency = Currency::new("CAD", 124, 2);
    /// Australian dollar.
    pub const AUD: Currency = Currency::new("AUD", 36, 2);

    const fn new(code: &'static str, numeric: u16, exponent: u8) -> Currency {
        Currency {
            code,
            numeric,
            exponent,
        }
    }

    /// Looks up a currency by its ISO 4217 alphabetic code.
    ///
    /// The code must be exactly three upper-case ASCII letters: `"EUR"` is accepted, `"eur"`
    /// and `" EUR"` are not. Being strict here keeps stored and exchanged data canonical; a
    /// host that wants to be lenient with its users can upper-case and trim before calling.
    ///
    /// # Errors
    ///
    /// A `Validation { field: "currency" }` error if the code is malformed, unknown, withdrawn,
    /// or one of the excluded non-money codes (see [`Currency`]).
    pub fn from_code(code: &str) -> Result<Currency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::validation(
                "currency",
                "a currency code must be three upper-case ASCII letters (ISO 4217), such as \"EUR\"",
            ));
        }
        TABLE
            .binary_search_by(|c| c.code.cmp(code))
            .ok()
            .and_then(|i| TABLE.get(i).copied())
            .ok_or_else(|| {
                Error::validation(
                    "currency",
                    format!("\"{code}\" is not a supported ISO 4217 currency code"),
                )
            })
    }

    /// Every supported currency, sorted by alphabetic code.
    pub fn all() -> &'static [Currency] {
        TABLE
    }

    /// The ISO 4217 alphabetic code, such as `"EUR"`.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// The number of decimal places of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD.
    pub fn exponent(self) -> u8 {
        self.exponent
    }

    /// The ISO 4217 numeric code, such as `978` for EUR.
    pub fn numeric(self) -> u16 {
        self.numeric
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

// The exponent and numeric code follow from the code, so the code alone says all.
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code)
    }
}

/// Parses with the same rules as [`Currency::from_code`].
impl FromStr for Currency {
    type Err = Error;

    fn from_str(s: &str) -> Result<Currency> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Currency, D::Error> {
        struct CodeVisitor;

        impl Visitor<'_> for CodeVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"EUR\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Currency, E> {
                Currency::from_code(v).map_err(|e| E::custom(e.message()))
            }
        }

        deserializer.deserialize_str(CodeVisitor)
    }
}

/// Sorted by code, for the binary search in [`Currency::from_code`].
static TABLE: &[Currency] = &[
    Currency::new("AED", 784, 2), // UAE Dirham
    Currency::new("AFN", 971, 2), // Afghani
    Currency::new("ALL", 8, 2),   // Lek
    Currency::new("AMD", 51, 2),  // Armenian Dram
    Currency::new("AOA", 973, 2), // Kwanza
    Currency::new("ARS", 32, 2),  // Argentine Peso
    Currency::new("AUD", 36, 2),  // Australian Dollar
    Currency::new("AWG", 533, 2), // Aruban Florin
    Currency::new("AZN", 944, 2), // Azerbaijan Manat
    Currency::new("BAM", 977, 2), // Convertible Mark
    Currency::new("BBD", 52, 2),  // Barbados Dollar
    Currency::new("BDT", 50, 2),  // Taka
    Currency::new("BHD", 48, 3),  // Bahraini Dinar
    Currency::new("BIF", 108, 0), // Burundi Franc
    Currency::new("BMD", 60, 2),  // Bermudian Dollar
    Currency::new("BND", 96, 2),  // Brunei Dollar
    Currency::new("BOB", 68, 2),  // Boliviano
    Currency::new("BOV", 984, 2), // Mvdol
    Currency::new("BRL", 986, 2), // Brazilian Real
    Currency::new("BSD", 44, 2),  // Bahamian Dollar
    Currency::new("BTN", 64, 2),  // Ngultrum
    Currency::new("BWP", 72, 2),  // Pula
    Currency::new("BYN", 933, 2), // Belarusian Ruble
    Currency::new("BZD", 84, 2),  // Belize Dollar
    Currency::new("CAD", 124, 2), // Canadian Dollar
    Currency::new("CDF", 976, 2), // Congolese Franc
    Currency::new("CHE", 947, 2), // WIR Euro
    Currency::new("CHF", 756, 2), // Swiss Franc
    Currency::new("CHW", 948, 2), // WIR Franc
    Currency::new("CLF", 990, 4), // Unidad de Fomento
    Currency::new("CLP", 152, 0), // Chilean Peso
    Currency::new("CNY", 156, 2), // Yuan Renminbi
    Currency::new("COP", 170, 2), // Colombian Peso
    Currency::new("COU", 970, 2), // Unidad de Valor Real
    Currency::new("CRC", 188, 2), // Costa Rican Colon
    Currency::new("CUP", 192, 2), // Cuban Peso
    Currency::new("CVE", 132, 2), // Cabo Verde Escudo
    Currency::new("CZK", 203, 2), // Czech Koruna
    Currency::new("DJF", 262, 0), // Djibouti Franc
    Currency::new("DKK", 208, 2), // Danish Krone
    Currency::new("DOP", 214, 2), // Dominican Peso
    Currency::new("DZD", 12, 2),  // Algerian Dinar
    Currency::new("EGP", 818, 2), // Egyptian Pound
    Currency::new("ERN", 232, 2), // Nakfa
    Currency::new("ETB", 230, 2), // Ethiopian Birr
    Currency::new("EUR", 978, 2), // Euro
    Currency::new("FJD", 242, 2), // Fiji Dollar
    Currency::new("FKP", 238, 2), // Falkland Islands Pound
    Currency::new("GBP", 826, 2), // Pound Sterling
    Currency::new("GEL", 981, 2), // Lari
    Currency::new("GHS", 936, 2), // Ghana Cedi
    Currency::new("GIP", 292, 2), // Gibraltar Pound
    Currency::new("GMD", 270, 2), // Dalasi
    Currency::new("GNF", 324, 0), // Guinean Franc
    Currency::new("GTQ", 320, 2), // Quetzal
    Currency::new("GYD", 328, 2), // Guyana Dollar
    Currency::new("HKD", 344, 2), // Hong Kong Dollar
    Currency::new("HNL", 340, 2), // Lempira
    Currency::new("HTG", 332, 2), // Gourde
    Currency::new("HUF", 348, 2), // Forint
    Currency::new("IDR", 360, 2), // Rupiah
    Currency::new("ILS", 376, 2), // New Israeli Sheqel
    Currency::new("INR", 356, 2), // Indian Rupee
    Currency::new("IQD", 368, 3), // Iraqi Dinar
    Currency::new("IRR", 364, 2), // Iranian Rial
    Currency::new("ISK", 352, 0), // Iceland Krona
    Currency::new("JMD", 388, 2), // Jamaican Dollar
    Currency::new("JOD", 400, 3), // Jordanian Dinar
    Currency::new("JPY", 392, 0), // Yen
    Currency::new("KES", 404, 2), // Kenyan Shilling
    Currency::new("KGS", 417, 2), // Som
    Currency::new("KHR", 116, 2), // Riel
    Currency::new("KMF", 174, 0), // Comorian Franc
    Currency::new("KPW", 408, 2), // North Korean Won
    Currency::new("KRW", 410, 0), // Won
    Currency::new("KWD", 414, 3), // Kuwaiti Dinar
    Currency::new("KYD", 136, 2), // Cayman Islands Dollar
    Currency::new("KZT", 398, 2), // Tenge
    Currency::new("LAK", 418, 2), // Lao Kip
    Currency::new("LBP", 422, 2), // Lebanese Pound
    Currency::new("LKR", 144, 2), // Sri Lanka Rupee
    Currency::new("LRD", 430, 2), // Liberian Dollar
    Currency::new("LSL", 426, 2), // Loti
    Currency::new("LYD", 434, 3), // Libyan Dinar
    Currency::new("MAD", 504, 2), // Moroccan Dirham
    Currency::new("MDL", 498, 2), // Moldovan Leu
    Currency::new("MGA", 969, 2), // Malagasy Ariary
    Currency::new("MKD", 807, 2), // Denar
    Currency::new("MMK", 104, 2), // Kyat
    Currency::new("MNT", 496, 2), // Tugrik
    Currency::new("MOP", 446, 2), // Pataca
    Currency::new("MRU", 929, 2), // Ouguiya
    Currency::new("MUR", 480, 2), // Mauritius Rupee
    Currency::new("MVR", 462, 2), // Rufiyaa
    Currency::new("MWK", 454, 2), // Malawi Kwacha
    Currency::new("MXN", 484, 2), // Mexican Peso
    Currency::new("MXV", 979, 2), // Mexican Unidad de Inversion (UDI)
    Currency::new("MYR", 458, 2), // Malaysian Ringgit
    Currency::new("MZN", 943, 2), // Mozambique Metical
    Currency::new("NAD", 516, 2), // Namibia Dollar
    Currency::new("NGN", 566, 2), // Naira
    Currency::new("NIO", 558, 2), // Cordoba Oro
    Currency::new("NOK", 578, 2), // Norwegian Krone
    Currency::new("NPR", 524, 2), // Nepalese Rupee
    Currency::new("NZD", 554, 2), // New Zealand Dollar
    Currency::new("OMR", 512, 3), // Rial Omani
    Currency::new("PAB", 590, 2), // Balboa
    Currency::new("PEN", 604, 2), // Sol
    Currency::new("PGK", 598, 2), // Kina
    Currency::new("PHP", 608, 2), // Philippine Peso
    Currency::new("PKR", 586, 2), // Pakistan Rupee
    Currency::new("PLN", 985, 2), // Zloty
    Currency::new("PYG", 600, 0), // Guarani
    Currency::new("QAR", 634, 2), // Qatari Rial
    Currency::new("RON", 946, 2), // Romanian Leu
    Currency::new("RSD", 941, 2), // Serbian Dinar
    Currency::new("RUB", 643, 2), // Russian Ruble
    Currency::new("RWF", 646, 0), // Rwanda Franc
    Currency::new("SAR", 682, 2), // Saudi Riyal
    Currency::new("SBD", 90, 2),  // Solomon Islands Dollar
    Currency::new("SCR", 690, 2), // Seychelles Rupee
    Currency::new("SDG", 938, 2), // Sudanese Pound
    Currency::new("SEK", 752, 2), // Swedish Krona
    Currency::new("SGD", 702, 2), // Singapore Dollar
    Currency::new("SHP", 654, 2), // Saint Helena Pound
    Currency::new("SLE", 925, 2), // Leone
    Currency::new("SOS", 706, 2), // Somali Shilling
    Currency::new("SRD", 968, 2), // Surinam Dollar
    Currency::new("SSP", 728, 2), // South Sudanese Pound
    Currency::new("STN", 930, 2), // Dobra
    Currency::new("SVC", 222, 2), // El Salvador Colon
    Currency::new("SYP", 760, 2), // Syrian Pound
    Currency::new("SZL", 748, 2), // Lilangeni
    Currency::new("THB", 764, 2), // Baht
    Currency::new("TJS", 972, 2), // Somoni
    Currency::new("TMT", 934, 2), // Turkmenistan New Manat
    Currency::new("TND", 788, 3), // Tunisian Dinar
    Currency::new("TOP", 776, 2), // Pa’anga
    Currency::new("TRY", 949, 2), // Turkish Lira
    Currency::new("TTD", 780, 2), // Trinidad and Tobago Dollar
    Currency::new("TWD", 901, 2), // New Taiwan Dollar
    Currency::new("TZS", 834, 2), // Tanzanian Shilling
    Currency::new("UAH", 980, 2), // Hryvnia
    Currency::new("UGX", 800, 0), // Uganda Shilling
    Currency::new("USD", 840, 2), // US Dollar
    Currency::new("USN", 997, 2), // US Dollar (Next day)
    Currency::new("UYI", 940, 0), // Uruguay Peso en Unidades Indexadas (UI)
    Currency::new("UYU", 858, 2), // Peso Uruguayo
    Currency::new("UYW", 927, 4), // Unidad Previsional
    Currency::new("UZS", 860, 2), // Uzbekistan Sum
    Currency::new("VED", 926, 2), // Bolívar Soberano
    Currency::new("VES", 928, 2), // Bolívar Soberano
    Currency::new("VND", 704, 0), // Dong
    Currency::new("VUV", 548, 0), // Vatu
    Currency::new("WST", 882, 2), // Tala
    Currency::new("XAF", 950, 0), // CFA Franc BEAC
    Currency::new("XCD", 951, 2), // East Caribbean Dollar
    Currency::new("XCG", 532, 2), // Caribbean Guilder
    Currency::new("XOF", 952, 0), // CFA Franc BCEAO
    Currency::new("XPF", 953, 0), // CFP Franc
    Currency::new("YER", 886, 2), // Yemeni Rial
    Currency::new("ZAR", 710, 2), // Rand
    Currency::new("ZMW", 967, 2), // Zambian Kwacha
    Currency::new("ZWG", 924, 2), // Zimbabwe Gold
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].code < pair[1].code, "{:?} {:?}", pair[0], pair[1]);
        }
        let mut numerics: Vec<u16> = TABLE.iter().map(|c| c.numeric).collect();
        numerics.sort_unstable();
        numerics.dedup();
        assert_eq!(numerics.len(), TABLE.len(), "numeric codes must be unique");
        assert!(TABLE.len() >= 150);
    }

    #[test]
    fn every_entry_is_well_formed_and_found() {
        for c in TABLE {
            assert_eq!(c.code.len(), 3);
            assert!(c.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(c.exponent <= 4, "{c:?}");
            assert!((1..=999).contains(&c.numeric), "{c:?}");
            assert_eq!(Currency::from_code(c.code).unwrap(), *c);
        }
    }

    #[test]
    fn constants_match_the_table() {
        let consts = [
            Currency::EUR,
            Currency::USD,
            Currency::GBP,
            Currency::CHF,
            Currency::JPY,
            Currency::KWD,
            Currency::SEK,
            Currency::DKK,
            Currency::NOK,
            Currency::PLN,
            Currency::CZK,
            Currency::HUF,
            Currency::RON,
            Currency::CAD,
            Currency::AUD,
        ];
        for c in consts {
            let looked_up = Currency::from_code(c.code()).unwrap();
            assert_eq!(looked_up.numeric(), c.numeric(), "{c:?}");
            assert_eq!(looked_up.exponent(), c.exponent(), "{c:?}");
        }
    }

    #[test]
    fn known_facts() {
        let cases = [
            ("EUR", 978, 2),
            ("USD", 840, 2),
            ("JPY", 392, 0),
            ("KRW", 410, 0),
            ("KWD", 414, 3),
            ("BHD", 48, 3),
            ("JOD", 400, 3),
            ("OMR", 512, 3),
            ("TND", 788, 3),
            ("LYD", 434, 3),
            ("IQD", 368, 3),
            ("CLF", 990, 4),
            ("UYW", 927, 4),
            ("ISK", 352, 0),
            ("VND", 704, 0),
            ("XOF", 952, 0),
            ("XAF", 950, 0),
            ("XPF", 953, 0),
            ("CHF", 756, 2),
            ("GBP", 826, 2),
            ("ALL", 8, 2),
            ("XCG", 532, 2),
            ("ZWG", 924, 2),
            ("SLE", 925, 2),
            ("VES", 928, 2),
        ];
        for (code, numeric, exponent) in cases {
            let c = Currency::from_code(code).unwrap();
            assert_eq!(
                (c.code(), c.numeric(), c.exponent()),
                (code, numeric, exponent)
            );
        }
    }

    #[test]
    fn rejects_malformed_unknown_and_non_money_codes() {
        let rejected = [
            "", "E", "EU", "eur", "Eur", " EUR", "EUR ", "EURO", "E1R", "ÉUR", "QQQ", "XAU", "XAG",
            "XPT", "XPD", "XTS", "XXX", "XDR", "XSU", "XUA", "XAD", "XBA", "XBD", "HRK", "BGN",
            "DEM",
        ];
        for code in rejected {
            let err = Currency::from_code(code).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "currency" },
                "{code:?}"
            );
        }
    }

    #[test]
    fn display_debug_and_from_str() {
        assert_eq!(Currency::JPY.to_string(), "JPY");
        assert_eq!(format!("{:?}", Currency::JPY), "Currency(JPY)");
        assert_eq!("CHF".parse::<Currency>().unwrap(), Currency::CHF);
        assert!("chf".parse::<Currency>().is_err());
    }

    #[test]
    fn serde_uses_the_code_and_validates() {
        assert_eq!(serde_json::to_string(&Currency::EUR).unwrap(), "\"EUR\"");
        let c: Currency = serde_json::from_str("\"KWD\"").unwrap();
        assert_eq!(c, Currency::KWD);
        assert!(serde_json::from_str::<Currency>("\"eur\"").is_err());
        assert!(serde_json::from_str::<Currency>("\"XAU\"").is_err());
        assert!(serde_json::from_str::<Currency>("978").is_err());
    }
}
