//! The PostgreSQL engine (feature `postgres`): a store on a server schema behaves as a store in
//! a file does, and holds its guarantees with several stores (as several application servers
//! would) writing at once.
//!
//! Each test runs against the server `SHOPKEEP_TEST_POSTGRES` names, in a schema of its own;
//! without it (or without the feature) the PostgreSQL part is skipped and says so on stdout.
//! `.ci/run` starts a throwaway cluster and sets the variable, so CI always runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use common::postgres::{PgSchema, conninfo};
use common::{Engine, customer, eur, key, on_hand, pay, place, product, shops};
use shopkeep::access::AuditVerification;
use shopkeep::catalog::TaxCategory;
use shopkeep::orders::{CartRef, Checkout, PriceMode};
use shopkeep::store::WalScrub;
use shopkeep::{ErrorKind, KeyRing, Principal, Store};

/// The test server, shared by this file's tests and restarted by one of them: the others hold
/// it for reading, the restart for writing, so that no test sees the server go away but the
/// one that restarts it. (`cargo test` runs one test binary at a time; a runner that runs
/// several at once against one server would see the restart in theirs too.)
static SERVER: RwLock<()> = RwLock::new(());

fn server() -> RwLockReadGuard<'static, ()> {
    SERVER.read().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn a_postgres_store_migrates_reconnects_and_refuses_what_is_not_its_own() {
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    let schema = PgSchema::create(&conninfo);
    let clock = common::clock();
    let store = common::connect_postgres(&schema.config(), &clock);
    let file = Store::open_in_memory(KeyRing::from_master_key([8; 32])).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        file.schema_version().unwrap()
    );
    store.verify_integrity().unwrap();
    assert_eq!(store.path(), None);
    assert_eq!(store.wal_scrub().unwrap(), WalScrub::Clean);
    assert_eq!(store.maintain().unwrap(), WalScrub::Clean);

    // File operations have no meaning on a server, and say so instead of half-working.
    let dir = tempfile::tempdir().unwrap();
    let err = store.backup_to(dir.path().join("copy.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(!dir.path().join("copy.db").exists());
    assert_eq!(
        store.connection_report().unwrap_err().kind(),
        ErrorKind::Unsupported
    );

    // A second server on the same schema shares the root key: it reads what the first wrote,
    // and one audit chain spans both.
    let mug = product(&store, "MUG-1", eur("12.00"), TaxCategory::Standard, 7);
    let other = common::connect_postgres(&schema.config(), &clock);
    assert_eq!(on_hand(&other, mug), 7);
    let ana = customer(&other, "ana@example.com", "DE");
    assert_eq!(
        store
            .customers(&store.system())
            .get(ana.customer_id().unwrap())
            .unwrap()
            .name(),
        "Ana Example"
    );
    let system = store.system();
    match store.audit_log(&system).verify(None).unwrap() {
        AuditVerification::Intact { entries, .. } => assert!(entries >= 3, "{entries}"),
        broken => panic!("{broken:?}"),
    }

    // The wrong master key opens nothing, and writes nothing.
    let err = common::try_connect_postgres(&schema.config(), &clock, [9; 32]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);

    // A schema holding another application's tables is refused before anything is written.
    let foreign = PgSchema::create(&conninfo);
    assert!(
        foreign
            .run("CREATE TABLE orders (id int);")
            .status
            .success()
    );
    let err = common::try_connect_postgres(&foreign.config(), &clock, [8; 32]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADatabase);
    let tables = foreign.run(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema();",
    );
    assert_eq!(String::from_utf8_lossy(&tables.stdout).trim(), "1");
}

#[test]
fn connections_the_server_ended_are_replaced_without_failing_a_call() {
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    let schema = PgSchema::create(&conninfo);
    let clock = common::clock();
    // A name of its own, so that only this store's sessions are ended below.
    let name = format!("shopkeep_ended_{}", std::process::id());
    let store = common::connect_postgres(
        &format!("{} application_name={name}", schema.config()),
        &clock,
    );
    let mug = product(&store, "MUG-1", eur("12.00"), TaxCategory::Standard, 7);
    // Several pooled connections at once, so that several go stale.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| assert_eq!(on_hand(&store, mug), 7));
        }
    });
    let ended = schema.run(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}';"
    ));
    assert!(
        ended.status.success(),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    let ended: u32 = String::from_utf8_lossy(&ended.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(ended >= 1, "no session of the store was ended");
    // Every connection in the pool is dead; the next calls get fresh ones, and fail none.
    assert_eq!(on_hand(&store, mug), 7);
    let cup = product(&store, "CUP-1", eur("8.00"), TaxCategory::Standard, 3);
    assert_eq!(on_hand(&store, cup), 3);
}

/// What a short trading day leaves behind, to compare across engines.
#[derive(Debug, PartialEq)]
struct Day {
    totals: Vec<String>,
    invoice_numbers: Vec<String>,
    on_hand: u64,
    refused: ErrorKind,
    audit_entries: u64,
}

#[test]
fn a_trading_day_ends_the_same_on_every_engine() {
    let _server = server();
    let mut days = Vec::new();
    for shop in shops(PriceMode::TaxInclusive) {
        let store = &shop.store;
        let system = store.system();
        let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 5);
        let tea = product(store, "TEA-1", eur("4.20"), TaxCategory::Reduced, 50);
        let ana = customer(store, "ana@example.com", "DE");
        let ben = customer(store, "ben@example.com", "DE");
        let first = place(store, &ana, &[(mug, 2), (tea, 3)], None);
        let second = place(store, &ben, &[(mug, 3)], None);
        pay(store, &first);
        pay(store, &second);
        let numbers: Vec<String> = [&first, &second]
            .iter()
            .map(|order| {
                store
                    .invoices(&system)
                    .issue(order.id())
                    .unwrap()
                    .number()
                    .to_owned()
            })
            .collect();
        // The last mug is gone: a third checkout is refused and changes nothing.
        common::fill(store, &ana, &[(mug, 1)]);
        let id = ana.customer_id().unwrap();
        let refused = store
            .orders(&ana)
            .checkout(Checkout::from_cart(id, key("late")))
            .unwrap_err();
        // A replayed checkout returns the first order instead of a second one.
        store
            .carts(&ana)
            .remove(CartRef::Customer(id), mug)
            .unwrap();
        common::fill(store, &ana, &[(tea, 1)]);
        let once = store
            .orders(&ana)
            .checkout(Checkout::from_cart(id, key("once")))
            .unwrap();
        let again = store
            .orders(&ana)
            .checkout(Checkout::from_cart(id, key("once")))
            .unwrap();
        assert_eq!(once.order().id(), again.order().id(), "{}", shop.engine);
        let audit_entries = match store.audit_log(&system).verify(None).unwrap() {
            AuditVerification::Intact { entries, .. } => entries,
            broken => panic!("{}: {broken:?}", shop.engine),
        };
        days.push(Day {
            totals: [&first, &second, once.order()]
                .iter()
                .map(|order| order.total().to_string())
                .collect(),
            invoice_numbers: numbers,
            on_hand: on_hand(store, mug),
            refused: refused.kind(),
            audit_entries,
        });
    }
    assert_eq!(days[0].on_hand, 0);
    assert_eq!(days[0].refused, ErrorKind::OutOfStock);
    assert_eq!(days[0].invoice_numbers.len(), 2);
    assert_ne!(days[0].invoice_numbers[0], days[0].invoice_numbers[1]);
    for day in &days[1..] {
        assert_eq!(day, &days[0]);
    }
}

