//! The whole sale a shop runs for every order: three `carts.add`, `checkout`, `mark_paid` and
//! `invoices.issue` (six write transactions) through shopkeep's API, beside the same work
//! written by hand with rusqlite in the same run, twice:
//!
//! - **per call**: one `BEGIN IMMEDIATE` transaction per API call, the same statements on the
//!   same tables of a file with the same schema: the same rows written (cart lines, order, its
//!   lines and VAT rows, stock decrements and ledger rows, idempotency record, payment,
//!   invoice and its lines, outbox events, HMAC-chained audit entries), the same AES-256-GCM
//!   decryptions and encryptions of the buyer snapshot, the same reads back of what each call
//!   returns. This is the fair baseline: what a careful engineer would write without shopkeep.
//! - **one transaction**: the same statements in one transaction for the whole sale, the
//!   ceiling of what batching the calls could ever give.
//!
//! Each side has its own database file. It runs at FULL durability on tmpfs (`/dev/shm`) and
//! on disk (`SHOPKEEP_BENCH_DISK`, default `/var/tmp`; skipped in the quick run `cargo test`
//! makes), interleaving the sides in rounds of 25 sales so that the machine's load hits all of
//! them alike, and prints sales per second and the ratios: of the totals, and the median of the
//! ratios of each round (the sides' rounds of one index ran back to back), which a burst of
//! load from other processes moves less. Then it measures what a sale
//! writes, on each side:
//!
//! - `wchar` and `syscw` of `/proc/self/io`: bytes handed to `write(2)` and the number of
//!   calls, per sale (WAL frames, and the checkpoints that copy them into the database file);
//! - the pages one sale adds to the WAL, per table and index: the WAL is checkpointed and
//!   truncated before each of a few measured sales, then its frame headers are read and their
//!   page numbers mapped to tables with the `dbstat` virtual table;
//! - the bytes each table and index holds per sale at the end (`dbstat`).
//!
//! `cargo bench --bench flow` (`SHOPKEEP_BENCH_N` sales per side, default 400).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::too_many_lines,
    missing_docs
)]

mod support;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use aes_gcm::KeyInit;
use chrono::Datelike;
use rusqlite::{Connection, OptionalExtension, params};
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Payment};
use shopkeep::store::Durability;
use support::sale_settings as settings;
use support::{Shop, audit, baseline_connection, mac, open, seal, uuid7};

/// The calls of a sale, timed apart to show where each side spends.
const PHASES: [&str; 4] = ["3 x carts.add", "checkout", "mark_paid", "invoices.issue"];

thread_local! {
    /// Time spent in each of [`PHASES`] on this thread so far.
    static SPENT: std::cell::Cell<[Duration; 4]> = const { std::cell::Cell::new([Duration::ZERO; 4]) };
}

/// Runs `f` and adds its time to phase `phase`.
fn timed<T>(phase: usize, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let mut spent = SPENT.get();
    spent[phase] += start.elapsed();
    SPENT.set(spent);
    out
}

/// One sale through shopkeep's API, as a host runs it.
fn shopkeep_sale(s: &Shop, i: usize) {
    let system = s.store.system();
    let carts = s.store.carts(&system);
    timed(0, || {
        for (j, v) in s.variants.iter().enumerate() {
            black_box(
                carts
                    .add(CartRef::Customer(s.customer), *v, 1 + j as u32)
                    .unwrap(),
            );
        }
    });
    let orders = s.store.orders(&system);
    let key = IdempotencyKey::new(&format!("sale-{i}")).unwrap();
    let order = timed(1, || {
        orders
            .checkout(Checkout::from_cart(s.customer, key))
            .unwrap()
            .into_order()
    });
    let payment = Payment::new(&format!("psp-{i}"), order.total()).unwrap();
    timed(2, || {
        black_box(orders.mark_paid(order.id(), payment).unwrap())
    });
    timed(3, || {
        black_box(s.store.invoices(&system).issue(order.id()).unwrap())
    });
}

/// How the hand-written side groups its statements into transactions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grouping {
    PerCall,
    OneTransaction,
}

