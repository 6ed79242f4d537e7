//! The audit log's public promises: every write and every refusal leaves one entry, in the same
//! transaction as the change; the log is append-only in SQL; and every kind of tampering with
//! the file (edit, deletion, reordering, forgery, a cut-off tail, a rollback) is reported by
//! `verify` at the right position. Tampering goes straight to the file through rusqlite, as an
//! attacker with write access to the file but not the master key would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use shopkeep::access::{
    AuditHead, AuditProblem, AuditVerification, NewApiKey, NewStaff, Outcome, Role, StaffId,
};
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::store::Durability;
use shopkeep::{Email, ErrorKind, KeyRing, Principal, Store};

const MASTER: [u8; 32] = [0x5a; 32];
const PASSWORD: &str = "a long and unusual passphrase";

fn options() -> shopkeep::StoreOptions {
    Store::options().password_params(PasswordParams::insecure_for_tests())
}

fn open(path: &Path) -> Store {
    options()
        .open(path, KeyRing::from_master_key(MASTER))
        .unwrap()
}

/// A second connection to the same file, as an attacker (or a careless script) would open it.
fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

/// `name` joining the staff as `email` with `role` and [`PASSWORD`].
fn staff_member(email: &str, name: &str, role: Role) -> NewStaff {
    NewStaff::new(
        Email::parse(email).unwrap(),
        name,
        role,
        Password::new(PASSWORD),
    )
    .unwrap()
}

struct Shop {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
}

impl Shop {
    fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let store = open(&path);
        Shop {
            _dir: dir,
            path,
            store,
        }
    }

    fn raw(&self) -> Connection {
        raw(&self.path)
    }

    fn verify(&self, head: Option<&AuditHead>) -> AuditVerification {
        let system = self.store.system();
        self.store.audit_log(&system).verify(head).unwrap()
    }

    fn head(&self) -> AuditHead {
        let system = self.store.system();
        self.store.audit_log(&system).head().unwrap().unwrap()
    }

    fn entries(&self) -> u64 {
        match self.verify(None) {
            AuditVerification::Intact { entries, .. } => entries,
            other => panic!("the log is not intact: {other:?}"),
        }
    }

    fn new_staff(&self, email: &str, name: &str, role: Role) -> StaffId {
        let new = staff_member(email, name, role);
        self.store
            .staff(&self.store.system())
            .create(new)
            .unwrap()
            .id()
    }

    fn login(&self, email: &str) -> Principal {
        let login = self
            .store
            .login_staff(&Email::parse(email).unwrap(), &Password::new(PASSWORD))
            .unwrap();
        login.principal().clone()
    }
}

/// A shop whose log holds entries of every kind: allowed writes by the system, by a staff
/// member and by an API key; logins and failed logins; refusals.
fn shop_with_varied_log() -> Shop {
    let shop = Shop::new();
    let store = &shop.store;
    let system = store.system();
    shop.new_staff("olga@example.com", "Olga Owner", Role::Owner);
    shop.new_staff("wim@example.com", "Wim Warehouse", Role::Warehouse);
    let olga = shop.login("olga@example.com");
    let wim = shop.login("wim@example.com");
    let key = store
        .api_keys(&olga)
        .create(NewApiKey::new("ERP export", Role::Accountant).unwrap())
        .unwrap();
    let erp = store.principal_from_api_key(key.secret()).unwrap();
    store.audit_log(&erp).list(0, 10).unwrap();
    store.staff(&erp).list().unwrap_err();
    store.audit_log(&wim).list(0, 10).unwrap_err();
    store
        .login_staff(
            &Email::parse("olga@example.com").unwrap(),
            &Password::new("not the passphrase at all"),
        )
        .unwrap_err();
    store.api_keys(&system).revoke(key.info().id()).unwrap();
    store
        .audit_log(&Principal::anonymous())
        .list(0, 1)
        .unwrap_err();
    shop
}

/// One audit row, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    seq: i64,
    at: String,
    principal: String,
    action: String,
    resource: String,
    outcome: String,
    mac: Vec<u8>,
}

