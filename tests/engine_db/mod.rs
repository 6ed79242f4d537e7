//! Direct SQL on a test shop's database on either engine: the SQLite file through rusqlite, or
//! the shop's PostgreSQL schema through `psql`. For reading rows the public API does not show
//! (counts, before/after dumps, the stock ledger) and for trying to change them by hand.
//! (A candidate for tests/common: `common::raw` and its helpers read SQLite only.)
#![allow(
    dead_code, // each test binary uses part of it
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

use shopkeep::catalog::VariantId;

use crate::common::{Shop, postgres, raw, uuid_bytes};

/// A connection to a shop's database, on the engine the shop runs on.
pub enum Db {
    Sqlite(rusqlite::Connection),
    /// The connection string of the shop's schema.
    Postgres(String),
}

/// A connection to `shop`'s database.
pub fn db(shop: &Shop) -> Db {
    if let Some(schema) = &shop._schema {
        return Db::Postgres(schema.config());
    }
    if shop.store.path().is_none() {
        // The suite runs on PostgreSQL: the shop's "file" is a schema (see `common::open`).
        if let Some(config) = postgres::schema_for(&shop._dir.path().join("shop.db")) {
            return Db::Postgres(config);
        }
    }
    Db::Sqlite(raw(&shop.store))
}

/// The number of rows in `table` of `shop`'s database.
pub fn count(shop: &Shop, table: &str) -> i64 {
    db(shop).count_where(table, "TRUE")
}

/// The number of rows in `table` of `shop`'s database that meet the SQL `condition`.
pub fn count_where(shop: &Shop, table: &str, condition: &str) -> i64 {
    db(shop).count_where(table, condition)
}

/// Every row of `tables`, as text, for before/after comparisons.
pub fn dump(shop: &Shop, tables: &[&str]) -> Vec<String> {
    let db = db(shop);
    let mut out = Vec::new();
    for table in tables {
        for row in db.rows(&format!("SELECT * FROM {table} ORDER BY 1")) {
            out.push(format!("{table}: {row:?}"));
        }
    }
    out
}

/// The sum of a variant's stock ledger (what every movement adds up to).
pub fn ledger_sum(shop: &Shop, variant: VariantId) -> i64 {
    let db = db(shop);
    let id = db.bytes(&uuid_bytes(&variant.to_string()));
    db.int(&format!(
        "SELECT coalesce(sum(delta), 0) FROM shopkeep_stock_ledger WHERE variant_id = {id}"
    ))
}

impl Db {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// `bytes` as an SQL literal of this engine.
    pub fn bytes(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match self {
            Db::Sqlite(_) => format!("X'{hex}'"),
            Db::Postgres(_) => format!("'\\x{hex}'::bytea"),
        }
    }

    pub fn count_where(&self, table: &str, condition: &str) -> i64 {
        self.int(&format!("SELECT count(*) FROM {table} WHERE {condition}"))
    }

    /// The one integer `sql` selects.
    pub fn int(&self, sql: &str) -> i64 {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].parse().unwrap()
    }

    /// The rows `sql` selects, each value as text (NULL as "").
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).unwrap();
                let columns = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..columns)
                        .map(|i| {
                            Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                                rusqlite::types::Value::Null => String::new(),
                                rusqlite::types::Value::Integer(n) => n.to_string(),
                                rusqlite::types::Value::Real(x) => x.to_string(),
                                rusqlite::types::Value::Text(t) => t,
                                rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                            })
                        })
                        .collect::<Result<Vec<_>, rusqlite::Error>>()
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
            Db::Postgres(config) => {
                let out = psql(config, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                out.strip_suffix('\n')
                    .unwrap_or(&out)
                    .split('\u{1e}')
                    .filter(|row| !row.is_empty())
                    .map(|row| row.split('\u{1f}').map(str::to_owned).collect())
                    .collect()
            }
        }
    }

    /// Runs `sql` (one or more statements, in one transaction), or returns the engine's error.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch(sql).map_err(|e| e.to_string()),
            Db::Postgres(config) => psql(config, sql).map(drop),
        }
    }
}

/// Runs `sql` with `psql` in one transaction; its output with fields separated by U+001F and
/// rows by U+001E, or its error message.
fn psql(config: &str, sql: &str) -> Result<String, String> {
    let mut child = Command::new("psql")
        .arg(config)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-1"])
        .args(["-F", "\u{1f}", "-R", "\u{1e}", "-P", "null=", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs (install postgresql-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
