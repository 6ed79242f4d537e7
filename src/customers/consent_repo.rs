//! The consent ledger's SQL: grant, confirm, withdraw, unsubscribe, read.

use std::time::Duration;

use super::consent::{
    self, Channel, ConsentEvent, ConsentRecord, ConsentRequest, ConsentState, ConsentStatus,
};
use super::events::ConsentChanged;
use super::password_repo::invalid_token;
use super::storage;
use super::token::{ConsentToken, UnsubscribeToken};
use super::unsubscribe;
use crate::access::audit::Outcome;
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::leads::LeadId;
use crate::sql::args;
use crate::store::{Store, Tx};

/// How long a double opt-in confirmation token is valid.
const CONFIRMATION_LIFETIME: Duration = Duration::from_secs(72 * 3600);
/// The stored purpose of confirmation tokens (reset tokens share the table).
const PURPOSE: &str = "consent_confirmation";
/// Who records what a token holder does: nobody is logged in.
const LINK_HOLDER: &str = "anonymous";
/// The ledger source of a withdrawal by unsubscribe link, a customer's or a lead's.
pub(crate) const UNSUBSCRIBE_SOURCE: &str = "unsubscribe_link";

/// Customers' marketing consents, as seen by one principal. From [`Store::consents`].
///
/// Reading needs [`Action::ReadCustomer`]; changing needs [`Action::ManageConsent`], which a
/// customer has for their own account and the system principal (the host's marketing jobs)
/// for every account.
#[derive(Debug)]
pub struct ConsentRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// Marketing consents, for `principal`.
    ///
    /// ```
    /// use shopkeep::{Email, KeyRing, Principal, Store};
    /// use shopkeep::crypto::Password;
    /// use shopkeep::customers::{Channel, ConsentRequest, NewCustomer};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let new = NewCustomer::new(Email::parse("ana@example.com")?, Password::new("correct horse battery staple"), "Ana")?;
    /// let ana = store.customers(&Principal::anonymous()).register(new)?.id();
    /// let system = store.system();
    /// let consents = store.consents(&system);
    ///
    /// // Email needs double opt-in: the consent counts once the emailed link is followed.
    /// let request = ConsentRequest::new(Channel::Email, "checkout", "newsletter-v3")?;
    /// let token = consents.grant(ana, request)?.expect("email needs confirmation");
    /// assert!(!consents.state(ana)?.iter().any(|s| s.is_granted()));
    /// store.confirm_consent(&token)?;
    /// assert!(consents.state(ana)?.iter().any(|s| s.channel() == Channel::Email && s.is_granted()));
    ///
    /// // Every marketing email carries an unsubscribe link that needs no login.
    /// let unsubscribe = consents.unsubscribe_token(ana, Channel::Email)?;
    /// store.unsubscribe(&unsubscribe)?;
    /// assert!(!consents.state(ana)?.iter().any(|s| s.is_granted()));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn consents<'s>(&'s self, principal: &'s Principal) -> ConsentRepo<'s> {
        ConsentRepo {
            store: self,
            principal,
        }
    }

    /// Confirms a double opt-in request with the token the host emailed: from now on the
    /// consent counts. The token may be a customer's (from [`ConsentRepo::grant`]) or a lead's
    /// (from [`LeadRepo::confirmation_token`](crate::leads::LeadRepo::confirmation_token)). Needs no login (the link's holder proved they read the mailbox); the
    /// ledger and the audit log record it as `anonymous`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `token`) if the token is unknown, expired (after 72 hours), already
    /// used, replaced by a newer request, or void because the consent was withdrawn meanwhile
    /// (all alike); `Crypto` if the token was moved to another customer outside shopkeep.
    pub fn confirm_consent(&self, token: &ConsentToken) -> Result<()> {
        let hash = self.keys().token_hash(token.as_str().as_bytes());
        self.write(|tx| {
            type Pending = (
                CustomerId,
                String,
                String,
                String,
                Timestamp,
                Option<Vec<u8>>,
            );
            let pending: Option<Pending> = tx.query_opt(
                "DELETE FROM shopkeep_customer_tokens WHERE token_hash = ?1 AND purpose = ?2
                     RETURNING customer_id, channel, source, text_version, expires_at, auth_mac",
                args![hash.as_slice(), PURPOSE],
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
            let Some((id, channel, source, version, expires_at, mac)) = pending else {
                // Not a customer's: a lead's token, from the contact form's opt-in?
                return crate::leads::confirm_lead_consent(tx, self, &hash);
            };
            storage::verify_token(self, &hash, id, PURPOSE, mac.as_deref())?;
            if tx.now() >= expires_at {
                return Err(invalid_token());
            }
            storage::ensure_active(tx, id).map_err(|_| invalid_token())?;
            let channel = Channel::from_stored(&channel)?;
            append(
                tx,
                id,
                channel,
                ConsentEvent::Confirmed,
                &source,
                Some(&version),
                LINK_HOLDER,
            )?;
            tx.audit_event(
                LINK_HOLDER,
                "confirm_consent",
                &Resource::Customer(id).to_string(),
                Outcome::Allowed,
            )?;
            tx.emit(&ConsentChanged::new(id, channel, ConsentEvent::Confirmed))
        })
    }

    /// Withdraws the consent an unsubscribe link stands for: a customer's (from
    /// [`ConsentRepo::unsubscribe_token`]) or a lead's (from
    /// [`LeadRepo::unsubscribe_token`](crate::leads::LeadRepo::unsubscribe_token)), so that a
    /// host mounts one endpoint for both. Needs no login; the ledger records the withdrawal
    /// with source `unsubscribe_link`, by `anonymous`, audited (`unsubscribe`). Unsubscribing
    /// again is not an error and records nothing new.
    ///
    /// A lead's link also withdraws the consent of the customer the lead became (the same
    /// person, following a link from a message sent to the lead).
    ///
    /// # Errors
    ///
    /// `Validation` (field `token`) if the token is unknown (or its customer or lead was
    /// erased); `Crypto` if its row was moved to another customer, lead or channel outside
    /// shopkeep. Nothing is written on error.
    pub fn unsubscribe(&self, token: &UnsubscribeToken) -> Result<()> {
        let hash = self.keys().token_hash(token.as_str().as_bytes());
        self.write(|tx| {
            let table = &unsubscribe::CUSTOMERS;
            let Some(found) = table.find::<CustomerId>(tx, &hash)? else {
                // Not a customer's: a lead's, from a nurturing message?
                return crate::leads::unsubscribe_lead(tx, self, &hash, token);
            };
            let key = storage::key(tx, self, found.id)?;
            found.check(table, &key, token)?;
            withdraw_by_link(tx, found.id, found.channel)
        })
    }
}

