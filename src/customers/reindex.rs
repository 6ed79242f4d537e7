//! The one-off that moves accounts registered before emails were normalised to the blind index
//! of their normalised email.

use super::repo::CustomerRepo;
use super::storage;
use crate::access::{Action, CustomerId, Resource};
use crate::error::Result;
use crate::sql::args;

/// What [`CustomerRepo::reindex_emails`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailReindex {
    /// How many accounts got the index of their normalised email.
    pub reindexed: usize,
    /// Accounts left as they were because another account already has the normalised email
    /// (one mailbox registered twice under two spellings, before normalisation). The host
    /// decides which one to keep, and erases or changes the email of the other.
    pub duplicates: Vec<CustomerId>,
}

impl CustomerRepo<'_> {
    /// Recomputes every active customer's email blind index from the normalised email
    /// ([`Email::normalized`](crate::Email::normalized)).
    ///
    /// Stores written before emails were normalised (IDNA domains, NFC local parts) indexed an
    /// account by its email in lower case only. Addresses that are plain ASCII index the same
    /// either way; an account whose email has a Unicode domain or local part is found by login,
    /// password reset and [`find_by_email`](Self::find_by_email) only once re-indexed. Run this
    /// once after upgrading a store that has such accounts; running it again changes nothing.
    /// It decrypts every email inside one write transaction, so run it while the shop is quiet.
    /// Needs [`Action::UpdateCustomer`] on all customers (the system principal and owners).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Crypto` if a stored email cannot be decrypted.
    pub fn reindex_emails(&self) -> Result<EmailReindex> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateCustomer, &Resource::Customers)?;
            let ids = tx.query_map(
                "SELECT id FROM shopkeep_customers WHERE erased_at IS NULL ORDER BY id",
                args![],
                |r| r.get::<CustomerId>(0),
            )?;
            let mut done = EmailReindex {
                reindexed: 0,
                duplicates: Vec::new(),
            };
            for id in ids {
                let customer = storage::load(tx, store, id)?;
                let index = storage::email_index(store, &customer.email);
                match storage::find_by_index(tx, &index)? {
                    Some(holder) if holder == id => continue,
                    Some(_) => done.duplicates.push(id),
                    None => {
                        tx.execute(
                            "UPDATE shopkeep_customers SET email_index = ?2 WHERE id = ?1",
                            args![id, index.as_slice()],
                        )?;
                        tx.audit(
                            self.principal,
                            Action::UpdateCustomer,
                            &Resource::Customer(id),
                        )?;
                        done.reindexed += 1;
                    }
                }
            }
            Ok(done)
        })
    }
}

#[cfg(test)]
#[cfg(feature = "insecure-test-params")]
mod tests {
    use super::*;
    use crate::crypto::{Password, PasswordParams};
    use crate::{Email, ErrorKind, KeyRing, NewCustomer, Principal, Store};

    const PW: &str = "a perfectly long test passphrase";

    fn register(store: &Store, email: &str) -> CustomerId {
        let new = NewCustomer::new(Email::parse(email).unwrap(), Password::new(PW), "Ana");
        store
            .customers(&Principal::anonymous())
            .register(new.unwrap())
            .unwrap()
            .id()
    }

    /// Puts back the index an account had before emails were normalised: its email in lower
    /// case, nothing else.
    fn index_as_before(store: &Store, id: CustomerId, email: &str) {
        let legacy = store
            .keys()
            .blind_index(storage::EMAIL_INDEX, &email.to_lowercase());
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE shopkeep_customers SET email_index = ?2 WHERE id = ?1",
                    args![id, legacy.as_slice()],
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn accounts_indexed_before_normalisation_are_found_again_after_the_one_off() {
        let store = Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .open_in_memory(KeyRing::from_master_key([4; 32]))
            .unwrap();
        let ana = register(&store, "Ana@Bücher.example");
        index_as_before(&store, ana, "Ana@Bücher.example");
        let plain = register(&store, "bob@example.com");
        index_as_before(&store, plain, "bob@example.com");
        // One mailbox registered twice before normalisation: josé in NFD, then in NFC.
        let jose_nfd = register(&store, "jose\u{301}@example.com");
        index_as_before(&store, jose_nfd, "jose\u{301}@example.com");
        let jose = register(&store, "jos\u{e9}@example.com");

        let login = |email: &str| store.login(&Email::parse(email).unwrap(), &Password::new(PW));
        assert_eq!(
            login("ana@xn--bcher-kva.example").unwrap_err().kind(),
            ErrorKind::Unauthenticated
        );
        let anonymous = Principal::anonymous();
        assert_eq!(
            store
                .customers(&anonymous)
                .reindex_emails()
                .unwrap_err()
                .kind(),
            ErrorKind::Forbidden
        );
        let system = store.system();
        let done = store.customers(&system).reindex_emails().unwrap();
        // bob's ASCII address indexes alike either way; josé's first spelling is a duplicate.
        assert_eq!(done.reindexed, 1, "{done:?}");
        assert_eq!(done.duplicates, vec![jose_nfd], "{done:?}");
        let who = |email: &str| login(email).unwrap().principal().customer_id();
        assert_eq!(who("ana@xn--bcher-kva.example"), Some(ana));
        assert_eq!(who("ANA@bücher.example"), Some(ana));
        assert_eq!(who("bob@example.com"), Some(plain));
        assert_eq!(who("jose\u{301}@example.com"), Some(jose));
        // Running it again changes nothing, and still names the duplicate.
        let again = store.customers(&system).reindex_emails().unwrap();
        assert_eq!((again.reindexed, again.duplicates), (0, vec![jose_nfd]));
    }

    #[test]
    fn staff_indexed_before_normalisation_log_in_again_after_the_one_off() {
        let store = Store::options()
            .password_params(PasswordParams::insecure_for_tests())
            .open_in_memory(KeyRing::from_master_key([4; 32]))
            .unwrap();
        let system = store.system();
        let email = "Olga@Bücher.example";
        let new = crate::NewStaff::new(
            Email::parse(email).unwrap(),
            "Olga",
            crate::Role::Manager,
            Password::new(PW),
        );
        let olga = store.staff(&system).create(new.unwrap()).unwrap();
        let legacy = store
            .keys()
            .blind_index("staff_email", &email.to_lowercase());
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE shopkeep_staff SET email_index = ?2 WHERE id = ?1",
                    args![olga.id(), legacy.as_slice()],
                )?;
                Ok(())
            })
            .unwrap();
        let login = || {
            store.login_staff(
                &Email::parse("olga@xn--bcher-kva.example").unwrap(),
                &Password::new(PW),
            )
        };
        assert_eq!(login().unwrap_err().kind(), ErrorKind::Unauthenticated);
        assert_eq!(store.staff(&system).reindex_emails().unwrap(), 1);
        assert_eq!(store.staff(&system).reindex_emails().unwrap(), 0);
        assert!(login().is_ok());
    }
}
