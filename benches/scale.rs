//! Reads at scale: each read the API serves, timed on one database as it grows through the
//! order counts of `SHOPKEEP_SCALE_SIZES` (default `10000,100000`), and its cost at the
//! largest size as a ratio of its cost at the smallest (the target: at most 1.5×, flat). Then,
//! for the largest database: bytes on disk per order, `Store::backup_to` time, open time, and
//! the time to open a copy at the previous schema version (which runs the last migration).
//!
//! The fill: a shop is set up through the API (200 products, 50 buyers and 50 real sales, each
//! checked out, paid and invoiced, and a probe customer whose 5 orders the reads ask for, one
//! of them shipped: the rare status). The remaining orders are copies of the 50 real sales,
//! written by SQL in one transaction per 10,000 orders: every row a sale writes (order, lines,
//! VAT rows, payment, invoice, invoice lines, stock ledger, outbox events, audit entries) with
//! fresh keys, numbers and ids, assigned to the 50 buyers, status `paid`. Copies are weight:
//! their ciphertexts and MACs are bound to the rows they were copied from, so the reads ask
//! only for rows the API wrote (copies have ids older than every real row, so they never
//! appear on the first page of a newest-first list), and the audit chain of the filled file
//! does not verify.
//!
//! After each fill the WAL is checkpointed and the file synced. Each read runs
//! `SHOPKEEP_SCALE_READS` times (default 200) after one warm-up call, in three rounds over all
//! reads, and its best round is kept: the cache is warm, as a shop's is. `SHOPKEEP_BENCH_DISK` (default `/var/tmp`) holds the file.
//!
//! `cargo bench --bench scale`; `SHOPKEEP_SCALE_SIZES=10000,100000,1000000` for the 1M run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    missing_docs
)]

#[path = "../tests/common/newer_tables.rs"]
mod newer_tables;
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use shopkeep::access::CustomerId;
use shopkeep::catalog::{NewProduct, ProductId, ProductQuery, Sku, StockChange, TaxCategory};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::customers::{Address, Country, NewCustomer};
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, OrderId, OrderQuery, OrderStatus};
use shopkeep::orders::{Payment, Shipment};
use shopkeep::store::Durability;
use shopkeep::{Currency, Email, KeyRing, Money, Principal, Store};

const PRODUCTS: usize = 200;
const BUYERS: usize = 50;
const BATCH: u64 = 10_000;
const MASTER: [u8; 32] = [42; 32];

fn open_store(path: &Path) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .durability(Durability::Full)
        .open(path, KeyRing::from_master_key(MASTER))
        .unwrap()
}

fn register(store: &Store, email: &str) -> CustomerId {
    let address = Address::new(
        "Ana Example",
        "Main St 1",
        "Berlin",
        Country::parse("DE").unwrap(),
    )
    .unwrap();
    let new = NewCustomer::new(
        Email::parse(email).unwrap(),
        Password::new("a perfectly long bench passphrase"),
        "Ana Example",
    )
    .unwrap()
    .shipping_address(address);
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id()
}

/// What the reads ask for: rows the API wrote.
struct Probe {
    product: ProductId,
    customer: CustomerId,
    order: OrderId,
    invoiced: OrderId,
    /// Audit entries and outbox events one real sale wrote (checkout, payment, invoice).
    each: (u64, u64),
}

