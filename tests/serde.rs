//! The JSON forms of the read models and value types (feature `serde`, on by default): what a
//! host's JSON API returns without hand-written views, values that deserialise only through
//! their constructors' validation, and secrets that cannot be serialised at all.
#![cfg(feature = "serde")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    // The secrets test asserts constants: compile-time facts about the API.
    clippy::assertions_on_constants
)]

mod common;

use std::marker::PhantomData;

use common::{customer, eur, place, product, shop};
use serde_json::{Value, json};
use shopkeep::Email;
use shopkeep::catalog::{ProductStatus, SupplyKind, TaxCategory};
use shopkeep::clock::Timestamp;
use shopkeep::customers::Country;
use shopkeep::invoices::Date;
use shopkeep::orders::{CartDigest, CartRef, OrderStatus, PriceMode, VatCategory};

#[test]
fn an_order_serialises_with_decimal_money_text_ids_and_rfc3339_times() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let order = place(store, &ana, &[(mug, 2)], None);

    let v = serde_json::to_value(&order).unwrap();
    assert_eq!(v["id"], json!(order.id().to_string()));
    assert_eq!(v["number"], json!("000001"));
    assert_eq!(v["customer"], json!(ana.customer_id().unwrap().to_string()));
    assert_eq!(v["status"], json!("placed"));
    assert_eq!(v["price_mode"], json!("tax_inclusive"));
    assert_eq!(v["currency"], json!("EUR"));
    assert_eq!(
        v["gross_total"],
        json!({"amount": "25.80", "currency": "EUR"})
    );
    assert_eq!(v["vat_total"], json!({"amount": "4.12", "currency": "EUR"}));
    assert_eq!(v["placed_at"], json!("2026-11-28T09:00:00.000000Z"));
    assert_eq!(v["destination"], json!("DE"));
    let line = &v["lines"][0];
    assert_eq!(line["variant"], json!(mug.to_string()));
    assert_eq!(line["sku"], json!("MUG"));
    assert_eq!(line["quantity"], json!(2));
    assert_eq!(
        line["unit_price"],
        json!({"amount": "12.90", "currency": "EUR"})
    );
    assert_eq!(line["vat"]["category"], json!("S"));
    assert_eq!(line["vat"]["rate"], json!("19.00"));
    // The buyer snapshot is the caller's to read (the repository call allowed it).
    assert_eq!(v["buyer"]["email"], json!("ana@example.com"));
    // Nothing is a float: every amount is a decimal string.
    assert_no_floats(&v);

    // Every figure the JSON shows is the order's own.
    let paid = common::pay(store, &order);
    let v = serde_json::to_value(&paid).unwrap();
    assert_eq!(v["status"], json!("paid"));
    assert_eq!(v["version"], json!(paid.version()));
}

#[test]
fn a_product_and_a_cart_preview_serialise_for_rendering() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Reduced, 10);
    let sku = shopkeep::catalog::Sku::parse("MUG").unwrap();
    let product = store.products(&store.system()).get_by_sku(&sku).unwrap();
    let v = serde_json::to_value(&product).unwrap();
    assert_eq!(v["id"], json!(product.id().to_string()));
    assert_eq!(v["sku"], json!("MUG"));
    assert_eq!(v["name"], json!("MUG"));
    assert_eq!(v["status"], json!("active"));
    assert_eq!(v["tax_category"], json!("reduced"));
    assert_eq!(v["supply_kind"], json!("goods"));
    assert_eq!(v["created_at"], json!("2026-11-28T09:00:00.000000Z"));
    assert_eq!(v["variants"][0]["id"], json!(mug.to_string()));
    assert_eq!(
        v["variants"][0]["prices"],
        json!([{"amount": "12.90", "currency": "EUR"}])
    );
    assert_eq!(v["variants"][0]["on_hand"], json!(10));

    let ana = customer(store, "ana@example.com", "DE");
    let me = CartRef::Customer(ana.customer_id().unwrap());
    let cart = store.carts(&ana).add(me, mug, 3).unwrap();
    let v = serde_json::to_value(&cart).unwrap();
    assert_eq!(
        v["lines"],
        json!([{"variant": mug.to_string(), "quantity": 3}])
    );
    let preview = store.carts(&ana).preview(me, None, None).unwrap();
    let v = serde_json::to_value(&preview).unwrap();
    assert_eq!(v["lines"][0]["variant"], json!(mug.to_string()));
    assert_eq!(v["lines"][0]["name"], json!("MUG"));
    assert_eq!(
        v["totals"]["gross_total"],
        json!({"amount": "38.70", "currency": "EUR"})
    );
    assert_no_floats(&v);
}

