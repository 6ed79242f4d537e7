//! The payments repository: processing gateway events exactly once, the refund queue,
//! disputes and the reconciliation report.

use serde::Serialize;

use super::event::{
    DisputeStatus, Gateway, GatewayDispute, GatewayEvent, GatewayEventKind, GatewayPayment,
    GatewayRefund,
};
use super::model::{
    DisputeRecord, Outcome, Processed, QueuedRefund, QueuedRefundId, Reconciliation, Refusal,
};
use super::rows;
use crate::access::{Action, Principal, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::money::Money;
use crate::orders::{OrderId, OrderStatus, Payment, Refund, RefundId, RefundRecord};
use crate::store::{Store, Tx, not_found};

/// The largest page [`PaymentsRepo::refund_queue`] returns.
const MAX_PAGE: usize = 500;

/// Payment gateway records, as seen by one principal. From [`Store::payments`].
///
/// Every method authorises one [`Action`] first: processing events needs
/// [`Action::ProcessPaymentEvent`] (the system, or an owner's API key: the host's webhook
/// handler); allocating a gateway refund [`Action::AllocateGatewayRefund`]; the queue,
/// disputes and the reconciliation [`Action::ReadPayments`] (see `docs/access-control.md`).
#[derive(Debug)]
pub struct PaymentsRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// Payment gateway records, for `principal`.
    ///
    /// ```
    /// use shopkeep::integrations::payments::{GatewayScheme, Outcome, Stripe, StripeSecret};
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let stripe = Stripe::new(StripeSecret::new("whsec_test_secret")?);
    /// let body = br#"{"id":"evt_1","type":"customer.created","data":{"object":{}}}"#;
    /// let header = stripe.signature_header(body, store.now()); // from the request, really
    /// let event = stripe.verify_and_parse(&header, body, store.now())?;
    /// let system = store.system();
    /// let first = store.payments(&system).process(&event)?;
    /// assert_eq!(first.outcome(), &Outcome::Ignored);
    /// assert!(store.payments(&system).process(&event)?.replayed()); // a redelivery
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn payments<'s>(&'s self, principal: &'s Principal) -> PaymentsRepo<'s> {
        PaymentsRepo {
            store: self,
            principal,
        }
    }
}

/// `payment.refused`: an event recorded for staff instead of acted on.
#[derive(Serialize)]
struct Refused<'a> {
    gateway: &'a str,
    event_id: &'a str,
    order_id: Option<OrderId>,
    reason: &'static str,
}

impl OutboxEvent for Refused<'_> {
    const KIND: &'static str = "payment.refused";
    const VERSION: u32 = 1;
}

/// `payment.refund_queued`: a gateway refund waits for staff to allocate it.
#[derive(Serialize)]
struct RefundQueued {
    queued_refund_id: QueuedRefundId,
    order_id: OrderId,
}

impl OutboxEvent for RefundQueued {
    const KIND: &'static str = "payment.refund_queued";
    const VERSION: u32 = 1;
}

/// `payment.refund_settled`: a queued gateway refund is allocated to, or linked with, a
/// refund of the order's.
#[derive(Serialize)]
struct RefundSettled {
    queued_refund_id: QueuedRefundId,
    order_id: OrderId,
    refund_id: RefundId,
}

impl OutboxEvent for RefundSettled {
    const KIND: &'static str = "payment.refund_settled";
    const VERSION: u32 = 1;
}

/// `payment.dispute_opened` and `payment.dispute_closed`.
#[derive(Serialize)]
struct Dispute<'a> {
    order_id: OrderId,
    gateway: &'a str,
    dispute: &'a str,
    status: &'static str,
}

struct DisputeOpened<'a>(Dispute<'a>);
struct DisputeClosed<'a>(Dispute<'a>);

impl Serialize for DisputeOpened<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for DisputeClosed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl OutboxEvent for DisputeOpened<'_> {
    const KIND: &'static str = "payment.dispute_opened";
    const VERSION: u32 = 1;
}

impl OutboxEvent for DisputeClosed<'_> {
    const KIND: &'static str = "payment.dispute_closed";
    const VERSION: u32 = 1;
}

fn refused(order: Option<OrderId>, reason: Refusal) -> Outcome {
    Outcome::Refused { order, reason }
}

