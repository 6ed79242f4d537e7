//! Customers through the public API, on real database files, with time moved by the store's
//! clock instead of sleeping: registration, login and throttling, passwords and reset tokens,
//! profiles and addresses, the consent ledger, search, GDPR export and erasure, and what is on
//! disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{PASSWORD, clock, contains, raw_bytes};
use shopkeep::access::{CustomerId, LoginThrottle, Outcome, SessionToken};
use shopkeep::clock::{Clock, ManualClock};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::customers::{
    Address, AddressKind, BusinessDetails, Channel, ConsentEvent, ConsentRequest, ConsentStatus,
    ConsentToken, Country, ElectronicAddress, NewCustomer, Phone, ProfileUpdate, ResetToken,
    UnsubscribeToken, VatId,
};
use shopkeep::{Email, ErrorKind, KeyRing, Principal, Store};

const MASTER: [u8; 32] = [9; 32];

fn open_with(path: &Path, clock: &ManualClock, throttle: LoginThrottle) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .login_throttle(throttle)
        .clock(clock.clone())
        .open(path, KeyRing::from_master_key(MASTER))
        .unwrap()
}

fn open(path: &Path, clock: &ManualClock) -> Store {
    open_with(path, clock, LoginThrottle::default())
}

/// A store on a fresh file in a temporary directory, and its clock.
struct Shop {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: ManualClock,
    store: Store,
}

fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let clock = clock();
    let store = open(&path, &clock);
    Shop {
        _dir: dir,
        path,
        clock,
        store,
    }
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn de() -> Country {
    Country::parse("DE").unwrap()
}

fn register(store: &Store, address: &str, name: &str) -> CustomerId {
    let new = NewCustomer::new(email(address), Password::new(PASSWORD), name).unwrap();
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id()
}

fn login(store: &Store, address: &str) -> (Principal, SessionToken) {
    store
        .login(&email(address), &Password::new(PASSWORD))
        .unwrap()
        .into_parts()
}

fn kind<T: std::fmt::Debug>(result: shopkeep::Result<T>) -> ErrorKind {
    result
        .map(|v| panic!("accepted: {v:?}"))
        .unwrap_err()
        .kind()
}

/// A customer id as stored: the UUID's 16 bytes.
fn id_bytes(id: CustomerId) -> Vec<u8> {
    uuid::Uuid::parse_str(&id.to_string())
        .unwrap()
        .as_bytes()
        .to_vec()
}

fn customer_count(store: &Store) -> usize {
    let system = store.system();
    store
        .customers(&system)
        .list(None, 500)
        .unwrap()
        .customers()
        .len()
}

fn audit_actions(store: &Store) -> Vec<(String, String, String, Outcome)> {
    let system = store.system();
    store
        .audit_log(&system)
        .list(0, 10_000)
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.principal().to_owned(),
                e.action().to_owned(),
                e.resource().to_owned(),
                e.outcome(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Registration and login.

#[test]
fn a_visitor_registers_logs_in_and_reads_their_own_profile_only() {
    let s = shop();
    let anonymous = Principal::anonymous();
    let acme = BusinessDetails::new("ACME Handels GmbH")
        .unwrap()
        .with_vat_id(VatId::parse("DE 123 456 789").unwrap())
        .with_tax_number("143/815/08152")
        .unwrap()
        .with_buyer_reference("04011000-1234512345-06")
        .unwrap()
        .with_electronic_address(ElectronicAddress::new("0204", "04011000-1234512345-06").unwrap());
    let home = Address::new("Ana Lima", "Invalidenstraße 117", "Berlin", de())
        .unwrap()
        .with_postal_code("10115")
        .unwrap();
    let new = NewCustomer::new(
        email("Ana.Lima@Example.com"),
        Password::new(PASSWORD),
        "Ana Lima",
    )
    .unwrap()
    .phone(Phone::parse("+49 30 1234567").unwrap())
    .business(acme)
    .billing_address(home.clone())
    .shipping_address(home);
    let ana = s.store.customers(&anonymous).register(new).unwrap();
    assert_eq!(ana.version(), 1);
    assert_eq!(ana.created_at(), s.clock.now());
    assert!(!format!("{ana:?}").contains("Ana"), "Debug redacts");

    // Any letter case finds the account.
    let (principal, token) = login(&s.store, "ana.lima@example.COM");
    assert_eq!(principal.customer_id(), Some(ana.id()));
    let me = s.store.principal_from_session(&token).unwrap();
    assert_eq!(me, principal);

    let profile = s.store.customers(&me).get(ana.id()).unwrap();
    assert_eq!(profile.email().as_str(), "Ana.Lima@Example.com");
    assert_eq!(profile.phone().unwrap().as_str(), "+49301234567");
    let business = profile.business().unwrap();
    assert_eq!(business.vat_id().unwrap().as_str(), "DE123456789");
    assert_eq!(business.buyer_reference(), Some("04011000-1234512345-06"));
    assert_eq!(business.electronic_address().unwrap().scheme(), "0204");
    assert_eq!(profile.last_login_at(), Some(s.clock.now()));

    // One address, the default of both kinds, because billing and shipping were the same.
    let addresses = s.store.customers(&me).addresses(ana.id()).unwrap();
    assert_eq!(addresses.len(), 1);
    assert!(addresses[0].is_default(AddressKind::Billing));
    assert!(addresses[0].is_default(AddressKind::Shipping));
    assert_eq!(addresses[0].address().city(), "Berlin");

    // Another customer's account answers exactly like a missing one.
    let ben = register(&s.store, "ben@example.com", "Ben");
    let hidden = s.store.customers(&me).get(ben).unwrap_err();
    let missing = s
        .store
        .customers(&me)
        .get(CustomerId::parse("0190e6a4-7c1a-7000-8000-000000000001").unwrap())
        .unwrap_err();
    assert_eq!(hidden.kind(), ErrorKind::NotFound);
    assert_eq!(hidden.to_string(), missing.to_string());

    // The audit log has the registration and the login, by id, never by email.
    let audit = audit_actions(&s.store);
    assert!(audit.iter().any(|(p, a, r, o)| p == "anonymous"
        && a == "register_customer"
        && *r == format!("customer:{}", ana.id())
        && *o == Outcome::Allowed));
    assert!(
        audit
            .iter()
            .any(|(_, a, _, o)| a == "login" && *o == Outcome::Allowed)
    );
    assert!(
        audit
            .iter()
            .all(|(p, _, r, _)| !p.contains('@') && !r.contains('@'))
    );
}

#[test]
fn a_duplicate_email_in_any_case_is_a_conflict_that_says_no_more() {
    let s = shop();
    register(&s.store, "ana@example.com", "Ana");
    let again = NewCustomer::new(
        email(" ANA@Example.com "),
        Password::new(PASSWORD),
        "Other Ana",
    )
    .unwrap();
    let err = s
        .store
        .customers(&Principal::anonymous())
        .register(again)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(!err.to_string().to_lowercase().contains("ana"));
    assert_eq!(customer_count(&s.store), 1);
}

#[test]
fn at_least_thirty_tricky_emails_are_refused_naming_the_field() {
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_domain = format!("ana@{}.com", "d".repeat(250));
    let long_label = format!("ana@{}.com", "l".repeat(64));
    let bad = [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "ana@",
        "ana@example",
        "ana@localhost",
        "ana@example.c",
        "ana@example.123",
        "ana@@example.com",
        "ana@exa mple.com",
        "ana lima@example.com",
        "ana@exa\nmple.com",
        "ana\u{0}@example.com",
        "ana\t@example.com",
        "ana\r\n@example.com",
        "Ana <ana@example.com>",
        "<ana@example.com>",
        "ana@example.com <ana@example.com>",
        "ana@[192.0.2.1]",
        "ana@[IPv6:2001:db8::1]",
        "\"ana lima\"@example.com",
        "\"ana\"@example.com",
        ".ana@example.com",
        "ana.@example.com",
        "an..a@example.com",
        "ana@-example.com",
        "ana@example-.com",
        "ana@example..com",
        "ana@.example.com",
        "ana@example.com.",
        "ana(comment)@example.com",
        "ana,lima@example.com",
        "ana@exa_mple.com",
        "ana@example.com,ben@example.com",
        "ana@example.com;ben@example.com",
        "mailto:ana@example.com",
        "ana@example.com\u{0}",
        "ana@exam\u{7f}ple.com",
        &long_local,
        &long_domain,
        &long_label,
    ];
    assert!(bad.len() >= 30);
    for text in bad {
        let err = Email::parse(text).expect_err(text);
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "email" },
            "{text:?}"
        );
        if text.trim().len() > 3 {
            assert!(!err.to_string().contains(text.trim()), "echoed {text:?}");
        }
    }
}

