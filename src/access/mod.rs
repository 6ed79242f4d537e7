//! Access control: who may do what, and the tamper-evident record of what was done.
//!
//! - [`Principal`]: the acting party of every call (a staff member, a customer, an API key,
//!   the system, or an anonymous visitor), from
//!   [`Store::principal_from_session`](crate::Store::principal_from_session),
//!   [`Store::principal_from_api_key`](crate::Store::principal_from_api_key),
//!   [`Store::system`](crate::Store::system) or [`Principal::anonymous`].
//! - [`Policy`] and [`DefaultPolicy`]: the decision every repository method asks for before it
//!   touches data, in terms of [`Role`], [`Action`], [`Resource`], [`Who`] and [`Scope`]; a
//!   refusal is audited.
//! - [`StaffRepo`] ([`Store::staff`](crate::Store::staff)) and [`ApiKeyRepo`]
//!   ([`Store::api_keys`](crate::Store::api_keys)): staff accounts, their [`Login`] sessions,
//!   and API keys for integrations.
//! - [`AuditLog`] ([`Store::audit_log`](crate::Store::audit_log)): every write and every
//!   refusal, chained by MACs so that [`AuditLog::verify`] finds an edited or deleted entry.
//!
//! The [access control guide](crate::guide::access_control) has the permission matrix.
//!
//! ```
//! use shopkeep::access::{NewStaff, Role};
//! use shopkeep::crypto::Password;
//! use shopkeep::{Email, KeyRing, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let email = Email::parse("olga@example.com")?;
//! let passphrase = "correct horse battery staple";
//! let owner = NewStaff::new(email.clone(), "Olga Owner", Role::Owner, Password::new(passphrase))?;
//! store.staff(&store.system()).create(owner)?; // the first owner
//! let login = store.login_staff(&email, &Password::new(passphrase))?;
//! let olga = store.principal_from_session(login.token())?; // on the next request
//! assert_eq!(olga.role(), Some(Role::Owner));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action;
mod api_key;
mod api_key_repo;
pub(crate) mod audit;
pub(crate) mod audit_repo;
mod policy;
mod principal;
mod resource;
mod role;
mod session;
pub(crate) mod session_repo;
mod staff;
mod staff_repo;
mod throttle;
pub(crate) mod throttle_repo;

pub use action::Action;
pub use api_key::{ApiKeyInfo, ApiKeySecret, CreatedApiKey, NewApiKey};
pub use api_key_repo::ApiKeyRepo;
pub use audit::{AuditEntry, AuditHead, AuditProblem, AuditVerification, Outcome};
pub use audit_repo::AuditLog;
pub use policy::{Decision, DefaultPolicy, Policy, Request, Rule, Scope, Who};
pub use principal::{ApiKeyId, CustomerId, Principal, PrincipalKind, StaffId};
pub use resource::Resource;
pub use role::Role;
pub use session::{Login, SessionSettings, SessionToken};
pub use staff::{NewStaff, StaffMember};
pub use staff_repo::StaffRepo;
pub use throttle::LoginThrottle;

#[cfg(test)]
mod tests;
