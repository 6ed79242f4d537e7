//! Leads as read back: the lead, its status pipeline, its GDPR export.

use std::fmt;

use serde::Serialize;

use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::define_id;

define_id!(
    /// A lead's id.
    LeadId,
    "lead_id"
);

/// Where a lead stands in the sales pipeline.
///
/// ```text
/// new ──▶ contacted ──▶ qualified ──▶ won
///  │          │             │
///  └──────────┴─────────────┴──────▶ lost
/// ```
///
/// Staff move a lead one step forward, or drop it as lost from any open status; `won` and
/// `lost` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeadStatus {
    /// Just submitted; nobody has answered yet.
    New,
    /// Someone of the shop has answered.
    Contacted,
    /// A real prospect.
    Qualified,
    /// Became a sale (final).
    Won,
    /// Dropped (final).
    Lost,
}

impl LeadStatus {
    /// The stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Won => "won",
            LeadStatus::Lost => "lost",
        }
    }

    /// Parses a stored name.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "new" => Ok(LeadStatus::New),
            "contacted" => Ok(LeadStatus::Contacted),
            "qualified" => Ok(LeadStatus::Qualified),
            "won" => Ok(LeadStatus::Won),
            "lost" => Ok(LeadStatus::Lost),
            _ => Err(Error::new(ErrorKind::Storage, "unknown lead status")),
        }
    }

    /// Whether the pipeline allows moving from `self` to `to`.
    pub fn can_move_to(self, to: LeadStatus) -> bool {
        use LeadStatus::{Contacted, Lost, New, Qualified, Won};
        matches!(
            (self, to),
            (New, Contacted)
                | (Contacted, Qualified)
                | (Qualified, Won)
                | (New | Contacted | Qualified, Lost)
        )
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lead, decrypted. The attachment is read separately
/// ([`LeadRepo::attachment`](super::LeadRepo::attachment)): it may be 10 MB. Personal data:
/// `Debug` shows the id, status and links only.
#[derive(Clone, Serialize)]
pub struct Lead {
    pub(super) id: LeadId,
    pub(super) name: String,
    pub(super) email: Email,
    pub(super) message: String,
    pub(super) has_attachment: bool,
    pub(super) status: LeadStatus,
    pub(super) score: i64,
    pub(super) customer: Option<CustomerId>,
    #[serde(serialize_with = "timestamp")]
    pub(super) created_at: Timestamp,
    #[serde(serialize_with = "timestamp")]
    pub(super) updated_at: Timestamp,
    pub(super) version: u64,
}

impl Lead {
    /// The id.
    pub fn id(&self) -> LeadId {
        self.id
    }

    /// The name given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The email given.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The message, trimmed.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a PDF came with the form.
    pub fn has_attachment(&self) -> bool {
        self.has_attachment
    }

    /// Where the lead stands.
    pub fn status(&self) -> LeadStatus {
        self.status
    }

    /// The score, 0 to [`MAX_SCORE`](super::MAX_SCORE): the points of the activities the host
    /// reported ([`LeadRepo::record_activity`](super::LeadRepo::record_activity)).
    pub fn score(&self) -> i64 {
        self.score
    }

    /// The customer the lead became: one who registered with the same email.
    pub fn customer(&self) -> Option<CustomerId> {
        self.customer
    }

    /// When the form was submitted.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When the lead last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// The version, for [`LeadRepo::set_status`](super::LeadRepo::set_status)'s optimistic
    /// check; 1 when submitted.
    pub fn version(&self) -> u64 {
        self.version
    }
}

impl fmt::Debug for Lead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lead")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("customer", &self.customer)
            .finish_non_exhaustive()
    }
}

/// Everything the store holds about one lead, decrypted, for the person to download (GDPR
/// Art. 15 and 20). Personal data: `Debug` shows the lead's id only.
#[derive(Clone, Serialize)]
pub struct LeadExport {
    pub(super) format: &'static str,
    #[serde(serialize_with = "timestamp")]
    pub(super) exported_at: Timestamp,
    pub(super) lead: Lead,
    /// The PDF, base64 in JSON.
    #[serde(serialize_with = "base64")]
    pub(super) attachment: Option<Vec<u8>>,
    /// The lead's rows of the consent ledger, oldest first.
    pub(super) consent: Vec<crate::customers::ConsentRecord>,
    /// The activities the host reported (kind, time, points), oldest first.
    pub(super) activities: Vec<ActivityRecord>,
}

/// One activity the host reported for a lead, as its export lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityRecord {
    pub(super) id: String,
    pub(super) kind: super::ActivityKind,
    #[serde(serialize_with = "timestamp")]
    pub(super) at: Timestamp,
    pub(super) points: i64,
}

impl ActivityRecord {
    /// The host's id of the activity.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the lead did.
    pub fn kind(&self) -> super::ActivityKind {
        self.kind
    }

    /// When, as the host reported it.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The points it earned.
    pub fn points(&self) -> i64 {
        self.points
    }
}

impl LeadExport {
    /// The lead.
    pub fn lead(&self) -> &Lead {
        &self.lead
    }

    /// The PDF sent with the form, if any.
    pub fn attachment(&self) -> Option<&[u8]> {
        self.attachment.as_deref()
    }

    /// The lead's consent ledger rows, oldest first.
    pub fn consent_history(&self) -> &[crate::customers::ConsentRecord] {
        &self.consent
    }

    /// The activities the host reported, oldest first.
    pub fn activities(&self) -> &[ActivityRecord] {
        &self.activities
    }

    /// When the export was made.
    pub fn exported_at(&self) -> Timestamp {
        self.exported_at
    }

    /// The export as a pretty-printed JSON document (the attachment in base64).
    ///
    /// # Errors
    ///
    /// `Internal` if the document could not be encoded (it always can).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| {
            Error::new(ErrorKind::Internal, "the export could not be encoded").with_source(e)
        })
    }
}

impl fmt::Debug for LeadExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeadExport")
            .field("lead", &self.lead.id)
            .finish_non_exhaustive()
    }
}

fn timestamp<S: serde::Serializer>(t: &Timestamp, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(t)
}

fn base64<S: serde::Serializer>(
    bytes: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use base64ct::Encoding;
    match bytes {
        Some(bytes) => s.serialize_str(&base64ct::Base64::encode_string(bytes)),
        None => s.serialize_none(),
    }
}
