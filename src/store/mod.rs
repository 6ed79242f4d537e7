//! The [`Store`]: one SQLite file, opened, migrated, pooled and backed up; or, with the
//! `postgres` feature, the same store in a PostgreSQL schema ([`StoreOptions::connect_postgres`],
//! and [`StoreOptions::import_sqlite`] to move a shop's file there; see the
//! [backends guide](crate::guide::backends)).
//!
//! A store holds one writer connection and a small pool of readers. Every write runs in a
//! `BEGIN IMMEDIATE` transaction through one helper, so that the business change, its audit
//! entry and its outbox event commit together or not at all, and no repository can forget to
//! take the write lock up front (a deferred transaction that upgrades to a writer later is what
//! turns concurrent SQLite writers into `SQLITE_BUSY` errors). Readers run in WAL mode beside
//! the writer without blocking it. The [architecture guide](crate::guide::architecture) has the
//! whole model.
//!
//! [`Store::open`] (or [`Store::options`] for a [`StoreOptions`] with a clock, a policy,
//! [`Durability`] and pool sizes) creates or migrates the file; the store's methods hand out
//! the repositories of every domain for an acting principal (`store.orders(&principal)`), and
//! run the maintenance: [`Store::backup_to`], [`Store::rotate_master_key`], [`Store::maintain`],
//! [`Store::connection_report`].
//!
//! ```
//! use shopkeep::store::Durability;
//! use shopkeep::{KeyRing, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let master = KeyRing::generate()?; // kept by the host, outside the database
//! let store = Store::options()
//!     .durability(Durability::Full)
//!     .open(dir.path().join("shop.db"), master)?;
//! store.backup_to(dir.path().join("backup.db"))?; // consistent, while writers carry on
//! store.verify_integrity()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auth_macs;
mod backup;
mod connection;
mod group_commit;
mod keys;
mod migrate;
mod pool;
#[cfg(feature = "postgres")]
mod postgres;
mod report;
mod scrub;
mod statement;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

pub use connection::Durability;
pub use report::{ConnectionReport, ConnectionRole};
pub use scrub::WalScrub;

#[cfg(feature = "postgres")]
pub use postgres::PostgresTls;

#[cfg(feature = "postgres")]
pub(crate) use postgres::Raw as PostgresValue;

use crate::access::LoginThrottle;
use crate::access::audit::Outcome;
use crate::access::audit_repo;
use crate::access::{
    Action, Decision, DefaultPolicy, Policy, Principal, Request, Resource, SessionSettings,
};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::crypto::KeyRing;
use crate::crypto::data_keys::{CACHE_CAPACITY, DataKeyCache};
use crate::crypto::keys::Keys;
use crate::crypto::{PasswordHasher, PasswordParams, PasswordPolicy};
use crate::error::{Denial, ErrorKind};
use crate::error::{Error, Result};
use connection::ConnectionSettings;
use group_commit::GroupCommit;
use migrate::{FileState, MIGRATIONS};
use pool::ReaderPool;
use scrub::ScrubState;

/// The default number of reader connections of a file store.
const DEFAULT_READERS: usize = 4;
/// The most reader connections a store may have.
const MAX_READERS: usize = 64;
/// How long a connection waits for another process's lock before giving up.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a read waits for a pooled reader connection before giving up.
const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest busy or pool timeout: beyond it a stuck lock is a fault to report, not to wait out
/// (and SQLite counts its timeout in milliseconds in a C `int`).
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A shop's database: the entry point of shopkeep.
///
/// `Store` is cheap to clone (an `Arc`), `Send` and `Sync`: open it once at start-up and hand
/// clones to every thread or request handler. Every call blocks on SQLite; an async host runs
/// calls through its runtime's blocking pool (see `docs/architecture.md`).
///
/// ```
/// use shopkeep::{KeyRing, Store};
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(dir.path().join("shop.db"), KeyRing::from_master_key([7; 32]))?;
/// assert!(store.schema_version()? >= 1);
/// store.verify_integrity()?;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// The database engine and its connections.
    engine: Engine,
    clock: Arc<dyn Clock>,
    /// The working keys, derived from the root key. The master key is not kept.
    keys: Keys,
    data_keys: DataKeyCache,
    /// Caches the domains keep per store, one of each type (the store never looks inside).
    caches: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
    policy: Arc<dyn Policy>,
    passwords: PasswordHasher,
    password_policy: PasswordPolicy,
    sessions: SessionSettings,
    login_throttle: LoginThrottle,
}

