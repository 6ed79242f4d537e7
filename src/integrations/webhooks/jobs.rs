//! Deliveries' SQL: the fan-out from the outbox, leasing due deliveries as signed requests,
//! recording outcomes on the retry schedule, the delivery log and the dead letters.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use super::delivery::{
    Attempt, Delivery, DeliveryId, DeliveryOutcome, DeliveryStatus, SignedRequest, backoff,
};
use super::endpoint::{EndpointId, EndpointUrl, OWN_EVENT_PREFIX};
use super::events;
use super::repo::WebhookRepo;
use super::signature::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret};
use super::storage::{self, DELIVERY_COLUMNS};
use crate::access::audit::Outcome;
use crate::access::{Action, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::events::EventId;
use crate::sql::args;
use crate::store::Tx;

/// The largest batch `fan_out` and `due` take, and the largest page of the lists.
const MAX_BATCH: usize = 1000;
/// The longest lease `due` gives: a request that has not finished in an hour has failed.
const MAX_LEASE: Duration = Duration::from_secs(3600);

/// What one [`WebhookRepo::fan_out`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    pub(crate) events: usize,
    pub(crate) deliveries: usize,
}

impl FanOut {
    /// Outbox events read (the webhooks' own included). Fewer than the limit: the outbox is
    /// read to its end for now.
    pub fn events(&self) -> usize {
        self.events
    }

    /// Deliveries created.
    pub fn deliveries(&self) -> usize {
        self.deliveries
    }
}

fn check_limit(limit: usize) -> Result<i64> {
    if !(1..=MAX_BATCH).contains(&limit) {
        return Err(Error::validation("limit", "a batch holds 1 to 1,000 items"));
    }
    Ok(i64::try_from(limit).unwrap_or(1))
}

/// An outbox event as the fan-out reads it.
struct OutboxRow {
    seq: i64,
    id: EventId,
    kind: String,
    version: u32,
    data: String,
    created_at: Timestamp,
}

impl OutboxRow {
    /// The webhook body: the Standard Webhooks payload shape, with the event's id and version.
    fn body(&self) -> Result<String> {
        let kind = serde_json::to_string(&self.kind).map_err(|e| {
            Error::new(ErrorKind::Internal, "an event type could not be encoded").with_source(e)
        })?;
        // `data` is valid JSON (the outbox checks it), so it is spliced in as is.
        Ok(format!(
            r#"{{"id":"{}","type":{kind},"version":{},"timestamp":"{}","data":{}}}"#,
            self.id, self.version, self.created_at, self.data
        ))
    }
}

