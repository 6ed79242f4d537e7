//! Staff accounts, sessions and API keys through the public API, on real database files, with
//! time moved by the store's clock instead of sleeping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{PASSWORD, clock, contains, raw_bytes};
use shopkeep::access::{
    ApiKeySecret, NewApiKey, NewStaff, Role, SessionSettings, SessionToken, StaffId,
};
use shopkeep::clock::{Clock, ManualClock};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::{Email, ErrorKind, KeyRing, Principal, Store};

/// A store on a fresh database file in a temp dir, its clock at [`clock`].
fn fresh() -> (tempfile::TempDir, ManualClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = open(&dir.path().join("shop.db"), &clock);
    (dir, clock, store)
}

fn open(path: &Path, clock: &ManualClock) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .sessions(
            SessionSettings::new(Duration::from_secs(30 * 60), Duration::from_secs(8 * 3600))
                .unwrap(),
        )
        .clock(clock.clone())
        .open(path, KeyRing::from_master_key([3; 32]))
        .unwrap()
}

fn staff(store: &Store, email: &str, name: &str, role: Role) -> StaffId {
    let new = NewStaff::new(
        Email::parse(email).unwrap(),
        name,
        role,
        Password::new(PASSWORD),
    )
    .unwrap();
    store.staff(&store.system()).create(new).unwrap().id()
}

fn login(store: &Store, email: &str) -> SessionToken {
    store
        .login_staff(&Email::parse(email).unwrap(), &Password::new(PASSWORD))
        .unwrap()
        .into_parts()
        .1
}

fn refused(result: shopkeep::Result<Principal>) -> ErrorKind {
    result
        .map(|p| panic!("accepted as {p:?}"))
        .unwrap_err()
        .kind()
}

#[test]
fn sessions_expire_by_idle_time_and_by_absolute_lifetime() {
    let (_dir, clock, store) = fresh();
    let id = staff(&store, "ana@example.com", "Ana", Role::Manager);
    let token = login(&store, "ana@example.com");
    assert_eq!(
        store.principal_from_session(&token).unwrap().staff_id(),
        Some(id)
    );

    // Used every 20 minutes, the session outlives its 30-minute idle timeout...
    for _ in 0..6 {
        clock.advance(Duration::from_secs(20 * 60));
        store.principal_from_session(&token).unwrap();
    }
    // ...until 31 idle minutes pass.
    clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        refused(store.principal_from_session(&token)),
        ErrorKind::Unauthenticated
    );

    // A busy session still ends at its absolute lifetime of 8 hours.
    let token = login(&store, "ana@example.com");
    let start = clock.now();
    while clock.now().duration_since(start).unwrap() < Duration::from_secs(8 * 3600 - 600) {
        clock.advance(Duration::from_secs(25 * 60));
        store.principal_from_session(&token).unwrap();
    }
    clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(
        refused(store.principal_from_session(&token)),
        ErrorKind::Unauthenticated
    );
}

#[test]
fn logout_password_change_and_disabling_end_sessions_on_the_next_call() {
    let (_dir, _clock, store) = fresh();
    staff(&store, "owner@example.com", "Olga", Role::Owner);
    let ben = staff(&store, "ben@example.com", "Ben", Role::Support);

    let token = login(&store, "ben@example.com");
    store.logout(&token).unwrap();
    assert_eq!(
        refused(store.principal_from_session(&token)),
        ErrorKind::Unauthenticated
    );
    store.logout(&token).unwrap(); // idempotent

    let first = login(&store, "ben@example.com");
    let second = login(&store, "ben@example.com");
    let ben_principal = store.principal_from_session(&first).unwrap();
    let new_password = Password::new("an entirely different passphrase");
    store
        .staff(&ben_principal)
        .change_password(ben, &Password::new(PASSWORD), &new_password)
        .unwrap();
    for token in [&first, &second] {
        assert_eq!(
            refused(store.principal_from_session(token)),
            ErrorKind::Unauthenticated
        );
    }
    let err = store.login_staff(
        &Email::parse("ben@example.com").unwrap(),
        &Password::new(PASSWORD),
    );
    assert_eq!(
        err.unwrap_err().kind(),
        ErrorKind::Unauthenticated,
        "the old password still works"
    );
    let token = store
        .login_staff(&Email::parse("ben@example.com").unwrap(), &new_password)
        .unwrap()
        .into_parts()
        .1;

    store.staff(&store.system()).disable(ben).unwrap();
    assert_eq!(
        refused(store.principal_from_session(&token)),
        ErrorKind::Unauthenticated
    );
    let err = store
        .login_staff(&Email::parse("ben@example.com").unwrap(), &new_password)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
}