/// Withdraws customer `id`'s consent on `channel` for the holder of an unsubscribe link
/// (source `unsubscribe_link`, by `anonymous`), audited when there was something to withdraw.
pub(crate) fn withdraw_by_link(tx: &Tx<'_>, id: CustomerId, channel: Channel) -> Result<()> {
    if withdraw_in(tx, id, channel, UNSUBSCRIBE_SOURCE, LINK_HOLDER)? {
        tx.audit_event(
            LINK_HOLDER,
            "unsubscribe",
            &Resource::Customer(id).to_string(),
            Outcome::Allowed,
        )?;
    }
    Ok(())
}

/// The unsubscribe token of customer `id` and `channel`, made on first request and the same
/// afterwards, inside the caller's transaction: for a campaign sender that runs without a
/// principal. No authorisation and no audit entry (the caller answers for both); the
/// customer must be active.
///
/// # Errors
///
/// `NotFound` for an unknown or erased customer; `Crypto` if the stored token does not open.
pub(crate) fn customer_unsubscribe_token_in(
    tx: &Tx<'_>,
    store: &Store,
    id: CustomerId,
    channel: Channel,
) -> Result<UnsubscribeToken> {
    storage::ensure_active(tx, id)?;
    let key = storage::key(tx, store, id)?;
    unsubscribe::CUSTOMERS.get_or_create(tx, store, &key, id, channel)
}

