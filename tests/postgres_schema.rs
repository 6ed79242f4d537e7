//! The PostgreSQL schema (`src/store/schema/postgres/`) is numbered in step with the SQLite one
//! (docs/backends.md, "Migrations, numbered in step") and yields the same schema.
//!
//! Always: both folders list the same versions under the same names. When
//! `SHOPKEEP_TEST_POSTGRES` holds a libpq conninfo string (CI starts a throwaway cluster, see
//! `.ci/run`), every PostgreSQL file is applied in order through `psql` into a fresh schema and
//! compared with a freshly migrated SQLite store: the same tables and column names, column
//! types and NOT NULL, foreign keys, unique keys, index names (partial and unique as on SQLite),
//! trigger names, the number of CHECKs per table; and the immutability triggers refuse with SQLite's messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::postgres::{CONNINFO_VAR, PgSchema};
use shopkeep::{KeyRing, Store};

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/schema")
}

/// `NNNN_name.sql` files of `dir`: version to (name, path). Panics on any other `.sql` name.
fn migrations(dir: &Path) -> BTreeMap<u32, (String, PathBuf)> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() || path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let (number, name) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{} is not NNNN_name.sql", path.display()));
        assert!(
            number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty(),
            "{} is not NNNN_name.sql",
            path.display()
        );
        let version: u32 = number.parse().unwrap();
        let previous = found.insert(version, (name.to_owned(), path.clone()));
        assert!(
            previous.is_none(),
            "version {version} appears twice in {}",
            dir.display()
        );
    }
    found
}

#[test]
fn both_engines_number_the_same_migrations_with_the_same_names() {
    let sqlite = migrations(&schema_dir());
    let postgres = migrations(&schema_dir().join("postgres"));
    assert!(sqlite.len() >= 23, "SQLite migrations not found");
    let versions: Vec<u32> = sqlite.keys().copied().collect();
    let expected: Vec<u32> = (1..=u32::try_from(sqlite.len()).unwrap()).collect();
    assert_eq!(versions, expected, "SQLite versions have a gap");
    let names = |m: &BTreeMap<u32, (String, PathBuf)>| -> Vec<(u32, String)> {
        m.iter().map(|(v, (n, _))| (*v, n.clone())).collect()
    };
    assert_eq!(
        names(&postgres),
        names(&sqlite),
        "every SQLite migration needs its PostgreSQL twin under the same number and name"
    );
}

/// Checked runs of SQL in a test schema: psql's failure is the test's.
trait Checked {
    /// Runs `sql` in one transaction; panics with psql's error if it fails.
    fn ok(&self, sql: &str) -> String;
    /// Rows of a query, `|`-separated fields.
    fn rows(&self, sql: &str) -> Vec<Vec<String>>;
    /// `sql` must fail with `message` in psql's error, and change nothing.
    fn refuses(&self, sql: &str, message: &str);
}

