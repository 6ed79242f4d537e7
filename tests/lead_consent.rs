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
use shopkeep::customers::UnsubscribeToken;
use shopkeep::customers::{Channel, ConsentEvent, ConsentStatus};
use shopkeep::integrations::email::{
    Composer, LinkBase, ONE_CLICK_BODY, Recipient, Sender, one_click_unsubscribe,
};
use shopkeep::leads::{LeadForm, LeadId};
use shopkeep::{Email, ErrorKind, Principal, Store};

use common::clock;
use common::open;
use common::{count, count_where, dump};

/// Every table a consent step may write to.
const TABLES: &[&str] = &[
    "shopkeep_leads",
    "shopkeep_customer_consents",
    "shopkeep_lead_tokens",
    "shopkeep_lead_unsubscribe",
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
    let data = common::db::texts(
        &store,
        "SELECT data FROM shopkeep_outbox WHERE type = 'lead.consent_changed' ORDER BY seq",
    );
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
    if common::sqlite_only("downgrades the SQLite file's schema to version 19") {
        return;
    }
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
    conn.execute_batch(common::newer_tables::DROP_TABLES_SINCE_22)
        .unwrap();
    conn.execute_batch(
        "DROP INDEX shopkeep_leads_by_score;
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
    let moved = common::db::execute(
        &store,
        "UPDATE shopkeep_lead_tokens SET lead_id = (SELECT lead_id
             FROM shopkeep_customer_consents WHERE lead_id IS NOT NULL
             ORDER BY seq DESC LIMIT 1)",
    );
    assert_eq!(moved, 1);
    let before = dump(&store, TABLES);
    let err = store.confirm_consent(&token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!(dump(&store, TABLES), before);
    assert_eq!(email_status(&store, a), ConsentStatus::Pending);
    assert_eq!(email_status(&store, b), ConsentStatus::Pending);
}

/// A lead who submitted the form with the opt-in and confirmed it.
fn subscribed_lead(store: &Store, email: &str) -> LeadId {
    let lead = submit(store, form(email).marketing_opt_in("news-v1"));
    let system = store.system();
    let leads = store.leads(&system);
    store
        .confirm_consent(&leads.confirmation_token(lead).unwrap())
        .unwrap();
    assert!(leads.has_marketing_consent(lead, Channel::Email).unwrap());
    lead
}

fn one_click(store: &Store, token: &str) -> shopkeep::Result<()> {
    one_click_unsubscribe(store, token, ONE_CLICK_BODY.as_bytes())
}

#[test]
fn a_leads_unsubscribe_link_withdraws_its_consent_exactly_once() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let lead = subscribed_lead(&store, "lee@example.com");
    let other = subscribed_lead(&store, "other@example.com");

    let link = leads.unsubscribe_token(lead, Channel::Email).unwrap();
    assert!(link.as_str().starts_with("shu_"));
    // The same token every time, another per channel and per lead.
    assert_eq!(
        leads
            .unsubscribe_token(lead, Channel::Email)
            .unwrap()
            .as_str(),
        link.as_str()
    );
    let sms = leads.unsubscribe_token(lead, Channel::Sms).unwrap();
    let others = leads.unsubscribe_token(other, Channel::Email).unwrap();
    assert_ne!(sms.as_str(), link.as_str());
    assert_ne!(others.as_str(), link.as_str());
    assert_eq!(count(&store, "shopkeep_lead_unsubscribe"), 3);
    // Only its keyed hash and a ciphertext are stored.
    match store.path() {
        Some(path) => {
            let bytes = common::raw_bytes(path);
            assert!(!common::contains(&bytes, link.as_str().as_bytes()));
        }
        None => assert!(!common::db::everything(&store).contains(link.as_str())),
    }

    let unsubscribed = || count_where(&store, "shopkeep_audit", "action = 'unsubscribe'");
    one_click(&store, link.as_str()).unwrap();
    assert!(!leads.has_marketing_consent(lead, Channel::Email).unwrap());
    assert!(leads.has_marketing_consent(other, Channel::Email).unwrap());
    let last = leads.consent_history(lead).unwrap().pop().unwrap();
    assert_eq!(
        (last.event(), last.source(), last.recorded_by()),
        (ConsentEvent::Withdrawn, "unsubscribe_link", "anonymous")
    );
    assert_eq!(unsubscribed(), 1);
    assert_eq!(
        count_where(
            &store,
            "shopkeep_audit",
            &format!("action = 'unsubscribe' AND resource = 'lead:{lead}'")
        ),
        1
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_outbox",
            "type = 'lead.consent_changed' AND data LIKE '%withdrawn%'"
        ),
        1
    );

    // A provider's retry, or the same link through Store::unsubscribe: nothing new.
    let before = dump(&store, TABLES);
    one_click(&store, link.as_str()).unwrap();
    store
        .unsubscribe(&UnsubscribeToken::new(link.as_str()))
        .unwrap();
    assert_eq!(dump(&store, TABLES), before);
    // A channel without consent unsubscribes to no effect.
    one_click(&store, sms.as_str()).unwrap();
    assert_eq!(dump(&store, TABLES), before);
}

