//! Marketing analytics on a generated shop: a short RFM report, the cohort table, sales, and
//! each customer's lifetime value.
//!
//! ```text
//! cargo run --example marketing
//! ```
//!
//! A shop in Berlin sells four products for a year (a simulated clock moves time). Three
//! hundred customers first buy in its first six months; how often they buy again, when they
//! stop and how much they spend is drawn, with a seeded generator, from the very models the
//! CLV fit assumes (BG/NBD for purchases and dropout, Gamma-Gamma for spend; see
//! `examples/support/simulate.rs`), so the fit has something real to find. Some orders are
//! refunded. The example prints the customers per RFM segment, the best customers, the
//! retention matrix by first-purchase month, the sales of the last months, the parameters the
//! shop was drawn from beside those the refresh fitted, and the customers worth most over the
//! next year. It runs in memory with cheap password parameters (the `insecure-test-params`
//! feature the examples are built with), so it is quick in debug builds.
//!
//! `tests/clv.rs` runs it and fits a larger shop from the same generator back to its
//! parameters.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/simulate.rs"]
mod simulate;

use std::error::Error;
use std::io::Write;
use std::time::Duration;

use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
    TaxCategory, TaxTable, TimeZone, VariantId,
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

pub use simulate::{Purchases, Spend};

/// How many customers the example's shop has.
pub const CUSTOMERS: u32 = 300;
/// The BG/NBD parameters the customers' purchases are drawn from (weeks): a mean purchase
/// rate r/α of one every ten weeks while alive, a mean dropout chance a/(a + b) of about a
/// quarter after each repeat purchase.
pub const PURCHASES: Purchases = Purchases {
    r: 0.5,
    alpha: 5.0,
    a: 0.8,
    b: 2.5,
};
/// The Gamma-Gamma parameters of the spend per purchase (euros): a mean of p·γ/(q − 1) = 30.
pub const SPEND: Spend = Spend {
    p: 6.0,
    q: 4.0,
    gamma: 15.0,
};
/// The day the shop opens (day 0), and a year later, when the report is made (day 365).
const OPENING: &str = "2025-12-01T00:00:00Z";
const REPORT_AT: &str = "2026-12-01T09:00:00Z";
const DAYS: u32 = 365;
/// Customers make their first purchase in the first half year.
const FIRST_PURCHASE_WITHIN: u64 = 182;

fn main() -> Result<(), Box<dyn Error>> {
    let shop = generate(CUSTOMERS, 42, true)?;
    report(&shop, &mut std::io::stdout().lock())
}

/// A generated shop, its clock set to the report date.
pub struct GeneratedShop {
    /// The store, in memory.
    pub store: Store,
    /// How many customers registered.
    pub customers: u32,
    /// How many orders were placed (and paid).
    pub orders: u32,
}

/// A basket worth about `euros`: the products in a random rotation, each as often as it fits
/// in what is left, and the rest rounded to the cheapest.
fn basket(
    products: &[(VariantId, i64)],
    euros: f64,
    rng: &mut simulate::Rng,
) -> Vec<(VariantId, u32)> {
    let mut left = (euros * 100.0).round() as i64;
    let n = products.len();
    let turn = usize::try_from(rng.below(n as u64)).unwrap_or(0);
    let mut items = Vec::new();
    for k in 0..n {
        let Some(&(variant, cents)) = products.get((turn + k) % n) else {
            continue;
        };
        let quantity = left / cents;
        if quantity > 0 {
            items.push((variant, u32::try_from(quantity).unwrap_or(u32::MAX)));
            left -= quantity * cents;
        }
    }
    if let Some(&(cheapest, cents)) = products.iter().min_by_key(|(_, cents)| *cents)
        && (items.is_empty() || 2 * left >= cents)
    {
        items.push((cheapest, 1));
    }
    items
}

/// Opens a shop in memory and fills it with `customers` customers whose purchases are drawn
/// from [`PURCHASES`] and [`SPEND`] with the generator seeded by `seed`; one order in 25 is
/// refunded if `refunds` is set. Orders are placed in time order, the clock moving forward.
///
/// # Errors
///
/// Any error of the store.
pub fn generate(customers: u32, seed: u64, refunds: bool) -> Result<GeneratedShop, Box<dyn Error>> {
    let opening = Timestamp::parse_rfc3339(OPENING)?;
    let clock = ManualClock::new(opening);
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
    let mut products = Vec::new();
    for (sku, price) in [
        ("TEE", "24.00"),
        ("MUG", "12.90"),
        ("CAP", "9.50"),
        ("SOCKS", "4.90"),
    ] {
        let price = Money::parse(price, Currency::EUR)?;
        let product = NewProduct::new(Sku::parse(sku)?, sku, TaxCategory::Standard)?.price(price);
        let created = store.products(&system).create(product)?;
        let variant = created
            .variants()
            .first()
            .ok_or("a product has a variant")?
            .id();
        store
            .stock(&system)
            .adjust(variant, StockChange::receipt(1_000_000))?;
        products.push((variant, price.minor()));
    }

    // Every customer's purchases, drawn first and then placed in time order.
    let mut rng = simulate::Rng::new(seed);
    let mut placements = Vec::new();
    let mut ids = Vec::new();
    for i in 0..customers {
        let email = Email::parse(&format!("customer{i}@example.com"))?;
        let new = NewCustomer::new(email, Password::new("a long enough passphrase"), "Customer")?
            .shipping_address(Address::new("Customer", "Torstr. 5", "Berlin", de)?);
        ids.push(store.customers(&system).register(new)?.id());
        let first = u32::try_from(rng.below(FIRST_PURCHASE_WITHIN))?;
        let history = simulate::customer(&mut rng, PURCHASES, SPEND, first, DAYS);
        for (n, (day, euros)) in history.purchases.into_iter().enumerate() {
            // Between 09:00 and 17:00 UTC: the same date in Berlin.
            let second = u64::from(day) * 86_400 + 9 * 3_600 + rng.below(8 * 3_600);
            placements.push((second, i, n, euros));
        }
    }
    placements.sort_by_key(|&(second, i, n, _)| (second, i, n));
    let newsletter = Attribution::new()
        .with_source("newsletter")?
        .with_medium("email")?
        .with_campaign("spring-sale")?;
    let mut orders = 0;
    for (second, i, n, euros) in placements {
        clock.set(opening.checked_add(Duration::from_secs(second))?);
        let id = *ids
            .get(usize::try_from(i)?)
            .ok_or("a registered customer")?;
        for (variant, quantity) in basket(&products, euros, &mut rng) {
            store
                .carts(&system)
                .add(CartRef::Customer(id), variant, quantity)?;
        }
        let mut checkout = Checkout::from_cart(id, IdempotencyKey::new(&format!("{i}-{n}"))?);
        if rng.below(5) == 0 {
            checkout = checkout.attribution(newsletter.clone());
        }
        let order = store.orders(&system).checkout(checkout)?.into_order();
        store.orders(&system).mark_paid(
            order.id(),
            Payment::new(&format!("psp_{i}_{n}"), order.total())?,
        )?;
        if refunds && rng.below(25) == 0 {
            store.orders(&system).refund(order.id(), Refund::full())?;
        }
        orders += 1;
    }
    clock.set(Timestamp::parse_rfc3339(REPORT_AT)?);
    Ok(GeneratedShop {
        store,
        customers,
        orders,
    })
}

