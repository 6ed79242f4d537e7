//! Issuing invoices from real orders: numbering, immutability, retention, access, on real
//! database files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::db::{Db, db};
use common::{
    Shop, address, at, business, eur, fill, new_customer, open, pay, pay_as, priced_product,
    register, seller, settings, shop_with, staff,
};
use common::{count, count_where};
use shopkeep::access::Role;
use shopkeep::catalog::{
    BankAccount, Iban, InvoiceIssue, Seller, ShopSettingsBuilder, TaxCategory, TimeZone, VariantId,
};
use shopkeep::customers::{Address, Country, ElectronicAddress};
use shopkeep::invoices::{Invoice, Profile};
use shopkeep::orders::{
    Checkout, Coupon, CouponCode, IdempotencyKey, Order, PriceMode, Refund, Shipping,
};
use shopkeep::{Currency, ErrorKind, Money, Principal, Store};

/// The seller's VAT id in every shop here but the one that shows what its absence refuses.
const VAT_ID: &str = "DE123456788";

/// Settings for `seller`: prices include VAT, invoices are issued as `issue` says and numbered
/// by the year in Berlin.
fn invoicing(seller: Seller, issue: InvoiceIssue) -> ShopSettingsBuilder {
    settings(seller, PriceMode::TaxInclusive)
        .invoice_issue(issue)
        .time_zone(TimeZone::parse("Europe/Berlin").unwrap())
}

/// A shop that sells a mug (19 %) and a book (7 %) in EUR and CHF, 100 000 of each.
struct Stocked {
    shop: Shop,
    mug: VariantId,
    book: VariantId,
}

impl Deref for Stocked {
    type Target = Shop;

    fn deref(&self) -> &Shop {
        &self.shop
    }
}

/// The invoicing shop of a seller with [`VAT_ID`], issuing as `issue` says.
fn shop(issue: InvoiceIssue) -> Stocked {
    stocked(invoicing(seller(Some(VAT_ID)), issue))
}

fn stocked(settings: ShopSettingsBuilder) -> Stocked {
    let shop = shop_with(settings.build().unwrap());
    let product = |sku: &str, price: &str, category| {
        let prices = [eur(price), Money::parse(price, Currency::CHF).unwrap()];
        priced_product(&shop.store, sku, &prices, category, 100_000)
    };
    let mug = product("MUG", "12.90", TaxCategory::Standard);
    let book = product("BOOK", "20.00", TaxCategory::Reduced);
    Stocked { shop, mug, book }
}

/// Registers Ana Example shipping to `country` (postal code 8001), as the business Example SARL
/// with `vat_id` if given, and logs her in.
fn customer(store: &Store, email: &str, country: &str, vat_id: Option<&str>) -> Principal {
    let address = address(country).with_postal_code("8001").unwrap();
    let mut new = new_customer(email, "Ana Example", address);
    if let Some(vat_id) = vat_id {
        new = new.business(business("Example SARL", vat_id));
    }
    register(store, new)
}

/// Two mugs and a book, checked out by `who` under idempotency key `key`.
fn place(s: &Stocked, who: &Principal, key: &str) -> Order {
    place_in(s, who, key, None)
}

fn place_in(s: &Stocked, who: &Principal, key: &str, currency: Option<Currency>) -> Order {
    let me = fill(&s.store, who, &[(s.mug, 2), (s.book, 1)]);
    let mut request = Checkout::from_cart(me, IdempotencyKey::new(key).unwrap());
    if let Some(c) = currency {
        request = request.currency(c);
    }
    s.store.orders(who).checkout(request).unwrap().into_order()
}

/// Issues the invoice for `order`, as the system.
fn issue(s: &Shop, order: &Order) -> Invoice {
    s.store
        .invoices(&s.store.system())
        .issue(order.id())
        .unwrap()
}

/// Adds an issued document to a corpus `.ci/run` checks with the official rules: `issued`
/// (EN 16931) or `issued-xrechnung` (EN 16931 and XRechnung).
fn write_corpus(folder: &str, name: &str, xml: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/einvoice")
        .join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.xml")), xml).unwrap();
}

