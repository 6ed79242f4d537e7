//! The whole sale on PostgreSQL, from 1, 8 and 32 callers, beside the same work written by hand
//! with the `postgres` crate on the same server.
//!
//! A sale is the six write calls a shop makes for it: three `carts.add`, `checkout`,
//! `mark_paid`, `invoices.issue`, each caller selling to its own customer the same three
//! products. Each side has a schema of its own on the server that `SHOPKEEP_BENCH_POSTGRES`
//! names (a libpq connection string); without it the bench says so and does nothing.
//!
//! - **shopkeep**: the calls through the public API of a `Store` connected to the server, with
//!   a pool of as many connections as callers.
//! - **by hand**: per call, one transaction of the same statements `benches/flow.rs` writes by
//!   hand for SQLite, in PostgreSQL's placeholders, on one connection per caller: the same rows
//!   written (cart lines, order, its lines and VAT rows, stock decrements and ledger rows,
//!   idempotency record, payment, invoice and its lines, outbox events, HMAC-chained audit
//!   entries), the same AES-256-GCM openings and sealings, the same reads back. It runs at
//!   PostgreSQL's default isolation (READ COMMITTED), as a careful engineer would: the stock and
//!   counter updates lock their rows, and the audit chain is locked (`LOCK TABLE shopkeep_audit
//!   IN SHARE ROW EXCLUSIVE MODE`, the lock shopkeep takes) only just before the entry is
//!   appended, at the end of each transaction. shopkeep takes that lock at the start of every
//!   write instead, so its writers run one at a time (`docs/backends.md`): the 8 and 32
//!   caller figures show what that costs.
//!
//! Rounds alternate the sides so that the machine's load drifts over both alike; the median
//! round's rate is reported, latencies are over all rounds. The durability is the server's:
//! `scripts/bench_postgres.sh` starts two throwaway clusters, one on disk with PostgreSQL's
//! defaults (fsync, `synchronous_commit = on`) and one on tmpfs, and runs this on each.
//!
//! `cargo bench --features postgres --bench postgres` (`SHOPKEEP_BENCH_N` sales per round,
//! default 320; `SHOPKEEP_BENCH_ROUNDS`, default 3; `SHOPKEEP_BENCH_LABEL` names the server in
//! the output).
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

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::{Aes256Gcm, KeyInit};
use chrono::Datelike;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use shopkeep::access::CustomerId;
use shopkeep::catalog::VariantId;
use shopkeep::crypto::PasswordParams;
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Payment};
use shopkeep::{KeyRing, Store};
use support::env;
use support::sale_settings as settings;
use support::{Shop, mac, open, seal, uuid7};

const CALLERS: [usize; 3] = [1, 8, 32];

/// Stands for the version and key id that precede shopkeep's sealed values.
const HEADER: [u8; 5] = [1, 0, 0, 0, 1];

/// A schema of its own on the bench server, dropped with everything in it when dropped.
struct Schema {
    conninfo: String,
    name: String,
}

impl Schema {
    fn create(conninfo: &str, side: &str) -> Schema {
        let name = format!("bench_{side}_{}", std::process::id());
        let mut admin = Client::connect(conninfo, NoTls).unwrap();
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .unwrap();
        Schema {
            conninfo: conninfo.to_owned(),
            name,
        }
    }