/// Writes the example's report on `shop` to `out`; refreshes the stored scores on the way.
///
/// # Errors
///
/// Any error of the store or of writing.
pub fn report(shop: &GeneratedShop, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let store = &shop.store;
    let system = store.system();
    let (customers, orders) = (shop.customers, shop.orders);
    writeln!(out, "{customers} customers, {orders} orders\n")?;

    let marketing = store.marketing(&system);
    let rfm = marketing.rfm()?;
    write!(out, "{}", rfm.to_text())?;
    let mut best: Vec<_> = rfm.customers().iter().collect();
    best.sort_by_key(|c| std::cmp::Reverse(c.monetary().minor()));
    writeln!(out, "\nbest customers (pseudonymous ids):")?;
    for c in best.iter().take(5) {
        writeln!(
            out,
            "  {}  R{} F{} M{}  {:>3} days  {} orders  {}  {}",
            c.customer(),
            c.r(),
            c.f(),
            c.m(),
            c.recency_days(),
            c.frequency(),
            c.monetary(),
            c.segment()
        )?;
    }
    writeln!(out, "\nretention by first-purchase month:")?;
    write!(out, "{}", marketing.cohorts()?.to_text())?;
    let query = SalesQuery::new(
        Date::new(2026, 9, 1)?,
        Date::new(2026, 11, 30)?,
        SalesGrouping::Month,
    )?;
    writeln!(out, "\nsales by month:")?;
    for row in marketing.sales(&query)?.rows() {
        writeln!(
            out,
            "  {}  {:>3} orders  {:>4} units  revenue {}  refunds {}  AOV {}",
            row.key(),
            row.orders(),
            row.units(),
            row.revenue(),
            row.refunds(),
            row.average_order_value()
        )?;
    }
    let campaigns = SalesQuery::new(
        Date::new(2025, 12, 1)?,
        Date::new(2026, 11, 30)?,
        SalesGrouping::Campaign,
    )?;
    writeln!(out, "\nsales by campaign:")?;
    for row in marketing.sales(&campaigns)?.rows() {
        writeln!(
            out,
            "  {:<12} {:>3} orders  revenue {}",
            row.key(),
            row.orders(),
            row.revenue()
        )?;
    }
    let refresh = marketing.refresh_scores()?;
    writeln!(
        out,
        "\nscored for audiences: {} customers",
        refresh.scored()
    )?;
    let drawn = PURCHASES;
    writeln!(
        out,
        "customers drawn from BG/NBD r {:.3} alpha {:.3} a {:.3} b {:.3}",
        drawn.r, drawn.alpha, drawn.a, drawn.b
    )?;
    match refresh.clv() {
        ClvOutcome::Fitted { model, customers } => {
            let bg = model.purchases();
            writeln!(
                out,
                "fitted to their orders: BG/NBD r {:.3} alpha {:.3} a {:.3} b {:.3}",
                bg.r(),
                bg.alpha(),
                bg.a(),
                bg.b()
            )?;
            writeln!(
                out,
                "CLV over the next {} days for {customers} customers, the five worth most:",
                refresh.horizon_days()
            )?;
            let mut scores = marketing.scores(None, 1000)?.scores().to_vec();
            scores.sort_by_key(|s| std::cmp::Reverse(s.expected_value().map(|v| v.minor())));
            writeln!(
                out,
                "  customer                              P(alive)  purchases  value"
            )?;
            for s in scores.iter().take(5) {
                writeln!(
                    out,
                    "  {}  {:>8.3}  {:>9.2}  {}",
                    s.customer(),
                    s.probability_alive().unwrap_or(f64::NAN),
                    s.expected_purchases().unwrap_or(f64::NAN),
                    s.expected_value()
                        .map_or_else(|| "-".to_owned(), |v| v.to_string())
                )?;
            }
        }
        ClvOutcome::NotFitted(reason) => writeln!(out, "CLV not fitted: {reason:?}")?,
        other => writeln!(out, "CLV: {other:?}")?,
    }
    Ok(())
}
