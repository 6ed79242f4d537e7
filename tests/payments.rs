//! Payment gateways: Stripe's webhook signatures (pinned vectors and properties), event
//! parsing, processing each event exactly once (also from two stores on one file at once),
//! amount checks, the refund queue and its allocation (credit notes still net), disputes, the
//! reconciliation report, and who may do what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;
use common::{count, count_where, dump};
use proptest::prelude::*;
use serde_json::json;
use shopkeep::access::Role;
use shopkeep::catalog::{TaxCategory, VariantId};
use shopkeep::clock::Timestamp;
use shopkeep::integrations::payments::{
    DisputeStatus, GatewayEvent, GatewayEventKind, GatewayScheme, Outcome, Reconciled, Refusal,
    SignatureError, Stripe, StripeSecret,
};
use shopkeep::orders::{Order, OrderStatus, PriceMode, Refund};
use shopkeep::{Currency, ErrorKind, Money, Principal, Store};

const SECRET: &str = "whsec_test_secret";

fn stripe() -> Stripe {
    Stripe::new(StripeSecret::new(SECRET).unwrap())
}

/// 2026-11-28T09:00:00Z, the tests' clock, in Unix seconds.
const T: i64 = 1_795_856_400;

fn seconds(unix: i64) -> Timestamp {
    Timestamp::from_unix_millis(unix * 1000).unwrap()
}

// The vectors below were computed outside shopkeep, with Python's `hmac` module, by the
// algorithm Stripe documents ("Verify the signature manually"): HMAC-SHA256 keyed with the
// endpoint secret's UTF-8 bytes (`whsec_` included), over `<t>` + "." + the raw body,
// hex-encoded:
//   hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
const VECTORS: &[(&str, &str, &str)] = &[
    (
        "whsec_test_secret",
        r#"{"id":"evt_1","type":"customer.created","data":{"object":{}}}"#,
        "04f9b53eb8312d41cb9041f87ee01015746e96f266d26ed555e58207b2a834a5",
    ),
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        r#"{"id":"evt_3PpbAx2eZvKYlo2C1","object":"event","type":"payment_intent.succeeded"}"#,
        "17ddbe7708d3ece8a206326f76a040b932f2e9194d458800ae697e2d4564b95e",
    ),
];

#[test]
fn stripe_signatures_match_the_pinned_vectors() {
    for &(secret, body, hex) in VECTORS {
        let scheme = Stripe::new(StripeSecret::new(secret).unwrap());
        let header = format!("t={T},v1={hex}");
        scheme.verify(&header, body.as_bytes(), seconds(T)).unwrap();
        assert_eq!(scheme.signature_header(body.as_bytes(), seconds(T)), header);
        // Upper-case hex is hex too; a v0 entry and unknown entries are skipped.
        let loud = format!("t={T}, v0=00, v1={}, x=y", hex.to_uppercase());
        scheme.verify(&loud, body.as_bytes(), seconds(T)).unwrap();
    }
}