/// A hand-written side: its own shop (the same setup, in its own file, with one sale made by
/// shopkeep for the texts an invoice copies), a rusqlite connection to that file, its keys.
struct Baseline {
    shop: Shop,
    conn: Connection,
    grouping: Grouping,
    cart: Vec<u8>,
    aead: Aes256Gcm,
    mac_key: [u8; 32],
    /// The customer's profile fields, sealed as shopkeep seals them (decrypted at checkout).
    sealed: Vec<Vec<u8>>,
    /// A buyer snapshot as long as shopkeep's (the plain text the order and invoice seal).
    buyer: Vec<u8>,
    /// The seller and terms columns of the invoice shopkeep issued in this file.
    seller: String,
    terms: String,
}

/// Stands for the version and key id that precede shopkeep's sealed values.
const HEADER: [u8; 5] = [1, 0, 0, 0, 1];

fn baseline(path: &Path, grouping: Grouping) -> Baseline {
    let shop = Shop::open(path, Durability::Full, &settings());
    shopkeep_sale(&shop, usize::MAX);
    let conn = baseline_connection(path, Durability::Full);
    let cart: Vec<u8> = conn
        .query_row(
            "SELECT id FROM shopkeep_carts WHERE customer_id = ?1",
            [support::id_bytes(shop.customer)],
            |r| r.get(0),
        )
        .unwrap();
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
    let buyer = vec![b'x'; usize::try_from(stored).unwrap() - 5 - 12 - 16];
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
        grouping,
        cart,
        aead,
        mac_key: [9; 32],
        sealed,
        buyer,
        seller,
        terms,
    }
}

impl Baseline {
    fn begin(&self, grouping: Grouping) {
        if self.grouping == grouping {
            self.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        }
    }

    fn commit(&self, grouping: Grouping) {
        if self.grouping == grouping {
            self.conn.execute_batch("COMMIT").unwrap();
        }
    }

    fn sale(&self, i: usize) {
        self.begin(Grouping::OneTransaction);
        timed(0, || {
            for (j, v) in self.shop.variants.iter().enumerate() {
                self.begin(Grouping::PerCall);
                self.cart_add(&support::id_bytes(v), 1 + j as i64);
                self.commit(Grouping::PerCall);
            }
        });
        let (order, gross, snapshot) = timed(1, || {
            self.begin(Grouping::PerCall);
            let placed = self.checkout(i);
            self.commit(Grouping::PerCall);
            placed
        });
        timed(2, || {
            self.begin(Grouping::PerCall);
            self.mark_paid(&order, gross, &snapshot, i);
            self.commit(Grouping::PerCall);
        });
        timed(3, || {
            self.begin(Grouping::PerCall);
            self.issue(&order, &snapshot);
            self.commit(Grouping::PerCall);
            // The one transaction's commit (and its fsync) counts as the last call's.
            self.commit(Grouping::OneTransaction);
        });
    }

