//! Authenticated authority: someone who can write the database file, but has not the master
//! key, edits the columns that say who owns a row or what it lets someone do. Every such edit
//! must turn the next read into a `Crypto` error, never into access (docs/security.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{
    PASSWORD, Shop, address, eur, new_customer, open, place, product, raw, register, seller,
    settings, shop_with, uuid_bytes,
};
use shopkeep::access::{NewApiKey, NewStaff, Role, StaffMember};
use shopkeep::catalog::{InvoiceIssue, TaxCategory, VariantId};
use shopkeep::crypto::Password;
use shopkeep::customers::{Channel, ConsentRequest};
use shopkeep::orders::PriceMode;
use shopkeep::{Email, ErrorKind, Principal, Store};

/// A shop that invoices, with a mug in stock.
fn shop() -> (Shop, VariantId) {
    let settings = settings(seller(Some("DE123456788")), PriceMode::TaxInclusive)
        .invoice_issue(InvoiceIssue::AtCheckout)
        .build()
        .unwrap();
    let shop = shop_with(settings);
    let mug = product(
        &shop.store,
        "MUG",
        eur("12.90"),
        TaxCategory::Standard,
        1000,
    );
    (shop, mug)
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn customer(store: &Store, email: &str) -> Principal {
    register(store, new_customer(email, "Ana Example", address("DE")))
}

fn id_bytes(id: impl std::fmt::Display) -> Vec<u8> {
    uuid_bytes(&id.to_string())
}

/// `id` as a binary literal of the store's engine.
fn id_sql(store: &Store, id: impl std::fmt::Display) -> String {
    common::db::blob(store, &id_bytes(id))
}

/// Runs `sql` behind shopkeep's back on the store's own database (its SQLite file or its
/// PostgreSQL schema), as the attacker would; it must change exactly one row.
fn tamper(store: &Store, sql: &str) {
    assert_eq!(common::db::execute(store, sql), 1, "{sql}");
}

fn assert_crypto<T: std::fmt::Debug>(result: shopkeep::Result<T>) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto, "{err}");
}

fn staff_member(store: &Store, email_text: &str, role: Role) -> StaffMember {
    let new = NewStaff::new(email(email_text), "Staff", role, Password::new(PASSWORD)).unwrap();
    store.staff(&store.system()).create(new).unwrap()
}

#[test]
fn an_order_moved_to_another_customer_is_refused() {
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    let mallory = customer(store, "mallory@example.com");
    let order = place(store, &ana, &[(mug, 1)], None);

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_orders SET customer_id = {} WHERE id = {}",
            id_sql(store, mallory.customer_id().unwrap()),
            id_sql(store, order.id()),
        ),
    );

    assert_crypto(store.orders(&mallory).get(order.id()));
    assert_crypto(store.orders(&store.system()).get(order.id()));
    assert_crypto(
        store
            .orders(&mallory)
            .list_for(mallory.customer_id().unwrap(), None, 50),
    );
}

#[test]
fn the_expiry_job_does_not_name_the_customer_of_a_moved_order() {
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    let mallory = customer(store, "mallory@example.com");
    let order = place(store, &ana, &[(mug, 1)], None);
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_orders SET customer_id = {} WHERE id = {}",
            id_sql(store, mallory.customer_id().unwrap()),
            id_sql(store, order.id()),
        ),
    );
    shop.clock.advance(Duration::from_secs(3 * 24 * 3600));
    assert_crypto(
        store
            .orders(&store.system())
            .expire_unpaid(Duration::from_secs(24 * 3600)),
    );
}

