//! The BG/NBD model of purchases and dropout (Fader, Hardie & Lee 2005).

use std::collections::BTreeMap;

use super::optimise::minimise;
use super::special::{ln_gamma, scaled_hyp2f1};
use super::{CustomerSummary, DIVERGED, WALL, beyond, check_parameter, not_identified};
use crate::error::{Error, Result};

/// A fitted (or given) BG/NBD model: how often customers buy while alive, and how likely they
/// are to drop out after each purchase.
///
/// While alive, a customer buys as a Poisson process of rate λ; λ varies across customers as
/// Gamma(`r`, `alpha`) (shape `r`, rate `alpha` per week). After each purchase the customer
/// drops out with probability p; p varies across customers as Beta(`a`, `b`). See the
/// [module documentation](super) for the formulas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl BgNbd {
    /// A model with known parameters (from an earlier fit, or from a paper).
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the parameter (`"r"`, `"alpha"`, `"a"`, `"b"`) if one is not
    /// a finite positive number.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<BgNbd> {
        Ok(BgNbd {
            r: check_parameter("r", r)?,
            alpha: check_parameter("alpha", alpha)?,
            a: check_parameter("a", a)?,
            b: check_parameter("b", b)?,
        })
    }

    /// Fits the model to `customers` by maximum likelihood.
    ///
    /// Customers with the same (frequency, recency, age) are counted once with a weight, so the
    /// cost grows with the number of distinct histories, not of customers. The optimiser is
    /// Nelder–Mead over the logarithms of the four parameters, starting from r = a = b = 1 and
    /// α = the mean age; see the [module documentation](super) for its stopping rule.
    ///
    /// # Errors
    ///
    /// A `Validation { field: "customers" }` error, and no fit, if there are fewer than two
    /// customers, none with a repeat purchase, or the likelihood has no maximum at finite
    /// positive parameters for these data (a parameter runs off towards 0 or ∞, or the
    /// optimiser does not converge).
    pub fn fit(customers: &[CustomerSummary]) -> Result<BgNbd> {
        if customers.len() < 2 {
            return Err(Error::validation(
                "customers",
                "fitting BG/NBD needs at least two customers",
            ));
        }
        if customers.iter().all(|c| c.frequency() == 0) {
            return Err(Error::validation(
                "customers",
                "fitting BG/NBD needs at least one customer with a repeat purchase",
            ));
        }
        let groups = Groups::new(customers);
        let mean_age = customers.iter().map(|c| c.age()).sum::<f64>() / customers.len() as f64;
        // A scale-aware start: α is a number of weeks, of the order of the observation period.
        let start = [0.0, mean_age.max(1.0).ln(), 0.0, 0.0];
        let minimum = minimise(
            |theta: &[f64; 4]| {
                if beyond(theta, &start, WALL) {
                    return f64::INFINITY;
                }
                let [r, alpha, a, b] = theta.map(f64::exp);
                -groups.log_likelihood(r, alpha, a, b)
            },
            start,
        )
        .ok_or_else(|| not_identified("BG/NBD"))?;
        if beyond(&minimum.point, &start, DIVERGED) {
            return Err(not_identified("BG/NBD"));
        }
        let [r, alpha, a, b] = minimum.point.map(f64::exp);
        BgNbd::new(r, alpha, a, b).map_err(|_| not_identified("BG/NBD"))
    }

    /// The shape r of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.r
    }

    /// The rate α (per week) of the Gamma distribution of purchase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The first shape a of the Beta distribution of dropout probabilities.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// The second shape b of the Beta distribution of dropout probabilities.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// The log-likelihood of `customers` under this model (the quantity [`fit`](BgNbd::fit)
    /// maximises; Fader, Hardie & Lee report −9582.4 for CDNOW).
    ///
    /// # Errors
    ///
    /// A `Validation { field: "customers" }` error if it is not finite (no customers give 0).
    pub fn log_likelihood(&self, customers: &[CustomerSummary]) -> Result<f64> {
        let value = Groups::new(customers).log_likelihood(self.r, self.alpha, self.a, self.b);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(Error::validation(
                "customers",
                "the log-likelihood of these customers is not finite",
            ))
        }
    }

    /// The probability that the customer is still alive (has not dropped out) at the end of
    /// the observation, given their history: 1 for a customer with no repeat purchase.
    ///
    /// # Errors
    ///
    /// A `Validation { field: "customer" }` error if the result is not a finite number (not
    /// expected for any valid summary; a guard, not a case).
    pub fn probability_alive(&self, customer: &CustomerSummary) -> Result<f64> {
        finite(
            "customer",
            self.ln_odds_dead(customer).map_or(1.0, logistic_of_minus),
        )
    }

    /// The expected number of purchases in the next `horizon` weeks, given the history (eq. 10
    /// of Fader, Hardie & Lee 2005).
    ///
    /// # Errors
    ///
    /// A `Validation { field: "horizon" }` error if `horizon` is negative or not finite, or so
    /// long that the hypergeometric series leaves its domain (the horizon's share of
    /// α + age + horizon must stay below 1 − 1e-5 or so); `Validation { field: "customer" }`
    /// if the result is not finite.
    pub fn expected_purchases(&self, customer: &CustomerSummary, horizon: f64) -> Result<f64> {
        if !horizon.is_finite() || horizon < 0.0 {
            return Err(Error::validation(
                "horizon",
                "the horizon must be a finite number of weeks, zero or more",
            ));
        }
        let alive = self.probability_alive(customer)?;
        let x = f64::from(customer.frequency());
        let z = horizon / (self.alpha + customer.age() + horizon);
        // (a + b + x − 1) / (a − 1) · [1 − (1 − z)^(a − 1) ₂F₁(a + b − 1 − r, a − 1; a + b + x − 1; z)]
        // after Euler's transformation of eq. 10; it is 0/0 at a = 1 exactly, where the
        // expression is smooth: the mean of two points either side stands in for the limit.
        let bracket = |a: f64| -> Option<f64> {
            let c = a + self.b + x - 1.0;
            let series = scaled_hyp2f1(a + self.b - 1.0 - self.r, a - 1.0, c, z)?;
            Some((c - (1.0 - z).powf(a - 1.0) * series) / (a - 1.0))
        };
        const NEAR_ONE: f64 = 1e-6;
        let bracket = if (self.a - 1.0).abs() < NEAR_ONE {
            bracket(1.0 - NEAR_ONE)
                .zip(bracket(1.0 + NEAR_ONE))
                .map(|(lo, hi)| (lo + hi) / 2.0)
        } else {
            bracket(self.a)
        };
        let bracket = bracket.ok_or_else(|| {
            Error::validation(
                "horizon",
                "the horizon is too long for the hypergeometric series to converge",
            )
        })?;
        // The bracket is a difference of two nearly equal terms when the horizon is tiny
        // beside α + T: rounding can leave it a few ulps below zero, while the expectation it
        // stands for is never negative.
        finite("customer", alive * bracket.max(0.0))
    }

    /// ln of the odds a/(b + x − 1) · ((α + T)/(α + tₓ))^(r + x) that the customer dropped out
    /// after their last purchase; `None` without repeat purchases (they cannot have).
    fn ln_odds_dead(&self, customer: &CustomerSummary) -> Option<f64> {
        let x = f64::from(customer.frequency());
        (customer.frequency() > 0).then(|| {
            self.a.ln() - (self.b + x - 1.0).ln()
                + (self.r + x)
                    * ((self.alpha + customer.age()).ln() - (self.alpha + customer.recency()).ln())
        })
    }
}