#[test]
fn an_issued_invoice_bills_exactly_the_order_and_numbers_count_up() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let invoices = s.store.invoices(&system);

    let first = place(&s, &ana, "k1");
    let invoice = invoices.issue(first.id()).unwrap();
    assert_eq!(invoice.number(), "INV-2026-000001");
    assert!(!invoice.is_credit_note());
    assert_eq!(invoice.order(), first.id());
    assert_eq!(invoice.customer(), first.customer());
    let doc = invoice.document();
    assert_eq!(doc.issue_date().to_string(), "2026-11-28");
    assert_eq!(doc.totals().gross_total(), first.total());
    assert_eq!(doc.totals().vat_total(), first.vat_total());
    assert_eq!(doc.totals().net_total(), first.net_total());
    assert_eq!(doc.lines().len(), first.lines().len());
    assert_eq!(invoice.deletable_from().to_string(), "2037-01-01");

    // Read back: the same document, rebuilt from the stored rows.
    assert_eq!(invoices.get(invoice.id()).unwrap(), invoice);
    assert_eq!(invoices.by_number("INV-2026-000001").unwrap(), invoice);
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    assert!(xml.contains("<cbc:ID>INV-2026-000001</cbc:ID>"), "{xml}");
    assert!(xml.contains(&format!(
        r#"<cbc:PayableAmount currencyID="EUR">{}</cbc:PayableAmount>"#,
        first.total().to_decimal_string()
    )));

    // A second issue for the same order (a retry) returns the first invoice and takes no
    // number; the same order at an exchange rate is another request, refused.
    let audit = count(&s.store, "shopkeep_audit");
    assert_eq!(invoices.issue(first.id()).unwrap(), invoice);
    assert_eq!(
        count(&s.store, "shopkeep_audit"),
        audit,
        "a replay writes nothing"
    );
    let err = invoices.issue_at_rate(first.id(), "1.1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(err.message().contains("INV-2026-000001"), "{err}");
    let second = place(&s, &ana, "k2");
    assert_eq!(
        invoices.issue(second.id()).unwrap().number(),
        "INV-2026-000002"
    );

    // One `invoice.issued` event each, ids and figures only.
    let events = s
        .store
        .events(&system)
        .poll(100, Duration::from_secs(60))
        .unwrap();
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.kind() == "invoice.issued")
        .collect();
    assert_eq!(issued.len(), 2);
    let body = issued[0].data_json();
    assert!(body.contains("INV-2026-000001"), "{body}");
    assert!(!body.contains("Ana"), "{body}");
}

#[test]
fn a_shop_that_issues_on_payment_refuses_unpaid_orders_and_burns_no_number() {
    let s = shop(InvoiceIssue::OnPayment);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let order = place(&s, &ana, "k1");
    let before = count(&s.store, "shopkeep_invoice_counters");
    let err = s
        .store
        .invoices(&s.store.system())
        .issue(order.id())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition, "{err}");
    assert!(err.to_string().contains("on payment"), "{err}");
    assert_eq!(count(&s.store, "shopkeep_invoices"), 0);
    assert_eq!(count(&s.store, "shopkeep_invoice_counters"), before);
}

#[test]
fn a_document_the_law_would_refuse_is_not_issued_and_burns_no_number() {
    // An export (G) needs the seller's VAT id. Checkout refuses an export without it, so here
    // the VAT id goes after the order was placed: the settings now state only a tax number.
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let carl = customer(&s.store, "carl@example.com", "CH", None);
    let export = place(&s, &carl, "k1");
    let system = s.store.system();
    let settings = s.store.settings(&system).get().unwrap().unwrap();
    let without = settings.to_builder().seller(seller(None)).build().unwrap();
    s.store
        .settings(&system)
        .update(settings.version(), &without)
        .unwrap();
    let invoices = s.store.invoices(&system);
    let err = invoices.issue(export.id()).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "seller.vat_id"
        },
        "{err}"
    );
    assert_eq!(count(&s.store, "shopkeep_invoices"), 0);
    assert_eq!(count(&s.store, "shopkeep_invoice_counters"), 0);
    // The number it would have taken goes to the next invoice.
    let domestic = place(&s, &ana, "k2");
    assert_eq!(
        invoices.issue(domestic.id()).unwrap().number(),
        "INV-2026-000001"
    );
}