#[test]
fn any_v1_entry_may_match_while_a_secret_rolls() {
    let (_, body, hex) = VECTORS[0];
    let wrong = "0".repeat(64);
    let header = format!("t={T},v1={wrong},v1={hex}");
    stripe()
        .verify(&header, body.as_bytes(), seconds(T))
        .unwrap();
    let header = format!("t={T},v1={wrong},v1=nothex");
    assert_eq!(
        stripe().verify(&header, body.as_bytes(), seconds(T)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn malformed_headers_missing_signatures_and_the_tolerance_are_typed() {
    let (_, body, hex) = VECTORS[0];
    let body = body.as_bytes();
    let verify = |header: &str, now: i64| stripe().verify(header, body, seconds(now));
    assert_eq!(verify("", T), Err(SignatureError::Malformed));
    assert_eq!(
        verify(&format!("v1={hex}"), T),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify(&format!("t=abc,v1={hex}"), T),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify(&format!("t={T},t={T},v1={hex}"), T),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify(&format!("t={T},v0={hex}"), T),
        Err(SignatureError::NoSignature)
    );
    let header = format!("t={T},v1={hex}");
    assert_eq!(verify(&header, T + 300), Ok(()));
    assert_eq!(verify(&header, T - 300), Ok(()));
    assert_eq!(
        verify(&header, T + 301),
        Err(SignatureError::OutsideTolerance)
    );
    assert_eq!(
        verify(&header, T - 301),
        Err(SignatureError::OutsideTolerance)
    );
    let strict = stripe().tolerance(Duration::from_secs(10));
    assert_eq!(
        strict.verify(&header, body, seconds(T + 11)),
        Err(SignatureError::OutsideTolerance)
    );
    // As a crate error: `Unauthenticated`, the typed error as its source.
    let err = stripe()
        .verify_and_parse(&header, body, seconds(T + 301))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(
        source.downcast_ref::<SignatureError>(),
        Some(&SignatureError::OutsideTolerance)
    );
    // Another secret's signature is a mismatch; a secret must look like one.
    let other = Stripe::new(StripeSecret::new("whsec_other").unwrap());
    assert_eq!(
        other.verify(&header, body, seconds(T)),
        Err(SignatureError::Mismatch)
    );
    assert!(StripeSecret::new("sk_live_123").is_err());
    assert!(StripeSecret::new("whsec_").is_err());
    assert_eq!(
        format!("{:?}", stripe()),
        "Stripe { secret: StripeSecret(..), tolerance: 300s }"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_flipped_byte_of_the_body_fails(
        body in proptest::collection::vec(any::<u8>(), 1..300),
        index in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let header = stripe().signature_header(&body, seconds(T));
        prop_assert_eq!(stripe().verify(&header, &body, seconds(T)), Ok(()));
        let mut flipped = body.clone();
        flipped[index.index(body.len())] ^= mask;
        prop_assert_eq!(
            stripe().verify(&header, &flipped, seconds(T)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_changed_signature_digit_fails(
        body in proptest::collection::vec(any::<u8>(), 0..100),
        index in 0usize..64,
        digit in 0u8..16,
    ) {
        let header = stripe().signature_header(&body, seconds(T));
        let (head, hex) = header.split_once(",v1=").unwrap();
        let mut hex: Vec<char> = hex.chars().collect();
        let new = char::from_digit(u32::from(digit), 16).unwrap();
        prop_assume!(hex[index] != new);
        hex[index] = new;
        let changed = format!("{head},v1={}", hex.into_iter().collect::<String>());
        prop_assert_eq!(
            stripe().verify(&changed, &body, seconds(T)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signatures_older_than_the_tolerance_fail(
        body in proptest::collection::vec(any::<u8>(), 0..100),
        age in 301i64..100_000_000,
    ) {
        // A genuine signature, replayed later: refused for its age alone.
        let header = stripe().signature_header(&body, seconds(T - age));
        prop_assert_eq!(
            stripe().verify(&header, &body, seconds(T)),
            Err(SignatureError::OutsideTolerance)
        );
        prop_assert_eq!(stripe().verify(&header, &body, seconds(T - age)), Ok(()));
    }
}

// --- Stripe events --------------------------------------------------------------------------

fn metadata(order: Option<&Order>) -> serde_json::Value {
    match order {
        Some(o) => json!({ "shopkeep_order_id": o.id().to_string() }),
        None => json!({}),
    }
}

fn cents(money: Money) -> i64 {
    money.minor()
}

fn intent_succeeded(event: &str, pi: &str, amount: i64, order: Option<&Order>) -> Vec<u8> {
    json!({
        "id": event, "object": "event", "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount,
            "currency": "eur", "metadata": metadata(order), "latest_charge": "ch_1"
        }}
    })
    .to_string()
    .into_bytes()
}

fn charge(
    event: &str,
    kind: &str,
    pi: &str,
    amount: i64,
    refunded: i64,
    captured: bool,
) -> Vec<u8> {
    json!({
        "id": event, "object": "event", "type": kind,
        "data": { "object": {
            "id": format!("ch_{pi}"), "object": "charge", "amount": amount,
            "amount_captured": if captured { amount } else { 0 }, "captured": captured,
            "amount_refunded": refunded, "currency": "eur", "payment_intent": pi, "metadata": {}
        }}
    })
    .to_string()
    .into_bytes()
}

fn dispute(event: &str, kind: &str, pi: &str, amount: i64, status: &str) -> Vec<u8> {
    json!({
        "id": event, "object": "event", "type": kind,
        "data": { "object": {
            "id": "dp_1", "object": "dispute", "amount": amount, "currency": "eur",
            "charge": format!("ch_{pi}"), "payment_intent": pi, "status": status, "metadata": {}
        }}
    })
    .to_string()
    .into_bytes()
}

/// What the host's webhook handler does: verify the signature Stripe sent, parse.
fn received(store: &Store, body: &[u8]) -> GatewayEvent {
    let header = stripe().signature_header(body, store.now());
    stripe()
        .verify_and_parse(&header, body, store.now())
        .unwrap()
}

fn process(store: &Store, body: &[u8]) -> (Outcome, bool) {
    let event = received(store, body);
    let done = store.payments(&store.system()).process(&event).unwrap();
    (done.outcome().clone(), done.replayed())
}

#[test]
fn stripe_events_are_read_into_gateway_events() {
    let order = shopkeep::orders::OrderId::parse("0190e6a4-7c1a-7000-8000-000000000001").unwrap();
    let body = json!({
        "id": "evt_9", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_9", "amount": 2580, "amount_received": 2580,
            "currency": "eur", "metadata": { "shopkeep_order_id": order.to_string() } } }
    })
    .to_string();
    let event = stripe().parse(body.as_bytes()).unwrap();
    assert_eq!(event.id(), "evt_9");
    assert_eq!(event.gateway().as_str(), "stripe");
    let GatewayEventKind::Succeeded(paid) = event.kind() else {
        panic!("{event:?}")
    };
    assert_eq!(paid.reference(), "pi_9");
    assert_eq!(paid.order_id(), Some(order));
    assert_eq!(paid.amount(), Money::new(2580, Currency::EUR));

    // A charge only authorised is no payment yet.
    let body = charge("evt_a", "charge.succeeded", "pi_9", 2580, 0, false);
    assert!(matches!(
        stripe().parse(&body).unwrap().kind(),
        GatewayEventKind::Ignored { .. }
    ));
    let body = charge("evt_b", "charge.refunded", "pi_9", 2580, 1290, true);
    let GatewayEventKind::Refunded(refund) = stripe().parse(&body).unwrap().kind().clone() else {
        panic!()
    };
    assert_eq!(
        (refund.payment(), refund.refunded_total().minor()),
        ("pi_9", 1290)
    );
    let body = dispute("evt_c", "charge.dispute.closed", "pi_9", 2580, "lost");
    let GatewayEventKind::DisputeClosed(d) = stripe().parse(&body).unwrap().kind().clone() else {
        panic!()
    };
    assert_eq!((d.reference(), d.status()), ("dp_1", DisputeStatus::Lost));
    let body = br#"{"id":"evt_d","type":"invoice.paid","data":{"object":{}}}"#;
    assert_eq!(
        stripe().parse(body).unwrap().kind(),
        &GatewayEventKind::ignored("invoice.paid").unwrap()
    );

    // Bad bodies: typed validation errors.
    for bad in [
        &b"not json"[..],
        br#"{"type":"invoice.paid","data":{"object":{}}}"#,
        br#"{"id":"evt_e","type":"payment_intent.succeeded","data":{"object":{"id":"pi"}}}"#,
        br#"{"id":"evt_f","type":"payment_intent.succeeded","data":{"object":{"id":"pi","amount":-5,"currency":"eur"}}}"#,
        br#"{"id":"evt_g","type":"payment_intent.succeeded","data":{"object":{"id":"pi","amount":5,"currency":"xxx"}}}"#,
        br#"{"id":"evt_h","type":"payment_intent.succeeded","data":{"object":{"id":"pi","amount":5,"currency":"eur","metadata":{"shopkeep_order_id":"nope"}}}}"#,
        br#"{"id":"","type":"invoice.paid","data":{"object":{}}}"#,
    ] {
        let err = stripe().parse(bad).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Validation { .. }),
            "{}: {err}",
            String::from_utf8_lossy(bad)
        );
    }
}

// --- Processing -----------------------------------------------------------------------------

/// A shop selling mugs at 12.90 (tax-inclusive, 19 %).
fn mug_shop() -> (Shop, VariantId) {
    let s = shop(PriceMode::TaxInclusive);
    let mug = product(&s.store, "MUG", eur("12.90"), TaxCategory::Standard, 1000);
    (s, mug)
}

fn paid_events(s: &Shop) -> i64 {
    count_where(&s.store, "shopkeep_outbox", "type = 'order.paid'")
}

#[test]
fn a_payment_event_marks_the_order_paid_exactly_once() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 2)], None);
    let total = cents(order.total());
    let body = intent_succeeded("evt_pay", "pi_1", total, Some(&order));

    let (first, replayed) = process(&s.store, &body);
    assert_eq!(first, Outcome::Paid(order.id()));
    assert!(!replayed);
    let system = s.store.system();
    let orders = s.store.orders(&system);
    assert_eq!(orders.get(order.id()).unwrap().status(), OrderStatus::Paid);
    let payment = orders.payment(order.id()).unwrap().unwrap();
    assert_eq!(
        (payment.reference(), payment.amount()),
        ("pi_1", order.total())
    );

    // Redelivered: the first outcome, and nothing written at all.
    let tables = [
        "shopkeep_orders",
        "shopkeep_order_payments",
        "shopkeep_outbox",
        "shopkeep_audit",
        "shopkeep_gateway_events",
        "shopkeep_gateway_payments",
    ];
    let before = dump(&s.store, &tables);
    for _ in 0..3 {
        assert_eq!(process(&s.store, &body), (first.clone(), true));
    }
    assert_eq!(dump(&s.store, &tables), before);
    assert_eq!(paid_events(&s), 1);

    // The same payment reported again by another event (Stripe's charge.succeeded): the
    // order is already paid by it; recorded, nothing changes.
    let body = charge("evt_charge", "charge.succeeded", "pi_1", total, 0, true);
    assert_eq!(process(&s.store, &body).0, Outcome::AlreadyPaid(order.id()));
    assert_eq!(paid_events(&s), 1);
    assert_eq!(count(&s.store, "shopkeep_gateway_events"), 2);
    assert_eq!(count(&s.store, "shopkeep_gateway_payments"), 1);
    // An ignored event is recorded as processed too.
    let body = br#"{"id":"evt_other","type":"customer.created","data":{"object":{}}}"#;
    assert_eq!(process(&s.store, body), (Outcome::Ignored, false));
    assert_eq!(process(&s.store, body), (Outcome::Ignored, true));
}

