//! A small pool of reader connections.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use crate::error::{Error, ErrorKind, Result};

/// Reader connections waiting to be borrowed. Borrowers block while all are out.
pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
    size: usize,
}

impl ReaderPool {
    pub(crate) fn new(connections: Vec<Connection>) -> Self {
        let size = connections.len();
        ReaderPool {
            idle: Mutex::new(connections),
            returned: Condvar::new(),
            size,
        }
    }

    /// How many connections the pool owns.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on a borrowed connection, waiting for one to come back if all are out.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let borrowed = self.take();
        f(borrowed.connection()?)
    }

    /// Runs `f` on every connection of the pool (for diagnostics that must see each one).
    pub(crate) fn with_each<T>(
        &self,
        mut f: impl FnMut(&Connection) -> Result<T>,
    ) -> Result<Vec<T>> {
        // Hold all of them at once, so that each connection is visited exactly once.
        let borrowed: Vec<Borrowed<'_>> = (0..self.size).map(|_| self.take()).collect();
        borrowed.iter().map(|b| f(b.connection()?)).collect()
    }

    fn take(&self) -> Borrowed<'_> {
        let mut idle = self.lock();
        loop {
            if let Some(conn) = idle.pop() {
                return Borrowed {
                    pool: self,
                    conn: Some(conn),
                };
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
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
            self.pool.lock().push(conn);
            self.pool.returned.notify_one();
        }
    }
}
