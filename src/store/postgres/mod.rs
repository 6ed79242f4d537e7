//! The PostgreSQL engine (feature `postgres`): a pool of connections to one server, each with
//! its own statement cache, and the transactions the repositories run in.
//!
//! What differs from SQLite, and why (the whole design is in `docs/backends.md`):
//!
//! - **Writes take one lock first.** Every write transaction begins `SERIALIZABLE` and takes
//!   `LOCK TABLE shopkeep_audit IN SHARE ROW EXCLUSIVE MODE` before its first query (so before
//!   its snapshot): writers from every process and server run one at a time, as SQLite's one
//!   writer does, and every read-modify-write a repository makes (the audit chain's head, the
//!   invoice counter, an idempotency key) sees the last committed write. Readers are not
//!   blocked. A serialization failure or deadlock is still retried (`MAX_ATTEMPTS`), so that a
//!   future write without the lock stays correct.
//! - **Reads** run `REPEATABLE READ READ ONLY`: one snapshot per operation, as on SQLite.
//! - **The store's clock** reaches the triggers as `SET LOCAL shopkeep.now`.
//! - **TLS** (`tls`), when the options give it: rustls, the server's certificate and name
//!   verified, `sslmode=require` so that a refusal never falls back to plain text.
//! - **Placeholders** are rewritten from `?1` to `$1` once per statement text, and the prepared
//!   statement is cached on its connection.

mod import;
mod tls;
mod values;

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use tls::PostgresTls;
pub(crate) use values::Raw;
use values::{PgParam, error, is_disconnected, is_retryable, placeholders};

use super::migrate::{MIGRATIONS, Migration};
use super::{Store, Tx};
use crate::clock::Timestamp;
use crate::crypto::KeyRing;
use crate::crypto::keys::Keys;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::Param;

/// How many times a write that the server aborted to stay serializable is run in all.
const MAX_ATTEMPTS: u32 = 5;

/// The table whose lock every write takes first (see the module documentation).
const WRITE_LOCK: &str = "LOCK TABLE shopkeep_audit IN SHARE ROW EXCLUSIVE MODE";

/// The advisory lock key migrations hold, so that servers starting at once migrate one at a
/// time ("shopkeep" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_686f_706b_6565;

/// The pool of a PostgreSQL store.
pub(crate) struct Engine {
    pool: r2d2::Pool<Manager>,
}

impl Engine {
    /// The number of connections the pool keeps.
    pub(crate) fn size(&self) -> u32 {
        self.pool.max_size()
    }
}

/// One pooled connection: the client and the statements prepared on it.
pub(crate) struct PgConn {
    session: RefCell<Session>,
}

