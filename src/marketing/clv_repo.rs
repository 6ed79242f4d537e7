//! The CLV step of a score refresh, and the read of the stored scores: each customer's
//! purchase history summarised for the models, both models fitted to the whole shop, and the
//! predictions written to the CLV columns of `shopkeep_customer_scores`.
//!
//! Kept apart from the RFM part of the refresh (`repo.rs`): the RFM rows are written first, and
//! this step then fills or clears the CLV columns of the rows it finds.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::clv::{ClvModel, CustomerSummary};
use super::facts::each_counted_order;
use super::repo::{MarketingRepo, settings};
use super::rfm::{CustomerRfm, Segment};
use super::scores::{ClvNotFitted, ClvOutcome, CustomerScore, ScorePage};
use crate::access::{Action, CustomerId, Resource};
use crate::catalog::TimeZone;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::Tx;

/// The largest page of stored scores.
const MAX_PAGE: usize = 1000;

/// One customer's purchase days: the local dates (shop time zone) of their counted orders,
/// oldest first, each with what that day's orders kept (minor units).
type PurchaseDays = Vec<(NaiveDate, i64)>;

/// The purchase days of every active customer with a counted order: the same orders the RFM
/// counts (paid, not cancelled, base currency, not refunded whole; erased customers left out).
fn purchase_days(
    tx: &Tx<'_>,
    currency: Currency,
    zone: &TimeZone,
) -> Result<Vec<(CustomerId, PurchaseDays)>> {
    let mut per_customer: HashMap<CustomerId, PurchaseDays> = HashMap::new();
    each_counted_order(tx, currency, zone, true, |order| {
        let days = per_customer.entry(order.customer).or_default();
        // Orders come oldest first, so a day's orders are adjacent.
        match days.last_mut() {
            Some((last, total)) if *last == order.date => {
                *total = total.checked_add(order.kept).ok_or_else(overflow)?;
            }
            _ => days.push((order.date, order.kept)),
        }
        Ok(())
    })?;
    let mut per_customer: Vec<_> = per_customer.into_iter().collect();
    per_customer.sort_unstable_by_key(|(customer, _)| *customer);
    Ok(per_customer)
}

fn overflow() -> Error {
    Error::new(ErrorKind::Overflow, "a customer's spend overflows")
}

/// The model's summary of one customer's purchase days, as of `today` (docs/clv.md): the first
/// day starts the clock; x is the number of later purchase days, tₓ the weeks from the first day
/// to the last, T the weeks from the first day to today, and z̄ the mean of what the later days
/// kept, rounded to the nearest minor unit (halves up).
pub(crate) fn summarise(
    days: &[(NaiveDate, i64)],
    today: NaiveDate,
    currency: Currency,
) -> Result<CustomerSummary> {
    let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) else {
        return Err(Error::validation(
            "customers",
            "a customer without purchase days has no summary",
        ));
    };
    let repeat = days.get(1..).unwrap_or(&[]);
    let x = u32::try_from(repeat.len()).map_err(|_| overflow())?;
    let weeks = |from: NaiveDate, to: NaiveDate| (to - from).num_days().max(0) as f64 / 7.0;
    let mean_spend = if x == 0 {
        Money::zero(currency)
    } else {
        let total = repeat
            .iter()
            .try_fold(0i64, |sum, (_, kept)| sum.checked_add(*kept))
            .ok_or_else(overflow)?;
        let n = i64::from(x);
        // Kept amounts are positive: (2·total + n) / 2n is total / n rounded half up.
        let doubled = total
            .checked_mul(2)
            .and_then(|d| d.checked_add(n))
            .ok_or_else(overflow)?;
        Money::new(doubled / (2 * n), currency)
    };
    CustomerSummary::new(
        x,
        weeks(*first, *last),
        weeks(*first, today).max(weeks(*first, *last)),
        mean_spend,
    )
}

