//! Stock's SQL: conditional level changes, each with its ledger row, in one transaction.

use serde::Serialize;

use super::product::{ProductId, VariantId};
use super::sql::{int, uint};
use super::stock::{StockChange, StockMovement, StockReason};
use crate::access::{Action, Principal, Resource};
use crate::error::{Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

/// The most ledger rows one read returns.
const MAX_LEDGER_PAGE: usize = 1000;

/// Stock levels and the stock ledger, as seen by one principal. From [`Store::stock`].
///
/// Every change is a row in the ledger and moves the level in the same transaction; a
/// decrease is conditional on enough stock being on hand, so the level never goes below zero,
/// however many threads and processes sell at once.
#[derive(Debug)]
pub struct StockRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// Stock and its ledger, for `principal`.
    ///
    /// ```
    /// use shopkeep::{ErrorKind, KeyRing, Store};
    /// use shopkeep::catalog::{NewProduct, Sku, StockChange, TaxCategory};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let admin = store.system();
    /// let mug = store.products(&admin).create(
    ///     NewProduct::new(Sku::parse("MUG-1")?, "Mug", TaxCategory::Standard)?,
    /// )?;
    /// let variant = mug.variants()[0].id();
    ///
    /// let stock = store.stock(&admin);
    /// stock.adjust(variant, StockChange::receipt(10).note("delivery 4711"))?;
    /// let moved = stock.adjust(variant, StockChange::adjustment(-3))?;
    /// assert_eq!(moved.level_after(), 7);
    ///
    /// let err = stock.adjust(variant, StockChange::sale(8)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::OutOfStock); // only 7 on hand: nothing written
    /// assert_eq!(err.out_of_stock().map(|s| (s.available(), s.requested())), Some((7, 8)));
    /// assert_eq!(stock.ledger(variant, 0, 100)?.len(), 2);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stock<'s>(&'s self, principal: &'s Principal) -> StockRepo<'s> {
        StockRepo {
            store: self,
            principal,
        }
    }
}

impl StockRepo<'_> {
    /// Records a stock movement of a tracked variant and returns its ledger row. Needs
    /// [`Action::AdjustStock`]; audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown variant; `Forbidden` without the permission; `Validation`
    /// for a zero or over-large quantity (`quantity`) or a bad note (`note`); `OutOfStock` if a
    /// decrease is larger than the stock on hand ([`Error::out_of_stock`](crate::Error::out_of_stock)
    /// has the figures); `Validation` (field `variant`) if the variant's stock is not tracked. Nothing is written on error.
    pub fn adjust(&self, variant: VariantId, change: StockChange) -> Result<StockMovement> {
        let resource = Resource::Stock(variant);
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::AdjustStock, &resource)?;
            let movement = move_stock(tx, self.principal, variant, &change)?;
            tx.audit(self.principal, Action::AdjustStock, &resource)?;
            Ok(movement)
        })
    }

    /// Up to `limit` (1 to 1000) ledger rows of a variant after ledger position `after` (0 for
    /// the start), oldest first. Needs [`Action::ReadStockLedger`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown variant; `Forbidden` without the permission; `Validation`
    /// (field `limit`) for a limit outside 1 to 1000.
    pub fn ledger(
        &self,
        variant: VariantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StockMovement>> {
        let resource = Resource::Stock(variant);
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadStockLedger, &resource)?;
            if !(1..=MAX_LEDGER_PAGE).contains(&limit) {
                return Err(Error::validation(
                    "limit",
                    format!("a ledger page has 1 to {MAX_LEDGER_PAGE} rows"),
                ));
            }
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_variants WHERE id = ?1)",
                args![variant],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(not_found(&resource));
            }
            tx.query_map(
                "SELECT seq, reason, delta, level_after, note, principal, at
                 FROM shopkeep_stock_ledger WHERE variant_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
                args![variant, int(after), int(limit)],
                |r| {
                    let reason: String = r.get(1)?;
                    Ok(StockMovement {
                        seq: uint(r.get(0)?),
                        variant,
                        reason: StockReason::parse(&reason).ok_or_else(|| {
                            Error::new(ErrorKind::Storage, "a ledger row has an unknown reason")
                        })?,
                        delta: r.get(2)?,
                        level_after: uint(r.get(3)?),
                        note: r.get(4)?,
                        principal: r.get(5)?,
                        at: r.get(6)?,
                    })
                },
            )
        })
    }
}

