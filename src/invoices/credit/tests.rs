//! Credit notes against invoices issued from real orders (in-memory stores).

use std::path::Path;

use proptest::prelude::*;

use super::{CreditRequest, credit_note, credit_remaining};
use crate::crypto::{Password, PasswordParams};
use crate::{
    Address, CartRef, Checkout, Contact, Country, CountryTaxes, Coupon, CouponCode, Currency,
    Email, ErrorKind, IdempotencyKey, Invoice, InvoiceIssue, KeyRing, Money, NewCustomer,
    NewProduct, Order, Phone, PostalAddress, PriceMode, Profile, Seller, ShopSettings, Sku,
    StockChange, Store, TaxCategory, TaxRate, TaxTable, VatId,
};

const PASSWORD: &str = "a perfectly long test passphrase";

/// A shop (tax-inclusive or -exclusive) with an order of `quantities` units of three products
/// at 19 %, 19 % and 7 %, a 10 % coupon, and optionally its invoice.
fn ordered(mode: PriceMode, quantities: [u32; 3], invoiced: bool) -> (Store, Order) {
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
        .invoice_issue(InvoiceIssue::AtCheckout)
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
        let new = NewProduct::new(Sku::parse(sku).unwrap(), sku, category)
            .unwrap()
            .price(Money::parse(price, Currency::EUR).unwrap());
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
    let key = IdempotencyKey::new("k").unwrap();
    let order = store
        .orders(&system)
        .checkout(Checkout::from_cart(customer, key).coupon(code))
        .unwrap();
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
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
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
        (&[(0, 3)], ErrorKind::Conflict),
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
    /// more units than were invoiced, credits the discount exactly once everything is
    /// credited, and (tax-inclusive) exactly the invoice's gross; tax-exclusive, the VAT of
    /// partial notes may round differently, so the guard may refuse the last by a cent.
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
                match result {
                    Ok(_) => *slot -= quantity,
                    Err(e) => prop_assert!(!inclusive && e.kind() == ErrorKind::Conflict, "{e}"),
                }
            } else {
                prop_assert_eq!(result.unwrap_err().kind(), ErrorKind::Conflict);
            }
        }
        let last = credit_rest(&store, &order);
        let docs = documents(&store, &order);
        let invoice = &docs[0];
        let notes = &docs[1..];
        let credited: i64 = notes.iter().map(gross).sum();
        prop_assert!(credited <= gross(invoice));
        // Units credited per product never exceed the units invoiced.
        for (position, sku) in ["MUG", "PLATE", "BOOK"].into_iter().enumerate() {
            let units: u32 = notes
                .iter()
                .flat_map(|n| n.document().lines())
                .filter(|l| l.sku.as_deref() == Some(sku))
                .map(|l| l.priced.quantity())
                .sum();
            prop_assert!(units <= quantities[position], "{sku}: {units}");
        }
        if last.is_ok() {
            prop_assert_eq!(discount(notes), discount(std::slice::from_ref(invoice)));
            if inclusive {
                prop_assert_eq!(credited, gross(invoice));
            }
        } else {
            prop_assert!(!inclusive);
        }
    }
}
