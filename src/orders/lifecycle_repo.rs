//! The order lifecycle: the SQL of status changes, payments, shipments and cancellations.

use super::lifecycle::{PaymentRecord, Shipment};
use super::order::{OrderId, OrderStatus};
use super::order_repo;
use crate::access::CustomerId;
use crate::catalog::VariantId;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::Tx;

/// The error for a transition the order's status does not allow.
pub(crate) fn invalid(current: OrderStatus, wanted: OrderStatus) -> Error {
    Error::new(
        ErrorKind::InvalidTransition,
        format!("the order is {current} and cannot become {wanted}"),
    )
}

/// Moves order `id` from one of `from` (one to three statuses) to `to`, bumping its version.
/// Conditional: if another writer changed the status first, nothing changes and the error
/// names the status found.
pub(crate) fn set_status(
    tx: &Tx<'_>,
    id: OrderId,
    from: &[OrderStatus],
    to: OrderStatus,
) -> Result<()> {
    let changed = match from {
        // One status to move from (every transition but one) is `status = ?4`: SQLite
        // evaluates an `IN` list of three bound values through a temporary b-tree that it
        // builds and frees on every execution, a fifth of this statement's time.
        [only] => tx.execute(
            "UPDATE shopkeep_orders SET status = ?2, version = version + 1, updated_at = ?3
                 WHERE id = ?1 AND status = ?4",
            args![id, to.as_str(), tx.now(), only.as_str()],
        ),
        _ => {
            let pick = |i: usize| {
                from.get(i)
                    .or_else(|| from.first())
                    .map(|s| s.as_str())
                    .unwrap_or("")
            };
            tx.execute(
                "UPDATE shopkeep_orders SET status = ?2, version = version + 1, updated_at = ?3
                 WHERE id = ?1 AND status IN (?4, ?5, ?6)",
                args![id, to.as_str(), tx.now(), pick(0), pick(1), pick(2)],
            )
        }
    }?;
    if changed == 1 {
        return Ok(());
    }
    match status(tx, id)? {
        Some(current) => Err(invalid(current, to)),
        None => Err(Error::new(ErrorKind::NotFound, "no such order")),
    }
}

/// The status of order `id`, if it exists.
pub(crate) fn status(tx: &Tx<'_>, id: OrderId) -> Result<Option<OrderStatus>> {
    let text: Option<String> = tx.query_opt(
        "SELECT status FROM shopkeep_orders WHERE id = ?1",
        args![id],
        |r| r.get(0),
    )?;
    text.as_deref().map(OrderStatus::parse).transpose()
}

/// Records a payment.
pub(crate) fn insert_payment(
    tx: &Tx<'_>,
    id: OrderId,
    reference: &str,
    amount: Money,
) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_order_payments (order_id, gateway_reference, amount, currency,
         paid_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            id,
            reference,
            amount.minor(),
            amount.currency().code(),
            tx.now()
        ],
    )?;
    Ok(())
}

/// The order a gateway reference paid, if any.
pub(crate) fn paid_by(tx: &Tx<'_>, reference: &str) -> Result<Option<OrderId>> {
    tx.query_opt(
        "SELECT order_id FROM shopkeep_order_payments WHERE gateway_reference = ?1",
        args![reference],
        |r| r.get(0),
    )
}

/// The payment of order `id`, if it was paid.
pub(crate) fn payment(tx: &Tx<'_>, id: OrderId) -> Result<Option<PaymentRecord>> {
    let row: Option<(String, i64, String, Timestamp)> = tx.query_opt(
        "SELECT gateway_reference, amount, currency, paid_at FROM shopkeep_order_payments
             WHERE order_id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    row.map(|(reference, amount, currency, paid_at)| {
        Ok(PaymentRecord {
            reference,
            amount: Money::new(amount, Currency::from_code(&currency)?),
            paid_at,
        })
    })
    .transpose()
}

/// Records a shipment.
pub(crate) fn insert_shipment(tx: &Tx<'_>, id: OrderId, shipment: &Shipment) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_order_shipments (order_id, carrier, tracking, shipped_at)
         VALUES (?1, ?2, ?3, ?4)",
        args![id, shipment.carrier, shipment.tracking, tx.now()],
    )?;
    Ok(())
}

/// Records a cancellation.
pub(crate) fn insert_cancellation(
    tx: &Tx<'_>,
    id: OrderId,
    reason: &str,
    was_paid: bool,
) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_order_cancellations (order_id, reason, was_paid, cancelled_at)
         VALUES (?1, ?2, ?3, ?4)",
        args![id, reason, was_paid, tx.now()],
    )?;
    Ok(())
}

/// What expiry needs of an order, without decrypting its buyer.
pub(crate) struct Unpaid {
    pub(crate) id: OrderId,
    pub(crate) number: i64,
    pub(crate) customer: CustomerId,
}

/// Up to `limit` orders still `placed` that were placed before `cutoff`, oldest first.
pub(crate) fn unpaid_before(tx: &Tx<'_>, cutoff: Timestamp, limit: usize) -> Result<Vec<Unpaid>> {
    let rows = tx.query_map(
        "SELECT id, number, customer_id, auth_mac FROM shopkeep_orders
             WHERE status = 'placed' AND placed_at < ?1 ORDER BY id LIMIT ?2",
        args![cutoff, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            let unpaid = Unpaid {
                id: r.get(0)?,
                number: r.get(1)?,
                customer: r.get(2)?,
            };
            Ok((unpaid, r.get::<Option<Vec<u8>>>(3)?))
        },
    )?;
    // The expiry event names the customer: only the one the order's MAC was made for.
    rows.into_iter()
        .map(|(unpaid, mac)| {
            order_repo::verify_owner(tx, unpaid.id, unpaid.customer, mac.as_deref())?;
            Ok(unpaid)
        })
        .collect()
}

/// An order's lines as stock sees them: position, variant, quantity.
pub(crate) fn stock_lines(tx: &Tx<'_>, id: OrderId) -> Result<Vec<(u32, VariantId, u32)>> {
    tx.query_map(
        "SELECT position, variant_id, quantity FROM shopkeep_order_lines
             WHERE order_id = ?1 ORDER BY position",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}