impl WebhookRepo<'_> {
    /// Turns outbox events into deliveries: reads up to `limit` events after the fan-out's
    /// cursor, in commit order, and creates one pending delivery, due now, for each enabled
    /// endpoint subscribed to the event's type and registered before the event; then moves
    /// the cursor past them. Idempotent: a delivery per (event, endpoint) is created once.
    /// The webhooks' own `webhook.…` events are never delivered. Needs
    /// [`Action::DeliverWebhooks`]. Audited when it creates deliveries.
    ///
    /// Run it in the delivery job before [`due`](Self::due), and before
    /// [`Events::purge_acknowledged`](crate::events::Events::purge_acknowledged): a purged event
    /// that was never fanned out is never delivered.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` for a `limit` outside 1 to 1,000.
    pub fn fan_out(&self, limit: usize) -> Result<FanOut> {
        let limit = check_limit(limit)?;
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::DeliverWebhooks, &Resource::Webhooks)?;
            let cursor: i64 = tx
                .query_opt(
                    "SELECT seq FROM shopkeep_webhook_cursor WHERE id = 1",
                    args![],
                    |r| r.get(0),
                )?
                .unwrap_or(0);
            let rows = read_outbox(tx, cursor, limit)?;
            let mut created = 0;
            for row in &rows {
                if !row.kind.starts_with(OWN_EVENT_PREFIX) {
                    created += deliver_event(tx, row)?;
                }
            }
            if let Some(last) = rows.last() {
                tx.execute(
                    "INSERT INTO shopkeep_webhook_cursor (id, seq) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
                    args![last.seq],
                )?;
            }
            if created > 0 {
                tx.audit(self.principal, Action::DeliverWebhooks, &Resource::Webhooks)?;
            }
            Ok(FanOut {
                events: rows.len(),
                deliveries: created,
            })
        })
    }

    /// Leases up to `limit` due deliveries (soonest due first) to the caller for `lease`, and
    /// returns each as a request signed for this attempt: `webhook-id` is the event's id (the
    /// same on every attempt), `webhook-timestamp` now, in whole seconds. While leased, a
    /// delivery is handed to no one else (two workers never get the same one); a lease that
    /// runs out without a [`report`](Self::report) makes it due again, for any worker, as a
    /// new attempt, and does not count as a failure. Needs [`Action::DeliverWebhooks`].
    /// Audited when it leases any.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` for a `limit` outside 1 to 1,000 or a
    /// `lease` of zero or over an hour; `Crypto` if an endpoint's secret cannot be decrypted.
    pub fn due(&self, limit: usize, lease: Duration) -> Result<Vec<SignedRequest>> {
        let limit = check_limit(limit)?;
        if lease.is_zero() || lease > MAX_LEASE {
            return Err(Error::validation(
                "lease",
                "a lease lasts more than zero and at most an hour",
            ));
        }
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::DeliverWebhooks, &Resource::Webhooks)?;
            let now = tx.now();
            let until = now.checked_add(lease)?;
            let mut leased: Vec<(DeliveryId, EndpointId, EventId, String, u32)> = tx.query_map(
                "UPDATE shopkeep_webhook_deliveries
                         SET due_at = ?1, attempts = attempts + 1, updated_at = ?2
                         WHERE id IN (
                             SELECT id FROM shopkeep_webhook_deliveries
                             WHERE status = 'pending' AND due_at IS NOT NULL AND due_at <= ?2
                             ORDER BY due_at LIMIT ?3)
                         RETURNING id, endpoint_id, event_id, body, attempts",
                args![until, now, limit],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            // RETURNING gives no order; ids are creation order.
            leased.sort_by_key(|row| row.0);
            let timestamp = now.unix_millis().div_euclid(1000);
            let mut endpoints: HashMap<EndpointId, (EndpointUrl, WebhookSecret)> = HashMap::new();
            let mut requests = Vec::with_capacity(leased.len());
            for (delivery, endpoint, event, body, attempt) in leased {
                let (url, secret) = match endpoints.entry(endpoint) {
                    Entry::Occupied(found) => found.into_mut(),
                    Entry::Vacant(slot) => slot.insert(load_signing(tx, store, endpoint)?),
                };
                let webhook_id = event.to_string();
                let signature = secret.sign(&webhook_id, timestamp, body.as_bytes())?;
                requests.push(SignedRequest {
                    delivery,
                    attempt,
                    url: url.clone(),
                    headers: vec![
                        ("content-type", "application/json".to_owned()),
                        (HEADER_ID, webhook_id),
                        (HEADER_TIMESTAMP, timestamp.to_string()),
                        (HEADER_SIGNATURE, signature),
                    ],
                    body,
                });
            }
            if !requests.is_empty() {
                tx.audit(self.principal, Action::DeliverWebhooks, &Resource::Webhooks)?;
            }
            Ok(requests)
        })
    }

    /// Records what came of attempt `attempt` of a delivery (from
    /// [`SignedRequest::attempt`]) in the delivery log: a 2xx answer marks it delivered; any
    /// other answer or a network error is a failure, after which the next attempt is due on
    /// the [retry schedule](super::RETRY_SCHEDULE), or, after the round's last attempt, the
    /// delivery is dead-lettered (`webhook.delivery_dead_lettered` is emitted). Needs
    /// [`Action::DeliverWebhooks`]. Audited.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `NotFound` for an unknown delivery; `Conflict` if
    /// `attempt` is not the delivery's current lease (it ran out and another worker took the
    /// delivery, or the attempt was reported already): nothing is written then.
    pub fn report(
        &self,
        delivery: DeliveryId,
        attempt: u32,
        outcome: &DeliveryOutcome,
    ) -> Result<Delivery> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::DeliverWebhooks, &Resource::Webhooks)?;
            let current = storage::load_delivery(tx, delivery)?;
            if current.status != DeliveryStatus::Pending
                || current.attempts != attempt
                || attempt == 0
            {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "attempt {attempt} of delivery {delivery} is not its current lease \
                         (the lease ran out, or it was reported already)"
                    ),
                ));
            }
            let now = tx.now();
            tx.execute(
                "INSERT INTO shopkeep_webhook_attempts (delivery_id, attempt, at, status, error)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![
                    delivery,
                    attempt,
                    now,
                    outcome.status,
                    outcome.error.as_deref()
                ],
            )?;
            let failures = if outcome.succeeded() {
                current.failures
            } else {
                current.failures.saturating_add(1)
            };
            let (status, due_at) = if outcome.succeeded() {
                (DeliveryStatus::Delivered, None)
            } else {
                match backoff(failures) {
                    Some(wait) if endpoint_enabled(tx, current.endpoint)? => {
                        (DeliveryStatus::Pending, Some(now.checked_add(wait)?))
                    }
                    Some(_) => (DeliveryStatus::Pending, None),
                    None => (DeliveryStatus::DeadLettered, None),
                }
            };
            tx.execute(
                "UPDATE shopkeep_webhook_deliveries
                 SET status = ?2, failures = ?3, due_at = ?4, last_status = ?5, last_error = ?6,
                     updated_at = ?7
                 WHERE id = ?1",
                args![
                    delivery,
                    status.as_str(),
                    failures,
                    due_at,
                    outcome.status,
                    outcome.error.as_deref(),
                    now
                ],
            )?;
            tx.audit_event(
                &self.principal.audit_name(),
                Action::DeliverWebhooks.as_str(),
                &format!("webhook_delivery:{delivery}"),
                Outcome::Allowed,
            )?;
            if status == DeliveryStatus::DeadLettered {
                tx.emit(&events::DeadLettered {
                    delivery_id: delivery,
                    endpoint_id: current.endpoint,
                    event_id: current.event,
                })?;
            }
            Ok(Delivery {
                status,
                failures,
                next_attempt_at: due_at,
                last_status: outcome.status,
                last_error: outcome.error.clone(),
                updated_at: now,
                ..current
            })
        })
    }

    /// Reads a delivery. Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `NotFound` for an unknown delivery.
    pub fn delivery(&self, id: DeliveryId) -> Result<Delivery> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            storage::load_delivery(tx, id)
        })
    }

    /// An endpoint's delivery log: its deliveries, oldest first, at most `limit` (1 to 1,000)
    /// after the delivery `after`, for paging. Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown endpoint, or one the principal may not manage; `Validation`
    /// for a `limit` outside 1 to 1,000.
    pub fn deliveries(
        &self,
        endpoint: EndpointId,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let limit = check_limit(limit)?;
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(endpoint),
            )?;
            storage::load_endpoint(tx, endpoint)?;
            storage::query_deliveries(
                tx,
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM shopkeep_webhook_deliveries
                     WHERE endpoint_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                ),
                args![endpoint, after_or_first(after), limit],
            )
        })
    }

    /// The attempts reported for a delivery, in order. Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `NotFound` for an unknown delivery.
    pub fn attempts(&self, delivery: DeliveryId) -> Result<Vec<Attempt>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            storage::load_delivery(tx, delivery)?;
            tx.query_map(
                "SELECT attempt, at, status, error FROM shopkeep_webhook_attempts
                     WHERE delivery_id = ?1 ORDER BY attempt",
                args![delivery],
                |r| {
                    Ok(Attempt {
                        number: r.get(0)?,
                        at: r.get(1)?,
                        status: r.get(2)?,
                        error: r.get(3)?,
                    })
                },
            )
        })
    }

    /// Dead letters of every endpoint, oldest first, at most `limit` (1 to 1,000) after the
    /// delivery `after`, for paging. Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` for a `limit` outside 1 to 1,000.
    pub fn dead_letters(&self, after: Option<DeliveryId>, limit: usize) -> Result<Vec<Delivery>> {
        let limit = check_limit(limit)?;
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            storage::query_deliveries(
                tx,
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM shopkeep_webhook_deliveries
                     WHERE status = 'dead' AND id > ?1 ORDER BY id LIMIT ?2"
                ),
                args![after_or_first(after), limit],
            )
        })
    }

    /// Gives a dead letter a new round: it is pending again, due now (or when its endpoint is
    /// enabled again), with the round's failures back at zero and the same `webhook-id`
    /// and body. Needs [`Action::ManageWebhooks`]. Audited; emits
    /// `webhook.delivery_requeued`.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `NotFound` for an unknown delivery;
    /// `InvalidTransition` for one that is not dead-lettered.
    pub fn requeue(&self, id: DeliveryId) -> Result<Delivery> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            let current = storage::load_delivery(tx, id)?;
            if current.status != DeliveryStatus::DeadLettered {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    format!("a {} delivery cannot be re-queued", current.status),
                ));
            }
            let now = tx.now();
            let due_at = endpoint_enabled(tx, current.endpoint)?.then_some(now);
            tx.execute(
                "UPDATE shopkeep_webhook_deliveries
                 SET status = 'pending', failures = 0, due_at = ?2, updated_at = ?3
                 WHERE id = ?1",
                args![id, due_at, now],
            )?;
            tx.audit_event(
                &self.principal.audit_name(),
                Action::ManageWebhooks.as_str(),
                &format!("webhook_delivery:{id}"),
                Outcome::Allowed,
            )?;
            tx.emit(&events::Requeued {
                delivery_id: id,
                endpoint_id: current.endpoint,
            })?;
            Ok(Delivery {
                status: DeliveryStatus::Pending,
                failures: 0,
                next_attempt_at: due_at,
                updated_at: now,
                ..current
            })
        })
    }
}

