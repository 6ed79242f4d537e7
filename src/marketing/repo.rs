//! The marketing repository's SQL: facts read in one snapshot per report, stored scores,
//! audiences, attribution rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{Datelike, NaiveDate};

use super::attribution::Attribution;
use super::audience::{AudiencePage, AudienceQuery};
use super::facts::{each_counted_order, erased_customers, refund_totals};
use super::report::{
    AbandonedCart, AbandonedCartPage, Affinity, Cohort, CohortReport, SalesGrouping, SalesQuery,
    SalesReport, SalesRow,
};
use super::rfm::{CustomerRfm, RfmReport, Segment, quintile_scores};
use super::scores::{ScoreRefresh, check_horizon};
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::catalog::{ShopSettings, TimeZone, current_settings};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::invoices::Date;
use crate::money::{Currency, Money, TaxRate};
use crate::orders::{CartId, OrderId};
use crate::sql::{Param, args};
use crate::store::{Store, Tx};

/// The largest page of an audience or of abandoned carts.
const MAX_PAGE: usize = 1000;
/// The most pairs per product an affinity report returns.
const MAX_TOP: usize = 100;

/// Marketing analytics, for one acting principal. From [`Store::marketing`].
///
/// Every report needs its own [`Action`] (the `marketing` role and the owner have them all;
/// customers none), reads in one snapshot on the reader pool (so a report never blocks a
/// checkout), and works in the shop's base currency and time zone: orders in other currencies
/// are left out, as no exchange rate is stored. `docs/marketing.md` has each metric's formula.
#[derive(Debug)]
pub struct MarketingRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// Marketing analytics, for `principal`.
    pub fn marketing<'s>(&'s self, principal: &'s Principal) -> MarketingRepo<'s> {
        MarketingRepo {
            store: self,
            principal,
        }
    }
}

/// One paid, not cancelled order in the shop's base currency: the facts the sales and affinity
/// reports read.
#[derive(Debug, Clone)]
pub(super) struct OrderFact {
    id: OrderId,
    pub(super) customer: CustomerId,
    pub(super) placed_at: Timestamp,
    gross: i64,
    refunded: i64,
    coupon: Option<String>,
    campaign: Option<String>,
}

fn no_settings() -> Error {
    Error::new(
        ErrorKind::NotConfigured,
        "the shop has no settings yet: its currency and time zone are unknown",
    )
}

pub(super) fn settings(tx: &Tx<'_>) -> Result<ShopSettings> {
    current_settings(tx)?.ok_or_else(no_settings)
}

/// Midnight UTC of `date`.
fn midnight(date: NaiveDate) -> Result<Timestamp> {
    Timestamp::from_unix_millis(
        date.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis(),
    )
}

/// Paid, not cancelled orders in `currency`, oldest first; placed in `[from, until)` if given.
/// Cancelled orders are out even if they were paid first (their payment was returned).
pub(super) fn order_facts(
    tx: &Tx<'_>,
    currency: Currency,
    range: Option<(Timestamp, Timestamp)>,
    only_active_customers: bool,
) -> Result<Vec<OrderFact>> {
    // Stored times are fixed-width RFC 3339 text, so they compare as text; without a range,
    // bounds below and above every stored time keep the condition a range on the index.
    let (from, until) = match range {
        Some((from, until)) => (from.to_rfc3339(), until.to_rfc3339()),
        None => (String::new(), "A".to_owned()),
    };
    // Refunds and erasures are few beside the orders: read each once into memory (in the same
    // snapshot) rather than probing their tables once per order, which over a million orders
    // costs more than the scan itself. "Paid" is the status alone (see `facts`).
    let refunded = refund_totals(tx)?;
    let erased = if only_active_customers {
        erased_customers(tx)?
    } else {
        HashSet::new()
    };
    let mut facts = Vec::new();
    // INDEXED BY as in `facts.rs`; PostgreSQL has no hints, and its planner has statistics.
    tx.query_each(
        tx.dialect(
            "SELECT o.id, o.customer_id, o.placed_at, o.gross_total, o.coupon_code,
                a.campaign
         FROM shopkeep_orders o INDEXED BY shopkeep_orders_for_reports
         LEFT JOIN shopkeep_order_attribution a ON a.order_id = o.id
         WHERE o.currency = ?1 AND o.status IN ('paid', 'shipped', 'completed')
           AND o.placed_at >= ?2 AND o.placed_at < ?3
         ORDER BY o.placed_at, o.id",
            "SELECT o.id, o.customer_id, o.placed_at, o.gross_total, o.coupon_code,
                a.campaign
         FROM shopkeep_orders o
         LEFT JOIN shopkeep_order_attribution a ON a.order_id = o.id
         WHERE o.currency = ?1 AND o.status IN ('paid', 'shipped', 'completed')
           AND o.placed_at >= ?2 AND o.placed_at < ?3
         ORDER BY o.placed_at, o.id",
        ),
        args![currency.code(), from, until],
        |r| {
            let id: OrderId = r.get(0)?;
            let fact = OrderFact {
                id,
                customer: r.get(1)?,
                placed_at: r.get(2)?,
                gross: r.get(3)?,
                refunded: refunded.get(&id).copied().unwrap_or(0),
                coupon: r.get(4)?,
                campaign: r.get(5)?,
            };
            if !erased.contains(&fact.customer) {
                facts.push(fact);
            }
            Ok(())
        },
    )?;
    Ok(facts)
}

