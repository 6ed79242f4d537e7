//! The key hierarchy in a real database file: what reaches the disk, rotation, shredding.

use std::path::Path;

use super::*;
use crate::crypto::field::{self, Place};

fn master(byte: u8) -> KeyRing {
    KeyRing::from_master_key([byte; 32])
}

const TABLE: &str = "people";
const COLUMN: &str = "name";

/// Stores `plaintext` for `subject` encrypted in the scratch table; returns the row id.
fn put(store: &Store, subject: &Subject, row: &str, plaintext: &str) {
    store
        .write(|tx| {
            super::super::raw(tx)
                .execute_batch("CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY, name BLOB)")
                .map_err(crate::error::sqlite)?;
            let key = store.data_key_or_create(tx, subject)?;
            let place = Place {
                table: TABLE,
                column: COLUMN,
                row: row.as_bytes(),
            };
            let sealed = field::encrypt(&key, place, plaintext.as_bytes())?;
            super::super::raw(tx)
                .execute(
                    "INSERT INTO people (id, name) VALUES (?1, ?2)",
                    rusqlite::params![row, sealed],
                )
                .map_err(crate::error::sqlite)?;
            Ok(())
        })
        .unwrap();
}

fn get(store: &Store, subject: &Subject, row: &str) -> Result<String> {
    store.read(|tx| {
        let sealed: Vec<u8> = tx.query_row(
            "SELECT name FROM people WHERE id = ?1",
            crate::sql::args![row],
            |r| r.get(0),
        )?;
        let key = store
            .data_key(tx, subject)?
            .ok_or_else(|| Error::new(ErrorKind::Crypto, "erased"))?;
        let place = Place {
            table: TABLE,
            column: COLUMN,
            row: row.as_bytes(),
        };
        let plain = field::decrypt(&key, place, &sealed)?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    })
}

fn wrapped_key(store: &Store, subject: &Subject) -> Option<Vec<u8>> {
    store
        .read(|tx| {
            super::super::raw(tx)
                .query_row(
                    "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?1",
                    [subject.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(crate::error::sqlite)
        })
        .unwrap()
}

/// The raw bytes of the database file and its WAL.
fn disk_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn plaintext_never_reaches_the_disk_and_shredding_removes_the_wrapped_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Store::open(&path, master(1)).unwrap();
    let ana = Subject::customer("ana");
    let ben = Subject::customer("ben");
    let secrets = [
        "Ana Maria Lima-Sobral",
        "Rua Augusta 1234, Lisboa",
        "+351912345678",
    ];
    for (i, secret) in secrets.iter().enumerate() {
        put(&store, &ana, &format!("ana-{i}"), secret);
    }
    put(&store, &ben, "ben-0", "Benedikt Vorname-Nachname");
    assert_eq!(get(&store, &ana, "ana-1").unwrap(), secrets[1]);

    let ana_wrapped = wrapped_key(&store, &ana).unwrap();
    let raw = disk_bytes(&path);
    for secret in secrets {
        assert!(
            !contains(&raw, secret.as_bytes()),
            "{secret:?} is on disk in clear"
        );
    }
    // The scan itself works: the wrapped key is there to be found before shredding.
    assert!(
        contains(&raw, &ana_wrapped),
        "the scan cannot see the wrapped key"
    );

    store
        .write(|tx| {
            assert!(store.destroy_data_key(tx, &ana)?);
            Ok(())
        })
        .unwrap();
    assert_eq!(store.scrub_now().unwrap(), crate::WalScrub::Clean);

    let raw = disk_bytes(&path);
    assert!(
        !contains(&raw, &ana_wrapped),
        "the destroyed wrapped key is still on disk"
    );
    assert_eq!(
        get(&store, &ana, "ana-0").unwrap_err().kind(),
        ErrorKind::Crypto
    );
    // Another subject is untouched.
    assert_eq!(
        get(&store, &ben, "ben-0").unwrap(),
        "Benedikt Vorname-Nachname"
    );
}

#[test]
fn a_key_destroyed_by_another_store_is_not_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let a = Store::open(&path, master(1)).unwrap();
    let b = Store::open(&path, master(1)).unwrap();
    let ana = Subject::customer("ana");
    put(&a, &ana, "r", "Ana");
    assert_eq!(get(&a, &ana, "r").unwrap(), "Ana"); // now cached in `a`
    b.write(|tx| b.destroy_data_key(tx, &ana)).unwrap();
    assert!(
        get(&a, &ana, "r").is_err(),
        "a destroyed key was served from a's cache"
    );
}

#[test]
fn a_key_created_in_a_rolled_back_transaction_is_forgotten() {
    let store = Store::open_in_memory(master(1)).unwrap();
    let ana = Subject::customer("ana");
    let err = store
        .write(|tx| {
            store.data_key_or_create(tx, &ana)?;
            assert!(store.data_key(tx, &ana)?.is_some());
            Err::<(), _>(Error::new(ErrorKind::Conflict, "abort"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(store.read(|tx| store.data_key(tx, &ana)).unwrap().is_none());
    put(&store, &ana, "r", "Ana");
    assert_eq!(get(&store, &ana, "r").unwrap(), "Ana");
}

#[test]
fn rotation_keeps_data_and_blind_indexes_and_refuses_the_old_master() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Store::open(&path, master(1)).unwrap();
    let ana = Subject::customer("ana");
    put(&store, &ana, "r", "Ana Lima");
    let index_before = store.keys().blind_index("email", "ana@example.com");
    store.rotate_master_key(master(2)).unwrap();
    drop(store);

    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, master(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused open changed the file"
    );

    let store = Store::open(&path, master(2)).unwrap();
    assert_eq!(get(&store, &ana, "r").unwrap(), "Ana Lima");
    assert_eq!(
        store.keys().blind_index("email", "ana@example.com"),
        index_before
    );
}

#[test]
fn a_wrong_master_key_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    drop(Store::open(&path, master(1)).unwrap());
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, master(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(err.to_string().contains("master key"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn two_stores_opening_one_fresh_file_agree_on_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                Store::open(&path, master(1)).map(|s| s.keys().blind_index("email", "x"))
            })
        })
        .collect();
    let indexes: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert!(
        indexes.windows(2).all(|w| w[0] == w[1]),
        "two root keys were created"
    );
}
