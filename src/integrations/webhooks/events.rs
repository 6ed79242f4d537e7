//! The outbox events of webhooks: ids only. Their types start with `webhook.`, which the
//! fan-out never delivers (a dead letter must not cause a delivery that can die in turn).

use serde::Serialize;

use super::delivery::DeliveryId;
use super::endpoint::EndpointId;
use crate::events::{EventId, OutboxEvent};

/// `webhook.endpoint_registered`.
#[derive(Serialize)]
pub(super) struct EndpointRegistered {
    pub(super) endpoint_id: EndpointId,
}

impl OutboxEvent for EndpointRegistered {
    const KIND: &'static str = "webhook.endpoint_registered";
    const VERSION: u32 = 1;
}

/// `webhook.endpoint_enabled_changed`: staff enabled or disabled the endpoint.
#[derive(Serialize)]
pub(super) struct EndpointEnabled {
    pub(super) endpoint_id: EndpointId,
    pub(super) enabled: bool,
}

impl OutboxEvent for EndpointEnabled {
    const KIND: &'static str = "webhook.endpoint_enabled_changed";
    const VERSION: u32 = 1;
}

/// `webhook.endpoint_deleted`.
#[derive(Serialize)]
pub(super) struct EndpointDeleted {
    pub(super) endpoint_id: EndpointId,
}

impl OutboxEvent for EndpointDeleted {
    const KIND: &'static str = "webhook.endpoint_deleted";
    const VERSION: u32 = 1;
}

/// `webhook.delivery_dead_lettered`: every attempt of a round failed.
#[derive(Serialize)]
pub(super) struct DeadLettered {
    pub(super) delivery_id: DeliveryId,
    pub(super) endpoint_id: EndpointId,
    pub(super) event_id: EventId,
}

impl OutboxEvent for DeadLettered {
    const KIND: &'static str = "webhook.delivery_dead_lettered";
    const VERSION: u32 = 1;
}

/// `webhook.delivery_requeued`: staff gave a dead letter a new round.
#[derive(Serialize)]
pub(super) struct Requeued {
    pub(super) delivery_id: DeliveryId,
    pub(super) endpoint_id: EndpointId,
}

impl OutboxEvent for Requeued {
    const KIND: &'static str = "webhook.delivery_requeued";
    const VERSION: u32 = 1;
}
