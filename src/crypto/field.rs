//! Field encryption of personal data, bound to where the value lives.

use zeroize::Zeroizing;

use super::data_keys::DataKey;
use super::sealed::{self, Purpose, Sealed};
use crate::error::{Error, ErrorKind, Result};

/// Where an encrypted value lives: its table, column and row. Bound into the ciphertext's
/// associated data, so a value copied to another row or column fails to decrypt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    pub(crate) table: &'a str,
    pub(crate) column: &'a str,
    pub(crate) row: &'a [u8],
}

impl Place<'_> {
    fn parts(&self) -> [&[u8]; 3] {
        [self.table.as_bytes(), self.column.as_bytes(), self.row]
    }
}

/// Encrypts `plaintext` for `place` under a subject's data key, with a fresh random nonce.
pub(crate) fn encrypt(key: &DataKey, place: Place<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
    sealed::seal(
        key.secret(),
        key.id(),
        Purpose::Field,
        &place.parts(),
        plaintext,
    )
}

/// Decrypts a value stored at `place`.
///
/// # Errors
///
/// `Crypto` if the value is truncated, of an unknown version, sealed under another key
/// generation, altered, or moved from another place.
pub(crate) fn decrypt(
    key: &DataKey,
    place: Place<'_>,
    stored: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = Sealed::parse(stored)?;
    if sealed.key_id() != key.id() {
        return Err(Error::new(
            ErrorKind::Crypto,
            format!(
                "the value was encrypted under data key {}, not {}",
                sealed.key_id(),
                key.id()
            ),
        ));
    }
    sealed.open_with(key.cipher(), Purpose::Field, &place.parts())
}

#[cfg(test)]
mod tests;
