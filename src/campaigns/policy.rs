//! The send policy: a frequency cap per person and quiet hours in the shop's time zone.

use std::time::Duration;

use serde::Serialize;

use crate::catalog::TimeZone;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::sql::args;
use crate::store::Tx;

/// The longest frequency window: a year.
const MAX_WINDOW: Duration = Duration::from_secs(366 * 24 * 3600);

/// How often and when marketing may reach one person, whichever campaign or flow it comes
/// from. Transactional mail (order confirmations, invoices) is not marketing and not counted.
///
/// - **Frequency cap**: at most `max_messages` within any `window`. A campaign's recipient
///   over the cap is skipped (a campaign is about its moment; it is not sent days late); a
///   flow's step waits until the window has room.
/// - **Quiet hours**: from `from` to `until`, local time in the shop's time zone (a span may
///   cross midnight); a message due then waits until `until`.
///
/// The default, until the owner sets one: 3 messages in 7 days, quiet from 21:00 to 08:00.
///
/// ```
/// use std::time::Duration;
/// use shopkeep::campaigns::SendPolicy;
///
/// let policy = SendPolicy::new(2, Duration::from_secs(7 * 24 * 3600))?
///     .quiet_hours("22:00", "07:30")?;
/// assert_eq!(policy.max_messages(), 2);
/// assert!(SendPolicy::new(0, Duration::from_secs(3600)).is_err());
/// assert!(SendPolicy::default().quiet_hours("25:00", "07:00").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SendPolicy {
    max_messages: u32,
    #[serde(serialize_with = "seconds")]
    window: Duration,
    quiet: Option<(u32, u32)>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

impl Default for SendPolicy {
    fn default() -> SendPolicy {
        SendPolicy {
            max_messages: 3,
            window: Duration::from_secs(7 * 24 * 3600),
            quiet: Some((21 * 60, 8 * 60)),
        }
    }
}

impl SendPolicy {
    /// At most `max_messages` (1 to 1,000) per person within `window` (a minute to a year),
    /// without quiet hours.
    ///
    /// # Errors
    ///
    /// `Validation` (field `max_messages` or `window`) outside those ranges.
    pub fn new(max_messages: u32, window: Duration) -> Result<SendPolicy> {
        if !(1..=1000).contains(&max_messages) {
            return Err(Error::validation(
                "max_messages",
                "the cap is 1 to 1,000 messages",
            ));
        }
        if window < Duration::from_secs(60) || window > MAX_WINDOW {
            return Err(Error::validation(
                "window",
                "the window is a minute to a year",
            ));
        }
        Ok(SendPolicy {
            max_messages,
            window: Duration::from_secs(window.as_secs()),
            quiet: None,
        })
    }

    /// Quiet from `from` until `until`, each `HH:MM` local time (24-hour clock).
    ///
    /// # Errors
    ///
    /// `Validation` (field `quiet_hours`) for a time that is not `HH:MM` or for two equal
    /// times.
    pub fn quiet_hours(mut self, from: &str, until: &str) -> Result<SendPolicy> {
        let (from, until) = (minute_of_day(from)?, minute_of_day(until)?);
        if from == until {
            return Err(Error::validation(
                "quiet_hours",
                "quiet hours start and end at different times",
            ));
        }
        self.quiet = Some((from, until));
        Ok(self)
    }

    /// The same policy without quiet hours.
    #[must_use]
    pub fn without_quiet_hours(mut self) -> SendPolicy {
        self.quiet = None;
        self
    }

    /// The most messages per person within [`window`](Self::window).
    pub fn max_messages(&self) -> u32 {
        self.max_messages
    }

    /// The window of the frequency cap.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The quiet hours as minutes after local midnight (from, until), if any.
    pub fn quiet_minutes(&self) -> Option<(u32, u32)> {
        self.quiet
    }

    /// If `now` falls in the quiet hours, when they end.
    pub(crate) fn quiet_until(&self, zone: &TimeZone, now: Timestamp) -> Result<Option<Timestamp>> {
        let Some((from, until)) = self.quiet else {
            return Ok(None);
        };
        let (date, minute) = zone.local_minute(now);
        let quiet = if from < until {
            minute >= from && minute < until
        } else {
            minute >= from || minute < until
        };
        if !quiet {
            return Ok(None);
        }
        // The end is today if it is still ahead, else tomorrow (a span across midnight).
        let end_date = if minute < until {
            date
        } else {
            date.succ_opt()
                .ok_or_else(|| Error::validation("timestamp", "out of range"))?
        };
        zone.instant(end_date, until).map(Some)
    }
}

fn minute_of_day(text: &str) -> Result<u32> {
    let invalid = || Error::validation("quiet_hours", "a time of day is HH:MM, 00:00 to 23:59");
    let (h, m) = text.trim().split_once(':').ok_or_else(invalid)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(invalid());
    }
    let (h, m): (u32, u32) = (
        h.parse().map_err(|_| invalid())?,
        m.parse().map_err(|_| invalid())?,
    );
    if h > 23 || m > 59 {
        return Err(invalid());
    }
    Ok(h * 60 + m)
}

/// The stored policy, or the default.
pub(crate) fn load(tx: &Tx<'_>) -> Result<SendPolicy> {
    let row: Option<(i64, i64, Option<i64>, Option<i64>)> = tx.query_opt(
        "SELECT max_messages, window_secs, quiet_from, quiet_until
             FROM shopkeep_send_policy WHERE id = 1",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let Some((max, window, from, until)) = row else {
        return Ok(SendPolicy::default());
    };
    let number = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok(SendPolicy {
        max_messages: number(max),
        window: Duration::from_secs(u64::try_from(window).unwrap_or(0)),
        quiet: from.zip(until).map(|(f, u)| (number(f), number(u))),
    })
}

/// Stores `policy`, replacing the one there was.
pub(crate) fn save(tx: &Tx<'_>, policy: &SendPolicy) -> Result<()> {
    let window = i64::try_from(policy.window.as_secs()).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO shopkeep_send_policy (id, max_messages, window_secs, quiet_from, quiet_until, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET max_messages = excluded.max_messages,
             window_secs = excluded.window_secs, quiet_from = excluded.quiet_from,
             quiet_until = excluded.quiet_until, updated_at = excluded.updated_at",
        args![
            i64::from(policy.max_messages),
            window,
            policy.quiet.map(|q| i64::from(q.0)),
            policy.quiet.map(|q| i64::from(q.1)),
            tx.now()
        ],
    )?;
    Ok(())
}
