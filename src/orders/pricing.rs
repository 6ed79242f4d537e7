//! Pricing a cart: what the preview shows and what checkout stores, by the same code.

use super::cart::CartLine;
use super::checkout::Shipping;
use super::coupon::CouponCode;
use super::coupon_repo;
use super::totals::{Charge, PricedLine, Totals};
use super::vat_rules::{self, Buyer};
use crate::access::CustomerId;
use crate::catalog::{Sellable, ShopSettings, SupplyKind, sellable};
use crate::customers::Country;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::store::Tx;

/// A cart priced now.
pub(crate) struct Priced {
    pub(crate) items: Vec<(Sellable, u32)>,
    pub(crate) lines: Vec<PricedLine>,
    pub(crate) discount: Money,
    /// The document-level charges (shipping), each with what it is for.
    pub(crate) charges: Vec<(String, Charge)>,
    pub(crate) totals: Totals,
}

/// Prices `items` in `currency` from the catalogue now, decides each line's VAT for `buyer` and
/// `destination`, applies `coupon` (checked, not counted), adds `shipping` as a charge whose VAT
/// is decided like a line's, and computes the totals.
///
/// # Errors
///
/// `Validation` (field `cart`) for an empty cart, (field `currency`) for a currency the shop
/// does not accept or a variant without a price in it; `CurrencyMismatch` for shipping priced
/// in another currency; `NotFound` for an unknown variant; `Validation` (field `variant`)
/// for an archived product; the coupon's and VAT decision's own errors.
#[allow(clippy::too_many_arguments)] // one call each from checkout and the preview
pub(crate) fn price(
    tx: &Tx<'_>,
    settings: &ShopSettings,
    items: &[CartLine],
    currency: Currency,
    destination: Country,
    buyer: &Buyer<'_>,
    coupon: Option<(&CouponCode, Option<CustomerId>)>,
    shipping: Option<&Shipping>,
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
    let mut charges = Vec::new();
    if let Some(shipping) = shipping {
        let price = shipping.price();
        if price.currency() != currency {
            return Err(Error::new(
                ErrorKind::CurrencyMismatch,
                format!(
                    "the shipping is priced in {}, the order in {currency}",
                    price.currency()
                ),
            ));
        }
        // Shipping goes with the goods it carries: part of their supply, taxed like goods.
        let vat = vat_rules::decide(
            shipping.tax_category(),
            SupplyKind::Goods,
            seller,
            destination,
            buyer,
            settings.tax_table(),
        )?;
        charges.push((shipping.label().to_owned(), Charge::new(price, vat)?));
    }
    let mut sold = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let s = sellable(tx, item.variant, currency)?;
        let vat = vat_rules::decide(
            s.tax_category,
            s.supply_kind,
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
    let applied: Vec<Charge> = charges.iter().map(|(_, c)| c.clone()).collect();
    let totals = Totals::compute(settings.price_mode(), currency, &lines, discount, &applied)?;
    Ok(Priced {
        items: sold,
        lines,
        discount,
        charges,
        totals,
    })
}
