//! GDPR rights' SQL: export (access and portability, Art. 15 and 20) and erasure (Art. 17).

use super::address_repo;
use super::consent::{self, Channel};
use super::consent_repo;
use super::export::CustomerExport;
use super::repo::CustomerRepo;
use super::storage;
use crate::access::session_repo::{self, Holder};
use crate::access::{Action, CustomerId, Resource};
use crate::clock::Timestamp;
use crate::crypto::keys::Mac256;
use crate::error::Result;
use crate::sql::args;
use crate::store::not_found;

impl CustomerRepo<'_> {
    /// Everything the store holds about a customer, decrypted, as one serialisable document.
    /// Needs [`Action::ExportCustomer`] (customers may export their own). Audited.
    ///
    /// ```
    /// use shopkeep::{Email, KeyRing, Principal, Store};
    /// use shopkeep::crypto::Password;
    /// use shopkeep::customers::NewCustomer;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let new = NewCustomer::new(Email::parse("ana@example.com")?, Password::new("correct horse battery staple"), "Ana Lima")?;
    /// let ana = store.customers(&Principal::anonymous()).register(new)?.id();
    /// let export = store.customers(&store.system()).export(ana)?;
    /// assert!(export.to_json()?.contains("\"name\": \"Ana Lima\""));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer; `Forbidden` if the principal may
    /// read the customer but not export them.
    pub fn export(&self, id: CustomerId) -> Result<CustomerExport> {
        let store = self.store;
        // A write transaction, for its audit entry: handing out everything about a person is
        // worth a trace even though it changes nothing.
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ExportCustomer,
                &Resource::Customer(id),
            )?;
            let profile = storage::load(tx, store, id)?;
            let addresses = address_repo::list_in(tx, store, id)?;
            let history = consent_repo::history_in(tx, id)?;
            let orders = crate::orders::orders_for_export(tx, store, id)?;
            let invoices = crate::invoices::invoices_for_export(tx, store, id)?;
            let state = Channel::ALL
                .iter()
                .map(|&channel| consent::derive_state(channel, &history))
                .collect();
            tx.audit(
                self.principal,
                Action::ExportCustomer,
                &Resource::Customer(id),
            )?;
            Ok(CustomerExport::new(
                tx.now(),
                profile,
                addresses,
                state,
                history,
                orders,
                invoices,
            ))
        })
    }

    /// Erases a customer (GDPR Art. 17). Needs [`Action::EraseCustomer`] (customers may erase
    /// their own account).
    ///
    /// In one transaction: the customer's data key is destroyed, so every ciphertext of
    /// theirs anywhere is unreadable for good (crypto-shredding); the personal columns, the
    /// blind index entry, the password hash, addresses, consent ledger, tokens and failed-login
    /// count are deleted; every session ends. The email is free to register again. A tombstone
    /// of the id, `created_at` and `erased_at` stays, so that orders and invoices can still name
    /// the id (they keep the buyer snapshot the law requires under the shop's legal-archive
    /// key). Audited by id only.
    ///
    /// The erasure is complete in the database when this returns; it never waits for readers.
    /// Older copies of the key's page may remain in the write-ahead log until no reader that
    /// started before the erasure is left: one non-blocking attempt to truncate the WAL runs
    /// right after the commit, and if a reader is in the way the scrub stays pending, visible
    /// in [`Store::wal_scrub`](crate::Store::wal_scrub), and later writes or
    /// [`Store::maintain`](crate::Store::maintain) finish it (see `docs/security.md`).
    ///
    /// Erasing an erased customer succeeds again (and retries a pending scrub), so a host can
    /// retry after a `Storage` error.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown or hidden customer; `Forbidden` if the principal may read the
    /// customer but not erase them; `Storage` if the database could not be written (or, after
    /// the commit, the WAL could not be checkpointed: the erasure has committed then).
    pub fn erase(&self, id: CustomerId) -> Result<()> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::EraseCustomer, &Resource::Customer(id))?;
            let row: Option<(Option<Vec<u8>>, Option<Timestamp>)> = tx.query_opt(
                "SELECT email_index, erased_at FROM shopkeep_customers WHERE id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((index, erased_at)) = row else {
                return Err(not_found(&Resource::Customer(id)));
            };
            if erased_at.is_none() {
                if let Some(index) = index.and_then(|i| Mac256::try_from(i.as_slice()).ok()) {
                    crate::access::throttle_repo::clear_failures(tx, &index)?;
                }
                store.destroy_data_key(tx, &storage::subject(id))?;
                for table in [
                    "shopkeep_customer_unsubscribe",
                    "shopkeep_customer_tokens",
                    "shopkeep_customer_consents",
                    "shopkeep_customer_addresses",
                ] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE customer_id = ?1"),
                        args![id],
                    )?;
                }
                tx.execute(
                    "UPDATE shopkeep_customers
                     SET email_index = NULL, email = NULL, name = NULL, phone = NULL, business = NULL,
                         password_hash = NULL, last_login_at = NULL, erased_at = ?2, updated_at = ?2,
                         version = version + 1, auth_mac = ?3
                     WHERE id = ?1",
                    args![
                        id,
                        tx.now(),
                        storage::account_mac(store, id, None).as_slice()
                    ],
                )?;
                session_repo::revoke_all(tx, Holder::Customer(id))?;
                // A CRM or email tool forgets the customer too.
                tx.emit(&super::events::Erased { customer_id: id })?;
            }
            tx.audit(self.principal, Action::EraseCustomer, &Resource::Customer(id))
        })?;
        // A reader in the way leaves the scrub pending, not the erasure failed.
        store.scrub_now()?;
        Ok(())
    }
}
