//! A small shop for the store's multi-process tests: whole sales through the public API.

use std::path::Path;

use crate::access::CustomerId;
use crate::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
    TaxCategory, TaxTable, VariantId,
};
use crate::crypto::Password;
use crate::customers::{Address, Country, NewCustomer, Phone};
use crate::invoices::Invoice;
use crate::money::TaxRate;
use crate::orders::{CartRef, Checkout, IdempotencyKey, Order, Payment, PriceMode};
use crate::{Currency, Email, KeyRing, Money, Principal, Result, Store};

fn keys() -> KeyRing {
    KeyRing::from_master_key([43; 32])
}

pub(super) fn open(path: &Path) -> Store {
    Store::open(path, keys()).unwrap()
}

/// Sets up the shop at `path`: settings, one product with `stock` on hand, `customers`
/// customers. Returns the product's variant and the customers.
pub(super) fn set_up(path: &Path, stock: u32, customers: usize) -> (VariantId, Vec<CustomerId>) {
    let store = open(path);
    let system = store.system();
    let de = Country::parse("DE").unwrap();
    let seller = Seller::new(
        "Kill Test GmbH",
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
    .unwrap();
    let table = TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19").unwrap()));
    let settings = ShopSettings::builder(seller, PriceMode::TaxExclusive, Currency::EUR)
        .tax_table(table)
        .build()
        .unwrap();
    store.settings(&system).update(0, &settings).unwrap();
    let product = NewProduct::new(Sku::parse("MUG-1").unwrap(), "Mug", TaxCategory::Standard)
        .unwrap()
        .price(Money::parse("9.99", Currency::EUR).unwrap());
    let variant = store.products(&system).create(product).unwrap().variants()[0].id();
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(stock))
        .unwrap();
    let customers = (0..customers)
        .map(|i| {
            let address = Address::new("Ana Example", "Main St 1", "Berlin", de).unwrap();
            let new = NewCustomer::new(
                Email::parse(&format!("buyer{i}@example.com")).unwrap(),
                Password::new("a perfectly long test passphrase"),
                "Ana Example",
            )
            .unwrap()
            .shipping_address(address);
            store
                .customers(&Principal::anonymous())
                .register(new)
                .unwrap()
                .id()
        })
        .collect();
    (variant, customers)
}

/// One whole sale, six write calls: three `carts.add`, `checkout`, `mark_paid`,
/// `invoices.issue`. `key` makes the checkout's idempotency key.
pub(super) fn sell(
    store: &Store,
    customer: CustomerId,
    variant: VariantId,
    key: &str,
) -> Result<(Order, Invoice)> {
    let system = store.system();
    for _ in 0..3 {
        store
            .carts(&system)
            .add(CartRef::Customer(customer), variant, 1)?;
    }
    let order = store
        .orders(&system)
        .checkout(Checkout::from_cart(customer, IdempotencyKey::new(key)?))?
        .into_order();
    let payment = Payment::new(&format!("psp_{}", order.id()), order.total())?;
    let order = store.orders(&system).mark_paid(order.id(), payment)?;
    let invoice = store.invoices(&system).issue(order.id())?;
    Ok((order, invoice))
}
