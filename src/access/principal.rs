//! Who is acting: the principal every repository call names.

use std::fmt;

use super::role::Role;
use crate::ids::define_id;

define_id!(
    /// A customer's id.
    CustomerId,
    "customer_id"
);
define_id!(
    /// A staff member's id.
    StaffId,
    "staff_id"
);
define_id!(
    /// An API key's id (not its secret).
    ApiKeyId,
    "api_key_id"
);

/// The acting party of a call.
///
/// A principal cannot be forged from outside the crate: a host gets one by authenticating
/// (a password login or a session token for customers and staff, a key for API clients), by
/// asking for the anonymous visitor ([`Principal::anonymous`]), or by asking the store for its
/// trusted system principal ([`Store::system`](crate::Store::system)) for setup and background jobs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Principal(Kind);

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Anonymous,
    Customer(CustomerId),
    Staff { id: StaffId, role: Role },
    ApiKey { id: ApiKeyId, role: Role },
    System,
}

/// What kind of principal acts, without its identity (for policies and matrices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A visitor who has not logged in.
    Anonymous,
    /// A logged-in customer.
    Customer,
    /// A logged-in staff member.
    Staff,
    /// A back-office integration authenticated by an API key.
    ApiKey,
    /// The host itself, for setup and background jobs.
    System,
}

impl Principal {
    /// A visitor who has not logged in.
    pub fn anonymous() -> Principal {
        Principal(Kind::Anonymous)
    }

    pub(crate) fn system() -> Principal {
        Principal(Kind::System)
    }

    pub(crate) fn customer(id: CustomerId) -> Principal {
        Principal(Kind::Customer(id))
    }

    pub(crate) fn staff(id: StaffId, role: Role) -> Principal {
        Principal(Kind::Staff { id, role })
    }

    pub(crate) fn api_key(id: ApiKeyId, role: Role) -> Principal {
        Principal(Kind::ApiKey { id, role })
    }

    pub(crate) fn inner(&self) -> &Kind {
        &self.0
    }

    /// The kind of principal.
    pub fn kind(&self) -> PrincipalKind {
        match self.0 {
            Kind::Anonymous => PrincipalKind::Anonymous,
            Kind::Customer(_) => PrincipalKind::Customer,
            Kind::Staff { .. } => PrincipalKind::Staff,
            Kind::ApiKey { .. } => PrincipalKind::ApiKey,
            Kind::System => PrincipalKind::System,
        }
    }

    /// The role of a staff member or API key; `None` for anyone else.
    pub fn role(&self) -> Option<Role> {
        match self.0 {
            Kind::Staff { role, .. } | Kind::ApiKey { role, .. } => Some(role),
            _ => None,
        }
    }

    /// The customer's id, for a customer principal.
    pub fn customer_id(&self) -> Option<CustomerId> {
        match self.0 {
            Kind::Customer(id) => Some(id),
            _ => None,
        }
    }

    /// The staff member's id, for a staff principal.
    pub fn staff_id(&self) -> Option<StaffId> {
        match self.0 {
            Kind::Staff { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The API key's id, for an API-key principal.
    pub fn api_key_id(&self) -> Option<ApiKeyId> {
        match self.0 {
            Kind::ApiKey { id, .. } => Some(id),
            _ => None,
        }
    }

    /// A short description for error messages ("an anonymous visitor", "a support staff member").
    pub(crate) fn kind_name(&self) -> String {
        match &self.0 {
            Kind::Anonymous => "an anonymous visitor".to_owned(),
            Kind::Customer(_) => "a customer".to_owned(),
            Kind::Staff { role, .. } => format!("a staff member with role {role}"),
            Kind::ApiKey { role, .. } => format!("an API key with role {role}"),
            Kind::System => "the system".to_owned(),
        }
    }

    /// The pseudonymous form written to the audit log (`staff:<id>`, `anonymous`, ...): ids only,
    /// never personal data.
    pub(crate) fn audit_name(&self) -> String {
        match &self.0 {
            Kind::Anonymous => "anonymous".to_owned(),
            Kind::Customer(id) => format!("customer:{id}"),
            Kind::Staff { id, .. } => format!("staff:{id}"),
            Kind::ApiKey { id, .. } => format!("api_key:{id}"),
            Kind::System => "system".to_owned(),
        }
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Staff { id, role } => write!(f, "Principal(staff:{id} as {role})"),
            Kind::ApiKey { id, role } => write!(f, "Principal(api_key:{id} as {role})"),
            _ => write!(f, "Principal({})", self.audit_name()),
        }
    }
}
