//! The suppression list's SQL: add, remove, look up, list; and the check a campaign makes
//! inside its own transaction.

use super::suppression::{self, Suppression, SuppressionId, SuppressionReason};
use crate::access::audit::Outcome;
use crate::access::{Action, Principal, Resource};
use crate::clock::Timestamp;
use crate::crypto::keys::Mac256;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::sql::{Param, args};
use crate::store::{Store, Tx};

/// The largest page [`SuppressionRepo::list`] returns.
const MAX_PAGE: usize = 500;

/// The suppression list, as seen by one principal. From [`Store::suppressions`].
///
/// Addresses the shop must never send marketing to, whatever the consent ledger says: hard
/// bounces, spam complaints, and entries made by hand (a person who objected by phone, GDPR
/// Art. 21(3)). Marketing to a customer or a lead goes only to those with a current consent
/// **and** not on this list.
///
/// **No address is stored**, not even encrypted. An entry holds the keyed blind indexes of the
/// normalised address ([`Email::normalized`]: every spelling of one mailbox is one entry),
/// computed exactly as `shopkeep_customers.email_index` and `shopkeep_leads.email_index` are
/// (field labels `customer_email` and `lead_email`), plus the reason, an optional short note,
/// when and by whom. That is the least a shop can keep to honour the objection, and it names
/// nobody: without the store's keys an entry cannot be tested against a guessed address, and
/// nothing links it to a customer or a lead. So an entry **survives the erasure** of the
/// customer or lead with that address, as it must (the person objected; forgetting the
/// objection would start the mail again), and an entry can be made for an address the shop
/// never had.
///
/// Reading (`contains`, `list`) needs [`Action::ReadSuppressions`], changing (`add`,
/// `remove`, `remove_entry`) [`Action::ManageSuppressions`]: the `marketing` role, the owner
/// and the system principal (the host's bounce and complaint processing); customers never.
/// Changes are audited (`suppression:<id>`) and emit `suppression.added` or
/// `suppression.removed` with the entry's id only.
///
/// ```
/// use shopkeep::marketing::SuppressionReason;
/// use shopkeep::{Email, KeyRing, Store};
///
/// let store = Store::open_in_memory(KeyRing::generate()?)?;
/// let system = store.system(); // the host's bounce handler
/// let list = store.suppressions(&system);
/// let entry = list.add(
///     &Email::parse("Ana@Example.com")?,
///     SuppressionReason::HardBounce,
///     Some("550 5.1.1 user unknown"),
/// )?;
/// assert!(list.contains(&Email::parse("ana@example.com")?)?); // any spelling of the mailbox
/// assert_eq!(list.list(None, 10)?, vec![entry]); // entries without the address
/// assert!(list.remove(&Email::parse("ana@example.com")?)?);
/// assert!(!list.contains(&Email::parse("ana@example.com")?)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SuppressionRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The suppression list, for `principal`.
    pub fn suppressions<'s>(&'s self, principal: &'s Principal) -> SuppressionRepo<'s> {
        SuppressionRepo {
            store: self,
            principal,
        }
    }
}

/// The two blind indexes of one address: as the customers' and as the leads' email column
/// hold it.
struct Indexes {
    customer: Mac256,
    lead: Mac256,
}

impl Indexes {
    fn of(store: &Store, email: &Email) -> Indexes {
        Indexes {
            customer: crate::customers::customer_email_index(store, email),
            lead: crate::leads::lead_email_index(store, email),
        }
    }
}

