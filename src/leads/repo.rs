//! Leads' SQL: submit, read, move along the pipeline, export, erase, and the conversion a
//! customer registration triggers.

use super::consent;
use super::events;
use super::form::LeadForm;
use super::model::{Lead, LeadExport, LeadId, LeadStatus};
use super::score;
use super::storage;
use crate::access::audit::Outcome;
use crate::access::throttle_repo::{blocked_until, clear_failures, count_attempt};
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::clock::Timestamp;
use crate::crypto::keys::Mac256;
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

/// The largest page [`LeadRepo::list`] returns.
const MAX_PAGE: usize = 500;
/// The longest client key a host may pass (an IPv6 address or a fingerprint fits).
const MAX_CLIENT_KEY: usize = 256;
/// The format name and version written into every export.
const EXPORT_FORMAT: &str = "shopkeep.lead-export.v1";

/// Leads (the shop's contact form), as seen by one principal. From [`Store::leads`].
///
/// Every method authorises exactly one [`Action`] for the principal before it touches data:
/// anyone may submit the form; only staff who answer leads may read them (see
/// `docs/access-control.md`). A lead the principal may not read answers `NotFound`, exactly
/// like one that does not exist.
#[derive(Debug)]
pub struct LeadRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// Leads, for `principal`.
    ///
    /// ```
    /// use shopkeep::leads::LeadForm;
    /// use shopkeep::{KeyRing, Principal, Store};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let form = LeadForm::new("Ana Lima", "ana@example.com", "Do you ship to Norway?")
    ///     .accept_terms(true);
    /// let lead = store.leads(&Principal::anonymous()).submit(form, "203.0.113.7")?;
    /// assert_eq!(store.leads(&store.system()).get(lead.id())?.name(), "Ana Lima");
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leads<'s>(&'s self, principal: &'s Principal) -> LeadRepo<'s> {
        LeadRepo {
            store: self,
            principal,
        }
    }
}

