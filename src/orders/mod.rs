//! Orders: VAT treatment and totals (carts, checkout and the order lifecycle build on these).

// Checkout builds confirmations from placed orders; until then only the tests do.
#[cfg_attr(not(test), allow(dead_code))]
mod confirmation;
mod totals;
mod vat;
#[cfg_attr(not(test), allow(dead_code))] // checkout is its first caller
pub(crate) mod vat_rules;

pub use confirmation::{Confirmation, Templates};
pub use totals::{Charge, LineTotal, PriceMode, PricedLine, Totals, VatGroup};
pub use vat::{VatCategory, VatTreatment};
