//! Refunds: the SQL. Refund rows are append-only (triggers refuse UPDATE and DELETE).

use std::collections::BTreeMap;

use super::order::OrderId;
use super::order_repo::treatment;
use super::refund::{RefundId, RefundRecord, RefundedLine};
use super::totals::Charge;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::Tx;

fn int(n: u32) -> i64 {
    i64::from(n)
}

/// Writes a refund with its lines and charges.
pub(crate) fn insert(tx: &Tx<'_>, r: &RefundRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_refunds (id, order_id, number, restock, net_total, vat_total,
         gross_total, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![
            r.id,
            r.order,
            int(r.number),
            r.restock,
            r.net_total.minor(),
            r.vat_total.minor(),
            r.gross_total.minor(),
            r.created_at
        ],
    )?;
    for l in &r.lines {
        tx.execute(
            "INSERT INTO shopkeep_refund_lines (refund_id, position, quantity, discount)
         VALUES (?1, ?2, ?3, ?4)",
            args![r.id, int(l.position), int(l.quantity), l.discount.minor()],
        )?;
    }
    for (seq, c) in r.charges.iter().enumerate() {
        tx.execute(
        "INSERT INTO shopkeep_refund_charges (refund_id, seq, amount, vat_category, vat_rate_bp,
         exemption_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![
                r.id,
                i64::try_from(seq).unwrap_or(i64::MAX),
                c.amount().minor(),
                c.vat().category().code(),
                c.vat().rate().basis_points(),
                c.vat().exemption_reason()
            ])?;
    }
    Ok(())
}

/// Reads refund `id`: its lines (position, quantity, discount share, with the order line's unit
/// price and VAT treatment), its charges and its totals. This is what a credit note is built
/// from, inside the refund's own transaction or later.
///
/// # Errors
///
/// `NotFound` if there is no such refund.
pub(crate) fn load(tx: &Tx<'_>, id: RefundId) -> Result<RefundRecord> {
    type Head = (OrderId, u32, bool, [i64; 3], Timestamp, String);
    let head: Option<Head> = tx.query_opt(
        "SELECT r.order_id, r.number, r.restock, r.net_total, r.vat_total, r.gross_total,
             r.created_at, o.currency FROM shopkeep_refunds r
             JOIN shopkeep_orders o ON o.id = r.order_id WHERE r.id = ?1",
        args![id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                [r.get(3)?, r.get(4)?, r.get(5)?],
                r.get(6)?,
                r.get(7)?,
            ))
        },
    )?;
    let Some((order, number, restock, [net, vat, gross], created_at, currency)) = head else {
        return Err(Error::new(ErrorKind::NotFound, "no such refund"));
    };
    let currency = Currency::from_code(&currency)?;
    let m = |minor: i64| Money::new(minor, currency);
    let lines = tx.query_map(
        "SELECT rl.position, rl.quantity, rl.discount, ol.unit_price, ol.vat_category,
         ol.vat_rate_bp, ol.exemption_reason FROM shopkeep_refund_lines rl
         JOIN shopkeep_order_lines ol ON ol.order_id = ?2 AND ol.position = rl.position
         WHERE rl.refund_id = ?1 ORDER BY rl.position",
        args![id, order],
        |r| {
            let (position, quantity, discount, unit, c, bp, why) = (
                r.get::<u32>(0)?,
                r.get::<u32>(1)?,
                r.get::<i64>(2)?,
                r.get::<i64>(3)?,
                r.get::<String>(4)?,
                r.get::<u32>(5)?,
                r.get::<Option<String>>(6)?,
            );
            Ok(RefundedLine {
                position,
                quantity,
                discount: m(discount),
                unit_price: m(unit),
                vat: treatment(&c, bp, why)?,
            })
        },
    )?;
    let charges = tx.query_map(
        "SELECT amount, vat_category, vat_rate_bp, exemption_reason FROM shopkeep_refund_charges
         WHERE refund_id = ?1 ORDER BY seq",
        args![id],
        |r| {
            let (amount, c, bp, why) = (
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<u32>(2)?,
                r.get::<Option<String>>(3)?,
            );
            Charge::new(m(amount), treatment(&c, bp, why)?)
        },
    )?;
    Ok(RefundRecord {
        id,
        order,
        number,
        lines,
        charges,
        restock,
        net_total: m(net),
        vat_total: m(vat),
        gross_total: m(gross),
        created_at,
    })
}

/// The ids of an order's refunds, in their order.
pub(crate) fn ids(tx: &Tx<'_>, order: OrderId) -> Result<Vec<RefundId>> {
    tx.query_map(
        "SELECT id FROM shopkeep_refunds WHERE order_id = ?1 ORDER BY number",
        args![order],
        |r| r.get(0),
    )
}

/// What earlier refunds of an order add up to.
#[derive(Debug, Default)]
pub(crate) struct Refunded {
    /// Refunds so far.
    pub(crate) count: u32,
    /// Gross refunded so far, in minor units.
    pub(crate) gross: i64,
    /// Quantity refunded per line position.
    pub(crate) quantities: BTreeMap<u32, u32>,
    /// Quantity returned to stock per line position.
    pub(crate) restocked: BTreeMap<u32, u32>,
    /// Whether a refund already gave the charges back.
    pub(crate) charges: bool,
}

/// Sums an order's refunds so far.
pub(crate) fn refunded(tx: &Tx<'_>, order: OrderId) -> Result<Refunded> {
    let (count, gross, charges): (u32, i64, bool) = tx.query_row(
        "SELECT count(*), coalesce(sum(gross_total), 0),
             EXISTS (SELECT 1 FROM shopkeep_refund_charges c
                     JOIN shopkeep_refunds r ON r.id = c.refund_id WHERE r.order_id = ?1)
             FROM shopkeep_refunds WHERE order_id = ?1",
        args![order],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut quantities = BTreeMap::new();
    let mut restocked = BTreeMap::new();
    tx.query_each(
        "SELECT l.position, sum(l.quantity), sum(CASE WHEN r.restock = 1 THEN l.quantity ELSE 0 END)
         FROM shopkeep_refund_lines l JOIN shopkeep_refunds r ON r.id = l.refund_id
         WHERE r.order_id = ?1 GROUP BY l.position",
        args![order],
        |r| {
            let (position, quantity, returned) =
                (r.get::<u32>(0)?, r.get::<u32>(1)?, r.get::<u32>(2)?);
            quantities.insert(position, quantity);
            restocked.insert(position, returned);
            Ok(())
        },
    )?;
    Ok(Refunded {
        count,
        gross,
        quantities,
        restocked,
        charges,
    })
}
