//! Group commit: whole sales from 1 and from 8 callers on one `Store`, at FULL durability, on
//! disk and on tmpfs, in one run.
//!
//! A sale is the six write calls a shop makes for it, through the public API: three
//! `carts.add`, `checkout`, `mark_paid`, `invoices.issue`. Each caller sells to its own
//! customer. Three ways of running, each on a fresh shop file:
//!
//! - `1 caller`: one thread, so every call commits on its own (one fsync per call);
//! - `8 serial`: eight threads that take turns call by call (a lock in the bench), so that no
//!   call ever finds another queued: one commit per call, as before group commit;
//! - `8 callers`: eight threads calling at will, their writes batched into shared commits.
//!
//! tmpfs (`/dev/shm`) makes fsync free: its figures are the ceiling our own CPU allows, and the
//! disk figures (`SHOPKEEP_BENCH_DISK`, default `/var/tmp`) show what sharing fsyncs recovers.
//! Rounds alternate the configurations so that the machine's load drifts over all alike; the
//! median round is reported.
//!
//! `cargo bench --bench group_commit` (`SHOPKEEP_BENCH_N` sales per round, default 400;
//! `SHOPKEEP_BENCH_ROUNDS`, default 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    missing_docs
)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopkeep::Store;
use shopkeep::access::CustomerId;
use shopkeep::catalog::{ShopSettings, VariantId};
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Payment};
use shopkeep::store::Durability;
use support::env;
use support::{Shop, shop_settings, tmpfs};

const CALLERS: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    One,
    Serial,
    Batched,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::One => "1 caller",
            Mode::Serial => "8 serial",
            Mode::Batched => "8 callers",
        }
    }

    fn callers(self) -> usize {
        match self {
            Mode::One => 1,
            Mode::Serial | Mode::Batched => CALLERS,
        }
    }
}

fn settings() -> ShopSettings {
    shop_settings(support::seller()).build().unwrap()
}

/// A fresh shop at `path` with a customer per caller.
fn open_shop(path: &Path) -> (Store, Vec<VariantId>, Vec<CustomerId>) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let shop = Shop::open(path, Durability::Full, &settings());
    let mut customers = vec![shop.customer];
    customers.extend((1..CALLERS).map(|i| support::register_buyer(&shop.store, i)));
    (shop.store, shop.variants, customers)
}

/// Runs `f` under `turn` if there is one (the serial mode), else directly.
fn call<T>(turn: Option<&Mutex<()>>, f: impl FnOnce() -> T) -> T {
    let _held = turn.map(|m| m.lock().unwrap());
    f()
}

/// One whole sale to `customer`.
fn sell(
    store: &Store,
    turn: Option<&Mutex<()>>,
    variants: &[VariantId],
    customer: CustomerId,
    key: &str,
) {
    let system = store.system();
    for v in variants {
        call(turn, || {
            store
                .carts(&system)
                .add(CartRef::Customer(customer), *v, 1)
                .unwrap()
        });
    }
    let key = IdempotencyKey::new(key).unwrap();
    let order = call(turn, || {
        store
            .orders(&system)
            .checkout(Checkout::from_cart(customer, key))
            .unwrap()
            .into_order()
    });
    let payment = Payment::new(&format!("psp_{}", order.id()), order.total()).unwrap();
    call(turn, || {
        store
            .orders(&system)
            .mark_paid(order.id(), payment)
            .unwrap()
    });
    let invoice = call(turn, || store.invoices(&system).issue(order.id()).unwrap());
    std::hint::black_box(invoice);
}

/// One round: `sales` sales split over the mode's callers on a fresh shop at `path`. Returns
/// sales per second and every sale's latency.
fn round(path: &Path, mode: Mode, sales: usize, round: usize) -> (f64, Vec<Duration>) {
    let (store, variants, customers) = open_shop(path);
    // Warm the statement caches and the settings cache.
    for c in &customers {
        sell(&store, None, &variants, *c, &format!("warm-{c}"));
    }
    let turn = Arc::new(Mutex::new(()));
    let callers = mode.callers();
    let per_caller = sales / callers;
    let start = Instant::now();
    let threads: Vec<_> = (0..callers)
        .map(|t| {
            let store = store.clone();
            let variants = variants.clone();
            let customer = customers[t];
            let turn = Arc::clone(&turn);
            std::thread::spawn(move || {
                let turn = (mode == Mode::Serial).then_some(&*turn);
                (0..per_caller)
                    .map(|i| {
                        let began = Instant::now();
                        sell(
                            &store,
                            turn,
                            &variants,
                            customer,
                            &format!("r{round}-{t}-{i}"),
                        );
                        began.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = start.elapsed();
    (latencies.len() as f64 / elapsed.as_secs_f64(), latencies)
}

struct Figures {
    rate: f64,
    mean: Duration,
    p99: Duration,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let sales = env("SHOPKEEP_BENCH_N", 400);
    let rounds = env("SHOPKEEP_BENCH_ROUNDS", 3).max(1);
    let disk = std::env::var("SHOPKEEP_BENCH_DISK")
        .map_or_else(|_| PathBuf::from("/var/tmp"), PathBuf::from);
    let modes = [Mode::One, Mode::Serial, Mode::Batched];
    println!(
        "group commit: {sales} whole sales per round, {rounds} rounds, FULL durability, median round"
    );
    for (place, dir) in [("disk", disk), ("tmpfs", tmpfs())] {
        let path = dir.join(format!("shopkeep-bench-group-{}.db", std::process::id()));
        let mut rates = vec![Vec::new(); modes.len()];
        let mut latencies = vec![Vec::new(); modes.len()];
        for r in 0..rounds {
            for (m, mode) in modes.iter().enumerate() {
                let (rate, lat) = round(&path, *mode, sales, r);
                rates[m].push(rate);
                latencies[m].extend(lat);
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let figures: Vec<Figures> = modes
            .iter()
            .enumerate()
            .map(|(m, _)| {
                let mut lat = std::mem::take(&mut latencies[m]);
                lat.sort();
                let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
                let p99 = lat[(lat.len() * 99 / 100).min(lat.len() - 1)];
                Figures {
                    rate: median(std::mem::take(&mut rates[m])),
                    mean,
                    p99,
                }
            })
            .collect();
        let one = figures[0].rate;
        for (mode, f) in modes.iter().zip(&figures) {
            println!(
                "  {place:5} {:9}  {:7.0} sales/s  {:5.2}x one caller   latency per sale: mean {:6.2} ms, p99 {:6.2} ms",
                mode.name(),
                f.rate,
                f.rate / one,
                f.mean.as_secs_f64() * 1e3,
                f.p99.as_secs_f64() * 1e3,
            );
        }
    }
}
