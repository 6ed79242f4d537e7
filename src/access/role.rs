//! Built-in staff roles.

use std::fmt;

use crate::error::{Error, Result};

/// The role of a staff member or an API key. What each role may do is the policy's to decide;
/// `docs/access-control.md` has the default permission matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The shop's owner or administrator: everything, including staff and API keys.
    Owner,
    /// Runs the shop day to day: catalogue, orders, customers; not staff or keys.
    Manager,
    /// Customer service: reads customers and orders, helps with accounts.
    Support,
    /// Bookkeeping: invoices, credit notes, the audit log.
    Accountant,
    /// Stock and shipping.
    Warehouse,
    /// Marketing analytics: reports, scores and audiences over pseudonymous customer ids.
    Marketing,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Manager,
        Role::Support,
        Role::Accountant,
        Role::Warehouse,
        Role::Marketing,
    ];

    /// The stable lower-case name, as stored and as written in the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Support => "support",
            Role::Accountant => "accountant",
            Role::Warehouse => "warehouse",
            Role::Marketing => "marketing",
        }
    }

    /// The role named `name` (as [`Role::as_str`] writes it).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `role`) for an unknown name.
    pub fn parse(name: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| Error::validation("role", format!("unknown role {name:?}")))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::sql::Param for Role {
    fn value(&self) -> crate::sql::Value<'_> {
        crate::sql::Value::Text(self.as_str().into())
    }
}

impl crate::sql::Column for Role {
    fn column(value: crate::sql::ValueRef<'_>) -> crate::sql::ColumnResult<Self> {
        Role::parse(value.as_str()?).map_err(Into::into)
    }
}
