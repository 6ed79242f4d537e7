//! The store's public promises about files: bad files are refused unchanged, schemas only move
//! forward, backups restore, a panicking read poisons nothing, erasure never stalls writers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use shopkeep::access::{Decision, DefaultPolicy, Policy, Request};
use shopkeep::catalog::{InvoiceIssue, ProductQuery, StockChange, TaxCategory, VariantId};
use shopkeep::crypto::PasswordParams;
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, OrderId, Payment, PriceMode};
use shopkeep::store::{Durability, WalScrub};
use shopkeep::{Error, ErrorKind, KeyRing, Principal, Store};

fn keys() -> KeyRing {
    KeyRing::from_master_key([9; 32])
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    (dir, path)
}

/// Every file in the directory with its bytes, to prove that a refused open wrote nothing.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn assert_refused_unchanged(dir: &Path, path: &Path, kind: ErrorKind, needle: &str) {
    let before = snapshot(dir);
    let err = Store::open(path, keys()).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().contains(needle),
        "{err:?} does not mention {needle:?}"
    );
    assert_eq!(
        snapshot(dir),
        before,
        "a refused open changed the directory"
    );
}

#[test]
fn a_new_file_is_created_and_reopened() {
    let (_dir, path) = temp_db();
    let version = Store::open(&path, keys())
        .unwrap()
        .schema_version()
        .unwrap();
    assert!(version >= 1);
    let store = Store::open(&path, keys()).unwrap();
    assert_eq!(store.schema_version().unwrap(), version);
    assert_eq!(store.path(), Some(path.as_path()));
}

#[test]
fn a_garbage_file_is_refused_and_left_as_it_was() {
    let (dir, path) = temp_db();
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(&path, &garbage).unwrap();
    assert_refused_unchanged(
        dir.path(),
        &path,
        ErrorKind::NotADatabase,
        "not a SQLite database",
    );
}

#[test]
fn a_text_file_is_refused_and_left_as_it_was() {
    let (dir, path) = temp_db();
    fs::write(&path, "name,price\nmug,12.90\n").unwrap();
    assert_refused_unchanged(
        dir.path(),
        &path,
        ErrorKind::NotADatabase,
        "not a SQLite database",
    );
}

#[test]
fn another_applications_database_is_refused_and_left_as_it_was() {
    let (dir, path) = temp_db();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    assert_refused_unchanged(
        dir.path(),
        &path,
        ErrorKind::NotADatabase,
        "another application",
    );
}

#[test]
fn a_corrupted_database_is_refused_and_left_as_it_was() {
    let (dir, path) = temp_db();
    drop(Store::open(&path, keys()).unwrap());
    // Page 1 holds the schema; overwrite it past the 100-byte header with noise.
    let mut bytes = fs::read(&path).unwrap();
    assert!(bytes.len() >= 4096);
    for (i, b) in bytes.iter_mut().enumerate().take(4096).skip(100) {
        *b = (i * 7 + 13) as u8;
    }
    fs::write(&path, &bytes).unwrap();
    assert_refused_unchanged(dir.path(), &path, ErrorKind::NotADatabase, "corrupted");
}

#[test]
fn a_database_from_a_newer_shopkeep_is_refused_and_left_as_it_was() {
    let (dir, path) = temp_db();
    let current = Store::open(&path, keys())
        .unwrap()
        .schema_version()
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO shopkeep_schema (version, name, applied_at) VALUES (?1, 'from_the_future', '2099-01-01T00:00:00.000000Z')",
        [current + 1],
    )
    .unwrap();
    // Leave no WAL behind, so the snapshot compares the main file alone.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(conn);
    assert_refused_unchanged(
        dir.path(),
        &path,
        ErrorKind::SchemaTooNew,
        &format!("version {}", current + 1),
    );
}

#[test]
fn a_missing_directory_is_a_storage_error_that_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no").join("such").join("shop.db");
    let err = Store::open(&path, keys()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("shop.db"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the SQLite cause is chained"
    );
    assert!(snapshot(dir.path()).is_empty());
}

#[test]
fn a_directory_is_not_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path(), keys()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn a_pool_size_out_of_range_is_a_validation_error() {
    let (dir, path) = temp_db();
    for readers in [0, 65] {
        let err = Store::options()
            .readers(readers)
            .open(&path, keys())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "readers" });
    }
    assert!(
        snapshot(dir.path()).is_empty(),
        "a rejected option created the file"
    );
}

