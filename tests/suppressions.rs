//! The suppression list: adding (idempotent), asking, removing and listing, in any spelling of a
//! mailbox; who may; that no address is stored anywhere; and that an entry outlives the
//! erasure of the customer or lead with that address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use shopkeep::access::Role;
use shopkeep::leads::LeadForm;
use shopkeep::marketing::{SuppressionReason, SuppressionRepo};
use shopkeep::{Email, ErrorKind, Principal, Store};

use common::open;
use common::{clock, contains, raw_bytes};
use common::{count, count_where, dump};

/// Every table a suppression list call may write to.
const TABLES: &[&str] = &["shopkeep_suppressions", "shopkeep_outbox"];

fn shop() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("shop.db"), &clock());
    (dir, store)
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn audited(store: &Store, condition: &str) -> i64 {
    count_where(
        store,
        "shopkeep_audit",
        &format!("action = 'manage_suppressions' AND {condition}"),
    )
}

#[test]
fn an_address_is_added_once_found_listed_and_removed() {
    let (_dir, store) = shop();
    let marketing = common::staff(&store, "mia@example.com", Role::Marketing);
    let list = store.suppressions(&marketing);
    let ana = email("ana@example.com");
    assert!(!list.contains(&ana).unwrap());

    let entry = list
        .add(
            &ana,
            SuppressionReason::Complaint,
            Some(" FBL report 4711 "),
        )
        .unwrap();
    assert_eq!(entry.reason(), SuppressionReason::Complaint);
    assert_eq!(entry.note(), Some("FBL report 4711"));
    assert_eq!(entry.recorded_at(), store.now());
    assert_eq!(
        entry.recorded_by(),
        format!("staff:{}", marketing.staff_id().unwrap())
    );
    assert!(list.contains(&ana).unwrap());
    assert!(!list.contains(&email("bo@example.com")).unwrap());
    assert_eq!(list.list(None, 10).unwrap(), vec![entry.clone()]);

    // Again, with another reason and note: the first entry stands, nothing is written but
    // the audit entry.
    let before = dump(&store, TABLES);
    let again = list
        .add(&ana, SuppressionReason::HardBounce, Some("550 5.1.1"))
        .unwrap();
    assert_eq!(again, entry);
    assert_eq!(dump(&store, TABLES), before);
    assert_eq!(
        audited(&store, &format!("resource = 'suppression:{}'", entry.id())),
        2
    );
    let added = count_where(&store, "shopkeep_outbox", "type = 'suppression.added'");
    assert_eq!(added, 1);
    // The event names the entry and nothing else.
    let data = common::db::texts(
        &store,
        "SELECT data FROM shopkeep_outbox WHERE type = 'suppression.added'",
    );
    assert_eq!(data, [format!(r#"{{"suppression_id":"{}"}}"#, entry.id())]);

    assert!(list.remove(&ana).unwrap());
    assert!(!list.contains(&ana).unwrap());
    assert!(!list.remove(&ana).unwrap());
    assert!(list.list(None, 10).unwrap().is_empty());
    assert_eq!(
        count_where(&store, "shopkeep_outbox", "type = 'suppression.removed'"),
        1
    );
    // The removal is audited on the entry; the second removal, which found none, on the list.
    assert_eq!(
        audited(&store, &format!("resource = 'suppression:{}'", entry.id())),
        3
    );
    assert_eq!(audited(&store, "resource = 'suppressions'"), 1);
}

#[test]
fn every_spelling_of_a_mailbox_is_one_entry() {
    let (_dir, store) = shop();
    let system = store.system();
    let list = store.suppressions(&system);
    let entry = list
        .add(
            &email("José@Bücher.example"),
            SuppressionReason::Manual,
            None,
        )
        .unwrap();
    // Case, the decomposed é (e + U+0301) and the domain's ASCII form are the same mailbox.
    for spelling in [
        "josé@bücher.example",
        "JOSÉ@BÜCHER.EXAMPLE",
        "jose\u{301}@bücher.example",
        "josé@xn--bcher-kva.example",
        " José@Bücher.example ",
    ] {
        assert!(list.contains(&email(spelling)).unwrap(), "{spelling}");
        let again = list
            .add(&email(spelling), SuppressionReason::HardBounce, None)
            .unwrap();
        assert_eq!(again.id(), entry.id(), "{spelling}");
    }
    assert_eq!(count(&store, "shopkeep_suppressions"), 1);
    assert!(!list.contains(&email("jose@bücher.example")).unwrap());
    assert!(
        list.remove(&email("jose\u{301}@xn--bcher-kva.example"))
            .unwrap()
    );
    assert_eq!(count(&store, "shopkeep_suppressions"), 0);
}

#[test]
fn the_list_stores_no_address_and_matches_the_shops_own_blind_indexes() {
    let (dir, store) = shop();
    let system = store.system();
    let ana = common::customer(&store, "ana.suppressed@example.com", "DE")
        .customer_id()
        .unwrap();
    let form = LeadForm::new("Lee", "Lee.Suppressed@Example.com", "Do you ship to Oslo?")
        .accept_terms(true);
    let lead = store
        .leads(&Principal::anonymous())
        .submit(form, "198.51.100.1")
        .unwrap()
        .id();
    let list = store.suppressions(&system);
    list.add(
        &email("ANA.SUPPRESSED@example.com"),
        SuppressionReason::HardBounce,
        None,
    )
    .unwrap();
    list.add(
        &email("lee.suppressed@example.com"),
        SuppressionReason::Complaint,
        None,
    )
    .unwrap();
    list.add(
        &email("never.a.customer@example.com"),
        SuppressionReason::Manual,
        Some("asked by phone, ticket 88"),
    )
    .unwrap();

    // The entries hold the very index the customers' and the leads' rows hold.
    let ana_id = common::db::blob(&store, &common::uuid_bytes(&ana.to_string()));
    let lead_id = common::db::blob(&store, &common::uuid_bytes(&lead.to_string()));
    let customer_match = common::db::texts(
        &store,
        &format!(
            "SELECT count(*) FROM shopkeep_suppressions s JOIN shopkeep_customers c
                 ON c.email_index = s.customer_index WHERE c.id = {ana_id}"
        ),
    );
    let lead_match = common::db::texts(
        &store,
        &format!(
            "SELECT count(*) FROM shopkeep_suppressions s JOIN shopkeep_leads l
                 ON l.email_index = s.lead_index WHERE l.id = {lead_id}"
        ),
    );
    assert_eq!(
        (customer_match, lead_match),
        (vec!["1".to_owned()], vec!["1".to_owned()])
    );
    // And nothing else: the columns are the two indexes, the reason, the note, when, who.
    let columns = common::db::texts(
        &store,
        match store.path() {
            Some(_) => "SELECT name FROM pragma_table_info('shopkeep_suppressions') ORDER BY cid",
            None => {
                "SELECT column_name FROM information_schema.columns
                     WHERE table_schema = current_schema()
                     AND table_name = 'shopkeep_suppressions' ORDER BY ordinal_position"
            }
        },
    );
    assert_eq!(
        columns,
        [
            "id",
            "customer_index",
            "lead_index",
            "reason",
            "note",
            "recorded_at",
            "recorded_by"
        ]
    );
    // An address the shop never had as a customer or lead is nowhere in the file or its WAL
    // (on PostgreSQL: in no row of the store's schema).
    let bytes = match store.path() {
        Some(_) => raw_bytes(&dir.path().join("shop.db")),
        None => common::db::everything(&store).into_bytes(),
    };
    assert!(!contains(&bytes, b"never.a.customer"));
    assert!(contains(&bytes, b"asked by phone, ticket 88"));
}

#[test]
fn an_entry_outlives_the_erasure_of_the_customer_and_the_lead() {
    let (_dir, store) = shop();
    let system = store.system();
    let ana = common::customer(&store, "ana@example.com", "DE")
        .customer_id()
        .unwrap();
    let form = LeadForm::new("Ana", "ana@example.com", "Do you ship to Oslo?").accept_terms(true);
    let lead = store
        .leads(&Principal::anonymous())
        .submit(form, "198.51.100.1")
        .unwrap()
        .id();
    let list = store.suppressions(&system);
    let entry = list
        .add(&email("ana@example.com"), SuppressionReason::Manual, None)
        .unwrap();
    store.customers(&system).erase(ana).unwrap();
    store.leads(&system).erase(lead).unwrap();
    assert!(list.contains(&email("Ana@Example.com")).unwrap());
    assert_eq!(list.list(None, 10).unwrap(), vec![entry]);
    // The erasures cleared the indexes on the rows; the list kept its own.
    assert_eq!(
        count_where(&store, "shopkeep_customers", "email_index IS NOT NULL"),
        0
    );
    assert_eq!(
        count_where(&store, "shopkeep_leads", "email_index IS NOT NULL"),
        0
    );
}

#[test]
fn only_marketing_the_owner_and_the_system_use_the_list() {
    let (_dir, store) = shop();
    let system = store.system();
    let ana = email("ana@example.com");
    let entry = store
        .suppressions(&system)
        .add(&ana, SuppressionReason::HardBounce, None)
        .unwrap();
    let customer = common::customer(&store, "cy@example.com", "DE");
    let support = common::staff(&store, "sue@example.com", Role::Support);
    let manager = common::staff(&store, "max@example.com", Role::Manager);
    let owner = common::staff(&store, "olga@example.com", Role::Owner);
    let marketing = common::staff(&store, "mia@example.com", Role::Marketing);
    let anonymous = Principal::anonymous();

    let refused = |list: SuppressionRepo<'_>| {
        let before = dump(&store, TABLES);
        let errors = [
            list.add(&email("bo@example.com"), SuppressionReason::Manual, None)
                .map(drop),
            list.remove(&ana).map(drop),
            list.remove_entry(entry.id()).map(drop),
            list.contains(&ana).map(drop),
            list.list(None, 10).map(drop),
        ];
        for error in errors {
            assert_eq!(error.unwrap_err().kind(), ErrorKind::Forbidden);
        }
        assert_eq!(dump(&store, TABLES), before, "nothing written");
    };
    let denials = || count_where(&store, "shopkeep_audit", "outcome = 'denied'");
    let before = denials();
    for principal in [&customer, &anonymous, &support, &manager] {
        refused(store.suppressions(principal));
    }
    assert_eq!(denials() - before, 4 * 5, "every refusal audited");

    for principal in [&owner, &marketing] {
        let list = store.suppressions(principal);
        assert!(list.contains(&ana).unwrap());
        let bo = email("bo@example.com");
        let added = list.add(&bo, SuppressionReason::Manual, None).unwrap();
        assert_eq!(list.list(None, 10).unwrap().len(), 2);
        assert!(list.remove_entry(added.id()).unwrap());
        assert!(!list.remove_entry(added.id()).unwrap());
    }
}

#[test]
fn bad_notes_and_pages_are_refused_and_nothing_is_written() {
    let (_dir, store) = shop();
    let system = store.system();
    let list = store.suppressions(&system);
    let before = dump(&store, TABLES);
    for note in [
        "bounced for ana@example.com",
        "two\nlines",
        &"x".repeat(201),
    ] {
        let err = list
            .add(
                &email("ana@example.com"),
                SuppressionReason::HardBounce,
                Some(note),
            )
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "note" },
            "{note:?}"
        );
    }
    assert_eq!(dump(&store, TABLES), before);
    for limit in [0, 501] {
        assert_eq!(
            list.list(None, limit).unwrap_err().kind(),
            ErrorKind::Validation { field: "limit" }
        );
    }
    // A blank note is no note.
    let entry = list
        .add(
            &email("ana@example.com"),
            SuppressionReason::HardBounce,
            Some("   "),
        )
        .unwrap();
    assert_eq!(entry.note(), None);
}

#[test]
fn the_list_pages_oldest_first() {
    let (_dir, store) = shop();
    let system = store.system();
    let list = store.suppressions(&system);
    let ids: Vec<_> = (0..5)
        .map(|i| {
            list.add(
                &email(&format!("bounce{i}@example.com")),
                SuppressionReason::HardBounce,
                None,
            )
            .unwrap()
            .id()
        })
        .collect();
    let first = list.list(None, 2).unwrap();
    let second = list.list(Some(first[1].id()), 2).unwrap();
    let third = list.list(Some(second[1].id()), 2).unwrap();
    let paged: Vec<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|e| e.id())
        .collect();
    assert_eq!(paged, ids);
    assert!(list.list(Some(ids[4]), 2).unwrap().is_empty());
}