#[test]
fn an_invoice_moved_to_another_customer_or_order_is_refused() {
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    let mallory = customer(store, "mallory@example.com");
    let order = place(store, &ana, &[(mug, 1)], None);
    let own = place(store, &mallory, &[(mug, 1)], None);
    let system = store.system();
    let invoice = store.invoices(&system).issue(order.id()).unwrap();

    // The immutability trigger stops SQL misuse, not someone who can drop it.
    let on_table = if common::db::Db::of(store).is_postgres() {
        " ON shopkeep_invoices"
    } else {
        ""
    };
    common::db::run(
        store,
        &format!("DROP TRIGGER shopkeep_invoices_no_update{on_table}"),
    );
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_invoices SET customer_id = {} WHERE id = {}",
            id_sql(store, mallory.customer_id().unwrap()),
            id_sql(store, invoice.id()),
        ),
    );
    assert_crypto(store.invoices(&mallory).get(invoice.id()));
    assert_crypto(store.invoices(&system).get(invoice.id()));

    // Put the customer back and point the invoice at Mallory's own order instead.
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_invoices SET customer_id = {}, order_id = {} WHERE id = {}",
            id_sql(store, ana.customer_id().unwrap()),
            id_sql(store, own.id()),
            id_sql(store, invoice.id()),
        ),
    );
    assert_crypto(store.invoices(&system).get(invoice.id()));
}

#[test]
fn a_customer_password_hash_copied_from_another_account_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    customer(store, "ana@example.com");
    let mallory_password = "mallory's own long passphrase";
    let mallory = store
        .customers(&Principal::anonymous())
        .register(
            shopkeep::customers::NewCustomer::new(
                email("mallory@example.com"),
                Password::new(mallory_password),
                "Mallory",
            )
            .unwrap(),
        )
        .unwrap();

    // Mallory's hash is a valid argon2id hash of a password she knows.
    let mallory_id = id_sql(store, mallory.id());
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_customers
             SET password_hash = (SELECT password_hash FROM shopkeep_customers WHERE id = {mallory_id})
             WHERE id != {mallory_id}"
        ),
    );
    assert_crypto(store.login(&email("ana@example.com"), &Password::new(mallory_password)));
    // Her own account is untouched.
    store
        .login(
            &email("mallory@example.com"),
            &Password::new(mallory_password),
        )
        .unwrap();
}

/// Addresses carry no auth MAC: each is sealed under its own customer's data key, which already
/// binds it (docs/security.md). This holds that line.
#[test]
fn an_address_moved_to_another_customer_does_not_open() {
    let (shop, _) = shop();
    let store = &shop.store;
    customer(store, "ana@example.com");
    let mallory = store
        .customers(&Principal::anonymous())
        .register(
            shopkeep::customers::NewCustomer::new(
                email("mallory@example.com"),
                Password::new(PASSWORD),
                "Mallory",
            )
            .unwrap(),
        )
        .unwrap()
        .id();
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_customer_addresses SET customer_id = {}",
            id_sql(store, mallory)
        ),
    );
    assert_crypto(store.customers(&store.system()).addresses(mallory));
}

#[test]
fn a_reset_token_moved_to_another_customer_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    customer(store, "mallory@example.com");
    let token = store
        .request_password_reset(&email("mallory@example.com"))
        .unwrap()
        .unwrap();

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_customer_tokens SET customer_id = {}",
            id_sql(store, ana.customer_id().unwrap())
        ),
    );
    assert_crypto(store.reset_password(&token, &Password::new("a new password for ana's account")));
    // Ana's password still works.
    store
        .login(&email("ana@example.com"), &Password::new(PASSWORD))
        .unwrap();
}

#[test]
fn an_unsubscribe_link_moved_to_another_customer_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    let system = store.system();
    let consents = store.consents(&system);
    let ana = customer(store, "ana@example.com").customer_id().unwrap();
    let mallory = customer(store, "mallory@example.com")
        .customer_id()
        .unwrap();
    let sms = || ConsentRequest::new(Channel::Sms, "checkout", "sms-v1").unwrap();
    consents.grant(ana, sms()).unwrap();
    let link = consents.unsubscribe_token(mallory, Channel::Sms).unwrap();

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_customer_unsubscribe SET customer_id = {} WHERE customer_id = {}",
            id_sql(store, ana),
            id_sql(store, mallory),
        ),
    );
    assert_crypto(store.unsubscribe(&link));
    let granted = consents.state(ana).unwrap();
    assert!(
        granted.iter().any(|s| s.is_granted()),
        "Ana's consent stands"
    );
}

