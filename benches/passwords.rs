#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Password hashing cost at OWASP's argon2id parameters (m = 19 MiB, t = 2, p = 1).
//!
//! `verify` groups a wrong password against a real hash with the unknown-account path side by
//! side: the two must take the same time, or a login's response time would tell an attacker
//! which accounts exist.
//!
//! Run with `cargo bench --bench passwords`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shopkeep::crypto::{Password, PasswordHasher, PasswordParams};

fn hash(c: &mut Criterion) {
    let hasher = PasswordHasher::new(PasswordParams::owasp());
    let password = Password::new("correct horse battery staple");
    let mut group = c.benchmark_group("password_hash");
    group.sample_size(10);
    group.bench_function("owasp", |b| {
        b.iter(|| hasher.hash(black_box(&password)).unwrap());
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let hasher = PasswordHasher::new(PasswordParams::owasp());
    let stored = hasher
        .hash(&Password::new("correct horse battery staple"))
        .unwrap();
    let guess = Password::new("a wrong guess, that is");
    // Make the dummy hash before measuring: its one-off cost is not the steady state.
    assert!(!hasher.verify_unknown_account(&guess).unwrap().is_match());

    let mut group = c.benchmark_group("password_verify");
    group.sample_size(10);
    group.bench_function("wrong_password", |b| {
        b.iter(|| {
            let outcome = hasher.verify(black_box(&guess), &stored).unwrap();
            assert!(!outcome.is_match());
        });
    });
    group.bench_function("unknown_account", |b| {
        b.iter(|| {
            let outcome = hasher.verify_unknown_account(black_box(&guess)).unwrap();
            assert!(!outcome.is_match());
        });
    });
    group.finish();
}

criterion_group!(benches, hash, verify);
criterion_main!(benches);
