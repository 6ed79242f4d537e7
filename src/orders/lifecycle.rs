//! The order lifecycle after checkout: payment, shipping, completion, cancellation, expiry and
//! refunds.
//!
//! ```text
//! placed ──mark_paid──▶ paid ──ship──▶ shipped ──complete──▶ completed
//!   │ │                  │
//!   │ └─cancel──┐  ┌─cancel┘            refund: from paid, shipped or completed
//!   │           ▼  ▼                    (the status stays; refunds are records)
//!   │        cancelled
//!   └─expire_unpaid──▶ expired
//! ```
//!
//! Every transition is one `BEGIN IMMEDIATE` transaction: authorise, check the order's status,
//! a conditional `UPDATE ... WHERE status IN (...)` that bumps the version, the transition's
//! own record (payment, shipment, cancellation, refund), stock movements, one audit entry and
//! one outbox event. Any error leaves nothing written. See `docs/orders.md`.
//!
//! Corrections of an issued invoice ride in the same transaction: a refund issues a credit
//! note for exactly what it refunds (invoicing the order first if it had no invoice yet), and
//! cancelling or expiring an invoiced order credits whatever was not credited yet.

use std::time::Duration;

use serde::Serialize;

use super::checkout::OrderRepo;
use super::lifecycle_repo::{self, invalid};
use super::order::{Order, OrderId, OrderStatus};
use super::order_repo;
use super::refund::{self, Refund, RefundId, RefundRecord, RefundedLine, Scope};
use super::refund_repo;
use super::totals::Charge;
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::catalog::{StockChange, return_stock};
use crate::clock::Timestamp;
use crate::error::{Denial, Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::invoices::{CreditRequest, Invoice, credit_note, credit_remaining};
use crate::money::Money;
use crate::store::{Tx, not_found};
use crate::text;

/// How many orders one [`OrderRepo::expire_unpaid`] call expires at most, so that one
/// transaction holds the write lock for a bounded time.
pub const EXPIRY_BATCH: usize = 500;

/// The longest gateway reference, in characters.
const MAX_REFERENCE: usize = 200;
/// The longest carrier name or tracking reference, in characters.
const MAX_SHIPMENT_TEXT: usize = 200;
/// The longest cancellation reason, in characters.
const MAX_REASON: usize = 500;

/// A payment the gateway confirmed: its reference and the amount paid.
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::orders::Payment;
///
/// let paid = Payment::new("pi_3Nx2", Money::parse("25.80", Currency::EUR)?)?;
/// assert_eq!(paid.reference(), "pi_3Nx2");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    reference: String,
    amount: Money,
}

impl Payment {
    /// A payment of `amount` under the gateway's reference (trimmed; 1 to 200 characters,
    /// no control characters).
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `gateway_reference` for an empty, over-long or
    /// control-character reference, `amount` for a negative amount.
    pub fn new(gateway_reference: &str, amount: Money) -> Result<Payment> {
        let reference = text::required("gateway_reference", gateway_reference, MAX_REFERENCE)?;
        if amount.is_negative() {
            return Err(Error::validation("amount", "a payment cannot be negative"));
        }
        Ok(Payment { reference, amount })
    }

    /// The gateway's reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The amount paid.
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// A recorded payment. From [`OrderRepo::payment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub(crate) reference: String,
    pub(crate) amount: Money,
    pub(crate) paid_at: Timestamp,
}

impl PaymentRecord {
    /// The gateway's reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }
    /// The amount paid (the order's total).
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// When it was recorded.
    pub fn paid_at(&self) -> Timestamp {
        self.paid_at
    }
}

/// A shipment: optionally the carrier and a tracking reference.
///
/// ```
/// use shopkeep::orders::Shipment;
///
/// let parcel = Shipment::new().carrier("DHL")?.tracking("00340434161094042557")?;
/// # let _ = parcel;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Shipment {
    pub(crate) carrier: Option<String>,
    pub(crate) tracking: Option<String>,
}

