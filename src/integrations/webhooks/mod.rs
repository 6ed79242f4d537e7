//! Outbound webhooks, signed by the [Standard Webhooks](https://www.standardwebhooks.com)
//! scheme, and the verifier for hosts that receive them.
//!
//! - Staff register endpoints ([`WebhookRepo::register`]): an `https` URL and the event types
//!   it takes. The crate generates the signing secret (`whsec_…`), shows it once, and keeps it
//!   encrypted under the endpoint's own data key.
//! - The host's delivery job calls [`WebhookRepo::fan_out`] (outbox events become one delivery
//!   per subscribed endpoint), then [`WebhookRepo::due`] (deliveries due now, leased to this
//!   worker, each a [`SignedRequest`]), sends each request itself, and reports what came of it
//!   with [`WebhookRepo::report`]. Failures are retried on [`RETRY_SCHEDULE`]; after
//!   [`MAX_ATTEMPTS`] a delivery is dead-lettered, for staff to list and re-queue.
//! - A host receiving webhooks checks them with a [`Verifier`].
//!
//! The [integrations guide](crate::guide::integrations) has the flow, the signature scheme,
//! the schedule and the dead-letter rules.
//!
//! ```
//! use std::time::Duration;
//! use shopkeep::integrations::webhooks::{DeliveryOutcome, NewEndpoint, ReceivedHeaders, Verifier};
//! use shopkeep::leads::LeadForm;
//! use shopkeep::{KeyRing, Principal, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let system = store.system();
//! let webhooks = store.webhooks(&system);
//! let new = NewEndpoint::new("https://crm.example.com/hooks", ["lead.submitted"])?;
//! let registered = webhooks.register(new)?;
//! let secret = registered.secret().expose(); // configure the receiver with it, now
//!
//! let form = LeadForm::new("Ana Lima", "ana@example.com", "Do you ship to Norway?").accept_terms(true);
//! store.leads(&Principal::anonymous()).submit(form, "203.0.113.7")?;
//!
//! // The delivery job:
//! webhooks.fan_out(100)?;
//! for request in webhooks.due(10, Duration::from_secs(30))? {
//!     // POST request.body() to request.url() with request.headers(); here, the receiver
//!     // checks it as it would:
//!     let headers = ReceivedHeaders::from_pairs(request.headers().iter().map(|(n, v)| (*n, v.as_str())));
//!     Verifier::new(&secret)?.verify(&headers, request.body().as_bytes(), store.now())?;
//!     webhooks.report(request.delivery(), request.attempt(), &DeliveryOutcome::status(204)?)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod delivery;
mod endpoint;
mod events;
mod jobs;
mod repo;
mod signature;
mod storage;

pub use delivery::{
    Attempt, Delivery, DeliveryId, DeliveryOutcome, DeliveryStatus, MAX_ATTEMPTS, RETRY_SCHEDULE,
    SignedRequest,
};
pub use endpoint::{
    Endpoint, EndpointId, EndpointUrl, MAX_EVENT_TYPES, MAX_URL_LEN, NewEndpoint,
    RegisteredEndpoint,
};
pub use jobs::FanOut;
pub use repo::{MAX_ENDPOINTS, WebhookRepo};
pub use signature::{
    DEFAULT_TOLERANCE, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, ReceivedHeaders, Verifier,
    VerifyError, WebhookSecret,
};
