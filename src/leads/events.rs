//! The outbox events of leads: ids and states only, never personal data.

use serde::Serialize;

use super::model::LeadId;
use crate::access::CustomerId;
use crate::customers::{Channel, ConsentEvent};
use crate::events::OutboxEvent;

/// `lead.submitted`: the contact form was sent.
#[derive(Serialize)]
pub(super) struct Submitted {
    pub(super) lead_id: LeadId,
}

impl OutboxEvent for Submitted {
    const KIND: &'static str = "lead.submitted";
    const VERSION: u32 = 1;
}

/// `lead.status_changed`: staff moved the lead along its pipeline.
#[derive(Serialize)]
pub(super) struct StatusChanged {
    pub(super) lead_id: LeadId,
    pub(super) status: &'static str,
}

impl OutboxEvent for StatusChanged {
    const KIND: &'static str = "lead.status_changed";
    const VERSION: u32 = 1;
}

/// `lead.converted`: a customer registered with the lead's email; the lead now names them.
#[derive(Serialize)]
pub(super) struct Converted {
    pub(super) lead_id: LeadId,
    pub(super) customer_id: CustomerId,
}

impl OutboxEvent for Converted {
    const KIND: &'static str = "lead.converted";
    const VERSION: u32 = 1;
}

/// `lead.erased`: the lead was erased; consumers forget it too.
#[derive(Serialize)]
pub(super) struct Erased {
    pub(super) lead_id: LeadId,
}

impl OutboxEvent for Erased {
    const KIND: &'static str = "lead.erased";
    const VERSION: u32 = 1;
}

/// `lead.consent_changed`: a lead's marketing consent on a channel was requested (the form's
/// opt-in: the host sends the confirmation link), confirmed or withdrawn.
#[derive(Serialize)]
pub(super) struct ConsentChanged {
    pub(super) lead_id: LeadId,
    pub(super) channel: &'static str,
    /// `requested`, `confirmed` or `withdrawn`.
    pub(super) change: &'static str,
}

impl ConsentChanged {
    pub(super) fn new(lead_id: LeadId, channel: Channel, change: ConsentEvent) -> Self {
        ConsentChanged {
            lead_id,
            channel: channel.as_str(),
            change: change.as_str(),
        }
    }
}

impl OutboxEvent for ConsentChanged {
    const KIND: &'static str = "lead.consent_changed";
    const VERSION: u32 = 1;
}

/// `lead.activity_recorded`: the host reported an activity of the lead; its score changed by
/// `points` (0 once the kind's cap is reached) to `score`.
#[derive(Serialize)]
pub(super) struct ActivityRecorded {
    pub(super) lead_id: LeadId,
    pub(super) kind: &'static str,
    pub(super) points: i64,
    pub(super) score: i64,
}

impl OutboxEvent for ActivityRecorded {
    const KIND: &'static str = "lead.activity_recorded";
    const VERSION: u32 = 1;
}
