//! Document builders the invoice tests and benches share: one seller, buyers of each kind, lines, and the
//! B2B invoice several tests render. Each test crate uses a different part of it.
#![allow(dead_code, clippy::unwrap_used)]

use shopkeep::catalog::{BankAccount, Bic, Contact, Iban, PostalAddress, Seller};
use shopkeep::customers::{Address, BusinessDetails, Country, ElectronicAddress, Phone, VatId};
use shopkeep::invoices::{
    Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument, InvoiceDocumentBuilder,
};
use shopkeep::money::TaxRate;
use shopkeep::orders::{Charge, PriceMode, PricedLine, VatCategory, VatTreatment};
use shopkeep::{Currency, Email, Money};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

pub fn seller() -> Seller {
    Seller::new(
        "Kaffeerösterei Beispiel & Söhne GmbH",
        PostalAddress::new("Hauptstraße 1", "10115", "Berlin", country("DE")).unwrap(),
        Contact::new(
            "Erika Mustermann",
            Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("erika@beispiel-verkauf.de").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .vat_id(VatId::parse("DE123456789").unwrap())
    .tax_number("30/123/45678")
    .unwrap()
    .registration("HRB 12345 B")
    .unwrap()
    .bank_account(
        BankAccount::new(Iban::parse("DE02120300000000202051").unwrap())
            .bic(Bic::parse("BYLADEM1001").unwrap()),
    )
}

pub fn consumer() -> InvoiceBuyer {
    InvoiceBuyer::consumer(
        Address::new("Max <Muster>", "Marktplatz 5", "München", country("DE"))
            .unwrap()
            .with_postal_code("80331")
            .unwrap(),
    )
}

pub fn business(company: &str, vat_id: Option<&str>, code: &str) -> InvoiceBuyer {
    let mut details = BusinessDetails::new(company).unwrap();
    if let Some(id) = vat_id {
        details = details.with_vat_id(VatId::parse(id).unwrap());
    }
    let (street, post_code, city) = match code {
        "FR" => ("Rue de la Paix 10", "75002", "Paris"),
        "CH" => ("Bahnhofstrasse 1", "8001", "Zürich"),
        _ => ("Marktplatz 5", "80331", "München"),
    };
    InvoiceBuyer::business(
        Address::new("Einkauf", street, city, country(code))
            .unwrap()
            .with_postal_code(post_code)
            .unwrap(),
        details,
    )
}

pub fn xrechnung_buyer() -> InvoiceBuyer {
    InvoiceBuyer::business(
        Address::new(
            "Beschaffung",
            "Platz der Republik 1",
            "Berlin",
            country("DE"),
        )
        .unwrap()
        .with_postal_code("11011")
        .unwrap(),
        BusinessDetails::new("Bundesamt für Beispiele")
            .unwrap()
            .with_vat_id(VatId::parse("DE987654321").unwrap())
            .with_buyer_reference("04011000-1234512345-06")
            .unwrap()
            .with_electronic_address(
                ElectronicAddress::new("0204", "04011000-1234512345-06").unwrap(),
            ),
    )
}

pub fn vat(category: VatCategory, rate: &str, reason: Option<&str>) -> VatTreatment {
    VatTreatment::new(category, TaxRate::parse(rate).unwrap(), reason).unwrap()
}

pub fn s19() -> VatTreatment {
    vat(VatCategory::Standard, "19", None)
}

pub fn s7() -> VatTreatment {
    vat(VatCategory::Standard, "7", None)
}

pub fn money(amount: &str, currency: Currency) -> Money {
    Money::parse(amount, currency).unwrap()
}

pub fn line(id: &str, name: &str, price: Money, qty: u32, vat: VatTreatment) -> DocumentLine {
    DocumentLine::new(id, name, PricedLine::new(price, qty, vat).unwrap())
        .unwrap()
        .sku(&format!("SKU-{id}"))
        .unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> Date {
    Date::new(y, m, d).unwrap()
}

pub fn invoice(
    number: &str,
    currency: Currency,
    mode: PriceMode,
    buyer: InvoiceBuyer,
) -> InvoiceDocumentBuilder {
    InvoiceDocument::builder(
        DocumentKind::Invoice,
        number,
        date(2026, 3, 14),
        currency,
        mode,
        seller(),
        buyer,
    )
    .supply_date(date(2026, 3, 10))
    .payment_terms(
        "Payable within 14 days without deduction.",
        date(2026, 3, 28),
    )
}

pub fn credit_note(number: &str, original: &str, buyer: InvoiceBuyer) -> InvoiceDocumentBuilder {
    InvoiceDocument::builder(
        DocumentKind::credit_note(original, date(2026, 3, 14)).unwrap(),
        number,
        date(2026, 3, 20),
        Currency::EUR,
        PriceMode::TaxExclusive,
        seller(),
        buyer,
    )
    .payment_terms(
        "Refunded to your account within 14 days.",
        date(2026, 3, 20),
    )
}

/// The reason each zero-rated category states on the documents that use it.
pub const REVERSE: &str = "Reverse charge: the recipient is liable for VAT (§ 13b UStG)";
pub const EXPORT: &str = "Export of goods outside the EU (Art. 146 VAT Directive)";
pub const INTRA: &str = "Intra-community supply of goods (Art. 138 VAT Directive)";
pub const EXEMPT: &str = "Exempt under § 4 Nr. 21 UStG (educational services)";

/// Café Beispiel GmbH, the German business buyer of the B2B invoice and its credit notes.
pub fn cafe() -> InvoiceBuyer {
    business("Café Beispiel GmbH", Some("DE811907980"), "DE")
}

/// The B2B order's contents: mixed rates, a coupon spread over both and shipping at 19 %.
pub fn b2b_mixed_contents(document: InvoiceDocumentBuilder) -> InvoiceDocumentBuilder {
    let eur = Currency::EUR;
    document
        .line(line(
            "1",
            "Espresso beans 1 kg",
            money("24.90", eur),
            4,
            s19(),
        ))
        .line(line(
            "2",
            "Cookbook \"Coffee & Cake\"",
            money("18.00", eur),
            2,
            s7(),
        ))
        .discount(money("10.00", eur), "Coupon SPRING10")
        .charge("Shipping", Charge::new(money("6.90", eur), s19()).unwrap())
}

/// Mixed rates, a coupon spread over both and shipping at 19 %: the B2B case.
pub fn b2b_mixed() -> InvoiceDocument {
    b2b_mixed_contents(invoice(
        "INV-2026-000001",
        Currency::EUR,
        PriceMode::TaxExclusive,
        cafe(),
    ))
    .note("Thank you for your order <3")
    .build()
    .unwrap()
}

/// Credit note `number` for one returned bag of [`b2b_mixed`]'s beans.
pub fn returned_bag(number: &str) -> InvoiceDocument {
    credit_note(number, "INV-2026-000001", cafe())
        .line(line(
            "1",
            "Espresso beans 1 kg (returned)",
            money("24.90", Currency::EUR),
            1,
            s19(),
        ))
        .note("Return of one bag, damaged in transit.")
        .build()
        .unwrap()
}

/// Invoice `number`: a German business's roaster installation and travel, reverse-charged (AE).
pub fn installation_reverse_charge(number: &str) -> InvoiceDocument {
    let eur = Currency::EUR;
    let ae = vat(VatCategory::ReverseCharge, "0", Some(REVERSE));
    invoice(
        number,
        eur,
        PriceMode::TaxExclusive,
        business("Bau Beispiel GmbH", Some("DE811907980"), "DE"),
    )
    .line(line(
        "1",
        "Roaster installation",
        money("1200.00", eur),
        1,
        ae.clone(),
    ))
    .charge("Travel", Charge::new(money("80.00", eur), ae).unwrap())
    .build()
    .unwrap()
}

/// Invoice `number`: beans and shipping to a Swiss business in CHF, exported (G).
pub fn export_chf(number: &str) -> InvoiceDocument {
    let chf = Currency::CHF;
    let g = vat(VatCategory::Export, "0", Some(EXPORT));
    invoice(
        number,
        chf,
        PriceMode::TaxExclusive,
        business("Kaffee Beispiel AG", None, "CH"),
    )
    .line(line(
        "1",
        "Espresso beans 1 kg",
        money("26.50", chf),
        6,
        g.clone(),
    ))
    .charge("Shipping", Charge::new(money("19.00", chf), g).unwrap())
    .delivery_country(country("CH"))
    .build()
    .unwrap()
}

/// Invoice `number`: a consumer's exempt (E) barista course and the coffee for it at 7 %.
pub fn exempt_course(number: &str) -> InvoiceDocument {
    let eur = Currency::EUR;
    let e = vat(VatCategory::Exempt, "0", Some(EXEMPT));
    invoice(number, eur, PriceMode::TaxExclusive, consumer())
        .line(line("1", "Barista course", money("149.00", eur), 1, e))
        .line(line("2", "Course coffee", money("12.50", eur), 2, s7()))
        .build()
        .unwrap()
}

/// Invoice `number` in yen to a business: mixed rates, a coupon and shipping.
pub fn jpy_b2b(number: &str) -> InvoiceDocument {
    let jpy = Currency::JPY;
    invoice(
        number,
        jpy,
        PriceMode::TaxExclusive,
        business("Kissa Rei GK", Some("DE811907980"), "DE"),
    )
    .line(line(
        "1",
        "Espresso beans 1 kg",
        money("3980", jpy),
        3,
        s19(),
    ))
    .line(line("2", "Cookbook", money("1234", jpy), 1, s7()))
    .discount(money("500", jpy), "Coupon")
    .charge("Shipping", Charge::new(money("990", jpy), s19()).unwrap())
    .build()
    .unwrap()
}

/// Invoice `number`, not yet built: 20 bags of beans and shipping to a French business, an
/// intra-community supply (K).
pub fn beans_to_france(number: &str) -> InvoiceDocumentBuilder {
    let eur = Currency::EUR;
    let k = vat(VatCategory::IntraCommunitySupply, "0", Some(INTRA));
    invoice(
        number,
        eur,
        PriceMode::TaxExclusive,
        business("Café Exemple SARL", Some("FR40303265045"), "FR"),
    )
    .line(line(
        "1",
        "Espresso beans 1 kg",
        money("21.00", eur),
        20,
        k.clone(),
    ))
    .charge("Shipping", Charge::new(money("25.00", eur), k).unwrap())
    .delivery_country(country("FR"))
}
