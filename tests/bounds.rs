//! Every numeric option and constructor has a documented range: a value outside it is a
//! `Validation` error (never a panic), and a value inside it works (never a later `Overflow`).
//! Properties over the extremes (0, 1, the bounds and one past them, `MAX`) and random values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use proptest::prelude::*;
use shopkeep::access::{LoginThrottle, SessionSettings};
use shopkeep::catalog::ProductQuery;
use shopkeep::crypto::{Password, PasswordParams};
use shopkeep::orders::OrderQuery;
use shopkeep::{Email, ErrorKind, KeyRing, Store, StoreOptions};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Durations at and around every bound the crate documents, and anywhere else.
fn duration() -> impl Strategy<Value = Duration> {
    let one_ns = Duration::from_nanos(1);
    prop_oneof![
        prop::sample::select(vec![
            Duration::ZERO,
            one_ns,
            Duration::from_millis(1),
            Duration::from_secs(1),
            MINUTE - one_ns,
            MINUTE,
            HOUR,
            HOUR + one_ns,
            DAY,
            DAY + one_ns,
            30 * DAY,
            30 * DAY + one_ns,
            YEAR,
            YEAR + one_ns,
            // SQLite's busy timeout is a C int of milliseconds.
            Duration::from_millis(u64::from(i32::MAX.unsigned_abs()) + 1),
            Duration::from_secs(u64::MAX),
            Duration::MAX,
        ]),
        any::<u64>().prop_map(Duration::from_secs),
        (0u64..=2 * 365 * 24 * 3600).prop_map(Duration::from_secs),
    ]
}

fn count() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![0, 1, 2, 64, 65, 100, 101, u32::MAX - 1, u32::MAX]),
        any::<u32>(),
    ]
}

fn options() -> StoreOptions {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .clock(common::clock())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Before the fix `busy_timeout(Duration::MAX)` panicked inside rusqlite.
    #[test]
    fn store_timeouts_are_validated_and_accepted_ones_are_applied(
        busy in duration(),
        pool in duration(),
    ) {
        let opened = options()
            .busy_timeout(busy)
            .pool_timeout(pool)
            .open_in_memory(KeyRing::from_master_key([3; 32]));
        if busy > HOUR {
            prop_assert_eq!(
                opened.unwrap_err().kind(),
                ErrorKind::Validation { field: "busy_timeout" }
            );
        } else if pool > HOUR {
            prop_assert_eq!(
                opened.unwrap_err().kind(),
                ErrorKind::Validation { field: "pool_timeout" }
            );
        } else {
            let store = opened.unwrap();
            let report = store.connection_report().unwrap();
            let millis = u64::try_from(busy.as_millis()).unwrap();
            prop_assert_eq!(report[0].busy_timeout(), Duration::from_millis(millis));
        }
    }

    /// Before the fix `SessionSettings::new(Duration::MAX, Duration::MAX)` was accepted and
    /// every login then failed with `Overflow`.
    #[test]
    fn session_settings_are_validated_and_accepted_ones_log_in(
        idle in duration(),
        absolute in duration(),
    ) {
        let settings = SessionSettings::new(idle, absolute);
        if idle < MINUTE || idle > absolute || absolute > YEAR {
            prop_assert_eq!(
                settings.unwrap_err().kind(),
                ErrorKind::Validation { field: "sessions" }
            );
            return Ok(());
        }
        let store = options()
            .sessions(settings.unwrap())
            .open_in_memory(KeyRing::from_master_key([3; 32]))
            .unwrap();
        // Registers, logs in and resolves the session; any error fails the case.
        common::customer(&store, "ana@example.com", "DE");
    }

    #[test]
    fn login_throttles_are_validated_and_accepted_ones_throttle(
        free in count(),
        first in duration(),
        max in duration(),
        quiet in duration(),
    ) {
        let throttle = LoginThrottle::new(free, first, max).and_then(|t| t.forget_after(quiet));
        let in_range = (1..=100).contains(&free)
            && first >= Duration::from_secs(1)
            && first <= max
            && max <= DAY
            && quiet >= max
            && quiet <= 30 * DAY;
        if !in_range {
            prop_assert_eq!(
                throttle.unwrap_err().kind(),
                ErrorKind::Validation { field: "login_throttle" }
            );
            return Ok(());
        }
        let store = options()
            .login_throttle(throttle.unwrap())
            .open_in_memory(KeyRing::from_master_key([3; 32]))
            .unwrap();
        let email = Email::parse("nobody@example.com").unwrap();
        for _ in 0..3 {
            let kind = store
                .login(&email, &Password::new("not the password at all"))
                .unwrap_err()
                .kind();
            prop_assert!(
                matches!(kind, ErrorKind::Unauthenticated | ErrorKind::TooManyAttempts),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn password_params_outside_their_bounds_are_refused(
        memory in count(),
        iterations in count(),
        parallelism in count(),
    ) {
        let params = PasswordParams::new(memory, iterations, parallelism);
        if memory > 1024 * 1024 || iterations > 64 || !(1..=64).contains(&parallelism) {
            prop_assert_eq!(
                params.unwrap_err().kind(),
                ErrorKind::Validation { field: "password_params" }
            );
        }
    }

    #[test]
    fn outbox_polls_are_validated(
        limit in prop_oneof![
            prop::sample::select(vec![0, 1, 1000, 1001, usize::MAX]),
            any::<usize>(),
        ],
        lease in duration(),
    ) {
        let store = options()
            .open_in_memory(KeyRing::from_master_key([3; 32]))
            .unwrap();
        let polled = store.events(&store.system()).poll(limit, lease);
        if !(1..=1000).contains(&limit) {
            prop_assert_eq!(polled.unwrap_err().kind(), ErrorKind::Validation { field: "limit" });
        } else if lease.is_zero() || lease > DAY {
            prop_assert_eq!(polled.unwrap_err().kind(), ErrorKind::Validation { field: "lease" });
        } else {
            prop_assert!(polled.is_ok());
        }
    }
}

#[test]
fn a_store_option_out_of_range_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    for options in [
        Store::options().busy_timeout(Duration::MAX),
        Store::options().pool_timeout(Duration::MAX),
    ] {
        let err = options
            .open(&path, KeyRing::from_master_key([3; 32]))
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Validation { .. }),
            "{err:?}"
        );
    }
    assert!(!path.exists(), "a refused option created the file");
}