/// What BR-CO-26 asks of the seller in a shop saved before it was enforced: the settings and
/// the invoices issued then still read, no new document is issued (and no number burned) until
/// the seller has an identifier, and then it is.
#[test]
fn a_seller_saved_with_only_a_tax_number_is_not_invoiced_until_identified() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let earlier = issue(&s, &place(&s, &ana, "k1"));
    // The stored seller and the issued invoice's, as an older release could write them.
    let db = db(&s);
    if db.is_postgres() {
        // PostgreSQL edits JSON as jsonb, and names a trigger with its table.
        db.execute(
            "UPDATE shopkeep_settings SET document = jsonb_set(jsonb_set(document::jsonb,
                 '{seller,vat_id}', 'null'), '{seller,registration}', 'null')::text;
             DROP TRIGGER shopkeep_invoices_no_update ON shopkeep_invoices;
             UPDATE shopkeep_invoices SET seller = jsonb_set(jsonb_set(seller::jsonb,
                 '{vat_id}', 'null'), '{registration}', 'null')::text;",
        )
    } else {
        db.execute(
            "UPDATE shopkeep_settings SET document = json_set(document,
                 '$.seller.vat_id', NULL, '$.seller.registration', NULL);
             DROP TRIGGER shopkeep_invoices_no_update;
             UPDATE shopkeep_invoices SET seller = json_set(seller,
                 '$.vat_id', NULL, '$.registration', NULL);",
        )
    }
    .unwrap();

    let system = s.store.system();
    let stored = s.store.settings(&system).get().unwrap().unwrap();
    assert!(!stored.seller().is_identified());
    let read = s.store.invoices(&system).get(earlier.id()).unwrap();
    assert_eq!(read.document().totals(), earlier.document().totals());

    let order = place(&s, &ana, "k2");
    let err = s.store.invoices(&system).issue(order.id()).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "seller.identifier"
        },
        "{err}"
    );
    assert!(err.message().contains("BR-CO-26"), "{err}");
    assert_eq!(count(&s.store, "shopkeep_invoices"), 1);

    // Saving them again as they are is refused; with a VAT id they save and invoice.
    let err = stored.to_builder().build().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "seller_identifier"
        }
    );
    let fixed = stored
        .to_builder()
        .seller(seller(Some(VAT_ID)))
        .build()
        .unwrap();
    s.store
        .settings(&system)
        .update(stored.version(), &fixed)
        .unwrap();
    assert_eq!(issue(&s, &order).number(), "INV-2026-000002");
}

#[test]
fn numbers_count_per_year_of_the_shops_time_zone() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let invoices = s.store.invoices(&system);
    // 23:30 UTC on New Year's Eve is already 2027 in Berlin.
    s.clock.set(at("2026-12-31T22:30:00Z"));
    let a = place(&s, &ana, "k1");
    assert_eq!(invoices.issue(a.id()).unwrap().number(), "INV-2026-000001");
    s.clock.set(at("2026-12-31T23:30:00Z"));
    let b = place(&s, &ana, "k2");
    let inv = invoices.issue(b.id()).unwrap();
    assert_eq!(inv.number(), "INV-2027-000001");
    assert_eq!(inv.document().issue_date().to_string(), "2027-01-01");
    let c = place(&s, &ana, "k3");
    assert_eq!(invoices.issue(c.id()).unwrap().number(), "INV-2027-000002");
}

#[test]
fn another_currency_needs_an_exchange_rate_for_the_vat_accounting_total() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let order = place_in(&s, &ana, "k1", Some(Currency::CHF));
    let system = s.store.system();
    let invoices = s.store.invoices(&system);
    let err = invoices.issue(order.id()).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "exchange_rate"
        }
    );
    let err = invoices.issue_at_rate(order.id(), "-1").unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "vat_accounting"
        }
    );
    assert_eq!(count(&s.store, "shopkeep_invoices"), 0);
    let invoice = invoices.issue_at_rate(order.id(), "1.05").unwrap();
    assert_eq!(invoice.number(), "INV-2026-000001");
    let accounting = invoice.document().vat_accounting().unwrap().vat_total();
    assert_eq!(accounting.currency(), Currency::EUR);
    let chf_vat = order.vat_total().minor();
    // 1.05 EUR per CHF, rounded half away from zero.
    assert_eq!(accounting.minor(), (chf_vat * 105 + 50) / 100);
    let eur_order = place(&s, &ana, "k2");
    let err = invoices.issue_at_rate(eur_order.id(), "1.05").unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "exchange_rate"
        }
    );
}

