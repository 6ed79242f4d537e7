//! Customer lifetime value: BG/NBD for purchases and dropout, Gamma-Gamma for spend.
//!
//! Pure numerics, no SQL: give each customer's [`CustomerSummary`] (repeat purchases, recency,
//! age, mean repeat spend), [`fit`](ClvModel::fit) both models by maximum likelihood, and ask
//! for a customer's [`ClvPrediction`]: the probability that they are still a customer, the
//! purchases to expect over a horizon, the spend to expect per purchase and the value to expect
//! over the horizon.
//!
//! ```
//! use shopkeep::{Currency, Money};
//! use shopkeep::marketing::{BgNbd, ClvModel, CustomerSummary, GammaGamma};
//!
//! // The parameters Fader, Hardie & Lee (2005) fit to the CDNOW sample (weeks, dollars).
//! let purchases = BgNbd::new(0.243, 4.414, 0.793, 2.426)?;
//! let spend = GammaGamma::new(6.25, 3.74, 15.44, Currency::USD)?;
//! let model = ClvModel::new(purchases, spend);
//!
//! // Two repeat purchases, the last 30.43 weeks after the first; first bought 38.86 weeks ago;
//! // the repeat purchases averaged $22.35.
//! let ana = CustomerSummary::new(2, 30.43, 38.86, Money::parse("22.35", Currency::USD)?)?;
//! let next_year = model.predict(&ana, 52.0)?;
//! assert!((next_year.probability_alive - 0.727).abs() < 0.001);
//! assert!((next_year.expected_purchases - 1.559).abs() < 0.001);
//! assert_eq!(next_year.expected_spend.to_decimal_string(), "24.66");
//! assert_eq!(next_year.expected_value.to_decimal_string(), "38.44");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Time and money
//!
//! Times are in **weeks** (fractional: a day is 1/7), counted per customer from their first
//! purchase: recency tₓ is when the last repeat purchase happened, age T is when the
//! observation ends (now). The fitted α is per week and horizons are in weeks. Spends are
//! [`Money`]; the Gamma-Gamma model works in major units (dollars, not cents), so its γ is
//! comparable across currencies' exponents. Money results are computed in floating point and
//! converted to [`Money`] once, at the end, rounded to the nearest minor unit with halves away
//! from zero. The expected value is **undiscounted**: expected purchases over the horizon times
//! the expected spend per purchase; shorten the horizon rather than discount.
//!
//! # BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way")
//!
//! A customer buys as a Poisson process with rate λ while alive, and after each purchase
//! drops out for good with probability p; λ ~ Gamma(r, α) and p ~ Beta(a, b) across customers.
//! With x repeat purchases, the last at tₓ, observed until T, and B the Beta function:
//!
//! ```text
//! L(r, α, a, b | x, tₓ, T) = B(a, b + x) / B(a, b) · Γ(r + x) αʳ / Γ(r)
//!                           · [ (α + T)^−(r+x) + [x > 0] a / (b + x − 1) · (α + tₓ)^−(r+x) ]
//!
//! P(alive | x, tₓ, T) = 1 / (1 + [x > 0] a / (b + x − 1) · ((α + T) / (α + tₓ))^(r+x))
//!
//! E[Y(t) | x, tₓ, T] = (a + b + x − 1) / (a − 1)
//!                      · [1 − ((α + T) / (α + T + t))^(r+x) ₂F₁(r + x, b + x; a + b + x − 1; z)]
//!                      · P(alive | x, tₓ, T),          z = t / (α + T + t)
//! ```
//!
//! The likelihood is summed in logs (ln Γ by a Lanczos approximation; the bracket by
//! log-sum-exp) and P(alive) is computed from the log-odds, so large x or T never overflow.
//! For the conditional expectation (eq. 10), ₂F₁ is its power series Σ (a)ₙ (b)ₙ / (c)ₙ zⁿ / n!,
//! which converges for 0 ≤ z < 1, as in the paper's appendix; it is first put through Euler's
//! transformation ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z), which cancels the
//! power in front:
//!
//! ```text
//! E[Y(t) | x, tₓ, T] = [c − (1 − z)^(a−1) · c ₂F₁(a + b − 1 − r, a − 1; c; z)] / (a − 1) · P(alive),
//!                      c = a + b + x − 1
//! ```
//!
//! The transformed series' terms shrink like n^(a−r−x−2) zⁿ, so it converges fast even for
//! heavy buyers (the untransformed one's grow like n^(r+x−a) before zⁿ wins). Multiplying by c
//! keeps it defined when a + b ≤ 1 makes c ≤ 0 for a customer without repeat purchases.
//!
//! # Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
//!
//! Also Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value". Each purchase's amount is Gamma(p, ν), ν ~ Gamma(q, γ) across customers; spend is assumed
//! independent of the purchase process. With z̄ the mean of a customer's x repeat purchases:
//!
//! ```text
//! L(p, q, γ | z̄, x) = Γ(p x + q) / (Γ(p x) Γ(q)) · γ^q z̄^(p x − 1) x^(p x) / (γ + x z̄)^(p x + q)
//!
//! E[Z | z̄, x] = p (γ + x z̄) / (p x + q − 1)
//! ```
//!
//! Only customers with at least one repeat purchase enter the fit. A customer with none gets
//! the population mean p γ / (q − 1).
//!
//! # Fitting
//!
//! Both fits minimise the negative log-likelihood over the logarithms of the parameters (so
//! they stay positive) with a small Nelder–Mead minimiser: a run stops when the simplex's
//! values agree to 1e-12 (relative) and its vertices to 1e-9 in every log-parameter, and
//! restarts from the best point with a fresh simplex until a restart gains nothing (at most
//! five). Customers with identical histories are merged into one weighted row first, so the
//! cost follows the number of distinct histories. Data the models cannot be fitted to (one
//! customer, no repeat buyers, a likelihood that keeps rising towards a boundary) give a
//! `Validation { field: "customers" }` error, never NaN parameters.