#[test]
fn two_stores_on_one_file_processing_one_event_have_one_effect() {
    for round in 0..4 {
        let (s, mug) = mug_shop();
        let ana = customer(&s.store, "ana@example.com", "DE");
        let order = place(&s.store, &ana, &[(mug, 1)], None);
        let body = intent_succeeded("evt_race", "pi_race", cents(order.total()), Some(&order));
        // The store's file, or the schema standing in for it (see `common::open`).
        let path = s._dir.path().join("shop.db");
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, clock, body, barrier) = (
                    path.clone(),
                    s.clock.clone(),
                    body.clone(),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    // Two processes' worth: each thread its own store on the file.
                    let store = open(&path, &clock);
                    let event = received(&store, &body);
                    barrier.wait();
                    let done = store.payments(&store.system()).process(&event).unwrap();
                    (done.outcome().clone(), done.replayed())
                })
            })
            .collect();
        let results: Vec<(Outcome, bool)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            results.iter().all(|(o, _)| *o == Outcome::Paid(order.id())),
            "round {round}: {results:?}"
        );
        assert_eq!(
            results.iter().filter(|(_, replayed)| !replayed).count(),
            1,
            "round {round}: exactly one delivery had the effect"
        );
        assert_eq!(paid_events(&s), 1);
        assert_eq!(count(&s.store, "shopkeep_gateway_events"), 1);
        assert_eq!(count(&s.store, "shopkeep_order_payments"), 1);
    }
}

