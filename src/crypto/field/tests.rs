//! Field encryption: published test vectors, the tamper matrix, nonce uniqueness.

use std::collections::HashSet;

use super::*;
use crate::crypto::data_keys::DataKey;
use crate::crypto::keys::Keys;
use crate::crypto::sealed::{Purpose, associated_data, seal_with_nonce};
use crate::crypto::secret::SecretKey;

/// The vectors of `docs/security.md`, computed there by an independent implementation
/// (Python's `cryptography` package). Any change to the layout breaks this test.
mod vectors {
    pub const ROOT: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    pub const BLIND_EMAIL: &str =
        "55a115fddee329137318457668a166d0ca878ab6f03e91ad87df65f74cbe91d2";
    pub const AUTH_MAC_KEY: &str =
        "f5c831a92455e15128e7ecf381f75065063d9e77cbd271b0a9262668c3a190fa";
    pub const SUBJECT: &str = "customer:0190e6a4-7c1a-7000-8000-000000000001";
    pub const DATA_KEY: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
    pub const WRAP_NONCE: &str = "606162636465666768696a6b";
    pub const WRAPPED_DATA_KEY: &str = "0100000001606162636465666768696a6b320bb05ba482dd17d72c3750dbcad1ceb5dcaf4322b806dc2bdcb751fe360747506a9e2c2a23a87526c69360c9cafac4";
    /// The customer id of `SUBJECT` as stored and bound: its 16 raw bytes.
    pub const ROW: &str = "0190e6a47c1a70008000000000000001";
    pub const FIELD_NONCE: &str = "707172737475767778797a7b";
    pub const FIELD_AAD: &str = "0000000e73686f706b6565702f6669656c6401000000010000001273686f706b6565705f637573746f6d65727300000005656d61696c000000100190e6a47c1a70008000000000000001";
    pub const FIELD: &str = "0100000001707172737475767778797a7bb28bda58fb208567db33de73dc6b76ca1fc9611a83ec9e220dd72b80177a96";
    pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    pub const AUTH_MAC: &str = "a9941c6f235cda5e17429a078a1a9a38367f8fe6de3bce30cbaf3421b08e5541";
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key32(text: &str) -> SecretKey {
    SecretKey::from_slice(&unhex(text)).unwrap()
}

fn nonce(text: &str) -> [u8; 12] {
    unhex(text).try_into().unwrap()
}

fn place(row: &[u8]) -> Place<'_> {
    Place {
        table: "shopkeep_customers",
        column: "email",
        row,
    }
}

#[test]
fn published_vectors_match_byte_for_byte() {
    use vectors::*;
    let keys = Keys::derive(key32(ROOT)).unwrap();
    assert_eq!(
        hex(&keys.blind_index("customer_email", "ana@example.com")),
        BLIND_EMAIL
    );

    // Wrapping the data key reproduces the published bytes and unwraps back.
    let data_key = DataKey::new(1, key32(DATA_KEY));
    let wrapped = keys
        .wrap_data_key_with_nonce(SUBJECT, &data_key, &nonce(WRAP_NONCE))
        .unwrap();
    assert_eq!(hex(&wrapped), WRAPPED_DATA_KEY);
    let unwrapped = keys
        .unwrap_data_key(SUBJECT, &unhex(WRAPPED_DATA_KEY))
        .unwrap();
    assert_eq!(hex(unwrapped.secret().bytes()), DATA_KEY);

    // The associated data and the field ciphertext.
    let header = [1, 0, 0, 0, 1];
    let row = unhex(ROW);
    let aad = associated_data(
        Purpose::Field,
        &header,
        &[b"shopkeep_customers", b"email", &row],
    );
    assert_eq!(hex(&aad), FIELD_AAD);
    let sealed = seal_with_nonce(
        data_key.secret(),
        1,
        Purpose::Field,
        &[b"shopkeep_customers", b"email", &row],
        b"ana@example.com",
        &nonce(FIELD_NONCE),
    )
    .unwrap();
    assert_eq!(hex(&sealed), FIELD);
    let plain = decrypt(&unwrapped, place(&row), &unhex(FIELD)).unwrap();
    assert_eq!(plain.as_slice(), b"ana@example.com");

    // The auth MAC of the customer row with that id and a password hash.
    let mac = keys.auth_mac(
        &crate::crypto::auth_mac::CUSTOMERS,
        &[Some(&row), Some(PASSWORD_HASH.as_bytes())],
    );
    assert_eq!(hex(&mac), AUTH_MAC);
}