impl Shipment {
    /// A shipment with no carrier or tracking reference.
    pub fn new() -> Shipment {
        Shipment::default()
    }

    /// The carrier (trimmed; 1 to 200 characters).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `carrier`) for an empty, over-long or control-character name.
    pub fn carrier(mut self, carrier: &str) -> Result<Shipment> {
        self.carrier = Some(text::required("carrier", carrier, MAX_SHIPMENT_TEXT)?);
        Ok(self)
    }

    /// The tracking reference (trimmed; 1 to 200 characters).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `tracking`) for an empty, over-long or control-character
    /// reference.
    pub fn tracking(mut self, tracking: &str) -> Result<Shipment> {
        self.tracking = Some(text::required("tracking", tracking, MAX_SHIPMENT_TEXT)?);
        Ok(self)
    }
}

/// `order.paid`.
#[derive(Serialize)]
struct Paid {
    order_id: OrderId,
    number: u64,
    customer_id: CustomerId,
    currency: &'static str,
    amount: i64,
}

impl OutboxEvent for Paid {
    const KIND: &'static str = "order.paid";
    const VERSION: u32 = 1;
}

/// `order.shipped`, `order.completed` and `order.expired` carry the same fields.
#[derive(Serialize)]
struct Moved {
    order_id: OrderId,
    number: u64,
    customer_id: CustomerId,
}

#[derive(Serialize)]
struct Shipped {
    #[serde(flatten)]
    order: Moved,
    tracked: bool,
}

impl OutboxEvent for Shipped {
    const KIND: &'static str = "order.shipped";
    const VERSION: u32 = 1;
}

#[derive(Serialize)]
struct Completed(Moved);

impl OutboxEvent for Completed {
    const KIND: &'static str = "order.completed";
    const VERSION: u32 = 1;
}

#[derive(Serialize)]
struct Expired(Moved);

impl OutboxEvent for Expired {
    const KIND: &'static str = "order.expired";
    const VERSION: u32 = 1;
}

/// `order.cancelled`: `refund_due` is what the host owes the buyer back (zero if unpaid).
#[derive(Serialize)]
struct Cancelled {
    #[serde(flatten)]
    order: Moved,
    was_paid: bool,
    currency: &'static str,
    refund_due: i64,
}

impl OutboxEvent for Cancelled {
    const KIND: &'static str = "order.cancelled";
    const VERSION: u32 = 1;
}

/// `order.refunded`.
#[derive(Serialize)]
struct Refunded {
    #[serde(flatten)]
    order: Moved,
    refund_id: RefundId,
    refund_number: u32,
    currency: &'static str,
    net_total: i64,
    vat_total: i64,
    gross_total: i64,
    lines: usize,
    restock: bool,
}

impl OutboxEvent for Refunded {
    const KIND: &'static str = "order.refunded";
    const VERSION: u32 = 1;
}

fn moved(order: &Order) -> Moved {
    Moved {
        order_id: order.id,
        number: order.number.get(),
        customer_id: order.customer,
    }
}

