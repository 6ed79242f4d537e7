//! Leads: the contact form's rules and messages, the PDF check, throttling, encryption and
//! erasure, the status pipeline, conversion at registration and who may read leads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use shopkeep::access::Role;
use shopkeep::clock::ManualClock;
use shopkeep::leads::{LeadForm, LeadId, LeadStatus, MAX_ATTACHMENT_BYTES};
use shopkeep::{ErrorKind, KeyRing, Principal, Store};

use common::clock;
use common::open;
use common::{count, count_where, dump};

/// The tables a submission writes to.
const WRITTEN: &[&str] = &[
    "shopkeep_leads",
    "shopkeep_data_keys",
    "shopkeep_login_failures",
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

/// A valid PDF of exactly `len` bytes: a header, a comment padding it out, a classic xref
/// table and the trailer pointing at it.
fn pdf_of_len(len: usize) -> Vec<u8> {
    let head = b"%PDF-1.4\n%".to_vec();
    let tail = |xref: usize| {
        format!(
            "\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n{xref}\n%%EOF\n"
        )
    };
    // The offset's digit count depends on the padding; two passes settle it.
    let mut padding = 0;
    for _ in 0..2 {
        let xref = head.len() + padding + 1;
        padding = len - head.len() - tail(xref).len();
    }
    let xref = head.len() + padding + 1;
    let mut pdf = head;
    pdf.resize(pdf.len() + padding, b'x');
    pdf.extend_from_slice(tail(xref).as_bytes());
    assert_eq!(pdf.len(), len);
    pdf
}

/// The field errors of a refused submission, as (field, message) pairs.
fn field_errors(store: &Store, form: LeadForm) -> Vec<(&'static str, &'static str)> {
    let err = store
        .leads(&Principal::anonymous())
        .submit(form, "198.51.100.1")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFields, "{err}");
    err.field_errors()
        .iter()
        .map(|f| (f.field(), f.message()))
        .collect()
}

#[test]
fn every_error_of_a_form_comes_back_at_once_and_nothing_is_written() {
    let (_dir, _clock, store) = shop();
    let before = dump(&store, WRITTEN);
    // A blank name, a broken email, nine characters (ten bytes: "é" is two) after trimming, a
    // PNG, terms not ticked.
    let bad = LeadForm::new("   ", "lee@@example", "  Café 1234   ")
        .attachment(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())
        .accept_terms(false);
    assert_eq!(
        field_errors(&store, bad),
        [
            ("name", "Name missing"),
            ("email", "Email invalid"),
            ("message", "Please enter at least 10 characters"),
            (
                "attachment",
                "Please upload a PDF document with a maximum size of 10 MB"
            ),
            ("terms", "Please accept terms and conditions"),
        ]
    );
    assert_eq!(dump(&store, WRITTEN), before);
    // Ten characters after trimming pass, whatever their bytes.
    let ten = LeadForm::new("Lee", "lee@example.com", "  Café 12345  ").accept_terms(true);
    let lead = store
        .leads(&Principal::anonymous())
        .submit(ten, "198.51.100.1")
        .unwrap();
    assert_eq!(lead.message(), "Café 12345");
}

#[test]
fn the_attachment_limit_is_10_mib_exactly() {
    let (_dir, _clock, store) = shop();
    let visitor = Principal::anonymous();
    let over = form("over@example.com").attachment(pdf_of_len(MAX_ATTACHMENT_BYTES + 1));
    assert_eq!(MAX_ATTACHMENT_BYTES + 1, 10_485_761);
    assert_eq!(
        field_errors(&store, over),
        [(
            "attachment",
            "Please upload a PDF document with a maximum size of 10 MB"
        )]
    );
    assert_eq!(count(&store, "shopkeep_leads"), 0);

    let pdf = pdf_of_len(10_485_760);
    let lead = store
        .leads(&visitor)
        .submit(
            form("max@example.com").attachment(pdf.clone()),
            "198.51.100.2",
        )
        .unwrap();
    assert!(lead.has_attachment());
    let system = store.system();
    assert_eq!(
        store.leads(&system).attachment(lead.id()).unwrap(),
        Some(pdf)
    );
}