#[test]
fn a_backup_opens_as_a_store_and_replaces_an_older_backup() {
    let (dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    let backup = dir.path().join("backup.db");
    fs::write(&backup, "an older backup").unwrap();
    store.backup_to(&backup).unwrap();
    let restored = Store::open(&backup, keys()).unwrap();
    restored.verify_integrity().unwrap();
    assert_eq!(
        restored.schema_version().unwrap(),
        store.schema_version().unwrap()
    );
}

#[test]
fn a_backup_into_a_missing_directory_fails_cleanly() {
    let (dir, path) = temp_db();
    let store = Store::open(&path, keys()).unwrap();
    let err = store
        .backup_to(dir.path().join("gone").join("b.db"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
}

#[test]
fn store_is_send_sync_clone_and_debug_hides_keys() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Store>();
    let store = Store::open_in_memory(keys()).unwrap();
    let shown = format!("{store:?}");
    assert!(shown.contains("Store") && !shown.contains("[9"), "{shown}");
}

/// A host policy with a bug: it panics while `panics` is set, and the first request after
/// `block` is given a channel waits on that channel (a handler stuck inside a read).
#[derive(Debug, Default)]
struct FaultyPolicy {
    panics: AtomicBool,
    block: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
}

impl Policy for FaultyPolicy {
    fn decide(&self, request: &Request<'_>) -> Decision {
        assert!(!self.panics.load(Ordering::SeqCst), "a host policy bug");
        let block = self.block.lock().unwrap().take();
        if let Some((entered, release)) = block {
            entered.send(()).unwrap();
            release.recv().unwrap();
        }
        DefaultPolicy::new().decide(request)
    }
}

/// Wraps the shared policy so the test keeps a handle on it.
#[derive(Debug)]
struct Shared(Arc<FaultyPolicy>);

impl Policy for Shared {
    fn decide(&self, request: &Request<'_>) -> Decision {
        self.0.decide(request)
    }
}

#[test]
fn a_panic_inside_a_read_leaves_no_transaction_open() {
    let (_dir, path) = temp_db();
    let policy = Arc::new(FaultyPolicy::default());
    // One reader, so the read after the panic gets the very connection that panicked.
    let store = Store::options()
        .readers(1)
        .policy(Shared(Arc::clone(&policy)))
        .open(&path, keys())
        .unwrap();
    let products = || store.products(&store.system()).list(&ProductQuery::new());
    products().unwrap();

    policy.panics.store(true, Ordering::SeqCst);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(products));
    assert!(caught.is_err(), "the policy did not panic");
    policy.panics.store(false, Ordering::SeqCst);

    // Before the fix: "cannot start a transaction within a transaction".
    products().unwrap();
    store.verify_integrity().unwrap();
    assert!(store.schema_version().unwrap() >= 1);
    // No stale snapshot pins the WAL: a truncating checkpoint from outside finishes.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let busy: i64 = raw
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(busy, 0, "a reader still holds an old snapshot");
}

#[test]
fn a_read_waits_for_a_pooled_reader_only_up_to_the_pool_timeout() {
    let (_dir, path) = temp_db();
    let policy = Arc::new(FaultyPolicy::default());
    let store = Store::options()
        .readers(1)
        .pool_timeout(Duration::from_millis(200))
        .policy(Shared(Arc::clone(&policy)))
        .open(&path, keys())
        .unwrap();
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    *policy.block.lock().unwrap() = Some((entered_tx, release_rx));
    let holder = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .products(&store.system())
                .list(&ProductQuery::new())
                .map(|_| ())
        })
    };
    entered.recv().unwrap(); // the only reader is now in use

    let started = Instant::now();
    let err = store
        .products(&store.system())
        .list(&ProductQuery::new())
        .unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("pool timeout"), "{err}");
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(10),
        "waited {waited:?}"
    );

    release.send(()).unwrap();
    holder.join().unwrap().unwrap();
    store
        .products(&store.system())
        .list(&ProductQuery::new())
        .unwrap();
}

