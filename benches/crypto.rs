//! Field encryption throughput: shopkeep's sealed layout (header, length-prefixed associated
//! data) beside bare AES-256-GCM on the same plaintext, both with a fresh random nonce per
//! encryption (as any safe use of AES-GCM needs), so the ratio is our overhead.
//!
//! `cargo bench --features bench-internals --bench crypto`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::hint::black_box;

use aes_gcm::{Aes256Gcm, KeyInit};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shopkeep::bench_internals::FieldCipher;

fn field_encryption(c: &mut Criterion) {
    let key = [7u8; 32];
    let shopkeep = FieldCipher::new(key);
    let raw = Aes256Gcm::new_from_slice(&key).unwrap();
    let row = b"0190e6a4-7c1a-7000-8000-000000000001";
    let mut group = c.benchmark_group("field encrypt+decrypt");
    for size in [32usize, 256] {
        let plaintext = vec![b'a'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("shopkeep {size} B"), |b| {
            b.iter(|| {
                let sealed = shopkeep.encrypt(row, black_box(&plaintext)).unwrap();
                black_box(shopkeep.decrypt(row, &sealed).unwrap())
            })
        });
        group.bench_function(format!("bare aes-gcm {size} B"), |b| {
            b.iter(|| {
                let sealed = support::seal(&raw, row, black_box(&plaintext));
                black_box(support::open(&raw, row, &sealed).len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, field_encryption);
criterion_main!(benches);
