//! Report models: sales, cohorts, product affinity, abandoned carts. Plain data with
//! renderers; the repository fills them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::invoices::Date;
use crate::money::{Money, TaxRate};
use crate::orders::CartId;

/// How a sales report groups orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SalesGrouping {
    /// By the order's calendar day in the shop's time zone (`2026-03-14`).
    Day,
    /// By ISO week in the shop's time zone, named by its Monday (`2026-03-09`).
    Week,
    /// By calendar month in the shop's time zone (`2026-03`).
    Month,
    /// By product, named by its SKU; an order counts once for each product it holds.
    Product,
    /// By coupon code (`-` for orders without one).
    Coupon,
    /// By attributed campaign (`-` for orders without one).
    Campaign,
}

/// What a sales report covers: orders placed from `from` to `to` (both included, dates in the
/// shop's time zone), grouped one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesQuery {
    pub(crate) from: Date,
    pub(crate) to: Date,
    pub(crate) grouping: SalesGrouping,
}

impl SalesQuery {
    /// Orders placed on the days `from` to `to`, both included, grouped by `grouping`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `to`) if `to` is before `from`, or the range is longer than ten
    /// years (a report holds one row per day at most).
    pub fn new(from: Date, to: Date, grouping: SalesGrouping) -> crate::Result<SalesQuery> {
        let days = (to.naive() - from.naive()).num_days();
        if days < 0 {
            return Err(crate::Error::validation(
                "to",
                "the range ends before it starts",
            ));
        }
        if days > 3660 {
            return Err(crate::Error::validation(
                "to",
                "a sales report covers at most ten years",
            ));
        }
        Ok(SalesQuery { from, to, grouping })
    }
}

/// One group of a sales report.
///
/// Orders count when paid and not cancelled. `revenue` is what they were sold for (gross,
/// VAT included), `refunds` what was paid back on them, `net_revenue` the difference; `vat`
/// is the VAT charged, by rate. For [`SalesGrouping::Product`], amounts are the product's line
/// amounts (line net plus the VAT of its rate, before order-level discounts and charges) and
/// refunds are not split by product (they are zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesRow {
    pub(crate) key: String,
    pub(crate) orders: u64,
    pub(crate) units: u64,
    pub(crate) revenue: Money,
    pub(crate) refunds: Money,
    pub(crate) vat: Vec<(TaxRate, Money)>,
}

impl SalesRow {
    /// The group: a date, week, month, SKU, coupon code or campaign.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// Orders counted.
    pub fn orders(&self) -> u64 {
        self.orders
    }
    /// Units sold.
    pub fn units(&self) -> u64 {
        self.units
    }
    /// Gross revenue (VAT included).
    pub fn revenue(&self) -> Money {
        self.revenue
    }
    /// Refunded (gross).
    pub fn refunds(&self) -> Money {
        self.refunds
    }
    /// Revenue minus refunds.
    pub fn net_revenue(&self) -> Money {
        Money::new(
            self.revenue.minor().saturating_sub(self.refunds.minor()),
            self.revenue.currency(),
        )
    }
    /// Average order value: revenue / orders, rounded half up to the minor unit (zero without
    /// orders).
    pub fn average_order_value(&self) -> Money {
        let orders = i128::from(self.orders);
        let total = i128::from(self.revenue.minor());
        let aov = if orders == 0 {
            0
        } else {
            (2 * total + orders).div_euclid(2 * orders)
        };
        Money::new(i64::try_from(aov).unwrap_or(0), self.revenue.currency())
    }
    /// VAT charged, per rate, lowest rate first.
    pub fn vat(&self) -> &[(TaxRate, Money)] {
        &self.vat
    }
}

/// A sales report. From [`MarketingRepo::sales`](crate::marketing::MarketingRepo::sales).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesReport {
    pub(crate) grouping: SalesGrouping,
    pub(crate) rows: Vec<SalesRow>,
}

impl SalesReport {
    /// How the rows are grouped.
    pub fn grouping(&self) -> SalesGrouping {
        self.grouping
    }
    /// The groups that had sales, by key.
    pub fn rows(&self) -> &[SalesRow] {
        &self.rows
    }
    /// The row of `key`, if it had sales.
    pub fn row(&self, key: &str) -> Option<&SalesRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

/// One cohort: the customers whose first counted order fell in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cohort {
    pub(crate) month: String,
    pub(crate) customers: u64,
    pub(crate) active: Vec<u64>,
    pub(crate) revenue: Vec<Money>,
}

impl Cohort {
    /// The first-purchase month, `YYYY-MM` in the shop's time zone.
    pub fn month(&self) -> &str {
        &self.month
    }
    /// How many customers it holds.
    pub fn customers(&self) -> u64 {
        self.customers
    }
    /// Customers with a counted order in month 0 (their first), 1, 2, … after it, up to the
    /// report's last month.
    pub fn active(&self) -> &[u64] {
        &self.active
    }
    /// Retention in month `k`: active customers as a share of the cohort, in percent, rounded
    /// to a whole percent (month 0 is always 100).
    pub fn retention_percent(&self, k: usize) -> Option<u64> {
        let active = *self.active.get(k)?;
        (self.customers > 0).then(|| (200 * active + self.customers) / (2 * self.customers))
    }
    /// Revenue (gross, net of refunds) of the cohort's customers in month 0, 1, 2, …
    pub fn revenue(&self) -> &[Money] {
        &self.revenue
    }
}