#[test]
fn an_amount_or_currency_mismatch_is_refused_recorded_and_changes_no_order() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 2)], None);
    let order_tables = [
        "shopkeep_orders",
        "shopkeep_order_payments",
        "shopkeep_refunds",
    ];
    let before = dump(&s.store, &order_tables);

    let short = cents(order.total()) - 1;
    let body = intent_succeeded("evt_short", "pi_short", short, Some(&order));
    let (outcome, _) = process(&s.store, &body);
    assert_eq!(
        outcome,
        Outcome::Refused {
            order: Some(order.id()),
            reason: Refusal::AmountMismatch {
                order_total: order.total(),
                reported: Money::new(short, Currency::EUR),
            },
        }
    );
    // Same amount, another currency.
    let chf = json!({
        "id": "evt_chf", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_chf", "amount": cents(order.total()), "currency": "chf",
            "metadata": { "shopkeep_order_id": order.id().to_string() } } }
    })
    .to_string();
    let (outcome, _) = process(&s.store, chf.as_bytes());
    assert!(matches!(
        outcome,
        Outcome::Refused { reason: Refusal::AmountMismatch { reported, .. }, .. }
            if reported.currency() == Currency::CHF
    ));

    assert_eq!(
        dump(&s.store, &order_tables),
        before,
        "the order is untouched"
    );
    assert_eq!(paid_events(&s), 0);
    // Recorded for staff: an outbox event each, and the replay answers the same.
    assert_eq!(
        count_where(&s.store, "shopkeep_outbox", "type = 'payment.refused'"),
        2
    );
    let (again, replayed) = process(&s.store, &body);
    assert!(replayed);
    assert!(matches!(
        again,
        Outcome::Refused {
            reason: Refusal::AmountMismatch { .. },
            ..
        }
    ));
    // The right amount still pays it.
    let body = intent_succeeded("evt_ok", "pi_ok", cents(order.total()), Some(&order));
    assert_eq!(process(&s.store, &body).0, Outcome::Paid(order.id()));
    // A second, different payment of a paid order: refused as not payable (a double payment).
    let body = intent_succeeded("evt_twice", "pi_twice", cents(order.total()), Some(&order));
    assert_eq!(
        process(&s.store, &body).0,
        Outcome::Refused {
            order: Some(order.id()),
            reason: Refusal::NotPayable {
                status: OrderStatus::Paid
            },
        }
    );
}

