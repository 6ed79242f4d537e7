//! Lead scoring: the activities the host reports, the documented points and caps on
//! hand-computed cases, idempotency by activity id, purchases only after conversion, the "top
//! leads" list and erasure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use shopkeep::clock::ManualClock;
use shopkeep::leads::{Activity, ActivityKind, LeadForm, LeadId, LeadStatus};
use shopkeep::{ErrorKind, Principal, Store};

use common::clock;
use common::open;
use common::{count, count_where, dump};

const TABLES: &[&str] = &[
    "shopkeep_leads",
    "shopkeep_lead_activities",
    "shopkeep_audit",
    "shopkeep_outbox",
];

fn shop() -> (tempfile::TempDir, ManualClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = open(&dir.path().join("shop.db"), &clock);
    (dir, clock, store)
}

fn lead(store: &Store, email: &str) -> LeadId {
    let form = LeadForm::new("Lee Lead", email, "Do you ship mugs to Norway?").accept_terms(true);
    store
        .leads(&Principal::anonymous())
        .submit(form, email)
        .unwrap()
        .id()
}

fn act(kind: ActivityKind, id: &str) -> Activity {
    Activity::new(kind, id).unwrap()
}

/// Records `activity` for `lead` now, as the system, and answers the new score.
fn record(store: &Store, lead: LeadId, activity: &Activity) -> i64 {
    store
        .leads(&store.system())
        .record_activity(lead, activity, store.now())
        .unwrap()
        .score()
}

#[test]
fn activities_earn_the_documented_points_up_to_each_kinds_cap() {
    let (_dir, _clock, store) = shop();
    let id = lead(&store, "lee@example.com");
    use ActivityKind::*;
    // 3 opens (1 each), 2 clicks (3 each), 1 visit (2): 3 + 6 + 2 = 11.
    let mut score = 0;
    for (kind, n) in [(EmailOpened, 3), (LinkClicked, 2), (SiteVisit, 1)] {
        for i in 0..n {
            score = record(&store, id, &act(kind, &format!("{kind}-{i}")));
        }
    }
    assert_eq!(score, 11);
    assert_eq!(store.leads(&store.system()).get(id).unwrap().score(), 11);
    // 9 more opens: only 7 count (opens stop at 10 points): 11 + 7 = 18.
    for i in 3..12 {
        score = record(&store, id, &act(EmailOpened, &format!("open-{i}")));
    }
    assert_eq!(score, 18);
    // 11 more visits: visits stop at 20 points (10 visits): 18 + 18 = 36.
    for i in 1..12 {
        score = record(&store, id, &act(SiteVisit, &format!("visit-{i}")));
    }
    assert_eq!(score, 36);
    // Every activity is stored and announced, with the points it earned.
    assert_eq!(count(&store, "shopkeep_lead_activities"), 26);
    assert_eq!(
        count_where(
            &store,
            "shopkeep_outbox",
            "type = 'lead.activity_recorded' AND data LIKE '%\"points\":0%'"
        ),
        // the 11th and 12th open, the 11th and 12th visit
        2 + 2
    );
    // The lead's export lists them, with their points.
    let export = store.leads(&store.system()).export(id).unwrap();
    assert_eq!(export.activities().len(), 26);
    let points: i64 = export.activities().iter().map(|a| a.points()).sum();
    assert_eq!(points, 36);
    assert!(export.to_json().unwrap().contains("\"site_visit\""));
}

