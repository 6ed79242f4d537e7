//! Opening SQLite connections with the settings every shopkeep connection must have.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};

/// How hard a commit works to survive a power loss.
///
/// Both levels keep the database consistent through crashes of the process and of the machine;
/// they differ in whether the last transactions before a power loss survive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = FULL`: every commit is on stable storage before it returns. An order the
    /// customer was told about, or an invoice number that was sent, is never lost. The default.
    #[default]
    Full,
    /// `synchronous = NORMAL`: commits are synced to disk at WAL checkpoints only. Faster, and
    /// still never corrupts the file, but a power loss (not a process crash) may roll back the
    /// last transactions, so an invoice number already sent to a customer could be issued again
    /// to someone else. Choose it only where that is acceptable.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }

    /// The value `PRAGMA synchronous` reports for this level.
    pub(crate) fn synchronous_code(self) -> i64 {
        match self {
            Durability::Full => 2,
            Durability::Normal => 1,
        }
    }
}

/// Per-connection settings of a store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionSettings {
    pub(crate) durability: Durability,
    pub(crate) busy_timeout: Duration,
}

/// How many prepared statements each connection keeps compiled.
const STATEMENT_CACHE: usize = 128;
/// The WAL is checkpointed into the database file once it holds this many pages (1 MiB of
/// the 1 KiB pages of [`PAGE_SIZE`], 4 MiB of a file made with 4 KiB pages; SQLite's default
/// is 1000), so that a small volume never holds megabytes of pages that only a checkpoint
/// would move into the file. Counted in pages, the budget had to grow with the smaller
/// pages: at 256 pages a sale's 80 frames checkpointed every three sales, each checkpoint
/// an fsync of the database file and a copy of pages that the next sales change again.
pub(crate) const WAL_CHECKPOINT_PAGES: u32 = 1024;
/// After a checkpoint resets the WAL, its file is truncated to at most this many bytes (by
/// default SQLite keeps it at its largest size for good): one large transaction does not keep
/// its space on the disk.
pub(crate) const WAL_SIZE_LIMIT: u64 = 2 * 1024 * 1024;

/// Opens a connection to a database file, creating the file if it is missing.
pub(crate) fn open_file(path: &Path, settings: ConnectionSettings) -> Result<Connection> {
    if path.is_dir() {
        return Err(Error::new(
            ErrorKind::Storage,
            format!("{} is a directory, not a database file", path.display()),
        ));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    #[cfg_attr(not(feature = "query-log"), allow(unused_mut))]
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| {
        Error::new(
            ErrorKind::Storage,
            format!("cannot open the database file {}", path.display()),
        )
        .with_source(e)
    })?;
    // The first pragmas read the file header: a file that is not SQLite fails here.
    configure(&conn, settings).map_err(|e| match e.kind() {
        ErrorKind::NotADatabase => not_a_database_message(e),
        _ => e,
    })?;
    #[cfg(feature = "query-log")]
    crate::query_log::install(&mut conn).map_err(crate::error::sqlite)?;
    Ok(conn)
}

/// A SQLite error, with a clear message if it says the file is not a database or is corrupted.
pub(crate) fn not_a_database(err: rusqlite::Error) -> Error {
    let error = crate::error::sqlite(err);
    match error.kind() {
        ErrorKind::NotADatabase => not_a_database_message(error),
        _ => error,
    }
}

fn not_a_database_message(cause: Error) -> Error {
    Error::new(
        ErrorKind::NotADatabase,
        "the file is not a SQLite database, or it is corrupted",
    )
    .with_source(cause)
}

/// Opens a private in-memory database (for tests and examples).
pub(crate) fn open_memory(settings: ConnectionSettings) -> Result<Connection> {
    #[cfg_attr(not(feature = "query-log"), allow(unused_mut))]
    let mut conn = Connection::open_in_memory().map_err(crate::error::sqlite)?;
    configure(&conn, settings)?;
    #[cfg(feature = "query-log")]
    crate::query_log::install(&mut conn).map_err(crate::error::sqlite)?;
    Ok(conn)
}

/// Applies the settings that do not write to the file, so that they can be set before we know
/// whether the file is ours.
fn configure(conn: &Connection, settings: ConnectionSettings) -> Result<()> {
    conn.busy_timeout(settings.busy_timeout)
        .map_err(crate::error::sqlite)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Without the query planner stability guarantee SQLite may tie a plan to a bound value
    // (`col = ?` filters are costed by whether the value is 0 or 1), and a statement so tied
    // is recompiled after every `sqlite3_clear_bindings`, which rusqlite calls each time a
    // cached statement goes back to the cache: most cached statements were re-parsed on every
    // use (measured: 40 % of a checkout's instructions).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(crate::error::sqlite)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA trusted_schema = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES};
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};
         PRAGMA synchronous = {};",
        settings.durability.pragma()
    ))
    .map_err(crate::error::sqlite)?;
    Ok(())
}

/// Registers `shopkeep_now()`, the store's clock as RFC 3339 text, for the triggers that keep
/// invoices for their retention period: SQL's own `date('now')` reads the system clock, which
/// tests and simulations replace. Innocuous (no side effects, nothing secret), because with
/// `trusted_schema = OFF` SQLite lets triggers call only such functions. A connection without
/// it fails those triggers instead of passing them.
pub(crate) fn register_clock(conn: &Connection, clock: Arc<dyn Clock>) -> Result<()> {
    conn.create_scalar_function(
        "shopkeep_now",
        0,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS,
        move |_| Ok(clock.now().to_rfc3339()),
    )
    .map_err(crate::error::sqlite)?;
    Ok(())
}

/// The page size of a new database file. SQLite's default is 4 KiB; a write transaction
/// writes every page it changes to the WAL whole, and a sale's six transactions each change a
/// few rows in some fifty pages (the newest page of each table and index they append to), so
/// the bytes written per sale scale with the page size: 1 KiB pages write a third of what 4 KiB
/// pages do (docs/performance.md, "Bytes written"). Every row shopkeep writes often fits a
/// 1 KiB page; larger ones (an invoice's seller and terms) spill into an overflow page.
pub(crate) const PAGE_SIZE: u32 = 1024;

/// Gives a new, empty file [`PAGE_SIZE`] pages. Must run before the file is switched to WAL
/// (which writes its first page): a WAL file's page size never changes. Files created with
/// another page size keep it; nothing in shopkeep depends on it.
pub(crate) fn set_page_size(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))
        .map_err(crate::error::sqlite)
}

/// Switches the file to write-ahead logging (persistent in the file, so done once, by the writer).
///
/// SQLite does not call the busy handler for this switch: while another connection opening the
/// same fresh file holds a lock, `PRAGMA journal_mode = WAL` fails at once with "database is
/// locked". So the switch is retried here, every 10 ms, for as long as the busy timeout allows
/// any other wait.
pub(crate) fn enable_wal(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    let start = std::time::Instant::now();
    let mode: String = loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Ok(mode) => break mode,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && start.elapsed() < busy_timeout =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(crate::error::sqlite(e)),
        }
    };
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Storage,
            format!("the database could not switch to WAL mode (it stayed in {mode} mode)"),
        ))
    }
}

/// Makes a reader connection refuse writes, so that a bug cannot write outside the writer's lock.
pub(crate) fn make_read_only(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA query_only = ON;")
        .map_err(crate::error::sqlite)?;
    Ok(())
}