/// The RFM figures of every customer with a counted order (one whose refunds left something
/// of it), as of `now`.
fn compute_rfm(tx: &Tx<'_>, settings: &ShopSettings, now: Timestamp) -> Result<Vec<CustomerRfm>> {
    let currency = settings.base_currency();
    let zone = settings.time_zone();
    let today = zone.local_date(now);
    // One running total per customer; orders come oldest first, so the last one seen is the
    // latest. The latest time and country are copied into buffers the customer keeps.
    struct Running {
        first_order_at: Timestamp,
        last_order_at: String,
        last_date: NaiveDate,
        frequency: u32,
        monetary: i64,
        country: String,
    }
    let mut per_customer: HashMap<CustomerId, Running> = HashMap::new();
    each_counted_order(tx, currency, &zone, true, |order| {
        match per_customer.get_mut(&order.customer) {
            Some(running) => {
                running.last_order_at.clear();
                running.last_order_at.push_str(order.placed_at);
                running.last_date = order.date;
                running.frequency = running.frequency.saturating_add(1);
                running.monetary = running.monetary.checked_add(order.kept).ok_or_else(|| {
                    Error::new(ErrorKind::Overflow, "a customer's spend overflows")
                })?;
                running.country.clear();
                running.country.push_str(order.destination);
            }
            None => {
                per_customer.insert(
                    order.customer,
                    Running {
                        first_order_at: Timestamp::parse_rfc3339(order.placed_at)?,
                        last_order_at: order.placed_at.to_owned(),
                        last_date: order.date,
                        frequency: 1,
                        monetary: order.kept,
                        country: order.destination.to_owned(),
                    },
                );
            }
        }
        Ok(())
    })?;
    let mut per_customer: Vec<(CustomerId, Running)> = per_customer.into_iter().collect();
    per_customer.sort_unstable_by_key(|(customer, _)| *customer);
    let mut rows = Vec::with_capacity(per_customer.len());
    for (customer, running) in per_customer {
        let days = (today - running.last_date).num_days().max(0);
        rows.push(CustomerRfm {
            customer,
            first_order_at: running.first_order_at,
            last_order_at: Timestamp::parse_rfc3339(&running.last_order_at)?,
            recency_days: u32::try_from(days).unwrap_or(u32::MAX),
            frequency: running.frequency,
            monetary: Money::new(running.monetary, currency),
            scores: [1, 1, 1],
            segment: Segment::Lost,
            country: Some(running.country),
        });
    }
    // Recency scores higher for fewer days: score the negated day counts.
    let r = quintile_scores(
        &rows
            .iter()
            .map(|c| -i64::from(c.recency_days))
            .collect::<Vec<_>>(),
    );
    let f = quintile_scores(
        &rows
            .iter()
            .map(|c| i64::from(c.frequency))
            .collect::<Vec<_>>(),
    );
    let m = quintile_scores(&rows.iter().map(|c| c.monetary.minor()).collect::<Vec<_>>());
    for (i, row) in rows.iter_mut().enumerate() {
        let scores = [
            r.get(i).copied().unwrap_or(1),
            f.get(i).copied().unwrap_or(1),
            m.get(i).copied().unwrap_or(1),
        ];
        row.scores = scores;
        row.segment = Segment::of(scores[0], scores[1], scores[2]);
    }
    Ok(rows)
}

