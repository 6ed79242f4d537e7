//! Outbound webhooks: registering endpoints, the fan-out from the outbox, leased and signed
//! deliveries, the retry schedule, dead letters and re-queuing, two workers, who may do what;
//! and the Standard Webhooks verifier against the scheme's published test vectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use shopkeep::access::Role;
use shopkeep::clock::{ManualClock, Timestamp};
use shopkeep::integrations::webhooks::{
    DeliveryOutcome, DeliveryStatus, EndpointId, EndpointUrl, MAX_ATTEMPTS, NewEndpoint,
    RETRY_SCHEDULE, ReceivedHeaders, SignedRequest, Verifier, VerifyError, WebhookSecret,
};
use shopkeep::leads::LeadForm;
use shopkeep::{ErrorKind, Principal, Store};

use common::{clock, contains, open, raw_bytes, staff};
use common::{count, count_where, dump};

/// The tables webhooks write to.
const WEBHOOK_TABLES: &[&str] = &[
    "shopkeep_webhook_endpoints",
    "shopkeep_webhook_subscriptions",
    "shopkeep_webhook_deliveries",
    "shopkeep_webhook_attempts",
    "shopkeep_webhook_cursor",
    "shopkeep_data_keys",
    "shopkeep_audit",
    "shopkeep_outbox",
];

const LEASE: Duration = Duration::from_secs(30);

fn shop() -> (tempfile::TempDir, ManualClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = open(&dir.path().join("shop.db"), &clock);
    (dir, clock, store)
}

/// Submits the contact form as visitor number `n` (its own client key and email, so the
/// form's throttle never interferes): one `lead.submitted` event.
fn submit_lead(store: &Store, n: usize) -> shopkeep::leads::LeadId {
    let form = LeadForm::new(
        "Lee Lead",
        format!("lee{n}@example.com"),
        "Do you ship mugs to Norway?",
    )
    .accept_terms(true);
    store
        .leads(&Principal::anonymous())
        .submit(form, &format!("client-{n}"))
        .unwrap()
        .id()
}

fn endpoint(store: &Store, url: &str, types: &[&str]) -> (EndpointId, String) {
    let registered = store
        .webhooks(&store.system())
        .register(NewEndpoint::new(url, types).unwrap())
        .unwrap();
    let secret = registered.secret().expose().to_string();
    (registered.endpoint().id(), secret)
}

fn verify(request: &SignedRequest, secret: &str, now: Timestamp) -> Result<(), VerifyError> {
    let headers = ReceivedHeaders::from_pairs(
        request
            .headers()
            .iter()
            .map(|(name, value)| (*name, value.as_str())),
    );
    Verifier::new(secret)?.verify(&headers, request.body().as_bytes(), now)
}