fn rows(store: &Store, table: &str) -> u64 {
    let conn = Connection::open(store.path().unwrap()).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn sale(
    store: &Store,
    customer: CustomerId,
    variant: shopkeep::catalog::VariantId,
    key: &str,
) -> OrderId {
    let system = store.system();
    store
        .carts(&system)
        .add(CartRef::Customer(customer), variant, 2)
        .unwrap();
    let order = store
        .orders(&system)
        .checkout(Checkout::from_cart(
            customer,
            IdempotencyKey::new(key).unwrap(),
        ))
        .unwrap()
        .into_order();
    let payment = Payment::new(&format!("psp-{key}"), order.total()).unwrap();
    store
        .orders(&system)
        .mark_paid(order.id(), payment)
        .unwrap();
    order.id()
}

/// The shop the API sets up; returns what the reads probe.
fn setup(store: &Store) -> Probe {
    let system = store.system();
    let settings = support::shop_settings(support::seller()).build().unwrap();
    store.settings(&system).update(0, &settings).unwrap();
    let mut variants = Vec::new();
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        // "mug" is in every name (the common word); "kestrel" in one (the rare word).
        let name = if i == PRODUCTS / 2 {
            format!("Kestrel mug {i}")
        } else {
            format!("Mug {i}")
        };
        let new = NewProduct::new(
            Sku::parse(&format!("MUG-{i}")).unwrap(),
            &name,
            TaxCategory::Standard,
        )
        .unwrap()
        .description("Stoneware mug, 350 ml, dishwasher safe")
        .price(Money::parse("9.90", Currency::EUR).unwrap());
        let made = store.products(&system).create(new).unwrap();
        let v = made.variants()[0].id();
        store
            .stock(&system)
            .adjust(v, StockChange::receipt(1_000_000_000))
            .unwrap();
        variants.push(v);
        products.push(made.id());
    }
    let buyers: Vec<_> = (0..BUYERS)
        .map(|i| register(store, &format!("buyer{i}@example.com")))
        .collect();
    let before = (
        rows(store, "shopkeep_audit"),
        rows(store, "shopkeep_outbox"),
    );
    for (i, buyer) in buyers.iter().enumerate() {
        let order = sale(
            store,
            *buyer,
            variants[i % PRODUCTS],
            &format!("template-{i}"),
        );
        store.invoices(&system).issue(order).unwrap();
    }
    let sales = BUYERS as u64;
    let each = (
        (rows(store, "shopkeep_audit") - before.0) / sales,
        (rows(store, "shopkeep_outbox") - before.1) / sales,
    );
    let customer = register(store, "probe@example.com");
    let orders: Vec<_> = variants
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, v)| sale(store, customer, *v, &format!("probe-{i}")))
        .collect();
    store.invoices(&system).issue(orders[1]).unwrap();
    store
        .orders(&system)
        .ship(orders[0], Shipment::new())
        .unwrap();
    Probe {
        product: products[PRODUCTS / 3],
        customer,
        order: orders[2],
        invoiced: orders[1],
        each,
    }
}

/// Column names of `table`, in order.
fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `INSERT INTO table SELECT` every column of the rows `from` selects (as `t`), with the
/// expressions of `overrides` in place of those columns.
fn copy(conn: &Connection, table: &str, from: &str, overrides: &[(&str, &str)]) {
    let cols = columns(conn, table);
    let exprs: Vec<String> = cols
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(name, _)| name == c)
                .map_or_else(|| format!("t.{c}"), |(_, e)| (*e).to_owned())
        })
        .collect();
    conn.execute_batch(&format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {from}",
        cols.join(", "),
        exprs.join(", ")
    ))
    .unwrap();
}

