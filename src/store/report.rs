//! What each pooled connection is really set to, read back from SQLite.

use std::time::Duration;

use rusqlite::Connection;

use super::{Durability, Store};
use crate::error::Result;

/// Which job a connection does in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionRole {
    /// The one connection that writes.
    Writer,
    /// A pooled connection that only reads.
    Reader,
}

/// The settings of one connection as SQLite reports them (not as they were asked for).
///
/// From [`Store::connection_report`], for health checks and for tests that hold the store to its
/// promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    role: ConnectionRole,
    journal_mode: String,
    durability: Option<Durability>,
    foreign_keys: bool,
    secure_delete: bool,
    trusted_schema: bool,
    query_only: bool,
    busy_timeout: Duration,
    wal_autocheckpoint: u32,
    journal_size_limit: Option<u64>,
}

impl ConnectionReport {
    /// Writer or reader.
    pub fn role(&self) -> ConnectionRole {
        self.role
    }

    /// `PRAGMA journal_mode`, lower case: `wal` for a file store, `memory` in memory.
    pub fn journal_mode(&self) -> &str {
        &self.journal_mode
    }

    /// `PRAGMA synchronous` as a [`Durability`], or `None` for a level shopkeep never sets.
    pub fn durability(&self) -> Option<Durability> {
        self.durability
    }

    /// `PRAGMA foreign_keys`.
    pub fn foreign_keys(&self) -> bool {
        self.foreign_keys
    }

    /// `PRAGMA secure_delete`: deleted content is overwritten with zeros.
    pub fn secure_delete(&self) -> bool {
        self.secure_delete
    }

    /// `PRAGMA trusted_schema`: off, so that the schema cannot call functions with side effects.
    pub fn trusted_schema(&self) -> bool {
        self.trusted_schema
    }

    /// `PRAGMA query_only`: on for readers.
    pub fn query_only(&self) -> bool {
        self.query_only
    }

    /// `PRAGMA busy_timeout`.
    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// `PRAGMA wal_autocheckpoint`: the WAL is checkpointed once it holds this many pages.
    pub fn wal_autocheckpoint(&self) -> u32 {
        self.wal_autocheckpoint
    }

    /// `PRAGMA journal_size_limit` in bytes: the most a WAL file keeps after a checkpoint
    /// resets it, or `None` for no limit.
    pub fn journal_size_limit(&self) -> Option<u64> {
        self.journal_size_limit
    }

    fn read(conn: &Connection, role: ConnectionRole) -> Result<Self> {
        let pragma = |name: &str| -> rusqlite::Result<i64> {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        };
        let synchronous = pragma("synchronous").map_err(crate::error::sqlite)?;
        let durability = [Durability::Full, Durability::Normal]
            .into_iter()
            .find(|d| d.synchronous_code() == synchronous);
        Ok(ConnectionReport {
            role,
            journal_mode: conn
                .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
                .map_err(crate::error::sqlite)?
                .to_ascii_lowercase(),
            durability,
            foreign_keys: pragma("foreign_keys").map_err(crate::error::sqlite)? == 1,
            secure_delete: pragma("secure_delete").map_err(crate::error::sqlite)? == 1,
            trusted_schema: pragma("trusted_schema").map_err(crate::error::sqlite)? == 1,
            query_only: pragma("query_only").map_err(crate::error::sqlite)? == 1,
            busy_timeout: Duration::from_millis(
                pragma("busy_timeout")
                    .map_err(crate::error::sqlite)?
                    .try_into()
                    .unwrap_or(0),
            ),
            wal_autocheckpoint: pragma("wal_autocheckpoint")
                .map_err(crate::error::sqlite)?
                .try_into()
                .unwrap_or(0),
            // SQLite reports a negative limit for "none".
            journal_size_limit: pragma("journal_size_limit")
                .map_err(crate::error::sqlite)?
                .try_into()
                .ok(),
        })
    }
}

impl Store {
    /// Reads back the settings of every connection the store holds: the writer first, then
    /// each reader. Waits for every reader to be free, up to the pool timeout.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    /// use shopkeep::store::ConnectionRole;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("shop.db"), KeyRing::from_master_key([7; 32]))?;
    /// for conn in store.connection_report()? {
    ///     assert_eq!(conn.journal_mode(), "wal");
    ///     assert!(conn.foreign_keys() && conn.secure_delete());
    ///     assert_eq!(conn.query_only(), conn.role() == ConnectionRole::Reader);
    /// }
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A `Storage` error if a connection cannot be queried, or a reader stayed in use for the
    /// whole [pool timeout](crate::StoreOptions::pool_timeout); `Unsupported` for a PostgreSQL
    /// store (its server reports its connections in `pg_stat_activity`).
    pub fn connection_report(&self) -> Result<Vec<ConnectionReport>> {
        let Some(sqlite) = self.sqlite() else {
            return Err(super::not_a_file("reported on connection by connection"));
        };
        let mut report = vec![ConnectionReport::read(
            &sqlite.writer.lock(),
            ConnectionRole::Writer,
        )?];
        if let Some(pool) = &sqlite.readers {
            report.extend(
                pool.with_each(|conn| ConnectionReport::read(conn, ConnectionRole::Reader))?,
            );
        }
        Ok(report)
    }
}
