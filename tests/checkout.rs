//! Carts, checkout, idempotency and coupons through the public API, on real database files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{
    PASSWORD, Shop, business, code, contains, count, count_where, customer, eur, fill, key,
    new_customer, on_hand, place, product, raw, raw_bytes, register, shop,
};
use shopkeep::catalog::{Sku, TaxCategory, VariantId};
use shopkeep::crypto::Password;
use shopkeep::customers::{Address, Country, NewCustomer};
use shopkeep::money::TaxRate;
use shopkeep::orders::{
    CartRef, Checkout, Confirmation, Coupon, OrderQuery, OrderStatus, PriceMode, Shipping,
    Templates, VatCategory,
};
use shopkeep::{Currency, Email, ErrorKind, Money, Principal, Store};

fn order_count(store: &Store) -> usize {
    let mut n = 0;
    let mut query = OrderQuery::new().limit(500);
    loop {
        let page = store.orders(&store.system()).list(&query).unwrap();
        n += page.orders().len();
        match page.next() {
            Some(next) => query = OrderQuery::new().limit(500).after(next),
            None => return n,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Carts

#[test]
fn carts_add_change_remove_and_preview_with_the_checkout_figures() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let book = product(store, "BOOK", eur("20.00"), TaxCategory::Reduced, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let me = CartRef::Customer(ana.customer_id().unwrap());
    let carts = store.carts(&ana);

    assert!(carts.get(me).unwrap().is_empty());
    carts.add(me, mug, 2).unwrap();
    carts.add(me, mug, 1).unwrap();
    carts.add(me, book, 1).unwrap();
    let cart = carts.set_quantity(me, book, 2).unwrap();
    assert_eq!(
        cart.lines()
            .iter()
            .map(|l| (l.variant(), l.quantity()))
            .collect::<Vec<_>>(),
        vec![(mug, 3), (book, 2)]
    );
    let preview = carts.preview(me, None, None).unwrap();
    assert_eq!(preview.totals().gross_total(), eur("78.70"));

    let order = store
        .orders(&ana)
        .checkout(Checkout::from_cart(ana.customer_id().unwrap(), key("k1")))
        .unwrap()
        .into_order();
    assert_eq!(order.total(), preview.totals().gross_total());
    assert_eq!(order.vat_total(), preview.totals().vat_total());
    assert_eq!(order.status(), OrderStatus::Placed);
    assert_eq!(order.lines().len(), 2);
    assert_eq!(order.lines()[1].vat().rate(), TaxRate::parse("7").unwrap());
    assert!(
        carts.get(me).unwrap().is_empty(),
        "checkout empties the cart"
    );
    assert_eq!(on_hand(store, mug), 7);
    assert_eq!(on_hand(store, book), 8);

    carts.add(me, mug, 1).unwrap();
    assert!(carts.remove(me, mug).unwrap().is_empty());
}

#[test]
fn an_anonymous_cart_merges_into_the_customers_cart_at_login() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let visitor = Principal::anonymous();
    let guest = store.carts(&visitor).open_guest().unwrap();
    let token = shopkeep::orders::CartToken::new(guest.token().as_str());
    store
        .carts(&visitor)
        .add(CartRef::Guest(&token), mug, 2)
        .unwrap();
    let preview = store
        .carts(&visitor)
        .preview(CartRef::Guest(&token), None, None)
        .unwrap();
    assert_eq!(preview.totals().gross_total(), eur("25.80"));
    assert!(!format!("{token:?}").contains(token.as_str()));

    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(mug, 1)]);
    let merged = store.carts(&ana).merge(&token, id).unwrap();
    assert_eq!(merged.lines().len(), 1);
    assert_eq!(merged.lines()[0].quantity(), 3);
    let gone = store.carts(&visitor).get(CartRef::Guest(&token));
    assert_eq!(gone.unwrap_err().kind(), ErrorKind::NotFound);
    // Another customer cannot reach Ana's cart.
    let bob = customer(store, "bob@example.com", "DE");
    let err = store.carts(&bob).get(CartRef::Customer(id)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn a_preview_names_its_lines_and_an_empty_cart_previews_as_zero() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let book = product(store, "BOOK", eur("20.00"), TaxCategory::Reduced, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let me = CartRef::Customer(ana.customer_id().unwrap());
    let carts = store.carts(&ana);

    // Before the first look (no cart yet) and once emptied: zero totals, not an error.
    let empty = carts.preview(me, None, None).unwrap();
    assert!(empty.lines().is_empty());
    assert_eq!(empty.totals().gross_total(), eur("0.00"));
    assert_eq!(empty.totals().vat_total(), eur("0.00"));
    assert_eq!(empty.discount(), eur("0.00"));
    let chf = carts.preview(me, Some(Currency::CHF), None).unwrap();
    assert_eq!(chf.totals().gross_total().to_string(), "0.00 CHF");
    let err = carts.preview(me, Some(Currency::USD), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "currency" });

    // Lines carry what a host renders, whatever order they were added in.
    carts.add(me, book, 1).unwrap();
    carts.add(me, mug, 2).unwrap();
    let preview = carts.preview(me, None, None).unwrap();
    let shown: Vec<_> = preview
        .lines()
        .iter()
        .map(|l| {
            (
                l.variant(),
                l.sku().as_str().to_owned(),
                l.name().to_owned(),
                l.quantity(),
                l.unit_price(),
                l.total().shown(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                book,
                "BOOK".into(),
                "BOOK".into(),
                1,
                eur("20.00"),
                eur("20.00")
            ),
            (
                mug,
                "MUG".into(),
                "MUG".into(),
                2,
                eur("12.90"),
                eur("25.80")
            ),
        ]
    );
    assert_eq!(
        preview.lines()[0].vat().rate(),
        TaxRate::parse("7").unwrap()
    );
    let order = store
        .orders(&ana)
        .checkout(Checkout::from_cart(ana.customer_id().unwrap(), key("k1")))
        .unwrap()
        .into_order();
    for (line, previewed) in order.lines().iter().zip(preview.lines()) {
        assert_eq!(line.variant(), previewed.variant());
        assert_eq!(line.name(), previewed.name());
        assert_eq!(line.net(), previewed.total().net());
    }
    let after = carts.preview(me, None, None).unwrap();
    assert!(after.lines().is_empty());
    assert!(after.totals().gross_total().is_zero());
}

#[test]
fn reading_a_cart_does_not_wait_for_the_writer() {
    if common::sqlite_only("holds SQLite's write lock on the file from a raw connection") {
        return;
    }
    let s = shop(PriceMode::TaxInclusive);
    let mug = product(&s.store, "MUG", eur("12.90"), TaxCategory::Standard, 10);
    let ana = customer(&s.store, "ana@example.com", "DE");
    let me = CartRef::Customer(ana.customer_id().unwrap());
    s.store.carts(&ana).add(me, mug, 2).unwrap();
    let guest = s.store.carts(&Principal::anonymous()).open_guest().unwrap();
    let token = shopkeep::orders::CartToken::new(guest.token().as_str());
    // A second store on the file that gives up on the write lock after 50 ms.
    let impatient = Store::options()
        .password_params(shopkeep::crypto::PasswordParams::insecure_for_tests())
        .busy_timeout(Duration::from_millis(50))
        .clock(s.clock.clone())
        .open(
            s.store.path().unwrap(),
            shopkeep::KeyRing::from_master_key([8; 32]),
        )
        .unwrap();

    // Another process holds the write lock (a long checkout, a backup).
    let other = raw(&s.store);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let carts = impatient.carts(&ana);
    assert_eq!(carts.get(me).unwrap().lines().len(), 1);
    let preview = carts.preview(me, None, None).unwrap();
    assert_eq!(preview.totals().gross_total(), eur("25.80"));
    let visitor = Principal::anonymous();
    assert!(
        impatient
            .carts(&visitor)
            .get(CartRef::Guest(&token))
            .unwrap()
            .is_empty()
    );
    // A write still needs the lock: the check is able to fail.
    let err = carts.add(me, mug, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(carts.add(me, mug, 1).unwrap().lines()[0].quantity(), 3);
}

// ---------------------------------------------------------------------------------------------
// Bad input: typed errors, nothing written, stock untouched

#[test]
fn bad_input_is_refused_with_typed_errors_and_nothing_changes() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    let old = product(store, "OLD", eur("5.00"), TaxCategory::Standard, 5);
    let chf = Money::parse("9.00", Currency::CHF).unwrap();
    let swiss = product(store, "CHF-ONLY", chf, TaxCategory::Standard, 5);
    let ana = customer(store, "ana@example.com", "DE");
    let id = ana.customer_id().unwrap();
    let me = CartRef::Customer(id);
    let carts = store.carts(&ana);
    let orders = store.orders(&ana);
    let checkout = |k: &str| Checkout::from_cart(id, key(k));

    // Empty cart.
    let err = orders.checkout(checkout("a")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "cart" });
    // Quantities.
    for bad in [0, 10_001, u32::MAX] {
        let err = carts.add(me, mug, bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "quantity" });
    }
    carts.add(me, mug, 9_999).unwrap();
    let err = carts.add(me, mug, 2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "quantity" });
    carts.remove(me, mug).unwrap();
    // Unknown variant.
    let unknown = VariantId::parse("0190e6a4-7c1a-7000-8000-000000000001").unwrap();
    assert_eq!(
        carts.add(me, unknown, 1).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Archived product (archived after it went into the cart).
    carts.add(me, mug, 1).unwrap();
    carts.add(me, old, 1).unwrap();
    let old_product = store
        .products(&store.system())
        .get_by_sku(&Sku::parse("OLD").unwrap())
        .unwrap();
    store
        .products(&store.system())
        .archive(old_product.id(), old_product.version())
        .unwrap();
    let err = orders.checkout(checkout("b")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "variant" });
    carts.remove(me, old).unwrap();
    // Mixed currencies: a product without a EUR price.
    carts.add(me, swiss, 1).unwrap();
    let err = orders.checkout(checkout("c")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "currency" });
    carts.remove(me, swiss).unwrap();
    // More than on hand.
    carts.set_quantity(me, mug, 6).unwrap();
    let err = orders.checkout(checkout("d")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfStock);
    let short = err.out_of_stock().unwrap();
    assert_eq!(
        (short.variant(), short.available(), short.requested()),
        (mug, 5, 6)
    );
    carts.set_quantity(me, mug, 1).unwrap();
    // Coupons: unknown, expired, not yet valid, too small a subtotal, used up.
    let system = store.system();
    let coupons = store.coupons(&system);
    let now = store.now();
    coupons
        .create(
            &Coupon::percent(code("OLD10"), 1000)
                .unwrap()
                .valid_until(now),
        )
        .unwrap();
    coupons
        .create(
            &Coupon::percent(code("SOON10"), 1000)
                .unwrap()
                .valid_from(now.checked_add(Duration::from_secs(60)).unwrap()),
        )
        .unwrap();
    coupons
        .create(
            &Coupon::fixed(code("BIG5"), eur("5.00"))
                .unwrap()
                .min_subtotal(eur("100.00")),
        )
        .unwrap();
    coupons
        .create(&Coupon::percent(code("ONCE"), 500).unwrap().max_uses(1))
        .unwrap();
    let with = |k: &str, c: &str| checkout(k).coupon(code(c));
    let err = orders.checkout(with("e", "NOPE")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = orders.checkout(with("f", "old10")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "coupon" });
    let err = orders.checkout(with("g", "SOON10")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "coupon" });
    let err = orders.checkout(with("h", "big5")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "coupon" });
    assert_eq!(code("once").as_str(), "ONCE", "codes are case-insensitive");

    // Nothing was written by any of these.
    assert_eq!(order_count(store), 0);
    for table in [
        "shopkeep_orders",
        "shopkeep_order_lines",
        "shopkeep_order_vat",
        "shopkeep_idempotency",
        "shopkeep_coupon_uses",
    ] {
        assert_eq!(count(&s.store, table), 0, "{table}");
    }
    assert_eq!(
        count_where(&s.store, "shopkeep_stock_ledger", "reason = 'sale'"),
        0
    );
    assert_eq!(carts.get(me).unwrap().lines().len(), 1, "the cart is kept");
    assert_eq!(on_hand(store, mug), 5);
    assert_eq!(on_hand(store, swiss), 5);

    // The one-use coupon works once, then is used up.
    let first = orders.checkout(with("i", "Once")).unwrap().into_order();
    assert_eq!(first.coupon(), Some("ONCE"));
    assert!(first.allowance_total().minor() > 0);
    carts.add(me, mug, 1).unwrap();
    let err = orders.checkout(with("j", "ONCE")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "coupon" });
    assert_eq!(on_hand(store, mug), 4);
    assert_eq!(
        coupons
            .list()
            .unwrap()
            .iter()
            .find(|c| c.code().as_str() == "ONCE")
            .unwrap()
            .uses(),
        1
    );
}

