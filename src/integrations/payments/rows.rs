//! The payments repository's SQL: processed events, gateway payments, the refund queue,
//! disputes and the reconciliation's two queries.

use super::event::{DisputeStatus, Gateway, GatewayDispute, GatewayEvent};
use super::model::{
    DisputeRecord, Outcome, QueuedRefund, QueuedRefundId, Reconciled, ReconciliationLine, Refusal,
};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::orders::{OrderId, OrderStatus, RefundId};
use crate::sql::{Row, args};
use crate::store::Tx;

fn money(minor: i64, currency: &str) -> Result<Money> {
    Ok(Money::new(minor, Currency::from_code(currency)?))
}

fn stored(message: &str) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!("a stored gateway event is malformed: {message}"),
    )
}

/// An outcome as its row stores it.
struct OutcomeRow {
    code: &'static str,
    order: Option<OrderId>,
    amount: Option<Money>,
    expected: Option<Money>,
    detail: Option<&'static str>,
    record: Option<QueuedRefundId>,
}

impl OutcomeRow {
    fn new(code: &'static str, order: Option<OrderId>) -> OutcomeRow {
        OutcomeRow {
            code,
            order,
            amount: None,
            expected: None,
            detail: None,
            record: None,
        }
    }
}

fn to_row(outcome: &Outcome) -> OutcomeRow {
    match outcome {
        Outcome::Paid(order) => OutcomeRow::new("paid", Some(*order)),
        Outcome::AlreadyPaid(order) => OutcomeRow::new("already_paid", Some(*order)),
        Outcome::Refused { order, reason } => {
            let mut row = OutcomeRow::new(reason.as_str(), *order);
            match reason {
                Refusal::AmountMismatch {
                    order_total,
                    reported,
                } => {
                    row.amount = Some(*reported);
                    row.expected = Some(*order_total);
                }
                Refusal::NotPayable { status } => row.detail = Some(status.as_str()),
                Refusal::ReferenceUsed | Refusal::UnknownOrder => {}
            }
            row
        }
        Outcome::RefundQueued {
            order,
            queued,
            amount,
        } => OutcomeRow {
            amount: Some(*amount),
            record: Some(*queued),
            ..OutcomeRow::new("refund_queued", Some(*order))
        },
        Outcome::RefundUnchanged(order) => OutcomeRow::new("refund_unchanged", Some(*order)),
        Outcome::Dispute { order, status } => OutcomeRow {
            detail: Some(status.as_str()),
            ..OutcomeRow::new("dispute", Some(*order))
        },
        Outcome::Ignored => OutcomeRow::new("ignored", None),
    }
}

/// Records that `event` was processed, with its outcome. The primary key refuses a second
/// row for the same event.
pub(crate) fn insert_processed(tx: &Tx<'_>, event: &GatewayEvent, outcome: &Outcome) -> Result<()> {
    let row = to_row(outcome);
    tx.execute(
        "INSERT INTO shopkeep_gateway_events (gateway, event_id, kind, outcome, order_id, amount,
         currency, expected, expected_currency, detail, record_id, processed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        args![
            event.gateway.as_str(),
            event.id,
            event.kind.as_str(),
            row.code,
            row.order,
            row.amount.map(Money::minor),
            row.amount.map(|m| m.currency().code()),
            row.expected.map(Money::minor),
            row.expected.map(|m| m.currency().code()),
            row.detail,
            row.record,
            tx.now()
        ],
    )?;
    Ok(())
}

type StoredOutcome = (
    String,
    Option<OrderId>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<QueuedRefundId>,
);

/// The outcome of event `id` of `gateway`, if it was processed.
pub(crate) fn processed(tx: &Tx<'_>, gateway: &Gateway, id: &str) -> Result<Option<Outcome>> {
    let row: Option<StoredOutcome> = tx.query_opt(
        "SELECT outcome, order_id, amount, currency, expected, expected_currency, detail,
             record_id FROM shopkeep_gateway_events WHERE gateway = ?1 AND event_id = ?2",
        args![gateway.as_str(), id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        },
    )?;
    row.map(from_row).transpose()
}