/// A shop on a schema of its own that sells one mug, `stock` on hand; and the schema's
/// connection string, for more stores (servers) on it.
fn mug_shop(conninfo: String, stock: u32) -> (common::Shop, shopkeep::catalog::VariantId, String) {
    let shop = common::shop_on(
        &Engine::Postgres(conninfo),
        common::settings(common::seller(None), PriceMode::TaxInclusive)
            .build()
            .unwrap(),
    );
    let mug = product(
        &shop.store,
        "MUG-1",
        eur("12.00"),
        TaxCategory::Standard,
        stock,
    );
    let config = shop._schema.as_ref().unwrap().config();
    (shop, mug, config)
}

/// Four stores (four connection pools, as four application servers would have) of four threads
/// each sell 24 units of one product to 64 eager buyers, and issue an invoice for every sale.
#[test]
fn sixteen_writers_on_four_stores_never_oversell_and_number_invoices_without_gaps() {
    const STORES: usize = 4;
    const THREADS: usize = 4;
    const BUYERS_PER_THREAD: usize = 4;
    const STOCK: u32 = 24;
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    let (shop, mug, config) = mug_shop(conninfo, STOCK);
    let store = &shop.store;
    let stores: Vec<Store> = (0..STORES)
        .map(|_| common::connect_postgres(&config, &shop.clock))
        .collect();
    let buyers: Vec<Vec<Principal>> = (0..STORES * THREADS)
        .map(|t| {
            (0..BUYERS_PER_THREAD)
                .map(|b| customer(store, &format!("b{t}-{b}@example.com"), "DE"))
                .collect()
        })
        .collect();
    let sold = AtomicUsize::new(0);
    let numbers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = buyers
            .iter()
            .enumerate()
            .map(|(t, mine)| {
                let store = &stores[t % STORES];
                let sold = &sold;
                scope.spawn(move || {
                    let mut numbers = Vec::new();
                    for (b, buyer) in mine.iter().enumerate() {
                        let id = buyer.customer_id().unwrap();
                        common::fill(store, buyer, &[(mug, 1)]);
                        let request = Checkout::from_cart(id, key(&format!("{t}-{b}")));
                        match store.orders(buyer).checkout(request) {
                            Ok(placed) => {
                                sold.fetch_add(1, Ordering::SeqCst);
                                let order = pay(store, placed.order());
                                let invoice =
                                    store.invoices(&store.system()).issue(order.id()).unwrap();
                                numbers.push(invoice.number().to_owned());
                            }
                            Err(err) => assert_eq!(err.kind(), ErrorKind::OutOfStock, "{err}"),
                        }
                    }
                    numbers
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(sold.load(Ordering::SeqCst), STOCK as usize);
    assert_eq!(on_hand(store, mug), 0);
    // Gapless: the numbers are the series' first STOCK numbers, each once.
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), STOCK as usize);
    let suffixes: BTreeSet<u64> = numbers
        .iter()
        .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(suffixes, (1..=u64::from(STOCK)).collect::<BTreeSet<_>>());
    let system = store.system();
    assert!(matches!(
        store.audit_log(&system).verify(None).unwrap(),
        AuditVerification::Intact { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Several processes: the guarantees hold between application servers, and survive their death
// and a restart of the database server.

/// The schema a selling child process connects to (its connection string).
const CHILD_CONFIG: &str = "SHOPKEEP_TEST_CHILD_POSTGRES";
/// The variant and the customers' emails a selling child sells to: `variant,email,email,...`.
const CHILD_SALES: &str = "SHOPKEEP_TEST_CHILD_SALES";
/// `forever` (sell until killed) or `stock` (stop at the first sale refused for want of stock).
const CHILD_UNTIL: &str = "SHOPKEEP_TEST_CHILD_UNTIL";
/// A shell command that restarts the test server (`.ci/run` sets it); without it the kill
/// test kills the clients only.
const RESTART_VAR: &str = "SHOPKEEP_TEST_POSTGRES_RESTART";

/// One whole sale by `buyer`: a unit in the cart, checkout, payment, invoice. Returns the order
/// and invoice numbers once all of it has committed, or the error of the step that failed.
fn sell(
    store: &Store,
    buyer: &Principal,
    variant: shopkeep::catalog::VariantId,
    key_text: &str,
) -> shopkeep::Result<(String, String)> {
    let id = buyer.customer_id().unwrap();
    store
        .carts(buyer)
        .set_quantity(CartRef::Customer(id), variant, 1)?;
    let placed = store
        .orders(buyer)
        .checkout(Checkout::from_cart(id, key(key_text)))?;
    let order = placed.order();
    let payment = shopkeep::orders::Payment::new(&format!("psp_{key_text}"), order.total())?;
    store
        .orders(&store.system())
        .mark_paid(order.id(), payment)?;
    let invoice = store.invoices(&store.system()).issue(order.id())?;
    Ok((order.number().to_string(), invoice.number().to_owned()))
}

/// Not a test by itself: the body of a selling process. One thread per customer sells whole
/// sales and prints `sale <order number> <invoice number>` once a sale has committed, as one
/// write to stdout (a kill cannot tear a line). A sale that fails (the server restarting) is
/// not printed and is tried again under a new key.
#[test]
fn child_seller() {
    let (Ok(config), Ok(sales), Ok(until)) = (
        std::env::var(CHILD_CONFIG),
        std::env::var(CHILD_SALES),
        std::env::var(CHILD_UNTIL),
    ) else {
        return;
    };
    let clock = common::clock();
    let store = common::connect_postgres(&config, &clock);
    let mut parts = sales.split(',');
    let variant = shopkeep::catalog::VariantId::parse(parts.next().unwrap()).unwrap();
    let buyers: Vec<Principal> = parts
        .map(|email| {
            let email = shopkeep::Email::parse(email).unwrap();
            let login = store
                .login(&email, &shopkeep::crypto::Password::new(common::PASSWORD))
                .unwrap();
            store.principal_from_session(login.token()).unwrap()
        })
        .collect();
    let pid = std::process::id();
    std::thread::scope(|scope| {
        for (t, buyer) in buyers.iter().enumerate() {
            let store = &store;
            let until = &until;
            scope.spawn(move || {
                for i in 0.. {
                    match sell(store, buyer, variant, &format!("{pid}-{t}-{i}")) {
                        Ok((order, invoice)) => {
                            let line = format!("sale {order} {invoice}\n");
                            std::io::Write::write_all(
                                &mut std::io::stdout().lock(),
                                line.as_bytes(),
                            )
                            .unwrap();
                        }
                        Err(err) if err.kind() == ErrorKind::OutOfStock && until == "stock" => {
                            return;
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                    }
                }
            });
        }
    });
}

/// A shop on its own schema with one product and `processes × THREADS` customers, and the
/// children selling to them.
struct Sellers {
    shop: common::Shop,
    children: Vec<std::process::Child>,
    sales: std::sync::mpsc::Receiver<(String, String)>,
    readers: Vec<std::thread::JoinHandle<()>>,
    variant: shopkeep::catalog::VariantId,
}

const THREADS: usize = 4;

fn start_sellers(conninfo: String, processes: usize, stock: u32, until: &str) -> Sellers {
    use std::io::BufRead;
    let (shop, variant, config) = mug_shop(conninfo, stock);
    let store = &shop.store;
    let (send, sales) = std::sync::mpsc::channel();
    let mut children = Vec::new();
    let mut readers = Vec::new();
    for p in 0..processes {
        let emails: Vec<String> = (0..THREADS)
            .map(|t| {
                let email = format!("p{p}-t{t}@example.com");
                customer(store, &email, "DE");
                email
            })
            .collect();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_seller",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_CONFIG, &config)
            .env(CHILD_SALES, format!("{variant},{}", emails.join(",")))
            .env(CHILD_UNTIL, until)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let send = send.clone();
        readers.push(std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                // libtest may have written "test child_seller ... " before the first sale.
                if let Some(sale) = line.find("sale ").and_then(|at| line.get(at + 5..)) {
                    let (order, invoice) = sale.split_once(' ').unwrap();
                    if send.send((order.to_owned(), invoice.to_owned())).is_err() {
                        break;
                    }
                }
            }
        }));
        children.push(child);
    }
    Sellers {
        shop,
        children,
        sales,
        readers,
        variant,
    }
}

/// Every acknowledged sale is in the database with its invoice, and the order and invoice
/// numbers run from 1 without a gap; the audit chain is whole.
fn assert_whole(store: &Store, sales: &[(String, String)]) {
    let system = store.system();
    let mut orders = Vec::new();
    let mut query = shopkeep::orders::OrderQuery::new().limit(500);
    loop {
        let page = store.orders(&system).list(&query).unwrap();
        orders.extend(
            page.orders()
                .iter()
                .map(|o| (o.id(), o.number().to_string())),
        );
        match page.next() {
            Some(next) => query = shopkeep::orders::OrderQuery::new().limit(500).after(next),
            None => break,
        }
    }
    let mut invoice_numbers = BTreeSet::new();
    for (id, _) in &orders {
        // The order's invoice comes first, before any credit note (these sales have none).
        if let Some(invoice) = store.invoices(&system).for_order(*id).unwrap().first() {
            invoice_numbers.insert(invoice.number().to_owned());
        }
    }
    let order_numbers: BTreeSet<String> = orders.iter().map(|(_, n)| n.clone()).collect();
    for (order, invoice) in sales {
        assert!(
            order_numbers.contains(order),
            "acknowledged order {order} was lost"
        );
        assert!(
            invoice_numbers.contains(invoice),
            "acknowledged invoice {invoice} was lost"
        );
    }
    let suffix = |n: &String| -> u64 { n.rsplit('-').next().unwrap().parse().unwrap() };
    let invoices: BTreeSet<u64> = invoice_numbers.iter().map(suffix).collect();
    assert_eq!(
        invoices,
        (1..=invoices.len() as u64).collect::<BTreeSet<_>>(),
        "invoice numbers have a gap"
    );
    let order_suffixes: BTreeSet<u64> = order_numbers.iter().map(suffix).collect();
    assert_eq!(
        order_suffixes,
        (1..=order_suffixes.len() as u64).collect::<BTreeSet<_>>(),
        "order numbers have a gap"
    );
    assert!(matches!(
        store.audit_log(&system).verify(None).unwrap(),
        AuditVerification::Intact { .. }
    ));
}

#[test]
fn four_processes_of_four_threads_sell_exactly_the_stock_with_gapless_numbers() {
    const STOCK: u32 = 40;
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    let mut sellers = start_sellers(conninfo, 4, STOCK, "stock");
    for child in &mut sellers.children {
        assert!(child.wait().unwrap().success(), "a selling process failed");
    }
    for reader in sellers.readers.drain(..) {
        reader.join().unwrap();
    }
    let sales: Vec<(String, String)> = sellers.sales.try_iter().collect();
    let store = &sellers.shop.store;
    assert_eq!(
        sales.len(),
        STOCK as usize,
        "sold {} of {STOCK}",
        sales.len()
    );
    assert_eq!(on_hand(store, sellers.variant), 0);
    assert_whole(store, &sales);
}

#[test]
fn killed_clients_and_a_restarted_server_lose_no_acknowledged_sale() {
    let _server = SERVER.write().unwrap_or_else(PoisonError::into_inner);
    let Some(conninfo) = conninfo() else { return };
    let restart = std::env::var(RESTART_VAR).ok();
    let mut sellers = start_sellers(conninfo, 2, 1_000_000, "forever");
    let mut sales = Vec::new();
    let mut wait_for = |sales: &mut Vec<(String, String)>, count: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while sales.len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "the children sold too little"
            );
            if let Ok(sale) = sellers
                .sales
                .recv_timeout(std::time::Duration::from_millis(100))
            {
                sales.push(sale);
            }
            for child in &mut sellers.children {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "a child died on its own"
                );
            }
        }
    };
    wait_for(&mut sales, 30);
    match &restart {
        Some(command) => {
            // The server goes away under the children's feet and comes back; they carry on.
            let status = std::process::Command::new("sh")
                .args(["-c", command])
                .status()
                .unwrap();
            assert!(status.success(), "{RESTART_VAR} failed");
            let before = sales.len();
            wait_for(&mut sales, before + 30);
        }
        None => skipped_restart(),
    }
    for child in &mut sellers.children {
        child.kill().unwrap(); // SIGKILL, mid-sale
        child.wait().unwrap();
    }
    for reader in sellers.readers.drain(..) {
        reader.join().unwrap();
    }
    sales.extend(sellers.sales.try_iter());
    // A fresh connection pool: the shop's own store may hold connections from before the
    // restart, which the pool replaces as it finds them broken.
    let config = sellers.shop._schema.as_ref().unwrap().config();
    let store = common::connect_postgres(&config, &sellers.shop.clock);
    assert_whole(&store, &sales);
    // And the shop sells on.
    let ana = customer(&store, "after@example.com", "DE");
    sell(&store, &ana, sellers.variant, "after-the-kill").unwrap();
}

