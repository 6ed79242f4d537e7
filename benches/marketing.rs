//! Marketing reports over a generated shop (issue 16): RFM, `refresh_scores`, cohorts, a sales
//! report by month and an audience query through shopkeep, each beside hand-written SQL that
//! computes the same result on the same file in the same run (the results are compared, so the
//! ratio is between two ways of getting one answer). Then the CLV fit (BG/NBD and Gamma-Gamma)
//! on the shop's own customers; `benches/clv.rs` times the fit on synthetic summaries.
//!
//! The shop is filled through the fastest honest path: a store is opened (so the file has the
//! real, migrated schema and the shop's settings), then one rusqlite connection writes the rows
//! in large transactions: customers, orders with their lines and VAT rows, payments, refunds,
//! attribution and consent events, with the values checkout, payment, refund and the consent
//! ledger would write in the columns the reports read (totals that add up, VAT per rate at
//! 19 % and 7 %, statuses, timestamps as RFC 3339 text). Personal data columns hold random
//! bytes of the right shape: no report decrypts them.
//!
//! The shop keeps UTC time, so that the hand-written SQL can bucket by the date text and
//! compute exactly what shopkeep computes (shopkeep still converts every date through its time
//! zone). The file is on tmpfs (`/dev/shm`) and each report runs once untimed before the timed
//! runs: the figures are warm-cache.
//!
//! `cargo bench --bench marketing`; sizes `SHOPKEEP_BENCH_CUSTOMERS` (default 100,000) and
//! `SHOPKEEP_BENCH_ORDERS` (default 1,000,000); `SHOPKEEP_BENCH_RUNS` timed runs per side
//! (default 3, the median is reported).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    missing_docs
)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use shopkeep::access::CustomerId;
use shopkeep::catalog::{ShopSettings, TimeZone};
use shopkeep::clock::{ManualClock, Timestamp};
use shopkeep::customers::{Channel, Country};
use shopkeep::invoices::Date;
use shopkeep::marketing::{
    AudienceQuery, ClvModel, CustomerSummary, SalesGrouping, SalesQuery, Segment,
};
use shopkeep::store::Durability;
use shopkeep::{Currency, KeyRing, Money, Store};
use support::env;
use support::{baseline_connection, shop_settings, tmpfs};

/// The bench's "now": the reports run as of this instant.
const NOW: &str = "2026-12-01T12:00:00Z";
/// Orders are spread over the three years before `NOW`.
const HISTORY_DAYS: i64 = 3 * 365;
const DAY_MS: i64 = 86_400_000;
/// The catalogue the lines are drawn from: SKU, net unit price in cents, VAT in basis points.
const PRODUCTS: [(&str, i64, i64); 12] = [
    ("MUG", 1290, 1900),
    ("TEE", 2490, 1900),
    ("CAP", 1500, 1900),
    ("HOODIE", 4990, 1900),
    ("SOCKS", 890, 1900),
    ("BAG", 1990, 1900),
    ("POSTER", 990, 1900),
    ("PIN", 350, 1900),
    ("CARD", 250, 1900),
    ("BOOK", 1800, 700),
    ("ZINE", 600, 700),
    ("MAP", 900, 700),
];
const COUNTRIES: [&str; 5] = ["DE", "DE", "AT", "FR", "NL"];
const CAMPAIGNS: [&str; 4] = ["spring", "summer", "black-friday", "newsletter"];
const PAID: [&str; 3] = ["paid", "shipped", "completed"];

/// splitmix64: the same shop on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }

    /// A time-ordered (v7) id at `millis`, as shopkeep makes its ids.
    fn uuid7(&mut self, millis: i64) -> [u8; 16] {
        *uuid::Builder::from_unix_timestamp_millis(millis as u64, &self.bytes())
            .as_uuid()
            .as_bytes()
    }
}

fn text(millis: i64) -> String {
    Timestamp::from_unix_millis(millis).unwrap().to_rfc3339()
}

fn settings() -> ShopSettings {
    shop_settings(support::seller())
        .time_zone(TimeZone::parse("UTC").unwrap())
        .build()
        .unwrap()
}

