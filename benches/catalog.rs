//! The catalogue beside hand-written rusqlite doing the same work: the same statements (the
//! transaction's `BEGIN` and `COMMIT` included) on the same rows of the same file, read into
//! owned values. The ratio of the two is shopkeep's cost: authorisation, the reader pool, typed
//! models, and for writes the audit entry (whose HMAC the baseline computes too).
//!
//! The database (100,000 products, one variant and one price each) is built once per run on
//! tmpfs (`/dev/shm`, or the temp dir where there is none), so fsync does not hide our cost.
//!
//! `cargo bench --bench catalog` (tmpfs), or
//! `SHOPKEEP_BENCH_DIR=/var/tmp cargo bench --bench catalog` (a disk, at full durability).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs
)]

mod support;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use shopkeep::catalog::{Cursor, ProductId, ProductQuery, StockChange, VariantId};
use shopkeep::clock::{Clock, SystemClock};
use shopkeep::store::Durability;
use shopkeep::{KeyRing, Principal, Store};

const PRODUCTS: u64 = 100_000;
const MASTER: [u8; 32] = [42; 32];

const ADJECTIVES: &[&str] = &[
    "red", "blue", "green", "black", "white", "large", "small", "classic", "modern", "rustic",
    "handmade", "vintage", "matte", "glossy", "striped", "dotted", "slim", "heavy", "light",
    "tall",
];
const MATERIALS: &[&str] = &[
    "stoneware",
    "porcelain",
    "glass",
    "steel",
    "oak",
    "walnut",
    "bamboo",
    "linen",
    "cotton",
    "wool",
    "leather",
    "copper",
    "brass",
    "clay",
    "marble",
    "cork",
    "felt",
    "silk",
    "jute",
    "tin",
];
const NOUNS: &[&str] = &[
    "mug", "cup", "plate", "bowl", "teapot", "jug", "vase", "tray", "board", "spoon", "fork",
    "knife", "napkin", "apron", "towel", "basket", "lamp", "candle", "frame", "clock", "stool",
    "shelf", "hook", "box", "jar", "bottle", "glass", "pan", "pot", "kettle",
];
const WORDS: &[&str] = &[
    "made",
    "by",
    "hand",
    "in",
    "small",
    "batches",
    "from",
    "durable",
    "material",
    "that",
    "lasts",
    "for",
    "years",
    "easy",
    "to",
    "clean",
    "dishwasher",
    "safe",
    "gift",
    "idea",
    "kitchen",
    "table",
    "everyday",
    "use",
    "sustainably",
    "sourced",
    "fair",
    "trade",
    "design",
    "studio",
    "berlin",
    "lisbon",
    "colour",
    "may",
    "vary",
    "slightly",
    "each",
    "piece",
    "unique",
    "care",
];

fn pick<'a>(list: &[&'a str], n: u64) -> &'a str {
    list[usize::try_from(n % list.len() as u64).unwrap()]
}

/// A deterministic pseudo-random sequence (SplitMix64), so both sides see the same ids.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A version-7 UUID `i` milliseconds after 2026-01-01, so ids are time-ordered like shopkeep's.
fn uuid_bytes(i: u64, salt: u64) -> [u8; 16] {
    let r = mix(i ^ salt).to_be_bytes();
    let random = [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], 0, 1];
    *uuid::Builder::from_unix_timestamp_millis(1_767_225_600_000 + i, &random)
        .into_uuid()
        .as_bytes()
}

