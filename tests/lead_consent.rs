//! Leads' marketing consent: the contact form's opt-in, double opt-in through the one consent
//! ledger, withdrawal, what nurturing asks, the carry-over at conversion, erasure, and the
//! confirmation email built from a lead's token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use mail_parser::MessageParser;
use shopkeep::clock::ManualClock;
use shopkeep::customers::{Channel, ConsentEvent, ConsentStatus};
use shopkeep::integrations::email::{Composer, LinkBase, Recipient, Sender};
use shopkeep::leads::{LeadForm, LeadId};
use shopkeep::{Email, ErrorKind, Principal, Store};

use common::{clock, count, count_where, dump, open};

/// Every table a consent step may write to.
const TABLES: &[&str] = &[
    "shopkeep_leads",
    "shopkeep_customer_consents",
    "shopkeep_lead_tokens",
    "shopkeep_audit",
    "shopkeep_outbox",
];

fn shop() -> (tempfile::TempDir, ManualClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store = open(&dir.path().join("shop.db"), &clock);
    (dir, clock, store)
}

fn form(email: &str) -> LeadForm {
    LeadForm::new("Lee Lead", email, "Do you ship mugs to Norway?").accept_terms(true)
}

fn submit(store: &Store, form: LeadForm) -> LeadId {
    store
        .leads(&Principal::anonymous())
        .submit(form, "198.51.100.1")
        .unwrap()
        .id()
}

fn email_status(store: &Store, lead: LeadId) -> ConsentStatus {
    let states = store.leads(&store.system()).consent(lead).unwrap();
    states
        .iter()
        .find(|s| s.channel() == Channel::Email)
        .unwrap()
        .status()
}

fn consent_events(store: &Store) -> i64 {
    count_where(store, "shopkeep_outbox", "type = 'lead.consent_changed'")
}

#[test]
fn the_forms_opt_in_counts_once_confirmed_and_until_withdrawn() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let plain = submit(&store, form("no@example.com"));
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("news-v1"));

    // Without the box ticked nothing is asked; with it, the request is pending.
    assert_eq!(email_status(&store, plain), ConsentStatus::NotGiven);
    assert!(leads.consent_history(plain).unwrap().is_empty());
    assert_eq!(email_status(&store, lead), ConsentStatus::Pending);
    assert!(!leads.has_marketing_consent(lead, Channel::Email).unwrap());
    assert_eq!(consent_events(&store), 1);

    let token = leads.confirmation_token(lead).unwrap();
    assert!(token.as_str().starts_with("shc_"));
    assert_eq!(count(&store, "shopkeep_lead_tokens"), 1);
    store.confirm_consent(&token).unwrap();
    assert!(leads.has_marketing_consent(lead, Channel::Email).unwrap());
    assert!(!leads.has_marketing_consent(lead, Channel::Sms).unwrap());
    assert!(!leads.has_marketing_consent(plain, Channel::Email).unwrap());
    assert_eq!(count(&store, "shopkeep_lead_tokens"), 0);
    // Single use.
    let again = store.confirm_consent(&token).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Validation { field: "token" });

    // The ledger shows what happened, who recorded it and the text version.
    let history = leads.consent_history(lead).unwrap();
    let rows: Vec<_> = history
        .iter()
        .map(|r| (r.event(), r.source(), r.text_version(), r.recorded_by()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                ConsentEvent::Requested,
                "lead_form",
                Some("news-v1"),
                "anonymous"
            ),
            (
                ConsentEvent::Confirmed,
                "lead_form",
                Some("news-v1"),
                "anonymous"
            ),
        ]
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_audit",
            "action = 'confirm_consent' AND resource LIKE 'lead:%'"
        ),
        1
    );
    // The lead's own export includes its consent records.
    let export = leads.export(lead).unwrap();
    assert_eq!(export.consent_history(), history.as_slice());

    // Withdrawn, it no longer counts; withdrawing again records nothing.
    leads
        .withdraw_consent(lead, Channel::Email, "support_call")
        .unwrap();
    assert!(!leads.has_marketing_consent(lead, Channel::Email).unwrap());
    assert_eq!(email_status(&store, lead), ConsentStatus::Withdrawn);
    let rows = leads.consent_history(lead).unwrap().len();
    leads
        .withdraw_consent(lead, Channel::Email, "support_call")
        .unwrap();
    assert_eq!(leads.consent_history(lead).unwrap().len(), rows);
    // requested, confirmed, withdrawn: ids, channel and change only.
    assert_eq!(consent_events(&store), 3);
    let data: Vec<String> = common::raw(&store)
        .prepare("SELECT data FROM shopkeep_outbox WHERE type = 'lead.consent_changed'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for d in &data {
        assert!(
            !d.contains("lee@example.com") && d.contains(&lead.to_string()),
            "{d}"
        );
    }
    assert!(data[2].contains("withdrawn"), "{}", data[2]);
}

