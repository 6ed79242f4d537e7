//! The stored customer scores: what a refresh reports, and the rows audiences filter on.

use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::money::Money;

use super::clv::ClvModel;
use super::rfm::CustomerRfm;

/// The CLV horizon a refresh uses unless told otherwise: a year.
pub const DEFAULT_CLV_HORIZON_DAYS: u32 = 365;
/// The longest CLV horizon a refresh accepts: ten years.
pub const MAX_CLV_HORIZON_DAYS: u32 = 3650;

/// A refresh's CLV horizon in the model's unit, weeks (days / 7), if it is 1 to
/// [`MAX_CLV_HORIZON_DAYS`] days.
pub(crate) fn check_horizon(days: u32) -> Result<f64> {
    if !(1..=MAX_CLV_HORIZON_DAYS).contains(&days) {
        return Err(Error::validation(
            "horizon",
            "the CLV horizon is 1 to 3,650 days",
        ));
    }
    Ok(f64::from(days) / 7.0)
}

/// What a [`refresh_scores`](crate::marketing::MarketingRepo::refresh_scores) did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRefresh {
    pub(crate) scored: usize,
    pub(crate) horizon_days: u32,
    pub(crate) clv: ClvOutcome,
}

impl ScoreRefresh {
    /// How many customers have RFM scores (every customer with a counted order).
    pub fn scored(&self) -> usize {
        self.scored
    }

    /// The horizon of the expected purchases and value, in days.
    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }

    /// Whether the CLV columns were filled, and if not, why.
    pub fn clv(&self) -> &ClvOutcome {
        &self.clv
    }
}

/// The CLV step of a refresh: the models fitted to the whole shop, or why they could not be.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClvOutcome {
    /// Both models were fitted and every scored customer has CLV figures.
    Fitted {
        /// The fitted BG/NBD and Gamma-Gamma models (weeks, base currency).
        model: ClvModel,
        /// How many customers got CLV figures.
        customers: usize,
    },
    /// The models could not be fitted: every CLV column is NULL until a later refresh can.
    NotFitted(ClvNotFitted),
}

impl ClvOutcome {
    /// The fitted model, if there is one.
    pub fn model(&self) -> Option<&ClvModel> {
        match self {
            ClvOutcome::Fitted { model, .. } => Some(model),
            ClvOutcome::NotFitted(_) => None,
        }
    }
}

/// Why a refresh left the CLV columns NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClvNotFitted {
    /// Fewer than two customers have a counted order.
    TooFewCustomers,
    /// Nobody bought again on a later day: BG/NBD has no repeat purchases to learn from.
    NoRepeatBuyers,
    /// Only one customer bought again: Gamma-Gamma needs two to separate the spread of spends
    /// within a customer from the spread across customers.
    TooFewRepeatBuyers,
    /// The likelihood has no maximum at finite parameters for these histories (for example,
    /// every repeat buyer spent exactly the same), so there is no fit to trust.
    NotIdentified,
    /// The fit succeeded but a prediction did not fit a money amount (an absurd expected
    /// value), so none is stored.
    OutOfRange,
}

/// One customer's stored scores, as of the last refresh: the RFM figures and, when the CLV
/// models could be fitted, the CLV figures. From
/// [`MarketingRepo::scores`](crate::marketing::MarketingRepo::scores).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerScore {
    pub(crate) rfm: CustomerRfm,
    pub(crate) probability_alive: Option<f64>,
    pub(crate) expected_purchases: Option<f64>,
    pub(crate) expected_value: Option<Money>,
    pub(crate) refreshed_at: Timestamp,
}

impl CustomerScore {
    /// The customer (a pseudonymous id).
    pub fn customer(&self) -> CustomerId {
        self.rfm.customer
    }
    /// The RFM figures, scores and segment.
    pub fn rfm(&self) -> &CustomerRfm {
        &self.rfm
    }
    /// The shipping country of the latest counted order (ISO 3166 alpha-2).
    pub fn country(&self) -> Option<&str> {
        self.rfm.country.as_deref()
    }
    /// BG/NBD's probability that the customer has not dropped out, in \[0, 1\]; `None` when
    /// the last refresh could not fit the models.
    pub fn probability_alive(&self) -> Option<f64> {
        self.probability_alive
    }
    /// The purchases (distinct purchase days) to expect over the refresh's horizon.
    pub fn expected_purchases(&self) -> Option<f64> {
        self.expected_purchases
    }
    /// The value to expect over the horizon, undiscounted, in the shop's base currency.
    pub fn expected_value(&self) -> Option<Money> {
        self.expected_value
    }
    /// When the scores were refreshed.
    pub fn refreshed_at(&self) -> Timestamp {
        self.refreshed_at
    }
}

/// A page of stored scores, by customer id.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePage {
    pub(crate) scores: Vec<CustomerScore>,
    pub(crate) next: Option<CustomerId>,
}

impl ScorePage {
    /// The scores of this page.
    pub fn scores(&self) -> &[CustomerScore] {
        &self.scores
    }
    /// Pass this as `after` for the next page; `None` on the last page.
    pub fn next(&self) -> Option<CustomerId> {
        self.next
    }
}
