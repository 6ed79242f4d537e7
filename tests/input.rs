//! Input hardening: what a hostile or careless client sends is refused or normalised before it
//! reaches a row, a blind index or a document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{PASSWORD, address, shop};
use shopkeep::catalog::{NewProduct, Sku, TaxCategory};
use shopkeep::crypto::Password;
use shopkeep::customers::{Address, BusinessDetails, Country, NewCustomer};
use shopkeep::orders::{PriceMode, Shipment, Shipping};
use shopkeep::{Currency, Email, ErrorKind, Money};

/// Display spoofing: bidi overrides, isolates and zero-width characters are refused in every
/// kind of free text that ends up on an order or an invoice.
#[test]
fn bidi_controls_and_zero_width_characters_are_refused_in_free_text() {
    let s = shop(PriceMode::TaxExclusive);
    let de = Country::parse("DE").unwrap();
    let email = || Email::parse("ana@example.com").unwrap();
    for spoof in [
        "Ana\u{202E}gpj.exe",
        "Ana\u{2067}Lima\u{2069}",
        "An\u{200B}a",
    ] {
        let refusals = [
            NewCustomer::new(email(), Password::new(PASSWORD), spoof).map(drop),
            Address::new(spoof, "Rue 1", "Paris", de).map(drop),
            Address::new("Ana", spoof, "Paris", de).map(drop),
            Address::new("Ana", "Rue 1", spoof, de).map(drop),
            address("DE").with_line2(spoof).map(drop),
            BusinessDetails::new(spoof).map(drop),
            NewProduct::new(Sku::parse("MUG-1").unwrap(), spoof, TaxCategory::Standard).map(drop),
            NewProduct::new(Sku::parse("MUG-1").unwrap(), "Mug", TaxCategory::Standard)
                .and_then(|p| {
                    s.store
                        .products(&s.store.system())
                        .create(p.description(spoof))
                })
                .map(drop),
            Shipment::new().carrier(spoof).map(drop),
            Shipment::new().tracking(spoof).map(drop),
            Shipping::new(
                spoof,
                Money::parse("4.90", Currency::EUR).unwrap(),
                TaxCategory::Standard,
            )
            .map(drop),
        ];
        for (i, refusal) in refusals.into_iter().enumerate() {
            let err = refusal.expect_err(&format!("constructor {i} accepted {spoof:?}"));
            assert!(
                matches!(err.kind(), ErrorKind::Validation { .. }),
                "constructor {i}: {err}"
            );
        }
    }
    // A joiner that Persian needs inside a word is kept.
    let persian = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}";
    s.store
        .customers(&shopkeep::Principal::anonymous())
        .register(
            NewCustomer::new(email(), Password::new(PASSWORD), persian)
                .unwrap()
                .shipping_address(address("DE")),
        )
        .unwrap();
}

/// One mailbox, one account: a Unicode domain and its punycode form, or a local part in NFC
/// and in NFD, are the same email to registration and to login.
#[test]
fn one_mailbox_registers_once_whatever_its_spelling() {
    let s = shop(PriceMode::TaxExclusive);
    let anonymous = shopkeep::Principal::anonymous();
    let register = |email: &str| {
        s.store.customers(&anonymous).register(
            NewCustomer::new(Email::parse(email).unwrap(), Password::new(PASSWORD), "Ana").unwrap(),
        )
    };
    for (first, second) in [
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
        ("jos\u{e9}@example.com", "jose\u{301}@example.com"),
        (
            "Zo\u{eb}@Caf\u{e9}.example",
            "zoe\u{308}@cafe\u{301}.example",
        ),
    ] {
        let made = register(first).unwrap();
        let err = register(second).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{second:?}");
        let login = s
            .store
            .login(&Email::parse(second).unwrap(), &Password::new(PASSWORD))
            .unwrap();
        assert_eq!(login.principal().customer_id(), Some(made.id()));
        let found = s
            .store
            .customers(&s.store.system())
            .find_by_email(&Email::parse(second).unwrap())
            .unwrap();
        assert_eq!(found.id(), made.id());
    }
}

