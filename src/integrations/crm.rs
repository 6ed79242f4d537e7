//! CRM export: the fields a CRM takes for one contact (a customer or a lead), for the host's
//! CRM sync. Change events carry ids only (as everywhere); on such an event the host asks for
//! the contact here and pushes it to its CRM.
//!
//! Only a contact with a current marketing consent (on any channel) is exported: a CRM is a
//! marketing tool, and personal data goes there only with the person's consent. Any other
//! contact is refused with a typed error and nothing is written. Each export is an audit entry
//! (`export_crm_contact`), since it hands personal data out of the store.
//!
//! ```
//! use shopkeep::customers::{Channel, ConsentRequest};
//! use shopkeep::leads::LeadForm;
//! use shopkeep::{ErrorKind, KeyRing, Principal, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let system = store.system();
//! let form = LeadForm::new("Ana Lima", "ana@example.com", "Do you ship to Norway?")
//!     .accept_terms(true)
//!     .marketing_opt_in("newsletter-v1");
//! let lead = store.leads(&Principal::anonymous()).submit(form, "203.0.113.7")?.id();
//! // Pending (not yet confirmed): refused.
//! let err = store.crm(&system).lead_contact(lead).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidTransition);
//! store.confirm_consent(&store.leads(&system).confirmation_token(lead)?)?;
//! let contact = store.crm(&system).lead_contact(lead)?;
//! assert_eq!(contact.email(), "ana@example.com");
//! let json = serde_json::to_value(&contact)?;
//! assert_eq!(json["consent"][0]["status"], "granted");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::Serialize;

use crate::access::{Action, CustomerId, Principal, Resource};
use crate::customers::{Channel, ConsentState, consent_repo, derive_consent_state};
use crate::error::{Error, ErrorKind, Result};
use crate::leads::{LeadId, LeadStatus};
use crate::sql::args;
use crate::store::{Store, Tx};

/// Which kind of contact a [`CrmContact`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContactKind {
    /// A registered customer.
    Customer,
    /// A lead from the contact form.
    Lead,
}

/// What a lead adds to its contact: where it stands in the pipeline, and its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeadFacts {
    status: LeadStatus,
    score: i64,
}

impl LeadFacts {
    /// The lead's status.
    pub fn status(&self) -> LeadStatus {
        self.status
    }

    /// The lead's score (see the leads guide).
    pub fn score(&self) -> i64 {
        self.score
    }
}

/// A customer's orders in one currency: how many, and their gross total in minor units.
/// Cancelled and expired orders do not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderFacts {
    currency: String,
    orders: u64,
    total_minor: i64,
}

impl OrderFacts {
    /// The ISO 4217 currency code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// How many orders.
    pub fn orders(&self) -> u64 {
        self.orders
    }

    /// Their gross total, in minor units of the currency.
    pub fn total_minor(&self) -> i64 {
        self.total_minor
    }
}

/// One contact as a CRM takes it. Personal data: `Debug` shows the kind and id only;
/// `Serialize` gives every field, for the host's CRM client.
#[derive(Clone, Serialize)]
pub struct CrmContact {
    kind: ContactKind,
    id: String,
    email: String,
    name: String,
    company: Option<String>,
    vat_id: Option<String>,
    country: Option<String>,
    consent: Vec<ConsentState>,
    lead: Option<LeadFacts>,
    orders: Vec<OrderFacts>,
}

impl CrmContact {
    /// A customer or a lead.
    pub fn kind(&self) -> ContactKind {
        self.kind
    }

    /// The customer's or lead's id, as text.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The company, for a business customer.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The VAT id, for a business customer that gave one.
    pub fn vat_id(&self) -> Option<&str> {
        self.vat_id.as_deref()
    }

    /// The country (ISO 3166-1 alpha-2) of the customer's default billing address, else of the
    /// default shipping address; `None` for a lead or a customer without addresses.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The marketing consent of every channel.
    pub fn consent(&self) -> &[ConsentState] {
        &self.consent
    }

    /// The lead's status and score; `None` for a customer.
    pub fn lead(&self) -> Option<&LeadFacts> {
        self.lead.as_ref()
    }

    /// The customer's orders per currency; empty for a lead.
    pub fn orders(&self) -> &[OrderFacts] {
        &self.orders
    }
}