#[test]
fn a_png_named_pdf_and_a_pdf_without_a_trailer_are_refused() {
    let (_dir, _clock, store) = shop();
    // A whole 1x1 PNG, as a visitor would upload it renamed to `photo.pdf`: the name is never
    // asked for, the bytes are read.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82".to_vec();
    let attachment_only = [(
        "attachment",
        "Please upload a PDF document with a maximum size of 10 MB",
    )];
    assert_eq!(
        field_errors(&store, form("png@example.com").attachment(png)),
        attachment_only
    );
    // A header, a body, and no trailer (a truncated upload).
    let truncated = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    assert_eq!(
        field_errors(&store, form("cut@example.com").attachment(truncated)),
        attachment_only
    );
    // A trailer whose offset points at no xref section.
    let mut lying = pdf_of_len(2000);
    let at = lying.len() - "\n%%EOF\n".len() - 1;
    lying[at] = if lying[at] == b'1' { b'2' } else { b'1' };
    assert_eq!(
        field_errors(&store, form("lie@example.com").attachment(lying)),
        attachment_only
    );
    assert_eq!(count(&store, "shopkeep_leads"), 0);
}

#[test]
fn lead_data_is_encrypted_under_its_own_key() {
    let (dir, _clock, store) = shop();
    let pdf = pdf_of_len(3000);
    let lead = store
        .leads(&Principal::anonymous())
        .submit(
            LeadForm::new(
                "Zed Zebra-Quist",
                "zed.quist@example.com",
                "A very private message",
            )
            .attachment(pdf)
            .accept_terms(true),
            "198.51.100.3",
        )
        .unwrap();
    let subject = format!("lead:{}", lead.id());
    assert_eq!(
        count_where(
            &store,
            "shopkeep_data_keys",
            &format!("subject = '{subject}'")
        ),
        1
    );
    // On PostgreSQL: every row of the store's schema.
    let bytes = match store.path() {
        Some(_) => {
            drop(store);
            common::raw_bytes(&dir.path().join("shop.db"))
        }
        None => common::db::everything(&store).into_bytes(),
    };
    for secret in [
        "Zed Zebra-Quist",
        "zed.quist@example.com",
        "A very private message",
        "startxref",
    ] {
        assert!(
            !common::contains(&bytes, secret.as_bytes()),
            "{secret} in clear"
        );
    }
}

#[test]
fn submissions_are_throttled_per_client_key_and_per_email() {
    let (_dir, clock, store) = shop();
    let visitor = Principal::anonymous();
    let leads = store.leads(&visitor);
    // One client, five emails: free; the sixth waits.
    for i in 0..5 {
        leads
            .submit(form(&format!("a{i}@example.com")), "203.0.113.9")
            .unwrap();
    }
    let err = leads
        .submit(form("a5@example.com"), "203.0.113.9")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManyAttempts);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(count(&store, "shopkeep_leads"), 5);
    // Another client is not held up by the first.
    leads.submit(form("b@example.com"), "203.0.113.10").unwrap();
    // One email, from ever new clients: the email is throttled too (in any spelling).
    for i in 0..4 {
        leads
            .submit(form("b@example.com"), &format!("192.0.2.{i}"))
            .unwrap();
    }
    let err = leads
        .submit(form("B@Example.com"), "192.0.2.99")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManyAttempts);
    // After the wait, the client may send again.
    clock.advance(Duration::from_secs(30));
    leads.submit(form("a5@example.com"), "203.0.113.9").unwrap();
}

