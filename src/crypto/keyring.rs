//! The host's master key.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Length of the master key in bytes (256 bits).
const MASTER_KEY_LEN: usize = 32;

/// The keys of a store, built from the host's 32-byte master key.
///
/// The host keeps the master key outside the database (an environment variable, a secret
/// manager) and hands it to [`Store::open`](crate::Store::open). The key bytes are wiped from
/// memory when the `KeyRing` is dropped, and `Debug` never shows them.
///
/// ```
/// use shopkeep::KeyRing;
///
/// let keys = KeyRing::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")?;
/// assert_eq!(format!("{keys:?}"), "KeyRing([REDACTED])");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyRing {
    master: Zeroizing<[u8; MASTER_KEY_LEN]>,
}

impl KeyRing {
    /// A key ring from the raw 32 master-key bytes.
    pub fn from_master_key(master: [u8; MASTER_KEY_LEN]) -> Self {
        KeyRing {
            master: Zeroizing::new(master),
        }
    }

    /// A key ring from the master key written as 64 hexadecimal digits (either case).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `master_key`) if the text is not exactly 64 hex digits. The
    /// message never repeats the text.
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim().as_bytes();
        if text.len() != MASTER_KEY_LEN * 2 {
            return Err(Error::validation(
                "master_key",
                format!(
                    "a master key is {} hex digits, got {}",
                    MASTER_KEY_LEN * 2,
                    text.len()
                ),
            ));
        }
        let mut master = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        for (byte, pair) in master.iter_mut().zip(text.chunks_exact(2)) {
            let (hi, lo) = match pair {
                [hi, lo] => (hex_value(*hi), hex_value(*lo)),
                _ => (None, None),
            };
            match (hi, lo) {
                (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
                _ => {
                    return Err(Error::validation(
                        "master_key",
                        "the master key holds a character that is not a hex digit",
                    ));
                }
            }
        }
        Ok(KeyRing { master })
    }

    /// The master key bytes, for the key hierarchy built on it.
    #[allow(dead_code)]
    pub(crate) fn master(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.master
    }
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
    fn hex_parses_both_cases() {
        let keys = KeyRing::from_hex(&"aB".repeat(32)).unwrap();
        assert_eq!(keys.master(), &[0xab; 32]);
    }

    #[test]
    fn bad_hex_is_rejected_without_echoing_it() {
        for bad in [
            "",
            "00",
            &"0".repeat(63),
            &"0".repeat(65),
            &format!("{}zz", "0".repeat(62)),
        ] {
            let err = KeyRing::from_hex(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "master_key"
                }
            );
            if bad.len() > 8 {
                assert!(!err.to_string().contains(bad));
            }
        }
    }
}
