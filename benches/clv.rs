#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Fitting the CLV models (BG/NBD and Gamma-Gamma) to 100,000 synthetic customers.
//!
//! The customers are generated deterministically (a fixed-seed splitmix64): each arrives on a
//! day of one year, buys while alive at a weekly rate drawn from an exponential distribution
//! (mean 0.2 a week), drops out after each purchase with a probability drawn uniformly from
//! 5–60 %, and spends 5–200 euros on average. Times are whole days, as a shop's history gives
//! them, so identical histories merge: the fit sees the distinct (x, tₓ, T), not 100,000 rows.
//! The target (issue 16) is under 5 s for both fits together.
//!
//! Run with `cargo bench --bench clv`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use shopkeep::marketing::{BgNbd, ClvModel, CustomerSummary, GammaGamma};
use shopkeep::{Currency, Money};

/// splitmix64: a fixed seed gives the same customers on every run and machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

fn synthetic_customers(n: usize) -> Vec<CustomerSummary> {
    let mut random = Random(16);
    (0..n)
        .map(|_| {
            let age_days = 1 + (random.next() % 365);
            let rate_per_day = -random.uniform().ln() * 0.2 / 7.0;
            let dropout = 0.05 + 0.55 * random.uniform();
            let (mut day, mut last, mut x) = (0.0, 0u64, 0u32);
            loop {
                day += -random.uniform().ln() / rate_per_day;
                if day >= age_days as f64 {
                    break;
                }
                x += 1;
                last = day as u64;
                if random.uniform() < dropout {
                    break;
                }
            }
            let spend = if x == 0 {
                0
            } else {
                500 + (random.next() % 19_500) as i64
            };
            CustomerSummary::new(
                x,
                last as f64 / 7.0,
                age_days as f64 / 7.0,
                Money::new(spend, Currency::EUR),
            )
            .unwrap()
        })
        .collect()
}

fn fit(c: &mut Criterion) {
    let customers = synthetic_customers(100_000);
    let mut group = c.benchmark_group("clv_fit_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("bgnbd", |b| {
        b.iter(|| BgNbd::fit(black_box(&customers)).unwrap());
    });
    group.bench_function("gamma_gamma", |b| {
        b.iter(|| GammaGamma::fit(black_box(&customers)).unwrap());
    });
    group.bench_function("both", |b| {
        b.iter(|| ClvModel::fit(black_box(&customers)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