    fn customer_is_active(&self) {
        let active: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL)",
            )
            .unwrap()
            .query_row([support::id_bytes(self.shop.customer)], |r| r.get(0))
            .unwrap();
        assert!(active);
    }

    /// `carts.add`: the customer's cart, the variant, the line's quantity, the line count,
    /// the upsert, the cart's time, and the cart read back.
    fn cart_add(&self, variant: &[u8; 16], quantity: i64) {
        let c = &self.conn;
        let now = chrono::Utc::now().to_rfc3339();
        self.customer_is_active();
        let cart: Vec<u8> = c
            .prepare_cached("SELECT id FROM shopkeep_carts WHERE customer_id = ?1")
            .unwrap()
            .query_row([support::id_bytes(self.shop.customer)], |r| r.get(0))
            .unwrap();
        let exists: bool = c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM shopkeep_variants WHERE id = ?1)")
            .unwrap()
            .query_row([variant], |r| r.get(0))
            .unwrap();
        assert!(exists);
        let had: Option<i64> = c
            .prepare_cached(
                "SELECT quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 AND variant_id = ?2",
            )
            .unwrap()
            .query_row(params![cart, variant], |r| r.get(0))
            .optional()
            .unwrap();
        if had.is_none() {
            let _: i64 = c
                .prepare_cached("SELECT count(*) FROM shopkeep_cart_lines WHERE cart_id = ?1")
                .unwrap()
                .query_row([&cart], |r| r.get(0))
                .unwrap();
        }
        c.prepare_cached(
            "INSERT INTO shopkeep_cart_lines (cart_id, variant_id, quantity, seq, added_at)
             VALUES (?1, ?2, ?3,
                     (SELECT coalesce(max(seq), 0) + 1 FROM shopkeep_cart_lines WHERE cart_id = ?1),
                     ?4)
             ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity",
        )
        .unwrap()
        .execute(params![cart, variant, had.unwrap_or(0) + quantity, now])
        .unwrap();
        c.prepare_cached("UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1")
            .unwrap()
            .execute(params![cart, now])
            .unwrap();
        let _: Vec<u8> = c
            .prepare_cached("SELECT customer_id FROM shopkeep_carts WHERE id = ?1")
            .unwrap()
            .query_row([&cart], |r| r.get(0))
            .unwrap();
        let lines: Vec<(Vec<u8>, i64)> = c
            .prepare_cached(
                "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 ORDER BY seq",
            )
            .unwrap()
            .query_map([&cart], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        black_box(lines);
    }

    /// `checkout`, as benches/checkout.rs writes it by hand. Returns the order's id, gross
    /// total and sealed buyer snapshot.
    fn checkout(&self, i: usize) -> ([u8; 16], i64, Vec<u8>) {
        let c = &self.conn;
        let customer = support::id_bytes(self.shop.customer);
        let now = chrono::Utc::now().to_rfc3339();
        let principal = "system";
        let key_hash = mac(
            &self.mac_key,
            &[
                b"idempotency key",
                principal.as_bytes(),
                format!("sale-{i}").as_bytes(),
            ],
        );
        let request_hash = mac(&self.mac_key, &[b"checkout request", b"customer"]);
        self.customer_is_active();
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
        for s in &self.sealed {
            black_box(open(&self.aead, b"shopkeep_customers", s));
        }
        let lines: Vec<(Vec<u8>, i64)> = c
            .prepare_cached(
                "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 ORDER BY seq",
            )
            .unwrap()
            .query_map([&self.cart], |r| Ok((r.get(0)?, r.get(1)?)))
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
        let mut snapshot = HEADER.to_vec();
        snapshot.extend(seal(&self.aead, &id, &self.buyer));
        let mut groups: BTreeMap<i64, i64> = BTreeMap::new();
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
            .execute(params![id, pos as i64, v, sku, name, q, amount, q * amount, bp])
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
            .query_row(params![v, -q, level, format!("order {number}"), principal, now], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        }
        c.prepare_cached(
            "INSERT INTO shopkeep_idempotency (principal, key_hash, request_hash, order_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .unwrap()
        .execute(params![principal, key_hash, request_hash, id, now])
        .unwrap();
        let order_id = uuid::Uuid::from_bytes(id);
        let data = format!(
            r#"{{"order_id":"{order_id}","number":{number},"customer_id":"{}","currency":"EUR","net_total":{line_net},"vat_total":{vat},"gross_total":{},"lines":3}}"#,
            self.shop.customer,
            line_net + vat
        );
        c.prepare_cached(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, 'order.placed', 1, ?2, ?3)",
        )
        .unwrap()
        .execute(params![uuid7(), data, now])
        .unwrap();
        audit(
            c,
            &self.mac_key,
            &now,
            principal,
            "place_order",
            &format!("order:{order_id}"),
        );
        c.prepare_cached("DELETE FROM shopkeep_cart_lines WHERE cart_id = ?1")
            .unwrap()
            .execute([&self.cart])
            .unwrap();
        c.prepare_cached("UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1")
            .unwrap()
            .execute(params![self.cart, now])
            .unwrap();
        self.read_order(&id, &snapshot);
        (id, line_net + vat, snapshot)
    }

    /// Reads an order back as the API returns it: its row, lines and VAT rows, the buyer
    /// snapshot decrypted.
    fn read_order(&self, id: &[u8; 16], snapshot: &[u8]) {
        let c = &self.conn;
        let head: (i64, String, i64) = c
            .prepare_cached("SELECT number, status, gross_total FROM shopkeep_orders WHERE id = ?1")
            .unwrap()
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        let lines: Vec<(String, i64, i64)> = c
            .prepare_cached(
                "SELECT sku, quantity, line_net FROM shopkeep_order_lines WHERE order_id = ?1
                 ORDER BY position",
            )
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let vat: Vec<(i64, i64)> = c
            .prepare_cached(
                "SELECT vat_rate_bp, tax FROM shopkeep_order_vat WHERE order_id = ?1
                 ORDER BY vat_category, vat_rate_bp",
            )
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        black_box((head, lines, vat));
        black_box(open(&self.aead, id, &snapshot[HEADER.len()..]));
    }

    /// `mark_paid`: the order's owner and the order (for the policy and the checks, and as
    /// the call returns it), the gateway reference not used before, the status change, the
    /// payment, the `order.paid` event, the audit entry.
    fn mark_paid(&self, id: &[u8; 16], gross: i64, snapshot: &[u8], i: usize) {
        let c = &self.conn;
        let now = chrono::Utc::now().to_rfc3339();
        let _owner: Vec<u8> = c
            .prepare_cached("SELECT customer_id FROM shopkeep_orders WHERE id = ?1")
            .unwrap()
            .query_row([id], |r| r.get(0))
            .unwrap();
        self.read_order(id, snapshot);
        let reference = format!("psp-{i}");
        let used: Option<Vec<u8>> = c
            .prepare_cached(
                "SELECT order_id FROM shopkeep_order_payments WHERE gateway_reference = ?1",
            )
            .unwrap()
            .query_row([&reference], |r| r.get(0))
            .optional()
            .unwrap();
        assert!(used.is_none());
        let changed = c
            .prepare_cached(
                "UPDATE shopkeep_orders SET status = 'paid', version = version + 1, updated_at = ?2
                 WHERE id = ?1 AND status = 'placed'",
            )
            .unwrap()
            .execute(params![id, now])
            .unwrap();
        assert_eq!(changed, 1);
        c.prepare_cached(
            "INSERT INTO shopkeep_order_payments (order_id, gateway_reference, amount, currency,
             paid_at) VALUES (?1, ?2, ?3, 'EUR', ?4)",
        )
        .unwrap()
        .execute(params![id, reference, gross, now])
        .unwrap();
        let order_id = uuid::Uuid::from_bytes(*id);
        let data = format!(
            r#"{{"order_id":"{order_id}","number":{i},"customer_id":"{}","currency":"EUR","amount":{gross}}}"#,
            self.shop.customer,
        );
        c.prepare_cached(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, 'order.paid', 1, ?2, ?3)",
        )
        .unwrap()
        .execute(params![uuid7(), data, now])
        .unwrap();
        audit(
            c,
            &self.mac_key,
            &now,
            "system",
            "record_payment",
            &format!("order:{order_id}"),
        );
    }

    /// `invoices.issue`, as benches/invoices.rs writes it by hand (on a paid order).
    fn issue(&self, order: &[u8; 16], snapshot: &[u8]) {
        let c = &self.conn;
        let now = chrono::Utc::now();
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
        let customer: Vec<u8> = c
            .prepare_cached("SELECT customer_id FROM shopkeep_orders WHERE id = ?1")
            .unwrap()
            .query_row([order], |r| r.get(0))
            .unwrap();
        let (status, totals): (String, [i64; 6]) = c
            .prepare_cached(
                "SELECT number, customer_id, status, currency, price_mode, line_net_total,
                 allowance_total, charge_total, net_total, vat_total, gross_total, coupon_code,
                 destination, buyer, placed_at, version FROM shopkeep_orders WHERE id = ?1",
            )
            .unwrap()
            .query_row([order], |r| {
                let _buyer: Vec<u8> = r.get(13)?;
                let _placed: String = r.get(14)?;
                Ok((
                    r.get(2)?,
                    [
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ],
                ))
            })
            .unwrap();
        assert_eq!(status, "paid");
        type Line = (i64, String, String, i64, i64, i64, i64, String, i64);
        let lines: Vec<Line> = c
            .prepare_cached(
                "SELECT position, variant_id, sku, name, quantity, unit_price, amount, line_net,
                 discount, vat_category, vat_rate_bp, exemption_reason FROM shopkeep_order_lines
                 WHERE order_id = ?1 ORDER BY position",
            )
            .unwrap()
            .query_map([order], |r| {
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
        let _wrapped: Vec<u8> = c
            .prepare_cached("SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1")
            .unwrap()
            .query_row(["archive"], |r| r.get(0))
            .unwrap();
        let buyer = open(&self.aead, order, &snapshot[HEADER.len()..]);
        let _settings: (i64, String, String) = c
            .prepare_cached(
                "SELECT version, document, updated_at FROM shopkeep_settings WHERE id = 1",
            )
            .unwrap()
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        let existing: Option<Vec<u8>> = c
            .prepare_cached(
                "SELECT id FROM shopkeep_invoices WHERE order_id = ?1 AND kind = 'invoice'",
            )
            .unwrap()
            .query_row([order], |r| r.get(0))
            .optional()
            .unwrap();
        assert!(existing.is_none());
        let id = uuid7();
        let year = today.year();
        let series = "INV-{year}-{seq:06}";
        let seq: i64 = c
            .prepare_cached(
                "INSERT INTO shopkeep_invoice_counters (series, year, next) VALUES (?1, ?2, 2)
                 ON CONFLICT (series, year) DO UPDATE SET next = next + 1
                 RETURNING next - 1",
            )
            .unwrap()
            .query_row(params![series, year], |r| r.get(0))
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
        assert!(payment.is_some());
        let mut place = b"shopkeep_invoices/buyer/".to_vec();
        place.extend_from_slice(&id);
        let mut sealed = HEADER.to_vec();
        sealed.extend(seal(&self.aead, &place, &buyer));
        let [line_net, allowance, charge, net, vat_total, gross] = totals;
        c.prepare_cached(
            "INSERT INTO shopkeep_invoices (id, kind, number, series, year, seq, order_id,
             customer_id, original_id, issue_date, currency, price_mode, line_net_total,
             allowance_total, charge_total, net_total, vat_total, gross_total, seller, buyer, terms,
             issued_at, deletable_from)
             VALUES (?1, 'invoice', ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, 'EUR', 'exclusive', ?9, ?10,
             ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )
        .unwrap()
        .execute(params![
            id,
            number,
            series,
            year,
            seq,
            order,
            customer,
            today.to_string(),
            line_net,
            allowance,
            charge,
            net,
            vat_total,
            gross,
            self.seller,
            sealed,
            self.terms,
            at,
            format!("{}-01-01", year + 11),
        ])
        .unwrap();
        for (position, (order_position, sku, name, quantity, unit, line_net, discount, cat, bp)) in
            lines.iter().enumerate()
        {
            c.prepare_cached(
                "INSERT INTO shopkeep_invoice_lines (invoice_id, position, order_position, sku, name,
                 quantity, unit_price, line_net, discount, vat_category, vat_rate_bp,
                 exemption_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)",
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
                bp
            ])
            .unwrap();
        }
        let invoice_id = uuid::Uuid::from_bytes(id);
        let data = format!(
            r#"{{"invoice_id":"{invoice_id}","number":"{number}","order_id":"{}","customer_id":"{}","original_id":null,"currency":"EUR","net_total":{net},"vat_total":{vat_total},"gross_total":{gross}}}"#,
            uuid::Uuid::from_bytes(*order),
            self.shop.customer,
        );
        c.prepare_cached(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at)
             VALUES (?1, 'invoice.issued', 1, ?2, ?3)",
        )
        .unwrap()
        .execute(params![uuid7(), data, at])
        .unwrap();
        audit(
            c,
            &self.mac_key,
            &at,
            "system",
            "issue_invoice",
            &format!("invoice:{invoice_id}"),
        );
    }
}