#[test]
fn unknown_and_tampered_lead_links_are_refused_and_change_nothing() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let a = subscribed_lead(&store, "a@example.com");
    let b = subscribed_lead(&store, "b@example.com");
    let link = leads.unsubscribe_token(a, Channel::Email).unwrap();
    let b_link = leads.unsubscribe_token(b, Channel::Email).unwrap();
    let before = dump(&store, TABLES);
    let mut altered = link.as_str().to_owned();
    altered.push('x');
    for bad in [
        "shu_forged",
        altered.as_str(),
        "",
        "shc_not-an-unsubscribe-token",
    ] {
        assert_eq!(
            one_click(&store, bad).unwrap_err().kind(),
            ErrorKind::Validation { field: "token" },
            "{bad:?}"
        );
    }
    assert_eq!(dump(&store, TABLES), before);

    // Someone with write access to the file: a's row moved to b, to another channel, or
    // given b's hash. Each is refused as an alteration, with nothing written.
    let lead_id = |id: LeadId| common::db::blob(&store, &common::uuid_bytes(&id.to_string()));
    let tamper = |sql: &str, undo: &str| {
        assert_eq!(common::db::execute(&store, sql), 1, "{sql}");
        let before = dump(&store, TABLES);
        let err = one_click(&store, link.as_str()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto, "{sql}");
        assert_eq!(dump(&store, TABLES), before, "{sql}");
        common::db::execute(&store, undo);
    };
    let (a_id, b_id) = (lead_id(a), lead_id(b));
    common::db::execute(
        &store,
        &format!("DELETE FROM shopkeep_lead_unsubscribe WHERE lead_id = {b_id}"),
    );
    tamper(
        &format!("UPDATE shopkeep_lead_unsubscribe SET lead_id = {b_id}"),
        &format!("UPDATE shopkeep_lead_unsubscribe SET lead_id = {a_id}"),
    );
    tamper(
        "UPDATE shopkeep_lead_unsubscribe SET channel = 'sms'",
        "UPDATE shopkeep_lead_unsubscribe SET channel = 'email'",
    );
    // b's row, with a's hash: a's link finds it, but it holds b's token.
    let b_row = leads.unsubscribe_token(b, Channel::Email).unwrap();
    assert_ne!(
        b_row.as_str(),
        b_link.as_str(),
        "b's row was deleted and made anew"
    );
    let hash = common::db::bytes(
        &store,
        "token_hash",
        &format!("shopkeep_lead_unsubscribe WHERE lead_id = {a_id}"),
    );
    common::db::execute(
        &store,
        &format!("DELETE FROM shopkeep_lead_unsubscribe WHERE lead_id = {a_id}"),
    );
    common::db::execute(
        &store,
        &format!(
            "UPDATE shopkeep_lead_unsubscribe SET token_hash = {}",
            common::db::blob(&store, &hash)
        ),
    );
    let before = dump(&store, TABLES);
    assert_eq!(
        one_click(&store, link.as_str()).unwrap_err().kind(),
        ErrorKind::Crypto
    );
    assert_eq!(dump(&store, TABLES), before);
    assert!(leads.has_marketing_consent(a, Channel::Email).unwrap());
    assert!(leads.has_marketing_consent(b, Channel::Email).unwrap());
}

#[test]
fn a_customers_link_and_a_leads_link_each_unsubscribe_their_own() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let lead = subscribed_lead(&store, "lee@example.com");
    let ana = common::customer(&store, "ana@example.com", "DE")
        .customer_id()
        .unwrap();
    let consents = store.consents(&system);
    let request = shopkeep::customers::ConsentRequest::new(Channel::Email, "checkout", "v1");
    let confirm = consents.grant(ana, request.unwrap()).unwrap().unwrap();
    store.confirm_consent(&confirm).unwrap();
    let granted = |id| {
        consents
            .state(id)
            .unwrap()
            .iter()
            .any(|s| s.channel() == Channel::Email && s.is_granted())
    };
    let leads = store.leads(&system);
    let customer_link = consents.unsubscribe_token(ana, Channel::Email).unwrap();
    let lead_link = leads.unsubscribe_token(lead, Channel::Email).unwrap();

    one_click(&store, lead_link.as_str()).unwrap();
    assert!(!leads.has_marketing_consent(lead, Channel::Email).unwrap());
    assert!(granted(ana));
    one_click(&store, customer_link.as_str()).unwrap();
    assert!(!granted(ana));
}