impl Checked for PgSchema {
    fn ok(&self, sql: &str) -> String {
        let out = self.run(sql);
        assert!(
            out.status.success(),
            "{sql}\nfailed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.ok(sql)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('|').map(str::to_owned).collect())
            .collect()
    }

    fn refuses(&self, sql: &str, message: &str) {
        let out = self.run(sql);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{sql}\nwas not refused");
        assert!(
            stderr.contains(message),
            "{sql}\nwas refused with {stderr}, not {message:?}"
        );
    }
}

/// One engine's schema, in terms both can state.
#[derive(Debug, Default)]
struct Catalog {
    /// table -> column -> (type, not null)
    columns: BTreeMap<String, BTreeMap<String, (String, bool)>>,
    /// (table, columns, referenced table, on delete)
    foreign_keys: BTreeSet<(String, String, String, String)>,
    /// (table, columns) of every non-partial unique key, the primary key included
    unique_keys: BTreeSet<(String, String)>,
    /// index name -> (unique, partial)
    indexes: BTreeMap<String, (bool, bool)>,
    triggers: BTreeSet<String>,
    /// table -> number of CHECK constraints
    checks: BTreeMap<String, usize>,
}

/// The FTS5 table's shadow tables and the migration bookkeeping (written by migrate.rs, not by a
/// migration file) have no PostgreSQL twin.
fn sqlite_only_table(name: &str) -> bool {
    name == "shopkeep_schema" || name.starts_with("shopkeep_products_fts_")
}

fn sqlite_catalog(path: &Path) -> Catalog {
    let conn = rusqlite::Connection::open(path).unwrap();
    let strings = |sql: &str, param: &str| -> Vec<Vec<Option<String>>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([param], |row| {
            (0..n)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                        rusqlite::types::Value::Text(t) => Some(t),
                        other => Some(format!("{other:?}")),
                    })
                })
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut catalog = Catalog::default();
    for row in strings(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE ?1 = ?1",
        "",
    ) {
        let [Some(kind), Some(name), Some(table), Some(sql)] = &row[..] else {
            panic!("{row:?}")
        };
        if name.starts_with("sqlite_") || sqlite_only_table(table) {
            continue;
        }
        match kind.as_str() {
            "table" => {
                let mut columns = BTreeMap::new();
                let mut pk = Vec::new();
                for col in strings(
                    "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY pk, cid",
                    name,
                ) {
                    let column = col[0].clone().unwrap();
                    let is_pk = col[3].as_deref() != Some("0");
                    if is_pk {
                        pk.push(column.clone());
                    }
                    // A primary key column is never NULL on PostgreSQL; on SQLite every one here
                    // is declared NOT NULL or is the rowid.
                    let not_null = col[2].as_deref() == Some("1") || is_pk;
                    columns.insert(column, (col[1].clone().unwrap(), not_null));
                }
                if !pk.is_empty() {
                    catalog.unique_keys.insert((name.clone(), pk.join(",")));
                }
                for fk in fk_rows(&strings(
                    "SELECT id, seq, \"table\", \"from\", on_delete FROM pragma_foreign_key_list(?1) \
                     ORDER BY id, seq",
                    name,
                )) {
                    catalog
                        .foreign_keys
                        .insert((name.clone(), fk.0, fk.1, fk.2));
                }
                for index in strings(
                    "SELECT name, \"unique\", partial FROM pragma_index_list(?1)",
                    name,
                ) {
                    if index[1].as_deref() == Some("1") && index[2].as_deref() == Some("0") {
                        let cols: Vec<String> = strings(
                            "SELECT coalesce(name, '?') FROM pragma_index_info(?1) ORDER BY seqno",
                            index[0].as_deref().unwrap(),
                        )
                        .into_iter()
                        .map(|c| c[0].clone().unwrap())
                        .collect();
                        catalog.unique_keys.insert((name.clone(), cols.join(",")));
                    }
                }
                catalog.columns.insert(name.clone(), columns);
                catalog
                    .checks
                    .insert(name.clone(), sql.matches("CHECK").count());
            }
            "index" => {
                let unique = sql.starts_with("CREATE UNIQUE INDEX");
                let partial = sql.contains(" WHERE ");
                catalog.indexes.insert(name.clone(), (unique, partial));
            }
            "trigger" => {
                catalog.triggers.insert(name.clone());
            }
            _ => {}
        }
    }
    catalog
}

/// Foreign key rows (id, seq, table, from, on_delete) grouped by id into (from columns,
/// referenced table, on delete).
fn fk_rows(rows: &[Vec<Option<String>>]) -> Vec<(String, String, String)> {
    let mut grouped: BTreeMap<String, (Vec<String>, String, String)> = BTreeMap::new();
    for row in rows {
        let entry = grouped
            .entry(row[0].clone().unwrap())
            .or_insert_with(|| (Vec::new(), row[2].clone().unwrap(), row[4].clone().unwrap()));
        entry.0.push(row[3].clone().unwrap());
    }
    grouped
        .into_values()
        .map(|(from, table, on_delete)| (from.join(","), table, on_delete))
        .collect()
}