#[test]
fn a_staff_role_raised_by_hand_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    staff_member(store, "owner@example.com", Role::Owner);
    let clerk = staff_member(store, "clerk@example.com", Role::Warehouse);
    let login = store
        .login_staff(&email("clerk@example.com"), &Password::new(PASSWORD))
        .unwrap();

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_staff SET role = 'owner' WHERE id = {}",
            id_sql(store, clerk.id())
        ),
    );
    assert_crypto(store.principal_from_session(login.token()));
    assert_crypto(store.login_staff(&email("clerk@example.com"), &Password::new(PASSWORD)));
    assert_crypto(store.staff(&store.system()).get(clerk.id()));
    assert_crypto(store.staff(&store.system()).list());
}

#[test]
fn an_owner_made_by_hand_does_not_count_as_another_owner() {
    let (shop, _) = shop();
    let store = &shop.store;
    let owner = staff_member(store, "owner@example.com", Role::Owner);
    let clerk = staff_member(store, "clerk@example.com", Role::Warehouse);
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_staff SET role = 'owner' WHERE id = {}",
            id_sql(store, clerk.id())
        ),
    );
    // Demoting or disabling the one real owner would leave the shop to the forged one.
    assert_crypto(
        store
            .staff(&store.system())
            .change_role(owner.id(), Role::Manager),
    );
    assert_crypto(store.staff(&store.system()).disable(owner.id()));
    assert_eq!(
        store.staff(&store.system()).get(owner.id()).unwrap().role(),
        Role::Owner
    );
}

#[test]
fn a_staff_password_hash_or_disabled_account_edited_by_hand_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    let owner = staff_member(store, "owner@example.com", Role::Owner);
    let clerk = staff_member(store, "clerk@example.com", Role::Warehouse);
    let system = store.system();

    // The clerk's hash on the owner's account: the clerk's password would log in as the owner.
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_staff
             SET password_hash = (SELECT password_hash FROM shopkeep_staff WHERE id = {})
             WHERE id = {}",
            id_sql(store, clerk.id()),
            id_sql(store, owner.id()),
        ),
    );
    assert_crypto(store.login_staff(&email("owner@example.com"), &Password::new(PASSWORD)));

    // A disabled account enabled again by clearing `disabled_at`.
    store.staff(&system).disable(clerk.id()).unwrap();
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_staff SET disabled_at = NULL WHERE id = {}",
            id_sql(store, clerk.id())
        ),
    );
    assert_crypto(store.login_staff(&email("clerk@example.com"), &Password::new(PASSWORD)));
}

#[test]
fn a_session_handed_to_another_holder_or_extended_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    let owner = staff_member(store, "owner@example.com", Role::Owner);
    let ana = customer(store, "ana@example.com");
    // Registered without a login, so that the one login below is her only session.
    let mallory = store
        .customers(&Principal::anonymous())
        .register(new_customer(
            "mallory@example.com",
            "Mallory",
            address("DE"),
        ))
        .unwrap();
    let login = store
        .login(&email("mallory@example.com"), &Password::new(PASSWORD))
        .unwrap();
    store.principal_from_session(login.token()).unwrap();
    let hash = common::db::blob(
        store,
        &common::db::bytes(
            store,
            "token_hash",
            &format!(
                "shopkeep_sessions WHERE holder_id = {}",
                id_sql(store, mallory.id())
            ),
        ),
    );

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_sessions SET holder_id = {} WHERE token_hash = {hash}",
            id_sql(store, ana.customer_id().unwrap()),
        ),
    );
    assert_crypto(store.principal_from_session(login.token()));

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_sessions SET holder_kind = 'staff', holder_id = {} \
             WHERE token_hash = {hash}",
            id_sql(store, owner.id()),
        ),
    );
    assert_crypto(store.principal_from_session(login.token()));

    // Back to Mallory, but with an expiry pushed into the future.
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_sessions SET holder_kind = 'customer', holder_id = {},
                 expires_at = '2099-01-01T00:00:00.000000Z' WHERE token_hash = {hash}",
            id_sql(store, mallory.id()),
        ),
    );
    assert_crypto(store.principal_from_session(login.token()));
}

