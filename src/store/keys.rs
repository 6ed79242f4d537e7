//! Storage of the key hierarchy: the wrapped root key and the wrapped per-subject data keys.
//!
//! The cryptography is in `crate::crypto`; this file only moves wrapped bytes in and out of
//! SQLite and keeps the rule that an unwrapped key is never trusted without reading its
//! wrapped form from the database first.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::{Store, Tx};
use crate::access::audit::Outcome;
use crate::crypto::KeyRing;
use crate::crypto::data_keys::{DataKey, Subject};
use crate::crypto::keys::Keys;
use crate::crypto::secret::SecretKey;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;

/// The `shopkeep_meta` key of the wrapped root key.
pub(super) const ROOT_KEY: &str = "root_key";

/// Reads the wrapped root key (parameter: [`ROOT_KEY`]).
pub(super) const READ_ROOT: &str = "SELECT value FROM shopkeep_meta WHERE key = ?1";

/// Stores a wrapped root key unless another process stored one first (parameters:
/// [`ROOT_KEY`], the wrapped key).
pub(super) const INSERT_ROOT: &str =
    "INSERT INTO shopkeep_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING";

/// Unwraps the root key of an existing store without writing anything. `None` if the store has
/// no root key yet.
///
/// # Errors
///
/// `Crypto` if the master key is not the one the root was wrapped with.
pub(super) fn unlock(conn: &Connection, master: &KeyRing) -> Result<Option<Keys>> {
    stored_root(conn)?
        .map(|w| Keys::derive(master.unwrap_root(&w)?))
        .transpose()
}

fn stored_root(conn: &Connection) -> Result<Option<Vec<u8>>> {
    conn.query_row(READ_ROOT, [ROOT_KEY], |r| r.get(0))
        .optional()
        .map_err(crate::error::sqlite)
}

/// Creates the root key of a new store. If another process created one first, that one wins
/// and is unwrapped instead.
pub(super) fn create_root(conn: &mut Connection, master: &KeyRing) -> Result<Keys> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(crate::error::sqlite)?;
    let keys = root_or_create(
        master,
        || stored_root(&tx),
        |wrapped| {
            tx.execute(INSERT_ROOT, rusqlite::params![ROOT_KEY, wrapped])
                .map(drop)
                .map_err(crate::error::sqlite)
        },
    )?;
    tx.commit().map_err(crate::error::sqlite)?;
    Ok(keys)
}

/// The root key `stored` reads, unwrapped; if there is none, a new one is wrapped and handed to
/// `store` first (which keeps another process's key if one was stored meanwhile), then read.
pub(super) fn root_or_create(
    master: &KeyRing,
    stored: impl Fn() -> Result<Option<Vec<u8>>>,
    store: impl FnOnce(&[u8]) -> Result<()>,
) -> Result<Keys> {
    let wrapped = match stored()? {
        Some(wrapped) => wrapped,
        None => {
            store(&master.wrap_root(&SecretKey::random()?)?)?;
            stored()?.ok_or_else(|| {
                Error::new(
                    ErrorKind::Storage,
                    "the root key vanished while it was created",
                )
            })?
        }
    };
    Keys::derive(master.unwrap_root(&wrapped)?)
}