#[allow(clippy::print_stdout)]
fn skipped_restart() {
    println!("the server was not restarted: {RESTART_VAR} not set");
}

// ---------------------------------------------------------------------------------------------
// Moving a shop from its SQLite file to PostgreSQL.

/// `StoreOptions::import_sqlite` under the master key of the tests' files. Without the
/// `postgres` feature `conninfo()` skips every test that would get here.
#[cfg(feature = "postgres")]
fn import(
    options: shopkeep::StoreOptions,
    path: &std::path::Path,
    config: &str,
) -> shopkeep::Result<Store> {
    options.import_sqlite(path, config, KeyRing::from_master_key([8; 32]))
}

#[cfg(not(feature = "postgres"))]
fn import(_: shopkeep::StoreOptions, _: &std::path::Path, _: &str) -> shopkeep::Result<Store> {
    unreachable!("conninfo() skips the PostgreSQL tests without the `postgres` feature")
}

#[test]
fn a_shop_moves_from_its_file_to_postgres_with_its_history_and_keys() {
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    // A shop with some history, in a file (whatever engine the rest of the suite runs on).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let clock = common::clock();
    let options = || {
        Store::options()
            .password_params(shopkeep::crypto::PasswordParams::insecure_for_tests())
            .clock(clock.clone())
    };
    let file = options()
        .open(&path, KeyRing::from_master_key([8; 32]))
        .unwrap();
    file.settings(&file.system())
        .update(
            0,
            &common::settings(common::seller(None), PriceMode::TaxInclusive)
                .build()
                .unwrap(),
        )
        .unwrap();
    let mug = product(&file, "MUG-1", eur("12.00"), TaxCategory::Standard, 10);
    let ana = customer(&file, "ana@example.com", "DE");
    let system = file.system();
    let mut invoice_numbers = Vec::new();
    let mut orders = Vec::new();
    for _ in 0..3 {
        let order = place(&file, &ana, &[(mug, 1)], None);
        pay(&file, &order);
        invoice_numbers.push(
            file.invoices(&system)
                .issue(order.id())
                .unwrap()
                .number()
                .to_owned(),
        );
        orders.push(order);
    }
    file.orders(&system)
        .refund(orders[0].id(), shopkeep::orders::Refund::full())
        .unwrap();
    let head = file.audit_log(&system).head().unwrap().unwrap();
    let documents = file.invoices(&system).for_order(orders[0].id()).unwrap();
    drop(file);

    // A target that already holds a shop is refused, and keeps what it holds.
    let taken = PgSchema::create(&conninfo);
    let other = common::connect_postgres(&taken.config(), &clock);
    product(&other, "OTHER-1", eur("1.00"), TaxCategory::Standard, 1);
    let err = import(options(), &path, &taken.config()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        other
            .products(&other.system())
            .list(&shopkeep::catalog::ProductQuery::new())
            .unwrap()
            .items()
            .len(),
        1
    );

    // The move: an empty schema receives every row, verified.
    let target = PgSchema::create(&conninfo);
    let moved = import(options(), &path, &target.config()).unwrap();
    let system = moved.system();
    // The same keys: the audit chain verifies and ends where the file's ended, the customer's
    // encrypted profile opens, and her password still logs her in (which the log records).
    assert_eq!(
        moved.audit_log(&system).head().unwrap().as_ref(),
        Some(&head)
    );
    match moved.audit_log(&system).verify(None).unwrap() {
        AuditVerification::Intact {
            head: Some(found), ..
        } => assert_eq!(found, head),
        broken => panic!("{broken:?}"),
    }
    let ana_id = ana.customer_id().unwrap();
    assert_eq!(
        moved.customers(&system).get(ana_id).unwrap().name(),
        "Ana Example"
    );
    moved
        .login(
            &shopkeep::Email::parse("ana@example.com").unwrap(),
            &shopkeep::crypto::Password::new(common::PASSWORD),
        )
        .unwrap();
    // The same documents, byte for byte, and the series carry on without a gap.
    assert_eq!(
        moved.invoices(&system).for_order(orders[0].id()).unwrap(),
        documents
    );
    assert_eq!(on_hand(&moved, mug), 7);
    let ben = customer(&moved, "ben@example.com", "DE");
    let order = place(&moved, &ben, &[(mug, 1)], None);
    pay(&moved, &order);
    let next = moved.invoices(&system).issue(order.id()).unwrap();
    let suffix = |n: &str| -> u64 { n.rsplit('-').next().unwrap().parse().unwrap() };
    assert_eq!(
        suffix(next.number()),
        suffix(invoice_numbers.last().unwrap()) + 1
    );
    // Rows the server numbers (products) continue after the file's.
    product(&moved, "NEW-1", eur("2.00"), TaxCategory::Standard, 1);
}

