//! Store tests that need the crate-private write and read helpers.
//!
//! Integration tests of the public surface (bad files, backup restore) live in `tests/store.rs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::error::ErrorKind;

mod sales;

fn keys() -> KeyRing {
    KeyRing::from_master_key([42; 32])
}

/// A scratch table: every write adds one row to `a` and one to `b` and bumps a counter by
/// read-modify-write, so a torn or interleaved transaction shows as unequal counts.
fn create_scratch(store: &Store) {
    store
        .write(|tx| {
            super::raw(tx).execute_batch(
                "CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, writer TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY, writer TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
                 INSERT OR IGNORE INTO counter (id, n) VALUES (1, 0);",
            ).map_err(crate::error::sqlite)?;
            Ok(())
        })
        .unwrap();
}

fn write_pair(store: &Store, writer: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "INSERT INTO a (writer) VALUES (?1)",
            crate::sql::args![writer],
        )?;
        let n: i64 = tx.query_row(
            "SELECT n FROM counter WHERE id = 1",
            crate::sql::args![],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO b (writer) VALUES (?1)",
            crate::sql::args![writer],
        )?;
        tx.execute(
            "UPDATE counter SET n = ?1 WHERE id = 1",
            crate::sql::args![n + 1],
        )?;
        Ok(())
    })
}

/// (rows in a, rows in b, counter) read in one snapshot.
fn counts(store: &Store) -> (i64, i64, i64) {
    store
        .read(|tx| {
            super::raw(tx).query_row(
                "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT n FROM counter)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            ).map_err(crate::error::sqlite)
        })
        .unwrap()
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    (dir, path)
}

#[test]
fn every_pooled_connection_has_the_promised_pragmas() {
    let (_dir, path) = temp_db();
    let store = Store::options().readers(3).open(&path, keys()).unwrap();
    let report = store.connection_report().unwrap();
    assert_eq!(report.len(), 4, "one writer and three readers");
    assert_eq!(
        report
            .iter()
            .filter(|c| c.role() == ConnectionRole::Writer)
            .count(),
        1
    );
    for conn in &report {
        assert_eq!(conn.journal_mode(), "wal", "{conn:?}");
        assert_eq!(conn.durability(), Some(Durability::Full), "{conn:?}");
        assert!(conn.foreign_keys(), "{conn:?}");
        assert!(conn.secure_delete(), "{conn:?}");
        assert!(!conn.trusted_schema(), "{conn:?}");
        assert_eq!(conn.busy_timeout(), DEFAULT_BUSY_TIMEOUT, "{conn:?}");
        assert_eq!(conn.wal_autocheckpoint(), 1024, "{conn:?}");
        assert_eq!(conn.journal_size_limit(), Some(2 << 20), "{conn:?}");
        assert_eq!(
            conn.query_only(),
            conn.role() == ConnectionRole::Reader,
            "{conn:?}"
        );
    }

    let store = Store::options()
        .durability(Durability::Normal)
        .busy_timeout(Duration::from_millis(1234))
        .open(&path, keys())
        .unwrap();
    for conn in store.connection_report().unwrap() {
        assert_eq!(conn.durability(), Some(Durability::Normal));
        assert_eq!(conn.busy_timeout(), Duration::from_millis(1234));
    }
}

#[test]
fn the_in_memory_store_is_one_database_in_memory_journal_mode() {
    let store = Store::open_in_memory(keys()).unwrap();
    let report = store.connection_report().unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].journal_mode(), "memory");
    assert!(report[0].foreign_keys() && report[0].secure_delete());
    create_scratch(&store);
    write_pair(&store, "mem").unwrap();
    // Reads see the write: the same database, not a second empty one.
    assert_eq!(counts(&store), (1, 1, 1));
}

