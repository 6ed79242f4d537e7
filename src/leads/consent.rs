//! Leads' marketing consent: the contact form's opt-in, its double opt-in token, withdrawal,
//! the unsubscribe link of nurturing mail, and the question nurturing asks ("may we email
//! this lead?"). The rows live in the one consent ledger customers use
//! (`customers::consent_repo`), and unsubscribe tokens are kept as customers' are
//! (`customers::unsubscribe`); this module owns the lead side: its tokens and its
//! authorisation.

use std::time::Duration;

use super::events;
use super::model::LeadId;
use super::repo::LeadRepo;
use super::storage;
use crate::access::audit::Outcome;
use crate::access::{Action, Resource};
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::crypto::keys::Mac256;
use crate::customers::consent_repo::{
    UNSUBSCRIBE_SOURCE, append_for_lead, delete_lead_rows, lead_history_in, lead_state_in,
};
use crate::customers::unsubscribe;
use crate::customers::{Channel, ConsentEvent, ConsentRecord, ConsentState, ConsentStatus};
use crate::customers::{ConsentToken, UnsubscribeToken, derive_consent_state};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};
use crate::text;

/// How long a lead's confirmation token is valid: as long as a customer's.
const CONFIRMATION_LIFETIME: Duration = Duration::from_secs(72 * 3600);
/// The ledger source of an opt-in ticked on the contact form.
pub(super) const FORM_SOURCE: &str = "lead_form";
/// The longest consent-text version accepted, as for customers.
const MAX_TEXT_VERSION: usize = 50;
/// Who records what a token holder does: nobody is logged in.
const LINK_HOLDER: &str = "anonymous";

/// Checks the consent-text version a form's opt-in names.
pub(super) fn text_version(version: &str) -> Result<String> {
    text::required("marketing_opt_in", version, MAX_TEXT_VERSION)
}

/// Records the form's opt-in as a pending email consent of the new lead (inside `submit`'s
/// transaction). Email needs double opt-in, so it counts only once confirmed.
pub(super) fn record_opt_in(tx: &Tx<'_>, lead: LeadId, version: &str, by: &str) -> Result<()> {
    let event = ConsentEvent::Requested;
    append_for_lead(
        tx,
        lead,
        Channel::Email,
        event,
        FORM_SOURCE,
        Some(version),
        by,
    )?;
    tx.emit(&events::ConsentChanged::new(lead, Channel::Email, event))
}

/// Forgets a lead's consent rows, confirmation tokens and unsubscribe tokens (its erasure).
pub(super) fn erase(tx: &Tx<'_>, lead: LeadId) -> Result<()> {
    delete_tokens(tx, lead, None)?;
    tx.execute(
        "DELETE FROM shopkeep_lead_unsubscribe WHERE lead_id = ?1",
        args![lead],
    )?;
    delete_lead_rows(tx, lead)
}

/// Withdraws lead `lead`'s granted or pending consent on `channel`, recording `source` by
/// `recorded_by`, and voids its confirmation tokens on that channel. Returns whether there was
/// anything to withdraw (and so a ledger row and a `lead.consent_changed` event).
fn withdraw_in(
    tx: &Tx<'_>,
    lead: LeadId,
    channel: Channel,
    source: &str,
    recorded_by: &str,
) -> Result<bool> {
    delete_tokens(tx, lead, Some(channel))?;
    let state = lead_state_in(tx, lead, channel)?;
    if !matches!(
        state.status(),
        ConsentStatus::Granted | ConsentStatus::Pending
    ) {
        return Ok(false);
    }
    let event = ConsentEvent::Withdrawn;
    append_for_lead(
        tx,
        lead,
        channel,
        event,
        source,
        state.text_version(),
        recorded_by,
    )?;
    tx.emit(&events::ConsentChanged::new(lead, channel, event))?;
    Ok(true)
}