impl ConsentRepo<'_> {
    /// Records a customer's consent. Needs [`Action::ManageConsent`].
    ///
    /// On a channel without double opt-in the consent counts at once and this returns `None`.
    /// On email, it returns a confirmation token for the host to send to the customer's
    /// address as a link; the consent counts once [`Store::confirm_consent`] redeems it, within
    /// 72 hours. A newer request voids older tokens. Consent already granted on email (for an
    /// address already confirmed) is recorded again at once, for a newer text version.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer; `Forbidden` if the principal may
    /// read the customer but not manage their consent.
    pub fn grant(&self, id: CustomerId, request: ConsentRequest) -> Result<Option<ConsentToken>> {
        let store = self.store;
        store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::ManageConsent, id)?;
            let by = self.principal.audit_name();
            let channel = request.channel;
            let granted = current_state(tx, id, channel)?.is_granted();
            let token = if channel.needs_confirmation() && !granted {
                delete_confirmations(tx, id, channel)?;
                let token = ConsentToken::generate()?;
                let token_hash = store.keys().token_hash(token.as_str().as_bytes());
                let now = tx.now();
                tx.execute(
                    "INSERT INTO shopkeep_customer_tokens
                         (token_hash, customer_id, purpose, channel, source, text_version, created_at,
                          expires_at, auth_mac)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    args![
                        token_hash.as_slice(),
                        id,
                        PURPOSE,
                        channel.as_str(),
                        request.source,
                        request.text_version,
                        now,
                        now.checked_add(CONFIRMATION_LIFETIME)?,
                        storage::token_mac(store, &token_hash, id, PURPOSE).as_slice()
                    ],
                )?;
                let version = Some(request.text_version.as_str());
                append(tx, id, channel, ConsentEvent::Requested, &request.source, version, &by)?;
                Some(token)
            } else {
                let version = Some(request.text_version.as_str());
                append(tx, id, channel, ConsentEvent::Granted, &request.source, version, &by)?;
                tx.emit(&ConsentChanged::new(id, channel, ConsentEvent::Granted))?;
                None
            };
            tx.audit(self.principal, Action::ManageConsent, &Resource::Customer(id))?;
            Ok(token)
        })
    }

    /// Withdraws a customer's consent on `channel` (or cancels a pending request), recording
    /// `source` (`account_settings`, `support_call`, ...). Withdrawing what is not given is not
    /// an error and records nothing. Needs [`Action::ManageConsent`].
    ///
    /// # Errors
    ///
    /// `Validation` (field `source`) for an empty, over-long or control-character source;
    /// otherwise as [`grant`](Self::grant).
    pub fn withdraw(&self, id: CustomerId, channel: Channel, source: &str) -> Result<()> {
        let source = consent::source_text(source)?;
        self.store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::ManageConsent, id)?;
            withdraw_in(tx, id, channel, &source, &self.principal.audit_name())?;
            tx.audit(
                self.principal,
                Action::ManageConsent,
                &Resource::Customer(id),
            )
        })
    }

    /// The current consent of every channel, derived from the ledger. Needs
    /// [`Action::ReadCustomer`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer.
    pub fn state(&self, id: CustomerId) -> Result<Vec<ConsentState>> {
        let history = self.history(id)?;
        Ok(Channel::ALL
            .iter()
            .map(|&channel| consent::derive_state(channel, &history))
            .collect())
    }

    /// Every ledger row of a customer, oldest first: what a shop shows to demonstrate consent.
    /// Needs [`Action::ReadCustomer`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer.
    pub fn history(&self, id: CustomerId) -> Result<Vec<ConsentRecord>> {
        self.store.read(|tx| {
            storage::authorize_active(tx, self.principal, Action::ReadCustomer, id)?;
            history_in(tx, id)
        })
    }

    /// The unsubscribe token of a customer and channel, for the link in each marketing message.
    /// It is made on first request and the same afterwards, so links in messages already sent
    /// keep working; it is stored encrypted under the customer's data key (so that it can be
    /// handed out again) and found by its keyed hash. Needs [`Action::ManageConsent`].
    /// Audited, each time it is handed out.
    ///
    /// # Errors
    ///
    /// As [`grant`](Self::grant).
    pub fn unsubscribe_token(&self, id: CustomerId, channel: Channel) -> Result<UnsubscribeToken> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageConsent,
                &Resource::Customer(id),
            )?;
            let token = customer_unsubscribe_token_in(tx, store, id, channel)?;
            tx.audit(
                self.principal,
                Action::ManageConsent,
                &Resource::Customer(id),
            )?;
            Ok(token)
        })
    }
}