#[test]
fn a_role_change_applies_to_open_sessions_at_once() {
    let (_dir, _clock, store) = fresh();
    let id = staff(&store, "cleo@example.com", "Cleo", Role::Warehouse);
    let token = login(&store, "cleo@example.com");
    store
        .staff(&store.system())
        .change_role(id, Role::Accountant)
        .unwrap();
    assert_eq!(
        store.principal_from_session(&token).unwrap().role(),
        Some(Role::Accountant)
    );
}

#[test]
fn unknown_email_and_wrong_password_answer_alike_and_are_audited() {
    let (_dir, _clock, store) = fresh();
    staff(&store, "dora@example.com", "Dora", Role::Support);
    let wrong = store
        .login_staff(
            &Email::parse("dora@example.com").unwrap(),
            &Password::new("not the password at all"),
        )
        .unwrap_err();
    let unknown = store
        .login_staff(
            &Email::parse("nobody@example.com").unwrap(),
            &Password::new(PASSWORD),
        )
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Unauthenticated);
    assert_eq!(wrong.to_string(), unknown.to_string());
    // Case and surrounding spaces do not matter for the email.
    login(&store, "  DORA@Example.COM ");

    let system = store.system();
    let entries = store.audit_log(&system).list(0, 100).unwrap();
    let logins: Vec<_> = entries.iter().filter(|e| e.action() == "login").collect();
    assert_eq!(logins.len(), 3);
    assert_eq!(logins[0].principal(), logins[0].resource()); // the known account, by id
    assert!(logins[0].principal().starts_with("staff:"));
    assert_eq!(logins[1].principal(), "anonymous"); // the unknown email leaves no trace of itself
    assert!(
        entries
            .iter()
            .all(|e| !e.resource().contains("example.com"))
    );
}

#[test]
fn duplicate_emails_weak_passwords_and_the_last_owner_are_refused() {
    let (_dir, _clock, store) = fresh();
    let system = store.system();
    let owner = staff(&store, "eva@example.com", "Eva", Role::Owner);

    let duplicate = NewStaff::new(
        Email::parse("EVA@example.com").unwrap(),
        "Eva Two",
        Role::Support,
        Password::new(PASSWORD),
    )
    .unwrap();
    assert_eq!(
        store.staff(&system).create(duplicate).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );

    for weak in ["short", "aaaaaaaaaaaaaaaaaaaa", "fred@example.com"] {
        let new = NewStaff::new(
            Email::parse("fred@example.com").unwrap(),
            "Fred",
            Role::Support,
            Password::new(weak),
        )
        .unwrap();
        let err = store.staff(&system).create(new).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "password" },
            "{weak}"
        );
    }
    assert_eq!(
        store.staff(&system).list().unwrap().len(),
        1,
        "a refused create wrote something"
    );

    assert_eq!(
        store
            .staff(&system)
            .change_role(owner, Role::Manager)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidTransition
    );
    assert_eq!(
        store.staff(&system).disable(owner).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
    staff(&store, "gus@example.com", "Gus", Role::Owner);
    store
        .staff(&system)
        .change_role(owner, Role::Manager)
        .unwrap();
}

