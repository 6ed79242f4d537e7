//! Moving a shop from a SQLite file to PostgreSQL: a privileged, verbatim copy of every row,
//! verified before it commits (`docs/backends.md`, "How a shop moves").
//!
//! Nothing is re-issued through the API: invoice numbers, ciphertexts, blind indexes, auth MACs
//! and audit MACs are the bytes the file holds, and the root key is copied wrapped, so the same
//! master key opens the new store and every derived key stays the same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Access, connect, run};
use crate::access::AuditVerification;
use crate::access::audit_repo::verify_chain;
use crate::crypto::KeyRing;
use crate::error::{Error, ErrorKind, Result, sqlite};
use crate::sql::{Param, Row, Value, args};
use crate::store::{Store, StoreOptions, Tx};

/// Keys of `shopkeep_meta` that describe the SQLite file, not the shop.
const FILE_ONLY_META: &[&str] = &["wal_scrub_pending"];

impl StoreOptions {
    /// Moves the shop in the SQLite file `source` to the empty PostgreSQL schema `config`
    /// names (feature `postgres`), and returns the store connected to it.
    ///
    /// Run it with the shop stopped: the file is opened (and migrated to this version, if it
    /// is older), then every row is copied verbatim, in one read snapshot of the file and one
    /// transaction on the server, tables in the order their foreign keys need. Before that
    /// transaction commits, the copy is checked: the row count of every table, every invoice
    /// series' numbers and counter, and the audit chain (verified end to end under the shop's
    /// keys, its head equal to the file's). Any difference rolls the whole copy back. The file
    /// is left as it was.
    ///
    /// ```no_run
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let master = KeyRing::from_hex(&std::env::var("SHOPKEEP_MASTER_KEY")?)?;
    /// let store = Store::options()
    ///     .import_sqlite("shop.db", "host=db1 user=shop dbname=shop", master)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open) for the file and [`connect_postgres`](Self::connect_postgres)
    /// for the server; `Conflict` naming a table if the target already holds a shop's data;
    /// `Storage` naming what differs if the copy does not verify, or naming the column if the
    /// file holds text that is not UTF-8 (nothing is committed then).
    pub fn import_sqlite(
        self,
        source: impl AsRef<Path>,
        config: &str,
        master: KeyRing,
    ) -> Result<Store> {
        let file = self.clone().open_with(source.as_ref(), &master)?;
        let (engine, _) = connect(&self, config, &master)?;
        let now = file.now();
        let conn = engine.begin(Access::Write, now)?;
        run(&file, &conn, now, |tx| copy_and_verify(&file, tx))?;
        drop(conn);
        drop(engine);
        // Connected afresh: the server's root key is now the file's.
        self.connect_postgres(config, master)
    }
}

impl Store {
    /// [`StoreOptions::import_sqlite`] with the default options.
    ///
    /// # Errors
    ///
    /// As [`StoreOptions::import_sqlite`].
    pub fn import_sqlite(source: impl AsRef<Path>, config: &str, master: KeyRing) -> Result<Store> {
        StoreOptions::new().import_sqlite(source, config, master)
    }
}

/// A table of the target and the columns the copy fills (all but generated ones).
struct Table {
    name: String,
    columns: Vec<String>,
}

fn copy_and_verify(file: &Store, tx: &Tx<'_>) -> Result<()> {
    let tables = tables_in_dependency_order(tx)?;
    // Every write of a shop is audited: an empty log is a schema no shop has used yet.
    if count(tx, "shopkeep_audit")? > 0 {
        return Err(Error::new(
            ErrorKind::Conflict,
            "the target already holds a shop (its audit log has entries): a shop moves into an \
             empty schema",
        ));
    }
    file.read(|source| {
        let conn = source
            .sqlite_connection()
            .ok_or_else(|| Error::new(ErrorKind::Unsupported, "the source is not a SQLite file"))?;
        for table in &tables {
            // Rows the migrations seeded (a counter's first value, the target's own root key)
            // give way to the file's, unless they are the same.
            if count(tx, &table.name)? > 0 {
                if table.name != "shopkeep_meta" && same_rows(conn, tx, table)? {
                    continue;
                }
                tx.execute(&format!("DELETE FROM {}", table.name), args![])?;
            }
            copy_table(conn, tx, table)?;
        }
        restart_identities(tx)?;
        verify(conn, source, tx, &tables, file)
    })
}