/// Months since the year 0 of a date's month: consecutive months are consecutive numbers.
fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// `YYYY-MM` of a [`month_index`].
fn month_label(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

fn overflow() -> Error {
    Error::new(ErrorKind::Overflow, "a report total overflows")
}

fn add(total: &mut i64, amount: i64) -> Result<()> {
    *total = total.checked_add(amount).ok_or_else(overflow)?;
    Ok(())
}

impl MarketingRepo<'_> {
    /// Recency, frequency and monetary value of every customer with a counted order, scored
    /// 1–5 by quintiles, with their segment. Needs [`Action::ReadRfm`].
    ///
    /// An order counts when it is paid, not cancelled, in the shop's base currency, and not
    /// wholly refunded; its value is its gross total less refunds. Erased customers are left
    /// out. Recency is in whole days in the shop's time zone.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action; `NotConfigured` if the shop has no settings;
    /// `Overflow` if a customer's spend does not fit.
    pub fn rfm(&self) -> Result<RfmReport> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadRfm, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let now = tx.now();
            Ok(RfmReport {
                as_of: now,
                customers: compute_rfm(tx, &settings, now)?,
            })
        })
    }

    /// Recomputes the stored scores that audiences filter on, with CLV predictions over the
    /// next [`DEFAULT_CLV_HORIZON_DAYS`](super::DEFAULT_CLV_HORIZON_DAYS) (a year): as
    /// [`refresh_scores_over`](Self::refresh_scores_over).
    ///
    /// # Errors
    ///
    /// As [`refresh_scores_over`](Self::refresh_scores_over).
    pub fn refresh_scores(&self) -> Result<ScoreRefresh> {
        self.refresh_scores_over(super::DEFAULT_CLV_HORIZON_DAYS)
    }

    /// Recomputes the stored scores that audiences filter on. Needs
    /// [`Action::RefreshScores`]; a maintenance job runs it (nightly, say).
    ///
    /// First the RFM part: every customer's RFM figures, scores, segment and shipping
    /// country, as [`rfm`](Self::rfm) computes them; customers without a counted order any
    /// more lose their row. Then the CLV part: BG/NBD and Gamma-Gamma are fitted to every
    /// scored customer's purchase days (`docs/clv.md`), and each row gets the probability that
    /// the customer is alive, the purchases to expect over the next `horizon_days` and the
    /// value to expect over them (undiscounted, base currency). When the models cannot be
    /// fitted (too few customers or repeat buyers, no maximum of the likelihood) the RFM part
    /// stands, every CLV column is NULL, and [`ScoreRefresh::clv`] says why.
    ///
    /// Figures are computed on read snapshots and written in short write transactions (one
    /// per part), so checkouts wait only for the writing; the fit runs outside any
    /// transaction.
    ///
    /// # Errors
    ///
    /// `Validation` (field `horizon`) for a horizon of 0 or more than
    /// [`MAX_CLV_HORIZON_DAYS`](super::MAX_CLV_HORIZON_DAYS), before anything is read; else as
    /// [`rfm`](Self::rfm).
    pub fn refresh_scores_over(&self, horizon_days: u32) -> Result<ScoreRefresh> {
        let horizon_weeks = check_horizon(horizon_days)?;
        let scored = self.refresh_rfm()?;
        let clv = self.refresh_clv(horizon_weeks)?;
        Ok(ScoreRefresh {
            scored,
            horizon_days,
            clv,
        })
    }

    /// The RFM part of a refresh: writes every scored customer's RFM row, keeping the CLV
    /// columns for the CLV part. Returns how many customers are scored.
    fn refresh_rfm(&self) -> Result<usize> {
        // Computed on a reader snapshot, so that checkouts wait only for the writes below.
        let (rows, now) = self.store.read(|tx| {
            tx.authorize(self.principal, Action::RefreshScores, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let now = tx.now();
            Ok((compute_rfm(tx, &settings, now)?, now))
        })?;
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::RefreshScores, &Resource::Analytics)?;
            tx.execute(
                tx.dialect(
                    "CREATE TEMP TABLE IF NOT EXISTS shopkeep_scored (id BLOB PRIMARY KEY)",
                    "CREATE TEMP TABLE IF NOT EXISTS shopkeep_scored (id bytea PRIMARY KEY)",
                ),
                args![],
            )?;
            tx.execute("DELETE FROM shopkeep_scored", args![])?;
            for row in &rows {
                tx.execute(
                    "INSERT INTO shopkeep_scored (id) VALUES (?1)",
                    args![row.customer],
                )?;
                let [r_score, f_score, m_score] = row.scores;
                tx.execute(
                "INSERT INTO shopkeep_customer_scores (customer_id, first_order_at, last_order_at,
                     recency_days, frequency, monetary, r_score, f_score, m_score, segment, country,
                     refreshed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (customer_id) DO UPDATE SET first_order_at = excluded.first_order_at,
                     last_order_at = excluded.last_order_at, recency_days = excluded.recency_days,
                     frequency = excluded.frequency, monetary = excluded.monetary,
                     r_score = excluded.r_score, f_score = excluded.f_score,
                     m_score = excluded.m_score, segment = excluded.segment,
                     country = excluded.country, refreshed_at = excluded.refreshed_at",
                    args![
                        row.customer,
                        row.first_order_at,
                        row.last_order_at,
                        row.recency_days,
                        row.frequency,
                        row.monetary.minor(),
                        r_score,
                        f_score,
                        m_score,
                        row.segment.as_str(),
                        row.country,
                        now
                    ],
                )?;
            }
            tx.execute(
                "DELETE FROM shopkeep_customer_scores
                 WHERE customer_id NOT IN (SELECT id FROM shopkeep_scored)",
                args![],
            )?;
            tx.execute("DELETE FROM shopkeep_scored", args![])?;
            tx.audit(self.principal, Action::RefreshScores, &Resource::Analytics)?;
            Ok(rows.len())
        })
    }

    /// Sales figures of the orders placed in the query's date range, grouped as it says.
    /// Needs [`Action::ReadSales`]. See [`SalesRow`] for what each figure counts.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action; `NotConfigured` if the shop has no settings;
    /// `Overflow` if a total does not fit.
    pub fn sales(&self, query: &SalesQuery) -> Result<SalesReport> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadSales, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let currency = settings.base_currency();
            let zone = settings.time_zone();
            let (from, to) = (query.from.naive(), query.to.naive());
            // Time zones are within a day of UTC: read a day more on each side, then keep the
            // orders whose local date is in the range.
            let range = (
                midnight(from - chrono::Days::new(1))?,
                midnight(to + chrono::Days::new(2))?,
            );
            let facts: Vec<OrderFact> = order_facts(tx, currency, Some(range), false)?
                .into_iter()
                .filter(|f| (from..=to).contains(&zone.local_date(f.placed_at)))
                .collect();
            let rows = match query.grouping {
                SalesGrouping::Product => sales_by_product(tx, &facts, currency)?,
                grouping => sales_by_order(tx, &facts, currency, &zone, grouping)?,
            };
            Ok(SalesReport {
                grouping: query.grouping,
                rows,
            })
        })
    }

    /// Retention and revenue by first-purchase month, over the whole history: each customer
    /// belongs to the month (shop time zone) of their first counted order; month `k` of a
    /// cohort counts its customers with a counted order `k` months later, and their revenue.
    /// Needs [`Action::ReadCohorts`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action; `NotConfigured` if the shop has no settings;
    /// `Overflow` if a total does not fit.
    pub fn cohorts(&self) -> Result<CohortReport> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadCohorts, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let currency = settings.base_currency();
            let zone = settings.time_zone();
            let this_month = month_index(zone.local_date(tx.now()));
            // Per customer: their cohort (month index) and the month offsets they were active
            // in so far, in order. Orders come oldest first, so an offset is new exactly when
            // it is past the last one; local dates can step back an hour's worth where a zone
            // falls back across midnight, so an earlier offset is looked up before it counts.
            let mut customers: HashMap<CustomerId, (i64, Vec<i64>)> = HashMap::new();
            // (cohort, offset) -> (active customers, revenue); cohort -> size.
            let mut cells: HashMap<(i64, i64), (u64, i64)> = HashMap::new();
            let mut sizes: BTreeMap<i64, u64> = BTreeMap::new();
            each_counted_order(tx, currency, &zone, false, |order| {
                let month = month_index(order.date);
                let (cohort, seen) = customers.entry(order.customer).or_insert_with(|| {
                    *sizes.entry(month).or_default() += 1;
                    (month, Vec::new())
                });
                let k = month - *cohort;
                let new = match seen.last() {
                    Some(&last) if k == last => false,
                    Some(&last) if k < last => match seen.binary_search(&k) {
                        Ok(_) => false,
                        Err(at) => {
                            seen.insert(at, k);
                            true
                        }
                    },
                    _ => {
                        seen.push(k);
                        true
                    }
                };
                let cell = cells.entry((*cohort, k)).or_default();
                if new {
                    cell.0 += 1;
                }
                add(&mut cell.1, order.kept)
            })?;
            let cohorts = sizes
                .into_iter()
                .map(|(cohort, customers)| {
                    let width = (this_month - cohort).max(0) + 1;
                    let (active, revenue) = (0..width)
                        .map(|k| {
                            let cell = cells.get(&(cohort, k));
                            (
                                cell.map_or(0, |c| c.0),
                                Money::new(cell.map_or(0, |c| c.1), currency),
                            )
                        })
                        .unzip();
                    Cohort {
                        month: month_label(cohort),
                        customers,
                        active,
                        revenue,
                    }
                })
                .collect();
            Ok(CohortReport { cohorts })
        })
    }

    /// Products bought together in the orders placed from `from` to `to` (shop dates, both
    /// included): for each product, up to `top` others with their support, confidence and
    /// lift, highest lift first (then most orders together, then SKU). Products are named by
    /// SKU. Needs [`Action::ReadAffinity`].
    ///
    /// # Errors
    ///
    /// `Validation` (field `top`) for 0 or more than 100; `Validation` (field `to`) for a
    /// range that ends before it starts; `Forbidden` without the action; `NotConfigured` if the
    /// shop has no settings.
    pub fn affinity(&self, from: Date, to: Date, top: usize) -> Result<Vec<Affinity>> {
        if !(1..=MAX_TOP).contains(&top) {
            return Err(Error::validation(
                "top",
                "top is 1 to 100 pairs per product",
            ));
        }
        let (from, to) = (from.naive(), to.naive());
        if to < from {
            return Err(Error::validation("to", "the range ends before it starts"));
        }
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadAffinity, &Resource::Analytics)?;
            let settings = settings(tx)?;
            let zone = settings.time_zone();
            let range = (
                midnight(from - chrono::Days::new(1))?,
                midnight(to + chrono::Days::new(2))?,
            );
            let facts = order_facts(tx, settings.base_currency(), Some(range), false)?;
            let mut orders = 0u64;
            let mut single: HashMap<String, u64> = HashMap::new();
            let mut pairs: HashMap<(String, String), u64> = HashMap::new();
            for fact in facts {
                if !(from..=to).contains(&zone.local_date(fact.placed_at)) {
                    continue;
                }
                let mut skus: BTreeSet<String> = BTreeSet::new();
                tx.query_each(
                    "SELECT DISTINCT sku FROM shopkeep_order_lines WHERE order_id = ?1",
                    args![fact.id],
                    |r| {
                        skus.insert(r.get(0)?);
                        Ok(())
                    },
                )?;
                orders += 1;
                for a in &skus {
                    *single.entry(a.clone()).or_default() += 1;
                    for b in &skus {
                        if a != b {
                            *pairs.entry((a.clone(), b.clone())).or_default() += 1;
                        }
                    }
                }
            }
            Ok(top_pairs(orders, &single, pairs, top))
        })
    }

    /// Carts with items, owned by a customer who is not erased, untouched for at least `idle`
    /// and not checked out (checkout empties a cart), by cart id after `after`, at most `limit`
    /// (1 to 1,000). Anonymous carts are not listed: nobody could be reminded of them. Needs
    /// [`Action::ReadAbandonedCarts`].
    ///
    /// # Errors
    ///
    /// `Validation` (field `limit`) for 0 or more than 1,000; `Forbidden` without the action;
    /// `NotConfigured` if the shop has no settings; `Overflow` for a cart value that does not
    /// fit.
    pub fn abandoned_carts(
        &self,
        idle: Duration,
        after: Option<CartId>,
        limit: usize,
    ) -> Result<AbandonedCartPage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation("limit", "a page holds 1 to 1,000 carts"));
        }
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ReadAbandonedCarts,
                &Resource::Analytics,
            )?;
            let settings = settings(tx)?;
            let currency = settings.base_currency();
            let cutoff = tx.now().checked_sub(idle)?;
            let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
            let mut carts = tx.query_map(
                "SELECT c.id, c.customer_id, c.updated_at, sum(l.quantity),
                        sum(l.quantity * coalesce(p.amount, 0))
                 FROM shopkeep_carts c
                 JOIN shopkeep_cart_lines l ON l.cart_id = c.id
                 JOIN shopkeep_customers cu ON cu.id = c.customer_id AND cu.erased_at IS NULL
                 LEFT JOIN shopkeep_prices p ON p.variant_id = l.variant_id AND p.currency = ?1
                 WHERE c.updated_at <= ?2 AND c.id > ?3
                 GROUP BY c.id ORDER BY c.id LIMIT ?4",
                args![currency.code(), cutoff, crate::sql::After(after), fetch],
                |r| {
                    Ok(AbandonedCart {
                        cart: r.get(0)?,
                        customer: r.get(1)?,
                        updated_at: r.get(2)?,
                        items: r.get::<i64>(3)?.try_into().unwrap_or(0),
                        value: Money::new(r.get(4)?, currency),
                    })
                },
            )?;
            let next = if carts.len() > limit {
                carts.truncate(limit);
                carts.last().map(|c| c.cart)
            } else {
                None
            };
            Ok(AbandonedCartPage { carts, next })
        })
    }

    /// The customers of an audience, by customer id after `after`, at most `limit` (1 to
    /// 1,000). Filters read the stored scores ([`refresh_scores`](Self::refresh_scores)) and
    /// their indexes; the consent filter reads the consent ledger. Erased customers are never
    /// in an audience. Needs [`Action::QueryAudience`].
    ///
    /// # Errors
    ///
    /// `Validation` for an empty range in the query, a probability outside 0 to 1, a spend or
    /// expected value in another currency than the shop's (field `min_spend`), or a `limit`
    /// of 0 or more than 1,000; `Forbidden` without
    /// the action; `NotConfigured` if the shop has no settings.
    pub fn audience(
        &self,
        query: &AudienceQuery,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<AudiencePage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(
                "limit",
                "a page holds 1 to 1,000 customers",
            ));
        }
        query.check()?;
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::QueryAudience, &Resource::Analytics)?;
            audience_in(tx, query, after, limit)
        })
    }
}