/// The engine a store runs on. Dispatch is a `match`, never a trait object: without the
/// `postgres` feature this enum has one variant, which the compiler sees through.
// One per store, inside its `Arc`: boxing the larger variant would save nothing and cost every
// call an indirection.
#[allow(clippy::large_enum_variant)]
enum Engine {
    Sqlite(Sqlite),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Engine),
}

/// A SQLite store: one file (or memory), one writer connection, a pool of readers.
struct Sqlite {
    /// The writer connection, behind the group commit that batches concurrent writes.
    writer: GroupCommit,
    /// `None` for an in-memory store, whose one connection serves reads and writes alike.
    readers: Option<ReaderPool>,
    path: Option<PathBuf>,
    settings: ConnectionSettings,
    /// Whether destroyed keys may still have old copies in the WAL (see `scrub.rs`).
    scrub: ScrubState,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Store");
        match &self.inner.engine {
            Engine::Sqlite(sqlite) => debug
                .field("path", &sqlite.path)
                .field(
                    "readers",
                    &sqlite.readers.as_ref().map_or(0, ReaderPool::size),
                )
                .field("durability", &sqlite.settings.durability),
            #[cfg(feature = "postgres")]
            Engine::Postgres(postgres) => debug
                .field("engine", &"postgres")
                .field("connections", &postgres.size()),
        };
        debug
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

/// How to open a [`Store`]: durability, pool size, lock timeout and clock.
///
/// ```
/// use std::time::Duration;
/// use shopkeep::{KeyRing, Store};
/// use shopkeep::clock::{Clock, ManualClock, Timestamp};
/// use shopkeep::store::Durability;
///
/// let clock = ManualClock::new(Timestamp::parse_rfc3339("2026-01-01T00:00:00Z")?);
/// let dir = tempfile::tempdir()?;
/// let store = Store::options()
///     .durability(Durability::Normal)
///     .readers(2)
///     .busy_timeout(Duration::from_secs(10))
///     .clock(clock.clone())
///     .open(dir.path().join("shop.db"), KeyRing::from_master_key([7; 32]))?;
/// assert_eq!(store.now(), clock.now());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct StoreOptions {
    durability: Durability,
    readers: usize,
    busy_timeout: Duration,
    pool_timeout: Duration,
    clock: Arc<dyn Clock>,
    policy: Arc<dyn Policy>,
    password_params: PasswordParams,
    password_policy: PasswordPolicy,
    sessions: SessionSettings,
    login_throttle: LoginThrottle,
    #[cfg(feature = "postgres")]
    postgres_tls: Option<PostgresTls>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::default(),
            readers: DEFAULT_READERS,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            pool_timeout: DEFAULT_POOL_TIMEOUT,
            clock: Arc::new(SystemClock),
            policy: Arc::new(DefaultPolicy::new()),
            password_params: PasswordParams::default(),
            password_policy: PasswordPolicy::default(),
            sessions: SessionSettings::default(),
            login_throttle: LoginThrottle::default(),
            #[cfg(feature = "postgres")]
            postgres_tls: None,
        }
    }
}