/// Copies of the template sales until the database holds `target` orders, one transaction
/// per [`BATCH`]. `next` numbers the copies; `each` is how many audit entries and outbox events
/// a copy gets.
fn fill(path: &Path, target: u64, next: &mut u64, each: (u64, u64)) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA trusted_schema = OFF;")
        .unwrap();
    conn.create_scalar_function(
        "shopkeep_now",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |_| Ok(String::from("2026-12-01T00:00:00Z")),
    )
    .unwrap();
    // The template sales: the first 50 orders, each with its invoice.
    conn.execute_batch(
        "CREATE TEMP TABLE template AS
             SELECT row_number() OVER (ORDER BY o.number) - 1 AS k,
                    o.id AS order_id, i.id AS invoice_id
             FROM (SELECT id, number FROM shopkeep_orders ORDER BY number LIMIT 50) o
             JOIN shopkeep_invoices i ON i.order_id = o.id;",
    )
    .unwrap();
    let templates = conn
        .query_row("SELECT count(*) FROM temp.template", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64;
    let (audit_each, outbox_each) = each;
    let ledger_each = 1;
    loop {
        let orders = conn
            .query_row("SELECT count(*) FROM shopkeep_orders", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as u64;
        if orders >= target {
            break;
        }
        let n = BATCH.min(target - orders);
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.execute_batch(
            "DROP TABLE IF EXISTS temp.map;
             CREATE TEMP TABLE map (n INTEGER PRIMARY KEY, old_order BLOB, new_order BLOB,
                                    old_invoice BLOB, new_invoice BLOB, customer BLOB);",
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?2)
             INSERT INTO temp.map
             SELECT ?1 + i, t.order_id,
                    unhex('0000' || printf('%016x', ?1 + i) || '000000000000'),
                    t.invoice_id,
                    unhex('0001' || printf('%016x', ?1 + i) || '000000000000'),
                    (SELECT customer_id FROM shopkeep_orders WHERE id = t.order_id)
             FROM seq JOIN temp.template t ON t.k = (?1 + i) % ?3",
            params![*next as i64, n as i64, templates as i64],
        )
        .unwrap();
        copy(
            &conn,
            "shopkeep_orders",
            "shopkeep_orders t JOIN temp.map m ON t.id = m.old_order",
            &[
                ("id", "m.new_order"),
                ("number", "100000000 + m.n"),
                ("customer_id", "m.customer"),
            ],
        );
        for table in ["shopkeep_order_lines", "shopkeep_order_vat"] {
            copy(
                &conn,
                table,
                &format!("{table} t JOIN temp.map m ON t.order_id = m.old_order"),
                &[("order_id", "m.new_order")],
            );
        }
        copy(
            &conn,
            "shopkeep_order_payments",
            "shopkeep_order_payments t JOIN temp.map m ON t.order_id = m.old_order",
            &[
                ("order_id", "m.new_order"),
                ("gateway_reference", "'fill-' || m.n"),
            ],
        );
        copy(
            &conn,
            "shopkeep_invoices",
            "shopkeep_invoices t JOIN temp.map m ON t.id = m.old_invoice",
            &[
                ("id", "m.new_invoice"),
                ("order_id", "m.new_order"),
                ("number", "'FILL-' || m.n"),
                ("seq", "1000000000 + m.n"),
                ("customer_id", "m.customer"),
            ],
        );
        copy(
            &conn,
            "shopkeep_invoice_lines",
            "shopkeep_invoice_lines t JOIN temp.map m ON t.invoice_id = m.old_invoice",
            &[("invoice_id", "m.new_invoice")],
        );
        // Audit entries, outbox events and ledger rows: as many per copy as a real sale wrote,
        // copied from the last real ones.
        let audit_base: i64 = conn
            .query_row("SELECT max(seq) FROM shopkeep_audit", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        copy(
            &conn,
            "shopkeep_audit",
            &format!(
                "(SELECT a.*, row_number() OVER () AS r FROM temp.map m
                        JOIN (SELECT * FROM shopkeep_audit ORDER BY seq LIMIT {audit_each}) a) t"
            ),
            &[("seq", &format!("{audit_base} + t.r"))],
        );
        copy(&conn, "shopkeep_outbox",
             &format!("(SELECT o.*, m.n AS n FROM temp.map m
                        JOIN (SELECT * FROM shopkeep_outbox ORDER BY seq DESC LIMIT {outbox_each}) o) t"),
             &[("seq", "NULL"), ("id", "randomblob(16)"), ("acked_at", "t.created_at")]);
        copy(
            &conn,
            "shopkeep_stock_ledger",
            &format!(
                "(SELECT l.*, m.n AS n FROM temp.map m
                        JOIN (SELECT * FROM shopkeep_stock_ledger WHERE reason = 'sale'
                              ORDER BY seq DESC LIMIT {ledger_each}) l) t"
            ),
            &[("seq", "NULL")],
        );
        conn.execute_batch("COMMIT").unwrap();
        *next += n;
    }
    // Back to the state a shop's file is in between its writes: the WAL checkpointed into the
    // file (shopkeep's connections checkpoint every 256 pages) and the file on disk, so that
    // the reads are not timed against the write-back of the fill.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    std::fs::File::open(path).unwrap().sync_all().unwrap();
}

