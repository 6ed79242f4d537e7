//! The order lifecycle through the public API, on real database files: payment, shipping,
//! completion, cancellation, expiry and refunds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::db::db;
use common::{Shop, customer, eur, on_hand, pay, place, product, shop, uuid_bytes};
use common::{dump, ledger_sum};
use proptest::prelude::*;
use shopkeep::catalog::{TaxCategory, VariantId};
use shopkeep::orders::{Coupon, Order, OrderId, OrderStatus, Payment, PriceMode, Refund, Shipment};
use shopkeep::{Currency, ErrorKind, Money, Principal, Store};

/// Every table a lifecycle call may write to.
const TABLES: &[&str] = &[
    "shopkeep_orders",
    "shopkeep_order_payments",
    "shopkeep_order_shipments",
    "shopkeep_order_cancellations",
    "shopkeep_refunds",
    "shopkeep_refund_lines",
    "shopkeep_refund_charges",
    "shopkeep_variants",
    "shopkeep_stock_ledger",
    "shopkeep_outbox",
    "shopkeep_audit",
];

/// The outbox's events of `kind`, as JSON data.
fn events(s: &Shop, kind: &str) -> Vec<serde_json::Value> {
    db(s)
        .rows(&format!(
            "SELECT data FROM shopkeep_outbox WHERE type = '{kind}' ORDER BY seq"
        ))
        .iter()
        .map(|row| serde_json::from_str(&row[0]).unwrap())
        .collect()
}

/// The audit entries of `action`, as `(principal, resource)`.
fn audited(store: &Store, action: &str) -> Vec<(String, String)> {
    let system = store.system();
    store
        .audit_log(&system)
        .list(0, 10_000)
        .unwrap()
        .iter()
        .filter(|e| e.action() == action && e.outcome() == shopkeep::access::Outcome::Allowed)
        .map(|e| (e.principal().to_owned(), e.resource().to_owned()))
        .collect()
}

/// A shop with a mug (19 %) and a book (7 %), 100 of each, and a logged-in customer.
fn setup(mode: PriceMode) -> (Shop, VariantId, VariantId, Principal) {
    let s = shop(mode);
    let mug = product(&s.store, "MUG", eur("12.90"), TaxCategory::Standard, 100);
    let book = product(&s.store, "BOOK", eur("20.00"), TaxCategory::Reduced, 100);
    let ana = customer(&s.store, "ana@example.com", "DE");
    (s, mug, book, ana)
}

fn kind<T: std::fmt::Debug>(result: shopkeep::Result<T>) -> ErrorKind {
    result.unwrap_err().kind()
}

// ---------------------------------------------------------------------------------------------
// The happy path

