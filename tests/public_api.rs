//! No dependency's type in the public API: shopkeep's types do not implement rusqlite's traits
//! and its error does not convert from rusqlite's, so a rusqlite major version cannot break a
//! host that compiles today.
// The constants are the answers under test: compile-time facts about the API.
#![allow(clippy::assertions_on_constants)]

use std::marker::PhantomData;

// Each `<ProbeX<T>>::CONST` is `true` exactly when `T` has the trait: the inherent constant
// (which needs the bound) shadows the blanket trait's default `false`.
struct Probe<T: ?Sized>(PhantomData<T>);
trait Lacks {
    const FROM_SQLITE: bool = false;
}
impl<T: ?Sized> Lacks for Probe<T> {}
impl<T: From<rusqlite::Error>> Probe<T> {
    const FROM_SQLITE: bool = true;
}

struct ToSqlProbe<T: ?Sized>(PhantomData<T>);
trait LacksToSql {
    const TO_SQL: bool = false;
}
impl<T: ?Sized> LacksToSql for ToSqlProbe<T> {}
impl<T: ?Sized + rusqlite::ToSql> ToSqlProbe<T> {
    const TO_SQL: bool = true;
}

struct FromSqlProbe<T: ?Sized>(PhantomData<T>);
trait LacksFromSql {
    const FROM_SQL: bool = false;
}
impl<T: ?Sized> LacksFromSql for FromSqlProbe<T> {}
impl<T: rusqlite::types::FromSql> FromSqlProbe<T> {
    const FROM_SQL: bool = true;
}

/// Whether `$t` implements rusqlite's `ToSql` or `FromSql`.
macro_rules! sql_traits {
    ($($t:ty),* $(,)?) => {
        vec![$((stringify!($t), <ToSqlProbe<$t>>::TO_SQL || <FromSqlProbe<$t>>::FROM_SQL)),*]
    };
}

#[test]
fn no_public_type_implements_rusqlites_traits() {
    // The probes see the traits where they are.
    assert_eq!(sql_traits!(i64, String), [("i64", true), ("String", true)]);
    let leaks: Vec<&str> = sql_traits!(
        shopkeep::customers::AddressId,
        shopkeep::access::ApiKeyId,
        shopkeep::orders::CartId,
        shopkeep::access::CustomerId,
        shopkeep::events::EventId,
        shopkeep::invoices::InvoiceId,
        shopkeep::orders::OrderId,
        shopkeep::catalog::ProductId,
        shopkeep::orders::RefundId,
        shopkeep::access::StaffId,
        shopkeep::catalog::VariantId,
        shopkeep::clock::Timestamp,
        shopkeep::catalog::Sku,
        shopkeep::access::Role,
        shopkeep::catalog::TaxCategory,
        shopkeep::catalog::SupplyKind,
        shopkeep::Money,
        shopkeep::Currency,
        shopkeep::Email,
        shopkeep::customers::Country,
        shopkeep::orders::OrderStatus,
        shopkeep::integrations::webhooks::EndpointId,
        shopkeep::integrations::webhooks::DeliveryId,
        shopkeep::integrations::webhooks::EndpointUrl,
        shopkeep::integrations::webhooks::DeliveryStatus,
        shopkeep::marketing::SuppressionId,
        shopkeep::marketing::SuppressionReason,
    )
    .into_iter()
    .filter(|(_, has)| *has)
    .map(|(name, _)| name)
    .collect();
    assert!(
        leaks.is_empty(),
        "rusqlite traits in the public API: {leaks:?}"
    );
}

#[test]
fn the_error_does_not_convert_from_rusqlite_errors() {
    // The probe sees a conversion where there is one.
    assert!(<Probe<Box<dyn std::error::Error>>>::FROM_SQLITE);
    assert!(!<Probe<shopkeep::Error>>::FROM_SQLITE);
}
