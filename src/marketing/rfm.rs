//! RFM: recency, frequency and monetary value per customer, scored 1–5 by quintiles, and the
//! named segments. Pure functions over figures the repository reads.

use std::fmt;

use serde::Serialize;

use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::money::Money;

/// A named RFM segment. The rule of each is on its variant, in terms of the recency score R
/// and the combined frequency–monetary score FM = ⌈(F + M) / 2⌉ (see `docs/marketing.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Segment {
    /// Bought recently, buy often and spend the most: R = 5, FM 4–5.
    Champions,
    /// Buy often and spend well, fairly recently: R 3–4, FM 4–5.
    Loyal,
    /// Recent customers with average frequency and spend: R 4–5, FM 2–3.
    PotentialLoyalist,
    /// Bought very recently, once or for little: R = 5, FM = 1.
    New,
    /// Recent, but have not bought much yet: R = 4, FM = 1.
    Promising,
    /// Middle of the road on everything: R = 3, FM = 3.
    NeedAttention,
    /// Below average recency, frequency and spend: R = 3, FM 1–2.
    AboutToSleep,
    /// Were among the best, have not come back for a long time: R 1–2, FM = 5.
    CannotLose,
    /// Spent and bought well, long ago: R 1–2, FM 3–4.
    AtRisk,
    /// Last bought long ago, rarely and for little: R 1–2, FM 1–2, except lost.
    Hibernating,
    /// The lowest scores on everything: R = 1, FM = 1.
    Lost,
}

impl Segment {
    /// Every segment, best first.
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalist,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::CannotLose,
        Segment::AtRisk,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// The segment of scores `r`, `f`, `m` (each 1–5; out-of-range scores are clamped).
    pub fn of(r: u8, f: u8, m: u8) -> Segment {
        let r = r.clamp(1, 5);
        let fm = (f.clamp(1, 5) + m.clamp(1, 5)).div_ceil(2);
        match (r, fm) {
            (5, 4 | 5) => Segment::Champions,
            (3 | 4, 4 | 5) => Segment::Loyal,
            (4 | 5, 2 | 3) => Segment::PotentialLoyalist,
            (5, _) => Segment::New,
            (4, _) => Segment::Promising,
            (3, 3) => Segment::NeedAttention,
            (3, _) => Segment::AboutToSleep,
            (_, 5) => Segment::CannotLose,
            (_, 3 | 4) => Segment::AtRisk,
            (1, 1) => Segment::Lost,
            _ => Segment::Hibernating,
        }
    }

    /// The stable snake-case name, as stored and as audiences name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalist => "potential_loyalist",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::CannotLose => "cannot_lose",
            Segment::AtRisk => "at_risk",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// The segment named `name` (as [`Segment::as_str`] writes it).
    ///
    /// # Errors
    ///
    /// `Validation` (field `segment`) for an unknown name.
    pub fn parse(name: &str) -> Result<Segment> {
        Segment::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| Error::validation("segment", format!("unknown segment {name:?}")))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One customer's RFM figures and scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRfm {
    pub(crate) customer: CustomerId,
    pub(crate) first_order_at: Timestamp,
    pub(crate) last_order_at: Timestamp,
    pub(crate) recency_days: u32,
    pub(crate) frequency: u32,
    pub(crate) monetary: Money,
    pub(crate) scores: [u8; 3],
    pub(crate) segment: Segment,
    pub(crate) country: Option<String>,
}

impl CustomerRfm {
    /// The customer (a pseudonymous id).
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// When their first counted order was placed.
    pub fn first_order_at(&self) -> Timestamp {
        self.first_order_at
    }
    /// When their last counted order was placed.
    pub fn last_order_at(&self) -> Timestamp {
        self.last_order_at
    }
    /// Recency: whole days, in the shop's time zone, from the last order's date to the report's.
    pub fn recency_days(&self) -> u32 {
        self.recency_days
    }
    /// Frequency: the number of counted orders.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// Monetary value: what the counted orders brought in, net of refunds, gross of VAT.
    pub fn monetary(&self) -> Money {
        self.monetary
    }
    /// The recency score, 1 (longest ago) to 5 (most recent).
    pub fn r(&self) -> u8 {
        self.scores[0]
    }
    /// The frequency score, 1 to 5.
    pub fn f(&self) -> u8 {
        self.scores[1]
    }
    /// The monetary score, 1 to 5.
    pub fn m(&self) -> u8 {
        self.scores[2]
    }
    /// The named segment.
    pub fn segment(&self) -> Segment {
        self.segment
    }
}

/// The RFM report: every customer with at least one counted order. From
/// [`MarketingRepo::rfm`](crate::marketing::MarketingRepo::rfm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmReport {
    pub(crate) as_of: Timestamp,
    pub(crate) customers: Vec<CustomerRfm>,
}

