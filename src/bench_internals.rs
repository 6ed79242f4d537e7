//! Not a public API: entry points for the crate's own benchmarks (`benches/`), compiled only
//! with the `bench-internals` feature. Nothing here is stable.
#![doc(hidden)]
#![allow(missing_docs)]

use crate::crypto::data_keys::DataKey;
use crate::crypto::field::{self, Place};
use crate::crypto::secret::SecretKey;
use crate::error::Result;

/// Field encryption under one data key, as the repositories use it.
pub struct FieldCipher(DataKey);

impl FieldCipher {
    pub fn new(key: [u8; 32]) -> Self {
        FieldCipher(DataKey::new(1, SecretKey::from_bytes(key)))
    }

    pub fn encrypt(&self, row: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        field::encrypt(&self.0, place(row), plaintext)
    }

    pub fn decrypt(&self, row: &[u8], stored: &[u8]) -> Result<usize> {
        field::decrypt(&self.0, place(row), stored).map(|p| p.len())
    }
}

fn place(row: &[u8]) -> Place<'_> {
    Place {
        table: "customers",
        column: "email",
        row,
    }
}
