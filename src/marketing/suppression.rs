//! The suppression list as read back: an entry, why it is there, and its note. No entry holds
//! an email address (see [`SuppressionRepo`](super::SuppressionRepo)).

use std::fmt;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::ids::define_id;
use crate::text;

define_id!(
    /// The id of a suppression list entry.
    SuppressionId,
    "suppression_id"
);

/// The longest note an entry may carry, in characters.
pub const MAX_SUPPRESSION_NOTE: usize = 200;

/// Why an address is on the suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuppressionReason {
    /// The mailbox does not exist or refuses mail for good (a 5xx bounce).
    HardBounce,
    /// The recipient reported a message as spam (a feedback-loop report).
    Complaint,
    /// Someone of the shop put it there: the person asked by phone or letter never to be
    /// written to (an objection, GDPR Art. 21(3)), a role address, a test address.
    Manual,
}

impl SuppressionReason {
    /// The stable name, as stored: `hard_bounce`, `complaint`, `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::Manual => "manual",
        }
    }

    /// Parses a stored name.
    pub(super) fn from_stored(text: &str) -> Result<Self> {
        match text {
            "hard_bounce" => Ok(SuppressionReason::HardBounce),
            "complaint" => Ok(SuppressionReason::Complaint),
            "manual" => Ok(SuppressionReason::Manual),
            _ => Err(Error::new(
                ErrorKind::Storage,
                "a suppression list entry has an unknown reason",
            )),
        }
    }
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the suppression list: what the shop knows about a suppressed address, which
/// is everything but the address. From [`SuppressionRepo`](super::SuppressionRepo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub(super) id: SuppressionId,
    pub(super) reason: SuppressionReason,
    pub(super) note: Option<String>,
    #[serde(serialize_with = "timestamp")]
    pub(super) recorded_at: Timestamp,
    pub(super) recorded_by: String,
}

impl Suppression {
    /// The entry's id.
    pub fn id(&self) -> SuppressionId {
        self.id
    }

    /// Why the address is suppressed.
    pub fn reason(&self) -> SuppressionReason {
        self.reason
    }

    /// The note given when the entry was made, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// When the entry was made.
    pub fn recorded_at(&self) -> Timestamp {
        self.recorded_at
    }

    /// Who made it, pseudonymously, as the audit log names principals (`staff:<id>`,
    /// `api_key:<id>`, `system`).
    pub fn recorded_by(&self) -> &str {
        &self.recorded_by
    }
}

fn timestamp<S: serde::Serializer>(t: &Timestamp, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// Checks an entry's note: blank is none; otherwise at most [`MAX_SUPPRESSION_NOTE`]
/// characters of one line of visible text, and no email address (the list stores none, and a
/// note is no place to keep one).
pub(super) fn check_note(note: Option<&str>) -> Result<Option<String>> {
    let Some(note) = note.filter(|n| !n.trim().is_empty()) else {
        return Ok(None);
    };
    let note = text::required("note", note, MAX_SUPPRESSION_NOTE)?;
    if note.contains('@') {
        return Err(Error::validation(
            "note",
            "a note must not hold an email address: the suppression list stores none",
        ));
    }
    Ok(Some(note))
}

/// `suppression.added`: an address was put on the suppression list. Ids only: the address is
/// stored nowhere.
#[derive(Serialize)]
pub(super) struct Added {
    pub(super) suppression_id: SuppressionId,
}

impl OutboxEvent for Added {
    const KIND: &'static str = "suppression.added";
    const VERSION: u32 = 1;
}

/// `suppression.removed`: an entry was taken off the suppression list.
#[derive(Serialize)]
pub(super) struct Removed {
    pub(super) suppression_id: SuppressionId,
}

impl OutboxEvent for Removed {
    const KIND: &'static str = "suppression.removed";
    const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_checked_and_blank_is_none() {
        assert_eq!(check_note(None).unwrap(), None);
        assert_eq!(check_note(Some("  ")).unwrap(), None);
        assert_eq!(
            check_note(Some(" 550 5.1.1 user unknown ")).unwrap(),
            Some("550 5.1.1 user unknown".to_owned())
        );
        for bad in [
            "bounced: ana@example.com",
            "line\nbreak",
            "right\u{202E}left",
            &"x".repeat(MAX_SUPPRESSION_NOTE + 1),
        ] {
            assert_eq!(
                check_note(Some(bad)).unwrap_err().kind(),
                ErrorKind::Validation { field: "note" },
                "{bad:?}"
            );
        }
        assert!(check_note(Some(&"x".repeat(MAX_SUPPRESSION_NOTE))).is_ok());
    }

    #[test]
    fn reasons_round_trip_through_their_stored_names() {
        for reason in [
            SuppressionReason::HardBounce,
            SuppressionReason::Complaint,
            SuppressionReason::Manual,
        ] {
            assert_eq!(
                SuppressionReason::from_stored(reason.as_str()).unwrap(),
                reason
            );
        }
        assert!(SuppressionReason::from_stored("soft_bounce").is_err());
    }
}
