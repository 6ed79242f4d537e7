//! The outbox events of customers: ids and states only, never personal data.

use serde::Serialize;

use super::consent::{Channel, ConsentEvent};
use crate::access::CustomerId;
use crate::events::OutboxEvent;

/// `customer.registered`: a customer account was created.
#[derive(Serialize)]
pub(super) struct Registered {
    pub(super) customer_id: CustomerId,
}

impl OutboxEvent for Registered {
    const KIND: &'static str = "customer.registered";
    const VERSION: u32 = 1;
}

/// `customer.consent_changed`: marketing consent on a channel became effective or ended.
/// An email tool follows these to know whom it may write to.
#[derive(Serialize)]
pub(super) struct ConsentChanged {
    pub(super) customer_id: CustomerId,
    pub(super) channel: &'static str,
    /// `granted`, `confirmed` or `withdrawn`.
    pub(super) change: &'static str,
}

impl ConsentChanged {
    pub(super) fn new(customer_id: CustomerId, channel: Channel, change: ConsentEvent) -> Self {
        ConsentChanged {
            customer_id,
            channel: channel.as_str(),
            change: change.as_str(),
        }
    }
}

impl OutboxEvent for ConsentChanged {
    const KIND: &'static str = "customer.consent_changed";
    const VERSION: u32 = 1;
}

/// `customer.erased`: the customer was erased; consumers forget them too.
#[derive(Serialize)]
pub(super) struct Erased {
    pub(super) customer_id: CustomerId,
}

impl OutboxEvent for Erased {
    const KIND: &'static str = "customer.erased";
    const VERSION: u32 = 1;
}