#[test]
fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let s = shop();
    let anonymous = Principal::anonymous();
    let customers = s.store.customers(&anonymous);
    let new = |name: &str| NewCustomer::new(email("x@example.com"), Password::new(PASSWORD), name);
    let long = "n".repeat(201);
    for (result, field) in [
        (new("").map(drop), "name"),
        (new(&long).map(drop), "name"),
        (new("Ana\u{0}Lima").map(drop), "name"),
        (new("Ana\nLima").map(drop), "name"),
        (Country::parse("XX").map(drop), "country"),
        (Country::parse("Germany").map(drop), "country"),
        (Phone::parse("030 1234567").map(drop), "phone"),
        (Phone::parse("+49 30 CALL-ME").map(drop), "phone"),
        (VatId::parse("DE12345").map(drop), "vat_id"),
        (VatId::parse("GR123456789").map(drop), "vat_id"),
        (BusinessDetails::new(&long).map(drop), "company"),
        (Address::new("Ana", "", "Berlin", de()).map(drop), "line1"),
        (
            Address::new("Ana", "Main St 1", &long, de()).map(drop),
            "city",
        ),
        (
            ConsentRequest::new(Channel::Email, "", "v1").map(drop),
            "source",
        ),
        (
            ConsentRequest::new(Channel::Email, "form", "v\u{1b}1").map(drop),
            "text_version",
        ),
        (CustomerId::parse("not-an-id").map(drop), "customer_id"),
        (customers.list(None, 0).map(drop), "limit"),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Validation { field });
    }

    // Passwords go through the store's policy, with the email and name as context.
    for weak in [
        "short",
        "aaaaaaaaaaaaaaaaaaaa",
        "anastasia.lima@example.com",
        "ANA LIMA ANA LIMA",
    ] {
        let attempt = NewCustomer::new(
            email("anastasia.lima@example.com"),
            Password::new(weak),
            "Ana Lima Ana Lima",
        )
        .unwrap();
        let err = customers.register(attempt).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "password" },
            "{weak}"
        );
    }
    let too_long = NewCustomer::new(
        email("x@example.com"),
        Password::new("p".repeat(300)),
        "Ana",
    )
    .unwrap();
    assert_eq!(
        kind(customers.register(too_long)),
        ErrorKind::Validation { field: "password" }
    );

    assert_eq!(customer_count(&s.store), 0);
    assert!(
        !audit_actions(&s.store)
            .iter()
            .any(|(_, a, _, _)| a == "register_customer")
    );
}