#[test]
fn a_link_sent_to_a_lead_unsubscribes_the_customer_it_became() {
    let (_dir, clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let lead = subscribed_lead(&store, "ana@example.com");
    let link = leads.unsubscribe_token(lead, Channel::Email).unwrap();
    clock.advance(Duration::from_secs(60));
    let ana = common::customer(&store, "Ana@Example.com", "DE")
        .customer_id()
        .unwrap();
    let consents = store.consents(&system);
    let email_state = || {
        consents
            .state(ana)
            .unwrap()
            .into_iter()
            .find(|s| s.channel() == Channel::Email)
            .unwrap()
    };
    assert!(email_state().is_granted(), "carried over at conversion");

    one_click(&store, link.as_str()).unwrap();
    assert!(!email_state().is_granted());
    assert!(!leads.has_marketing_consent(lead, Channel::Email).unwrap());
    let last = consents.history(ana).unwrap().pop().unwrap();
    assert_eq!(
        (last.event(), last.source(), last.recorded_by()),
        (ConsentEvent::Withdrawn, "unsubscribe_link", "anonymous")
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_audit",
            &format!("action = 'unsubscribe' AND resource = 'customer:{ana}'")
        ),
        1
    );
    // Once is enough, even for both.
    let before = dump(&store, TABLES);
    one_click(&store, link.as_str()).unwrap();
    assert_eq!(dump(&store, TABLES), before);

    // The customer erased, the lead's link still unsubscribes the lead (nothing left to do).
    store.customers(&system).erase(ana).unwrap();
    one_click(&store, link.as_str()).unwrap();
}

#[test]
fn erasing_a_lead_deletes_its_unsubscribe_links() {
    let (_dir, _clock, store) = shop();
    let system = store.system();
    let leads = store.leads(&system);
    let lead = subscribed_lead(&store, "lee@example.com");
    let other = subscribed_lead(&store, "other@example.com");
    let link = leads.unsubscribe_token(lead, Channel::Email).unwrap();
    leads.unsubscribe_token(lead, Channel::Sms).unwrap();
    leads.unsubscribe_token(other, Channel::Email).unwrap();
    leads.erase(lead).unwrap();
    assert_eq!(count(&store, "shopkeep_lead_unsubscribe"), 1);
    let before = dump(&store, TABLES);
    assert_eq!(
        one_click(&store, link.as_str()).unwrap_err().kind(),
        ErrorKind::Validation { field: "token" }
    );
    assert_eq!(dump(&store, TABLES), before);
    assert_eq!(
        leads
            .unsubscribe_token(lead, Channel::Email)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn only_staff_who_answer_leads_get_their_unsubscribe_links() {
    let (_dir, _clock, store) = shop();
    let lead = subscribed_lead(&store, "lee@example.com");
    let customer = common::customer(&store, "cy@example.com", "DE");
    let warehouse = common::staff(&store, "wes@example.com", shopkeep::access::Role::Warehouse);
    let marketing = common::staff(&store, "mia@example.com", shopkeep::access::Role::Marketing);
    let before = dump(&store, TABLES);
    for principal in [&customer, &warehouse, &Principal::anonymous()] {
        let err = store
            .leads(principal)
            .unsubscribe_token(lead, Channel::Email)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
    // Only the refusals were written (to the audit log).
    let after: Vec<_> = dump(&store, TABLES)
        .into_iter()
        .filter(|row| !row.starts_with("shopkeep_audit"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|row| !row.starts_with("shopkeep_audit"))
        .collect();
    assert_eq!(after, before);
    let token = store
        .leads(&marketing)
        .unsubscribe_token(lead, Channel::Email)
        .unwrap();
    assert_eq!(
        count_where(
            &store,
            "shopkeep_audit",
            &format!(
                "action = 'update_lead' AND resource = 'lead:{lead}' AND principal LIKE 'staff:%' AND outcome = 'allowed'"
            )
        ),
        1
    );
    let _ = token;
}