/// `SHOPKEEP_BENCH_DIR` puts the database on a disk of your choosing (for the figures at
/// full durability on a real file system); by default it goes on tmpfs.
fn bench_dir() -> PathBuf {
    let base = std::env::var_os("SHOPKEEP_BENCH_DIR").map_or_else(support::tmpfs, PathBuf::from);
    let dir = base.join(format!("shopkeep-bench-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Creates the schema through shopkeep, then fills it with raw SQL in one transaction (the
/// fast bulk path), through shopkeep's own tables so that shopkeep reads it as its own.
fn build(path: &Path) {
    drop(Store::open(path, KeyRing::from_master_key(MASTER)).unwrap());
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut sku = tx
            .prepare("INSERT INTO shopkeep_skus (sku, product_id) VALUES (?1, ?2)")
            .unwrap();
        let mut product = tx
            .prepare(
                "INSERT INTO shopkeep_products (seq, id, sku, name, description, tax_category, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'standard', ?6, ?7, ?7)",
            )
            .unwrap();
        let mut fts = tx
            .prepare(
                "INSERT INTO shopkeep_products_fts (rowid, name, description) VALUES (?1, ?2, ?3)",
            )
            .unwrap();
        let mut variant = tx
            .prepare(
                "INSERT INTO shopkeep_variants (id, product_id, sku, position, options, tracked, stock, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 0, '[]', 1, ?4, ?5, ?5)",
            )
            .unwrap();
        let mut price = tx
            .prepare(
                "INSERT INTO shopkeep_prices (variant_id, currency, amount) VALUES (?1, 'EUR', ?2)",
            )
            .unwrap();
        let at = "2026-01-01T00:00:00.000000Z";
        for i in 0..PRODUCTS {
            let r = mix(i);
            let id = uuid_bytes(i, 1);
            let variant_id = uuid_bytes(i, 2);
            let code = format!("SKU-{i:06}");
            let name = format!(
                "{} {} {}",
                pick(ADJECTIVES, r),
                pick(MATERIALS, r >> 8),
                pick(NOUNS, r >> 16)
            );
            let description: Vec<&str> = (0..15).map(|w| pick(WORDS, mix(r + w))).collect();
            let description = description.join(" ");
            // One product in 50 is archived: visitors skip it.
            let status = if r.is_multiple_of(50) {
                "archived"
            } else {
                "active"
            };
            let seq = i64::try_from(i + 1).unwrap();
            sku.execute(params![code, id]).unwrap();
            product
                .execute(params![seq, id, code, name, description, status, at])
                .unwrap();
            fts.execute(params![seq, name, description]).unwrap();
            variant
                .execute(params![
                    variant_id,
                    id,
                    code,
                    i64::try_from(r % 20).unwrap(),
                    at
                ])
                .unwrap();
            price
                .execute(params![
                    variant_id,
                    i64::try_from(100 + r % 10_000).unwrap()
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

/// What the baseline reads of a product row: owned values, as a host would keep them.
#[allow(dead_code)]
struct Row {
    id: Vec<u8>,
    sku: String,
    name: String,
    description: String,
    tax_category: String,
    status: String,
    created_at: String,
    updated_at: String,
    version: i64,
    variant_id: Vec<u8>,
    variant_sku: String,
    options: String,
    tracked: bool,
    stock: i64,
    threshold: Option<i64>,
    currency: Option<String>,
    amount: Option<i64>,
}

fn read_rows(mut rows: rusqlite::Rows<'_>) -> Vec<Row> {
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        out.push(Row {
            id: r.get(0).unwrap(),
            sku: r.get(1).unwrap(),
            name: r.get(2).unwrap(),
            description: r.get(3).unwrap(),
            tax_category: r.get(4).unwrap(),
            status: r.get(5).unwrap(),
            created_at: r.get(6).unwrap(),
            updated_at: r.get(7).unwrap(),
            version: r.get(8).unwrap(),
            variant_id: r.get(9).unwrap(),
            variant_sku: r.get(10).unwrap(),
            options: r.get(11).unwrap(),
            tracked: r.get(12).unwrap(),
            stock: r.get(13).unwrap(),
            threshold: r.get(14).unwrap(),
            currency: r.get(15).unwrap(),
            amount: r.get(16).unwrap(),
        });
    }
    out
}

const COLUMNS: &str = "p.id, p.sku, p.name, p.description, p.tax_category, p.status, \
     p.created_at, p.updated_at, p.version, v.id, v.sku, v.options, v.tracked, v.stock, \
     v.low_stock_threshold, pr.currency, pr.amount";
const JOINS: &str = "JOIN shopkeep_variants v ON v.product_id = p.id \
     LEFT JOIN shopkeep_prices pr ON pr.variant_id = v.id";

/// Runs `f` in a transaction opened with `begin`, as `Store::read` and `Store::write` do.
fn in_tx<T>(conn: &Connection, begin: &str, f: impl FnOnce(&Connection) -> T) -> T {
    conn.execute_batch(begin).unwrap();
    let out = f(conn);
    conn.execute_batch("COMMIT").unwrap();
    out
}

fn catalog(c: &mut Criterion) {
    let dir = bench_dir();
    let path = dir.join("catalog.db");
    let started = std::time::Instant::now();
    build(&path);
    eprintln!(
        "built {PRODUCTS} products in {:.1?} at {}",
        started.elapsed(),
        path.display()
    );

    let store = Store::open(&path, KeyRing::from_master_key(MASTER)).unwrap();
    let visitor = Principal::anonymous();
    let baseline = support::baseline_connection(&path, Durability::Full);

    // The same 1,000 active products for both sides to fetch, in the same order.
    let products = store.products(&visitor);
    let ids: Vec<[u8; 16]> = (0..PRODUCTS)
        .map(|i| mix(i + 7) % PRODUCTS)
        .filter(|&i| !mix(i).is_multiple_of(50))
        .take(1000)
        .map(|i| uuid_bytes(i, 1))
        .collect();
    let product_ids: Vec<ProductId> = ids
        .iter()
        .map(|b| ProductId::parse(&uuid::Uuid::from_bytes(*b).to_string()).unwrap())
        .collect();

    let mut group = c.benchmark_group("catalog get product by id");
    let mut n = 0;
    group.bench_function("shopkeep", |b| {
        b.iter(|| {
            n += 1;
            black_box(products.get(product_ids[n % product_ids.len()]).unwrap())
        })
    });
    let get_sql = format!(
        "SELECT {COLUMNS} FROM shopkeep_products p {JOINS}
         WHERE p.id = ?1 ORDER BY v.position, pr.currency"
    );
    let mut n = 0;
    group.bench_function("rusqlite baseline", |b| {
        b.iter(|| {
            n += 1;
            let id = &ids[n % ids.len()];
            let rows = in_tx(&baseline, "BEGIN DEFERRED", |conn| {
                let mut stmt = conn.prepare_cached(&get_sql).unwrap();
                read_rows(stmt.query([id.as_slice()]).unwrap())
            });
            assert_eq!(rows[0].status, "active");
            black_box(rows)
        })
    });
    group.finish();

    // Page positions: the last product of 100 consecutive pages of 50, from shopkeep itself.
    let mut positions: Vec<(Option<Cursor>, Option<[u8; 16]>)> = vec![(None, None)];
    let mut query = ProductQuery::new().limit(50);
    for _ in 0..100 {
        let page = products.list(&query).unwrap();
        let cursor = page.next_cursor().unwrap().clone();
        positions.push((
            Some(cursor.clone()),
            page.items().last().map(|p| support::id_bytes(p.id())),
        ));
        query = ProductQuery::new().limit(50).after(cursor);
    }
    let mut group = c.benchmark_group("catalog page of 50 by keyset");
    let mut n = 0;
    group.bench_function("shopkeep", |b| {
        b.iter(|| {
            n += 1;
            let mut query = ProductQuery::new().limit(50);
            if let (Some(cursor), _) = &positions[n % positions.len()] {
                query = query.after(cursor.clone());
            }
            let page = products.list(&query).unwrap();
            assert_eq!(page.items().len(), 50);
            black_box(page)
        })
    });
    let page_sql = |after: bool| {
        let condition = if after { " AND p.id > ?" } else { "" };
        format!(
            "WITH page AS (
                 SELECT p.id FROM shopkeep_products p WHERE 1 = 1 AND p.status = 'active'{condition}
                 ORDER BY p.id ASC LIMIT ?
             )
             SELECT {COLUMNS} FROM page JOIN shopkeep_products p ON p.id = page.id {JOINS}
             ORDER BY p.id ASC, v.position, pr.currency"
        )
    };
    let (first_sql, next_sql) = (page_sql(false), page_sql(true));
    let mut n = 0;
    group.bench_function("rusqlite baseline", |b| {
        b.iter(|| {
            n += 1;
            let rows = in_tx(&baseline, "BEGIN DEFERRED", |conn| {
                match &positions[n % positions.len()].1 {
                    Some(after) => {
                        let mut stmt = conn.prepare_cached(&next_sql).unwrap();
                        read_rows(stmt.query(params![after, 51]).unwrap())
                    }
                    None => {
                        let mut stmt = conn.prepare_cached(&first_sql).unwrap();
                        read_rows(stmt.query(params![51]).unwrap())
                    }
                }
            });
            assert_eq!(rows.len(), 51);
            black_box(rows)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("catalog full-text search over 100k");
    group.sample_size(50);
    let searches = [
        "stoneware mug",
        "blue cotton",
        "handmade tea",
        "oak boa",
        "glass jar",
    ];
    for text in searches {
        assert_eq!(products.search(text, 20).unwrap().len(), 20, "{text}");
    }
    let mut n = 0;
    group.bench_function("shopkeep", |b| {
        b.iter(|| {
            n += 1;
            black_box(products.search(searches[n % searches.len()], 20).unwrap())
        })
    });
    let search_sql = format!(
        "WITH hits AS (
             SELECT p.id, f.rank AS rank
             FROM shopkeep_products_fts f JOIN shopkeep_products p ON p.seq = f.rowid
             WHERE shopkeep_products_fts MATCH ?1 AND p.status = 'active'
             ORDER BY f.rank LIMIT ?2
         )
         SELECT {COLUMNS} FROM hits JOIN shopkeep_products p ON p.id = hits.id {JOINS}
         ORDER BY hits.rank, p.id, v.position, pr.currency"
    );
    // The FTS5 queries shopkeep makes of the same texts.
    let fts: Vec<String> = searches
        .iter()
        .map(|s| {
            let words: Vec<String> = s.split(' ').map(|w| format!("\"{w}\"")).collect();
            format!("{}*", words.join(" "))
        })
        .collect();
    let mut n = 0;
    group.bench_function("rusqlite baseline", |b| {
        b.iter(|| {
            n += 1;
            let query = &fts[n % fts.len()];
            black_box(in_tx(&baseline, "BEGIN DEFERRED", |conn| {
                let mut stmt = conn.prepare_cached(&search_sql).unwrap();
                read_rows(stmt.query(params![query, 20]).unwrap())
            }))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("catalog stock adjustment");
    group.measurement_time(Duration::from_secs(8));
    let system = store.system();
    let stock = store.stock(&system);
    let variants: Vec<VariantId> = ids
        .iter()
        .take(100)
        .map(|b| {
            let id = uuid::Uuid::from_bytes(*b).to_string();
            products
                .get(ProductId::parse(&id).unwrap())
                .unwrap()
                .variants()[0]
                .id()
        })
        .collect();
    let mut n = 0;
    group.bench_function("shopkeep", |b| {
        b.iter(|| {
            n += 1;
            black_box(
                stock
                    .adjust(variants[n % variants.len()], StockChange::receipt(1))
                    .unwrap(),
            )
        })
    });
    // The baseline chains its audit rows like shopkeep, with a key of its own.
    let audit_key = [7u8; 32];
    let raw_variants: Vec<[u8; 16]> = variants.iter().map(support::id_bytes).collect();
    let mut n = 0;
    group.bench_function("rusqlite baseline", |b| {
        b.iter(|| {
            n += 1;
            let variant = &variants[n % variants.len()];
            let raw_variant = &raw_variants[n % variants.len()];
            // Each write reads the clock, as shopkeep stamps its ledger and audit rows.
            let now = SystemClock.now().to_rfc3339();
            in_tx(&baseline, "BEGIN IMMEDIATE", |conn| {
                let level: i64 = conn
                    .prepare_cached(
                        "UPDATE shopkeep_variants SET stock = stock + ?1
                         WHERE id = ?2 AND tracked = 1
                         RETURNING stock, low_stock_threshold, product_id, sku",
                    )
                    .unwrap()
                    .query_row(params![1, raw_variant], |r| r.get(0))
                    .unwrap();
                let seq: i64 = conn
                    .prepare_cached(
                        "INSERT INTO shopkeep_stock_ledger
                             (variant_id, reason, delta, level_after, note, principal, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
                    )
                    .unwrap()
                    .query_row(
                        params![
                            raw_variant,
                            "receipt",
                            1,
                            level,
                            None::<String>,
                            "system",
                            now
                        ],
                        |r| r.get(0),
                    )
                    .unwrap();
                support::audit(
                    conn,
                    &audit_key,
                    &now,
                    "system",
                    "adjust_stock",
                    &format!("stock:{variant}"),
                );
                black_box(seq)
            })
        })
    });
    group.finish();

    drop((baseline, store));
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = catalog
}
criterion_main!(benches);
