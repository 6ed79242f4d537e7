//! Customer costs at OWASP's argon2id parameters (m = 19 MiB, t = 2, p = 1), on a real file
//! with the default durability (every commit synced):
//!
//! - `customer_register`: registration throughput, one thread and two at once. argon2 bounds
//!   it, and argon2 runs outside the write lock, so two cores register about twice as fast.
//! - `customer_login`: a successful login, and the two failures side by side: a wrong password
//!   for an existing account and an email with no account. The two must take the same time,
//!   or the response time would tell an attacker which emails have accounts.
//! - `customer_read`: reading one profile through the repository (authorisation, the data key
//!   from the cache, four field decryptions) beside reading the same row's bytes with plain
//!   rusqlite in the same kind of read transaction, so the difference is the price of
//!   encryption and authorisation. The two sides alternate within each measurement (blocks of
//!   eight reads, one side timed), so that both see the same load on a shared machine.
//!
//! `cargo bench --bench customers`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shopkeep::access::{CustomerId, LoginThrottle};
use shopkeep::clock::{ManualClock, Timestamp};
use shopkeep::crypto::Password;
use shopkeep::customers::{Address, BusinessDetails, Country, NewCustomer, Phone, VatId};
use shopkeep::store::Durability;
use shopkeep::{Email, ErrorKind, KeyRing, Principal, Store};

const PASSWORD: &str = "correct horse battery staple";

/// A fresh email address per call, so that registrations never collide.
fn next_email() -> Email {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Email::parse(&format!("customer{n}@example.com")).unwrap()
}

fn new_customer(email: Email) -> NewCustomer {
    let address = Address::new(
        "Ana Lima",
        "Invalidenstraße 117",
        "Berlin",
        Country::parse("DE").unwrap(),
    )
    .unwrap()
    .with_postal_code("10115")
    .unwrap();
    let business = BusinessDetails::new("ACME Handels GmbH")
        .unwrap()
        .with_vat_id(VatId::parse("DE123456789").unwrap());
    NewCustomer::new(email, Password::new(PASSWORD), "Ana Lima")
        .unwrap()
        .phone(Phone::parse("+49 30 1234567").unwrap())
        .business(business)
        .billing_address(address)
}

fn register(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("shop.db"),
        KeyRing::from_master_key([7; 32]),
    )
    .unwrap();
    let anonymous = Principal::anonymous();
    let mut group = c.benchmark_group("customer_register");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    group.bench_function("1 thread", |b| {
        b.iter(|| {
            store
                .customers(&anonymous)
                .register(new_customer(next_email()))
                .unwrap()
        });
    });
    // Two threads each register half of the iterations; the time is the wall-clock time of both.
    group.bench_function("2 threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for share in [iters / 2, iters - iters / 2] {
                    let store = store.clone();
                    scope.spawn(move || {
                        for _ in 0..share {
                            store
                                .customers(&Principal::anonymous())
                                .register(new_customer(next_email()))
                                .unwrap();
                        }
                    });
                }
            });
            start.elapsed()
        });
    });
    group.finish();
}

fn login(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // Failures are forgotten after a second and the clock moves two seconds per attempt, so the
    // failure paths are never throttled: they always pay for argon2, as a first attempt does.
    let clock = ManualClock::new(Timestamp::parse_rfc3339("2026-11-28T09:00:00Z").unwrap());
    let throttle = LoginThrottle::new(100, Duration::from_secs(1), Duration::from_secs(1))
        .unwrap()
        .forget_after(Duration::from_secs(1))
        .unwrap();
    let store = Store::options()
        .clock(clock.clone())
        .login_throttle(throttle)
        .open(
            dir.path().join("shop.db"),
            KeyRing::from_master_key([7; 32]),
        )
        .unwrap();
    let email = next_email();
    store
        .customers(&Principal::anonymous())
        .register(new_customer(email.clone()))
        .unwrap();
    let unknown = Email::parse("nobody@example.com").unwrap();
    let right = Password::new(PASSWORD);
    let wrong = Password::new("a wrong guess, that is");
    // The first unknown-account attempt makes the dummy hash; keep that one-off out of the run.
    let _ = store.login(&unknown, &wrong);

    let mut group = c.benchmark_group("customer_login");
    group.sample_size(10);
    group.bench_function("success", |b| {
        b.iter(|| store.login(&email, &right).unwrap());
    });
    // The two failures alternate within each measurement, and only one of each pair is timed,
    // so both see the same machine: other processes on a shared machine slow both alike.
    let failed = |email: &Email| {
        clock.advance(Duration::from_secs(2));
        let started = Instant::now();
        let err = store.login(black_box(email), &wrong).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        took
    };
    group.bench_function("wrong_password", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    failed(&unknown);
                    failed(&email)
                })
                .sum()
        });
    });
    group.bench_function("unknown_account", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    failed(&email);
                    failed(&unknown)
                })
                .sum()
        });
    });
    group.finish();
}

/// A customer row as stored: what the repository reads before it decrypts.
#[allow(dead_code)] // read to be dropped: the point is the cost of reading
struct RawRow {
    email: Vec<u8>,
    name: Vec<u8>,
    phone: Option<Vec<u8>>,
    business: Option<Vec<u8>>,
    created_at: String,
    updated_at: String,
    last_login_at: Option<String>,
    version: i64,
}

fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Store::open(&path, KeyRing::from_master_key([7; 32])).unwrap();
    let id: CustomerId = store
        .customers(&Principal::anonymous())
        .register(new_customer(next_email()))
        .unwrap()
        .id();
    let system = store.system();
    let raw = support::baseline_connection(&path, Durability::Full);
    let raw_id = support::id_bytes(id);

    let ours = || {
        let customer = store.customers(&system).get(black_box(id)).unwrap();
        black_box(customer.name().len());
    };
    let baseline = || {
        // In a read transaction, as the repository reads.
        raw.execute_batch("BEGIN DEFERRED").unwrap();
        let mut stmt = raw
            .prepare_cached(
                "SELECT email, name, phone, business, created_at, updated_at, last_login_at, version
                 FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL",
            )
            .unwrap();
        let row = stmt
            .query_row([black_box(raw_id)], |r| {
                Ok(RawRow {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    business: r.get(3)?,
                    created_at: r.get(4)?,
                    updated_at: r.get(5)?,
                    last_login_at: r.get(6)?,
                    version: r.get(7)?,
                })
            })
            .unwrap();
        drop(stmt);
        raw.execute_batch("COMMIT").unwrap();
        black_box(row);
    };

    // The two sides alternate in blocks of `BLOCK` reads within each measurement, and only one
    // side's blocks are timed, so that both see the same machine: on a machine shared with
    // other work, a side measured alone for seconds sees a different load than the other.
    const BLOCK: u64 = 8;
    let alternate = |iters: u64, timed_side: &dyn Fn(), other: &dyn Fn()| {
        let mut spent = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(BLOCK);
            for _ in 0..n {
                other();
            }
            let start = Instant::now();
            for _ in 0..n {
                timed_side();
            }
            spent += start.elapsed();
            left -= n;
        }
        spent
    };
    let mut group = c.benchmark_group("customer_read");
    group.bench_function("profile, decrypted", |b| {
        b.iter_custom(|iters| alternate(iters, &ours, &baseline));
    });
    group.bench_function("same row, raw rusqlite", |b| {
        b.iter_custom(|iters| alternate(iters, &baseline, &ours));
    });
    group.finish();
}

criterion_group!(benches, register, login, read);
criterion_main!(benches);