#[test]
fn the_database_refuses_to_change_or_delete_issued_documents() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let order = place(&s, &ana, "k1");
    let invoice = issue(&s, &order);
    let db = db(&s);
    // SQLite's INSERT OR REPLACE would replace the rows; PostgreSQL has no such statement, and
    // a plain INSERT of the same rows meets the same refusal there.
    let (replace, replace_into) = if db.is_postgres() {
        ("INSERT INTO", "INSERT INTO")
    } else {
        ("INSERT OR REPLACE INTO", "REPLACE INTO")
    };
    for sql in [
        "UPDATE shopkeep_invoices SET gross_total = gross_total + 1".to_owned(),
        "UPDATE shopkeep_invoices SET number = 'INV-2026-000099'".to_owned(),
        "UPDATE shopkeep_invoice_lines SET quantity = 1".to_owned(),
        "DELETE FROM shopkeep_invoice_lines".to_owned(),
        "DELETE FROM shopkeep_invoices".to_owned(),
        "DELETE FROM shopkeep_invoice_purge".to_owned(),
        format!("{replace} shopkeep_invoices SELECT * FROM shopkeep_invoices"),
        format!("{replace_into} shopkeep_invoice_lines SELECT * FROM shopkeep_invoice_lines"),
    ] {
        let err = db.execute(&sql).unwrap_err();
        // A connection that is not shopkeep's lacks the clock the DELETE triggers read, and
        // fails closed.
        assert!(
            err.contains("cannot be changed")
                || err.contains("retention")
                || err.contains("permanent")
                || err.contains("no such function: shopkeep_now"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        s.store
            .invoices(&s.store.system())
            .get(invoice.id())
            .unwrap(),
        invoice
    );
}

/// The purge window of old could be opened by hand with any cutoff. Now the triggers compare
/// each document's own `deletable_from` with the store's clock (`shopkeep_now()`, which a
/// connection must have to delete at all), and the window row cannot be changed.
#[test]
fn retention_cannot_be_shortened_through_sql() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let order = place(&s, &ana, "k1");
    let invoice = issue(&s, &order);
    assert_eq!(invoice.deletable_from().to_string(), "2037-01-01");
    let db = db(&s);
    let err = db
        .execute("UPDATE shopkeep_invoice_purge SET open = 1, cutoff = '9999-12-31'")
        .unwrap_err();
    assert!(err.contains("retired"), "{err}");
    // A connection with a clock, as the host's own SQL through shopkeep's would have: the
    // triggers judge each document by its own retention. (SQLite's is a function the connection
    // registers; PostgreSQL's a setting of the transaction.)
    let now = Arc::new(std::sync::Mutex::new(
        "2036-12-31T23:59:59.000000Z".to_owned(),
    ));
    if let Db::Sqlite(conn) = &db {
        let clock = Arc::clone(&now);
        conn.create_scalar_function(
            "shopkeep_now",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            move |_| Ok(clock.lock().unwrap().clone()),
        )
        .unwrap();
    }
    let run = |sql: &str| match &db {
        Db::Sqlite(_) => db.execute(sql),
        Db::Postgres(_) => db.execute(&format!(
            "SET LOCAL shopkeep.now = '{}';\n{sql}",
            now.lock().unwrap()
        )),
    };
    for sql in [
        "DELETE FROM shopkeep_invoice_lines",
        "DELETE FROM shopkeep_invoices",
    ] {
        let err = run(sql).unwrap_err();
        assert!(err.contains("retention period"), "{sql}: {err}");
    }
    // A copy written by hand with a shorter retention is refused too.
    let random_id = if db.is_postgres() {
        "decode(md5(random()::text), 'hex')"
    } else {
        "randomblob(16)"
    };
    let err = run(&format!(
        "INSERT INTO shopkeep_invoices SELECT {random_id}, kind, number || '-copy', series,
             year, seq + 1000, order_id, customer_id, original_id, issue_date, currency,
             price_mode, line_net_total, allowance_total, charge_total, net_total, vat_total,
             gross_total, seller, buyer, terms, issued_at, '2027-01-01', auth_mac
         FROM shopkeep_invoices"
    ))
    .unwrap_err();
    assert!(err.contains("retention period"), "{err}");
    assert_eq!(
        s.store
            .invoices(&s.store.system())
            .get(invoice.id())
            .unwrap(),
        invoice
    );
    // 2037-01-01 has begun everywhere at 12:00 UTC (in UTC-12, the last zone to reach it).
    *now.lock().unwrap() = "2037-01-01T11:59:59.000000Z".to_owned();
    assert!(run("DELETE FROM shopkeep_invoice_lines").is_err());
    *now.lock().unwrap() = "2037-01-01T12:00:00.000000Z".to_owned();
    run("DELETE FROM shopkeep_invoice_lines").unwrap();
    run("DELETE FROM shopkeep_invoices").unwrap();
}

#[test]
fn a_tampered_document_is_reported_not_rendered() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let order = place(&s, &ana, "k1");
    let invoice = issue(&s, &order);
    let db = db(&s);
    // Only someone who drops the trigger can change a row; the read still notices.
    let on_table = if db.is_postgres() {
        " ON shopkeep_invoice_lines"
    } else {
        ""
    };
    db.execute(&format!(
        "DROP TRIGGER shopkeep_invoice_lines_no_update{on_table};
         UPDATE shopkeep_invoice_lines SET unit_price = unit_price - 1 WHERE position = 0;"
    ))
    .unwrap();
    let err = s
        .store
        .invoices(&s.store.system())
        .get(invoice.id())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
}