/// Appends one ledger row.
fn append(
    tx: &Tx<'_>,
    id: CustomerId,
    channel: Channel,
    event: ConsentEvent,
    source: &str,
    text_version: Option<&str>,
    recorded_by: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_customer_consents (customer_id, channel, event, source, text_version, recorded_by, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            id,
            channel.as_str(),
            event.as_str(),
            source,
            text_version,
            recorded_by,
            tx.now()
        ],
    )?;
    Ok(())
}

fn delete_confirmations(tx: &Tx<'_>, id: CustomerId, channel: Channel) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_customer_tokens WHERE customer_id = ?1 AND purpose = ?2 AND channel = ?3",
        args![id, PURPOSE, channel.as_str()],
    )?;
    Ok(())
}

fn current_state(tx: &Tx<'_>, id: CustomerId, channel: Channel) -> Result<ConsentState> {
    Ok(consent::derive_state(channel, &history_in(tx, id)?))
}

/// Withdraws a granted or pending consent on `channel` and voids its confirmation tokens.
/// Returns whether there was anything to withdraw.
pub(super) fn withdraw_in(
    tx: &Tx<'_>,
    id: CustomerId,
    channel: Channel,
    source: &str,
    recorded_by: &str,
) -> Result<bool> {
    delete_confirmations(tx, id, channel)?;
    let state = current_state(tx, id, channel)?;
    if !matches!(
        state.status,
        ConsentStatus::Granted | ConsentStatus::Pending
    ) {
        return Ok(false);
    }
    append(
        tx,
        id,
        channel,
        ConsentEvent::Withdrawn,
        source,
        state.text_version.as_deref(),
        recorded_by,
    )?;
    tx.emit(&ConsentChanged::new(id, channel, ConsentEvent::Withdrawn))?;
    Ok(true)
}

/// Every ledger row of a customer, oldest first.
pub(super) fn history_in(tx: &Tx<'_>, id: CustomerId) -> Result<Vec<ConsentRecord>> {
    records(
        tx,
        "SELECT channel, event, source, text_version, recorded_by, at
         FROM shopkeep_customer_consents WHERE customer_id = ?1 ORDER BY seq",
        &id,
    )
}

