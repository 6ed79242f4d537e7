//! examples/checkout.rs, run as its README command runs it: twice on the same database file.
//!
//! The example is compiled into this test as a module, so the test drives the very flow
//! `cargo run --example checkout -- --db shop.db` runs, without a nested cargo.

// Test helpers outside #[test] functions fail loudly, like the tests themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The example's `main` and argument parsing are for the command line; the test calls `run`.
#[allow(dead_code)]
#[path = "../examples/checkout.rs"]
mod checkout;

use std::path::Path;

/// The invoices (UBL files) the example wrote to `out`, sorted.
fn invoices(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("invoice-") && name.ends_with(".xml"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_checkout_example_runs_again_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let args = checkout::Args {
        db: dir.path().join("shop.db"),
        out: dir.path().join("out"),
        tempdir: None,
    };

    checkout::run(&args).unwrap();
    assert_eq!(invoices(&args.out).len(), 1);

    // The second run finds the shop, the owner and the customer, and places, pays and
    // invoices a new order.
    if let Err(e) = checkout::run(&args) {
        panic!("the second run failed: {e}");
    }
    assert_eq!(invoices(&args.out).len(), 2, "{:?}", invoices(&args.out));

    // Enough runs to sell the cookbook out (5 in stock, 1 per order): the owner restocks.
    for _ in 0..4 {
        if let Err(e) = checkout::run(&args) {
            panic!("a later run failed: {e}");
        }
    }
    assert_eq!(invoices(&args.out).len(), 6);
}