#[test]
fn unknown_ids_answer_not_found_everywhere() {
    let s = shop();
    let system = s.store.system();
    let nobody = CustomerId::parse("0190e6a4-7c1a-7000-8000-0000000000ff").unwrap();
    let customers = s.store.customers(&system);
    let consents = s.store.consents(&system);
    let address = Address::new("Ana", "Main St 1", "Berlin", de()).unwrap();
    assert_eq!(kind(customers.get(nobody)), ErrorKind::NotFound);
    assert_eq!(kind(customers.addresses(nobody)), ErrorKind::NotFound);
    assert_eq!(
        kind(customers.add_address(nobody, address)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(customers.update(nobody, ProfileUpdate::new(1))),
        ErrorKind::NotFound
    );
    assert_eq!(kind(customers.export(nobody)), ErrorKind::NotFound);
    assert_eq!(kind(customers.erase(nobody)), ErrorKind::NotFound);
    assert_eq!(kind(consents.state(nobody)), ErrorKind::NotFound);
    let sms = ConsentRequest::new(Channel::Sms, "form", "v1").unwrap();
    assert_eq!(kind(consents.grant(nobody, sms)), ErrorKind::NotFound);
    assert_eq!(
        kind(customers.find_by_email(&email("nobody@example.com"))),
        ErrorKind::NotFound
    );

    // An address id of another customer is not found either.
    let ana = register(&s.store, "ana@example.com", "Ana");
    let ben = register(&s.store, "ben@example.com", "Ben");
    let bens = customers
        .add_address(ben, Address::new("Ben", "Side St 2", "Bonn", de()).unwrap())
        .unwrap();
    assert_eq!(
        kind(customers.remove_address(ana, bens.id())),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(customers.set_default_address(ana, bens.id(), AddressKind::Billing)),
        ErrorKind::NotFound
    );
    assert_eq!(customers.addresses(ben).unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Login throttling and password upgrades.

/// Fails a login `n` times and returns the error kinds.
fn fail(store: &Store, address: &str, n: usize) -> Vec<ErrorKind> {
    (0..n)
        .map(|_| kind(store.login(&email(address), &Password::new("a wrong guess, clearly"))))
        .collect()
}

#[test]
fn failed_logins_are_throttled_alike_for_known_and_unknown_emails() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let throttle = LoginThrottle::new(3, Duration::from_secs(10), Duration::from_secs(60)).unwrap();
    let store = open_with(&dir.path().join("shop.db"), &clock, throttle);
    register(&store, "ana@example.com", "Ana");

    let mut seen = Vec::new();
    for address in ["ana@example.com", "ghost@example.com"] {
        let start = clock.now();
        let mut kinds = fail(&store, address, 3);
        // The third failure started a 10 s wait: even the right password is refused, before
        // it is checked.
        kinds.push(kind(store.login(&email(address), &Password::new(PASSWORD))));
        clock.advance(Duration::from_secs(9));
        kinds.extend(fail(&store, address, 1));
        clock.advance(Duration::from_secs(1));
        // The wait is over; the fourth failure doubles it to 20 s.
        kinds.extend(fail(&store, address, 2));
        clock.advance(Duration::from_secs(19));
        kinds.extend(fail(&store, address, 1));
        clock.advance(Duration::from_secs(1));
        seen.push(kinds);
        clock.set(start.checked_add(Duration::from_secs(3600)).unwrap());
    }
    use ErrorKind::{TooManyAttempts as Wait, Unauthenticated as No};
    assert_eq!(seen[0], [No, No, No, Wait, Wait, No, Wait, Wait]);
    assert_eq!(
        seen[0], seen[1],
        "an unknown email is throttled exactly like a known one"
    );

    // After the wait, the right password works and clears the count.
    login(&store, "ana@example.com");
    assert_eq!(fail(&store, "ana@example.com", 2), [No, No]);
    login(&store, "ana@example.com");

    // The quiet period forgets failures: a day later, the unknown email starts from zero.
    clock.advance(Duration::from_secs(25 * 3600));
    assert_eq!(fail(&store, "ghost@example.com", 3), [No, No, No]);
    assert_eq!(fail(&store, "ghost@example.com", 1), [Wait]);

    let audit = audit_actions(&store);
    let count = |event: &str| audit.iter().filter(|(_, a, _, _)| a == event).count();
    assert!(count("login_delayed") >= 4);
    assert!(count("login_throttled") >= 6);
    assert!(
        audit
            .iter()
            .all(|(p, _, r, _)| !p.contains('@') && !r.contains('@'))
    );
    // A throttled unknown email is audited as anonymous, a known one by id.
    assert!(
        audit
            .iter()
            .any(|(p, a, r, _)| p == "anonymous" && a == "login_throttled" && r == "customers")
    );
    assert!(
        audit
            .iter()
            .any(|(p, a, _, _)| p.starts_with("customer:") && a == "login_throttled")
    );
}

#[test]
fn an_older_password_hash_is_upgraded_at_login() {
    let s = shop();
    register(&s.store, "ida@example.com", "Ida");
    drop(s.store);
    let stronger = PasswordParams::new(19_456, 2, 1).unwrap();
    let store = Store::options()
        .password_params(stronger)
        .clock(s.clock.clone())
        .open(&s.path, KeyRing::from_master_key(MASTER))
        .unwrap();
    login(&store, "ida@example.com");
    drop(store);
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    let hash: String = conn
        .query_row("SELECT password_hash FROM shopkeep_customers", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(hash.contains("m=19456,t=2,p=1"), "{hash}");
}

// ---------------------------------------------------------------------------------------------
// Passwords: change and reset.

#[test]
fn a_password_change_needs_the_current_one_and_ends_sessions_and_reset_tokens() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    let (me, first) = login(&s.store, "ana@example.com");
    let (_, second) = login(&s.store, "ana@example.com");
    let reset = s
        .store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    let new = Password::new("an entirely different passphrase");

    let wrong = s
        .store
        .customers(&me)
        .change_password(ana, &Password::new("not my password at all"), &new)
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Unauthenticated);
    let weak = s
        .store
        .customers(&me)
        .change_password(
            ana,
            &Password::new(PASSWORD),
            &Password::new("ana@example.com"),
        )
        .unwrap_err();
    assert_eq!(weak.kind(), ErrorKind::Validation { field: "password" });

    s.store
        .customers(&me)
        .change_password(ana, &Password::new(PASSWORD), &new)
        .unwrap();
    for token in [&first, &second] {
        assert_eq!(
            kind(s.store.principal_from_session(token)),
            ErrorKind::Unauthenticated
        );
    }
    assert_eq!(
        kind(
            s.store
                .login(&email("ana@example.com"), &Password::new(PASSWORD))
        ),
        ErrorKind::Unauthenticated
    );
    s.store.login(&email("ana@example.com"), &new).unwrap();
    assert_eq!(
        kind(
            s.store
                .reset_password(&reset, &Password::new("yet another fine passphrase"))
        ),
        ErrorKind::Validation { field: "token" }
    );

    // Nobody else may change it: the system and staff cannot, another customer sees nothing.
    let system = s.store.system();
    assert_eq!(
        kind(s.store.customers(&system).change_password(ana, &new, &new)),
        ErrorKind::Forbidden
    );
}

#[test]
fn reset_tokens_are_single_use_expire_and_are_replaced_by_newer_ones() {
    let s = shop();
    register(&s.store, "ana@example.com", "Ana");
    let (_, session) = login(&s.store, "ana@example.com");

    // An unknown email gets no token, and the host cannot tell its user apart from a known one
    // by anything but this value, which it must not show.
    assert!(
        s.store
            .request_password_reset(&email("ghost@example.com"))
            .unwrap()
            .is_none()
    );
    let older = s
        .store
        .request_password_reset(&email("ANA@example.com"))
        .unwrap()
        .unwrap();
    let token = s
        .store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    assert!(token.as_str().starts_with("shr_"));
    assert_eq!(format!("{token:?}"), "ResetToken([REDACTED])");

    let invalid = ErrorKind::Validation { field: "token" };
    let pw = Password::new("a brand new long passphrase");
    assert_eq!(
        kind(s.store.reset_password(&older, &pw)),
        invalid,
        "replaced by a newer one"
    );
    assert_eq!(
        kind(s.store.reset_password(&ResetToken::new("shr_nope"), &pw)),
        invalid
    );
    // A weak password is refused and the token stays good.
    assert_eq!(
        kind(s.store.reset_password(&token, &Password::new("tooshort"))),
        ErrorKind::Validation { field: "password" }
    );
    s.store.reset_password(&token, &pw).unwrap();
    assert_eq!(
        kind(s.store.reset_password(&token, &pw)),
        invalid,
        "used up"
    );
    assert_eq!(
        kind(s.store.principal_from_session(&session)),
        ErrorKind::Unauthenticated
    );
    s.store.login(&email("ana@example.com"), &pw).unwrap();

    // Expiry after an hour, by the store's clock.
    let late = s
        .store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    s.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        kind(s.store.reset_password(&late, &Password::new(PASSWORD))),
        invalid
    );
    let timely = s
        .store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    s.clock.advance(Duration::from_secs(3599));
    s.store
        .reset_password(&timely, &Password::new(PASSWORD))
        .unwrap();

    let audit = audit_actions(&s.store);
    assert!(audit.iter().any(|(p, a, r, o)| p == "anonymous"
        && a == "request_password_reset"
        && r == "customers"
        && *o == Outcome::Denied));
    assert!(audit.iter().any(|(_, a, _, _)| a == "reset_password"));
}