/// Why the models cannot be fitted to `summaries`, if that is known before trying.
fn cannot_fit(summaries: &[(CustomerId, CustomerSummary)]) -> Option<ClvNotFitted> {
    let repeat_buyers = summaries.iter().filter(|(_, s)| s.frequency() > 0).count();
    if summaries.len() < 2 {
        Some(ClvNotFitted::TooFewCustomers)
    } else if repeat_buyers == 0 {
        Some(ClvNotFitted::NoRepeatBuyers)
    } else if repeat_buyers < 2 {
        Some(ClvNotFitted::TooFewRepeatBuyers)
    } else {
        None
    }
}

/// One customer's CLV figures, as stored.
struct ClvRow {
    customer: CustomerId,
    probability_alive: f64,
    expected_purchases: f64,
    expected_value: i64,
}

/// Fits both models to `summaries` and predicts each customer over `horizon_weeks`.
fn predict_all(
    summaries: &[(CustomerId, CustomerSummary)],
    horizon_weeks: f64,
) -> std::result::Result<(ClvModel, Vec<ClvRow>), ClvNotFitted> {
    if let Some(reason) = cannot_fit(summaries) {
        return Err(reason);
    }
    let only: Vec<CustomerSummary> = summaries.iter().map(|(_, s)| *s).collect();
    let model = ClvModel::fit(&only).map_err(|_| ClvNotFitted::NotIdentified)?;
    let rows = summaries
        .iter()
        .map(|(customer, summary)| {
            let p = model.predict(summary, horizon_weeks)?;
            Ok(ClvRow {
                customer: *customer,
                probability_alive: p.probability_alive,
                expected_purchases: p.expected_purchases,
                expected_value: p.expected_value.minor(),
            })
        })
        .collect::<Result<Vec<_>>>()
        .map_err(|_| ClvNotFitted::OutOfRange)?;
    Ok((model, rows))
}