/// The unsubscribe token of lead `id` and `channel`, made on first request and the same
/// afterwards, inside the caller's transaction: for a campaign sender that runs without a
/// principal. No authorisation and no audit entry (the caller answers for both); the lead
/// must not be erased.
///
/// # Errors
///
/// `NotFound` for an unknown or erased lead; `Crypto` if the stored token does not open.
pub(crate) fn lead_unsubscribe_token_in(
    tx: &Tx<'_>,
    store: &Store,
    id: LeadId,
    channel: Channel,
) -> Result<UnsubscribeToken> {
    ensure_open(tx, id)?;
    let key = storage::key(tx, store, id)?;
    unsubscribe::LEADS.get_or_create(tx, store, &key, id, channel)
}

/// Redeems a lead's unsubscribe token inside [`Store::unsubscribe`]'s transaction, once the
/// token was not found among customers': the lead's consent on the token's channel is
/// withdrawn (source `unsubscribe_link`, by `anonymous`, audited `unsubscribe` on
/// `lead:<id>`), and, if the lead converted, the customer's too: links in nurturing mail sent
/// before the conversion keep unsubscribing the person. Again, it records nothing new.
///
/// # Errors
///
/// As [`Store::unsubscribe`]: `Validation` (field `token`) for a token found in neither table;
/// `Crypto` if the lead's row was altered outside shopkeep.
pub(crate) fn unsubscribe_lead(
    tx: &Tx<'_>,
    store: &Store,
    hash: &Mac256,
    token: &UnsubscribeToken,
) -> Result<()> {
    let table = &unsubscribe::LEADS;
    let Some(found) = table.find::<LeadId>(tx, hash)? else {
        return Err(invalid_token());
    };
    let key = storage::key(tx, store, found.id)?;
    found.check(table, &key, token)?;
    let (lead, channel) = (found.id, found.channel);
    if withdraw_in(tx, lead, channel, UNSUBSCRIBE_SOURCE, LINK_HOLDER)? {
        tx.audit_event(
            LINK_HOLDER,
            "unsubscribe",
            &Resource::Lead(lead).to_string(),
            Outcome::Allowed,
        )?;
    }
    if let Some(customer) = converted_to(tx, lead)?
        && crate::customers::ensure_active(tx, customer).is_ok()
    {
        crate::customers::consent_repo::withdraw_by_link(tx, customer, channel)?;
    }
    Ok(())
}

fn delete_tokens(tx: &Tx<'_>, lead: LeadId, channel: Option<Channel>) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_lead_tokens WHERE lead_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR channel = ?2)",
        args![lead, channel.map(Channel::as_str)],
    )?;
    Ok(())
}

fn token_mac(store: &Store, hash: &[u8], lead: LeadId, channel: &str) -> Mac256 {
    store.keys().auth_mac(
        &auth_mac::LEAD_TOKENS,
        &[
            Some(hash),
            Some(lead.as_bytes().as_slice()),
            Some(channel.as_bytes()),
        ],
    )
}

/// Whether lead `id` exists and is not erased.
fn ensure_open(tx: &Tx<'_>, id: LeadId) -> Result<()> {
    let open: Option<bool> = tx.query_opt(
        "SELECT erased_at IS NULL FROM shopkeep_leads WHERE id = ?1",
        args![id],
        |r| r.get(0),
    )?;
    match open {
        Some(true) => Ok(()),
        _ => Err(not_found(&Resource::Lead(id))),
    }
}