/// SQLite's declared type as PostgreSQL's, for every type the SQLite schema uses.
fn pg_type(sqlite: &str) -> &'static str {
    match sqlite {
        "INTEGER" => "bigint",
        "TEXT" => "text",
        "BLOB" => "bytea",
        "REAL" => "double precision",
        other => panic!("a SQLite column is declared {other:?}, which this test does not map"),
    }
}

fn postgres_catalog(pg: &PgSchema) -> Catalog {
    let s = pg.name();
    let mut catalog = Catalog::default();
    for row in pg.rows(&format!(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = '{s}' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
    )) {
        catalog
            .columns
            .entry(row[0].clone())
            .or_default()
            .insert(row[1].clone(), (row[2].clone(), row[3] == "t"));
    }
    let cols = |rel: &str, keys: &str| {
        format!(
            "(SELECT string_agg(a.attname, ',' ORDER BY k.n)
              FROM unnest({keys}) WITH ORDINALITY k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum)"
        )
    };
    for row in pg.rows(&format!(
        "SELECT (SELECT relname FROM pg_class WHERE oid = c.conrelid), {},
                (SELECT relname FROM pg_class WHERE oid = c.confrelid),
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE 'other' END
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'f' AND n.nspname = '{s}'",
        cols("c.conrelid", "c.conkey")
    )) {
        catalog.foreign_keys.insert((
            row[0].clone(),
            row[1].clone(),
            row[2].clone(),
            row[3].clone(),
        ));
    }
    for row in pg.rows(&format!(
        "SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL, {}
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
         WHERE n.nspname = '{s}'",
        cols("x.indrelid", "x.indkey::int2[]")
    )) {
        let (unique, partial) = (row[2] == "t", row[3] == "t");
        if unique && !partial {
            catalog.unique_keys.insert((row[0].clone(), row[4].clone()));
        }
        catalog.indexes.insert(row[1].clone(), (unique, partial));
    }
    for row in pg.rows(&format!(
        "SELECT (SELECT relname FROM pg_class WHERE oid = c.conrelid), count(*)
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'c' AND n.nspname = '{s}' GROUP BY c.conrelid"
    )) {
        catalog
            .checks
            .insert(row[0].clone(), row[1].parse().unwrap());
    }
    for row in pg.rows(&format!(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = '{s}' AND NOT t.tgisinternal"
    )) {
        catalog.triggers.insert(row[0].clone());
    }
    catalog
}

/// Columns the PostgreSQL twin of a table has on top of SQLite's: the full-text table's key
/// (SQLite's implicit rowid) and its tsvector.
fn pg_extra_columns(table: &str) -> &'static [&'static str] {
    if table == "shopkeep_products_fts" {
        &["rowid", "document"]
    } else {
        &[]
    }
}

