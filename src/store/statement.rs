//! The statements a repository runs inside its transaction: the one door to the engine.
//!
//! Every statement is prepared once per connection and kept in its statement cache (shopkeep's
//! SQL is a fixed set of texts), bound through [`Param`] and read through [`Row`], so that a
//! repository names neither rusqlite nor PostgreSQL's driver (`docs/backends.md`).

use rusqlite::params_from_iter;

use super::{Conn, Tx};
use crate::error::{Error, ErrorKind, Result, sqlite};
use crate::sql::{Bound, Param, Row};

impl Tx<'_> {
    /// Runs a statement that returns no rows and returns how many rows it changed.
    ///
    /// # Errors
    ///
    /// The engine's error: `Conflict` for a violated constraint, `Storage` otherwise.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match self.conn {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql).map_err(sqlite)?;
                statement.execute(bind(params)).map_err(sqlite)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.execute(sql, params),
        }
    }

    /// The first row of a query, read by `read`.
    ///
    /// # Errors
    ///
    /// `Storage` if the query returns no row; the engine's error or `read`'s.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, read)?
            .ok_or_else(|| Error::new(ErrorKind::Storage, "the query returned no rows"))
    }

    /// The first row of a query, read by `read`, or `None` if it returns none.
    ///
    /// # Errors
    ///
    /// The engine's error or `read`'s.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.conn {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql).map_err(sqlite)?;
                let mut rows = statement.query(bind(params)).map_err(sqlite)?;
                match rows.next().map_err(sqlite)? {
                    Some(row) => read(&Row::sqlite(row)).map(Some),
                    None => Ok(None),
                }
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => match conn.query(sql, params)?.first() {
                Some(row) => read(&Row::postgres(row)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// Every row of a query, each read by `read`, in the order the query gives.
    ///
    /// # Errors
    ///
    /// The engine's error or `read`'s, at the first row that fails.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut read: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, |row| {
            out.push(read(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands every row of a query to `each` as it is read, without collecting them (for
    /// exports and scans whose result need not fit in memory at once).
    ///
    /// # Errors
    ///
    /// The engine's error or `each`'s, at the first row that fails; the rows before it were
    /// handed over.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self.conn {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql).map_err(sqlite)?;
                let mut rows = statement.query(bind(params)).map_err(sqlite)?;
                while let Some(row) = rows.next().map_err(sqlite)? {
                    each(&Row::sqlite(row))?;
                }
            }
            // The client reads the whole result before handing it over: a PostgreSQL
            // connection runs one statement at a time, and `each` may run others.
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => {
                for row in &conn.query(sql, params)? {
                    each(&Row::postgres(row))?;
                }
            }
        }
        Ok(())
    }
}

fn bind<'p>(params: &'p [&'p dyn Param]) -> impl rusqlite::Params + 'p {
    params_from_iter(params.iter().map(|param| Bound(*param)))
}