#[test]
fn a_password_reset_ends_a_login_wait() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let throttle =
        LoginThrottle::new(2, Duration::from_secs(60), Duration::from_secs(600)).unwrap();
    let store = open_with(&dir.path().join("shop.db"), &clock, throttle);
    register(&store, "ana@example.com", "Ana");
    fail(&store, "ana@example.com", 2);
    assert_eq!(
        kind(store.login(&email("ana@example.com"), &Password::new(PASSWORD))),
        ErrorKind::TooManyAttempts
    );
    let token = store
        .request_password_reset(&email("ana@example.com"))
        .unwrap()
        .unwrap();
    store
        .reset_password(&token, &Password::new(PASSWORD))
        .unwrap();
    login(&store, "ana@example.com");
}

// ---------------------------------------------------------------------------------------------
// Profiles and addresses.

#[test]
fn profile_updates_are_optimistic_and_an_email_change_moves_the_login() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    register(&s.store, "ben@example.com", "Ben");
    let (me, _) = login(&s.store, "ana@example.com");
    let customers = s.store.customers(&me);
    let system = s.store.system();
    let support_view = s.store.customers(&system);

    let v1 = customers.get(ana).unwrap().version();
    s.clock.advance(Duration::from_secs(60));
    let updated = customers
        .update(
            ana,
            ProfileUpdate::new(v1)
                .name("Ana Lima")
                .unwrap()
                .phone(Some(Phone::parse("+351211234567").unwrap())),
        )
        .unwrap();
    assert_eq!(updated.version(), v1 + 1);
    assert_eq!(updated.updated_at(), s.clock.now());
    assert_eq!(support_view.get(ana).unwrap(), updated);

    // A change made from the old version is stale.
    let stale = customers.update(ana, ProfileUpdate::new(v1).name("Someone Else").unwrap());
    assert_eq!(kind(stale), ErrorKind::Conflict);
    assert_eq!(customers.get(ana).unwrap().name(), "Ana Lima");

    // Another account's email is taken, in any case.
    let taken = customers.update(
        ana,
        ProfileUpdate::new(v1 + 1).email(email("BEN@example.com")),
    );
    assert_eq!(kind(taken), ErrorKind::AlreadyExists);

    let moved = customers
        .update(
            ana,
            ProfileUpdate::new(v1 + 1)
                .email(email("ana.lima@example.com"))
                .phone(None),
        )
        .unwrap();
    assert_eq!(moved.phone(), None);
    assert_eq!(
        kind(
            s.store
                .login(&email("ana@example.com"), &Password::new(PASSWORD))
        ),
        ErrorKind::Unauthenticated
    );
    login(&s.store, "ana.lima@example.com");
    // The old email is free for a new account.
    register(&s.store, "ana@example.com", "New Ana");
}

