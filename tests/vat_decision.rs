//! The VAT decision on real orders in real database files: goods and services, sellers in the
//! EU, Switzerland and the United Kingdom, and checkout refusing what the invoice would refuse.
//! Every invoice issued here joins the corpus `.ci/run` checks with the official EN 16931 rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::count;
use common::{
    Shop, address, business, eur, fill, new_customer, on_hand, priced_product, register, shop_with,
};
use shopkeep::catalog::{
    Contact, CountryTaxes, InvoiceIssue, NewProduct, PostalAddress, Seller, ShopSettings, Sku,
    SupplyKind, TaxCategory, TaxTable, VariantId,
};
use shopkeep::customers::{Country, Phone};
use shopkeep::invoices::Profile;
use shopkeep::money::TaxRate;
use shopkeep::orders::{Checkout, IdempotencyKey, Order, PriceMode, VatCategory};
use shopkeep::{Currency, Email, ErrorKind, Money, Principal, Store};

/// Adds an issued invoice to the EN 16931 corpus of `.ci/run`.
fn write_corpus(name: &str, xml: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/einvoice/issued");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.xml")), xml).unwrap();
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

fn rate(text: &str) -> TaxRate {
    TaxRate::parse(text).unwrap()
}

/// A seller in `country` with a tax number and a legal registration id, as a Swiss or British
/// shop states itself without a VAT id in the EU's format.
fn seller_in(country_code: &str, name: &str, city: &str, ids: (&str, &str)) -> Seller {
    let (tax_number, registration) = ids;
    Seller::new(
        name,
        PostalAddress::new("Main Street 1", "8001", city, country(country_code)).unwrap(),
        Contact::new(
            "Olga Owner",
            Phone::parse("+41 44 123 45 67").unwrap(),
            Email::parse("billing@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number(tax_number)
    .unwrap()
    .registration(registration)
    .unwrap()
}

/// A Swiss company's UID as its tax number (MWST) and its registration.
const SWISS_IDS: (&str, &str) = ("CHE-123.456.789 MWST", "CHE-123.456.789");

/// A Swiss shop in Zürich: 8.1 % and 2.6 % at home, Germany's rates for consumers there,
/// selling in CHF (its base currency) and EUR.
fn swiss_shop() -> Shop {
    let seller = seller_in("CH", "Beispiel AG", "Zürich", SWISS_IDS);
    let table = TaxTable::new()
        .country(
            country("CH"),
            CountryTaxes::new(rate("8.1")).reduced(rate("2.6")),
        )
        .country(
            country("DE"),
            CountryTaxes::new(rate("19")).reduced(rate("7")),
        );
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::CHF)
        .accept_currency(Currency::EUR)
        .tax_table(table)
        .invoice_issue(InvoiceIssue::AtCheckout)
        .build()
        .unwrap();
    shop_with(settings)
}

/// A German shop with a VAT id and a commercial register entry, prices without VAT.
fn german_shop() -> Shop {
    let seller = common::seller(Some("DE123456788"))
        .registration("HRB 12345, Amtsgericht Berlin")
        .unwrap();
    shop_with(
        common::settings(seller, PriceMode::TaxExclusive)
            .invoice_issue(InvoiceIssue::AtCheckout)
            .build()
            .unwrap(),
    )
}

/// A service (untracked: nothing to ship) priced in each of `prices`.
fn service(store: &Store, sku: &str, prices: &[Money]) -> VariantId {
    let mut new = NewProduct::new(Sku::parse(sku).unwrap(), sku, TaxCategory::Standard)
        .unwrap()
        .supply_kind(SupplyKind::Services)
        .track_stock(false);
    for price in prices {
        new = new.price(*price);
    }
    store
        .products(&store.system())
        .create(new)
        .unwrap()
        .variants()[0]
        .id()
}

/// Registers Ana Example shipping to `country` (post code 8001), as the business Example Ltd
/// with `vat_id` if given, and logs her in.
fn buyer(store: &Store, email: &str, country_code: &str, vat_id: Option<&str>) -> Principal {
    let address = address(country_code).with_postal_code("8001").unwrap();
    let mut new = new_customer(email, "Ana Example", address);
    if let Some(vat_id) = vat_id {
        new = new.business(business("Example Ltd", vat_id));
    }
    register(store, new)
}

/// A business buyer without a VAT id (outside the EU, where EU VAT ids do not exist).
fn foreign_business(store: &Store, email: &str, country_code: &str) -> Principal {
    let address = address(country_code).with_postal_code("8001").unwrap();
    let details = shopkeep::customers::BusinessDetails::new("Example Inc").unwrap();
    register(
        store,
        new_customer(email, "Ana Example", address).business(details),
    )
}

fn checkout(
    store: &Store,
    who: &Principal,
    items: &[(VariantId, u32)],
    currency: Option<Currency>,
) -> shopkeep::Result<Order> {
    let me = fill(store, who, items);
    let mut request = Checkout::from_cart(me, IdempotencyKey::new("k").unwrap());
    if let Some(currency) = currency {
        request = request.currency(currency);
    }
    store
        .orders(who)
        .checkout(request)
        .map(shopkeep::orders::CheckoutOutcome::into_order)
}

/// Issues the order's invoice (at `rate` for an order outside the base currency), checks its
/// UBL holds each of `codes` as a VAT category, and adds it to the corpus as `name`.
fn invoice(s: &Shop, order: &Order, rate: Option<&str>, codes: &[&str], name: &str) -> String {
    let system = s.store.system();
    let invoices = s.store.invoices(&system);
    let invoice = match rate {
        None => invoices.issue(order.id()).unwrap(),
        Some(rate) => invoices.issue_at_rate(order.id(), rate).unwrap(),
    };
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    for code in codes {
        assert!(
            xml.contains(&format!("<cbc:ID>{code}</cbc:ID>")),
            "{code}: {xml}"
        );
    }
    write_corpus(name, &xml);
    xml
}

fn categories(order: &Order) -> Vec<VatCategory> {
    order.lines().iter().map(|l| l.vat().category()).collect()
}

fn field(err: &shopkeep::Error) -> &'static str {
    match err.kind() {
        ErrorKind::Validation { field } => field,
        other => panic!("not a validation error: {other:?} ({err})"),
    }
}

#[test]
fn services_to_a_business_in_another_member_state_are_reverse_charged_goods_are_intra_community() {
    let s = german_shop();
    let mug = priced_product(&s.store, "MUG", &[eur("12.90")], TaxCategory::Standard, 10);
    let support = service(&s.store, "SUPPORT", &[eur("99.00")]);
    let fr = buyer(&s.store, "achats@example.fr", "FR", Some("FR40303265045"));
    let order = checkout(&s.store, &fr, &[(mug, 2), (support, 1)], None).unwrap();
    assert_eq!(
        categories(&order),
        [
            VatCategory::IntraCommunitySupply,
            VatCategory::ReverseCharge
        ]
    );
    let reverse = order.lines()[1].vat();
    assert!(
        reverse.exemption_reason().unwrap().contains("Art. 196"),
        "{reverse:?}"
    );
    assert_eq!(order.vat_total(), eur("0.00"));
    let xml = invoice(
        &s,
        &order,
        None,
        &["K", "AE"],
        "issued-vat-reverse-charge-services",
    );
    assert!(xml.contains("Art. 196 VAT Directive"), "{xml}");
}

#[test]
fn an_eu_sellers_services_beyond_the_eu_are_outside_the_scope_and_cannot_share_an_order() {
    let s = german_shop();
    let support = service(&s.store, "SUPPORT", &[eur("99.00")]);
    let mug = priced_product(&s.store, "MUG", &[eur("12.90")], TaxCategory::Standard, 10);
    let us = foreign_business(&s.store, "ana@example.com", "US");
    let order = checkout(&s.store, &us, &[(support, 2)], None).unwrap();
    assert_eq!(categories(&order), [VatCategory::OutsideScope]);
    assert_eq!(order.total(), eur("198.00"));
    let xml = invoice(&s, &order, None, &["O"], "issued-vat-services-outside-eu");
    assert!(
        !xml.contains("DE123456788"),
        "an O invoice states no VAT id"
    );

    // A service (O) and goods (G) cannot share an invoice (BR-O-11): refused at checkout.
    let bob = foreign_business(&s.store, "bob@example.com", "US");
    let err = checkout(&s.store, &bob, &[(support, 1), (mug, 1)], None).unwrap_err();
    assert_eq!(field(&err), "vat_category", "{err}");
    assert_eq!(count(&s.store, "shopkeep_orders"), 1);
    assert_eq!(on_hand(&s.store, mug), 10);
}

#[test]
fn a_swiss_shop_charges_swiss_vat_at_home_and_follows_the_table_abroad() {
    let s = swiss_shop();
    let chf = |text| Money::parse(text, Currency::CHF).unwrap();
    let cheese = priced_product(
        &s.store,
        "CHEESE",
        &[chf("25.00")],
        TaxCategory::Reduced,
        10,
    );
    let knife = priced_product(
        &s.store,
        "KNIFE",
        &[chf("54.00")],
        TaxCategory::Standard,
        10,
    );
    let course = service(
        &s.store,
        "COURSE",
        &[
            chf("120.00"),
            Money::parse("125.00", Currency::EUR).unwrap(),
        ],
    );

    // At home: Swiss VAT, 8.1 % and 2.6 %, on a Swiss invoice in CHF.
    let zurich = buyer(&s.store, "ana@example.ch", "CH", None);
    let order = checkout(&s.store, &zurich, &[(knife, 1), (cheese, 2)], None).unwrap();
    let rates: Vec<TaxRate> = order.lines().iter().map(|l| l.vat().rate()).collect();
    assert_eq!(rates, [rate("8.1"), rate("2.6")]);
    assert_eq!(categories(&order), [VatCategory::Standard; 2]);
    // 54.00 at 8.1 % and 50.00 at 2.6 %, prices including VAT.
    assert_eq!(order.total(), chf("104.00"));
    assert_eq!(order.vat_total(), chf("5.32"));
    invoice(&s, &order, None, &["S"], "issued-vat-swiss-domestic");

    // Services to a business abroad: outside the scope of Swiss VAT.
    let us = foreign_business(&s.store, "bob@example.com", "US");
    let order = checkout(&s.store, &us, &[(course, 1)], None).unwrap();
    assert_eq!(categories(&order), [VatCategory::OutsideScope]);
    assert_eq!(order.vat_total(), chf("0.00"));
    invoice(&s, &order, None, &["O"], "issued-vat-swiss-services-abroad");

    // Services to a consumer in the EU: the destination's VAT (non-Union one-stop shop).
    let berlin = buyer(&s.store, "carla@example.de", "DE", None);
    let order = checkout(&s.store, &berlin, &[(course, 1)], Some(Currency::EUR)).unwrap();
    assert_eq!(categories(&order), [VatCategory::Standard]);
    assert_eq!(order.lines()[0].vat().rate(), rate("19"));
    // German VAT charged in euros: nothing to restate in another currency (Art. 230).
    invoice(
        &s,
        &order,
        None,
        &["S"],
        "issued-vat-swiss-services-eu-consumer",
    );
}

#[test]
fn a_british_shop_charges_british_vat_at_home() {
    let gb = country("GB");
    let seller = seller_in(
        "GB",
        "Example Ltd",
        "London",
        ("UTR 1234567890", "Companies House 01234567"),
    );
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::GBP)
        .tax_table(TaxTable::new().country(gb, CountryTaxes::new(rate("20")).reduced(rate("5"))))
        .invoice_issue(InvoiceIssue::AtCheckout)
        .build()
        .unwrap();
    let s = shop_with(settings);
    let gbp = |text| Money::parse(text, Currency::GBP).unwrap();
    let tea = priced_product(&s.store, "TEA", &[gbp("12.00")], TaxCategory::Standard, 10);
    let london = buyer(&s.store, "ana@example.co.uk", "GB", None);
    let order = checkout(&s.store, &london, &[(tea, 1)], None).unwrap();
    assert_eq!(categories(&order), [VatCategory::Standard]);
    assert_eq!(order.vat_total(), gbp("2.00"));
    invoice(&s, &order, None, &["S"], "issued-vat-british-domestic");
}