impl fmt::Debug for CrmContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrmContact")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// CRM exports, as seen by one principal. From [`Store::crm`].
///
/// Every method needs [`Action::ExportCrmContact`] (the owner, managers, marketing staff and
/// the system principal; see `docs/access-control.md`).
#[derive(Debug)]
pub struct CrmRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// CRM exports, for `principal`.
    pub fn crm<'s>(&'s self, principal: &'s Principal) -> CrmRepo<'s> {
        CrmRepo {
            store: self,
            principal,
        }
    }
}

impl CrmRepo<'_> {
    /// The CRM fields of customer `id`: email, name, company and VAT id if a business, the
    /// country, the consent of every channel, the orders per currency. Audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer; `Forbidden` if the principal may
    /// read the customer but not export them; `InvalidTransition` if the customer has no
    /// current marketing consent on any channel (nothing is written then).
    pub fn customer_contact(&self, id: CustomerId) -> Result<CrmContact> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ExportCrmContact,
                &Resource::Customer(id),
            )?;
            crate::customers::ensure_active(tx, id)?;
            let consent = consent_repo::states_in(tx, id)?;
            refuse_without_consent(&consent)?;
            let buyer = crate::customers::load_buyer(tx, store, id)?;
            let country = buyer
                .billing
                .as_ref()
                .or(buyer.shipping.as_ref())
                .map(|a| a.country().as_str().to_owned());
            let contact = CrmContact {
                kind: ContactKind::Customer,
                id: id.to_string(),
                email: buyer.email,
                name: buyer.name,
                company: buyer.business.as_ref().map(|b| b.company().to_owned()),
                vat_id: buyer
                    .business
                    .as_ref()
                    .and_then(|b| b.vat_id())
                    .map(|v| v.as_str().to_owned()),
                country,
                consent,
                lead: None,
                orders: order_facts(tx, id)?,
            };
            tx.audit(
                self.principal,
                Action::ExportCrmContact,
                &Resource::Customer(id),
            )?;
            Ok(contact)
        })
    }

    /// The CRM fields of lead `id`: email, name, the consent of every channel, its status and
    /// score. Audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may read
    /// the lead but not export it; `InvalidTransition` if the lead has no current marketing
    /// consent on any channel (nothing is written then).
    pub fn lead_contact(&self, id: LeadId) -> Result<CrmContact> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ExportCrmContact,
                &Resource::Lead(id),
            )?;
            let lead = crate::leads::load_lead(tx, store, id)?;
            let history = consent_repo::lead_history_in(tx, id)?;
            let consent: Vec<ConsentState> = Channel::ALL
                .iter()
                .map(|&c| derive_consent_state(c, &history))
                .collect();
            refuse_without_consent(&consent)?;
            let contact = CrmContact {
                kind: ContactKind::Lead,
                id: id.to_string(),
                email: lead.email().as_str().to_owned(),
                name: lead.name().to_owned(),
                company: None,
                vat_id: None,
                country: None,
                consent,
                lead: Some(LeadFacts {
                    status: lead.status(),
                    score: lead.score(),
                }),
                orders: Vec::new(),
            };
            tx.audit(
                self.principal,
                Action::ExportCrmContact,
                &Resource::Lead(id),
            )?;
            Ok(contact)
        })
    }
}

fn refuse_without_consent(consent: &[ConsentState]) -> Result<()> {
    if consent.iter().any(ConsentState::is_granted) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidTransition,
            "the contact has no current marketing consent: it is not exported to a CRM",
        ))
    }
}

/// A customer's orders per currency, cancelled and expired ones left out.
fn order_facts(tx: &Tx<'_>, id: CustomerId) -> Result<Vec<OrderFacts>> {
    tx.query_map(
        "SELECT currency, count(*), sum(gross_total) FROM shopkeep_orders
             WHERE customer_id = ?1 AND status NOT IN ('cancelled', 'expired')
             GROUP BY currency ORDER BY currency",
        args![id],
        |r| {
            Ok(OrderFacts {
                currency: r.get(0)?,
                orders: u64::try_from(r.get::<i64>(1)?).unwrap_or(0),
                total_minor: r.get(2)?,
            })
        },
    )
}
