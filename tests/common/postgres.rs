//! The PostgreSQL side of the shared setup: a fresh schema per store on the server that
//! `SHOPKEEP_TEST_POSTGRES` names (a libpq connection string; `.ci/run` starts a throwaway
//! cluster and sets it). Without it, or without the `postgres` feature, the PostgreSQL runs are
//! skipped, and each says so on stdout.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Runs `psql` on `sql` (one transaction) against `conninfo`.
pub fn psql(conninfo: &str, sql: &str) -> Output {
    let mut child = Command::new("psql")
        .arg(conninfo)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-1",
            "-f",
            "-",
        ])
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