/// Opens (and so migrates) the store at `path`, as of `NOW`, with the bench's settings.
fn open_store(path: &Path) -> Store {
    let now = Timestamp::parse_rfc3339(NOW).unwrap();
    let store = Store::options()
        .clock(ManualClock::new(now))
        .open(path, KeyRing::from_master_key([42; 32]))
        .unwrap();
    let system = store.system();
    store.settings(&system).update(0, &settings()).unwrap();
    store
}

/// Writes `customers` customers and `orders` orders into the migrated file at `path`.
fn fill(conn: &mut Connection, customers: usize, orders: usize) {
    let now = Timestamp::parse_rfc3339(NOW).unwrap().unix_millis();
    let start = now - HISTORY_DAYS * DAY_MS;
    let mut random = Random(16);
    // Customer i registers at start + i/n of the history; 1 % are erased.
    // Each customer buys in their own quantities (1 to 8 times a base quantity, most near
    // 1): without that spread between customers the Gamma-Gamma spend model has nothing to fit.
    let mut ids = Vec::with_capacity(customers);
    let mut scales = Vec::with_capacity(customers);
    let tx = conn.transaction().unwrap();
    {
        let mut customer = tx
            .prepare(
                "INSERT INTO shopkeep_customers (id, email_index, email, name, password_hash,
                     created_at, updated_at, erased_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            )
            .unwrap();
        let mut consent = tx
            .prepare(
                "INSERT INTO shopkeep_customer_consents (customer_id, channel, event, source,
                     text_version, recorded_by, at) VALUES (?1, 'email', ?2, 'signup', ?3,
                     'system', ?4)",
            )
            .unwrap();
        for i in 0..customers {
            let joined = start + (HISTORY_DAYS * DAY_MS) * i as i64 / customers as i64;
            let id = random.uuid7(joined);
            let erased = random.below(100) == 0;
            let sealed: [u8; 60] = random.bytes();
            if erased {
                customer
                    .execute(params![
                        id,
                        None::<Vec<u8>>,
                        None::<Vec<u8>>,
                        None::<Vec<u8>>,
                        None::<String>,
                        text(joined),
                        Some(text(now))
                    ])
                    .unwrap();
            } else {
                customer
                    .execute(params![
                        id,
                        random.bytes::<32>(),
                        sealed,
                        sealed,
                        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
                        text(joined),
                        None::<String>
                    ])
                    .unwrap();
                // 60 % opt in to email at sign-up; a tenth of them withdraw later.
                if random.below(10) < 6 {
                    consent
                        .execute(params![id, "granted", "v1", text(joined)])
                        .unwrap();
                    if random.below(10) == 0 {
                        consent
                            .execute(params![
                                id,
                                "withdrawn",
                                None::<String>,
                                text(joined + DAY_MS)
                            ])
                            .unwrap();
                    }
                }
            }
            ids.push(id);
            scales.push(1 + ((-random.uniform().max(1e-9).ln() * 1.5) as i64).min(7));
        }
    }
    tx.commit().unwrap();

    let chunk = 50_000;
    let mut number = 0i64;
    while (number as usize) < orders {
        let tx = conn.transaction().unwrap();
        {
            let mut order = tx
                .prepare(
                    "INSERT INTO shopkeep_orders (id, number, customer_id, status, currency,
                         price_mode, line_net_total, allowance_total, charge_total, net_total,
                         vat_total, gross_total, coupon_code, destination, buyer, placed_at,
                         updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'EUR', 'exclusive', ?5, 0, 0, ?5, ?6, ?7, NULL, ?8,
                         ?9, ?10, ?10)",
                )
                .unwrap();
            let mut line = tx
                .prepare(
                    "INSERT INTO shopkeep_order_lines (order_id, position, variant_id, sku, name,
                         quantity, unit_price, amount, line_net, discount, vat_category,
                         vat_rate_bp) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?7, 0, 'S', ?8)",
                )
                .unwrap();
            let mut vat = tx
                .prepare(
                    "INSERT INTO shopkeep_order_vat (order_id, vat_category, vat_rate_bp,
                         lines_net, allowance_net, charges_net, taxable, tax)
                     VALUES (?1, 'S', ?2, ?3, 0, 0, ?3, ?4)",
                )
                .unwrap();
            let mut payment = tx
                .prepare(
                    "INSERT INTO shopkeep_order_payments (order_id, gateway_reference, amount,
                         currency, paid_at) VALUES (?1, ?2, ?3, 'EUR', ?4)",
                )
                .unwrap();
            let mut refund = tx
                .prepare(
                    "INSERT INTO shopkeep_refunds (id, order_id, number, restock, net_total,
                         vat_total, gross_total, created_at) VALUES (?1, ?2, 1, 0, ?3, ?4, ?5, ?6)",
                )
                .unwrap();
            let mut refund_line = tx
                .prepare(
                    "INSERT INTO shopkeep_refund_lines (refund_id, position, quantity, discount)
                     VALUES (?1, ?2, ?3, 0)",
                )
                .unwrap();
            let mut cancellation = tx
                .prepare(
                    "INSERT INTO shopkeep_order_cancellations (order_id, reason, was_paid,
                         cancelled_at) VALUES (?1, 'customer', 0, ?2)",
                )
                .unwrap();
            let mut attribution = tx
                .prepare(
                    "INSERT INTO shopkeep_order_attribution (order_id, source, medium, campaign)
                     VALUES (?1, 'newsletter', 'email', ?2)",
                )
                .unwrap();
            for _ in 0..chunk.min(orders - number as usize) {
                number += 1;
                // Orders arrive in time order; the buyer is one of the customers registered
                // by then, early customers more often (a square skews towards them).
                let placed = start + (HISTORY_DAYS * DAY_MS) * number / orders as i64
                    - random.below(60_000) as i64;
                let registered = (customers as i64 * (placed - start) / (HISTORY_DAYS * DAY_MS))
                    .clamp(1, customers as i64) as usize;
                let u = random.uniform();
                let index = ((u * u * registered as f64) as usize).min(registered - 1);
                let (buyer, scale) = (ids[index], scales[index]);
                let id = random.uuid7(placed);
                let placed_at = text(placed);
                // One to three distinct products, one to three times the buyer's scale of each.
                let first = random.below(PRODUCTS.len() as u64) as usize;
                let count = 1 + random.below(3) as usize;
                let mut lines = Vec::new();
                let mut per_rate: BTreeMap<i64, i64> = BTreeMap::new();
                for k in 0..count {
                    let (sku, price, rate) = PRODUCTS[(first + k * 5) % PRODUCTS.len()];
                    let quantity = scale * (1 + random.below(3) as i64);
                    let net = quantity * price;
                    *per_rate.entry(rate).or_default() += net;
                    lines.push((sku, quantity, price, net, rate));
                }
                let taxes: Vec<(i64, i64, i64)> = per_rate
                    .iter()
                    .map(|(&rate, &net)| (rate, net, (net * rate + 5_000) / 10_000))
                    .collect();
                let net: i64 = lines.iter().map(|l| l.3).sum();
                let tax: i64 = taxes.iter().map(|t| t.2).sum();
                let gross = net + tax;
                let roll = random.below(100);
                let status = match roll {
                    0..=4 => "placed",
                    5..=9 => "cancelled",
                    _ => PAID[(roll % 3) as usize],
                };
                let country = COUNTRIES[random.below(COUNTRIES.len() as u64) as usize];
                let buyer_snapshot: [u8; 96] = random.bytes();
                order
                    .execute(params![
                        id,
                        number,
                        buyer,
                        status,
                        net,
                        tax,
                        gross,
                        country,
                        buyer_snapshot,
                        placed_at
                    ])
                    .unwrap();
                for (position, (sku, quantity, price, net, rate)) in lines.iter().enumerate() {
                    let variant: [u8; 16] = [position as u8; 16];
                    line.execute(params![
                        id,
                        position as i64,
                        variant,
                        sku,
                        quantity,
                        price,
                        net,
                        rate
                    ])
                    .unwrap();
                }
                for (rate, net, tax) in &taxes {
                    vat.execute(params![id, rate, net, tax]).unwrap();
                }
                if status == "cancelled" {
                    cancellation.execute(params![id, placed_at]).unwrap();
                }
                if PAID.contains(&status) {
                    payment
                        .execute(params![id, format!("psp_{number}"), gross, placed_at])
                        .unwrap();
                    // 2 % are refunded whole, 2 % their first line.
                    let refunded = match random.below(50) {
                        0 => Some((net, tax, lines.len())),
                        1 => {
                            let (_, _, _, net, rate) = lines[0];
                            Some((net, (net * rate + 5_000) / 10_000, 1))
                        }
                        _ => None,
                    };
                    if let Some((net, tax, whole_lines)) = refunded {
                        let refund_id = random.uuid7(placed + DAY_MS);
                        refund
                            .execute(params![
                                refund_id,
                                id,
                                net,
                                tax,
                                net + tax,
                                text(placed + DAY_MS)
                            ])
                            .unwrap();
                        for (position, l) in lines.iter().take(whole_lines).enumerate() {
                            refund_line
                                .execute(params![refund_id, position as i64, l.1])
                                .unwrap();
                        }
                    }
                }
                if random.below(5) == 0 {
                    let campaign = CAMPAIGNS[random.below(CAMPAIGNS.len() as u64) as usize];
                    attribution.execute(params![id, campaign]).unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

/// Runs `a` (shopkeep) and `b` (hand-written SQL) alternately, once untimed each to warm the
/// caches, then `runs` times each; returns both medians and the last results.
fn measure<A, B>(
    runs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Duration, Duration, A, B) {
    let (mut ra, mut rb) = (a(), b());
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        ra = a();
        ta.push(t.elapsed());
        let t = Instant::now();
        rb = b();
        tb.push(t.elapsed());
    }
    ta.sort();
    tb.sort();
    (ta[ta.len() / 2], tb[tb.len() / 2], ra, rb)
}

/// Counted orders: paid, not cancelled, in EUR, with what refunds left of their gross total.
const KEPT: &str = "SELECT o.customer_id, o.placed_at,
        o.gross_total - coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                                  WHERE r.order_id = o.id), 0) AS kept
    FROM shopkeep_orders o
    JOIN shopkeep_order_payments p ON p.order_id = o.id
    WHERE o.status IN ('paid', 'shipped', 'completed') AND o.currency = 'EUR'";