/// Moves a file holding one product, after `edit` (SQL run on the file by hand), to a fresh
/// schema; returns the refusal and the schema.
fn move_edited_file(conninfo: &str, edit: &str) -> (shopkeep::Error, PgSchema) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let file = Store::open(&path, KeyRing::from_master_key([8; 32])).unwrap();
    product(&file, "MUG-1", eur("12.00"), TaxCategory::Standard, 3);
    drop(file);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(edit)
        .unwrap();
    let target = PgSchema::create(conninfo);
    let err = import(Store::options(), &path, &target.config()).unwrap_err();
    (err, target)
}

#[test]
fn a_file_whose_audit_chain_is_broken_is_not_moved_and_the_target_stays_empty() {
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    // Someone with the file rewrote history: the first audit entry names another principal.
    let (err, target) = move_edited_file(
        &conninfo,
        "DROP TRIGGER shopkeep_audit_no_update;
         UPDATE shopkeep_audit SET principal = 'mallory' WHERE seq = 1;",
    );
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("audit chain"), "{err}");
    // The whole copy was rolled back: the target holds no product, no audit entry.
    let out =
        target.run("SELECT count(*) FROM shopkeep_products; SELECT count(*) FROM shopkeep_audit;");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "0"]
    );
}

#[test]
fn a_file_holding_text_that_is_not_utf8_is_not_moved_altered() {
    let _server = server();
    let Some(conninfo) = conninfo() else { return };
    // Bytes no shop writes: SQLite keeps them in a TEXT column, PostgreSQL's text cannot.
    let (err, target) = move_edited_file(
        &conninfo,
        "UPDATE shopkeep_products SET description = CAST(x'6d75ff67' AS TEXT);",
    );
    // Refused, naming the column, not copied with the byte replaced.
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("(description)"), "{err}");
    let out = target.run("SELECT count(*) FROM shopkeep_products;");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
}
