//! Group commit through the public API: whole sales from many threads on one store, on a real
//! file, while the store batches their writes into shared transactions. Checkouts that fail for
//! want of stock are the failing callers of those batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{customer, eur, on_hand, product, shop};
use shopkeep::ErrorKind;
use shopkeep::access::AuditVerification;
use shopkeep::catalog::{TaxCategory, VariantId};
use shopkeep::orders::{CartRef, Checkout, Payment, PriceMode};
use shopkeep::{Principal, Store};

const THREADS: usize = 8;

/// One sale of three units as `buyer` (three `carts.add`, checkout, payment, invoice): the
/// invoice number, or `None` when the stock ran out.
fn sell(store: &Store, buyer: &Principal, variant: VariantId, key: &str) -> Option<String> {
    let id = buyer.customer_id().unwrap();
    for _ in 0..3 {
        match store.carts(buyer).add(CartRef::Customer(id), variant, 1) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::OutOfStock => return None,
            Err(e) => panic!("carts.add: {e}"),
        }
    }
    let order = match store
        .orders(buyer)
        .checkout(Checkout::from_cart(id, common::key(key)))
    {
        Ok(placed) => placed.into_order(),
        Err(e) if e.kind() == ErrorKind::OutOfStock => return None,
        Err(e) => panic!("checkout: {e}"),
    };
    let system = store.system();
    let payment = Payment::new(&format!("psp_{}", order.id()), order.total()).unwrap();
    store
        .orders(&system)
        .mark_paid(order.id(), payment)
        .unwrap();
    let invoice = store.invoices(&system).issue(order.id()).unwrap();
    Some(invoice.number().to_owned())
}

#[test]
fn batched_sales_on_limited_stock_neither_oversell_nor_leave_number_gaps() {
    let s = shop(PriceMode::TaxExclusive);
    let store = &s.store;
    // Stock for 10 sales of three; 8 threads try 6 each.
    let mug = product(store, "MUG-1", eur("9.99"), TaxCategory::Standard, 30);
    let buyers: Vec<Principal> = (0..THREADS)
        .map(|t| customer(store, &format!("buyer{t}@example.com"), "DE"))
        .collect();
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = buyers
        .into_iter()
        .enumerate()
        .map(|(t, buyer)| {
            let store = store.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..6)
                    .filter_map(|i| sell(&store, &buyer, mug, &format!("sale-{t}-{i}")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut sold: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    assert_eq!(sold.len(), 10, "30 units sell as 10 sales of 3");
    assert_eq!(on_hand(store, mug), 0);
    // Each acknowledged invoice number once, and the numbers run without a gap: the numbers
    // a failed checkout took in a batch were rolled back with it.
    sold.sort();
    sold.dedup();
    assert_eq!(sold.len(), 10);
    let invoices = integers(
        &s.store,
        "SELECT seq FROM shopkeep_invoices WHERE kind = 'invoice' ORDER BY seq",
    );
    assert_eq!(invoices, (1..=10).collect::<Vec<_>>());
    let orders = integers(
        &s.store,
        "SELECT number FROM shopkeep_orders ORDER BY number",
    );
    assert_eq!(orders, (1..=10).collect::<Vec<_>>());
    let system = store.system();
    assert!(matches!(
        store.audit_log(&system).verify(None).unwrap(),
        AuditVerification::Intact { .. }
    ));
}

/// The integers the one-column query `sql` answers, on the suite's engine.
fn integers(store: &shopkeep::Store, sql: &str) -> Vec<i64> {
    common::db::texts(store, sql)
        .iter()
        .map(|n| n.parse().unwrap())
        .collect()
}
