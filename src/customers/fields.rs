//! Small helpers shared by the customer models: optional text fields and timestamps in serde.

use serde::Serializer;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::text;

/// An optional text field: blank means "none"; anything else is checked like a required field
/// (at most `max_chars` characters, no control characters) and trimmed.
pub(super) fn optional(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<Option<String>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    text::required(field, value, max_chars).map(Some)
}

/// Serialises a timestamp as its RFC 3339 text.
pub(super) fn timestamp<S: Serializer>(
    t: &Timestamp,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// Serialises an optional timestamp as its RFC 3339 text or `null`.
pub(super) fn optional_timestamp<S: Serializer>(
    t: &Option<Timestamp>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// Serialises an email address as its text.
pub(super) fn email<S: Serializer>(e: &crate::Email, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}