/// 1 / (1 + e^v), without overflow for large |v|.
fn logistic_of_minus(v: f64) -> f64 {
    if v > 0.0 {
        let e = (-v).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + v.exp())
    }
}

fn finite(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::validation(
            field,
            "the model gives no finite value for this customer",
        ))
    }
}

/// The customers grouped by frequency, identical histories merged into one weighted row.
struct Groups {
    groups: Vec<Group>,
}

struct Group {
    x: f64,
    /// (recency, age, how many customers).
    rows: Vec<(f64, f64, f64)>,
}

impl Groups {
    fn new(customers: &[CustomerSummary]) -> Groups {
        let mut by_x: BTreeMap<u32, BTreeMap<(u64, u64), f64>> = BTreeMap::new();
        for c in customers {
            *by_x
                .entry(c.frequency())
                .or_default()
                .entry((c.recency().to_bits(), c.age().to_bits()))
                .or_default() += 1.0;
        }
        let groups = by_x
            .into_iter()
            .map(|(x, rows)| Group {
                x: f64::from(x),
                rows: rows
                    .into_iter()
                    .map(|((t_x, t), w)| (f64::from_bits(t_x), f64::from_bits(t), w))
                    .collect(),
            })
            .collect();
        Groups { groups }
    }

    /// Σ ln L over all customers (eq. 6 of the paper, in logs):
    /// ln L = ln Γ(r + x) − ln Γ(r) + r ln α + ln B(a, b + x) − ln B(a, b)
    ///        + ln[(α + T)^−(r+x) + [x > 0] a/(b + x − 1) (α + tₓ)^−(r+x)]
    fn log_likelihood(&self, r: f64, alpha: f64, a: f64, b: f64) -> f64 {
        let ln_alpha = alpha.ln();
        let (ln_gamma_r, ln_gamma_b, ln_gamma_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
        let mut total = 0.0;
        for group in &self.groups {
            let x = group.x;
            let shared =
                ln_gamma(r + x) - ln_gamma_r + r * ln_alpha + ln_gamma_ab + ln_gamma(b + x)
                    - ln_gamma_b
                    - ln_gamma(a + b + x);
            let ln_odds = if x > 0.0 {
                a.ln() - (b + x - 1.0).ln()
            } else {
                f64::NEG_INFINITY
            };
            for &(t_x, t, weight) in &group.rows {
                let alive_term = -(r + x) * (alpha + t).ln();
                let row = if x > 0.0 {
                    let dead_term = ln_odds - (r + x) * (alpha + t_x).ln();
                    let (high, low) = if alive_term > dead_term {
                        (alive_term, dead_term)
                    } else {
                        (dead_term, alive_term)
                    };
                    high + (low - high).exp().ln_1p()
                } else {
                    alive_term
                };
                total += weight * (shared + row);
            }
        }
        total
    }
}