/// Moves a tracked variant's stock by `change` and writes its ledger row, inside the caller's
/// transaction. The caller has authorised and audits its own action.
///
/// A decrease is one conditional `UPDATE ... WHERE stock >= n`: it changes exactly one row or
/// none, so two sellers can never both take the last unit. `CHECK (stock >= 0)` is the
/// backstop.
pub(crate) fn move_stock(
    tx: &Tx<'_>,
    principal: &Principal,
    variant: VariantId,
    change: &StockChange,
) -> Result<StockMovement> {
    let change = change.check()?;
    let amount = change.delta.unsigned_abs();
    let sql = if change.delta > 0 {
        "UPDATE shopkeep_variants SET stock = stock + ?1
         WHERE id = ?2 AND tracked = 1
         RETURNING stock, low_stock_threshold, product_id, sku"
    } else {
        "UPDATE shopkeep_variants SET stock = stock - ?1
         WHERE id = ?2 AND tracked = 1 AND stock >= ?1
         RETURNING stock, low_stock_threshold, product_id, sku"
    };
    let moved: Option<(u64, Option<u32>, ProductId, String)> =
        tx.query_opt(sql, args![int(amount), variant], |r| {
            Ok((uint(r.get(0)?), r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let Some((level_after, threshold, product, sku)) = moved else {
        return Err(why_not_moved(tx, variant, amount));
    };
    let seq: u64 = tx.query_row(
        "INSERT INTO shopkeep_stock_ledger
             (variant_id, reason, delta, level_after, note, principal, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
        args![
            variant,
            change.reason.as_str(),
            change.delta,
            int(level_after),
            change.note,
            principal.audit_name(),
            tx.now()
        ],
        |r| r.get(0).map(uint),
    )?;
    if let Some(threshold) = threshold {
        let before = level_after.saturating_add_signed(-change.delta);
        let threshold = u64::from(threshold);
        // Emitted once, when the level crosses the threshold, not on every sale below it.
        if before > threshold && level_after <= threshold {
            tx.emit(&LowStock {
                product_id: product,
                variant_id: variant,
                sku,
                level: level_after,
                threshold,
            })?;
        }
    }
    Ok(StockMovement {
        seq,
        variant,
        reason: change.reason,
        delta: change.delta,
        level_after,
        note: change.note,
        principal: principal.audit_name(),
        at: tx.now(),
    })
}

/// The error for a movement that changed no row: an unknown variant, untracked stock, or not
/// enough on hand.
fn why_not_moved(tx: &Tx<'_>, variant: VariantId, amount: u64) -> Error {
    let found = tx.query_opt(
        "SELECT tracked, stock FROM shopkeep_variants WHERE id = ?1",
        args![variant],
        |r| Ok((r.get::<bool>(0)?, uint(r.get(1)?))),
    );
    match found {
        Err(e) => e,
        Ok(None) => not_found(&Resource::Stock(variant)),
        Ok(Some((false, _))) => Error::validation("variant", "the variant's stock is not tracked"),
        Ok(Some((true, on_hand))) => Error::out_of_stock_error(variant, on_hand, amount),
    }
}

/// `stock.low`: a variant's stock fell to or below its low-stock threshold.
#[derive(Debug, Serialize)]
struct LowStock {
    product_id: ProductId,
    variant_id: VariantId,
    sku: String,
    level: u64,
    threshold: u64,
}

impl OutboxEvent for LowStock {
    const KIND: &'static str = "stock.low";
    const VERSION: u32 = 1;
}