/// A page of an audience inside the caller's authorised transaction (the campaign scheduler
/// reads its audience here). `query` was checked by [`AudienceQuery::check`].
pub(crate) fn audience_in(
    tx: &Tx<'_>,
    query: &AudienceQuery,
    after: Option<CustomerId>,
    limit: usize,
) -> Result<AudiencePage> {
    let currency = settings(tx)?.base_currency();
    let spends = [query.min_spend, query.max_spend, query.min_expected_value];
    for spend in spends.into_iter().flatten() {
        if spend.currency() != currency {
            return Err(Error::validation(
                "min_spend",
                format!("spend is in the shop's currency, {}", currency.code()),
            ));
        }
    }
    audience_page(tx, query, currency, after, limit)
}

/// Sales grouped by the order's date, coupon or campaign.
fn sales_by_order(
    tx: &Tx<'_>,
    facts: &[OrderFact],
    currency: Currency,
    zone: &TimeZone,
    grouping: SalesGrouping,
) -> Result<Vec<SalesRow>> {
    let mut groups: BTreeMap<String, Totals> = BTreeMap::new();
    for fact in facts {
        let date = zone.local_date(fact.placed_at);
        let key = match grouping {
            SalesGrouping::Day => date.to_string(),
            SalesGrouping::Week => {
                let monday =
                    date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()));
                monday.to_string()
            }
            SalesGrouping::Month => month_label(month_index(date)),
            SalesGrouping::Coupon => fact.coupon.clone().unwrap_or_else(|| "-".to_owned()),
            SalesGrouping::Campaign | SalesGrouping::Product => {
                fact.campaign.clone().unwrap_or_else(|| "-".to_owned())
            }
        };
        let totals = groups.entry(key).or_default();
        totals.orders += 1;
        let units: i64 = tx.query_row(
            "SELECT coalesce(sum(quantity), 0) FROM shopkeep_order_lines WHERE order_id = ?1",
            args![fact.id],
            |r| r.get(0),
        )?;
        totals.units = totals
            .units
            .saturating_add(u64::try_from(units).unwrap_or(0));
        add(&mut totals.revenue, fact.gross)?;
        add(&mut totals.refunds, fact.refunded)?;
        let vat = tx.query_map(
            "SELECT vat_rate_bp, tax FROM shopkeep_order_vat WHERE order_id = ?1",
            args![fact.id],
            |r| Ok((r.get::<u32>(0)?, r.get::<i64>(1)?)),
        )?;
        for (bp, tax) in vat {
            add(totals.vat.entry(bp).or_default(), tax)?;
        }
    }
    groups
        .into_iter()
        .map(|(key, t)| t.into_row(key, currency))
        .collect()
}