#[test]
fn readers_refuse_to_write() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    let err = store
        .read(|tx| {
            super::raw(tx)
                .execute("INSERT INTO a (writer) VALUES ('reader')", [])
                .map_err(crate::error::sqlite)
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert_eq!(counts(&store), (0, 0, 0));
}

#[test]
fn a_failed_write_changes_nothing() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    let err = store
        .write(|tx| {
            tx.execute(
                "INSERT INTO a (writer) VALUES ('doomed')",
                crate::sql::args![],
            )?;
            Err::<(), _>(Error::validation("quantity", "no"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "quantity" });
    assert_eq!(counts(&store), (0, 0, 0));
    // The writer is usable again and not stuck inside the failed transaction.
    write_pair(&store, "after").unwrap();
    assert_eq!(counts(&store), (1, 1, 1));
}

#[test]
fn a_write_sees_one_now_from_the_clock() {
    let clock = crate::ManualClock::new(Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap());
    let store = Store::options()
        .clock(clock.clone())
        .open_in_memory(keys())
        .unwrap();
    let seen = store
        .write(|tx| {
            let first = tx.now();
            clock.advance(Duration::from_secs(60));
            Ok((first, tx.now()))
        })
        .unwrap();
    assert_eq!(seen.0, seen.1, "one operation, one now");
    assert_eq!(store.now().to_string(), "2026-03-01T12:01:00.000000Z");
}

#[test]
fn concurrent_writers_in_threads_never_see_busy() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    let threads = 8;
    let per_thread = 150;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    write_pair(&store, &format!("thread-{t}"))?;
                    // Reads interleave with writes on the pool.
                    let (a, b, _) = counts(&store);
                    assert_eq!(a, b, "a reader saw half a transaction");
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let total = threads * per_thread;
    assert_eq!(counts(&store), (total, total, total));
}

/// Environment variable that turns `child_writer` from a no-op into a writer process.
const CHILD_DB: &str = "SHOPKEEP_TEST_CHILD_DB";
const CHILD_ROWS: &str = "SHOPKEEP_TEST_CHILD_ROWS";

/// Not a test by itself: the body of the second process of the multi-process tests, which run
/// this test binary again with `CHILD_DB` set.
#[test]
fn child_writer() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let rows: i64 = std::env::var(CHILD_ROWS)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(i64::MAX);
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    let mut written = 0;
    while written < rows {
        write_pair(&store, "child").unwrap();
        written += 1;
    }
}

fn spawn_child(path: &Path, rows: Option<i64>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "store::tests::child_writer",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(CHILD_DB, path)
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    if let Some(rows) = rows {
        cmd.env(CHILD_ROWS, rows.to_string());
    }
    cmd.spawn().unwrap()
}

#[test]
fn a_second_process_writes_the_same_file() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    let child_rows = 300;
    let mut child = spawn_child(&path, Some(child_rows));
    let mut ours = 0;
    // Keep writing while the child does, so the two processes really contend for the lock, but
    // pause a moment between writes as a process serving requests does. (SQLite's arbitration
    // between processes is not fair: a process writing with no pause at all can starve the
    // other past its busy timeout; docs/architecture.md says so.)
    while child.try_wait().unwrap().is_none() || ours < 100 {
        write_pair(&store, "parent").unwrap();
        ours += 1;
        std::thread::sleep(Duration::from_micros(500));
    }
    assert!(child.wait().unwrap().success(), "the child process failed");
    let total = child_rows + ours;
    assert_eq!(counts(&store), (total, total, total));
    let by_child: i64 = store
        .read(|tx| {
            super::raw(tx)
                .query_row("SELECT count(*) FROM a WHERE writer = 'child'", [], |r| {
                    r.get(0)
                })
                .map_err(crate::error::sqlite)
        })
        .unwrap();
    assert_eq!(by_child, child_rows);
}

/// Environment variable that turns `child_seller` from a no-op into a selling process: the
/// variant and the customers to sell to, as `variant,customer,customer,...`.
const CHILD_SALES: &str = "SHOPKEEP_TEST_CHILD_SALES";

