//! Forward-only schema migrations, recorded in a table of our own.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction together with the row that
//! records it, so a crash leaves the schema at a whole version. We never touch the file's
//! `user_version`: the host may use it for its own tables.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::connection::not_a_database;
use crate::clock::Timestamp;
use crate::crypto::keys::Keys;
use crate::error::{Error, ErrorKind, Result};

/// One schema step. Versions start at 1 and have no gaps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
    /// The same version in PostgreSQL's dialect (`schema/postgres/`).
    #[cfg(feature = "postgres")]
    pub(crate) postgres: &'static str,
}

/// Every migration of this shopkeep version, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "store_meta",
        sql: include_str!("schema/0001_store_meta.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0001_store_meta.sql"),
    },
    Migration {
        version: 2,
        name: "data_keys",
        sql: include_str!("schema/0002_data_keys.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0002_data_keys.sql"),
    },
    Migration {
        version: 3,
        name: "access",
        sql: include_str!("schema/0003_access.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0003_access.sql"),
    },
    Migration {
        version: 4,
        name: "customers",
        sql: include_str!("schema/0004_customers.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0004_customers.sql"),
    },
    Migration {
        version: 5,
        name: "catalog",
        sql: include_str!("schema/0005_catalog.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0005_catalog.sql"),
    },
    Migration {
        version: 6,
        name: "outbox",
        sql: include_str!("schema/0006_outbox.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0006_outbox.sql"),
    },
    Migration {
        version: 7,
        name: "orders",
        sql: include_str!("schema/0007_orders.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0007_orders.sql"),
    },
    Migration {
        version: 8,
        name: "order lifecycle",
        sql: include_str!("schema/0008_order_lifecycle.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0008_order_lifecycle.sql"),
    },
    Migration {
        version: 9,
        name: "order charges",
        sql: include_str!("schema/0009_order_charges.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0009_order_charges.sql"),
    },
    Migration {
        version: 10,
        name: "invoices",
        sql: include_str!("schema/0010_invoices.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0010_invoices.sql"),
    },
    Migration {
        version: 11,
        name: "supply kind",
        sql: include_str!("schema/0011_supply_kind.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0011_supply_kind.sql"),
    },
    Migration {
        version: 12,
        name: "invoice retention",
        sql: include_str!("schema/0012_invoice_retention.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0012_invoice_retention.sql"),
    },
    Migration {
        version: 13,
        name: "auth macs",
        sql: include_str!("schema/0013_auth_macs.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0013_auth_macs.sql"),
    },
    Migration {
        version: 14,
        name: "marketing",
        sql: include_str!("schema/0014_marketing.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0014_marketing.sql"),
    },
    Migration {
        version: 15,
        name: "query indexes",
        sql: include_str!("schema/0015_query_indexes.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0015_query_indexes.sql"),
    },
    Migration {
        version: 16,
        name: "leads",
        sql: include_str!("schema/0016_leads.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0016_leads.sql"),
    },
    Migration {
        version: 17,
        name: "webhooks",
        sql: include_str!("schema/0017_webhooks.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0017_webhooks.sql"),
    },
    Migration {
        version: 18,
        name: "report index",
        sql: include_str!("schema/0018_report_index.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0018_report_index.sql"),
    },
    Migration {
        version: 19,
        name: "payments",
        sql: include_str!("schema/0019_payments.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0019_payments.sql"),
    },
    Migration {
        version: 20,
        name: "lead consent",
        sql: include_str!("schema/0020_lead_consent.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0020_lead_consent.sql"),
    },
    Migration {
        version: 21,
        name: "lead score",
        sql: include_str!("schema/0021_lead_score.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0021_lead_score.sql"),
    },
    Migration {
        version: 22,
        name: "suppressions",
        sql: include_str!("schema/0022_suppressions.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0022_suppressions.sql"),
    },
    Migration {
        version: 23,
        name: "campaigns",
        sql: include_str!("schema/0023_campaigns.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0023_campaigns.sql"),
    },
    Migration {
        version: 24,
        name: "dialect_functions",
        sql: include_str!("schema/0024_dialect_functions.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("schema/postgres/0024_dialect_functions.sql"),
    },
];