#[test]
fn a_customer_without_a_shipping_address_cannot_check_out() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    let new = NewCustomer::new(
        Email::parse("noaddr@example.com").unwrap(),
        Password::new(PASSWORD),
        "No Address",
    )
    .unwrap();
    let id = store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id();
    let system = store.system();
    store
        .carts(&system)
        .add(CartRef::Customer(id), mug, 1)
        .unwrap();
    let err = store
        .orders(&system)
        .checkout(Checkout::from_cart(id, key("x")))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "shipping_address"
        }
    );
    assert_eq!(on_hand(store, mug), 5);
}

// ---------------------------------------------------------------------------------------------
// Idempotency

#[test]
fn replays_return_the_first_order_and_a_changed_request_is_a_conflict() {
    let s = shop(PriceMode::TaxExclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("10.00"), TaxCategory::Standard, 50);
    store
        .coupons(&store.system())
        .create(&Coupon::percent(code("TEN"), 1000).unwrap())
        .unwrap();
    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(mug, 2)]);

    let first = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")))
        .unwrap();
    let again = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")))
        .unwrap();
    // The host can tell them apart (201 and 200), and they carry the same order.
    assert!(!first.is_replay() && again.is_replay());
    assert!(matches!(
        first,
        shopkeep::orders::CheckoutOutcome::Placed(_)
    ));
    assert_eq!(first.into_order(), again.into_order());
    assert_eq!(on_hand(store, mug), 48, "stock is taken once");

    let err = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")).coupon(code("TEN")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IdempotencyMismatch);

    // The system's use of the same key is its own: it never sees Ana's order.
    let system = store.system();
    let err = store
        .orders(&system)
        .checkout(Checkout::from_cart(id, key("same")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "cart" });

    // After the retention time the key is forgotten.
    s.clock
        .advance(shopkeep::orders::IDEMPOTENCY_RETENTION + Duration::from_secs(1));
    let err = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "cart" });
    assert_eq!(order_count(store), 1);
}

