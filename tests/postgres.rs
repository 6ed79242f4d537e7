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

use common::postgres::{PgSchema, conninfo};
use common::{Engine, customer, eur, key, on_hand, pay, place, product, shops};
use shopkeep::access::AuditVerification;
use shopkeep::catalog::TaxCategory;
use shopkeep::orders::{CartRef, Checkout, PriceMode};
use shopkeep::store::WalScrub;
use shopkeep::{ErrorKind, KeyRing, Principal, Store};

#[test]
fn a_postgres_store_migrates_reconnects_and_refuses_what_is_not_its_own() {
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

/// Four stores (four connection pools, as four application servers would have) of four threads
/// each sell 24 units of one product to 64 eager buyers, and issue an invoice for every sale.
#[test]
fn sixteen_writers_on_four_stores_never_oversell_and_number_invoices_without_gaps() {
    const STORES: usize = 4;
    const THREADS: usize = 4;
    const BUYERS_PER_THREAD: usize = 4;
    const STOCK: u32 = 24;
    let Some(conninfo) = conninfo() else { return };
    let shop = common::shop_on(
        &Engine::Postgres(conninfo),
        common::settings(common::seller(None), PriceMode::TaxInclusive)
            .build()
            .unwrap(),
    );
    let store = &shop.store;
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, STOCK);
    let config = shop._schema.as_ref().unwrap().config();
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
