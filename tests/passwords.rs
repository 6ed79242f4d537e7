#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Passwords: the policy, argon2id hashing and verification, and the unknown-account path.
//!
//! Tests that hash use `PasswordParams::insecure_for_tests()` and so need the
//! `insecure-test-params` feature (the suite runs with `--all-features`); the few that check the
//! production parameters hash with them for real.

use shopkeep::ErrorKind;
use shopkeep::crypto::{Password, PasswordHash, PasswordHasher, PasswordParams, PasswordPolicy};

const PASSPHRASE: &str = "correct horse battery staple";

fn assert_password_error(result: shopkeep::Result<()>, secret: &str) -> String {
    let err = result.expect_err("the policy should refuse this password");
    assert_eq!(err.kind(), ErrorKind::Validation { field: "password" });
    if !secret.is_empty() {
        assert!(!err.to_string().contains(secret), "{err}");
        assert!(!format!("{err:?}").contains(secret), "{err:?}");
    }
    err.message().to_owned()
}

/// What `policy` says refusing `password` (see [`assert_password_error`]).
fn refused(policy: &PasswordPolicy, password: &str) -> String {
    assert_password_error(policy.check(&Password::new(password), &[]), password)
}

// ---------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------

#[test]
fn default_policy_requires_15_characters() {
    let policy = PasswordPolicy::default();
    assert_eq!(policy.minimum_length(), 15);
    assert_eq!(policy, PasswordPolicy::new());

    let fourteen = "orange-kettle!";
    assert_eq!(fourteen.chars().count(), 14);
    let message = refused(&policy, fourteen);
    assert!(message.contains("15"), "{message}");

    policy
        .check(&Password::new("orange-kettle!?"), &[])
        .unwrap();
}

#[test]
fn length_counts_characters_not_bytes() {
    // 15 characters, 30 bytes.
    let greek = "αβγδεζηθικλμνξο";
    assert_eq!(greek.chars().count(), 15);
    PasswordPolicy::new()
        .check(&Password::new(greek), &[])
        .unwrap();
    // 14 characters, 28 bytes: too short although it has more than 15 bytes.
    let short = "αβγδεζηθικλμνξ";
    refused(&PasswordPolicy::new(), short);
}

#[test]
fn empty_password_is_refused() {
    let message = refused(&PasswordPolicy::new(), "");
    assert_eq!(message, "enter a password");
}

#[test]
fn common_passwords_are_refused_ignoring_case() {
    // A list entry long enough for the default policy.
    for candidate in [
        "1q2w3e4r5t6y7u8i",
        "1Q2W3E4R5T6Y7U8I",
        "  1q2W3e4R5t6Y7u8I ",
    ] {
        let message = refused(&PasswordPolicy::new(), candidate);
        assert!(message.contains("too common"), "{message}");
    }
    let with_mfa = PasswordPolicy::new().min_length(8).unwrap();
    for candidate in ["password1", "PASSWORD1", "Iloveyou", "QwertyUIOP"] {
        let message = refused(&with_mfa, candidate);
        assert!(message.contains("too common"), "{message}");
    }
    // Close to a list entry is not on the list: the rule is an exact match.
    with_mfa
        .check(&Password::new("password1 but longer"), &[])
        .unwrap();
}

#[test]
fn a_64_character_passphrase_is_accepted() {
    let passphrase = "the quick brown fox jumps over the lazy dog as it rains in april";
    assert_eq!(passphrase.chars().count(), 64);
    PasswordPolicy::new()
        .check(&Password::new(passphrase), &[])
        .unwrap();
}

#[test]
fn the_ceiling_is_256_characters() {
    // Alternating so that it is not one character repeated.
    let at_limit = "ab".repeat(128);
    PasswordPolicy::new()
        .check(&Password::new(at_limit.clone()), &[])
        .unwrap();
    // 256 four-byte characters are exactly 1024 bytes: still fine.
    let wide = "😀😁".repeat(128);
    assert_eq!(wide.len(), 1024);
    PasswordPolicy::new()
        .check(&Password::new(wide), &[])
        .unwrap();

    let over = format!("{at_limit}c");
    let message = refused(&PasswordPolicy::new(), &over);
    assert!(message.contains("256"), "{message}");
    let huge = "xy".repeat(1_000_000);
    refused(&PasswordPolicy::new(), &huge);
}

#[test]
fn one_repeated_character_is_refused() {
    for candidate in [
        "aaaaaaaaaaaaaaaaaaaa",
        "AaAaAaAaAaAaAaAaAaAa",
        "                    ",
    ] {
        assert_password_error(
            PasswordPolicy::new().check(&Password::new(candidate), &[]),
            "",
        );
    }
}

