//! The audit log's model: entries, the chain of MACs, and what verification reports.
//!
//! Each entry's MAC is `HMAC-SHA256(audit key, lp(previous MAC) || lp(seq) || lp(at) ||
//! lp(principal) || lp(action) || lp(resource) || lp(outcome))`, with 32 zero bytes before the
//! first entry. The audit key is derived from the store's root key, so someone who can write
//! the file but does not have the master key cannot recompute the chain after an edit.

use std::fmt;

use crate::clock::Timestamp;
use crate::crypto::keys::{Keys, Mac256};
use crate::error::{Error, Result};

/// Whether the audited request was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The policy allowed it and it was done.
    Allowed,
    /// The policy refused it.
    Denied,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Outcome> {
        match text {
            "allowed" => Some(Outcome::Allowed),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// One audit entry. Principals and resources are recorded by kind and id (`staff:<id>`), never
/// by name or email: the log holds no personal data in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub(crate) seq: u64,
    pub(crate) at: Timestamp,
    pub(crate) principal: String,
    pub(crate) action: String,
    pub(crate) resource: String,
    pub(crate) outcome: Outcome,
}

impl AuditEntry {
    /// The entry's position in the log, from 1, without gaps.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When it happened, by the store's clock.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// Who acted (`system`, `anonymous`, `staff:<id>`, `customer:<id>`, `api_key:<id>`).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The action's name (see [`Action::as_str`](crate::Action::as_str)), or an authentication
    /// event such as `login`.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The object (`staff:<id>`, `audit_log`, ...).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Allowed or denied.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    pub(crate) fn mac(&self, keys: &Keys, previous: &Mac256) -> Mac256 {
        keys.audit_mac(&[
            previous,
            &self.seq.to_be_bytes(),
            self.at.to_rfc3339().as_bytes(),
            self.principal.as_bytes(),
            self.action.as_bytes(),
            self.resource.as_bytes(),
            self.outcome.as_str().as_bytes(),
        ])
    }
}

/// The newest entry's sequence number and MAC, for the host to keep outside the database
/// (a log line, another system). Verifying against a kept head detects a log whose tail was cut
/// off, which the chain alone cannot.
///
/// Its text form is `<seq>:<mac in hex>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuditHead {
    pub(crate) seq: u64,
    pub(crate) mac: Mac256,
}

impl AuditHead {
    /// The sequence number of the newest entry.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Parses the text form `<seq>:<64 hex digits>`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `audit_head`) for anything else.
    pub fn parse(text: &str) -> Result<AuditHead> {
        let invalid = || Error::validation("audit_head", "an audit head is <seq>:<64 hex digits>");
        let (seq, hex) = text.trim().split_once(':').ok_or_else(invalid)?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let seq: u64 = seq.parse().map_err(|_| invalid())?;
        if seq == 0 {
            return Err(invalid());
        }
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(invalid());
        }
        let mut mac = [0u8; 32];
        for (byte, i) in mac.iter_mut().zip((0..64).step_by(2)) {
            let digits = hex.get(i..i + 2).ok_or_else(invalid)?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| invalid())?;
        }
        Ok(AuditHead { seq, mac })
    }
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.seq)?;
        self.mac.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditHead({self})")
    }
}

/// What [`AuditLog::verify`](crate::AuditLog::verify) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditVerification {
    /// Every entry is in place and its MAC checks out.
    Intact {
        /// How many entries were checked.
        entries: u64,
        /// The newest entry, to keep for the next verification.
        head: Option<AuditHead>,
    },
    /// The first broken link.
    Broken {
        /// The sequence number where the chain breaks.
        seq: u64,
        /// What is wrong there.
        problem: AuditProblem,
    },
}

/// How the chain is broken at the reported position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditProblem {
    /// The entry's MAC does not match its content and its predecessor: it was edited,
    /// reordered or forged.
    MacMismatch,
    /// The entry is missing: entries were deleted.
    Missing,
    /// The log ends before the head the host kept: its tail was cut off.
    Truncated,
    /// The entry at the kept head's position is not the one the head names.
    HeadMismatch,
}
