//! Pricing a cart: what the preview shows and what checkout stores, by the same code.

use super::cart::CartLine;
use super::coupon::CouponCode;
use super::coupon_repo;
use super::totals::{PricedLine, Totals};
use super::vat_rules::{self, Buyer};
use crate::access::CustomerId;
use crate::catalog::{Sellable, ShopSettings, sellable};
use crate::customers::Country;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::store::Tx;

/// A cart priced now.
pub(crate) struct Priced {
    pub(crate) items: Vec<(Sellable, u32)>,
    pub(crate) lines: Vec<PricedLine>,
    pub(crate) discount: Money,
    pub(crate) totals: Totals,
}

/// Prices `items` in `currency` from the catalogue now, decides each line's VAT for `buyer` and
/// `destination`, applies `coupon` (checked, not counted) and computes the totals.
///
/// # Errors
///
/// `Validation` (field `cart`) for an empty cart, (field `currency`) for a currency the shop
/// does not accept or a variant without a price in it; `NotFound` for an unknown variant;
/// `InvalidState` for an archived product; the coupon's and VAT decision's own errors.
pub(crate) fn price(
    tx: &Tx<'_>,
    settings: &ShopSettings,
    items: &[CartLine],
    currency: Currency,
    destination: Country,
    buyer: &Buyer<'_>,
    coupon: Option<(&CouponCode, Option<CustomerId>)>,
) -> Result<Priced> {
    if items.is_empty() {
        return Err(Error::validation("cart", "the cart is empty"));
    }
    if !settings.accepts(currency) {
        return Err(Error::validation(
            "currency",
            format!("the shop does not sell in {currency}"),
        ));
    }
    let seller = settings.seller().address().country();
    let mut sold = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let s = sellable(tx, item.variant, currency)?;
        let vat = vat_rules::decide(
            s.tax_category,
            seller,
            destination,
            buyer,
            settings.tax_table(),
        )?;
        lines.push(PricedLine::new(s.unit_price, item.quantity, vat)?);
        sold.push((s, item.quantity));
    }
    let subtotal = Money::sum(
        currency,
        lines
            .iter()
            .map(|l| l.unit_price().checked_mul(i64::from(l.quantity())))
            .collect::<Result<Vec<_>>>()?,
    )?;
    let discount = match coupon {
        Some((code, customer)) => coupon_repo::apply(tx, code, customer, subtotal)?,
        None => Money::zero(currency),
    };
    let totals = Totals::compute(settings.price_mode(), currency, &lines, discount, &[])?;
    Ok(Priced {
        items: sold,
        lines,
        discount,
        totals,
    })
}