fn rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, principal, action, resource, outcome, mac FROM shopkeep_audit ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Row {
            seq: r.get(0)?,
            at: r.get(1)?,
            principal: r.get(2)?,
            action: r.get(3)?,
            resource: r.get(4)?,
            outcome: r.get(5)?,
            mac: r.get(6)?,
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn drop_triggers(conn: &Connection) {
    conn.execute_batch(
        "DROP TRIGGER shopkeep_audit_no_update; DROP TRIGGER shopkeep_audit_no_delete;
         DROP TRIGGER shopkeep_audit_append_only;",
    )
    .unwrap();
}

/// [`shop_with_varied_log`] with the append-only triggers dropped, a connection to its file, and
/// its rows as stored before any tampering.
fn untriggered() -> (Shop, Connection, Vec<Row>) {
    let shop = shop_with_varied_log();
    let conn = shop.raw();
    drop_triggers(&conn);
    let original = rows(&conn);
    (shop, conn, original)
}

fn write_row(conn: &Connection, row: &Row) {
    conn.execute(
        "UPDATE shopkeep_audit SET at = ?2, principal = ?3, action = ?4, resource = ?5, outcome = ?6, mac = ?7
         WHERE seq = ?1",
        rusqlite::params![
            row.seq,
            row.at,
            row.principal,
            row.action,
            row.resource,
            row.outcome,
            row.mac
        ],
    )
    .unwrap();
}

fn insert_row(conn: &Connection, row: &Row) {
    try_insert(conn, "INSERT", row).unwrap();
}

/// Writes `row` with `verb` (`INSERT`, `INSERT OR REPLACE`), as the triggers let it.
fn try_insert(conn: &Connection, verb: &str, row: &Row) -> rusqlite::Result<usize> {
    conn.execute(
        &format!(
            "{verb} INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ),
        rusqlite::params![
            row.seq,
            row.at,
            row.principal,
            row.action,
            row.resource,
            row.outcome,
            row.mac
        ],
    )
}

/// Sets `value` to `b` if it is `a`, else to `a`: a change of one field to another valid value.
fn swap(value: &mut String, a: &str, b: &str) {
    *value = if value == a { b } else { a }.to_owned();
}

fn broken(seq: u64, problem: AuditProblem) -> AuditVerification {
    AuditVerification::Broken { seq, problem }
}

fn head_of(verification: &AuditVerification) -> Option<AuditHead> {
    match verification {
        AuditVerification::Intact { head, .. } => head.clone(),
        other => panic!("the log is not intact: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// An independent implementation of the documented chain (docs/access-control.md), from the
// master key and the raw rows: unwrap the root key, derive the audit key, recompute every MAC.

fn lp(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
    out.extend_from_slice(part);
}

fn audit_key(conn: &Connection) -> [u8; 32] {
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit};

    let wrapped: Vec<u8> = conn
        .query_row(
            "SELECT value FROM shopkeep_meta WHERE key = 'root_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // version (1) || key id (4) || nonce (12) || ciphertext and tag; see docs/security.md.
    let mut aad = Vec::new();
    lp(&mut aad, b"shopkeep/root-key");
    aad.extend_from_slice(&wrapped[..5]);
    let nonce: [u8; 12] = wrapped[5..17].try_into().unwrap();
    let root = Aes256Gcm::new_from_slice(&MASTER)
        .unwrap()
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &wrapped[17..],
                aad: &aad,
            },
        )
        .unwrap();
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(None, &root)
        .expand(b"shopkeep v1 audit mac", &mut key)
        .unwrap();
    key
}

fn entry_mac(key: &[u8; 32], previous: &[u8], row: &Row) -> [u8; 32] {
    use hmac::{KeyInit, Mac};

    let mut message = Vec::new();
    lp(&mut message, previous);
    lp(&mut message, &u64::try_from(row.seq).unwrap().to_be_bytes());
    for part in [
        &row.at,
        &row.principal,
        &row.action,
        &row.resource,
        &row.outcome,
    ] {
        lp(&mut message, part.as_bytes());
    }
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(&message);
    mac.finalize().into_bytes().into()
}

/// Every row's MAC as the documented formula gives it.
fn recomputed_macs(conn: &Connection) -> Vec<[u8; 32]> {
    let key = audit_key(conn);
    let mut previous = [0u8; 32];
    rows(conn)
        .iter()
        .map(|row| {
            previous = entry_mac(&key, &previous, row);
            previous
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// An untouched log.

#[test]
fn an_untouched_log_of_ten_thousand_entries_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    // `Normal` only spares 10,000 fsyncs; the log is the same.
    let store = options()
        .durability(Durability::Normal)
        .open(&path, KeyRing::from_master_key(MASTER))
        .unwrap();
    let system = store.system();
    let anonymous = Principal::anonymous();
    let started = Instant::now();
    let mut last_key = None;
    for i in 0..10_000 {
        if i % 2 == 0 {
            // A refused read: one `denied` entry (the fastest public operation that writes one).
            store.audit_log(&anonymous).list(0, 1).unwrap_err();
        } else {
            let key = store
                .api_keys(&system)
                .create(NewApiKey::new("bulk", Role::Support).unwrap())
                .unwrap();
            last_key = Some(key.info().id());
        }
    }
    let created = started.elapsed();
    let log = store.audit_log(&system);
    let started = Instant::now();
    let verification = log.verify(None).unwrap();
    let verified = started.elapsed();
    eprintln!("10,000 audited calls: {created:?}; verification: {verified:?}");

    let head = log.head().unwrap().unwrap();
    assert_eq!(head.seq(), 10_000);
    assert_eq!(
        verification,
        AuditVerification::Intact {
            entries: 10_000,
            head: Some(head.clone()),
        }
    );
    // The head is the newest entry's MAC by the documented formula, computed independently.
    let conn = raw(&path);
    let macs = recomputed_macs(&conn);
    assert_eq!(macs.len(), 10_000);
    assert_eq!(head.to_string(), format!("10000:{}", hex(&macs[9_999])));
    let stored: Vec<Vec<u8>> = rows(&conn).into_iter().map(|r| r.mac).collect();
    assert!(
        stored.iter().zip(&macs).all(|(s, m)| s.as_slice() == m),
        "a stored MAC differs from the documented formula"
    );
    // Verifying against its own head, and verifying twice, changes nothing.
    assert_eq!(log.verify(Some(&head)).unwrap(), verification);
    assert_eq!(log.head().unwrap(), Some(head));
    // The newest entry is the last call's.
    let newest = log.list(9_999, 10).unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].seq(), 10_000);
    assert_eq!(newest[0].action(), "create_api_key");
    assert_eq!(
        newest[0].resource(),
        format!("api_key:{}", last_key.unwrap())
    );
    assert!(
        created < Duration::from_secs(60),
        "10,000 audited calls took {created:?}"
    );
}

#[test]
fn a_varied_log_follows_the_documented_formula() {
    let shop = shop_with_varied_log();
    let conn = shop.raw();
    let stored = rows(&conn);
    // Ten writes, logins and refusals; the allowed read of the log left no entry.
    assert_eq!(stored.len(), 10, "{stored:#?}");
    let macs = recomputed_macs(&conn);
    for (row, mac) in stored.iter().zip(&macs) {
        assert_eq!(row.mac.as_slice(), mac, "entry {}", row.seq);
    }
    assert_eq!(
        shop.head().to_string(),
        format!("{}:{}", stored.len(), hex(macs.last().unwrap()))
    );
    // The public view of each entry is the stored row.
    let system = shop.store.system();
    let listed = shop.store.audit_log(&system).list(0, 1_000).unwrap();
    assert_eq!(listed.len(), stored.len());
    for (entry, row) in listed.iter().zip(&stored) {
        assert_eq!(i64::try_from(entry.seq()).unwrap(), row.seq);
        assert_eq!(entry.at().to_string(), row.at);
        assert_eq!(entry.principal(), row.principal);
        assert_eq!(entry.action(), row.action);
        assert_eq!(entry.resource(), row.resource);
        let outcome = match entry.outcome() {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        };
        assert_eq!(outcome, row.outcome);
    }
    // Paging: `after` and `limit`.
    let page = shop.store.audit_log(&system).list(3, 2).unwrap();
    assert_eq!(page.iter().map(|e| e.seq()).collect::<Vec<_>>(), vec![4, 5]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Append-only in SQL.

#[test]
fn updates_and_deletes_are_refused_by_the_triggers() {
    let shop = shop_with_varied_log();
    let conn = shop.raw();
    let before = rows(&conn);
    let attempts = [
        "UPDATE shopkeep_audit SET outcome = 'allowed' WHERE outcome = 'denied'",
        "UPDATE shopkeep_audit SET principal = 'system' WHERE seq = 2",
        "UPDATE shopkeep_audit SET seq = seq + 100 WHERE seq = (SELECT max(seq) FROM shopkeep_audit)",
        "UPDATE shopkeep_audit SET mac = zeroblob(32)",
        "DELETE FROM shopkeep_audit WHERE seq = 3",
        "DELETE FROM shopkeep_audit WHERE seq > 5",
        "DELETE FROM shopkeep_audit",
        "INSERT INTO shopkeep_audit (seq, at, principal, action, resource, outcome, mac)
         SELECT seq, at, principal, action, resource, 'allowed', mac FROM shopkeep_audit WHERE seq = 4
         ON CONFLICT (seq) DO UPDATE SET outcome = excluded.outcome",
    ];
    for sql in attempts {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("the audit log is append-only"),
            "{sql}: {err}"
        );
        assert_eq!(rows(&conn), before, "{sql} changed the log");
    }
    // In a transaction, too: the refusal aborts the statement, and nothing is left behind.
    conn.execute_batch("BEGIN").unwrap();
    conn.execute("DELETE FROM shopkeep_audit WHERE seq = 1", [])
        .unwrap_err();
    conn.execute_batch("COMMIT").unwrap();
    assert_eq!(rows(&conn), before);
    assert_eq!(shop.entries(), u64::try_from(before.len()).unwrap());
}

/// `INSERT OR REPLACE` deletes the conflicting row without firing delete triggers (SQLite fires
/// them for REPLACE only with `recursive_triggers` on); the insert trigger, which lets an entry
/// in only at the end of the log, refuses it. With the triggers dropped, the chain catches it.
#[test]
fn an_overwrite_by_replace_is_refused() {
    let shop = shop_with_varied_log();
    let conn = shop.raw();
    let before = rows(&conn);
    let mut forged = before[3].clone();
    swap(&mut forged.outcome, "denied", "allowed");
    let replaced = try_insert(&conn, "INSERT OR REPLACE", &forged);
    let err = replaced.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(rows(&conn), before);
    assert_eq!(shop.entries(), u64::try_from(before.len()).unwrap());

    drop_triggers(&conn);
    try_insert(&conn, "INSERT OR REPLACE", &forged).unwrap();
    assert_eq!(rows(&conn)[3], forged, "the row was overwritten");
    assert_eq!(shop.verify(None), broken(4, AuditProblem::MacMismatch));
}

// ---------------------------------------------------------------------------------------------
// Tampering, with the triggers out of the way.

#[test]
fn an_edit_of_any_field_of_any_entry_is_found_at_that_entry() {
    let (shop, conn, original) = untriggered();
    let n = original.len();
    type Edit = (&'static str, fn(&mut Row));
    let edits: [Edit; 7] = [
        ("principal", |r| r.principal = format!("{}x", r.principal)),
        ("principal", |r| {
            swap(&mut r.principal, "system", "anonymous")
        }),
        ("action", |r| {
            swap(&mut r.action, "create_staff", "read_audit_log")
        }),
        ("resource", |r| {
            swap(&mut r.resource, "audit_log", "api_keys")
        }),
        ("outcome", |r| swap(&mut r.outcome, "allowed", "denied")),
        ("at", |r| {
            // One microsecond later: the smallest change the format can express.
            let last = r.at.pop().unwrap();
            assert_eq!(last, 'Z');
            let micros: u32 = r.at[r.at.len() - 6..].parse().unwrap();
            r.at.truncate(r.at.len() - 6);
            r.at.push_str(&format!("{:06}Z", (micros + 1) % 1_000_000));
        }),
        ("at", |r| r.at = "not a time".into()),
    ];
    for entry in &original {
        let k = u64::try_from(entry.seq).unwrap();
        for (field, edit) in &edits {
            let mut row = entry.clone();
            edit(&mut row);
            assert_ne!(&row, entry);
            write_row(&conn, &row);
            assert_eq!(
                shop.verify(None),
                broken(k, AuditProblem::MacMismatch),
                "edit of {field} of entry {k}"
            );
            write_row(&conn, entry);
            assert_eq!(shop.entries(), u64::try_from(n).unwrap(), "restored");
        }
    }
}

#[test]
fn a_deleted_entry_is_found_missing() {
    let (shop, conn, original) = untriggered();
    let n = original.len();
    for k in 1..n {
        // k is 1-based; the newest entry is the truncation case below.
        conn.execute(
            "DELETE FROM shopkeep_audit WHERE seq = ?1",
            [i64::try_from(k).unwrap()],
        )
        .unwrap();
        assert_eq!(
            shop.verify(None),
            broken(u64::try_from(k).unwrap(), AuditProblem::Missing),
            "entry {k} deleted"
        );
        insert_row(&conn, &original[k - 1]);
        assert_eq!(shop.entries(), u64::try_from(n).unwrap());
    }
    // Renumbering the entries after a deletion to close the gap breaks their MACs instead.
    conn.execute("DELETE FROM shopkeep_audit WHERE seq = 5", [])
        .unwrap();
    conn.execute("UPDATE shopkeep_audit SET seq = seq - 1 WHERE seq > 5", [])
        .unwrap();
    assert_eq!(shop.verify(None), broken(5, AuditProblem::MacMismatch));
}

#[test]
fn reordered_entries_are_found_at_the_first_moved_one() {
    let (shop, conn, original) = untriggered();
    let n = original.len();
    for (i, j) in [(1, 2), (3, 7), (1, n), (n - 1, n)] {
        let (mut a, mut b) = (original[i - 1].clone(), original[j - 1].clone());
        // Swap everything but the position: each row, MAC and all, moves to the other's place.
        std::mem::swap(&mut a.seq, &mut b.seq);
        write_row(&conn, &a);
        write_row(&conn, &b);
        assert_eq!(
            shop.verify(None),
            broken(u64::try_from(i).unwrap(), AuditProblem::MacMismatch),
            "entries {i} and {j} swapped"
        );
        write_row(&conn, &original[i - 1]);
        write_row(&conn, &original[j - 1]);
        assert_eq!(shop.entries(), u64::try_from(n).unwrap());
    }
}

#[test]
fn forged_entries_are_found() {
    let shop = shop_with_varied_log();
    let conn = shop.raw();
    let original = rows(&conn);
    let n = original.len();
    let newest = original.last().unwrap().clone();
    let forged = Row {
        seq: newest.seq + 1,
        at: newest.at.clone(),
        principal: "system".into(),
        action: "create_staff".into(),
        resource: "staff:0190e6a4-7c1a-7000-8000-000000000001".into(),
        outcome: "allowed".into(),
        mac: vec![0xab; 32],
    };
    // Appending needs no trigger to be dropped: INSERT is allowed, the MAC is what stops it.
    insert_row(&conn, &forged);
    let at = u64::try_from(n + 1).unwrap();
    assert_eq!(shop.verify(None), broken(at, AuditProblem::MacMismatch));
    // Nor does copying a real MAC help: the newest entry's, the first entry's, or zeros.
    drop_triggers(&conn);
    for mac in [newest.mac.clone(), original[0].mac.clone(), vec![0; 32]] {
        conn.execute(
            "UPDATE shopkeep_audit SET mac = ?2 WHERE seq = ?1",
            rusqlite::params![forged.seq, mac],
        )
        .unwrap();
        assert_eq!(shop.verify(None), broken(at, AuditProblem::MacMismatch));
    }
    conn.execute("DELETE FROM shopkeep_audit WHERE seq = ?1", [forged.seq])
        .unwrap();
    assert_eq!(shop.entries(), u64::try_from(n).unwrap());

    // A replay: the newest entry, MAC and all, once more at the next position.
    let replay = Row {
        seq: newest.seq + 1,
        ..newest.clone()
    };
    insert_row(&conn, &replay);
    assert_eq!(shop.verify(None), broken(at, AuditProblem::MacMismatch));
    conn.execute("DELETE FROM shopkeep_audit WHERE seq = ?1", [replay.seq])
        .unwrap();

    // A forgery in the middle, in place of a deleted entry.
    conn.execute("DELETE FROM shopkeep_audit WHERE seq = 4", [])
        .unwrap();
    insert_row(
        &conn,
        &Row {
            seq: 4,
            ..forged.clone()
        },
    );
    assert_eq!(shop.verify(None), broken(4, AuditProblem::MacMismatch));
    write_row(&conn, &original[3]);
    assert_eq!(shop.entries(), u64::try_from(n).unwrap());
}

#[test]
fn a_mac_copied_from_another_entry_is_a_mismatch() {
    let (shop, conn, original) = untriggered();
    let n = original.len();
    for (k, from) in [(2, 1), (5, 6), (n, 1), (1, n)] {
        conn.execute(
            "UPDATE shopkeep_audit SET mac = ?2 WHERE seq = ?1",
            rusqlite::params![i64::try_from(k).unwrap(), original[from - 1].mac],
        )
        .unwrap();
        assert_eq!(
            shop.verify(None),
            broken(u64::try_from(k).unwrap(), AuditProblem::MacMismatch),
            "entry {k} with the MAC of entry {from}"
        );
        write_row(&conn, &original[k - 1]);
    }
    // One flipped bit of a MAC is enough.
    let mut row = original[n / 2].clone();
    row.mac[31] ^= 1;
    write_row(&conn, &row);
    assert_eq!(
        shop.verify(None),
        broken(u64::try_from(row.seq).unwrap(), AuditProblem::MacMismatch)
    );
}

#[test]
fn a_cut_off_tail_is_found_only_with_a_kept_head() {
    let shop = shop_with_varied_log();
    let kept = head_of(&shop.verify(None)).unwrap();
    let n = kept.seq();
    let conn = shop.raw();
    drop_triggers(&conn);
    conn.execute(
        "DELETE FROM shopkeep_audit WHERE seq > ?1",
        [i64::try_from(n - 3).unwrap()],
    )
    .unwrap();

    assert_eq!(
        shop.verify(Some(&kept)),
        broken(n - 2, AuditProblem::Truncated)
    );
    // The limitation: the chain alone cannot tell a cut-off log from a shorter one. This is
    // why the host keeps the head outside the database.
    match shop.verify(None) {
        AuditVerification::Intact { entries, head } => {
            assert_eq!(entries, n - 3);
            assert_eq!(head.unwrap().seq(), n - 3);
        }
        other => panic!("{other:?}"),
    }

    // Every entry gone: still caught with the head, invisible without.
    conn.execute("DELETE FROM shopkeep_audit", []).unwrap();
    assert_eq!(shop.verify(Some(&kept)), broken(1, AuditProblem::Truncated));
    assert_eq!(
        shop.verify(None),
        AuditVerification::Intact {
            entries: 0,
            head: None
        }
    );
}

#[test]
fn a_kept_head_that_does_not_match_is_reported() {
    let shop = shop_with_varied_log();
    let kept = head_of(&shop.verify(None)).unwrap();
    let text = kept.to_string();
    // The same position with another MAC (one hex digit changed).
    let mut other = text.clone();
    let last = other.pop().unwrap();
    other.push(if last == '0' { '1' } else { '0' });
    let other = AuditHead::parse(&other).unwrap();
    assert_eq!(
        shop.verify(Some(&other)),
        broken(kept.seq(), AuditProblem::HeadMismatch)
    );
    // An older head of the same log is fine; so is the current one after more entries.
    let older = AuditHead::parse(&format!("3:{}", {
        let conn = shop.raw();
        hex(&rows(&conn)[2].mac)
    }))
    .unwrap();
    assert!(matches!(
        shop.verify(Some(&older)),
        AuditVerification::Intact { .. }
    ));
    // One more entry (a refused read); the kept head is now an older one.
    shop.store
        .audit_log(&Principal::anonymous())
        .head()
        .unwrap_err();
    assert!(matches!(
        shop.verify(Some(&kept)),
        AuditVerification::Intact { entries, .. } if entries == kept.seq() + 1
    ));
    // An older head at the wrong position: the MAC of entry 3 named as entry 4.
    let shifted = AuditHead::parse(&format!("4:{}", &older.to_string()[2..])).unwrap();
    assert_eq!(
        shop.verify(Some(&shifted)),
        broken(4, AuditProblem::HeadMismatch)
    );
}

/// Restoring an older copy of the file (a rollback) leaves a valid chain; a kept head catches
/// it, as `Truncated` while the log is shorter and as `HeadMismatch` once new entries have
/// grown it past the head.
#[test]
fn a_rollback_to_an_older_copy_is_found_with_a_kept_head() {
    let shop = shop_with_varied_log();
    let old_copy = shop.path.with_file_name("old.db");
    shop.store.backup_to(&old_copy).unwrap();
    let at_backup = shop.entries();
    for _ in 0..5 {
        shop.store
            .audit_log(&Principal::anonymous())
            .list(0, 1)
            .unwrap_err();
    }
    let kept = head_of(&shop.verify(None)).unwrap();
    assert_eq!(kept.seq(), at_backup + 5);

    let rolled_back = open(&old_copy);
    let system = rolled_back.system();
    let log = rolled_back.audit_log(&system);
    assert!(matches!(
        log.verify(None).unwrap(),
        AuditVerification::Intact { .. }
    ));
    assert_eq!(
        log.verify(Some(&kept)).unwrap(),
        broken(at_backup + 1, AuditProblem::Truncated)
    );
    for _ in 0..6 {
        rolled_back
            .audit_log(&Principal::anonymous())
            .list(0, 1)
            .unwrap_err();
    }
    assert_eq!(
        log.verify(Some(&kept)).unwrap(),
        broken(kept.seq(), AuditProblem::HeadMismatch)
    );
}

/// Whoever holds the master key (or the running process) can rebuild the whole chain after an
/// edit; `verify` alone then passes. A head kept outside the database still catches it.
#[test]
fn a_rewritten_chain_passes_alone_but_not_against_a_kept_head() {
    let shop = shop_with_varied_log();
    let kept = head_of(&shop.verify(None)).unwrap();
    let conn = shop.raw();
    drop_triggers(&conn);
    let key = audit_key(&conn);
    let mut all = rows(&conn);
    all[2].outcome = "allowed".into();
    all[2].principal = "system".into();
    let mut previous = [0u8; 32];
    for row in &mut all {
        previous = entry_mac(&key, &previous, row);
        row.mac = previous.to_vec();
        write_row(&conn, row);
    }
    assert!(matches!(
        shop.verify(None),
        AuditVerification::Intact { .. }
    ));
    assert_eq!(
        shop.verify(Some(&kept)),
        broken(kept.seq(), AuditProblem::HeadMismatch)
    );
}

// ---------------------------------------------------------------------------------------------
// What is audited, and how.

/// Every table but the audit log, as text, to show that a refused call changed nothing.
fn everything_but_the_log(conn: &Connection) -> Vec<(String, Vec<String>)> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'shopkeep_audit' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(tables.iter().any(|t| t == "shopkeep_staff"), "{tables:?}");
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
                .unwrap();
            let width = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    Ok((0..width)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            rows.sort();
            (table, rows)
        })
        .collect()
}

#[test]
fn each_write_leaves_its_entry() {
    let shop = Shop::new();
    let store = &shop.store;
    let system = store.system();
    let newest = || {
        let entries = store.audit_log(&system).list(0, 10_000).unwrap();
        entries.last().cloned().unwrap()
    };
    let check = |before: u64, action: &str, resource: &str, principal: &str| {
        assert_eq!(shop.entries(), before + 1, "one entry for {action}");
        let entry = newest();
        assert_eq!(entry.action(), action);
        assert_eq!(entry.resource(), resource);
        assert_eq!(entry.principal(), principal);
        assert_eq!(entry.outcome(), Outcome::Allowed);
        assert_eq!(entry.seq(), before + 1);
    };

    let before = shop.entries();
    let olga = shop.new_staff("olga@example.com", "Olga Owner", Role::Owner);
    check(before, "create_staff", &format!("staff:{olga}"), "system");

    let before = shop.entries();
    let owner = shop.login("olga@example.com");
    check(
        before,
        "login",
        &format!("staff:{olga}"),
        &format!("staff:{olga}"),
    );

    let before = shop.entries();
    let sam = store
        .staff(&owner)
        .create(staff_member(
            "sam@example.com",
            "Sam Support",
            Role::Support,
        ))
        .unwrap()
        .id();
    check(
        before,
        "create_staff",
        &format!("staff:{sam}"),
        &format!("staff:{olga}"),
    );

    let before = shop.entries();
    store.staff(&owner).change_role(sam, Role::Manager).unwrap();
    check(
        before,
        "change_staff_role",
        &format!("staff:{sam}"),
        &format!("staff:{olga}"),
    );

    let before = shop.entries();
    let key = store
        .api_keys(&owner)
        .create(NewApiKey::new("shipping", Role::Warehouse).unwrap())
        .unwrap();
    let key_id = key.info().id();
    check(
        before,
        "create_api_key",
        &format!("api_key:{key_id}"),
        &format!("staff:{olga}"),
    );

    let before = shop.entries();
    store.api_keys(&system).revoke(key_id).unwrap();
    check(
        before,
        "revoke_api_key",
        &format!("api_key:{key_id}"),
        "system",
    );

    let before = shop.entries();
    let sam_principal = shop.login("sam@example.com");
    let login_sam = store
        .login_staff(
            &Email::parse("sam@example.com").unwrap(),
            &Password::new(PASSWORD),
        )
        .unwrap();
    assert_eq!(shop.entries(), before + 2);
    let before = shop.entries();
    store
        .staff(&sam_principal)
        .change_password(
            sam,
            &Password::new(PASSWORD),
            &Password::new("another long and unusual passphrase"),
        )
        .unwrap();
    check(
        before,
        "change_staff_password",
        &format!("staff:{sam}"),
        &format!("staff:{sam}"),
    );
    // The password change ended the other session; resolving a dead session writes nothing.
    let before = shop.entries();
    assert_eq!(
        store
            .principal_from_session(login_sam.token())
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(shop.entries(), before);

    let before = shop.entries();
    store.staff(&owner).disable(sam).unwrap();
    check(
        before,
        "disable_staff",
        &format!("staff:{sam}"),
        &format!("staff:{olga}"),
    );

    // Allowed reads are not audited.
    let before = shop.entries();
    store.staff(&owner).list().unwrap();
    store.staff(&owner).get(sam).unwrap();
    store.api_keys(&owner).list().unwrap();
    store.audit_log(&owner).list(0, 10).unwrap();
    store.audit_log(&owner).verify(None).unwrap();
    assert_eq!(shop.entries(), before);
}

#[test]
fn a_write_and_its_entry_commit_together_or_not_at_all() {
    let shop = Shop::new();
    let store = &shop.store;
    let system = store.system();
    let key = store
        .api_keys(&system)
        .create(NewApiKey::new("kept", Role::Support).unwrap())
        .unwrap();
    let conn = shop.raw();
    let before_tables = everything_but_the_log(&conn);
    let before_log = rows(&conn);
    // Make every audit append fail, as a full disk or a broken log would.
    conn.execute_batch(
        "CREATE TRIGGER test_audit_unavailable BEFORE INSERT ON shopkeep_audit
         BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END;",
    )
    .unwrap();

    let new = staff_member("nina@example.com", "Nina New", Role::Manager);
    let err = store.staff(&system).create(new).unwrap_err();
    assert!(err.to_string().contains("audit unavailable"), "{err}");
    let err = store
        .api_keys(&system)
        .create(NewApiKey::new("lost", Role::Owner).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("audit unavailable"), "{err}");
    let err = store.api_keys(&system).revoke(key.info().id()).unwrap_err();
    assert!(err.to_string().contains("audit unavailable"), "{err}");

    // No staff account, no key, no revocation: the changes rolled back with their entries.
    assert_eq!(everything_but_the_log(&conn), before_tables);
    assert_eq!(rows(&conn), before_log);
    let still = store.principal_from_api_key(key.secret()).unwrap();
    assert_eq!(
        still.api_key_id(),
        Some(key.info().id()),
        "the key still works"
    );

    conn.execute_batch("DROP TRIGGER test_audit_unavailable")
        .unwrap();
    let nina = shop.new_staff("nina@example.com", "Nina New", Role::Manager);
    assert_eq!(rows(&conn).len(), before_log.len() + 1);
    assert_eq!(
        rows(&conn).last().unwrap().resource,
        format!("staff:{nina}")
    );
}

#[test]
fn a_refused_call_adds_exactly_one_denied_entry_and_changes_nothing_else() {
    let shop = Shop::new();
    let store = &shop.store;
    let system = store.system();
    let olga = shop.new_staff("olga@example.com", "Olga Owner", Role::Owner);
    let wim = shop.new_staff("wim@example.com", "Wim Warehouse", Role::Warehouse);
    let mia = shop.new_staff("mia@example.com", "Mia Manager", Role::Manager);
    let key = store
        .api_keys(&system)
        .create(NewApiKey::new("shipping", Role::Warehouse).unwrap())
        .unwrap();
    let warehouse = shop.login("wim@example.com");
    let manager = shop.login("mia@example.com");
    let shipping = store.principal_from_api_key(key.secret()).unwrap();
    let conn = shop.raw();

    type Call<'a> = Box<dyn Fn() -> shopkeep::Error + 'a>;
    let calls: Vec<(Call<'_>, ErrorKind, String, &str, String)> = vec![
        (
            Box::new(|| {
                store
                    .staff(&warehouse)
                    .create(staff_member("eve@example.com", "Eve", Role::Owner))
                    .unwrap_err()
            }),
            ErrorKind::Forbidden,
            format!("staff:{wim}"),
            "create_staff",
            "staff".to_owned(),
        ),
        (
            Box::new(|| store.staff(&warehouse).get(olga).unwrap_err()),
            ErrorKind::NotFound,
            format!("staff:{wim}"),
            "read_staff",
            format!("staff:{olga}"),
        ),
        (
            Box::new(|| store.staff(&manager).disable(olga).unwrap_err()),
            ErrorKind::Forbidden,
            format!("staff:{mia}"),
            "disable_staff",
            format!("staff:{olga}"),
        ),
        (
            Box::new(|| {
                store
                    .staff(&warehouse)
                    .change_role(wim, Role::Owner)
                    .unwrap_err()
            }),
            ErrorKind::Forbidden,
            format!("staff:{wim}"),
            "change_staff_role",
            format!("staff:{wim}"),
        ),
        (
            Box::new(|| {
                store
                    .api_keys(&shipping)
                    .revoke(key.info().id())
                    .unwrap_err()
            }),
            ErrorKind::NotFound,
            format!("api_key:{}", key.info().id()),
            "revoke_api_key",
            format!("api_key:{}", key.info().id()),
        ),
        (
            Box::new(|| store.api_keys(&manager).list().unwrap_err()),
            ErrorKind::Forbidden,
            format!("staff:{mia}"),
            "read_api_key",
            "api_keys".to_owned(),
        ),
        (
            Box::new(|| store.audit_log(&warehouse).verify(None).unwrap_err()),
            ErrorKind::Forbidden,
            format!("staff:{wim}"),
            "read_audit_log",
            "audit_log".to_owned(),
        ),
        (
            Box::new(|| {
                store
                    .audit_log(&Principal::anonymous())
                    .list(0, 10)
                    .unwrap_err()
            }),
            ErrorKind::Forbidden,
            "anonymous".to_owned(),
            "read_audit_log",
            "audit_log".to_owned(),
        ),
    ];
    for (call, kind, principal, action, resource) in calls {
        let tables = everything_but_the_log(&conn);
        let log = rows(&conn);
        let err = call();
        assert_eq!(err.kind(), kind, "{action}: {err}");
        assert_eq!(
            everything_but_the_log(&conn),
            tables,
            "{action} changed data"
        );
        let now = rows(&conn);
        assert_eq!(now.len(), log.len() + 1, "{action}: one entry");
        assert_eq!(now[..log.len()], log[..], "{action} changed old entries");
        let entry = now.last().unwrap();
        assert_eq!(
            (
                entry.principal.as_str(),
                entry.action.as_str(),
                entry.resource.as_str(),
                entry.outcome.as_str()
            ),
            (principal.as_str(), action, resource.as_str(), "denied"),
        );
    }
    assert!(matches!(
        shop.verify(None),
        AuditVerification::Intact { .. }
    ));
}

#[test]
fn failed_logins_are_audited_by_id_or_as_anonymous() {
    let shop = Shop::new();
    let olga = shop.new_staff("olga@example.com", "Olga Owner", Role::Owner);
    let conn = shop.raw();
    let attempts = [
        (
            "olga@example.com",
            "a wrong but long passphrase",
            format!("staff:{olga}"),
            format!("staff:{olga}"),
        ),
        (
            "nobody@example.com",
            PASSWORD,
            "anonymous".to_owned(),
            "staff".to_owned(),
        ),
    ];
    for (email, password, principal, resource) in attempts {
        let before = rows(&conn).len();
        let err = shop
            .store
            .login_staff(&Email::parse(email).unwrap(), &Password::new(password))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        let now = rows(&conn);
        assert_eq!(now.len(), before + 1);
        let entry = now.last().unwrap();
        assert_eq!(
            (
                &entry.principal,
                entry.action.as_str(),
                &entry.resource,
                entry.outcome.as_str()
            ),
            (&principal, "login", &resource, "denied")
        );
    }
}

#[test]
fn the_log_holds_no_personal_data_in_clear() {
    let shop = Shop::new();
    let store = &shop.store;
    let email = "ursula.quokkafeather@ursula-mail.test";
    let name = "Ursula Quokkafeather";
    let ursula = shop.new_staff(email, name, Role::Owner);
    let me = shop.login(email);
    store
        .login_staff(
            &Email::parse(email).unwrap(),
            &Password::new("the wrong passphrase, quite long"),
        )
        .unwrap_err();
    store
        .login_staff(
            &Email::parse("ghost.zebrawing@ursula-mail.test").unwrap(),
            &Password::new(PASSWORD),
        )
        .unwrap_err();
    store.staff(&me).get(ursula).unwrap();
    store
        .staff(&Principal::anonymous())
        .get(ursula)
        .unwrap_err();
    store
        .staff(&me)
        .change_password(
            ursula,
            &Password::new(PASSWORD),
            &Password::new("a brand new passphrase for ursula"),
        )
        .unwrap();
    let conn = shop.raw();
    let all = rows(&conn);
    assert!(all.len() >= 6, "{all:#?}");
    let text: String = all
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}\n",
                r.at, r.principal, r.action, r.resource, r.outcome
            )
        })
        .collect::<String>()
        .to_lowercase();
    for needle in [
        "ursula",
        "quokkafeather",
        "zebrawing",
        "ursula-mail",
        "@",
        "passphrase",
    ] {
        assert!(
            !text.contains(needle),
            "the audit log contains {needle:?}:\n{text}"
        );
    }
    // It names the account by id instead.
    assert!(text.contains(&format!("staff:{ursula}")));
}

