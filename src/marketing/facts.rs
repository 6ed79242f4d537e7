//! The counted orders the customer reports (RFM, cohorts, CLV) are built from, read lean: one
//! walk of the covering index `shopkeep_orders_for_reports` in time order, no table rows, no
//! joins, nothing allocated per order, each order's local date from a per-report table of the
//! zone's UTC offsets.
//!
//! Why the reports are fast enough (docs/marketing.md, "Performance"):
//! - the index holds every column read (migration 18), so the walk never visits the orders'
//!   rows, which are several times wider (the buyer snapshot, the totals of every kind);
//! - "paid" is the order's status alone: the state machine reaches `paid` only through
//!   `mark_paid`, which records the payment in the same transaction, `shipped` and `completed`
//!   only from `paid`, and payments can be neither changed nor deleted (triggers of migration
//!   8); so the report does not probe the payments table once per order;
//! - refunds and erasures are few beside the orders: read once into memory;
//! - local dates: the stored timestamps have one fixed form, read by hand, and the zone's UTC
//!   offset is looked up once per quarter hour of UTC time that has orders, not once per order.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Offset, TimeZone as _};

use crate::access::CustomerId;
use crate::catalog::TimeZone;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::Currency;
use crate::orders::OrderId;
use crate::sql::{Column, ColumnResult, ValueRef, args};
use crate::store::Tx;

/// One counted order: paid (or shipped, completed), not cancelled, in the base currency, with
/// something left after its refunds.
#[derive(Debug, Clone, Copy)]
pub(super) struct CountedOrder<'a> {
    pub(super) customer: CustomerId,
    /// When it was placed, as stored (RFC 3339, UTC).
    pub(super) placed_at: &'a str,
    /// Its calendar date in the shop's time zone.
    pub(super) date: NaiveDate,
    /// Its gross total less what was refunded: always positive.
    pub(super) kept: i64,
    /// The shipping country (ISO 3166 alpha-2).
    pub(super) destination: &'a str,
}

/// Calls `each` with every counted order in `currency`, oldest first (by time placed, then
/// id); orders of erased customers are left out if `only_active_customers`.
pub(super) fn each_counted_order(
    tx: &Tx<'_>,
    currency: Currency,
    zone: &TimeZone,
    only_active_customers: bool,
    mut each: impl FnMut(CountedOrder<'_>) -> Result<()>,
) -> Result<()> {
    let refunded = refund_totals(tx)?;
    let erased = if only_active_customers {
        erased_customers(tx)?
    } else {
        HashSet::new()
    };
    let mut dates = LocalDates::new(zone)?;
    // INDEXED BY: the report must walk the covering index in order; without statistics (the
    // store never runs ANALYZE) the planner could pick the status index and sort a million
    // rows instead. PostgreSQL has no hints, and its planner has statistics.
    tx.query_each(
        tx.dialect(
            "SELECT id, customer_id, placed_at, gross_total, destination
             FROM shopkeep_orders INDEXED BY shopkeep_orders_for_reports
             WHERE currency = ?1 AND status IN ('paid', 'shipped', 'completed')
             ORDER BY placed_at, id",
            "SELECT id, customer_id, placed_at, gross_total, destination
             FROM shopkeep_orders
             WHERE currency = ?1 AND status IN ('paid', 'shipped', 'completed')
             ORDER BY placed_at, id",
        ),
        args![currency.code()],
        |row| {
            let customer: CustomerId = row.get(1)?;
            if erased.contains(&customer) {
                return Ok(());
            }
            let gross: i64 = row.get(3)?;
            let kept = if refunded.is_empty() {
                gross
            } else {
                let id: OrderId = row.get(0)?;
                gross.saturating_sub(refunded.get(&id).copied().unwrap_or(0))
            };
            if kept <= 0 {
                return Ok(());
            }
            let placed_at: ShortText = row.get(2)?;
            let placed_at = placed_at.as_str()?;
            let destination: ShortText = row.get(4)?;
            each(CountedOrder {
                customer,
                placed_at,
                date: dates.date_of(placed_at)?,
                kept,
                destination: destination.as_str()?,
            })
        },
    )
}

/// The most bytes a [`ShortText`] keeps inline: a stored time (27) or a country code.
const SHORT_TEXT: usize = 32;

/// A text column read without allocating, so that the walk allocates nothing per order: kept
/// inline up to [`SHORT_TEXT`] bytes, on the heap beyond (a time in another RFC 3339 form).
enum ShortText {
    Inline { len: usize, bytes: [u8; SHORT_TEXT] },
    Heap(String),
}

impl ShortText {
    fn as_str(&self) -> Result<&str> {
        match self {
            ShortText::Inline { len, bytes } => bytes
                .get(..*len)
                .and_then(|text| std::str::from_utf8(text).ok())
                .ok_or_else(|| Error::new(ErrorKind::Storage, "a stored text is not UTF-8")),
            ShortText::Heap(text) => Ok(text),
        }
    }
}

impl Column for ShortText {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        let text = value.as_str()?;
        let mut bytes = [0; SHORT_TEXT];
        Ok(match bytes.get_mut(..text.len()) {
            Some(inline) => {
                inline.copy_from_slice(text.as_bytes());
                ShortText::Inline {
                    len: text.len(),
                    bytes,
                }
            }
            None => ShortText::Heap(text.to_owned()),
        })
    }
}

