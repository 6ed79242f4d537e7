//! Access control: principals, actions, resources, the policy, staff accounts, sessions,
//! API keys and the tamper-evident audit log.
//!
//! Every repository method takes the acting [`Principal`] and asks the [`Policy`] before it
//! touches data; a refusal is audited. `docs/access-control.md` has the permission matrix.

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
