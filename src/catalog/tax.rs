//! Tax categories of products and the shop's tax table: rates per country and category.

use std::collections::BTreeMap;
use std::fmt;

use crate::customers::Country;
use crate::error::{Error, Result};
use crate::money::TaxRate;

/// How a product is taxed. The rate itself depends on the country (see [`TaxTable`]).
///
/// The enum is `#[non_exhaustive]`: categories such as reverse charge may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TaxCategory {
    /// The country's standard rate (DE: 19 %).
    Standard,
    /// The country's reduced rate (DE: 7 %, for books and food).
    Reduced,
    /// Taxable at 0 % (zero-rated supplies).
    Zero,
    /// Exempt from VAT; documents state the exemption reason from the tax table.
    Exempt,
}

impl TaxCategory {
    /// Every category, in a stable order.
    pub const ALL: &'static [TaxCategory] = &[
        TaxCategory::Standard,
        TaxCategory::Reduced,
        TaxCategory::Zero,
        TaxCategory::Exempt,
    ];

    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TaxCategory::Standard => "standard",
            TaxCategory::Reduced => "reduced",
            TaxCategory::Zero => "zero",
            TaxCategory::Exempt => "exempt",
        }
    }

    /// Parses [`as_str`](TaxCategory::as_str)'s form.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `tax_category`) for any other text.
    pub fn parse(text: &str) -> Result<TaxCategory> {
        TaxCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                Error::validation(
                    "tax_category",
                    "a tax category is standard, reduced, zero or exempt",
                )
            })
    }
}

crate::serde_text::text_serde!(TaxCategory, TaxCategory::parse);

impl fmt::Display for TaxCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::sql::Param for TaxCategory {
    fn value(&self) -> crate::sql::Value<'_> {
        crate::sql::Value::Text(self.as_str().into())
    }
}

impl crate::sql::Column for TaxCategory {
    fn column(value: crate::sql::ValueRef<'_>) -> crate::sql::ColumnResult<TaxCategory> {
        TaxCategory::parse(value.as_str()?).map_err(Into::into)
    }
}

/// Whether a product is goods or a service: the VAT rules place the two differently when the
/// buyer is abroad (see `docs/invoicing.md`). Products are goods unless they say otherwise.
///
/// `Services` are services supplied at a distance, the kind an online shop sells: to a business
/// they are supplied where the business is (Art. 44 VAT Directive: reverse charge in another
/// member state, outside the scope of EU VAT beyond the EU); to a consumer, where the consumer
/// is, as for electronically supplied services (Art. 58: the destination's VAT in the EU,
/// outside the scope beyond it). Services the law places elsewhere (work on land, events,
/// passenger transport, restaurants) are not modelled.
///
/// ```
/// use shopkeep::catalog::SupplyKind;
///
/// assert_eq!(SupplyKind::default(), SupplyKind::Goods);
/// assert_eq!(SupplyKind::parse("services")?, SupplyKind::Services);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SupplyKind {
    /// Goods that are delivered (the default).
    #[default]
    Goods,
    /// Services supplied at a distance (software, subscriptions, downloads, consulting).
    Services,
}

impl SupplyKind {
    /// Every kind, in a stable order.
    pub const ALL: [SupplyKind; 2] = [SupplyKind::Goods, SupplyKind::Services];

    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SupplyKind::Goods => "goods",
            SupplyKind::Services => "services",
        }
    }

    /// Parses [`as_str`](SupplyKind::as_str)'s form.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `supply_kind`) for any other text.
    pub fn parse(text: &str) -> Result<SupplyKind> {
        SupplyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| Error::validation("supply_kind", "a supply kind is goods or services"))
    }
}

crate::serde_text::text_serde!(SupplyKind, SupplyKind::parse);

impl fmt::Display for SupplyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::sql::Param for SupplyKind {
    fn value(&self) -> crate::sql::Value<'_> {
        crate::sql::Value::Text(self.as_str().into())
    }
}

impl crate::sql::Column for SupplyKind {
    fn column(value: crate::sql::ValueRef<'_>) -> crate::sql::ColumnResult<SupplyKind> {
        SupplyKind::parse(value.as_str()?).map_err(Into::into)
    }
}

/// The longest exemption reason, in characters.
const MAX_REASON: usize = 200;

/// One country's VAT rates: the standard rate, an optional reduced rate, and the reason
/// printed on documents for exempt products.
///
/// ```
/// use shopkeep::catalog::CountryTaxes;
/// use shopkeep::money::TaxRate;
///
/// let de = CountryTaxes::new(TaxRate::parse("19")?)
///     .reduced(TaxRate::parse("7")?)
///     .exemption_reason("Steuerfrei nach § 4 Nr. 21 UStG")?;
/// assert_eq!(de.reduced_rate(), Some(TaxRate::parse("7")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CountryTaxes {
    standard: TaxRate,
    reduced: Option<TaxRate>,
    exemption_reason: Option<String>,
}

impl CountryTaxes {
    /// A country with this standard rate, no reduced rate and no exemption reason.
    pub fn new(standard: TaxRate) -> CountryTaxes {
        CountryTaxes {
            standard,
            reduced: None,
            exemption_reason: None,
        }
    }

    /// Sets the reduced rate.
    #[must_use]
    pub fn reduced(mut self, rate: TaxRate) -> CountryTaxes {
        self.reduced = Some(rate);
        self
    }