#[test]
fn concurrent_replays_of_one_key_make_exactly_one_order() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 100);
    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(mug, 3)]);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let ana = ana.clone();
                scope.spawn(move || {
                    let outcome = store
                        .orders(&ana)
                        .checkout(Checkout::from_cart(id, key("retry-me")))
                        .unwrap();
                    (outcome.order().id(), outcome.is_replay())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|r| r.0 == results[0].0));
    // Exactly one thread placed it; the seven others were told they replayed it.
    assert_eq!(results.iter().filter(|r| !r.1).count(), 1);
    assert_eq!(order_count(store), 1);
    assert_eq!(on_hand(store, mug), 97);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: no overselling, coupon limits hold

#[test]
fn eight_threads_of_checkouts_never_oversell_nor_overuse_a_coupon() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 250;
    const COUPON_LIMIT: u32 = 40;
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let initial = [300u64, 200, 120];
    let variants = [
        product(store, "A", eur("9.99"), TaxCategory::Standard, 300),
        product(store, "B", eur("4.50"), TaxCategory::Reduced, 200),
        product(store, "C", eur("19.00"), TaxCategory::Standard, 120),
    ];
    store
        .coupons(&store.system())
        .create(
            &Coupon::percent(code("RUSH"), 1500)
                .unwrap()
                .max_uses(COUPON_LIMIT),
        )
        .unwrap();
    let buyers: Vec<Principal> = (0..THREADS)
        .map(|i| customer(store, &format!("buyer{i}@example.com"), "DE"))
        .collect();
    let placed = Arc::new(AtomicUsize::new(0));
    let orders: Vec<Vec<shopkeep::orders::OrderId>> = std::thread::scope(|scope| {
        let handles: Vec<_> = buyers
            .iter()
            .enumerate()
            .map(|(t, buyer)| {
                let placed = Arc::clone(&placed);
                scope.spawn(move || {
                    let id = buyer.customer_id().unwrap();
                    let me = CartRef::Customer(id);
                    let mut mine = Vec::new();
                    for i in 0..PER_THREAD {
                        let a = variants[(t + i) % 3];
                        let b = variants[(t + i + 1) % 3];
                        let carts = store.carts(buyer);
                        carts.set_quantity(me, a, 1 + (i % 3) as u32).unwrap();
                        carts.set_quantity(me, b, 1).unwrap();
                        let mut request = Checkout::from_cart(id, key(&format!("{t}-{i}")));
                        if i % 4 == 0 {
                            request = request.coupon(code("RUSH"));
                        }
                        match store.orders(buyer).checkout(request) {
                            Ok(order) => {
                                placed.fetch_add(1, Ordering::Relaxed);
                                mine.push(order.order().id());
                            }
                            Err(e) => {
                                assert!(
                                    matches!(
                                        e.kind(),
                                        ErrorKind::OutOfStock
                                            | ErrorKind::Validation { field: "coupon" }
                                    ),
                                    "{e}"
                                );
                                carts.remove(me, a).unwrap();
                                carts.remove(me, b).unwrap();
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<_> = orders.into_iter().flatten().collect();
    assert_eq!(all.len(), placed.load(Ordering::Relaxed));
    assert!(!all.is_empty());
    assert_eq!(order_count(store), all.len());

    let mut sold = [0u64; 3];
    let mut coupon_uses = 0;
    let system = store.system();
    for id in &all {
        let order = store.orders(&system).get(*id).unwrap();
        assert_eq!(order.id(), *id);
        assert_eq!(
            order.net_total().checked_add(order.vat_total()).unwrap(),
            order.total()
        );
        let shown = Money::sum(Currency::EUR, order.lines().iter().map(|l| l.amount())).unwrap();
        assert_eq!(
            shown.checked_sub(order.total()).unwrap(),
            order
                .lines()
                .iter()
                .fold(Money::zero(Currency::EUR), |acc, l| acc
                    .checked_add(l.discount())
                    .unwrap()),
            "inclusive mode: gross = shown prices - discount"
        );
        if order.coupon().is_some() {
            coupon_uses += 1;
        }
        for line in order.lines() {
            let i = variants.iter().position(|v| *v == line.variant()).unwrap();
            sold[i] += u64::from(line.quantity());
        }
    }
    for i in 0..3 {
        assert_eq!(
            on_hand(store, variants[i]) + sold[i],
            initial[i],
            "product {i}: stock + sold = initial"
        );
    }
    assert!(coupon_uses <= COUPON_LIMIT);
    assert_eq!(
        coupon_uses, COUPON_LIMIT,
        "the test should exhaust the coupon"
    );
    assert!(
        (0..3).any(|i| on_hand(store, variants[i]) < 4),
        "the test should run a product (nearly) out of stock"
    );
    let listed = store.coupons(&system).list().unwrap();
    assert_eq!(listed[0].uses(), coupon_uses);
    check_raw_totals(&s);
}

// ---------------------------------------------------------------------------------------------
// Stored totals equal the sums of their stored parts

fn check_raw_totals(shop: &Shop) {
    let bad = common::db::db(shop).int(
        "SELECT count(*) FROM shopkeep_orders o WHERE
               o.line_net_total <> (SELECT sum(line_net) FROM shopkeep_order_lines WHERE order_id = o.id)
            OR o.line_net_total <> (SELECT sum(lines_net) FROM shopkeep_order_vat WHERE order_id = o.id)
            OR o.allowance_total <> (SELECT sum(allowance_net) FROM shopkeep_order_vat WHERE order_id = o.id)
            OR o.charge_total <> (SELECT sum(charges_net) FROM shopkeep_order_vat WHERE order_id = o.id)
            OR o.net_total <> (SELECT sum(taxable) FROM shopkeep_order_vat WHERE order_id = o.id)
            OR o.vat_total <> (SELECT sum(tax) FROM shopkeep_order_vat WHERE order_id = o.id)
            OR o.net_total <> o.line_net_total - o.allowance_total + o.charge_total
            OR o.gross_total <> o.net_total + o.vat_total
            OR o.charge_total <> coalesce(
                   (SELECT sum(net) FROM shopkeep_order_charges WHERE order_id = o.id), 0)
            OR EXISTS (SELECT 1 FROM shopkeep_order_vat v WHERE v.order_id = o.id
                   AND v.charges_net <> coalesce((SELECT sum(c.net) FROM shopkeep_order_charges c
                       WHERE c.order_id = v.order_id AND c.vat_category = v.vat_category
                         AND c.vat_rate_bp = v.vat_rate_bp), 0))",
    );
    assert_eq!(
        bad, 0,
        "orders whose totals are not the sums of their parts"
    );
    let lines_ok = count_where(
        &shop.store,
        "shopkeep_order_lines",
        "amount <> quantity * unit_price",
    );
    assert_eq!(lines_ok, 0);
}

#[test]
fn stored_totals_add_up_in_both_price_modes_with_coupons_and_mixed_rates() {
    for mode in [PriceMode::TaxExclusive, PriceMode::TaxInclusive] {
        let s = shop(mode);
        let store = &s.store;
        let a = product(store, "A", eur("9.99"), TaxCategory::Standard, 100);
        let b = product(store, "B", eur("4.45"), TaxCategory::Reduced, 100);
        let c = product(store, "C", eur("0.33"), TaxCategory::Zero, 100);
        store
            .coupons(&store.system())
            .create(&Coupon::percent(code("P13"), 1333).unwrap())
            .unwrap();
        store
            .coupons(&store.system())
            .create(&Coupon::fixed(code("FIX3"), eur("3.01")).unwrap())
            .unwrap();
        let ana = customer(store, "ana@example.com", "FR");
        for coupon in [None, Some("P13"), Some("FIX3")] {
            let order = place(store, &ana, &[(a, 3), (b, 7), (c, 1)], coupon);
            // France: 20 % and 5.5 % (one-stop shop), zero-rated as Z.
            assert_eq!(order.destination().as_str(), "FR");
            let cats: Vec<_> = order.lines().iter().map(|l| l.vat().category()).collect();
            assert_eq!(
                cats,
                [
                    VatCategory::Standard,
                    VatCategory::Standard,
                    VatCategory::ZeroRated
                ]
            );
            assert_eq!(order.vat_breakdown().len(), 3);
        }
        check_raw_totals(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// Buyer snapshot and reading

#[test]
fn the_buyer_snapshot_is_encrypted_and_survives_erasure() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    let ana = customer(store, "zelda.snapshot@example.com", "DE");
    let id = fill(store, &ana, &[(mug, 1)]);
    let order = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("k")).shipping(dhl("4.90")))
        .unwrap()
        .into_order();
    assert_eq!(order.buyer().email(), "zelda.snapshot@example.com");
    assert_eq!(order.buyer().shipping().country().as_str(), "DE");
    assert!(!format!("{order:?}").contains("zelda"));

    // Not in clear anywhere in the file (or its WAL); a server has no file of the store's own
    // to read, and the rest of the test runs on both engines.
    if !common::postgres::suite_on_postgres() {
        let bytes = raw_bytes(store.path().unwrap());
        assert!(!contains(&bytes, b"zelda.snapshot"));
        assert!(!contains(&bytes, b"Ana Example"));
    }

    // The customer's orders: their own, not someone else's.
    let page = store.orders(&ana).list_for(id, None, 10).unwrap();
    assert_eq!(page.orders().len(), 1);
    let bob = customer(store, "bob@example.com", "DE");
    assert_eq!(
        store.orders(&bob).get(order.id()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .orders(&bob)
            .list_for(id, None, 10)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let placed = store
        .orders(&store.system())
        .list(&OrderQuery::new().status(OrderStatus::Placed))
        .unwrap();
    assert_eq!(placed.orders().len(), 1);
    let paid = store
        .orders(&store.system())
        .list(&OrderQuery::new().status(OrderStatus::Paid))
        .unwrap();
    assert!(paid.orders().is_empty());

    let rows = || -> Vec<i64> {
        [
            "shopkeep_order_lines",
            "shopkeep_order_charges",
            "shopkeep_order_vat",
        ]
        .iter()
        .map(|t| count(&s.store, t))
        .collect()
    };
    let before = rows();
    assert_eq!(before, [1, 1, 1]);

    store.customers(&store.system()).erase(id).unwrap();
    // Staff still read the whole order, its lines, charges and totals, and the buyer snapshot
    // under the legal-archive key; the customer's own data is gone.
    let kept = store.orders(&store.system()).get(order.id()).unwrap();
    assert_eq!(kept.buyer().name(), "Ana Example");
    assert_eq!(kept.buyer().email(), "zelda.snapshot@example.com");
    assert_eq!(kept, order);
    assert_eq!(rows(), before);
    let placed = store
        .orders(&store.system())
        .list(&OrderQuery::new().status(OrderStatus::Placed))
        .unwrap();
    assert_eq!(placed.orders(), [order]);
    assert_eq!(
        store
            .customers(&store.system())
            .export(id)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn checkout_emits_order_placed_with_ids_and_figures_only() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 5);
    let ana = customer(store, "emitted@example.com", "DE");
    let order = place(store, &ana, &[(mug, 1)], None);
    let system = store.system();
    let events = store
        .events(&system)
        .poll(100, Duration::from_secs(60))
        .unwrap();
    let placed: Vec<_> = events
        .iter()
        .filter(|e| e.kind() == "order.placed")
        .collect();
    assert_eq!(placed.len(), 1);
    let data = placed[0].data_json();
    assert!(data.contains(&order.id().to_string()));
    assert!(data.contains("1290"));
    assert!(!data.contains("emitted"));
}

#[test]
fn a_per_customer_limit_holds_across_orders() {
    let s = shop(PriceMode::TaxExclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("10.00"), TaxCategory::Standard, 50);
    store
        .coupons(&store.system())
        .create(
            &Coupon::fixed(code("TWICE"), eur("1.00"))
                .unwrap()
                .max_per_customer(2),
        )
        .unwrap();
    let ana = customer(store, "ana@example.com", "DE");
    let id = ana.customer_id().unwrap();
    for i in 0..3 {
        fill(store, &ana, &[(mug, 1)]);
        let result = store
            .orders(&ana)
            .checkout(Checkout::from_cart(id, key(&format!("t{i}"))).coupon(code("twice")));
        if i < 2 {
            assert_eq!(result.unwrap().order().allowance_total(), eur("1.00"));
        } else {
            assert_eq!(
                result.unwrap_err().kind(),
                ErrorKind::Validation { field: "coupon" }
            );
        }
    }
    // Another customer still may.
    let bob = customer(store, "bob@example.com", "DE");
    let bob_id = fill(store, &bob, &[(mug, 1)]);
    store
        .orders(&bob)
        .checkout(Checkout::from_cart(bob_id, key("b")).coupon(code("TWICE")))
        .unwrap()
        .into_order();
    assert_eq!(on_hand(store, mug), 47);
}

// ---------------------------------------------------------------------------------------------
// Shipping

fn dhl(price: &str) -> Shipping {
    Shipping::new("DHL Paket", eur(price), TaxCategory::Standard).unwrap()
}

#[test]
fn shipping_is_a_charge_taxed_like_a_line_and_the_stored_totals_add_up() {
    for mode in [PriceMode::TaxExclusive, PriceMode::TaxInclusive] {
        let s = shop(mode);
        let store = &s.store;
        let a = product(store, "A", eur("9.99"), TaxCategory::Standard, 100);
        let b = product(store, "B", eur("4.45"), TaxCategory::Reduced, 100);
        let ana = customer(store, "ana@example.com", "DE");
        let id = fill(store, &ana, &[(a, 3), (b, 7)]);
        let me = CartRef::Customer(id);
        let preview = store
            .carts(&ana)
            .preview_with_shipping(me, None, None, &dhl("4.90"))
            .unwrap();
        let order = store
            .orders(&ana)
            .checkout(Checkout::from_cart(id, key("k")).shipping(dhl("4.90")))
            .unwrap()
            .into_order();
        assert_eq!(order.total(), preview.totals().gross_total());

        let [charge] = order.charges() else {
            panic!("one charge expected")
        };
        assert_eq!(charge.reason(), "DHL Paket");
        assert_eq!(charge.amount(), eur("4.90"));
        assert_eq!(charge.vat().category(), VatCategory::Standard);
        assert_eq!(charge.vat().rate(), TaxRate::parse("19").unwrap());
        assert_eq!(order.charge_total(), charge.net());
        let full = order
            .vat_breakdown()
            .iter()
            .find(|v| v.vat().rate() == TaxRate::parse("19").unwrap())
            .unwrap();
        assert_eq!(full.charges_net(), charge.net());
        if mode == PriceMode::TaxExclusive {
            // 19 %: 29.97 + 4.90 = 34.87 → 6.63; 7 %: 31.15 → 2.18.
            assert_eq!(charge.net(), eur("4.90"));
            assert_eq!(order.net_total(), eur("66.02"));
            assert_eq!(order.vat_total(), eur("8.81"));
            assert_eq!(order.total(), eur("74.83"));
        } else {
            // Gross prices: the shown amounts add up to the total.
            assert_eq!(order.total(), eur("66.02"));
        }

        // What checkout returned is what the store reads back.
        let read = store.orders(&ana).get(order.id()).unwrap();
        assert_eq!(read, order);
        check_raw_totals(&s);
    }
}

#[test]
fn shipping_to_a_business_in_another_member_state_follows_the_lines_treatment() {
    // An intra-community supply is invoiced with the seller's VAT id, so checkout needs it.
    let seller = common::seller(Some("DE123456788"));
    let s = common::shop_with(
        common::settings(seller, PriceMode::TaxExclusive)
            .build()
            .unwrap(),
    );
    let store = &s.store;
    let a = product(store, "A", eur("100.00"), TaxCategory::Standard, 10);
    let address = Address::new(
        "Jeanne Achat",
        "1 rue de la Paix",
        "Paris",
        Country::parse("FR").unwrap(),
    )
    .unwrap();
    let new = new_customer("achat@example.com", "Jeanne Achat", address)
        .business(business("Achat SARL", "FR40303265045"));
    let id = register(store, new).customer_id().unwrap();
    let system = store.system();
    store
        .carts(&system)
        .add(CartRef::Customer(id), a, 1)
        .unwrap();
    let order = store
        .orders(&system)
        .checkout(Checkout::from_cart(id, key("b2b")).shipping(dhl("12.00")))
        .unwrap()
        .into_order();
    let ics = VatCategory::IntraCommunitySupply;
    assert_eq!(order.lines()[0].vat().category(), ics);
    assert_eq!(order.charges()[0].vat().category(), ics);
    assert_eq!(order.charges()[0].vat().rate(), TaxRate::ZERO);
    assert_eq!(order.vat_breakdown().len(), 1, "one K group");
    assert_eq!(order.vat_total(), eur("0.00"));
    assert_eq!(order.total(), eur("112.00"));
    assert_eq!(order.buyer().company(), Some("Achat SARL"));
    check_raw_totals(&s);
}

#[test]
fn shipping_in_another_currency_is_refused_and_nothing_is_written() {
    let s = shop(PriceMode::TaxExclusive);
    let store = &s.store;
    let a = product(store, "A", eur("9.99"), TaxCategory::Standard, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(a, 2)]);
    let me = CartRef::Customer(id);
    let chf = Shipping::new(
        "Post CH",
        Money::parse("9.00", Currency::CHF).unwrap(),
        TaxCategory::Standard,
    )
    .unwrap();
    let err = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("k")).shipping(chf.clone()))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CurrencyMismatch);
    let err = store
        .carts(&ana)
        .preview_with_shipping(me, None, None, &chf)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CurrencyMismatch);
    assert_eq!(order_count(store), 0);
    assert_eq!(on_hand(store, a), 10);
    assert_eq!(store.carts(&ana).get(me).unwrap().lines().len(), 1);
    assert_eq!(count(&s.store, "shopkeep_order_charges"), 0);

    // Bad shipping input is refused before anything runs.
    for bad in [
        Shipping::new(" ", eur("1.00"), TaxCategory::Standard),
        Shipping::new("a\nb", eur("1.00"), TaxCategory::Standard),
        Shipping::new("DHL", eur("-1.00"), TaxCategory::Standard),
    ] {
        assert_eq!(
            bad.unwrap_err().kind(),
            ErrorKind::Validation { field: "shipping" }
        );
    }
}

#[test]
fn the_same_key_with_other_shipping_is_a_conflict() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let a = product(store, "A", eur("9.99"), TaxCategory::Standard, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(a, 1)]);
    let first = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")).shipping(dhl("4.90")))
        .unwrap()
        .into_order();
    let again = store
        .orders(&ana)
        .checkout(Checkout::from_cart(id, key("same")).shipping(dhl("4.90")))
        .unwrap()
        .into_order();
    assert_eq!(first, again);
    for other in [
        Checkout::from_cart(id, key("same")),
        Checkout::from_cart(id, key("same")).shipping(dhl("4.91")),
        Checkout::from_cart(id, key("same"))
            .shipping(Shipping::new("DHL Express", eur("4.90"), TaxCategory::Standard).unwrap()),
        Checkout::from_cart(id, key("same"))
            .shipping(Shipping::new("DHL Paket", eur("4.90"), TaxCategory::Reduced).unwrap()),
    ] {
        let err = store.orders(&ana).checkout(other).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdempotencyMismatch);
    }
    assert_eq!(order_count(store), 1);
    assert_eq!(on_hand(store, a), 9);
}

// ---------------------------------------------------------------------------------------------
// Order confirmation

#[test]
fn a_placed_order_renders_its_confirmation() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG-1", eur("12.90"), TaxCategory::Standard, 10);
    let book = product(store, "BOOK-7", eur("24.00"), TaxCategory::Reduced, 10);
    store
        .coupons(&store.system())
        .create(&Coupon::fixed(code("FIVE"), eur("5.00")).unwrap())
        .unwrap();
    let ana = customer(store, "ana@example.com", "DE");
    let id = fill(store, &ana, &[(mug, 3), (book, 1)]);
    let order = store
        .orders(&ana)
        .checkout(
            Checkout::from_cart(id, key("k"))
                .coupon(code("FIVE"))
                .shipping(dhl("4.90")),
        )
        .unwrap()
        .into_order();
    let settings = store.settings(&store.system()).get().unwrap().unwrap();
    let confirmation = Confirmation::for_order(&order, &settings).unwrap();
    assert_eq!(confirmation.order_number(), "000001");
    assert!(!format!("{confirmation:?}").contains("Ana"));

    let text = confirmation.render_text(&Templates::builtin()).unwrap();
    insta::assert_snapshot!("placed_order_confirmation_text", text);
    for part in [
        "Beispiel GmbH",
        "MUG-1",
        "BOOK-7",
        "DHL Paket",
        &order.total().to_string(),
    ] {
        assert!(text.contains(part), "{part} missing from\n{text}");
    }
    let html = confirmation.render_html(&Templates::builtin()).unwrap();
    insta::assert_snapshot!("placed_order_confirmation_html", html);

    // From the order as read back, the same confirmation.
    let read = store.orders(&ana).get(order.id()).unwrap();
    assert_eq!(
        Confirmation::for_order(&read, &settings)
            .unwrap()
            .render_text(&Templates::builtin())
            .unwrap(),
        text
    );
}

#[test]
fn orders_are_found_by_number_and_someone_elses_number_answers_like_a_missing_one() {
    let s = shop(PriceMode::TaxInclusive);
    let store = &s.store;
    let mug = product(store, "MUG", eur("12.90"), TaxCategory::Standard, 50);
    let ana = customer(store, "ana@example.com", "DE");
    let ben = customer(store, "ben@example.com", "DE");
    let first = place(store, &ana, &[(mug, 1)], None);
    let second = place(store, &ben, &[(mug, 2)], None);

    // As printed on the confirmation, leading zeros and all.
    let printed = first.number().to_string();
    assert_eq!(printed, "000001");
    let support = store.system();
    let found = store
        .orders(&support)
        .by_number(printed.parse().unwrap())
        .unwrap();
    assert_eq!(found, first);
    assert_eq!(
        store.orders(&ben).by_number(second.number()).unwrap(),
        second
    );

    // Ana asking for Ben's number gets what a number nobody has gets.
    let theirs = store.orders(&ana).by_number(second.number()).unwrap_err();
    let missing = store
        .orders(&ana)
        .by_number("999999".parse().unwrap())
        .unwrap_err();
    assert_eq!(theirs.kind(), ErrorKind::NotFound);
    assert_eq!(
        (theirs.kind(), theirs.to_string()),
        (missing.kind(), missing.to_string())
    );
    let staff_missing = store
        .orders(&support)
        .by_number("999999".parse().unwrap())
        .unwrap_err();
    assert_eq!(staff_missing.kind(), ErrorKind::NotFound);
    // The anonymous visitor finds nothing either.
    let anonymous = store
        .orders(&Principal::anonymous())
        .by_number(first.number())
        .unwrap_err();
    assert_eq!(anonymous.to_string(), missing.to_string());
}
