//! The outbox's SQL: emit inside a transaction, poll with a lease, acknowledge, purge.

use std::time::Duration;

use super::{Event, EventId, OutboxEvent};
use crate::access::{Action, Principal, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx};

/// The longest lease a poll may take.
const MAX_LEASE: Duration = Duration::from_secs(24 * 3600);
/// The largest batch a poll may take.
const MAX_BATCH: usize = 1000;

impl Tx<'_> {
    /// Writes `event` to the outbox inside this transaction.
    pub(crate) fn emit<E: OutboxEvent>(&self, event: &E) -> Result<()> {
        let data = serde_json::to_string(event).map_err(|e| {
            Error::new(ErrorKind::Storage, "an event could not be encoded").with_source(e)
        })?;
        self.execute(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![EventId::generate(self.now())?, E::KIND, E::VERSION, data, self.now()],
        )?;
        Ok(())
    }
}

/// The outbox, for a delivery job. From [`Store::events`].
#[derive(Debug)]
pub struct Events<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The outbox, for `principal` (which needs [`Action::ConsumeEvents`]: the system, or an
    /// owner's API key).
    pub fn events<'s>(&'s self, principal: &'s Principal) -> Events<'s> {
        Events {
            store: self,
            principal,
        }
    }
}

impl Events<'_> {
    /// Up to `limit` (at most 1,000) unacknowledged events whose lease has expired or that were
    /// never handed out, oldest first, leased to the caller for `lease` (at most a day).
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ConsumeEvents`]; `Validation` for a zero or too large
    /// `limit` or `lease`.
    pub fn poll(&self, limit: usize, lease: Duration) -> Result<Vec<Event>> {
        if !(1..=MAX_BATCH).contains(&limit) {
            return Err(Error::validation(
                "limit",
                "a batch holds 1 to 1,000 events",
            ));
        }
        if lease.is_zero() || lease > MAX_LEASE {
            return Err(Error::validation(
                "lease",
                "a lease lasts more than zero and at most a day",
            ));
        }
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ConsumeEvents, &Resource::Outbox)?;
            let now = tx.now();
            let until = now.checked_add(lease)?;
            let limit = i64::try_from(limit).unwrap_or(1);
            let mut events = tx.query_map(
                "UPDATE shopkeep_outbox SET leased_until = ?1, attempts = attempts + 1
                 WHERE seq IN (
                     SELECT seq FROM shopkeep_outbox
                     WHERE acked_at IS NULL AND (leased_until IS NULL OR leased_until <= ?2)
                     ORDER BY seq LIMIT ?3)
                 RETURNING seq, id, type, version, data, created_at, attempts",
                args![until, now, limit],
                |r| {
                    Ok(Event {
                        seq: r.get::<i64>(0)?.try_into().unwrap_or(0),
                        id: r.get(1)?,
                        kind: r.get(2)?,
                        version: r.get(3)?,
                        data: r.get(4)?,
                        created_at: r.get(5)?,
                        attempts: r.get(6)?,
                    })
                },
            )?;
            // RETURNING gives no order guarantee.
            events.sort_by_key(|e| e.seq);
            Ok(events)
        })
    }

    /// Acknowledges delivered events; they are never handed out again. Acknowledging an event
    /// twice, or one whose lease ran out meanwhile, is not an error.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ConsumeEvents`]; `NotFound` if an id is not in the outbox.
    pub fn ack(&self, ids: &[EventId]) -> Result<()> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ConsumeEvents, &Resource::Outbox)?;
            for id in ids {
                if tx.execute(
                    "UPDATE shopkeep_outbox SET acked_at = coalesce(acked_at, ?2), leased_until = NULL WHERE id = ?1",
                    args![id, tx.now()],
                )? == 0
                {
                    return Err(Error::new(ErrorKind::NotFound, format!("no event {id} in the outbox")));
                }
            }
            Ok(())
        })
    }

    /// Deletes acknowledged events acknowledged before `before`; returns how many. Run it from
    /// a maintenance job to keep the outbox small.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ConsumeEvents`].
    pub fn purge_acknowledged(&self, before: Timestamp) -> Result<usize> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ConsumeEvents, &Resource::Outbox)?;
            tx.execute(
                "DELETE FROM shopkeep_outbox WHERE acked_at IS NOT NULL AND acked_at < ?1",
                args![before],
            )
        })
    }

    /// How many events are not yet acknowledged (for monitoring the delivery job).
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ConsumeEvents`].
    pub fn pending(&self) -> Result<u64> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ConsumeEvents, &Resource::Outbox)?;
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM shopkeep_outbox WHERE acked_at IS NULL",
                args![],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}
