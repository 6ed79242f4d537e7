//! The outbox: transactional emission, leases, redelivery, acknowledgement.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::*;
use crate::{Clock, Error, ErrorKind, KeyRing, ManualClock, Principal, Store};

#[derive(Serialize)]
struct Ping {
    n: u32,
}

impl OutboxEvent for Ping {
    const KIND: &'static str = "test.ping";
    const VERSION: u32 = 1;
}

fn store(clock: &ManualClock) -> Store {
    Store::options()
        .clock(clock.clone())
        .open_in_memory(KeyRing::from_master_key([8; 32]))
        .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(crate::Timestamp::parse_rfc3339("2026-11-28T10:00:00Z").unwrap())
}

fn emit(store: &Store, n: u32) {
    store.write(|tx| tx.emit(&Ping { n })).unwrap();
}

const LEASE: Duration = Duration::from_secs(60);

#[test]
fn an_event_exists_only_if_its_transaction_committed() {
    let clock = clock();
    let store = store(&clock);
    emit(&store, 1);
    let err = store
        .write(|tx| {
            tx.emit(&Ping { n: 2 })?;
            Err::<(), _>(Error::new(ErrorKind::Conflict, "the change failed"))
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let system = store.system();
    let batch = store.events(&system).poll(10, LEASE).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].data_json(), r#"{"n":1}"#);
    assert_eq!(batch[0].kind(), "test.ping");
    let json: serde_json::Value = serde_json::from_str(&batch[0].to_json()).unwrap();
    assert_eq!(json["type"], "test.ping");
    assert_eq!(json["data"]["n"], 1);
    assert_eq!(json["id"], batch[0].id().to_string());
}

#[test]
fn leased_events_come_back_after_the_lease_until_acknowledged() {
    let clock = clock();
    let store = store(&clock);
    for n in 0..5 {
        emit(&store, n);
    }
    let system = store.system();
    let events = store.events(&system);
    let first = events.poll(3, LEASE).unwrap();
    assert_eq!(
        first
            .iter()
            .map(|e| e.data_json().to_owned())
            .collect::<Vec<_>>(),
        [r#"{"n":0}"#, r#"{"n":1}"#, r#"{"n":2}"#]
    );
    let second = events.poll(10, LEASE).unwrap();
    assert_eq!(second.len(), 2, "leased events were handed out twice");
    assert!(events.poll(10, LEASE).unwrap().is_empty());

    events.ack(&[first[0].id(), first[1].id()]).unwrap();
    clock.advance(LEASE + Duration::from_secs(1));
    let again = events.poll(10, LEASE).unwrap();
    let ids: Vec<_> = again.iter().map(Event::id).collect();
    assert_eq!(ids, [first[2].id(), second[0].id(), second[1].id()]);
    assert!(again.iter().all(|e| e.attempts() == 2));
    assert_eq!(events.pending().unwrap(), 3);

    events.ack(&ids).unwrap();
    events.ack(&ids).unwrap(); // twice is fine
    clock.advance(LEASE * 10);
    assert!(events.poll(10, LEASE).unwrap().is_empty());
    assert_eq!(events.pending().unwrap(), 0);

    let err = events.ack(&[EventId::from_bytes([1; 16])]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    clock.advance(Duration::from_secs(1));
    assert_eq!(events.purge_acknowledged(clock.now()).unwrap(), 5);
}

#[test]
fn concurrent_consumers_never_hold_the_same_event() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = Store::options()
        .clock(clock.clone())
        .open(
            dir.path().join("shop.db"),
            KeyRing::from_master_key([8; 32]),
        )
        .unwrap();
    for n in 0..400 {
        emit(&store, n);
    }
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let system = store.system();
                let mut got = Vec::new();
                loop {
                    let batch = store.events(&system).poll(7, LEASE).unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch.iter().map(Event::id));
                }
            })
        })
        .collect();
    let all: Vec<EventId> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 400);
    assert_eq!(distinct.len(), 400, "an event was leased to two consumers");
}

#[test]
fn bad_batches_and_leases_are_refused_and_others_may_not_consume() {
    let clock = clock();
    let store = store(&clock);
    let system = store.system();
    let events = store.events(&system);
    for (limit, lease) in [
        (0, LEASE),
        (1001, LEASE),
        (10, Duration::ZERO),
        (10, Duration::from_secs(86_401)),
    ] {
        assert!(matches!(
            events.poll(limit, lease).unwrap_err().kind(),
            ErrorKind::Validation { .. }
        ));
    }
    emit(&store, 1);
    let anonymous = Principal::anonymous();
    let err = store.events(&anonymous).poll(10, LEASE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(
        events.poll(10, LEASE).unwrap().len(),
        1,
        "a refused poll leased something"
    );
}
