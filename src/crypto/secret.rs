//! 256-bit secret keys and the operating system's randomness.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// Length of every symmetric key in the crate (AES-256, HMAC-SHA256 keys).
pub(crate) const KEY_LEN: usize = 32;

/// A 256-bit key: wiped on drop, never printed, not `Clone`.
pub(crate) struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(Zeroizing::new(bytes))
    }

    /// A fresh key from the operating system's CSPRNG.
    pub(crate) fn random() -> Result<Self> {
        let mut key = SecretKey(Zeroizing::new([0; KEY_LEN]));
        fill_random(key.0.as_mut_slice())?;
        Ok(key)
    }

    /// Reads a key from a slice of exactly 32 bytes (for example a decrypted wrapped key).
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut key = SecretKey(Zeroizing::new([0; KEY_LEN]));
        if bytes.len() != KEY_LEN {
            return Err(Error::new(
                ErrorKind::Crypto,
                "a stored key has the wrong length",
            ));
        }
        key.0.copy_from_slice(bytes);
        Ok(key)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| {
        Error::new(
            ErrorKind::Crypto,
            format!("the operating system's random number generator failed: {e}"),
        )
    })
}

/// `N` random bytes.
pub(crate) fn random_array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0; N];
    fill_random(&mut out)?;
    Ok(out)
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