#[test]
fn an_api_key_role_raised_by_hand_is_refused() {
    let (shop, _) = shop();
    let store = &shop.store;
    let system = store.system();
    let created = store
        .api_keys(&system)
        .create(NewApiKey::new("stock sync", Role::Warehouse).unwrap())
        .unwrap();
    assert_eq!(
        store
            .principal_from_api_key(created.secret())
            .unwrap()
            .role(),
        Some(Role::Warehouse)
    );

    tamper(
        store,
        &format!(
            "UPDATE shopkeep_api_keys SET role = 'owner' WHERE id = {}",
            id_sql(store, created.info().id())
        ),
    );
    assert_crypto(store.principal_from_api_key(created.secret()));
    assert_crypto(store.api_keys(&system).list());
    assert_crypto(store.api_keys(&system).get(created.info().id()));
}

#[test]
fn a_deleted_mac_is_refused_like_a_wrong_one() {
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    let order = place(store, &ana, &[(mug, 1)], None);
    tamper(
        store,
        &format!(
            "UPDATE shopkeep_orders SET auth_mac = NULL WHERE id = {}",
            id_sql(store, order.id())
        ),
    );
    assert_crypto(store.orders(&ana).get(order.id()));
}

/// The tables whose rows carry an auth MAC.
const BOUND_TABLES: [&str; 7] = [
    "shopkeep_customers",
    "shopkeep_customer_tokens",
    "shopkeep_staff",
    "shopkeep_sessions",
    "shopkeep_api_keys",
    "shopkeep_orders",
    "shopkeep_invoices",
];

/// The schema version that added the auth MACs.
const AUTH_MACS: u32 = 13;

/// Takes the file at `path` back to the schema before the auth MACs (`AUTH_MACS` - 1), keeping
/// its rows: what a store written by an older shopkeep looks like. Later migrations are undone
/// first: marketing (14) added tables of its own and rebuilt the staff and API key tables
/// with every column, which running it again after the auth MACs does the same way; query
/// indexes (15) and the report index (18) added indexes only; leads (16), webhooks (17) and
/// payments (19, with an index on the order payments) added tables of their own, as did the
/// suppression list and the leads' unsubscribe tokens (22) and campaigns (23).
fn downgrade(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(common::newer_tables::DROP_TABLES_SINCE_22)
        .unwrap();
    conn.execute_batch(
        "DROP TABLE shopkeep_order_attribution;
         DROP TABLE shopkeep_customer_scores;
         DROP TABLE shopkeep_lead_activities;
         DROP TABLE shopkeep_lead_tokens;
         DROP TABLE shopkeep_leads;
         DROP TABLE shopkeep_webhook_attempts;
         DROP TABLE shopkeep_webhook_deliveries;
         DROP TABLE shopkeep_webhook_subscriptions;
         DROP TABLE shopkeep_webhook_endpoints;
         DROP TABLE shopkeep_webhook_cursor;
         DROP TABLE shopkeep_gateway_events;
         DROP TABLE shopkeep_gateway_payments;
         DROP TABLE shopkeep_gateway_refunds;
         DROP TABLE shopkeep_gateway_disputes;
         DROP INDEX shopkeep_order_payments_by_paid_at;
         DROP INDEX shopkeep_orders_by_placed;
         DROP INDEX shopkeep_orders_for_reports;
         DROP INDEX shopkeep_invoices_by_order;
         DROP INDEX shopkeep_products_by_status;
         DROP INDEX shopkeep_products_by_tax_category;
         DROP INDEX shopkeep_products_by_status_tax_category;
         DROP INDEX shopkeep_customers_erased;
         DELETE FROM shopkeep_schema WHERE version > 13;",
    )
    .unwrap();
    conn.execute_batch("DROP TRIGGER shopkeep_invoices_no_update")
        .unwrap();
    for table in BOUND_TABLES {
        conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN auth_mac"))
            .unwrap();
    }
    conn.execute_batch(
        "CREATE TRIGGER shopkeep_invoices_no_update BEFORE UPDATE ON shopkeep_invoices
         BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note'); END;",
    )
    .unwrap();
    conn.execute(
        "DELETE FROM shopkeep_schema WHERE version = ?1",
        [AUTH_MACS],
    )
    .unwrap();
}

