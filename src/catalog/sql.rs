//! Conversions between the model's unsigned counts and SQLite's signed integers.
//!
//! Versions, levels and ledger positions are never negative (the schema checks), and never
//! near `i64::MAX`; the conversions saturate rather than fail for values that cannot occur.

/// A count (or a page size, a position) as SQLite stores it.
pub(crate) fn int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// A stored count (the schema keeps it non-negative).
pub(crate) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