fn from_row(row: StoredOutcome) -> Result<Outcome> {
    let (code, order, amount, currency, expected, expected_currency, detail, record) = row;
    let order_id = || order.ok_or_else(|| stored("no order"));
    let amount = match (amount, currency.as_deref()) {
        (Some(minor), Some(code)) => Some(money(minor, code)?),
        _ => None,
    };
    let expected = match (expected, expected_currency.as_deref()) {
        (Some(minor), Some(code)) => Some(money(minor, code)?),
        _ => None,
    };
    let refused = |reason| Outcome::Refused { order, reason };
    Ok(match code.as_str() {
        "paid" => Outcome::Paid(order_id()?),
        "already_paid" => Outcome::AlreadyPaid(order_id()?),
        "amount_mismatch" => refused(Refusal::AmountMismatch {
            order_total: expected.ok_or_else(|| stored("no order total"))?,
            reported: amount.ok_or_else(|| stored("no amount"))?,
        }),
        "not_payable" => refused(Refusal::NotPayable {
            status: OrderStatus::parse(detail.as_deref().unwrap_or_default())?,
        }),
        "reference_used" => refused(Refusal::ReferenceUsed),
        "unknown_order" => refused(Refusal::UnknownOrder),
        "refund_queued" => Outcome::RefundQueued {
            order: order_id()?,
            queued: record.ok_or_else(|| stored("no queued refund"))?,
            amount: amount.ok_or_else(|| stored("no amount"))?,
        },
        "refund_unchanged" => Outcome::RefundUnchanged(order_id()?),
        "dispute" => Outcome::Dispute {
            order: order_id()?,
            status: DisputeStatus::parse(detail.as_deref().unwrap_or_default())?,
        },
        "ignored" => Outcome::Ignored,
        other => return Err(stored(&format!("unknown outcome {other:?}"))),
    })
}

/// Records a payment the gateway reported; a second report of the same payment keeps the
/// first, adding the order if only the later one named it.
pub(crate) fn record_gateway_payment(
    tx: &Tx<'_>,
    gateway: &Gateway,
    reference: &str,
    order: Option<OrderId>,
    amount: Money,
) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_gateway_payments (gateway, reference, order_id, amount, currency,
         reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (gateway, reference) DO UPDATE SET order_id = coalesce(shopkeep_gateway_payments.order_id, excluded.order_id)",
        args![
            gateway.as_str(),
            reference,
            order,
            amount.minor(),
            amount.currency().code(),
            tx.now()
        ],
    )?;
    Ok(())
}

/// The order a reported payment named, if it named one.
pub(crate) fn gateway_payment_order(
    tx: &Tx<'_>,
    gateway: &Gateway,
    reference: &str,
) -> Result<Option<OrderId>> {
    let found: Option<Option<OrderId>> = tx.query_opt(
        "SELECT order_id FROM shopkeep_gateway_payments WHERE gateway = ?1 AND reference = ?2",
        args![gateway.as_str(), reference],
        |r| r.get(0),
    )?;
    Ok(found.flatten())
}

/// The gross refunds queued so far for a payment, in minor units.
pub(crate) fn refunded_so_far(tx: &Tx<'_>, gateway: &Gateway, payment: &str) -> Result<i64> {
    tx.query_row(
        "SELECT coalesce(sum(amount), 0) FROM shopkeep_gateway_refunds
         WHERE gateway = ?1 AND payment_reference = ?2",
        args![gateway.as_str(), payment],
        |r| r.get(0),
    )
}

/// Queues a refund.
pub(crate) fn insert_queued(tx: &Tx<'_>, q: &QueuedRefund) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_gateway_refunds (id, gateway, payment_reference, order_id, amount,
         currency, event_id, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![
            q.id,
            q.gateway.as_str(),
            q.payment,
            q.order,
            q.amount.minor(),
            q.amount.currency().code(),
            q.event_id,
            q.reported_at
        ],
    )?;
    Ok(())
}

const QUEUED_COLUMNS: &str = "id, gateway, payment_reference, order_id, amount, currency, \
     event_id, reported_at, refund_id, settled_at";

