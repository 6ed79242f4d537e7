//! shopkeep is an embeddable commerce backend: a web shop's server, a point of sale or a CLI
//! links it to keep customers, products, orders and invoices in **one SQLite file**, with the
//! rules and the security of that data built in. The host owns transport (HTTP, gRPC, a GUI);
//! shopkeep owns the data.
//!
//! # The shop flow
//!
//! This example grows with each capability. Today: open a store, work with exact money, take a
//! consistent backup while the shop runs.
//!
//! ```
//! use shopkeep::{Currency, KeyRing, Money, Rounding, Store, TaxRate};
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("shop.db");
//! // The host keeps the 32-byte master key outside the database (a secret manager, an env var).
//! let keys = KeyRing::from_hex("6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72")?;
//! let store = Store::open(&path, keys)?; // creates or migrates the schema
//!
//! // Money is integer minor units of a currency: no floats, no silent rounding.
//! let mug = Money::parse("12.90", Currency::EUR)?;
//! let net = mug.checked_mul(3)?;
//! let vat = TaxRate::parse("19")?.tax_on(net, Rounding::HalfUp)?;
//! assert_eq!(net.checked_add(vat)?.to_string(), "46.05 EUR");
//!
//! // A consistent copy, taken while writers carry on; it opens like any store.
//! # let backup = dir.path().join("backup.db");
//! store.backup_to(&backup)?;
//! Store::open(&backup, KeyRing::from_hex("6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72")?)?
//!     .verify_integrity()?;
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design in one paragraph
//!
//! A [`Store`] holds one writer connection and a pool of readers on a WAL-mode SQLite file.
//! Every write runs in a `BEGIN IMMEDIATE` transaction through one helper; every "now" comes from
//! the store's [`Clock`]; every failure is one [`Error`] with an [`ErrorKind`] to match on.
//! Money is [`Money`]: an `i64` of minor units and a [`Currency`], with checked arithmetic.
//! The guide `docs/architecture.md` in the repository covers the model in full.
//!
//! # Calling from async code
//!
//! Every call blocks. An async host runs calls on its blocking pool
//! (`tokio::task::spawn_blocking(move || store.schema_version())`); [`Store`] is cheap to clone
//! into the closure.
//!
//! # Features
//!
//! - `bundled` (default): compile SQLite from source instead of linking the system library.
#![deny(missing_docs)]

mod access;
#[cfg(feature = "bench-internals")]
pub mod bench_internals;
mod clock;
mod crypto;
mod email;
mod error;
mod ids;
pub mod money;
mod store;
mod text;

pub use access::{
    Action, ApiKeyId, ApiKeyInfo, ApiKeyRepo, ApiKeySecret, AuditEntry, AuditHead, AuditLog,
    AuditProblem, AuditVerification, CreatedApiKey, CustomerId, Decision, DefaultPolicy, Login,
    NewApiKey, NewStaff, Outcome, Policy, Principal, PrincipalKind, Request, Resource, Role, Rule,
    Scope, SessionSettings, SessionToken, StaffId, StaffMember, StaffRepo, Who,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use crypto::{
    KeyRing, Password, PasswordHash, PasswordHasher, PasswordParams, PasswordPolicy, Verification,
};
pub use email::Email;
pub use error::{Error, ErrorKind, Result};
pub use money::{Currency, Money, Rounding, TaxRate};
pub use store::{ConnectionReport, ConnectionRole, Durability, Store, StoreOptions};
