//! Reads (and, for tamper tests, writes) a store's tables behind shopkeep's back, on the suite's
//! engine: through a raw SQLite connection to the store's file, or, when the suite runs on
//! PostgreSQL, through `psql` in the schema standing in for the file (the schema of the store
//! this thread opened last through `common::open`).

use shopkeep::Store;

use super::postgres::last_schema;

/// The rows `sql` answers, each as psql prints them unaligned (`|` between columns).
fn psql(store: &Store, sql: &str) -> Vec<String> {
    assert!(store.path().is_none(), "a SQLite store");
    let config = last_schema().expect("a store opened through super::open");
    let out = super::postgres::psql(&config, sql);
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The number of rows in `table`.
pub fn count(store: &Store, table: &str) -> i64 {
    count_where(store, table, "true")
}

/// The number of rows in `table` that meet the SQL `condition`.
pub fn count_where(store: &Store, table: &str, condition: &str) -> i64 {
    if store.path().is_some() {
        return super::count_where(store, table, condition);
    }
    let sql = format!("SELECT count(*) FROM {table} WHERE {condition}");
    psql(store, &sql)[0].parse().unwrap()
}

/// Every row of `tables`, as text, for before/after comparisons.
pub fn dump(store: &Store, tables: &[&str]) -> Vec<String> {
    if store.path().is_some() {
        return super::dump(store, tables);
    }
    let mut out = Vec::new();
    for table in tables {
        let rows = psql(store, &format!("SELECT * FROM {table} ORDER BY 1"));
        out.extend(rows.into_iter().map(|row| format!("{table}: {row}")));
    }
    out
}

/// The first column of the rows `sql` answers, as text.
pub fn texts(store: &Store, sql: &str) -> Vec<String> {
    if store.path().is_some() {
        let conn = super::raw(store);
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok(match r.get::<_, rusqlite::types::Value>(0)? {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
            })
            .unwrap();
        return rows.map(Result::unwrap).collect();
    }
    psql(store, sql)
}

/// A literal of `bytes` in the engine's SQL.
pub fn blob(store: &Store, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match store.path() {
        Some(_) => format!("X'{hex}'"),
        None => format!("'\\x{hex}'::bytea"),
    }
}

/// Every row of every table of the store's PostgreSQL schema, as text, binary columns
/// with their printable bytes as they are.
pub fn everything(store: &Store) -> String {
    let tables = psql(
        store,
        "SELECT table_name FROM information_schema.tables
             WHERE table_schema = current_schema() ORDER BY 1",
    );
    let mut out = String::new();
    for table in tables {
        let rows = psql(
            store,
            &format!("SET LOCAL bytea_output = 'escape'; SELECT * FROM {table}"),
        );
        out.push_str(&rows.join("\n"));
    }
    out
}

/// Runs the `UPDATE` or `DELETE` `sql` behind shopkeep's back; answers the rows it changed.
pub fn execute(store: &Store, sql: &str) -> usize {
    if store.path().is_some() {
        return super::raw(store).execute(sql, []).unwrap();
    }
    let sql = format!("WITH changed AS ({sql} RETURNING 1) SELECT count(*) FROM changed");
    psql(store, &sql)[0].parse().unwrap()
}

/// The bytes of the binary `column` of the one row of `from` (a table and its condition).
pub fn bytes(store: &Store, column: &str, from: &str) -> Vec<u8> {
    let hex = match store.path() {
        Some(_) => format!("hex({column})"),
        None => format!("encode({column}, 'hex')"),
    };
    let rows = texts(store, &format!("SELECT {hex} FROM {from}"));
    assert_eq!(rows.len(), 1, "{from}");
    (0..rows[0].len() / 2)
        .map(|i| u8::from_str_radix(&rows[0][2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
