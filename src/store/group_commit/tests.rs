//! Batches made on purpose: the first caller's work holds the writer until the others are
//! queued behind it, so that all of them join its transaction. Real threads, a real file.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::crypto::KeyRing;

/// Callers of each batch.
const CALLERS: usize = 8;

/// The store's group commit.
fn writer(store: &Store) -> &GroupCommit {
    &store.sqlite().unwrap().writer
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("shop.db"),
        KeyRing::from_master_key([3; 32]),
    )
    .unwrap();
    store
        .write(|tx| {
            super::super::raw(tx)
                .execute_batch(
                    "CREATE TABLE rows (caller INTEGER NOT NULL);
                 CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
                 INSERT INTO counter VALUES (1, 0);
                 CREATE TABLE blobs (caller INTEGER NOT NULL, data BLOB NOT NULL);
                 CREATE TABLE parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE child (parent INTEGER NOT NULL
                     REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
                )
                .map_err(crate::error::sqlite)
        })
        .unwrap();
    (dir, store)
}

/// One caller's work: a row of its own, and the counter bumped by read-modify-write, so that a
/// caller that saw another's rolled-back writes would leave the counter unequal to the rows.
fn record(tx: &Tx<'_>, caller: usize) -> Result<()> {
    tx.execute(
        "INSERT INTO rows (caller) VALUES (?1)",
        crate::sql::args![caller as i64],
    )?;
    let n: i64 = tx.query_row("SELECT n FROM counter", crate::sql::args![], |r| r.get(0))?;
    tx.execute("UPDATE counter SET n = ?1", crate::sql::args![n + 1])?;
    Ok(())
}