/// Retention and revenue by first-purchase month. From
/// [`MarketingRepo::cohorts`](crate::marketing::MarketingRepo::cohorts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortReport {
    pub(crate) cohorts: Vec<Cohort>,
}

impl CohortReport {
    /// The cohorts, oldest first.
    pub fn cohorts(&self) -> &[Cohort] {
        &self.cohorts
    }

    fn width(&self) -> usize {
        self.cohorts
            .iter()
            .map(|c| c.active.len())
            .max()
            .unwrap_or(0)
    }

    /// The retention matrix as a plain-text table: one row per cohort, one column per month
    /// since the first purchase, cells in percent.
    pub fn to_text(&self) -> String {
        let width = self.width();
        let mut out = String::from("cohort   size");
        for k in 0..width {
            let _ = write!(out, " {:>5}", format!("m{k}"));
        }
        out.push('\n');
        for c in &self.cohorts {
            let _ = write!(out, "{:<7} {:>5}", c.month, c.customers);
            for k in 0..c.active.len() {
                let pct = c.retention_percent(k).unwrap_or(0);
                let _ = write!(out, " {:>4}%", pct);
            }
            out.push('\n');
        }
        out
    }

    /// The retention matrix as an HTML `<table>` (no styles; cells carry the percentage in a
    /// `data-retention` attribute for the host's CSS).
    pub fn to_html(&self) -> String {
        let width = self.width();
        let mut out =
            String::from("<table class=\"cohorts\">\n<thead><tr><th>cohort</th><th>customers</th>");
        for k in 0..width {
            let _ = write!(out, "<th>month {k}</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for c in &self.cohorts {
            let _ = write!(out, "<tr><th>{}</th><td>{}</td>", c.month, c.customers);
            for k in 0..c.active.len() {
                let pct = c.retention_percent(k).unwrap_or(0);
                let _ = write!(out, "<td data-retention=\"{pct}\">{pct}%</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

impl CohortReport {
    /// The retention matrix as an SVG heat map: one row per cohort, one square per month,
    /// darker for higher retention, with the percentage written in each square. Self-contained
    /// (no scripts, no external fonts); the host embeds it in a page or an email.
    pub fn to_svg(&self) -> String {
        const CELL: usize = 36;
        const LABEL: usize = 64;
        let width = LABEL + CELL * self.width();
        let height = CELL * (self.cohorts.len() + 1);
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             font-family=\"sans-serif\" font-size=\"11\">\n"
        );
        for k in 0..self.width() {
            let x = LABEL + CELL * k + CELL / 2;
            let _ = writeln!(
                out,
                "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">m{k}</text>",
                CELL / 2
            );
        }
        for (row, c) in self.cohorts.iter().enumerate() {
            let y = CELL * (row + 1);
            let _ = writeln!(
                out,
                "<text x=\"0\" y=\"{}\">{}</text>",
                y + CELL / 2,
                c.month
            );
            for k in 0..c.active.len() {
                let pct = c.retention_percent(k).unwrap_or(0);
                let x = LABEL + CELL * k;
                let _ = writeln!(
                    out,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" \
                     fill=\"#1f6feb\" fill-opacity=\"{:.2}\"><title>{} month {k}: {pct}%</title></rect>\
                     <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{pct}</text>",
                    0.1 + 0.9 * (pct as f64) / 100.0,
                    c.month,
                    x + CELL / 2,
                    y + CELL / 2 + 4
                );
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

/// A pair of products bought in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct Affinity {
    pub(crate) product: String,
    pub(crate) other: String,
    pub(crate) together: u64,
    pub(crate) support: f64,
    pub(crate) confidence: f64,
    pub(crate) lift: f64,
}

impl Affinity {
    /// The product (its SKU) the pair is seen from.
    pub fn product(&self) -> &str {
        &self.product
    }
    /// The product bought with it (its SKU).
    pub fn other(&self) -> &str {
        &self.other
    }
    /// Orders holding both.
    pub fn together(&self) -> u64 {
        self.together
    }
    /// Support: orders holding both / all orders of the window.
    pub fn support(&self) -> f64 {
        self.support
    }
    /// Confidence: orders holding both / orders holding `product`.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }
    /// Lift: confidence / (orders holding `other` / all orders). Above 1, buying one makes the
    /// other more likely.
    pub fn lift(&self) -> f64 {
        self.lift
    }
}

/// A cart with items that its customer left untouched and did not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonedCart {
    pub(crate) cart: CartId,
    pub(crate) customer: CustomerId,
    pub(crate) updated_at: Timestamp,
    pub(crate) items: u64,
    pub(crate) value: Money,
}

impl AbandonedCart {
    /// The cart.
    pub fn cart(&self) -> CartId {
        self.cart
    }
    /// Its customer.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// When it was last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// Units in it.
    pub fn items(&self) -> u64 {
        self.items
    }
    /// Its value at today's prices in the shop's base currency (lines without a price in it
    /// count as zero).
    pub fn value(&self) -> Money {
        self.value
    }
}

/// A page of abandoned carts, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonedCartPage {
    pub(crate) carts: Vec<AbandonedCart>,
    pub(crate) next: Option<CartId>,
}

impl AbandonedCartPage {
    /// The carts, by cart id.
    pub fn carts(&self) -> &[AbandonedCart] {
        &self.carts
    }
    /// Pass this as `after` for the next page; `None` on the last page.
    pub fn next(&self) -> Option<CartId> {
        self.next
    }
}