/// Sales grouped by product (SKU): the lines of the counted orders.
fn sales_by_product(tx: &Tx<'_>, facts: &[OrderFact], currency: Currency) -> Result<Vec<SalesRow>> {
    let mut groups: BTreeMap<String, Totals> = BTreeMap::new();
    for fact in facts {
        let lines = tx.query_map(
            "SELECT sku, quantity, line_net, vat_rate_bp FROM shopkeep_order_lines WHERE order_id = ?1",
            args![fact.id],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<u32>(3)?,
                ))
            },
        )?;
        let mut seen = BTreeSet::new();
        for (sku, quantity, net, bp) in lines {
            let totals = groups.entry(sku.clone()).or_default();
            if seen.insert(sku) {
                totals.orders += 1;
            }
            totals.units = totals
                .units
                .saturating_add(u64::try_from(quantity).unwrap_or(0));
            let rate = TaxRate::from_basis_points(bp)?;
            let tax = rate
                .tax_on(Money::new(net, currency), crate::money::Rounding::HalfUp)?
                .minor();
            add(&mut totals.revenue, net)?;
            add(&mut totals.revenue, tax)?;
            add(totals.vat.entry(bp).or_default(), tax)?;
        }
    }
    groups
        .into_iter()
        .map(|(key, t)| t.into_row(key, currency))
        .collect()
}