/// The target's tables (but the schema table), parents before children.
fn tables_in_dependency_order(tx: &Tx<'_>) -> Result<Vec<Table>> {
    let names: Vec<String> = tx.query_map(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name <> 'shopkeep_schema'
         ORDER BY table_name",
        args![],
        |r| r.get(0),
    )?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = names
        .iter()
        .map(|name| (name.clone(), BTreeSet::new()))
        .collect();
    let edges: Vec<(String, String)> = tx.query_map(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (child, parent) in edges {
        if child != parent
            && let Some(set) = parents.get_mut(&child)
        {
            set.insert(parent);
        }
    }
    let mut ordered = Vec::with_capacity(names.len());
    while !parents.is_empty() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(_, needs)| needs.iter().all(|p| !parents.contains_key(p)))
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            return Err(Error::new(
                ErrorKind::Internal,
                "the schema's foreign keys form a cycle",
            ));
        }
        for name in ready {
            parents.remove(&name);
            let columns = tx.query_map(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = ?1
                   AND is_generated = 'NEVER'
                 ORDER BY ordinal_position",
                args![name],
                |r| r.get(0),
            )?;
            ordered.push(Table { name, columns });
        }
    }
    Ok(ordered)
}

fn count(tx: &Tx<'_>, table: &str) -> Result<i64> {
    // Table names come from the server's catalogue, never from input.
    tx.query_row(&format!("SELECT count(*) FROM {table}"), args![], |r| {
        r.get(0)
    })
}