#[test]
fn tokens_expire_are_replaced_by_a_resend_and_die_with_a_withdrawal() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("news-v1"));

    // Expired after 72 hours, and nothing written by the refusal.
    let late = leads.confirmation_token(lead).unwrap();
    clock.advance(Duration::from_secs(72 * 3600));
    let before = dump(&store, TABLES);
    let err = store.confirm_consent(&late).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "token" });
    assert_eq!(dump(&store, TABLES), before);
    assert_eq!(email_status(&store, lead), ConsentStatus::Pending);

    // A resend voids the older token.
    let first = leads.confirmation_token(lead).unwrap();
    let second = leads.confirmation_token(lead).unwrap();
    assert_eq!(count(&store, "shopkeep_lead_tokens"), 1);
    assert_eq!(
        store.confirm_consent(&first).unwrap_err().kind(),
        ErrorKind::Validation { field: "token" }
    );

    // Withdrawing the pending request voids the token that is out.
    leads
        .withdraw_consent(lead, Channel::Email, "reply_stop")
        .unwrap();
    assert_eq!(
        store.confirm_consent(&second).unwrap_err().kind(),
        ErrorKind::Validation { field: "token" }
    );
    assert_eq!(email_status(&store, lead), ConsentStatus::Withdrawn);

    // A token is issued only for a pending request: refused, nothing written.
    let before = dump(&store, TABLES);
    for id in [lead, submit(&store, form("plain@example.com"))] {
        let before = dump(&store, TABLES);
        let err = leads.confirmation_token(id).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTransition);
        assert_eq!(dump(&store, TABLES), before);
    }
    drop(before);
}

#[test]
fn a_bad_opt_in_version_is_reported_with_the_rest_and_nothing_is_written() {
    let (_dir, _clock, store) = shop();
    let before = dump(&store, TABLES);
    for version in ["", "  ", &"v".repeat(51), "news\u{7}"] {
        let bad = LeadForm::new("", "lee@example.com", "Do you ship mugs to Norway?")
            .accept_terms(true)
            .marketing_opt_in(version);
        let err = store
            .leads(&Principal::anonymous())
            .submit(bad, "198.51.100.1")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidFields);
        let fields: Vec<_> = err.field_errors().iter().map(|f| f.field()).collect();
        assert_eq!(fields, ["name", "marketing_opt_in"], "{version:?}");
    }
    assert_eq!(dump(&store, TABLES), before);
}

#[test]
fn only_staff_who_answer_leads_manage_and_read_their_consent() {
    let (_dir, _clock, store) = shop();
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("news-v1"));
    let customer = common::customer(&store, "cust@example.com", "DE");
    for who in [Principal::anonymous(), customer] {
        let leads = store.leads(&who);
        let before = dump(&store, &TABLES[..3]);
        assert_eq!(
            leads.confirmation_token(lead).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            leads
                .withdraw_consent(lead, Channel::Email, "x")
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            leads
                .has_marketing_consent(lead, Channel::Email)
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        assert_eq!(dump(&store, &TABLES[..3]), before);
    }
    let err = store
        .leads(&store.system())
        .withdraw_consent(lead, Channel::Email, " ")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation { field: "source" });
    assert_eq!(email_status(&store, lead), ConsentStatus::Pending);
}

