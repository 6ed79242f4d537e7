//! A 3-line checkout through shopkeep beside hand-written rusqlite doing the same work in the
//! same run: the same statements (BEGIN IMMEDIATE to COMMIT) on the same tables of a file
//! with the same schema: idempotency lookup and purge, settings, the customer's profile and
//! address (decrypted), the cart, the catalogue prices, the order number, the encrypted buyer
//! snapshot, the order, its lines and VAT rows, the stock decrements and ledger rows, the
//! idempotency record, the outbox event, the HMAC-chained audit entry, emptying the cart.
//! Refilling the cart between checkouts is not timed on either side.
//!
//! It runs on tmpfs (`/dev/shm`) and on disk (`SHOPKEEP_BENCH_DISK`, default `/var/tmp`) at
//! FULL durability, and prints checkouts per second and the ratio.
//!
//! `cargo bench --bench checkout` (`SHOPKEEP_BENCH_N` checkouts per side, default 400).
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

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use aes_gcm::KeyInit;
use rusqlite::{Connection, OptionalExtension, params};
use shopkeep::catalog::ShopSettings;
use shopkeep::clock::{Clock, SystemClock};
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey};
use shopkeep::store::Durability;
use support::{Shop, audit, baseline_connection, mac, open, seal, shop_settings, uuid7};

/// The shop both sides run: a German seller selling at net prices.
fn settings() -> ShopSettings {
    shop_settings(support::seller()).build().unwrap()
}

fn shopkeep_run(s: &Shop, from: usize, n: usize) -> Duration {
    let system = s.store.system();
    let carts = s.store.carts(&system);
    let orders = s.store.orders(&system);
    let mut spent = Duration::ZERO;
    for i in from..from + n {
        for (j, v) in s.variants.iter().enumerate() {
            carts
                .add(CartRef::Customer(s.customer), *v, 1 + j as u32)
                .unwrap();
        }
        let key = IdempotencyKey::new(&format!("bench-{i}")).unwrap();
        let start = Instant::now();
        let order = orders
            .checkout(Checkout::from_cart(s.customer, key))
            .unwrap()
            .into_order();
        spent += start.elapsed();
        std::hint::black_box(order);
    }
    spent
}

/// The hand-written side: its own shop (the same setup, in its own file), a rusqlite
/// connection to that file, and its keys.
struct Baseline {
    shop: Shop,
    conn: Connection,
    cart: Vec<u8>,
    aead: Aes256Gcm,
    mac_key: [u8; 32],
    sealed: Vec<Vec<u8>>,
}