#[test]
fn the_retention_purge_is_the_owners_audited_way_to_delete_expired_documents() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let owner = staff(&s.store, "owner@example.com", Role::Owner);
    let accountant = staff(&s.store, "books@example.com", Role::Accountant);
    let system = s.store.system();
    let old = place(&s, &ana, "k1");
    let old_invoice = s.store.invoices(&system).issue(old.id()).unwrap();
    s.clock.set(at("2030-06-01T09:00:00Z"));
    let ana = customer(&s.store, "ana2@example.com", "DE", None);
    let newer = place(&s, &ana, "k2");
    let new_invoice = s.store.invoices(&system).issue(newer.id()).unwrap();

    // Nothing has expired yet.
    assert_eq!(s.store.invoices(&owner).purge_expired().unwrap(), 0);
    // The first invoice (2026) may go from 2037-01-01, the second (2030) from 2041-01-01.
    s.clock.set(at("2036-12-31T12:00:00Z"));
    let owner = staff(&s.store, "owner2@example.com", Role::Owner);
    let accountant_err = s.store.invoices(&accountant).purge_expired().unwrap_err();
    assert_eq!(accountant_err.kind(), ErrorKind::Forbidden);
    assert_eq!(
        s.store
            .invoices(&system)
            .purge_expired()
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(s.store.invoices(&owner).purge_expired().unwrap(), 0);
    s.clock.set(at("2037-01-01T12:00:00Z"));
    let owner = staff(&s.store, "owner3@example.com", Role::Owner);
    assert_eq!(s.store.invoices(&owner).purge_expired().unwrap(), 1);
    assert_eq!(
        s.store
            .invoices(&system)
            .get(old_invoice.id())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        s.store.invoices(&system).get(new_invoice.id()).unwrap(),
        new_invoice
    );
    assert_eq!(
        count(&s.store, "shopkeep_invoice_lines") as usize,
        new_invoice.document().lines().len()
    );
    // The window is closed again.
    let open: i64 = db(&s).int("SELECT open FROM shopkeep_invoice_purge");
    assert_eq!(open, 0);
    // The deletion and the refusals are in the audit log.
    let audit = count_where(&s.store, "shopkeep_audit", "action = 'purge_invoices'");
    // Two refusals and one deletion (purges that delete nothing leave no entry).
    assert_eq!(audit, 3);
}

