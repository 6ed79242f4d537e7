//! Purchase histories drawn from the BG/NBD and Gamma-Gamma models' own stories, with a seeded
//! generator: the shop `examples/marketing.rs` prints, and the one `tests/clv.rs` fits back to
//! the parameters it was drawn from.
//!
//! Each customer gets a purchase rate λ ~ Gamma(r, α) (per week) and a dropout probability
//! p ~ Beta(a, b). Their first purchase starts their clock; while alive they buy after
//! exponential gaps of mean 1/λ, and after each repeat purchase they drop out for good with
//! probability p (BG/NBD, Fader, Hardie & Lee 2005). Each purchase is worth
//! Gamma(p_spend, ν) euros with ν ~ Gamma(q, γ) per customer (Gamma-Gamma). A model fitted to
//! such a shop should find the parameters again, within the sampling error of its size.
//!
//! Kept dependency-free (no `rand`): splitmix64, Box–Muller normals and Marsaglia–Tsang gamma
//! draws are a few lines each.

/// splitmix64 (Steele, Lea & Flood 2014): a tiny, well-mixed 64-bit generator.
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence `seed` fixes.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1]: never 0, so its logarithm is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Uniform on 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Gamma with `shape` and `rate` (mean shape / rate), by Marsaglia & Tsang (2000); a shape
    /// below 1 is boosted by one and scaled back by U^(1/shape).
    pub fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform().powf(1.0 / shape);
            return self.gamma(shape + 1.0, rate) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            if self.uniform().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    /// Beta(a, b), as the share of one gamma draw in the sum of two.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        x / (x + y)
    }
}

/// The BG/NBD parameters a shop is drawn from (weeks).
#[derive(Debug, Clone, Copy)]
pub struct Purchases {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Rate (per week) of the Gamma distribution of purchase rates.
    pub alpha: f64,
    /// First shape of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second shape of the Beta distribution of dropout probabilities.
    pub b: f64,
}

/// The Gamma-Gamma parameters of the spend per purchase (euros).
#[derive(Debug, Clone, Copy)]
pub struct Spend {
    /// Shape of each purchase's amount.
    pub p: f64,
    /// Shape of the Gamma distribution of ν across customers.
    pub q: f64,
    /// Rate (euros) of the Gamma distribution of ν across customers.
    pub gamma: f64,
}

/// One simulated customer: the days (from the shop's opening) they buy on, and what each
/// purchase is meant to be worth, in euros.
#[derive(Debug, Clone)]
pub struct History {
    /// (day, euros) of each purchase, the first purchase first.
    pub purchases: Vec<(u32, f64)>,
}

/// Draws one customer whose first purchase is on day `first` and whose observation ends on day
/// `end` (exclusive). Repeat purchases falling on a day the customer already bought on are
/// moved to the next day, so every purchase is a purchase day of its own (the store counts
/// distinct days); one that would fall on or after `end` is not made.
pub fn customer(
    rng: &mut Rng,
    purchases: Purchases,
    spend: Spend,
    first: u32,
    end: u32,
) -> History {
    let rate = rng.gamma(purchases.r, purchases.alpha);
    let dropout = rng.beta(purchases.a, purchases.b);
    let nu = rng.gamma(spend.q, spend.gamma);
    let amount = |rng: &mut Rng| rng.gamma(spend.p, nu);
    let mut history = vec![(first, amount(rng))];
    let mut weeks = 0.0;
    let mut last = first;
    loop {
        weeks += -rng.uniform().ln() / rate;
        let Some(day) = days_after(first, weeks) else {
            break;
        };
        let day = day.max(last + 1);
        if day >= end {
            break;
        }
        history.push((day, amount(rng)));
        last = day;
        if rng.uniform() < dropout {
            break;
        }
    }
    History { purchases: history }
}

/// The day `weeks` after day `first`, if it is a representable day.
fn days_after(first: u32, weeks: f64) -> Option<u32> {
    let days = (weeks * 7.0).floor();
    (days < f64::from(u32::MAX - first)).then(|| first + days as u32)
}