    /// Sets the exemption reason (EN 16931 BT-120) that documents state for exempt products.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `exemption_reason`) if it is empty, longer than 200
    /// characters or holds control characters.
    pub fn exemption_reason(mut self, reason: &str) -> Result<CountryTaxes> {
        self.exemption_reason = Some(crate::text::required(
            "exemption_reason",
            reason,
            MAX_REASON,
        )?);
        Ok(self)
    }

    /// The standard rate.
    pub fn standard_rate(&self) -> TaxRate {
        self.standard
    }

    /// The reduced rate, if the country has one configured.
    pub fn reduced_rate(&self) -> Option<TaxRate> {
        self.reduced
    }

    /// The exemption reason, if configured.
    pub fn exemption_reason_text(&self) -> Option<&str> {
        self.exemption_reason.as_deref()
    }
}

/// The tax that applies to one product category in one country.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AppliedTax {
    category: TaxCategory,
    rate: TaxRate,
    exemption_reason: Option<String>,
}

impl AppliedTax {
    /// The product's category.
    pub fn category(&self) -> TaxCategory {
        self.category
    }

    /// The rate (0 % for zero-rated and exempt products).
    pub fn rate(&self) -> TaxRate {
        self.rate
    }

    /// The exemption reason, for exempt products.
    pub fn exemption_reason(&self) -> Option<&str> {
        self.exemption_reason.as_deref()
    }
}

/// The shop's VAT rates per country (ISO 3166-1 alpha-2) and tax category.
///
/// Checkout applies the rate of the country the law says (the shop's own, or the buyer's for
/// EU distance sales above the threshold, under the one-stop shop); the table must hold the
/// shop's own country.
///
/// ```
/// use shopkeep::catalog::{CountryTaxes, TaxCategory, TaxTable};
/// use shopkeep::customers::Country;
/// use shopkeep::money::TaxRate;
///
/// let de = Country::parse("DE")?;
/// let table = TaxTable::new()
///     .country(de, CountryTaxes::new(TaxRate::parse("19")?).reduced(TaxRate::parse("7")?))
///     .country(Country::parse("AT")?, CountryTaxes::new(TaxRate::parse("20")?));
/// assert_eq!(table.tax_for(de, TaxCategory::Reduced)?.rate(), TaxRate::parse("7")?);
/// assert!(table.tax_for(Country::parse("FR")?, TaxCategory::Standard).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TaxTable {
    countries: BTreeMap<Country, CountryTaxes>,
}

impl TaxTable {
    /// An empty table.
    pub fn new() -> TaxTable {
        TaxTable::default()
    }

    /// Sets one country's rates, replacing any it had.
    #[must_use]
    pub fn country(mut self, country: Country, taxes: CountryTaxes) -> TaxTable {
        self.countries.insert(country, taxes);
        self
    }

    /// One country's rates.
    pub fn get(&self, country: Country) -> Option<&CountryTaxes> {
        self.countries.get(&country)
    }

    /// Every country and its rates, by country code.
    pub fn countries(&self) -> impl Iterator<Item = (Country, &CountryTaxes)> {
        self.countries.iter().map(|(c, t)| (*c, t))
    }

    /// The tax on a product of `category` sold in (or to) `country`.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `country` if the table has no rates for the country, field
    /// `tax_category` if the country has no reduced rate or no exemption reason and the
    /// category needs one.
    pub fn tax_for(&self, country: Country, category: TaxCategory) -> Result<AppliedTax> {
        let taxes = self.countries.get(&country).ok_or_else(|| {
            Error::validation(
                "country",
                format!("the tax table has no rates for {country}"),
            )
        })?;
        let (rate, exemption_reason) = match category {
            TaxCategory::Standard => (taxes.standard, None),
            TaxCategory::Reduced => (
                taxes.reduced.ok_or_else(|| {
                    Error::validation(
                        "tax_category",
                        format!("the tax table has no reduced rate for {country}"),
                    )
                })?,
                None,
            ),
            TaxCategory::Zero => (TaxRate::ZERO, None),
            TaxCategory::Exempt => (
                TaxRate::ZERO,
                Some(taxes.exemption_reason.clone().ok_or_else(|| {
                    Error::validation(
                        "tax_category",
                        format!("the tax table has no exemption reason for {country}"),
                    )
                })?),
            ),
        };
        Ok(AppliedTax {
            category,
            rate,
            exemption_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip() {
        for &c in TaxCategory::ALL {
            assert_eq!(TaxCategory::parse(c.as_str()).unwrap(), c);
        }
        assert!(TaxCategory::parse("Standard").is_err());
        for k in SupplyKind::ALL {
            assert_eq!(SupplyKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(
            SupplyKind::parse("Goods").unwrap_err().kind(),
            crate::ErrorKind::Validation {
                field: "supply_kind"
            }
        );
    }

    #[test]
    fn zero_and_exempt_are_zero_percent_and_exempt_needs_a_reason() {
        let de = Country::parse("DE").unwrap();
        let table = TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19").unwrap()));
        assert!(
            table
                .tax_for(de, TaxCategory::Zero)
                .unwrap()
                .rate()
                .is_zero()
        );
        assert!(table.tax_for(de, TaxCategory::Reduced).is_err());
        assert!(table.tax_for(de, TaxCategory::Exempt).is_err());
        let table = table.country(
            de,
            CountryTaxes::new(TaxRate::parse("19").unwrap())
                .exemption_reason("Kleinunternehmer")
                .unwrap(),
        );
        let exempt = table.tax_for(de, TaxCategory::Exempt).unwrap();
        assert_eq!(exempt.exemption_reason(), Some("Kleinunternehmer"));
        assert!(exempt.rate().is_zero());
    }
}
