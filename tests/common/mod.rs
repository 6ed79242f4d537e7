//! Shared setup for the integration tests: a shop on a real database file in a temp dir, with
//! settings, products with stock, and logged-in customers.
#![allow(
    dead_code, // each test binary uses part of it
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shopkeep::{
    Address, CartRef, Checkout, Contact, Country, CountryTaxes, CouponCode, Currency, Durability,
    Email, IdempotencyKey, KeyRing, ManualClock, Money, NewCustomer, NewProduct, Order, Password,
    PasswordParams, Phone, PostalAddress, PriceMode, Principal, Seller, ShopSettings, Sku,
    StockChange, Store, TaxCategory, TaxRate, TaxTable, Timestamp, VariantId,
};

pub const PASSWORD: &str = "a perfectly long test passphrase";

pub fn clock() -> ManualClock {
    ManualClock::new(Timestamp::parse_rfc3339("2026-11-28T09:00:00Z").unwrap())
}

pub fn open(path: &Path, clock: &ManualClock) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .durability(Durability::Normal)
        .busy_timeout(Duration::from_secs(30))
        .clock(clock.clone())
        .open(path, KeyRing::from_master_key([8; 32]))
        .unwrap()
}

pub struct Shop {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub clock: ManualClock,
}

/// A German shop in `mode` (19 % and 7 % at home, 20 % and 5.5 % in France), selling in EUR
/// and CHF, on a fresh database file.
pub fn shop(mode: PriceMode) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = open(&dir.path().join("shop.db"), &clock);
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
    .unwrap();
    let table = TaxTable::new()
        .country(
            de,
            CountryTaxes::new(TaxRate::parse("19").unwrap()).reduced(TaxRate::parse("7").unwrap()),
        )
        .country(
            Country::parse("FR").unwrap(),
            CountryTaxes::new(TaxRate::parse("20").unwrap())
                .reduced(TaxRate::parse("5.5").unwrap()),
        );
    let settings = ShopSettings::builder(seller, mode, Currency::EUR)
        .accept_currency(Currency::CHF)
        .tax_table(table)
        .build()
        .unwrap();
    store
        .settings(&store.system())
        .update(0, &settings)
        .unwrap();
    Shop {
        _dir: dir,
        store,
        clock,
    }
}

pub fn eur(text: &str) -> Money {
    Money::parse(text, Currency::EUR).unwrap()
}

/// A product with one tracked variant, `stock` on hand.
pub fn product(
    store: &Store,
    sku: &str,
    price: Money,
    category: TaxCategory,
    stock: u32,
) -> VariantId {
    let new = NewProduct::new(Sku::parse(sku).unwrap(), sku, category)
        .unwrap()
        .price(price);
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
        .list(&shopkeep::ProductQuery::new())
        .unwrap();
    page.items()
        .iter()
        .flat_map(|p| p.variants())
        .find(|v| v.id() == variant)
        .and_then(shopkeep::Variant::on_hand)
        .unwrap()
}

/// Registers a customer with a shipping address in `country` and logs them in.
pub fn customer(store: &Store, email: &str, country: &str) -> Principal {
    let address = Address::new(
        "Ana Example",
        "Rue 1",
        "Somewhere",
        Country::parse(country).unwrap(),
    )
    .unwrap();
    let new = NewCustomer::new(
        Email::parse(email).unwrap(),
        Password::new(PASSWORD),
        "Ana Example",
    )
    .unwrap()
    .shipping_address(address);
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap();
    let login = store
        .login(&Email::parse(email).unwrap(), &Password::new(PASSWORD))
        .unwrap();
    store.principal_from_session(login.token()).unwrap()
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

pub fn code(text: &str) -> CouponCode {
    CouponCode::parse(text).unwrap()
}

/// Checks out `items` as `buyer`, with an optional coupon, under a fresh idempotency key.
pub fn place(
    store: &Store,
    buyer: &Principal,
    items: &[(VariantId, u32)],
    coupon: Option<&str>,
) -> Order {
    static KEYS: AtomicUsize = AtomicUsize::new(0);
    let id = buyer.customer_id().unwrap();
    for &(variant, quantity) in items {
        store
            .carts(buyer)
            .add(CartRef::Customer(id), variant, quantity)
            .unwrap();
    }
    let n = KEYS.fetch_add(1, Ordering::Relaxed);
    let mut request = Checkout::from_cart(id, key(&format!("order-{n}")));
    if let Some(c) = coupon {
        request = request.coupon(code(c));
    }
    store.orders(buyer).checkout(request).unwrap()
}

/// A raw connection to the store's file, to read (or try to tamper with) rows directly.
pub fn raw(store: &Store) -> rusqlite::Connection {
    rusqlite::Connection::open(store.path().unwrap()).unwrap()
}

/// Every row of `tables`, as text, for before/after comparisons.
pub fn dump(store: &Store, tables: &[&str]) -> Vec<String> {
    let conn = raw(store);
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let values: Vec<rusqlite::types::Value> =
                    (0..columns).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                Ok(format!("{table}: {values:?}"))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

/// The sum of a variant's stock ledger (what every movement adds up to).
pub fn ledger_sum(store: &Store, variant: VariantId) -> i64 {
    raw(store)
        .query_row(
            "SELECT coalesce(sum(delta), 0) FROM shopkeep_stock_ledger WHERE variant_id = ?1",
            [uuid_bytes(&variant.to_string())],
            |r| r.get(0),
        )
        .unwrap()
}

/// The 16 bytes of a hyphenated UUID, as ids are stored.
pub fn uuid_bytes(text: &str) -> Vec<u8> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