#[test]
fn a_converted_lead_brings_its_consent_history_to_the_customer() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    // Ana confirmed her opt-in as a lead, then registers.
    let confirmed = submit(&store, form("ana@example.com").marketing_opt_in("news-v1"));
    store
        .confirm_consent(&leads.confirmation_token(confirmed).unwrap())
        .unwrap();
    clock.advance(Duration::from_secs(60));
    let ana = common::customer(&store, "Ana@Example.com", "DE")
        .customer_id()
        .unwrap();
    let consents = store.consents(&system);
    let email = |id| {
        consents
            .state(id)
            .unwrap()
            .into_iter()
            .find(|s| s.channel() == Channel::Email)
            .unwrap()
    };
    assert!(email(ana).is_granted());
    assert_eq!(email(ana).text_version(), Some("news-v1"));
    let lead_history = leads.consent_history(confirmed).unwrap();
    let customer_history = consents.history(ana).unwrap();
    assert_eq!(customer_history.len(), 2);
    for (c, l) in customer_history.iter().zip(&lead_history) {
        assert_eq!(
            (c.event(), c.source(), c.at(), c.recorded_by()),
            (l.event(), l.source(), l.at(), l.recorded_by())
        );
    }
    // The lead keeps its own rows.
    assert_eq!(lead_history.len(), 2);

    // Bo's opt-in is still pending when he registers; his later confirmation counts for both.
    let pending = submit(&store, form("bo@example.com").marketing_opt_in("news-v2"));
    let token = leads.confirmation_token(pending).unwrap();
    let bo = common::customer(&store, "bo@example.com", "DE")
        .customer_id()
        .unwrap();
    assert_eq!(email(bo).status(), ConsentStatus::Pending);
    store.confirm_consent(&token).unwrap();
    assert!(email(bo).is_granted());
    assert!(
        leads
            .has_marketing_consent(pending, Channel::Email)
            .unwrap()
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_outbox",
            "type = 'customer.consent_changed'"
        ),
        // Ana's carried-over grant; Bo's carried-over request; Bo's confirmation.
        3
    );
}

#[test]
fn erasing_a_lead_forgets_its_consent_rows_and_tokens() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("news-v1"));
    let token = leads.confirmation_token(lead).unwrap();
    let other = submit(
        &store,
        form("other@example.com").marketing_opt_in("news-v1"),
    );
    leads.erase(lead).unwrap();
    let rows = |erased: bool| {
        count_where(
            &store,
            "shopkeep_customer_consents",
            &format!(
                "lead_id IN (SELECT id FROM shopkeep_leads WHERE (erased_at IS NOT NULL) = {erased})"
            ),
        )
    };
    assert_eq!((rows(true), rows(false)), (0, 1));
    let _ = other;
    assert_eq!(count(&store, "shopkeep_lead_tokens"), 0);
    assert_eq!(
        store.confirm_consent(&token).unwrap_err().kind(),
        ErrorKind::Validation { field: "token" }
    );
    assert_eq!(
        leads
            .has_marketing_consent(lead, Channel::Email)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn the_confirmation_email_takes_a_leads_token_unchanged() {
    let (_dir, _clock, store) = shop();
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("news-v1"));
    let token = store
        .leads(&store.system())
        .confirmation_token(lead)
        .unwrap();
    let sender = Sender::new("Mug Shop", Email::parse("shop@example.com").unwrap()).unwrap();
    let composer = Composer::new(sender, store.now());
    let to = Recipient::new(Email::parse("lee@example.com").unwrap()).name("Lee Lead");
    let link = LinkBase::parse("https://shop.example/confirm").unwrap();
    let message = composer.consent_confirmation(&to, &token, &link).unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains(&link.with_token(token.as_str())), "{body}");
    // The link the lead follows confirms the lead's consent.
    store.confirm_consent(&token).unwrap();
    assert!(
        store
            .leads(&store.system())
            .has_marketing_consent(lead, Channel::Email)
            .unwrap()
    );
}

