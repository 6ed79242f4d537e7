//! Payment gateways: webhook signatures, gateway events, processing each event exactly once,
//! the refund queue, disputes and the reconciliation report.
//!
//! The host receives the webhook; shopkeep checks it and acts on it:
//!
//! ```text
//! POST /webhooks/stripe ──▶ Stripe::verify_and_parse(header, raw body, store.now())
//!                              │ Unauthenticated → 400
//!                              ▼
//!                           payments(&system).process(&event)   one transaction:
//!                              │                                dedupe row + effect + audit + outbox
//!                              ├─ Succeeded  → mark_paid (amount and currency checked) or Refused
//!                              ├─ Refunded   → queued for staff: allocate_refund / link_refund
//!                              ├─ Dispute…   → dispute record on the order
//!                              └─ Ignored    → recorded
//!                              ▼
//!                           200 (a redelivery: the first outcome, nothing written)
//! ```
//!
//! The rules are in the integrations guide ("Payment gateways"); the schemes are behind
//! [`GatewayScheme`], with [`Stripe`] first.

mod event;
mod model;
mod repo;
mod rows;
mod scheme;
mod stripe;

pub use event::{
    DisputeStatus, Gateway, GatewayDispute, GatewayEvent, GatewayEventKind, GatewayPayment,
    GatewayRefund,
};
pub use model::{
    DisputeRecord, Outcome, Processed, QueuedRefund, QueuedRefundId, Reconciled, Reconciliation,
    ReconciliationLine, Refusal,
};
pub use repo::PaymentsRepo;
pub use scheme::{DEFAULT_TOLERANCE, GatewayScheme, SignatureError};
pub use stripe::{ORDER_METADATA_KEY, Stripe, StripeSecret};