/// The three sides of one directory, each in its own file.
struct Sides {
    ours: Shop,
    per_call: Baseline,
    one_tx: Baseline,
    dir: PathBuf,
}

/// What each side writes, in bytes handed to `write(2)` and calls, from `/proc/self/io`.
#[derive(Clone, Copy, Default)]
struct Io {
    wchar: u64,
    syscw: u64,
}

fn io() -> Io {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Io {
        wchar: field("wchar:"),
        syscw: field("syscw:"),
    }
}

fn since(start: Io) -> Io {
    let now = io();
    Io {
        wchar: now.wchar - start.wchar,
        syscw: now.syscw - start.syscw,
    }
}

/// The timed and measured totals of one side.
#[derive(Default)]
struct Tally {
    spent: Duration,
    phases: [Duration; 4],
    io: Io,
    sales: usize,
    /// The time of each round, in order: the sides' rounds of one index ran back to back.
    rounds: Vec<Duration>,
}

impl Tally {
    fn run(&mut self, sale: impl Fn(usize), from: usize, n: usize) {
        let before = io();
        SPENT.set([Duration::ZERO; 4]);
        let start = Instant::now();
        for i in from..from + n {
            sale(i);
        }
        let took = start.elapsed();
        self.spent += took;
        self.rounds.push(took);
        for (total, spent) in self.phases.iter_mut().zip(SPENT.get()) {
            *total += spent;
        }
        let used = since(before);
        self.io.wchar += used.wchar;
        self.io.syscw += used.syscw;
        self.sales += n;
    }