/// Mean time of `f` over `reads` calls, after one warm-up call.
fn time(reads: usize, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..reads {
        f();
    }
    start.elapsed() / reads as u32
}

type Read<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn reads<'a>(
    store: &'a Store,
    probe: &'a Probe,
    system: &'a Principal,
    visitor: &'a Principal,
) -> Vec<Read<'a>> {
    vec![
        (
            "product by id",
            Box::new(move || drop(store.products(visitor).get(probe.product).unwrap())),
        ),
        (
            "product page of 50",
            Box::new(move || {
                drop(
                    store
                        .products(visitor)
                        .list(&ProductQuery::new().limit(50))
                        .unwrap(),
                )
            }),
        ),
        (
            "search, common word (top 20)",
            Box::new(move || drop(store.products(visitor).search("mug", 20).unwrap())),
        ),
        (
            "search, rare word",
            Box::new(move || drop(store.products(visitor).search("kestrel", 20).unwrap())),
        ),
        (
            "order by id",
            Box::new(move || drop(store.orders(system).get(probe.order).unwrap())),
        ),
        (
            "order by number",
            Box::new({
                let number = store.orders(system).get(probe.order).unwrap().number();
                move || drop(store.orders(system).by_number(number).unwrap())
            }),
        ),
        (
            "list_for customer, first page",
            Box::new(move || {
                drop(
                    store
                        .orders(system)
                        .list_for(probe.customer, None, 20)
                        .unwrap(),
                )
            }),
        ),
        (
            "staff list, rare status",
            Box::new(move || {
                drop(
                    store
                        .orders(system)
                        .list(&OrderQuery::new().status(OrderStatus::Shipped).limit(20))
                        .unwrap(),
                )
            }),
        ),
        (
            "invoices.for_order",
            Box::new(move || drop(store.invoices(system).for_order(probe.invoiced).unwrap())),
        ),
        (
            "customer by id",
            Box::new(move || drop(store.customers(system).get(probe.customer).unwrap())),
        ),
    ]
}

