//! How shopkeep's own value types (ids, timestamps, SKUs, roles, tax categories) are bound as
//! SQL parameters and read from columns: crate-private traits instead of rusqlite's `ToSql` and
//! `FromSql`, whose impls would be public API (a rusqlite major version would break hosts).
//!
//! Repositories bind with `params![sql::p(&id), ...]` and read with `sql::get(row, 0)`.

use rusqlite::types::{FromSqlError, FromSqlResult, Null, ToSqlOutput, ValueRef};
use rusqlite::{Error, Row, ToSql};

/// A value that can be bound as an SQL parameter.
pub(crate) trait Param {
    /// The value as SQLite stores it.
    fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>>;
}

/// A parameter bound through [`Param`], for `params!` and parameter arrays.
pub(crate) struct Bound<'a>(&'a dyn Param);

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.param()
    }
}

/// The plain values parameters mix with shopkeep's own: bound as rusqlite binds them.
macro_rules! plain_params {
    ($($ty:ty),* $(,)?) => {
        $(impl Param for $ty {
            fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                ToSql::to_sql(self)
            }
        })*
    };
}

plain_params!(
    bool,
    i32,
    i64,
    u8,
    u16,
    u32,
    f64,
    str,
    String,
    [u8],
    Vec<u8>,
    [u8; 16],
    [u8; 32],
);

/// A value that can be read from an SQL column.
pub(crate) trait Column: Sized {
    /// The value of a column, or why it is not one.
    fn column(value: ValueRef<'_>) -> FromSqlResult<Self>;
}

impl<T: Param + ?Sized> Param for &T {
    fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        (**self).param()
    }
}

/// `NULL` for `None`.
impl<T: Param> Param for Option<T> {
    fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Some(value) => value.param(),
            None => Ok(ToSqlOutput::from(Null)),
        }
    }
}

/// `None` for `NULL`.
impl<T: Column> Column for Option<T> {
    fn column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::column(value).map(Some),
        }
    }
}

/// `value` as a parameter for `params!` or a parameter array.
pub(crate) fn p<T: Param>(value: &T) -> Bound<'_> {
    Bound(value)
}

/// Column `idx` of `row` as a `T`, with the errors `Row::get` gives.
pub(crate) fn get<T: Column>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let value = row.get_ref(idx)?;
    T::column(value).map_err(|err| match err {
        FromSqlError::InvalidType => Error::InvalidColumnType(
            idx,
            row.as_ref()
                .column_name(idx)
                .map(str::to_owned)
                .unwrap_or_default(),
            value.data_type(),
        ),
        FromSqlError::Other(err) => Error::FromSqlConversionFailure(idx, value.data_type(), err),
        err => Error::FromSqlConversionFailure(idx, value.data_type(), Box::new(err)),
    })
}

/// `rusqlite::params!` for values of shopkeep's own types as well as plain ones: each value is
/// bound through [`Param`].
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        rusqlite::params![$($crate::sql::p(&$value)),*]
    };
}

pub(crate) use params;
