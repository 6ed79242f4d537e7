//! No dependency's type in the public API: shopkeep's types do not implement rusqlite's traits
//! and its error does not convert from rusqlite's, so a rusqlite major version cannot break a
//! host that compiles today.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::marker::PhantomData;

// `<Probe<T>>::FROM_SQLITE` is `true` exactly when `T: From<rusqlite::Error>`: the inherent
// constant (which needs the bound) shadows the blanket trait's default.
struct Probe<T: ?Sized>(PhantomData<T>);
trait Lacks {
    const FROM_SQLITE: bool = false;
}
impl<T: ?Sized> Lacks for Probe<T> {}
impl<T: ?Sized + From<rusqlite::Error>> Probe<T> {
    const FROM_SQLITE: bool = true;
}

#[test]
fn the_error_does_not_convert_from_rusqlite_errors() {
    // The probe sees a conversion where there is one.
    assert!(<Probe<Box<dyn std::error::Error>>>::FROM_SQLITE);
    assert!(!<Probe<shopkeep::Error>>::FROM_SQLITE);
}