impl MarketingRepo<'_> {
    /// The CLV step of a refresh, run after the RFM rows are written: summarises every scored
    /// customer's purchase days on a read snapshot, fits BG/NBD and Gamma-Gamma to the whole
    /// shop outside any transaction, then, in one short write, clears every CLV column and
    /// fills those of the customers it predicted.
    pub(super) fn refresh_clv(&self, horizon_weeks: f64) -> Result<ClvOutcome> {
        let summaries = self.store.read(|tx| {
            tx.authorize(self.principal, Action::RefreshScores, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let currency = settings.base_currency();
            let zone = settings.time_zone();
            let today = zone.local_date(tx.now());
            purchase_days(tx, currency, &zone)?
                .into_iter()
                .map(|(customer, days)| Ok((customer, summarise(&days, today, currency)?)))
                .collect::<Result<Vec<_>>>()
        })?;
        let (outcome, rows) = match predict_all(&summaries, horizon_weeks) {
            Ok((model, rows)) => (
                ClvOutcome::Fitted {
                    model,
                    customers: rows.len(),
                },
                rows,
            ),
            Err(reason) => (ClvOutcome::NotFitted(reason), Vec::new()),
        };
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::RefreshScores, &Resource::Analytics)?;
            // Figures of an earlier fit would describe another shop: a refresh that cannot
            // fit leaves the columns empty rather than stale.
            tx.execute(
                "UPDATE shopkeep_customer_scores
                 SET p_alive = NULL, expected_purchases = NULL, expected_value = NULL",
                args![],
            )?;
            for row in &rows {
                tx.execute(
                    "UPDATE shopkeep_customer_scores
                     SET p_alive = ?2, expected_purchases = ?3, expected_value = ?4
                     WHERE customer_id = ?1",
                    args![
                        row.customer,
                        // The CHECK constraints want [0, 1] and >= 0: rounding can stray by
                        // an ulp.
                        row.probability_alive.clamp(0.0, 1.0),
                        row.expected_purchases.max(0.0),
                        row.expected_value
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok(outcome)
    }

    /// A page of the stored scores of the last
    /// [`refresh_scores`](Self::refresh_scores), by customer id after `after`, at most `limit`
    /// (1 to 1,000): each customer's RFM figures and, if that refresh could fit the CLV models,
    /// their CLV figures. Erased customers are left out. Needs [`Action::ReadRfm`].
    ///
    /// # Errors
    ///
    /// `Validation` (field `limit`) for 0 or more than 1,000; `Forbidden` without the action;
    /// `NotConfigured` if the shop has no settings.
    pub fn scores(&self, after: Option<CustomerId>, limit: usize) -> Result<ScorePage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(
                "limit",
                "a page holds 1 to 1,000 customers",
            ));
        }
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadRfm, &Resource::Analytics)?;
            let currency = settings(tx)?.base_currency();
            let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
            let rows = tx.query_map(
                "SELECT s.customer_id, s.first_order_at, s.last_order_at, s.recency_days,
                        s.frequency, s.monetary, s.r_score, s.f_score, s.m_score, s.segment,
                        s.country, s.p_alive, s.expected_purchases, s.expected_value,
                        s.refreshed_at
                     FROM shopkeep_customer_scores s
                     JOIN shopkeep_customers c ON c.id = s.customer_id AND c.erased_at IS NULL
                     WHERE s.customer_id > ?1
                     ORDER BY s.customer_id LIMIT ?2",
                args![crate::sql::After(after), fetch],
                |r| {
                    Ok((
                        (
                            r.get::<CustomerId>(0)?,
                            r.get::<Timestamp>(1)?,
                            r.get::<Timestamp>(2)?,
                            r.get::<u32>(3)?,
                            r.get::<u32>(4)?,
                            r.get::<i64>(5)?,
                        ),
                        [r.get::<u8>(6)?, r.get::<u8>(7)?, r.get::<u8>(8)?],
                        r.get::<String>(9)?,
                        r.get::<Option<String>>(10)?,
                        (
                            r.get::<Option<f64>>(11)?,
                            r.get::<Option<f64>>(12)?,
                            r.get::<Option<i64>>(13)?,
                        ),
                        r.get::<Timestamp>(14)?,
                    ))
                },
            )?;
            let mut scores = Vec::with_capacity(rows.len());
            for (figures, scores_rfm, segment, country, clv, refreshed_at) in rows {
                let (customer, first_order_at, last_order_at, recency_days, frequency, monetary) =
                    figures;
                let (probability_alive, expected_purchases, expected_value) = clv;
                scores.push(CustomerScore {
                    rfm: CustomerRfm {
                        customer,
                        first_order_at,
                        last_order_at,
                        recency_days,
                        frequency,
                        monetary: Money::new(monetary, currency),
                        scores: scores_rfm,
                        segment: Segment::parse(&segment)?,
                        country,
                    },
                    probability_alive,
                    expected_purchases,
                    expected_value: expected_value.map(|v| Money::new(v, currency)),
                    refreshed_at,
                });
            }
            let next = if scores.len() > limit {
                scores.truncate(limit);
                scores.last().map(CustomerScore::customer)
            } else {
                None
            };
            Ok(ScorePage { scores, next })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_summary_counts_later_purchase_days_in_weeks_from_the_first() {
        let days = [
            (date("2026-01-01"), 1000),
            (date("2026-01-08"), 2000),
            (date("2026-01-15"), 3001),
        ];
        let s = summarise(&days, date("2026-01-29"), Currency::EUR).unwrap();
        assert_eq!(s.frequency(), 2);
        assert!((s.recency() - 2.0).abs() < 1e-12);
        assert!((s.age() - 4.0).abs() < 1e-12);
        // (2000 + 3001) / 2 = 2500.5: half up.
        assert_eq!(s.mean_spend(), Money::new(2501, Currency::EUR));
        let once = summarise(&days[..1], date("2026-01-02"), Currency::EUR).unwrap();
        assert_eq!(
            (once.frequency(), once.recency(), once.mean_spend()),
            (0, 0.0, Money::zero(Currency::EUR))
        );
        assert!((once.age() - 1.0 / 7.0).abs() < 1e-12);
        assert!(summarise(&[], date("2026-01-02"), Currency::EUR).is_err());
    }
}