#[test]
fn an_address_book_keeps_one_default_of_each_kind() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    let (me, _) = login(&s.store, "ana@example.com");
    let book = s.store.customers(&me);
    let home = Address::new("Ana Lima", "Main St 1", "Berlin", de()).unwrap();
    let office = Address::new(
        "Ana Lima",
        "Work Rd 9",
        "Paris",
        Country::parse("fr").unwrap(),
    )
    .unwrap()
    .with_company("ACME SARL")
    .unwrap();

    let first = book.add_address(ana, home).unwrap();
    assert!(first.is_default(AddressKind::Billing) && first.is_default(AddressKind::Shipping));
    let second = book.add_address(ana, office.clone()).unwrap();
    assert!(!second.is_default(AddressKind::Billing) && !second.is_default(AddressKind::Shipping));

    book.set_default_address(ana, second.id(), AddressKind::Shipping)
        .unwrap();
    let all = book.addresses(ana).unwrap();
    let default = |kind| {
        all.iter()
            .filter(|a| a.is_default(kind))
            .map(|a| a.id())
            .collect::<Vec<_>>()
    };
    assert_eq!(default(AddressKind::Billing), [first.id()]);
    assert_eq!(default(AddressKind::Shipping), [second.id()]);

    let moved = office.with_line2("Building C").unwrap();
    let changed = book.update_address(ana, second.id(), moved).unwrap();
    assert!(changed.is_default(AddressKind::Shipping));
    assert_eq!(
        book.addresses(ana).unwrap()[1].address().line2(),
        Some("Building C")
    );

    book.remove_address(ana, first.id()).unwrap();
    let all = book.addresses(ana).unwrap();
    assert_eq!(all.len(), 1);
    assert!(
        !all[0].is_default(AddressKind::Billing),
        "no billing default until one is chosen"
    );
    let third = book
        .add_address(
            ana,
            Address::new("Ana", "New St 3", "Lisbon", Country::parse("PT").unwrap()).unwrap(),
        )
        .unwrap();
    assert!(third.is_default(AddressKind::Billing) && !third.is_default(AddressKind::Shipping));

    // At most 50.
    for i in 0..48 {
        book.add_address(
            ana,
            Address::new("Ana", &format!("Street {i}"), "Berlin", de()).unwrap(),
        )
        .unwrap();
    }
    let full = book.add_address(
        ana,
        Address::new("Ana", "One too many", "Berlin", de()).unwrap(),
    );
    assert_eq!(kind(full), ErrorKind::Validation { field: "address" });
}

// ---------------------------------------------------------------------------------------------
// The consent ledger.

#[test]
fn email_consent_needs_double_opt_in_and_the_ledger_shows_every_step() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    let (me, _) = login(&s.store, "ana@example.com");
    let consents = s.store.consents(&me);
    let status = |channel| {
        consents
            .state(ana)
            .unwrap()
            .into_iter()
            .find(|c| c.channel() == channel)
            .unwrap()
            .status()
    };
    assert_eq!(status(Channel::Email), ConsentStatus::NotGiven);

    let ask = || ConsentRequest::new(Channel::Email, "account_settings", "newsletter-v1").unwrap();
    let older = consents.grant(ana, ask()).unwrap().unwrap();
    let token = consents.grant(ana, ask()).unwrap().unwrap();
    assert!(token.as_str().starts_with("shc_"));
    assert_eq!(status(Channel::Email), ConsentStatus::Pending);
    let invalid = ErrorKind::Validation { field: "token" };
    assert_eq!(
        kind(s.store.confirm_consent(&older)),
        invalid,
        "replaced by a newer request"
    );
    s.clock.advance(Duration::from_secs(3600));
    s.store.confirm_consent(&token).unwrap();
    assert_eq!(kind(s.store.confirm_consent(&token)), invalid, "used up");
    assert_eq!(status(Channel::Email), ConsentStatus::Granted);

    // SMS has no double opt-in.
    let sms = ConsentRequest::new(Channel::Sms, "checkout", "sms-v2").unwrap();
    assert!(consents.grant(ana, sms).unwrap().is_none());
    assert_eq!(status(Channel::Sms), ConsentStatus::Granted);
    consents
        .withdraw(ana, Channel::Sms, "account_settings")
        .unwrap();
    consents
        .withdraw(ana, Channel::Sms, "account_settings")
        .unwrap(); // nothing more to withdraw
    assert_eq!(status(Channel::Sms), ConsentStatus::Withdrawn);

    let history = consents.history(ana).unwrap();
    let events: Vec<(Channel, ConsentEvent)> =
        history.iter().map(|r| (r.channel(), r.event())).collect();
    assert_eq!(
        events,
        [
            (Channel::Email, ConsentEvent::Requested),
            (Channel::Email, ConsentEvent::Requested),
            (Channel::Email, ConsentEvent::Confirmed),
            (Channel::Sms, ConsentEvent::Granted),
            (Channel::Sms, ConsentEvent::Withdrawn),
        ]
    );
    assert_eq!(history[0].recorded_by(), format!("customer:{ana}"));
    assert_eq!(history[2].recorded_by(), "anonymous");
    assert_eq!(history[2].text_version(), Some("newsletter-v1"));
    assert_eq!(history[2].source(), "account_settings");
    assert_eq!(history[2].at(), s.clock.now());
    assert_eq!(history[4].text_version(), Some("sms-v2"));

    // A confirmation expires after 72 hours; a withdrawal voids a pending one.
    consents
        .withdraw(ana, Channel::Email, "account_settings")
        .unwrap();
    let late = consents.grant(ana, ask()).unwrap().unwrap();
    s.clock.advance(Duration::from_secs(72 * 3600));
    assert_eq!(kind(s.store.confirm_consent(&late)), invalid);
    let voided = consents.grant(ana, ask()).unwrap().unwrap();
    consents
        .withdraw(ana, Channel::Email, "account_settings")
        .unwrap();
    assert_eq!(kind(s.store.confirm_consent(&voided)), invalid);
    assert_eq!(
        kind(s.store.confirm_consent(&ConsentToken::new("shc_nope"))),
        invalid
    );
    assert_eq!(status(Channel::Email), ConsentStatus::Withdrawn);

    // Staff see consents but do not manage them.
    let system = s.store.system();
    let staff_id = s
        .store
        .staff(&system)
        .create(
            shopkeep::access::NewStaff::new(
                email("sam@example.com"),
                "Sam",
                shopkeep::access::Role::Support,
                Password::new(PASSWORD),
            )
            .unwrap(),
        )
        .unwrap()
        .id();
    let sam = s
        .store
        .login_staff(&email("sam@example.com"), &Password::new(PASSWORD))
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(sam.staff_id(), Some(staff_id));
    assert_eq!(
        s.store.consents(&sam).history(ana).unwrap().len(),
        history.len() + 4
    );
    let by_staff = s.store.consents(&sam).grant(ana, ask());
    assert_eq!(kind(by_staff), ErrorKind::Forbidden);
}

