//! What processing an event did, and what staff read back: the refund queue, disputes and the
//! reconciliation report. No SQL.

use super::event::{DisputeStatus, Gateway};
use crate::clock::Timestamp;
use crate::ids::define_id;
use crate::money::Money;
use crate::orders::{OrderId, OrderStatus, RefundId};

define_id!(
    /// A queued gateway refund's id (a time-ordered UUID).
    QueuedRefundId,
    "queued_refund_id"
);

/// What [`PaymentsRepo::process`](super::PaymentsRepo::process) did with an event: its outcome,
/// and whether this delivery was a redelivery of an event processed before (then nothing was
/// written, and the outcome is the first delivery's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub(crate) outcome: Outcome,
    pub(crate) replayed: bool,
}

impl Processed {
    /// The outcome (the first delivery's, for a redelivery).
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// Whether the event had been processed before: nothing was written this time.
    pub fn replayed(&self) -> bool {
        self.replayed
    }
}

/// What an event came to. Every outcome is recorded; the webhook handler answers the gateway
/// 2xx for all of them (a refusal is staff's to resolve, not the gateway's to retry).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The order was marked paid (`order.paid` emitted).
    Paid(OrderId),
    /// The order was already paid by this payment (another event of the same payment, such
    /// as Stripe's `charge.succeeded` after `payment_intent.succeeded`): nothing changed.
    AlreadyPaid(OrderId),
    /// Refused and recorded for staff (`payment.refused` emitted, and the reconciliation lists
    /// it); the order, if any, is untouched.
    Refused {
        /// The order the event was about, if shopkeep has it.
        order: Option<OrderId>,
        /// Why.
        reason: Refusal,
    },
    /// The refunded amount was queued for staff to allocate to lines
    /// (`payment.refund_queued` emitted).
    RefundQueued {
        /// The order refunded.
        order: OrderId,
        /// The queue entry.
        queued: QueuedRefundId,
        /// What this event adds to what was refunded before.
        amount: Money,
    },
    /// The refunded total was recorded already (a late or repeated report): nothing queued.
    RefundUnchanged(OrderId),
    /// A dispute was recorded (`payment.dispute_opened` or `payment.dispute_closed`).
    Dispute {
        /// The disputed order.
        order: OrderId,
        /// Where the dispute stands now.
        status: DisputeStatus,
    },
    /// An event type shopkeep does not act on: recorded, nothing else.
    Ignored,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The amount or currency the gateway reported is not the order's total (for a refund:
    /// more than the order's total).
    AmountMismatch {
        /// The order's total.
        order_total: Money,
        /// What the gateway reported.
        reported: Money,
    },
    /// The order cannot be paid any more: it was cancelled or expired, or another payment
    /// paid it (a double payment to give back).
    NotPayable {
        /// The order's status when the event came.
        status: OrderStatus,
    },
    /// The payment reference already paid another order.
    ReferenceUsed,
    /// The event names no order shopkeep has, and its payment paid none.
    UnknownOrder,
}

impl Refusal {
    /// The stable name, as stored and put in `payment.refused`: `amount_mismatch`,
    /// `not_payable`, `reference_used`, `unknown_order`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::AmountMismatch { .. } => "amount_mismatch",
            Refusal::NotPayable { .. } => "not_payable",
            Refusal::ReferenceUsed => "reference_used",
            Refusal::UnknownOrder => "unknown_order",
        }
    }
}

/// A refund a gateway reported with an amount only, waiting for staff to say which lines it
/// was for, or settled by a refund of shopkeep's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRefund {
    pub(crate) id: QueuedRefundId,
    pub(crate) gateway: Gateway,
    pub(crate) payment: String,
    pub(crate) order: OrderId,
    pub(crate) amount: Money,
    pub(crate) event_id: String,
    pub(crate) reported_at: Timestamp,
    pub(crate) refund: Option<RefundId>,
    pub(crate) settled_at: Option<Timestamp>,
}

impl QueuedRefund {
    /// Its id.
    pub fn id(&self) -> QueuedRefundId {
        self.id
    }
    /// The gateway that refunded.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }
    /// The refunded payment's reference.
    pub fn payment(&self) -> &str {
        &self.payment
    }
    /// The order.
    pub fn order(&self) -> OrderId {
        self.order
    }
    /// The amount refunded (gross): what the allocated refund must come to exactly.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// The gateway event that reported it.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
    /// When it was reported (the store's clock).
    pub fn reported_at(&self) -> Timestamp {
        self.reported_at
    }
    /// The refund (and credit note) that settled it, once settled.
    pub fn refund(&self) -> Option<RefundId> {
        self.refund
    }
    /// When it was settled.
    pub fn settled_at(&self) -> Option<Timestamp> {
        self.settled_at
    }
}

