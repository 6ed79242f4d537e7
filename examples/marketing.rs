//! Marketing analytics on a generated shop: a short RFM report and the cohort table.
//!
//! ```text
//! cargo run --example marketing
//! ```
//!
//! A shop in Berlin sells three products; two hundred customers buy between one and four times
//! over a year (a simulated clock moves time), some orders are refunded. The example prints
//! the customers per RFM segment, the best customers, the retention matrix by first-purchase
//! month, and the sales of the last months. It runs in memory with cheap password parameters
//! (the `insecure-test-params` feature the examples are built with), so it is quick in debug
//! builds.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::time::Duration;

use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
    TaxCategory, TaxTable, TimeZone,
};
use shopkeep::clock::{ManualClock, Timestamp};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::customers::{Address, Country, NewCustomer, Phone};
use shopkeep::invoices::Date;
use shopkeep::marketing::Attribution;
use shopkeep::marketing::{ClvOutcome, SalesGrouping, SalesQuery};
use shopkeep::money::TaxRate;
use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Payment, PriceMode, Refund};
use shopkeep::{Currency, Email, KeyRing, Money, Store};

const CUSTOMERS: u64 = 200;

fn main() -> Result<(), Box<dyn Error>> {
    let clock = ManualClock::new(Timestamp::parse_rfc3339("2025-12-01T09:00:00Z")?);
    let store = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .clock(clock.clone())
        .open_in_memory(KeyRing::from_master_key([7; 32]))?;
    let system = store.system();

    let de = Country::parse("DE")?;
    let office = PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?;
    let contact = Contact::new(
        "Olga Owner",
        Phone::parse("+49 30 1234567")?,
        Email::parse("olga@example.com")?,
    )?;
    let seller = Seller::new("Beispiel GmbH", office, contact)?
        .tax_number("27/123/45678")?
        .registration("HRB 12345, Amtsgericht Berlin")?;
    let taxes = TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19")?));
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(taxes)
        .time_zone(TimeZone::parse("Europe/Berlin")?)
        .build()?;
    store.settings(&system).update(0, &settings)?;
    let mut variants = Vec::new();
    for (sku, price) in [("MUG", "12.90"), ("TEE", "24.00"), ("CAP", "9.50")] {
        let product = NewProduct::new(Sku::parse(sku)?, sku, TaxCategory::Standard)?
            .price(Money::parse(price, Currency::EUR)?);
        let created = store.products(&system).create(product)?;
        let variant = created
            .variants()
            .first()
            .ok_or("a product has a variant")?
            .id();
        store
            .stock(&system)
            .adjust(variant, StockChange::receipt(100_000))?;
        variants.push(variant);
    }

    // A small deterministic generator (no dependency): a linear congruential sequence.
    let mut seed: u64 = 42;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let newsletter = Attribution::new()
        .with_source("newsletter")?
        .with_medium("email")?
        .with_campaign("spring-sale")?;
    let start = store.now();
    let mut orders = 0;
    for i in 0..CUSTOMERS {
        let email = Email::parse(&format!("customer{i}@example.com"))?;
        let new = NewCustomer::new(email, Password::new("a long enough passphrase"), "Customer")?
            .shipping_address(Address::new("Customer", "Torstr. 5", "Berlin", de)?);
        let id = store.customers(&system).register(new)?.id();
        // Customers arrive over the year; each buys 1 to 4 times, weeks apart.
        let mut day = next(330);
        for n in 0..=next(4) {
            clock.set(start.checked_add(Duration::from_secs(day * 86_400 + next(36_000)))?);
            let variant = *variants
                .get(usize::try_from(next(3))?)
                .ok_or("three products")?;
            store.carts(&system).add(
                CartRef::Customer(id),
                variant,
                u32::try_from(1 + next(3))?,
            )?;
            let mut checkout = Checkout::from_cart(id, IdempotencyKey::new(&format!("{i}-{n}"))?);
            if next(5) == 0 {
                checkout = checkout.attribution(newsletter.clone());
            }
            let order = store.orders(&system).checkout(checkout)?.into_order();
            store.orders(&system).mark_paid(
                order.id(),
                Payment::new(&format!("psp_{i}_{n}"), order.total())?,
            )?;
            if next(20) == 0 {
                store.orders(&system).refund(order.id(), Refund::full())?;
            }
            orders += 1;
            day += 10 + next(60);
            if day > 364 {
                break;
            }
        }
    }
    clock.set(Timestamp::parse_rfc3339("2026-12-01T09:00:00Z")?);
    println!("{CUSTOMERS} customers, {orders} orders\n");

    let marketing = store.marketing(&system);
    let rfm = marketing.rfm()?;
    print!("{}", rfm.to_text());
    let mut best: Vec<_> = rfm.customers().iter().collect();
    best.sort_by_key(|c| std::cmp::Reverse(c.monetary().minor()));
    println!("\nbest customers (pseudonymous ids):");
    for c in best.iter().take(5) {
        println!(
            "  {}  R{} F{} M{}  {:>3} days  {} orders  {}  {}",
            c.customer(),
            c.r(),
            c.f(),
            c.m(),
            c.recency_days(),
            c.frequency(),
            c.monetary(),
            c.segment()
        );
    }
    println!("\nretention by first-purchase month:");
    print!("{}", marketing.cohorts()?.to_text());
    let query = SalesQuery::new(
        Date::new(2026, 9, 1)?,
        Date::new(2026, 11, 30)?,
        SalesGrouping::Month,
    )?;
    println!("\nsales by month:");
    for row in marketing.sales(&query)?.rows() {
        println!(
            "  {}  {:>3} orders  {:>4} units  revenue {}  refunds {}  AOV {}",
            row.key(),
            row.orders(),
            row.units(),
            row.revenue(),
            row.refunds(),
            row.average_order_value()
        );
    }
    let campaigns = SalesQuery::new(
        Date::new(2025, 12, 1)?,
        Date::new(2026, 11, 30)?,
        SalesGrouping::Campaign,
    )?;
    println!("\nsales by campaign:");
    for row in marketing.sales(&campaigns)?.rows() {
        println!(
            "  {:<12} {:>3} orders  revenue {}",
            row.key(),
            row.orders(),
            row.revenue()
        );
    }
    let refresh = marketing.refresh_scores()?;
    println!("\nscored for audiences: {} customers", refresh.scored());
    match refresh.clv() {
        ClvOutcome::Fitted { model, customers } => {
            let bg = model.purchases();
            println!(
                "CLV over the next {} days for {customers} customers (BG/NBD r {:.3} alpha {:.3} a {:.3} b {:.3}):",
                refresh.horizon_days(),
                bg.r(),
                bg.alpha(),
                bg.a(),
                bg.b()
            );
            let mut scores = marketing.scores(None, 1000)?.scores().to_vec();
            scores.sort_by_key(|s| std::cmp::Reverse(s.expected_value().map(|v| v.minor())));
            println!("  customer                              P(alive)  purchases  value");
            for s in scores.iter().take(5) {
                println!(
                    "  {}  {:>8.3}  {:>9.2}  {}",
                    s.customer(),
                    s.probability_alive().unwrap_or(f64::NAN),
                    s.expected_purchases().unwrap_or(f64::NAN),
                    s.expected_value()
                        .map_or_else(|| "-".to_owned(), |v| v.to_string())
                );
            }
        }
        ClvOutcome::NotFitted(reason) => println!("CLV not fitted: {reason:?}"),
        other => println!("CLV: {other:?}"),
    }
    Ok(())
}
