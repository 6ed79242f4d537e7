//! Time: the [`Timestamp`] type and the injectable [`Clock`].
//!
//! Every "now" in shopkeep (token expiry, throttling, coupon windows, invoice dates) is read from
//! the store's [`Clock`], never from the operating system directly. Production uses
//! [`SystemClock`]; tests and simulations use a [`ManualClock`] and move time instead of sleeping.
//!
//! ```
//! use std::time::Duration;
//! use shopkeep::clock::{Clock, ManualClock, Timestamp};
//!
//! let clock = ManualClock::new(Timestamp::parse_rfc3339("2026-01-01T00:00:00Z")?);
//! clock.advance(Duration::from_secs(90));
//! assert_eq!(clock.now().to_string(), "2026-01-01T00:01:30.000000Z");
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, ErrorKind, Result};

/// An instant in time, in UTC, with microsecond precision.
///
/// Stored as fixed-width RFC 3339 text (`2026-11-28T09:30:00.000000Z`), so that text order in
/// the database is time order. Conversion to the shop's local date happens where documents are
/// rendered, with the shop's time zone.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The instant `millis` milliseconds after 1970-01-01T00:00:00Z (negative: before it).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `timestamp`) if the instant is outside the representable range
    /// (roughly ±262,000 years).
    pub fn from_unix_millis(millis: i64) -> Result<Self> {
        DateTime::from_timestamp_millis(millis)
            .map(Timestamp)
            .ok_or_else(|| Error::validation("timestamp", format!("{millis} ms is out of range")))
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    /// Parses RFC 3339 text with an offset (`2026-11-28T10:30:00+01:00` or `...Z`).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `timestamp`) if the text is not RFC 3339.
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Timestamp(t.with_timezone(&Utc).trunc_micros()))
            .map_err(|e| {
                Error::validation("timestamp", format!("{text:?} is not an RFC 3339 time"))
                    .with_source(e)
            })
    }

    /// The fixed-width RFC 3339 form used in the database and in `Display`.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// This instant moved `by` into the future.
    ///
    /// # Errors
    ///
    /// An `Overflow` error if the result is out of range.
    pub fn checked_add(self, by: Duration) -> Result<Self> {
        chrono::Duration::from_std(by)
            .ok()
            .and_then(|d| self.0.checked_add_signed(d))
            .map(Timestamp)
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "timestamp out of range"))
    }

    /// This instant moved `by` into the past.
    ///
    /// # Errors
    ///
    /// An `Overflow` error if the result is out of range.
    pub fn checked_sub(self, by: Duration) -> Result<Self> {
        chrono::Duration::from_std(by)
            .ok()
            .and_then(|d| self.0.checked_sub_signed(d))
            .map(Timestamp)
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "timestamp out of range"))
    }

    /// The time elapsed from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn duration_since(self, earlier: Timestamp) -> Option<Duration> {
        (self.0 - earlier.0).to_std().ok()
    }
}

/// Truncation to microseconds keeps the stored text and the in-memory value equal.
trait TruncMicros {
    fn trunc_micros(self) -> Self;
}

impl TruncMicros for DateTime<Utc> {
    fn trunc_micros(self) -> Self {
        let micros = self.timestamp_micros();
        DateTime::from_timestamp_micros(micros).unwrap_or(self)
    }
}

// RFC 3339 text in UTC (`"2026-11-28T09:30:00.000000Z"`); any offset is accepted back.
crate::serde_text::text_serde!(Timestamp, Timestamp::parse_rfc3339);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl crate::sql::Param for Timestamp {
    fn value(&self) -> crate::sql::Value<'_> {
        crate::sql::Value::Text(self.to_rfc3339().into())
    }
}

impl crate::sql::Column for Timestamp {
    fn column(value: crate::sql::ValueRef<'_>) -> crate::sql::ColumnResult<Self> {
        let text = value.as_str()?;
        Timestamp::parse_rfc3339(text).map_err(Into::into)
    }
}

/// The source of "now" for a store.
///
/// Implement it to drive time from a simulation; the crate ships [`SystemClock`] (the default)
/// and [`ManualClock`] (for tests).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock. The default clock of a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().trunc_micros())
    }
}

/// A clock that stands still until told to move; clones share the same time.
///
/// Give one clone to the store and keep the other in the test to move time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock that reads `start` until moved.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// Sets the time (it may go backwards, to test how code copes with that).
    pub fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }

    /// Moves the time forward by `by`; a move past the end of the representable range (about
    /// 262,000 years) leaves the time where it is.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Ok(later) = now.checked_add(by) {
            *now = later;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp::parse_rfc3339("2026-01-01T00:00:00.5Z").unwrap();
        let b = Timestamp::parse_rfc3339("2026-01-01T00:00:01+00:00").unwrap();
        let c = Timestamp::parse_rfc3339("2025-12-31T23:00:02-01:00").unwrap();
        assert!(a < b && b < c);
        assert!(a.to_rfc3339() < b.to_rfc3339() && b.to_rfc3339() < c.to_rfc3339());
        assert_eq!(c.to_rfc3339(), "2026-01-01T00:00:02.000000Z");
    }

    #[test]
    fn round_trips_through_text_and_millis() {
        let t = Timestamp::parse_rfc3339("2026-11-28T09:30:00.123456Z").unwrap();
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        let m = Timestamp::from_unix_millis(t.unix_millis()).unwrap();
        assert_eq!(m.to_rfc3339(), "2026-11-28T09:30:00.123000Z");
    }

    #[test]
    fn bad_text_is_a_validation_error() {
        let err = Timestamp::parse_rfc3339("28.11.2026").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "timestamp" });
        assert!(Timestamp::from_unix_millis(i64::MAX).is_err());
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let start = Timestamp::from_unix_millis(0).unwrap();
        let clock = ManualClock::new(start);
        let other = clock.clone();
        other.advance(Duration::from_secs(3600));
        assert_eq!(
            clock.now().duration_since(start),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(start.duration_since(clock.now()), None);
    }
}
