//! The transactional outbox: events for email tools, CRMs and webhooks.
//!
//! Every state change that the outside world may care about (an order placed, paid, shipped;
//! a customer registered; a consent changed; stock running low) writes an event **in the same
//! transaction** as the change: an event exists if and only if its change committed. The host
//! runs a delivery job that polls a batch, delivers it, and acknowledges it:
//!
//! ```
//! use std::time::Duration;
//! use shopkeep::{KeyRing, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let system = store.system();
//! let events = store.events(&system);
//! for event in events.poll(100, Duration::from_secs(60))? {
//!     // deliver event.to_json() to the email tool / CRM / webhook, then:
//!     events.ack(&[event.id()])?;
//! }
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Delivery is **at least once**: a polled event is leased for the given time; if it is not
//! acknowledged by then (the job crashed, the webhook timed out) it is delivered again, to this
//! or another consumer. Consumers deduplicate by [`Event::id`]. Events come in commit order, but
//! a redelivered event arrives after events committed later.
//!
//! Events carry ids and figures, **never personal data in clear**: a consumer that needs a
//! customer's email asks the store for it with its own principal, so the policy and the audit
//! log see that access.
//!
//! [`Events`] ([`Store::events`](crate::Store::events)) polls and acknowledges; each
//! [`Event`] has a kind, a version and a JSON body.

mod repo;

use std::fmt;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::define_id;

pub use repo::Events;

define_id!(
    /// An event's id: stable across redeliveries, for consumers to deduplicate.
    EventId,
    "event_id"
);

/// One event from the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    pub(crate) id: EventId,
    pub(crate) seq: u64,
    pub(crate) kind: String,
    pub(crate) version: u32,
    pub(crate) data: String,
    pub(crate) created_at: Timestamp,
    pub(crate) attempts: u32,
}

impl Event {
    /// The event's id, the same on every delivery.
    pub fn id(&self) -> EventId {
        self.id
    }

    /// Its position in commit order.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The event type, dotted (`order.placed`, `customer.registered`).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The schema version of this type's data. A consumer reads the versions it knows.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The event's data as a JSON object (ids and figures only).
    pub fn data_json(&self) -> &str {
        &self.data
    }

    /// When the change it reports committed.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// How many times it has been handed out, this delivery included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The whole event as one JSON document:
    /// `{"id":…,"type":…,"version":…,"created_at":…,"data":{…}}`.
    pub fn to_json(&self) -> String {
        // `data` is valid JSON (the database checks it), so it is spliced in as is.
        format!(
            r#"{{"id":"{}","type":{},"version":{},"created_at":"{}","data":{}}}"#,
            self.id,
            serde_json::to_string(&self.kind).unwrap_or_else(|_| "\"\"".to_owned()),
            self.version,
            self.created_at,
            self.data
        )
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("seq", &self.seq)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// An event a domain emits: its type, schema version and data. Implemented by the domains'
/// event types; the data must hold ids and figures only.
pub(crate) trait OutboxEvent: Serialize {
    /// The dotted type name.
    const KIND: &'static str;
    /// The schema version of the data.
    const VERSION: u32;
}

#[cfg(test)]
mod tests;