impl StoreOptions {
    /// The defaults: [`Durability::Full`], 4 readers, a 5 s busy timeout, a 30 s pool timeout,
    /// the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// How hard each commit works to survive a power loss. See [`Durability`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The number of reader connections (1 to 64) of a file store. Reads beyond this many at
    /// once wait for a reader to come back, up to the [pool timeout](Self::pool_timeout).
    /// Checked by [`open`](Self::open).
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }

    /// How long a write waits for another process's lock before it fails with a `Storage`
    /// error: 0 (fail at once) to 1 hour, checked by [`open`](Self::open). Writers of the same
    /// `Store` queue on an in-process lock and never see it. SQLite counts it in whole
    /// milliseconds.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long a read waits for one of the store's reader connections when all are in use
    /// before it fails with a `Storage` error: 0 (fail at once) to 1 hour, checked by
    /// [`open`](Self::open). Default 30 s. A read never waits forever, so a host whose readers
    /// are all stuck (a slow export, a hung handler) gets errors it can see instead of a hang.
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.pool_timeout = timeout;
        self
    }

    /// The clock every "now" of the store is read from.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The access policy every repository call is checked against. Default: [`DefaultPolicy`].
    pub fn policy(mut self, policy: impl Policy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// The argon2id parameters new password hashes are made with. Default: OWASP's
    /// (m = 19 MiB, t = 2, p = 1). Older hashes are upgraded at the next successful login.
    pub fn password_params(mut self, params: PasswordParams) -> Self {
        self.password_params = params;
        self
    }

    /// The rules new passwords must meet. Default: [`PasswordPolicy::new`].
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.password_policy = policy;
        self
    }

    /// How long login sessions last. Default: [`SessionSettings::default`].
    pub fn sessions(mut self, sessions: SessionSettings) -> Self {
        self.sessions = sessions;
        self
    }

    /// How failed logins (customers and staff) are throttled. Default: [`LoginThrottle::default`].
    pub fn login_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.login_throttle = throttle;
        self
    }

    /// Encrypts every connection [`connect_postgres`](Self::connect_postgres) makes with TLS and
    /// verifies the server's certificate and name against `tls`'s roots (feature `postgres`).
    /// Default: plain connections, for a server on a Unix socket or a private network.
    ///
    /// ```no_run
    /// use shopkeep::store::PostgresTls;
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let ca = std::fs::read("/etc/shop/db-ca.pem")?; // the authority that signed the server's certificate
    /// let store = Store::options()
    ///     .postgres_tls(PostgresTls::from_root_pem(&ca)?)
    ///     .connect_postgres("host=db1.internal user=shop dbname=shop", KeyRing::from_master_key([7; 32]))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres_tls(mut self, tls: PostgresTls) -> Self {
        self.postgres_tls = Some(tls);
        self
    }

    /// Opens the database file at `path`, creating it if it does not exist and migrating its
    /// schema to this version of shopkeep.
    ///
    /// Nothing is written to an existing file until it has been recognised as a shopkeep
    /// database of this or an older version and `master` has been checked against it. The
    /// master key is used to unwrap the store's root key and then dropped (and wiped).
    ///
    /// # Errors
    ///
    /// - `Validation` (field `readers`) for a pool size outside 1 to 64, (field `busy_timeout`
    ///   or `pool_timeout`) for a timeout over 1 hour; nothing is created then;
    /// - `NotADatabase` if the file is not SQLite, is corrupted, or belongs to another application;
    /// - `SchemaTooNew` if a newer shopkeep wrote it;
    /// - `Crypto` if `master` is not the store's master key;
    /// - `Storage` if the file cannot be opened or written (a missing directory, a read-only path).
    pub fn open(self, path: impl AsRef<Path>, master: KeyRing) -> Result<Store> {
        let store = self.open_with(path.as_ref(), &master);
        drop(master);
        store
    }

    /// [`open`](Self::open) with a borrowed master key (the import opens the source and the
    /// target with one key).
    fn open_with(self, path: &Path, master: &KeyRing) -> Result<Store> {
        self.validate()?;
        let settings = self.settings();
        let mut writer = connection::open_file(path, settings)?;
        connection::register_clock(&writer, Arc::clone(&self.clock))?;
        let state = migrate::inspect(&writer, MIGRATIONS)?;
        let unlocked = match state {
            FileState::Ours(_) => keys::unlock(&writer, master)?,
            FileState::Empty => None,
        };
        if state == FileState::Empty {
            connection::set_page_size(&writer)?;
        }
        connection::enable_wal(&writer, settings.busy_timeout)?;
        if state != FileState::Ours(latest_version()) {
            migrate::migrate(&mut writer, MIGRATIONS, self.clock.now(), unlocked.as_ref())?;
        }
        let keys = match unlocked {
            Some(keys) => keys,
            None => keys::create_root(&mut writer, master)?,
        };
        // A scrub left pending by an earlier run is finished at the next opportunity.
        let scrub = ScrubState::new(scrub::has_pending(&writer)?);
        let readers = (0..self.readers)
            .map(|_| {
                let reader = connection::open_file(path, settings)?;
                connection::register_clock(&reader, Arc::clone(&self.clock))?;
                connection::make_read_only(&reader)?;
                Ok(reader)
            })
            .collect::<Result<Vec<_>>>()?;
        let pool = ReaderPool::new(readers, self.pool_timeout);
        Ok(self.build(writer, Some(pool), Some(path.to_path_buf()), keys, scrub))
    }

    /// Opens a fresh, private in-memory store, for tests and examples.
    ///
    /// It is one database on one connection (in-memory SQLite has no WAL, and shared-cache mode
    /// fails with locking errors that no timeout retries), so reads and writes take turns.
    ///
    /// # Errors
    ///
    /// `Validation` for options out of range, as [`open`](Self::open); `Storage` if SQLite
    /// cannot allocate the database; `Crypto` if the operating system's random number generator
    /// fails.
    pub fn open_in_memory(self, master: KeyRing) -> Result<Store> {
        self.validate()?;
        let settings = self.settings();
        let mut conn = connection::open_memory(settings)?;
        connection::register_clock(&conn, Arc::clone(&self.clock))?;
        migrate::migrate(&mut conn, MIGRATIONS, self.clock.now(), None)?;
        let keys = keys::create_root(&mut conn, &master)?;
        Ok(self.build(conn, None, None, keys, ScrubState::default()))
    }

    /// Connects to the PostgreSQL database `config` names instead of opening a SQLite file
    /// (feature `postgres`): the same store, the same repositories, the same guarantees, for a
    /// shop that runs several application servers (see `docs/backends.md`).
    ///
    /// `config` is a libpq connection string (`host=db1 user=shop dbname=shop`) or a
    /// `postgresql://` URL. The store keeps its tables in the connection's current schema (the
    /// first of its `search_path`), creates them on first use, and migrates them as
    /// [`open`](Self::open) migrates a file, so several servers may connect at once. The
    /// options keep their meaning: [`readers`](Self::readers) is the size of the connection
    /// pool, [`busy_timeout`](Self::busy_timeout) is PostgreSQL's `lock_timeout`,
    /// [`Durability::Full`] is `synchronous_commit = on` and [`Durability::Normal`] is `off`.
    /// Connections are plain unless [`postgres_tls`](Self::postgres_tls) gives TLS settings: then
    /// every connection is TLS and the server's certificate and name are verified.
    ///
    /// ```no_run
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let master = KeyRing::from_master_key([7; 32]); // kept by the host, as for a file
    /// let store = Store::options()
    ///     .readers(16)
    ///     .connect_postgres("host=/run/postgresql user=shop dbname=shop", master)?;
    /// # Ok::<(), shopkeep::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// - `Validation` for options out of range, as [`open`](Self::open), and (field `config`)
    ///   for a connection string that does not parse, or whose `sslmode` contradicts the TLS
    ///   settings (`require` without them, `disable` with them);
    /// - `Storage` if the server cannot be reached within the pool timeout, refuses the login,
    ///   or (with TLS settings) refuses TLS or presents a certificate the roots do not vouch
    ///   for the host's name;
    /// - `NotADatabase` if the schema holds another application's tables; `SchemaTooNew` if a
    ///   newer shopkeep migrated it;
    /// - `Crypto` if `master` is not the store's master key.
    #[cfg(feature = "postgres")]
    pub fn connect_postgres(self, config: &str, master: KeyRing) -> Result<Store> {
        self.validate()?;
        let (engine, keys) = postgres::connect(&self, config, &master)?;
        drop(master);
        Ok(self.build_with(Engine::Postgres(engine), keys))
    }

    fn build(
        self,
        writer: Connection,
        readers: Option<ReaderPool>,
        path: Option<PathBuf>,
        keys: Keys,
        scrub: ScrubState,
    ) -> Store {
        let engine = Engine::Sqlite(Sqlite {
            writer: GroupCommit::new(writer),
            readers,
            path,
            settings: self.settings(),
            scrub,
        });
        self.build_with(engine, keys)
    }

    fn build_with(self, engine: Engine, keys: Keys) -> Store {
        Store {
            inner: Arc::new(Inner {
                engine,
                clock: self.clock,
                keys,
                data_keys: DataKeyCache::new(CACHE_CAPACITY),
                caches: Mutex::new(Vec::new()),
                policy: self.policy,
                passwords: PasswordHasher::new(self.password_params),
                password_policy: self.password_policy,
                sessions: self.sessions,
                login_throttle: self.login_throttle,
            }),
        }
    }

    /// Checks every numeric option against its documented range.
    fn validate(&self) -> Result<()> {
        if !(1..=MAX_READERS).contains(&self.readers) {
            return Err(Error::validation(
                "readers",
                format!(
                    "a store has 1 to {MAX_READERS} readers, not {}",
                    self.readers
                ),
            ));
        }
        for (field, timeout) in [
            ("busy_timeout", self.busy_timeout),
            ("pool_timeout", self.pool_timeout),
        ] {
            if timeout > MAX_TIMEOUT {
                return Err(Error::validation(
                    field,
                    format!("a {field} is at most 1 hour, not {} s", timeout.as_secs()),
                ));
            }
        }
        Ok(())
    }

    fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            durability: self.durability,
            busy_timeout: self.busy_timeout,
        }
    }
}

fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

impl Store {
    /// Opens (or creates) the database file at `path` with the default [`StoreOptions`].
    ///
    /// # Errors
    ///
    /// As [`StoreOptions::open`].
    pub fn open(path: impl AsRef<Path>, keys: KeyRing) -> Result<Store> {
        StoreOptions::new().open(path, keys)
    }

    /// Opens a fresh in-memory store with the default [`StoreOptions`], for tests and examples.
    ///
    /// # Errors
    ///
    /// As [`StoreOptions::open_in_memory`].
    pub fn open_in_memory(keys: KeyRing) -> Result<Store> {
        StoreOptions::new().open_in_memory(keys)
    }

    /// Connects to a PostgreSQL database with the default [`StoreOptions`] (feature
    /// `postgres`): the one line that moves a shop from a file to a server.
    ///
    /// # Errors
    ///
    /// As [`StoreOptions::connect_postgres`].
    #[cfg(feature = "postgres")]
    pub fn connect_postgres(config: &str, keys: KeyRing) -> Result<Store> {
        StoreOptions::new().connect_postgres(config, keys)
    }

    /// Options to open a store with: durability, pool size, busy timeout, clock.
    pub fn options() -> StoreOptions {
        StoreOptions::new()
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.sqlite().and_then(|sqlite| sqlite.path.as_deref())
    }

