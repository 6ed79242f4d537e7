//! The host's master key, and the wrapping of the store's root key under it.

use std::fmt;

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use super::sealed::{self, Purpose, Sealed};
use super::secret::{KEY_LEN, SecretKey};
use crate::error::{Error, ErrorKind, Result};

/// The host's master key: the one secret that unlocks a store.
///
/// The master key never encrypts data itself. It only wraps the store's random *root key*,
/// which lives in the database, wrapped; every working key is derived from the root (see
/// `docs/security.md`). So rotating the master key ([`Store::rotate_master_key`]) re-wraps 32
/// bytes and changes nothing else.
///
/// The host keeps the master key outside the database and its backups (a secret manager, an
/// environment variable of the service). The bytes are wiped from memory when the `KeyRing` is
/// dropped, it is not `Clone`, and `Debug` never shows it.
///
/// ```
/// use shopkeep::KeyRing;
///
/// let from_hex = KeyRing::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")?;
/// let from_b64 = KeyRing::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// assert_eq!(format!("{from_hex:?}"), "KeyRing([REDACTED])");
/// let fresh = KeyRing::generate()?; // for examples and tests
/// # let _ = (from_b64, fresh);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Store::rotate_master_key`]: crate::Store::rotate_master_key
pub struct KeyRing {
    master: SecretKey,
}

impl KeyRing {
    /// A key ring from the raw 32 master-key bytes.
    pub fn from_master_key(master: [u8; KEY_LEN]) -> Self {
        let master = Zeroizing::new(master);
        KeyRing {
            master: SecretKey::from_bytes(*master),
        }
    }

    /// A key ring with a fresh random master key, for examples and tests. A host that uses it
    /// for a real shop must save the key (there is no way to read it back out), so it does not.
    ///
    /// # Errors
    ///
    /// `Crypto` if the operating system's random number generator fails.
    pub fn generate() -> Result<Self> {
        Ok(KeyRing {
            master: SecretKey::random()?,
        })
    }

    /// A key ring from the master key written as 64 hexadecimal digits (either case).
    /// Surrounding whitespace, such as the newline of a secret file, is ignored.
    ///
    /// # Errors
    ///
    /// `Validation` (field `master_key`) if the text is not exactly 64 hex digits. The message
    /// never repeats the text.
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim().as_bytes();
        if text.len() != KEY_LEN * 2 {
            return Err(Error::validation(
                "master_key",
                format!(
                    "a hex master key is {} digits, got {}",
                    KEY_LEN * 2,
                    text.len()
                ),
            ));
        }
        let mut master = Zeroizing::new([0u8; KEY_LEN]);
        for (byte, pair) in master.iter_mut().zip(text.chunks_exact(2)) {
            match pair {
                [hi, lo] => match (hex_value(*hi), hex_value(*lo)) {
                    (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
                    _ => return Err(not_hex()),
                },
                _ => return Err(not_hex()),
            }
        }
        Ok(KeyRing::from_master_key(*master))
    }

    /// A key ring from the master key in standard, padded base64 (44 characters).
    /// Surrounding whitespace is ignored. Decoding runs in constant time.
    ///
    /// # Errors
    ///
    /// `Validation` (field `master_key`) if the text is not base64 of exactly 32 bytes. The
    /// message never repeats the text.
    pub fn from_base64(text: &str) -> Result<Self> {
        let mut master = Zeroizing::new([0u8; KEY_LEN]);
        let decoded_len = Base64::decode(text.trim(), master.as_mut_slice())
            .map(|bytes| bytes.len())
            .map_err(|_| {
                Error::validation(
                    "master_key",
                    "a base64 master key is 44 characters of standard base64 for 32 bytes",
                )
            })?;
        if decoded_len != KEY_LEN {
            return Err(Error::validation(
                "master_key",
                format!("a master key is {KEY_LEN} bytes, got {decoded_len}"),
            ));
        }
        Ok(KeyRing::from_master_key(*master))
    }

    /// Wraps the store's root key under the master key, for storage.
    pub(crate) fn wrap_root(&self, root: &SecretKey) -> Result<Vec<u8>> {
        sealed::seal(&self.master, 0, Purpose::RootKey, &[], root.bytes())
    }

    /// Unwraps the stored root key.
    ///
    /// # Errors
    ///
    /// `Crypto` if this is not the master key the root was wrapped under (or the stored value
    /// was altered).
    pub(crate) fn unwrap_root(&self, wrapped: &[u8]) -> Result<SecretKey> {
        let root = Sealed::parse(wrapped)?
            .open(&self.master, Purpose::RootKey, &[])
            .map_err(|_| {
                Error::new(
                    ErrorKind::Crypto,
                    "the master key does not open this store: it is not the key the store was \
                     created or last rotated with",
                )
            })?;
        SecretKey::from_slice(&root)
    }
}

fn not_hex() -> Error {
    Error::validation(
        "master_key",
        "the master key holds a character that is not a hex digit",
    )
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyRing([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn hex_and_base64_give_the_same_key() {
        let hex = KeyRing::from_hex(&format!(" {}\n", "aB".repeat(32))).unwrap();
        assert_eq!(hex.master.bytes(), &[0xab; 32]);
        let b64 = KeyRing::from_base64("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n").unwrap();
        assert_eq!(b64.master.bytes(), &[0xab; 32]);
    }

    #[test]
    fn bad_text_is_rejected_without_echoing_it() {
        let bad_hex = [
            "",
            "00",
            &"0".repeat(63),
            &"0".repeat(65),
            &format!("{}zz", "0".repeat(62)),
        ];
        for bad in bad_hex {
            let err = KeyRing::from_hex(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "master_key"
                }
            );
            assert!(bad.len() < 8 || !err.to_string().contains(bad));
        }
        let bad_b64 = [
            "",
            "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s",
            "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
            "!!!",
        ];
        for bad in bad_b64 {
            let err = KeyRing::from_base64(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "master_key"
                },
                "{bad:?}"
            );
            assert!(bad.len() < 8 || !err.to_string().contains(bad));
        }
    }

    #[test]
    fn the_root_opens_only_under_its_master_key() {
        let root = SecretKey::random().unwrap();
        let master = KeyRing::generate().unwrap();
        let wrapped = master.wrap_root(&root).unwrap();
        assert_eq!(master.unwrap_root(&wrapped).unwrap().bytes(), root.bytes());
        let err = KeyRing::generate()
            .unwrap()
            .unwrap_root(&wrapped)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
        assert!(err.to_string().contains("master key"), "{err}");
    }
}
