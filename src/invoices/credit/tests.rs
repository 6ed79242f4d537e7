//! Credit notes against invoices issued from real orders (in-memory stores).

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use super::{CreditRequest, credit_note, credit_remaining};
use crate::crypto::{Password, PasswordParams};
use crate::{
    Address, CartRef, Checkout, Contact, Country, CountryTaxes, Coupon, CouponCode, Currency,
    CustomerId, Email, ErrorKind, IdempotencyKey, Invoice, InvoiceIssue, KeyRing, Money,
    NewCustomer, NewProduct, Order, Payment, Phone, PostalAddress, PriceMode, Profile, Refund,
    Seller, Shipping, ShopSettings, Sku, StockChange, Store, TaxCategory, TaxRate, TaxTable, VatId,
};

const PASSWORD: &str = "a perfectly long test passphrase";

/// A shop (tax-inclusive or -exclusive) at 19 % and 7 %, its seller with a VAT id, issuing
/// invoices per `issue`, and a registered customer shipping to Germany.
fn shop(mode: PriceMode, issue: InvoiceIssue) -> (Store, CustomerId) {
    let store = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .open_in_memory(KeyRing::from_master_key([3; 32]))
        .unwrap();
    let system = store.system();
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
    .vat_id(VatId::parse("DE123456788").unwrap());
    let table = TaxTable::new().country(
        de,
        CountryTaxes::new(TaxRate::parse("19").unwrap()).reduced(TaxRate::parse("7").unwrap()),
    );
    let settings = ShopSettings::builder(seller, mode, Currency::EUR)
        .tax_table(table)
        .invoice_issue(issue)
        .build()
        .unwrap();
    store.settings(&system).update(0, &settings).unwrap();
    let new = NewCustomer::new(
        Email::parse("ana@example.com").unwrap(),
        Password::new(PASSWORD),
        "Ana Example",
    )
    .unwrap()
    .shipping_address(Address::new("Ana Example", "Marktplatz 5", "München", de).unwrap());
    let customer = store.customers(&system).register(new).unwrap().id();
    (store, customer)
}

/// Puts `quantity` units of a new product `sku` at `price` (in stock) into the customer's cart.
fn add(
    store: &Store,
    customer: CustomerId,
    sku: &str,
    price: Money,
    category: TaxCategory,
    quantity: u32,
) {
    let system = store.system();
    let new = NewProduct::new(Sku::parse(sku).unwrap(), sku, category)
        .unwrap()
        .price(price);
    let variant = store.products(&system).create(new).unwrap().variants()[0].id();
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(1000))
        .unwrap();
    store
        .carts(&system)
        .add(CartRef::Customer(customer), variant, quantity)
        .unwrap();
}

/// A shop (tax-inclusive or -exclusive) with an order of `quantities` units of three products
/// at 19 %, 19 % and 7 %, a 10 % coupon, and optionally its invoice.
fn ordered(mode: PriceMode, quantities: [u32; 3], invoiced: bool) -> (Store, Order) {
    let (store, customer) = shop(mode, InvoiceIssue::AtCheckout);
    let system = store.system();
    let code = CouponCode::parse("TEN").unwrap();
    store
        .coupons(&system)
        .create(&Coupon::percent(code.clone(), 1000).unwrap())
        .unwrap();
    let products = [
        ("MUG", "12.99", TaxCategory::Standard),
        ("PLATE", "7.45", TaxCategory::Standard),
        ("BOOK", "19.95", TaxCategory::Reduced),
    ];
    for ((sku, price, category), quantity) in products.into_iter().zip(quantities) {
        let price = Money::parse(price, Currency::EUR).unwrap();
        add(&store, customer, sku, price, category, quantity);
    }
    let key = IdempotencyKey::new("k").unwrap();
    let order = store
        .orders(&system)
        .checkout(Checkout::from_cart(customer, key).coupon(code))
        .unwrap()
        .into_order();
    if invoiced {
        store.invoices(&system).issue(order.id()).unwrap();
    }
    (store, order)
}

