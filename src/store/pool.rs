//! A small pool of reader connections.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::rollback_if_open;
use crate::error::{Error, ErrorKind, Result};

/// Reader connections waiting to be borrowed. Borrowers wait while all are out, up to `timeout`.
pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
    size: usize,
    timeout: Duration,
}

impl ReaderPool {
    pub(crate) fn new(connections: Vec<Connection>, timeout: Duration) -> Self {
        let size = connections.len();
        ReaderPool {
            idle: Mutex::new(connections),
            returned: Condvar::new(),
            size,
            timeout,
        }
    }

    /// How many connections the pool owns.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on a borrowed connection, waiting for one to come back if all are out.
    ///
    /// # Errors
    ///
    /// `Storage` if no connection came back within the pool timeout; `f`'s errors.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let borrowed = self.take()?;
        f(borrowed.connection()?)
    }

    /// Runs `f` on every connection of the pool (for diagnostics that must see each one).
    pub(crate) fn with_each<T>(
        &self,
        mut f: impl FnMut(&Connection) -> Result<T>,
    ) -> Result<Vec<T>> {
        // Hold all of them at once, so that each connection is visited exactly once.
        let borrowed = (0..self.size)
            .map(|_| self.take())
            .collect::<Result<Vec<Borrowed<'_>>>>()?;
        borrowed.iter().map(|b| f(b.connection()?)).collect()
    }

    fn take(&self) -> Result<Borrowed<'_>> {
        // A timeout too large for `Instant` (it is bounded by `StoreOptions`) waits forever.
        let deadline = Instant::now().checked_add(self.timeout);
        let mut idle = self.lock();
        loop {
            if let Some(conn) = idle.pop() {
                return Ok(Borrowed {
                    pool: self,
                    conn: Some(conn),
                });
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => self.timeout,
            };
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Storage,
                    format!(
                        "all {} reader connections stayed in use for the pool timeout ({} ms)",
                        self.size,
                        self.timeout.as_millis()
                    ),
                ));
            }
            idle = self
                .returned
                .wait_timeout(idle, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Connection>> {
        // Pushing and popping cannot leave the Vec half-changed, so a poisoned lock is still sound.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A borrowed connection; goes back to the pool when dropped, even if the borrower panicked.
struct Borrowed<'a> {
    pool: &'a ReaderPool,
    conn: Option<Connection>,
}

impl Borrowed<'_> {
    fn connection(&self) -> Result<&Connection> {
        // `conn` is `None` only inside `drop`.
        self.conn
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Storage, "reader connection already returned"))
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // The transaction helper rolls back on panic already; a connection must never go
            // back with a transaction open whoever used it (a stale snapshot blocks checkpoints).
            rollback_if_open(&conn);
            self.pool.lock().push(conn);
            self.pool.returned.notify_one();
        }
    }
}