/// The published auth-MAC key is the HKDF output for its label.
#[test]
fn the_auth_mac_key_is_the_published_one() {
    let keys = Keys::derive(key32(vectors::ROOT)).unwrap();
    assert_eq!(hex(keys.auth_mac_key().bytes()), vectors::AUTH_MAC_KEY);
}

#[test]
fn the_security_guide_publishes_the_same_vectors() {
    let guide = include_str!("../../../docs/security.md");
    for v in [
        vectors::ROOT,
        vectors::BLIND_EMAIL,
        vectors::DATA_KEY,
        vectors::WRAPPED_DATA_KEY,
        vectors::FIELD_AAD,
        vectors::FIELD,
        vectors::AUTH_MAC_KEY,
        vectors::PASSWORD_HASH,
        vectors::AUTH_MAC,
    ] {
        assert!(guide.contains(v), "docs/security.md lacks {v}");
    }
}

#[test]
fn tamper_matrix_every_change_is_a_typed_crypto_error() {
    let alice = DataKey::new(1, SecretKey::from_bytes([0xa1; 32]));
    let bob = DataKey::new(1, SecretKey::from_bytes([0xb0; 32]));
    let row = b"row-1".as_slice();
    let stored = encrypt(&alice, place(row), b"Ana Lima, Rua Augusta 1").unwrap();
    assert_eq!(
        decrypt(&alice, place(row), &stored).unwrap().as_slice(),
        b"Ana Lima, Rua Augusta 1"
    );

    let expect_crypto = |what: &str, result: Result<Zeroizing<Vec<u8>>>| match result {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Crypto, "{what}: {e}"),
        Ok(_) => panic!("{what}: decrypted"),
    };
    // Every single-byte flip, in every position, with every single-bit pattern of one byte.
    for i in 0..stored.len() {
        for bit in 0..8 {
            let mut bad = stored.clone();
            bad[i] ^= 1 << bit;
            expect_crypto(
                &format!("flip byte {i} bit {bit}"),
                decrypt(&alice, place(row), &bad),
            );
        }
    }
    // Every truncation, and an extension.
    for len in 0..stored.len() {
        expect_crypto(
            &format!("truncate to {len}"),
            decrypt(&alice, place(row), &stored[..len]),
        );
    }
    let mut longer = stored.clone();
    longer.push(0);
    expect_crypto("extended", decrypt(&alice, place(row), &longer));
    // Moved to another row, column or table.
    expect_crypto("row swap", decrypt(&alice, place(b"row-2"), &stored));
    let other_column = Place {
        column: "phone",
        ..place(row)
    };
    expect_crypto("column swap", decrypt(&alice, other_column, &stored));
    let other_table = Place {
        table: "orders",
        ..place(row)
    };
    expect_crypto("table swap", decrypt(&alice, other_table, &stored));
    // Another subject's key.
    expect_crypto("subject swap", decrypt(&bob, place(row), &stored));
    // Another key generation of the same subject.
    let alice_v2 = DataKey::new(2, SecretKey::from_bytes([0xa1; 32]));
    expect_crypto("key generation", decrypt(&alice_v2, place(row), &stored));
}

#[test]
fn nonces_never_repeat_over_100_000_encryptions() {
    let key = DataKey::new(1, SecretKey::from_bytes([5; 32]));
    let mut seen = HashSet::with_capacity(100_000);
    for i in 0..100_000u32 {
        let stored = encrypt(&key, place(&i.to_be_bytes()), b"x").unwrap();
        let nonce: [u8; 12] = stored[5..17].try_into().unwrap();
        assert!(seen.insert(nonce), "nonce repeated after {i} encryptions");
    }
}

#[test]
fn equal_plaintexts_give_different_ciphertexts() {
    let key = DataKey::new(1, SecretKey::from_bytes([6; 32]));
    let a = encrypt(&key, place(b"r"), b"same").unwrap();
    let b = encrypt(&key, place(b"r"), b"same").unwrap();
    assert_ne!(a, b);
}