/// Each customer's counted orders summed up (customers not erased, orders with something
/// kept), then scored in the same query with window functions: `rank()` over ascending values
/// is 1 + the number of values strictly below, so the score is shopkeep's quintile rule;
/// recency ranks descending (fewer days score higher). `?1` is now.
const RFM: &str = "WITH kept AS (SELECT o.customer_id, o.placed_at,
            o.gross_total - coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                                      WHERE r.order_id = o.id), 0) AS kept
        FROM shopkeep_orders o
        JOIN shopkeep_order_payments p ON p.order_id = o.id
        JOIN shopkeep_customers c ON c.id = o.customer_id AND c.erased_at IS NULL
        WHERE o.status IN ('paid', 'shipped', 'completed') AND o.currency = 'EUR'),
    per AS (SELECT customer_id, count(*) AS f, sum(kept) AS m, min(placed_at) AS first,
                max(placed_at) AS last,
                CAST(julianday(date(?1)) - julianday(date(max(placed_at))) AS INTEGER) AS days
            FROM kept WHERE kept > 0 GROUP BY customer_id)
    SELECT customer_id, days, f, m,
        1 + 5 * (rank() OVER (ORDER BY days DESC) - 1) / count(*) OVER (),
        1 + 5 * (rank() OVER (ORDER BY f) - 1) / count(*) OVER (),
        1 + 5 * (rank() OVER (ORDER BY m) - 1) / count(*) OVER (),
        first, last,
        (SELECT o.destination FROM shopkeep_orders o
         WHERE o.customer_id = per.customer_id AND o.placed_at = per.last ORDER BY o.id DESC)
    FROM per ORDER BY customer_id";

