//! How shopkeep's engine-neutral values (`crate::sql::Value`, `ValueRef`) cross PostgreSQL's
//! wire, how statement texts written for SQLite (`?1` placeholders) reach it, and how its
//! errors become shopkeep's.
//!
//! PostgreSQL types every parameter and column; SQLite types values. A parameter is therefore
//! encoded as whatever type the server inferred for its placeholder (an integer bound where the
//! server expects `text` is sent as its digits), and a column is read by its declared type into
//! the storage class shopkeep's `Column` impls already understand.

use std::borrow::Cow;
use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::error::{Error, ErrorKind};
use crate::sql::{Value, ValueRef};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter value on its way to PostgreSQL.
#[derive(Debug)]
pub(crate) struct PgParam<'a>(pub(crate) Value<'a>);

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(value) => integer(*value, ty, out),
            Value::Real(value) => match *ty {
                Type::FLOAT8 => value.to_sql(ty, out),
                // Precision beyond f32 is what a `real` column keeps; shopkeep has none.
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*value as f32).to_sql(ty, out),
                _ if is_text(ty) => value.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("a real cannot be bound as {ty}").into()),
            },
            Value::Text(text) => match *ty {
                Type::JSONB => {
                    out.put_u8(1); // jsonb's binary format: a version byte, then the text
                    out.put_slice(text.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSON => {
                    out.put_slice(text.as_bytes());
                    Ok(IsNull::No)
                }
                _ if is_text(ty) => text.as_ref().to_sql(ty, out),
                _ => Err(format!("text cannot be bound as {ty}").into()),
            },
            Value::Blob(bytes) => match *ty {
                Type::BYTEA => bytes.as_ref().to_sql(ty, out),
                _ => Err(format!("bytes cannot be bound as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn integer(value: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT8 => value.to_sql(ty, out),
        Type::INT4 => i32::try_from(value)?.to_sql(ty, out),
        Type::INT2 => i16::try_from(value)?.to_sql(ty, out),
        Type::BOOL => (value != 0).to_sql(ty, out),
        // Exact for every count and amount shopkeep stores (all far below 2^53).
        #[allow(clippy::cast_precision_loss)]
        Type::FLOAT8 => (value as f64).to_sql(ty, out),
        _ if is_text(ty) => value.to_string().as_str().to_sql(ty, out),
        _ => Err(format!("an integer cannot be bound as {ty}").into()),
    }
}

/// Whether `ty` takes text as it is (a placeholder whose type the server could not infer is
/// `unknown` or `text`).
fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A column value read from PostgreSQL, whatever its declared type.
pub(crate) struct Raw<'a>(pub(crate) ValueRef<'a>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => ValueRef::Text(raw.get(1..).unwrap_or_default()),
            _ if is_text(ty) || *ty == Type::JSON => ValueRef::Text(raw),
            _ => return Err(format!("shopkeep reads no column of type {ty}").into()),
        };
        Ok(Raw(value))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `numeric` (what PostgreSQL's `sum` of integers returns): an integer when it has no
/// fraction and fits, a double otherwise, as SQLite's `sum` gives.
///
/// The binary form: digit count, weight (the power of 10000 of the first digit), sign, display
/// scale, then the base-10000 digits, all big-endian 16-bit.
fn numeric(raw: &[u8]) -> Result<ValueRef<'static>, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        let bytes = raw
            .get(i * 2..i * 2 + 2)
            .ok_or("a numeric value is truncated")?;
        Ok(i16::from_be_bytes([
            bytes.first().copied().unwrap_or(0),
            bytes.get(1).copied().unwrap_or(0),
        ]))
    };
    let count = usize::try_from(word(0)?)?;
    let weight = i32::from(word(1)?);
    let sign = word(2)?.cast_unsigned();
    match sign {
        0x0000 | 0x4000 => {}
        _ => return Err("a numeric value is NaN or infinite".into()),
    }
    let negative = sign == 0x4000;
    let mut whole: i128 = 0;
    let mut fraction = false;
    let mut real = 0.0_f64;
    for index in 0..count {
        let digit = word(4 + index)?;
        let power = weight - i32::try_from(index)?;
        real += f64::from(digit) * 10_000_f64.powi(power);
        if power >= 0 {
            let scaled = i128::from(digit)
                .checked_mul(
                    10_000_i128
                        .checked_pow(power.cast_unsigned())
                        .ok_or("overflow")?,
                )
                .ok_or("a numeric value is too large")?;
            whole = whole
                .checked_add(scaled)
                .ok_or("a numeric value is too large")?;
        } else if digit != 0 {
            fraction = true;
        }
    }
    if !fraction && let Ok(value) = i64::try_from(if negative { -whole } else { whole }) {
        return Ok(ValueRef::Integer(value));
    }
    Ok(ValueRef::Real(if negative { -real } else { real }))
}

/// A statement written for SQLite, with `?1`-style placeholders, in PostgreSQL's `$1` style.
/// Question marks inside string literals, quoted identifiers and comments are left alone; a
/// bare `?` takes the number after the highest so far, as SQLite numbers it.
pub(crate) fn placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut highest = 0_u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == c {
                        break; // a doubled quote reopens at the next character
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let number = match digits.parse::<u32>() {
                    Ok(number) => number,
                    Err(_) => highest.saturating_add(1),
                };
                highest = highest.max(number);
                out.push('$');
                out.push_str(&number.to_string());
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A PostgreSQL error as shopkeep reports it: a violated constraint or a trigger's refusal is
/// a `Conflict` (as SQLite's constraint errors are), a serialization failure or deadlock too
/// (after the store has retried it); anything else is `Storage`. The message is the server's
/// own, so a trigger's refusal reads the same on both engines; a client-side error (the
/// network, TLS) spells out its causes, since its own text ("error performing TLS handshake")
/// names none.
pub(crate) fn error(err: postgres::Error) -> Error {
    let conflict = err.code().is_some_and(|code| {
        code.code().starts_with("23")
            || *code == SqlState::RAISE_EXCEPTION
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
    });
    let kind = if conflict {
        ErrorKind::Conflict
    } else {
        ErrorKind::Storage
    };
    let message = match err.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => with_causes(&err),
    };
    Error::new(kind, message).with_source(err)
}

/// `err`'s text followed by that of each of its sources, joined by ": ".
fn with_causes(err: &postgres::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether `err` is a transaction the server aborted to keep transactions serializable (or to
/// break a deadlock): running it again from the start is the documented answer.
pub(crate) fn is_retryable(err: &Error) -> bool {
    StdError::source(err)
        .and_then(|source| source.downcast_ref::<postgres::Error>())
        .and_then(postgres::Error::code)
        .is_some_and(|code| {
            *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        })
}

/// Whether `err` says the connection is gone: closed, or ended by the server (a restart, an
/// administrator terminating it: SQLSTATE 57P01 to 57P03 and class 08, connection exceptions).
pub(crate) fn is_disconnected(err: &Error) -> bool {
    StdError::source(err)
        .and_then(|source| source.downcast_ref::<postgres::Error>())
        .is_some_and(|err| {
            err.is_closed()
                || err.code().is_some_and(|code| {
                    code.code().starts_with("57P") || code.code().starts_with("08")
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_literals_only() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c > ?12"),
            "SELECT a FROM t WHERE b = $1 AND c > $12"
        );
        assert_eq!(
            placeholders("SELECT '?1', \"q?\" -- ?3\n FROM t WHERE x = ?2"),
            "SELECT '?1', \"q?\" -- ?3\n FROM t WHERE x = $2"
        );
        assert_eq!(placeholders("VALUES (?, ?5, ?)"), "VALUES ($1, $5, $6)");
        assert_eq!(
            placeholders("SELECT 'it''s ?' , ?1"),
            "SELECT 'it''s ?' , $1"
        );
        assert!(matches!(placeholders("SELECT 1"), Cow::Borrowed(_)));
    }

    fn encoded(words: &[i16]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn numerics_read_as_integers_when_whole() {
        // 123456789 = 1 * 10000^2 + 2345 * 10000 + 6789
        let raw = encoded(&[3, 2, 0, 0, 1, 2345, 6789]);
        assert_eq!(numeric(&raw).ok(), Some(ValueRef::Integer(123_456_789)));
        let negative = encoded(&[1, 0, 0x4000, 0, 42]);
        assert_eq!(numeric(&negative).ok(), Some(ValueRef::Integer(-42)));
        let zero = encoded(&[0, 0, 0, 0]);
        assert_eq!(numeric(&zero).ok(), Some(ValueRef::Integer(0)));
        // 1.5 = 1 + 5000 * 10000^-1
        let half = encoded(&[2, 0, 0, 1, 1, 5000]);
        assert_eq!(numeric(&half).ok(), Some(ValueRef::Real(1.5)));
        assert!(numeric(&encoded(&[0, 0, -16384, 0])).is_err()); // NaN (0xC000)
        assert!(numeric(&[0, 1]).is_err());
    }
}