#[test]
fn context_strings_are_refused_ignoring_case() {
    let email = "Ada.Lovelace@Example.com";
    let shop = "The Analytical Tea Room";
    let policy = PasswordPolicy::new();
    for candidate in [
        "ada.lovelace@example.com",
        "ADA.LOVELACE@EXAMPLE.COM",
        "the analytical tea room",
    ] {
        let message = assert_password_error(
            policy.check(&Password::new(candidate), &[email, shop]),
            candidate,
        );
        assert!(message.contains("account"), "{message}");
    }
    // Without the context the same password is fine; empty context strings match nothing.
    policy
        .check(&Password::new("ada.lovelace@example.com"), &[])
        .unwrap();
    policy
        .check(&Password::new(PASSPHRASE), &["", "   ", email])
        .unwrap();
}

#[test]
fn min_length_is_bounded() {
    for too_low in [0, 1, 7] {
        let err = PasswordPolicy::new().min_length(too_low).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "min_length"
            }
        );
    }
    let err = PasswordPolicy::new().min_length(65).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "min_length"
        }
    );

    let eight = PasswordPolicy::new().min_length(8).unwrap();
    assert_eq!(eight.minimum_length(), 8);
    eight.check(&Password::new("tangerin"), &[]).unwrap();
    refused(&eight, "tangeri");
    assert_eq!(
        PasswordPolicy::new()
            .min_length(64)
            .unwrap()
            .minimum_length(),
        64
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets stay out of Debug
// ---------------------------------------------------------------------------------------------

#[test]
fn debug_never_shows_the_password() {
    let password = Password::new(PASSPHRASE);
    let shown = format!("{password:?} {password:#?}");
    assert!(!shown.contains("horse"), "{shown}");
    assert!(shown.contains("REDACTED"));
}

#[test]
fn debug_never_shows_the_hash() {
    let text = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY";
    let hash = PasswordHash::parse(text).unwrap();
    assert_eq!(hash.as_str(), text);
    let shown = format!("{hash:?} {hash:#?}");
    assert!(!shown.contains("c2FsdHNhbHRzYWx0c2FsdA"), "{shown}");
    assert!(!shown.contains("MDEyMzQ1Njc4"), "{shown}");
    assert!(shown.contains("REDACTED"));
}

// ---------------------------------------------------------------------------------------------
// Parameters and stored hashes
// ---------------------------------------------------------------------------------------------

#[test]
fn params_weaker_than_owasp_are_refused() {
    for (m, t, p) in [
        (19_455, 2, 1),
        (19_456, 1, 1),
        (47_103, 1, 1),
        (9_216, 3, 1),
        (7_168, 4, 1),
        (1_000_000, 0, 1),
        (19_456, 2, 0),
        (8, 1, 1),
        (2 * 1024 * 1024, 2, 1),
        (19_456, 65, 1),
        (19_456, 2, 65),
    ] {
        let err = PasswordParams::new(m, t, p).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "password_params"
            },
            "m={m} t={t} p={p}"
        );
    }
    for (m, t, p) in [
        (19_456, 2, 1),
        (47_104, 1, 1),
        (7_168, 5, 1),
        (65_536, 3, 4),
    ] {
        let params = PasswordParams::new(m, t, p).unwrap();
        assert_eq!(
            (
                params.memory_kib(),
                params.iterations(),
                params.parallelism()
            ),
            (m, t, p)
        );
    }
    let owasp = PasswordParams::owasp();
    assert_eq!(
        (owasp.memory_kib(), owasp.iterations(), owasp.parallelism()),
        (19_456, 2, 1)
    );
    assert_eq!(PasswordParams::default(), owasp);
}

#[test]
fn parse_refuses_what_is_not_an_argon2id_phc_string() {
    for text in [
        "",
        "hunter2",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2id$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA",
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$argon2id$v=19$m=19456,t=2,p=1,x=3$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2id$v=19$m=4,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$!!!not-base64!!!",
    ] {
        let err = PasswordHash::parse(text).expect_err(text);
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "password_hash"
            },
            "{text}"
        );
        if text.len() > 8 {
            assert!(!err.to_string().contains(text), "{err}");
        }
    }
}

#[test]
fn owasp_default_params_are_what_the_hash_says() {
    let hasher = PasswordHasher::default();
    assert_eq!(hasher.params(), PasswordParams::owasp());
    let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
    assert!(
        hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hash.as_str()
    );
    let outcome = hasher.verify(&Password::new(PASSPHRASE), &hash).unwrap();
    assert!(outcome.is_match());
    assert!(!outcome.needs_rehash());
    assert!(!hasher.needs_rehash(&hash));
}

// ---------------------------------------------------------------------------------------------
// Hashing and verification, with cheap parameters
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "insecure-test-params")]
mod hashing {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(PasswordParams::insecure_for_tests())
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        let outcome = hasher.verify(&Password::new(PASSPHRASE), &hash).unwrap();
        assert!(outcome.is_match());
        assert!(!outcome.needs_rehash());

