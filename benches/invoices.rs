//! Invoices: rendering one realistic 10-line B2B invoice (two VAT rates, a coupon, shipping,
//! payment terms, a bank account) as plain text, HTML, PDF (feature `pdf`) and UBL.
//!
//! `cargo bench --all-features --bench invoices`
//!
//! [`ten_line_invoice`] builds the document; further benchmarks of this file (issuing, say)
//! can use it as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/documents/mod.rs"]
mod documents;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use documents::{business, invoice, line, money, s7, s19};
use shopkeep::{
    Charge, Currency, InvoiceDocument, InvoiceTemplates, PriceMode, Profile, to_html, to_text,
    to_ubl,
};

/// A B2B invoice in EUR with 10 lines at 19 % and 7 %, a coupon and shipping.
pub fn ten_line_invoice() -> InvoiceDocument {
    let eur = Currency::EUR;
    let items = [
        ("Espresso beans 1 kg", "24.90", 4, true),
        ("Filter coffee 500 g", "11.50", 6, true),
        ("Cookbook \"Coffee & Cake\"", "18.00", 2, false),
        ("Enamel mug", "12.90", 12, true),
        ("Hand grinder, ceramic burrs", "89.00", 1, true),
        ("Barista magazine, annual", "42.00", 1, false),
        ("Paper filters size 4, 100 pieces", "3.20", 10, true),
        ("Chocolate 70 %", "3.95", 8, false),
        ("Milk jug 600 ml", "21.40", 2, true),
        ("Descaler 500 ml", "7.80", 3, true),
    ];
    let mut builder = invoice(
        "INV-2026-001042",
        eur,
        PriceMode::TaxExclusive,
        business("Café Beispiel GmbH", Some("DE811907980"), "DE"),
    );
    for (i, (name, price, qty, standard)) in items.into_iter().enumerate() {
        let vat = if standard { s19() } else { s7() };
        builder = builder.line(line(
            &(i + 1).to_string(),
            name,
            money(price, eur),
            qty,
            vat,
        ));
    }
    builder
        .discount(money("25.00", eur), "Coupon SPRING25")
        .charge("Shipping", Charge::new(money("6.90", eur), s19()).unwrap())
        .note("Thank you for your order.")
        .build()
        .unwrap()
}

fn render(c: &mut Criterion) {
    let document = ten_line_invoice();
    let templates = InvoiceTemplates::builtin();
    let mut group = c.benchmark_group("render");
    group.bench_function("text", |b| {
        b.iter(|| to_text(black_box(&document), &templates).unwrap())
    });
    group.bench_function("html", |b| {
        b.iter(|| to_html(black_box(&document), &templates).unwrap())
    });
    #[cfg(feature = "pdf")]
    group.bench_function("pdf", |b| {
        b.iter(|| shopkeep::to_pdf(black_box(&document)).unwrap())
    });
    group.bench_function("ubl", |b| {
        b.iter(|| to_ubl(black_box(&document), Profile::En16931).unwrap())
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