// ---------------------------------------------------------------------------------------------
// The kept head's text form.

#[test]
fn an_audit_head_round_trips_through_text() {
    let shop = shop_with_varied_log();
    let head = shop.head();
    let text = head.to_string();
    let (seq, mac) = text.split_once(':').unwrap();
    assert_eq!(seq, head.seq().to_string());
    assert_eq!(mac.len(), 64);
    assert!(
        mac.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{text}"
    );
    assert_eq!(AuditHead::parse(&text).unwrap(), head);
    assert_eq!(AuditHead::parse(&format!("  {text}\n")).unwrap(), head);
    assert_eq!(format!("{head:?}"), format!("AuditHead({text})"));
    // A parsed head works for verification like the original.
    let parsed = AuditHead::parse(&text).unwrap();
    assert!(matches!(
        shop.verify(Some(&parsed)),
        AuditVerification::Intact { .. }
    ));
    // Different heads have different text.
    let other = AuditHead::parse(&format!("{}:{}", head.seq() + 1, mac)).unwrap();
    assert_ne!(other, head);
    assert_ne!(other.to_string(), text);
}

#[test]
fn malformed_audit_heads_are_refused() {
    let hex64 = "0123456789abcdef".repeat(4);
    let malformed = [
        String::new(),
        "   ".to_owned(),
        "12".to_owned(),
        hex64.clone(),
        format!(":{hex64}"),
        format!("x:{hex64}"),
        format!("-1:{hex64}"),
        format!("1.5:{hex64}"),
        format!("18446744073709551616:{hex64}"),
        format!("1 2:{hex64}"),
        "1:".to_owned(),
        format!("1:{}", &hex64[..63]),
        format!("1:{hex64}0"),
        format!("1:{}g", &hex64[..63]),
        format!("1:{}zz", &hex64[..62]),
        format!("1:{}é", &hex64[..62]),
        format!("1:2:{}", &hex64[..62]),
        format!("1:0x{}", &hex64[..62]),
        format!("1;{hex64}"),
        format!("1:{} ", &hex64[..32]) + &hex64[..31],
    ];
    for text in &malformed {
        let err = AuditHead::parse(text).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "audit_head"
            },
            "{text:?}"
        );
    }
    let valid = format!("1:{hex64}");
    let head = AuditHead::parse(&valid).unwrap();
    assert_eq!((head.seq(), head.to_string()), (1, valid));
}