#[test]
fn reporting_an_activity_again_changes_nothing() {
    let (_dir, _clock, store) = shop();
    let (a, b) = (lead(&store, "a@example.com"), lead(&store, "b@example.com"));
    let click = act(ActivityKind::LinkClicked, "msg-1/click");
    assert_eq!(record(&store, a, &click), 3);
    let before = dump(&store, TABLES);
    assert_eq!(record(&store, a, &click), 3);
    assert_eq!(dump(&store, TABLES), before);
    // The same id for another lead, or another kind, is the host's mistake.
    let system = store.system();
    let leads = store.leads(&system);
    for (id, activity) in [
        (b, click.clone()),
        (a, act(ActivityKind::EmailOpened, "msg-1/click")),
    ] {
        let err = leads
            .record_activity(id, &activity, store.now())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
    }
    // A time after now, an empty id: refused, nothing written.
    let err = leads
        .record_activity(
            a,
            &act(ActivityKind::SiteVisit, "v"),
            store.now().checked_add(Duration::from_secs(1)).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "at" });
    assert_eq!(
        Activity::new(ActivityKind::SiteVisit, " ")
            .unwrap_err()
            .kind(),
        ErrorKind::Validation {
            field: "activity_id"
        }
    );
    assert_eq!(dump(&store, TABLES), before);
}

#[test]
fn purchases_count_only_after_conversion() {
    let (_dir, _clock, store) = shop();
    let id = lead(&store, "ana@example.com");
    let system = store.system();
    let leads = store.leads(&system);
    let before = dump(&store, TABLES);
    let err = leads
        .record_activity(id, &act(ActivityKind::Purchase, "order-1"), store.now())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    assert_eq!(dump(&store, TABLES), before);
    common::customer(&store, "ana@example.com", "DE");
    // 20 per purchase, at most 40.
    let scores: Vec<i64> = (1..=3)
        .map(|n| {
            record(
                &store,
                id,
                &act(ActivityKind::Purchase, &format!("order-{n}")),
            )
        })
        .collect();
    assert_eq!(scores, [20, 40, 40]);
}

#[test]
fn tracking_never_conflicts_with_staff_and_top_lists_the_best_first() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let ids: Vec<LeadId> = (0..4)
        .map(|n| {
            clock.advance(Duration::from_millis(10));
            lead(&store, &format!("l{n}@example.com"))
        })
        .collect();
    let read = leads.get(ids[1]).unwrap();
    record(&store, ids[1], &act(ActivityKind::LinkClicked, "c1"));
    record(&store, ids[2], &act(ActivityKind::LinkClicked, "c2"));
    record(&store, ids[2], &act(ActivityKind::EmailOpened, "o2"));
    record(&store, ids[3], &act(ActivityKind::LinkClicked, "c3"));
    // Staff read the lead before the click: their move still goes through.
    leads
        .set_status(ids[1], read.version(), LeadStatus::Contacted)
        .unwrap();
    let top: Vec<(LeadId, i64)> = leads
        .top(10)
        .unwrap()
        .iter()
        .map(|l| (l.id(), l.score()))
        .collect();
    // 4 points; then 3 and 3, the older first; then 0.
    assert_eq!(top, [(ids[2], 4), (ids[1], 3), (ids[3], 3), (ids[0], 0)]);
    assert_eq!(leads.top(1).unwrap().len(), 1);
    // Erased: off the list, its activities forgotten.
    leads.erase(ids[2]).unwrap();
    assert_eq!(leads.top(10).unwrap()[0].id(), ids[1]);
    assert_eq!(count(&store, "shopkeep_lead_activities"), 2);
}

#[test]
fn only_staff_who_answer_leads_record_activities() {
    let (_dir, _clock, store) = shop();
    let id = lead(&store, "lee@example.com");
    let customer = common::customer(&store, "c@example.com", "DE");
    // Refusals are audited as denials; nothing else is written.
    let tables = [
        "shopkeep_leads",
        "shopkeep_lead_activities",
        "shopkeep_outbox",
    ];
    for who in [Principal::anonymous(), customer] {
        let before = dump(&store, &tables);
        let err = store
            .leads(&who)
            .record_activity(id, &act(ActivityKind::SiteVisit, "v1"), store.now())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(store.leads(&who).top(10).is_err());
        assert_eq!(dump(&store, &tables), before);
    }
}