/// Pays `order` through a Stripe event under `pi`.
fn pay_by_event(store: &Store, order: &Order, pi: &str) {
    let body = intent_succeeded(&format!("evt_{pi}"), pi, cents(order.total()), Some(order));
    assert_eq!(process(store, &body).0, Outcome::Paid(order.id()));
}

#[test]
fn a_gateway_refund_is_queued_then_allocated_to_lines_and_the_credit_notes_net() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 2)], None);
    pay_by_event(&s.store, &order, "pi_r");
    let system = s.store.system();
    let invoice = s.store.invoices(&system).issue(order.id()).unwrap();
    let accountant = staff(&s.store, "books@example.com", Role::Accountant);
    let payments = s.store.payments(&accountant);

    // The gateway refunded one mug's price: an amount, no lines.
    let one = eur("12.90");
    let body = charge(
        "evt_r1",
        "charge.refunded",
        "pi_r",
        cents(order.total()),
        cents(one),
        true,
    );
    let (outcome, _) = process(&s.store, &body);
    let Outcome::RefundQueued {
        order: id,
        queued,
        amount,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((id, amount), (order.id(), one));
    assert_eq!(
        count(&s.store, "shopkeep_refunds"),
        0,
        "nothing refunded by guesswork"
    );
    let queue = payments.refund_queue(None, 10).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].id(), queue[0].amount(), queue[0].refund()),
        (queued, one, None)
    );

    // Allocating lines that come to another amount is refused, and writes nothing.
    let tables = [
        "shopkeep_refunds",
        "shopkeep_invoices",
        "shopkeep_gateway_refunds",
    ];
    let before = dump(&s.store, &tables);
    let err = payments
        .allocate_refund(queued, Refund::lines([(0, 2)]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "amount" });
    assert_eq!(dump(&s.store, &tables), before);

    let first = payments
        .allocate_refund(queued, Refund::lines([(0, 1)]))
        .unwrap();
    assert_eq!(first.gross_total(), one);
    assert_eq!(
        payments.queued_refund(queued).unwrap().refund(),
        Some(first.id())
    );
    assert!(payments.refund_queue(None, 10).unwrap().is_empty());
    let err = payments
        .allocate_refund(queued, Refund::full())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);

    // Then the rest, reported as Stripe does: the running total. A late, smaller total
    // (delivered out of order) adds nothing.
    let body = charge(
        "evt_r2",
        "charge.refunded",
        "pi_r",
        cents(order.total()),
        cents(order.total()),
        true,
    );
    let Outcome::RefundQueued {
        queued: rest,
        amount,
        ..
    } = process(&s.store, &body).0
    else {
        panic!()
    };
    assert_eq!(amount, order.total().checked_sub(one).unwrap());
    let late = charge(
        "evt_r0",
        "charge.refunded",
        "pi_r",
        cents(order.total()),
        cents(one),
        true,
    );
    assert_eq!(
        process(&s.store, &late).0,
        Outcome::RefundUnchanged(order.id())
    );
    let second = payments.allocate_refund(rest, Refund::full()).unwrap();
    assert_eq!(second.gross_total(), amount);

    // The credit notes net the invoice exactly: net, VAT and gross.
    let docs = s.store.invoices(&system).for_order(order.id()).unwrap();
    assert_eq!(docs.len(), 3);
    let totals = |i: usize| docs[i].document().totals();
    for part in [
        |t: &shopkeep::orders::Totals| t.net_total(),
        |t: &shopkeep::orders::Totals| t.vat_total(),
        |t: &shopkeep::orders::Totals| t.gross_total(),
    ] {
        let credited = part(totals(1)).checked_add(part(totals(2))).unwrap();
        assert_eq!(credited, part(invoice.document().totals()));
    }
    assert_eq!(
        count_where(
            &s.store,
            "shopkeep_outbox",
            "type = 'payment.refund_settled'"
        ),
        2
    );
}