impl SuppressionRepo<'_> {
    /// Puts `email` on the suppression list (in every spelling of its mailbox), for `reason`,
    /// with an optional `note` (a ticket number, the bounce's status line). Needs
    /// [`Action::ManageSuppressions`]. Audited; emits `suppression.added`.
    ///
    /// Adding an address already on the list changes nothing (the first entry's reason, note
    /// and time stand, no event is emitted) and returns the existing entry: a bounce handler
    /// may report the same address again and again.
    ///
    /// # Errors
    ///
    /// `Validation` (field `note`) for a note over 200 characters, with control or invisible
    /// formatting characters, or holding an `@` (the list stores no address, and the note is
    /// no place for one); a blank note is no note. `Forbidden` without the permission.
    /// Nothing is written on error.
    pub fn add(
        &self,
        email: &Email,
        reason: SuppressionReason,
        note: Option<&str>,
    ) -> Result<Suppression> {
        let note = suppression::check_note(note)?;
        let store = self.store;
        let indexes = Indexes::of(store, email);
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageSuppressions,
                &Resource::Suppressions,
            )?;
            if let Some(existing) = find(tx, &indexes.customer)? {
                audit(tx, self.principal, Some(existing.id))?;
                return Ok(existing);
            }
            let entry = Suppression {
                id: SuppressionId::generate(tx.now())?,
                reason,
                note: note.clone(),
                recorded_at: tx.now(),
                recorded_by: self.principal.audit_name(),
            };
            tx.execute(
                "INSERT INTO shopkeep_suppressions
                     (id, customer_index, lead_index, reason, note, recorded_at, recorded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    entry.id,
                    indexes.customer.as_slice(),
                    indexes.lead.as_slice(),
                    reason.as_str(),
                    entry.note,
                    entry.recorded_at,
                    entry.recorded_by
                ],
            )?;
            audit(tx, self.principal, Some(entry.id))?;
            tx.emit(&suppression::Added {
                suppression_id: entry.id,
            })?;
            Ok(entry)
        })
    }

    /// Takes `email` off the suppression list, in whatever spelling it was added. Returns
    /// whether it was on it. Needs [`Action::ManageSuppressions`]. Audited; emits
    /// `suppression.removed` when an entry went.
    ///
    /// Taking an address off does not give consent back: marketing still needs a current
    /// consent in the ledger.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn remove(&self, email: &Email) -> Result<bool> {
        let index = Indexes::of(self.store, email).customer;
        self.delete_where(
            "DELETE FROM shopkeep_suppressions WHERE customer_index = ?1 RETURNING id",
            &index.as_slice(),
        )
    }

    /// Takes the entry `id` off the suppression list (for a list shown without addresses,
    /// [`list`](Self::list)). Returns whether it was there. Needs
    /// [`Action::ManageSuppressions`]. Audited; emits `suppression.removed` when it went.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn remove_entry(&self, id: SuppressionId) -> Result<bool> {
        self.delete_where(
            "DELETE FROM shopkeep_suppressions WHERE id = ?1 RETURNING id",
            &id,
        )
    }

    fn delete_where(&self, sql: &str, key: &dyn Param) -> Result<bool> {
        self.store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageSuppressions,
                &Resource::Suppressions,
            )?;
            let removed: Option<SuppressionId> = tx.query_opt(sql, &[key], |r| r.get(0))?;
            audit(tx, self.principal, removed)?;
            if let Some(suppression_id) = removed {
                tx.emit(&suppression::Removed { suppression_id })?;
            }
            Ok(removed.is_some())
        })
    }

    /// Whether `email` (in any spelling of its mailbox) is on the suppression list. Needs
    /// [`Action::ReadSuppressions`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn contains(&self, email: &Email) -> Result<bool> {
        let index = Indexes::of(self.store, email).customer;
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ReadSuppressions,
                &Resource::Suppressions,
            )?;
            is_suppressed_index(tx, &index)
        })
    }

    /// The entries, oldest first: at most `limit` (1 to 500) after the entry `after`, for
    /// paging. Entries name no address. Needs [`Action::ReadSuppressions`].
    ///
    /// # Errors
    ///
    /// `Validation` (field `limit`) for a `limit` of 0 or over 500; `Forbidden` without the
    /// permission.
    pub fn list(&self, after: Option<SuppressionId>, limit: usize) -> Result<Vec<Suppression>> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation("limit", "a page holds 1 to 500 entries"));
        }
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ReadSuppressions,
                &Resource::Suppressions,
            )?;
            let rows = tx.query_map(
                "SELECT id, reason, note, recorded_at, recorded_by FROM shopkeep_suppressions
                     WHERE id > ?1 ORDER BY id LIMIT ?2",
                args![crate::sql::After(after), i64::try_from(limit).unwrap_or(0)],
                row,
            )?;
            rows.into_iter().map(entry).collect()
        })
    }
}

/// An entry's columns, as stored.
type Row = (SuppressionId, String, Option<String>, Timestamp, String);

fn row(r: &crate::sql::Row<'_>) -> Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn entry((id, reason, note, recorded_at, recorded_by): Row) -> Result<Suppression> {
    Ok(Suppression {
        id,
        reason: SuppressionReason::from_stored(&reason)?,
        note,
        recorded_at,
        recorded_by,
    })
}

/// The entry of the address whose customer-label blind index is `index`, if any.
fn find(tx: &Tx<'_>, index: &Mac256) -> Result<Option<Suppression>> {
    tx.query_opt(
        "SELECT id, reason, note, recorded_at, recorded_by FROM shopkeep_suppressions
         WHERE customer_index = ?1",
        args![index.as_slice()],
        row,
    )?
    .map(entry)
    .transpose()
}