#[test]
fn api_keys_are_shown_once_refused_when_revoked_and_track_last_use() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let path = dir.path().join("shop.db");
    let store = open(&path, &clock);
    let system = store.system();
    let created = store
        .api_keys(&system)
        .create(NewApiKey::new("ERP", Role::Accountant).unwrap())
        .unwrap();
    let secret = created.secret().as_str().to_owned();
    assert!(secret.starts_with(&format!("shk_{}_", created.info().prefix())));
    assert_eq!(
        format!("{:?}", created.secret()),
        "ApiKeySecret([REDACTED])"
    );
    assert!(!format!("{created:?}").contains(&secret));

    let key = ApiKeySecret::new(secret.clone());
    let erp = store.principal_from_api_key(&key).unwrap();
    assert_eq!(erp.api_key_id(), Some(created.info().id()));
    let used = store
        .api_keys(&system)
        .get(created.info().id())
        .unwrap()
        .last_used_at();
    assert_eq!(used, Some(clock.now()));

    // The stored row holds a hash, never the key. The secret part is everything after
    // `shk_<prefix>_`: its base64url alphabet has `_` too, so cutting at the last one could
    // leave a few characters that turn up in the file by chance.
    let secret_part = secret.splitn(3, '_').nth(2).unwrap();
    assert_eq!(secret_part.len(), 43);
    assert!(!contains(&raw_bytes(&path), secret_part.as_bytes()));

    // A wrong secret with the right prefix, a malformed key: refused alike.
    let mut forged = secret.clone();
    forged.pop();
    forged.push(if secret.ends_with('A') { 'B' } else { 'A' });
    for bad in [forged.as_str(), "shk_nope", "", "Bearer x"] {
        assert_eq!(
            refused(store.principal_from_api_key(&ApiKeySecret::new(bad))),
            ErrorKind::Unauthenticated
        );
    }

    store.api_keys(&system).revoke(created.info().id()).unwrap();
    assert_eq!(
        refused(store.principal_from_api_key(&key)),
        ErrorKind::Unauthenticated
    );
    let again = store
        .api_keys(&system)
        .revoke(created.info().id())
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidTransition);
}

#[test]
fn staff_personal_data_is_not_on_disk_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let path = dir.path().join("shop.db");
    let store = open(&path, &clock);
    staff(
        &store,
        "hannelore.quast@example.com",
        "Hannelore Quast-Zimmermann",
        Role::Support,
    );
    let back = store.staff(&store.system()).list().unwrap();
    assert_eq!(back[0].name(), "Hannelore Quast-Zimmermann");
    assert_eq!(back[0].email().as_str(), "hannelore.quast@example.com");
    assert!(!format!("{back:?}").contains("Hannelore"));
    let bytes = raw_bytes(&path);
    for needle in ["hannelore", "Hannelore", "Quast", "example.com"] {
        assert!(!contains(&bytes, needle.as_bytes()), "{needle} on disk");
    }
}

#[test]
fn an_older_password_hash_is_upgraded_at_login() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let clock = clock();
    let store = open(&path, &clock);
    staff(&store, "ida@example.com", "Ida", Role::Support);
    drop(store);
    let stronger = PasswordParams::new(19_456, 2, 1).unwrap();
    let store = Store::options()
        .password_params(stronger)
        .clock(clock.clone())
        .open(&path, KeyRing::from_master_key([3; 32]))
        .unwrap();
    login(&store, "ida@example.com");
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let hash: String = conn
        .query_row("SELECT password_hash FROM shopkeep_staff", [], |r| r.get(0))
        .unwrap();
    assert!(hash.contains("m=19456,t=2,p=1"), "{hash}");
}

#[test]
fn staff_logins_are_throttled_per_email_whether_or_not_the_account_exists() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let throttle =
        shopkeep::access::LoginThrottle::new(2, Duration::from_secs(60), Duration::from_secs(600))
            .unwrap();
    let store = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .login_throttle(throttle)
        .clock(clock.clone())
        .open(
            dir.path().join("shop.db"),
            KeyRing::from_master_key([3; 32]),
        )
        .unwrap();
    staff(&store, "jo@example.com", "Jo", Role::Support);
    let attempt = |email: &str, password: &str| {
        store
            .login_staff(&Email::parse(email).unwrap(), &Password::new(password))
            .map(drop)
            .map_err(|e| e.kind())
    };
    for email in ["jo@example.com", "nobody@example.com"] {
        for _ in 0..2 {
            assert_eq!(
                attempt(email, "a wrong but long password"),
                Err(ErrorKind::Unauthenticated)
            );
        }
        // Now even the right password waits, and the unknown email behaves the same.
        assert_eq!(
            attempt(email, PASSWORD),
            Err(ErrorKind::TooManyAttempts),
            "{email}"
        );
    }
    clock.advance(Duration::from_secs(61));
    assert_eq!(attempt("jo@example.com", PASSWORD), Ok(()));
    // A success clears the count.
    assert_eq!(
        attempt("jo@example.com", "a wrong but long password"),
        Err(ErrorKind::Unauthenticated)
    );
    assert_eq!(attempt("jo@example.com", PASSWORD), Ok(()));
}
