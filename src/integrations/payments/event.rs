//! What a gateway reported, as shopkeep reads it: the event's identity, and what it says
//! happened to which payment of which order. No SQL.

use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, Result};
use crate::money::Money;
use crate::orders::OrderId;
use crate::text;

/// The longest event id, payment, refund or dispute reference, in characters (Stripe's are
/// under 40).
const MAX_REFERENCE: usize = 200;
/// The longest event type name kept for an ignored event.
const MAX_TYPE: usize = 100;

/// A payment gateway's name, as stored with every event: lower-case ASCII letters, digits,
/// `-` and `_`, 1 to 32 characters.
///
/// ```
/// use shopkeep::integrations::payments::Gateway;
///
/// assert_eq!(Gateway::STRIPE.as_str(), "stripe");
/// assert_eq!(Gateway::new("mollie")?.as_str(), "mollie");
/// assert!(Gateway::new("Mollie").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gateway(Cow<'static, str>);

impl Gateway {
    /// Stripe.
    pub const STRIPE: Gateway = Gateway(Cow::Borrowed("stripe"));

    /// The gateway named `name`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `gateway`) for an empty or over-long name, or one with
    /// characters other than `a-z`, `0-9`, `-` and `_`.
    pub fn new(name: &str) -> Result<Gateway> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(Error::validation(
                "gateway",
                "a gateway name is 1 to 32 of a-z, 0-9, - and _",
            ));
        }
        Ok(Gateway(Cow::Owned(name.to_owned())))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference text: trimmed, 1 to 200 characters, no control or invisible characters.
pub(crate) fn reference(field: &'static str, value: &str) -> Result<String> {
    text::required(field, value, MAX_REFERENCE)
}

/// One webhook delivery of a gateway, read: its id (what makes processing it exactly once
/// possible) and what it reports.
///
/// From [`GatewayScheme::parse`](super::GatewayScheme::parse), or built by a host for a
/// gateway shopkeep has no scheme for yet.
///
/// ```
/// use shopkeep::integrations::payments::{Gateway, GatewayEvent, GatewayEventKind, GatewayPayment};
/// use shopkeep::{Currency, Money};
///
/// let paid = GatewayPayment::new("pay_81", Money::parse("25.80", Currency::EUR)?)?;
/// let event = GatewayEvent::new(Gateway::new("mollie")?, "evt_1", GatewayEventKind::Succeeded(paid))?;
/// assert_eq!(event.id(), "evt_1");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayEvent {
    pub(crate) gateway: Gateway,
    pub(crate) id: String,
    pub(crate) kind: GatewayEventKind,
}

impl GatewayEvent {
    /// The event `id` of `gateway` (trimmed; 1 to 200 characters), reporting `kind`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `event_id`) for an empty, over-long or control-character id.
    pub fn new(gateway: Gateway, id: &str, kind: GatewayEventKind) -> Result<GatewayEvent> {
        Ok(GatewayEvent {
            gateway,
            id: reference("event_id", id)?,
            kind,
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The gateway's id of this event: a redelivery carries the same id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What it reports.
    pub fn kind(&self) -> &GatewayEventKind {
        &self.kind
    }
}

/// What a gateway event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatewayEventKind {
    /// A payment succeeded (Stripe: `payment_intent.succeeded`, or `charge.succeeded` of a
    /// captured charge).
    Succeeded(GatewayPayment),
    /// Money of a payment was given back (Stripe: `charge.refunded`).
    Refunded(GatewayRefund),
    /// The buyer's bank opened a dispute (a chargeback) on a payment.
    DisputeOpened(GatewayDispute),
    /// A dispute was closed, won or lost.
    DisputeClosed(GatewayDispute),
    /// An event type shopkeep does not act on: recorded as processed, nothing else.
    Ignored {
        /// The gateway's type name (`customer.created`).
        event_type: String,
    },
}

impl GatewayEventKind {
    /// An ignored event of the gateway's type `event_type` (trimmed, at most 100 characters).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `event_type`) for an empty, over-long or control-character
    /// type name.
    pub fn ignored(event_type: &str) -> Result<GatewayEventKind> {
        Ok(GatewayEventKind::Ignored {
            event_type: text::required("event_type", event_type, MAX_TYPE)?,
        })
    }

    /// The stable name stored with the processed event: `succeeded`, `refunded`,
    /// `dispute_opened`, `dispute_closed` or `ignored`.
    pub fn as_str(&self) -> &'static str {
        match self {
            GatewayEventKind::Succeeded(_) => "succeeded",
            GatewayEventKind::Refunded(_) => "refunded",
            GatewayEventKind::DisputeOpened(_) => "dispute_opened",
            GatewayEventKind::DisputeClosed(_) => "dispute_closed",
            GatewayEventKind::Ignored { .. } => "ignored",
        }
    }
}

/// A payment the gateway took: its reference (the one the order's payment is recorded
/// under), the order it was for, and the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    pub(crate) reference: String,
    pub(crate) order: Option<OrderId>,
    pub(crate) amount: Money,
}

