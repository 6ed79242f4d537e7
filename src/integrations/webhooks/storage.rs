//! Where webhook data lives and how it is read back: the endpoint's sealed secret, endpoint
//! and delivery rows.

use super::delivery::{Delivery, DeliveryId, DeliveryStatus};
use super::endpoint::{Endpoint, EndpointId, EndpointUrl};
use super::signature::WebhookSecret;
use crate::access::Resource;
use crate::crypto::data_keys::Subject;
use crate::crypto::field::{self, Place};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::{Param, Row, args};
use crate::store::{Store, Tx, not_found};

const ENDPOINTS: &str = "shopkeep_webhook_endpoints";

/// The data subject whose key seals an endpoint's secret.
pub(super) fn subject(id: EndpointId) -> Subject {
    Subject::webhook_endpoint(&id.to_string())
}

fn place(id: &EndpointId) -> Place<'_> {
    Place {
        table: ENDPOINTS,
        column: "secret",
        row: id.as_bytes().as_slice(),
    }
}

/// Encrypts a new endpoint's secret under a data key of its own.
pub(super) fn seal_secret(
    tx: &Tx<'_>,
    store: &Store,
    id: EndpointId,
    secret: &WebhookSecret,
) -> Result<Vec<u8>> {
    let key = store.data_key_or_create(tx, &subject(id))?;
    field::encrypt(&key, place(&id), secret.key())
}

/// Decrypts an endpoint's secret.
pub(super) fn open_secret(
    tx: &Tx<'_>,
    store: &Store,
    id: EndpointId,
    sealed: &[u8],
) -> Result<WebhookSecret> {
    let key = store
        .data_key(tx, &subject(id))?
        .ok_or_else(|| Error::new(ErrorKind::Crypto, "the endpoint's data key is missing"))?;
    let plain = field::decrypt(&key, place(&id), sealed)?;
    Ok(WebhookSecret::from_key(&plain))
}

/// The event types an endpoint subscribes to, sorted.
fn event_types(tx: &Tx<'_>, id: EndpointId) -> Result<Vec<String>> {
    tx.query_map(
        "SELECT event_type FROM shopkeep_webhook_subscriptions
             WHERE endpoint_id = ?1 ORDER BY event_type",
        args![id],
        |r| r.get(0),
    )
}

/// Reads an endpoint.
///
/// # Errors
///
/// `NotFound` for an unknown endpoint.
pub(super) fn load_endpoint(tx: &Tx<'_>, id: EndpointId) -> Result<Endpoint> {
    let row: Option<(String, bool, _, _)> = tx.query_opt(
        "SELECT url, enabled, created_at, updated_at
             FROM shopkeep_webhook_endpoints WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let (url, enabled, created_at, updated_at) =
        row.ok_or_else(|| not_found(&Resource::WebhookEndpoint(id)))?;
    Ok(Endpoint {
        id,
        url: EndpointUrl::parse(&url)?,
        event_types: event_types(tx, id)?,
        enabled,
        created_at,
        updated_at,
    })
}

/// The columns [`delivery_from_row`] reads, in order.
pub(super) const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, status, \
     attempts, failures, due_at, last_status, last_error, created_at, updated_at";

/// A delivery from a row of [`DELIVERY_COLUMNS`].
pub(super) fn delivery_from_row(r: &Row<'_>) -> Result<RawDelivery> {
    Ok(RawDelivery {
        id: r.get(0)?,
        endpoint: r.get(1)?,
        event: r.get(2)?,
        event_type: r.get(3)?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        failures: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

/// A delivery row with its status still text.
pub(super) struct RawDelivery {
    id: DeliveryId,
    endpoint: EndpointId,
    event: crate::events::EventId,
    event_type: String,
    status: String,
    attempts: u32,
    failures: u32,
    next_attempt_at: Option<crate::clock::Timestamp>,
    last_status: Option<u16>,
    last_error: Option<String>,
    created_at: crate::clock::Timestamp,
    updated_at: crate::clock::Timestamp,
}

impl RawDelivery {
    pub(super) fn into_delivery(self) -> Result<Delivery> {
        Ok(Delivery {
            id: self.id,
            endpoint: self.endpoint,
            event: self.event,
            event_type: self.event_type,
            status: DeliveryStatus::parse(&self.status)?,
            attempts: self.attempts,
            failures: self.failures,
            next_attempt_at: self.next_attempt_at,
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Reads a delivery.
///
/// # Errors
///
/// `NotFound` for an unknown delivery.
pub(super) fn load_delivery(tx: &Tx<'_>, id: DeliveryId) -> Result<Delivery> {
    tx.query_opt(
        &format!("SELECT {DELIVERY_COLUMNS} FROM shopkeep_webhook_deliveries WHERE id = ?1"),
        args![id],
        delivery_from_row,
    )?
    .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such webhook delivery"))?
    .into_delivery()
}

/// Runs a query of [`DELIVERY_COLUMNS`] rows.
pub(super) fn query_deliveries(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&dyn Param],
) -> Result<Vec<Delivery>> {
    let raw = tx.query_map(sql, params, delivery_from_row)?;
    raw.into_iter().map(RawDelivery::into_delivery).collect()
}