    fn rate(&self) -> f64 {
        self.sales as f64 / self.spent.as_secs_f64()
    }

    /// The median over rounds of `other`'s time over this side's time in the same round: the
    /// throughput ratio of this side to `other`, read round by round, so that a burst of load
    /// from other processes during a few rounds moves it less than it moves the totals.
    fn median_ratio(&self, other: &Tally) -> f64 {
        let mut ratios: Vec<f64> = self
            .rounds
            .iter()
            .zip(&other.rounds)
            .map(|(ours, theirs)| theirs.as_secs_f64() / ours.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
    }

    fn bytes(&self) -> f64 {
        self.io.wchar as f64 / self.sales as f64
    }

    fn calls(&self) -> f64 {
        self.io.syscw as f64 / self.sales as f64
    }
}

fn bench_in(dir: &Path, label: &str, n: usize) -> Sides {
    let dir = dir.join(format!("shopkeep-bench-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sides = Sides {
        ours: Shop::open(&dir.join("shopkeep.db"), Durability::Full, &settings()),
        per_call: baseline(&dir.join("per-call.db"), Grouping::PerCall),
        one_tx: baseline(&dir.join("one-tx.db"), Grouping::OneTransaction),
        dir,
    };
    // Warm up all three.
    let warm = 10;
    for i in 0..warm {
        shopkeep_sale(&sides.ours, i);
        sides.per_call.sale(i);
        sides.one_tx.sale(i);
    }
    let (mut ours, mut per_call, mut one_tx) =
        (Tally::default(), Tally::default(), Tally::default());
    let round = 25;
    let mut done = warm;
    while done < warm + n {
        ours.run(|i| shopkeep_sale(&sides.ours, i), done, round);
        per_call.run(|i| sides.per_call.sale(i), done, round);
        one_tx.run(|i| sides.one_tx.sale(i), done, round);
        done += round;
    }
    let page_size: i64 = sides
        .per_call
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    println!(
        "{label}: {} sales per side, pages of {page_size} bytes",
        ours.sales
    );
    for (name, t) in [
        ("shopkeep (6 calls)", &ours),
        ("hand-written, per call", &per_call),
        ("hand-written, one tx", &one_tx),
    ] {
        println!(
            "  {name:<24} {:>7.0} sales/s   {:>8.0} B written/sale in {:>5.1} write calls",
            t.rate(),
            t.bytes(),
            t.calls()
        );
    }
    println!(
        "  ratio shopkeep / per call {:.2}   shopkeep / one tx {:.2}   bytes shopkeep / per call {:.2}",
        ours.rate() / per_call.rate(),
        ours.rate() / one_tx.rate(),
        ours.bytes() / per_call.bytes()
    );
    println!(
        "  median of the {} rounds' ratios: shopkeep / per call {:.2}   shopkeep / one tx {:.2}",
        ours.rounds.len(),
        ours.median_ratio(&per_call),
        ours.median_ratio(&one_tx)
    );
    println!(
        "  time per sale by call (µs)   {:>10} {:>10} {:>10}",
        "shopkeep", "per call", "one tx"
    );
    let micros = |t: &Tally, p: usize| t.phases[p].as_secs_f64() * 1e6 / t.sales as f64;
    for (p, name) in PHASES.iter().enumerate() {
        println!(
            "    {name:<26} {:>10.0} {:>10.0} {:>10.0}",
            micros(&ours, p),
            micros(&per_call, p),
            micros(&one_tx, p)
        );
    }
    sides
}

/// The pages one sale adds to the WAL, by table or index: the WAL is emptied before each of
/// `n` sales, and the page number of each frame it then holds is looked up in `dbstat`.
fn wal_pages(path: &Path, n: usize, sale: impl Fn(usize)) -> BTreeMap<String, f64> {
    let conn = Connection::open(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut pages: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..n {
        let _: (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        sale(1_000_000 + i);
        // Looked up after the sale, so that the pages it added to a table are named too.
        let owner: BTreeMap<i64, String> = conn
            .prepare_cached("SELECT pageno, name FROM dbstat")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let bytes = std::fs::read(&wal).unwrap();
        let page_size = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
        for frame in bytes[32..].chunks(24 + page_size) {
            let page = i64::from(u32::from_be_bytes(frame[0..4].try_into().unwrap()));
            let name = owner
                .get(&page)
                .cloned()
                .unwrap_or_else(|| "(free pages)".to_owned());
            *pages.entry(name).or_default() += 1.0 / n as f64;
        }
    }
    pages
}

/// The bytes each table and index holds, per sale made in the file.
fn stored(path: &Path, sales: usize) -> BTreeMap<String, f64> {
    let conn = Connection::open(path).unwrap();
    conn.prepare("SELECT name, sum(pgsize - unused) FROM dbstat GROUP BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| {
            let (name, bytes) = r.unwrap();
            (name, bytes as f64 / sales as f64)
        })
        .collect()
}

fn print_table(title: &str, unit: &str, columns: [&BTreeMap<String, f64>; 3]) {
    println!("  {title} ({unit})");
    println!(
        "    {:<44} {:>10} {:>10} {:>10}",
        "table or index", "shopkeep", "per call", "one tx"
    );
    let mut names: Vec<&String> = columns.iter().flat_map(|c| c.keys()).collect();
    names.sort();
    names.dedup();
    let mut total = [0.0; 3];
    for name in names {
        let values = columns.map(|c| c.get(name).copied().unwrap_or(0.0));
        if values.iter().all(|v| *v < 0.05) {
            continue;
        }
        for (t, v) in total.iter_mut().zip(values) {
            *t += v;
        }
        println!(
            "    {name:<44} {:>10.1} {:>10.1} {:>10.1}",
            values[0], values[1], values[2]
        );
    }
    println!(
        "    {:<44} {:>10.1} {:>10.1} {:>10.1}",
        "total", total[0], total[1], total[2]
    );
}

fn bytes_per_table(sides: &Sides, sales: usize) {
    let n = 5;
    let ours = wal_pages(&sides.dir.join("shopkeep.db"), n, |i| {
        shopkeep_sale(&sides.ours, i);
    });
    let per_call = wal_pages(&sides.dir.join("per-call.db"), n, |i| {
        sides.per_call.sale(i)
    });
    let one_tx = wal_pages(&sides.dir.join("one-tx.db"), n, |i| sides.one_tx.sale(i));
    print_table(
        "WAL frames one sale writes",
        "pages, mean of 5 sales",
        [&ours, &per_call, &one_tx],
    );
    let sales = sales + n;
    let ours = stored(&sides.dir.join("shopkeep.db"), sales);
    let per_call = stored(&sides.dir.join("per-call.db"), sales);
    let one_tx = stored(&sides.dir.join("one-tx.db"), sales);
    print_table(
        "stored per sale",
        "bytes used in pages",
        [&ours, &per_call, &one_tx],
    );
}

fn run(dir: &Path, label: &str, n: usize) {
    let sides = bench_in(dir, label, n);
    bytes_per_table(&sides, n.div_ceil(25) * 25 + 10);
    let path = sides.dir.clone();
    drop(sides);
    let _ = std::fs::remove_dir_all(path);
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: do a tiny smoke run only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = std::env::var("SHOPKEEP_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 25 } else { 400 });
    run(&support::tmpfs(), "tmpfs, durability FULL", n);
    if !quick {
        let disk = std::env::var_os("SHOPKEEP_BENCH_DISK")
            .map_or_else(|| PathBuf::from("/var/tmp"), PathBuf::from);
        run(&disk, "disk, durability FULL", n);
    }
}
