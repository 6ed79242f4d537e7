//! Customer tests that need crate-private access: how much argon2 work each login path does.
#![cfg(feature = "insecure-test-params")]

use std::time::Duration;

use crate::crypto::{Password, PasswordParams};
use crate::{Email, ErrorKind, KeyRing, LoginThrottle, NewCustomer, Principal, Store};

fn store() -> Store {
    let throttle = LoginThrottle::new(2, Duration::from_secs(60), Duration::from_secs(60)).unwrap();
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .login_throttle(throttle)
        .open_in_memory(KeyRing::from_master_key([4; 32]))
        .unwrap()
}

/// The argon2 verifications one call performs, and its error kind.
fn cost(store: &Store, email: &str, password: &str) -> (u64, Option<ErrorKind>) {
    let before = store.passwords().verifications_performed();
    let outcome = store.login(&Email::parse(email).unwrap(), &Password::new(password));
    let after = store.passwords().verifications_performed();
    (after - before, outcome.err().map(|e| e.kind()))
}

#[test]
fn unknown_and_known_emails_cost_one_verification_and_throttled_ones_none() {
    let store = store();
    let pw = "a perfectly long test passphrase";
    let new = NewCustomer::new(
        Email::parse("ana@example.com").unwrap(),
        Password::new(pw),
        "Ana",
    );
    store
        .customers(&Principal::anonymous())
        .register(new.unwrap())
        .unwrap();
    let no = Some(ErrorKind::Unauthenticated);
    let wait = Some(ErrorKind::TooManyAttempts);
    for email in ["ana@example.com", "ghost@example.com"] {
        assert_eq!(
            cost(&store, email, "wrong guess number one"),
            (1, no),
            "{email}"
        );
        assert_eq!(
            cost(&store, email, "wrong guess number two"),
            (1, no),
            "{email}"
        );
        // Throttled: refused before argon2, even with the right password.
        assert_eq!(cost(&store, email, pw), (0, wait), "{email}");
    }
    assert_eq!(cost(&store, "new@example.com", pw), (1, no));
}
