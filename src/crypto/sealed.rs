//! The one byte layout of everything shopkeep encrypts: the wrapped root key, wrapped data keys
//! and encrypted fields. Documented byte by byte in `docs/security.md`.
//!
//! ```text
//! offset  length  field
//! 0       1       version (0x01)
//! 1       4       key id, big-endian u32 (which generation of the key sealed it)
//! 5       12      nonce, random per value
//! 17      n       AES-256-GCM ciphertext (n = plaintext length)
//! 17+n    16      GCM tag
//! ```
//!
//! The associated data is never stored: both sides rebuild it from where the value lives.
//!
//! ```text
//! aad = lp(purpose) || version || key id || lp(part 1) || lp(part 2) || ...
//! lp(x) = big-endian u32 length of x || x
//! ```
//!
//! The purpose (`shopkeep/field`, `shopkeep/data-key`, `shopkeep/root-key`) keeps a value sealed
//! for one use from being accepted for another; the parts bind it to its place (table, column,
//! row; or the subject of a data key); the header is bound too, so it cannot be edited.

use aes_gcm::Aes256Gcm;
use zeroize::Zeroizing;

use super::aead::{self, NONCE_LEN, TAG_LEN};
use super::secret::{SecretKey, random_array};
use crate::error::{Error, ErrorKind, Result};

/// The current layout version.
pub(crate) const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4;
const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// What a sealed value is for; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The store's root key, wrapped under the host's master key.
    RootKey,
    /// A data subject's data key, wrapped under the data-key wrapping key.
    DataKey,
    /// A field of personal data, under its subject's data key.
    Field,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::RootKey => b"shopkeep/root-key",
            Purpose::DataKey => b"shopkeep/data-key",
            Purpose::Field => b"shopkeep/field",
        }
    }
}

/// Seals `plaintext` with a fresh random nonce.
pub(crate) fn seal(
    key: &SecretKey,
    key_id: u32,
    purpose: Purpose,
    parts: &[&[u8]],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    seal_with_nonce(key, key_id, purpose, parts, plaintext, &random_array()?)
}

/// Seals with a given nonce. Only `seal` and the published test vectors call this: a nonce
/// must never repeat under one key.
pub(crate) fn seal_with_nonce(
    key: &SecretKey,
    key_id: u32,
    purpose: Purpose,
    parts: &[&[u8]],
    plaintext: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>> {
    let header = header(key_id);
    let sealed = aead::seal(
        key,
        nonce,
        &associated_data(purpose, &header, parts),
        plaintext,
    )?;
    let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + sealed.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// A sealed value, split into its parts but not yet opened.
#[derive(Debug)]
pub(crate) struct Sealed<'a> {
    key_id: u32,
    header: [u8; HEADER_LEN],
    nonce: [u8; NONCE_LEN],
    sealed: &'a [u8],
}

impl<'a> Sealed<'a> {
    /// Splits a stored value into header, nonce and ciphertext.
    ///
    /// # Errors
    ///
    /// `Crypto` if the value is too short or of an unknown version.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < MIN_LEN {
            return Err(Error::new(
                ErrorKind::Crypto,
                format!(
                    "an encrypted value of {} bytes is truncated (at least {MIN_LEN})",
                    bytes.len()
                ),
            ));
        }
        let (header, rest) = bytes.split_at(HEADER_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let header: [u8; HEADER_LEN] = header.try_into().map_err(|_| truncated())?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| truncated())?;
        let [version, id @ ..] = header;
        if version != VERSION {
            return Err(Error::new(
                ErrorKind::Crypto,
                format!(
                    "unknown encrypted-value version {version} (this shopkeep reads {VERSION})"
                ),
            ));
        }
        Ok(Sealed {
            key_id: u32::from_be_bytes(id),
            header,
            nonce,
            sealed,
        })
    }

    /// The generation of the key that sealed the value.
    pub(crate) fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Opens the value with `key`, for `purpose`, at the place named by `parts`.
    ///
    /// # Errors
    ///
    /// `Crypto` if the key is wrong or anything was altered or moved.
    pub(crate) fn open(
        &self,
        key: &SecretKey,
        purpose: Purpose,
        parts: &[&[u8]],
    ) -> Result<Zeroizing<Vec<u8>>> {
        aead::open(
            key,
            &self.nonce,
            &associated_data(purpose, &self.header, parts),
            self.sealed,
        )
    }

    /// As [`open`](Self::open), with the set-up cipher of the key.
    ///
    /// # Errors
    ///
    /// `Crypto` if the key is wrong or anything was altered or moved.
    pub(crate) fn open_with(
        &self,
        cipher: &Aes256Gcm,
        purpose: Purpose,
        parts: &[&[u8]],
    ) -> Result<Zeroizing<Vec<u8>>> {
        aead::open_with(
            cipher,
            &self.nonce,
            &associated_data(purpose, &self.header, parts),
            self.sealed,
        )
    }
}

fn truncated() -> Error {
    Error::new(ErrorKind::Crypto, "an encrypted value is truncated")
}

fn header(key_id: u32) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = key_id.to_be_bytes();
    [VERSION, a, b, c, d]
}

/// `lp(purpose) || header || lp(part)...`: length prefixes make the encoding unambiguous, so
/// ("ab", "c") and ("a", "bc") never give the same bytes.
pub(crate) fn associated_data(purpose: Purpose, header: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    push_length_prefixed(&mut aad, purpose.label());
    aad.extend_from_slice(header);
    for part in parts {
        push_length_prefixed(&mut aad, part);
    }
    aad
}

fn push_length_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    // Parts are table names, column names, ids: far below 4 GiB.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes([byte; 32])
    }

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let sealed = seal(&key(1), 7, Purpose::Field, &[b"t", b"c", b"r"], b"Ana").unwrap();
        let parsed = Sealed::parse(&sealed).unwrap();
        assert_eq!(parsed.key_id(), 7);
        let opened = parsed
            .open(&key(1), Purpose::Field, &[b"t", b"c", b"r"])
            .unwrap();
        assert_eq!(opened.as_slice(), b"Ana");
        for (k, purpose, parts) in [
            (key(2), Purpose::Field, [b"t" as &[u8], b"c", b"r"]),
            (key(1), Purpose::DataKey, [b"t", b"c", b"r"]),
            (key(1), Purpose::Field, [b"t", b"c", b"x"]),
            (key(1), Purpose::Field, [b"tc", b"", b"r"]),
        ] {
            let err = parsed.open(&k, purpose, &parts).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Crypto);
        }
    }

    #[test]
    fn length_prefixes_keep_parts_apart() {
        let h = header(1);
        assert_ne!(
            associated_data(Purpose::Field, &h, &[b"ab", b"c"]),
            associated_data(Purpose::Field, &h, &[b"a", b"bc"])
        );
    }

    #[test]
    fn short_and_unknown_versions_are_typed_errors() {
        let sealed = seal(&key(1), 1, Purpose::Field, &[], b"x").unwrap();
        for len in 0..MIN_LEN {
            let err = Sealed::parse(&sealed[..len]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Crypto);
        }
        let mut future = sealed.clone();
        future[0] = 2;
        let err = Sealed::parse(&future).unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
    }
}