impl GatewayPayment {
    /// A payment of `amount` under the gateway's `reference` (trimmed, 1 to 200 characters;
    /// for Stripe the PaymentIntent id, `pi_...`), for no order yet.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `payment_reference` for an empty, over-long or
    /// control-character reference, `amount` for a negative amount.
    pub fn new(reference: &str, amount: Money) -> Result<GatewayPayment> {
        if amount.is_negative() {
            return Err(Error::validation("amount", "a payment cannot be negative"));
        }
        Ok(GatewayPayment {
            reference: self::reference("payment_reference", reference)?,
            order: None,
            amount,
        })
    }

    /// The order the host named when it created the payment (Stripe: the metadata key
    /// `shopkeep_order_id`).
    #[must_use]
    pub fn order(mut self, order: OrderId) -> GatewayPayment {
        self.order = Some(order);
        self
    }

    /// The gateway's reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The order named, if any.
    pub fn order_id(&self) -> Option<OrderId> {
        self.order
    }

    /// The amount taken.
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// Money a gateway gave back on a payment: the payment's reference and the total refunded on
/// it so far, as the gateway reports it. Amount only: which lines it was for is staff's to
/// say ([`PaymentsRepo::allocate_refund`](super::PaymentsRepo::allocate_refund)).
///
/// The total, not the one refund: Stripe's `charge.refunded` carries `amount_refunded`, the
/// running total, and deliveries may come out of order; shopkeep queues what the total adds to
/// what it recorded before, so a late, smaller total adds nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefund {
    pub(crate) payment: String,
    pub(crate) order: Option<OrderId>,
    pub(crate) refunded_total: Money,
}

impl GatewayRefund {
    /// `refunded_total` refunded so far on the payment `payment` (its reference, as in
    /// [`GatewayPayment::new`]).
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `payment_reference` for a bad reference, `amount` for a
    /// total that is not positive.
    pub fn new(payment: &str, refunded_total: Money) -> Result<GatewayRefund> {
        if refunded_total.is_negative() || refunded_total.is_zero() {
            return Err(Error::validation("amount", "a refund is a positive amount"));
        }
        Ok(GatewayRefund {
            payment: reference("payment_reference", payment)?,
            order: None,
            refunded_total,
        })
    }

    /// The order named on the payment, if the event carries it.
    #[must_use]
    pub fn order(mut self, order: OrderId) -> GatewayRefund {
        self.order = Some(order);
        self
    }

    /// The payment's reference.
    pub fn payment(&self) -> &str {
        &self.payment
    }

    /// The order named, if any.
    pub fn order_id(&self) -> Option<OrderId> {
        self.order
    }

    /// The total refunded on the payment so far.
    pub fn refunded_total(&self) -> Money {
        self.refunded_total
    }
}

/// A dispute (chargeback) on a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDispute {
    pub(crate) reference: String,
    pub(crate) payment: String,
    pub(crate) order: Option<OrderId>,
    pub(crate) amount: Money,
    pub(crate) status: DisputeStatus,
}

impl GatewayDispute {
    /// Dispute `reference` (Stripe: `dp_...`) over `amount` of payment `payment`, in
    /// `status`.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `dispute_reference` or `payment_reference` for a bad
    /// reference, `amount` for a negative amount.
    pub fn new(
        reference: &str,
        payment: &str,
        amount: Money,
        status: DisputeStatus,
    ) -> Result<GatewayDispute> {
        if amount.is_negative() {
            return Err(Error::validation("amount", "a dispute cannot be negative"));
        }
        Ok(GatewayDispute {
            reference: self::reference("dispute_reference", reference)?,
            payment: self::reference("payment_reference", payment)?,
            order: None,
            amount,
            status,
        })
    }

    /// The order named on the payment, if the event carries it.
    #[must_use]
    pub fn order(mut self, order: OrderId) -> GatewayDispute {
        self.order = Some(order);
        self
    }

    /// The dispute's reference.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The disputed payment's reference.
    pub fn payment(&self) -> &str {
        &self.payment
    }

    /// The order named, if any.
    pub fn order_id(&self) -> Option<OrderId> {
        self.order
    }

    /// The amount disputed.
    pub fn amount(&self) -> Money {
        self.amount
    }

    /// Where the dispute stands.
    pub fn status(&self) -> DisputeStatus {
        self.status
    }
}

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisputeStatus {
    /// Open: the bank is deciding (the money is usually withheld meanwhile).
    Open,
    /// Closed in the shop's favour.
    Won,
    /// Closed in the buyer's favour: the money is gone.
    Lost,
    /// Closed otherwise (Stripe: an inquiry closed without becoming a chargeback).
    Closed,
}

impl DisputeStatus {
    /// The stable lower-case name, as stored: `open`, `won`, `lost`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "open",
            DisputeStatus::Won => "won",
            DisputeStatus::Lost => "lost",
            DisputeStatus::Closed => "closed",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<DisputeStatus> {
        match text {
            "open" => Ok(DisputeStatus::Open),
            "won" => Ok(DisputeStatus::Won),
            "lost" => Ok(DisputeStatus::Lost),
            "closed" => Ok(DisputeStatus::Closed),
            _ => Err(Error::validation("status", "unknown dispute status")),
        }
    }
}

impl fmt::Display for DisputeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
