//! The marketing consent ledger: the model, and how the current state follows from it.
//!
//! GDPR Art. 7(1) asks a shop to be able to *demonstrate* consent. So consent is never a flag
//! that is flipped: every request, confirmation, grant and withdrawal is a row of an
//! append-only ledger, with its time, its source, the version of the consent text the customer
//! saw and who recorded it. The current state of a channel is derived from its rows.

use std::fmt;

use serde::Serialize;

use super::fields;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::text;

/// The longest consent source accepted, in characters.
const MAX_SOURCE: usize = 100;
/// The longest consent-text version accepted, in characters.
const MAX_TEXT_VERSION: usize = 50;

/// A marketing channel a customer may consent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Newsletters and offers by email. Needs double opt-in.
    Email,
    /// Text messages.
    Sms,
    /// Calls.
    Phone,
    /// Letters and catalogues.
    Post,
    /// App push notifications.
    Push,
}

impl Channel {
    /// Every channel, in a stable order.
    pub const ALL: &'static [Channel] = &[
        Channel::Email,
        Channel::Sms,
        Channel::Phone,
        Channel::Post,
        Channel::Push,
    ];

    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Phone => "phone",
            Channel::Post => "post",
            Channel::Push => "push",
        }
    }

    /// Whether consent on this channel counts only once confirmed (double opt-in): email,
    /// where the confirmation proves that the address's owner asked.
    pub fn needs_confirmation(self) -> bool {
        self == Channel::Email
    }

    pub(crate) fn from_stored(text: &str) -> Result<Channel> {
        Channel::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Storage,
                    "an unknown consent channel is stored",
                )
            })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer's consent to marketing on one channel, as given: where it was given (a form, a
/// checkout box, a support call) and which version of the consent text they saw.
///
/// ```
/// use shopkeep::customers::{Channel, ConsentRequest};
///
/// let newsletter = ConsentRequest::new(Channel::Email, "checkout", "newsletter-2026-01")?;
/// # let _ = newsletter;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    pub(super) channel: Channel,
    pub(super) source: String,
    pub(super) text_version: String,
}

impl ConsentRequest {
    /// A consent on `channel`, given through `source`, to the consent text of `text_version`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `source` or `text_version`) for an empty value, one over 100
    /// (source) or 50 (version) characters, or one with control characters.
    pub fn new(channel: Channel, source: &str, text_version: &str) -> Result<ConsentRequest> {
        Ok(ConsentRequest {
            channel,
            source: source_text(source)?,
            text_version: text::required("text_version", text_version, MAX_TEXT_VERSION)?,
        })
    }
}

/// Checks a consent source (`checkout`, `account_settings`, `support_call`).
pub(super) fn source_text(source: &str) -> Result<String> {
    text::required("source", source, MAX_SOURCE)
}

/// What one ledger row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentEvent {
    /// Consent was asked for on a double opt-in channel; it counts once confirmed.
    Requested,
    /// The customer confirmed a request (clicked the link in the confirmation email).
    Confirmed,
    /// Consent was given on a channel without double opt-in.
    Granted,
    /// Consent was withdrawn (or a pending request cancelled).
    Withdrawn,
}

impl ConsentEvent {
    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentEvent::Requested => "requested",
            ConsentEvent::Confirmed => "confirmed",
            ConsentEvent::Granted => "granted",
            ConsentEvent::Withdrawn => "withdrawn",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<ConsentEvent> {
        [
            ConsentEvent::Requested,
            ConsentEvent::Confirmed,
            ConsentEvent::Granted,
            ConsentEvent::Withdrawn,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
        .ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Storage,
                "an unknown consent event is stored",
            )
        })
    }
}

/// One row of the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    pub(super) channel: Channel,
    pub(super) event: ConsentEvent,
    pub(super) source: String,
    pub(super) text_version: Option<String>,
    pub(super) recorded_by: String,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) at: Timestamp,
}

impl ConsentRecord {
    /// The channel.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// What happened.
    pub fn event(&self) -> ConsentEvent {
        self.event
    }

    /// Where it happened (`checkout`, `unsubscribe_link`, `email_changed`, ...).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The version of the consent text concerned; for a withdrawal, the version withdrawn
    /// from, if there was one.
    pub fn text_version(&self) -> Option<&str> {
        self.text_version.as_deref()
    }