#[test]
fn an_invoice_and_the_shop_settings_serialise() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let order = common::pay(store, &place(store, &ana, &[(mug, 2)], None));
    let invoice = store.invoices(&store.system()).issue(order.id()).unwrap();
    let v = serde_json::to_value(&invoice).unwrap();
    assert_eq!(v["id"], json!(invoice.id().to_string()));
    assert_eq!(v["order"], json!(order.id().to_string()));
    assert_eq!(v["issued_at"], json!("2026-11-28T09:00:00.000000Z"));
    let doc = &v["document"];
    assert_eq!(doc["kind"], json!({"type": "invoice"}));
    assert_eq!(doc["number"], json!(invoice.number()));
    assert_eq!(doc["issue_date"], json!("2026-11-28"));
    assert_eq!(doc["seller"]["legal_name"], json!("Beispiel GmbH"));
    assert_eq!(doc["lines"][0]["name"], json!("MUG"));
    assert_eq!(
        doc["totals"]["gross_total"],
        json!({"amount": "25.80", "currency": "EUR"})
    );
    assert_no_floats(&v);

    let settings = store.settings(&store.system()).get().unwrap().unwrap();
    let v = serde_json::to_value(&settings).unwrap();
    assert_eq!(v["price_mode"], json!("tax_inclusive"));
    assert_eq!(v["base_currency"], json!("EUR"));
    assert_eq!(v["accepted_currencies"], json!(["CHF", "EUR"]));
    assert_eq!(
        v["tax_table"]["countries"]["DE"]["standard"],
        json!("19.00")
    );
    assert_eq!(v["time_zone"], json!(settings.time_zone().name()));
    assert_eq!(v["invoice_issue"], json!("on_payment"));
    assert_eq!(
        v["invoice_series"],
        json!(settings.invoice_series().pattern())
    );
}

#[test]
fn value_types_round_trip_and_deserialise_only_through_validation() {
    fn back<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(text)
    }
    let de: Country = back("\"de\"").unwrap();
    assert_eq!(de, Country::parse("DE").unwrap());
    assert_eq!(serde_json::to_string(&de).unwrap(), "\"DE\"");
    assert!(back::<Country>("\"XX\"").is_err(), "unassigned code");
    assert!(back::<Country>("\"DEU\"").is_err());

    let email: Email = back("\" Ana@Example.com \"").unwrap();
    assert_eq!(email.as_str(), "Ana@Example.com");
    assert_eq!(
        serde_json::to_string(&email).unwrap(),
        "\"Ana@Example.com\""
    );
    let err = back::<Email>("\"ana@localhost\"").unwrap_err();
    assert!(err.to_string().contains("invalid email"), "{err}");
    assert!(back::<Email>("\"\\u202eana@example.com\"").is_err());

    let t: Timestamp = back("\"2026-11-28T10:30:00+01:00\"").unwrap();
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        "\"2026-11-28T09:30:00.000000Z\""
    );
    assert!(back::<Timestamp>("\"yesterday\"").is_err());

    let d: Date = back("\"2026-02-28\"").unwrap();
    assert_eq!(d, Date::new(2026, 2, 28).unwrap());
    assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-02-28\"");
    assert!(back::<Date>("\"2026-02-30\"").is_err());
    assert!(back::<Date>("\"0999-01-01\"").is_err(), "as Date::new");

    assert_eq!(
        back::<OrderStatus>("\"shipped\"").unwrap(),
        OrderStatus::Shipped
    );
    assert!(back::<OrderStatus>("\"lost\"").is_err());
    assert_eq!(
        back::<ProductStatus>("\"archived\"").unwrap(),
        ProductStatus::Archived
    );
    assert_eq!(
        back::<PriceMode>("\"tax_exclusive\"").unwrap(),
        PriceMode::TaxExclusive
    );
    assert_eq!(back::<TaxCategory>("\"zero\"").unwrap(), TaxCategory::Zero);
    assert!(back::<TaxCategory>("\"Zero\"").is_err());
    assert_eq!(
        back::<SupplyKind>("\"services\"").unwrap(),
        SupplyKind::Services
    );
    assert_eq!(
        back::<VatCategory>("\"AE\"").unwrap(),
        VatCategory::ReverseCharge
    );
    assert!(back::<VatCategory>("\"X\"").is_err());
    let digest = "ab".repeat(32);
    let parsed: CartDigest = back(&format!("\"{digest}\"")).unwrap();
    assert_eq!(parsed.to_string(), digest);
    assert!(back::<CartDigest>("\"abc\"").is_err());
}

// A type implements `Serialize` exactly when the inherent constant (which needs the bound)
// shadows the blanket trait's: the check answers `true` for serialisable types, so it can fail.
struct Probe<T: ?Sized>(PhantomData<T>);
trait NotSerialize {
    const SERIALIZE: bool = false;
}
impl<T: ?Sized> NotSerialize for Probe<T> {}
impl<T: ?Sized + serde::Serialize> Probe<T> {
    const SERIALIZE: bool = true;
}
macro_rules! serializes {
    ($t:ty) => {
        <Probe<$t>>::SERIALIZE
    };
}

#[test]
fn secrets_never_serialise() {
    // The probe sees what it should.
    assert!(serializes!(shopkeep::orders::Order));
    assert!(serializes!(shopkeep::Money));
    assert!(!serializes!(std::fs::File));
    // Passwords, tokens, API key secrets, keys, and whatever carries them.
    assert!(!serializes!(shopkeep::crypto::Password));
    assert!(!serializes!(shopkeep::access::SessionToken));
    assert!(!serializes!(shopkeep::access::Login));
    assert!(!serializes!(shopkeep::orders::CartToken));
    assert!(!serializes!(shopkeep::orders::GuestCart));
    assert!(!serializes!(shopkeep::access::ApiKeySecret));
    assert!(!serializes!(shopkeep::access::CreatedApiKey));
    assert!(!serializes!(shopkeep::KeyRing));
    assert!(!serializes!(shopkeep::customers::NewCustomer));
    assert!(!serializes!(shopkeep::access::NewStaff));
}

fn assert_no_floats(v: &Value) {
    match v {
        Value::Number(n) => assert!(!n.is_f64(), "a float in the JSON: {n}"),
        Value::Array(items) => items.iter().for_each(assert_no_floats),
        Value::Object(fields) => fields.values().for_each(assert_no_floats),
        _ => {}
    }
}