/// Asking registration again and again whether an email has an account is throttled like
/// guessing its password, and the wait is the email's, not everyone's.
#[test]
fn registering_an_existing_email_again_and_again_is_throttled() {
    let s = shop(PriceMode::TaxExclusive);
    let anonymous = shopkeep::Principal::anonymous();
    let register = |email: &str| {
        s.store.customers(&anonymous).register(
            NewCustomer::new(Email::parse(email).unwrap(), Password::new(PASSWORD), "Ana").unwrap(),
        )
    };
    register("ana@example.com").unwrap();
    let mut conflicts = 0;
    let throttled = loop {
        match register("ANA@example.com") {
            Err(e) if e.kind() == ErrorKind::AlreadyExists && conflicts < 10 => conflicts += 1,
            other => break other.map(drop).unwrap_err(),
        }
    };
    assert_eq!(throttled.kind(), ErrorKind::TooManyAttempts, "{throttled}");
    // The wait is structured detail, for a host's Retry-After, not only text in the message.
    let wait = throttled.retry_after().unwrap();
    assert!(
        wait > std::time::Duration::ZERO && wait <= std::time::Duration::from_secs(31),
        "{wait:?}"
    );
    // The default throttle: 5 free failures.
    assert_eq!(conflicts, 5);
    // The probed email's logins wait too; other emails register as usual.
    let login = s
        .store
        .login(
            &Email::parse("ana@example.com").unwrap(),
            &Password::new(PASSWORD),
        )
        .unwrap_err();
    assert_eq!(login.kind(), ErrorKind::TooManyAttempts);
    register("bob@example.com").unwrap();
    // After the wait the answer is the same conflict as before.
    s.clock.advance(std::time::Duration::from_secs(31));
    assert_eq!(
        register("ana@example.com").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(common::count(&s.store, "shopkeep_customers"), 2);
}

/// Idempotency without a digest: checkout empties the cart, so a replay of a used key finds it
/// empty; a cart that holds lines again is a different request, refused instead of answered
/// with the first order (which would leave the new lines unbought).
#[test]
fn a_used_key_with_a_refilled_cart_is_a_conflict_not_the_first_order() {
    let s = shop(PriceMode::TaxExclusive);
    let mug = common::product(
        &s.store,
        "MUG-1",
        common::eur("10.00"),
        TaxCategory::Standard,
        9,
    );
    let cup = common::product(
        &s.store,
        "CUP-1",
        common::eur("4.00"),
        TaxCategory::Standard,
        9,
    );
    let ana = common::customer(&s.store, "ana@example.com", "DE");
    let id = common::fill(&s.store, &ana, &[(mug, 1)]);
    let orders = s.store.orders(&ana);
    let first = orders
        .checkout(shopkeep::orders::Checkout::from_cart(id, common::key("k1")))
        .unwrap()
        .into_order();
    // An honest retry (the response was lost) gets the first order.
    let retry = orders
        .checkout(shopkeep::orders::Checkout::from_cart(id, common::key("k1")))
        .unwrap()
        .into_order();
    assert_eq!(retry.id(), first.id());
    common::fill(&s.store, &ana, &[(cup, 2)]);
    let err = orders
        .checkout(shopkeep::orders::Checkout::from_cart(id, common::key("k1")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IdempotencyMismatch, "{err}");
    assert_eq!(common::on_hand(&s.store, cup), 9);
    let cart = s
        .store
        .carts(&ana)
        .get(shopkeep::orders::CartRef::Customer(id))
        .unwrap();
    assert_eq!(cart.lines().len(), 1);
    let second = orders
        .checkout(shopkeep::orders::Checkout::from_cart(id, common::key("k2")))
        .unwrap()
        .into_order();
    assert_ne!(second.id(), first.id());
    assert_eq!(common::on_hand(&s.store, cup), 7);
}

/// Idempotency with a digest of what the client priced: the key is bound to that cart.
#[test]
fn a_checkout_carrying_the_cart_digest_buys_that_cart_or_conflicts() {
    let s = shop(PriceMode::TaxExclusive);
    let mug = common::product(
        &s.store,
        "MUG-1",
        common::eur("10.00"),
        TaxCategory::Standard,
        9,
    );
    let cup = common::product(
        &s.store,
        "CUP-1",
        common::eur("4.00"),
        TaxCategory::Standard,
        9,
    );
    let ana = common::customer(&s.store, "ana@example.com", "DE");
    let id = common::fill(&s.store, &ana, &[(mug, 1)]);
    let carts = s.store.carts(&ana);
    let shown = carts
        .get(shopkeep::orders::CartRef::Customer(id))
        .unwrap()
        .digest();
    // The digest travels through the client as text.
    let shown = shopkeep::orders::CartDigest::parse(&shown.to_string()).unwrap();
    let orders = s.store.orders(&ana);
    let checkout = |key: &str, digest| {
        orders.checkout(
            shopkeep::orders::Checkout::from_cart(id, common::key(key)).cart_digest(digest),
        )
    };
    let first = checkout("k1", shown).unwrap();
    assert!(!first.is_replay());
    let first = first.into_order();
    let again = checkout("k1", shown).unwrap();
    assert!(again.is_replay());
    assert_eq!(again.order().id(), first.id());

    // The cart changes; the same key with the new cart's digest is a conflict.
    common::fill(&s.store, &ana, &[(cup, 2)]);
    let refilled = carts
        .get(shopkeep::orders::CartRef::Customer(id))
        .unwrap()
        .digest();
    assert_ne!(refilled, shown);
    let err = checkout("k1", refilled).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IdempotencyMismatch, "{err}");
    // The identical request is still answered with the first order.
    assert_eq!(checkout("k1", shown).unwrap().order().id(), first.id());
    // A new key with a stale digest buys nothing: the cart is not what the customer saw.
    let err = checkout("k2", shown).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(common::on_hand(&s.store, cup), 9);
    let second = checkout("k2", refilled).unwrap().into_order();
    assert_eq!(second.lines().len(), 1);
    assert_eq!(common::on_hand(&s.store, cup), 7);
    // Lines added in another order digest alike.
    let mut reordered = vec![(cup, 1), (mug, 3)];
    common::fill(&s.store, &ana, &reordered);
    let a = carts
        .get(shopkeep::orders::CartRef::Customer(id))
        .unwrap()
        .digest();
    carts
        .remove(shopkeep::orders::CartRef::Customer(id), cup)
        .unwrap();
    carts
        .remove(shopkeep::orders::CartRef::Customer(id), mug)
        .unwrap();
    reordered.reverse();
    common::fill(&s.store, &ana, &reordered);
    let b = carts
        .get(shopkeep::orders::CartRef::Customer(id))
        .unwrap()
        .digest();
    assert_eq!(a, b);
}