        for wrong in [
            "",
            "correct horse battery stapl",
            "Correct horse battery staple",
            "correct horse battery staple ",
        ] {
            let outcome = hasher.verify(&Password::new(wrong), &hash).unwrap();
            assert!(!outcome.is_match(), "{wrong:?}");
            assert!(!outcome.needs_rehash());
        }
    }

    #[test]
    fn a_stored_hash_round_trips_through_its_string() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        let stored = PasswordHash::parse(hash.as_str()).unwrap();
        assert_eq!(stored.as_str(), hash.as_str());
        assert!(
            hasher
                .verify(&Password::new(PASSPHRASE), &stored)
                .unwrap()
                .is_match()
        );
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let hasher = cheap();
        let first = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        let second = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        assert_ne!(first.as_str(), second.as_str());
        let salt = |hash: &PasswordHash| hash.as_str().split('$').nth(4).unwrap().to_owned();
        assert_ne!(salt(&first), salt(&second));
        // 16 bytes of salt are 22 characters of unpadded base64.
        assert_eq!(salt(&first).len(), 22);
        assert!(
            hasher
                .verify(&Password::new(PASSPHRASE), &second)
                .unwrap()
                .is_match()
        );
    }

    #[test]
    fn a_hash_is_argon2id_with_the_configured_params() {
        let hash = cheap().hash(&Password::new(PASSPHRASE)).unwrap();
        let fields: Vec<&str> = hash.as_str().split('$').collect();
        assert_eq!(fields.len(), 6, "{}", hash.as_str());
        assert_eq!(fields[1], "argon2id");
        assert_eq!(fields[2], "v=19");
        assert_eq!(fields[3], "m=8,t=1,p=1");
        // 32 bytes of output are 43 characters of unpadded base64.
        assert_eq!(fields[5].len(), 43);
    }

    #[test]
    fn a_hash_made_with_other_params_verifies_but_needs_rehash() {
        let old = cheap().hash(&Password::new(PASSPHRASE)).unwrap();
        // Verification runs with the stored (cheap) params, so this costs nothing much.
        let current = PasswordHasher::new(PasswordParams::owasp());
        assert!(current.needs_rehash(&old));
        let outcome = current.verify(&Password::new(PASSPHRASE), &old).unwrap();
        assert!(outcome.is_match());
        assert!(outcome.needs_rehash());
        // A wrong password is no match, and no advice to rehash what cannot be rehashed.
        let outcome = current.verify(&Password::new("wrong"), &old).unwrap();
        assert!(!outcome.is_match());
        assert!(!outcome.needs_rehash());
        // Rehashing with the current hasher gives a hash that no longer needs it.
        let new = current.hash(&Password::new(PASSPHRASE)).unwrap();
        let outcome = current.verify(&Password::new(PASSPHRASE), &new).unwrap();
        assert!(outcome.is_match());
        assert!(!outcome.needs_rehash());
    }

    #[test]
    fn the_unknown_account_path_runs_argon2_like_a_wrong_password() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        assert_eq!(
            hasher.verifications_performed(),
            0,
            "hashing is not verifying"
        );

        let before = hasher.verifications_performed();
        assert!(
            !hasher
                .verify(&Password::new("wrong guess"), &hash)
                .unwrap()
                .is_match()
        );
        let per_wrong_password = hasher.verifications_performed() - before;
        assert_eq!(per_wrong_password, 1);

        for guess in ["wrong guess", "", PASSPHRASE] {
            let before = hasher.verifications_performed();
            let outcome = hasher
                .verify_unknown_account(&Password::new(guess))
                .unwrap();
            assert!(!outcome.is_match(), "{guess:?}");
            assert!(!outcome.needs_rehash());
            assert_eq!(
                hasher.verifications_performed() - before,
                per_wrong_password,
                "{guess:?}"
            );
        }
    }

    #[test]
    fn over_long_passwords_are_refused_before_any_argon2_work() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        let long = Password::new("x".repeat(257));
        let bytes = Password::new("é".repeat(513)); // 1026 bytes
        for password in [&long, &bytes] {
            let err = hasher.hash(password).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation { field: "password" });
            let err = hasher.verify(password, &hash).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation { field: "password" });
            let err = hasher.verify_unknown_account(password).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation { field: "password" });
        }
        assert_eq!(hasher.verifications_performed(), 0);
        // The longest accepted password hashes and verifies.
        let longest = Password::new("xy".repeat(128));
        let hash = hasher.hash(&longest).unwrap();
        assert!(hasher.verify(&longest, &hash).unwrap().is_match());
    }

    #[test]
    fn a_hasher_is_shared_across_threads() {
        let hasher = std::sync::Arc::new(cheap());
        let hash = hasher.hash(&Password::new(PASSPHRASE)).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let hasher = std::sync::Arc::clone(&hasher);
                let hash = hash.clone();
                std::thread::spawn(move || {
                    assert!(
                        hasher
                            .verify(&Password::new(PASSPHRASE), &hash)
                            .unwrap()
                            .is_match()
                    );
                    assert!(
                        !hasher
                            .verify_unknown_account(&Password::new(PASSPHRASE))
                            .unwrap()
                            .is_match()
                    );
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(hasher.verifications_performed(), 8);
    }
}