#[test]
fn customers_read_their_own_invoices_only() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let bob = customer(&s.store, "bob@example.com", "DE", None);
    let order = place(&s, &ana, "k1");
    let invoice = issue(&s, &order);
    assert_eq!(s.store.invoices(&ana).get(invoice.id()).unwrap(), invoice);
    assert_eq!(
        s.store.invoices(&ana).for_order(order.id()).unwrap(),
        vec![invoice.clone()]
    );
    let err = s.store.invoices(&bob).get(invoice.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let missing = s
        .store
        .invoices(&ana)
        .get(shopkeep::invoices::InvoiceId::parse("0190e6a4-7c1a-7000-8000-000000000001").unwrap())
        .unwrap_err();
    assert_eq!(err.to_string(), missing.to_string());
    // By number: someone else's and a number that names nothing answer alike.
    let theirs = s
        .store
        .invoices(&bob)
        .by_number(invoice.number())
        .unwrap_err();
    let nothing = s
        .store
        .invoices(&bob)
        .by_number("INV-1999-000001")
        .unwrap_err();
    assert_eq!(theirs.kind(), ErrorKind::NotFound);
    assert_eq!(theirs.to_string(), nothing.to_string());
    assert_eq!(
        s.store.invoices(&ana).by_number(invoice.number()).unwrap(),
        invoice
    );
    assert_eq!(
        s.store
            .invoices(&bob)
            .for_order(order.id())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    // Customers cannot issue.
    let err = s.store.invoices(&ana).issue(order.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

#[test]
fn a_business_buyer_in_another_member_state_gets_an_intra_community_invoice() {
    let s = shop(InvoiceIssue::AtCheckout);
    let fr = customer(&s.store, "achats@example.fr", "FR", Some("FR40303265045"));
    let order = place(&s, &fr, "k1");
    let invoice = issue(&s, &order);
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    assert!(xml.contains("<cbc:ID>K</cbc:ID>"), "{xml}");
    assert!(xml.contains("FR40303265045"), "{xml}");
    assert_eq!(invoice.document().totals().vat_total().minor(), 0);
    write_corpus("issued", "issued-intra-community", &xml);
    let de = customer(&s.store, "ana@example.com", "DE", None);
    let domestic = place(&s, &de, "k2");
    let xml = issue(&s, &domestic).to_ubl(Profile::En16931).unwrap();
    write_corpus("issued", "issued-b2c-inclusive", &xml);
}

/// 8 threads issue invoices for 240 orders at once while a trigger (added to the file by the
/// test, not by shopkeep) makes every issue for an order whose number is a multiple of 10 fail
/// after its invoice number was taken. The series stays gapless and free of duplicates.
#[test]
fn concurrent_issuing_with_failures_keeps_the_series_gapless() {
    let s = shop(InvoiceIssue::AtCheckout);
    let buyers: Vec<Principal> = (0..4)
        .map(|i| customer(&s.store, &format!("c{i}@example.com"), "DE", None))
        .collect();
    let mut orders = Vec::new();
    for n in 0..240 {
        let who = &buyers[n % buyers.len()];
        orders.push(place(&s, who, &format!("k{n}")));
    }
    let db = db(&s);
    if db.is_postgres() {
        // The same trigger in PL/pgSQL.
        db.execute(
            "CREATE FUNCTION test_fail_every_tenth() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF (SELECT o.number % 10 FROM shopkeep_invoices i
                     JOIN shopkeep_orders o ON o.id = i.order_id
                     WHERE i.id = NEW.invoice_id) = 0 THEN
                     RAISE EXCEPTION 'injected failure';
                 END IF;
                 RETURN NEW;
             END;
             $$;
             CREATE TRIGGER test_fail_every_tenth BEFORE INSERT ON shopkeep_invoice_lines
             FOR EACH ROW EXECUTE FUNCTION test_fail_every_tenth();",
        )
    } else {
        db.execute(
            "CREATE TRIGGER test_fail_every_tenth BEFORE INSERT ON shopkeep_invoice_lines
             WHEN (SELECT o.number % 10 FROM shopkeep_invoices i
                   JOIN shopkeep_orders o ON o.id = i.order_id
                   WHERE i.id = NEW.invoice_id) = 0
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
    }
    .unwrap();
    // The store's file, or the schema standing in for it (see `common::open`).
    let path = s._dir.path().join("shop.db");
    let ids: Arc<Vec<(u64, shopkeep::orders::OrderId)>> =
        Arc::new(orders.iter().map(|o| (o.number().get(), o.id())).collect());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let ids = Arc::clone(&ids);
            let path = path.clone();
            let clock = s.clock.clone();
            std::thread::spawn(move || {
                // A store per thread, as separate processes would have.
                let store = open(&path, &clock);
                let system = store.system();
                let mut issued = Vec::new();
                let mut failed = Vec::new();
                for (number, id) in ids.iter().skip(t).step_by(8) {
                    match store.invoices(&system).issue(*id) {
                        Ok(inv) => issued.push((*number, inv.number().to_owned())),
                        Err(e) => failed.push((*number, e.to_string())),
                    }
                }
                (issued, failed)
            })
        })
        .collect();
    let mut issued = Vec::new();
    let mut failed = Vec::new();
    for t in threads {
        let (i, f) = t.join().unwrap();
        issued.extend(i);
        failed.extend(f);
    }
    assert_eq!(failed.len(), 24, "{failed:?}");
    for (number, why) in &failed {
        assert_eq!(number % 10, 0);
        assert!(why.contains("injected"), "{why}");
    }
    assert_eq!(issued.len(), 216);
    let numbers: BTreeSet<String> = issued.iter().map(|(_, n)| n.clone()).collect();
    let want: BTreeSet<String> = (1..=216).map(|n| format!("INV-2026-{n:06}")).collect();
    assert_eq!(numbers, want, "gapless and free of duplicates");
    let row = db
        .rows(
            "SELECT count(*), max(seq), (SELECT next FROM shopkeep_invoice_counters)
             FROM shopkeep_invoices",
        )
        .remove(0);
    let [rows, max_seq, next]: [i64; 3] = [0, 1, 2].map(|i| row[i].parse().unwrap());
    assert_eq!((rows, max_seq, next), (216, 216, 217));
}

#[test]
fn refunds_issue_credit_notes_for_exactly_what_they_return() {
    let s = shop(InvoiceIssue::OnPayment);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let orders = s.store.orders(&system);
    let invoices = s.store.invoices(&system);
    let order = place(&s, &ana, "k1");
    pay(&s.store, &order);
    let invoice = invoices.issue(order.id()).unwrap();

    let first = orders.refund(order.id(), Refund::lines([(0, 1)])).unwrap();
    let rest = orders.refund(order.id(), Refund::full()).unwrap();
    let docs = invoices.for_order(order.id()).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0], invoice);
    for (note, refund, number) in [
        (&docs[1], &first, "CN-2026-000001"),
        (&docs[2], &rest, "CN-2026-000002"),
    ] {
        assert_eq!(note.number(), number);
        assert_eq!(note.original(), Some(invoice.id()));
        assert_eq!(note.document().totals().gross_total(), refund.gross_total());
    }
    assert_eq!(
        first.gross_total().minor() + rest.gross_total().minor(),
        invoice.document().totals().gross_total().minor()
    );
    let events = s
        .store
        .events(&system)
        .poll(100, Duration::from_secs(60))
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "credit_note.issued").count(),
        2
    );
}

