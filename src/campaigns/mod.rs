//! Campaigns and automated flows: consented marketing mail, decided in the database and
//! delivered by the host.
//!
//! - A **campaign** is a [`MessageTemplate`] sent once to an audience (a marketing
//!   [`AudienceQuery`](crate::marketing::AudienceQuery)) at a time: [`CampaignRepo::schedule`]
//!   queues one message per member.
//! - A **flow** is a sequence of [`FlowStep`]s that a [`FlowTrigger`] starts for one person:
//!   a welcome series after double opt-in, abandoned-cart reminders, a post-purchase
//!   follow-up, win-back for the "at risk" segment, lead nurturing.
//! - [`CampaignRepo::run_due`], called by the host's worker, does what is due: it enrols, and
//!   decides each due message under a lease — re-checking consent, erasure, the suppression
//!   list, the flow's stop condition, quiet hours and the frequency cap ([`SendPolicy`]) —
//!   and sends it as a `message.queued` outbox event naming its campaign or flow.
//! - The host's mailer renders each queued message with [`CampaignRepo::message`]: RFC 5322
//!   bytes with the recipient's one-click unsubscribe link and signed click-tracking links.
//!   [`Store::record_click`](crate::Store::record_click) verifies a click, and
//!   [`CampaignRepo::attribution`] attributes an order to the last message clicked.
//!
//! Everything here is durable state in the store: a worker that dies loses nothing, and two
//! workers send nothing twice. The [marketing guide](crate::guide::marketing) draws the flows.
//!
//! ```
//! use std::time::Duration;
//! use shopkeep::campaigns::{FlowStep, FlowTrigger, MessageTemplate, NewFlow};
//! use shopkeep::{KeyRing, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let system = store.system();
//! let campaigns = store.campaigns(&system);
//! let welcome = MessageTemplate::new("Welcome, {{ name }}", "Glad you are here.", "<p>Glad you are here.</p>")?;
//! let flow = campaigns.create_flow(
//!     NewFlow::new("welcome", FlowTrigger::Welcome)?.step(FlowStep::new(Duration::ZERO, welcome))?,
//! )?;
//! // The host's worker, every minute:
//! let report = campaigns.run_due(100)?;
//! assert!(report.is_idle());
//! # let _ = flow;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod due;
mod enroll;
mod events;
mod model;
mod policy;
mod render;
mod repo;
mod template;
mod tracking;

pub use model::{
    Campaign, CampaignId, CampaignStatus, Flow, FlowId, FlowStatus, FlowStep, FlowTrigger,
    MAX_FLOW_STEPS, MAX_STEP_DELAY, MessageId, NewCampaign, NewFlow, RunId, RunReport, SendCounts,
};
pub use policy::SendPolicy;
pub use repo::{CampaignRepo, MAX_ATTRIBUTION_WINDOW};
pub use template::MessageTemplate;
pub use tracking::{Click, MessageAttribution, TrackingLinks};

use crate::error::Result;
use crate::sql::args;
use crate::store::Tx;
use enroll::Person;

/// Whether the person's address is on the suppression list (by the blind index their row
/// keeps; an erased person has none and is not reached anyway).
fn suppressed(tx: &Tx<'_>, person: Person) -> Result<bool> {
    let sql = match person {
        Person::Customer(_) => "SELECT email_index FROM shopkeep_customers WHERE id = ?1",
        Person::Lead(_) => "SELECT email_index FROM shopkeep_leads WHERE id = ?1",
    };
    let index: Option<Option<Vec<u8>>> = match person {
        Person::Customer(id) => tx.query_opt(sql, args![id], |r| r.get(0)),
        Person::Lead(id) => tx.query_opt(sql, args![id], |r| r.get(0)),
    }?;
    match index.flatten() {
        Some(index) => crate::marketing::suppression_repo::is_suppressed_index(tx, &index),
        None => Ok(false),
    }
}
