//! Not a public API: a log of every SQL statement the store's connections run, with the rows
//! each execution visited, for the query-plan test (`tests/query_plans.rs`). Compiled only with
//! the `query-log` feature; without it no connection carries a hook and nothing here exists.
#![doc(hidden)]
#![allow(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::{Connection, StatementStatus};

/// What the log knows of one statement text, over all its executions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Executions {
    /// How many times it ran.
    pub count: u64,
    /// The most full-scan steps (`SQLITE_STMTSTATUS_FULLSCAN_STEP`) one execution took.
    pub max_fullscan_steps: i64,
    /// The most virtual machine steps (`SQLITE_STMTSTATUS_VM_STEP`) one execution took.
    pub max_vm_steps: i64,
    /// The virtual machine steps of all executions together.
    pub total_vm_steps: i64,
}

/// `None` while not recording: connections opened before `start` still report, and are ignored.
static LOG: Mutex<Option<BTreeMap<String, Executions>>> = Mutex::new(None);

/// Whether [`start`] was called and [`stop`] not yet: checked before anything else, so that a
/// build with the feature on (`--all-features`) costs one atomic load per statement while no
/// test records, not an allocation and a global lock.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// Starts recording (and forgets anything recorded before).
pub fn start() {
    *LOG.lock().unwrap_or_else(PoisonError::into_inner) = Some(BTreeMap::new());
    RECORDING.store(true, Ordering::SeqCst);
}

/// Stops recording and returns every statement text seen since [`start`].
pub fn stop() -> BTreeMap<String, Executions> {
    RECORDING.store(false, Ordering::SeqCst);
    LOG.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .unwrap_or_default()
}

/// Hooks `conn` so that each statement it finishes is recorded while recording is on.
pub(crate) fn install(conn: &mut Connection) -> rusqlite::Result<()> {
    // The counters are cumulative over a cached statement's life: keep their values when an
    // execution starts and record the difference when it ends. One connection runs one
    // execution of a given text at a time, so the text identifies it.
    let mut running: HashMap<String, (i64, i64)> = HashMap::new();
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_STMT | TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(move |event: TraceEvent<'_>| match event {
            _ if !RECORDING.load(Ordering::Relaxed) => running.clear(),
            TraceEvent::Stmt(stmt, _) => {
                // Also sent at the start of each trigger program of a running statement.
                let at = counters(&stmt);
                running.entry(stmt.sql().into_owned()).or_insert(at);
            }
            TraceEvent::Profile(stmt, _) => {
                let (fullscan, vm) = counters(&stmt);
                let sql = stmt.sql().into_owned();
                let (fullscan0, vm0) = running.remove(&sql).unwrap_or((0, 0));
                let mut log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(log) = log.as_mut() {
                    let entry = log.entry(sql).or_default();
                    entry.count += 1;
                    entry.max_fullscan_steps = entry.max_fullscan_steps.max(fullscan - fullscan0);
                    entry.max_vm_steps = entry.max_vm_steps.max(vm - vm0);
                    entry.total_vm_steps += vm - vm0;
                }
            }
            _ => {}
        }),
    )
}

fn counters(stmt: &rusqlite::trace::StmtRef<'_>) -> (i64, i64) {
    (
        i64::from(stmt.get_status(StatementStatus::FullscanStep)),
        i64::from(stmt.get_status(StatementStatus::VmStep)),
    )
}