    /// Who recorded it, pseudonymously (`customer:<id>`, `system`, `staff:<id>`, or
    /// `anonymous` for a confirmation or unsubscribe link).
    pub fn recorded_by(&self) -> &str {
        &self.recorded_by
    }

    /// When.
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// Where a channel's consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentStatus {
    /// Never asked for.
    NotGiven,
    /// Asked for, awaiting confirmation: does not count yet.
    Pending,
    /// Given (and confirmed, where the channel needs it): marketing may use the channel.
    Granted,
    /// Withdrawn.
    Withdrawn,
}

/// The current consent of one channel, derived from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentState {
    pub(super) channel: Channel,
    pub(super) status: ConsentStatus,
    pub(super) text_version: Option<String>,
    #[serde(serialize_with = "fields::optional_timestamp")]
    pub(super) since: Option<Timestamp>,
}

impl ConsentState {
    /// The channel.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Where it stands.
    pub fn status(&self) -> ConsentStatus {
        self.status
    }

    /// Whether marketing may use the channel now.
    pub fn is_granted(&self) -> bool {
        self.status == ConsentStatus::Granted
    }

    /// The consent text version of a granted or pending consent.
    pub fn text_version(&self) -> Option<&str> {
        self.text_version.as_deref()
    }

    /// Since when the status holds; `None` if never asked.
    pub fn since(&self) -> Option<Timestamp> {
        self.since
    }
}

/// The state of `channel` after the ledger rows `records` (oldest first; rows of other
/// channels are skipped).
///
/// A grant or confirmation grants; a withdrawal withdraws; a request makes a channel pending,
/// unless it is already granted (asking again for a newer text version does not take away a
/// consent already given).
pub(crate) fn derive_state(channel: Channel, records: &[ConsentRecord]) -> ConsentState {
    let mut state = ConsentState {
        channel,
        status: ConsentStatus::NotGiven,
        text_version: None,
        since: None,
    };
    for record in records.iter().filter(|r| r.channel == channel) {
        let (status, version) = match record.event {
            ConsentEvent::Granted | ConsentEvent::Confirmed => {
                (ConsentStatus::Granted, record.text_version.clone())
            }
            ConsentEvent::Withdrawn => (ConsentStatus::Withdrawn, None),
            ConsentEvent::Requested if state.status == ConsentStatus::Granted => continue,
            ConsentEvent::Requested => (ConsentStatus::Pending, record.text_version.clone()),
        };
        state.status = status;
        state.text_version = version;
        state.since = Some(record.at);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> Timestamp {
        Timestamp::parse_rfc3339(&format!("2026-01-01T00:{minute:02}:00Z")).unwrap()
    }

    fn row(channel: Channel, event: ConsentEvent, version: &str, minute: u32) -> ConsentRecord {
        ConsentRecord {
            channel,
            event,
            source: "test".to_owned(),
            text_version: Some(version.to_owned()),
            recorded_by: "system".to_owned(),
            at: at(minute),
        }
    }

    #[test]
    fn the_state_follows_the_ledger() {
        use ConsentEvent::*;
        let email = Channel::Email;
        let none = derive_state(email, &[]);
        assert_eq!((none.status, none.since), (ConsentStatus::NotGiven, None));

        let mut ledger = vec![row(email, Requested, "v1", 1)];
        assert_eq!(derive_state(email, &ledger).status, ConsentStatus::Pending);
        ledger.push(row(email, Confirmed, "v1", 2));
        let s = derive_state(email, &ledger);
        assert!(s.is_granted());
        assert_eq!((s.text_version(), s.since()), (Some("v1"), Some(at(2))));
        // Asking again for a newer text keeps the consent already given.
        ledger.push(row(email, Requested, "v2", 3));
        assert_eq!(derive_state(email, &ledger).text_version(), Some("v1"));
        ledger.push(row(email, Withdrawn, "v1", 4));
        let s = derive_state(email, &ledger);
        assert_eq!(
            (s.status, s.text_version()),
            (ConsentStatus::Withdrawn, None)
        );
        // Other channels are independent.
        assert_eq!(
            derive_state(Channel::Sms, &ledger).status,
            ConsentStatus::NotGiven
        );
        ledger.push(row(Channel::Sms, Granted, "s1", 5));
        assert!(derive_state(Channel::Sms, &ledger).is_granted());
        assert!(!derive_state(email, &ledger).is_granted());
    }
}