impl OrderRepo<'_> {
    /// Loads order `id` for `action` inside a write transaction: the policy first (an order
    /// the principal may not read answers `NotFound`, like a missing one).
    fn write_order<T>(
        &self,
        id: OrderId,
        action: Action,
        f: impl Fn(&Tx<'_>, Order, &Resource) -> Result<T>,
    ) -> Result<T> {
        self.store.write(|tx| {
            let customer = order_repo::owner(tx, id)?;
            let resource = Resource::Order { id, customer };
            tx.authorize(self.principal, action, &resource)?;
            if customer.is_none() {
                return Err(not_found(&resource));
            }
            let order = order_repo::load(tx, self.store, id)?;
            f(tx, order, &resource)
        })
    }

    /// Records that order `id` was paid: `placed` becomes `paid`, the payment is stored, and
    /// `order.paid` is emitted. Needs [`Action::RecordPayment`].
    ///
    /// Gateways deliver webhooks at least once, so a replay is answered idempotently: the same
    /// gateway reference and amount on an order already paid by them returns the order and
    /// writes nothing.
    ///
    /// # Errors
    ///
    /// - `NotFound` for an unknown order, or one the principal may not read;
    /// - `Forbidden` without the right;
    /// - `InvalidTransition` if the order is not `placed` (and this is not a replay);
    /// - `Validation` (field `currency`) for a payment in another currency, (field `amount`)
    ///   for an amount other than the order's total;
    /// - `AlreadyExists` if the gateway reference already paid another order.
    ///
    /// Nothing is written on error.
    pub fn mark_paid(&self, id: OrderId, payment: Payment) -> Result<Order> {
        self.write_order(id, Action::RecordPayment, |tx, order, resource| {
            record_payment(tx, self.principal, order, resource, &payment)
        })
    }

    /// Ships a paid order: `paid` becomes `shipped`, the shipment is stored, and
    /// `order.shipped` is emitted. Needs [`Action::FulfilOrder`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown order or one the principal may not read; `Forbidden` without
    /// the right; `InvalidTransition` if the order is not `paid`. Nothing is written on error.
    pub fn ship(&self, id: OrderId, shipment: Shipment) -> Result<Order> {
        self.write_order(id, Action::FulfilOrder, |tx, order, resource| {
            if order.status != OrderStatus::Paid {
                return Err(invalid(order.status, OrderStatus::Shipped));
            }
            lifecycle_repo::set_status(tx, id, &[OrderStatus::Paid], OrderStatus::Shipped)?;
            lifecycle_repo::insert_shipment(tx, id, &shipment)?;
            tx.emit(&Shipped {
                order: moved(&order),
                tracked: shipment.tracking.is_some(),
            })?;
            tx.audit(self.principal, Action::FulfilOrder, resource)?;
            order_repo::load(tx, self.store, id)
        })
    }

    /// Completes a shipped order: `shipped` becomes `completed`, and `order.completed` is
    /// emitted. Needs [`Action::FulfilOrder`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown order or one the principal may not read; `Forbidden` without
    /// the right; `InvalidTransition` if the order is not `shipped`. Nothing is written on error.
    pub fn complete(&self, id: OrderId) -> Result<Order> {
        self.write_order(id, Action::FulfilOrder, |tx, order, resource| {
            if order.status != OrderStatus::Shipped {
                return Err(invalid(order.status, OrderStatus::Completed));
            }
            lifecycle_repo::set_status(tx, id, &[OrderStatus::Shipped], OrderStatus::Completed)?;
            tx.emit(&Completed(moved(&order)))?;
            tx.audit(self.principal, Action::FulfilOrder, resource)?;
            order_repo::load(tx, self.store, id)
        })
    }

    /// Cancels an order before it ships: `placed` or `paid` becomes `cancelled`, the stock it
    /// took goes back (a `reservation_release` per tracked line, less what refunds already
    /// returned), the reason is stored, and `order.cancelled` is emitted. Needs
    /// [`Action::CancelOrder`]; customers may cancel their own orders only while unpaid.
    ///
    /// Cancelling a paid order records that it was paid (`was_paid`, and `refund_due` in the
    /// event): paying the money back is the host's job, through its gateway.
    ///
    /// # Errors
    ///
    /// - `Validation` (field `reason`) for an empty, over-long (500 characters) or
    ///   control-character reason;
    /// - `NotFound` for an unknown order or one the principal may not read;
    /// - `Forbidden` without the right, or for a customer cancelling a paid order (audited);
    /// - `InvalidTransition` if the order is neither `placed` nor `paid`.
    ///
    /// Nothing is written on error.
    pub fn cancel(&self, id: OrderId, reason: &str) -> Result<Order> {
        let reason = text::required("reason", reason, MAX_REASON)?;
        let is_customer = self.principal.customer_id().is_some();
        self.write_order(id, Action::CancelOrder, |tx, order, resource| {
            let from: &[OrderStatus] = match order.status {
                OrderStatus::Placed => &[OrderStatus::Placed],
                OrderStatus::Paid if is_customer => {
                    return Err(Error::new(
                        ErrorKind::Forbidden,
                        "a paid order can only be cancelled by the shop",
                    )
                    .with_denial(Denial {
                        principal: self.principal.audit_name(),
                        action: Action::CancelOrder.as_str(),
                        resource: resource.to_string(),
                    }));
                }
                OrderStatus::Paid => &[OrderStatus::Paid],
                other => return Err(invalid(other, OrderStatus::Cancelled)),
            };
            let was_paid = order.status == OrderStatus::Paid;
            lifecycle_repo::set_status(tx, id, from, OrderStatus::Cancelled)?;
            let before = refund_repo::refunded(tx, id)?;
            let note = format!("order {} cancelled", order.number);
            for line in &order.lines {
                let returned = before.restocked.get(&line.position).copied().unwrap_or(0);
                let left = line.quantity.saturating_sub(returned);
                if left > 0 {
                    let change = StockChange::reservation_release(left).note(&note);
                    return_stock(tx, self.principal, line.variant, &change)?;
                }
            }
            lifecycle_repo::insert_cancellation(tx, id, &reason, was_paid)?;
            let why = format!("Order {} cancelled: {reason}", order.number);
            credit_remaining(tx, self.store, self.principal, &order, &why)?;
            let refund_due = if was_paid {
                order.gross_total.minor().saturating_sub(before.gross)
            } else {
                0
            };
            tx.emit(&Cancelled {
                order: moved(&order),
                was_paid,
                currency: order.currency.code(),
                refund_due,
            })?;
            tx.audit(self.principal, Action::CancelOrder, resource)?;
            order_repo::load(tx, self.store, id)
        })
    }

    /// Refunds a paid order (`paid`, `shipped` or `completed`), in full or in part; the
    /// order's status does not change. Needs [`Action::RefundOrder`].
    ///
    /// The amounts come from the totals engine: each refunded line at its original unit price
    /// and VAT treatment, less its share of the line's discount (shares telescope, so that a
    /// line refunded in any number of steps gives back exactly its discount), plus the order's
    /// charges if asked for and not refunded before. With [`Refund::restock`] the goods go back
    /// into stock (a `return` per tracked line). The refund is stored (append-only) and
    /// `order.refunded` is emitted; paying the money back is the host's job.
    ///
    /// Every refund issues a credit note (invoicing the order first if it had none), and its
    /// amounts are its note's: the credited lines and charges less their discount shares, with
    /// the VAT of each group computed so that all credit notes of the invoice net it to zero
    /// (see `docs/invoicing.md`). So the refunds of an order, with the credit note of a
    /// cancellation, add up exactly to its total, net, VAT and gross, in both price modes.
    ///
    /// # Errors
    ///
    /// - `NotFound` for an unknown order or one the principal may not read;
    /// - `Forbidden` without the right;
    /// - `InvalidTransition` if the order is not paid, shipped or completed, or nothing is left
    ///   to refund;
    /// - `Validation` (field `lines`) for no lines and no charges, a repeated or unknown
    ///   position; (field `quantity`) for a zero quantity or more than ordered minus already
    ///   refunded; (field `charges`) for charges already refunded;
    /// - the errors of issuing the credit note, and of
    ///   [`InvoiceRepo::issue`](crate::InvoiceRepo::issue) when the order has no invoice yet and
    ///   the refund issues it first: among them `Validation` (field `exchange_rate`) for an
    ///   order whose VAT must also be stated in another currency and a refund without
    ///   [`Refund::exchange_rate`].
    ///
    /// Nothing is written on error.
    pub fn refund(&self, id: OrderId, request: Refund) -> Result<RefundRecord> {
        self.write_order(id, Action::RefundOrder, |tx, order, resource| {
            self.refund_in(tx, order, resource, &request)
        })
    }

    /// [`refund`](OrderRepo::refund) on `order`, loaded and authorised by the caller, inside
    /// the caller's transaction: also how a gateway refund is allocated to lines.
    pub(crate) fn refund_in(
        &self,
        tx: &Tx<'_>,
        order: Order,
        resource: &Resource,
        request: &Refund,
    ) -> Result<RefundRecord> {
        let id = order.id;
        if !matches!(
            order.status,
            OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed
        ) {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                format!("the order is {} and cannot be refunded", order.status),
            ));
        }
        let before = refund_repo::refunded(tx, id)?;
        let (lines, charges) = plan(&order, &before, request)?;
        let number = before.count.saturating_add(1);
        // The credit note is computed against the invoice and all its earlier notes, so
        // that they net it to zero; the refund returns exactly what its note credits.
        let note = credit_refund(
            tx,
            self,
            &order,
            number,
            &lines,
            !charges.is_empty(),
            request.exchange_rate.as_deref(),
        )?;
        let totals = note.document().totals();
        let gross = totals.gross_total();
        let after = before
            .gross
            .checked_add(gross.minor())
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "refunds overflow"))?;
        if after > order.gross_total.minor() {
            return Err(Error::validation(
                "lines",
                format!(
                    "the refunds would total {} {}, more than the order's {}",
                    Money::new(after, order.currency).to_decimal_string(),
                    order.currency,
                    order.gross_total
                ),
            ));
        }
        let record = RefundRecord {
            id: RefundId::generate(tx.now())?,
            order: id,
            number,
            lines,
            charges,
            restock: request.restock,
            net_total: totals.net_total(),
            vat_total: totals.vat_total(),
            gross_total: gross,
            created_at: tx.now(),
        };
        refund_repo::insert(tx, &record)?;
        if record.restock {
            let note = format!("order {} refund {}", order.number, record.number);
            for refunded in &record.lines {
                let variant = order
                    .lines
                    .iter()
                    .find(|l| l.position == refunded.position)
                    .map(|l| l.variant);
                if let Some(variant) = variant {
                    let change = StockChange::returned(refunded.quantity).note(&note);
                    return_stock(tx, self.principal, variant, &change)?;
                }
            }
        }
        tx.emit(&Refunded {
            order: moved(&order),
            refund_id: record.id,
            refund_number: record.number,
            currency: order.currency.code(),
            net_total: record.net_total.minor(),
            vat_total: record.vat_total.minor(),
            gross_total: record.gross_total.minor(),
            lines: record.lines.len(),
            restock: record.restock,
        })?;
        tx.audit(self.principal, Action::RefundOrder, resource)?;
        // Read back what was stored, so the caller sees exactly what a credit note will.
        refund_repo::load(tx, record.id)
    }

    /// The refunds of order `id`, in the order they were made. Needs [`Action::ReadOrder`]
    /// (customers their own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such order or the principal may not read it.
    pub fn refunds(&self, id: OrderId) -> Result<Vec<RefundRecord>> {
        self.read_order(id, |tx| {
            refund_repo::ids(tx, id)?
                .into_iter()
                .map(|refund| refund_repo::load(tx, refund))
                .collect()
        })
    }

    /// The payment of order `id`, if it was paid. Needs [`Action::ReadOrder`] (customers their
    /// own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such order or the principal may not read it.
    pub fn payment(&self, id: OrderId) -> Result<Option<PaymentRecord>> {
        self.read_order(id, |tx| lifecycle_repo::payment(tx, id))
    }

    fn read_order<T>(&self, id: OrderId, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.store.read(|tx| {
            let customer = order_repo::owner(tx, id)?;
            let resource = Resource::Order { id, customer };
            tx.authorize(self.principal, Action::ReadOrder, &resource)?;
            if customer.is_none() {
                return Err(not_found(&resource));
            }
            f(tx)
        })
    }

    /// Expires unpaid orders: every order still `placed` that was placed more than
    /// `older_than` ago becomes `expired`, its stock goes back (a `reservation_release` per
    /// tracked line), with one `order.expired` event and one audit entry each. At most
    /// [`EXPIRY_BATCH`] (500) orders per call, oldest first, in one transaction: a job calls
    /// it until it returns less than that. Needs [`Action::ExpireOrders`] on all orders.
    /// Returns how many orders expired.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Overflow` if `older_than` reaches before the clock's
    /// range; `Crypto` if an order due to expire was moved to another customer outside
    /// shopkeep. Nothing is written on error.
    pub fn expire_unpaid(&self, older_than: Duration) -> Result<usize> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ExpireOrders, &Resource::Orders)?;
            let cutoff = tx.now().checked_sub(older_than)?;
            let batch = lifecycle_repo::unpaid_before(tx, cutoff, EXPIRY_BATCH)?;
            for order in &batch {
                lifecycle_repo::set_status(
                    tx,
                    order.id,
                    &[OrderStatus::Placed],
                    OrderStatus::Expired,
                )?;
                let number = super::order::OrderNumber::from_stored(order.number);
                let note = format!("order {number} expired");
                if crate::invoices::is_invoiced(tx, order.id)? {
                    let full = order_repo::load(tx, self.store, order.id)?;
                    let why = format!("Order {number} expired unpaid");
                    credit_remaining(tx, self.store, self.principal, &full, &why)?;
                }
                for (_, variant, quantity) in lifecycle_repo::stock_lines(tx, order.id)? {
                    let change = StockChange::reservation_release(quantity).note(&note);
                    return_stock(tx, self.principal, variant, &change)?;
                }
                tx.emit(&Expired(Moved {
                    order_id: order.id,
                    number: number.get(),
                    customer_id: order.customer,
                }))?;
                tx.audit(
                    self.principal,
                    Action::ExpireOrders,
                    &Resource::Order {
                        id: order.id,
                        customer: Some(order.customer),
                    },
                )?;
            }
            Ok(batch.len())
        })
    }
}

