//! The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie,
//! "The Gamma-Gamma Model of Monetary Value", 2013).

use std::collections::BTreeMap;

use super::optimise::minimise;
use super::special::ln_gamma;
use super::{
    CustomerSummary, DIVERGED, WALL, beyond, check_parameter, not_identified, to_major, to_money,
};
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};

/// A fitted (or given) Gamma-Gamma model of how much customers spend per purchase.
///
/// A customer's purchases are Gamma(`p`, ν) amounts around their own mean p/ν; ν varies across
/// customers as Gamma(`q`, `gamma`). Amounts are in major units of [`currency`](Self::currency)
/// (euros, not cents), so `gamma` is too. See the [module documentation](super) for the
/// formulas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
    currency: Currency,
}

impl GammaGamma {
    /// A model with known parameters, for amounts in `currency`.
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the parameter (`"p"`, `"q"`, `"gamma"`) if one is not a
    /// finite positive number.
    pub fn new(p: f64, q: f64, gamma: f64, currency: Currency) -> Result<GammaGamma> {
        Ok(GammaGamma {
            p: check_parameter("p", p)?,
            q: check_parameter("q", q)?,
            gamma: check_parameter("gamma", gamma)?,
            currency,
        })
    }

    /// Fits the model by maximum likelihood to the customers with at least one repeat purchase
    /// (the others carry no spend information and are skipped), on their mean repeat spend.
    ///
    /// Nelder–Mead over ln p, ln q, ln γ from p = q = 1 and γ = the mean of the mean spends.
    ///
    /// # Errors
    ///
    /// - `Validation { field: "customers" }` if fewer than two customers have a repeat
    ///   purchase, or the likelihood has no maximum at finite positive parameters (all spends
    ///   alike, for instance).
    /// - `CurrencyMismatch` if the repeat buyers' spends are in more than one currency.
    pub fn fit(customers: &[CustomerSummary]) -> Result<GammaGamma> {
        let buyers: Vec<&CustomerSummary> =
            customers.iter().filter(|c| c.frequency() > 0).collect();
        let Some(currency) = buyers.first().map(|c| c.mean_spend().currency()) else {
            return Err(Error::validation(
                "customers",
                "fitting Gamma-Gamma needs customers with repeat purchases",
            ));
        };
        if buyers.len() < 2 {
            return Err(Error::validation(
                "customers",
                "fitting Gamma-Gamma needs at least two customers with repeat purchases",
            ));
        }
        if buyers.iter().any(|c| c.mean_spend().currency() != currency) {
            return Err(Error::new(
                ErrorKind::CurrencyMismatch,
                "the customers' spends are in more than one currency",
            ));
        }
        let groups = Groups::new(&buyers);
        let mean_spend =
            buyers.iter().map(|c| to_major(c.mean_spend())).sum::<f64>() / buyers.len() as f64;
        let start = [0.0, 0.0, mean_spend.ln()];
        let minimum = minimise(
            |theta: &[f64; 3]| {
                if beyond(theta, &start, WALL) {
                    return f64::INFINITY;
                }
                let [p, q, gamma] = theta.map(f64::exp);
                -groups.log_likelihood(p, q, gamma)
            },
            start,
        )
        .ok_or_else(|| not_identified("Gamma-Gamma"))?;
        if beyond(&minimum.point, &start, DIVERGED) {
            return Err(not_identified("Gamma-Gamma"));
        }
        let [p, q, gamma] = minimum.point.map(f64::exp);
        GammaGamma::new(p, q, gamma, currency).map_err(|_| not_identified("Gamma-Gamma"))
    }

    /// The shape p of each purchase's amount.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The shape q of the Gamma distribution of ν across customers.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// The rate γ (in major units of the currency) of the Gamma distribution of ν.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The currency the model's amounts are in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The expected spend per purchase of this customer, given their repeat purchases:
    /// p (γ + x z̄) / (p x + q − 1), rounded to the nearest minor unit, a half away from zero.
    /// For a customer without repeat purchases this is the population mean p γ / (q − 1).
    ///
    /// # Errors
    ///
    /// - `CurrencyMismatch` if the customer's spend is in another currency than the model's.
    /// - `Validation { field: "customer" }` if p x + q ≤ 1: the expected spend is unbounded
    ///   (for a customer without repeat purchases: when q ≤ 1).
    /// - `Overflow` if the amount does not fit [`Money`].
    pub fn expected_spend(&self, customer: &CustomerSummary) -> Result<Money> {
        to_money(self.expected_spend_major(customer)?, self.currency)
    }