#[test]
fn a_refund_made_in_shopkeep_first_is_linked_not_made_twice() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 3)], None);
    pay_by_event(&s.store, &order, "pi_l");
    let system = s.store.system();
    let orders = s.store.orders(&system);
    let refund = orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
    let reported = |event: &str, total: Money| {
        let body = charge(
            event,
            "charge.refunded",
            "pi_l",
            cents(order.total()),
            cents(total),
            true,
        );
        match process(&s.store, &body).0 {
            Outcome::RefundQueued { queued, .. } => queued,
            other => panic!("{other:?}"),
        }
    };
    let one = refund.gross_total();
    let queued = reported("evt_l1", one);
    let payments = s.store.payments(&system);
    let linked = payments.link_refund(queued, refund.id()).unwrap();
    assert_eq!(linked.refund(), Some(refund.id()));
    assert!(linked.settled_at().is_some());
    assert_eq!(count(&s.store, "shopkeep_refunds"), 1, "no second refund");

    // The next gateway refund is of the same amount, but a refund settles one entry only.
    let next = reported("evt_l2", one.checked_add(one).unwrap());
    let err = payments.link_refund(next, refund.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    // And a refund of another amount does not settle it.
    let two = orders.refund(order.id(), Refund::lines([(0, 2)])).unwrap();
    let err = payments.link_refund(next, two.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "amount" });
    assert_eq!(payments.queued_refund(next).unwrap().refund(), None);
}