/// Not a test by itself: the body of the selling process of the kill test. One thread per
/// customer sells whole sales in a loop, and prints `sale <order id> <invoice number>` once
/// the last call of a sale has returned, that is once the sale is acknowledged.
#[test]
fn child_seller() {
    let (Ok(path), Ok(ids)) = (std::env::var(CHILD_DB), std::env::var(CHILD_SALES)) else {
        return;
    };
    let mut ids = ids.split(',');
    let variant = crate::catalog::VariantId::parse(ids.next().unwrap()).unwrap();
    let store = sales::open(Path::new(&path));
    let threads: Vec<_> = ids
        .map(|id| crate::access::CustomerId::parse(id).unwrap())
        .enumerate()
        .map(|(t, customer)| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let (order, invoice) =
                        sales::sell(&store, customer, variant, &format!("kill-{t}-{i}")).unwrap();
                    // The child's report to its parent, on stdout, which is line buffered:
                    // one short line is one write(2) to the pipe, so a kill cannot tear it.
                    let line = format!("sale {} {}\n", order.id(), invoice.number());
                    std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes())
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn a_process_killed_mid_write_leaves_a_whole_database() {
    let (_dir, path) = temp_db();
    let store = Arc::new(Store::open(&path, keys()).unwrap());
    create_scratch(&store);
    let mut child = spawn_child(&path, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts(&store).0 < 50 {
        assert!(Instant::now() < deadline, "the child wrote nothing");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child died on its own"
        );
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(store);

    let store = Store::open(&path, keys()).unwrap();
    store.verify_integrity().unwrap();
    let (a, b, n) = counts(&store);
    assert!(a >= 50);
    assert_eq!((a, b), (n, n), "a killed writer left half a transaction");
    // And the file still takes writes.
    write_pair(&store, "survivor").unwrap();
    assert_eq!(counts(&store).2, n + 1);
}

/// The kill test with group commit at work: eight threads of one process sell whole sales on
/// one store (their writes batched into shared transactions) until the process is killed.
/// Every sale the process acknowledged is in the file, and the order and invoice numbers run
/// without a gap.
#[test]
fn a_process_killed_amid_batched_sales_loses_no_acknowledged_sale() {
    use std::io::BufRead;

    let (_dir, path) = temp_db();
    let (variant, customers) = sales::set_up(&path, 1_000_000, 8);
    let ids = std::iter::once(variant.to_string())
        .chain(customers.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(",");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::tests::child_seller",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DB, &path)
        .env(CHILD_SALES, ids)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (lines, acknowledged) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            // libtest may have written "test store::tests::child_seller ... " before the
            // first sale, on the same line.
            if let Some(sale) = line.find("sale ").and_then(|at| line.get(at + 5..)) {
                let (order, invoice) = sale.split_once(' ').unwrap();
                if lines.send((order.to_owned(), invoice.to_owned())).is_err() {
                    break;
                }
            }
        }
    });
    let mut sales = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while sales.len() < 40 {
        assert!(Instant::now() < deadline, "the child sold too little");
        if let Ok(sale) = acknowledged.recv_timeout(Duration::from_millis(100)) {
            sales.push(sale);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child died on its own"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    // Sales acknowledged before the kill whose lines were still in the pipe.
    sales.extend(acknowledged.try_iter());

    let store = sales::open(&path);
    store.verify_integrity().unwrap();
    let found = |sql: &str, order: &str, invoice: &str| -> i64 {
        let order = crate::orders::OrderId::parse(order).unwrap();
        store
            .read(|tx| {
                tx.query_row(sql, crate::sql::args![order, invoice.to_owned()], |r| {
                    r.get(0)
                })
            })
            .unwrap()
    };
    for (order, invoice) in &sales {
        assert_eq!(
            found(
                "SELECT count(*) FROM shopkeep_invoices i JOIN shopkeep_orders o ON o.id = i.order_id
                 WHERE o.id = ?1 AND i.number = ?2 AND i.kind = 'invoice'",
                order,
                invoice
            ),
            1,
            "acknowledged sale {order} (invoice {invoice}) was lost"
        );
    }
    let numbers = |sql: &str| -> Vec<i64> {
        store
            .read(|tx| {
                let mut stmt = super::raw(tx).prepare(sql).map_err(crate::error::sqlite)?;
                let rows = stmt
                    .query_map([], |r| r.get(0))
                    .map_err(crate::error::sqlite)?
                    .collect::<rusqlite::Result<Vec<i64>>>()
                    .map_err(crate::error::sqlite)?;
                Ok(rows)
            })
            .unwrap()
    };
    let invoices = numbers("SELECT seq FROM shopkeep_invoices WHERE kind = 'invoice' ORDER BY seq");
    assert!(invoices.len() >= sales.len());
    assert_eq!(
        invoices,
        (1..=invoices.len() as i64).collect::<Vec<_>>(),
        "invoice numbers have a gap"
    );
    let orders = numbers("SELECT number FROM shopkeep_orders ORDER BY number");
    assert_eq!(
        orders,
        (1..=orders.len() as i64).collect::<Vec<_>>(),
        "order numbers have a gap"
    );
    // The audit chain is whole, and the shop sells on.
    let system = store.system();
    assert!(matches!(
        store.audit_log(&system).verify(None).unwrap(),
        crate::access::AuditVerification::Intact { .. }
    ));
    sales::sell(&store, customers[0], variant, "after-the-kill").unwrap();
}

#[test]
fn backup_during_writes_is_a_consistent_snapshot() {
    let (dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    create_scratch(&store);
    for _ in 0..200 {
        write_pair(&store, "before").unwrap();
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut written = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                write_pair(&store, "during").unwrap();
                written += 1;
            }
            written
        })
    };
    let backups: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("backup-{i}.db")))
        .collect();
    for backup in &backups {
        store.backup_to(backup).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = writer.join().unwrap();
    let (live, _, _) = counts(&store);
    assert_eq!(live, 200 + during);

    for backup in &backups {
        let restored = Store::open(backup, keys()).unwrap();
        restored.verify_integrity().unwrap();
        let (a, b, n) = counts(&restored);
        assert!(a >= 200 && a <= live, "{a} rows outside 200..={live}");
        assert_eq!((a, b), (n, n), "the backup holds half a transaction");
    }
    // No partial file is left beside the backups.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_in_memory_store_backs_up_to_a_file() {
    let (dir, _) = temp_db();
    let store = Store::open_in_memory(keys()).unwrap();
    create_scratch(&store);
    write_pair(&store, "mem").unwrap();
    let backup = dir.path().join("copy.db");
    store.backup_to(&backup).unwrap();
    let restored = Store::open(&backup, keys()).unwrap();
    assert_eq!(counts(&restored), (1, 1, 1));
}