fn file_size(path: &Path) -> u64 {
    let mut total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        total += std::fs::metadata(PathBuf::from(p))
            .map(|m| m.len())
            .unwrap_or(0);
    }
    total
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn main() {
    // `cargo test --benches` runs this without `--bench`: a tiny smoke run only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<u64> = std::env::var("SHOPKEEP_SCALE_SIZES")
        .unwrap_or_else(|_| {
            if quick {
                "100,200".into()
            } else {
                "10000,100000".into()
            }
        })
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let reads_each: usize = std::env::var("SHOPKEEP_SCALE_READS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 3 } else { 200 });
    let dir = std::env::var_os("SHOPKEEP_BENCH_DISK")
        .map_or_else(|| PathBuf::from("/var/tmp"), PathBuf::from);
    let path = dir.join(format!("shopkeep-scale-{}.db", std::process::id()));
    remove_db(&path);
    let store = open_store(&path);
    let probe = setup(&store);
    let system = store.system();
    let visitor = Principal::anonymous();
    let mut next = 0;
    let each = probe.each;
    println!(
        "per copied sale: {} audit entries, {} outbox events",
        each.0, each.1
    );
    let mut table: Vec<(&str, Vec<Duration>)> = Vec::new();
    for &size in &sizes {
        let start = Instant::now();
        fill(&path, size, &mut next, each);
        println!("filled to {size} orders in {:.1?}", start.elapsed());
        // Three rounds over all reads, each read's best round kept: a neighbour's burst on the
        // shared machine lands in one round, not in the figure.
        let mut reads = reads(&store, &probe, &system, &visitor);
        let mut best = vec![Duration::MAX; reads.len()];
        for _ in 0..3 {
            for (i, (_, f)) in reads.iter_mut().enumerate() {
                best[i] = best[i].min(time(reads_each, f));
            }
        }
        for (i, ((name, _), t)) in reads.iter().zip(best).enumerate() {
            if table.len() <= i {
                table.push((*name, Vec::new()));
            }
            table[i].1.push(t);
        }
    }
    println!(
        "\n| read | {} | largest / smallest |",
        sizes
            .iter()
            .map(|s| format!("{s} orders"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}---|", "---|".repeat(sizes.len()));
    for (name, times) in &table {
        let ratio = times.last().unwrap().as_secs_f64() / times[0].as_secs_f64();
        println!(
            "| {name} | {} | {ratio:.2}× |",
            times
                .iter()
                .map(|t| format!("{:.1} µs", t.as_secs_f64() * 1e6))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    let largest = *sizes.last().unwrap();
    // Size per order: the file after a checkpoint, over its orders.
    drop(store);
    let conn = Connection::open(&path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let bytes = file_size(&path);
    println!(
        "\nlargest database: {largest} orders, {:.1} MB, {} bytes per order",
        bytes as f64 / 1e6,
        bytes / largest
    );
    let start = Instant::now();
    let store = open_store(&path);
    println!("open: {:.1?}", start.elapsed());
    let backup = dir.join(format!("shopkeep-scale-{}-backup.db", std::process::id()));
    remove_db(&backup);
    let start = Instant::now();
    store.backup_to(&backup).unwrap();
    println!(
        "backup_to (VACUUM INTO, integrity check, fsync): {:.1?}",
        start.elapsed()
    );
    drop(store);
    // The backup, taken back to schema version 14: opening it runs migration 0015, which builds
    // the query indexes over the filled tables (the migration whose cost grows with the shop),
    // and every later one. Each later migration's objects are dropped here.
    let conn = Connection::open(&backup).unwrap();
    conn.execute_batch(newer_tables::DROP_TABLES_SINCE_22)
        .unwrap();
    conn.execute_batch(
        "DROP INDEX shopkeep_invoices_by_order;
         DROP INDEX shopkeep_orders_for_reports;
         DROP INDEX shopkeep_products_by_status;
         DROP INDEX shopkeep_products_by_tax_category;
         DROP INDEX shopkeep_products_by_status_tax_category;
         DROP INDEX shopkeep_customers_erased;
         DROP TABLE shopkeep_lead_activities;
         DROP TABLE shopkeep_lead_tokens;
         DROP TABLE shopkeep_leads;
         DROP TABLE shopkeep_webhook_attempts;
         DROP TABLE shopkeep_webhook_deliveries;
         DROP TABLE shopkeep_webhook_subscriptions;
         DROP TABLE shopkeep_webhook_endpoints;
         DROP TABLE shopkeep_webhook_cursor;
         DROP TABLE shopkeep_gateway_events;
         DROP TABLE shopkeep_gateway_payments;
         DROP TABLE shopkeep_gateway_refunds;
         DROP TABLE shopkeep_gateway_disputes;
         DROP INDEX shopkeep_order_payments_by_paid_at;
         DELETE FROM shopkeep_schema WHERE version >= 15;",
    )
    .unwrap();
    drop(conn);
    let start = Instant::now();
    drop(open_store(&backup));
    println!(
        "open at schema version 14 (runs migrations 0015, the query indexes, to the latest): {:.1?}",
        start.elapsed()
    );
    remove_db(&backup);
    remove_db(&path);
}