#[test]
fn placed_paid_shipped_completed_with_events_audit_and_records() {
    let (s, mug, book, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let order = place(store, &ana, &[(mug, 2), (book, 1)], None);
    assert_eq!(order.status(), OrderStatus::Placed);
    assert_eq!(orders.payment(order.id()).unwrap(), None);

    let payment = Payment::new("  pi_3Nx2  ", order.total()).unwrap();
    let paid = orders.mark_paid(order.id(), payment).unwrap();
    assert_eq!(paid.status(), OrderStatus::Paid);
    assert_eq!(paid.version(), order.version() + 1);
    let record = store.orders(&ana).payment(order.id()).unwrap().unwrap();
    assert_eq!(record.reference(), "pi_3Nx2");
    assert_eq!(record.amount(), order.total());
    assert_eq!(record.paid_at(), shopkeep::clock::Clock::now(&s.clock));

    let parcel = Shipment::new()
        .carrier("DHL")
        .unwrap()
        .tracking("0034")
        .unwrap();
    let shipped = orders.ship(order.id(), parcel).unwrap();
    assert_eq!(shipped.status(), OrderStatus::Shipped);
    let completed = orders.complete(order.id()).unwrap();
    assert_eq!(completed.status(), OrderStatus::Completed);
    assert_eq!(completed.version(), order.version() + 3);
    assert_eq!(store.orders(&ana).get(order.id()).unwrap(), completed);

    let id = order.id().to_string();
    let number = order.number().get();
    let customer_id = ana.customer_id().unwrap().to_string();
    let paid_events = events(&s, "order.paid");
    assert_eq!(
        paid_events,
        vec![serde_json::json!({
            "order_id": id, "number": number, "customer_id": customer_id,
            "currency": "EUR", "amount": order.total().minor(),
        })]
    );
    assert_eq!(
        events(&s, "order.shipped"),
        vec![serde_json::json!({
            "order_id": id, "number": number, "customer_id": customer_id, "tracked": true,
        })]
    );
    assert_eq!(
        events(&s, "order.completed"),
        vec![serde_json::json!({"order_id": id, "number": number, "customer_id": customer_id})]
    );
    // No personal data in any lifecycle event.
    for kind in ["order.paid", "order.shipped", "order.completed"] {
        let text = serde_json::to_string(&events(&s, kind)).unwrap();
        assert!(!text.contains("Ana") && !text.contains("ana@") && !text.contains("DHL"));
    }
    let resource = format!("order:{id}");
    assert_eq!(
        audited(store, "record_payment"),
        vec![("system".to_owned(), resource.clone())]
    );
    assert_eq!(audited(store, "fulfil_order").len(), 2);
    // Paying, shipping and completing move no stock.
    assert_eq!(on_hand(store, mug), 98);
    assert_eq!(on_hand(store, book), 99);
}

// ---------------------------------------------------------------------------------------------
// Illegal transitions

/// An order of `ana` brought to `status` by the system.
fn in_state(s: &Shop, mug: VariantId, ana: &Principal, status: OrderStatus) -> Order {
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let order = place(store, ana, &[(mug, 1)], None);
    let id = order.id();
    match status {
        OrderStatus::Placed => {}
        OrderStatus::Paid => {
            pay(store, &order);
        }
        OrderStatus::Shipped => {
            pay(store, &order);
            orders.ship(id, Shipment::new()).unwrap();
        }
        OrderStatus::Completed => {
            pay(store, &order);
            orders.ship(id, Shipment::new()).unwrap();
            orders.complete(id).unwrap();
        }
        OrderStatus::Cancelled => {
            orders.cancel(id, "test").unwrap();
        }
        OrderStatus::Expired => {
            s.clock.advance(Duration::from_secs(3600));
            // Also expires the `placed` order of an earlier round, which is done with.
            assert!(orders.expire_unpaid(Duration::from_secs(60)).unwrap() >= 1);
        }
        other => panic!("{other:?}"),
    }
    orders.get(id).unwrap()
}

#[test]
fn every_illegal_transition_from_every_state_is_invalid_state_and_changes_nothing() {
    let (s, mug, _, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let all = [
        OrderStatus::Placed,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Expired,
    ];
    let mut checked = 0;
    for status in all {
        let order = in_state(&s, mug, &ana, status);
        assert_eq!(order.status(), status);
        let id = order.id();
        type Call<'a> = Box<dyn Fn() -> shopkeep::Result<()> + 'a>;
        let calls: Vec<(&str, bool, Call<'_>)> = vec![
            (
                "mark_paid",
                status == OrderStatus::Placed,
                Box::new(|| {
                    let p = Payment::new("psp_other", order.total()).unwrap();
                    orders.mark_paid(id, p).map(drop)
                }),
            ),
            (
                "ship",
                status == OrderStatus::Paid,
                Box::new(|| orders.ship(id, Shipment::new()).map(drop)),
            ),
            (
                "complete",
                status == OrderStatus::Shipped,
                Box::new(|| orders.complete(id).map(drop)),
            ),
            (
                "cancel",
                matches!(status, OrderStatus::Placed | OrderStatus::Paid),
                Box::new(|| orders.cancel(id, "test").map(drop)),
            ),
            (
                "refund",
                matches!(
                    status,
                    OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed
                ),
                Box::new(|| orders.refund(id, Refund::full()).map(drop)),
            ),
        ];
        for (name, legal, call) in calls {
            if legal {
                continue;
            }
            let before = dump(&s.store, TABLES);
            let err = call().unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidTransition,
                "{name} from {status}: {err}"
            );
            assert!(
                err.message().contains(status.as_str()),
                "{name} from {status}: {err}"
            );
            assert_eq!(dump(&s.store, TABLES), before, "{name} from {status} wrote");
            checked += 1;
        }
    }
    assert_eq!(checked, 3 + 2 + 3 + 4 + 5 + 5);
}

// ---------------------------------------------------------------------------------------------
// Payments

#[test]
fn payments_of_the_wrong_amount_or_currency_are_refused_and_replays_are_idempotent() {
    let (s, mug, _, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let order = place(store, &ana, &[(mug, 2)], None);
    let other = place(store, &ana, &[(mug, 1)], None);
    let id = order.id();
    let before = dump(&s.store, TABLES);
    let short = Payment::new("psp_1", eur("25.79")).unwrap();
    assert_eq!(
        kind(orders.mark_paid(id, short)),
        ErrorKind::Validation { field: "amount" }
    );
    let francs = Payment::new("psp_1", Money::parse("25.80", Currency::CHF).unwrap()).unwrap();
    assert_eq!(
        kind(orders.mark_paid(id, francs)),
        ErrorKind::Validation { field: "currency" }
    );
    assert_eq!(dump(&s.store, TABLES), before);
    for bad in ["", "   ", "a\nb", &"x".repeat(201)] {
        assert_eq!(
            kind(Payment::new(bad, eur("1.00"))),
            ErrorKind::Validation {
                field: "gateway_reference"
            }
        );
    }
    assert_eq!(
        kind(Payment::new("psp", eur("-1.00"))),
        ErrorKind::Validation { field: "amount" }
    );

    let paid = orders
        .mark_paid(id, Payment::new("psp_1", eur("25.80")).unwrap())
        .unwrap();
    // The gateway redelivers its webhook: the same answer, nothing written.
    let before = dump(&s.store, TABLES);
    let again = orders
        .mark_paid(id, Payment::new("psp_1", eur("25.80")).unwrap())
        .unwrap();
    assert_eq!(again, paid);
    assert_eq!(dump(&s.store, TABLES), before);
    // Another reference for a paid order is a transition from `paid`.
    let err = orders
        .mark_paid(id, Payment::new("psp_2", eur("25.80")).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    // One gateway reference pays one order.
    let err = orders
        .mark_paid(other.id(), Payment::new("psp_1", other.total()).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(dump(&s.store, TABLES), before);
    assert_eq!(events(&s, "order.paid").len(), 1);
}

#[test]
fn customers_and_staff_get_what_the_policy_grants() {
    let (s, mug, _, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let bob = customer(store, "bob@example.com", "DE");
    let order = place(store, &ana, &[(mug, 1)], None);
    let id = order.id();
    // Bob cannot see Ana's order: it does not exist for him.
    assert_eq!(
        kind(store.orders(&bob).cancel(id, "mine now")),
        ErrorKind::NotFound
    );
    assert_eq!(kind(store.orders(&bob).refunds(id)), ErrorKind::NotFound);
    // Ana may not pay her own order by decree.
    let p = Payment::new("psp", order.total()).unwrap();
    assert_eq!(
        kind(store.orders(&ana).mark_paid(id, p)),
        ErrorKind::Forbidden
    );
    // Paid: only the shop cancels it now.
    pay(store, &order);
    let before = dump(&s.store, &TABLES[..10]);
    assert_eq!(
        kind(store.orders(&ana).cancel(id, "too late")),
        ErrorKind::Forbidden
    );
    assert_eq!(dump(&s.store, &TABLES[..10]), before);
    let denied = store
        .audit_log(&store.system())
        .list(0, 10_000)
        .unwrap()
        .iter()
        .filter(|e| {
            e.action() == "cancel_order" && e.outcome() == shopkeep::access::Outcome::Denied
        })
        .count();
    assert_eq!(denied, 2, "Bob's attempt and Ana's late one");
    // Unpaid: Ana cancels her own.
    let second = place(store, &ana, &[(mug, 1)], None);
    let cancelled = store
        .orders(&ana)
        .cancel(second.id(), "changed my mind")
        .unwrap();
    assert_eq!(cancelled.status(), OrderStatus::Cancelled);
}

// ---------------------------------------------------------------------------------------------
// Cancellation and expiry give the stock back

#[test]
fn cancelling_releases_exactly_the_stock_the_order_took() {
    let (s, mug, book, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let unpaid = place(store, &ana, &[(mug, 3), (book, 2)], None);
    let paid = place(store, &ana, &[(mug, 4)], None);
    pay(store, &paid);
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (93, 98));

    let cancelled = orders
        .cancel(unpaid.id(), "out of stock elsewhere")
        .unwrap();
    assert_eq!(cancelled.status(), OrderStatus::Cancelled);
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (96, 100));
    // Part of the paid order comes back through a refund first; cancelling releases the rest.
    orders
        .refund(paid.id(), Refund::lines([(0, 1)]).restock(true))
        .unwrap();
    assert_eq!(on_hand(store, mug), 97);
    orders.cancel(paid.id(), "customer called").unwrap();
    assert_eq!(on_hand(store, mug), 100);
    for variant in [mug, book] {
        assert_eq!(
            ledger_sum(&s.store, variant),
            on_hand(store, variant) as i64
        );
    }

    let cancelled = events(&s, "order.cancelled");
    assert_eq!(cancelled.len(), 2);
    assert_eq!(cancelled[0]["was_paid"], false);
    assert_eq!(cancelled[0]["refund_due"], 0);
    assert_eq!(cancelled[1]["was_paid"], true);
    let refunded = orders.refunds(paid.id()).unwrap()[0].gross_total();
    assert_eq!(
        cancelled[1]["refund_due"],
        paid.total().minor() - refunded.minor()
    );
    let was_paid: Vec<(String, i64)> = db(&s)
        .rows("SELECT reason, was_paid FROM shopkeep_order_cancellations ORDER BY cancelled_at")
        .iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(
        was_paid,
        vec![
            ("out of stock elsewhere".to_owned(), 0),
            ("customer called".to_owned(), 1)
        ]
    );
    assert_eq!(
        kind(orders.cancel(unpaid.id(), " ")),
        ErrorKind::Validation { field: "reason" }
    );
}

#[test]
fn expiry_only_expires_old_unpaid_orders_and_releases_their_stock() {
    let (s, mug, book, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let old = place(store, &ana, &[(mug, 2), (book, 1)], None);
    let old_paid = place(store, &ana, &[(mug, 1)], None);
    pay(store, &old_paid);
    s.clock.advance(Duration::from_secs(30 * 60));
    let young = place(store, &ana, &[(book, 3)], None);
    s.clock.advance(Duration::from_secs(90 * 60));
    // `old` is 120 minutes old, `young` 90: a 100-minute limit expires only `old`.
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (97, 96));
    assert_eq!(
        orders.expire_unpaid(Duration::from_secs(100 * 60)).unwrap(),
        1
    );
    assert_eq!(orders.get(old.id()).unwrap().status(), OrderStatus::Expired);
    assert_eq!(
        orders.get(old_paid.id()).unwrap().status(),
        OrderStatus::Paid
    );
    assert_eq!(
        orders.get(young.id()).unwrap().status(),
        OrderStatus::Placed
    );
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (99, 97));
    for variant in [mug, book] {
        assert_eq!(
            ledger_sum(&s.store, variant),
            on_hand(store, variant) as i64
        );
    }
    assert_eq!(
        events(&s, "order.expired"),
        vec![serde_json::json!({
            "order_id": old.id().to_string(),
            "number": old.number().get(),
            "customer_id": ana.customer_id().unwrap().to_string(),
        })]
    );
    assert_eq!(
        audited(store, "expire_orders"),
        vec![("system".to_owned(), format!("order:{}", old.id()))]
    );
    // Nothing more to do; a later run takes the young one.
    assert_eq!(
        orders.expire_unpaid(Duration::from_secs(100 * 60)).unwrap(),
        0
    );
    s.clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(
        orders.expire_unpaid(Duration::from_secs(100 * 60)).unwrap(),
        1
    );
    assert_eq!(on_hand(store, book), 100);
    // Customers may not run the expiry job.
    let ana_expires = store.orders(&ana).expire_unpaid(Duration::ZERO);
    assert_eq!(kind(ana_expires), ErrorKind::Forbidden);
}

// ---------------------------------------------------------------------------------------------
// Refunds

#[test]
fn partial_refunds_then_the_rest_add_up_to_the_order_in_tax_inclusive_mode() {
    let (s, mug, book, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    store
        .coupons(&system)
        .create(&Coupon::percent(common::code("TEN"), 1000).unwrap())
        .unwrap();
    let orders = store.orders(&system);
    let order = place(store, &ana, &[(mug, 3), (book, 2)], Some("TEN"));
    assert!(!order.allowance_total().is_zero());
    let id = order.id();
    assert_eq!(
        kind(orders.refund(id, Refund::full())),
        ErrorKind::InvalidTransition
    );
    pay(store, &order);

    let first = orders.refund(id, Refund::lines([(0, 1)])).unwrap();
    assert_eq!(first.number(), 1);
    assert_eq!(first.lines().len(), 1);
    assert_eq!(first.lines()[0].quantity(), 1);
    assert_eq!(first.lines()[0].unit_price(), eur("12.90"));
    // 10 % off 12.90, the line's discount telescoped over 3 units.
    let mug_discount = order.lines()[0].discount().minor();
    assert_eq!(first.lines()[0].discount().minor(), mug_discount / 3);
    assert_eq!(
        first.gross_total().minor(),
        1290 - first.lines()[0].discount().minor()
    );
    assert_eq!(
        first.gross_total(),
        first.net_total().checked_add(first.vat_total()).unwrap()
    );

    let second = orders
        .refund(id, Refund::lines([(1, 1), (0, 2)]).restock(true))
        .unwrap();
    assert_eq!(second.number(), 2);
    assert!(second.restock());
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (99, 99));

    // Over-refund: one book left, two asked for. Nothing written.
    let before = dump(&s.store, TABLES);
    let err = orders.refund(id, Refund::lines([(1, 2)])).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation { field: "quantity" },
        "{err}"
    );
    for (bad, field) in [
        (Refund::lines([]), "lines"),
        (Refund::lines([(7, 1)]), "lines"),
        (Refund::lines([(1, 0)]), "quantity"),
        (Refund::lines([(1, 1), (1, 1)]), "lines"),
    ] {
        assert_eq!(
            kind(orders.refund(id, bad)),
            ErrorKind::Validation { field }
        );
    }
    assert_eq!(dump(&s.store, TABLES), before);

    let rest = orders.refund(id, Refund::full()).unwrap();
    assert_eq!(rest.lines().len(), 1);
    assert_eq!(
        (rest.lines()[0].position(), rest.lines()[0].quantity()),
        (1, 1)
    );
    let all = orders.refunds(id).unwrap();
    assert_eq!(all, vec![first, second, rest]);
    let gross: i64 = all.iter().map(|r| r.gross_total().minor()).sum();
    assert_eq!(gross, order.total().minor());
    let vat: i64 = all.iter().map(|r| r.vat_total().minor()).sum();
    assert_eq!(
        vat,
        order.vat_total().minor(),
        "the refunds net the VAT exactly"
    );
    for (position, line) in order.lines().iter().enumerate() {
        let refunded: Vec<_> = all
            .iter()
            .flat_map(|r| r.lines())
            .filter(|l| l.position() as usize == position)
            .collect();
        let quantity: u32 = refunded.iter().map(|l| l.quantity()).sum();
        let discount: i64 = refunded.iter().map(|l| l.discount().minor()).sum();
        assert_eq!(
            (quantity, discount),
            (line.quantity(), line.discount().minor())
        );
    }
    assert_eq!(
        kind(orders.refund(id, Refund::full())),
        ErrorKind::InvalidTransition
    );
    let refunded = events(&s, "order.refunded");
    assert_eq!(refunded.len(), 3);
    assert_eq!(refunded[1]["refund_number"], 2);
    assert_eq!(refunded[1]["restock"], true);
    assert_eq!(refunded[1]["gross_total"], all[1].gross_total().minor());
    // Refunding changes no status: the order stays paid.
    assert_eq!(orders.get(id).unwrap().status(), OrderStatus::Paid);
    assert_eq!(audited(store, "refund_order").len(), 3);
}

#[test]
fn a_full_refund_in_tax_exclusive_mode_is_the_order_total() {
    let (s, mug, book, ana) = setup(PriceMode::TaxExclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let order = place(store, &ana, &[(mug, 3), (book, 1)], None);
    pay(store, &order);
    let refund = orders
        .refund(order.id(), Refund::full().restock(true))
        .unwrap();
    assert_eq!(refund.gross_total(), order.total());
    assert_eq!(refund.vat_total(), order.vat_total());
    assert_eq!(refund.net_total(), order.net_total());
    assert_eq!((on_hand(store, mug), on_hand(store, book)), (100, 100));
}

#[test]
fn in_tax_exclusive_mode_refunds_unit_by_unit_add_up_to_the_order_total() {
    let s = common::shop(PriceMode::TaxExclusive);
    let store = &s.store;
    let clip = product(store, "CLIP", eur("0.03"), TaxCategory::Standard, 10);
    let ana = customer(store, "ana@example.com", "DE");
    let order = place(store, &ana, &[(clip, 3)], None);
    // 0.09 net, 19 % of it is 0.0171: 0.02 VAT. One clip alone: 0.0057, rounded to 0.01; each
    // refund's VAT is what all refunds so far owe less what the earlier ones gave back.
    assert_eq!(order.total(), eur("0.11"));
    pay(store, &order);
    let system = store.system();
    let orders = store.orders(&system);
    let mut refunded = Vec::new();
    for _ in 0..3 {
        let one = orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
        refunded.push(one.gross_total().minor());
    }
    assert_eq!(refunded, [4, 3, 4]);
    let all = orders.refunds(order.id()).unwrap();
    let vat: i64 = all.iter().map(|r| r.vat_total().minor()).sum();
    assert_eq!(vat, order.vat_total().minor());
    assert_eq!(refunded.iter().sum::<i64>(), order.total().minor());
}

#[test]
fn the_database_refuses_to_change_or_delete_refunds_and_payments() {
    let (s, mug, _, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let order = place(store, &ana, &[(mug, 2)], None);
    pay(store, &order);
    let refund = store
        .orders(&store.system())
        .refund(order.id(), Refund::lines([(0, 1)]))
        .unwrap();
    let db = db(&s);
    // SQLite's INSERT OR REPLACE would replace the row; PostgreSQL has no such statement, and a
    // plain INSERT of the same row meets the same refusal there.
    let (replace, replace_into) = if db.is_postgres() {
        ("INSERT INTO", "INSERT INTO")
    } else {
        ("INSERT OR REPLACE INTO", "REPLACE INTO")
    };
    let id = db.bytes(&uuid_bytes(&refund.id().to_string()));
    for sql in [
        format!(
            "UPDATE shopkeep_refunds SET gross_total = 0, net_total = 0, vat_total = 0 WHERE id = {id}"
        ),
        format!("DELETE FROM shopkeep_refunds WHERE id = {id}"),
        format!("UPDATE shopkeep_refund_lines SET quantity = 2 WHERE refund_id = {id}"),
        format!("DELETE FROM shopkeep_refund_lines WHERE refund_id = {id}"),
        format!("{replace} shopkeep_refunds SELECT * FROM shopkeep_refunds WHERE id = {id}"),
        format!(
            "{replace_into} shopkeep_refund_lines SELECT * FROM shopkeep_refund_lines
             WHERE refund_id = {id}"
        ),
    ] {
        let err = db.execute(&sql).unwrap_err();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let order_id = db.bytes(&uuid_bytes(&order.id().to_string()));
    for sql in [
        format!("UPDATE shopkeep_order_payments SET amount = 1 WHERE order_id = {order_id}"),
        format!("DELETE FROM shopkeep_order_payments WHERE order_id = {order_id}"),
        format!(
            "{replace} shopkeep_order_payments SELECT * FROM shopkeep_order_payments
         WHERE order_id = {order_id}"
        ),
    ] {
        let err = db.execute(&sql).unwrap_err();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        store.orders(&store.system()).refunds(order.id()).unwrap(),
        vec![refund]
    );
}

// Random sequences of partial refunds, on one store (a fresh order per case).
#[test]
fn random_partial_refunds_never_exceed_the_order_and_give_back_each_discount_exactly() {
    let (s, mug, book, ana) = setup(PriceMode::TaxInclusive);
    let store = &s.store;
    let system = store.system();
    store
        .coupons(&system)
        .create(&Coupon::percent(common::code("ODD"), 1337).unwrap())
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        1u32..7,
        1u32..7,
        proptest::collection::vec((0u32..2, 1u32..5, any::<bool>()), 1..12),
    );
    runner
        .run(&strategy, |(mugs, books, steps)| {
            let orders = store.orders(&system);
            let order = place(store, &ana, &[(mug, mugs), (book, books)], Some("ODD"));
            pay(store, &order);
            let ordered = [mugs, books];
            let mut refunded = [0u32; 2];
            for (position, quantity, restock) in steps {
                let p = position as usize;
                let request = Refund::lines([(position, quantity)]).restock(restock);
                let result = orders.refund(order.id(), request);
                if refunded[p] + quantity > ordered[p] {
                    prop_assert_eq!(kind(result), ErrorKind::Validation { field: "quantity" });
                } else {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    refunded[p] += quantity;
                }
            }
            if refunded != ordered {
                orders.refund(order.id(), Refund::full()).unwrap();
            }
            prop_assert_eq!(
                kind(orders.refund(order.id(), Refund::full())),
                ErrorKind::InvalidTransition
            );
            let all = orders.refunds(order.id()).unwrap();
            let mut quantity = BTreeMap::new();
            let mut discount = BTreeMap::new();
            for line in all.iter().flat_map(|r| r.lines()) {
                *quantity.entry(line.position()).or_insert(0) += line.quantity();
                *discount.entry(line.position()).or_insert(0) += line.discount().minor();
            }
            for line in order.lines() {
                prop_assert_eq!(quantity[&line.position()], line.quantity());
                prop_assert_eq!(discount[&line.position()], line.discount().minor());
            }
            let gross: i64 = all.iter().map(|r| r.gross_total().minor()).sum();
            prop_assert_eq!(gross, order.total().minor());
            Ok(())
        })
        .unwrap();
    for variant in [mug, book] {
        assert_eq!(
            ledger_sum(&s.store, variant),
            on_hand(store, variant) as i64
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[test]
fn racing_threads_leave_each_order_in_one_consistent_state() {
    let (s, mug, _, ana) = setup(PriceMode::TaxInclusive);
    let store = Arc::new(s.store.clone());
    let orders: Vec<Order> = (0..6)
        .map(|_| place(&store, &ana, &[(mug, 2)], None))
        .collect();
    assert_eq!(on_hand(&store, mug), 88);
    let orders = Arc::new(orders);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            let orders = Arc::clone(&orders);
            std::thread::spawn(move || {
                let system = store.system();
                let repo = store.orders(&system);
                for i in 0..orders.len() {
                    let order = &orders[(i + t) % orders.len()];
                    let id: OrderId = order.id();
                    let result = match t % 4 {
                        0 => repo.cancel(id, "race").map(drop),
                        1 | 3 => {
                            let p = Payment::new(&format!("psp_{id}"), order.total()).unwrap();
                            repo.mark_paid(id, p).map(drop)
                        }
                        _ => repo
                            .refund(id, Refund::lines([(0, 1)]).restock(true))
                            .map(drop),
                    };
                    if let Err(e) = result {
                        assert!(
                            matches!(
                                e.kind(),
                                ErrorKind::InvalidTransition
                                    | ErrorKind::Validation { field: "quantity" }
                            ),
                            "thread {t}: {e}"
                        );
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let system = store.system();
    let repo = store.orders(&system);
    let mut expected = 100i64;
    for order in orders.iter() {
        let now = repo.get(order.id()).unwrap();
        let payment = repo.payment(order.id()).unwrap();
        let refunds = repo.refunds(order.id()).unwrap();
        let restocked: u32 = refunds
            .iter()
            .filter(|r| r.restock())
            .flat_map(|r| r.lines())
            .map(|l| l.quantity())
            .sum();
        assert!(refunds.len() <= 2, "at most the two units");
        match now.status() {
            OrderStatus::Paid => {
                assert!(payment.is_some());
                expected -= i64::from(2 - restocked);
            }
            OrderStatus::Cancelled => {
                // Cancelled unpaid (no payment, no refund) or paid (payment kept, refunds kept).
                assert!(payment.is_some() || refunds.is_empty());
            }
            other => panic!("order ended {other}"),
        }
        let gross: i64 = refunds.iter().map(|r| r.gross_total().minor()).sum();
        assert!(gross <= order.total().minor());
        assert_eq!(
            events(&s, "order.paid")
                .iter()
                .filter(|e| e["order_id"] == order.id().to_string())
                .count(),
            usize::from(payment.is_some())
        );
    }
    assert_eq!(on_hand(&store, mug) as i64, expected);
    assert_eq!(ledger_sum(&s.store, mug), expected);
}

#[test]
fn the_order_mark_paid_returns_is_the_order_a_read_returns() {
    // mark_paid answers with the order it loaded, changed as the payment changed it, instead of
    // loading it again: that answer must be exactly what a read returns afterwards.
    let (s, mug, book, ana) = setup(PriceMode::TaxExclusive);
    let store = &s.store;
    let system = store.system();
    let orders = store.orders(&system);
    let order = place(store, &ana, &[(mug, 2), (book, 3)], None);
    let payment = Payment::new("pi_same", order.total()).unwrap();
    let paid = orders.mark_paid(order.id(), payment.clone()).unwrap();
    assert_eq!(paid, orders.get(order.id()).unwrap());
    // The replay of the same payment answers the same order, and writes nothing.
    assert_eq!(orders.mark_paid(order.id(), payment).unwrap(), paid);
    assert_eq!(orders.get(order.id()).unwrap(), paid);
}