/// Running totals of one sales group.
#[derive(Debug, Default)]
struct Totals {
    orders: u64,
    units: u64,
    revenue: i64,
    refunds: i64,
    vat: BTreeMap<u32, i64>,
}

impl Totals {
    fn into_row(self, key: String, currency: Currency) -> Result<SalesRow> {
        let vat = self
            .vat
            .into_iter()
            .map(|(bp, tax)| Ok((TaxRate::from_basis_points(bp)?, Money::new(tax, currency))))
            .collect::<Result<Vec<_>>>()?;
        Ok(SalesRow {
            key,
            orders: self.orders,
            units: self.units,
            revenue: Money::new(self.revenue, currency),
            refunds: Money::new(self.refunds, currency),
            vat,
        })
    }
}

/// The top `top` pairs of each product by lift, from order counts.
fn top_pairs(
    orders: u64,
    single: &HashMap<String, u64>,
    pairs: HashMap<(String, String), u64>,
    top: usize,
) -> Vec<Affinity> {
    let n = orders as f64;
    let mut by_product: BTreeMap<String, Vec<Affinity>> = BTreeMap::new();
    for ((a, b), together) in pairs {
        let (Some(&count_a), Some(&count_b)) = (single.get(&a), single.get(&b)) else {
            continue;
        };
        let support = together as f64 / n;
        let confidence = together as f64 / count_a as f64;
        let lift = confidence / (count_b as f64 / n);
        by_product.entry(a.clone()).or_default().push(Affinity {
            product: a,
            other: b,
            together,
            support,
            confidence,
            lift,
        });
    }
    let mut out = Vec::new();
    for (_, mut list) in by_product {
        list.sort_by(|x, y| {
            y.lift
                .total_cmp(&x.lift)
                .then(y.together.cmp(&x.together))
                .then(x.other.cmp(&y.other))
        });
        list.truncate(top);
        out.extend(list);
    }
    out
}