#[test]
fn erasure_never_makes_writers_wait_for_an_old_reader() {
    if common::sqlite_only(
        "holds a raw SQLite reader open and scans the file and its WAL for the wrapped key",
    ) {
        return;
    }
    let (_dir, path) = temp_db();
    let clock = common::clock();
    let store = common::open(&path, &clock);
    let ana = store
        .customers(&Principal::anonymous())
        .register(common::new_customer(
            "ana@example.com",
            "Ana Lima",
            common::address("DE"),
        ))
        .unwrap()
        .id();
    let variant = common::product(
        &store,
        "MUG-1",
        common::eur("12.90"),
        TaxCategory::Standard,
        0,
    );
    let raw = rusqlite::Connection::open(&path).unwrap();
    let wrapped: Vec<u8> = raw
        .query_row(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
            [format!("customer:{ana}")],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        common::contains(&common::raw_bytes(&path), &wrapped),
        "the scan cannot see the wrapped key"
    );

    // A reader (a long export, another process) holds a snapshot from before the erasure.
    let (started_tx, started) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        raw.execute_batch("BEGIN").unwrap();
        let _: i64 = raw
            .query_row("SELECT count(*) FROM shopkeep_data_keys", [], |r| r.get(0))
            .unwrap();
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(8));
        raw.execute_batch("COMMIT").unwrap();
    });
    started.recv().unwrap();

    // The shop keeps selling: a write every 50 ms, each timed.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let mut writes = 0;
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                store
                    .stock(&store.system())
                    .adjust(variant, StockChange::receipt(1))
                    .unwrap();
                slowest = slowest.max(started.elapsed());
                writes += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (slowest, writes)
        })
    };

    let started = Instant::now();
    store.customers(&store.system()).erase(ana).unwrap();
    let erase_took = started.elapsed();
    let pending = store.wal_scrub().unwrap();
    assert!(
        matches!(pending, WalScrub::Pending { since } if since == store.now()),
        "{pending:?}"
    );

    reader.join().unwrap();
    assert_eq!(store.maintain().unwrap(), WalScrub::Clean);
    assert_eq!(store.wal_scrub().unwrap(), WalScrub::Clean);
    stop.store(true, Ordering::SeqCst);
    let (slowest, writes) = writer.join().unwrap();

    assert!(
        erase_took < Duration::from_secs(1),
        "erase took {erase_took:?}"
    );
    // The shop kept selling through the 8 s (a write every 50 ms, plus each write's own time).
    assert!(writes >= 40, "only {writes} writes in 8 s");
    assert!(
        slowest < Duration::from_millis(100),
        "a write waited {slowest:?}"
    );
    assert!(
        !common::contains(&common::raw_bytes(&path), &wrapped),
        "the erased customer's wrapped key is still in the file or its WAL"
    );
}

#[test]
fn a_pending_scrub_survives_a_restart_and_finishes_at_the_next_write() {
    if common::sqlite_only("holds a raw SQLite reader open so the WAL scrub stays pending") {
        return;
    }
    let (_dir, path) = temp_db();
    let clock = common::clock();
    let store = common::open(&path, &clock);
    let ana = store
        .customers(&Principal::anonymous())
        .register(common::new_customer(
            "ana@example.com",
            "Ana Lima",
            common::address("DE"),
        ))
        .unwrap()
        .id();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let wrapped: Vec<u8> = raw
        .query_row(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
            [format!("customer:{ana}")],
            |r| r.get(0),
        )
        .unwrap();
    raw.execute_batch("BEGIN").unwrap();
    let _: i64 = raw
        .query_row("SELECT count(*) FROM shopkeep_data_keys", [], |r| r.get(0))
        .unwrap();
    store.customers(&store.system()).erase(ana).unwrap();
    // The reader is in the way: the scrub stays pending, through a restart.
    assert!(matches!(
        store.maintain().unwrap(),
        WalScrub::Pending { .. }
    ));
    drop(store);
    raw.execute_batch("COMMIT").unwrap();
    drop(raw);

    let store = common::open(&path, &clock);
    assert!(matches!(
        store.wal_scrub().unwrap(),
        WalScrub::Pending { .. }
    ));
    // The next write finishes it on the side.
    common::product(
        &store,
        "MUG-1",
        common::eur("12.90"),
        TaxCategory::Standard,
        0,
    );
    assert_eq!(store.wal_scrub().unwrap(), WalScrub::Clean);
    assert!(!common::contains(&common::raw_bytes(&path), &wrapped));
}

/// A small tmpfs mounted over a temp dir for one test, unmounted when dropped.
struct SmallVolume {
    dir: tempfile::TempDir,
}

impl SmallVolume {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it), or says why it cannot.
    fn mount(size: &str) -> Result<SmallVolume, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(SmallVolume { dir })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallVolume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the volume with a ballast file, then frees `spare` bytes of it. Returns its path.
fn fill_volume(dir: &Path, spare: u64) -> PathBuf {
    use std::io::Write;
    let ballast = dir.join("ballast");
    let mut file = fs::File::create(&ballast).unwrap();
    let chunk = vec![0x5a_u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.flush();
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(spare)).unwrap();
    file.sync_all().unwrap();
    ballast
}

/// Where one order of the disk-full test got to.
#[derive(Debug, Default)]
struct Sale {
    order: Option<OrderId>,
    paid: bool,
    invoice: Option<String>,
}