#[test]
fn migration_20_keeps_the_customer_ledger_and_its_guard() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let clock = clock();
    let store = open(&path, &clock);
    let system = store.system();
    let ana = common::customer(&store, "ana@example.com", "DE")
        .customer_id()
        .unwrap();
    let consents = store.consents(&system);
    let sms = shopkeep::customers::ConsentRequest::new(Channel::Sms, "checkout", "s1").unwrap();
    consents.grant(ana, sms).unwrap();
    consents
        .withdraw(ana, Channel::Sms, "support_call")
        .unwrap();
    let history = consents.history(ana).unwrap();
    assert_eq!(history.len(), 2);
    drop(store);

    // The file as schema version 19 left it: the ledger of customers only, no lead tables.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE shopkeep_suppressions;
         DROP TABLE shopkeep_lead_unsubscribe;
         DROP INDEX shopkeep_leads_by_score;
         DROP TABLE shopkeep_lead_activities;
         DROP TABLE shopkeep_lead_tokens;
         CREATE TABLE old_consents (
             seq          INTEGER PRIMARY KEY AUTOINCREMENT,
             customer_id  BLOB NOT NULL REFERENCES shopkeep_customers (id),
             channel      TEXT NOT NULL,
             event        TEXT NOT NULL,
             source       TEXT NOT NULL,
             text_version TEXT,
             recorded_by  TEXT NOT NULL,
             at           TEXT NOT NULL
         ) STRICT;
         INSERT INTO old_consents SELECT seq, customer_id, channel, event, source, text_version,
             recorded_by, at FROM shopkeep_customer_consents;
         DROP TABLE shopkeep_customer_consents;
         ALTER TABLE old_consents RENAME TO shopkeep_customer_consents;
         CREATE INDEX shopkeep_customer_consents_customer
             ON shopkeep_customer_consents (customer_id, seq);
         DELETE FROM shopkeep_schema WHERE version >= 20;",
    )
    .unwrap();
    drop(conn);

    let store = open(&path, &clock);
    let system = store.system();
    let after = store.consents(&system).history(ana).unwrap();
    let rows = |h: &[shopkeep::customers::ConsentRecord]| {
        h.iter()
            .map(|r| (r.channel(), r.event(), r.source().to_owned(), r.at()))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&after), rows(&history));
    // Still append-only, and a row names exactly one subject.
    let conn = common::raw(&store);
    let update = conn.execute("UPDATE shopkeep_customer_consents SET source = 'x'", []);
    assert!(update.is_err());
    let orphan = conn.execute(
        "INSERT INTO shopkeep_customer_consents (channel, event, source, recorded_by, at)
         VALUES ('email', 'granted', 'x', 'system', '2026-01-01T00:00:00Z')",
        [],
    );
    assert!(orphan.is_err());
    // New rows continue the sequence; leads now use the ledger.
    let lead = submit(&store, form("lee@example.com").marketing_opt_in("v1"));
    assert_eq!(email_status(&store, lead), ConsentStatus::Pending);
    let max_seq: i64 = conn
        .query_row("SELECT max(seq) FROM shopkeep_customer_consents", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(max_seq, 3);
}

#[test]
fn a_token_moved_to_another_lead_outside_shopkeep_is_refused() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let a = submit(&store, form("a@example.com").marketing_opt_in("v1"));
    let b = submit(&store, form("b@example.com").marketing_opt_in("v1"));
    let token = leads.confirmation_token(a).unwrap();
    // Someone with write access to the file points a's token at b (b's request is the
    // newest ledger row).
    let moved = common::raw(&store)
        .execute(
            "UPDATE shopkeep_lead_tokens SET lead_id = (SELECT lead_id
                 FROM shopkeep_customer_consents WHERE lead_id IS NOT NULL
                 ORDER BY seq DESC LIMIT 1)",
            [],
        )
        .unwrap();
    assert_eq!(moved, 1);
    let before = dump(&store, TABLES);
    let err = store.confirm_consent(&token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!(dump(&store, TABLES), before);
    assert_eq!(email_status(&store, a), ConsentStatus::Pending);
    assert_eq!(email_status(&store, b), ConsentStatus::Pending);
}
