//! What a sale writes: the pages its six write transactions add to the WAL (3 × `carts.add`,
//! `checkout`, `mark_paid`, `invoices.issue`), and the page size that decides their bytes.
//! `benches/flow.rs` measures the same per table; docs/performance.md has the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{customer, eur, pay, place, product, raw, seller, settings, shop_with};
use shopkeep::catalog::TaxCategory;
use shopkeep::orders::PriceMode;
use shopkeep::{KeyRing, Store};

/// The bytes in the WAL after one whole sale made on an emptied WAL.
fn wal_bytes_of_one_sale() -> (u64, i64) {
    let shop = shop_with(
        settings(seller(Some("DE123456788")), PriceMode::TaxExclusive)
            .build()
            .unwrap(),
    );
    let store = &shop.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 1_000);
    let tea = product(store, "TEA", eur("4.50"), TaxCategory::Reduced, 1_000);
    let pot = product(store, "POT", eur("39.00"), TaxCategory::Standard, 1_000);
    let ana = customer(store, "ana@example.com", "DE");
    // One sale first, so that the measured one appends to tables that exist and have rows.
    let first = place(store, &ana, &[(mug, 1), (tea, 2), (pot, 1)], None);
    pay(store, &first);
    store.invoices(&store.system()).issue(first.id()).unwrap();
    let conn = raw(store);
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0, "the checkpoint could not empty the WAL");
    let order = place(store, &ana, &[(mug, 1), (tea, 2), (pot, 1)], None);
    pay(store, &order);
    store.invoices(&store.system()).issue(order.id()).unwrap();
    let mut wal = store.path().unwrap().as_os_str().to_owned();
    wal.push("-wal");
    (std::fs::metadata(wal).unwrap().len(), page_size)
}

#[test]
fn a_sale_writes_under_a_hundred_kib_to_the_wal() {
    if common::sqlite_only("measures the bytes a sale adds to SQLite's WAL file") {
        return;
    }
    let (bytes, page_size) = wal_bytes_of_one_sale();
    // With 4 KiB pages the six transactions wrote about 190 KB here (each writes every page it
    // changes whole); with 1 KiB pages they write well under half of it.
    assert!(
        bytes < 100 * 1024,
        "one sale wrote {bytes} bytes to the WAL in pages of {page_size} bytes"
    );
}

#[test]
fn a_new_file_has_one_kib_pages_and_an_older_file_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh, KeyRing::from_master_key([1; 32])).unwrap());
    let size = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(size(&fresh), 1024);

    // A file that is already in WAL mode with 4 KiB pages (as every file created before the
    // page size was chosen) keeps them: it opens, works, reopens and passes its checks.
    let older = dir.path().join("older.db");
    let conn = rusqlite::Connection::open(&older).unwrap();
    conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
        .unwrap();
    drop(conn);
    let store = Store::open(&older, KeyRing::from_master_key([1; 32])).unwrap();
    let variant = product(&store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    drop(store);
    let store = Store::open(&older, KeyRing::from_master_key([1; 32])).unwrap();
    assert_eq!(common::on_hand(&store, variant), 5);
    store.verify_integrity().unwrap();
    drop(store);
    assert_eq!(size(&older), 4096);
}

#[test]
fn repage_to_gives_an_older_file_one_kib_pages_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let size = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    // An older file: WAL mode with 4 KiB pages, with a product and a customer in it.
    let older = dir.path().join("older.db");
    let conn = rusqlite::Connection::open(&older).unwrap();
    conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
        .unwrap();
    drop(conn);
    let keys = || KeyRing::from_master_key([1; 32]);
    let store = Store::open(&older, keys()).unwrap();
    let shop = settings(seller(Some("DE123456788")), PriceMode::TaxExclusive)
        .build()
        .unwrap();
    store.settings(&store.system()).update(0, &shop).unwrap();
    let variant = product(&store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    let ana = customer(&store, "ana@example.com", "DE");

    // A plain backup keeps the page size; the repaged copy has the new one.
    let backup = dir.path().join("backup.db");
    store.backup_to(&backup).unwrap();
    assert_eq!(size(&backup), 4096);
    let repaged = dir.path().join("repaged.db");
    store.repage_to(&repaged).unwrap();
    drop(store);
    assert_eq!(size(&older), 4096, "the store's own file is never changed");
    assert_eq!(size(&repaged), 1024);

    // The copy opens as the shop, in WAL mode, with everything in it, decryptable.
    let store = Store::open(&repaged, keys()).unwrap();
    let mode: String = raw(&store)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(common::on_hand(&store, variant), 5);
    let id = ana.customer_id().unwrap();
    let found = store.customers(&store.system()).get(id).unwrap();
    assert_eq!(found.email().as_str(), "ana@example.com");
    store.verify_integrity().unwrap();
    assert!(matches!(
        store.audit_log(&store.system()).verify(None).unwrap(),
        shopkeep::access::AuditVerification::Intact { .. }
    ));
    // And it takes sales.
    let order = place(&store, &ana, &[(variant, 1)], None);
    pay(&store, &order);
    assert_eq!(common::on_hand(&store, variant), 4);

    // A file that has the page size already is copied as it is.
    let again = dir.path().join("again.db");
    store.repage_to(&again).unwrap();
    assert_eq!(size(&again), 1024);
    drop(store);
    let store = Store::open(&again, keys()).unwrap();
    assert_eq!(common::on_hand(&store, variant), 4);
}