    /// [`expected_spend`](Self::expected_spend) before rounding, in major units.
    pub(super) fn expected_spend_major(&self, customer: &CustomerSummary) -> Result<f64> {
        let x = f64::from(customer.frequency());
        let mean = if customer.frequency() > 0 {
            if customer.mean_spend().currency() != self.currency {
                return Err(Error::new(
                    ErrorKind::CurrencyMismatch,
                    "the customer's spend is in another currency than the model's",
                ));
            }
            to_major(customer.mean_spend())
        } else {
            0.0
        };
        let denominator = self.p * x + self.q - 1.0;
        let value = self.p * (self.gamma + x * mean) / denominator;
        if denominator <= 0.0 || !value.is_finite() {
            return Err(Error::validation(
                "customer",
                "the model's expected spend is unbounded for this customer (p x + q ≤ 1)",
            ));
        }
        Ok(value)
    }

    /// The log-likelihood of the repeat buyers among `customers` under this model.
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` if a repeat buyer's spend is in another currency than the model's;
    /// `Validation { field: "customers" }` if the value is not finite.
    pub fn log_likelihood(&self, customers: &[CustomerSummary]) -> Result<f64> {
        let buyers: Vec<&CustomerSummary> =
            customers.iter().filter(|c| c.frequency() > 0).collect();
        if buyers
            .iter()
            .any(|c| c.mean_spend().currency() != self.currency)
        {
            return Err(Error::new(
                ErrorKind::CurrencyMismatch,
                "a customer's spend is in another currency than the model's",
            ));
        }
        let value = Groups::new(&buyers).log_likelihood(self.p, self.q, self.gamma);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(Error::validation(
                "customers",
                "the log-likelihood of these customers is not finite",
            ))
        }
    }
}

/// Repeat buyers grouped by frequency, equal mean spends merged into one weighted row.
struct Groups {
    groups: Vec<Group>,
}

struct Group {
    x: f64,
    ln_x: f64,
    /// (mean spend, its logarithm, how many customers).
    rows: Vec<(f64, f64, f64)>,
}

impl Groups {
    fn new(buyers: &[&CustomerSummary]) -> Groups {
        let mut by_x: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
        for c in buyers {
            *by_x
                .entry(c.frequency())
                .or_default()
                .entry(c.mean_spend().minor())
                .or_default() += 1.0;
        }
        let currency = buyers.first().map(|c| c.mean_spend().currency());
        let groups = by_x
            .into_iter()
            .map(|(x, rows)| Group {
                x: f64::from(x),
                ln_x: f64::from(x).ln(),
                rows: rows
                    .into_iter()
                    .map(|(minor, w)| {
                        let mean = currency
                            .map_or(f64::NAN, |currency| to_major(Money::new(minor, currency)));
                        (mean, mean.ln(), w)
                    })
                    .collect(),
            })
            .collect();
        Groups { groups }
    }

    /// Σ ln L over the repeat buyers (the note's eq. 3 in logs, the x-fold convolution of
    /// Gamma(p, ν) integrated over ν):
    /// ln L = ln Γ(p x + q) − ln Γ(p x) − ln Γ(q) + q ln γ + (p x − 1) ln z̄ + p x ln x
    ///        − (p x + q) ln(γ + x z̄)
    fn log_likelihood(&self, p: f64, q: f64, gamma: f64) -> f64 {
        let (ln_gamma_q, ln_gamma_rate) = (ln_gamma(q), gamma.ln());
        let mut total = 0.0;
        for group in &self.groups {
            let px = p * group.x;
            let shared =
                ln_gamma(px + q) - ln_gamma(px) - ln_gamma_q + q * ln_gamma_rate + px * group.ln_x;
            for &(mean, ln_mean, weight) in &group.rows {
                let row = (px - 1.0) * ln_mean - (px + q) * (gamma + group.x * mean).ln();
                total += weight * (shared + row);
            }
        }
        total
    }
}
