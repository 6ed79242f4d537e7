//! Invoices: rendering one realistic 10-line B2B invoice (two VAT rates, a coupon, shipping,
//! payment terms, a bank account) as plain text, HTML, PDF (feature `pdf`) and UBL; and issuing
//! the invoice of a placed 3-line order, beside a hand-written rusqlite baseline in the same run.
//!
//! `cargo bench --all-features --bench invoices` (`-- render` or `-- issue` for one group).
//!
//! [`ten_line_invoice`] builds the document; further benchmarks of this file can use it as
//! they are.
//!
//! # `issue`
//!
//! `issue/shopkeep/<dir>-<durability>` times `store.invoices(&system).issue(order)`: one
//! `BEGIN IMMEDIATE` transaction that authorises, reads the order (lines, charges, VAT rows,
//! the buyer snapshot decrypted) and the settings, checks the order has no invoice, reads its
//! payment, bumps the invoice counter, builds and validates the EN 16931 document (totals
//! recomputed), encrypts the buyer snapshot again for the invoice row, writes the invoice and
//! its lines, the `invoice.issued` outbox row and an HMAC-chained audit entry.
//!
//! `issue/baseline/<dir>-<durability>` is the same SQL written by hand with rusqlite in one
//! `BEGIN IMMEDIATE` transaction on a file with the same schema and data: the same reads, the
//! same counter upsert, the same rows written (invoice, lines, outbox, audit with an HMAC over
//! the previous entry's), an AES-256-GCM decrypt and encrypt of a buyer snapshot of the stored
//! one's length. It builds no document: it copies the order's totals and lines as they are.
//! Building and validating the EN 16931 document (and parsing the snapshot and the settings)
//! is exactly shopkeep's own cost that the ratio is meant to show.
//!
//! Each side has its own database file, in `SHOPKEEP_BENCH_DIR` (default `/dev/shm`, tmpfs;
//! `/var/tmp` for a disk), at durability NORMAL and FULL; `<dir>` is `tmpfs` or `disk` after
//! the directory's file system. Orders are placed by shopkeep's checkout, untimed, on both
//! sides: `SHOPKEEP_BENCH_N` (default 200) before the first measurement, and more whenever
//! criterion asks for more issues than the pool holds. Quote the ratio, not the times.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/documents/mod.rs"]
mod documents;
mod support;

use std::collections::VecDeque;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use aes_gcm::KeyInit;
use chrono::Datelike;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use documents::{business, invoice, line, money, s7, s19};
use rusqlite::{Connection, OptionalExtension, params};
use shopkeep::Currency;
use shopkeep::catalog::{InvoiceIssue, TimeZone};
use shopkeep::customers::VatId;
use shopkeep::invoices::{InvoiceDocument, InvoiceTemplates, Profile, to_html, to_text, to_ubl};
use shopkeep::orders::{CartRef, Charge, Checkout, IdempotencyKey, OrderId, PriceMode};
use shopkeep::store::Durability;
use support::{audit, baseline_connection, open, seal, shop_settings, uuid7};

/// A B2B invoice in EUR with 10 lines at 19 % and 7 %, a coupon and shipping.
pub fn ten_line_invoice() -> InvoiceDocument {
    let eur = Currency::EUR;
    let items = [
        ("Espresso beans 1 kg", "24.90", 4, true),
        ("Filter coffee 500 g", "11.50", 6, true),
        ("Cookbook \"Coffee & Cake\"", "18.00", 2, false),
        ("Enamel mug", "12.90", 12, true),
        ("Hand grinder, ceramic burrs", "89.00", 1, true),
        ("Barista magazine, annual", "42.00", 1, false),
        ("Paper filters size 4, 100 pieces", "3.20", 10, true),
        ("Chocolate 70 %", "3.95", 8, false),
        ("Milk jug 600 ml", "21.40", 2, true),
        ("Descaler 500 ml", "7.80", 3, true),
    ];
    let mut builder = invoice(
        "INV-2026-001042",
        eur,
        PriceMode::TaxExclusive,
        business("Café Beispiel GmbH", Some("DE811907980"), "DE"),
    );
    for (i, (name, price, qty, standard)) in items.into_iter().enumerate() {
        let vat = if standard { s19() } else { s7() };
        builder = builder.line(line(
            &(i + 1).to_string(),
            name,
            money(price, eur),
            qty,
            vat,
        ));
    }
    builder
        .discount(money("25.00", eur), "Coupon SPRING25")
        .charge("Shipping", Charge::new(money("6.90", eur), s19()).unwrap())
        .note("Thank you for your order.")
        .build()
        .unwrap()
}

