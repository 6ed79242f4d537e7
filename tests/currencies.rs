//! The currency rules of issuing, on real database files: no currency an EN 16931 invoice
//! cannot state, the VAT also in the national currency of the state that charges it
//! (Art. 230 VAT Directive, BT-6/BT-111), and refunds that invoice first at a stated rate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::{
    Shop, address, business, fill, new_customer, pay, priced_product, register, seller, settings,
    shop_with,
};
use shopkeep::catalog::{
    Contact, CountryTaxes, InvoiceIssue, PostalAddress, Seller, ShopSettings, ShopSettingsBuilder,
    TaxCategory, TaxTable, VariantId,
};
use shopkeep::customers::{Country, Phone, VatId};
use shopkeep::invoices::{Invoice, Profile};
use shopkeep::money::TaxRate;
use shopkeep::orders::{Checkout, IdempotencyKey, Order, PriceMode, Refund};
use shopkeep::{Currency, Email, ErrorKind, Money, Principal};

/// The German seller's VAT id.
const VAT_ID: &str = "DE123456788";

/// Adds an issued document to the corpus `.ci/run` checks with the official EN 16931 rules.
fn write_corpus(name: &str, invoice: &Invoice) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/einvoice/issued");
    std::fs::create_dir_all(&dir).unwrap();
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    std::fs::write(dir.join(format!("{name}.xml")), xml).unwrap();
}

/// A shop on `settings` selling a mug (standard rate) and a book (reduced rate), priced in
/// every one of `currencies`.
fn stocked(settings: ShopSettingsBuilder, currencies: &[Currency]) -> (Shop, VariantId, VariantId) {
    let shop = shop_with(settings.build().unwrap());
    let product = |sku: &str, price: &str, category| {
        let prices: Vec<Money> = currencies
            .iter()
            .map(|c| Money::parse(price, *c).unwrap())
            .collect();
        priced_product(&shop.store, sku, &prices, category, 1000)
    };
    let mug = product("MUG", "13", TaxCategory::Standard);
    let book = product("BOOK", "20", TaxCategory::Reduced);
    (shop, mug, book)
}

/// Two mugs and a book, checked out by `who` in `currency` under idempotency key `key`.
fn place(
    shop: &Shop,
    items: [VariantId; 2],
    who: &Principal,
    key: &str,
    currency: Currency,
) -> Order {
    let me = fill(&shop.store, who, &[(items[0], 2), (items[1], 1)]);
    let request = Checkout::from_cart(me, IdempotencyKey::new(key).unwrap()).currency(currency);
    shop.store
        .orders(who)
        .checkout(request)
        .unwrap()
        .into_order()
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

/// The VAT total an invoice states in its accounting currency (BT-111).
fn accounting(invoice: &Invoice) -> Money {
    invoice.document().vat_accounting().unwrap().vat_total()
}

/// `amount` converted at `rate_ten_thousandths` / 10 000, rounded half away from zero, for
/// two-decimal currencies and positive amounts.
fn at_rate(amount: Money, rate_ten_thousandths: i64, to: Currency) -> Money {
    Money::new((amount.minor() * rate_ten_thousandths + 5_000) / 10_000, to)
}

fn exchange_rate_refused(err: &shopkeep::Error) {
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "exchange_rate"
        },
        "{err}"
    );
}

#[test]
fn settings_refuse_a_currency_whose_amounts_an_invoice_cannot_state() {
    let builder = || settings(seller(Some(VAT_ID)), PriceMode::TaxInclusive);
    let err = builder()
        .accept_currency(Currency::KWD)
        .build()
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "accepted_currencies"
        }
    );
    assert!(err.message().contains("KWD has 3 decimals"), "{err}");
    let bhd = Currency::from_code("BHD").unwrap();
    let err = builder().base_currency(bhd).build().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "base_currency"
        }
    );
    // Dropping the currency again makes the settings acceptable.
    builder()
        .accept_currency(Currency::KWD)
        .drop_currency(Currency::KWD)
        .build()
        .unwrap();

    // No decimals at all is fine: a JPY order is invoiced, its VAT also stated in EUR.
    let (shop, mug, book) = stocked(
        builder()
            .accept_currency(Currency::JPY)
            .invoice_issue(InvoiceIssue::AtCheckout),
        &[Currency::EUR, Currency::JPY],
    );
    let ana = register(
        &shop.store,
        new_customer("ana@example.com", "Ana Example", address("DE")),
    );
    let order = place(&shop, [mug, book], &ana, "k1", Currency::JPY);
    let system = shop.store.system();
    let invoices = shop.store.invoices(&system);
    exchange_rate_refused(&invoices.issue(order.id()).unwrap_err());
    let invoice = invoices.issue_at_rate(order.id(), "0.0056").unwrap();
    assert_eq!(invoice.number(), "INV-2026-000001");
    assert_eq!(accounting(&invoice).currency(), Currency::EUR);
    write_corpus("issued-jpy-vat-in-eur", &invoice);
}

