//! What checkout reads and writes of the catalogue, inside its own
//! transaction: a variant's sellable price, tax category and supply kind, and the stock it
//! takes.
//!
//! These functions do not authorise: checkout authorises its own action (placing an order),
//! and its audit entry covers the whole order.

use super::product::{ProductId, ProductStatus, VariantId};
use super::sku::Sku;
use super::stock::{StockChange, StockMovement};
use super::stock_repo::move_stock;
use super::tax::{SupplyKind, TaxCategory};
use crate::access::{Principal, Resource};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::{Tx, not_found};

/// A variant as checkout sells it: the product's name, tax category and supply kind, and the
/// variant's price in the order's currency (net or gross as the shop's price mode says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sellable {
    pub(crate) product: ProductId,
    pub(crate) variant: VariantId,
    pub(crate) sku: Sku,
    pub(crate) name: String,
    pub(crate) tax_category: TaxCategory,
    pub(crate) supply_kind: SupplyKind,
    pub(crate) unit_price: Money,
}

/// The sellable view of `variant` in `currency`.
///
/// # Errors
///
/// `NotFound` for an unknown variant; `Validation` (field `variant`) if its product is archived,
/// (field `currency`) if it has no price in `currency`.
pub(crate) fn sellable(tx: &Tx<'_>, variant: VariantId, currency: Currency) -> Result<Sellable> {
    type Stored = (
        ProductId,
        String,
        TaxCategory,
        SupplyKind,
        String,
        Sku,
        Option<i64>,
    );
    let row: Option<Stored> = tx.query_opt(
        "SELECT p.id, p.name, p.tax_category, p.supply_kind, p.status, v.sku, pr.amount
             FROM shopkeep_variants v
             JOIN shopkeep_products p ON p.id = v.product_id
             LEFT JOIN shopkeep_prices pr ON pr.variant_id = v.id AND pr.currency = ?2
             WHERE v.id = ?1",
        args![variant, currency.code()],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        },
    )?;
    let Some((product, name, tax_category, supply_kind, status, sku, amount)) = row else {
        return Err(not_found(&Resource::Stock(variant)));
    };
    if ProductStatus::parse(&status) != Some(ProductStatus::Active) {
        return Err(archived());
    }
    let amount = amount.ok_or_else(|| {
        Error::validation("currency", format!("{sku} has no price in {currency}"))
    })?;
    Ok(Sellable {
        product,
        variant,
        sku,
        name,
        tax_category,
        supply_kind,
        unit_price: Money::new(amount, currency),
    })
}

/// Takes `quantity` of `variant` out of stock for a sale, with `reference` (the order number)
/// as the ledger row's note. An untracked variant has nothing to take: `Ok(None)`.
///
/// # Errors
///
/// `NotFound` for an unknown variant; `Validation` (field `variant`) if its product is archived; `OutOfStock`
/// if less than `quantity` is on hand (nothing is taken); `Validation` for a zero quantity or
/// a bad reference.
pub(crate) fn take_stock(
    tx: &Tx<'_>,
    principal: &Principal,
    variant: VariantId,
    quantity: u32,
    reference: &str,
) -> Result<Option<StockMovement>> {
    let found: Option<(String, bool)> = tx.query_opt(
        "SELECT p.status, v.tracked FROM shopkeep_variants v
             JOIN shopkeep_products p ON p.id = v.product_id WHERE v.id = ?1",
        args![variant],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some((status, tracked)) = found else {
        return Err(not_found(&Resource::Stock(variant)));
    };
    if ProductStatus::parse(&status) != Some(ProductStatus::Active) {
        return Err(archived());
    }
    let change = StockChange::sale(quantity).note(reference);
    if !tracked {
        // Nothing to take, but the quantity and reference are still checked.
        change.check().map(drop)?;
        return Ok(None);
    }
    move_stock(tx, principal, variant, &change).map(Some)
}

/// Puts back stock an order took (`change` is a reservation release or a return), inside
/// the caller's transaction; the caller authorises and audits its own action. A variant whose
/// stock is not tracked has nothing to put back: `Ok(None)`. Archived products take their
/// stock back too.
pub(crate) fn return_stock(
    tx: &Tx<'_>,
    principal: &Principal,
    variant: VariantId,
    change: &StockChange,
) -> Result<Option<StockMovement>> {
    let tracked: Option<bool> = tx.query_opt(
        "SELECT tracked FROM shopkeep_variants WHERE id = ?1",
        args![variant],
        |r| r.get(0),
    )?;
    match tracked {
        None => Err(not_found(&Resource::Stock(variant))),
        Some(false) => change.check().map(|_| None),
        Some(true) => move_stock(tx, principal, variant, change).map(Some),
    }
}

fn archived() -> Error {
    Error::validation("variant", "the product is archived and cannot be bought")
}