fn queued_row(r: &Row<'_>) -> Result<QueuedRow> {
    Ok(QueuedRow {
        id: r.get(0)?,
        gateway: r.get(1)?,
        payment: r.get(2)?,
        order: r.get(3)?,
        amount: r.get(4)?,
        currency: r.get(5)?,
        event_id: r.get(6)?,
        reported_at: r.get(7)?,
        refund: r.get(8)?,
        settled_at: r.get(9)?,
    })
}

struct QueuedRow {
    id: QueuedRefundId,
    gateway: String,
    payment: String,
    order: OrderId,
    amount: i64,
    currency: String,
    event_id: String,
    reported_at: Timestamp,
    refund: Option<RefundId>,
    settled_at: Option<Timestamp>,
}

impl QueuedRow {
    fn into_model(self) -> Result<QueuedRefund> {
        Ok(QueuedRefund {
            id: self.id,
            gateway: Gateway::new(&self.gateway)?,
            payment: self.payment,
            order: self.order,
            amount: money(self.amount, &self.currency)?,
            event_id: self.event_id,
            reported_at: self.reported_at,
            refund: self.refund,
            settled_at: self.settled_at,
        })
    }
}

/// Queued refund `id`, settled or not.
pub(crate) fn queued(tx: &Tx<'_>, id: QueuedRefundId) -> Result<Option<QueuedRefund>> {
    tx.query_opt(
        &format!("SELECT {QUEUED_COLUMNS} FROM shopkeep_gateway_refunds WHERE id = ?1"),
        args![id],
        queued_row,
    )?
    .map(QueuedRow::into_model)
    .transpose()
}

/// Up to `limit` refunds not settled yet, after `after`, oldest first.
pub(crate) fn open_queue(
    tx: &Tx<'_>,
    after: Option<QueuedRefundId>,
    limit: usize,
) -> Result<Vec<QueuedRefund>> {
    let after = after.unwrap_or(QueuedRefundId::from_bytes([0; 16]));
    tx.query_map(
        &format!(
            "SELECT {QUEUED_COLUMNS} FROM shopkeep_gateway_refunds
         WHERE refund_id IS NULL AND id > ?1 ORDER BY id LIMIT ?2"
        ),
        args![after, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| queued_row(r)?.into_model(),
    )
}

/// Whether refund `refund` already settles a queued gateway refund.
pub(crate) fn settles_any(tx: &Tx<'_>, refund: RefundId) -> Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM shopkeep_gateway_refunds WHERE refund_id = ?1)",
        args![refund],
        |r| r.get(0),
    )
}

/// Settles queued refund `id` with `refund`. Conditional: a refund settled meanwhile is a
/// `Conflict`.
pub(crate) fn settle(tx: &Tx<'_>, id: QueuedRefundId, refund: RefundId) -> Result<()> {
    let changed = tx.execute(
        "UPDATE shopkeep_gateway_refunds SET refund_id = ?2, settled_at = ?3
             WHERE id = ?1 AND refund_id IS NULL",
        args![id, refund, tx.now()],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Conflict,
            "the gateway refund was settled meanwhile",
        ))
    }
}

/// Records a dispute, or its new status: an opening never overwrites a closing that came
/// first (deliveries are not ordered).
pub(crate) fn upsert_dispute(
    tx: &Tx<'_>,
    gateway: &Gateway,
    dispute: &GatewayDispute,
    order: OrderId,
    status: DisputeStatus,
) -> Result<()> {
    let closed_at = (status != DisputeStatus::Open).then(|| tx.now());
    tx.execute(
        "INSERT INTO shopkeep_gateway_disputes (gateway, reference, order_id, payment_reference,
         amount, currency, status, opened_at, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (gateway, reference) DO UPDATE SET status = excluded.status,
           amount = excluded.amount, closed_at = excluded.closed_at
         WHERE excluded.status <> 'open'",
        args![
            gateway.as_str(),
            dispute.reference,
            order,
            dispute.payment,
            dispute.amount.minor(),
            dispute.amount.currency().code(),
            status.as_str(),
            tx.now(),
            closed_at
        ],
    )?;
    Ok(())
}

