//! Cryptography: the key ring that protects the store's secrets.
//!
//! Nothing else in the crate does its own cryptography.

mod keyring;

pub use keyring::KeyRing;
