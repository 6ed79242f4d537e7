//! What the benches with a hand-written baseline share: the shop both sides of the checkout and
//! invoice benches run on, the directory and connection the baselines use, and the baselines'
//! primitives (AES-256-GCM sealing as shopkeep's field encryption does it, random bytes,
//! time-ordered ids, and the length-prefixed HMAC the audit chain uses).
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;
use shopkeep::access::CustomerId;
use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, ShopSettingsBuilder,
    Sku, StockChange, TaxCategory, TaxTable, TimeZone, VariantId,
};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::customers::{Address, Country, NewCustomer, Phone, VatId};
use shopkeep::money::TaxRate;
use shopkeep::orders::PriceMode;
use shopkeep::store::Durability;
use shopkeep::{Currency, Email, KeyRing, Money, Principal, Store};

/// `/dev/shm` (tmpfs), or the temp dir where there is none.
pub fn tmpfs() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// The number in environment variable `name`, or `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The shop the whole-sale benches run: a German seller with a VAT id, net prices, invoices on
/// payment, the Berlin time zone.
pub fn sale_settings() -> ShopSettings {
    let seller = seller().vat_id(VatId::parse("DE123456788").unwrap());
    shop_settings(seller)
        .time_zone(TimeZone::parse("Europe/Berlin").unwrap())
        .build()
        .unwrap()
}

/// The bench shop's seller: a Berlin GmbH with a tax number.
pub fn seller() -> Seller {
    let de = Country::parse("DE").unwrap();
    Seller::new(
        "Bench GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de).unwrap(),
        Contact::new(
            "Olga",
            Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("olga@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number("27/123/45678")
    .unwrap()
    .registration("HRB 12345, Amtsgericht Berlin")
    .unwrap()
}

/// Settings of `seller`: net prices in EUR, Germany at 19 % and 7 %.
pub fn shop_settings(seller: Seller) -> ShopSettingsBuilder {
    let table = TaxTable::new().country(
        Country::parse("DE").unwrap(),
        CountryTaxes::new(TaxRate::parse("19").unwrap()).reduced(TaxRate::parse("7").unwrap()),
    );
    ShopSettings::builder(seller, PriceMode::TaxExclusive, Currency::EUR).tax_table(table)
}

/// A store with `settings`, three products in stock (A 9.99 and C 19.00 standard-rated, B 4.50
/// reduced) and one registered customer with a shipping address.
pub struct Shop {
    pub store: Store,
    pub customer: CustomerId,
    pub variants: Vec<VariantId>,
}

impl Shop {
    pub fn open(path: &Path, durability: Durability, settings: &ShopSettings) -> Shop {
        let store = Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .durability(durability)
            .open(path, KeyRing::from_master_key([42; 32]))
            .unwrap();
        Shop::on(store, settings)
    }

    /// The same setup on `store` (a fresh one), wherever it keeps its data.
    pub fn on(store: Store, settings: &ShopSettings) -> Shop {
        let system = store.system();
        store.settings(&system).update(0, settings).unwrap();
        let variants = [
            ("A", "9.99", TaxCategory::Standard),
            ("B", "4.50", TaxCategory::Reduced),
            ("C", "19.00", TaxCategory::Standard),
        ]
        .iter()
        .map(|(sku, price, cat)| {
            let new = NewProduct::new(Sku::parse(sku).unwrap(), sku, *cat)
                .unwrap()
                .price(Money::parse(price, Currency::EUR).unwrap());
            let made = store.products(&system).create(new).unwrap();
            let v = made.variants()[0].id();
            store
                .stock(&system)
                .adjust(v, StockChange::receipt(1_000_000_000))
                .unwrap();
            v
        })
        .collect();
        let address = Address::new(
            "Ana Example",
            "Main St 1",
            "Berlin",
            Country::parse("DE").unwrap(),
        )
        .unwrap();
        let new = NewCustomer::new(
            Email::parse("ana@example.com").unwrap(),
            Password::new("a perfectly long bench passphrase"),
            "Ana Example",
        )
        .unwrap()
        .shipping_address(address);
        let customer = store
            .customers(&Principal::anonymous())
            .register(new)
            .unwrap()
            .id();
        Shop {
            store,
            customer,
            variants,
        }
    }
}

/// Registers buyer number `i` (a second customer and onwards, for benches with one customer
/// per caller), with a shipping address as the shop's first customer has.
pub fn register_buyer(store: &Store, i: usize) -> CustomerId {
    let new = NewCustomer::new(
        Email::parse(&format!("buyer{i}@example.com")).unwrap(),
        Password::new("a perfectly long bench passphrase"),
        "Bea Example",
    )
    .unwrap()
    .shipping_address(
        Address::new(
            "Bea Example",
            "Main St 2",
            "Berlin",
            Country::parse("DE").unwrap(),
        )
        .unwrap(),
    );
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id()
}

/// A rusqlite connection set up as shopkeep sets up its own (src/store/connection.rs): WAL,
/// the same pragmas and durability, a statement cache as large, and plans independent of bound
/// values (QPSG), so that a cached statement is not recompiled after rusqlite clears its
/// bindings.
pub fn baseline_connection(path: &Path, durability: Durability) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.set_prepared_statement_cache_capacity(128);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .unwrap();
    let sync = if durability == Durability::Full {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;
         PRAGMA trusted_schema = OFF; PRAGMA temp_store = MEMORY; PRAGMA synchronous = {sync};
         PRAGMA busy_timeout = 5000;"
    ))
    .unwrap();
    conn
}

pub fn seal(aead: &Aes256Gcm, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce: [u8; 12] = rand_bytes();
    let mut out = nonce.to_vec();
    out.extend(
        aead.encrypt(
            &Nonce::try_from(&nonce[..]).unwrap(),
            Payload { msg: plain, aad },
        )
        .unwrap(),
    );
    out
}

pub fn open(aead: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    aead.decrypt(
        &Nonce::try_from(&sealed[..12]).unwrap(),
        Payload {
            msg: &sealed[12..],
            aad,
        },
    )
    .unwrap()
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0; N];
    getrandom::fill(&mut b).unwrap();
    b
}

pub fn uuid7() -> [u8; 16] {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    *uuid::Builder::from_unix_timestamp_millis(millis, &rand_bytes())
        .as_uuid()
        .as_bytes()
}

pub fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(&(p.len() as u32).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// Appends an allowed audit entry, chained as shopkeep chains them (src/access/audit_repo.rs):
/// the latest entry, then an HMAC over its MAC (zeros for the first), the next sequence number
/// and the entry's fields, then the row.
pub fn audit(
    conn: &Connection,
    key: &[u8; 32],
    at: &str,
    principal: &str,
    action: &str,
    resource: &str,
) {
    let (seq, previous): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT seq, mac FROM shopkeep_audit ORDER BY seq DESC LIMIT 1")
        .unwrap()
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .unwrap()
        .unwrap_or((0, vec![0; 32]));
    let entry = mac(
        key,
        &[
            &previous,
            &(seq + 1).to_be_bytes(),
            at.as_bytes(),
            principal.as_bytes(),
            action.as_bytes(),
            resource.as_bytes(),
            b"allowed",
        ],
    );
    conn.prepare_cached(
        "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .unwrap()
    .execute(params![
        seq + 1,
        at,
        principal,
        action,
        resource,
        "allowed",
        entry
    ])
    .unwrap();
}

/// The 16 bytes an id is stored as (shopkeep binds its ids itself; raw SQL binds these).
pub fn id_bytes(id: impl std::fmt::Display) -> [u8; 16] {
    uuid::Uuid::parse_str(&id.to_string()).unwrap().into_bytes()
}
