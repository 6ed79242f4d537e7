//! The PostgreSQL side of the shared setup: a fresh schema per store on the server that
//! `SHOPKEEP_TEST_POSTGRES` names (a libpq connection string; `.ci/run` starts a throwaway
//! cluster and sets it). Without it, or without the `postgres` feature, the PostgreSQL runs are
//! skipped, and each says so on stdout.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The variable naming the test server.
pub const CONNINFO_VAR: &str = "SHOPKEEP_TEST_POSTGRES";

/// The test server's connection string, or `None` (saying why on stdout) when the PostgreSQL
/// runs are skipped.
#[allow(clippy::print_stdout)]
pub fn conninfo() -> Option<String> {
    if !cfg!(feature = "postgres") {
        println!("skipped on PostgreSQL: shopkeep built without the `postgres` feature");
        return None;
    }
    let conninfo = std::env::var(CONNINFO_VAR).ok().filter(|c| !c.is_empty());
    if conninfo.is_none() {
        println!("skipped on PostgreSQL: {CONNINFO_VAR} not set");
    }
    conninfo
}

/// The variable that moves the whole suite to PostgreSQL: with `SHOPKEEP_TEST_ENGINE=postgres`
/// (and `SHOPKEEP_TEST_POSTGRES` naming a server), every store the shared setup opens "at a
/// path" is a schema on the server instead, the same schema for the same path, so that tests
/// opening one file twice share one database. `.ci/run` runs the suite once each way.
pub const ENGINE_VAR: &str = "SHOPKEEP_TEST_ENGINE";

/// Whether this run keeps the suite's stores on PostgreSQL.
pub fn suite_on_postgres() -> bool {
    std::env::var(ENGINE_VAR).is_ok_and(|engine| engine == "postgres")
}

/// The connection string of the PostgreSQL schema standing in for the file at `path`, made on
/// first use; `None` when the suite runs on SQLite.
///
/// The schemas live as long as the test process and are left on the server: the CI's server
/// is thrown away after the run (a developer's may be cleaned with `DROP SCHEMA t_... CASCADE`).
pub fn schema_for(path: &Path) -> Option<String> {
    static SCHEMAS: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    if !suite_on_postgres() {
        return None;
    }
    let config = schema_config(&SCHEMAS, path);
    LAST.with(|last| *last.borrow_mut() = Some(config.clone()));
    Some(config)
}

thread_local! {
    /// The schema of the store this thread opened last through `common::open`.
    static LAST: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The schema of the store this thread opened last through `common::open`, for `common::db`.
pub fn last_schema() -> Option<String> {
    LAST.with(|last| last.borrow().clone())
}

fn schema_config(schemas: &Mutex<Option<HashMap<PathBuf, String>>>, path: &Path) -> String {
    let conninfo = std::env::var(CONNINFO_VAR)
        .unwrap_or_else(|_| panic!("{ENGINE_VAR}=postgres needs {CONNINFO_VAR}"));
    let mut schemas = schemas.lock().unwrap_or_else(PoisonError::into_inner);
    schemas
        .get_or_insert_with(HashMap::new)
        .entry(path.to_path_buf())
        .or_insert_with(|| {
            let schema = PgSchema::create(&conninfo);
            let config = schema.config();
            std::mem::forget(schema); // kept for the process's life, see above
            config
        })
        .clone()
}

/// Runs `psql` on `sql` (one transaction) against `conninfo`.
pub fn psql(conninfo: &str, sql: &str) -> Output {
    psql_with(conninfo, sql, &[])
}

/// [`psql`] with more of its options (`-F` and `-R` separators, `-P null=`).
pub fn psql_with(conninfo: &str, sql: &str, options: &[&str]) -> Output {
    let mut child = Command::new("psql")
        .arg(conninfo)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-1"])
        .args(options)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs (install postgresql-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A schema of its own on the test server, dropped (with everything in it) when dropped.
#[derive(Debug)]
pub struct PgSchema {
    conninfo: String,
    name: String,
}

impl PgSchema {
    /// A new, empty schema.
    pub fn create(conninfo: &str) -> PgSchema {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let out = psql(conninfo, &format!("CREATE SCHEMA {name};"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PgSchema {
            conninfo: conninfo.to_owned(),
            name,
        }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connection string of a store in this schema (its `search_path`).
    pub fn config(&self) -> String {
        format!("{} options=-csearch_path={}", self.conninfo, self.name)
    }

    /// Runs `sql` in this schema, in one transaction, and returns psql's unaligned output.
    pub fn run(&self, sql: &str) -> Output {
        psql(
            &self.conninfo,
            &format!("SET search_path = {};\n{sql}", self.name),
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = psql(
            &self.conninfo,
            &format!("DROP SCHEMA {} CASCADE;", self.name),
        );
    }
}
