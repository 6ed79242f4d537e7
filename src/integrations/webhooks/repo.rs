//! Endpoints' SQL: register, read, list, enable or disable, delete.

use super::endpoint::{Endpoint, EndpointId, NewEndpoint, RegisteredEndpoint};
use super::signature::WebhookSecret;
use super::{events, storage};
use crate::access::{Action, Principal, Resource};
use crate::error::Result;
use crate::sql::args;
use crate::store::{Store, not_found};

/// The most endpoints one shop may register: endpoints are configuration, not data.
pub const MAX_ENDPOINTS: usize = 100;

/// Outbound webhooks, as seen by one principal. From [`Store::webhooks`].
///
/// Staff with [`Action::ManageWebhooks`] (the owner) register and look after endpoints and
/// dead letters; the host's delivery job, with [`Action::DeliverWebhooks`] (the system or an
/// owner's API key), calls [`fan_out`](Self::fan_out), [`due`](Self::due) and
/// [`report`](Self::report). An endpoint the principal may not manage answers `NotFound`.
#[derive(Debug)]
pub struct WebhookRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// Outbound webhooks, for `principal`.
    ///
    /// ```
    /// use shopkeep::integrations::webhooks::NewEndpoint;
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let system = store.system();
    /// let new = NewEndpoint::new("https://hooks.example.com/shop", ["order.placed"])?;
    /// let registered = store.webhooks(&system).register(new)?;
    /// // Shown once: the receiver configures it now.
    /// assert!(registered.secret().expose().starts_with("whsec_"));
    /// let endpoints = store.webhooks(&system).list()?;
    /// assert_eq!(endpoints[0].url().as_str(), "https://hooks.example.com/shop");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn webhooks<'s>(&'s self, principal: &'s Principal) -> WebhookRepo<'s> {
        WebhookRepo {
            store: self,
            principal,
        }
    }
}

impl WebhookRepo<'_> {
    /// Registers an endpoint with a fresh secret (`whsec_` and 32 random bytes), returned this
    /// once and stored encrypted under the endpoint's own data key. It receives the events of
    /// its types committed from now on. Needs [`Action::ManageWebhooks`]. Audited; emits
    /// `webhook.endpoint_registered`.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` (field `endpoints`) when the shop
    /// already has 100 endpoints.
    pub fn register(&self, new: NewEndpoint) -> Result<RegisteredEndpoint> {
        let store = self.store;
        let secret = WebhookSecret::generate()?;
        let created = store.write(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            let (count, from_seq): (i64, i64) = tx.query_row(
                "SELECT (SELECT count(*) FROM shopkeep_webhook_endpoints),
                            (SELECT coalesce(max(seq), 0) FROM shopkeep_outbox)",
                args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_ENDPOINTS {
                return Err(crate::Error::validation(
                    "endpoints",
                    "a shop has at most 100 webhook endpoints",
                ));
            }
            let now = tx.now();
            let id = EndpointId::generate(now)?;
            let sealed = storage::seal_secret(tx, store, id, &secret)?;
            tx.execute(
                "INSERT INTO shopkeep_webhook_endpoints
                     (id, url, secret, enabled, from_seq, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)",
                args![id, new.url.as_str(), sealed, from_seq, now],
            )?;
            for event_type in &new.event_types {
                tx.execute(
                    "INSERT INTO shopkeep_webhook_subscriptions (event_type, endpoint_id)
                     VALUES (?1, ?2)",
                    args![event_type, id],
                )?;
            }
            tx.audit(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            tx.emit(&events::EndpointRegistered { endpoint_id: id })?;
            Ok((id, now))
        })?;
        let (id, now) = created;
        let endpoint = Endpoint {
            id,
            url: new.url,
            event_types: new.event_types,
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        Ok(RegisteredEndpoint { endpoint, secret })
    }

    /// Reads an endpoint (never its secret). Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown endpoint, or one the principal may not manage.
    pub fn get(&self, id: EndpointId) -> Result<Endpoint> {
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            storage::load_endpoint(tx, id)
        })
    }

    /// Every endpoint (at most 100), oldest first. Needs [`Action::ManageWebhooks`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn list(&self) -> Result<Vec<Endpoint>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ManageWebhooks, &Resource::Webhooks)?;
            let ids: Vec<EndpointId> = tx.query_map(
                "SELECT id FROM shopkeep_webhook_endpoints ORDER BY id",
                args![],
                |r| r.get(0),
            )?;
            ids.into_iter()
                .map(|id| storage::load_endpoint(tx, id))
                .collect()
        })
    }

    /// Enables or disables an endpoint. A disabled endpoint gets no deliveries for events
    /// fanned out meanwhile, and its pending deliveries wait (they are not due) until it is
    /// enabled again, when they are due at once. Setting the state it already has changes
    /// nothing. Needs [`Action::ManageWebhooks`]. Audited; emits
    /// `webhook.endpoint_enabled_changed` when the state changes.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown endpoint, or one the principal may not manage.
    pub fn set_enabled(&self, id: EndpointId, enabled: bool) -> Result<Endpoint> {
        self.store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            let current = storage::load_endpoint(tx, id)?;
            if current.enabled == enabled {
                return Ok(current);
            }
            let now = tx.now();
            tx.execute(
                "UPDATE shopkeep_webhook_endpoints SET enabled = ?2, updated_at = ?3 WHERE id = ?1",
                args![id, enabled, now],
            )?;
            // Pending deliveries of a disabled endpoint are parked (no due time), so that
            // `due` never steps over them; enabling makes them due now.
            let park = if enabled {
                "UPDATE shopkeep_webhook_deliveries SET due_at = ?2, updated_at = ?2
                 WHERE endpoint_id = ?1 AND status = 'pending' AND due_at IS NULL"
            } else {
                "UPDATE shopkeep_webhook_deliveries SET due_at = NULL, updated_at = ?2
                 WHERE endpoint_id = ?1 AND status = 'pending' AND due_at IS NOT NULL"
            };
            tx.execute(park, args![id, now])?;
            tx.audit(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            tx.emit(&events::EndpointEnabled {
                endpoint_id: id,
                enabled,
            })?;
            Ok(Endpoint {
                enabled,
                updated_at: now,
                ..current
            })
        })
    }

    /// Deletes an endpoint with its subscriptions, deliveries and delivery log, and destroys
    /// the data key that sealed its secret. Needs [`Action::ManageWebhooks`]. Audited (the
    /// audit log keeps that it existed); emits `webhook.endpoint_deleted`.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown endpoint, or one the principal may not manage.
    pub fn delete(&self, id: EndpointId) -> Result<()> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            // The cascade removes subscriptions, deliveries and attempts.
            let deleted = tx.execute(
                "DELETE FROM shopkeep_webhook_endpoints WHERE id = ?1",
                args![id],
            )?;
            if deleted == 0 {
                return Err(not_found(&Resource::WebhookEndpoint(id)));
            }
            store.destroy_data_key(tx, &storage::subject(id))?;
            tx.audit(
                self.principal,
                Action::ManageWebhooks,
                &Resource::WebhookEndpoint(id),
            )?;
            tx.emit(&events::EndpointDeleted { endpoint_id: id })
        })
    }
}
