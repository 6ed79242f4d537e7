//! Counting failed logins per email blind index, for customers and staff alike.

use std::time::Duration;

use super::audit::Outcome;
use crate::clock::Timestamp;
use crate::crypto::keys::Mac256;
use crate::error::{Error, Result};
use crate::sql::args;
use crate::store::{Store, Tx};

impl Store {
    /// Refuses an attempt while its email must wait, auditing the refusal.
    pub(crate) fn refuse_if_blocked(
        &self,
        blocked_until: Option<Timestamp>,
        who: &str,
        what: &str,
    ) -> Result<()> {
        let now = self.now();
        let Some(wait) = blocked_until.and_then(|until| until.duration_since(now)) else {
            return Ok(());
        };
        if wait.is_zero() {
            return Ok(());
        }
        self.write(|tx| tx.audit_event(who, "login_throttled", what, Outcome::Denied))?;
        Err(too_many_attempts(wait))
    }
}

fn too_many_attempts(wait: Duration) -> Error {
    // Rounded up, so that a client waiting exactly this long is not refused again.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Error::too_many_attempts(
        wait,
        format!("too many failed attempts: try again in {secs} s"),
    )
}

/// Until when the email of `index` must wait, if it has a wait on record.
pub(crate) fn blocked_until(tx: &Tx<'_>, index: &Mac256) -> Result<Option<Timestamp>> {
    Ok(tx
        .query_opt(
            "SELECT blocked_until FROM shopkeep_login_failures WHERE email_index = ?1",
            args![index.as_slice()],
            |r| r.get(0),
        )?
        .flatten())
}

/// Counts a failed attempt against the email of `index` and audits it as `event`; audits the
/// start of a wait as `login_delayed`.
pub(crate) fn record_failure(
    tx: &Tx<'_>,
    store: &Store,
    index: &Mac256,
    who: &str,
    what: &str,
    event: &str,
) -> Result<()> {
    let wait_started = count_attempt(tx, store, index)?;
    tx.audit_event(who, event, what, Outcome::Denied)?;
    if wait_started {
        tx.audit_event(who, "login_delayed", what, Outcome::Denied)?;
    }
    Ok(())
}

/// Counts an attempt against the key of `index` under the login throttle's rule, and answers
/// whether that attempt starts a wait. Failed logins count this way, and so does every lead
/// submission (per client key and per email: see `leads`).
pub(crate) fn count_attempt(tx: &Tx<'_>, store: &Store, index: &Mac256) -> Result<bool> {
    let throttle = store.login_throttle();
    let now = tx.now();
    // Failures older than the quiet period are forgotten, everyone's at once: the table holds
    // only recent failures, however many emails an attacker tries.
    tx.execute(
        "DELETE FROM shopkeep_login_failures WHERE last_failure_at < ?1",
        args![now.checked_sub(throttle.forget_period())?],
    )?;
    let previous: Option<u32> = tx.query_opt(
        "SELECT failures FROM shopkeep_login_failures WHERE email_index = ?1",
        args![index.as_slice()],
        |r| r.get(0),
    )?;
    let failures = previous.unwrap_or(0).saturating_add(1);
    let delay = throttle.delay_after(failures);
    let blocked_until = if delay.is_zero() {
        None
    } else {
        Some(now.checked_add(delay)?)
    };
    tx.execute(
        "INSERT INTO shopkeep_login_failures (email_index, failures, last_failure_at, blocked_until)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (email_index) DO UPDATE
         SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
             blocked_until = excluded.blocked_until",
        args![index.as_slice(), failures, now, blocked_until],
    )?;
    Ok(blocked_until.is_some())
}

/// Forgets the failures of the email of `index` (after a login or a password reset).
pub(crate) fn clear_failures(tx: &Tx<'_>, index: &Mac256) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_login_failures WHERE email_index = ?1",
        args![index.as_slice()],
    )?;
    Ok(())
}