/// A dispute on an order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRecord {
    pub(crate) gateway: Gateway,
    pub(crate) reference: String,
    pub(crate) order: OrderId,
    pub(crate) payment: String,
    pub(crate) amount: Money,
    pub(crate) status: DisputeStatus,
    pub(crate) opened_at: Timestamp,
    pub(crate) closed_at: Option<Timestamp>,
}

impl DisputeRecord {
    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }
    /// The gateway's dispute reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }
    /// The order.
    pub fn order(&self) -> OrderId {
        self.order
    }
    /// The disputed payment's reference.
    pub fn payment(&self) -> &str {
        &self.payment
    }
    /// The amount disputed.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// Where it stands.
    pub fn status(&self) -> DisputeStatus {
        self.status
    }
    /// When shopkeep learnt of it (the store's clock).
    pub fn opened_at(&self) -> Timestamp {
        self.opened_at
    }
    /// When it was closed, if it was.
    pub fn closed_at(&self) -> Option<Timestamp> {
        self.closed_at
    }
}

/// How one payment compares between what the gateway reported and what the orders say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reconciled {
    /// The gateway's payment paid its order: same reference, amount and currency.
    Matched,
    /// The gateway took an amount (or currency) other than its order's total.
    AmountMismatch,
    /// The gateway's payment names an order with that total, but the order is not paid by it
    /// (cancelled or expired first, or paid by another payment: money to give back).
    NotApplied,
    /// The gateway took a payment for no order shopkeep has.
    WithoutOrder,
    /// An order was paid in the period under a reference no gateway reported (marked paid
    /// by hand, or its event never came).
    WithoutGatewayPayment,
}

impl Reconciled {
    /// The stable name: `matched`, `amount_mismatch`, `not_applied`, `without_order`,
    /// `without_gateway_payment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reconciled::Matched => "matched",
            Reconciled::AmountMismatch => "amount_mismatch",
            Reconciled::NotApplied => "not_applied",
            Reconciled::WithoutOrder => "without_order",
            Reconciled::WithoutGatewayPayment => "without_gateway_payment",
        }
    }
}

/// One line of the reconciliation: a payment, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationLine {
    pub(crate) status: Reconciled,
    pub(crate) gateway: Option<Gateway>,
    pub(crate) reference: String,
    pub(crate) order: Option<OrderId>,
    pub(crate) reported: Option<Money>,
    pub(crate) recorded: Option<Money>,
}

impl ReconciliationLine {
    /// How it compares.
    pub fn status(&self) -> Reconciled {
        self.status
    }
    /// The gateway that reported it (`None` for [`Reconciled::WithoutGatewayPayment`]).
    pub fn gateway(&self) -> Option<&Gateway> {
        self.gateway.as_ref()
    }
    /// The payment reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }
    /// The order, if there is one.
    pub fn order(&self) -> Option<OrderId> {
        self.order
    }
    /// What the gateway reported (`None` for [`Reconciled::WithoutGatewayPayment`]).
    pub fn reported(&self) -> Option<Money> {
        self.reported
    }
    /// What the order side says: the recorded payment for matched and unreported payments,
    /// the order's total for a mismatch or an unapplied payment, `None` without an order.
    pub fn recorded(&self) -> Option<Money> {
        self.recorded
    }
}

/// Payments the gateways reported in a period against the orders paid in it. From
/// [`PaymentsRepo::reconcile`](super::PaymentsRepo::reconcile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) lines: Vec<ReconciliationLine>,
}

impl Reconciliation {
    /// The period's start (inclusive).
    pub fn from(&self) -> Timestamp {
        self.from
    }
    /// The period's end (exclusive).
    pub fn to(&self) -> Timestamp {
        self.to
    }
    /// Every payment of the period: the gateways' by report time, then the orders' paid
    /// without a gateway payment, by payment time.
    pub fn lines(&self) -> &[ReconciliationLine] {
        &self.lines
    }
    /// The lines of one status.
    pub fn with_status(&self, status: Reconciled) -> impl Iterator<Item = &ReconciliationLine> {
        self.lines.iter().filter(move |l| l.status == status)
    }
    /// Whether every line is [`Reconciled::Matched`].
    pub fn is_clean(&self) -> bool {
        self.lines.iter().all(|l| l.status == Reconciled::Matched)
    }
}
