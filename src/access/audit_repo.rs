//! The audit log's SQL: appending entries and reading the chain back.

use super::action::Action;
use super::audit::{AuditEntry, AuditHead, AuditProblem, AuditVerification, Outcome};
use super::principal::Principal;
use super::resource::Resource;
use crate::crypto::keys::{Keys, Mac256};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::{Row, args};
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
    let previous: Option<(i64, Vec<u8>)> = tx.query_opt(
        "SELECT seq, mac FROM shopkeep_audit ORDER BY seq DESC LIMIT 1",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
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
    tx.execute(
        "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            (previous_seq + 1),
            entry.at,
            entry.principal,
            entry.action,
            entry.resource,
            outcome.as_str(),
            mac.as_slice()
        ],
    )?;
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
            tx.query_map(
                "SELECT seq, at, principal, action, resource, outcome FROM shopkeep_audit
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                args![after, limit],
                entry_from_row,
            )
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
                args![],
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

fn entry_from_row(r: &Row<'_>) -> Result<AuditEntry> {
    let seq: i64 = r.get(0)?;
    let outcome: String = r.get(5)?;
    Ok(AuditEntry {
        seq: u64::try_from(seq).unwrap_or(0),
        at: r.get(1)?,
        principal: r.get(2)?,
        action: r.get(3)?,
        resource: r.get(4)?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| {
            Error::new(ErrorKind::Storage, "an audit entry has an unknown outcome")
        })?,
    })
}

pub(crate) fn verify_chain(
    tx: &Tx<'_>,
    keys: &Keys,
    head: Option<&AuditHead>,
) -> Result<AuditVerification> {
    let mut previous: Mac256 = [0; 32];
    let mut expected: u64 = 1;
    let mut newest: Option<AuditHead> = None;
    // The first broken link. Finding it ends the scan: `stop` is returned to end it, and is
    // told apart from a real error by `first_broken` being set.
    let mut first_broken: Option<(u64, AuditProblem)> = None;
    let stop = || Error::new(ErrorKind::Storage, "the audit chain is broken");
    let scanned = tx.query_each(
        "SELECT seq, at, principal, action, resource, outcome, mac FROM shopkeep_audit ORDER BY seq",
        args![],
        |row| {
            // A row that does not even parse (a forged outcome, a garbled time) is a broken MAC.
            let Ok(entry) = entry_from_row(row) else {
                first_broken = Some((expected, AuditProblem::MacMismatch));
                return Err(stop());
            };
            if entry.seq != expected {
                first_broken = Some((expected, AuditProblem::Missing));
                return Err(stop());
            }
            let stored: Vec<u8> = row.get(6)?;
            let mac = entry.mac(keys, &previous);
            if !crate::crypto::secret::constant_time_eq(&mac, &stored) {
                first_broken = Some((entry.seq, AuditProblem::MacMismatch));
                return Err(stop());
            }
            previous = mac;
            newest = Some(AuditHead {
                seq: entry.seq,
                mac,
            });
            expected += 1;
            Ok(())
        },
    );
    let broken = |seq, problem| Ok(AuditVerification::Broken { seq, problem });
    if let Some((seq, problem)) = first_broken {
        return broken(seq, problem);
    }
    scanned?;
    if let Some(kept) = head {
        match &newest {
            Some(last) if last.seq >= kept.seq => {
                let at_kept: Option<Vec<u8>> = tx.query_opt(
                    "SELECT mac FROM shopkeep_audit WHERE seq = ?1",
                    args![i64::try_from(kept.seq).unwrap_or(i64::MAX)],
                    |r| r.get(0),
                )?;
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