/// Every difference between the two catalogs, as lines of text (empty: the same schema).
fn differences(sqlite: &Catalog, pg: &Catalog) -> Vec<String> {
    let mut diffs = Vec::new();
    for (table, columns) in &sqlite.columns {
        let Some(pg_columns) = pg.columns.get(table) else {
            diffs.push(format!("table {table} is missing on PostgreSQL"));
            continue;
        };
        for (column, (ty, not_null)) in columns {
            match pg_columns.get(column) {
                None => diffs.push(format!("column {table}.{column} is missing on PostgreSQL")),
                // FTS5 columns have no declared type (and no NOT NULL).
                Some(_) if ty.is_empty() => {}
                Some((pg_ty, pg_not_null)) => {
                    if pg_ty != pg_type(ty) {
                        diffs.push(format!(
                            "{table}.{column}: {ty} on SQLite, {pg_ty} on PostgreSQL"
                        ));
                    }
                    if pg_not_null != not_null {
                        diffs.push(format!(
                            "{table}.{column}: NOT NULL is {not_null} on SQLite, {pg_not_null} on PostgreSQL"
                        ));
                    }
                }
            }
        }
        for column in pg_columns.keys() {
            if !columns.contains_key(column) && !pg_extra_columns(table).contains(&column.as_str())
            {
                diffs.push(format!("column {table}.{column} exists only on PostgreSQL"));
            }
        }
    }
    for (table, count) in &sqlite.checks {
        let pg_count = pg.checks.get(table).copied().unwrap_or(0);
        if pg_count != *count {
            diffs.push(format!(
                "{table}: {count} CHECKs on SQLite, {pg_count} on PostgreSQL"
            ));
        }
    }
    for table in pg.columns.keys() {
        if !sqlite.columns.contains_key(table) {
            diffs.push(format!("table {table} exists only on PostgreSQL"));
        }
    }
    for fk in sqlite.foreign_keys.symmetric_difference(&pg.foreign_keys) {
        let side = if sqlite.foreign_keys.contains(fk) {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        diffs.push(format!("foreign key {fk:?} exists only on {side}"));
    }
    for key in sqlite.unique_keys.symmetric_difference(&pg.unique_keys) {
        let side = if sqlite.unique_keys.contains(key) {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        // The full-text table's key is SQLite's implicit rowid.
        if key.0 != "shopkeep_products_fts" {
            diffs.push(format!("unique key {key:?} exists only on {side}"));
        }
    }
    for (index, shape) in &sqlite.indexes {
        match pg.indexes.get(index) {
            None => diffs.push(format!("index {index} is missing on PostgreSQL")),
            Some(pg_shape) if pg_shape != shape => diffs.push(format!(
                "index {index}: (unique, partial) {shape:?} on SQLite, {pg_shape:?} on PostgreSQL"
            )),
            Some(_) => {}
        }
    }
    for trigger in &sqlite.triggers {
        if !pg.triggers.contains(trigger) {
            diffs.push(format!("trigger {trigger} is missing on PostgreSQL"));
        }
    }
    diffs
}

/// A fresh SQLite store at the latest version, its catalog.
fn fresh_sqlite() -> Catalog {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    drop(Store::open(&path, KeyRing::from_master_key([9; 32])).unwrap());
    sqlite_catalog(&path)
}

/// The test server's conninfo, or `None` (and one line on stdout saying the test was skipped).
/// Unlike `common::postgres::conninfo`, without the `postgres` feature too: this test reaches
/// the server through psql only.
#[allow(clippy::print_stdout)]
fn conninfo() -> Option<String> {
    let conninfo = std::env::var(CONNINFO_VAR).ok().filter(|c| !c.is_empty());
    if conninfo.is_none() {
        println!("skipped: {CONNINFO_VAR} not set");
    }
    conninfo
}

/// A fresh PostgreSQL schema with every migration applied, one transaction per file.
fn migrated(conninfo: &str) -> PgSchema {
    let pg = PgSchema::create(conninfo);
    for (version, (name, path)) in migrations(&schema_dir().join("postgres")) {
        let sql = std::fs::read_to_string(&path).unwrap();
        let out = pg.run(&sql);
        assert!(
            out.status.success(),
            "migration {version} ({name}) fails on PostgreSQL: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    pg
}

#[test]
fn postgres_schema_matches_the_sqlite_schema() {
    let Some(conninfo) = conninfo() else { return };
    let sqlite = fresh_sqlite();
    let pg = migrated(&conninfo);
    let postgres = postgres_catalog(&pg);
    assert!(sqlite.columns.len() > 60, "{:?}", sqlite.columns.keys());
    assert!(!sqlite.indexes.is_empty() && !sqlite.triggers.is_empty());
    let diffs = differences(&sqlite, &postgres);
    assert!(
        diffs.is_empty(),
        "the schemas differ:\n{}",
        diffs.join("\n")
    );

    // The comparison notices what a broken twin would lack.
    let mut broken = postgres_catalog(&pg);
    broken
        .columns
        .get_mut("shopkeep_orders")
        .unwrap()
        .remove("auth_mac");
    broken.columns.remove("shopkeep_lead_tokens");
    broken.indexes.remove("shopkeep_sends_due");
    broken.triggers.remove("shopkeep_audit_no_update");
    let diffs = differences(&sqlite, &broken);
    for expected in [
        "column shopkeep_orders.auth_mac is missing on PostgreSQL",
        "table shopkeep_lead_tokens is missing on PostgreSQL",
        "index shopkeep_sends_due is missing on PostgreSQL",
        "trigger shopkeep_audit_no_update is missing on PostgreSQL",
    ] {
        assert!(
            diffs.iter().any(|d| d == expected),
            "{expected} not reported: {diffs:?}"
        );
    }
}

const APPEND_ONLY_AUDIT: &str = "the audit log is append-only";
const APPEND_ONLY_CONSENTS: &str = "the consent ledger is append-only";
const INVOICE_UNCHANGED: &str = "issued invoices cannot be changed; issue a credit note";
const INVOICE_KEPT: &str = "issued invoices are kept for their retention period";

/// 16 or 32 bytes of `byte`, as a bytea literal.
fn bytes(byte: u8, n: usize) -> String {
    format!("'\\x{}'::bytea", format!("{byte:02x}").repeat(n))
}

#[test]
fn postgres_triggers_refuse_as_sqlite_does() {
    let Some(conninfo) = conninfo() else { return };
    let pg = migrated(&conninfo);

    // The audit log: appended at the end only, never changed, deleted or truncated.
    pg.ok(&format!(
        "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
         VALUES (1, '2026-11-28T09:00:00Z', 'system', 'test', 'x', 'allowed', {});",
        bytes(1, 32)
    ));
    pg.refuses(
        "UPDATE shopkeep_audit SET principal = 'other';",
        APPEND_ONLY_AUDIT,
    );
    pg.refuses("DELETE FROM shopkeep_audit;", APPEND_ONLY_AUDIT);
    pg.refuses("TRUNCATE shopkeep_audit;", APPEND_ONLY_AUDIT);
    pg.refuses(
        &format!(
            "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
             VALUES (3, '2026-11-28T09:00:00Z', 'system', 'test', 'x', 'allowed', {});",
            bytes(2, 32)
        ),
        APPEND_ONLY_AUDIT,
    );
    assert_eq!(
        pg.rows("SELECT count(*), max(principal) FROM shopkeep_audit;"),
        [["1", "system"]]
    );

    // The consent ledger: append-only, a row belongs to a customer or a lead.
    let customer = bytes(1, 16);
    pg.ok(&format!(
        "INSERT INTO shopkeep_customers (id, email_index, email, name, password_hash, created_at,
             updated_at) VALUES ({customer}, {}, '\\x01', '\\x01', 'h', 't', 't');
         INSERT INTO shopkeep_customer_consents (customer_id, channel, event, source,
             recorded_by, at) VALUES ({customer}, 'email', 'granted', 'form', 'system', 't');",
        bytes(7, 32)
    ));
    pg.refuses(
        "UPDATE shopkeep_customer_consents SET event = 'withdrawn';",
        APPEND_ONLY_CONSENTS,
    );
    pg.refuses(
        "INSERT INTO shopkeep_customer_consents (channel, event, source, recorded_by, at)
         VALUES ('email', 'granted', 'form', 'system', 't');",
        "shopkeep_customer_consents_check",
    );

    // Invoices: never changed, kept for their retention period by the store's clock.
    let order = bytes(2, 16);
    let invoice = bytes(3, 16);
    pg.ok(&format!(
        "INSERT INTO shopkeep_orders (id, number, customer_id, status, currency, price_mode,
             line_net_total, allowance_total, charge_total, net_total, vat_total, gross_total,
             destination, buyer, placed_at, updated_at)
         VALUES ({order}, 1, {customer}, 'paid', 'EUR', 'exclusive', 100, 0, 0, 100, 19, 119,
             'DE', '\\x01', 't', 't');"
    ));
    let insert_invoice = |deletable_from: &str| {
        format!(
            "INSERT INTO shopkeep_invoices (id, kind, number, series, year, seq, order_id,
                 customer_id, issue_date, currency, price_mode, line_net_total, allowance_total,
                 charge_total, net_total, vat_total, gross_total, seller, buyer, terms, issued_at,
                 deletable_from, auth_mac)
             VALUES ({invoice}, 'invoice', 'R-1', 'R-', 0, 1, {order}, {customer}, '2026-11-28',
                 'EUR', 'exclusive', 100, 0, 0, 100, 19, 119, '{{}}', '\\x01', '{{}}', 't',
                 '{deletable_from}', {});
             INSERT INTO shopkeep_invoice_lines (invoice_id, position, order_position, sku, name,
                 quantity, unit_price, line_net, discount, vat_category, vat_rate_bp)
             VALUES ({invoice}, 0, 0, 'SKU', 'Thing', 1, 100, 100, 0, 'S', 1900);",
            bytes(9, 32)
        )
    };
    // Less than the shortest retention period: until the second 1 January after issue.
    pg.refuses(&insert_invoice("2027-12-31"), INVOICE_KEPT);
    pg.ok(&insert_invoice("2037-01-01"));
    pg.refuses(&insert_invoice("2037-01-01"), INVOICE_UNCHANGED);
    pg.refuses(
        "UPDATE shopkeep_invoices SET number = 'R-2';",
        INVOICE_UNCHANGED,
    );
    pg.refuses(
        "UPDATE shopkeep_invoice_lines SET name = 'Other';",
        INVOICE_UNCHANGED,
    );
    // Without the store's clock nothing is deleted; with it, only once the period is over
    // everywhere on earth (UTC-12).
    pg.refuses("DELETE FROM shopkeep_invoice_lines;", INVOICE_KEPT);
    pg.refuses("DELETE FROM shopkeep_invoices;", INVOICE_KEPT);
    pg.refuses("TRUNCATE shopkeep_invoice_lines;", INVOICE_KEPT);
    pg.refuses(
        "SET LOCAL shopkeep.now = '2037-01-01T11:59:59Z'; DELETE FROM shopkeep_invoice_lines;",
        INVOICE_KEPT,
    );
    pg.refuses(
        "SET LOCAL shopkeep.now = '2037-01-01T11:59:59Z'; DELETE FROM shopkeep_invoices;",
        INVOICE_KEPT,
    );
    assert_eq!(
        pg.rows("SELECT count(*) FROM shopkeep_invoice_lines;"),
        [["1"]]
    );
    pg.ok(
        "SET LOCAL shopkeep.now = '2037-01-01T12:00:00Z'; DELETE FROM shopkeep_invoice_lines;
         DELETE FROM shopkeep_invoices;",
    );
    assert_eq!(pg.rows("SELECT count(*) FROM shopkeep_invoices;"), [["0"]]);
    pg.refuses(
        "UPDATE shopkeep_invoice_purge SET open = 1;",
        "the purge window is retired: retention is checked per document",
    );

    // JSON checks and case-insensitive SKUs, as on SQLite.
    pg.refuses(
        "INSERT INTO shopkeep_settings (id, version, document, updated_at, updated_by)
         VALUES (1, 1, '{not json', 't', 'system');",
        "shopkeep_settings_document_check",
    );
    pg.ok(&format!(
        "INSERT INTO shopkeep_skus (sku, product_id) VALUES ('ABC-1', {order});"
    ));
    pg.refuses(
        &format!("INSERT INTO shopkeep_skus (sku, product_id) VALUES ('abc-1', {invoice});"),
        "shopkeep_skus_pkey",
    );
}
