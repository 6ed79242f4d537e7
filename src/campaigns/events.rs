//! The outbox events of campaigns and flows: ids and states only, never personal data.

use serde::Serialize;

use super::model::{CampaignId, FlowId, MessageId, RunId};
use crate::access::CustomerId;
use crate::events::OutboxEvent;
use crate::leads::LeadId;

/// `message.queued`: a marketing message is due to go out. The host's mailer renders it with
/// [`CampaignRepo::message`](super::CampaignRepo::message) and sends it. It names the campaign
/// or the flow it comes from, for attribution, and its recipient by id.
#[derive(Serialize)]
pub(super) struct Queued {
    pub(super) message_id: MessageId,
    pub(super) campaign_id: Option<CampaignId>,
    pub(super) flow_id: Option<FlowId>,
    pub(super) customer_id: Option<CustomerId>,
    pub(super) lead_id: Option<LeadId>,
}

impl OutboxEvent for Queued {
    const KIND: &'static str = "message.queued";
    const VERSION: u32 = 1;
}

/// `message.clicked`: the host reported a click on a tracked link of a message.
#[derive(Serialize)]
pub(super) struct Clicked {
    pub(super) message_id: MessageId,
}

impl OutboxEvent for Clicked {
    const KIND: &'static str = "message.clicked";
    const VERSION: u32 = 1;
}

/// `campaign.changed`: a campaign was created, scheduled, started, finished or cancelled.
#[derive(Serialize)]
pub(super) struct CampaignChanged {
    pub(super) campaign_id: CampaignId,
    pub(super) status: &'static str,
}

impl OutboxEvent for CampaignChanged {
    const KIND: &'static str = "campaign.changed";
    const VERSION: u32 = 1;
}

/// `flow.changed`: a flow was created, paused or resumed.
#[derive(Serialize)]
pub(super) struct FlowChanged {
    pub(super) flow_id: FlowId,
    pub(super) status: &'static str,
}

impl OutboxEvent for FlowChanged {
    const KIND: &'static str = "flow.changed";
    const VERSION: u32 = 1;
}

/// `flow.run_changed`: a person entered a flow (`active`), went through every step
/// (`completed`) or was taken out early (`stopped`, with the reason).
#[derive(Serialize)]
pub(super) struct RunChanged {
    pub(super) run_id: RunId,
    pub(super) flow_id: FlowId,
    pub(super) status: &'static str,
    pub(super) reason: Option<&'static str>,
}

impl OutboxEvent for RunChanged {
    const KIND: &'static str = "flow.run_changed";
    const VERSION: u32 = 1;
}
