//! Scrubbing the write-ahead log after crypto-shredding, without making writers wait for readers.
//!
//! Deleting a wrapped data key commits at once; `secure_delete` zeroes the row in the page the
//! delete writes, but older copies of that page stay in the WAL until it is truncated, and a
//! truncating checkpoint can only finish when no reader still uses an old snapshot. Waiting for
//! that while holding the write lock stalls every writer of the shop, so instead:
//!
//! - the transaction that destroys a key also records a pending scrub (a `shopkeep_meta` row,
//!   so that it survives a crash or a restart);
//! - after the commit, and after later writes at most once a second, the writer makes one
//!   non-blocking attempt: a `TRUNCATE` checkpoint with the busy timeout set to zero, which
//!   gives up at once if a reader is in the way;
//! - [`Store::maintain`] retries for up to 2 s without holding the write lock between
//!   attempts;
//! - the record is cleared only by an attempt that truncated the WAL with no commit of another
//!   connection in between, and [`Store::wal_scrub`] shows it to the host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OptionalExtension};

use super::{Sqlite, Store, Tx};
use crate::clock::Timestamp;
use crate::error::Result;

/// The `shopkeep_meta` key of a pending scrub; its value is the time of the oldest erasure not
/// yet scrubbed (RFC 3339 text, as bytes: the column is a STRICT `BLOB`).
const PENDING: &str = "wal_scrub_pending";
/// How often writes retry a pending scrub on the side: often enough to finish soon after the
/// last old reader ends, rarely enough to cost nothing measurable.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// The pause between the attempts of [`Store::maintain`], during which writers run.
const MAINTAIN_PAUSE: Duration = Duration::from_millis(20);
/// How long [`Store::maintain`] keeps retrying before it reports the scrub still pending.
const MAINTAIN_BUDGET: Duration = Duration::from_secs(2);

/// Whether old copies of erased data may still be in the database's write-ahead log.
///
/// From [`Store::wal_scrub`] and [`Store::maintain`]. See `docs/security.md`, "Erasure by
/// crypto-shredding", for what each state means for an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalScrub {
    /// Every erasure is complete in the file and its WAL (an in-memory store is always clean).
    Clean,
    /// An erasure has committed (its data is unreadable), but the WAL may still hold an older
    /// copy of the destroyed key until a reader that started before it ends and a checkpoint
    /// truncates the WAL. `since` is the time of the oldest such erasure.
    Pending {
        /// When the oldest erasure not yet scrubbed committed, by the store's clock.
        since: Timestamp,
    },
}

/// The in-process side of the pending-scrub record.
#[derive(Debug, Default)]
pub(super) struct ScrubState {
    /// Set when this store shredded a key (or found a record at open) and not yet scrubbed.
    pending: AtomicBool,
    /// When a write last tried the scrub on the side.
    last_attempt: Mutex<Option<Instant>>,
}

impl ScrubState {
    /// The state of a store whose file has (or lacks) a pending record.
    pub(super) fn new(pending: bool) -> Self {
        ScrubState {
            pending: AtomicBool::new(pending),
            last_attempt: Mutex::new(None),
        }
    }
}

/// Whether the database at `conn` has a pending scrub record.
pub(super) fn has_pending(conn: &Connection) -> Result<bool> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM shopkeep_meta WHERE key = ?1",
            [PENDING],
            |r| r.get(0),
        )
        .optional()
        .map_err(crate::error::sqlite)?;
    Ok(found.is_some())
}

/// When the pending scrub was recorded, or `unknown` if the record does not parse.
fn pending_since(conn: &Connection, unknown: Timestamp) -> Result<Option<Timestamp>> {
    let value: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM shopkeep_meta WHERE key = ?1")
        .map_err(crate::error::sqlite)?
        .query_row([PENDING], |r| r.get(0))
        .optional()
        .map_err(crate::error::sqlite)?;
    // A record that does not parse is still a pending scrub.
    Ok(value.map(|v| Timestamp::parse_rfc3339(&String::from_utf8_lossy(&v)).unwrap_or(unknown)))
}