mod bgnbd;
mod gamma_gamma;
mod optimise;
mod special;

pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;

use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};

/// One customer's purchase history, as both models read it.
///
/// The first purchase starts the clock and is not counted: `frequency` is the number of
/// purchases after it (on distinct days, by the usual convention), `recency` the time from the
/// first purchase to the last one (0 without repeat purchases) and `age` the time from the
/// first purchase to the end of the observation, both in weeks. `mean_spend` is the mean
/// amount of the repeat purchases (not the first); it is ignored when `frequency` is 0, where
/// [`Money::zero`] is the natural value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerSummary {
    frequency: u32,
    recency: f64,
    age: f64,
    mean_spend: Money,
}

impl CustomerSummary {
    /// Validates and builds a summary.
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the field, and no summary, if:
    /// - `recency` or `age` is negative or not finite (`"recency"`, `"age"`);
    /// - `recency` is greater than `age` (`"recency"`);
    /// - `frequency` is 0 but `recency` is not (`"recency"`);
    /// - `mean_spend` is negative, or not positive for a customer with repeat purchases
    ///   (`"mean_spend"`).
    pub fn new(
        frequency: u32,
        recency: f64,
        age: f64,
        mean_spend: Money,
    ) -> Result<CustomerSummary> {
        if !age.is_finite() || age < 0.0 {
            return Err(Error::validation(
                "age",
                "the age must be a finite number of weeks, zero or more",
            ));
        }
        if !recency.is_finite() || recency < 0.0 {
            return Err(Error::validation(
                "recency",
                "the recency must be a finite number of weeks, zero or more",
            ));
        }
        if recency > age {
            return Err(Error::validation(
                "recency",
                "the last purchase cannot be later than the end of the observation (recency > age)",
            ));
        }
        if frequency == 0 && recency != 0.0 {
            return Err(Error::validation(
                "recency",
                "a customer without repeat purchases has a recency of 0",
            ));
        }
        if mean_spend.is_negative() || (frequency > 0 && mean_spend.is_zero()) {
            return Err(Error::validation(
                "mean_spend",
                "the mean spend of repeat purchases must be positive",
            ));
        }
        Ok(CustomerSummary {
            frequency,
            recency,
            age,
            mean_spend,
        })
    }

    /// The number of repeat purchases, x.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }

    /// Weeks from the first purchase to the last, tₓ.
    pub fn recency(&self) -> f64 {
        self.recency
    }

    /// Weeks from the first purchase to the end of the observation, T.
    pub fn age(&self) -> f64 {
        self.age
    }

    /// The mean amount of the repeat purchases, z̄.
    pub fn mean_spend(&self) -> Money {
        self.mean_spend
    }
}