#[test]
fn unsubscribe_links_work_without_login_and_keep_working() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    let system = s.store.system();
    let consents = s.store.consents(&system);
    let request = ConsentRequest::new(Channel::Email, "import", "newsletter-v1").unwrap();
    let confirmation = consents.grant(ana, request).unwrap().unwrap();
    s.store.confirm_consent(&confirmation).unwrap();

    let link = consents.unsubscribe_token(ana, Channel::Email).unwrap();
    assert!(link.as_str().starts_with("shu_"));
    assert_eq!(
        consents
            .unsubscribe_token(ana, Channel::Email)
            .unwrap()
            .as_str(),
        link.as_str()
    );
    assert_ne!(
        consents
            .unsubscribe_token(ana, Channel::Sms)
            .unwrap()
            .as_str(),
        link.as_str()
    );

    // The host receives the token back from a link: a new value of the same text.
    let clicked = UnsubscribeToken::new(link.as_str());
    s.store.unsubscribe(&clicked).unwrap();
    s.store.unsubscribe(&clicked).unwrap(); // again: nothing more happens
    let history = consents.history(ana).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.event(), last.source(), last.recorded_by()),
        (ConsentEvent::Withdrawn, "unsubscribe_link", "anonymous")
    );
    assert_eq!(
        history
            .iter()
            .filter(|r| r.event() == ConsentEvent::Withdrawn)
            .count(),
        1
    );
    assert_eq!(
        kind(s.store.unsubscribe(&UnsubscribeToken::new("shu_forged"))),
        ErrorKind::Validation { field: "token" }
    );

    // An email change withdraws email consent: it was confirmed for the old address.
    let request = ConsentRequest::new(Channel::Email, "import", "newsletter-v1").unwrap();
    let confirmation = consents.grant(ana, request).unwrap().unwrap();
    s.store.confirm_consent(&confirmation).unwrap();
    let customers = s.store.customers(&system);
    let version = customers.get(ana).unwrap().version();
    customers
        .update(
            ana,
            ProfileUpdate::new(version).email(email("ana2@example.com")),
        )
        .unwrap();
    let email_state = consents
        .state(ana)
        .unwrap()
        .into_iter()
        .find(|c| c.channel() == Channel::Email)
        .unwrap();
    assert_eq!(email_state.status(), ConsentStatus::Withdrawn);
    assert_eq!(
        consents.history(ana).unwrap().last().unwrap().source(),
        "email_changed"
    );

    // After erasure the link does nothing.
    customers.erase(ana).unwrap();
    assert_eq!(
        kind(s.store.unsubscribe(&clicked)),
        ErrorKind::Validation { field: "token" }
    );
}

// ---------------------------------------------------------------------------------------------
// Staff search.

#[test]
fn staff_find_by_exact_email_and_page_through_customers() {
    let s = shop();
    let mut ids = Vec::new();
    for i in 0..7 {
        s.clock.advance(Duration::from_millis(5));
        ids.push(register(
            &s.store,
            &format!("c{i}@example.com"),
            &format!("Customer {i}"),
        ));
    }
    let system = s.store.system();
    let customers = s.store.customers(&system);
    assert_eq!(
        customers
            .find_by_email(&email("C3@EXAMPLE.com"))
            .unwrap()
            .id(),
        ids[3]
    );
    customers.erase(ids[1]).unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = customers.list(after, 3).unwrap();
        seen.extend(page.customers().iter().map(|c| c.id()));
        pages += 1;
        match page.next() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.remove(1);
    assert_eq!(
        seen, expected,
        "registration order, erased customers left out"
    );
    assert_eq!(pages, 2);

    // A customer may not search.
    let (me, _) = login(&s.store, "c0@example.com");
    assert_eq!(
        kind(s.store.customers(&me).list(None, 10)),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(
            s.store
                .customers(&me)
                .find_by_email(&email("c2@example.com"))
        ),
        ErrorKind::Forbidden
    );
}

// ---------------------------------------------------------------------------------------------
// GDPR: export and erasure; what is on disk.

/// Registers a customer whose every field is a distinctive string, for raw scans.
fn register_distinctive(store: &Store) -> CustomerId {
    let business = BusinessDetails::new("Quillfeather Logistik GmbH")
        .unwrap()
        .with_vat_id(VatId::parse("DE287654321").unwrap())
        .with_tax_number("143/815/08152")
        .unwrap()
        .with_buyer_reference("04011000-12345ABCDE-06")
        .unwrap()
        .with_electronic_address(ElectronicAddress::new("0204", "991-33333TEST-33").unwrap());
    let address = Address::new(
        "Zephyrine Quillfeather",
        "Brückenstraße 4711",
        "Wolkenkuckucksheim",
        de(),
    )
    .unwrap()
    .with_line2("Hinterhaus Dachgeschoss")
    .unwrap();
    let new = NewCustomer::new(
        email("zephyrine.quillfeather@example.org"),
        Password::new(PASSWORD),
        "Zephyrine Quillfeather-Oyelaran",
    )
    .unwrap()
    .phone(Phone::parse("+49 30 98765432").unwrap())
    .business(business)
    .billing_address(address);
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id()
}

const NEEDLES: &[&str] = &[
    "zephyrine",
    "Zephyrine",
    "Quillfeather",
    "quillfeather",
    "Oyelaran",
    "example.org",
    "3098765432",
    "Brückenstraße",
    "Wolkenkuckucksheim",
    "Dachgeschoss",
    "Logistik",
    "287654321",
    "143/815/08152",
    "12345ABCDE",
    "33333TEST",
];