#[test]
fn disputes_are_recorded_on_the_order_opened_then_closed() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 1)], None);
    pay_by_event(&s.store, &order, "pi_d");
    let total = cents(order.total());
    let opened = dispute(
        "evt_d1",
        "charge.dispute.created",
        "pi_d",
        total,
        "needs_response",
    );
    assert_eq!(
        process(&s.store, &opened).0,
        Outcome::Dispute {
            order: order.id(),
            status: DisputeStatus::Open
        }
    );
    let manager = staff(&s.store, "manager@example.com", Role::Manager);
    let records = s.store.payments(&manager).disputes(order.id()).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (
            records[0].reference(),
            records[0].status(),
            records[0].amount()
        ),
        ("dp_1", DisputeStatus::Open, order.total())
    );
    assert_eq!(records[0].closed_at(), None);

    s.clock.advance(Duration::from_secs(3600));
    let closed = dispute("evt_d2", "charge.dispute.closed", "pi_d", total, "lost");
    process(&s.store, &closed);
    // A redelivered opening changes nothing, and a late one does not reopen it either.
    assert!(process(&s.store, &opened).1);
    let late = dispute(
        "evt_d0",
        "charge.dispute.created",
        "pi_d",
        total,
        "needs_response",
    );
    process(&s.store, &late);
    let records = s.store.payments(&manager).disputes(order.id()).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status(), DisputeStatus::Lost);
    assert_eq!(records[0].closed_at(), Some(s.store.now()));
    for kind in ["payment.dispute_opened", "payment.dispute_closed"] {
        assert!(count_where(&s.store, "shopkeep_outbox", &format!("type = '{kind}'")) >= 1);
    }
}

