//! Shared setup for the integration tests: a shop on a real database file in a temp dir, with
//! settings, products with stock, and logged-in customers.
#![allow(
    dead_code, // each test binary uses part of it
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod db;
pub mod newer_tables;
pub mod postgres;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shopkeep::access::{CustomerId, NewStaff, Role};
use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, ShopSettingsBuilder,
    Sku, StockChange, TaxCategory, TaxTable, VariantId,
};
use shopkeep::clock::{ManualClock, Timestamp};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::customers::{Address, BusinessDetails, Country, NewCustomer, Phone, VatId};
use shopkeep::money::TaxRate;
use shopkeep::orders::{CartRef, Checkout, CouponCode, IdempotencyKey, Order, Payment, PriceMode};
use shopkeep::store::Durability;
use shopkeep::{Currency, Email, KeyRing, Money, Principal, Store};

pub const PASSWORD: &str = "a perfectly long test passphrase";

pub fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// The tests' clock, standing at 2026-11-28T09:00:00Z until a test moves it.
pub fn clock() -> ManualClock {
    ManualClock::new(at("2026-11-28T09:00:00Z"))
}

/// Opens (or creates) the store at `path`; every store of one shop opens it this way.
pub fn open(path: &Path, clock: &ManualClock) -> Store {
    if let Some(config) = postgres::schema_for(path) {
        return connect_postgres(&config, clock);
    }
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .durability(Durability::Normal)
        .busy_timeout(Duration::from_secs(60))
        .clock(clock.clone())
        .open(path, KeyRing::from_master_key([8; 32]))
        .unwrap()
}

pub struct Shop {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub clock: ManualClock,
    /// The engine the store runs on, for assertion messages.
    pub engine: &'static str,
    /// The store's schema on the PostgreSQL test server (dropped with the shop).
    pub _schema: Option<postgres::PgSchema>,
}

/// An engine the suite runs on.
#[derive(Debug, Clone)]
pub enum Engine {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A fresh schema on the PostgreSQL test server with this connection string.
    Postgres(String),
}

/// The engines to run a test on: SQLite always; PostgreSQL as well when the crate has the
/// `postgres` feature and `SHOPKEEP_TEST_POSTGRES` names a server (otherwise the PostgreSQL
/// run is skipped, and says so on stdout).
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if let Some(conninfo) = postgres::conninfo() {
        engines.push(Engine::Postgres(conninfo));
    }
    engines
}

/// A store on `engine` with the tests' options, and what keeps it alive: its temp dir (SQLite)
/// or its schema (PostgreSQL).
pub fn store_on(
    engine: &Engine,
    clock: &ManualClock,
) -> (tempfile::TempDir, Store, Option<postgres::PgSchema>) {
    let dir = tempfile::tempdir().unwrap();
    match engine {
        // `open` puts it on PostgreSQL instead when the whole suite runs there.
        Engine::Sqlite => {
            let store = open(&dir.path().join("shop.db"), clock);
            (dir, store, None)
        }
        Engine::Postgres(conninfo) => {
            let schema = postgres::PgSchema::create(conninfo);
            let store = connect_postgres(&schema.config(), clock);
            (dir, store, Some(schema))
        }
    }
}

/// Connects to the PostgreSQL schema `config` names with the tests' options.
#[cfg(feature = "postgres")]
pub fn connect_postgres(config: &str, clock: &ManualClock) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .durability(Durability::Normal)
        .busy_timeout(Duration::from_secs(60))
        .clock(clock.clone())
        .connect_postgres(config, KeyRing::from_master_key([8; 32]))
        .unwrap()
}

#[cfg(not(feature = "postgres"))]
pub fn connect_postgres(_config: &str, _clock: &ManualClock) -> Store {
    unreachable!("engines() offers PostgreSQL only with the `postgres` feature")
}

/// Connects to the PostgreSQL schema `config` names with master key `master`, or fails.
#[cfg(feature = "postgres")]
pub fn try_connect_postgres(
    config: &str,
    clock: &ManualClock,
    master: [u8; 32],
) -> shopkeep::Result<Store> {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .clock(clock.clone())
        .connect_postgres(config, KeyRing::from_master_key(master))
}

#[cfg(not(feature = "postgres"))]
pub fn try_connect_postgres(
    _config: &str,
    _clock: &ManualClock,
    _master: [u8; 32],
) -> shopkeep::Result<Store> {
    unreachable!("conninfo() offers PostgreSQL only with the `postgres` feature")
}