/// Copies every row of `table` from the file, in the file's insertion order (a credit note
/// after the invoice it references), as the file stores it. Text that is not UTF-8 (which no
/// shop writes, and PostgreSQL's `text` cannot hold) is refused, naming the column, rather
/// than copied altered.
fn copy_table(conn: &rusqlite::Connection, tx: &Tx<'_>, table: &Table) -> Result<()> {
    let without_rowid: bool = conn
        .query_row(
            "SELECT coalesce(max(wr), 0) FROM pragma_table_list WHERE name = ?1",
            [&table.name],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    let columns = table.columns.join(", ");
    let order = if without_rowid { "" } else { " ORDER BY rowid" };
    let select = format!("SELECT {columns} FROM {}{order}", table.name);
    let quoted: Vec<String> = table.columns.iter().map(|c| format!("\"{c}\"")).collect();
    let placeholders: Vec<String> = (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
    // Identity columns take the file's numbers (OVERRIDING SYSTEM VALUE); the sequences are
    // moved past them afterwards.
    let insert = format!(
        "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
        table.name,
        quoted.join(", "),
        placeholders.join(", ")
    );
    let mut statement = conn.prepare(&select).map_err(sqlite)?;
    let mut rows = statement.query([]).map_err(sqlite)?;
    while let Some(row) = rows.next().map_err(sqlite)? {
        if table.name == "shopkeep_meta" {
            let key: String = row.get(0).map_err(sqlite)?;
            if FILE_ONLY_META.contains(&key.as_str()) {
                continue;
            }
        }
        let row = Row::sqlite(row);
        let values = (0..table.columns.len())
            .map(|i| row.get::<Value<'static>>(i))
            .collect::<Result<Vec<_>>>()?;
        let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
        tx.execute(&insert, &params)?;
    }
    Ok(())
}

/// Whether `table` holds the same rows on both sides (compared as their values' text, in any
/// order: these are the few rows migrations seed).
///
/// Both sides are read as an owned [`Value`], through the same `Row::get` the repositories
/// use. The file's values must not be compared as they come (`sql::from_sqlite` gives a
/// `ValueRef`): its text is bytes, whose `Debug` is a list of numbers (`Text([])`), never equal
/// to the server's `Text("")`, so every seeded row with a text column (the purge window's
/// `cutoff`) would look different and be deleted, which its trigger refuses.
fn same_rows(conn: &rusqlite::Connection, tx: &Tx<'_>, table: &Table) -> Result<bool> {
    let columns = table.columns.join(", ");
    let select = format!("SELECT {columns} FROM {}", table.name);
    let width = table.columns.len();
    let mut theirs = Vec::new();
    let mut statement = conn.prepare(&select).map_err(sqlite)?;
    let mut rows = statement.query([]).map_err(sqlite)?;
    while let Some(row) = rows.next().map_err(sqlite)? {
        let row = Row::sqlite(row);
        let values = (0..width)
            .map(|i| row.get::<Value<'static>>(i).map(|v| format!("{v:?}")))
            .collect::<Result<Vec<String>>>()?;
        theirs.push(values);
    }
    let mut ours = tx.query_map(&select, args![], |row| {
        (0..width)
            .map(|i| row.get::<Value<'static>>(i).map(|v| format!("{v:?}")))
            .collect::<Result<Vec<String>>>()
    })?;
    theirs.sort();
    ours.sort();
    Ok(theirs == ours)
}

/// Moves every identity sequence past the largest number copied, so that the next row the
/// server numbers does not collide with one from the file.
fn restart_identities(tx: &Tx<'_>) -> Result<()> {
    let identities: Vec<(String, String)> = tx.query_map(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (table, column) in identities {
        tx.query_row(
            &format!(
                "SELECT setval(pg_get_serial_sequence(?1, ?2),
                               coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            ),
            args![table, column],
            |r| r.get::<i64>(0),
        )?;
    }
    Ok(())
}

/// One invoice series and year as stored: name, year, documents, lowest and highest number.
type Series = (String, i64, i64, i64, i64);

/// The copy holds what the file holds: every table's row count, every invoice series' numbers
/// and counter, and the audit chain with the same head.
fn verify(
    conn: &rusqlite::Connection,
    source: &Tx<'_>,
    tx: &Tx<'_>,
    tables: &[Table],
    file: &Store,
) -> Result<()> {
    let differs =
        |what: String| Error::new(ErrorKind::Storage, format!("the copy differs: {what}"));
    for table in tables {
        let expected: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| {
                r.get(0)
            })
            .map_err(sqlite)?;
        let skipped = if table.name == "shopkeep_meta" {
            conn.query_row(
                "SELECT count(*) FROM shopkeep_meta WHERE key = ?1",
                [FILE_ONLY_META.first().copied().unwrap_or_default()],
                |r| r.get::<_, i64>(0),
            )
            .map_err(sqlite)?
        } else {
            0
        };
        let found = count(tx, &table.name)?;
        if found != expected - skipped {
            return Err(differs(format!(
                "{} has {found} rows, the file {}",
                table.name,
                expected - skipped
            )));
        }
    }
    let series = |t: &Tx<'_>| -> Result<Vec<Series>> {
        let mut rows = t.query_map(
            "SELECT series, year, count(*), min(seq), max(seq) FROM shopkeep_invoices
             GROUP BY series, year",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        rows.sort();
        Ok(rows)
    };
    let counters = |t: &Tx<'_>| -> Result<Vec<(String, i64, i64)>> {
        let mut rows = t.query_map(
            "SELECT series, year, next FROM shopkeep_invoice_counters",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        rows.sort();
        Ok(rows)
    };
    let copied = series(tx)?;
    if copied != series(source)? {
        return Err(differs("the invoice series".to_owned()));
    }
    let next = counters(tx)?;
    if next != counters(source)? {
        return Err(differs("the invoice counters".to_owned()));
    }
    for (name, year, _, _, max) in &copied {
        let counter = next
            .iter()
            .find(|(s, y, _)| s == name && y == year)
            .map(|(_, _, n)| *n);
        if counter != Some(max + 1) {
            return Err(differs(format!(
                "series {name} of {year} ends at {max}, its counter says {counter:?}"
            )));
        }
    }
    let keys = file.keys();
    let theirs = verify_chain(source, keys, None)?;
    let ours = verify_chain(tx, keys, None)?;
    match (&theirs, &ours) {
        (AuditVerification::Intact { .. }, AuditVerification::Intact { .. }) if theirs == ours => {
            Ok(())
        }
        _ => Err(differs(format!(
            "the audit chain: the file's is {theirs:?}, the copy's {ours:?}"
        ))),
    }
}