fn credit(store: &Store, order: &Order, lines: &[(u32, u32)]) -> crate::Result<Invoice> {
    let system = store.system();
    store.write(|tx| {
        credit_note(
            tx,
            store,
            &system,
            order,
            &CreditRequest {
                lines,
                charges: false,
                reason: "Returned goods",
            },
            None,
        )
    })
}

fn credit_rest(store: &Store, order: &Order) -> crate::Result<Option<Invoice>> {
    let system = store.system();
    store.write(|tx| credit_remaining(tx, store, &system, order, "Order cancelled"))
}

fn documents(store: &Store, order: &Order) -> Vec<Invoice> {
    store
        .invoices(&store.system())
        .for_order(order.id())
        .unwrap()
}

/// The discount the documents state, in the price mode's terms (the coupon's 10 %).
fn discount(docs: &[Invoice]) -> i64 {
    docs.iter()
        .flat_map(|d| d.document().totals().lines())
        .map(|l| l.discount().minor())
        .sum()
}

fn gross(invoice: &Invoice) -> i64 {
    invoice.document().totals().gross_total().minor()
}

#[test]
fn partial_credit_notes_then_the_rest_credit_exactly_the_invoice() {
    let (store, order) = ordered(PriceMode::TaxInclusive, [3, 2, 1], true);
    let first = credit(&store, &order, &[(0, 1)]).unwrap();
    assert_eq!(first.number(), "CN-2026-000001");
    assert!(first.is_credit_note());
    let invoice = &documents(&store, &order)[0];
    assert_eq!(first.original(), Some(invoice.id()));
    match first.kind() {
        crate::DocumentKind::CreditNote {
            original_number, ..
        } => assert_eq!(original_number, invoice.number()),
        other => panic!("{other:?}"),
    }
    let second = credit(&store, &order, &[(0, 1), (2, 1)]).unwrap();
    assert_eq!(second.number(), "CN-2026-000002");
    let rest = credit_rest(&store, &order).unwrap().unwrap();
    assert_eq!(credit_rest(&store, &order).unwrap(), None, "nothing left");

    let credited = gross(&first) + gross(&second) + gross(&rest);
    assert_eq!(credited, gross(invoice));
    let notes = [first.clone(), second.clone(), rest.clone()];
    assert_eq!(discount(&notes), discount(std::slice::from_ref(invoice)));
    assert!(discount(&notes) > 0);

    // Every line is now fully credited: one more unit is refused and writes nothing.
    let before = documents(&store, &order).len();
    let err = credit(&store, &order, &[(1, 1)]).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation { field: "quantity" },
        "{err}"
    );
    assert_eq!(documents(&store, &order).len(), before);

    // The credit notes are EN 16931 documents; CI validates them with the official rules.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/einvoice/issued");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, doc) in [("partial", &second), ("rest", &rest)] {
        let xml = doc.to_ubl(Profile::En16931).unwrap();
        assert!(xml.contains("<CreditNote"), "{xml}");
        assert!(xml.contains(invoice.number()), "the original is referenced");
        std::fs::write(dir.join(format!("issued-credit-note-{name}.xml")), xml).unwrap();
    }
}

#[test]
fn bad_credit_requests_are_refused_and_take_no_number() {
    let (store, order) = ordered(PriceMode::TaxExclusive, [2, 1, 1], true);
    let cases: [(&[(u32, u32)], ErrorKind); 5] = [
        (&[(0, 3)], ErrorKind::Validation { field: "quantity" }),
        (&[(7, 1)], ErrorKind::Validation { field: "lines" }),
        (&[(0, 0)], ErrorKind::Validation { field: "lines" }),
        (&[(0, 1), (0, 1)], ErrorKind::Validation { field: "lines" }),
        (&[], ErrorKind::Validation { field: "lines" }),
    ];
    for (lines, kind) in cases {
        let err = credit(&store, &order, lines).unwrap_err();
        assert_eq!(err.kind(), kind, "{lines:?}: {err}");
    }
    assert_eq!(documents(&store, &order).len(), 1);
    assert_eq!(
        credit(&store, &order, &[(0, 1)]).unwrap().number(),
        "CN-2026-000001"
    );
}