    /// The connection string of a session in this schema.
    fn config(&self) -> String {
        format!("{} options=-csearch_path={}", self.conninfo, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&self.conninfo, NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// A shop in `schema` with a customer per caller.
fn shop_in(schema: &Schema, callers: usize) -> (Shop, Vec<CustomerId>) {
    let store = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .readers(callers.max(2))
        .connect_postgres(&schema.config(), KeyRing::from_master_key([42; 32]))
        .unwrap();
    let shop = Shop::on(store, &settings());
    let mut customers = vec![shop.customer];
    customers.extend((1..callers).map(|i| support::register_buyer(&shop.store, i)));
    (shop, customers)
}

/// One whole sale to `customer` through shopkeep's API.
fn shopkeep_sale(store: &Store, variants: &[VariantId], customer: CustomerId, key: &str) {
    let system = store.system();
    for (j, v) in variants.iter().enumerate() {
        black_box(
            store
                .carts(&system)
                .add(CartRef::Customer(customer), *v, 1 + j as u32)
                .unwrap(),
        );
    }
    let orders = store.orders(&system);
    let order = orders
        .checkout(Checkout::from_cart(
            customer,
            IdempotencyKey::new(key).unwrap(),
        ))
        .unwrap()
        .into_order();
    let payment = Payment::new(&format!("psp-{key}"), order.total()).unwrap();
    black_box(orders.mark_paid(order.id(), payment).unwrap());
    black_box(store.invoices(&system).issue(order.id()).unwrap());
}

/// What every hand-written caller of a side shares: the texts an invoice copies from the one
/// shopkeep issued in the side's schema, and the length of shopkeep's buyer snapshot.
struct Texts {
    seller: String,
    terms: String,
    buyer: Vec<u8>,
}

fn texts(config: &str) -> Texts {
    let mut client = Client::connect(config, NoTls).unwrap();
    let row = client
        .query_one("SELECT seller, terms FROM shopkeep_invoices LIMIT 1", &[])
        .unwrap();
    let stored: i32 = client
        .query_one(
            "SELECT octet_length(buyer) FROM shopkeep_orders LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    Texts {
        seller: row.get(0),
        terms: row.get(1),
        // shopkeep's sealed values: a 5-byte header, a 12-byte nonce, the ciphertext, a tag.
        buyer: vec![b'x'; usize::try_from(stored).unwrap() - 5 - 12 - 16],
    }
}

/// One hand-written caller: its own connection, statement cache and customer.
struct Hand<'t> {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    texts: &'t Texts,
    customer: [u8; 16],
    customer_text: String,
    cart: Vec<u8>,
    variants: Vec<[u8; 16]>,
    aead: Aes256Gcm,
    mac_key: [u8; 32],
    /// The customer's profile fields, sealed as shopkeep seals them (decrypted at checkout).
    sealed: Vec<Vec<u8>>,
}

impl<'t> Hand<'t> {
    fn connect(
        config: &str,
        texts: &'t Texts,
        customer: CustomerId,
        variants: &[VariantId],
    ) -> Hand<'t> {
        let mut client = Client::connect(config, NoTls).unwrap();
        let customer_bytes = support::id_bytes(customer);
        // The cart shopkeep made for the customer in the warm-up sale.
        let cart = client
            .query_one(
                "SELECT id FROM shopkeep_carts WHERE customer_id = $1",
                &[&customer_bytes.as_slice()],
            )
            .unwrap()
            .get(0);
        let aead = Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
        let sealed = [
            "ana@example.com",
            "Ana Example",
            "{\"recipient\":\"Ana Example\"}",
        ]
        .iter()
        .map(|p| seal(&aead, b"shopkeep_customers", p.as_bytes()))
        .collect();
        Hand {
            client,
            statements: HashMap::new(),
            texts,
            customer: customer_bytes,
            customer_text: customer.to_string(),
            cart,
            variants: variants.iter().map(support::id_bytes).collect(),
            aead,
            mac_key: [9; 32],
            sealed,
        }
    }

    /// The prepared statement of `sql`, prepared on first use (`?N` written as `$N`).
    fn statement(&mut self, sql: &'static str) -> Statement {
        if let Some(statement) = self.statements.get(sql) {
            return statement.clone();
        }
        let statement = self.client.prepare(&sql.replace('?', "$")).unwrap();
        self.statements.insert(sql, statement.clone());
        statement
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> u64 {
        let statement = self.statement(sql);
        self.client.execute(&statement, params).unwrap()
    }

    fn one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Row {
        let statement = self.statement(sql);
        self.client.query_one(&statement, params).unwrap()
    }

    fn opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Option<Row> {
        let statement = self.statement(sql);
        self.client.query_opt(&statement, params).unwrap()
    }

    fn all(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Vec<Row> {
        let statement = self.statement(sql);
        self.client.query(&statement, params).unwrap()
    }

    /// Runs `call` in a transaction of its own.
    fn call<T>(&mut self, call: impl FnOnce(&mut Self) -> T) -> T {
        self.client.batch_execute("BEGIN").unwrap();
        let out = call(self);
        self.client.batch_execute("COMMIT").unwrap();
        out
    }

    fn sale(&mut self, i: &str) {
        for j in 0..self.variants.len() {
            let variant = self.variants[j];
            self.call(|h| h.cart_add(&variant, 1 + j as i64));
        }
        let (order, gross, snapshot) = self.call(|h| h.checkout(i));
        self.call(|h| h.mark_paid(&order, gross, &snapshot, i));
        self.call(|h| h.issue(&order, &snapshot));
    }

    fn customer_is_active(&mut self) {
        let customer = self.customer;
        let active: bool = self
            .one(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL)",
                &[&customer.as_slice()],
            )
            .get(0);
        assert!(active);
    }

    /// Appends an allowed audit entry, chained as shopkeep chains them, under the chain's lock.
    fn audit(&mut self, at: &str, action: &str, resource: &str) {
        self.execute("LOCK TABLE shopkeep_audit IN SHARE ROW EXCLUSIVE MODE", &[]);
        let (seq, previous): (i64, Vec<u8>) = self
            .opt(
                "SELECT seq, mac FROM shopkeep_audit ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .map_or((0, vec![0; 32]), |r| (r.get(0), r.get(1)));
        let entry = mac(
            &self.mac_key,
            &[
                &previous,
                &(seq + 1).to_be_bytes(),
                at.as_bytes(),
                b"system",
                action.as_bytes(),
                resource.as_bytes(),
                b"allowed",
            ],
        );
        self.execute(
            "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
             VALUES (?1, ?2, 'system', ?3, ?4, 'allowed', ?5)",
            &[&(seq + 1), &at, &action, &resource, &entry],
        );
    }

    /// `carts.add`: the customer's cart, the variant, the line's quantity, the line count,
    /// the upsert, the cart's time, and the cart read back.
    fn cart_add(&mut self, variant: &[u8; 16], quantity: i64) {
        let now = chrono::Utc::now().to_rfc3339();
        let customer = self.customer;
        let variant = variant.as_slice();
        self.customer_is_active();
        let cart: Vec<u8> = self
            .one(
                "SELECT id FROM shopkeep_carts WHERE customer_id = ?1",
                &[&customer.as_slice()],
            )
            .get(0);
        let exists: bool = self
            .one(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_variants WHERE id = ?1)",
                &[&variant],
            )
            .get(0);
        assert!(exists);
        let had: Option<i64> = self
            .opt(
                "SELECT quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 AND variant_id = ?2",
                &[&cart, &variant],
            )
            .map(|r| r.get(0));
        if had.is_none() {
            self.one(
                "SELECT count(*) FROM shopkeep_cart_lines WHERE cart_id = ?1",
                &[&cart],
            );
        }
        self.execute(
            "INSERT INTO shopkeep_cart_lines (cart_id, variant_id, quantity, seq, added_at)
             VALUES (?1, ?2, ?3,
                     (SELECT coalesce(max(seq), 0) + 1 FROM shopkeep_cart_lines WHERE cart_id = ?1),
                     ?4)
             ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity",
            &[&cart, &variant, &(had.unwrap_or(0) + quantity), &now],
        );
        self.execute(
            "UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1",
            &[&cart, &now],
        );
        self.one(
            "SELECT customer_id FROM shopkeep_carts WHERE id = ?1",
            &[&cart],
        );
        let lines = self.all(
            "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 ORDER BY seq",
            &[&cart],
        );
        black_box(lines);
    }

    /// `checkout`. Returns the order's id, gross total and sealed buyer snapshot.
    fn checkout(&mut self, i: &str) -> ([u8; 16], i64, Vec<u8>) {
        let customer = self.customer;
        let customer = customer.as_slice();
        let cart = self.cart.clone();
        let now = chrono::Utc::now().to_rfc3339();
        let principal = "system";
        let key_hash = mac(
            &self.mac_key,
            &[b"idempotency key", principal.as_bytes(), i.as_bytes()],
        );
        let request_hash = mac(&self.mac_key, &[b"checkout request", b"customer"]);
        self.customer_is_active();
        self.execute(
            "DELETE FROM shopkeep_idempotency WHERE created_at < ?1",
            &[&"2026-01-01T00:00:00Z"],
        );
        let replay = self.opt(
            "SELECT request_hash FROM shopkeep_idempotency WHERE principal = ?1 AND key_hash = ?2",
            &[&principal, &key_hash],
        );
        assert!(replay.is_none());
        self.one("SELECT document FROM shopkeep_settings WHERE id = 1", &[]);
        self.one(
            "SELECT email, name FROM shopkeep_customers WHERE id = ?1",
            &[&customer],
        );
        self.opt(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = 'archive'",
            &[],
        );
        self.all(
            "SELECT data FROM shopkeep_customer_addresses WHERE customer_id = ?1",
            &[&customer],
        );
        for s in &self.sealed {
            black_box(open(&self.aead, b"shopkeep_customers", s));
        }
        let lines: Vec<(Vec<u8>, i64)> = self
            .all(
                "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 ORDER BY seq",
                &[&cart],
            )
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut priced = Vec::new();
        for (v, q) in &lines {
            let r = self.one(
                "SELECT p.name, p.tax_category, v.sku, pr.amount FROM shopkeep_variants v
                 JOIN shopkeep_products p ON p.id = v.product_id
                 LEFT JOIN shopkeep_prices pr ON pr.variant_id = v.id AND pr.currency = 'EUR'
                 WHERE v.id = ?1",
                &[v],
            );
            let (name, cat, sku, amount): (String, String, String, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let bp: i64 = if cat == "reduced" { 700 } else { 1900 };
            priced.push((v.clone(), name, sku, *q, amount, bp));
        }
        let number: i64 = self
            .one(
                "UPDATE shopkeep_order_counter SET next = next + 1 WHERE id = 1 RETURNING next - 1",
                &[],
            )
            .get(0);
        let id = uuid7();
        let mut snapshot = HEADER.to_vec();
        snapshot.extend(seal(&self.aead, &id, &self.texts.buyer));
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
        let id_slice = id.as_slice();
        self.execute(
            "INSERT INTO shopkeep_orders (id, number, customer_id, status, currency, price_mode,
             line_net_total, allowance_total, charge_total, net_total, vat_total, gross_total,
             coupon_code, destination, buyer, placed_at, updated_at)
             VALUES (?1, ?2, ?3, 'placed', 'EUR', 'exclusive', ?4, 0, 0, ?4, ?5, ?6, NULL, 'DE', ?7, ?8, ?8)",
            &[&id_slice, &number, &customer, &line_net, &vat, &(line_net + vat), &snapshot, &now],
        );
        for (pos, (v, name, sku, q, amount, bp)) in priced.iter().enumerate() {
            self.execute(
                "INSERT INTO shopkeep_order_lines (order_id, position, variant_id, sku, name, quantity,
                 unit_price, amount, line_net, discount, vat_category, vat_rate_bp, exemption_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 0, 'S', ?9, NULL)",
                &[&id_slice, &(pos as i64), v, sku, name, q, amount, &(q * amount), bp],
            );
        }
        for (bp, net) in &groups {
            self.execute(
                "INSERT INTO shopkeep_order_vat (order_id, vat_category, vat_rate_bp, exemption_reason,
                 lines_net, allowance_net, charges_net, taxable, tax) VALUES (?1, 'S', ?2, NULL, ?3, 0, 0, ?3, ?4)",
                &[&id_slice, bp, net, &((net * bp + 5_000) / 10_000)],
            );
        }
        for (v, _, _, q, _, _) in &priced {
            self.one(
                "SELECT p.status, v.tracked FROM shopkeep_variants v
                 JOIN shopkeep_products p ON p.id = v.product_id WHERE v.id = ?1",
                &[v],
            );
            let level: i64 = self
                .one(
                    "UPDATE shopkeep_variants SET stock = stock - ?1
                     WHERE id = ?2 AND tracked = 1 AND stock >= ?1
                     RETURNING stock, low_stock_threshold, product_id, sku",
                    &[q, v],
                )
                .get(0);
            self.one(
                "INSERT INTO shopkeep_stock_ledger (variant_id, reason, delta, level_after, note, principal, at)
                 VALUES (?1, 'sale', ?2, ?3, ?4, ?5, ?6) RETURNING seq",
                &[v, &-q, &level, &format!("order {number}"), &principal, &now],
            );
        }
        self.execute(
            "INSERT INTO shopkeep_idempotency (principal, key_hash, request_hash, order_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&principal, &key_hash, &request_hash, &id_slice, &now],
        );
        let order_id = uuid::Uuid::from_bytes(id);
        let data = format!(
            r#"{{"order_id":"{order_id}","number":{number},"customer_id":"{}","currency":"EUR","net_total":{line_net},"vat_total":{vat},"gross_total":{},"lines":3}}"#,
            self.customer_text,
            line_net + vat
        );
        self.execute(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, 'order.placed', 1, ?2, ?3)",
            &[&uuid7().as_slice(), &data, &now],
        );
        self.audit(&now, "place_order", &format!("order:{order_id}"));
        self.execute(
            "DELETE FROM shopkeep_cart_lines WHERE cart_id = ?1",
            &[&cart],
        );
        self.execute(
            "UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1",
            &[&cart, &now],
        );
        self.read_order(&id, &snapshot);
        (id, line_net + vat, snapshot)
    }

    /// Reads an order back as the API returns it: its row, lines and VAT rows, the buyer
    /// snapshot decrypted.
    fn read_order(&mut self, id: &[u8; 16], snapshot: &[u8]) {
        let id = id.as_slice();
        let head = self.one(
            "SELECT number, status, gross_total FROM shopkeep_orders WHERE id = ?1",
            &[&id],
        );
        let lines = self.all(
            "SELECT sku, quantity, line_net FROM shopkeep_order_lines WHERE order_id = ?1
             ORDER BY position",
            &[&id],
        );
        let vat = self.all(
            "SELECT vat_rate_bp, tax FROM shopkeep_order_vat WHERE order_id = ?1
             ORDER BY vat_category, vat_rate_bp",
            &[&id],
        );
        black_box((head, lines, vat));
        black_box(open(&self.aead, id, &snapshot[HEADER.len()..]));
    }

    /// `mark_paid`: the order's owner and the order, the gateway reference not used before,
    /// the status change, the payment, the `order.paid` event, the audit entry.
    fn mark_paid(&mut self, id: &[u8; 16], gross: i64, snapshot: &[u8], i: &str) {
        let now = chrono::Utc::now().to_rfc3339();
        let id_slice = id.as_slice();
        self.one(
            "SELECT customer_id FROM shopkeep_orders WHERE id = ?1",
            &[&id_slice],
        );
        self.read_order(id, snapshot);
        let reference = format!("psp-{i}");
        let used = self.opt(
            "SELECT order_id FROM shopkeep_order_payments WHERE gateway_reference = ?1",
            &[&reference],
        );
        assert!(used.is_none());
        let changed = self.execute(
            "UPDATE shopkeep_orders SET status = 'paid', version = version + 1, updated_at = ?2
             WHERE id = ?1 AND status = 'placed'",
            &[&id_slice, &now],
        );
        assert_eq!(changed, 1);
        self.execute(
            "INSERT INTO shopkeep_order_payments (order_id, gateway_reference, amount, currency,
             paid_at) VALUES (?1, ?2, ?3, 'EUR', ?4)",
            &[&id_slice, &reference, &gross, &now],
        );
        let order_id = uuid::Uuid::from_bytes(*id);
        let data = format!(
            r#"{{"order_id":"{order_id}","customer_id":"{}","currency":"EUR","amount":{gross}}}"#,
            self.customer_text,
        );
        self.execute(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at) VALUES (?1, 'order.paid', 1, ?2, ?3)",
            &[&uuid7().as_slice(), &data, &now],
        );
        self.audit(&now, "record_payment", &format!("order:{order_id}"));
    }

    /// `invoices.issue` on a paid order.
    fn issue(&mut self, order: &[u8; 16], snapshot: &[u8]) {
        let now = chrono::Utc::now();
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
        let order_slice = order.as_slice();
        let customer: Vec<u8> = self
            .one(
                "SELECT customer_id FROM shopkeep_orders WHERE id = ?1",
                &[&order_slice],
            )
            .get(0);
        let r = self.one(
            "SELECT number, customer_id, status, currency, price_mode, line_net_total,
             allowance_total, charge_total, net_total, vat_total, gross_total, coupon_code,
             destination, buyer, placed_at, version FROM shopkeep_orders WHERE id = ?1",
            &[&order_slice],
        );
        let status: String = r.get(2);
        assert_eq!(status, "paid");
        let totals: [i64; 6] = [r.get(5), r.get(6), r.get(7), r.get(8), r.get(9), r.get(10)];
        let lines = self.all(
            "SELECT position, variant_id, sku, name, quantity, unit_price, amount, line_net,
             discount, vat_category, vat_rate_bp, exemption_reason FROM shopkeep_order_lines
             WHERE order_id = ?1 ORDER BY position",
            &[&order_slice],
        );
        let charges = self.all(
            "SELECT position, reason, amount, net, vat_category, vat_rate_bp, exemption_reason
             FROM shopkeep_order_charges WHERE order_id = ?1 ORDER BY position",
            &[&order_slice],
        );
        assert!(charges.is_empty());
        let vat = self.all(
            "SELECT vat_category, vat_rate_bp, exemption_reason, lines_net, allowance_net,
             charges_net, taxable, tax FROM shopkeep_order_vat WHERE order_id = ?1
             ORDER BY vat_category, vat_rate_bp",
            &[&order_slice],
        );
        black_box(vat);
        self.one(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
            &[&"archive"],
        );
        let buyer = open(&self.aead, order, &snapshot[HEADER.len()..]);
        self.one(
            "SELECT version, document, updated_at FROM shopkeep_settings WHERE id = 1",
            &[],
        );
        let existing = self.opt(
            "SELECT id FROM shopkeep_invoices WHERE order_id = ?1 AND kind = 'invoice'",
            &[&order_slice],
        );
        assert!(existing.is_none());
        let id = uuid7();
        let year = i64::from(today.year());
        let series = "INV-{year}-{seq:06}";
        let seq: i64 = self
            .one(
                "INSERT INTO shopkeep_invoice_counters (series, year, next) VALUES (?1, ?2, 2)
                 ON CONFLICT (series, year) DO UPDATE SET next = shopkeep_invoice_counters.next + 1
                 RETURNING next - 1",
                &[&series, &year],
            )
            .get(0);
        let number = format!("INV-{year}-{seq:06}");
        let payment = self.opt(
            "SELECT gateway_reference, amount, currency, paid_at FROM shopkeep_order_payments
             WHERE order_id = ?1",
            &[&order_slice],
        );
        assert!(payment.is_some());
        let mut place = b"shopkeep_invoices/buyer/".to_vec();
        place.extend_from_slice(&id);
        let mut sealed = HEADER.to_vec();
        sealed.extend(seal(&self.aead, &place, &buyer));
        let [line_net, allowance, charge, net, vat_total, gross] = totals;
        let texts = self.texts;
        self.execute(
            "INSERT INTO shopkeep_invoices (id, kind, number, series, year, seq, order_id,
             customer_id, original_id, issue_date, currency, price_mode, line_net_total,
             allowance_total, charge_total, net_total, vat_total, gross_total, seller, buyer, terms,
             issued_at, deletable_from)
             VALUES (?1, 'invoice', ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, 'EUR', 'exclusive', ?9, ?10,
             ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            &[
                &id.as_slice(),
                &number,
                &series,
                &year,
                &seq,
                &order_slice,
                &customer,
                &today.to_string(),
                &line_net,
                &allowance,
                &charge,
                &net,
                &vat_total,
                &gross,
                &texts.seller,
                &sealed,
                &texts.terms,
                &at,
                &format!("{}-01-01", year + 11),
            ],
        );
        for (position, line) in lines.iter().enumerate() {
            let (order_position, sku, name, quantity, unit, line_net, discount, cat, bp): (
                i64,
                String,
                String,
                i64,
                i64,
                i64,
                i64,
                String,
                i64,
            ) = (
                line.get(0),
                line.get(2),
                line.get(3),
                line.get(4),
                line.get(5),
                line.get(7),
                line.get(8),
                line.get(9),
                line.get(10),
            );
            self.execute(
                "INSERT INTO shopkeep_invoice_lines (invoice_id, position, order_position, sku, name,
                 quantity, unit_price, line_net, discount, vat_category, vat_rate_bp,
                 exemption_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)",
                &[
                    &id.as_slice(),
                    &(position as i64),
                    &order_position,
                    &sku,
                    &name,
                    &quantity,
                    &unit,
                    &line_net,
                    &discount,
                    &cat,
                    &bp,
                ],
            );
        }
        let invoice_id = uuid::Uuid::from_bytes(id);
        let data = format!(
            r#"{{"invoice_id":"{invoice_id}","number":"{number}","order_id":"{}","customer_id":"{}","original_id":null,"currency":"EUR","net_total":{net},"vat_total":{vat_total},"gross_total":{gross}}}"#,
            uuid::Uuid::from_bytes(*order),
            self.customer_text,
        );
        self.execute(
            "INSERT INTO shopkeep_outbox (id, type, version, data, created_at)
             VALUES (?1, 'invoice.issued', 1, ?2, ?3)",
            &[&uuid7().as_slice(), &data, &at],
        );
        self.audit(&at, "issue_invoice", &format!("invoice:{invoice_id}"));
    }
}

