//! Group commit: concurrent writes share one SQLite transaction, so that they share its fsync.
//!
//! SQLite commits one transaction at a time, and at `synchronous = FULL` each commit waits for
//! an fsync: one writer connection gives eight callers what it gives one. Here each caller still
//! runs its own work on the writer connection, one at a time, but inside a `SAVEPOINT` of a
//! transaction that stays open while other callers are queued for the writer; the last caller of
//! the queue commits for all of them (see `docs/backends.md`, "The group commit"):
//!
//! - a caller that finds nobody queued behind it commits at once, so a lone caller never waits
//!   for company; a batch has at most [`MAX_BATCH`] callers;
//! - a caller whose work fails (or panics) is rolled back to its savepoint before the next
//!   caller runs, so nobody sees its writes and the numbers it took are taken again; the first
//!   caller of a transaction runs without a savepoint (nothing else is in the transaction yet),
//!   and its failure rolls back the whole transaction;
//! - a caller whose work succeeded returns only once its batch has committed; if the `COMMIT`
//!   fails, or SQLite rolled the transaction back on its own (a full disk, an I/O error, out of
//!   memory), every caller of the batch gets an error.
//!
//! SQLite-only: PostgreSQL groups commits itself.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use super::{Store, Tx, rollback_if_open, run_cached};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};

/// The most callers one shared transaction takes before it commits even with callers queued:
/// enough to share an fsync among many callers, few enough that the first caller of a batch is
/// not kept waiting for a long queue.
pub(super) const MAX_BATCH: usize = 16;

/// The writer connection and the batching state around it.
pub(super) struct GroupCommit {
    writer: Mutex<Writer>,
    /// Callers waiting for the writer lock: while there are any, the holder leaves the shared
    /// transaction open for them instead of committing.
    queued: AtomicUsize,
    /// Shared transactions committed so far (for tests and diagnostics).
    commits: AtomicU64,
}

/// The writer connection, and the shared transaction open on it, if any.
pub(super) struct Writer {
    conn: Connection,
    open: Option<OpenBatch>,
}

/// A shared transaction that is open on the writer.
struct OpenBatch {
    batch: Arc<Batch>,
    /// Callers whose work is in the transaction, waiting for its commit.
    members: usize,
}

/// What the callers of one batch wait for: the outcome of its commit.
#[derive(Default)]
struct Batch {
    outcome: Mutex<Option<std::result::Result<(), Failure>>>,
    decided: Condvar,
}

/// Why a batch did not commit, copied to each of its callers.
#[derive(Clone)]
struct Failure {
    kind: ErrorKind,
    message: String,
}

impl std::ops::Deref for Writer {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl GroupCommit {
    pub(super) fn new(conn: Connection) -> Self {
        GroupCommit {
            writer: Mutex::new(Writer { conn, open: None }),
            queued: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
        }
    }

    /// The writer connection for work outside the write path (a backup, a checkpoint, a read on
    /// an in-memory store), with the open batch committed first, so that such work neither sees
    /// nor rolls back other callers' uncommitted writes.
    pub(super) fn lock(&self) -> MutexGuard<'_, Writer> {
        let mut writer = self.lock_raw();
        writer.finish(&self.commits);
        writer
    }

    /// Runs `f` in the shared write transaction (in a savepoint of it if other callers' work is
    /// in it already), and returns once the work is committed (or has failed).
    ///
    /// # Errors
    ///
    /// `f`'s error, with its writes rolled back; a `Storage` (or SQLite's) error if the
    /// transaction cannot be begun, or if the batch the work joined did not commit.
    pub(super) fn write<T>(
        &self,
        store: &Store,
        now: Timestamp,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut writer = self.lock_raw();
        self.queued.fetch_sub(1, Ordering::SeqCst);

        if writer.open.is_none() {
            // Nothing may be left open here but a batch; this is the backstop if it ever were.
            rollback_if_open(&writer.conn);
            run_cached(&writer.conn, "BEGIN IMMEDIATE").map_err(crate::error::sqlite)?;
            writer.open = Some(OpenBatch {
                batch: Arc::default(),
                members: 0,
            });
        }

        let outcome = writer.run_call(store, now, f);
        let joined = match &outcome {
            Ok(Ok(_)) => writer.open.as_mut().map(|open| {
                open.members += 1;
                Arc::clone(&open.batch)
            }),
            _ => None,
        };
        let full = writer
            .open
            .as_ref()
            .is_some_and(|open| open.members >= MAX_BATCH);
        if full || self.queued.load(Ordering::SeqCst) == 0 {
            writer.finish(&self.commits);
        }
        drop(writer);

        let value = match outcome {
            Ok(result) => result?,
            Err(panic) => resume_unwind(panic),
        };
        match joined {
            Some(batch) => batch.wait().map(|()| value),
            // The work succeeded but the transaction was lost under it (see `run_call`).
            None => Err(lost_transaction()),
        }
    }

