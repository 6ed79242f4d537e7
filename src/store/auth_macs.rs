//! The keyed step of the auth-MAC migration: gives every existing row of a bound table its
//! MAC (see `crate::crypto::auth_mac`).
//!
//! It runs inside the migration's own transaction, so a crash leaves either the old schema
//! with no MACs or the new one with all of them, and the step never runs twice. It vouches for
//! the rows as they stand when it runs: it cannot know whether someone edited them before.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::crypto::auth_mac::{ALL, BoundTable};
use crate::crypto::keys::Keys;
use crate::error::{Error, ErrorKind, Result};

/// MACs every row of every bound table that has no MAC yet.
pub(super) fn backfill(conn: &Connection, keys: &Keys) -> Result<()> {
    for table in &ALL {
        backfill_table(conn, keys, table)?;
    }
    Ok(())
}

fn backfill_table(conn: &Connection, keys: &Keys, table: &BoundTable) -> Result<()> {
    // Names come from the constant list, never from input.
    let select = format!(
        "SELECT {}, {} FROM {} WHERE auth_mac IS NULL",
        table.key,
        table.columns.join(", "),
        table.name
    );
    let update = format!(
        "UPDATE {} SET auth_mac = ?1 WHERE {} = ?2",
        table.name, table.key
    );
    let mut rows: Vec<(Vec<u8>, [u8; 32])> = Vec::new();
    let mut stmt = conn.prepare(&select).map_err(crate::error::sqlite)?;
    let mut query = stmt.query([]).map_err(crate::error::sqlite)?;
    while let Some(row) = query.next().map_err(crate::error::sqlite)? {
        let key = bytes(row.get_ref(0).map_err(crate::error::sqlite)?)?
            .unwrap_or_default()
            .to_vec();
        let values = (1..=table.columns.len())
            .map(|i| bytes(row.get_ref(i).map_err(crate::error::sqlite)?))
            .collect::<Result<Vec<_>>>()?;
        rows.push((key, keys.auth_mac(table, &values)));
    }
    let mut stmt = conn.prepare(&update).map_err(crate::error::sqlite)?;
    for (key, mac) in rows {
        stmt.execute(rusqlite::params![mac.as_slice(), key])
            .map_err(crate::error::sqlite)?;
    }
    Ok(())
}

/// The stored bytes of a bound column: a BLOB as is, TEXT as its UTF-8.
fn bytes(value: ValueRef<'_>) -> Result<Option<&[u8]>> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b)),
        ValueRef::Integer(_) | ValueRef::Real(_) => Err(Error::new(
            ErrorKind::Storage,
            "a column bound by an auth MAC holds a number",
        )),
    }
}
