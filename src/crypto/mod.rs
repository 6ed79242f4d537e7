//! Cryptography: the key hierarchy, envelope and field encryption, blind index, passwords.
//!
//! Nothing else in the crate does its own cryptography, and nothing here knows SQL: the store
//! reads and writes the wrapped keys, this module turns them into working keys. The
//! [security guide](crate::guide::security) describes the design and the byte layouts.
//!
//! A host meets two things here: the [`KeyRing`] (also at the crate root), the 32-byte master
//! key it keeps outside the database and hands to [`Store::open`](crate::Store::open); and
//! [`Password`], a passphrase that never prints, checked against a [`PasswordPolicy`] and
//! hashed with argon2id ([`PasswordParams`], [`PasswordHasher`]) by the repositories.
//!
//! ```
//! use shopkeep::KeyRing;
//! use shopkeep::crypto::{Password, PasswordPolicy};
//!
//! let master = KeyRing::from_hex(
//!     "6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72",
//! )?; // from a secret manager or an environment variable, never from the database
//! # let _ = master;
//! let policy = PasswordPolicy::new();
//! assert!(policy.check(&Password::new("password"), &[]).is_err()); // a common password
//! policy.check(&Password::new("correct horse battery staple"), &["olga@example.com"])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aead;
pub(crate) mod auth_mac;
pub(crate) mod data_keys;
pub(crate) mod field;
pub(crate) mod keyring;
pub(crate) mod keys;
mod password;
mod sealed;
pub(crate) mod secret;

pub use keyring::KeyRing;
pub use password::{
    Password, PasswordHash, PasswordHasher, PasswordParams, PasswordPolicy, Verification,
};