impl RfmReport {
    /// When the report was computed.
    pub fn as_of(&self) -> Timestamp {
        self.as_of
    }
    /// Every scored customer, by customer id.
    pub fn customers(&self) -> &[CustomerRfm] {
        &self.customers
    }
    /// The scores of one customer, if they have a counted order.
    pub fn customer(&self, id: CustomerId) -> Option<&CustomerRfm> {
        self.customers.iter().find(|c| c.customer == id)
    }
    /// How many customers each segment holds, in [`Segment::ALL`] order (empty ones included).
    pub fn segment_sizes(&self) -> Vec<(Segment, usize)> {
        Segment::ALL
            .into_iter()
            .map(|s| (s, self.customers.iter().filter(|c| c.segment == s).count()))
            .collect()
    }
    /// A short plain-text summary: customers per segment.
    pub fn to_text(&self) -> String {
        let mut out = format!("RFM: {} customers\n", self.customers.len());
        for (segment, size) in self.segment_sizes() {
            out.push_str(&format!("  {:<20} {size:>6}\n", segment.as_str()));
        }
        out
    }
}

/// Quintile scores of `values`, where a higher value is better: the score of a value is
/// 1 + ⌊5 · (number of values strictly below it) / n⌋, so equal values share a score, the
/// lowest value scores 1, and each score holds about a fifth of the customers when values are
/// distinct.
pub(crate) fn quintile_scores(values: &[i64]) -> Vec<u8> {
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    values
        .iter()
        .map(|v| {
            let below = sorted.partition_point(|x| x < v);
            // below < n, so the quotient is at most 4.
            let score = 1 + (5 * below) / n.max(1);
            u8::try_from(score.min(5)).unwrap_or(5)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_split_distinct_values_in_fifths_and_keep_ties_together() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(quintile_scores(&values), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(quintile_scores(&[7, 7, 7]), vec![1, 1, 1]);
        assert_eq!(quintile_scores(&[1, 2, 2, 9]), vec![1, 2, 2, 4]);
        assert_eq!(quintile_scores(&[42]), vec![1]);
        assert!(quintile_scores(&[]).is_empty());
    }

    proptest::proptest! {
        /// Scores are 1 to 5, never fall as the value rises, tie equal values, and give the
        /// lowest value 1; with distinct values no score holds more than ⌈n/5⌉ customers.
        #[test]
        fn quintile_scores_are_monotone_bounded_quintiles(
            values in proptest::collection::vec(-1000i64..1000, 1..200)
        ) {
            let scores = quintile_scores(&values);
            proptest::prop_assert_eq!(scores.len(), values.len());
            let min = values.iter().min().copied().unwrap();
            for (i, (&v, &s)) in values.iter().zip(&scores).enumerate() {
                proptest::prop_assert!((1..=5).contains(&s));
                if v == min {
                    proptest::prop_assert_eq!(s, 1);
                }
                for (&w, &t) in values.iter().zip(&scores).skip(i + 1) {
                    if v < w {
                        proptest::prop_assert!(s <= t);
                    }
                    if v == w {
                        proptest::prop_assert_eq!(s, t);
                    }
                }
            }
            let mut distinct = values.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let distinct_scores = quintile_scores(&distinct);
            for score in 1..=5u8 {
                let held = distinct_scores.iter().filter(|&&s| s == score).count();
                proptest::prop_assert!(held <= distinct.len().div_ceil(5));
            }
        }
    }

    #[test]
    fn every_score_combination_has_exactly_the_documented_segment() {
        use Segment::*;
        let grid = [
            // FM:   1             2             3              4          5
            (
                5,
                [
                    New,
                    PotentialLoyalist,
                    PotentialLoyalist,
                    Champions,
                    Champions,
                ],
            ),
            (
                4,
                [
                    Promising,
                    PotentialLoyalist,
                    PotentialLoyalist,
                    Loyal,
                    Loyal,
                ],
            ),
            (3, [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal]),
            (2, [Hibernating, Hibernating, AtRisk, AtRisk, CannotLose]),
            (1, [Lost, Hibernating, AtRisk, AtRisk, CannotLose]),
        ];
        for (r, row) in grid {
            for (i, want) in row.into_iter().enumerate() {
                let fm = u8::try_from(i + 1).unwrap();
                assert_eq!(Segment::of(r, fm, fm), want, "R={r} FM={fm}");
            }
        }
        // FM rounds up: F 4 and M 3 make FM 4.
        assert_eq!(Segment::of(5, 4, 3), Champions);
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()).unwrap(), s);
        }
        assert!(Segment::parse("vip").is_err());
    }
}