/// The id to page after: `after`, or the smallest id (so that `id > ?` is one index range,
/// with no `OR` for the planner to trip on).
fn after_or_first(after: Option<DeliveryId>) -> DeliveryId {
    after.unwrap_or_else(|| DeliveryId::from_bytes([0; 16]))
}

/// Up to `limit` outbox events after `cursor`, in commit order.
fn read_outbox(tx: &Tx<'_>, cursor: i64, limit: i64) -> Result<Vec<OutboxRow>> {
    tx.query_map(
        "SELECT seq, id, type, version, data, created_at FROM shopkeep_outbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        args![cursor, limit],
        |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                kind: r.get(2)?,
                version: r.get(3)?,
                data: r.get(4)?,
                created_at: r.get(5)?,
            })
        },
    )
}

/// Creates the deliveries of one event; returns how many were new.
fn deliver_event(tx: &Tx<'_>, row: &OutboxRow) -> Result<usize> {
    let endpoints: Vec<EndpointId> = tx.query_map(
        "SELECT s.endpoint_id FROM shopkeep_webhook_subscriptions s
                 JOIN shopkeep_webhook_endpoints e ON e.id = s.endpoint_id
                 WHERE s.event_type = ?1 AND e.enabled = 1 AND e.from_seq < ?2",
        args![row.kind, row.seq],
        |r| r.get(0),
    )?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let body = row.body()?;
    let now = tx.now();
    let mut created = 0;
    for endpoint in endpoints {
        created += tx.execute(
            "INSERT INTO shopkeep_webhook_deliveries
                 (id, endpoint_id, event_id, event_type, body, due_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)
             ON CONFLICT (event_id, endpoint_id) DO NOTHING",
            args![
                DeliveryId::generate(now)?,
                endpoint,
                row.id,
                row.kind,
                body,
                now
            ],
        )?;
    }
    Ok(created)
}

/// Whether an endpoint takes deliveries (`false` once deleted).
fn endpoint_enabled(tx: &Tx<'_>, id: EndpointId) -> Result<bool> {
    Ok(tx
        .query_opt(
            "SELECT enabled FROM shopkeep_webhook_endpoints WHERE id = ?1",
            args![id],
            |r| r.get(0),
        )?
        .unwrap_or(false))
}

/// An endpoint's URL and decrypted secret, for signing.
fn load_signing(
    tx: &Tx<'_>,
    store: &crate::store::Store,
    id: EndpointId,
) -> Result<(EndpointUrl, WebhookSecret)> {
    let (url, sealed): (String, Vec<u8>) = tx.query_row(
        "SELECT url, secret FROM shopkeep_webhook_endpoints WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((
        EndpointUrl::parse(&url)?,
        storage::open_secret(tx, store, id, &sealed)?,
    ))
}