#[test]
fn staff_move_a_lead_along_the_pipeline_audited_with_events() {
    let (_dir, _clock, store) = shop();
    let lead = store
        .leads(&Principal::anonymous())
        .submit(form("lee@example.com"), "198.51.100.4")
        .unwrap();
    assert_eq!(lead.status(), LeadStatus::New);
    let support = common::staff(&store, "support@example.com", Role::Support);
    let leads = store.leads(&support);
    let err = leads.set_status(lead.id(), 1, LeadStatus::Won).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    let lead = leads
        .set_status(lead.id(), 1, LeadStatus::Contacted)
        .unwrap();
    let err = leads
        .set_status(lead.id(), 1, LeadStatus::Qualified)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let lead = leads
        .set_status(lead.id(), 2, LeadStatus::Qualified)
        .unwrap();
    let lead = leads.set_status(lead.id(), 3, LeadStatus::Won).unwrap();
    assert_eq!(leads.get(lead.id()).unwrap().status(), LeadStatus::Won);
    let err = leads
        .set_status(lead.id(), 4, LeadStatus::Lost)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    assert_eq!(
        count_where(
            &store,
            "shopkeep_audit",
            "action = 'update_lead' AND outcome = 'allowed'"
        ),
        3
    );
    let events = common::db::texts(
        &store,
        "SELECT data FROM shopkeep_outbox WHERE type = 'lead.status_changed' ORDER BY seq",
    );
    assert_eq!(events.len(), 3);
    // Ids and states only.
    assert!(
        events
            .iter()
            .all(|e| !e.contains("lee@example.com") && !e.contains("Lee Lead"))
    );
    assert_eq!(
        store
            .leads(&support)
            .list(Some(LeadStatus::Won), None, 10)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn only_staff_who_answer_leads_read_them() {
    let (_dir, _clock, store) = shop();
    let lead = store
        .leads(&Principal::anonymous())
        .submit(form("lee@example.com"), "198.51.100.5")
        .unwrap();
    let customer = common::customer(&store, "cust@example.com", "DE");
    let warehouse = common::staff(&store, "wh@example.com", Role::Warehouse);
    for who in [&Principal::anonymous(), &customer, &warehouse] {
        let leads = store.leads(who);
        assert_eq!(
            leads.get(lead.id()).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            leads.export(lead.id()).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            leads.erase(lead.id()).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            leads.list(None, None, 10).unwrap_err().kind(),
            ErrorKind::Forbidden
        );
    }
    let marketing = common::staff(&store, "mkt@example.com", Role::Marketing);
    assert_eq!(
        store.leads(&marketing).get(lead.id()).unwrap().name(),
        "Lee Lead"
    );
    // Marketing reads, but neither exports nor erases.
    let err = store.leads(&marketing).erase(lead.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    // A customer may send the form too.
    store
        .leads(&customer)
        .submit(form("cust@example.com"), "198.51.100.6")
        .unwrap();
}

#[test]
fn a_lead_is_exported_and_erased_by_shredding_its_key() {
    let (_dir, _clock, store) = shop();
    let pdf = pdf_of_len(1500);
    let lead = store
        .leads(&Principal::anonymous())
        .submit(
            form("lee@example.com").attachment(pdf.clone()),
            "198.51.100.7",
        )
        .unwrap();
    let owner = common::staff(&store, "owner@example.com", Role::Owner);
    let export = store.leads(&owner).export(lead.id()).unwrap();
    assert_eq!(export.attachment(), Some(pdf.as_slice()));
    let json = export.to_json().unwrap();
    assert!(json.contains("\"name\": \"Lee Lead\"") && json.contains("lee@example.com"));

    store.leads(&owner).erase(lead.id()).unwrap();
    let system = store.system();
    assert_eq!(
        store.leads(&system).get(lead.id()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.leads(&system).export(lead.id()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_data_keys",
            &format!("subject = 'lead:{}'", lead.id())
        ),
        0
    );
    assert_eq!(
        count_where(
            &store,
            "shopkeep_leads",
            "erased_at IS NOT NULL AND email IS NULL AND name IS NULL AND message IS NULL \
             AND attachment IS NULL AND email_index IS NULL"
        ),
        1
    );
    assert_eq!(
        count_where(&store, "shopkeep_outbox", "type = 'lead.erased'"),
        1
    );
    // Again: succeeds, changes nothing more.
    store.leads(&owner).erase(lead.id()).unwrap();
    assert_eq!(
        count_where(&store, "shopkeep_outbox", "type = 'lead.erased'"),
        1
    );
    let missing = LeadId::parse("0190e6a4-7c1a-7000-8000-000000000001").unwrap();
    assert_eq!(
        store.leads(&owner).erase(missing).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_customer_registering_with_a_leads_email_converts_it() {
    let (_dir, _clock, store) = shop();
    let visitor = Principal::anonymous();
    let first = store
        .leads(&visitor)
        .submit(form("Ana@Example.com"), "198.51.100.8")
        .unwrap();
    let other = store
        .leads(&visitor)
        .submit(form("bob@example.com"), "198.51.100.8")
        .unwrap();
    let ana = common::customer(&store, "ana@example.com", "DE");
    let ana_id = ana.customer_id().unwrap();
    let system = store.system();
    let converted = store.leads(&system).get(first.id()).unwrap();
    assert_eq!(converted.customer(), Some(ana_id));
    // Its history stays: the message, the status, the date.
    assert_eq!(converted.message(), first.message());
    assert_eq!(converted.created_at(), first.created_at());
    assert_eq!(
        store.leads(&system).get(other.id()).unwrap().customer(),
        None
    );
    assert_eq!(
        count_where(&store, "shopkeep_outbox", "type = 'lead.converted'"),
        1
    );
    assert_eq!(
        count_where(&store, "shopkeep_audit", "action = 'convert_lead'"),
        1
    );
}

/// Ever new client keys and emails, so that the throttle never answers in the property test.
fn fresh(n: &AtomicUsize) -> (String, String) {
    let i = n.fetch_add(1, Ordering::Relaxed);
    (format!("client-{i}"), format!("p{i}@example.com"))
}

fn attachment_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        // Bytes that pass the header check and carry something like a trailer.
        (
            proptest::collection::vec(any::<u8>(), 0..256),
            "[0-9 \r\n]{0,12}",
            proptest::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(|(body, offset, after)| {
                let mut pdf = b"%PDF-1.".to_vec();
                pdf.extend(body);
                pdf.extend_from_slice(b"startxref");
                pdf.extend_from_slice(offset.as_bytes());
                pdf.extend_from_slice(b"%%EOF");
                pdf.extend(after);
                pdf
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_attachment_is_accepted_or_refused_with_the_field_error(bytes in attachment_bytes()) {
        static STORE: std::sync::OnceLock<Store> = std::sync::OnceLock::new();
        static N: AtomicUsize = AtomicUsize::new(0);
        let store = STORE.get_or_init(|| {
            Store::open_in_memory(KeyRing::from_master_key([9; 32])).unwrap()
        });
        let (client, email) = fresh(&N);
        match store.leads(&Principal::anonymous()).submit(form(&email).attachment(bytes), &client) {
            Ok(lead) => prop_assert!(lead.has_attachment()),
            Err(err) => {
                prop_assert_eq!(err.kind(), ErrorKind::InvalidFields);
                let fields: Vec<_> = err.field_errors().iter().map(|f| f.field()).collect();
                prop_assert_eq!(fields, vec!["attachment"]);
            }
        }
    }
}

#[test]
fn a_blank_client_key_is_the_hosts_error() {
    let (_dir, _clock, store) = shop();
    let err = store
        .leads(&Principal::anonymous())
        .submit(form("lee@example.com"), "  ")
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "client_key"
        }
    );
}