/// One side of one caller count: its schema, and what its callers need.
struct Side {
    schema: Schema,
    shop: Shop,
    customers: Vec<CustomerId>,
    texts: Option<Texts>,
}

impl Side {
    fn new(conninfo: &str, name: &str, callers: usize, hand: bool) -> Side {
        let schema = Schema::create(conninfo, name);
        let (shop, customers) = shop_in(&schema, callers);
        // One sale per customer through shopkeep: it makes each customer's cart, warms
        // shopkeep's caches and gives the hand-written side an invoice to copy texts from.
        for c in &customers {
            shopkeep_sale(&shop.store, &shop.variants, *c, &format!("warm-{c}"));
        }
        let texts = hand.then(|| texts(&schema.config()));
        Side {
            schema,
            shop,
            customers,
            texts,
        }
    }

    /// `sales` sales split over the callers. Returns sales per second and each sale's latency.
    fn round(&self, sales: usize, round: usize) -> (f64, Vec<Duration>) {
        let per_caller = sales / self.customers.len();
        let config = self.schema.config();
        let barrier = std::sync::Barrier::new(self.customers.len() + 1);
        std::thread::scope(|scope| {
            let threads: Vec<_> = self
                .customers
                .iter()
                .enumerate()
                .map(|(t, customer)| {
                    let (config, barrier) = (&config, &barrier);
                    scope.spawn(move || {
                        let mut hand = self.texts.as_ref().map(|texts| {
                            Hand::connect(config, texts, *customer, &self.shop.variants)
                        });
                        barrier.wait();
                        (0..per_caller)
                            .map(|i| {
                                let key = format!("r{round}-{t}-{i}");
                                let began = Instant::now();
                                match &mut hand {
                                    Some(hand) => hand.sale(&key),
                                    None => shopkeep_sale(
                                        &self.shop.store,
                                        &self.shop.variants,
                                        *customer,
                                        &key,
                                    ),
                                }
                                began.elapsed()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            barrier.wait();
            let start = Instant::now();
            let latencies: Vec<Duration> = threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            (
                latencies.len() as f64 / start.elapsed().as_secs_f64(),
                latencies,
            )
        })
    }
}

struct Figures {
    rate: f64,
    mean: Duration,
    p99: Duration,
}

fn figures(mut rates: Vec<f64>, mut latencies: Vec<Duration>) -> Figures {
    rates.sort_by(f64::total_cmp);
    latencies.sort();
    Figures {
        rate: rates[rates.len() / 2],
        mean: latencies.iter().sum::<Duration>() / latencies.len() as u32,
        p99: latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)],
    }
}

fn main() {
    let Some(conninfo) = std::env::var("SHOPKEEP_BENCH_POSTGRES")
        .ok()
        .filter(|c| !c.is_empty())
    else {
        println!("postgres bench skipped: SHOPKEEP_BENCH_POSTGRES names no server");
        return;
    };
    // `cargo test --benches` runs this with `--bench` absent: do a tiny smoke run only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sales = env("SHOPKEEP_BENCH_N", if quick { 32 } else { 320 });
    let rounds = env("SHOPKEEP_BENCH_ROUNDS", if quick { 1 } else { 3 }).max(1);
    let label = std::env::var("SHOPKEEP_BENCH_LABEL").unwrap_or_else(|_| "server".into());
    println!("postgres ({label}): {sales} whole sales per round and side, {rounds} rounds");
    for callers in CALLERS {
        let sides = [
            Side::new(&conninfo, "shopkeep", callers, false),
            Side::new(&conninfo, "hand", callers, true),
        ];
        let mut rates = [Vec::new(), Vec::new()];
        let mut latencies = [Vec::new(), Vec::new()];
        for r in 0..rounds {
            for (s, side) in sides.iter().enumerate() {
                let (rate, lat) = side.round(sales, r);
                rates[s].push(rate);
                latencies[s].extend(lat);
            }
        }
        let [ours, hand] = [0, 1].map(|s| {
            figures(
                std::mem::take(&mut rates[s]),
                std::mem::take(&mut latencies[s]),
            )
        });
        for (name, f) in [("shopkeep", &ours), ("by hand", &hand)] {
            println!(
                "  {label} {callers:2} callers  {name:8}  {:7.0} sales/s   latency per sale: mean {:7.2} ms, p99 {:7.2} ms",
                f.rate,
                f.mean.as_secs_f64() * 1e3,
                f.p99.as_secs_f64() * 1e3,
            );
        }
        println!(
            "  {label} {callers:2} callers  shopkeep / by hand: {:.2}",
            ours.rate / hand.rate
        );
    }
}