#[test]
fn crediting_an_uninvoiced_order_invoices_it_first() {
    let (store, order) = ordered(PriceMode::TaxInclusive, [1, 1, 1], false);
    assert_eq!(
        credit_rest(&store, &order).unwrap(),
        None,
        "nothing to cancel"
    );
    let note = credit(&store, &order, &[(2, 1)]).unwrap();
    let docs = documents(&store, &order);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].number(), "INV-2026-000001");
    assert_eq!(note.original(), Some(docs[0].id()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Crediting an invoice line by line in random steps, in either price mode, never credits
    /// more units than were invoiced, and once the rest is credited the notes credit exactly
    /// the invoice's discount and gross.
    #[test]
    fn random_partial_credits_add_up(
        quantities in [1u32..6, 1u32..6, 1u32..6],
        steps in proptest::collection::vec((0u32..3, 1u32..4), 1..8),
        inclusive in any::<bool>(),
    ) {
        let mode = if inclusive { PriceMode::TaxInclusive } else { PriceMode::TaxExclusive };
        let (store, order) = ordered(mode, quantities, true);
        let mut left = quantities;
        for (position, quantity) in steps {
            let slot = &mut left[position as usize];
            let result = credit(&store, &order, &[(position, quantity)]);
            if quantity <= *slot {
                prop_assert!(result.is_ok(), "{:?}", result);
                *slot -= quantity;
            } else {
                prop_assert_eq!(
                    result.unwrap_err().kind(),
                    ErrorKind::Validation { field: "quantity" }
                );
            }
        }
        credit_rest(&store, &order).unwrap();
        let docs = documents(&store, &order);
        let invoice = &docs[0];
        let notes = &docs[1..];
        let credited: i64 = notes.iter().map(gross).sum();
        prop_assert_eq!(credited, gross(invoice));
        prop_assert_eq!(discount(notes), discount(std::slice::from_ref(invoice)));
        // Units credited per product are exactly the units invoiced.
        for (position, sku) in ["MUG", "PLATE", "BOOK"].into_iter().enumerate() {
            let units: u32 = notes
                .iter()
                .flat_map(|n| n.document().lines())
                .filter(|l| l.sku.as_deref() == Some(sku))
                .map(|l| l.priced.quantity())
                .sum();
            prop_assert_eq!(units, quantities[position], "{}", sku);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Netting: the credit notes of an invoice add up exactly to it.

fn eur(text: &str) -> Money {
    Money::parse(text, Currency::EUR).unwrap()
}

/// A paid and invoiced order of `lines` (unit price, category, quantity; product `i`
/// is `SKU-i`), with a percent coupon of `coupon` basis points and standard-rated shipping at
/// `shipping` if given.
fn paid_order(
    mode: PriceMode,
    lines: &[(Money, TaxCategory, u32)],
    coupon: Option<u32>,
    shipping: Option<Money>,
) -> (Store, Order) {
    let (store, customer) = shop(mode, InvoiceIssue::OnPayment);
    let system = store.system();
    for (i, (price, category, quantity)) in lines.iter().enumerate() {
        add(
            &store,
            customer,
            &format!("SKU-{i}"),
            *price,
            *category,
            *quantity,
        );
    }
    let mut checkout = Checkout::from_cart(customer, IdempotencyKey::new("k").unwrap());
    if let Some(bp) = coupon {
        let code = CouponCode::parse("OFF").unwrap();
        store
            .coupons(&system)
            .create(&Coupon::percent(code.clone(), bp).unwrap())
            .unwrap();
        checkout = checkout.coupon(code);
    }
    if let Some(price) = shipping {
        checkout =
            checkout.shipping(Shipping::new("DHL Paket", price, TaxCategory::Standard).unwrap());
    }
    let orders = store.orders(&system);
    let order = orders.checkout(checkout).unwrap().into_order();
    let payment = Payment::new("psp_1", order.total()).unwrap();
    let order = orders.mark_paid(order.id(), payment).unwrap();
    store.invoices(&system).issue(order.id()).unwrap();
    (store, order)
}

/// The figures of a document that must net: BT-106 to BT-112, then per VAT group (category
/// and rate) its lines, allowance, charges, taxable amount and VAT, then per product its
/// quantity and discount (and, tax-exclusive, its net).
fn figures(doc: &Invoice) -> BTreeMap<String, i64> {
    let d = doc.document();
    let t = d.totals();
    let mut f = BTreeMap::new();
    let mut put = |key: String, value: i64| *f.entry(key).or_insert(0) += value;
    for (name, m) in [
        ("line_net_total", t.line_net_total()),
        ("allowance_total", t.allowance_total()),
        ("charge_total", t.charge_total()),
        ("net_total", t.net_total()),
        ("vat_total", t.vat_total()),
        ("gross_total", t.gross_total()),
    ] {
        put(name.to_owned(), m.minor());
    }
    for g in t.vat_groups() {
        let key = format!("{} {}", g.vat().category().code(), g.vat().rate());
        for (name, m) in [
            ("lines", g.lines_net()),
            ("allowance", g.allowance_net()),
            ("charges", g.charges_net()),
            ("taxable", g.taxable()),
            ("tax", g.tax()),
        ] {
            put(format!("{key} {name}"), m.minor());
        }
    }
    for (line, total) in d.lines().iter().zip(t.lines()) {
        // A note of charges alone states one zero line without a SKU.
        let Some(sku) = line.sku.clone() else {
            assert!(total.shown().is_zero() && total.net().is_zero());
            continue;
        };
        put(format!("{sku} quantity"), i64::from(line.priced.quantity()));
        put(format!("{sku} discount"), total.discount().minor());
        if t.mode() == PriceMode::TaxExclusive {
            put(format!("{sku} net"), total.net().minor());
        }
    }
    f
}

/// Asserts that the credit notes of `order`'s invoice add up exactly to it in every figure,
/// that each refund returned exactly what its note credits, and that every note's VAT is
/// within 12 minor units of taxable × rate per group: the bound of `orders::netting` at these
/// rates, far inside BR-CO-17's tolerance of one unit of the currency (100 minor units of
/// EUR). Returns the invoice and its notes.
fn assert_nets(store: &Store, order: &Order) -> (Invoice, Vec<Invoice>) {
    let docs = documents(store, order);
    let (invoice, notes) = docs.split_first().unwrap();
    let mut credited: BTreeMap<String, i64> = BTreeMap::new();
    for note in notes {
        for (key, value) in figures(note) {
            *credited.entry(key).or_insert(0) += value;
        }
        for g in note.document().totals().vat_groups() {
            let exact = i128::from(g.taxable().minor()) * i128::from(g.vat().rate().basis_points());
            let stated = i128::from(g.tax().minor()) * 10_000;
            assert!(
                (stated - exact).abs() <= 120_000,
                "{}: {g:?}",
                note.number()
            );
        }
    }
    let invoiced = figures(invoice);
    credited.retain(|_, v| *v != 0);
    let mut expected = invoiced.clone();
    expected.retain(|_, v| *v != 0);
    assert_eq!(credited, expected, "credit notes {notes:#?}");
    let refunds = store.orders(&store.system()).refunds(order.id()).unwrap();
    for (refund, note) in refunds.iter().zip(notes) {
        let t = note.document().totals();
        assert_eq!(
            (refund.net_total(), refund.vat_total(), refund.gross_total()),
            (t.net_total(), t.vat_total(), t.gross_total())
        );
    }
    (invoice.clone(), notes.to_vec())
}

/// Writes `docs` into the CI corpus, which the official EN 16931 rules validate.
fn to_corpus(name: &str, docs: &[Invoice]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/einvoice/issued");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, doc) in docs.iter().enumerate() {
        let xml = doc.to_ubl(Profile::En16931).unwrap();
        std::fs::write(dir.join(format!("issued-netting-{name}-{i}.xml")), xml).unwrap();
    }
}

#[test]
fn ten_units_of_0_22_refunded_one_by_one_credit_exactly_the_invoice() {
    let lines = [(eur("0.22"), TaxCategory::Standard, 10)];
    let (store, order) = paid_order(PriceMode::TaxExclusive, &lines, None, None);
    let system = store.system();
    let orders = store.orders(&system);
    for _ in 0..10 {
        orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
    }
    let (invoice, notes) = assert_nets(&store, &order);
    let t = invoice.document().totals();
    assert_eq!((t.vat_total(), t.gross_total()), (eur("0.42"), eur("2.62")));
    let vat: i64 = notes
        .iter()
        .map(|n| n.document().totals().vat_total().minor())
        .sum();
    let gross: i64 = notes.iter().map(gross).sum();
    assert_eq!((vat, gross), (42, 262));
    let refunded: i64 = orders
        .refunds(order.id())
        .unwrap()
        .iter()
        .map(|r| r.gross_total().minor())
        .sum();
    assert_eq!(refunded, order.total().minor());
    to_corpus("0.22", &notes);
}

#[test]
fn the_last_of_ten_units_of_0_25_can_be_refunded() {
    let lines = [(eur("0.25"), TaxCategory::Standard, 10)];
    let (store, order) = paid_order(PriceMode::TaxExclusive, &lines, None, None);
    assert_eq!(order.total(), eur("2.98"));
    let system = store.system();
    let orders = store.orders(&system);
    for _ in 0..10 {
        orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
    }
    let (_, notes) = assert_nets(&store, &order);
    assert_eq!(notes.len(), 10);
    to_corpus("0.25", &notes[8..]);
}

#[test]
fn a_paid_order_with_nine_of_ten_units_refunded_can_be_cancelled() {
    let lines = [(eur("0.25"), TaxCategory::Standard, 10)];
    let (store, order) = paid_order(PriceMode::TaxExclusive, &lines, None, None);
    let system = store.system();
    let orders = store.orders(&system);
    for _ in 0..9 {
        orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
    }
    let cancelled = orders.cancel(order.id(), "Out of stock").unwrap();
    assert_eq!(cancelled.status(), crate::OrderStatus::Cancelled);
    let (_, notes) = assert_nets(&store, &order);
    assert_eq!(notes.len(), 10, "nine refunds and the cancellation");
    to_corpus("cancel", &notes[9..]);
}

#[test]
fn shipping_left_after_every_line_was_refunded_is_credited_by_the_cancellation() {
    let lines = [
        (eur("12.99"), TaxCategory::Standard, 3),
        (eur("7.45"), TaxCategory::Reduced, 2),
    ];
    let shipping = Some(eur("4.90"));
    let (store, order) = paid_order(PriceMode::TaxInclusive, &lines, Some(1337), shipping);
    let system = store.system();
    let orders = store.orders(&system);
    for (position, quantity) in [(0, 1), (1, 1), (0, 2), (1, 1)] {
        orders
            .refund(order.id(), Refund::lines([(position, quantity)]))
            .unwrap();
    }
    orders.cancel(order.id(), "Returned in full").unwrap();
    let (_, notes) = assert_nets(&store, &order);
    let last = notes.last().unwrap().document();
    assert_eq!(last.totals().charge_total(), order.charge_total());
    assert_eq!(last.lines().len(), 1, "a note needs a line: a zero one");
    assert!(last.totals().line_net_total().is_zero());
    to_corpus("shipping-cancel", &notes);
}

#[test]
fn shipping_alone_can_be_refunded_once() {
    let lines = [(eur("0.22"), TaxCategory::Standard, 10)];
    let shipping = Some(eur("4.90"));
    let (store, order) = paid_order(PriceMode::TaxExclusive, &lines, None, shipping);
    let system = store.system();
    let orders = store.orders(&system);
    let refund = orders
        .refund(order.id(), Refund::lines([]).charges(true))
        .unwrap();
    assert_eq!(refund.net_total(), eur("4.90"));
    assert_eq!(refund.vat_total(), eur("0.93"));
    let again = orders.refund(order.id(), Refund::lines([]).charges(true));
    assert_eq!(
        again.unwrap_err().kind(),
        ErrorKind::Validation { field: "charges" }
    );
    orders.cancel(order.id(), "Changed their mind").unwrap();
    let (_, notes) = assert_nets(&store, &order);
    to_corpus("shipping-alone", &notes);
}

/// Which proptest case this is, so that a few cases' documents join the CI corpus.
static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Refunds in random steps (units of random lines, with or without the shipping), then a
    /// cancellation, in either price mode, with or without a coupon: the cancellation always
    /// succeeds, and the credit notes net the invoice to zero in every total, every VAT group
    /// and every line's quantity and discount, each refund returning exactly its note.
    #[test]
    fn credit_notes_net_their_invoice_whatever_the_refunds(
        inclusive in any::<bool>(),
        lines in proptest::collection::vec(
            (prop_oneof![1i64..60, 60i64..4000], any::<bool>(), 1u32..9),
            1..4,
        ),
        coupon in proptest::option::of(1u32..6000),
        shipping in proptest::option::of(1i64..1500),
        steps in proptest::collection::vec((0usize..3, 1u32..5, any::<bool>()), 0..10),
    ) {
        let mode = if inclusive { PriceMode::TaxInclusive } else { PriceMode::TaxExclusive };
        let lines: Vec<(Money, TaxCategory, u32)> = lines
            .into_iter()
            .map(|(minor, reduced, q)| {
                let category = if reduced { TaxCategory::Reduced } else { TaxCategory::Standard };
                (Money::new(minor, Currency::EUR), category, q)
            })
            .collect();
        let shipping = shipping.map(|minor| Money::new(minor, Currency::EUR));
        let (store, order) = paid_order(mode, &lines, coupon, shipping);
        let system = store.system();
    let orders = store.orders(&system);
        let mut left: Vec<u32> = lines.iter().map(|l| l.2).collect();
        let mut charges_refunded = false;
        for (line, quantity, charges) in steps {
            let position = line % lines.len();
            let request = Refund::lines([(position as u32, quantity)]).charges(charges);
            let result = orders.refund(order.id(), request);
            let over = quantity > left[position];
            let twice = charges && charges_refunded && shipping.is_some();
            if over || twice {
                // The charges are checked before the lines.
                let field = if twice { "charges" } else { "quantity" };
                prop_assert_eq!(result.unwrap_err().kind(), ErrorKind::Validation { field });
            } else {
                prop_assert!(result.is_ok(), "{:?}", result);
                left[position] -= quantity;
                charges_refunded |= charges;
            }
        }
        let cancelled = orders.cancel(order.id(), "Cancelled by the shop");
        prop_assert!(cancelled.is_ok(), "{:?}", cancelled);
        let (invoice, notes) = assert_nets(&store, &order);
        let case = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if case < 6 {
            let mut docs = vec![invoice];
            docs.extend(notes);
            to_corpus(&format!("case{case}"), &docs);
        }
    }
}
