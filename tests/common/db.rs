//! Direct SQL on a test store's database on either engine, behind shopkeep's back: the SQLite
//! file through rusqlite, or the store's PostgreSQL schema through `psql` (when the suite runs
//! on PostgreSQL, see `postgres::schema_for`). For reading rows the public API does not show
//! (counts, before/after dumps, the stock ledger) and for trying to change them by hand.

use shopkeep::Store;

use super::{Shop, postgres, raw};

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

impl Db {
    /// A connection to `store`'s database: its file, or the schema of the store this thread
    /// opened last through `common::open` (when the suite runs on PostgreSQL).
    pub fn of(store: &Store) -> Db {
        match store.path() {
            Some(_) => Db::Sqlite(raw(store)),
            None => {
                Db::Postgres(postgres::last_schema().expect("a store opened through common::open"))
            }
        }
    }

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
    let separators = ["-F", "\u{1f}", "-R", "\u{1e}", "-P", "null="];
    let out = postgres::psql_with(config, sql, &separators);
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The first column of the rows `sql` answers, as text (NULL as "").
pub fn texts(store: &Store, sql: &str) -> Vec<String> {
    Db::of(store)
        .rows(sql)
        .into_iter()
        .map(|row| row.into_iter().next().unwrap_or_default())
        .collect()
}

/// Runs `sql` (one or more statements) behind shopkeep's back; panics with the engine's error.
pub fn run(store: &Store, sql: &str) {
    Db::of(store)
        .execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Runs the `UPDATE` or `DELETE` `sql` behind shopkeep's back; answers the rows it changed.
pub fn execute(store: &Store, sql: &str) -> usize {
    match Db::of(store) {
        Db::Sqlite(conn) => conn.execute(sql, []).unwrap(),
        db @ Db::Postgres(_) => {
            let sql = format!("WITH changed AS ({sql} RETURNING 1) SELECT count(*) FROM changed");
            usize::try_from(db.int(&sql)).unwrap()
        }
    }
}

/// A literal of `bytes` in the engine's SQL.
pub fn blob(store: &Store, bytes: &[u8]) -> String {
    Db::of(store).bytes(bytes)
}

/// Every row of every table of the store's PostgreSQL schema, as text, binary columns with
/// their printable bytes as they are: what the file's bytes are on SQLite.
pub fn everything(store: &Store) -> String {
    let Db::Postgres(config) = Db::of(store) else {
        panic!("a PostgreSQL store")
    };
    let tables = psql(
        &config,
        "SELECT table_name FROM information_schema.tables
         WHERE table_schema = current_schema() ORDER BY 1",
    )
    .unwrap();
    let mut out = String::new();
    for table in tables.split('\u{1e}').filter(|t| !t.trim().is_empty()) {
        let rows = psql(
            &config,
            &format!(
                "SET LOCAL bytea_output = 'escape'; SELECT * FROM {}",
                table.trim()
            ),
        )
        .unwrap();
        out.push_str(&rows);
    }
    out
}

/// The bytes of the binary `column` of the one row of `from` (a table and its condition).
pub fn bytes(store: &Store, column: &str, from: &str) -> Vec<u8> {
    let db = Db::of(store);
    let hex = if db.is_postgres() {
        format!("encode({column}, 'hex')")
    } else {
        format!("hex({column})")
    };
    let rows = db.rows(&format!("SELECT {hex} FROM {from}"));
    assert_eq!(rows.len(), 1, "{from}");
    let text = &rows[0][0];
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