/// A step of a migration that needs the store's keys (MACing or re-sealing existing rows).
type KeyedStep = fn(&Connection, &Keys) -> Result<()>;

/// The keyed steps, by the name of the migration they complete. Each runs in that migration's
/// transaction, right after its SQL, so the version is recorded only with the step done.
const KEYED_STEPS: &[(&str, KeyedStep)] = &[("auth macs", super::auth_macs::backfill)];

/// The table that records applied migrations.
pub(crate) const SCHEMA_TABLE: &str = "shopkeep_schema";

/// What a file holds before we migrate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileState {
    /// No tables at all: a new file, ours to initialise.
    Empty,
    /// A shopkeep database at this schema version.
    Ours(u32),
}

/// Reads what the file holds without writing anything.
///
/// # Errors
///
/// `NotADatabase` for a file that is not SQLite, is corrupted, or belongs to another application;
/// `SchemaTooNew` for a database of a newer shopkeep.
pub(crate) fn inspect(conn: &Connection, migrations: &[Migration]) -> Result<FileState> {
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(not_a_database)?;
    if tables == 0 {
        return Ok(FileState::Empty);
    }
    let ours: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
            [SCHEMA_TABLE],
            |r| r.get(0),
        )
        .map_err(not_a_database)?;
    if !ours {
        return Err(Error::new(
            ErrorKind::NotADatabase,
            "the file is a SQLite database of another application (it has no shopkeep schema table)",
        ));
    }
    let version = applied_version(conn)?;
    refuse_newer(version, migrations)?;
    check_names(conn, migrations, version)?;
    Ok(FileState::Ours(version))
}

/// Applies every migration above the file's version, each in its own transaction.
///
/// Safe against another process migrating the same file at the same time: the version is read
/// again inside each write transaction.
///
/// `keys` are the store's keys, for the keyed steps; `None` only for a file that was empty,
/// whose tables have no rows for a keyed step to work on.
pub(crate) fn migrate(
    conn: &mut Connection,
    migrations: &[Migration],
    now: Timestamp,
    keys: Option<&Keys>,
) -> Result<()> {
    for migration in migrations {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(crate::error::sqlite)?;
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (
                 version    INTEGER PRIMARY KEY NOT NULL,
                 name       TEXT NOT NULL,
                 applied_at TEXT NOT NULL
             ) STRICT;"
        ))
        .map_err(crate::error::sqlite)?;
        if applied_version(&tx)? >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql)
            .map_err(|e| failed(migration).with_source(e))?;
        if let Some(keys) = keys {
            let keyed = KEYED_STEPS
                .iter()
                .filter(|(name, _)| *name == migration.name);
            for (_, step) in keyed {
                step(&tx, keys).map_err(|e| failed(migration).with_source(e))?;
            }
        }
        tx.execute(
            &format!("INSERT INTO {SCHEMA_TABLE} (version, name, applied_at) VALUES (?1, ?2, ?3)"),
            rusqlite::params![migration.version, migration.name, now.to_rfc3339()],
        )
        .map_err(crate::error::sqlite)?;
        tx.commit().map_err(crate::error::sqlite)?;
    }
    Ok(())
}