/// What was refunded of each order with a refund.
pub(super) fn refund_totals(tx: &Tx<'_>) -> Result<HashMap<OrderId, i64>> {
    let mut totals = HashMap::new();
    tx.query_each(
        "SELECT order_id, sum(gross_total) FROM shopkeep_refunds GROUP BY order_id",
        args![],
        |r| {
            totals.insert(r.get(0)?, r.get(1)?);
            Ok(())
        },
    )?;
    Ok(totals)
}

/// The customers whose personal data was erased.
pub(super) fn erased_customers(tx: &Tx<'_>) -> Result<HashSet<CustomerId>> {
    let mut erased = HashSet::new();
    tx.query_each(
        "SELECT id FROM shopkeep_customers WHERE erased_at IS NOT NULL",
        args![],
        |r| {
            erased.insert(r.get(0)?);
            Ok(())
        },
    )?;
    Ok(erased)
}

const DAY_MS: i64 = 86_400_000;
/// The span one cached UTC offset covers. Zones change their offset at most a few times a
/// year, at whole quarter hours of UTC in today's tz database; a slot whose two ends have
/// different offsets (a change inside it) is not cached, so the result is exact either way.
const SLOT_MS: i64 = 15 * 60_000;
/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAY_CE: i64 = 719_163;

/// Local dates in one zone, with the UTC offset of the last quarter hour remembered: orders
/// come in time order, so nearly every lookup hits it.
pub(super) struct LocalDates {
    zone: chrono_tz::Tz,
    /// (slot, offset in ms) of the last slot whose offset is constant.
    cached: Option<(i64, i64)>,
}

impl LocalDates {
    pub(super) fn new(zone: &TimeZone) -> Result<LocalDates> {
        let zone = zone.name().parse::<chrono_tz::Tz>().map_err(|_| {
            Error::new(
                ErrorKind::Storage,
                "the shop's time zone is not in the time zone database",
            )
        })?;
        Ok(LocalDates { zone, cached: None })
    }

    /// The zone's offset from UTC at `ms` (Unix milliseconds), in milliseconds.
    fn offset_at(&self, ms: i64) -> Result<i64> {
        let utc = chrono::DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| Error::new(ErrorKind::Storage, "a stored time is out of range"))?;
        let offset = self.zone.offset_from_utc_datetime(&utc.naive_utc());
        Ok(i64::from(offset.fix().local_minus_utc()) * 1000)
    }

    /// The local date of the stored time `text`.
    pub(super) fn date_of(&mut self, text: &str) -> Result<NaiveDate> {
        let ms = match stored_millis(text) {
            Some(ms) => ms,
            None => Timestamp::parse_rfc3339(text)?.unix_millis(),
        };
        let slot = ms.div_euclid(SLOT_MS);
        let offset = match self.cached {
            Some((cached, offset)) if cached == slot => offset,
            _ => {
                let start = slot * SLOT_MS;
                let (first, last) = (self.offset_at(start)?, self.offset_at(start + SLOT_MS - 1)?);
                if first == last {
                    self.cached = Some((slot, first));
                    first
                } else {
                    self.offset_at(ms)?
                }
            }
        };
        let day = (ms + offset).div_euclid(DAY_MS);
        i32::try_from(day + UNIX_EPOCH_DAY_CE)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| Error::new(ErrorKind::Storage, "a stored time is out of range"))
    }
}

/// Unix milliseconds of a time in the store's own form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `None`
/// for any other form (the caller then parses it as RFC 3339).
fn stored_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 27
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'.')
        || b.get(26) != Some(&b'Z')
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    let micros = number(20, 26)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let day = i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAY_CE;
    let seconds = i64::from(hour * 3600 + minute * 60 + second);
    Some(day * DAY_MS + seconds * 1000 + i64::from(micros / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_read_by_hand_agree_with_rfc_3339() {
        for text in [
            "2026-01-01T00:00:00.000000Z",
            "1969-12-31T23:59:59.999999Z",
            "2024-02-29T12:34:56.789012Z",
            "0001-01-01T00:00:00.000000Z",
        ] {
            let expected = Timestamp::parse_rfc3339(text).unwrap().unix_millis();
            assert_eq!(stored_millis(text), Some(expected), "{text}");
        }
        for other in [
            "2026-01-01T00:00:00Z",
            "2026-02-30T00:00:00.000000Z",
            "2026-01-01T24:00:00.000000Z",
            "2026-01-01 00:00:00.000000Z",
            "2026-01-01T00:00:00.00000aZ",
        ] {
            assert_eq!(stored_millis(other), None, "{other}");
        }
    }

    #[test]
    fn local_dates_match_the_zone_across_daylight_saving_and_midnight() {
        for name in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"] {
            let zone = TimeZone::parse(name).unwrap();
            let mut dates = LocalDates::new(&zone).unwrap();
            // Every 7 minutes 30 seconds through 2026: both DST changes, every midnight.
            let start = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .unix_millis();
            for step in 0..(365 * 24 * 8) {
                let at = Timestamp::from_unix_millis(start + step * 450_000).unwrap();
                assert_eq!(
                    dates.date_of(&at.to_rfc3339()).unwrap(),
                    zone.local_date(at),
                    "{name} {at:?}"
                );
            }
        }
    }
}