    /// The SQLite engine, or `None` for a PostgreSQL store.
    fn sqlite(&self) -> Option<&Sqlite> {
        match &self.inner.engine {
            Engine::Sqlite(sqlite) => Some(sqlite),
            #[cfg(feature = "postgres")]
            Engine::Postgres(_) => None,
        }
    }

    /// The current time by the store's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The schema version of the database (the number of migrations applied).
    ///
    /// # Errors
    ///
    /// A `Storage` error if the database cannot be read.
    pub fn schema_version(&self) -> Result<u32> {
        self.read(|tx| {
            let version: Option<i64> = tx.query_row(
                "SELECT max(version) FROM shopkeep_schema",
                crate::sql::args![],
                |r| r.get(0),
            )?;
            Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
        })
    }

    /// Checks the whole file with SQLite's `integrity_check` and `foreign_key_check`.
    ///
    /// This reads every page: run it from a maintenance job, not on every request. On
    /// PostgreSQL, which checks its pages and foreign keys itself, it checks that the server
    /// answers and holds this shopkeep's schema.
    ///
    /// # Errors
    ///
    /// `NotADatabase` naming the first problem found if the file is damaged; `Storage` if it
    /// cannot be read.
    pub fn verify_integrity(&self) -> Result<()> {
        match self.sqlite() {
            Some(_) => self.read(|tx| match tx.sqlite_connection() {
                Some(conn) => backup::check_integrity(conn),
                None => Ok(()),
            }),
            None => self.schema_version().map(drop),
        }
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`): committed if `f` returns `Ok`,
    /// rolled back if it returns `Err`. The only way the crate writes.
    ///
    /// Concurrent calls share one transaction, each in its own savepoint, and one commit (see
    /// `group_commit.rs`); a call returns only after the commit that holds its work. What
    /// follows the transaction here (the scrub, the audit of a denial) runs after that commit.
    pub(crate) fn write<T>(&self, f: impl Fn(&Tx<'_>) -> Result<T>) -> Result<T> {
        let outcome = match &self.inner.engine {
            Engine::Sqlite(sqlite) => {
                let outcome = sqlite.writer.write(self, self.now(), f);
                self.scrub_on_the_side();
                outcome
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(postgres) => postgres.write(self, self.now(), f),
        };
        self.audit_denial(outcome)
    }

    /// Runs `f` in a read transaction on a pooled reader, so that all of its queries see one
    /// snapshot. Readers refuse writes (`query_only`).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let now = self.now();
        let outcome = match &self.inner.engine {
            Engine::Sqlite(Sqlite {
                readers: Some(pool),
                ..
            }) => pool.with(|conn| run_in_transaction(self, conn, "BEGIN DEFERRED", now, f)),
            Engine::Sqlite(sqlite) => {
                run_in_transaction(self, &sqlite.writer.lock(), "BEGIN DEFERRED", now, f)
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(postgres) => postgres.read(self, now, f),
        };
        self.audit_denial(outcome)
    }

    /// Writes the audit entry of a refused operation, in a transaction of its own, after the
    /// operation's transaction has rolled back.
    fn audit_denial<T>(&self, outcome: Result<T>) -> Result<T> {
        let mut error = match outcome {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if let Some(denial) = error.take_denial() {
            self.write(|tx| {
                tx.audit_event(
                    &denial.principal,
                    denial.action,
                    &denial.resource,
                    Outcome::Denied,
                )
            })?;
        }
        Err(error)
    }

    /// The trusted system principal, for the host's setup code and background jobs. Anyone
    /// holding the `Store` can ask for it: the store trusts its host, not the host's users.
    pub fn system(&self) -> Principal {
        Principal::system()
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    pub(crate) fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    pub(crate) fn password_policy(&self) -> &PasswordPolicy {
        &self.inner.password_policy
    }

    pub(crate) fn session_settings(&self) -> SessionSettings {
        self.inner.sessions
    }

    pub(crate) fn login_throttle(&self) -> LoginThrottle {
        self.inner.login_throttle
    }
}

fn run_in_transaction<T>(
    store: &Store,
    conn: &Connection,
    begin: &str,
    now: Timestamp,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    run_cached(conn, begin).map_err(crate::error::sqlite)?;
    // Rolls back if `f` panics (a host policy, a host clock) or the commit fails, so that the
    // connection never goes back to the pool, or to the next writer, inside a transaction: an
    // open read transaction pins its snapshot and keeps every checkpoint from finishing.
    let guard = RollbackOnDrop(conn);
    let outcome = f(&Tx::sqlite(store, conn, now));
    let finish = match &outcome {
        Ok(_) => run_cached(conn, "COMMIT"),
        Err(_) => conn.execute_batch("ROLLBACK"),
    };
    drop(guard);
    finish.map_err(crate::error::sqlite)?;
    outcome
}

/// Runs one statement that takes no parameters and returns no rows (`BEGIN`, `COMMIT`) from
/// the connection's statement cache. Every operation begins and commits a transaction, and
/// `execute_batch` would parse that text again each time: a measurable part of a short read.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Rolls back the connection's open transaction, if any, when dropped.
struct RollbackOnDrop<'c>(&'c Connection);

impl Drop for RollbackOnDrop<'_> {
    fn drop(&mut self) {
        rollback_if_open(self.0);
    }
}

/// Ends an open transaction. A failed ROLLBACK leaves nothing better to do: SQLite has then
/// already rolled back by itself (it does so on I/O errors and a full disk).
pub(crate) fn rollback_if_open(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// A connection inside a transaction, with the one "now" the whole operation uses.
pub(crate) struct Tx<'c> {
    store: &'c Store,
    conn: Conn<'c>,
    now: Timestamp,
}

/// The connection a transaction runs on, of either engine.
#[derive(Clone, Copy)]
enum Conn<'c> {
    Sqlite(&'c Connection),
    #[cfg(feature = "postgres")]
    Postgres(&'c postgres::PgConn),
}

impl<'c> Tx<'c> {
    /// A transaction on a SQLite connection.
    fn sqlite(store: &'c Store, conn: &'c Connection, now: Timestamp) -> Self {
        Tx {
            store,
            conn: Conn::Sqlite(conn),
            now,
        }
    }

    /// A transaction on a PostgreSQL connection.
    #[cfg(feature = "postgres")]
    fn postgres(store: &'c Store, conn: &'c postgres::PgConn, now: Timestamp) -> Self {
        Tx {
            store,
            conn: Conn::Postgres(conn),
            now,
        }
    }

    /// `sqlite` or `postgres`, whichever this transaction's engine speaks: for the few
    /// statements the two dialects cannot share (full-text search, index hints), kept side by
    /// side where they are used.
    pub(crate) fn dialect<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        #[cfg(not(feature = "postgres"))]
        let _ = postgres;
        match self.conn {
            Conn::Sqlite(_) => sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => postgres,
        }
    }

    /// Whether this transaction runs on PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        !matches!(self.conn, Conn::Sqlite(_))
    }

    /// The SQLite connection, for the store's own SQLite-only work (integrity checks, the
    /// scrub); `None` on PostgreSQL.
    fn sqlite_connection(&self) -> Option<&'c Connection> {
        match self.conn {
            Conn::Sqlite(conn) => Some(conn),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => None,
        }
    }
}

impl Tx<'_> {
    /// The time the operation started, read once from the store's clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    /// The store's working keys (to write and verify auth MACs inside the transaction).
    pub(crate) fn keys(&self) -> &Keys {
        &self.store.inner.keys
    }

    /// Asks the policy whether `principal` may perform `action` on `resource`.
    ///
    /// A refusal is an error that the store audits in its own transaction after this one rolls
    /// back. An object the principal may not read answers exactly like a missing one.
    pub(crate) fn authorize(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Result<()> {
        let policy = &self.store.inner.policy;
        let allowed =
            |action| policy.decide(&Request::new(principal, action, resource)) == Decision::Allow;
        if allowed(action) {
            return Ok(());
        }
        let error = match resource.read_action() {
            Some(read) if read == action || !allowed(read) => not_found(resource),
            _ => Error::new(
                ErrorKind::Forbidden,
                format!(
                    "{} may not {}",
                    principal.kind_name(),
                    action.as_str().replace('_', " ")
                ),
            ),
        };
        Err(error.with_denial(Denial {
            principal: principal.audit_name(),
            action: action.as_str(),
            resource: resource.to_string(),
        }))
    }

    /// The store's cache of type `T`, made empty on first use. A domain keeps in it what is
    /// worth keeping between operations on this store (the parsed shop settings).
    pub(crate) fn cache<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let mut caches = self
            .store
            .inner
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = caches
            .iter()
            .find_map(|cache| Arc::clone(cache).downcast::<T>().ok())
        {
            return found;
        }
        let made = Arc::new(T::default());
        caches.push(Arc::clone(&made) as Arc<dyn Any + Send + Sync>);
        made
    }

    /// Writes the audit entry of an allowed write, inside this transaction.
    pub(crate) fn audit(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Result<()> {
        self.audit_event(
            &principal.audit_name(),
            action.as_str(),
            &resource.to_string(),
            Outcome::Allowed,
        )
    }

    /// Writes an audit entry of any event (authentication events have no `Action`).
    pub(crate) fn audit_event(
        &self,
        principal: &str,
        event: &str,
        resource: &str,
        outcome: Outcome,
    ) -> Result<()> {
        audit_repo::append(
            self,
            &self.store.inner.keys,
            principal,
            event,
            resource,
            outcome,
        )
    }
}

/// The SQLite connection under `tx`, for the store's tests of SQLite itself.
#[cfg(test)]
#[allow(clippy::expect_used)]
fn raw<'c>(tx: &Tx<'c>) -> &'c Connection {
    tx.sqlite_connection().expect("a SQLite store")
}

/// The error for a file operation asked of a PostgreSQL store: `what` it cannot be.
pub(crate) fn not_a_file(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "a PostgreSQL store cannot be {what}: that is the server's job (pg_dump, \
             point-in-time recovery, pg_stat_activity)"
        ),
    )
}

/// The error for an object that does not exist, or that the principal may not see: the same
/// words in both cases, so that an error never reveals that an object exists.
pub(crate) fn not_found(resource: &Resource) -> Error {
    let what = match resource {
        Resource::Staff(_) | Resource::StaffDirectory => "staff account",
        Resource::ApiKey(_) | Resource::ApiKeys => "API key",
        Resource::AuditLog => "audit log",
        Resource::Outbox => "outbox",
        Resource::Customer(_) | Resource::Customers => "customer",
        Resource::Product(_) | Resource::Catalog => "product",
        Resource::Stock(_) => "product variant",
        Resource::Settings => "shop settings",
        Resource::Order { .. } | Resource::Orders => "order",
        Resource::Coupons => "coupon",
        Resource::Invoice { .. } | Resource::Invoices => "invoice",
        Resource::Analytics => "report",
        Resource::Lead(_) | Resource::Leads => "lead",
        Resource::WebhookEndpoint(_) | Resource::Webhooks => "webhook endpoint",
        Resource::Payments => "payment record",
        Resource::Campaigns => "campaign",
        Resource::Suppressions => "suppression list entry",
    };
    Error::new(ErrorKind::NotFound, format!("no such {what}"))
}
