//! Catalogue tests that need crate internals: what checkout calls inside its transaction, and
//! the schema's own backstops.

use super::{Sellable, sellable, take_stock};
use crate::sql::args;
use crate::{
    Currency, ErrorKind, KeyRing, Money, NewProduct, ProductUpdate, Sku, StockChange, Store,
    SupplyKind, TaxCategory, VariantId,
};

fn store() -> Store {
    Store::open_in_memory(KeyRing::from_master_key([4; 32])).unwrap()
}

fn mug(store: &Store, tracked: bool) -> (crate::Product, VariantId) {
    let new = NewProduct::new(Sku::parse("MUG-1").unwrap(), "Mug", TaxCategory::Reduced)
        .unwrap()
        .price(Money::new(1290, Currency::EUR))
        .track_stock(tracked);
    let product = store.products(&store.system()).create(new).unwrap();
    let variant = product.variants()[0].id();
    (product, variant)
}

#[test]
fn sellable_reads_price_and_tax_category_inside_a_transaction() {
    let store = store();
    let (product, variant) = mug(&store, true);
    let got = store
        .read(|tx| sellable(tx, variant, Currency::EUR))
        .unwrap();
    assert_eq!(
        got,
        Sellable {
            product: product.id(),
            variant,
            sku: Sku::parse("MUG-1").unwrap(),
            name: "Mug".to_owned(),
            tax_category: TaxCategory::Reduced,
            supply_kind: SupplyKind::Goods,
            unit_price: Money::new(1290, Currency::EUR),
        }
    );
    let err = store
        .read(|tx| sellable(tx, variant, Currency::CHF))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "currency" });
    let missing = VariantId::from_bytes([9; 16]);
    let err = store
        .read(|tx| sellable(tx, missing, Currency::EUR))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    store
        .products(&store.system())
        .archive(product.id(), 1)
        .unwrap();
    let err = store
        .read(|tx| sellable(tx, variant, Currency::EUR))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "variant" });
}