/// Takes `sale` one step further: checkout, payment, invoice. `Ok(false)` once it is complete.
fn step(
    store: &Store,
    buyer: &Principal,
    mug: VariantId,
    key: usize,
    sale: &mut Sale,
) -> Result<bool, Error> {
    let system = store.system();
    match (&sale.order, sale.paid, &sale.invoice) {
        (None, _, _) => {
            let cart = buyer.customer_id().unwrap();
            if store
                .carts(buyer)
                .get(CartRef::Customer(cart))?
                .lines()
                .is_empty()
            {
                store.carts(buyer).add(CartRef::Customer(cart), mug, 1)?;
            }
            let key = IdempotencyKey::new(&format!("disk-full-{key}")).unwrap();
            let order = store
                .orders(buyer)
                .checkout(Checkout::from_cart(cart, key))?
                .into_order();
            sale.order = Some(order.id());
        }
        (Some(id), false, _) => {
            let order = store.orders(&system).get(*id)?;
            let payment = Payment::new(&format!("psp_{key}"), order.total()).unwrap();
            store.orders(&system).mark_paid(*id, payment)?;
            sale.paid = true;
        }
        (Some(id), true, None) => {
            let invoice = store.invoices(&system).issue(*id)?;
            sale.invoice = Some(invoice.number().to_owned());
        }
        (Some(_), true, Some(_)) => return Ok(false),
    }
    Ok(true)
}

/// The sequence number at the end of an invoice number.
fn seq(number: &str) -> u64 {
    let digits: String = number
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

/// Every acknowledged order is there, every acknowledged invoice number names its order's
/// invoice, the numbers run 1, 2, 3, ... with no gap, and no failed call left a row behind.
fn assert_nothing_acknowledged_is_lost(store: &Store, sales: &[Sale]) {
    store.verify_integrity().unwrap();
    let raw = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let rows = |table: &str| -> usize {
        let n: i64 = raw
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        usize::try_from(n).unwrap()
    };
    assert_eq!(
        rows("shopkeep_orders"),
        sales.iter().filter(|s| s.order.is_some()).count()
    );
    assert_eq!(
        rows("shopkeep_invoices"),
        sales.iter().filter(|s| s.invoice.is_some()).count()
    );
    let system = store.system();
    let mut numbers = Vec::new();
    for sale in sales {
        if let Some(id) = sale.order {
            let order = store.orders(&system).get(id).unwrap();
            assert_eq!(order.id(), id);
        }
        if let Some(number) = &sale.invoice {
            let invoice = store.invoices(&system).by_number(number).unwrap();
            assert_eq!(Some(invoice.order()), sale.order);
            numbers.push(seq(number));
        }
    }
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "invoice numbers have a gap");
}

#[test]
#[allow(clippy::print_stderr)]
fn a_full_disk_fails_cleanly_and_the_store_recovers_once_space_is_freed() {
    let volume = match SmallVolume::mount("16m") {
        Ok(volume) => volume,
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs to fill ({why})");
            return;
        }
    };
    let path = volume.path().join("shop.db");
    let clock = common::clock();
    let open = || {
        Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .durability(Durability::Full)
            .clock(clock.clone())
            .open(&path, keys())
            .unwrap()
    };
    let store = open();
    let settings = common::settings(common::seller(Some("DE123456788")), PriceMode::TaxInclusive)
        .invoice_issue(InvoiceIssue::OnPayment)
        .build()
        .unwrap();
    store
        .settings(&store.system())
        .update(0, &settings)
        .unwrap();
    let mug = common::product(
        &store,
        "MUG-1",
        common::eur("12.90"),
        TaxCategory::Standard,
        100_000,
    );
    let buyer = common::customer(&store, "ana@example.com", "DE");

    // Room for some sales and more than one WAL checkpoint, then none.
    let ballast = fill_volume(volume.path(), 1536 * 1024);
    let mut sales: Vec<Sale> = Vec::new();
    let mut failures = 0;
    let mut steps = 0;
    while failures < 5 {
        steps += 1;
        assert!(steps < 100_000, "the volume never filled up");
        if sales.last().is_none_or(|s| s.invoice.is_some()) {
            sales.push(Sale::default());
        }
        let key = sales.len();
        let sale = sales.last_mut().unwrap();
        match step(&store, &buyer, mug, key, sale) {
            Ok(_) => {}
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
                failures += 1;
            }
        }
    }
    // The WAL is checkpointed every 256 pages, so the spare space holds the sales themselves,
    // not megabytes of WAL frames waiting for SQLite's default 1000-page checkpoint (measured:
    // about 170 sales fit with the budget, 8 without).
    let invoiced = sales.iter().filter(|s| s.invoice.is_some()).count();
    assert!(invoiced >= 40, "only {invoiced} sales fit in 1.5 MiB");
    // Reads still work on a full disk, and nothing acknowledged is lost.
    assert_nothing_acknowledged_is_lost(&store, &sales);

    // Space comes back: the same store takes writes again without a restart.
    fs::remove_file(&ballast).unwrap();
    for _ in 0..3 {
        let key = sales.len();
        let sale = sales.last_mut().unwrap();
        while step(&store, &buyer, mug, key, sale).unwrap() {}
        sales.push(Sale::default());
    }
    sales.pop();
    assert_nothing_acknowledged_is_lost(&store, &sales);
    drop(store);

    let store = open();
    assert_nothing_acknowledged_is_lost(&store, &sales);
}
