//! The audit log's SQL: appending entries and reading the chain back.

use rusqlite::{Connection, OptionalExtension};

use super::action::Action;
use super::audit::{AuditEntry, AuditHead, AuditProblem, AuditVerification, Outcome};
use super::principal::Principal;
use super::resource::Resource;
use crate::crypto::keys::{Keys, Mac256};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{Store, Tx};

/// Appends one entry inside the current write transaction, chained to the newest one.
pub(crate) fn append(
    tx: &Tx<'_>,
    keys: &Keys,
    principal: &str,
    action: &str,
    resource: &str,
    outcome: Outcome,
) -> Result<()> {
    let previous: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT seq, mac FROM shopkeep_audit ORDER BY seq DESC LIMIT 1")
        .map_err(crate::error::sqlite)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(crate::error::sqlite)?;
    let (previous_seq, previous_mac) = match previous {
        Some((seq, mac)) => (seq, to_mac(&mac)?),
        None => (0, [0; 32]),
    };
    let entry = AuditEntry {
        seq: u64::try_from(previous_seq).unwrap_or(0) + 1,
        at: tx.now(),
        principal: principal.to_owned(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        outcome,
    };
    let mac = entry.mac(keys, &previous_mac);
    tx.prepare_cached(
        "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(crate::error::sqlite)?
    .execute(crate::sql::params![
        (previous_seq + 1),
        entry.at,
        entry.principal,
        entry.action,
        entry.resource,
        outcome.as_str(),
        mac.as_slice()
    ])
    .map_err(crate::error::sqlite)?;
    Ok(())
}

fn to_mac(bytes: &[u8]) -> Result<Mac256> {
    bytes
        .try_into()
        .map_err(|_| Error::new(ErrorKind::Storage, "an audit MAC has the wrong length"))
}

/// The audit log, as seen by one principal. From [`Store::audit_log`].
///
/// ```
/// use shopkeep::{KeyRing, Store};
/// use shopkeep::access::AuditVerification;
///
/// let store = Store::open_in_memory(KeyRing::generate()?)?;
/// let system = store.system();
/// let log = store.audit_log(&system);
/// let AuditVerification::Intact { head, .. } = log.verify(None)? else { panic!("tampered") };
/// // Keep `head` outside the database; next time, `log.verify(head.as_ref())` also detects a
/// // log whose newest entries were cut off.
/// # let _ = head;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AuditLog<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The audit log, for `principal` (which needs [`Action::ReadAuditLog`]).
    pub fn audit_log<'s>(&'s self, principal: &'s Principal) -> AuditLog<'s> {
        AuditLog {
            store: self,
            principal,
        }
    }
}

impl AuditLog<'_> {
    /// Up to `limit` entries after sequence number `after` (0 for the start), oldest first.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ReadAuditLog`].
    pub fn list(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadAuditLog, &Resource::AuditLog)?;
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut stmt = tx
                .prepare_cached(
                    "SELECT seq, at, principal, action, resource, outcome FROM shopkeep_audit
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(crate::error::sqlite)?;
            let rows = stmt
                .query_map(rusqlite::params![after, limit], |r| Ok(entry_from_row(r)))
                .map_err(crate::error::sqlite)?;
            rows.map(|row| row.map_err(crate::error::sqlite)?).collect()
        })
    }

    /// The newest entry's sequence number and MAC, or `None` for an empty log.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ReadAuditLog`].
    pub fn head(&self) -> Result<Option<AuditHead>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadAuditLog, &Resource::AuditLog)?;
            let head: Option<(i64, Vec<u8>)> = tx.query_opt(
                "SELECT seq, mac FROM shopkeep_audit ORDER BY seq DESC LIMIT 1",
                crate::sql::args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            head.map(|(seq, mac)| {
                Ok(AuditHead {
                    seq: u64::try_from(seq).unwrap_or(0),
                    mac: to_mac(&mac)?,
                })
            })
            .transpose()
        })
    }

    /// Recomputes the whole chain and reports the first broken link. With a `head` the host
    /// kept from an earlier verification, a log whose newest entries were removed is reported
    /// too.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ReadAuditLog`]; `Storage` if the log cannot be read.
    pub fn verify(&self, head: Option<&AuditHead>) -> Result<AuditVerification> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadAuditLog, &Resource::AuditLog)?;
            verify_chain(tx, self.store.keys(), head)
        })
    }
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> Result<AuditEntry> {
    let seq: i64 = r.get(0).map_err(crate::error::sqlite)?;
    let outcome: String = r.get(5).map_err(crate::error::sqlite)?;
    Ok(AuditEntry {
        seq: u64::try_from(seq).unwrap_or(0),
        at: crate::sql::get(r, 1).map_err(crate::error::sqlite)?,
        principal: r.get(2).map_err(crate::error::sqlite)?,
        action: r.get(3).map_err(crate::error::sqlite)?,
        resource: r.get(4).map_err(crate::error::sqlite)?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| {
            Error::new(ErrorKind::Storage, "an audit entry has an unknown outcome")
        })?,
    })
}

fn verify_chain(
    conn: &Connection,
    keys: &Keys,
    head: Option<&AuditHead>,
) -> Result<AuditVerification> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, principal, action, resource, outcome, mac FROM shopkeep_audit ORDER BY seq",
    ).map_err(crate::error::sqlite)?;
    let mut rows = stmt.query([]).map_err(crate::error::sqlite)?;
    let mut previous: Mac256 = [0; 32];
    let mut expected: u64 = 1;
    let mut newest: Option<AuditHead> = None;
    let broken = |seq, problem| Ok(AuditVerification::Broken { seq, problem });
    while let Some(row) = rows.next().map_err(crate::error::sqlite)? {
        // A row that does not even parse (a forged outcome, a garbled time) is a broken MAC.
        let Ok(entry) = entry_from_row(row) else {
            return broken(expected, AuditProblem::MacMismatch);
        };
        if entry.seq != expected {
            return broken(expected, AuditProblem::Missing);
        }
        let stored: Vec<u8> = row.get(6).map_err(crate::error::sqlite)?;
        let mac = entry.mac(keys, &previous);
        if !crate::crypto::secret::constant_time_eq(&mac, &stored) {
            return broken(entry.seq, AuditProblem::MacMismatch);
        }
        previous = mac;
        newest = Some(AuditHead {
            seq: entry.seq,
            mac,
        });
        expected += 1;
    }
    if let Some(kept) = head {
        match &newest {
            Some(last) if last.seq >= kept.seq => {
                let at_kept: Option<Vec<u8>> = conn
                    .query_row(
                        "SELECT mac FROM shopkeep_audit WHERE seq = ?1",
                        [i64::try_from(kept.seq).unwrap_or(i64::MAX)],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(crate::error::sqlite)?;
                if at_kept.as_deref() != Some(kept.mac.as_slice()) {
                    return broken(kept.seq, AuditProblem::HeadMismatch);
                }
            }
            _ => return broken(expected, AuditProblem::Truncated),
        }
    }
    Ok(AuditVerification::Intact {
        entries: expected - 1,
        head: newest,
    })
}