#[test]
fn a_paid_order_in_another_currency_is_refunded_before_its_invoice_at_a_stated_rate() {
    let (shop, mug, book) = stocked(
        settings(seller(Some(VAT_ID)), PriceMode::TaxInclusive),
        &[Currency::EUR, Currency::CHF],
    );
    let ana = register(
        &shop.store,
        new_customer("ana@example.com", "Ana Example", address("DE")),
    );
    let order = place(&shop, [mug, book], &ana, "k1", Currency::CHF);
    pay(&shop.store, &order);
    let system = shop.store.system();
    let orders = shop.store.orders(&system);
    let invoices = shop.store.invoices(&system);
    assert_eq!(
        invoices.vat_accounting_currency(order.id()).unwrap(),
        Some(Currency::EUR)
    );

    // Without a rate the invoice the refund needs cannot be issued: nothing is written.
    let err = orders
        .refund(order.id(), Refund::lines([(0, 1)]))
        .unwrap_err();
    exchange_rate_refused(&err);
    assert_eq!(common::count(&shop.store, "shopkeep_refunds"), 0);
    assert_eq!(common::count(&shop.store, "shopkeep_invoices"), 0);

    let first = orders
        .refund(order.id(), Refund::lines([(0, 1)]).exchange_rate("1.0642"))
        .unwrap();
    // Invoiced now, later refunds need no rate: credit notes restate the invoice's.
    let rest = orders.refund(order.id(), Refund::full()).unwrap();
    let docs = invoices.for_order(order.id()).unwrap();
    let numbers: Vec<&str> = docs.iter().map(Invoice::number).collect();
    assert_eq!(
        numbers,
        ["INV-2026-000001", "CN-2026-000001", "CN-2026-000002"]
    );
    let vat = |i: &Invoice| i.document().totals().vat_total();
    assert_eq!(vat(&docs[0]), order.vat_total());
    assert_eq!(vat(&docs[1]), first.vat_total());
    assert_eq!(vat(&docs[2]), rest.vat_total());
    for doc in &docs {
        assert_eq!(
            accounting(doc),
            at_rate(vat(doc), 10_642, Currency::EUR),
            "{}",
            doc.number()
        );
    }
    write_corpus("issued-refund-invoices-chf-first", &docs[0]);
    write_corpus("issued-refund-chf-credit-note", &docs[1]);
}