/// The audit entry of a change: on the entry it touched, or on the list when none.
fn audit(tx: &Tx<'_>, principal: &Principal, entry: Option<SuppressionId>) -> Result<()> {
    let resource = match entry {
        Some(id) => format!("suppression:{id}"),
        None => Resource::Suppressions.to_string(),
    };
    tx.audit_event(
        &principal.audit_name(),
        Action::ManageSuppressions.as_str(),
        &resource,
        Outcome::Allowed,
    )
}

/// Whether the address whose stored blind index is `index` is on the suppression list: the
/// check a campaign sender makes for each recipient inside its own transaction, with no
/// principal, no decryption and no audit entry. `index` is the `email_index` column of the
/// recipient's row as stored, a customer's (`shopkeep_customers.email_index`, field label
/// `customer_email`) or a lead's (`shopkeep_leads.email_index`, `lead_email`): both are
/// matched, each by a point query on its unique index. The two labels make the two kinds of
/// index distinct values, so one address's customer index never matches another's lead
/// index.
///
/// # Errors
///
/// `Storage` if the database cannot be read.
pub(crate) fn is_suppressed_index(tx: &Tx<'_>, index: &[u8]) -> Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM shopkeep_suppressions WHERE customer_index = ?1)
             OR EXISTS (SELECT 1 FROM shopkeep_suppressions WHERE lead_index = ?1)",
        args![index],
        |r| r.get(0),
    )
}

#[cfg(test)]
#[cfg(feature = "insecure-test-params")]
mod tests {
    use super::*;
    use crate::crypto::{Password, PasswordParams};
    use crate::leads::LeadForm;
    use crate::{KeyRing, NewCustomer};

    /// The `email_index` stored on the row `id` of `table`, as a campaign sender reads it.
    fn stored_index(store: &Store, table: &str, id: &dyn crate::sql::Param) -> Vec<u8> {
        store
            .read(|tx| {
                tx.query_row(
                    &format!("SELECT email_index FROM {table} WHERE id = ?1"),
                    &[id],
                    |r| r.get(0),
                )
            })
            .unwrap()
    }

    #[test]
    fn a_campaign_finds_customers_and_leads_by_their_stored_index() {
        let store = Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .open_in_memory(KeyRing::from_master_key([6; 32]))
            .unwrap();
        let new = NewCustomer::new(
            Email::parse("Ana@Example.com").unwrap(),
            Password::new("a perfectly long test passphrase"),
            "Ana",
        )
        .unwrap();
        let anonymous = Principal::anonymous();
        let ana = store.customers(&anonymous).register(new).unwrap().id();
        let form =
            LeadForm::new("Lee", "LEE@example.com", "Do you ship to Oslo?").accept_terms(true);
        let lee = store.leads(&anonymous).submit(form, "client").unwrap().id();
        let form = LeadForm::new("Bo", "bo@example.com", "Do you ship to Oslo?").accept_terms(true);
        let bo = store.leads(&anonymous).submit(form, "client").unwrap().id();
        let ana_index = stored_index(&store, "shopkeep_customers", &ana);
        let lee_index = stored_index(&store, "shopkeep_leads", &lee);
        let bo_index = stored_index(&store, "shopkeep_leads", &bo);
        let suppressed = |index: &[u8]| store.read(|tx| is_suppressed_index(tx, index)).unwrap();
        assert!(!suppressed(&ana_index) && !suppressed(&lee_index));

        let system = store.system();
        let list = store.suppressions(&system);
        let reason = SuppressionReason::HardBounce;
        list.add(&Email::parse("ana@example.com").unwrap(), reason, None)
            .unwrap();
        list.add(&Email::parse("lee@example.com").unwrap(), reason, None)
            .unwrap();
        assert!(suppressed(&ana_index), "the customer's own index");
        assert!(suppressed(&lee_index), "the lead's own index");
        assert!(!suppressed(&bo_index));
        // The two labels keep the kinds apart: Ana's address as a lead's index is another
        // value, and Lee's as a customer's.
        let ana_as_lead =
            crate::leads::lead_email_index(&store, &Email::parse("ana@example.com").unwrap());
        assert_ne!(ana_as_lead.as_slice(), ana_index.as_slice());
        assert!(
            suppressed(&ana_as_lead),
            "a lead with Ana's address is suppressed too"
        );
    }
}