impl PaymentsRepo<'_> {
    /// Processes a gateway event exactly once: in one transaction, records the event's id with
    /// its outcome and applies its effect, so a redelivery (the same gateway and event id, from
    /// another delivery, thread or process) finds the record, returns the first outcome with
    /// [`Processed::replayed`] set, and writes nothing. Needs [`Action::ProcessPaymentEvent`].
    ///
    /// - [`Succeeded`](GatewayEventKind::Succeeded): the order (named by the payment, or paid
    ///   by its reference before) is marked paid as [`OrderRepo::mark_paid`](crate::OrderRepo::mark_paid)
    ///   does (also needs [`Action::RecordPayment`]), if the amount and currency are the
    ///   order's total; otherwise the event is [`Refused`](Outcome::Refused) and the order
    ///   untouched. The payment is kept for [`reconcile`](PaymentsRepo::reconcile) either way.
    /// - [`Refunded`](GatewayEventKind::Refunded): what the reported total adds to the
    ///   refunds queued before for the payment is queued for staff
    ///   ([`refund_queue`](PaymentsRepo::refund_queue)), never spread over lines by guesswork.
    /// - [`DisputeOpened`](GatewayEventKind::DisputeOpened) /
    ///   [`DisputeClosed`](GatewayEventKind::DisputeClosed): the dispute is recorded on the
    ///   order ([`disputes`](PaymentsRepo::disputes)).
    /// - [`Ignored`](GatewayEventKind::Ignored): recorded, nothing else.
    ///
    /// Each first processing writes one audit entry; refusals, queued refunds and disputes
    /// emit an outbox event (ids only; see "Payment gateways" in `docs/integrations.md`).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Storage` if the database fails (nothing is recorded:
    /// the handler answers the gateway 5xx and the gateway delivers again); the errors of
    /// marking the order paid. A refusal is not an error: it is an [`Outcome`], recorded.
    pub fn process(&self, event: &GatewayEvent) -> Result<Processed> {
        self.store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ProcessPaymentEvent,
                &Resource::Payments,
            )?;
            if let Some(outcome) = rows::processed(tx, &event.gateway, &event.id)? {
                return Ok(Processed {
                    outcome,
                    replayed: true,
                });
            }
            let outcome = match &event.kind {
                GatewayEventKind::Succeeded(paid) => self.succeeded(tx, event, paid)?,
                GatewayEventKind::Refunded(refund) => self.refunded(tx, event, refund)?,
                GatewayEventKind::DisputeOpened(dispute) => {
                    self.dispute(tx, event, dispute, true)?
                }
                GatewayEventKind::DisputeClosed(dispute) => {
                    self.dispute(tx, event, dispute, false)?
                }
                GatewayEventKind::Ignored { .. } => Outcome::Ignored,
            };
            if let Outcome::Refused { order, reason } = &outcome {
                tx.emit(&Refused {
                    gateway: event.gateway.as_str(),
                    event_id: &event.id,
                    order_id: *order,
                    reason: reason.as_str(),
                })?;
            }
            rows::insert_processed(tx, event, &outcome)?;
            tx.audit(
                self.principal,
                Action::ProcessPaymentEvent,
                &Resource::Payments,
            )?;
            Ok(Processed {
                outcome,
                replayed: false,
            })
        })
    }

    /// The order an event is about: the one it names, else the one its payment named when
    /// reported, else the one its payment reference paid; only an order that exists.
    fn find_order(
        &self,
        tx: &Tx<'_>,
        gateway: &Gateway,
        named: Option<OrderId>,
        payment: &str,
    ) -> Result<Option<OrderId>> {
        let candidates = [
            named,
            rows::gateway_payment_order(tx, gateway, payment)?,
            crate::orders::order_paid_by(tx, payment)?,
        ];
        for id in candidates.into_iter().flatten() {
            if crate::orders::order_owner(tx, id)?.is_some() {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    fn succeeded(
        &self,
        tx: &Tx<'_>,
        event: &GatewayEvent,
        paid: &GatewayPayment,
    ) -> Result<Outcome> {
        let paid_before = crate::orders::order_paid_by(tx, &paid.reference)?;
        let mut found = None;
        for id in [paid.order, paid_before].into_iter().flatten() {
            if let Some(customer) = crate::orders::order_owner(tx, id)? {
                found = Some((id, customer));
                break;
            }
        }
        let id = found.map(|(id, _)| id);
        rows::record_gateway_payment(tx, &event.gateway, &paid.reference, id, paid.amount)?;
        let Some((id, customer)) = found else {
            return Ok(refused(None, Refusal::UnknownOrder));
        };
        let order = crate::orders::load_order(tx, self.store, id)?;
        let total = order.total();
        if paid.amount != total {
            return Ok(refused(
                Some(id),
                Refusal::AmountMismatch {
                    order_total: total,
                    reported: paid.amount,
                },
            ));
        }
        if paid_before.is_some_and(|other| other != id) {
            return Ok(refused(Some(id), Refusal::ReferenceUsed));
        }
        if order.status() != OrderStatus::Placed {
            let first = crate::orders::order_payment(tx, id)?;
            if first.is_some_and(|p| p.reference() == paid.reference && p.amount() == paid.amount) {
                return Ok(Outcome::AlreadyPaid(id));
            }
            return Ok(refused(
                Some(id),
                Refusal::NotPayable {
                    status: order.status(),
                },
            ));
        }
        let resource = Resource::Order {
            id,
            customer: Some(customer),
        };
        tx.authorize(self.principal, Action::RecordPayment, &resource)?;
        let payment = Payment::new(&paid.reference, paid.amount)?;
        crate::orders::record_payment(tx, self.principal, order, &resource, &payment)?;
        Ok(Outcome::Paid(id))
    }

    fn refunded(
        &self,
        tx: &Tx<'_>,
        event: &GatewayEvent,
        refund: &GatewayRefund,
    ) -> Result<Outcome> {
        let found = self.find_order(tx, &event.gateway, refund.order, &refund.payment)?;
        let Some(id) = found else {
            return Ok(refused(None, Refusal::UnknownOrder));
        };
        let order = crate::orders::load_order(tx, self.store, id)?;
        let total = order.total();
        let reported = refund.refunded_total;
        if reported.currency() != total.currency() || reported.minor() > total.minor() {
            return Ok(refused(
                Some(id),
                Refusal::AmountMismatch {
                    order_total: total,
                    reported,
                },
            ));
        }
        let before = rows::refunded_so_far(tx, &event.gateway, &refund.payment)?;
        let added = reported
            .minor()
            .checked_sub(before)
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "refunds overflow"))?;
        if added <= 0 {
            return Ok(Outcome::RefundUnchanged(id));
        }
        let queued = QueuedRefund {
            id: QueuedRefundId::generate(tx.now())?,
            gateway: event.gateway.clone(),
            payment: refund.payment.clone(),
            order: id,
            amount: Money::new(added, reported.currency()),
            event_id: event.id.clone(),
            reported_at: tx.now(),
            refund: None,
            settled_at: None,
        };
        rows::insert_queued(tx, &queued)?;
        tx.emit(&RefundQueued {
            queued_refund_id: queued.id,
            order_id: id,
        })?;
        Ok(Outcome::RefundQueued {
            order: id,
            queued: queued.id,
            amount: queued.amount,
        })
    }

    fn dispute(
        &self,
        tx: &Tx<'_>,
        event: &GatewayEvent,
        dispute: &GatewayDispute,
        opened: bool,
    ) -> Result<Outcome> {
        // The event's type is what it reports: a closing with an open status is closed.
        let status = match (opened, dispute.status) {
            (true, _) => DisputeStatus::Open,
            (false, DisputeStatus::Open) => DisputeStatus::Closed,
            (false, status) => status,
        };
        let found = self.find_order(tx, &event.gateway, dispute.order, &dispute.payment)?;
        let Some(id) = found else {
            return Ok(refused(None, Refusal::UnknownOrder));
        };
        rows::upsert_dispute(tx, &event.gateway, dispute, id, status)?;
        let body = Dispute {
            order_id: id,
            gateway: event.gateway.as_str(),
            dispute: &dispute.reference,
            status: status.as_str(),
        };
        if opened {
            tx.emit(&DisputeOpened(body))?;
        } else {
            tx.emit(&DisputeClosed(body))?;
        }
        Ok(Outcome::Dispute { order: id, status })
    }

    /// Gateway refunds waiting for staff, oldest first: up to `limit` (at most 500) after
    /// `after` (the last id of the previous page). Needs [`Action::ReadPayments`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Validation` (field `limit`) for 0 or more than 500.
    pub fn refund_queue(
        &self,
        after: Option<QueuedRefundId>,
        limit: usize,
    ) -> Result<Vec<QueuedRefund>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadPayments, &Resource::Payments)?;
            if limit == 0 || limit > MAX_PAGE {
                return Err(Error::validation("limit", "a page is 1 to 500 entries"));
            }
            rows::open_queue(tx, after, limit)
        })
    }

    /// Queued gateway refund `id`, settled or not. Needs [`Action::ReadPayments`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `NotFound` if there is no such entry.
    pub fn queued_refund(&self, id: QueuedRefundId) -> Result<QueuedRefund> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadPayments, &Resource::Payments)?;
            rows::queued(tx, id)?.ok_or_else(|| not_found(&Resource::Payments))
        })
    }

    /// Allocates queued gateway refund `id` to the order's lines: makes `request` as
    /// [`OrderRepo::refund`](crate::OrderRepo::refund) does (credit note included, so the
    /// credit notes still net the invoice) and links it, in one transaction. The refund must
    /// come to exactly the amount the gateway refunded, gross: nothing is approximated. Needs
    /// [`Action::AllocateGatewayRefund`] and [`Action::RefundOrder`] on the order.
    ///
    /// # Errors
    ///
    /// - `Forbidden` without the rights; `NotFound` for an unknown entry;
    /// - `InvalidTransition` if it was settled already;
    /// - `Validation` (field `amount`) if the refund's gross is not the gateway's amount;
    /// - the errors of [`OrderRepo::refund`](crate::OrderRepo::refund).
    ///
    /// Nothing is written on error.
    pub fn allocate_refund(&self, id: QueuedRefundId, request: Refund) -> Result<RefundRecord> {
        self.store.write(|tx| {
            let (queued, resource) = self.open_entry(tx, id)?;
            let order = crate::orders::load_order(tx, self.store, queued.order)?;
            let orders = self.store.orders(self.principal);
            let record = orders.refund_in(tx, order, &resource, &request)?;
            if record.gross_total() != queued.amount {
                return Err(Error::validation(
                    "amount",
                    format!(
                        "the refund comes to {}, the gateway refunded {}",
                        record.gross_total(),
                        queued.amount
                    ),
                ));
            }
            self.settle(tx, &queued, record.id())?;
            Ok(record)
        })
    }

    /// Settles queued gateway refund `id` with `refund`, a refund of the same order already
    /// made (staff refunded in shopkeep, then through the gateway): of exactly the amount the
    /// gateway refunded, and settling no other entry. Needs
    /// [`Action::AllocateGatewayRefund`] and [`Action::RefundOrder`] on the order.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the rights; `NotFound` for an unknown entry or refund;
    /// `InvalidTransition` if the entry was settled already; `Validation` (field `refund_id`)
    /// for a refund of another order, (field `amount`) for another amount; `AlreadyExists` if
    /// the refund settles another entry. Nothing is written on error.
    pub fn link_refund(&self, id: QueuedRefundId, refund: RefundId) -> Result<QueuedRefund> {
        self.store.write(|tx| {
            let (queued, _) = self.open_entry(tx, id)?;
            let record = crate::orders::refund_repo::load(tx, refund)?;
            if record.order() != queued.order {
                return Err(Error::validation(
                    "refund_id",
                    "the refund is of another order",
                ));
            }
            if record.gross_total() != queued.amount {
                return Err(Error::validation(
                    "amount",
                    format!(
                        "the refund came to {}, the gateway refunded {}",
                        record.gross_total(),
                        queued.amount
                    ),
                ));
            }
            if rows::settles_any(tx, refund)? {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    "the refund settles another gateway refund",
                ));
            }
            self.settle(tx, &queued, refund)?;
            rows::queued(tx, id)?.ok_or_else(|| not_found(&Resource::Payments))
        })
    }

    /// Authorises settling entry `id` and reads it: open, with its order as a resource.
    fn open_entry(&self, tx: &Tx<'_>, id: QueuedRefundId) -> Result<(QueuedRefund, Resource)> {
        tx.authorize(
            self.principal,
            Action::AllocateGatewayRefund,
            &Resource::Payments,
        )?;
        let queued = rows::queued(tx, id)?.ok_or_else(|| not_found(&Resource::Payments))?;
        let resource = Resource::Order {
            id: queued.order,
            customer: crate::orders::order_owner(tx, queued.order)?,
        };
        tx.authorize(self.principal, Action::RefundOrder, &resource)?;
        if queued.refund.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                "the gateway refund is settled already",
            ));
        }
        Ok((queued, resource))
    }

    fn settle(&self, tx: &Tx<'_>, queued: &QueuedRefund, refund: RefundId) -> Result<()> {
        rows::settle(tx, queued.id, refund)?;
        tx.emit(&RefundSettled {
            queued_refund_id: queued.id,
            order_id: queued.order,
            refund_id: refund,
        })?;
        tx.audit(
            self.principal,
            Action::AllocateGatewayRefund,
            &Resource::Payments,
        )
    }

    /// The disputes recorded on order `order`, oldest first. Needs [`Action::ReadPayments`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right.
    pub fn disputes(&self, order: OrderId) -> Result<Vec<DisputeRecord>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadPayments, &Resource::Payments)?;
            rows::disputes(tx, order)
        })
    }

    /// The reconciliation of `[from, to)` (store-clock times): every payment a gateway
    /// reported in the period, compared with its order, and every order paid in the period
    /// under a reference no gateway reported. Needs [`Action::ReadPayments`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Validation` (field `period`) unless `from` is before
    /// `to`.
    pub fn reconcile(&self, from: Timestamp, to: Timestamp) -> Result<Reconciliation> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadPayments, &Resource::Payments)?;
            if from >= to {
                return Err(Error::validation(
                    "period",
                    "the period ends before it starts",
                ));
            }
            let mut lines = rows::reported_in(tx, from, to)?;
            lines.extend(rows::unreported_in(tx, from, to)?);
            Ok(Reconciliation { from, to, lines })
        })
    }
}
