//! Orders: VAT treatment and totals (carts, checkout and the order lifecycle build on these).

mod totals;
mod vat;

pub use totals::{Charge, LineTotal, PriceMode, PricedLine, Totals, VatGroup};
pub use vat::{VatCategory, VatTreatment};