/// One page of an audience: candidates from the scores table in id order, filtered by
/// consent, until the page is full or the candidates run out.
fn audience_page(
    tx: &Tx<'_>,
    query: &AudienceQuery,
    currency: Currency,
    after: Option<CustomerId>,
    limit: usize,
) -> Result<AudiencePage> {
    let mut sql = String::from(
        "SELECT s.customer_id FROM shopkeep_customer_scores s
         JOIN shopkeep_customers c ON c.id = s.customer_id AND c.erased_at IS NULL
         WHERE s.customer_id > ?1",
    );
    // Owned: each is bound again for every batch of candidates.
    let mut params: Vec<Box<dyn Param>> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: Box<dyn Param>| {
        params.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", params.len() + 1)));
    };
    if !query.segments.is_empty() {
        let names: Vec<String> = query
            .segments
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        // Segment names are our own constants, never input.
        sql.push_str(&format!(" AND s.segment IN ({})", names.join(", ")));
    }
    if let Some(min) = query.min_spend {
        bind(&mut sql, " AND s.monetary >= ?", Box::new(min.minor()));
    }
    if let Some(max) = query.max_spend {
        bind(&mut sql, " AND s.monetary <= ?", Box::new(max.minor()));
    }
    if let Some(min) = query.min_expected_value {
        bind(
            &mut sql,
            " AND s.expected_value >= ?",
            Box::new(min.minor()),
        );
    }
    if let Some(p) = query.min_probability_alive {
        bind(&mut sql, " AND s.p_alive >= ?", Box::new(p));
    }
    if let Some(p) = query.max_probability_alive {
        bind(&mut sql, " AND s.p_alive <= ?", Box::new(p));
    }
    if let Some(n) = query.min_orders {
        bind(&mut sql, " AND s.frequency >= ?", Box::new(i64::from(n)));
    }
    if let Some(n) = query.max_orders {
        bind(&mut sql, " AND s.frequency <= ?", Box::new(i64::from(n)));
    }
    if let Some(at) = query.last_order_before {
        bind(
            &mut sql,
            " AND s.last_order_at < ?",
            Box::new(at.to_rfc3339()),
        );
    }
    if let Some(at) = query.last_order_after {
        bind(
            &mut sql,
            " AND s.last_order_at >= ?",
            Box::new(at.to_rfc3339()),
        );
    }
    if let Some(country) = query.country {
        bind(
            &mut sql,
            " AND s.country = ?",
            Box::new(country.as_str().to_owned()),
        );
    }
    if let Some(sku) = &query.bought {
        // A counted order: in the base currency, like every other figure of the scores.
        bind(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM shopkeep_orders o
                 JOIN shopkeep_order_payments p ON p.order_id = o.id
                 JOIN shopkeep_order_lines l ON l.order_id = o.id
                 WHERE o.customer_id = s.customer_id AND o.currency = ?",
            Box::new(currency.code().to_owned()),
        );
        // SKUs compare without case: NOCASE on SQLite, the ICU collation on PostgreSQL.
        let clause = tx.dialect(
            " AND o.status IN ('paid', 'shipped', 'completed') AND l.sku = ? COLLATE NOCASE
                   AND o.gross_total > coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                                                 WHERE r.order_id = o.id), 0))",
            " AND o.status IN ('paid', 'shipped', 'completed') AND l.sku = ? COLLATE shopkeep_nocase
                   AND o.gross_total > coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                                                 WHERE r.order_id = o.id), 0))",
        );
        bind(&mut sql, clause, Box::new(sku.as_str().to_owned()));
    }
    // One candidate more than a page tells whether the candidates run out. Bound, not written
    // into the text: statements are cached per text, so one text serves every page size.
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    bind(&mut sql, " ORDER BY s.customer_id LIMIT ?", Box::new(fetch));
    let mut customers = Vec::new();
    let mut cursor = crate::sql::After(after);
    loop {
        let mut values: Vec<&dyn Param> = Vec::with_capacity(params.len() + 1);
        values.push(&cursor);
        values.extend(params.iter().map(|value| &**value));
        let batch: Vec<CustomerId> = tx.query_map(&sql, &values, |r| r.get(0))?;
        let exhausted = batch.len() <= limit;
        for id in batch {
            cursor = crate::sql::After(Some(id));
            let keep = match query.consent {
                Some((channel, status)) => {
                    crate::customers::consent_status(tx, id, channel)? == status
                }
                None => true,
            };
            if keep {
                if customers.len() == limit {
                    // One more match exists: this page is full and has a successor.
                    return Ok(AudiencePage {
                        next: customers.last().copied(),
                        customers,
                    });
                }
                customers.push(id);
            }
        }
        if exhausted {
            return Ok(AudiencePage {
                customers,
                next: None,
            });
        }
    }
}

/// Stores the attribution of a new order, inside checkout's transaction.
pub(crate) fn record_attribution(
    tx: &Tx<'_>,
    order: OrderId,
    attribution: &Attribution,
) -> Result<()> {
    let [source, medium, campaign, term, content, message_id] = attribution.parts();
    tx.execute(
        "INSERT INTO shopkeep_order_attribution (order_id, source, medium, campaign, term,
         content, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![order, source, medium, campaign, term, content, message_id],
    )?;
    Ok(())
}

/// The attribution of order `order`, if it has one.
pub(crate) fn load_attribution(tx: &Tx<'_>, order: OrderId) -> Result<Option<Attribution>> {
    tx.query_opt(
        "SELECT source, medium, campaign, term, content, message_id
             FROM shopkeep_order_attribution WHERE order_id = ?1",
        args![order],
        |r| {
            Ok(Attribution::from_parts([
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ]))
        },
    )
}
