//! Cryptography: the key hierarchy, envelope and field encryption, blind index, passwords.
//!
//! Nothing else in the crate does its own cryptography, and nothing here knows SQL: the store
//! reads and writes the wrapped keys, this module turns them into working keys.
//! `docs/security.md` describes the design and the byte layouts.

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
