//! Every operation the crate offers, as the policy sees it.

use std::fmt;

/// An operation a principal asks to perform. Every repository method authorises exactly one.
///
/// The enum grows as capabilities arrive (it is `#[non_exhaustive]`); the built-in policy's
/// matrix is an exhaustive `match`, so a new action cannot be added without deciding who may
/// perform it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Create a staff account.
    CreateStaff,
    /// Read a staff account, or list them.
    ReadStaff,
    /// Change a staff member's role.
    ChangeStaffRole,
    /// Disable a staff account (its sessions end at once).
    DisableStaff,
    /// Change a staff member's password.
    ChangeStaffPassword,
    /// Create an API key.
    CreateApiKey,
    /// Read an API key's metadata (never its secret), or list them.
    ReadApiKey,
    /// Revoke an API key.
    RevokeApiKey,
    /// Read or verify the audit log.
    ReadAuditLog,
    /// Poll and acknowledge outbox events (for the host's delivery job).
    ConsumeEvents,
}

impl Action {
    /// Every action, in a stable order (for matrices and documentation).
    pub const ALL: &'static [Action] = &[
        Action::CreateStaff,
        Action::ReadStaff,
        Action::ChangeStaffRole,
        Action::DisableStaff,
        Action::ChangeStaffPassword,
        Action::CreateApiKey,
        Action::ReadApiKey,
        Action::RevokeApiKey,
        Action::ReadAuditLog,
        Action::ConsumeEvents,
    ];

    /// The stable snake-case name, as written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CreateStaff => "create_staff",
            Action::ReadStaff => "read_staff",
            Action::ChangeStaffRole => "change_staff_role",
            Action::DisableStaff => "disable_staff",
            Action::ChangeStaffPassword => "change_staff_password",
            Action::CreateApiKey => "create_api_key",
            Action::ReadApiKey => "read_api_key",
            Action::RevokeApiKey => "revoke_api_key",
            Action::ReadAuditLog => "read_audit_log",
            Action::ConsumeEvents => "consume_events",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