#[test]
fn the_reconciliation_of_a_small_shop() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let system = s.store.system();
    let start = s.store.now();
    let minute = || s.clock.advance(Duration::from_secs(60));
    let orders: Vec<Order> = (0..5)
        .map(|_| place(&s.store, &ana, &[(mug, 1)], None))
        .collect();
    let [a, b, d, e, f] = [&orders[0], &orders[1], &orders[2], &orders[3], &orders[4]];
    s.store
        .orders(&system)
        .cancel(e.id(), "changed my mind")
        .unwrap();

    // a: paid through the gateway, in full.
    minute();
    pay_by_event(&s.store, a, "pi_a");
    // b: the gateway took a cent more than the order's total.
    minute();
    let over = cents(b.total()) + 1;
    process(&s.store, &intent_succeeded("evt_b", "pi_b", over, Some(b)));
    // x: a payment that names no order.
    minute();
    process(&s.store, &intent_succeeded("evt_x", "pi_x", 999, None));
    // e: paid after it was cancelled.
    minute();
    process(
        &s.store,
        &intent_succeeded("evt_e", "pi_e", cents(e.total()), Some(e)),
    );
    // d: marked paid by hand (cash), no gateway payment.
    minute();
    pay_as(&s.store, d, "cash_d");
    let end = s.store.now().checked_add(Duration::from_secs(1)).unwrap();
    // f: paid after the period.
    s.clock.advance(Duration::from_secs(3600));
    pay_by_event(&s.store, f, "pi_f");

    let accountant = staff(&s.store, "books@example.com", Role::Accountant);
    let report = s.store.payments(&accountant).reconcile(start, end).unwrap();
    let got: Vec<_> = report
        .lines()
        .iter()
        .map(|l| {
            (
                l.status(),
                l.reference().to_owned(),
                l.order(),
                l.reported(),
                l.recorded(),
            )
        })
        .collect();
    let want = vec![
        (
            Reconciled::Matched,
            "pi_a".to_owned(),
            Some(a.id()),
            Some(a.total()),
            Some(a.total()),
        ),
        (
            Reconciled::AmountMismatch,
            "pi_b".to_owned(),
            Some(b.id()),
            Some(Money::new(over, Currency::EUR)),
            Some(b.total()),
        ),
        (
            Reconciled::WithoutOrder,
            "pi_x".to_owned(),
            None,
            Some(eur("9.99")),
            None,
        ),
        (
            Reconciled::NotApplied,
            "pi_e".to_owned(),
            Some(e.id()),
            Some(e.total()),
            Some(e.total()),
        ),
        (
            Reconciled::WithoutGatewayPayment,
            "cash_d".to_owned(),
            Some(d.id()),
            None,
            Some(d.total()),
        ),
    ];
    assert_eq!(got, want);
    assert!(!report.is_clean());
    assert_eq!(report.with_status(Reconciled::Matched).count(), 1);
    // The later period holds f alone, matched.
    let later = s
        .store
        .payments(&accountant)
        .reconcile(
            end,
            s.store.now().checked_add(Duration::from_secs(1)).unwrap(),
        )
        .unwrap();
    assert!(later.is_clean());
    assert_eq!(later.lines().len(), 1);
    assert_eq!(later.lines()[0].reference(), "pi_f");
    let err = s
        .store
        .payments(&accountant)
        .reconcile(end, start)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "period" });
}

#[test]
fn customers_visitors_and_other_staff_are_refused_and_audited() {
    let (s, mug) = mug_shop();
    let ana = customer(&s.store, "ana@example.com", "DE");
    let order = place(&s.store, &ana, &[(mug, 1)], None);
    let warehouse = staff(&s.store, "wh@example.com", Role::Warehouse);
    let body = intent_succeeded("evt_x", "pi_x", cents(order.total()), Some(&order));
    let event = received(&s.store, &body);
    let denied = || count_where(&s.store, "shopkeep_audit", "outcome = 'denied'");
    let now = s.store.now();
    let later = now.checked_add(Duration::from_secs(60)).unwrap();
    for who in [&ana, &Principal::anonymous(), &warehouse] {
        let before = denied();
        let payments = s.store.payments(who);
        let err = payments.process(&event).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden);
        assert_eq!(
            payments.reconcile(now, later).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            payments.refund_queue(None, 10).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(denied() - before, 3, "every refusal is audited");
    }
    // Staff who may refund still may not process events: that is the webhook handler's.
    let manager = staff(&s.store, "m@example.com", Role::Manager);
    assert_eq!(
        s.store
            .payments(&manager)
            .process(&event)
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(count(&s.store, "shopkeep_gateway_events"), 0);
    // Those who may read get typed errors for bad pages.
    let err = s
        .store
        .payments(&manager)
        .refund_queue(None, 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "limit" });
    let err = s
        .store
        .payments(&manager)
        .refund_queue(None, 501)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "limit" });
    let system = s.store.system();
    assert_eq!(
        s.store.orders(&system).get(order.id()).unwrap().status(),
        OrderStatus::Placed
    );
}