/// The ledger rows `sql` selects for the subject `id`, oldest first.
fn records(tx: &Tx<'_>, sql: &str, id: &dyn crate::sql::Param) -> Result<Vec<ConsentRecord>> {
    let rows: Vec<(String, String, String, Option<String>, String, Timestamp)> =
        tx.query_map(sql, &[id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    rows.into_iter()
        .map(|(channel, event, source, text_version, recorded_by, at)| {
            Ok(ConsentRecord {
                channel: Channel::from_stored(&channel)?,
                event: ConsentEvent::from_stored(&event)?,
                source,
                text_version,
                recorded_by,
                at,
            })
        })
        .collect()
}

/// Where `channel`'s consent of customer `id` stands now, as the ledger says: for marketing
/// audiences, inside the caller's authorised read.
pub(crate) fn consent_status(
    tx: &Tx<'_>,
    id: CustomerId,
    channel: Channel,
) -> Result<ConsentStatus> {
    Ok(consent::derive_state(channel, &history_in(tx, id)?).status)
}

// The ledger rows of leads (issue 17: one ledger covers leads as well as customers). The
// leads module owns the lead side (its tokens, its authorisation); the rows live here.

/// Appends one ledger row of lead `lead`.
pub(crate) fn append_for_lead(
    tx: &Tx<'_>,
    lead: LeadId,
    channel: Channel,
    event: ConsentEvent,
    source: &str,
    text_version: Option<&str>,
    recorded_by: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_customer_consents (lead_id, channel, event, source, text_version, recorded_by, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            lead,
            channel.as_str(),
            event.as_str(),
            source,
            text_version,
            recorded_by,
            tx.now()
        ],
    )?;
    Ok(())
}

/// Every ledger row of lead `lead`, oldest first.
pub(crate) fn lead_history_in(tx: &Tx<'_>, lead: LeadId) -> Result<Vec<ConsentRecord>> {
    records(
        tx,
        "SELECT channel, event, source, text_version, recorded_by, at
         FROM shopkeep_customer_consents WHERE lead_id = ?1 ORDER BY seq",
        &lead,
    )
}

/// Where `channel`'s consent of lead `lead` stands now.
pub(crate) fn lead_state_in(tx: &Tx<'_>, lead: LeadId, channel: Channel) -> Result<ConsentState> {
    Ok(consent::derive_state(channel, &lead_history_in(tx, lead)?))
}

/// Deletes every ledger row of lead `lead` (its erasure, as a customer's erasure deletes
/// theirs).
pub(crate) fn delete_lead_rows(tx: &Tx<'_>, lead: LeadId) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_customer_consents WHERE lead_id = ?1",
        args![lead],
    )?;
    Ok(())
}

/// Carries the consent history of the leads a customer converted into that customer's ledger,
/// inside the registration's transaction: every row of theirs is copied (time, source, text
/// version and recorder unchanged, the leads' rows in the order they were recorded), so the
/// customer's state follows from the leads' and the proof of consent moves with it. The
/// leads keep their own rows. Emits `customer.consent_changed` for each channel whose state
/// the copy set, with the channel's last event.
pub(crate) fn carry_over(tx: &Tx<'_>, leads: &[LeadId], customer: CustomerId) -> Result<()> {
    let mut copied: Vec<ConsentRecord> = Vec::new();
    for &lead in leads {
        copied.extend(lead_history_in(tx, lead)?);
    }
    // Rows of several leads interleave by time; the sort is stable, so one lead's rows of the
    // same instant keep their order.
    copied.sort_by_key(|r| r.at);
    for r in &copied {
        tx.execute(
            "INSERT INTO shopkeep_customer_consents (customer_id, channel, event, source, text_version, recorded_by, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![
                customer,
                r.channel.as_str(),
                r.event.as_str(),
                r.source,
                r.text_version,
                r.recorded_by,
                r.at
            ],
        )?;
    }
    for &channel in Channel::ALL {
        if let Some(last) = copied.iter().rev().find(|r| r.channel == channel) {
            tx.emit(&ConsentChanged::new(customer, channel, last.event))?;
        }
    }
    Ok(())
}

/// Confirms, for the customer a lead converted to, the email request the lead's token stood
/// for: the request came over with the lead's history, so the customer's channel is pending
/// too. Does nothing if it is not (the customer withdrew or was granted meanwhile, or was
/// erased).
pub(crate) fn confirm_for_converted(
    tx: &Tx<'_>,
    customer: CustomerId,
    channel: Channel,
    source: &str,
    version: &str,
    recorded_by: &str,
) -> Result<()> {
    if current_state(tx, customer, channel)?.status != ConsentStatus::Pending {
        return Ok(());
    }
    let event = ConsentEvent::Confirmed;
    append(
        tx,
        customer,
        channel,
        event,
        source,
        Some(version),
        recorded_by,
    )?;
    tx.emit(&ConsentChanged::new(customer, channel, event))
}

/// The current consent of every channel of customer `id`, for the CRM export (inside the
/// caller's authorised transaction).
pub(crate) fn states_in(tx: &Tx<'_>, id: CustomerId) -> Result<Vec<ConsentState>> {
    let history = history_in(tx, id)?;
    Ok(Channel::ALL
        .iter()
        .map(|&channel| consent::derive_state(channel, &history))
        .collect())
}