fn baseline(path: &Path, durability: Durability) -> Baseline {
    let shop = Shop::open(path, durability, &settings());
    let conn = baseline_connection(path, durability);
    let cart = uuid7().to_vec();
    conn.execute(
        "INSERT INTO shopkeep_carts (id, customer_id, created_at, updated_at)
         VALUES (?1, ?2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')
         ON CONFLICT (customer_id) DO NOTHING",
        params![cart, support::id_bytes(shop.customer)],
    )
    .unwrap();
    let cart: Vec<u8> = conn
        .query_row(
            "SELECT id FROM shopkeep_carts WHERE customer_id = ?1",
            [support::id_bytes(shop.customer)],
            |r| r.get(0),
        )
        .unwrap();
    let aead = Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
    let sealed = [
        "ana@example.com",
        "Ana Example",
        "{\"recipient\":\"Ana Example\"}",
    ]
    .iter()
    .map(|p| seal(&aead, b"shopkeep_customers", p.as_bytes()))
    .collect();
    Baseline {
        shop,
        conn,
        cart,
        aead,
        mac_key: [9; 32],
        sealed,
    }
}

fn baseline_run(b: &Baseline, from: usize, n: usize) -> Duration {
    let mut spent = Duration::ZERO;
    let c = &b.conn;
    for i in from..from + n {
        for (j, v) in b.shop.variants.iter().enumerate() {
            c.prepare_cached(
                "INSERT INTO shopkeep_cart_lines (cart_id, variant_id, quantity, seq, added_at)
                 VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:00:00Z')",
            )
            .unwrap()
            .execute(params![
                b.cart,
                support::id_bytes(v),
                1 + j as i64,
                j as i64 + 1
            ])
            .unwrap();
        }
        let start = Instant::now();
        baseline_checkout(b, i);
        spent += start.elapsed();
    }
    spent
}

fn baseline_checkout(b: &Baseline, i: usize) {
    let c = &b.conn;
    let customer = support::id_bytes(b.shop.customer);
    let now = SystemClock.now().to_rfc3339();
    let principal = "system";
    let key_hash = mac(
        &b.mac_key,
        &[
            b"idempotency key",
            principal.as_bytes(),
            format!("bench-{i}").as_bytes(),
        ],
    );
    let request_hash = mac(&b.mac_key, &[b"checkout request", b"customer"]);
    c.execute_batch("BEGIN IMMEDIATE").unwrap();
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL)",
    )
    .unwrap()
    .query_row([customer], |r| r.get::<_, bool>(0))
    .unwrap();
    c.prepare_cached("DELETE FROM shopkeep_idempotency WHERE created_at < ?1")
        .unwrap()
        .execute(["2026-01-01T00:00:00Z"])
        .unwrap();
    let replay: Option<Vec<u8>> = c
        .prepare_cached(
            "SELECT request_hash FROM shopkeep_idempotency WHERE principal = ?1 AND key_hash = ?2",
        )
        .unwrap()
        .query_row(params![principal, key_hash], |r| r.get(0))
        .optional()
        .unwrap();
    assert!(replay.is_none());
    let _settings: String = c
        .prepare_cached("SELECT document FROM shopkeep_settings WHERE id = 1")
        .unwrap()
        .query_row([], |r| r.get(0))
        .unwrap();
    let (_email, _name): (Vec<u8>, Vec<u8>) = c
        .prepare_cached("SELECT email, name FROM shopkeep_customers WHERE id = ?1")
        .unwrap()
        .query_row([customer], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let _wrapped: Vec<u8> = c
        .prepare_cached("SELECT wrapped FROM shopkeep_data_keys WHERE subject = 'archive'")
        .unwrap()
        .query_row([], |r| r.get(0))
        .unwrap_or_default();
    let _addresses: Vec<Vec<u8>> = c
        .prepare_cached("SELECT data FROM shopkeep_customer_addresses WHERE customer_id = ?1")
        .unwrap()
        .query_map([customer], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for s in &b.sealed {
        std::hint::black_box(open(&b.aead, b"shopkeep_customers", s));
    }
    let lines: Vec<(Vec<u8>, i64)> = c
        .prepare_cached(
            "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 ORDER BY seq",
        )
        .unwrap()
        .query_map([&b.cart], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut priced = Vec::new();
    for (v, q) in &lines {
        let (name, cat, sku, amount): (String, String, String, i64) = c
            .prepare_cached(
                "SELECT p.name, p.tax_category, v.sku, pr.amount FROM shopkeep_variants v
                 JOIN shopkeep_products p ON p.id = v.product_id
                 LEFT JOIN shopkeep_prices pr ON pr.variant_id = v.id AND pr.currency = 'EUR'
                 WHERE v.id = ?1",
            )
            .unwrap()
            .query_row([v], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        let bp = if cat == "reduced" { 700 } else { 1900 };
        priced.push((v.clone(), name, sku, *q, amount, bp));
    }
    let number: i64 = c
        .prepare_cached(
            "UPDATE shopkeep_order_counter SET next = next + 1 WHERE id = 1 RETURNING next - 1",
        )
        .unwrap()
        .query_row([], |r| r.get(0))
        .unwrap();
    let id = uuid7();
    let snapshot = seal(&b.aead, &id, br#"{"name":"Ana Example","email":"ana@example.com","shipping":{"recipient":"Ana Example"}}"#);
    let mut groups: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut line_net = 0;
    for (_, _, _, q, amount, bp) in &priced {
        *groups.entry(*bp).or_default() += q * amount;
        line_net += q * amount;
    }
    let vat: i64 = groups
        .iter()
        .map(|(bp, net)| (net * bp + 5_000) / 10_000)
        .sum();
    c.prepare_cached(
        "INSERT INTO shopkeep_orders (id, number, customer_id, status, currency, price_mode,
         line_net_total, allowance_total, charge_total, net_total, vat_total, gross_total,
         coupon_code, destination, buyer, placed_at, updated_at)
         VALUES (?1, ?2, ?3, 'placed', 'EUR', 'exclusive', ?4, 0, 0, ?4, ?5, ?6, NULL, 'DE', ?7, ?8, ?8)",
    )
    .unwrap()
    .execute(params![id, number, customer, line_net, vat, line_net + vat, snapshot, now])
    .unwrap();
    for (pos, (v, name, sku, q, amount, bp)) in priced.iter().enumerate() {
        c.prepare_cached(
            "INSERT INTO shopkeep_order_lines (order_id, position, variant_id, sku, name, quantity,
             unit_price, amount, line_net, discount, vat_category, vat_rate_bp, exemption_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 0, 'S', ?9, NULL)",
        )
        .unwrap()
        .execute(params![
            id,
            pos as i64,
            v,
            sku,
            name,
            q,
            amount,
            q * amount,
            bp
        ])
        .unwrap();
    }
    for (bp, net) in &groups {
        c.prepare_cached(
            "INSERT INTO shopkeep_order_vat (order_id, vat_category, vat_rate_bp, exemption_reason,
             lines_net, allowance_net, charges_net, taxable, tax) VALUES (?1, 'S', ?2, NULL, ?3, 0, 0, ?3, ?4)",
        )
        .unwrap()
        .execute(params![id, bp, net, (net * bp + 5_000) / 10_000])
        .unwrap();
    }
    for (v, _, _, q, _, _) in &priced {
        c.prepare_cached(
            "SELECT p.status, v.tracked FROM shopkeep_variants v
             JOIN shopkeep_products p ON p.id = v.product_id WHERE v.id = ?1",
        )
        .unwrap()
        .query_row([v], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
        .unwrap();
        let level: i64 = c
            .prepare_cached(
                "UPDATE shopkeep_variants SET stock = stock - ?1
                 WHERE id = ?2 AND tracked = 1 AND stock >= ?1
                 RETURNING stock, low_stock_threshold, product_id, sku",
            )
            .unwrap()
            .query_row(params![q, v], |r| r.get(0))
            .unwrap();
        c.prepare_cached(
            "INSERT INTO shopkeep_stock_ledger (variant_id, reason, delta, level_after, note, principal, at)
             VALUES (?1, 'sale', ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )
        .unwrap()
        .query_row(params![v, -q, level, format!("order {number}"), principal, now], |r| r.get::<_, i64>(0))
        .unwrap();
    }
    c.prepare_cached(
        "INSERT INTO shopkeep_idempotency (principal, key_hash, request_hash, order_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .unwrap()
    .execute(params![principal, key_hash, request_hash, id, now])
    .unwrap();
    let data = format!(
        r#"{{"order_id":"{}","number":{number},"customer_id":"x","currency":"EUR","net_total":{line_net},"vat_total":{vat},"gross_total":{},"lines":3}}"#,
        uuid::Uuid::from_bytes(id),
        line_net + vat
    );
    c.prepare_cached(
        "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, 'order.placed', 1, ?2, ?3)",
    )
    .unwrap()
    .execute(params![uuid7(), data, now])
    .unwrap();
    let resource = format!("order:{}", uuid::Uuid::from_bytes(id));
    audit(c, &b.mac_key, &now, principal, "place_order", &resource);
    c.prepare_cached("DELETE FROM shopkeep_cart_lines WHERE cart_id = ?1")
        .unwrap()
        .execute([&b.cart])
        .unwrap();
    c.prepare_cached("UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1")
        .unwrap()
        .execute(params![b.cart, now])
        .unwrap();
    // Read the order back, as checkout returns it.
    let _: i64 = c
        .prepare_cached("SELECT count(*) FROM shopkeep_order_lines WHERE order_id = ?1")
        .unwrap()
        .query_row([&id], |r| r.get(0))
        .unwrap();
    std::hint::black_box(open(&b.aead, &id, &snapshot));
    c.execute_batch("COMMIT").unwrap();
}

fn bench_in(dir: &Path, label: &str, durability: Durability, n: usize) {
    let dir = dir.join(format!("shopkeep-bench-checkout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = Shop::open(&dir.join("shopkeep.db"), durability, &settings());
    let theirs = baseline(&dir.join("baseline.db"), durability);
    // Warm up both.
    shopkeep_run(&ours, 0, 20);
    baseline_run(&theirs, 0, 20);
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    let round = 50;
    let mut done = 20;
    while done < 20 + n {
        a += shopkeep_run(&ours, done, round);
        b += baseline_run(&theirs, done, round);
        done += round;
    }
    let count = (done - 20) as f64;
    let ours_rate = count / a.as_secs_f64();
    let base_rate = count / b.as_secs_f64();
    println!(
        "{label:<28} shopkeep {ours_rate:>8.0} checkouts/s   hand-written {base_rate:>8.0} checkouts/s   ratio {:.2}",
        ours_rate / base_rate
    );
    drop(ours);
    drop(theirs);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: do a tiny smoke run only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = std::env::var("SHOPKEEP_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 50 } else { 400 });
    let tmpfs = support::tmpfs();
    bench_in(&tmpfs, "tmpfs, durability NORMAL", Durability::Normal, n);
    bench_in(&tmpfs, "tmpfs, durability FULL", Durability::Full, n);
    if !quick {
        let disk = std::env::var_os("SHOPKEEP_BENCH_DISK")
            .map_or_else(|| PathBuf::from("/var/tmp"), PathBuf::from);
        bench_in(&disk, "disk, durability FULL", Durability::Full, n);
    }
}
