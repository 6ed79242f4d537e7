//! The currency rules of issuing: which currencies a document can be issued in, and in which
//! second currency it must state its VAT.
//!
//! - EN 16931 states every amount in the document currency (BT-5) with at most two decimals
//!   (UBL-DT-01), so a currency with three (KWD, BHD, OMR, ...) cannot be invoiced: settings
//!   refuse to sell in it and issuing refuses an order in it, before a number is taken.
//! - Art. 230 of the VAT Directive: the VAT must be stated in the national currency of the
//!   state whose VAT is charged whenever the document is in another currency. EN 16931 states
//!   it as the VAT accounting currency (BT-6) and the VAT total in it (BT-111). Issuing works
//!   out that currency from the order and refuses, before a number is taken, to issue without
//!   the host's exchange rate into it. Credit notes restate their invoice's rate.

use crate::customers::Country;
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::orders::{Order, VatCategory};

/// The most decimals an EN 16931 amount has (UBL-DT-01).
const MAX_DECIMALS: u8 = 2;

/// The national currency of every state whose VAT shopkeep charges: the 27 EU member states,
/// and Switzerland, the United Kingdom and Norway, whose laws ask the same of invoices in a
/// foreign currency. Bulgaria adopted the euro on 2026-01-01 (ISO 4217 has withdrawn BGN).
const NATIONAL_CURRENCIES: [(&str, Currency); 30] = [
    ("AT", Currency::EUR),
    ("BE", Currency::EUR),
    ("BG", Currency::EUR),
    ("CH", Currency::CHF),
    ("CY", Currency::EUR),
    ("CZ", Currency::CZK),
    ("DE", Currency::EUR),
    ("DK", Currency::DKK),
    ("EE", Currency::EUR),
    ("ES", Currency::EUR),
    ("FI", Currency::EUR),
    ("FR", Currency::EUR),
    ("GB", Currency::GBP),
    ("GR", Currency::EUR),
    ("HR", Currency::EUR),
    ("HU", Currency::HUF),
    ("IE", Currency::EUR),
    ("IT", Currency::EUR),
    ("LT", Currency::EUR),
    ("LU", Currency::EUR),
    ("LV", Currency::EUR),
    ("MT", Currency::EUR),
    ("NL", Currency::EUR),
    ("NO", Currency::NOK),
    ("PL", Currency::PLN),
    ("PT", Currency::EUR),
    ("RO", Currency::RON),
    ("SE", Currency::SEK),
    ("SI", Currency::EUR),
    ("SK", Currency::EUR),
];

/// Refuses a currency whose amounts EN 16931 cannot state; `field` names the input it came from.
///
/// # Errors
///
/// `Validation` (`field`) for a currency with more than two decimals.
pub(crate) fn check_invoiceable(currency: Currency, field: &'static str) -> Result<()> {
    if currency.exponent() <= MAX_DECIMALS {
        return Ok(());
    }
    Err(Error::validation(
        field,
        format!(
            "{currency} has {} decimals, and EN 16931 e-invoices state amounts with at most \
             {MAX_DECIMALS} (UBL-DT-01): orders in {currency} could not be invoiced",
            currency.exponent()
        ),
    ))
}

/// The national currency of `country`, if shopkeep knows it (see [`NATIONAL_CURRENCIES`]).
pub(crate) fn national_currency(country: Country) -> Option<Currency> {
    NATIONAL_CURRENCIES
        .iter()
        .find(|(code, _)| *code == country.as_str())
        .map(|(_, currency)| *currency)
}

/// The state whose VAT a document with these VAT categories charges, sold by a seller in
/// `seller` to `destination`: the destination if a line or charge is taxed (`S`, `Z`: the VAT
/// decision applies the destination's rates, at home and under the one-stop shop); otherwise
/// the seller's state, which declares the exempt, intra-community, export and reverse-charge
/// supplies; none if everything is outside the scope of VAT (`O`).
fn taxing_state(
    categories: impl IntoIterator<Item = VatCategory>,
    seller: Country,
    destination: Country,
) -> Option<Country> {
    let mut state = None;
    for category in categories {
        match category {
            VatCategory::Standard | VatCategory::ZeroRated => return Some(destination),
            VatCategory::OutsideScope => {}
            _ => state = Some(seller),
        }
    }
    state
}