/// [`OrderRepo::mark_paid`] on `order`, loaded and authorised by the caller, inside the
/// caller's transaction: also how a gateway's payment event marks an order paid.
pub(crate) fn record_payment(
    tx: &Tx<'_>,
    principal: &Principal,
    mut order: Order,
    resource: &Resource,
    payment: &Payment,
) -> Result<Order> {
    let id = order.id;
    if order.status != OrderStatus::Placed {
        let first = lifecycle_repo::payment(tx, id)?;
        if first.is_some_and(|p| p.reference == payment.reference && p.amount == payment.amount) {
            return Ok(order);
        }
        return Err(invalid(order.status, OrderStatus::Paid));
    }
    if payment.amount.currency() != order.currency {
        return Err(Error::validation(
            "currency",
            format!("the order is in {}", order.currency),
        ));
    }
    if payment.amount != order.gross_total {
        return Err(Error::validation(
            "amount",
            "the payment is not the order's total",
        ));
    }
    if lifecycle_repo::paid_by(tx, &payment.reference)?.is_some() {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            "this gateway reference already paid another order",
        ));
    }
    lifecycle_repo::set_status(tx, id, &[OrderStatus::Placed], OrderStatus::Paid)?;
    lifecycle_repo::insert_payment(tx, id, &payment.reference, payment.amount)?;
    tx.emit(&Paid {
        order_id: id,
        number: order.number.get(),
        customer_id: order.customer,
        currency: order.currency.code(),
        amount: payment.amount.minor(),
    })?;
    tx.audit(principal, Action::RecordPayment, resource)?;
    // What `set_status` changed of the order just loaded, rather than loading it again
    // (its lines, VAT rows and decrypted buyer snapshot): a payment changes nothing else.
    order.status = OrderStatus::Paid;
    order.version += 1;
    Ok(order)
}