impl LeadRepo<'_> {
    /// Submits the contact form. Needs [`Action::SubmitLead`] (visitors and customers have
    /// it). `client_key` is what the host throttles the form by: the client's IP address or a
    /// fingerprint; only its keyed blind index is stored.
    ///
    /// Every rule of the form is checked and every failure reported at once; then the
    /// submission is throttled per client key and per email, with the login throttle's rule
    /// ([`LoginThrottle`](crate::access::LoginThrottle): by default 5 submissions free, then a
    /// wait of 30 s doubling up to 15 min, forgotten after 24 hours without one). The name,
    /// email, message and PDF are encrypted under a data key of the lead's own.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` (field `client_key`) for a blank
    /// client key or one over 256 bytes; `InvalidFields` listing every rule the form breaks
    /// ([`Error::field_errors`]), with nothing written; `TooManyAttempts` while the client
    /// key or the email must wait ([`Error::retry_after`]).
    ///
    /// With the form's marketing opt-in ticked, the lead's email consent is recorded as
    /// pending in the same transaction and `lead.consent_changed` (change `requested`) tells
    /// the host to send the confirmation link ([`LeadRepo::confirmation_token`]).
    pub fn submit(&self, form: LeadForm, client_key: &str) -> Result<Lead> {
        let store = self.store;
        store.read(|tx| tx.authorize(self.principal, Action::SubmitLead, &Resource::Leads))?;
        let client_key = client_key.trim();
        if client_key.is_empty() || client_key.len() > MAX_CLIENT_KEY {
            return Err(Error::validation(
                "client_key",
                "the client key must be 1 to 256 bytes",
            ));
        }
        let valid = form.validate()?;
        let client = storage::client_index(store, client_key);
        let email = storage::email_index(store, &valid.email);
        let blocked =
            store.read(|tx| Ok(blocked_until(tx, &client)?.max(blocked_until(tx, &email)?)))?;
        store.refuse_if_blocked(blocked, &self.principal.audit_name(), "leads")?;
        let (id, now) = store.write(|tx| {
            let now = tx.now();
            let id = LeadId::generate(now)?;
            let key = store.data_key_or_create(tx, &storage::subject(id))?;
            let attachment = valid
                .attachment
                .as_deref()
                .map(|pdf| storage::seal(&key, id, "attachment", pdf))
                .transpose()?;
            tx.execute(
                "INSERT INTO shopkeep_leads
                     (id, email_index, email, name, message, attachment, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                args![
                    id,
                    email.as_slice(),
                    storage::seal(&key, id, "email", valid.email.as_str().as_bytes())?,
                    storage::seal(&key, id, "name", valid.name.as_bytes())?,
                    storage::seal(&key, id, "message", valid.message.as_bytes())?,
                    attachment,
                    now
                ],
            )?;
            // Every submission counts, accepted or not: the throttle is against floods.
            count_attempt(tx, store, &client)?;
            count_attempt(tx, store, &email)?;
            tx.audit(self.principal, Action::SubmitLead, &Resource::Lead(id))?;
            tx.emit(&events::Submitted { lead_id: id })?;
            if let Some(version) = &valid.marketing_opt_in {
                consent::record_opt_in(tx, id, version, &self.principal.audit_name())?;
            }
            Ok((id, now))
        })?;
        Ok(Lead {
            id,
            has_attachment: valid.attachment.is_some(),
            name: valid.name,
            email: valid.email,
            message: valid.message,
            status: LeadStatus::New,
            score: 0,
            customer: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Reads a lead. Needs [`Action::ReadLead`] (staff who answer leads; never customers or
    /// visitors).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such lead, it was erased, or the principal may not read it.
    pub fn get(&self, id: LeadId) -> Result<Lead> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Lead(id))?;
            storage::load(tx, self.store, id)
        })
    }

    /// The PDF sent with a lead's form, if any. Needs [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such lead, it was erased, or the principal may not read it.
    pub fn attachment(&self, id: LeadId) -> Result<Option<Vec<u8>>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Lead(id))?;
            storage::load_attachment(tx, self.store, id)
        })
    }

    /// Leads that are not erased, oldest first, optionally only those in `status`: at most
    /// `limit` (capped at 500) after the lead `after`, for paging. Needs [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn list(
        &self,
        status: Option<LeadStatus>,
        after: Option<LeadId>,
        limit: usize,
    ) -> Result<Vec<Lead>> {
        let store = self.store;
        store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Leads)?;
            let ids: Vec<LeadId> = tx.query_map(
                "SELECT id FROM shopkeep_leads
                         WHERE erased_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR status = ?1)
                           AND id > ?2
                         ORDER BY id LIMIT ?3",
                args![
                    status.map(LeadStatus::as_str),
                    crate::sql::After(after),
                    i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0)
                ],
                |r| r.get(0),
            )?;
            ids.into_iter()
                .map(|id| storage::load(tx, store, id))
                .collect()
        })
    }

    /// Moves a lead along its pipeline (see [`LeadStatus`]), if it is still at `version`.
    /// Needs [`Action::UpdateLead`]. Audited; emits `lead.status_changed`.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may
    /// read it but not update it; `Conflict` if it changed since `version`;
    /// `InvalidTransition` if the pipeline does not lead from its status to `status`.
    pub fn set_status(&self, id: LeadId, version: u64, status: LeadStatus) -> Result<Lead> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            let current = storage::load(tx, store, id)?;
            if current.version != version {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "the lead changed since it was read",
                ));
            }
            if !current.status.can_move_to(status) {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    format!("a {} lead cannot become {status}", current.status),
                ));
            }
            tx.execute(
                "UPDATE shopkeep_leads SET status = ?2, updated_at = ?3, version = version + 1
                 WHERE id = ?1",
                args![id, status.as_str(), tx.now()],
            )?;
            tx.audit(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            tx.emit(&events::StatusChanged {
                lead_id: id,
                status: status.as_str(),
            })?;
            Ok(Lead {
                status,
                updated_at: tx.now(),
                version: current.version.saturating_add(1),
                ..current
            })
        })
    }

    /// Everything the store holds about a lead, decrypted, the PDF included. Needs
    /// [`Action::ExportLead`]. Audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may
    /// read it but not export it.
    pub fn export(&self, id: LeadId) -> Result<LeadExport> {
        let store = self.store;
        // A write transaction, for its audit entry, as for customers.
        store.write(|tx| {
            tx.authorize(self.principal, Action::ExportLead, &Resource::Lead(id))?;
            let lead = storage::load(tx, store, id)?;
            let attachment = storage::load_attachment(tx, store, id)?;
            let consent = crate::customers::consent_repo::lead_history_in(tx, id)?;
            let activities = score::activities_in(tx, id)?;
            tx.audit(self.principal, Action::ExportLead, &Resource::Lead(id))?;
            Ok(LeadExport {
                format: EXPORT_FORMAT,
                exported_at: tx.now(),
                lead,
                attachment,
                consent,
                activities,
            })
        })
    }

    /// Erases a lead (GDPR Art. 17). Needs [`Action::EraseLead`].
    ///
    /// In one transaction the lead's data key is destroyed (crypto-shredding: every
    /// ciphertext of the lead is unreadable for good), the personal columns, the PDF and the
    /// blind index are cleared, and its email's submission count is forgotten. A tombstone
    /// (id, status, dates, customer link) stays. Audited by id; emits `lead.erased`. Erasing
    /// an erased lead succeeds again.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown or hidden lead; `Forbidden` if the principal may read it but
    /// not erase it.
    pub fn erase(&self, id: LeadId) -> Result<()> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::EraseLead, &Resource::Lead(id))?;
            let row: Option<(Option<Vec<u8>>, Option<Timestamp>)> = tx.query_opt(
                "SELECT email_index, erased_at FROM shopkeep_leads WHERE id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((index, erased_at)) = row else {
                return Err(not_found(&Resource::Lead(id)));
            };
            if erased_at.is_none() {
                if let Some(index) = index.and_then(|i| Mac256::try_from(i.as_slice()).ok()) {
                    clear_failures(tx, &index)?;
                }
                store.destroy_data_key(tx, &storage::subject(id))?;
                consent::erase(tx, id)?;
                score::erase(tx, id)?;
                tx.execute(
                    "UPDATE shopkeep_leads
                     SET email_index = NULL, email = NULL, name = NULL, message = NULL,
                         attachment = NULL, erased_at = ?2, updated_at = ?2, version = version + 1
                     WHERE id = ?1",
                    args![id, tx.now()],
                )?;
                tx.emit(&events::Erased { lead_id: id })?;
            }
            tx.audit(self.principal, Action::EraseLead, &Resource::Lead(id))
        })?;
        // As for customers: a reader in the way leaves the WAL scrub pending, not the erasure.
        store.scrub_now()?;
        Ok(())
    }
}

/// Links the open leads with `email` to the customer who just registered with it, inside the
/// registration's transaction: the lead keeps its history and now names its customer. Each
/// link is audited (`convert_lead`, by the registering principal) and emits `lead.converted`.
pub(crate) fn link_to_customer(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    email: &Email,
    customer: CustomerId,
) -> Result<()> {
    let index = storage::email_index(store, email);
    let linked: Vec<LeadId> = tx.query_map(
        "UPDATE shopkeep_leads
                 SET customer_id = ?2, updated_at = ?3, version = version + 1
                 WHERE email_index = ?1 AND customer_id IS NULL AND erased_at IS NULL
                 RETURNING id",
        args![index.as_slice(), customer, tx.now()],
        |r| r.get(0),
    )?;
    // The consent history comes along: a lead's confirmed opt-in is the customer's consent.
    crate::customers::consent_repo::carry_over(tx, &linked, customer)?;
    let who = principal.audit_name();
    for lead_id in linked {
        tx.audit_event(
            &who,
            "convert_lead",
            &Resource::Lead(lead_id).to_string(),
            Outcome::Allowed,
        )?;
        tx.emit(&events::Converted {
            lead_id,
            customer_id: customer,
        })?;
    }
    Ok(())
}
