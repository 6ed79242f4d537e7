//! AES-256-GCM sealing and opening, the one AEAD of the crate.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

use super::secret::SecretKey;
use crate::error::{Error, ErrorKind, Result};

/// Length of an AES-GCM nonce (96 bits).
pub(crate) const NONCE_LEN: usize = 12;
/// Length of an AES-GCM tag (128 bits).
pub(crate) const TAG_LEN: usize = 16;

/// Encrypts `plaintext` bound to `aad`; returns ciphertext followed by the tag.
pub(crate) fn seal(
    key: &SecretKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    cipher(key)?
        .encrypt(
            &(*nonce).into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::new(ErrorKind::Crypto, "encryption failed"))
}

/// Decrypts ciphertext-and-tag bound to `aad`. Any change to the key, nonce, associated data,
/// ciphertext or tag fails the tag check.
pub(crate) fn open(
    key: &SecretKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    open_with(&cipher(key)?, nonce, aad, sealed)
}

/// As [`open`], with the cipher of a key already set up (its AES key schedule and GHASH key
/// cost more than opening a short field).
pub(crate) fn open_with(
    cipher: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    cipher
        .decrypt(&(*nonce).into(), Payload { msg: sealed, aad })
        .map(Zeroizing::new)
        .map_err(|_| {
            Error::new(
                ErrorKind::Crypto,
                "decryption failed: wrong key, or the value was altered or moved",
            )
        })
}

fn cipher(key: &SecretKey) -> Result<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key.bytes())
        .map_err(|_| Error::new(ErrorKind::Crypto, "invalid AES-256 key length"))
}