struct Session {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// Opens connections for the pool, each set up with the store's options.
struct Manager {
    config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
    /// Statements run once on every new connection (`SET lock_timeout ...`).
    setup: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<PgConn, ConnectError> {
        let mut client = match &self.tls {
            None => self.config.connect(NoTls),
            Some(tls) => self.config.connect(tls.clone()),
        }
        .map_err(ConnectError::from)?;
        client.batch_execute(&self.setup)?;
        Ok(PgConn {
            session: RefCell::new(Session {
                client,
                statements: HashMap::new(),
            }),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), ConnectError> {
        Ok(conn.session.get_mut().client.simple_query("").map(drop)?)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.session.get_mut().client.is_closed()
    }
}

/// Why a connection could not be made, as the text [`error`] gives it: the pool reports its
/// last connection error by text alone, and the client's own ("db error") says nothing a host
/// can act on.
#[derive(Debug)]
pub(crate) struct ConnectError(String);

impl From<postgres::Error> for ConnectError {
    fn from(err: postgres::Error) -> Self {
        ConnectError(error(err).message().to_owned())
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl PgConn {
    /// Runs statements without parameters or results (`BEGIN ...`, a migration file).
    fn batch(&self, sql: &str) -> Result<()> {
        self.session
            .borrow_mut()
            .client
            .batch_execute(sql)
            .map_err(error)
    }

    /// Runs a statement and returns how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        let mut session = self.session.borrow_mut();
        let statement = session.prepared(sql)?;
        let values = bind(params);
        let changed = session
            .client
            .execute(&statement, &refs(&values))
            .map_err(error)?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Runs a query and returns all of its rows. The session is not borrowed while the caller
    /// reads them, so reading may run further statements.
    pub(crate) fn query(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        let mut session = self.session.borrow_mut();
        let statement = session.prepared(sql)?;
        let values = bind(params);
        session
            .client
            .query(&statement, &refs(&values))
            .map_err(error)
    }
}

impl Session {
    /// The prepared statement of `sql`, from the cache or prepared now.
    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&placeholders(sql)).map_err(error)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

fn bind<'p>(params: &'p [&'p dyn Param]) -> Vec<PgParam<'p>> {
    params.iter().map(|param| PgParam(param.value())).collect()
}

fn refs<'v>(values: &'v [PgParam<'_>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|value| value as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// What a transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// Rolls back the connection's open transaction if the operation did not end it (a panic in a
/// host's policy or clock), so that the connection never goes back to the pool inside one.
struct RollbackOnDrop<'c> {
    conn: &'c PgConn,
    open: bool,
}

impl Drop for RollbackOnDrop<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// The statements that open a transaction of `access` at `now`.
fn begin_sql(access: Access, now: Timestamp) -> String {
    // The time is RFC 3339 text of our own making (digits, '-', ':', 'T', '.', 'Z'): safe to
    // write into the statement, which saves a round trip per operation.
    match access {
        Access::Read => format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL shopkeep.now = '{}'",
            now.to_rfc3339()
        ),
        Access::Write => format!(
            "BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL shopkeep.now = '{}'; {WRITE_LOCK}",
            now.to_rfc3339()
        ),
    }
}

/// Runs `f` in the transaction open on `conn`: committed if it returns `Ok`, rolled back
/// otherwise.
fn run<T>(
    store: &Store,
    conn: &PgConn,
    now: Timestamp,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    let mut guard = RollbackOnDrop { conn, open: true };
    let outcome = f(&Tx::postgres(store, conn, now));
    let finish = match &outcome {
        Ok(_) => conn.batch("COMMIT"),
        Err(_) => conn.batch("ROLLBACK"),
    };
    guard.open = false;
    finish?;
    outcome
}

impl Engine {
    /// Runs `f` in a read transaction on a pooled connection.
    pub(crate) fn read<T>(
        &self,
        store: &Store,
        now: Timestamp,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let conn = self.begin(Access::Read, now)?;
        run(store, &conn, now, f)
    }

    /// Runs `f` in a write transaction, again from the start (at most [`MAX_ATTEMPTS`] times in
    /// all) when the server aborts it to keep transactions serializable.
    pub(crate) fn write<T>(
        &self,
        store: &Store,
        now: Timestamp,
        f: impl Fn(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            let conn = self.begin(Access::Write, now)?;
            match run(store, &conn, now, &f) {
                Err(err) if attempt < MAX_ATTEMPTS && is_retryable(&err) => {
                    drop(conn);
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// `VACUUM`s the data keys' table, so that the rows of destroyed keys are gone from its
    /// pages rather than merely dead (crypto-shredding's counterpart of SQLite's WAL scrub;
    /// the server's WAL and replicas are the operator's to bound, see `docs/security.md`).
    pub(crate) fn vacuum_data_keys(&self) -> Result<()> {
        self.connection()?.batch("VACUUM shopkeep_data_keys")
    }

    /// A pooled connection with a transaction of `access` open on it.
    ///
    /// The pool lends connections without testing them first (that would cost a round trip
    /// per transaction); a connection the server closed since its last use (a restart, an idle
    /// timeout) fails here, before anything ran, and is discarded for the next one.
    fn begin(&self, access: Access, now: Timestamp) -> Result<r2d2::PooledConnection<Manager>> {
        let begin = begin_sql(access, now);
        let mut spare = self.pool.max_size();
        loop {
            let conn = self.connection()?;
            let begun = {
                let mut guard = RollbackOnDrop {
                    conn: &conn,
                    open: true,
                };
                let begun = conn.batch(&begin);
                guard.open = begun.is_err();
                begun
            };
            match begun {
                Ok(()) => return Ok(conn),
                Err(err)
                    if spare > 0
                        && (is_disconnected(&err) || conn.session.borrow().client.is_closed()) =>
                {
                    spare -= 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|err| {
            Error::new(
                ErrorKind::Storage,
                format!("no PostgreSQL connection: {err}"),
            )
        })
    }
}

/// A random wait of up to 5 ms × 2^attempt, so that transactions that collided do not collide
/// again in step.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 5_u64 << attempt.min(6);
    let random = getrandom::u64().unwrap_or(ceiling / 2);
    Duration::from_micros((random % (ceiling * 1000)).max(500))
}

/// Connects the store of `options` to the PostgreSQL server `config` names (a libpq connection
/// string, `host=... dbname=...`, or a `postgresql://` URL), migrating its schema and opening or
/// creating its root key.
pub(super) fn connect(
    options: &super::StoreOptions,
    config: &str,
    master: &KeyRing,
) -> Result<(Engine, Keys)> {
    let mut config = postgres::Config::from_str(config).map_err(|err| {
        Error::validation(
            "config",
            format!("not a PostgreSQL connection string: {err}"),
        )
    })?;
    let tls = tls_connector(&mut config, options.postgres_tls.as_ref())?;
    let setup = format!(
        "SET lock_timeout = {}; SET synchronous_commit = {}; SET client_min_messages = warning",
        options.busy_timeout.as_millis(),
        match options.durability {
            super::Durability::Full => "on",
            super::Durability::Normal => "off",
        },
    );
    let size = u32::try_from(options.readers).unwrap_or(u32::MAX);
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .test_on_check_out(false)
        .connection_timeout(options.pool_timeout.max(Duration::from_millis(1)))
        .build(Manager { config, tls, setup })
        .map_err(|err| {
            Error::new(
                ErrorKind::Storage,
                format!("cannot connect to PostgreSQL: {err}"),
            )
        })?;
    let engine = Engine { pool };
    let conn = engine.connection()?;
    migrate(&conn, MIGRATIONS, options.clock.now())?;
    let keys = root_key(&conn, master)?;
    drop(conn);
    Ok((engine, keys))
}

/// The TLS connector for `tls`, with the connection string's `sslmode` made to agree: with TLS
/// settings every connection must be TLS (`require`: never the plain fallback of libpq's
/// default `prefer`); without them, a string that asks for TLS is refused rather than
/// connected in plain text.
fn tls_connector(
    config: &mut postgres::Config,
    tls: Option<&PostgresTls>,
) -> Result<Option<MakeRustlsConnect>> {
    match (tls, config.get_ssl_mode()) {
        (None, SslMode::Require) => Err(Error::validation(
            "config",
            "sslmode=require needs TLS settings: StoreOptions::postgres_tls",
        )),
        (None, _) => Ok(None),
        (Some(_), SslMode::Disable) => Err(Error::validation(
            "config",
            "sslmode=disable contradicts the TLS settings of StoreOptions::postgres_tls",
        )),
        (Some(tls), _) => {
            config.ssl_mode(SslMode::Require);
            Ok(Some(MakeRustlsConnect::new(tls.client_config()?)))
        }
    }
}

/// Applies every migration the database lacks, each in its own transaction under an advisory
/// lock (so that servers starting at once take turns), re-reading the version inside it.
fn migrate(conn: &PgConn, migrations: &[Migration], now: Timestamp) -> Result<()> {
    check_schema(conn, migrations)?;
    for migration in migrations {
        let mut guard = RollbackOnDrop { conn, open: true };
        conn.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS shopkeep_schema (
                 version    bigint PRIMARY KEY NOT NULL,
                 name       text NOT NULL,
                 applied_at text NOT NULL
             );"
        ))?;
        if applied_version(conn)? < migration.version {
            conn.batch(migration.postgres)
                .map_err(|err| super::migrate::failed(migration).with_source(err))?;
            conn.execute(
                "INSERT INTO shopkeep_schema (version, name, applied_at) VALUES (?1, ?2, ?3)",
                crate::sql::args![migration.version, migration.name, now],
            )?;
        }
        guard.open = false;
        conn.batch("COMMIT")?;
    }
    Ok(())
}

/// The highest applied version, 0 for a database without shopkeep's tables.
pub(crate) fn applied_version(conn: &PgConn) -> Result<u32> {
    let rows = conn.query("SELECT max(version) FROM shopkeep_schema", &[])?;
    let version = match rows.first() {
        Some(row) => crate::sql::Row::postgres(row).get::<Option<i64>>(0)?,
        None => None,
    };
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// Refuses a database (its current schema) that belongs to another application or to a newer
/// shopkeep, before anything is written.
fn check_schema(conn: &PgConn, migrations: &[Migration]) -> Result<()> {
    let count = |sql: &str| -> Result<i64> {
        let rows = conn.query(sql, &[])?;
        match rows.first() {
            Some(row) => crate::sql::Row::postgres(row).get(0),
            None => Ok(0),
        }
    };
    let tables = count(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )?;
    if tables == 0 {
        return Ok(());
    }
    let ours = count(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name = 'shopkeep_schema'",
    )?;
    if ours == 0 {
        return Err(Error::new(
            ErrorKind::NotADatabase,
            "the schema holds tables of another application (it has no shopkeep schema table)",
        ));
    }
    super::migrate::refuse_newer(applied_version(conn)?, migrations)?;
    let rows = conn.query(
        "SELECT version, name FROM shopkeep_schema ORDER BY version",
        &[],
    )?;
    for row in &rows {
        let row = crate::sql::Row::postgres(row);
        let (version, name): (i64, String) = (row.get(0)?, row.get(1)?);
        let version = u32::try_from(version).unwrap_or(u32::MAX);
        super::migrate::check_name(migrations, version, &name)?;
    }
    Ok(())
}

/// Unwraps the store's root key, creating it first if the store is new. Two servers creating
/// one store at once agree: the first insert wins, and both unwrap what it wrote.
fn root_key(conn: &PgConn, master: &KeyRing) -> Result<Keys> {
    use super::keys::{INSERT_ROOT, READ_ROOT, ROOT_KEY};
    super::keys::root_or_create(
        master,
        || {
            let rows = conn.query(READ_ROOT, crate::sql::args![ROOT_KEY])?;
            rows.first()
                .map(|row| crate::sql::Row::postgres(row).get(0))
                .transpose()
        },
        |wrapped| {
            conn.execute(INSERT_ROOT, crate::sql::args![ROOT_KEY, wrapped])
                .map(drop)
        },
    )
}