#[test]
fn settings_refuse_a_seller_the_vat_rules_do_not_cover() {
    for code in ["US", "NO", "JP"] {
        let seller = seller_in(code, "Example Inc", "Somewhere", ("123", "456"));
        let table = TaxTable::new().country(country(code), CountryTaxes::new(rate("10")));
        let err = ShopSettings::builder(seller, PriceMode::TaxExclusive, Currency::USD)
            .tax_table(table)
            .build()
            .unwrap_err();
        assert_eq!(field(&err), "seller_country", "{code}: {err}");
        assert!(err.to_string().contains(code), "{err}");
    }
}

/// What checkout refuses writes nothing: no order, no stock taken, the cart kept.
fn assert_refused_cleanly(s: &Shop, who: &Principal, variant: VariantId, err: &shopkeep::Error) {
    assert_eq!(count(&s.store, "shopkeep_orders"), 0, "{err}");
    assert_eq!(on_hand(&s.store, variant), 10);
    let cart = shopkeep::orders::CartRef::Customer(who.customer_id().unwrap());
    assert_eq!(s.store.carts(who).get(cart).unwrap().lines().len(), 1);
}

#[test]
fn checkout_refuses_exports_and_intra_community_supplies_without_the_sellers_vat_id() {
    // The seller has a tax number but no VAT id: the invoice of an export (BR-G-02) or an
    // intra-community supply (BR-IC-02) would be refused, so the order is.
    let s = common::shop(PriceMode::TaxInclusive);
    let mug = priced_product(&s.store, "MUG", &[eur("12.90")], TaxCategory::Standard, 10);
    for (email, country_code, vat_id) in [
        ("carl@example.ch", "CH", None),
        ("achats@example.fr", "FR", Some("FR40303265045")),
    ] {
        let who = buyer(&s.store, email, country_code, vat_id);
        let err = checkout(&s.store, &who, &[(mug, 1)], None).unwrap_err();
        assert_eq!(field(&err), "seller.vat_id", "{country_code}: {err}");
        assert_refused_cleanly(&s, &who, mug, &err);
    }
    // At home, where the invoice needs no VAT id, the same shop sells.
    let ana = buyer(&s.store, "ana@example.de", "DE", None);
    checkout(&s.store, &ana, &[(mug, 1)], None).unwrap();
}