fn status(code: u16) -> DeliveryOutcome {
    DeliveryOutcome::status(code).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The verifier against the published test vectors.
//
// Source: the Standard Webhooks reference libraries' tests, repository
// standard-webhooks/standard-webhooks, files libraries/python/tests/test_webhooks.py
// (`test_sign_function`, `test_invalid_signature_raises_error`, `test_multi_sig_payload_is_valid`)
// and libraries/go/webhook_test.go (`TestWebhookSign`), which share these values.

const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const VECTOR_MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
const VECTOR_PAYLOAD: &str = r#"{"test": 2432232314}"#;
const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
/// The vectors' "invalid signature": the valid one with its last base64 digit changed.
const VECTOR_WRONG_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
/// The vectors' decoy entries of the multi-signature case.
const VECTOR_DECOY: &str = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

fn vector_time(offset_seconds: i64) -> Timestamp {
    Timestamp::from_unix_millis((VECTOR_TIMESTAMP + offset_seconds) * 1000).unwrap()
}

fn vector_headers(signature: Option<&str>) -> ReceivedHeaders {
    ReceivedHeaders::new(
        Some(VECTOR_MSG_ID),
        Some(&VECTOR_TIMESTAMP.to_string()),
        signature,
    )
}

#[test]
fn signing_the_published_vector_gives_its_signature() {
    let secret = WebhookSecret::parse(VECTOR_SECRET).unwrap();
    let signature = secret
        .sign(VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD.as_bytes())
        .unwrap();
    assert_eq!(signature, VECTOR_SIGNATURE);
    // The prefix is optional, as in the reference libraries.
    let bare = WebhookSecret::parse(VECTOR_SECRET.trim_start_matches("whsec_")).unwrap();
    assert_eq!(
        bare.sign(VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD.as_bytes())
            .unwrap(),
        VECTOR_SIGNATURE
    );
}

#[test]
fn the_published_vector_verifies_and_its_wrong_signature_does_not() {
    let verifier = Verifier::new(VECTOR_SECRET).unwrap();
    let body = VECTOR_PAYLOAD.as_bytes();
    let now = vector_time(0);
    verifier
        .verify(&vector_headers(Some(VECTOR_SIGNATURE)), body, now)
        .unwrap();
    assert_eq!(
        verifier.verify(&vector_headers(Some(VECTOR_WRONG_SIGNATURE)), body, now),
        Err(VerifyError::NoMatchingSignature)
    );
    // Several entries: decoys of v1 and v2 around the valid one pass...
    let multi = format!("v1,{VECTOR_DECOY} v2,{VECTOR_DECOY} {VECTOR_SIGNATURE} v1,{VECTOR_DECOY}");
    verifier
        .verify(&vector_headers(Some(&multi)), body, now)
        .unwrap();
    // ...but the valid digest under another version does not.
    let other_version = VECTOR_SIGNATURE.replacen("v1,", "v2,", 1);
    assert_eq!(
        verifier.verify(&vector_headers(Some(&other_version)), body, now),
        Err(VerifyError::NoMatchingSignature)
    );
    // The body is checked byte for byte: reformatted JSON is another message.
    assert_eq!(
        verifier.verify(
            &vector_headers(Some(VECTOR_SIGNATURE)),
            br#"{"test":2432232314}"#,
            now
        ),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn the_timestamp_must_be_within_the_tolerance_either_way() {
    let verifier = Verifier::new(VECTOR_SECRET).unwrap();
    let headers = vector_headers(Some(VECTOR_SIGNATURE));
    let body = VECTOR_PAYLOAD.as_bytes();
    for offset in [-300, -1, 1, 300] {
        verifier
            .verify(&headers, body, vector_time(offset))
            .unwrap();
    }
    assert_eq!(
        verifier.verify(&headers, body, vector_time(301)),
        Err(VerifyError::TimestampTooOld)
    );
    assert_eq!(
        verifier.verify(&headers, body, vector_time(-301)),
        Err(VerifyError::TimestampTooNew)
    );
    let lenient = Verifier::new(VECTOR_SECRET)
        .unwrap()
        .tolerance(Duration::from_secs(3600));
    lenient.verify(&headers, body, vector_time(3600)).unwrap();
    assert_eq!(
        lenient.verify(&headers, body, vector_time(3601)),
        Err(VerifyError::TimestampTooOld)
    );
}

#[test]
fn missing_and_malformed_headers_and_bad_secrets_are_typed_errors() {
    let verifier = Verifier::new(VECTOR_SECRET).unwrap();
    let body = VECTOR_PAYLOAD.as_bytes();
    let now = vector_time(0);
    let ts = VECTOR_TIMESTAMP.to_string();
    let cases = [
        (
            ReceivedHeaders::new(None, Some(&ts), Some(VECTOR_SIGNATURE)),
            VerifyError::MissingHeader("webhook-id"),
        ),
        (
            ReceivedHeaders::new(Some(VECTOR_MSG_ID), None, Some(VECTOR_SIGNATURE)),
            VerifyError::MissingHeader("webhook-timestamp"),
        ),
        (
            ReceivedHeaders::new(Some(VECTOR_MSG_ID), Some(&ts), None),
            VerifyError::MissingHeader("webhook-signature"),
        ),
        (
            ReceivedHeaders::new(Some(VECTOR_MSG_ID), Some("hello"), Some(VECTOR_SIGNATURE)),
            VerifyError::InvalidHeader("webhook-timestamp"),
        ),
        (
            ReceivedHeaders::new(Some(VECTOR_MSG_ID), Some(&ts), Some("v1,not-base64!")),
            VerifyError::NoMatchingSignature,
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(
            verifier.verify(&headers, body, now),
            Err(want),
            "{headers:?}"
        );
    }
    for bad in [
        "",
        "whsec_",
        "whsec_%%%",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
    ] {
        assert_eq!(
            Verifier::new(bad).err(),
            Some(VerifyError::BadSecret),
            "{bad:?}"
        );
    }
    // As the crate's error: a bad secret is the receiver's setting, the rest the request's.
    let err: shopkeep::Error = VerifyError::NoMatchingSignature.into();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    let err: shopkeep::Error = VerifyError::BadSecret.into();
    assert_eq!(err.field(), Some("secret"));
}

#[test]
fn headers_are_found_in_any_letter_case() {
    let ts = VECTOR_TIMESTAMP.to_string();
    let pairs = [
        ("Content-Type", "application/json"),
        ("WEBHOOK-ID", VECTOR_MSG_ID),
        ("Webhook-Timestamp", ts.as_str()),
        ("webhook-signature", VECTOR_SIGNATURE),
    ];
    let headers = ReceivedHeaders::from_pairs(pairs);
    Verifier::new(VECTOR_SECRET)
        .unwrap()
        .verify(&headers, VECTOR_PAYLOAD.as_bytes(), vector_time(0))
        .unwrap();
}

#[test]
fn secrets_never_print() {
    let secret = WebhookSecret::parse(VECTOR_SECRET).unwrap();
    let verifier = Verifier::new(VECTOR_SECRET).unwrap();
    for shown in [format!("{secret:?}"), format!("{verifier:?}")] {
        assert!(!shown.contains("MfKQ9r8G"), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signing_then_verifying_round_trips_and_any_flipped_byte_fails(
        key in proptest::collection::vec(any::<u8>(), 1..=64),
        id in "[a-zA-Z0-9_-]{1,40}",
        seconds in 0i64..4_000_000_000,
        body in proptest::collection::vec(any::<u8>(), 0..200),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        use base64ct::Encoding;
        let text = format!("whsec_{}", base64ct::Base64::encode_string(&key));
        let secret = WebhookSecret::parse(&text).unwrap();
        let signature = secret.sign(&id, seconds, &body).unwrap();
        let verifier = Verifier::new(&text).unwrap();
        let now = Timestamp::from_unix_millis(seconds * 1000).unwrap();
        let ts = seconds.to_string();
        let headers = ReceivedHeaders::new(Some(&id), Some(&ts), Some(&signature));
        prop_assert_eq!(verifier.verify(&headers, &body, now), Ok(()));

        // A flipped bit of the body...
        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip.index(body.len())] ^= 1 << bit;
            prop_assert_eq!(
                verifier.verify(&headers, &tampered, now),
                Err(VerifyError::NoMatchingSignature)
            );
        }
        // ...of the signature's digest...
        let mut digest = base64ct::Base64::decode_vec(&signature[3..]).unwrap();
        let at = flip.index(digest.len());
        digest[at] ^= 1 << bit;
        let forged = format!("v1,{}", base64ct::Base64::encode_string(&digest));
        let forged_headers = ReceivedHeaders::new(Some(&id), Some(&ts), Some(&forged));
        prop_assert_eq!(
            verifier.verify(&forged_headers, &body, now),
            Err(VerifyError::NoMatchingSignature)
        );
        // ...of the id...
        let mut other_id = id.clone().into_bytes();
        let at = flip.index(other_id.len());
        other_id[at] ^= 0x20;
        let other_id = String::from_utf8(other_id).unwrap();
        let renamed = ReceivedHeaders::new(Some(&other_id), Some(&ts), Some(&signature));
        prop_assert_eq!(
            verifier.verify(&renamed, &body, now),
            Err(VerifyError::NoMatchingSignature)
        );
        // ...or of the key.
        let mut other_key = key.clone();
        other_key[flip.index(key.len())] ^= 1 << bit;
        let other = format!("whsec_{}", base64ct::Base64::encode_string(&other_key));
        prop_assert_eq!(
            Verifier::new(&other).unwrap().verify(&headers, &body, now),
            Err(VerifyError::NoMatchingSignature)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the text, parsing answers without panicking; what it accepts is https (or
    /// http to this machine), carries no credentials, and parses again to itself.
    #[test]
    fn accepted_urls_are_https_or_local_and_stable(
        text in "(https?|HTTPS|ftp)://([a-zA-Z0-9.@:\\[\\]_-]{0,30})(/[ -~]{0,30})?"
    ) {
        if let Ok(url) = EndpointUrl::parse(&text) {
            let s = url.as_str();
            let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
                .iter()
                .any(|p| s.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/', '?'])));
            prop_assert!(s.starts_with("https://") || local, "{}", s);
            let authority = s.split("://").nth(1).unwrap().split(['/', '?']).next().unwrap();
            prop_assert!(!authority.contains('@'), "{}", s);
            prop_assert_eq!(EndpointUrl::parse(s).unwrap(), url.clone());
        }
    }
}

#[test]
fn registering_shows_the_secret_once_and_stores_it_encrypted() {
    let (dir, _clock, store) = shop();
    let system = store.system();
    let registered = store
        .webhooks(&system)
        .register(
            NewEndpoint::new(
                "https://crm.example.com/hooks",
                ["lead.submitted", "order.placed", "lead.submitted"],
            )
            .unwrap(),
        )
        .unwrap();
    let secret = registered.secret().expose();
    assert!(secret.starts_with("whsec_"));
    use base64ct::Encoding;
    let key = base64ct::Base64::decode_vec(&secret["whsec_".len()..]).unwrap();
    assert_eq!(key.len(), 32);
    assert!(!format!("{registered:?}").contains(&secret[6..]));

    let id = registered.endpoint().id();
    let got = store.webhooks(&system).get(id).unwrap();
    assert_eq!(got.url().as_str(), "https://crm.example.com/hooks");
    assert_eq!(got.event_types(), ["lead.submitted", "order.placed"]);
    assert!(got.enabled());
    assert_eq!(store.webhooks(&system).list().unwrap(), vec![got]);

    // Neither the key nor its text stands in the file.
    if common::sqlite_only("reads the database file's bytes") {
        return;
    }
    drop(store);
    let bytes = raw_bytes(&dir.path().join("shop.db"));
    assert!(!contains(&bytes, &key));
    assert!(!contains(&bytes, secret.as_bytes()));
    assert!(!contains(&bytes, secret[6..].as_bytes()));
}

#[test]
fn bad_endpoints_are_refused_and_write_nothing() {
    let (_dir, _clock, store) = shop();
    let before = dump(&store, WEBHOOK_TABLES);
    let cases: [(&str, &[&str], &str); 6] = [
        ("http://crm.example.com/hooks", &["lead.submitted"], "url"),
        (
            "https://user:pw@crm.example.com/",
            &["lead.submitted"],
            "url",
        ),
        ("ftp://crm.example.com/", &["lead.submitted"], "url"),
        ("https://crm.example.com/", &[], "event_types"),
        (
            "https://crm.example.com/",
            &["Lead Submitted"],
            "event_types",
        ),
        (
            "https://crm.example.com/",
            &["webhook.delivery_dead_lettered"],
            "event_types",
        ),
    ];
    for (url, types, field) in cases {
        let err = NewEndpoint::new(url, types).unwrap_err();
        assert_eq!(err.field(), Some(field), "{url} {types:?}: {err}");
    }
    let long = format!("https://crm.example.com/{}", "a".repeat(2048));
    assert_eq!(
        NewEndpoint::new(&long, ["lead.submitted"])
            .unwrap_err()
            .field(),
        Some("url")
    );
    assert_eq!(dump(&store, WEBHOOK_TABLES), before);
}

#[test]
fn only_the_owner_and_the_system_manage_webhooks_or_run_the_job() {
    let (_dir, _clock, store) = shop();
    let (id, _) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    let owner = staff(&store, "owner@example.com", Role::Owner);
    let mut refused = vec![Principal::anonymous()];
    for (i, role) in [
        Role::Manager,
        Role::Support,
        Role::Accountant,
        Role::Warehouse,
        Role::Marketing,
    ]
    .into_iter()
    .enumerate()
    {
        refused.push(staff(&store, &format!("staff{i}@example.com"), role));
    }
    refused.push(common::customer(&store, "ana@example.com", "DE"));
    let new = || NewEndpoint::new("https://evil.example.com/", ["lead.submitted"]).unwrap();
    for who in &refused {
        let before = dump(&store, &WEBHOOK_TABLES[..5]);
        let webhooks = store.webhooks(who);
        assert_eq!(
            webhooks.register(new()).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(webhooks.list().unwrap_err().kind(), ErrorKind::Forbidden);
        // An endpoint they may not manage does not exist for them.
        assert_eq!(webhooks.get(id).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(webhooks.delete(id).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(
            webhooks.set_enabled(id, false).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            webhooks.fan_out(10).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            webhooks.due(10, LEASE).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            webhooks.dead_letters(None, 10).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(dump(&store, &WEBHOOK_TABLES[..5]), before);
    }
    let webhooks = store.webhooks(&owner);
    webhooks.register(new()).unwrap();
    webhooks.set_enabled(id, false).unwrap();
    webhooks.fan_out(10).unwrap();
    webhooks.due(10, LEASE).unwrap();
    webhooks.delete(id).unwrap();
    assert_eq!(webhooks.list().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Deliveries.

#[test]
fn an_event_is_fanned_out_once_and_delivered_signed() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let (crm, secret) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    let (other, _) = endpoint(&store, "https://erp.example.com/hooks", &["order.placed"]);
    let lead = submit_lead(&store, 1);
    let webhooks = store.webhooks(&system);

    let fan = webhooks.fan_out(100).unwrap();
    assert_eq!(fan.deliveries(), 1);
    assert!(fan.events() >= 1);
    // Idempotent: the cursor moved on, and a delivery per (event, endpoint) exists once.
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 0);
    common::db::run(&store, "UPDATE shopkeep_webhook_cursor SET seq = 0");
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 0);
    assert_eq!(count(&store, "shopkeep_webhook_deliveries"), 1);

    let due = webhooks.due(10, LEASE).unwrap();
    assert_eq!(due.len(), 1);
    let request = &due[0];
    assert_eq!(request.attempt(), 1);
    assert_eq!(request.url().as_str(), "https://crm.example.com/hooks");
    verify(request, &secret, clock.now_ts()).unwrap();
    let body: serde_json::Value = serde_json::from_str(request.body()).unwrap();
    assert_eq!(body["type"], "lead.submitted");
    assert_eq!(body["data"]["lead_id"], lead.to_string());
    assert!(!request.body().contains("lee1@example.com"), "ids only");
    assert_eq!(
        request.header("webhook-timestamp"),
        Some((clock.now_ts().unix_millis() / 1000).to_string().as_str())
    );
    let log = webhooks.deliveries(crm, None, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        request.header("webhook-id"),
        Some(log[0].event().to_string().as_str())
    );
    assert!(webhooks.deliveries(other, None, 10).unwrap().is_empty());

    // Leased: nobody else gets it meanwhile.
    assert!(webhooks.due(10, LEASE).unwrap().is_empty());
    let done = webhooks
        .report(request.delivery(), request.attempt(), &status(204))
        .unwrap();
    assert_eq!(done.status(), DeliveryStatus::Delivered);
    assert_eq!(done.next_attempt_at(), None);
    // Success stops it: never due again, and a second report is refused.
    clock.advance(Duration::from_secs(24 * 3600));
    assert!(webhooks.due(10, LEASE).unwrap().is_empty());
    let again = webhooks.report(request.delivery(), request.attempt(), &status(204));
    assert_eq!(again.unwrap_err().kind(), ErrorKind::Conflict);
    let attempts = webhooks.attempts(request.delivery()).unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].succeeded());
    assert_eq!(attempts[0].status(), Some(204));
}

/// `ManualClock::now` without importing the trait at every call.
trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        shopkeep::clock::Clock::now(self)
    }
}

#[test]
fn failures_are_retried_on_the_schedule_then_dead_lettered_and_requeued() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let (_, secret) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    submit_lead(&store, 1);
    let webhooks = store.webhooks(&system);
    webhooks.fan_out(100).unwrap();

    let first = webhooks.due(10, LEASE).unwrap().remove(0);
    let id = first.delivery();
    let webhook_id = first.header("webhook-id").unwrap().to_owned();
    let mut request = first;
    for failure in 1..=MAX_ATTEMPTS {
        let outcome = if failure % 2 == 0 {
            DeliveryOutcome::network_error("connection refused")
        } else {
            status(503)
        };
        let after = webhooks.report(id, request.attempt(), &outcome).unwrap();
        assert_eq!(after.failures(), failure);
        if failure == MAX_ATTEMPTS {
            assert_eq!(after.status(), DeliveryStatus::DeadLettered);
            assert_eq!(after.next_attempt_at(), None);
            break;
        }
        let wait = RETRY_SCHEDULE[failure as usize - 1];
        let next = clock.now_ts().checked_add(wait).unwrap();
        assert_eq!(after.status(), DeliveryStatus::Pending);
        assert_eq!(after.next_attempt_at(), Some(next));
        // Not a second early...
        clock.set(next.checked_sub(Duration::from_secs(1)).unwrap());
        assert!(
            webhooks.due(10, LEASE).unwrap().is_empty(),
            "failure {failure}"
        );
        // ...and on time, signed anew with the same id and body.
        clock.set(next);
        let mut due = webhooks.due(10, LEASE).unwrap();
        assert_eq!(due.len(), 1, "failure {failure}");
        let retry = due.remove(0);
        assert_eq!(retry.delivery(), id);
        assert_eq!(retry.attempt(), failure + 1);
        assert_eq!(retry.header("webhook-id"), Some(webhook_id.as_str()));
        assert_eq!(retry.body(), request.body());
        verify(&retry, &secret, clock.now_ts()).unwrap();
        request = retry;
    }

    // Dead: listed for staff, announced in the outbox, never due.
    clock.advance(Duration::from_secs(7 * 24 * 3600));
    assert!(webhooks.due(10, LEASE).unwrap().is_empty());
    let dead = webhooks.dead_letters(None, 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id(), id);
    assert_eq!(dead[0].last_error(), Some("connection refused"));
    assert_eq!(
        count_where(
            &store,
            "shopkeep_outbox",
            "type = 'webhook.delivery_dead_lettered'"
        ),
        1
    );
    // The webhooks' own events are never delivered.
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 0);
    let log = webhooks.attempts(id).unwrap();
    assert_eq!(log.len(), MAX_ATTEMPTS as usize);
    assert_eq!(log[0].status(), Some(503));
    assert_eq!(log[1].error(), Some("connection refused"));
    assert!(log.iter().all(|a| !a.succeeded()));

    // Re-queued: a new round, due now, the same webhook-id.
    let requeued = webhooks.requeue(id).unwrap();
    assert_eq!(requeued.status(), DeliveryStatus::Pending);
    assert_eq!(requeued.failures(), 0);
    assert!(webhooks.dead_letters(None, 10).unwrap().is_empty());
    let retry = webhooks.due(10, LEASE).unwrap().remove(0);
    assert_eq!(retry.attempt(), MAX_ATTEMPTS + 1);
    assert_eq!(retry.header("webhook-id"), Some(webhook_id.as_str()));
    let done = webhooks.report(id, retry.attempt(), &status(200)).unwrap();
    assert_eq!(done.status(), DeliveryStatus::Delivered);
    assert_eq!(
        webhooks.requeue(id).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
}

#[test]
fn a_lease_that_runs_out_hands_the_delivery_to_the_next_worker() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    submit_lead(&store, 1);
    let webhooks = store.webhooks(&system);
    webhooks.fan_out(100).unwrap();
    let first = webhooks.due(10, LEASE).unwrap().remove(0);
    clock.advance(LEASE - Duration::from_secs(1));
    assert!(webhooks.due(10, LEASE).unwrap().is_empty());
    clock.advance(Duration::from_secs(1));
    let second = webhooks.due(10, LEASE).unwrap().remove(0);
    assert_eq!(second.delivery(), first.delivery());
    assert_eq!(second.attempt(), 2);
    // The first worker's late report is refused and changes nothing.
    let before = dump(&store, &WEBHOOK_TABLES[..5]);
    let late = webhooks.report(first.delivery(), first.attempt(), &status(200));
    assert_eq!(late.unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(dump(&store, &WEBHOOK_TABLES[..5]), before);
    let done = webhooks
        .report(second.delivery(), second.attempt(), &status(200))
        .unwrap();
    assert_eq!(done.status(), DeliveryStatus::Delivered);
    // A lease that ran out is no failure.
    assert_eq!(done.failures(), 0);
}

#[test]
fn disabled_endpoints_get_nothing_new_and_their_pending_deliveries_wait() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let (id, _) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    let webhooks = store.webhooks(&system);
    submit_lead(&store, 1);
    webhooks.fan_out(100).unwrap();
    webhooks.set_enabled(id, false).unwrap();
    submit_lead(&store, 2);
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 0);
    clock.advance(Duration::from_secs(3600));
    assert!(webhooks.due(10, LEASE).unwrap().is_empty());
    assert!(!webhooks.get(id).unwrap().enabled());
    webhooks.set_enabled(id, true).unwrap();
    let due = webhooks.due(10, LEASE).unwrap();
    assert_eq!(
        due.len(),
        1,
        "the delivery made before the endpoint was disabled"
    );
}

#[test]
fn an_endpoint_gets_only_events_after_its_registration() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    submit_lead(&store, 1);
    let (id, _) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    let webhooks = store.webhooks(&system);
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 0);
    submit_lead(&store, 2);
    assert_eq!(webhooks.fan_out(100).unwrap().deliveries(), 1);
    assert_eq!(webhooks.deliveries(id, None, 10).unwrap().len(), 1);
}

#[test]
fn deleting_an_endpoint_removes_its_deliveries_and_shreds_its_secret() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let (id, _) = endpoint(&store, "https://crm.example.com/hooks", &["lead.submitted"]);
    let (kept, _) = endpoint(&store, "https://erp.example.com/hooks", &["lead.submitted"]);
    let webhooks = store.webhooks(&system);
    submit_lead(&store, 1);
    webhooks.fan_out(100).unwrap();
    let due = webhooks.due(10, LEASE).unwrap();
    assert_eq!(due.len(), 2);
    let request = due
        .iter()
        .find(|r| r.url().as_str() == "https://crm.example.com/hooks")
        .unwrap();
    webhooks
        .report(request.delivery(), request.attempt(), &status(500))
        .unwrap();
    assert_eq!(count(&store, "shopkeep_webhook_attempts"), 1);
    let subject = format!("webhook_endpoint:{id}");
    let keys = |store: &Store| {
        count_where(
            store,
            "shopkeep_data_keys",
            &format!("subject = '{subject}'"),
        )
    };
    assert_eq!(keys(&store), 1);
    webhooks.delete(id).unwrap();
    assert_eq!(webhooks.get(id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(webhooks.delete(id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(keys(&store), 0);
    let left: Vec<EndpointId> = webhooks.list().unwrap().iter().map(|e| e.id()).collect();
    assert_eq!(left, [kept]);
    assert_eq!(count(&store, "shopkeep_webhook_deliveries"), 1);
    assert_eq!(count(&store, "shopkeep_webhook_attempts"), 0);
    assert_eq!(
        count(&store, "shopkeep_webhook_subscriptions"),
        1,
        "the kept endpoint's"
    );
    assert_eq!(
        webhooks.delivery(request.delivery()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn bad_job_arguments_are_refused() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let webhooks = store.webhooks(&system);
    assert_eq!(webhooks.fan_out(0).unwrap_err().field(), Some("limit"));
    assert_eq!(webhooks.fan_out(1001).unwrap_err().field(), Some("limit"));
    assert_eq!(webhooks.due(0, LEASE).unwrap_err().field(), Some("limit"));
    assert_eq!(
        webhooks.due(1, Duration::ZERO).unwrap_err().field(),
        Some("lease")
    );
    assert_eq!(
        webhooks
            .due(1, Duration::from_secs(3601))
            .unwrap_err()
            .field(),
        Some("lease")
    );
    assert_eq!(
        DeliveryOutcome::status(42).unwrap_err().field(),
        Some("status")
    );
}

#[test]
fn two_workers_never_get_the_same_delivery() {
    const ENDPOINTS: usize = 4;
    const LEADS: usize = 15;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let clock = clock();
    let store = open(&path, &clock);
    for i in 0..ENDPOINTS {
        endpoint(
            &store,
            &format!("https://hook{i}.example.com/"),
            &["lead.submitted"],
        );
    }
    for n in 0..LEADS {
        submit_lead(&store, n);
    }
    let system = store.system();
    let fan = store.webhooks(&system).fan_out(1000).unwrap();
    assert_eq!(fan.deliveries(), ENDPOINTS * LEADS);

    // Each worker is a store of its own on the same file, as two processes would be.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            let clock = clock.clone();
            std::thread::spawn(move || {
                let store = open(&path, &clock);
                let system = store.system();
                let webhooks = store.webhooks(&system);
                let mut got = Vec::new();
                loop {
                    let batch = webhooks.due(3, Duration::from_secs(600)).unwrap();
                    if batch.is_empty() {
                        break;
                    }
                    for request in batch {
                        webhooks
                            .report(request.delivery(), request.attempt(), &status(200))
                            .unwrap();
                        got.push(request.delivery());
                    }
                }
                got
            })
        })
        .collect();
    let got: Vec<Vec<_>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let all: Vec<_> = got.iter().flatten().copied().collect();
    let distinct: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        ENDPOINTS * LEADS,
        "every delivery handed out once"
    );
    assert_eq!(distinct.len(), all.len(), "no delivery handed out twice");
    assert_eq!(
        count_where(
            &store,
            "shopkeep_webhook_deliveries",
            "status = 'delivered'"
        ),
        i64::try_from(ENDPOINTS * LEADS).unwrap()
    );
}