/// Issues the credit note that documents refund `number` of `order`: `lines` and, if
/// `charges`, the order's charges (and the invoice first, at `rate`, if the order has none).
fn credit_refund(
    tx: &Tx<'_>,
    repo: &OrderRepo<'_>,
    order: &Order,
    number: u32,
    lines: &[RefundedLine],
    charges: bool,
    rate: Option<&str>,
) -> Result<Invoice> {
    let lines: Vec<(u32, u32)> = lines.iter().map(|l| (l.position, l.quantity)).collect();
    let reason = format!("Refund {number} of order {}", order.number);
    let request = CreditRequest {
        lines: &lines,
        charges,
        reason: &reason,
    };
    credit_note(tx, repo.store, repo.principal, order, &request, rate)
}

/// The lines (with their discount shares) and charges a refund request comes to, checked
/// against what earlier refunds gave back.
fn plan(
    order: &Order,
    before: &refund_repo::Refunded,
    request: &Refund,
) -> Result<(Vec<RefundedLine>, Vec<Charge>)> {
    let already = |position: u32| before.quantities.get(&position).copied().unwrap_or(0);
    let wanted: Vec<(u32, u32)> = match &request.scope {
        Scope::Full => order
            .lines
            .iter()
            .map(|l| (l.position, l.quantity.saturating_sub(already(l.position))))
            .filter(|&(_, q)| q > 0)
            .collect(),
        Scope::Lines(lines) => lines.clone(),
    };
    let charges = match (request.charges, before.charges, &request.scope) {
        (false, _, _) | (true, true, Scope::Full) => Vec::new(),
        (true, true, Scope::Lines(_)) => {
            return Err(Error::validation(
                "charges",
                "the order's charges were already refunded",
            ));
        }
        (true, false, _) => order_charges(order)?,
    };
    if wanted.is_empty() && charges.is_empty() {
        return Err(match request.scope {
            Scope::Full => Error::new(ErrorKind::InvalidTransition, "nothing is left to refund"),
            Scope::Lines(_) => {
                Error::validation("lines", "a refund needs at least one line or the charges")
            }
        });
    }
    let mut lines: Vec<RefundedLine> = Vec::with_capacity(wanted.len());
    for (position, quantity) in wanted {
        if quantity == 0 {
            return Err(Error::validation(
                "quantity",
                "a refunded quantity is at least 1",
            ));
        }
        if lines.iter().any(|l| l.position == position) {
            return Err(Error::validation("lines", "a line appears twice"));
        }
        let line = order
            .lines
            .iter()
            .find(|l| l.position == position)
            .ok_or_else(|| Error::validation("lines", format!("no line {position}")))?;
        let refunded = already(position);
        if quantity > line.quantity.saturating_sub(refunded) {
            let ordered = line.quantity;
            return Err(Error::validation(
                "quantity",
                format!(
                    "line {position}: {ordered} ordered, {refunded} refunded, {quantity} asked"
                ),
            ));
        }
        let share =
            refund::discount_share(line.discount.minor(), line.quantity, refunded, quantity)?;
        lines.push(RefundedLine {
            position,
            quantity,
            discount: Money::new(share, order.currency),
            unit_price: line.unit_price,
            vat: line.vat.clone(),
        });
    }
    lines.sort_by_key(|l| l.position);
    Ok((lines, charges))
}

/// The order's charges (shipping), as checkout priced them: in the price mode's terms.
fn order_charges(order: &Order) -> Result<Vec<Charge>> {
    order
        .charges()
        .iter()
        .map(|c| Charge::new(c.amount(), c.vat().clone()))
        .collect()
}