/// One customer's RFM row by hand: id, recency days, frequency, monetary, [r, f, m].
type RfmRow = (Vec<u8>, i64, i64, i64, [i64; 3]);

/// RFM by hand, with each customer's first and last order time and latest shipping country.
fn rfm_sql(conn: &Connection) -> Vec<(RfmRow, [String; 3])> {
    conn.prepare_cached(RFM)
        .unwrap()
        .query_map([NOW], |r| {
            Ok((
                (
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    [r.get(4)?, r.get(5)?, r.get(6)?],
                ),
                [r.get(7)?, r.get(8)?, r.get(9)?],
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// `refresh_scores` by hand: the RFM query written into the scores table in one transaction,
/// stale rows deleted.
fn refresh_sql(conn: &mut Connection) -> usize {
    let rows = rfm_sql(conn);
    let tx = conn.transaction().unwrap();
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS scored (id BLOB PRIMARY KEY); DELETE FROM temp.scored;",
    )
    .unwrap();
    {
        let mut mark = tx
            .prepare_cached("INSERT INTO temp.scored (id) VALUES (?1)")
            .unwrap();
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO shopkeep_customer_scores (customer_id, first_order_at,
                     last_order_at, recency_days, frequency, monetary, r_score, f_score, m_score,
                     segment, country, refreshed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (customer_id) DO UPDATE SET first_order_at = excluded.first_order_at,
                     last_order_at = excluded.last_order_at,
                     recency_days = excluded.recency_days, frequency = excluded.frequency,
                     monetary = excluded.monetary, r_score = excluded.r_score,
                     f_score = excluded.f_score, m_score = excluded.m_score,
                     segment = excluded.segment, country = excluded.country,
                     refreshed_at = excluded.refreshed_at",
            )
            .unwrap();
        for ((id, days, f, m, s), [first, last, country]) in &rows {
            let segment = Segment::of(s[0] as u8, s[1] as u8, s[2] as u8);
            mark.execute([id]).unwrap();
            upsert
                .execute(params![
                    id,
                    first,
                    last,
                    days,
                    f,
                    m,
                    s[0],
                    s[1],
                    s[2],
                    segment.as_str(),
                    country,
                    NOW
                ])
                .unwrap();
        }
    }
    tx.execute_batch(
        "DELETE FROM shopkeep_customer_scores
         WHERE customer_id NOT IN (SELECT id FROM temp.scored);",
    )
    .unwrap();
    tx.commit().unwrap();
    rows.len()
}

/// Cohorts by hand: (cohort month, offset) -> (active customers, revenue), and each cohort's
/// size. Months are the date text's `YYYY-MM` (the shop keeps UTC).
type Cells = BTreeMap<(String, i64), (u64, i64)>;

fn cohorts_sql(conn: &Connection) -> (BTreeMap<String, u64>, Cells) {
    let sql = format!(
        "WITH kept AS ({KEPT}),
              counted AS (SELECT customer_id, substr(placed_at, 1, 7) AS month, kept
                          FROM kept WHERE kept > 0),
              firsts AS (SELECT customer_id, min(month) AS cohort FROM counted
                         GROUP BY customer_id)
         SELECT cohort,
             (CAST(substr(month, 1, 4) AS INTEGER) - CAST(substr(cohort, 1, 4) AS INTEGER)) * 12
                 + CAST(substr(month, 6, 2) AS INTEGER) - CAST(substr(cohort, 6, 2) AS INTEGER),
             count(DISTINCT customer_id), sum(kept)
         FROM counted JOIN firsts USING (customer_id) GROUP BY 1, 2"
    );
    let cells: Cells = conn
        .prepare_cached(&sql)
        .unwrap()
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                (r.get::<_, i64>(2)? as u64, r.get(3)?),
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let sizes = cells
        .iter()
        .filter(|((_, k), _)| *k == 0)
        .map(|((month, _), (n, _))| (month.clone(), *n))
        .collect();
    (sizes, cells)
}

/// Sales by month by hand: month -> (orders, units, revenue, refunds, [(rate, tax)]).
type SalesRows = BTreeMap<String, (u64, u64, i64, i64, Vec<(u32, i64)>)>;

fn sales_sql(conn: &Connection) -> SalesRows {
    let base = "FROM shopkeep_orders o JOIN shopkeep_order_payments p ON p.order_id = o.id
                WHERE o.status IN ('paid', 'shipped', 'completed') AND o.currency = 'EUR'";
    let mut rows: SalesRows = conn
        .prepare_cached(&format!(
            "SELECT substr(o.placed_at, 1, 7), count(*),
                 sum((SELECT sum(quantity) FROM shopkeep_order_lines l WHERE l.order_id = o.id)),
                 sum(o.gross_total),
                 sum(coalesce((SELECT sum(r.gross_total) FROM shopkeep_refunds r
                               WHERE r.order_id = o.id), 0))
             {base} GROUP BY 1"
        ))
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                    r.get(3)?,
                    r.get(4)?,
                    Vec::new(),
                ),
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let vat_rows: Vec<(String, u32, i64)> = conn
        .prepare_cached(
            "SELECT substr(o.placed_at, 1, 7), v.vat_rate_bp, sum(v.tax)
             FROM shopkeep_orders o JOIN shopkeep_order_payments p ON p.order_id = o.id
             JOIN shopkeep_order_vat v ON v.order_id = o.id
             WHERE o.status IN ('paid', 'shipped', 'completed') AND o.currency = 'EUR'
             GROUP BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (month, rate, tax) in vat_rows {
        rows.get_mut(&month).unwrap().4.push((rate, tax));
    }
    rows
}

/// The audience by hand: champions and loyal customers in Germany who spent at least 100
/// euros and whose latest email consent event (a later request does not undo a grant) is a
/// grant; the first `limit` by id.
fn audience_sql(conn: &Connection, limit: usize) -> Vec<Vec<u8>> {
    conn.prepare_cached(
        "SELECT s.customer_id FROM shopkeep_customer_scores s
         JOIN shopkeep_customers c ON c.id = s.customer_id AND c.erased_at IS NULL
         WHERE s.segment IN ('champions', 'loyal') AND s.country = 'DE' AND s.monetary >= 10000
           AND (SELECT event FROM shopkeep_customer_consents k
                WHERE k.customer_id = s.customer_id AND k.channel = 'email'
                  AND k.event <> 'requested' ORDER BY k.seq DESC LIMIT 1)
               IN ('granted', 'confirmed')
         ORDER BY s.customer_id LIMIT ?1",
    )
    .unwrap()
    .query_map([limit as i64], |r| r.get(0))
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn id_bytes(id: CustomerId) -> Vec<u8> {
    support::id_bytes(id).to_vec()
}

struct Row {
    name: &'static str,
    shopkeep: Duration,
    sql: Option<Duration>,
    target: &'static str,
}

fn main() {
    let customers = env("SHOPKEEP_BENCH_CUSTOMERS", 100_000);
    let orders = env("SHOPKEEP_BENCH_ORDERS", 1_000_000);
    let runs = env("SHOPKEEP_BENCH_RUNS", 3).max(1);
    let dir = tempfile::tempdir_in(tmpfs()).unwrap();
    let path = dir.path().join("marketing.db");

    let t = Instant::now();
    let store = open_store(&path);
    let mut conn = baseline_connection(&path, Durability::Full);
    fill(&mut conn, customers, orders);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "filled {customers} customers, {orders} orders in {:.1} s ({} MiB)",
        t.elapsed().as_secs_f64(),
        size >> 20
    );
    let system = store.system();
    let marketing = store.marketing(&system);
    let mut rows = Vec::new();

    // RFM.
    let (a, b, report, by_hand) = measure(runs, || marketing.rfm().unwrap(), || rfm_sql(&conn));
    let by_hand: Vec<RfmRow> = by_hand.into_iter().map(|(row, _)| row).collect();
    let ours: Vec<_> = report
        .customers()
        .iter()
        .map(|c| {
            (
                id_bytes(c.customer()),
                i64::from(c.recency_days()),
                i64::from(c.frequency()),
                c.monetary().minor(),
                [i64::from(c.r()), i64::from(c.f()), i64::from(c.m())],
            )
        })
        .collect();
    assert_eq!(ours, by_hand, "RFM differs from the hand-written SQL");
    println!("RFM: {} customers scored", ours.len());
    rows.push(Row {
        name: "RFM (`rfm`)",
        shopkeep: a,
        sql: Some(b),
        target: "< 2 s",
    });

    // refresh_scores: both write the same rows into the scores table.
    let mut refresh_conn = baseline_connection(&path, Durability::Full);
    let (a, b, n, m) = measure(
        runs,
        || marketing.refresh_scores().unwrap().scored(),
        || refresh_sql(&mut refresh_conn),
    );
    assert_eq!(n, m);
    rows.push(Row {
        name: "`refresh_scores`",
        shopkeep: a,
        sql: Some(b),
        target: "—",
    });

    // Cohorts.
    let (a, b, report, (sizes, cells)) =
        measure(runs, || marketing.cohorts().unwrap(), || cohorts_sql(&conn));
    for cohort in report.cohorts() {
        assert_eq!(
            sizes[cohort.month()],
            cohort.customers(),
            "{}",
            cohort.month()
        );
        for (k, (&active, revenue)) in cohort.active().iter().zip(cohort.revenue()).enumerate() {
            let cell = cells
                .get(&(cohort.month().to_owned(), k as i64))
                .copied()
                .unwrap_or((0, 0));
            assert_eq!((active, revenue.minor()), cell, "{} +{k}", cohort.month());
        }
    }
    assert_eq!(sizes.len(), report.cohorts().len());
    rows.push(Row {
        name: "cohorts",
        shopkeep: a,
        sql: Some(b),
        target: "< 2 s",
    });

    // Sales by month over the whole history.
    let query = SalesQuery::new(
        Date::parse("2023-01-01").unwrap(),
        Date::parse("2026-12-31").unwrap(),
        SalesGrouping::Month,
    )
    .unwrap();
    let (a, b, report, by_hand) = measure(
        runs,
        || marketing.sales(&query).unwrap(),
        || sales_sql(&conn),
    );
    let ours: SalesRows = report
        .rows()
        .iter()
        .map(|r| {
            let vat = r
                .vat()
                .iter()
                .map(|(rate, tax)| (rate.basis_points(), tax.minor()))
                .collect();
            (
                r.key().to_owned(),
                (
                    r.orders(),
                    r.units(),
                    r.revenue().minor(),
                    r.refunds().minor(),
                    vat,
                ),
            )
        })
        .collect();
    assert_eq!(ours, by_hand, "sales by month differ");
    rows.push(Row {
        name: "sales by month",
        shopkeep: a,
        sql: Some(b),
        target: "—",
    });

    // An audience on indexed filters, on the scores `refresh_scores` stored.
    let audience = AudienceQuery::new()
        .segments(&[Segment::Champions, Segment::Loyal])
        .country(Country::parse("DE").unwrap())
        .min_spend(Money::new(10_000, Currency::EUR))
        .for_marketing(Channel::Email);
    let (a, b, page, by_hand) = measure(
        runs.max(5),
        || marketing.audience(&audience, None, 1000).unwrap(),
        || audience_sql(&conn, 1000),
    );
    let ours: Vec<_> = page.customers().iter().map(|c| id_bytes(*c)).collect();
    assert_eq!(ours, by_hand, "audiences differ");
    println!("audience: a page of {}", ours.len());
    rows.push(Row {
        name: "audience page (1,000 ids)",
        shopkeep: a,
        sql: Some(b),
        target: "< 100 ms",
    });

    // The CLV fit on the shop's own customers: repeat purchases x, time of the last one t_x
    // and age T in weeks from the first, mean value of the repeat purchases.
    let summaries = clv_summaries(&conn);
    let t = Instant::now();
    ClvModel::fit(&summaries).unwrap();
    rows.push(Row {
        name: "CLV fit (BG/NBD + Gamma-Gamma)",
        shopkeep: t.elapsed(),
        sql: None,
        target: "< 5 s",
    });
    println!("CLV: {} customers", summaries.len());

    snapshot_and_checkpoints(&store, &path);

    println!();
    println!("| report | shopkeep | hand-written SQL | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    for row in rows {
        let (sql, ratio) = match row.sql {
            Some(sql) => (
                format!("{:.0} ms", sql.as_secs_f64() * 1e3),
                format!("{:.2}", row.shopkeep.as_secs_f64() / sql.as_secs_f64()),
            ),
            None => ("—".to_owned(), "—".to_owned()),
        };
        println!(
            "| {} | {:.0} ms | {sql} | {ratio} | {} |",
            row.name,
            row.shopkeep.as_secs_f64() * 1e3,
            row.target
        );
    }
}

/// What one snapshot per report holds back (docs/marketing.md, "One snapshot per report"):
/// while RFM runs on the reader pool, another connection commits small transactions (a 1 KiB
/// row each) and runs a passive checkpoint after each, as the store's writer does when its WAL
/// is long. Printed: the commits during the report, the most WAL frames a checkpoint could not
/// copy back because the report's snapshot was open, and the same right after the report.
fn snapshot_and_checkpoints(store: &Store, path: &Path) {
    let conn = baseline_connection(path, Durability::Full);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS bench_wal (x BLOB); PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    let checkpoint = |conn: &Connection| -> (i64, i64) {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })
        .unwrap()
    };
    let system = store.system();
    let started = Instant::now();
    let (commits, held_back, report) = std::thread::scope(|s| {
        let report = s.spawn(|| {
            let t = Instant::now();
            store.marketing(&system).rfm().unwrap();
            t.elapsed()
        });
        let (mut commits, mut held_back) = (0u64, 0i64);
        while !report.is_finished() {
            conn.execute("INSERT INTO bench_wal (x) VALUES (randomblob(1024))", [])
                .unwrap();
            commits += 1;
            let (log, done) = checkpoint(&conn);
            held_back = held_back.max(log - done);
        }
        (commits, held_back, report.join().unwrap())
    });
    let (log, done) = checkpoint(&conn);
    println!(
        "one snapshot: RFM took {:.0} ms ({:.0} ms with the writer); {commits} commits meanwhile; \
         a checkpoint during the report left at most {held_back} WAL frames uncopied; \
         right after it: {} of {log}",
        report.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3,
        log - done
    );
    conn.execute_batch("DROP TABLE bench_wal; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

/// The CLV model's input per customer with a counted order, from the counted orders.
fn clv_summaries(conn: &Connection) -> Vec<CustomerSummary> {
    let now = Timestamp::parse_rfc3339(NOW).unwrap().unix_millis();
    let week = 7.0 * DAY_MS as f64;
    let mut per: BTreeMap<Vec<u8>, Vec<(i64, i64)>> = BTreeMap::new();
    let mut stmt = conn
        .prepare(&format!("{KEPT} ORDER BY o.placed_at"))
        .unwrap();
    let facts = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap();
    for fact in facts {
        let (customer, placed, kept) = fact.unwrap();
        if kept > 0 {
            let at = Timestamp::parse_rfc3339(&placed).unwrap().unix_millis();
            per.entry(customer).or_default().push((at, kept));
        }
    }
    per.values()
        .map(|orders| {
            let (first, _) = orders[0];
            let (last, _) = orders[orders.len() - 1];
            let repeats = &orders[1..];
            let mean = if repeats.is_empty() {
                0
            } else {
                repeats.iter().map(|o| o.1).sum::<i64>() / repeats.len() as i64
            };
            CustomerSummary::new(
                repeats.len() as u32,
                if repeats.is_empty() {
                    0.0
                } else {
                    (last - first) as f64 / week
                },
                (now - first) as f64 / week,
                Money::new(mean, Currency::EUR),
            )
            .unwrap()
        })
        .collect()
}