#[test]
fn refunding_an_order_without_an_invoice_invoices_it_first() {
    let s = shop(InvoiceIssue::OnPayment);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let order = place(&s, &ana, "k1");
    pay(&s.store, &order);
    s.store
        .orders(&system)
        .refund(order.id(), Refund::lines([(1, 1)]))
        .unwrap();
    let docs = s.store.invoices(&system).for_order(order.id()).unwrap();
    let numbers: Vec<&str> = docs.iter().map(|d| d.number()).collect();
    assert_eq!(numbers, ["INV-2026-000001", "CN-2026-000001"]);
}

#[test]
fn cancelling_or_expiring_an_invoiced_order_credits_it_in_full() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let invoices = s.store.invoices(&system);
    let cancelled = place(&s, &ana, "k1");
    let expired = place(&s, &ana, "k2");
    let uninvoiced = place(&s, &ana, "k3");
    for order in [&cancelled, &expired] {
        invoices.issue(order.id()).unwrap();
    }
    s.store
        .orders(&system)
        .cancel(cancelled.id(), "changed my mind")
        .unwrap();
    s.clock.advance(Duration::from_secs(3 * 24 * 3600));
    assert_eq!(
        s.store
            .orders(&system)
            .expire_unpaid(Duration::from_secs(24 * 3600))
            .unwrap(),
        2
    );
    for order in [&cancelled, &expired] {
        let docs = invoices.for_order(order.id()).unwrap();
        assert_eq!(docs.len(), 2, "an invoice and its credit note");
        assert_eq!(
            docs[1].document().totals().gross_total(),
            docs[0].document().totals().gross_total()
        );
        assert!(docs[1].is_credit_note());
    }
    assert!(invoices.for_order(uninvoiced.id()).unwrap().is_empty());
}

#[test]
fn shipping_and_a_coupon_are_invoiced_and_credited_as_the_order_charged_them() {
    let s = shop(InvoiceIssue::OnPayment);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let code = CouponCode::parse("TEN").unwrap();
    s.store
        .coupons(&system)
        .create(&Coupon::percent(code.clone(), 1000).unwrap())
        .unwrap();
    let me = fill(&s.store, &ana, &[(s.mug, 3), (s.book, 1)]);
    let shipping = Shipping::new("Standard shipping", eur("4.90"), TaxCategory::Standard).unwrap();
    let order = s
        .store
        .orders(&ana)
        .checkout(
            Checkout::from_cart(me, IdempotencyKey::new("k1").unwrap())
                .coupon(code)
                .shipping(shipping),
        )
        .unwrap()
        .into_order();
    assert!(!order.charge_total().is_zero());
    assert!(!order.allowance_total().is_zero());
    pay(&s.store, &order);
    let invoice = s.store.invoices(&system).issue(order.id()).unwrap();
    let totals = invoice.document().totals();
    assert_eq!(totals.charge_total(), order.charge_total());
    assert_eq!(totals.allowance_total(), order.allowance_total());
    assert_eq!(totals.gross_total(), order.total());
    let xml = invoice.to_ubl(Profile::En16931).unwrap();
    assert!(
        xml.contains("<cbc:ChargeIndicator>true</cbc:ChargeIndicator>"),
        "{xml}"
    );
    assert!(xml.contains("Standard shipping"), "{xml}");
    write_corpus("issued", "issued-coupon-shipping", &xml);

    let refund = s
        .store
        .orders(&system)
        .refund(order.id(), Refund::full().charges(true))
        .unwrap();
    assert_eq!(refund.gross_total(), order.total());
    let docs = s.store.invoices(&system).for_order(order.id()).unwrap();
    let note = &docs[1];
    assert_eq!(note.document().totals().gross_total(), order.total());
    assert_eq!(
        note.document().totals().charge_total(),
        order.charge_total()
    );
    write_corpus(
        "issued",
        "issued-credit-note-with-shipping",
        &note.to_ubl(Profile::En16931).unwrap(),
    );
}

