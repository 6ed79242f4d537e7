//! The VAT decision: which EN 16931 category and rate a line gets, decided once at checkout.
//!
//! The rules, for goods sold by a seller established in the EU (written out as a table in
//! `docs/invoicing.md`, and checked against that table by a property test):
//!
//! 1. **Exempt** products stay exempt (`E`) wherever they go, with the destination's
//!    exemption reason (the seller's for a destination outside the EU).
//! 2. **Export**: a destination outside the EU is an export (`G`, 0 %).
//! 3. **Intra-community supply**: a destination in another member state, to a business buyer
//!    whose VAT id is from a member state other than the seller's, is `K` at 0 %; the buyer
//!    accounts for the VAT.
//! 4. **Everything else** (a domestic sale; a sale to a consumer, or to a business without such
//!    a VAT id, in another member state) is taxed at the **destination's** rate for the
//!    product's category: `S` for the standard and reduced rates, `Z` for zero-rated. For
//!    cross-border consumer sales this is the EU's one-stop-shop rule for distance sales; shops
//!    below the EUR 10,000 threshold that charge their own rate are not modelled.
//!
//! Reverse charge (`AE`) applies to services and to domestic reverse-charge goods, which the
//! catalogue does not model; `O` (outside scope) is for sellers outside the EU VAT area, which
//! the decision refuses rather than guesses.

use super::vat::{VatCategory, VatTreatment};
use crate::catalog::{TaxCategory, TaxTable};
use crate::customers::{Country, VatId};
use crate::error::{Error, Result};
use crate::money::TaxRate;

/// The 27 member states of the EU, by ISO 3166-1 code.
const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The exemption reason written on intra-community supplies (EU VAT Directive, Art. 138).
pub(crate) const INTRA_COMMUNITY_REASON: &str =
    "Intra-community supply of goods (Art. 138 VAT Directive)";
/// The exemption reason written on exports (EU VAT Directive, Art. 146).
pub(crate) const EXPORT_REASON: &str = "Export of goods outside the EU (Art. 146 VAT Directive)";

/// Whether `country` is an EU member state.
pub(crate) fn in_eu(country: Country) -> bool {
    EU.contains(&country.as_str())
}

/// The member state a VAT id belongs to (`EL` is Greece; `XI`, Northern Ireland, counts as a
/// member state for goods under the Windsor Framework).
fn vat_id_member_state(vat_id: &VatId) -> Option<&'static str> {
    let prefix = vat_id.prefix();
    match prefix {
        "EL" => Some("GR"),
        "XI" => Some("XI"),
        _ => EU.iter().copied().find(|c| *c == prefix),
    }
}

/// Who buys, as far as VAT is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Buyer<'a> {
    /// A consumer, or any buyer without a business VAT id.
    Consumer,
    /// A business, with its VAT id if it gave one.
    Business(Option<&'a VatId>),
}