/// The disputes of order `order`, oldest first.
pub(crate) fn disputes(tx: &Tx<'_>, order: OrderId) -> Result<Vec<DisputeRecord>> {
    type Stored = (
        String,
        String,
        String,
        i64,
        String,
        String,
        Timestamp,
        Option<Timestamp>,
    );
    tx.query_map(
        "SELECT gateway, reference, payment_reference, amount, currency, status, opened_at,
         closed_at FROM shopkeep_gateway_disputes WHERE order_id = ?1 ORDER BY opened_at, reference",
        args![order],
        |r| {
            let row: Stored = (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            );
            let (gateway, reference, payment, amount, currency, status, opened_at, closed_at) = row;
            Ok(DisputeRecord {
                gateway: Gateway::new(&gateway)?,
                reference,
                order,
                payment,
                amount: money(amount, &currency)?,
                status: DisputeStatus::parse(&status)?,
                opened_at,
                closed_at,
            })
        },
    )
}

/// The gateway side of the reconciliation: every payment reported in `[from, to)`, against
/// the order it named and the payment recorded under its reference.
pub(crate) fn reported_in(
    tx: &Tx<'_>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ReconciliationLine>> {
    type Stored = (
        String,
        String,
        Option<OrderId>,
        i64,
        String,
        Option<OrderId>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    tx.query_map(
        "SELECT g.gateway, g.reference, g.order_id, g.amount, g.currency,
                p.order_id, p.amount, p.currency, o.gross_total, o.currency
         FROM shopkeep_gateway_payments g
         LEFT JOIN shopkeep_order_payments p ON p.gateway_reference = g.reference
         LEFT JOIN shopkeep_orders o ON o.id = g.order_id
         WHERE g.reported_at >= ?1 AND g.reported_at < ?2
         ORDER BY g.reported_at, g.reference",
        args![from, to],
        |r| {
            let (
                gateway,
                reference,
                named,
                amount,
                currency,
                paid,
                paid_amount,
                paid_currency,
                total,
                order_currency,
            ): Stored = (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            );
            let reported = money(amount, &currency)?;
            let paid_money = match (paid_amount, paid_currency.as_deref()) {
                (Some(minor), Some(code)) => Some(money(minor, code)?),
                _ => None,
            };
            let order_total = match (total, order_currency.as_deref()) {
                (Some(minor), Some(code)) => Some(money(minor, code)?),
                _ => None,
            };
            let (status, order, recorded) = match (paid, paid_money, order_total) {
                // The reference paid an order, for the amount reported.
                (Some(order), Some(recorded), _) if recorded == reported => {
                    (Reconciled::Matched, Some(order), Some(recorded))
                }
                (Some(order), Some(recorded), _) => {
                    (Reconciled::AmountMismatch, Some(order), Some(recorded))
                }
                // The order named exists (its total is known) but this payment did not pay it.
                (_, _, Some(total)) if total != reported => {
                    (Reconciled::AmountMismatch, named, Some(total))
                }
                (_, _, Some(total)) => (Reconciled::NotApplied, named, Some(total)),
                _ => (Reconciled::WithoutOrder, None, None),
            };
            Ok(ReconciliationLine {
                status,
                gateway: Some(Gateway::new(&gateway)?),
                reference,
                order,
                reported: Some(reported),
                recorded,
            })
        },
    )
}

/// The order side: payments recorded in `[from, to)` under a reference no gateway reported.
pub(crate) fn unreported_in(
    tx: &Tx<'_>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ReconciliationLine>> {
    tx.query_map(
        "SELECT p.order_id, p.gateway_reference, p.amount, p.currency
         FROM shopkeep_order_payments p
         WHERE p.paid_at >= ?1 AND p.paid_at < ?2
           AND NOT EXISTS (SELECT 1 FROM shopkeep_gateway_payments g
                           WHERE g.reference = p.gateway_reference)
         ORDER BY p.paid_at, p.gateway_reference",
        args![from, to],
        |r| {
            let (order, reference, amount, currency) = (
                r.get::<OrderId>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
            );
            Ok(ReconciliationLine {
                status: Reconciled::WithoutGatewayPayment,
                gateway: None,
                reference,
                order: Some(order),
                reported: None,
                recorded: Some(money(amount, &currency)?),
            })
        },
    )
}
