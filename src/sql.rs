//! How values are bound as SQL parameters and read from columns, in terms neither engine owns.
//!
//! Repositories bind through [`Param`] (`args![id, tx.now()]`) and read through [`Column`]
//! (`row.get::<OrderId>(0)`), never through a driver's own traits: rusqlite's `ToSql` and
//! `FromSql` impls would be public API (a rusqlite major version would break hosts), and a
//! repository must not care whether SQLite or PostgreSQL runs it (`docs/backends.md`). A value
//! crosses the boundary as a [`Value`] or a [`ValueRef`], SQLite's five storage classes, which
//! every type shopkeep stores maps onto; each engine converts those to its own wire form.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind, Result};

/// A parameter value, as either engine binds it: SQLite's storage classes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// SQL `NULL`.
    Null,
    /// A 64-bit signed integer (`INTEGER`, `bigint`; booleans are 0 and 1).
    Integer(i64),
    /// A double (`REAL`, `double precision`).
    Real(f64),
    /// UTF-8 text.
    Text(Cow<'a, str>),
    /// Bytes (`BLOB`, `bytea`).
    Blob(Cow<'a, [u8]>),
}

/// A value that can be bound as an SQL parameter.
pub(crate) trait Param {
    /// The value to bind. Infallible: every type shopkeep binds has a value.
    fn value(&self) -> Value<'_>;
}

/// A column value as read, borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ValueRef<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer (booleans read as 0 and 1).
    Integer(i64),
    /// A double.
    Real(f64),
    /// Text, as stored (checked for UTF-8 when read as text).
    Text(&'a [u8]),
    /// Bytes.
    Blob(&'a [u8]),
}

/// Why a column's value is not the type asked for.
pub(crate) type ColumnError = Box<dyn std::error::Error + Send + Sync>;

/// A column's value converted, or why it could not be.
pub(crate) type ColumnResult<T> = std::result::Result<T, ColumnError>;

impl<'a> ValueRef<'a> {
    /// The value as text.
    pub(crate) fn as_str(self) -> ColumnResult<&'a str> {
        match self {
            ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes)?),
            other => Err(other.mismatch("text")),
        }
    }

    /// The value as bytes.
    pub(crate) fn as_blob(self) -> ColumnResult<&'a [u8]> {
        match self {
            ValueRef::Blob(bytes) => Ok(bytes),
            other => Err(other.mismatch("a blob")),
        }
    }

    /// The value as an integer.
    pub(crate) fn as_i64(self) -> ColumnResult<i64> {
        match self {
            ValueRef::Integer(value) => Ok(value),
            other => Err(other.mismatch("an integer")),
        }
    }

    /// The name of the value's class, for error messages.
    fn class(self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }

    fn mismatch(self, expected: &str) -> ColumnError {
        format!("expected {expected}, found {}", self.class()).into()
    }
}

/// A value that can be read from an SQL column.
pub(crate) trait Column: Sized {
    /// The value of a column, or why it is not one.
    fn column(value: ValueRef<'_>) -> ColumnResult<Self>;
}

/// A value as it stands (a row copied from one engine to the other).
impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        match self {
            Value::Null => Value::Null,
            Value::Integer(n) => Value::Integer(*n),
            Value::Real(x) => Value::Real(*x),
            Value::Text(text) => Value::Text(Cow::Borrowed(text.as_ref())),
            Value::Blob(bytes) => Value::Blob(Cow::Borrowed(bytes.as_ref())),
        }
    }
}

/// A value as it stands, whatever its class.
impl Column for Value<'static> {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(_) => Value::Text(Cow::Owned(value.as_str()?.to_owned())),
            ValueRef::Blob(bytes) => Value::Blob(Cow::Owned(bytes.to_vec())),
        })
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

/// `NULL` for `None`.
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(value) => value.value(),
            None => Value::Null,
        }
    }
}

/// `None` for `NULL`.
impl<T: Column> Column for Option<T> {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::column(value).map(Some),
        }
    }
}

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Integer(i64::from(*self))
    }
}

impl Column for bool {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        Ok(value.as_i64()? != 0)
    }
}

/// The integer types: bound as 64-bit integers, read back only if the value fits.
macro_rules! integer_columns {
    ($($ty:ty),* $(,)?) => {
        $(impl Param for $ty {
            fn value(&self) -> Value<'_> {
                Value::Integer(i64::from(*self))
            }
        }

        impl Column for $ty {
            fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
                let wide = value.as_i64()?;
                <$ty>::try_from(wide)
                    .map_err(|_| format!("{wide} is out of range for {}", stringify!($ty)).into())
            }
        })*
    };
}

integer_columns!(i32, u8, u16, u32);

impl Param for i64 {
    fn value(&self) -> Value<'_> {
        Value::Integer(*self)
    }
}

impl Column for i64 {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        value.as_i64()
    }
}

impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

/// An integer reads as a double too: SQLite's `sum` and `avg` of whole numbers are integers.
impl Column for f64 {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        match value {
            ValueRef::Real(value) => Ok(value),
            // Precision lost beyond 2^53 is what SQLite's own conversion loses.
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(value) => Ok(value as f64),
            other => Err(other.mismatch("a real")),
        }
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl Column for String {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(Cow::Borrowed(self))
    }
}

impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(Cow::Borrowed(self))
    }
}

impl Column for Vec<u8> {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        value.as_blob().map(<[u8]>::to_vec)
    }
}

impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value<'_> {
        Value::Blob(Cow::Borrowed(self))
    }
}

impl<const N: usize> Column for [u8; N] {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        let blob = value.as_blob()?;
        blob.try_into()
            .map_err(|_| format!("expected {N} bytes, found {}", blob.len()).into())
    }
}

/// A keyset cursor over blob ids, for `id > ?`: the id of the last row of the page before, or,
/// on the first page, the empty blob, which sorts before every id on both engines. (`?1 IS
/// NULL OR id > ?1` would say the same, but PostgreSQL cannot type a parameter it first meets
/// in `IS NULL`.)
pub(crate) struct After<T>(pub(crate) Option<T>);

impl<T: Param> Param for After<T> {
    fn value(&self) -> Value<'_> {
        match &self.0 {
            Some(id) => id.value(),
            None => Value::Blob(Cow::Borrowed(&[])),
        }
    }
}

/// The parameters of one statement, in order: `args![id, tx.now(), "placed"]`. Each value is
/// bound through [`Param`]; a statement without parameters takes `args![]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$(&$value as &dyn $crate::sql::Param),*] as &[&dyn $crate::sql::Param]
    };
}

pub(crate) use args;

/// One row of a result, read by column position.
pub(crate) struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    #[cfg(feature = "postgres")]
    Postgres(&'r postgres::Row),
}

impl<'r> Row<'r> {
    /// A row SQLite returned.
    pub(crate) fn sqlite(row: &'r rusqlite::Row<'r>) -> Self {
        Row {
            inner: RowInner::Sqlite(row),
        }
    }

    /// A row PostgreSQL returned.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(row: &'r postgres::Row) -> Self {
        Row {
            inner: RowInner::Postgres(row),
        }
    }

    /// Column `idx` as a `T`.
    ///
    /// # Errors
    ///
    /// `Storage`, naming the column, if there is no such column or its value is not a `T`
    /// (a schema and a repository out of step).
    pub(crate) fn get<T: Column>(&self, idx: usize) -> Result<T> {
        let value = match &self.inner {
            RowInner::Sqlite(row) => from_sqlite(row.get_ref(idx).map_err(crate::error::sqlite)?),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(row) => {
                row.try_get::<_, crate::store::PostgresValue<'_>>(idx)
                    .map_err(|err| self.unreadable(idx, &err))?
                    .0
            }
        };
        T::column(value).map_err(|err| self.unreadable(idx, &err))
    }

    /// Why column `idx` cannot be read, naming it. The name is looked up here, on the error
    /// path only: `get` runs for every column of every row read.
    #[cold]
    fn unreadable(&self, idx: usize, err: &dyn std::fmt::Display) -> Error {
        let name = match &self.inner {
            RowInner::Sqlite(row) => row.as_ref().column_name(idx).unwrap_or("?"),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(row) => row.columns().get(idx).map_or("?", |c| c.name()),
        };
        Error::new(
            ErrorKind::Storage,
            format!("column {idx} ({name}) cannot be read: {err}"),
        )
    }
}

/// A SQLite value as shopkeep reads it.
pub(crate) fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> ValueRef<'_> {
    use rusqlite::types::ValueRef as V;
    match value {
        V::Null => ValueRef::Null,
        V::Integer(value) => ValueRef::Integer(value),
        V::Real(value) => ValueRef::Real(value),
        V::Text(bytes) => ValueRef::Text(bytes),
        V::Blob(bytes) => ValueRef::Blob(bytes),
    }
}

/// A parameter as rusqlite binds it (`store/statement.rs` binds every statement's through it).
pub(crate) struct Bound<'a>(pub(crate) &'a dyn Param);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as Owned, ValueRef as Borrowed};
        Ok(match self.0.value() {
            Value::Null => ToSqlOutput::Owned(Owned::Null),
            Value::Integer(value) => ToSqlOutput::Owned(Owned::Integer(value)),
            Value::Real(value) => ToSqlOutput::Owned(Owned::Real(value)),
            Value::Text(Cow::Borrowed(text)) => {
                ToSqlOutput::Borrowed(Borrowed::Text(text.as_bytes()))
            }
            Value::Text(Cow::Owned(text)) => ToSqlOutput::Owned(Owned::Text(text)),
            Value::Blob(Cow::Borrowed(bytes)) => ToSqlOutput::Borrowed(Borrowed::Blob(bytes)),
            Value::Blob(Cow::Owned(bytes)) => ToSqlOutput::Owned(Owned::Blob(bytes)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_column_is_named_in_the_error() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let read = |idx: usize| {
            conn.query_row("SELECT 7 AS seven, 'x' AS word", [], |row| {
                Ok(Row::sqlite(row).get::<i64>(idx))
            })
            .unwrap()
        };
        assert_eq!(read(0).unwrap(), 7);
        let err = read(1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert!(
            err.message()
                .starts_with("column 1 (word) cannot be read: "),
            "{}",
            err.message()
        );
        // A column the row does not have is rusqlite's error, as before.
        assert_eq!(read(2).unwrap_err().kind(), ErrorKind::Storage);
    }
}