#[test]
fn the_wal_is_checkpointed_on_its_page_budget_and_truncated_after() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    store
        .write(|tx| {
            super::raw(tx)
                .execute_batch("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
                .map_err(crate::error::sqlite)?;
            Ok(())
        })
        .unwrap();
    let wal = || {
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    // 8 MiB in 16 KiB transactions: twice SQLite's default checkpoint budget.
    let mut largest = 0;
    for i in 0..512 {
        store
            .write(|tx| {
                super::raw(tx)
                    .execute(
                        "INSERT INTO blobs (data) VALUES (?1)",
                        [vec![i as u8; 16 * 1024]],
                    )
                    .map_err(crate::error::sqlite)?;
                Ok(())
            })
            .unwrap();
        largest = largest.max(wal());
    }
    // The budget's pages, their frame headers, and the one transaction that crossed it.
    let page = u64::from(connection::PAGE_SIZE);
    let budget = u64::from(connection::WAL_CHECKPOINT_PAGES) * (page + 24) + 64 * 1024;
    assert!(largest <= budget, "the WAL grew to {largest} bytes");

    // One large transaction may outgrow the budget, but does not keep its space.
    store
        .write(|tx| {
            super::raw(tx)
                .execute("INSERT INTO blobs (data) VALUES (?1)", [vec![7u8; 4 << 20]])
                .map_err(crate::error::sqlite)?;
            Ok(())
        })
        .unwrap();
    assert!(wal() > connection::WAL_SIZE_LIMIT);
    for _ in 0..300 {
        store
            .write(|tx| {
                super::raw(tx)
                    .execute("INSERT INTO blobs (data) VALUES (?1)", [vec![1u8; 4096]])
                    .map_err(crate::error::sqlite)?;
                Ok(())
            })
            .unwrap();
    }
    assert!(
        wal() <= connection::WAL_SIZE_LIMIT,
        "the WAL kept {} bytes",
        wal()
    );
    store.verify_integrity().unwrap();
}