impl Store {
    /// Re-wraps the store's root key under a new master key, atomically.
    ///
    /// Nothing else changes: every key derived from the root (data-key wrapping, blind index,
    /// audit MAC, token hashing) stays the same, so email lookups, audit verification and
    /// sessions keep working. From the commit on, opening the store needs `new_master`, and the
    /// old master key is refused. Backups taken before still open with the old key only.
    ///
    /// ```
    /// use shopkeep::{ErrorKind, KeyRing, Store};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("shop.db");
    /// let store = Store::open(&path, KeyRing::from_master_key([1; 32]))?;
    /// store.rotate_master_key(KeyRing::from_master_key([2; 32]))?;
    /// drop(store);
    ///
    /// let err = Store::open(&path, KeyRing::from_master_key([1; 32])).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Crypto);
    /// Store::open(&path, KeyRing::from_master_key([2; 32]))?;
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Storage` if the new wrapping cannot be written; the old master key then stays valid.
    pub fn rotate_master_key(&self, new_master: KeyRing) -> Result<()> {
        let wrapped = new_master.wrap_root(self.inner.keys.root())?;
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE shopkeep_meta SET value = ?2 WHERE key = ?1",
                args![ROOT_KEY, wrapped],
            )?;
            if changed == 1 {
                tx.audit_event("system", "rotate_master_key", "store", Outcome::Allowed)
            } else {
                Err(Error::new(
                    ErrorKind::Storage,
                    "the store has no root key to re-wrap",
                ))
            }
        })
    }

    /// The data key of `subject`, or `None` if it has none (never had, or was destroyed).
    pub(crate) fn data_key(&self, tx: &Tx<'_>, subject: &Subject) -> Result<Option<Arc<DataKey>>> {
        let wrapped: Option<Vec<u8>> = tx.query_opt(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
            args![subject.as_str()],
            |r| r.get(0),
        )?;
        self.data_key_from_wrapped(subject, wrapped)
    }

    /// The data key of `subject` from its wrapped form as the caller just read it from
    /// `shopkeep_data_keys` in its transaction (`None`: the subject has none), for a caller
    /// that reads it in the same statement as the row it decrypts. The rule of
    /// [`Store::data_key`] holds: the wrapped bytes read now decide, the cache only saves the
    /// unwrapping.
    pub(crate) fn data_key_from_wrapped(
        &self,
        subject: &Subject,
        wrapped: Option<Vec<u8>>,
    ) -> Result<Option<Arc<DataKey>>> {
        let Some(wrapped) = wrapped else {
            return Ok(None);
        };
        if let Some(key) = self.inner.data_keys.get(subject, &wrapped) {
            return Ok(Some(key));
        }
        let key = Arc::new(
            self.inner
                .keys
                .unwrap_data_key(subject.as_str(), &wrapped)?,
        );
        self.inner
            .data_keys
            .insert(subject.clone(), wrapped, Arc::clone(&key));
        Ok(Some(key))
    }

    /// The data key of `subject`, created inside the write transaction `tx` if it has none.
    pub(crate) fn data_key_or_create(
        &self,
        tx: &Tx<'_>,
        subject: &Subject,
    ) -> Result<Arc<DataKey>> {
        if let Some(key) = self.data_key(tx, subject)? {
            return Ok(key);
        }
        let key = DataKey::generate()?;
        let wrapped = self.inner.keys.wrap_data_key(subject.as_str(), &key)?;
        tx.execute(
            "INSERT INTO shopkeep_data_keys (subject, key_id, wrapped, created_at) VALUES (?1, ?2, ?3, ?4)",
            args![subject.as_str(), key.id(), wrapped, tx.now()],
        )?;
        // Not cached here: if `tx` rolls back, the key must not outlive it.
        Ok(Arc::new(key))
    }

    /// Deletes the wrapped data key of `subject` inside `tx` (crypto-shredding) and records
    /// that the WAL must be scrubbed of its older copies. Returns whether there was one. The
    /// key is unusable from the commit on; it is gone from the disk once the scrub has run
    /// (see [`Store::wal_scrub`]).
    pub(crate) fn destroy_data_key(&self, tx: &Tx<'_>, subject: &Subject) -> Result<bool> {
        let deleted = tx.execute(
            "DELETE FROM shopkeep_data_keys WHERE subject = ?1",
            args![subject.as_str()],
        )?;
        self.inner.data_keys.remove(subject);
        if deleted == 1 {
            self.record_pending_scrub(tx)?;
        }
        Ok(deleted == 1)
    }
}

#[cfg(test)]
mod tests;