#[test]
fn take_stock_decrements_in_the_callers_transaction_and_rolls_back_with_it() {
    let store = store();
    let system = store.system();
    let (product, variant) = mug(&store, true);
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(3))
        .unwrap();

    let moved = store
        .write(|tx| take_stock(tx, &system, variant, 2, "ORDER-1"))
        .unwrap()
        .unwrap();
    assert_eq!(moved.level_after(), 1);
    assert_eq!(moved.note(), Some("ORDER-1"));

    // The caller's later failure undoes the decrement.
    let err = store
        .write(|tx| {
            take_stock(tx, &system, variant, 1, "ORDER-2")?;
            Err::<(), _>(crate::Error::new(ErrorKind::Conflict, "payment refused"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let level = |s: &Store| s.products(&system).get(product.id()).unwrap().variants()[0].on_hand();
    assert_eq!(level(&store), Some(1));

    let err = store
        .write(|tx| take_stock(tx, &system, variant, 2, "ORDER-3"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfStock);
    assert_eq!(level(&store), Some(1));

    store.products(&system).archive(product.id(), 1).unwrap();
    let err = store
        .write(|tx| take_stock(tx, &system, variant, 1, "ORDER-4"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "variant" });
    assert_eq!(
        store.stock(&system).ledger(variant, 0, 10).unwrap().len(),
        2
    );
}

#[test]
fn untracked_stock_is_never_taken() {
    let store = store();
    let system = store.system();
    let (_, variant) = mug(&store, false);
    let moved = store
        .write(|tx| take_stock(tx, &system, variant, 1000, "ORDER-1"))
        .unwrap();
    assert!(moved.is_none());
    let err = store
        .stock(&system)
        .adjust(variant, StockChange::receipt(1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "variant" });
}

#[test]
fn the_schema_refuses_negative_stock_and_ledger_edits() {
    let store = store();
    let system = store.system();
    let (_, variant) = mug(&store, true);
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(1))
        .unwrap();
    let err = store
        .write(|tx| {
            tx.execute(
                "UPDATE shopkeep_variants SET stock = stock - 2 WHERE id = ?1",
                args![variant],
            )?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "CHECK (stock >= 0)");
    for sql in [
        "UPDATE shopkeep_stock_ledger SET delta = 5",
        "DELETE FROM shopkeep_stock_ledger",
    ] {
        let err = store
            .write(|tx| tx.execute(sql, args![]).map(drop))
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn fts5_is_compiled_in_and_the_index_follows_renames() {
    let store = store();
    let system = store.system();
    let (product, _) = mug(&store, true);
    let options: Vec<String> = store
        .read(|tx| tx.query_map("PRAGMA compile_options", args![], |r| r.get(0)))
        .unwrap();
    assert!(options.iter().any(|o| o == "ENABLE_FTS5"), "{options:?}");

    let products = store.products(&system);
    products
        .update(product.id(), 1, ProductUpdate::new().name("Teapot"))
        .unwrap();
    assert!(products.search("mug", 10).unwrap().is_empty());
    assert_eq!(products.search("teapot", 10).unwrap().len(), 1);
    let indexed: i64 = store
        .read(|tx| {
            tx.query_row("SELECT count(*) FROM shopkeep_products_fts", args![], |r| {
                r.get(0)
            })
        })
        .unwrap();
    assert_eq!(indexed, 1);
}

#[test]
fn customers_see_only_active_products_like_visitors() {
    let store = store();
    let (product, _) = mug(&store, true);
    store
        .products(&store.system())
        .archive(product.id(), 1)
        .unwrap();
    let customer = crate::Principal::customer(crate::CustomerId::from_bytes([3; 16]));
    let products = store.products(&customer);
    assert_eq!(
        products.get(product.id()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(
        products
            .list(&crate::ProductQuery::new())
            .unwrap()
            .items()
            .is_empty()
    );
    assert!(products.search("mug", 10).unwrap().is_empty());
}

/// Valid shop settings with `days` of payment terms.
fn settings(days: u16) -> crate::ShopSettings {
    let de = crate::Country::parse("DE").unwrap();
    let seller = crate::Seller::new(
        "Test GmbH",
        crate::PostalAddress::new("Main St 1", "10115", "Berlin", de).unwrap(),
        crate::Contact::new(
            "Olga",
            crate::Phone::parse("+49 30 1234567").unwrap(),
            crate::Email::parse("olga@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number("27/123/45678")
    .unwrap()
    .registration("HRB 12345, Amtsgericht Berlin")
    .unwrap();
    crate::ShopSettings::builder(seller, crate::PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(crate::TaxTable::new().country(
            de,
            crate::CountryTaxes::new(crate::TaxRate::parse("19").unwrap()),
        ))
        .payment_terms_days(days)
        .build()
        .unwrap()
}

#[test]
fn each_store_reads_its_own_settings_and_sees_edits_made_outside_shopkeep() {
    let start = crate::Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let open = || {
        Store::options()
            .clock(crate::ManualClock::new(start))
            .open_in_memory(KeyRing::from_master_key([4; 32]))
            .unwrap()
    };
    // Two stores whose settings have the same version and time but different content.
    let (a, b) = (open(), open());
    a.settings(&a.system()).update(0, &settings(14)).unwrap();
    b.settings(&b.system()).update(0, &settings(30)).unwrap();
    let terms = |s: &Store| {
        s.read(super::current_settings)
            .unwrap()
            .unwrap()
            .payment_terms_days()
    };
    for _ in 0..2 {
        assert_eq!(terms(&a), 14);
        assert_eq!(terms(&b), 30);
    }

    // A document changed behind shopkeep's back (same version, same time) is read again.
    a.write(|tx| {
        tx.execute(
            "UPDATE shopkeep_settings SET document =
                 replace(document, '\"payment_terms_days\":14', '\"payment_terms_days\":21')",
            args![],
        )?;
        Ok(())
    })
    .unwrap();
    assert_eq!(terms(&a), 21);
}

#[test]
fn the_supply_kind_is_stored_read_changed_and_sold_and_defaults_to_goods() {
    let store = store();
    let system = store.system();
    let (mug, _) = mug(&store, true);
    assert_eq!(mug.supply_kind(), SupplyKind::Goods);
    let new = NewProduct::new(
        Sku::parse("SUPPORT").unwrap(),
        "Support",
        TaxCategory::Standard,
    )
    .unwrap()
    .supply_kind(SupplyKind::Services)
    .price(Money::new(9900, Currency::EUR))
    .track_stock(false);
    let support = store.products(&system).create(new).unwrap();
    assert_eq!(support.supply_kind(), SupplyKind::Services);
    let read = store.products(&system).get(support.id()).unwrap();
    assert_eq!(read.supply_kind(), SupplyKind::Services);
    let variant = support.variants()[0].id();
    let sold = store
        .read(|tx| sellable(tx, variant, Currency::EUR))
        .unwrap();
    assert_eq!(sold.supply_kind, SupplyKind::Services);

    let changed = store
        .products(&system)
        .update(
            support.id(),
            support.version(),
            ProductUpdate::new().supply_kind(SupplyKind::Goods),
        )
        .unwrap();
    assert_eq!(changed.supply_kind(), SupplyKind::Goods);
    // An update that does not name the kind keeps it.
    let renamed = store
        .products(&system)
        .update(
            mug.id(),
            mug.version(),
            ProductUpdate::new().name("Big mug"),
        )
        .unwrap();
    assert_eq!(renamed.supply_kind(), SupplyKind::Goods);

    // Rows written without the column (as every product before migration 0011) are goods;
    // the schema refuses any other kind.
    let kind: String = store
        .write(|tx| {
            tx.execute(
                "INSERT INTO shopkeep_skus (sku, product_id) VALUES ('OLD', ?1)",
                args![[7u8; 16]],
            )?;
            tx.execute(
                "INSERT INTO shopkeep_products
                     (id, sku, name, description, tax_category, status, created_at, updated_at)
                 VALUES (?1, 'OLD', 'Old', '', 'standard', 'active', 'now', 'now')",
                args![[7u8; 16]],
            )?;
            tx.query_row(
                "SELECT supply_kind FROM shopkeep_products WHERE sku = 'OLD'",
                args![],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(kind, "goods");
    let err = store
        .write(|tx| {
            tx.execute(
                "UPDATE shopkeep_products SET supply_kind = 'digital' WHERE sku = 'OLD'",
                args![],
            )
            .map(drop)
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("supply_kind"), "{err}");
}