/// The number of rows of each bound table and how many of them lack a MAC.
fn macs(store: &Store) -> Vec<(&'static str, i64, i64)> {
    let conn = raw(store);
    BOUND_TABLES
        .iter()
        .map(|table| {
            let (rows, missing) = conn
                .query_row(
                    &format!("SELECT count(*), count(*) - count(auth_mac) FROM {table}"),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            (*table, rows, missing)
        })
        .collect()
}

/// A store written before auth MACs existed gets a MAC on every row when it is opened, in the
/// migration's own transaction; it keeps working, and is protected from then on.
#[test]
fn an_older_store_is_upgraded_with_a_mac_on_every_row() {
    if common::sqlite_only("downgrades the SQLite file's schema by hand to upgrade it again") {
        return;
    }
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    let order = place(store, &ana, &[(mug, 1)], None);
    let invoice = store.invoices(&store.system()).issue(order.id()).unwrap();
    let clerk = staff_member(store, "clerk@example.com", Role::Warehouse);
    let key = store
        .api_keys(&store.system())
        .create(NewApiKey::new("stock sync", Role::Warehouse).unwrap())
        .unwrap();
    let token = store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    let path = store.path().unwrap().to_path_buf();
    let version = store.schema_version().unwrap();
    drop(shop.store);
    downgrade(&path);

    let store = open(&path, &shop.clock);
    assert_eq!(store.schema_version().unwrap(), version);
    for (table, rows, missing) in macs(&store) {
        assert!(rows > 0, "{table} has rows to upgrade");
        assert_eq!(missing, 0, "{table}");
    }

    // Everything still works through the upgraded rows...
    let login = store
        .login(&email("ana@example.com"), &Password::new(PASSWORD))
        .unwrap();
    let ana = store.principal_from_session(login.token()).unwrap();
    store.orders(&ana).get(order.id()).unwrap();
    store.invoices(&ana).get(invoice.id()).unwrap();
    store.staff(&store.system()).get(clerk.id()).unwrap();
    store.principal_from_api_key(key.secret()).unwrap();
    store
        .reset_password(&token, &Password::new("a brand new long passphrase"))
        .unwrap();

    // ...and the upgraded rows are protected like new ones.
    tamper(
        &store,
        &format!(
            "UPDATE shopkeep_staff SET role = 'owner' WHERE id = {}",
            id_sql(&store, clerk.id())
        ),
    );
    assert_crypto(store.staff(&store.system()).get(clerk.id()));
}

/// An upgrade that fails half-way (here: a row it cannot write) leaves the file exactly at the
/// older version, with no MAC column at all; the next open does the whole upgrade.
#[test]
fn an_upgrade_that_fails_half_way_leaves_the_older_schema_whole() {
    if common::sqlite_only("downgrades the SQLite file's schema by hand to upgrade it again") {
        return;
    }
    let (shop, mug) = shop();
    let store = &shop.store;
    let ana = customer(store, "ana@example.com");
    place(store, &ana, &[(mug, 1)], None);
    let path = store.path().unwrap().to_path_buf();
    let version = store.schema_version().unwrap();
    drop(shop.store);
    downgrade(&path);
    // Orders are MACed after customers, tokens, staff, sessions and API keys.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER block BEFORE UPDATE ON shopkeep_orders
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();

    let err = Store::options()
        .password_params(shopkeep::crypto::PasswordParams::insecure_for_tests())
        .clock(shop.clock.clone())
        .open(&path, shopkeep::KeyRing::from_master_key([8; 32]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let recorded: u32 = conn
        .query_row("SELECT max(version) FROM shopkeep_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, AUTH_MACS - 1);
    for table in BOUND_TABLES {
        let has_mac: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = 'auth_mac')",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_mac, "{table} kept half an upgrade");
    }

    conn.execute_batch("DROP TRIGGER block").unwrap();
    drop(conn);
    let store = open(&path, &shop.clock);
    assert_eq!(store.schema_version().unwrap(), version);
    assert!(macs(&store).iter().all(|(_, _, missing)| *missing == 0));
}