/// The two models together: what a customer is expected to be worth over a horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvModel {
    purchases: BgNbd,
    spend: GammaGamma,
}

/// What [`ClvModel::predict`] expects of one customer over a horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvPrediction {
    /// The probability that the customer has not dropped out, in \[0, 1\].
    pub probability_alive: f64,
    /// The expected number of purchases over the horizon.
    pub expected_purchases: f64,
    /// The expected amount of one purchase, rounded to the minor unit.
    pub expected_spend: Money,
    /// `expected_purchases` × the unrounded expected spend, undiscounted, rounded once to the
    /// minor unit (halves away from zero).
    pub expected_value: Money,
}

impl ClvModel {
    /// Puts two fitted (or given) models together.
    pub fn new(purchases: BgNbd, spend: GammaGamma) -> ClvModel {
        ClvModel { purchases, spend }
    }

    /// Fits [`BgNbd::fit`] to all customers and [`GammaGamma::fit`] to those with repeat
    /// purchases.
    ///
    /// # Errors
    ///
    /// The errors of the two fits.
    pub fn fit(customers: &[CustomerSummary]) -> Result<ClvModel> {
        Ok(ClvModel {
            purchases: BgNbd::fit(customers)?,
            spend: GammaGamma::fit(customers)?,
        })
    }

    /// The purchase and dropout model.
    pub fn purchases(&self) -> &BgNbd {
        &self.purchases
    }

    /// The spend model.
    pub fn spend(&self) -> &GammaGamma {
        &self.spend
    }

    /// What to expect of `customer` over the next `horizon` weeks.
    ///
    /// # Errors
    ///
    /// The errors of [`BgNbd::expected_purchases`] and [`GammaGamma::expected_spend`], and
    /// `Overflow` if the expected value does not fit [`Money`].
    pub fn predict(&self, customer: &CustomerSummary, horizon: f64) -> Result<ClvPrediction> {
        let expected_purchases = self.purchases.expected_purchases(customer, horizon)?;
        let spend = self.spend.expected_spend_major(customer)?;
        let currency = self.spend.currency();
        Ok(ClvPrediction {
            probability_alive: self.purchases.probability_alive(customer)?,
            expected_purchases,
            expected_spend: to_money(spend, currency)?,
            expected_value: to_money(expected_purchases * spend, currency)?,
        })
    }
}

/// How far (in log-parameters) a fit may move from its start: beyond `WALL` the likelihood
/// counts as −∞, so Nelder–Mead stops at the wall instead of wandering towards a boundary for
/// thousands of evaluations; a result beyond `DIVERGED` means it went there, and the data do
/// not identify the model.
const WALL: f64 = 30.0;
const DIVERGED: f64 = 25.0;

/// Whether `theta` lies more than `limit` from `start` in some coordinate.
fn beyond(theta: &[f64], start: &[f64], limit: f64) -> bool {
    theta
        .iter()
        .zip(start.iter())
        .any(|(theta, start)| (theta - start).abs() > limit)
}

/// A model parameter: finite and positive.
fn check_parameter(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::validation(
            field,
            "a model parameter must be a finite positive number",
        ))
    }
}

/// The error of a fit whose likelihood has no usable maximum for the data.
fn not_identified(model: &str) -> Error {
    Error::validation(
        "customers",
        format!(
            "these customers do not identify the {model} model: its likelihood has no maximum \
             at finite positive parameters (too few or too uniform histories)"
        ),
    )
}

/// 10^exponent as a float (exponents are 0 to 3).
fn minor_per_major(currency: Currency) -> f64 {
    10f64.powi(i32::from(currency.exponent()))
}

/// An amount in major units, as the models compute with it.
fn to_major(money: Money) -> f64 {
    money.minor() as f64 / minor_per_major(money.currency())
}

/// A model's amount in major units as [`Money`]: the nearest minor unit, a half away from zero.
fn to_money(major: f64, currency: Currency) -> Result<Money> {
    let minor = (major * minor_per_major(currency)).round();
    // i64::MAX is not exactly representable; 9.2e18 is just below it.
    if !minor.is_finite() || minor.abs() > 9.2e18 {
        return Err(Error::new(
            ErrorKind::Overflow,
            "the expected amount does not fit a money amount",
        ));
    }
    Ok(Money::new(minor as i64, currency))
}