fn render(c: &mut Criterion) {
    let document = ten_line_invoice();
    let templates = InvoiceTemplates::builtin();
    let mut group = c.benchmark_group("render");
    group.bench_function("text", |b| {
        b.iter(|| to_text(black_box(&document), &templates).unwrap())
    });
    group.bench_function("html", |b| {
        b.iter(|| to_html(black_box(&document), &templates).unwrap())
    });
    #[cfg(feature = "pdf")]
    group.bench_function("pdf", |b| {
        b.iter(|| shopkeep::invoices::to_pdf(black_box(&document)).unwrap())
    });
    group.bench_function("ubl", |b| {
        b.iter(|| to_ubl(black_box(&document), Profile::En16931).unwrap())
    });
    group.finish();
}

/// The orders each side places before its first measurement.
fn pool_size() -> usize {
    std::env::var("SHOPKEEP_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// A shop that issues at checkout (DE seller with a VAT id, 19 % and 7 %, three products), a
/// customer, and a pool of placed, not yet invoiced orders.
struct Shop {
    shop: support::Shop,
    placed: usize,
    pool: VecDeque<OrderId>,
}

impl Shop {
    fn open(path: &Path, durability: Durability) -> Shop {
        let seller = support::seller().vat_id(VatId::parse("DE123456788").unwrap());
        let settings = shop_settings(seller)
            .invoice_issue(InvoiceIssue::AtCheckout)
            .time_zone(TimeZone::parse("Europe/Berlin").unwrap())
            .build()
            .unwrap();
        Shop {
            shop: support::Shop::open(path, durability, &settings),
            placed: 0,
            pool: VecDeque::new(),
        }
    }

    /// Places 3-line orders through checkout (untimed) until the pool holds `n`.
    fn fill(&mut self, n: usize) {
        let shop = &self.shop;
        let system = shop.store.system();
        let carts = shop.store.carts(&system);
        let orders = shop.store.orders(&system);
        while self.pool.len() < n {
            for (j, v) in shop.variants.iter().enumerate() {
                carts
                    .add(CartRef::Customer(shop.customer), *v, 1 + j as u32)
                    .unwrap();
            }
            let key = IdempotencyKey::new(&format!("bench-{}", self.placed)).unwrap();
            self.placed += 1;
            let order = orders
                .checkout(Checkout::from_cart(shop.customer, key))
                .unwrap()
                .into_order();
            self.pool.push_back(order.id());
        }
    }

    /// The next `n` orders of the pool, topping it up first if needed.
    fn take(&mut self, n: u64) -> Vec<OrderId> {
        let n = usize::try_from(n).unwrap();
        self.fill(n);
        self.pool.drain(..n).collect()
    }
}

fn shopkeep_issue(shop: &mut Shop, iters: u64) -> Duration {
    let orders = shop.take(iters);
    let store = &shop.shop.store;
    let system = store.system();
    let invoices = store.invoices(&system);
    let start = Instant::now();
    for order in orders {
        black_box(invoices.issue(order).unwrap());
    }
    start.elapsed()
}

/// The hand-written side: its own shop (placing its orders through shopkeep, untimed), a
/// rusqlite connection to the same file, its keys, and what it copies into every invoice.
struct Baseline {
    shop: Shop,
    conn: Connection,
    aead: Aes256Gcm,
    mac_key: [u8; 32],
    /// A buyer snapshot sealed by the baseline, as long as the stored ones.
    buyer: Vec<u8>,
    /// The seller and terms columns of an invoice shopkeep issued in this file.
    seller: String,
    terms: String,
    series: String,
}

impl Baseline {
    fn open(path: &Path, durability: Durability) -> Baseline {
        let mut shop = Shop::open(path, durability);
        // One invoice issued by shopkeep, for the texts of its seller and terms columns.
        let first = shop.take(1)[0];
        let store = &shop.shop.store;
        let system = store.system();
        store.invoices(&system).issue(first).unwrap();
        let series = store
            .settings(&system)
            .get()
            .unwrap()
            .unwrap()
            .invoice_series()
            .pattern()
            .to_owned();
        assert_eq!(
            series, "INV-{year}-{seq:06}",
            "the baseline renders this pattern"
        );
        shop.fill(pool_size());
        let conn = baseline_connection(path, durability);
        let (seller, terms): (String, String) = conn
            .query_row("SELECT seller, terms FROM shopkeep_invoices", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let stored: i64 = conn
            .query_row(
                "SELECT length(buyer) FROM shopkeep_orders LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        // shopkeep's sealed values: a 5-byte header, a 12-byte nonce, the ciphertext, a tag.
        let plain = vec![b'x'; usize::try_from(stored).unwrap() - 5 - 12 - 16];
        let aead = Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
        let mut buyer = HEADER.to_vec();
        buyer.extend(seal(&aead, b"shopkeep_orders/buyer", &plain));
        Baseline {
            shop,
            conn,
            aead,
            mac_key: [9; 32],
            buyer,
            seller,
            terms,
            series,
        }
    }
}

fn baseline_issue(b: &mut Baseline, iters: u64) -> Duration {
    let orders = b.shop.take(iters);
    let start = Instant::now();
    for order in &orders {
        baseline_issue_one(b, order);
    }
    start.elapsed()
}

/// An order line as the invoice copies it.
type Line = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    i64,
    Option<String>,
);

fn baseline_issue_one(b: &Baseline, order: &OrderId) {
    let order = support::id_bytes(order);
    let c = &b.conn;
    let principal = "system";
    let now = chrono::Utc::now();
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    c.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The owner, for the policy; then the order, its lines, charges, VAT rows.
    let customer: Vec<u8> = c
        .prepare_cached("SELECT customer_id FROM shopkeep_orders WHERE id = ?1")
        .unwrap()
        .query_row([order], |r| r.get(0))
        .unwrap();
    type Head = (
        i64,
        String,
        String,
        String,
        [i64; 6],
        Option<String>,
        String,
    );
    let (_number, status, currency, mode, totals, _coupon, _destination): Head = c
        .prepare_cached(
            "SELECT number, customer_id, status, currency, price_mode, line_net_total,
             allowance_total, charge_total, net_total, vat_total, gross_total, coupon_code,
             destination, buyer, placed_at, version FROM shopkeep_orders WHERE id = ?1",
        )
        .unwrap()
        .query_row([order], |r| {
            let _buyer: Vec<u8> = r.get(13)?;
            let _placed: String = r.get(14)?;
            let _version: i64 = r.get(15)?;
            Ok((
                r.get(0)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                [
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ],
                r.get(11)?,
                r.get(12)?,
            ))
        })
        .unwrap();
    assert_eq!(status, "placed");
    let lines: Vec<Line> = c
        .prepare_cached(
            "SELECT position, variant_id, sku, name, quantity, unit_price, amount, line_net,
             discount, vat_category, vat_rate_bp, exemption_reason FROM shopkeep_order_lines
             WHERE order_id = ?1 ORDER BY position",
        )
        .unwrap()
        .query_map([order], |r| {
            let _variant: Vec<u8> = r.get(1)?;
            let _amount: i64 = r.get(6)?;
            Ok((
                r.get(0)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let charges = c
        .prepare_cached(
            "SELECT position, reason, amount, net, vat_category, vat_rate_bp, exemption_reason
             FROM shopkeep_order_charges WHERE order_id = ?1 ORDER BY position",
        )
        .unwrap()
        .query_map([order], |r| r.get::<_, i64>(0))
        .unwrap()
        .count();
    assert_eq!(charges, 0);
    let vat: Vec<(String, i64, i64)> = c
        .prepare_cached(
            "SELECT vat_category, vat_rate_bp, exemption_reason, lines_net, allowance_net,
             charges_net, taxable, tax FROM shopkeep_order_vat WHERE order_id = ?1
             ORDER BY vat_category, vat_rate_bp",
        )
        .unwrap()
        .query_map([order], |r| Ok((r.get(0)?, r.get(1)?, r.get(7)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    black_box(vat);
    // The buyer snapshot: the legal-archive key's row, then a decrypt of the stored length.
    let _wrapped: Vec<u8> = c
        .prepare_cached("SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1")
        .unwrap()
        .query_row(["archive"], |r| r.get(0))
        .unwrap();
    let buyer = open(&b.aead, b"shopkeep_orders/buyer", &b.buyer[HEADER.len()..]);
    let _settings: (i64, String, String) = c
        .prepare_cached("SELECT version, document, updated_at FROM shopkeep_settings WHERE id = 1")
        .unwrap()
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    let existing: Option<Vec<u8>> = c
        .prepare_cached("SELECT id FROM shopkeep_invoices WHERE order_id = ?1 AND kind = 'invoice'")
        .unwrap()
        .query_row([order], |r| r.get(0))
        .optional()
        .unwrap();
    assert!(existing.is_none());
    let id = uuid7();
    let year = today.year();
    let seq: i64 = c
        .prepare_cached(
            "INSERT INTO shopkeep_invoice_counters (series, year, next) VALUES (?1, ?2, 2)
             ON CONFLICT (series, year) DO UPDATE SET next = next + 1
             RETURNING next - 1",
        )
        .unwrap()
        .query_row(params![b.series, year], |r| r.get(0))
        .unwrap();
    let number = format!("INV-{year}-{seq:06}");
    let payment: Option<String> = c
        .prepare_cached(
            "SELECT gateway_reference, amount, currency, paid_at FROM shopkeep_order_payments
             WHERE order_id = ?1",
        )
        .unwrap()
        .query_row([order], |r| r.get(0))
        .optional()
        .unwrap();
    assert!(payment.is_none());
    // The invoice row's own copy of the buyer, under the legal-archive key.
    let _wrapped: Vec<u8> = c
        .prepare_cached("SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1")
        .unwrap()
        .query_row(["archive"], |r| r.get(0))
        .unwrap();
    let mut place = b"shopkeep_invoices/buyer/".to_vec();
    place.extend_from_slice(&id);
    let mut sealed = HEADER.to_vec();
    sealed.extend(seal(&b.aead, &place, &buyer));
    let [line_net, allowance, charge, net, vat_total, gross] = totals;
    c.prepare_cached(
        "INSERT INTO shopkeep_invoices (id, kind, number, series, year, seq, order_id,
         customer_id, original_id, issue_date, currency, price_mode, line_net_total,
         allowance_total, charge_total, net_total, vat_total, gross_total, seller, buyer, terms,
         issued_at, deletable_from)
         VALUES (?1, 'invoice', ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
         ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )
    .unwrap()
    .execute(params![
        id,
        number,
        b.series,
        year,
        seq,
        order,
        customer,
        today.to_string(),
        currency,
        mode,
        line_net,
        allowance,
        charge,
        net,
        vat_total,
        gross,
        b.seller,
        sealed,
        b.terms,
        at,
        format!("{}-01-01", year + 11),
    ])
    .unwrap();
    for (position, (order_position, sku, name, quantity, unit, line_net, discount, cat, bp, why)) in
        lines.iter().enumerate()
    {
        c.prepare_cached(
            "INSERT INTO shopkeep_invoice_lines (invoice_id, position, order_position, sku, name,
             quantity, unit_price, line_net, discount, vat_category, vat_rate_bp,
             exemption_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .unwrap()
        .execute(params![
            id,
            position as i64,
            order_position,
            sku,
            name,
            quantity,
            unit,
            line_net,
            discount,
            cat,
            bp,
            why
        ])
        .unwrap();
    }
    let invoice_id = uuid::Uuid::from_bytes(id);
    let data = format!(
        r#"{{"invoice_id":"{invoice_id}","number":"{number}","order_id":"{}","customer_id":"{}","original_id":null,"currency":"{currency}","net_total":{net},"vat_total":{vat_total},"gross_total":{gross}}}"#,
        uuid::Uuid::from_bytes(order),
        uuid::Uuid::from_slice(&customer).unwrap(),
    );
    c.prepare_cached(
        "INSERT INTO shopkeep_outbox (id, type, version, data, created_at)
         VALUES (?1, 'invoice.issued', 1, ?2, ?3)",
    )
    .unwrap()
    .execute(params![uuid7(), data, at])
    .unwrap();
    let resource = format!("invoice:{invoice_id}");
    audit(c, &b.mac_key, &at, principal, "issue_invoice", &resource);
    c.execute_batch("COMMIT").unwrap();
}

/// Stands for the version and key id that precede shopkeep's sealed values.
const HEADER: [u8; 5] = [1, 0, 0, 0, 1];

/// `SHOPKEEP_BENCH_DIR`, or `/dev/shm`, and whether it is on tmpfs.
fn bench_dir() -> (PathBuf, &'static str) {
    let dir = std::env::var_os("SHOPKEEP_BENCH_DIR").map_or_else(support::tmpfs, PathBuf::from);
    let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let tmpfs = mounts
        .lines()
        .filter_map(|l| {
            let mut fields = l.split(' ');
            let (_, at, kind) = (fields.next()?, fields.next()?, fields.next()?);
            Some((at, kind))
        })
        .filter(|(at, _)| real.starts_with(at))
        .max_by_key(|(at, _)| at.len())
        .is_some_and(|(_, kind)| kind == "tmpfs");
    (dir, if tmpfs { "tmpfs" } else { "disk" })
}

fn issue(c: &mut Criterion) {
    let (dir, kind) = bench_dir();
    let dir = dir.join(format!("shopkeep-bench-invoices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut group = c.benchmark_group("issue");
    // A sample on disk at FULL durability is a few fsyncs per issue: keep the count modest.
    group.sample_size(20);
    for (durability, name) in [(Durability::Normal, "NORMAL"), (Durability::Full, "FULL")] {
        let label = format!("{kind}-{name}");
        // Each side is set up on first use (criterion skips what a filter excludes), and
        // closed before the other runs.
        let mut ours: Option<Shop> = None;
        group.bench_function(BenchmarkId::new("shopkeep", &label), |b| {
            let shop = ours.get_or_insert_with(|| {
                let mut shop = Shop::open(&dir.join(format!("shopkeep-{name}.db")), durability);
                shop.fill(pool_size());
                shop
            });
            b.iter_custom(|iters| shopkeep_issue(shop, iters));
        });
        drop(ours);
        let mut theirs: Option<Baseline> = None;
        group.bench_function(BenchmarkId::new("baseline", &label), |b| {
            let base = theirs.get_or_insert_with(|| {
                Baseline::open(&dir.join(format!("baseline-{name}.db")), durability)
            });
            b.iter_custom(|iters| baseline_issue(base, iters));
        });
        drop(theirs);
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, render, issue);
criterion_main!(benches);