/// The highest applied version, 0 if none.
pub(crate) fn applied_version(conn: &Connection) -> Result<u32> {
    let version: Option<u32> = conn
        .query_row(
            &format!("SELECT max(version) FROM {SCHEMA_TABLE}"),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(crate::error::sqlite)?
        .flatten();
    Ok(version.unwrap_or(0))
}

fn latest(migrations: &[Migration]) -> u32 {
    migrations.last().map_or(0, |m| m.version)
}

/// Refuses a database that a newer shopkeep migrated (at `version`, above any of ours).
pub(crate) fn refuse_newer(version: u32, migrations: &[Migration]) -> Result<()> {
    let supported = latest(migrations);
    if version > supported {
        return Err(Error::new(
            ErrorKind::SchemaTooNew,
            format!(
                "the database is at schema version {version}, newer than the {supported} this \
                 shopkeep {} supports; upgrade shopkeep to open it",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    Ok(())
}

/// Refuses a database whose migration `version` is recorded under another name than ours.
pub(crate) fn check_name(migrations: &[Migration], version: u32, name: &str) -> Result<()> {
    let expected = migrations
        .iter()
        .find(|m| m.version == version)
        .map(|m| m.name);
    if expected == Some(name) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::NotADatabase,
        format!(
            "schema version {version} is recorded as {name:?}, which this shopkeep does not know"
        ),
    ))
}

/// The error of `migration` failing (its cause attached by the caller).
pub(crate) fn failed(migration: &Migration) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!(
            "migration {} ({}) failed; the database stays at version {}",
            migration.version,
            migration.name,
            migration.version.saturating_sub(1)
        ),
    )
}

/// A recorded migration whose name differs from ours means the file was written by a
/// different lineage of the schema: refuse rather than guess.
fn check_names(conn: &Connection, migrations: &[Migration], version: u32) -> Result<()> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT version, name FROM {SCHEMA_TABLE} WHERE version <= ?1 ORDER BY version"
        ))
        .map_err(crate::error::sqlite)?;
    let rows = stmt
        .query_map([version], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(crate::error::sqlite)?;
    for row in rows {
        let (v, name) = row.map_err(crate::error::sqlite)?;
        check_name(migrations, v, &name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real first migration, then two made-up ones.
    const STEPS: &[Migration] = &[
        MIGRATIONS[0],
        Migration {
            version: 2,
            name: "widgets",
            sql: "CREATE TABLE widgets (id INTEGER PRIMARY KEY);",
            #[cfg(feature = "postgres")]
            postgres: "",
        },
        Migration {
            version: 3,
            name: "widget_names",
            sql: "ALTER TABLE widgets ADD COLUMN name TEXT;",
            #[cfg(feature = "postgres")]
            postgres: "",
        },
    ];

    fn now() -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000).unwrap()
    }

    #[test]
    fn an_older_schema_is_migrated_forward_keeping_its_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &STEPS[..2], now(), None).unwrap();
        conn.execute("INSERT INTO widgets (id) VALUES (7)", [])
            .unwrap();
        assert_eq!(inspect(&conn, STEPS).unwrap(), FileState::Ours(2));

        migrate(&mut conn, STEPS, now(), None).unwrap();
        assert_eq!(inspect(&conn, STEPS).unwrap(), FileState::Ours(3));
        let (id, name): (i64, Option<String>) = conn
            .query_row("SELECT id, name FROM widgets", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((id, name), (7, None));
        let recorded: Vec<String> = conn
            .prepare("SELECT name FROM shopkeep_schema ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(recorded, ["store_meta", "widgets", "widget_names"]);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, STEPS, now(), None).unwrap();
        let err = inspect(&conn, &STEPS[..2]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SchemaTooNew);
        assert!(err.to_string().contains("version 3"), "{err}");
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version_whole() {
        let broken = [
            STEPS[0],
            STEPS[1],
            Migration {
                version: 3,
                name: "broken",
                sql: "CREATE TABLE half (x); SELEC nonsense;",
                #[cfg(feature = "postgres")]
                postgres: "",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        let err = migrate(&mut conn, &broken, now(), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert_eq!(applied_version(&conn).unwrap(), 2);
        let half: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'half')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            !half,
            "the failed migration's first statement was rolled back"
        );
    }

    #[test]
    fn a_foreign_lineage_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &STEPS[..1], now(), None).unwrap();
        conn.execute("UPDATE shopkeep_schema SET name = 'renamed'", [])
            .unwrap();
        assert_eq!(
            inspect(&conn, STEPS).unwrap_err().kind(),
            ErrorKind::NotADatabase
        );
    }

    #[test]
    fn the_real_migrations_are_numbered_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.name);
        }
    }
}
