//! Deliveries: one per (event, endpoint), the signed request a worker sends, the outcome it
//! reports, the retry schedule and the delivery log. Plain data; no SQL.

use std::fmt;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::events::EventId;
use crate::ids::define_id;

use super::endpoint::{EndpointId, EndpointUrl};

define_id!(
    /// A delivery's id: one event to one endpoint.
    DeliveryId,
    "delivery_id"
);

/// How long to wait after each failed attempt before the next: the schedule Standard Webhooks
/// suggests, without jitter (so tests are deterministic; deliveries are spread anyway by when
/// their events happened). The first attempt is due when the event is fanned out; after the
/// failure of attempt *n* (1-based) the next is due `RETRY_SCHEDULE[n - 1]` later; after the
/// failure of the last ([`MAX_ATTEMPTS`]) the delivery is dead-lettered.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts of one round: the first and one per entry of [`RETRY_SCHEDULE`]. A re-queued
/// dead letter gets a new round.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait after the `failures`-th failed attempt of a round, or `None` when that was the last.
pub(crate) fn backoff(failures: u32) -> Option<Duration> {
    let index = usize::try_from(failures.checked_sub(1)?).ok()?;
    RETRY_SCHEDULE.get(index).copied()
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or for its endpoint to be enabled again).
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt of its round failed; staff may re-queue it.
    DeadLettered,
}

impl DeliveryStatus {
    /// The stored name: `pending`, `delivered`, `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::DeadLettered => "dead",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "dead" => Ok(DeliveryStatus::DeadLettered),
            other => Err(Error::new(
                ErrorKind::Storage,
                format!("unknown delivery status {other:?} in the database"),
            )),
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request ready to send: POST `body` to `url` with `headers`. Built by
/// [`WebhookRepo::due`](super::WebhookRepo::due), signed for this attempt; the worker reports
/// what came of it with [`WebhookRepo::report`](super::WebhookRepo::report), naming
/// [`delivery`](Self::delivery) and [`attempt`](Self::attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub(crate) delivery: DeliveryId,
    pub(crate) attempt: u32,
    pub(crate) url: EndpointUrl,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

impl SignedRequest {
    /// The delivery this attempt is of.
    pub fn delivery(&self) -> DeliveryId {
        self.delivery
    }

    /// The attempt's number (1 for the first ever, counting every lease): the worker's lease.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Where to POST.
    pub fn url(&self) -> &EndpointUrl {
        &self.url
    }

    /// The headers to send, in this order: `content-type`, `webhook-id` (the event's id, the
    /// same on every attempt and to every endpoint), `webhook-timestamp` (this attempt's time,
    /// whole seconds) and `webhook-signature`.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// One header's value, by its (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body: `{"id","type","version","timestamp","data"}`, ids and figures only, the
    /// same bytes on every attempt.
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// The longest network error message kept in the delivery log.
const MAX_ERROR_LEN: usize = 500;

/// What came of sending a [`SignedRequest`]: the endpoint's HTTP status code, or a network
/// error (DNS, connection, TLS, timeout) in the worker's words. Response bodies are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
}

impl DeliveryOutcome {
    /// The endpoint answered with `code`: 200 to 299 is a success, anything else a failure
    /// (redirects are not followed: an endpoint that moved is re-registered).
    ///
    /// # Errors
    ///
    /// `Validation` (field `status`) for a code outside 100 to 599.
    pub fn status(code: u16) -> Result<Self> {
        if !(100..=599).contains(&code) {
            return Err(Error::validation(
                "status",
                format!("{code} is not an HTTP status code"),
            ));
        }
        Ok(DeliveryOutcome {
            status: Some(code),
            error: None,
        })
    }

    /// The request got no answer. The message is kept in the delivery log, cut to 500 bytes,
    /// control characters replaced: write no secrets into it.
    pub fn network_error(message: &str) -> Self {
        let mut kept = String::new();
        for c in message.trim().chars() {
            if kept.len() + c.len_utf8() > MAX_ERROR_LEN {
                break;
            }
            kept.push(if c.is_control() { ' ' } else { c });
        }
        if kept.is_empty() {
            kept.push_str("network error");
        }
        DeliveryOutcome {
            status: None,
            error: Some(kept),
        }
    }

    /// Whether the endpoint took the delivery (a 2xx answer).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A delivery, as the log and the dead-letter list show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub(crate) id: DeliveryId,
    pub(crate) endpoint: EndpointId,
    pub(crate) event: EventId,
    pub(crate) event_type: String,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempts: u32,
    pub(crate) failures: u32,
    pub(crate) next_attempt_at: Option<Timestamp>,
    pub(crate) last_status: Option<u16>,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

impl Delivery {
    /// Its id.
    pub fn id(&self) -> DeliveryId {
        self.id
    }

    /// The endpoint it goes to.
    pub fn endpoint(&self) -> EndpointId {
        self.endpoint
    }

    /// The outbox event it carries (also its `webhook-id`).
    pub fn event(&self) -> EventId {
        self.event
    }

    /// The event's type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// Where it stands.
    pub fn status(&self) -> DeliveryStatus {
        self.status
    }

    /// Attempts handed out so far, every round and every lease counted.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Failed attempts in the current round (a re-queue starts a new round at 0).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When it is next due, or leased until; `None` once delivered or dead-lettered, or while
    /// its endpoint is disabled.
    pub fn next_attempt_at(&self) -> Option<Timestamp> {
        self.next_attempt_at
    }

    /// The HTTP status of the last reported attempt, if it got one.
    pub fn last_status(&self) -> Option<u16> {
        self.last_status
    }

    /// The network error of the last reported attempt, if it was one.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// When it was created (the fan-out).
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

/// One reported attempt in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub(crate) number: u32,
    pub(crate) at: Timestamp,
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
}

impl Attempt {
    /// The attempt's number ([`SignedRequest::attempt`]).
    pub fn number(&self) -> u32 {
        self.number
    }

    /// When it was reported.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The endpoint's HTTP status, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The network error, if it did not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether the endpoint took the delivery.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_ends_after_the_last_attempt() {
        assert_eq!(backoff(0), None);
        assert_eq!(backoff(1), Some(Duration::from_secs(5)));
        assert_eq!(backoff(7), Some(Duration::from_secs(36_000)));
        assert_eq!(backoff(MAX_ATTEMPTS), None);
        assert_eq!(RETRY_SCHEDULE.len() + 1, MAX_ATTEMPTS as usize);
    }

    #[test]
    fn outcomes_are_validated_and_trimmed() {
        assert!(DeliveryOutcome::status(99).is_err());
        assert!(DeliveryOutcome::status(600).is_err());
        assert!(DeliveryOutcome::status(204).is_ok_and(|o| o.succeeded()));
        assert!(DeliveryOutcome::status(301).is_ok_and(|o| !o.succeeded()));
        let long = DeliveryOutcome::network_error(&"é".repeat(400));
        assert!(long.error.as_deref().is_some_and(|e| e.len() <= 500));
        assert_eq!(
            DeliveryOutcome::network_error("a\nb").error.as_deref(),
            Some("a b")
        );
        assert!(!DeliveryOutcome::network_error("").succeeded());
    }
}
