//! Reading (or tampering with) a store's rows directly on either engine: through the file on
//! SQLite (`common::raw`), through `psql` on the store's schema on PostgreSQL. A candidate for
//! tests/common once the helpers there take the engine into account.
//!
//! On PostgreSQL the store's schema is the newest one this test process made (nextest runs each
//! test in its own process; a test that opens one path twice shares the one schema).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use shopkeep::Store;

use crate::common;

/// The newest schema this process made on the test server.
fn schema() -> String {
    let conninfo = std::env::var(common::postgres::CONNINFO_VAR).unwrap();
    let out = common::postgres::psql(
        &conninfo,
        &format!(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_{}\\_%' \
             ORDER BY oid DESC LIMIT 1;",
            std::process::id()
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(!name.is_empty(), "this process made no schema");
    name
}

/// Runs `sql` on the PostgreSQL store's schema; psql's unaligned output, a line a row.
fn psql(sql: &str) -> Vec<String> {
    let conninfo = std::env::var(common::postgres::CONNINFO_VAR).unwrap();
    let out = common::postgres::psql(
        &conninfo,
        &format!("SET search_path = {};\n{sql};", schema()),
    );
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

/// The rows `sql` selects, each as its first column's text.
pub fn column(store: &Store, sql: &str) -> Vec<String> {
    if store.path().is_some() {
        let raw = common::raw(store);
        let mut stmt = raw.prepare(sql).unwrap();
        return stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    }
    psql(sql)
}

/// Runs a statement that changes rows, on either engine.
pub fn execute(store: &Store, sql: &str) {
    if store.path().is_some() {
        common::raw(store).execute_batch(sql).unwrap();
        return;
    }
    psql(sql);
}

/// The number of rows in `table`.
pub fn count(store: &Store, table: &str) -> i64 {
    count_where(store, table, "1 = 1")
}

/// The number of rows in `table` that meet the SQL `condition` (valid on both engines).
pub fn count_where(store: &Store, table: &str, condition: &str) -> i64 {
    if store.path().is_some() {
        return common::count_where(store, table, condition);
    }
    let lines = psql(&format!("SELECT count(*) FROM {table} WHERE {condition}"));
    lines.concat().trim().parse().unwrap()
}

/// Every row of `tables`, as text, for before/after comparisons on one engine.
pub fn dump(store: &Store, tables: &[&str]) -> Vec<String> {
    if store.path().is_some() {
        return common::dump(store, tables);
    }
    tables
        .iter()
        .flat_map(|table| {
            psql(&format!("SELECT * FROM {table} ORDER BY 1"))
                .into_iter()
                .map(move |row| format!("{table}: {row}"))
        })
        .collect()
}
