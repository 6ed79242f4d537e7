//! Online backup with SQLite's backup API, verified before it replaces anything.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::backup::Backup;

use super::connection::PAGE_SIZE;
use super::{Sqlite, Store, not_a_file};
use crate::error::{Error, ErrorKind, Result};

impl Store {
    /// Copies the database to `path` while the shop keeps running.
    ///
    /// The copy is one consistent snapshot: it holds every transaction committed before the
    /// backup started and none after. Writers are not blocked while it runs. The copy is written
    /// beside `path`, checked with `integrity_check`, synced to disk, and only then renamed onto
    /// `path` (replacing an older backup there atomically), so `path` never holds a half-written
    /// copy. Open the copy with [`Store::open`] and the same key ring to restore it.
    ///
    /// The backup holds everything the database holds, wrapped keys included: keep the master
    /// key out of the backup's storage.
    ///
    /// # Errors
    ///
    /// A `Storage` error if the copy cannot be written or synced, or every reader stayed in
    /// use for the pool timeout; `NotADatabase` if the copy fails its integrity check (nothing
    /// is left at `path` then); `Unsupported` for a PostgreSQL store (`pg_dump` and the
    /// server's point-in-time recovery back it up).
    pub fn backup_to(&self, path: impl AsRef<Path>) -> Result<()> {
        self.write_copy(path.as_ref(), false)
    }

    /// Copies the database to `path` as [`Store::backup_to`] does, with the page size new
    /// stores get (1 KiB): the way to move a file created with SQLite's 4 KiB pages to the
    /// smaller pages, which write about a third of the bytes per sale (see the performance
    /// guide, "Bytes written"). A file in WAL mode cannot change its page size in place; the
    /// copy is rewritten page by page (`VACUUM`) before it is checked, synced and renamed onto
    /// `path`. A file that has the page size already is copied as `backup_to` copies it.
    ///
    /// To convert a shop: stop its writers, call this, close the store, and open the copy in
    /// place of the old file (move it over the old file once no process has that open, or
    /// point the host at the new path). Writes committed after the copy started are not in it.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("shop.db"), KeyRing::from_master_key([1; 32]))?;
    /// store.repage_to(dir.path().join("repaged.db"))?;
    /// Store::open(dir.path().join("repaged.db"), KeyRing::from_master_key([1; 32]))?;
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Store::backup_to`]; `Storage` also if the copy could not be given the new page
    /// size. Nothing is left at `path` on error, and the store's own file is never changed.
    pub fn repage_to(&self, path: impl AsRef<Path>) -> Result<()> {
        self.write_copy(path.as_ref(), true)
    }

    fn write_copy(&self, path: &Path, repage: bool) -> Result<()> {
        let partial = partial_path(path)?;
        let outcome = self
            .copy_to(&partial, repage)
            .and_then(|()| sync_file(&partial))
            .and_then(|()| {
                fs::rename(&partial, path)
                    .map_err(|e| io_error("cannot move the backup into place", path, e))
            })
            .and_then(|()| sync_parent_dir(path));
        if outcome.is_err() {
            let _ = fs::remove_file(&partial);
        }
        outcome
    }

    fn copy_to(&self, partial: &Path, repage: bool) -> Result<()> {
        let mut dest = Connection::open(partial).map_err(|e| {
            Error::new(
                ErrorKind::Storage,
                format!("cannot create {}", partial.display()),
            )
            .with_source(e)
        })?;
        // One step of all pages copies from a single read snapshot, so concurrent commits can
        // neither tear the copy nor force SQLite to restart it.
        let mut copy = |src: &Connection| -> Result<()> {
            let backup = Backup::new(src, &mut dest).map_err(crate::error::sqlite)?;
            backup.step(-1).map_err(crate::error::sqlite)?;
            Ok(())
        };
        match self.sqlite() {
            Some(Sqlite {
                readers: Some(pool),
                ..
            }) => pool.with(|src| copy(src))?,
            Some(sqlite) => copy(&sqlite.writer.lock())?,
            None => return Err(not_a_file("backed up to a file")),
        }
        if repage {
            set_page_size(&dest)?;
        }
        check_integrity(&dest)?;
        dest.close().map_err(|(_, e)| crate::error::sqlite(e))
    }
}

/// Gives the fresh copy `dest` the page size of new stores, if it has another one. The copy
/// took the source's header, WAL mode included, and a WAL file's page size never changes: it
/// leaves WAL mode, is rewritten with the new size, and goes back to WAL as the original was.
fn set_page_size(dest: &Connection) -> Result<()> {
    let page_size = |conn: &Connection| -> Result<i64> {
        conn.query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(crate::error::sqlite)
    };
    if page_size(dest)? == i64::from(PAGE_SIZE) {
        return Ok(());
    }
    let journal_mode = |mode: &str| -> Result<()> {
        let now: String = dest
            .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))
            .map_err(crate::error::sqlite)?;
        if now.eq_ignore_ascii_case(mode) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Storage,
                format!("the copy could not switch to {mode} mode (it stayed in {now} mode)"),
            ))
        }
    };
    journal_mode("DELETE")?;
    dest.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE}; VACUUM;"))
        .map_err(crate::error::sqlite)?;
    journal_mode("WAL")?;
    let now = page_size(dest)?;
    if now == i64::from(PAGE_SIZE) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Storage,
            format!("the copy kept pages of {now} bytes"),
        ))
    }
}

/// `integrity_check` and `foreign_key_check` of a whole database.
pub(super) fn check_integrity(conn: &Connection) -> Result<()> {
    let verdict: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(crate::error::sqlite)?;
    if verdict != "ok" {
        return Err(Error::new(
            ErrorKind::NotADatabase,
            format!("the database is damaged: {verdict}"),
        ));
    }
    let dangling: Option<String> = conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(crate::error::sqlite)?
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(crate::error::sqlite)?
        .next()
        .transpose()
        .map_err(crate::error::sqlite)?;
    if let Some(table) = dangling {
        return Err(Error::new(
            ErrorKind::NotADatabase,
            format!(
                "the database is damaged: table {table} has a row whose foreign key points nowhere"
            ),
        ));
    }
    Ok(())
}

fn partial_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        Error::validation("path", format!("{} does not name a file", path.display()))
    })?;
    let mut partial = name.to_os_string();
    partial.push(format!(".partial-{}", std::process::id()));
    Ok(path.with_file_name(partial))
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("cannot sync the backup", path, e))
}

/// Makes the rename itself durable.
fn sync_parent_dir(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("cannot sync the backup's directory", parent, e))
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> Error {
    Error::new(ErrorKind::Storage, format!("{what} ({})", path.display())).with_source(err)
}
