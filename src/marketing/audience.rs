//! Audiences: a typed segment query over the stored customer scores.

use crate::access::CustomerId;
use crate::catalog::Sku;
use crate::clock::Timestamp;
use crate::customers::{Channel, ConsentStatus, Country};
use crate::error::{Error, Result};
use crate::money::Money;

use super::rfm::Segment;

/// Who belongs to an audience. Every filter narrows it; an empty query is every scored
/// customer. Filters read the scores of the last
/// [`refresh_scores`](crate::marketing::MarketingRepo::refresh_scores), so an audience is as
/// fresh as that refresh; consent is read from the consent ledger at query time.
///
/// ```
/// use shopkeep::customers::Channel;
/// use shopkeep::marketing::{AudienceQuery, Segment};
///
/// // Champions and loyal customers who may be emailed.
/// let q = AudienceQuery::new()
///     .segments(&[Segment::Champions, Segment::Loyal])
///     .for_marketing(Channel::Email);
/// # let _ = q;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct AudienceQuery {
    pub(crate) segments: Vec<Segment>,
    pub(crate) min_spend: Option<Money>,
    pub(crate) max_spend: Option<Money>,
    pub(crate) min_orders: Option<u32>,
    pub(crate) max_orders: Option<u32>,
    pub(crate) last_order_before: Option<Timestamp>,
    pub(crate) last_order_after: Option<Timestamp>,
    pub(crate) bought: Option<Sku>,
    pub(crate) country: Option<Country>,
    pub(crate) consent: Option<(Channel, ConsentStatus)>,
    pub(crate) min_expected_value: Option<Money>,
    pub(crate) min_probability_alive: Option<f64>,
    pub(crate) max_probability_alive: Option<f64>,
}

impl AudienceQuery {
    /// Every scored customer.
    pub fn new() -> AudienceQuery {
        AudienceQuery::default()
    }

    /// Customers in any of `segments`.
    pub fn segments(mut self, segments: &[Segment]) -> Self {
        self.segments = segments.to_vec();
        self
    }

    /// Customers whose monetary value (net of refunds, shop currency) is at least `min`.
    pub fn min_spend(mut self, min: Money) -> Self {
        self.min_spend = Some(min);
        self
    }

    /// Customers whose monetary value is at most `max`.
    pub fn max_spend(mut self, max: Money) -> Self {
        self.max_spend = Some(max);
        self
    }

    /// Customers with at least `n` counted orders.
    pub fn min_orders(mut self, n: u32) -> Self {
        self.min_orders = Some(n);
        self
    }

    /// Customers with at most `n` counted orders.
    pub fn max_orders(mut self, n: u32) -> Self {
        self.max_orders = Some(n);
        self
    }

    /// Customers whose last counted order was placed before `at`.
    pub fn last_order_before(mut self, at: Timestamp) -> Self {
        self.last_order_before = Some(at);
        self
    }

    /// Customers whose last counted order was placed at or after `at`.
    pub fn last_order_after(mut self, at: Timestamp) -> Self {
        self.last_order_after = Some(at);
        self
    }

    /// Customers who bought the product variant `sku` in a counted order.
    pub fn bought(mut self, sku: Sku) -> Self {
        self.bought = Some(sku);
        self
    }

    /// Customers whose latest counted order shipped to `country`.
    pub fn country(mut self, country: Country) -> Self {
        self.country = Some(country);
        self
    }

    /// Customers whose consent on `channel` currently stands at `status`, as the consent
    /// ledger says.
    pub fn consent(mut self, channel: Channel, status: ConsentStatus) -> Self {
        self.consent = Some((channel, status));
        self
    }

    /// A marketing audience on `channel`: only customers with a current, granted (and, where
    /// the channel needs it, confirmed) consent on it. Same as
    /// `consent(channel, ConsentStatus::Granted)`.
    pub fn for_marketing(self, channel: Channel) -> Self {
        self.consent(channel, ConsentStatus::Granted)
    }

    /// Customers whose expected value over the last refresh's CLV horizon is at least `min`
    /// (shop currency). Customers without CLV figures (the refresh could not fit the models)
    /// never match.
    pub fn min_expected_value(mut self, min: Money) -> Self {
        self.min_expected_value = Some(min);
        self
    }

    /// Customers whose probability of being alive (BG/NBD, as of the last refresh) is at least
    /// `min`, 0 to 1. Customers without CLV figures never match.
    pub fn min_probability_alive(mut self, min: f64) -> Self {
        self.min_probability_alive = Some(min);
        self
    }

    /// Customers whose probability of being alive is at most `max`, 0 to 1: the ones slipping
    /// away. Customers without CLV figures never match.
    pub fn max_probability_alive(mut self, max: f64) -> Self {
        self.max_probability_alive = Some(max);
        self
    }

    /// Refuses contradictory ranges.
    pub(crate) fn check(&self) -> Result<()> {
        for (field, p) in [
            ("min_probability_alive", self.min_probability_alive),
            ("max_probability_alive", self.max_probability_alive),
        ] {
            if let Some(p) = p
                && !(0.0..=1.0).contains(&p)
            {
                return Err(Error::validation(field, "a probability is 0 to 1"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_probability_alive, self.max_probability_alive)
            && min > max
        {
            return Err(Error::validation(
                "max_probability_alive",
                "the probability range is empty",
            ));
        }
        if let (Some(min), Some(max)) = (self.min_spend, self.max_spend)
            && (min.currency() != max.currency() || min.minor() > max.minor())
        {
            return Err(Error::validation(
                "max_spend",
                "the spend range is empty or mixes currencies",
            ));
        }
        if let (Some(min), Some(max)) = (self.min_orders, self.max_orders)
            && min > max
        {
            return Err(Error::validation(
                "max_orders",
                "the order count range is empty",
            ));
        }
        Ok(())
    }
}

/// A page of an audience: customer ids in id order, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiencePage {
    pub(crate) customers: Vec<CustomerId>,
    pub(crate) next: Option<CustomerId>,
}

impl AudiencePage {
    /// The customers of this page.
    pub fn customers(&self) -> &[CustomerId] {
        &self.customers
    }
    /// Pass this as `after` for the next page; `None` on the last page.
    pub fn next(&self) -> Option<CustomerId> {
        self.next
    }
}