#[test]
fn checkout_refuses_services_outside_the_scope_without_the_sellers_registration() {
    // An O invoice states no VAT id, so BR-CO-26 needs the seller's legal registration id.
    let seller = Seller::new(
        "Beispiel GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", country("DE")).unwrap(),
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("billing@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .vat_id(shopkeep::customers::VatId::parse("DE123456788").unwrap());
    let s = shop_with(
        common::settings(seller, PriceMode::TaxExclusive)
            .build()
            .unwrap(),
    );
    let support = service(&s.store, "SUPPORT", &[eur("99.00")]);
    let us = foreign_business(&s.store, "ana@example.com", "US");
    let err = checkout(&s.store, &us, &[(support, 1)], None).unwrap_err();
    assert_eq!(field(&err), "seller.registration", "{err}");
    assert_eq!(count(&s.store, "shopkeep_orders"), 0);
    let cart = shopkeep::orders::CartRef::Customer(us.customer_id().unwrap());
    assert_eq!(s.store.carts(&us).get(cart).unwrap().lines().len(), 1);
}

#[test]
fn a_swiss_shop_without_a_vat_id_cannot_export_goods() {
    let s = swiss_shop();
    let knife = priced_product(
        &s.store,
        "KNIFE",
        &[Money::parse("54.00", Currency::CHF).unwrap()],
        TaxCategory::Standard,
        10,
    );
    let berlin = buyer(&s.store, "carla@example.de", "DE", None);
    let err = checkout(&s.store, &berlin, &[(knife, 1)], None).unwrap_err();
    assert_eq!(field(&err), "seller.vat_id", "{err}");
    assert_refused_cleanly(&s, &berlin, knife, &err);
}

#[test]
fn credit_notes_of_reverse_charged_and_outside_scope_services_keep_their_treatment() {
    let s = german_shop();
    let system = s.store.system();
    let mug = priced_product(&s.store, "MUG", &[eur("12.90")], TaxCategory::Standard, 10);
    let support = service(&s.store, "SUPPORT", &[eur("99.00")]);
    let fr = buyer(&s.store, "achats@example.fr", "FR", Some("FR40303265045"));
    let us = foreign_business(&s.store, "bob@example.com", "US");
    for (who, items, code, name) in [
        (&fr, vec![(mug, 1), (support, 2)], "AE", "reverse-charge"),
        (&us, vec![(support, 2)], "O", "outside-eu"),
    ] {
        let order = checkout(&s.store, who, &items, None).unwrap();
        common::pay(&s.store, &order);
        s.store.invoices(&system).issue(order.id()).unwrap();
        let service_line = u32::try_from(items.len() - 1).unwrap();
        s.store
            .orders(&system)
            .refund(
                order.id(),
                shopkeep::orders::Refund::lines([(service_line, 1)]),
            )
            .unwrap();
        let docs = s.store.invoices(&system).for_order(order.id()).unwrap();
        assert_eq!(docs.len(), 2);
        let xml = docs[1].to_ubl(Profile::En16931).unwrap();
        assert!(xml.contains("<CreditNote"), "{xml}");
        assert!(xml.contains(&format!("<cbc:ID>{code}</cbc:ID>")), "{xml}");
        write_corpus(&format!("issued-vat-credit-note-{name}"), &xml);
    }
}