    /// How many shared transactions have committed since the store was opened.
    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// How many callers are waiting for the writer lock.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    fn lock_raw(&self) -> MutexGuard<'_, Writer> {
        // Callers' work runs under `catch_unwind`, and the state is consistent between
        // statements, so a poisoned lock is still sound.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What `catch_unwind` returns: the work's result, or the payload of its panic.
type Caught<T> = std::thread::Result<Result<T>>;

impl Writer {
    /// Runs `f` in the open transaction, between `SAVEPOINT` and `RELEASE` when the
    /// transaction already holds other callers' work, rolling back to the savepoint if it fails
    /// or panics. A caller alone in the transaction (no work of another caller in it yet) needs
    /// no savepoint: if it fails, the whole transaction is rolled back, and with it nothing but
    /// its own writes. That spares a lone caller, the common case, two statements and the copy
    /// SQLite keeps of every page changed inside a savepoint.
    ///
    /// If the shared transaction itself is lost (SQLite rolled it back on its own, or a
    /// savepoint statement failed), the whole batch fails, and a successful `f`'s result is
    /// still returned: the caller sees that it joined no batch and reports the loss.
    fn run_call<T>(
        &mut self,
        store: &Store,
        now: Timestamp,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Caught<T> {
        let alone = self.open.as_ref().is_some_and(|open| open.members == 0);
        if !alone && let Err(error) = run_cached(&self.conn, "SAVEPOINT shopkeep_call") {
            self.fail(&crate::error::sqlite(error));
            return Ok(Err(lost_transaction()));
        }
        let conn = &self.conn;
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&Tx::sqlite(store, conn, now))));
        let end = if self.conn.is_autocommit() {
            // SQLite rolled back the whole transaction (SQLITE_FULL, IOERR, NOMEM): every
            // earlier caller's work is gone with it.
            Err(Error::new(
                ErrorKind::Storage,
                "SQLite rolled the write transaction back",
            ))
        } else if alone {
            if !matches!(outcome, Ok(Ok(_))) {
                self.discard();
            }
            Ok(())
        } else if matches!(outcome, Ok(Ok(_))) {
            run_cached(&self.conn, "RELEASE shopkeep_call").map_err(crate::error::sqlite)
        } else {
            self.conn
                .execute_batch("ROLLBACK TO shopkeep_call; RELEASE shopkeep_call")
                .map_err(crate::error::sqlite)
        };
        if let Err(error) = end {
            self.fail(&error);
        }
        outcome
    }

    /// Ends the open batch: commits it (or rolls back a batch whose callers all failed) and
    /// tells its callers the outcome.
    fn finish(&mut self, commits: &AtomicU64) {
        let Some(open) = self.open.take() else {
            rollback_if_open(&self.conn);
            return;
        };
        if open.members == 0 {
            rollback_if_open(&self.conn);
            open.batch.decide(Ok(()));
            return;
        }
        match run_cached(&self.conn, "COMMIT") {
            Ok(()) => {
                commits.fetch_add(1, Ordering::SeqCst);
                open.batch.decide(Ok(()));
            }
            Err(error) => {
                // A failed COMMIT may leave the transaction open (a deferred constraint) or
                // rolled back (an I/O error): either way none of it is in the file.
                rollback_if_open(&self.conn);
                open.batch
                    .decide(Err(Failure::from(&crate::error::sqlite(error))));
            }
        }
    }

    /// Rolls back the open transaction, which holds no caller's work (`members` is 0): the
    /// next caller begins a new one.
    fn discard(&mut self) {
        rollback_if_open(&self.conn);
        if let Some(open) = self.open.take() {
            open.batch.decide(Ok(()));
        }
    }

    /// Rolls back the whole shared transaction and fails every caller waiting for it.
    fn fail(&mut self, cause: &Error) {
        rollback_if_open(&self.conn);
        if let Some(open) = self.open.take() {
            open.batch.decide(Err(Failure::from(cause)));
        }
    }
}

impl Batch {
    fn decide(&self, outcome: std::result::Result<(), Failure>) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.decided.notify_all();
    }

    /// Waits until the batch has committed or failed.
    fn wait(&self) -> Result<()> {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &*outcome {
                Some(Ok(())) => return Ok(()),
                Some(Err(failure)) => {
                    return Err(Error::new(
                        failure.kind,
                        format!(
                            "the write did not commit (its transaction, shared with concurrent \
                             writes, failed): {}",
                            failure.message
                        ),
                    ));
                }
                None => {
                    outcome = self
                        .decided
                        .wait(outcome)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

impl From<&Error> for Failure {
    fn from(error: &Error) -> Self {
        Failure {
            kind: error.kind(),
            message: error.message().to_owned(),
        }
    }
}

fn lost_transaction() -> Error {
    Error::new(
        ErrorKind::Storage,
        "the write did not commit: its transaction was rolled back",
    )
}

#[cfg(test)]
mod tests;