#[test]
fn the_longest_sessions_log_in() {
    let store = options()
        .sessions(SessionSettings::new(YEAR, YEAR).unwrap())
        .open_in_memory(KeyRing::from_master_key([3; 32]))
        .unwrap();
    common::customer(&store, "ana@example.com", "DE");
    assert_eq!(
        SessionSettings::new(Duration::MAX, Duration::MAX)
            .unwrap_err()
            .kind(),
        ErrorKind::Validation { field: "sessions" }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Page sizes, cursors and look-backs: in range they work, out of range they are a typed
    /// error (never a panic, never a `Storage` error from a number SQLite cannot bind).
    #[test]
    fn page_sizes_cursors_and_lookbacks_are_checked(
        limit in prop_oneof![
            prop::sample::select(vec![0, 1, 100, 101, 500, 501, usize::MAX]),
            any::<usize>(),
        ],
        after in prop_oneof![
            prop::sample::select(vec![0, 1, u64::MAX / 2, u64::MAX / 2 + 1, u64::MAX]),
            any::<u64>(),
        ],
        older_than in duration(),
    ) {
        let store = options()
            .open_in_memory(KeyRing::from_master_key([3; 32]))
            .unwrap();
        let system = store.system();
        let page_ok = (1..=500).contains(&limit);
        let checked = |result: shopkeep::Result<()>, ok: bool| {
            match result {
                Ok(()) => assert!(ok, "limit {limit} was accepted"),
                Err(err) => {
                    assert!(!ok, "limit {limit}: {err:?}");
                    assert_eq!(err.kind(), ErrorKind::Validation { field: "limit" });
                }
            }
        };
        checked(
            store.products(&system).list(&ProductQuery::new().limit(limit)).map(|_| ()),
            page_ok,
        );
        checked(
            store.orders(&system).list(&OrderQuery::new().limit(limit)).map(|_| ()),
            page_ok,
        );
        checked(store.customers(&system).list(None, limit).map(|_| ()), page_ok);
        checked(
            store.products(&system).search("mug", limit).map(|_| ()),
            (1..=100).contains(&limit),
        );
        // The audit log's cursor and size are clamped: any value reads.
        store.audit_log(&system).list(after, limit).unwrap();
        // A look-back past the clock's range is refused as documented, and writes nothing.
        match store.orders(&system).expire_unpaid(older_than) {
            Ok(expired) => prop_assert_eq!(expired, 0),
            Err(err) => prop_assert_eq!(err.kind(), ErrorKind::Overflow),
        }
    }
}