/// Runs `work` for callers 0..CALLERS in one batch: caller 0's write waits, holding the writer,
/// until every other caller is queued for it. Returns each caller's result (`None` for a caller
/// that panicked) and how many commits the store made meanwhile.
fn batch(
    store: &Store,
    work: impl Fn(&Tx<'_>, usize) -> Result<()> + Send + Sync + Clone + 'static,
) -> (Vec<Option<Result<()>>>, u64) {
    let before = writer(store).commits();
    let (inside, first_is_inside) = mpsc::channel();
    let first = {
        let store = store.clone();
        let work = work.clone();
        thread::spawn(move || {
            store.write(|tx| {
                inside.send(()).unwrap();
                let deadline = Instant::now() + Duration::from_secs(30);
                while writer(&store).queued() < CALLERS - 1 {
                    assert!(Instant::now() < deadline, "the other callers never queued");
                    thread::sleep(Duration::from_millis(1));
                }
                work(tx, 0)
            })
        })
    };
    first_is_inside.recv().unwrap();
    let others: Vec<_> = (1..CALLERS)
        .map(|caller| {
            let store = store.clone();
            let work = work.clone();
            thread::spawn(move || store.write(|tx| work(tx, caller)))
        })
        .collect();
    let results = std::iter::once(first)
        .chain(others)
        .map(|handle| handle.join().ok())
        .collect();
    (results, writer(store).commits() - before)
}

/// (rows, counter, the callers whose rows are there) in one snapshot.
fn state(store: &Store) -> (i64, i64, Vec<i64>) {
    store
        .read(|tx| {
            let n = tx.query_row("SELECT n FROM counter", crate::sql::args![], |r| r.get(0))?;
            let mut stmt = super::super::raw(tx)
                .prepare("SELECT caller FROM rows ORDER BY caller")
                .map_err(crate::error::sqlite)?;
            let callers = stmt
                .query_map([], |r| r.get(0))
                .map_err(crate::error::sqlite)?
                .collect::<rusqlite::Result<Vec<i64>>>()
                .map_err(crate::error::sqlite)?;
            Ok((callers.len() as i64, n, callers))
        })
        .unwrap()
}

#[test]
fn callers_queued_behind_a_write_share_one_commit() {
    let (_dir, store) = open();
    let (results, commits) = batch(&store, record);
    assert!(results.iter().all(|r| matches!(r, Some(Ok(())))));
    assert_eq!(
        commits, 1,
        "{CALLERS} queued callers made {commits} commits"
    );
    assert_eq!(state(&store), (8, 8, (0..8).collect()));
}

#[test]
fn a_lone_caller_commits_at_once() {
    let (_dir, store) = open();
    for caller in 0..20 {
        let before = writer(&store).commits();
        store.write(|tx| record(tx, caller)).unwrap();
        // Committed before the call returned: on its own, not waiting for company.
        assert_eq!(writer(&store).commits(), before + 1);
        assert_eq!(state(&store).0, caller as i64 + 1);
    }
}

#[test]
fn a_failing_or_panicking_caller_is_rolled_back_alone() {
    let (_dir, store) = open();
    let (results, commits) = batch(&store, |tx, caller| {
        record(tx, caller)?;
        match caller {
            3 => Err(Error::new(ErrorKind::Conflict, "caller 3 changes its mind")),
            5 => panic!("caller 5 panics after writing"),
            _ => Ok(()),
        }
    });
    for (caller, result) in results.iter().enumerate() {
        match caller {
            3 => assert_eq!(
                result.as_ref().unwrap().as_ref().unwrap_err().kind(),
                ErrorKind::Conflict
            ),
            5 => assert!(result.is_none(), "the panic reaches the caller's thread"),
            _ => assert!(
                matches!(result, Some(Ok(()))),
                "caller {caller}: {result:?}"
            ),
        }
    }
    assert_eq!(commits, 1);
    // The failed callers' rows are gone, and the callers after them did not see them: the
    // counter equals the rows.
    assert_eq!(state(&store), (6, 6, vec![0, 1, 2, 4, 6, 7]));
}

#[test]
fn a_first_caller_without_a_savepoint_is_rolled_back_whole_and_alone() {
    // The first caller of a transaction runs without a savepoint: its failure rolls back the
    // whole transaction, which holds nothing else, and the callers queued behind it start a
    // new one.
    for panics in [false, true] {
        let (_dir, store) = open();
        let (results, commits) = batch(&store, move |tx, caller| {
            record(tx, caller)?;
            match caller {
                0 if panics => panic!("the first caller panics after writing"),
                0 => Err(Error::new(ErrorKind::Conflict, "the first caller fails")),
                _ => Ok(()),
            }
        });
        assert_eq!(results[0].is_none(), panics);
        assert!(results.iter().skip(1).all(|r| matches!(r, Some(Ok(())))));
        assert_eq!(commits, 1, "the callers behind it still share one commit");
        assert_eq!(state(&store), (7, 7, (1..8).collect()));
    }

    // A lone caller that fails leaves nothing, and the next one commits on its own.
    let (_dir, store) = open();
    let before = writer(&store).commits();
    let err = store
        .write(|tx| {
            record(tx, 0)?;
            Err::<(), _>(Error::new(ErrorKind::Conflict, "changes its mind"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(writer(&store).commits(), before);
    assert_eq!(state(&store), (0, 0, vec![]));
    store.write(|tx| record(tx, 1)).unwrap();
    assert_eq!(state(&store), (1, 1, vec![1]));
}

#[test]
fn a_batch_whose_commit_fails_acknowledges_nobody() {
    let (_dir, store) = open();
    // Caller 6 breaks a deferred foreign key: its savepoint is released, and the shared COMMIT
    // fails for everyone in the batch.
    let (results, commits) = batch(&store, |tx, caller| {
        record(tx, caller)?;
        if caller == 6 {
            tx.execute(
                "INSERT INTO child (parent) VALUES (999)",
                crate::sql::args![],
            )?;
        }
        Ok(())
    });
    for (caller, result) in results.iter().enumerate() {
        let error = result.as_ref().unwrap().as_ref().unwrap_err();
        assert!(
            error.message().contains("did not commit"),
            "caller {caller}: {error}"
        );
    }
    assert_eq!(commits, 0);
    assert_eq!(state(&store), (0, 0, vec![]));
    // The writer is clean for the next caller.
    store.write(|tx| record(tx, 42)).unwrap();
    assert_eq!(state(&store), (1, 1, vec![42]));
}

#[test]
fn a_transaction_lost_under_a_caller_acknowledges_nobody() {
    let (_dir, store) = open();
    // Caller 4's transaction is rolled back under it, as SQLite does on a full disk or an I/O
    // error, and its own work reports success: neither it nor the callers that ran before it,
    // whose work went with the transaction, may be told their work committed. The queued
    // callers take the writer in no set order, so the test notes the order they ran in.
    let ran = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (results, commits) = batch(&store, {
        let ran = std::sync::Arc::clone(&ran);
        move |tx, caller| {
            ran.lock().unwrap().push(caller);
            record(tx, caller)?;
            if caller == 4 {
                super::super::raw(tx)
                    .execute_batch("ROLLBACK")
                    .map_err(crate::error::sqlite)?;
            }
            Ok(())
        }
    });
    let ran = ran.lock().unwrap().clone();
    assert_eq!(ran.first(), Some(&0), "caller 0 holds the writer first");
    let lost_at = ran.iter().position(|&caller| caller == 4).unwrap();
    let (lost, after) = ran.split_at(lost_at + 1);
    for &caller in lost {
        let result = &results[caller];
        assert!(
            matches!(result, Some(Err(e)) if e.kind() == ErrorKind::Storage),
            "caller {caller} was acknowledged: {result:?}"
        );
    }
    // The callers after it began a new transaction, which committed.
    for &caller in after {
        let result = &results[caller];
        assert!(
            matches!(result, Some(Ok(()))),
            "caller {caller}: {result:?}"
        );
    }
    assert_eq!(commits, u64::from(!after.is_empty()));
    let mut committed: Vec<i64> = after.iter().map(|&caller| caller as i64).collect();
    committed.sort_unstable();
    let n = committed.len() as i64;
    assert_eq!(state(&store), (n, n, committed));
}

#[test]
fn work_on_the_writer_outside_the_write_path_commits_the_open_batch_first() {
    let (_dir, store) = open();
    // A caller that believes another is queued leaves its batch open and waits for it.
    writer(&store).queued.fetch_add(1, Ordering::SeqCst);
    let waiting = {
        let store = store.clone();
        thread::spawn(move || store.write(|tx| record(tx, 0)))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while writer(&store).lock_raw().open.is_none() {
        assert!(
            Instant::now() < deadline,
            "the caller never opened its batch"
        );
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(state(&store).0, 0, "readers see nothing before the commit");
    assert!(!waiting.is_finished(), "acknowledged before its commit");
    // Work that takes the writer for itself (a backup, a checkpoint) finds it out of any
    // transaction, the batch committed and its caller acknowledged.
    let conn = writer(&store).lock();
    assert!(conn.is_autocommit());
    drop(conn);
    waiting.join().unwrap().unwrap();
    writer(&store).queued.fetch_sub(1, Ordering::SeqCst);
    assert_eq!(state(&store), (1, 1, vec![0]));
}

#[test]
fn a_full_database_acknowledges_exactly_the_work_that_committed() {
    let (_dir, store) = open();
    // Cap the file a few dozen pages above its size: among concurrent writes of page-sized
    // rows, some soon fail with SQLITE_FULL inside batches (SQLite then rolls back the
    // statement or the whole transaction, as it sees fit).
    let pages: i64 = store
        .read(|tx| tx.query_row("PRAGMA page_count", crate::sql::args![], |r| r.get(0)))
        .unwrap();
    writer(&store)
        .lock()
        .execute_batch(&format!("PRAGMA max_page_count = {}", pages + 40))
        .unwrap();
    let threads: Vec<_> = (0..CALLERS as i64)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                (0..20)
                    .map(|i| {
                        let id = t * 100 + i;
                        let written = store.write(|tx| {
                            tx.execute(
                                "INSERT INTO rows (caller) VALUES (?1)",
                                crate::sql::args![id],
                            )?;
                            super::super::raw(tx).execute(
                                "INSERT INTO blobs (caller, data) VALUES (?1, randomblob(3000))",
                                [id],
                            )
                            .map_err(crate::error::sqlite)?;
                            Ok(())
                        });
                        (id, written.is_ok())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<(i64, bool)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(outcomes.iter().any(|(_, ok)| *ok), "nothing fitted");
    assert!(
        outcomes.iter().any(|(_, ok)| !*ok),
        "the cap was never reached"
    );
    let present = state(&store).2;
    let blobs: i64 = store
        .read(|tx| {
            super::super::raw(tx)
                .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
                .map_err(crate::error::sqlite)
        })
        .unwrap();
    assert_eq!(blobs, present.len() as i64, "half a write committed");
    for (id, ok) in outcomes {
        assert_eq!(
            present.contains(&id),
            ok,
            "write {id}: acknowledged {ok}, in the file {}",
            !ok
        );
    }
}