/// Decides the VAT treatment of one line.
///
/// # Errors
///
/// `Validation` (field `seller_country`) for a seller outside the EU; the tax table's own
/// errors (field `country` or `tax_category`) when it has no rate for the destination.
pub(crate) fn decide(
    category: TaxCategory,
    seller: Country,
    destination: Country,
    buyer: &Buyer<'_>,
    table: &TaxTable,
) -> Result<VatTreatment> {
    if !in_eu(seller) {
        return Err(Error::validation(
            "seller_country",
            "shopkeep's VAT rules cover sellers established in the EU",
        ));
    }
    let abroad_in_eu = in_eu(destination) && destination != seller;
    if category == TaxCategory::Exempt {
        let rates_of = if in_eu(destination) {
            destination
        } else {
            seller
        };
        let applied = table.tax_for(rates_of, category)?;
        return VatTreatment::new(
            VatCategory::Exempt,
            TaxRate::ZERO,
            applied.exemption_reason(),
        );
    }
    if !in_eu(destination) {
        return VatTreatment::new(VatCategory::Export, TaxRate::ZERO, Some(EXPORT_REASON));
    }
    let business_from_another_state = match buyer {
        Buyer::Business(Some(vat_id)) => {
            vat_id_member_state(vat_id).is_some_and(|state| state != seller.as_str())
        }
        _ => false,
    };
    if abroad_in_eu && business_from_another_state {
        return VatTreatment::new(
            VatCategory::IntraCommunitySupply,
            TaxRate::ZERO,
            Some(INTRA_COMMUNITY_REASON),
        );
    }
    let applied = table.tax_for(destination, category)?;
    match category {
        TaxCategory::Zero => VatTreatment::new(VatCategory::ZeroRated, TaxRate::ZERO, None),
        _ => VatTreatment::new(VatCategory::Standard, applied.rate(), None),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::catalog::CountryTaxes;

    const GUIDE: &str = include_str!("../../docs/invoicing.md");

    /// One row of the table in docs/invoicing.md.
    struct Row {
        product: String,
        destination: String,
        buyer: String,
        category: String,
        rate: String,
    }

    fn table() -> Vec<Row> {
        let start = GUIDE.find("<!-- vat-decision-table -->").unwrap();
        let end = GUIDE.find("<!-- /vat-decision-table -->").unwrap();
        GUIDE[start..end]
            .lines()
            .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| product"))
            .map(|l| {
                let cells: Vec<String> = l
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect();
                Row {
                    product: cells[0].clone(),
                    destination: cells[1].clone(),
                    buyer: cells[2].clone(),
                    category: cells[3].clone(),
                    rate: cells[4].clone(),
                }
            })
            .collect()
    }

    const PRODUCTS: [(TaxCategory, &str); 4] = [
        (TaxCategory::Standard, "standard"),
        (TaxCategory::Reduced, "reduced"),
        (TaxCategory::Zero, "zero"),
        (TaxCategory::Exempt, "exempt"),
    ];
    const DESTINATIONS: [&str; 3] = ["domestic", "other-member-state", "outside-eu"];
    const BUYERS: [&str; 4] = [
        "consumer",
        "business-without-vat-id",
        "business-with-vat-id-of-the-sellers-state",
        "business-with-vat-id-of-another-member-state",
    ];
    const NON_EU: [&str; 6] = ["US", "CH", "GB", "NO", "JP", "BR"];

    /// A valid VAT id of `state` (the patterns are the shortest of each prefix).
    fn vat_id_of(state: &str) -> VatId {
        let text = match state {
            "AT" => "ATU12345678".to_owned(),
            "GR" => "EL123456789".to_owned(),
            "DE" => "DE123456789".to_owned(),
            "FR" => "FRAB123456789".to_owned(),
            "NL" => "NL123456789B01".to_owned(),
            "IT" => "IT12345678901".to_owned(),
            "ES" => "ESX1234567X".to_owned(),
            _ => unreachable!("no test VAT id for {state}"),
        };
        VatId::parse(&text).unwrap()
    }
    const VAT_STATES: [&str; 7] = ["AT", "GR", "DE", "FR", "NL", "IT", "ES"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn the_decision_follows_the_published_table(
            product in 0usize..4,
            destination in 0usize..3,
            buyer in 0usize..4,
            seller in 0usize..7,
            other in 0usize..6,
            far in 0usize..6,
            standard in 100u32..3000,
            reduced in 1u32..100,
        ) {
            let (category, product_name) = PRODUCTS[product];
            let seller = VAT_STATES[seller];
            let others: Vec<&str> = VAT_STATES.iter().copied().filter(|s| *s != seller).collect();
            let other = others[other % others.len()];
            let destination_name = DESTINATIONS[destination];
            let dest = match destination_name {
                "domestic" => seller,
                "other-member-state" => other,
                _ => NON_EU[far],
            };
            let buyer_name = BUYERS[buyer];
            let own_id = vat_id_of(seller);
            let foreign_id = vat_id_of(other);
            let buyer_value = match buyer_name {
                "consumer" => Buyer::Consumer,
                "business-without-vat-id" => Buyer::Business(None),
                "business-with-vat-id-of-the-sellers-state" => Buyer::Business(Some(&own_id)),
                _ => Buyer::Business(Some(&foreign_id)),
            };
            // Every country gets its own rates, so that a decision using the seller's rates
            // instead of the destination's cannot pass.
            let rates_of = |state: &str| {
                let i = VAT_STATES.iter().chain(&NON_EU).position(|s| *s == state).unwrap() as u32;
                (standard + 10 * i, reduced + i)
            };
            let mut table_of_rates = TaxTable::new();
            for state in VAT_STATES.iter().chain(&NON_EU) {
                let (standard, reduced) = rates_of(state);
                let taxes = CountryTaxes::new(TaxRate::from_basis_points(standard).unwrap())
                    .reduced(TaxRate::from_basis_points(reduced).unwrap())
                    .exemption_reason(&format!("exempt in {state}"))
                    .unwrap();
                table_of_rates = table_of_rates.country(Country::parse(state).unwrap(), taxes);
            }
            let got = decide(category, Country::parse(seller).unwrap(), Country::parse(dest).unwrap(), &buyer_value, &table_of_rates).unwrap();

            let matches = |cell: &str, value: &str| cell == "*" || cell == value;
            let row = table()
                .into_iter()
                .find(|r| matches(&r.product, product_name) && matches(&r.destination, destination_name) && matches(&r.buyer, buyer_name))
                .unwrap();
            prop_assert_eq!(got.category().code(), row.category.as_str());
            let want_rate = match row.rate.as_str() {
                "0" => 0,
                "destination-standard" => rates_of(dest).0,
                "destination-reduced" => rates_of(dest).1,
                other => panic!("unknown rate cell {other}"),
            };
            prop_assert_eq!(got.rate().basis_points(), want_rate);
            if row.category == "E" {
                let from = if destination_name == "outside-eu" { seller } else { dest };
                let want = format!("exempt in {from}");
                prop_assert_eq!(got.exemption_reason(), Some(want.as_str()));
            }
        }
    }

    #[test]
    fn the_table_has_rows() {
        assert_eq!(table().len(), 6);
    }

    #[test]
    fn a_seller_outside_the_eu_is_refused() {
        let err = decide(
            TaxCategory::Standard,
            Country::parse("US").unwrap(),
            Country::parse("DE").unwrap(),
            &Buyer::Consumer,
            &TaxTable::new(),
        )
        .unwrap_err();
        assert_eq!(
            err.kind(),
            crate::ErrorKind::Validation {
                field: "seller_country"
            }
        );
    }
}
