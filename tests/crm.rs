//! CRM export: the fields of a consented customer or lead, refused for contacts without a
//! current marketing consent, authorised and audited.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use shopkeep::access::Role;
use shopkeep::customers::{Channel, ConsentRequest, ConsentStatus};
use shopkeep::integrations::crm::ContactKind;
use shopkeep::leads::{Activity, ActivityKind, LeadForm, LeadStatus};
use shopkeep::orders::PriceMode;
use shopkeep::{ErrorKind, Principal};

use common::{address, business, eur, new_customer, place, product, register};
use common::{count_where, dump};

const WRITTEN: &[&str] = &[
    "shopkeep_audit",
    "shopkeep_outbox",
    "shopkeep_customer_consents",
];

#[test]
fn a_consented_business_customer_is_exported_with_orders_per_currency() {
    let shop = common::shop(PriceMode::TaxInclusive);
    let store = &shop.store;
    let system = store.system();
    let mug = product(
        store,
        "MUG",
        eur("12.00"),
        shopkeep::catalog::TaxCategory::Standard,
        10,
    );
    let buyer = register(
        store,
        new_customer("bea@example.com", "Bea Buyer", address("DE"))
            .business(business("Beispiel KG", "DE811907980")),
    );
    let id = buyer.customer_id().unwrap();
    let first = place(store, &buyer, &[(mug, 2)], None);
    let second = place(store, &buyer, &[(mug, 1)], None);
    let cancelled = place(store, &buyer, &[(mug, 3)], None);
    store
        .orders(&system)
        .cancel(cancelled.id(), "changed mind")
        .unwrap();

    // Without a current consent: refused, nothing written.
    let crm = store.crm(&system);
    let before = dump(store, WRITTEN);
    let err = crm.customer_contact(id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    assert_eq!(dump(store, WRITTEN), before);

    // Post needs no double opt-in: granted at once.
    let post = ConsentRequest::new(Channel::Post, "checkout", "post-v1").unwrap();
    store.consents(&system).grant(id, post).unwrap();
    let contact = crm.customer_contact(id).unwrap();
    assert_eq!(contact.kind(), ContactKind::Customer);
    assert_eq!(contact.id(), id.to_string());
    assert_eq!(
        (contact.email(), contact.name()),
        ("bea@example.com", "Bea Buyer")
    );
    assert_eq!(
        (contact.company(), contact.vat_id(), contact.country()),
        (Some("Beispiel KG"), Some("DE811907980"), Some("DE"))
    );
    let granted: Vec<_> = contact
        .consent()
        .iter()
        .filter(|s| s.is_granted())
        .map(|s| s.channel())
        .collect();
    assert_eq!(granted, [Channel::Post]);
    assert_eq!(contact.consent().len(), Channel::ALL.len());
    assert!(contact.lead().is_none());
    // Two orders count, the cancelled one does not.
    let facts = contact.orders();
    assert_eq!(facts.len(), 1);
    assert_eq!(
        (
            facts[0].currency(),
            facts[0].orders(),
            facts[0].total_minor()
        ),
        ("EUR", 2, first.total().minor() + second.total().minor())
    );
    assert_eq!(
        count_where(store, "shopkeep_audit", "action = 'export_crm_contact'"),
        1
    );

    // The JSON a CRM client sends, and a Debug that names no one.
    let json = serde_json::to_value(&contact).unwrap();
    assert_eq!(json["kind"], "customer");
    assert_eq!(json["company"], "Beispiel KG");
    assert_eq!(json["orders"][0]["orders"], 2);
    let debug = format!("{contact:?}");
    assert!(!debug.contains("bea@") && !debug.contains("Bea"), "{debug}");

    // Withdrawn: refused again.
    store
        .consents(&system)
        .withdraw(id, Channel::Post, "support_call")
        .unwrap();
    assert_eq!(
        crm.customer_contact(id).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
}

#[test]
fn a_lead_is_exported_once_its_opt_in_is_confirmed() {
    let shop = common::shop(PriceMode::TaxInclusive);
    let store = &shop.store;
    let system = store.system();
    let form = LeadForm::new("Lee Lead", "lee@example.com", "Do you ship mugs to Oslo?")
        .accept_terms(true)
        .marketing_opt_in("news-v1");
    let lead = store
        .leads(&Principal::anonymous())
        .submit(form, "198.51.100.1")
        .unwrap()
        .id();
    let crm = store.crm(&system);
    // Pending is not current.
    assert_eq!(
        crm.lead_contact(lead).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
    let leads = store.leads(&system);
    store
        .confirm_consent(&leads.confirmation_token(lead).unwrap())
        .unwrap();
    let click = Activity::new(ActivityKind::LinkClicked, "m1/click").unwrap();
    leads.record_activity(lead, &click, store.now()).unwrap();
    leads.set_status(lead, 1, LeadStatus::Contacted).unwrap();

    let contact = crm.lead_contact(lead).unwrap();
    assert_eq!(contact.kind(), ContactKind::Lead);
    assert_eq!(
        (contact.email(), contact.name(), contact.country()),
        ("lee@example.com", "Lee Lead", None)
    );
    let facts = contact.lead().unwrap();
    assert_eq!((facts.status(), facts.score()), (LeadStatus::Contacted, 3));
    let email = contact
        .consent()
        .iter()
        .find(|s| s.channel() == Channel::Email)
        .unwrap();
    assert_eq!(
        (email.status(), email.text_version()),
        (ConsentStatus::Granted, Some("news-v1"))
    );
    assert!(contact.orders().is_empty());
    let json = serde_json::to_value(&contact).unwrap();
    assert_eq!(json["lead"]["status"], "contacted");
    assert_eq!(json["lead"]["score"], 3);
    assert_eq!(
        count_where(
            store,
            "shopkeep_audit",
            &format!("action = 'export_crm_contact' AND resource = 'lead:{lead}'")
        ),
        1
    );
    leads
        .withdraw_consent(lead, Channel::Email, "reply_stop")
        .unwrap();
    assert_eq!(
        crm.lead_contact(lead).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
}

#[test]
fn only_those_who_run_the_shop_and_its_marketing_export_contacts() {
    let shop = common::shop(PriceMode::TaxInclusive);
    let store = &shop.store;
    let system = store.system();
    let ana = common::customer(store, "ana@example.com", "DE");
    let id = ana.customer_id().unwrap();
    let sms = ConsentRequest::new(Channel::Sms, "checkout", "sms-v1").unwrap();
    store.consents(&system).grant(id, sms).unwrap();
    for (role, allowed) in [
        (Role::Owner, true),
        (Role::Manager, true),
        (Role::Marketing, true),
        (Role::Support, false),
        (Role::Accountant, false),
    ] {
        let who = common::staff(store, &format!("{role:?}@example.com"), role);
        let result = store.crm(&who).customer_contact(id);
        assert_eq!(result.is_ok(), allowed, "{role:?}");
        if !allowed {
            // Support may read the customer, so is told it is forbidden; others see nothing.
            let want = if role == Role::Support {
                ErrorKind::Forbidden
            } else {
                ErrorKind::NotFound
            };
            assert_eq!(result.unwrap_err().kind(), want, "{role:?}");
        }
    }
    // A customer may not export even their own contact.
    assert_eq!(
        store.crm(&ana).customer_contact(id).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}