/// The currency the invoice of `order`, sold by a seller in `seller`, must also state its VAT
/// in (BT-6): the national currency of the state whose VAT it charges, when that is not the
/// order's currency. `None` when the document needs no second currency.
pub(crate) fn vat_accounting_currency(order: &Order, seller: Country) -> Option<Currency> {
    let categories = order
        .lines()
        .iter()
        .map(|l| l.vat().category())
        .chain(order.charges().iter().map(|c| c.vat().category()));
    let state = taxing_state(categories, seller, order.destination())?;
    national_currency(state).filter(|national| *national != order.currency())
}

/// The VAT accounting currency and the host's `rate` into it that the invoice of `order`
/// states (BT-6, BT-111), checked before a number is taken.
///
/// # Errors
///
/// `Validation` (field `exchange_rate`) if the invoice needs a rate and none was given, or a
/// rate was given for an invoice that needs none.
pub(crate) fn vat_accounting(
    order: &Order,
    seller: Country,
    rate: Option<&str>,
) -> Result<Option<(Currency, String)>> {
    let currency = order.currency();
    match (vat_accounting_currency(order, seller), rate) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Error::validation(
            "exchange_rate",
            format!(
                "the invoice of order {} states its VAT in {currency} alone: no exchange rate \
                 applies",
                order.number()
            ),
        )),
        (Some(national), None) => Err(Error::validation(
            "exchange_rate",
            format!(
                "order {} is in {currency}, and the VAT it charges must also be stated in \
                 {national} (Art. 230 VAT Directive, EN 16931 BT-6 and BT-111): its invoice \
                 needs an exchange rate from {currency} to {national}",
                order.number()
            ),
        )),
        (Some(national), Some(rate)) => Ok(Some((national, rate.to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    #[test]
    fn the_map_covers_the_member_states_and_ch_gb_no_sorted_once_each() {
        let codes: Vec<&str> = NATIONAL_CURRENCIES.iter().map(|(c, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for code in codes {
            assert!(Country::parse(code).is_ok(), "{code}");
        }
        let cases = [
            ("DE", Some(Currency::EUR)),
            ("BG", Some(Currency::EUR)),
            ("PL", Some(Currency::PLN)),
            ("SE", Some(Currency::SEK)),
            ("CZ", Some(Currency::CZK)),
            ("CH", Some(Currency::CHF)),
            ("GB", Some(Currency::GBP)),
            ("NO", Some(Currency::NOK)),
            ("US", None),
            ("JP", None),
        ];
        for (code, want) in cases {
            assert_eq!(national_currency(country(code)), want, "{code}");
        }
    }

    #[test]
    fn the_taxing_state_is_the_destination_for_taxed_lines_else_the_sellers() {
        use VatCategory::{
            Exempt, Export, IntraCommunitySupply, OutsideScope, ReverseCharge, Standard, ZeroRated,
        };
        let (pl, se) = (country("PL"), country("SE"));
        let cases: [(&[VatCategory], Option<Country>); 8] = [
            (&[Standard], Some(se)),
            (&[ZeroRated], Some(se)),
            (&[Exempt, Standard], Some(se)),
            (&[Exempt], Some(pl)),
            (&[IntraCommunitySupply, Exempt], Some(pl)),
            (&[Export], Some(pl)),
            (&[ReverseCharge], Some(pl)),
            (&[OutsideScope], None),
        ];
        for (categories, want) in cases {
            assert_eq!(
                taxing_state(categories.iter().copied(), pl, se),
                want,
                "{categories:?}"
            );
        }
    }

    #[test]
    fn currencies_with_more_than_two_decimals_are_refused() {
        for ok in [Currency::EUR, Currency::JPY, Currency::CHF] {
            assert!(check_invoiceable(ok, "currency").is_ok(), "{ok}");
        }
        let err = check_invoiceable(Currency::KWD, "base_currency").unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "base_currency"
            }
        );
        assert!(err.message().contains("KWD has 3 decimals"), "{err}");
    }
}