#[test]
fn the_export_references_the_customers_invoices_and_erasure_keeps_them() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let bob = customer(&s.store, "bob@example.com", "DE", None);
    let system = s.store.system();
    let order = place(&s, &ana, "k1");
    let invoice = s.store.invoices(&system).issue(order.id()).unwrap();
    pay(&s.store, &order);
    s.store
        .orders(&system)
        .refund(order.id(), Refund::lines([(0, 1)]))
        .unwrap();
    let theirs = place(&s, &bob, "k2");
    s.store.invoices(&system).issue(theirs.id()).unwrap();

    let me = ana.customer_id().unwrap();
    let export = s.store.customers(&ana).export(me).unwrap();
    let numbers: Vec<&str> = export.invoices().iter().map(|i| i.number()).collect();
    assert_eq!(numbers, ["INV-2026-000001", "CN-2026-000001"]);
    let json = export.to_json().unwrap();
    assert!(json.contains(r#""kind": "credit_note""#), "{json}");
    assert!(json.contains(r#""corrects": "INV-2026-000001""#), "{json}");
    assert!(
        !json.contains("INV-2026-000002"),
        "another customer's invoice"
    );

    s.store.customers(&ana).erase(me).unwrap();
    // The invoice, with the buyer as it was, outlives the erasure.
    let kept = s.store.invoices(&system).get(invoice.id()).unwrap();
    assert_eq!(kept, invoice);
    let xml = kept.to_ubl(Profile::En16931).unwrap();
    assert!(xml.contains("Ana Example"));
}

#[test]
fn an_invoice_issued_after_payment_states_it_paid_and_nothing_due() {
    let s = shop(InvoiceIssue::AtCheckout);
    let ana = customer(&s.store, "ana@example.com", "DE", None);
    let system = s.store.system();
    let unpaid = place(&s, &ana, "k1");
    let paid = place(&s, &ana, "k2");
    pay_as(&s.store, &paid, &format!("psp_{}", paid.number()));
    let open = s.store.invoices(&system).issue(unpaid.id()).unwrap();
    assert_eq!(open.document().prepaid(), None);
    assert_eq!(open.document().amount_due(), unpaid.total());
    let settled = s.store.invoices(&system).issue(paid.id()).unwrap();
    assert_eq!(settled.document().prepaid(), Some(paid.total()));
    assert!(settled.document().amount_due().is_zero());
    let xml = settled.to_ubl(Profile::En16931).unwrap();
    let total = paid.total().to_decimal_string();
    assert!(xml.contains(&format!(
        r#"<cbc:PrepaidAmount currencyID="EUR">{total}</cbc:PrepaidAmount>"#
    )));
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">0.00</cbc:PayableAmount>"#));
    assert!(
        xml.contains(&format!("payment psp_{}", paid.number())),
        "{xml}"
    );
    write_corpus("issued", "issued-paid", &xml);
    // Read back, the document is the same.
    assert_eq!(
        s.store.invoices(&system).get(settled.id()).unwrap(),
        settled
    );
}

#[test]
fn a_business_buyer_with_a_leitweg_id_gets_an_xrechnung() {
    let seller = seller(Some(VAT_ID))
        .electronic_address(ElectronicAddress::new("EM", "billing@example.com").unwrap())
        .bank_account(BankAccount::new(
            Iban::parse("DE89370400440532013000").unwrap(),
        ));
    let s = stocked(invoicing(seller, InvoiceIssue::AtCheckout));
    let address = Address::new(
        "Einkauf",
        "Amtsweg 3",
        "Bonn",
        Country::parse("DE").unwrap(),
    )
    .unwrap()
    .with_postal_code("53111")
    .unwrap();
    let details = business("Stadtverwaltung Beispielstadt", "DE811907980")
        .with_buyer_reference("04011000-12345-03")
        .unwrap()
        .with_electronic_address(ElectronicAddress::new("EM", "einkauf@example.org").unwrap());
    let buyer = register(
        &s.store,
        new_customer("einkauf@example.org", "Erika Einkauf", address).business(details),
    );
    let order = place(&s, &buyer, "k1");
    assert_eq!(
        order.buyer().electronic_address().map(|e| e.value()),
        Some("einkauf@example.org")
    );
    let invoice = issue(&s, &order);
    let xml = invoice.to_ubl(Profile::XRechnung).unwrap();
    assert!(
        xml.contains("<cbc:BuyerReference>04011000-12345-03</cbc:BuyerReference>"),
        "{xml}"
    );
    assert!(xml.contains("einkauf@example.org"), "{xml}");
    write_corpus("issued-xrechnung", "issued-xrechnung", &xml);
}