/// Redeems a lead's confirmation token inside [`Store::confirm_consent`]'s transaction: the
/// lead's pending email consent becomes current, and, if the lead converted meanwhile, the
/// customer's too.
///
/// # Errors
///
/// As [`Store::confirm_consent`]: `Validation` (field `token`) for an unknown, expired or void
/// token; `Crypto` if the token row was moved to another lead outside shopkeep.
pub(crate) fn confirm_lead_consent(tx: &Tx<'_>, store: &Store, hash: &Mac256) -> Result<()> {
    type Pending = (LeadId, String, String, String, Timestamp, Vec<u8>);
    let pending: Option<Pending> = tx.query_opt(
        "DELETE FROM shopkeep_lead_tokens WHERE token_hash = ?1
             RETURNING lead_id, channel, source, text_version, expires_at, auth_mac",
        args![hash.as_slice()],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let Some((lead, channel, source, version, expires_at, mac)) = pending else {
        return Err(invalid_token());
    };
    store.keys().verify_auth_mac(
        &auth_mac::LEAD_TOKENS,
        &[
            Some(hash.as_slice()),
            Some(lead.as_bytes().as_slice()),
            Some(channel.as_bytes()),
        ],
        Some(&mac),
    )?;
    if tx.now() >= expires_at {
        return Err(invalid_token());
    }
    ensure_open(tx, lead).map_err(|_| invalid_token())?;
    let channel = Channel::from_stored(&channel)?;
    if lead_state_in(tx, lead, channel)?.status() != ConsentStatus::Pending {
        // Withdrawn meanwhile (withdrawal also deletes tokens; this is the second guard).
        return Err(invalid_token());
    }
    let event = ConsentEvent::Confirmed;
    append_for_lead(
        tx,
        lead,
        channel,
        event,
        &source,
        Some(&version),
        LINK_HOLDER,
    )?;
    tx.audit_event(
        LINK_HOLDER,
        "confirm_consent",
        &Resource::Lead(lead).to_string(),
        Outcome::Allowed,
    )?;
    tx.emit(&events::ConsentChanged::new(lead, channel, event))?;
    if let Some(customer) = converted_to(tx, lead)? {
        crate::customers::consent_repo::confirm_for_converted(
            tx,
            customer,
            channel,
            &source,
            &version,
            LINK_HOLDER,
        )?;
    }
    Ok(())
}

/// The customer lead `id` converted to, if any.
fn converted_to(tx: &Tx<'_>, id: LeadId) -> Result<Option<crate::access::CustomerId>> {
    let customer: Option<Option<crate::access::CustomerId>> = tx.query_opt(
        "SELECT customer_id FROM shopkeep_leads WHERE id = ?1",
        args![id],
        |r| r.get(0),
    )?;
    Ok(customer.flatten())
}

fn invalid_token() -> Error {
    Error::validation(
        "token",
        "the link is invalid or has expired: ask for a new one",
    )
}

impl LeadRepo<'_> {
    /// A double opt-in confirmation token for a lead whose email consent is pending (the
    /// visitor ticked the form's opt-in, [`LeadForm::marketing_opt_in`](super::LeadForm::marketing_opt_in)),
    /// for the host to email to the lead's address as a link, e.g. with
    /// [`Composer::consent_confirmation`](crate::integrations::email::Composer::consent_confirmation);
    /// [`Store::confirm_consent`] redeems it within 72 hours. The host asks for it when it sees
    /// the `lead.consent_changed` event with change `requested`; asking again voids the
    /// older token (a resend). Needs [`Action::UpdateLead`]. Audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may read
    /// it but not update it; `InvalidTransition` if the lead's email consent is not pending
    /// (never asked for, already confirmed or withdrawn).
    pub fn confirmation_token(&self, id: LeadId) -> Result<ConsentToken> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            ensure_open(tx, id)?;
            let channel = Channel::Email;
            let state = lead_state_in(tx, id, channel)?;
            let (ConsentStatus::Pending, Some(version)) = (state.status(), state.text_version())
            else {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    "the lead's email consent is not awaiting confirmation",
                ));
            };
            let source = pending_source(tx, id, channel)?;
            delete_tokens(tx, id, Some(channel))?;
            let token = ConsentToken::generate()?;
            let hash = store.keys().token_hash(token.as_str().as_bytes());
            let now = tx.now();
            tx.execute(
                "INSERT INTO shopkeep_lead_tokens
                     (token_hash, lead_id, channel, source, text_version, created_at, expires_at,
                      auth_mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![
                    hash.as_slice(),
                    id,
                    channel.as_str(),
                    source,
                    version,
                    now,
                    now.checked_add(CONFIRMATION_LIFETIME)?,
                    token_mac(store, &hash, id, channel.as_str()).as_slice()
                ],
            )?;
            tx.audit(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            Ok(token)
        })
    }

    /// Withdraws a lead's consent on `channel` (or cancels a pending request), recording
    /// `source` (`support_call`, `reply_stop`, ...), and voids its confirmation tokens.
    /// Withdrawing what is not given records nothing. Needs [`Action::UpdateLead`]. Audited;
    /// emits `lead.consent_changed` when something was withdrawn.
    ///
    /// # Errors
    ///
    /// `Validation` (field `source`) for an empty, over-long or control-character source;
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may read
    /// it but not update it.
    pub fn withdraw_consent(&self, id: LeadId, channel: Channel, source: &str) -> Result<()> {
        let source = text::required("source", source, 100)?;
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            ensure_open(tx, id)?;
            withdraw_in(tx, id, channel, &source, &self.principal.audit_name())?;
            tx.audit(self.principal, Action::UpdateLead, &Resource::Lead(id))
        })
    }

    /// The unsubscribe token of a lead and channel, for the link in each nurturing message
    /// (e.g. with [`Composer::marketing`](crate::integrations::email::Composer::marketing),
    /// which takes it exactly as a customer's). It is made on first request and the same
    /// afterwards, so links in messages already sent keep working; it is stored encrypted under
    /// the lead's data key, bound to the lead and the channel, and found by its keyed hash.
    /// [`Store::unsubscribe`] and
    /// [`one_click_unsubscribe`](crate::integrations::email::one_click_unsubscribe) redeem it,
    /// the same calls as for customers' tokens: the lead's consent on the channel is withdrawn
    /// (and, once the lead has converted, the customer's too). The lead's erasure deletes it.
    /// Needs [`Action::UpdateLead`]. Audited.
    ///
    /// ```
    /// use shopkeep::customers::Channel;
    /// use shopkeep::integrations::email::{ONE_CLICK_BODY, one_click_unsubscribe};
    /// use shopkeep::leads::LeadForm;
    /// use shopkeep::{KeyRing, Principal, Store};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let form = LeadForm::new("Lee", "lee@example.com", "Do you ship to Oslo?")
    ///     .accept_terms(true)
    ///     .marketing_opt_in("news-v1");
    /// let lead = store.leads(&Principal::anonymous()).submit(form, "198.51.100.7")?.id();
    /// let system = store.system();
    /// let leads = store.leads(&system);
    /// store.confirm_consent(&leads.confirmation_token(lead)?)?;
    /// assert!(leads.has_marketing_consent(lead, Channel::Email)?);
    ///
    /// let token = leads.unsubscribe_token(lead, Channel::Email)?;
    /// one_click_unsubscribe(&store, token.as_str(), ONE_CLICK_BODY.as_bytes())?;
    /// assert!(!leads.has_marketing_consent(lead, Channel::Email)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may read
    /// it but not update it.
    pub fn unsubscribe_token(&self, id: LeadId, channel: Channel) -> Result<UnsubscribeToken> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            let token = lead_unsubscribe_token_in(tx, store, id, channel)?;
            tx.audit(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            Ok(token)
        })
    }

    /// The current consent of a lead on every channel, derived from the ledger. Needs
    /// [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead.
    pub fn consent(&self, id: LeadId) -> Result<Vec<ConsentState>> {
        let history = self.consent_history(id)?;
        Ok(Channel::ALL
            .iter()
            .map(|&channel| derive_consent_state(channel, &history))
            .collect())
    }

    /// Every ledger row of a lead, oldest first: what a shop shows to demonstrate the lead's
    /// consent. Needs [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead.
    pub fn consent_history(&self, id: LeadId) -> Result<Vec<ConsentRecord>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Lead(id))?;
            ensure_open(tx, id)?;
            lead_history_in(tx, id)
        })
    }

    /// Whether the lead has a current marketing consent on `channel` (given and, on email,
    /// confirmed; not withdrawn): the check nurturing mail makes before each message. Needs
    /// [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead.
    pub fn has_marketing_consent(&self, id: LeadId, channel: Channel) -> Result<bool> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Lead(id))?;
            ensure_open(tx, id)?;
            Ok(lead_state_in(tx, id, channel)?.is_granted())
        })
    }
}

/// The source of the pending request on `channel` (the latest `requested` row).
fn pending_source(tx: &Tx<'_>, id: LeadId, channel: Channel) -> Result<String> {
    lead_history_in(tx, id)?
        .into_iter()
        .rev()
        .find(|r| r.channel() == channel && r.event() == ConsentEvent::Requested)
        .map(|r| r.source().to_owned())
        .ok_or_else(|| Error::new(ErrorKind::Storage, "a pending consent has no request"))
}