/// A Polish seller, with rates for Poland, keeping its books in `base` and selling in EUR and
/// PLN.
fn polish_shop(base: Currency) -> (Shop, VariantId, VariantId) {
    let pl = country("PL");
    let seller = Seller::new(
        "Przykład Sp. z o.o.",
        PostalAddress::new("ul. Długa 1", "00-001", "Warszawa", pl).unwrap(),
        Contact::new(
            "Olga Właścicielka",
            Phone::parse("+48 22 123 45 67").unwrap(),
            Email::parse("faktury@example.pl").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .vat_id(VatId::parse("PL1234567883").unwrap());
    let table = TaxTable::new().country(
        pl,
        CountryTaxes::new(TaxRate::parse("23").unwrap()).reduced(TaxRate::parse("8").unwrap()),
    );
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, base)
        .accept_currency(Currency::EUR)
        .accept_currency(Currency::PLN)
        .tax_table(table)
        .invoice_issue(InvoiceIssue::AtCheckout);
    stocked(settings, &[Currency::EUR, Currency::PLN])
}

#[test]
fn a_polish_seller_invoicing_in_eur_states_the_vat_also_in_pln() {
    // The books are kept in EUR: still, Polish VAT is stated in PLN (Art. 230).
    let (shop, mug, book) = polish_shop(Currency::EUR);
    let jan = register(
        &shop.store,
        new_customer("jan@example.pl", "Jan Kowalski", address("PL")),
    );
    let order = place(&shop, [mug, book], &jan, "k1", Currency::EUR);
    let system = shop.store.system();
    let invoices = shop.store.invoices(&system);
    assert_eq!(
        invoices.vat_accounting_currency(order.id()).unwrap(),
        Some(Currency::PLN)
    );
    let err = invoices.issue(order.id()).unwrap_err();
    exchange_rate_refused(&err);
    assert!(err.message().contains("PLN"), "{err}");
    assert_eq!(common::count(&shop.store, "shopkeep_invoices"), 0);

    let invoice = invoices.issue_at_rate(order.id(), "4.2512").unwrap();
    assert_eq!(invoice.number(), "INV-2026-000001", "no number was burned");
    let vat = invoice.document().totals().vat_total();
    assert_eq!(accounting(&invoice), at_rate(vat, 42_512, Currency::PLN));
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    assert!(
        xml.contains("<cbc:TaxCurrencyCode>PLN</cbc:TaxCurrencyCode>"),
        "{xml}"
    );
    write_corpus("issued-pl-seller-eur-vat-in-pln", &invoice);
    // A retry at the same rate gets the same invoice; another rate, or none, is refused: the
    // issued invoice never changes.
    assert_eq!(
        invoices.issue_at_rate(order.id(), "4.2512").unwrap(),
        invoice
    );
    for other in [
        invoices.issue_at_rate(order.id(), "4.3"),
        invoices.issue(order.id()),
    ] {
        assert_eq!(other.unwrap_err().kind(), ErrorKind::AlreadyExists);
    }
    assert_eq!(common::count(&shop.store, "shopkeep_invoices"), 1);

    // The credit note of a cancellation follows its invoice.
    shop.store
        .orders(&system)
        .cancel(order.id(), "changed my mind")
        .unwrap();
    let docs = invoices.for_order(order.id()).unwrap();
    let note = &docs[1];
    assert!(note.is_credit_note());
    assert_eq!(accounting(note), accounting(&invoice));
    write_corpus("issued-pl-seller-eur-credit-note-vat-in-pln", note);

    // An order in PLN states its VAT in PLN alone: no rate applies.
    let order = place(&shop, [mug, book], &jan, "k2", Currency::PLN);
    assert_eq!(invoices.vat_accounting_currency(order.id()).unwrap(), None);
    exchange_rate_refused(&invoices.issue_at_rate(order.id(), "1").unwrap_err());
    let invoice = invoices.issue(order.id()).unwrap();
    assert!(invoice.document().vat_accounting().is_none());
}

#[test]
fn one_stop_shop_sales_state_the_vat_also_in_the_destinations_currency() {
    let table = TaxTable::new()
        .country(
            country("DE"),
            CountryTaxes::new(TaxRate::parse("19").unwrap()).reduced(TaxRate::parse("7").unwrap()),
        )
        .country(
            country("SE"),
            CountryTaxes::new(TaxRate::parse("25").unwrap()).reduced(TaxRate::parse("6").unwrap()),
        );
    let (shop, mug, book) = stocked(
        settings(seller(Some(VAT_ID)), PriceMode::TaxInclusive)
            .tax_table(table)
            .invoice_issue(InvoiceIssue::OnPayment),
        &[Currency::EUR],
    );
    let system = shop.store.system();
    let invoices = shop.store.invoices(&system);

    // A Swedish consumer pays Swedish VAT, in EUR: it is also stated in SEK.
    let sven = register(
        &shop.store,
        new_customer("sven@example.se", "Sven Exempel", address("SE")),
    );
    let order = place(&shop, [mug, book], &sven, "k1", Currency::EUR);
    pay(&shop.store, &order);
    assert_eq!(
        invoices.vat_accounting_currency(order.id()).unwrap(),
        Some(Currency::SEK)
    );
    let err = invoices.issue(order.id()).unwrap_err();
    exchange_rate_refused(&err);
    assert!(err.message().contains("SEK"), "{err}");
    assert_eq!(common::count(&shop.store, "shopkeep_invoices"), 0);
    let invoice = invoices.issue_at_rate(order.id(), "11.0213").unwrap();
    assert_eq!(invoice.number(), "INV-2026-000001");
    let vat = invoice.document().totals().vat_total();
    assert_eq!(accounting(&invoice), at_rate(vat, 110_213, Currency::SEK));
    write_corpus("issued-oss-se-vat-in-sek", &invoice);
    // A refund's credit note restates the VAT at the invoice's rate.
    let refund = shop
        .store
        .orders(&system)
        .refund(order.id(), Refund::lines([(0, 1)]))
        .unwrap();
    let note = &invoices.for_order(order.id()).unwrap()[1];
    assert_eq!(
        accounting(note),
        at_rate(refund.vat_total(), 110_213, Currency::SEK)
    );
    write_corpus("issued-oss-se-credit-note-vat-in-sek", note);

    // A German consumer, and a Swedish business buying tax-free (K), are German VAT: EUR.
    let ana = register(
        &shop.store,
        new_customer("ana@example.com", "Ana Example", address("DE")),
    );
    let firm = register(
        &shop.store,
        new_customer("inkop@example.se", "Inköp", address("SE"))
            .business(business("Exempel AB", "SE123456789701")),
    );
    for (who, key) in [(&ana, "k2"), (&firm, "k3")] {
        let order = place(&shop, [mug, book], who, key, Currency::EUR);
        pay(&shop.store, &order);
        assert_eq!(invoices.vat_accounting_currency(order.id()).unwrap(), None);
        let invoice = invoices.issue(order.id()).unwrap();
        assert!(invoice.document().vat_accounting().is_none());
    }
}