#[test]
fn no_personal_data_is_on_disk_in_clear() {
    let s = shop();
    let id = register_distinctive(&s.store);
    register(&s.store, "second.person@example.net", "Second Person");
    // Read it back, so that it demonstrably is there, encrypted.
    let back = s.store.customers(&s.store.system()).export(id).unwrap();
    assert_eq!(back.profile().name(), "Zephyrine Quillfeather-Oyelaran");
    assert!(!format!("{back:?}").contains("Zephyrine"));
    let bytes = raw_bytes(&s.path);
    assert!(bytes.len() > 10_000);
    for needle in NEEDLES
        .iter()
        .chain(&["second.person", "Second Person", "example.net"])
    {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{needle} on disk in clear"
        );
    }
}

#[test]
fn an_export_holds_everything_and_erasure_shreds_it() {
    let s = shop();
    let id = register_distinctive(&s.store);
    let keep = register(&s.store, "keep@example.com", "Keep Me");
    let (_, session) = login(&s.store, "zephyrine.quillfeather@example.org");
    let system = s.store.system();
    let consents = s.store.consents(&system);
    let sms = ConsentRequest::new(Channel::Sms, "checkout", "sms-v1").unwrap();
    consents.grant(id, sms).unwrap();
    let reset = s
        .store
        .request_password_reset(&email("zephyrine.quillfeather@example.org"))
        .unwrap()
        .unwrap();

    // The export: profile, addresses, consents, as JSON.
    let (me, _) = login(&s.store, "zephyrine.quillfeather@example.org");
    let export = s.store.customers(&me).export(id).unwrap();
    assert_eq!(export.addresses().len(), 1);
    assert_eq!(export.consent_history().len(), 1);
    let json = export.to_json().unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["format"], "shopkeep.customer-export.v1");
    assert_eq!(
        doc["profile"]["email"],
        "zephyrine.quillfeather@example.org"
    );
    assert_eq!(doc["profile"]["phone"], "+493098765432");
    assert_eq!(doc["profile"]["business"]["vat_id"], "DE287654321");
    assert_eq!(
        doc["profile"]["business"]["electronic_address"]["scheme"],
        "0204"
    );
    assert_eq!(doc["addresses"][0]["address"]["city"], "Wolkenkuckucksheim");
    assert_eq!(doc["addresses"][0]["address"]["country"], "DE");
    assert_eq!(doc["consent_history"][0]["channel"], "sms");
    assert_eq!(doc["consent_history"][0]["event"], "granted");
    assert!(
        doc["consent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["channel"] == "sms" && c["status"] == "granted")
    );

    // What erasure must destroy: the wrapped data key and the ciphertexts.
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    let wrapped: Vec<u8> = conn
        .query_row(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
            [format!("customer:{id}")],
            |r| r.get(0),
        )
        .unwrap();
    let sealed_name: Vec<u8> = conn
        .query_row(
            "SELECT name FROM shopkeep_customers WHERE id = ?1",
            [id_bytes(id)],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert!(
        contains(&raw_bytes(&s.path), &wrapped),
        "the scan would find the key"
    );

    s.store.customers(&me).erase(id).unwrap();

    let bytes = raw_bytes(&s.path);
    assert!(
        !contains(&bytes, &wrapped),
        "the wrapped key survived erasure"
    );
    assert!(
        !contains(&bytes, &sealed_name),
        "a ciphertext survived erasure"
    );
    let mut wal = s.path.clone().into_os_string();
    wal.push("-wal");
    assert_eq!(
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0),
        0,
        "the WAL was truncated"
    );

    // Refused from now on: export, login, the old sessions, the reset token.
    assert_eq!(
        kind(s.store.customers(&system).export(id)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(s.store.customers(&system).get(id)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(s.store.login(
            &email("zephyrine.quillfeather@example.org"),
            &Password::new(PASSWORD)
        )),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(s.store.principal_from_session(&session)),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(
            s.store
                .reset_password(&reset, &Password::new("a brand new long passphrase"))
        ),
        ErrorKind::Validation { field: "token" }
    );
    assert!(
        s.store
            .request_password_reset(&email("zephyrine.quillfeather@example.org"))
            .unwrap()
            .is_none()
    );

    // A tombstone stays; everything personal is gone from the row.
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    let (created, erased, nulls): (String, Option<String>, i64) = conn
        .query_row(
            "SELECT created_at, erased_at,
                    (email IS NULL) + (name IS NULL) + (phone IS NULL) + (business IS NULL)
                    + (email_index IS NULL) + (password_hash IS NULL)
             FROM shopkeep_customers WHERE id = ?1",
            [id_bytes(id)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(created.starts_with("2026-11-28"));
    assert!(erased.is_some());
    assert_eq!(nulls, 6);
    for table in [
        "shopkeep_customer_addresses",
        "shopkeep_customer_consents",
        "shopkeep_customer_tokens",
    ] {
        let left: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "{table}");
    }
    drop(conn);

    // Erasing again succeeds (a retry after a failed WAL purge), the others are untouched, and
    // the email is free to register again.
    s.store.customers(&system).erase(id).unwrap();
    assert_eq!(
        s.store.customers(&system).get(keep).unwrap().name(),
        "Keep Me"
    );
    let again = register(
        &s.store,
        "Zephyrine.Quillfeather@example.org",
        "Zephyrine Again",
    );
    assert_ne!(again, id);

    // Audited by id, without personal data.
    let audit = audit_actions(&s.store);
    assert!(
        audit
            .iter()
            .any(|(p, a, r, _)| *p == format!("customer:{id}")
                && a == "erase_customer"
                && *r == format!("customer:{id}"))
    );
    assert!(audit.iter().any(|(_, a, _, _)| a == "export_customer"));
    for (p, a, r, _) in &audit {
        for needle in NEEDLES {
            assert!(!p.contains(needle) && !a.contains(needle) && !r.contains(needle));
        }
    }
}

#[test]
fn who_may_export_and_erase() {
    let s = shop();
    let ana = register(&s.store, "ana@example.com", "Ana");
    let ben = register(&s.store, "ben@example.com", "Ben");
    let (me, _) = login(&s.store, "ana@example.com");
    // Another customer's account is invisible.
    assert_eq!(
        kind(s.store.customers(&me).export(ben)),
        ErrorKind::NotFound
    );
    assert_eq!(kind(s.store.customers(&me).erase(ben)), ErrorKind::NotFound);
    // The customer erases their own account; their session ends with it.
    s.store.customers(&me).erase(ana).unwrap();
    assert_eq!(kind(s.store.customers(&me).get(ana)), ErrorKind::NotFound);
    assert_eq!(
        s.store
            .customers(&s.store.system())
            .get(ben)
            .unwrap()
            .name(),
        "Ben"
    );
}

#[test]
fn registration_consent_and_erasure_reach_the_outbox_with_ids_only() {
    let shop = shop();
    let store = &shop.store;
    let id = register(store, "olivia.outbox@example.com", "Olivia Outbox");
    let system = store.system();
    let sms = ConsentRequest::new(Channel::Sms, "checkout form", "v1").unwrap();
    store.consents(&system).grant(id, sms).unwrap();
    let mail = ConsentRequest::new(Channel::Email, "newsletter form", "v1").unwrap();
    let token = store.consents(&system).grant(id, mail).unwrap().unwrap();
    store.confirm_consent(&token).unwrap();
    store
        .consents(&system)
        .withdraw(id, Channel::Sms, "preferences page")
        .unwrap();
    store.customers(&system).erase(id).unwrap();

    let events = store
        .events(&system)
        .poll(100, Duration::from_secs(60))
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "customer.registered",
            "customer.consent_changed",
            "customer.consent_changed",
            "customer.consent_changed",
            "customer.erased"
        ]
    );
    let changes: Vec<serde_json::Value> = events[1..4]
        .iter()
        .map(|e| serde_json::from_str(e.data_json()).unwrap())
        .collect();
    assert_eq!(changes[0]["change"], "granted");
    assert_eq!(changes[1]["change"], "confirmed");
    assert_eq!(changes[1]["channel"], "email");
    assert_eq!(changes[2]["change"], "withdrawn");
    for event in &events {
        assert!(event.data_json().contains(&id.to_string()));
        let json = event.to_json();
        assert!(
            !json.contains("olivia") && !json.contains("Olivia") && !json.contains("example.com")
        );
    }
}

/// Shop settings and one product with stock, so that customers can check out.
fn open_for_business(store: &Store) -> shopkeep::catalog::VariantId {
    use shopkeep::catalog::{
        Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
        TaxCategory, TaxTable,
    };
    use shopkeep::money::TaxRate;
    use shopkeep::orders::PriceMode;
    use shopkeep::{Currency, Money};
    let system = store.system();
    let seller = Seller::new(
        "Beispiel GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de()).unwrap(),
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567").unwrap(),
            email("billing@example.com"),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number("27/123/45678")
    .unwrap()
    .registration("HRB 12345, Amtsgericht Berlin")
    .unwrap();
    let table = TaxTable::new().country(de(), CountryTaxes::new(TaxRate::parse("19").unwrap()));
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(table)
        .build()
        .unwrap();
    store.settings(&system).update(0, &settings).unwrap();
    let mug = NewProduct::new(
        Sku::parse("MUG-1").unwrap(),
        "Enamel mug",
        TaxCategory::Standard,
    )
    .unwrap()
    .price(Money::parse("12.90", Currency::EUR).unwrap());
    let variant = store.products(&system).create(mug).unwrap().variants()[0].id();
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(100))
        .unwrap();
    variant
}

#[test]
fn an_export_holds_the_customers_orders_with_their_buyer_snapshots() {
    use shopkeep::catalog::TaxCategory;
    use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Shipping};
    use shopkeep::{Currency, Money};
    let s = shop();
    let mug = open_for_business(&s.store);
    let id = register_distinctive(&s.store);
    let other = register(&s.store, "other@example.com", "Other Person");
    let system = s.store.system();
    let home = Address::new("Zephyrine Quillfeather", "Am Deich 2", "Husum", de()).unwrap();
    for (who, address) in [(id, home.clone()), (other, home)] {
        s.store
            .customers(&system)
            .add_address(who, address)
            .unwrap();
        s.store
            .carts(&system)
            .add(CartRef::Customer(who), mug, 2)
            .unwrap();
        let shipping = Shipping::new(
            "DHL Paket",
            Money::parse("4.90", Currency::EUR).unwrap(),
            TaxCategory::Standard,
        )
        .unwrap();
        s.store
            .orders(&system)
            .checkout(
                Checkout::from_cart(who, IdempotencyKey::new(&format!("k-{who}")).unwrap())
                    .shipping(shipping),
            )
            .unwrap()
            .into_order();
    }

    let (me, _) = login(&s.store, "zephyrine.quillfeather@example.org");
    let export = s.store.customers(&me).export(id).unwrap();
    assert_eq!(export.orders().len(), 1, "their own orders only");
    let doc: serde_json::Value = serde_json::from_str(&export.to_json().unwrap()).unwrap();
    let order = &doc["orders"][0];
    assert_eq!(order["number"], "000001");
    assert_eq!(order["placed_at"], "2026-11-28T09:00:00.000000Z");
    assert_eq!(order["status"], "placed");
    assert_eq!(order["currency"], "EUR");
    assert_eq!(order["gross_total"]["amount"], "30.70"); // 2 × 12.90 + 4.90
    assert_eq!(order["lines"][0]["sku"], "MUG-1");
    assert_eq!(order["lines"][0]["name"], "Enamel mug");
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["lines"][0]["amount"]["amount"], "25.80");
    assert_eq!(order["charges"][0]["reason"], "DHL Paket");
    assert_eq!(order["buyer"]["name"], "Zephyrine Quillfeather-Oyelaran");
    assert_eq!(
        order["buyer"]["email"],
        "zephyrine.quillfeather@example.org"
    );
    assert_eq!(order["buyer"]["shipping"]["city"], "Husum");
    assert_eq!(order["buyer"]["billing"]["city"], "Wolkenkuckucksheim");
    assert_eq!(order["buyer"]["company"], "Quillfeather Logistik GmbH");
    assert_eq!(order["buyer"]["vat_id"], "DE287654321");
    assert!(!format!("{export:?}").contains("Zephyrine"));
}
