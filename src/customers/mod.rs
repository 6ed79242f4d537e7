//! Customers: accounts, login, profiles and address books, the marketing consent ledger, and
//! the GDPR rights of access and erasure.
//!
//! The customer repository keeps the most sensitive data a shop holds, so:
//!
//! - every field of personal data (email, name, phone, addresses, business details) is an
//!   AES-256-GCM ciphertext under a data key of the customer's own, bound to its table, column
//!   and row; the email is found through a keyed blind index;
//! - every call names the acting [`Principal`](crate::Principal) and is authorised by the
//!   policy; writes and refusals are audited, by id, never with personal data;
//! - erasure destroys the customer's data key (crypto-shredding).
//!
//! Models (`model`, `address`, `business`, `phone`, `vat_id`, `country`, `consent`, `token`,
//! `throttle`, `export`) are plain validated data; the repositories (`repo`, `address_repo`,
//! `login`, `password_repo`, `consent_repo`, `gdpr`) hold the SQL, with `storage` for what
//! they share.
//!
//! [`CustomerRepo`] ([`Store::customers`](crate::Store::customers)) registers, reads, updates,
//! exports and erases customers; [`Store::login`](crate::Store::login) logs one in;
//! [`ConsentRepo`] ([`Store::consents`](crate::Store::consents)) keeps the consent ledger. The
//! [security guide](crate::guide::security) describes the encryption byte by byte.
//!
//! ```
//! use shopkeep::customers::NewCustomer;
//! use shopkeep::crypto::Password;
//! use shopkeep::{Email, KeyRing, Principal, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let email = Email::parse("ana@example.com")?;
//! let passphrase = "my cat is called Biscuit";
//! let new = NewCustomer::new(email.clone(), Password::new(passphrase), "Ana Lima")?;
//! store.customers(&Principal::anonymous()).register(new)?;
//! let login = store.login(&email, &Password::new(passphrase))?;
//! let ana = store.principal_from_session(login.token())?;
//! let id = ana.customer_id().ok_or("not a customer")?;
//! assert_eq!(store.customers(&ana).get(id)?.name(), "Ana Lima");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod address;
mod address_repo;
mod business;
mod consent;
pub(crate) mod consent_repo;
mod country;
mod events;
mod export;
mod fields;
mod gdpr;
mod login;
mod model;
mod password_repo;
mod phone;
mod reindex;
mod repo;
mod storage;
#[cfg(test)]
mod tests;
mod token;
pub(crate) mod unsubscribe;
mod vat_id;

/// Also at the crate root: staff accounts are keyed by email too.
pub use crate::email::Email;
pub use address::{Address, AddressId, AddressKind, CustomerAddress};
pub use business::{BusinessDetails, ElectronicAddress};
pub(crate) use consent::derive_state as derive_consent_state;
pub use consent::{
    Channel, ConsentEvent, ConsentRecord, ConsentRequest, ConsentState, ConsentStatus,
};
pub use consent_repo::ConsentRepo;
pub use country::Country;
pub use export::CustomerExport;
pub use model::{Customer, CustomerPage, NewCustomer, ProfileUpdate};
pub use phone::Phone;
pub use reindex::EmailReindex;
pub use repo::CustomerRepo;
pub(crate) use storage::{email_index as customer_email_index, ensure_active, load_buyer};
pub use token::{ConsentToken, ResetToken, UnsubscribeToken};
pub use vat_id::VatId;
pub(crate) use vat_id::{norwegian_org_number, swiss_uid};

pub(crate) use consent_repo::consent_status;
