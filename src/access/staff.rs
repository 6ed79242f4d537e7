//! Staff accounts: the model.

use std::fmt;

use super::principal::StaffId;
use super::role::Role;
use crate::clock::Timestamp;
use crate::crypto::Password;
use crate::email::Email;
use crate::error::Result;
use crate::text;

/// The longest staff name accepted, in characters.
pub(crate) const MAX_NAME: usize = 200;

/// A staff account to create. The password is checked against the store's password policy
/// and hashed before the account is written.
///
/// ```
/// use shopkeep::Email;
/// use shopkeep::access::{NewStaff, Role};
/// use shopkeep::crypto::Password;
///
/// let new = NewStaff::new(
///     Email::parse("owner@example.com")?,
///     "Olga Owner",
///     Role::Owner,
///     Password::new("correct horse battery staple"),
/// )?;
/// # let _ = new;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NewStaff {
    pub(crate) email: Email,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) password: Password,
}

impl NewStaff {
    /// A new account.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `name`) for an empty name, one over 200 characters, or one
    /// with control characters.
    pub fn new(email: Email, name: &str, role: Role, password: Password) -> Result<Self> {
        Ok(NewStaff {
            email,
            name: text::required("name", name, MAX_NAME)?,
            role,
            password,
        })
    }
}

impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewStaff")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A staff account as stored. Email and name are personal data: `Debug` redacts them.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub(crate) id: StaffId,
    pub(crate) email: Email,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) disabled: bool,
    pub(crate) created_at: Timestamp,
}

impl StaffMember {
    /// The account's id.
    pub fn id(&self) -> StaffId {
        self.id
    }

    /// The login email.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the account is disabled (it cannot log in, and its sessions have ended).
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// When the account was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}

impl fmt::Debug for StaffMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffMember")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &"[REDACTED]")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}