impl Store {
    /// Records, inside the key-destroying transaction `tx`, that the WAL must be scrubbed.
    pub(super) fn record_pending_scrub(&self, tx: &Tx<'_>) -> Result<()> {
        let Some(sqlite) = self.file_store() else {
            return Ok(()); // an in-memory store has no WAL, PostgreSQL none of ours
        };
        tx.execute(
            "INSERT INTO shopkeep_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            crate::sql::args![PENDING, tx.now().to_string().into_bytes()],
        )?;
        // Set before the commit: if `tx` rolls back, an attempt finds nothing to do.
        sqlite.scrub.pending.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Whether erased data may still have an older copy in the WAL. Reads one row.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    /// use shopkeep::store::WalScrub;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("shop.db"), KeyRing::from_master_key([7; 32]))?;
    /// assert_eq!(store.wal_scrub()?, WalScrub::Clean);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A `Storage` error if the database cannot be read.
    pub fn wal_scrub(&self) -> Result<WalScrub> {
        if self.file_store().is_none() {
            return Ok(WalScrub::Clean);
        }
        let since = self.read(|tx| match tx.sqlite_connection() {
            Some(conn) => pending_since(conn, tx.now()),
            None => Ok(None),
        })?;
        Ok(since.map_or(WalScrub::Clean, |since| WalScrub::Pending { since }))
    }

    /// Maintenance for a periodic job (every few minutes, or after a batch of erasures):
    /// finishes a pending WAL scrub.
    ///
    /// It retries a non-blocking truncating checkpoint for up to 2 seconds, pausing
    /// between attempts without holding the write lock, so writers carry on while it runs. It
    /// can only finish once every reader that started before the erasure has ended; until then
    /// it returns [`WalScrub::Pending`], and a later call (or a later write) finishes the job.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    /// use shopkeep::store::WalScrub;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("shop.db"), KeyRing::from_master_key([7; 32]))?;
    /// assert_eq!(store.maintain()?, WalScrub::Clean);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A `Storage` error if the database cannot be read or written.
    pub fn maintain(&self) -> Result<WalScrub> {
        #[cfg(feature = "postgres")]
        if let super::Engine::Postgres(postgres) = &self.inner.engine {
            postgres.vacuum_data_keys()?;
            return Ok(WalScrub::Clean);
        }
        if self.file_store().is_none() {
            return Ok(WalScrub::Clean);
        }
        let started = Instant::now();
        loop {
            let state = self.scrub_now()?;
            if state == WalScrub::Clean || started.elapsed() >= MAINTAIN_BUDGET {
                return Ok(state);
            }
            std::thread::sleep(MAINTAIN_PAUSE);
        }
    }

    /// One non-blocking attempt to finish a pending scrub, right now.
    ///
    /// # Errors
    ///
    /// A `Storage` error if the database cannot be read or written.
    pub(crate) fn scrub_now(&self) -> Result<WalScrub> {
        let Some(sqlite) = self.file_store() else {
            return Ok(WalScrub::Clean);
        };
        let conn = sqlite.writer.lock();
        let Some(since) = pending_since(&conn, self.now())? else {
            sqlite.scrub.pending.store(false, Ordering::SeqCst);
            return Ok(WalScrub::Clean);
        };
        if self.try_truncate(&conn, sqlite)? {
            sqlite.scrub.pending.store(false, Ordering::SeqCst);
            Ok(WalScrub::Clean)
        } else {
            Ok(WalScrub::Pending { since })
        }
    }

    /// After a write: retries a pending scrub, at most once per [`RETRY_EVERY`]. Its errors
    /// are dropped: the write has committed, and the record stays for the next attempt.
    pub(super) fn scrub_on_the_side(&self) {
        let Some(sqlite) = self.file_store() else {
            return;
        };
        if !sqlite.scrub.pending.load(Ordering::SeqCst) {
            return;
        }
        {
            let mut last = sqlite
                .scrub
                .last_attempt
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < RETRY_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.scrub_now();
    }

    /// One truncating checkpoint that gives up at once if a reader or another process is in
    /// the way; on success, clears the record. Returns whether the WAL was truncated and the
    /// record cleared.
    fn try_truncate(&self, conn: &Connection, sqlite: &Sqlite) -> Result<bool> {
        let before: i64 = conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(crate::error::sqlite)?;
        match truncate_without_waiting(conn, sqlite)? {
            Ok(0) => {}
            // A reader still uses old frames (1), or another connection holds a lock we did not
            // wait for (BUSY): not an error, the scrub stays pending.
            Ok(_) => return Ok(false),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => return Ok(false),
            Err(e) => return Err(crate::error::sqlite(e)),
        }
        // Clear the record only if no other connection committed since before the checkpoint:
        // another process may have shredded a key whose old page the truncation did not cover.
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(crate::error::sqlite)?;
        let cleared = (|| -> Result<bool> {
            let after: i64 = conn
                .query_row("PRAGMA data_version", [], |r| r.get(0))
                .map_err(crate::error::sqlite)?;
            if after != before {
                return Ok(false);
            }
            conn.prepare_cached("DELETE FROM shopkeep_meta WHERE key = ?1")
                .map_err(crate::error::sqlite)?
                .execute([PENDING])
                .map_err(crate::error::sqlite)?;
            Ok(true)
        })();
        let finish = match cleared {
            Ok(true) => conn.execute_batch("COMMIT"),
            _ => conn.execute_batch("ROLLBACK"),
        };
        super::rollback_if_open(conn);
        finish.map_err(crate::error::sqlite)?;
        if cleared? {
            // Clearing the record wrote a page to the WAL; truncate it again so that a scrub
            // leaves the WAL empty. Best effort: that page holds nothing erased.
            let _ = truncate_without_waiting(conn, sqlite)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The SQLite engine of a file store: `None` for an in-memory store (no WAL) and for a
    /// PostgreSQL store (its WAL is the server's, see `docs/security.md`).
    fn file_store(&self) -> Option<&Sqlite> {
        self.sqlite().filter(|sqlite| sqlite.readers.is_some())
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` with the busy timeout at zero, so that it gives up at once
/// instead of waiting for readers while holding the write lock. The outer error is the
/// timeout's; the inner result is the checkpoint's (its busy flag, 0 when done).
fn truncate_without_waiting(conn: &Connection, sqlite: &Sqlite) -> Result<rusqlite::Result<i64>> {
    conn.busy_timeout(Duration::ZERO)
        .map_err(crate::error::sqlite)?;
    let checkpoint = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
    // Restored whatever the checkpoint did, so the writer never keeps a zero timeout.
    conn.busy_timeout(sqlite.settings.busy_timeout)
        .map_err(crate::error::sqlite)?;
    Ok(checkpoint)
}