/// The seller of every test shop: Beispiel GmbH in Berlin, with a tax number and its commercial
/// register entry (which identifies it on e-invoices, BR-CO-26), and `vat_id` if given.
pub fn seller(vat_id: Option<&str>) -> Seller {
    let de = Country::parse("DE").unwrap();
    let seller = Seller::new(
        "Beispiel GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de).unwrap(),
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("billing@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number("27/123/45678")
    .unwrap()
    .registration("HRB 12345, Amtsgericht Berlin")
    .unwrap();
    match vat_id {
        Some(id) => seller.vat_id(VatId::parse(id).unwrap()),
        None => seller,
    }
}

/// Settings for `seller` in `mode`: 19 % and 7 % at home, 20 % and 5.5 % in France, selling in
/// EUR and CHF. The builder takes whatever else a test needs (invoice issue, time zone, ...).
pub fn settings(seller: Seller, mode: PriceMode) -> ShopSettingsBuilder {
    let table = TaxTable::new()
        .country(
            Country::parse("DE").unwrap(),
            CountryTaxes::new(TaxRate::parse("19").unwrap()).reduced(TaxRate::parse("7").unwrap()),
        )
        .country(
            Country::parse("FR").unwrap(),
            CountryTaxes::new(TaxRate::parse("20").unwrap())
                .reduced(TaxRate::parse("5.5").unwrap()),
        );
    ShopSettings::builder(seller, mode, Currency::EUR)
        .accept_currency(Currency::CHF)
        .tax_table(table)
}

/// A German shop in `mode` (see [`settings`]), its seller without a VAT id, on a fresh database
/// file.
pub fn shop(mode: PriceMode) -> Shop {
    shop_with(settings(seller(None), mode).build().unwrap())
}

/// A shop with `settings` on a fresh store of the suite's engine (see
/// [`postgres::suite_on_postgres`]), its clock at [`clock`].
pub fn shop_with(settings: ShopSettings) -> Shop {
    shop_on(&Engine::Sqlite, settings)
}

/// Whether this run of the suite keeps its stores on PostgreSQL; if so, says on stdout that
/// the calling test is skipped, because `why` (it inspects the SQLite file itself). A test of
/// SQLite's own behaviour starts with `if common::sqlite_only("...") { return; }`.
#[allow(clippy::print_stdout)]
pub fn sqlite_only(why: &str) -> bool {
    let skip = postgres::suite_on_postgres();
    if skip {
        println!("skipped on PostgreSQL: {why}");
    }
    skip
}

/// A shop with `settings` on a fresh store on `engine`, its clock at [`clock`].
pub fn shop_on(engine: &Engine, settings: ShopSettings) -> Shop {
    let clock = clock();
    let (dir, store, schema) = store_on(engine, &clock);
    store
        .settings(&store.system())
        .update(0, &settings)
        .unwrap();
    Shop {
        _dir: dir,
        store,
        clock,
        engine: match engine {
            Engine::Sqlite => "SQLite",
            Engine::Postgres(_) => "PostgreSQL",
        },
        _schema: schema,
    }
}

/// A German shop in `mode` on every engine of [`engines`], one after the other.
pub fn shops(mode: PriceMode) -> impl Iterator<Item = Shop> {
    engines()
        .into_iter()
        .map(move |engine| shop_on(&engine, settings(seller(None), mode).build().unwrap()))
}

pub fn eur(text: &str) -> Money {
    Money::parse(text, Currency::EUR).unwrap()
}

/// A product with one tracked variant at `price`, `stock` on hand.
pub fn product(
    store: &Store,
    sku: &str,
    price: Money,
    category: TaxCategory,
    stock: u32,
) -> VariantId {
    priced_product(store, sku, &[price], category, stock)
}

/// A product with one tracked variant with a price in each of `prices`, `stock` on hand.
pub fn priced_product(
    store: &Store,
    sku: &str,
    prices: &[Money],
    category: TaxCategory,
    stock: u32,
) -> VariantId {
    let mut new = NewProduct::new(Sku::parse(sku).unwrap(), sku, category).unwrap();
    for price in prices {
        new = new.price(*price);
    }
    let made = store.products(&store.system()).create(new).unwrap();
    let variant = made.variants()[0].id();
    if stock > 0 {
        store
            .stock(&store.system())
            .adjust(variant, StockChange::receipt(stock))
            .unwrap();
    }
    variant
}

/// The stock on hand of a tracked variant.
pub fn on_hand(store: &Store, variant: VariantId) -> u64 {
    let system = store.system();
    let page = store
        .products(&system)
        .list(&shopkeep::catalog::ProductQuery::new())
        .unwrap();
    page.items()
        .iter()
        .flat_map(|p| p.variants())
        .find(|v| v.id() == variant)
        .and_then(shopkeep::catalog::Variant::on_hand)
        .unwrap()
}

/// Ana Example's shipping address in `country`.
pub fn address(country: &str) -> Address {
    Address::new(
        "Ana Example",
        "Rue 1",
        "Somewhere",
        Country::parse(country).unwrap(),
    )
    .unwrap()
}

/// `name` signing up as `email` with [`PASSWORD`], shipping to `address`.
pub fn new_customer(email: &str, name: &str, address: Address) -> NewCustomer {
    NewCustomer::new(Email::parse(email).unwrap(), Password::new(PASSWORD), name)
        .unwrap()
        .shipping_address(address)
}

/// A business buyer's details: `company` with `vat_id`.
pub fn business(company: &str, vat_id: &str) -> BusinessDetails {
    BusinessDetails::new(company)
        .unwrap()
        .with_vat_id(VatId::parse(vat_id).unwrap())
}

/// Registers `new` and logs them in.
pub fn register(store: &Store, new: NewCustomer) -> Principal {
    let made = store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap();
    let login = store.login(made.email(), &Password::new(PASSWORD)).unwrap();
    store.principal_from_session(login.token()).unwrap()
}

/// Registers Ana Example as `email`, shipping to `country`, and logs her in.
pub fn customer(store: &Store, email: &str, country: &str) -> Principal {
    register(store, new_customer(email, "Ana Example", address(country)))
}

/// Creates a staff member with `role` and logs them in.
pub fn staff(store: &Store, email: &str, role: Role) -> Principal {
    let new = NewStaff::new(
        Email::parse(email).unwrap(),
        "Staff Member",
        role,
        Password::new(PASSWORD),
    )
    .unwrap();
    store.staff(&store.system()).create(new).unwrap();
    let login = store
        .login_staff(&Email::parse(email).unwrap(), &Password::new(PASSWORD))
        .unwrap();
    store.principal_from_session(login.token()).unwrap()
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

pub fn code(text: &str) -> CouponCode {
    CouponCode::parse(text).unwrap()
}

/// Adds `items` to `buyer`'s cart, as `buyer`; returns the buyer's customer id.
pub fn fill(store: &Store, buyer: &Principal, items: &[(VariantId, u32)]) -> CustomerId {
    let id = buyer.customer_id().unwrap();
    for &(variant, quantity) in items {
        store
            .carts(buyer)
            .add(CartRef::Customer(id), variant, quantity)
            .unwrap();
    }
    id
}

/// Checks out `items` as `buyer`, with an optional coupon, under a fresh idempotency key.
pub fn place(
    store: &Store,
    buyer: &Principal,
    items: &[(VariantId, u32)],
    coupon: Option<&str>,
) -> Order {
    static KEYS: AtomicUsize = AtomicUsize::new(0);
    let id = fill(store, buyer, items);
    let n = KEYS.fetch_add(1, Ordering::Relaxed);
    let mut request = Checkout::from_cart(id, key(&format!("order-{n}")));
    if let Some(c) = coupon {
        request = request.coupon(code(c));
    }
    store.orders(buyer).checkout(request).unwrap().into_order()
}

/// Marks `order` paid in full by the system, with gateway reference `psp_<order id>`.
pub fn pay(store: &Store, order: &Order) -> Order {
    pay_as(store, order, &format!("psp_{}", order.id()))
}

/// Marks `order` paid in full by the system, with gateway reference `reference`.
pub fn pay_as(store: &Store, order: &Order, reference: &str) -> Order {
    let payment = Payment::new(reference, order.total()).unwrap();
    store
        .orders(&store.system())
        .mark_paid(order.id(), payment)
        .unwrap()
}

/// A raw connection to the store's file, to read (or try to tamper with) rows directly.
pub fn raw(store: &Store) -> rusqlite::Connection {
    rusqlite::Connection::open(store.path().unwrap()).unwrap()
}

/// The raw bytes of the database file at `path` and of its WAL (if there is one): where no secret
/// or personal datum may stand in clear.
pub fn raw_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.to_path_buf().into_os_string();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

/// Whether `needle` stands anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The number of rows in `table` (on the suite's engine, see [`db`]).
pub fn count(store: &Store, table: &str) -> i64 {
    count_where(store, table, "TRUE")
}

/// The number of rows in `table` that meet the SQL `condition` (valid on both engines).
pub fn count_where(store: &Store, table: &str, condition: &str) -> i64 {
    db::Db::of(store).count_where(table, condition)
}

/// Every row of `tables`, as text, for before/after comparisons on one engine.
pub fn dump(store: &Store, tables: &[&str]) -> Vec<String> {
    let db = db::Db::of(store);
    let mut out = Vec::new();
    for table in tables {
        for row in db.rows(&format!("SELECT * FROM {table} ORDER BY 1")) {
            out.push(format!("{table}: {row:?}"));
        }
    }
    out
}

/// The sum of a variant's stock ledger (what every movement adds up to).
pub fn ledger_sum(store: &Store, variant: VariantId) -> i64 {
    let db = db::Db::of(store);
    let id = db.bytes(&uuid_bytes(&variant.to_string()));
    db.int(&format!(
        "SELECT coalesce(sum(delta), 0) FROM shopkeep_stock_ledger WHERE variant_id = {id}"
    ))
}

/// The 16 bytes of a hyphenated UUID, as ids are stored.
pub fn uuid_bytes(text: &str) -> Vec<u8> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
