//! Customer accounts' SQL: register, read, update, find, list.

use super::address_repo::{self, Defaults};
use super::consent_repo;
use super::model::{Customer, CustomerPage, NewCustomer, ProfileUpdate};
use super::storage;
use crate::access::throttle_repo::{blocked_until, record_failure};
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::clock::Timestamp;
use crate::crypto::PasswordHash;
use crate::crypto::keys::Mac256;
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, not_found};

/// The largest page [`CustomerRepo::list`] returns.
const MAX_PAGE: usize = 500;

/// Customer accounts, as seen by one principal. From [`Store::customers`].
///
/// Every method authorises exactly one [`Action`] for the principal before it touches data;
/// a customer may act on their own account, staff as their role allows (see
/// `docs/access-control.md`). A customer the principal may not see answers `NotFound`, exactly
/// like one that does not exist.
#[derive(Debug)]
pub struct CustomerRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// Customer accounts, for `principal`.
    ///
    /// ```
    /// use shopkeep::{Email, KeyRing, Principal, Store};
    /// use shopkeep::crypto::Password;
    /// use shopkeep::customers::NewCustomer;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let email = Email::parse("ana@example.com")?;
    /// let new = NewCustomer::new(email.clone(), Password::new("correct horse battery staple"), "Ana Lima")?;
    /// let ana = store.customers(&Principal::anonymous()).register(new)?;
    ///
    /// let login = store.login(&email, &Password::new("correct horse battery staple"))?;
    /// let me = store.principal_from_session(login.token())?;
    /// assert_eq!(store.customers(&me).get(ana.id())?.name(), "Ana Lima");
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn customers<'s>(&'s self, principal: &'s Principal) -> CustomerRepo<'s> {
        CustomerRepo {
            store: self,
            principal,
        }
    }
}

impl CustomerRepo<'_> {
    /// Registers a customer. Needs [`Action::RegisterCustomer`] (anonymous visitors have it).
    ///
    /// The password is checked against the store's password policy, with the email and the
    /// name as context, and hashed before the write transaction starts. Every field of personal
    /// data is encrypted under a data key of the customer's own. Addresses given become the
    /// default billing and shipping addresses (one address row if both are the same).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` (field `password`) if the password
    /// fails the policy; `AlreadyExists` if an account with this email (in any spelling,
    /// see [`Email::normalized`]) exists. The error says no more than that: what a host shows a
    /// visitor is its choice (`docs/security.md` says how to hide it).
    ///
    /// A conflict counts as a failed login of that email ([`LoginThrottle`](crate::LoginThrottle)),
    /// so asking again and again whether an email has an account is throttled like guessing
    /// its password: `TooManyAttempts` while the email must wait, before any password work.
    pub fn register(&self, new: NewCustomer) -> Result<Customer> {
        let store = self.store;
        let index = storage::email_index(store, &new.email);
        // Authorise before the slow hash, so that a refused caller costs nothing.
        let blocked = store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::RegisterCustomer,
                &Resource::Customers,
            )?;
            blocked_until(tx, &index)
        })?;
        let who = self.principal.audit_name();
        store.refuse_if_blocked(blocked, &who, "customers")?;
        store
            .password_policy()
            .check(&new.password, &[new.email.as_str(), &new.name])?;
        let hash = store.passwords().hash(&new.password)?;
        let written = self.insert(&new, &index, &hash);
        if written
            .as_ref()
            .is_err_and(|e| e.kind() == ErrorKind::AlreadyExists)
        {
            // The refused transaction rolled back; the failure is counted in a new one.
            store.write(|tx| {
                record_failure(tx, store, &index, &who, "customers", "register_existing")
            })?;
        }
        let (id, now) = written?;
        Ok(Customer {
            id,
            email: new.email,
            name: new.name,
            phone: new.phone,
            business: new.business,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            version: 1,
        })
    }

    /// Writes a registration: the account, its addresses, the audit entry and the event.
    fn insert(
        &self,
        new: &NewCustomer,
        index: &Mac256,
        hash: &PasswordHash,
    ) -> Result<(CustomerId, Timestamp)> {
        let store = self.store;
        store.write(|tx| {
            let now = tx.now();
            let id = CustomerId::generate(now)?;
            let key = store.data_key_or_create(tx, &storage::subject(id))?;
            let sealed = storage::seal_profile(
                &key,
                id,
                &new.email,
                &new.name,
                new.phone.as_ref(),
                new.business.as_ref(),
            )?;
            let inserted = tx.execute(
                "INSERT INTO shopkeep_customers
                         (id, email_index, email, name, phone, business, password_hash, created_at, updated_at,
                          auth_mac)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)
                     ON CONFLICT (email_index) DO NOTHING",
                args![
                    id,
                    index.as_slice(),
                    sealed.email,
                    sealed.name,
                    sealed.phone,
                    sealed.business,
                    hash.as_str(),
                    now,
                    storage::account_mac(store, id, Some(hash.as_str())).as_slice()
                ],
            )?;
            if inserted == 0 {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    "a customer account with this email already exists",
                ));
            }
            match (&new.billing, &new.shipping) {
                (Some(billing), Some(shipping)) if billing == shipping => {
                    address_repo::insert(tx, &key, id, billing, Defaults::BOTH)?;
                }
                (billing, shipping) => {
                    if let Some(billing) = billing {
                        address_repo::insert(tx, &key, id, billing, Defaults::BILLING)?;
                    }
                    if let Some(shipping) = shipping {
                        address_repo::insert(tx, &key, id, shipping, Defaults::SHIPPING)?;
                    }
                }
            }
            tx.audit(
                self.principal,
                Action::RegisterCustomer,
                &Resource::Customer(id),
            )?;
            tx.emit(&super::events::Registered { customer_id: id })?;
            // A lead with this email becomes this customer's, keeping its history.
            crate::leads::link_to_customer(tx, store, self.principal, &new.email, id)?;
            Ok((id, now))
        })
    }

    /// Reads a customer's profile. Needs [`Action::ReadCustomer`] (customers may read their
    /// own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such customer, they were erased, or the principal may not
    /// read them.
    pub fn get(&self, id: CustomerId) -> Result<Customer> {
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ReadCustomer,
                &Resource::Customer(id),
            )?;
            storage::load(tx, self.store, id)
        })
    }

    /// Changes a customer's profile, if it is still at the version the change was made from.
    /// Needs [`Action::UpdateCustomer`] (customers may update their own).
    ///
    /// A new email must be free; email marketing consent does not carry over to it (see
    /// [`ProfileUpdate::email`]).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown or hidden customer; `Forbidden` if the principal may read but
    /// not update them; `Conflict` if the profile changed since `expected_version` (reload and
    /// retry) or the new email belongs to another account.
    pub fn update(&self, id: CustomerId, change: ProfileUpdate) -> Result<Customer> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::UpdateCustomer,
                &Resource::Customer(id),
            )?;
            let current = storage::load(tx, store, id)?;
            if current.version != change.expected_version {
                return Err(stale());
            }
            let email = change
                .email
                .clone()
                .unwrap_or_else(|| current.email.clone());
            let email_changed = email.normalized() != current.email.normalized();
            let index = storage::email_index(store, &email);
            if email_changed && storage::find_by_index(tx, &index)?.is_some() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    "another customer account has this email",
                ));
            }
            let name = change.name.clone().unwrap_or_else(|| current.name.clone());
            let phone = change
                .phone
                .clone()
                .unwrap_or_else(|| current.phone.clone());
            let business = change
                .business
                .clone()
                .unwrap_or_else(|| current.business.clone());
            let key = storage::key(tx, store, id)?;
            let sealed =
                storage::seal_profile(&key, id, &email, &name, phone.as_ref(), business.as_ref())?;
            let changed = tx.execute(
                "UPDATE shopkeep_customers
                     SET email_index = ?3, email = ?4, name = ?5, phone = ?6, business = ?7,
                         updated_at = ?8, version = version + 1
                     WHERE id = ?1 AND version = ?2 AND erased_at IS NULL",
                args![
                    id,
                    // A version beyond i64 was never stored, so it matches no row.
                    i64::try_from(change.expected_version).unwrap_or(-1),
                    index.as_slice(),
                    sealed.email,
                    sealed.name,
                    sealed.phone,
                    sealed.business,
                    tx.now(),
                ],
            )?;
            if changed != 1 {
                return Err(stale());
            }
            if email_changed {
                consent_repo::withdraw_in(
                    tx,
                    id,
                    super::consent::Channel::Email,
                    "email_changed",
                    &self.principal.audit_name(),
                )?;
            }
            tx.audit(
                self.principal,
                Action::UpdateCustomer,
                &Resource::Customer(id),
            )?;
            Ok(Customer {
                email,
                name,
                phone,
                business,
                updated_at: tx.now(),
                version: current.version.saturating_add(1),
                ..current
            })
        })
    }

    /// Finds a customer by exact email (in any spelling of the mailbox: letter case, Unicode or
    /// punycode domain, see [`Email::normalized`]), through the blind index. Needs
    /// [`Action::SearchCustomers`].
    ///
    /// Encrypted fields cannot be searched by substring ("all customers named Lim…"): only
    /// ciphertexts are stored, and an index of fragments would leak what encryption hides. The
    /// email is found because its keyed blind index is stored beside it; search by id with
    /// [`get`](Self::get).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `NotFound` if no active account has this email.
    pub fn find_by_email(&self, email: &Email) -> Result<Customer> {
        let store = self.store;
        let index = storage::email_index(store, email);
        store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::SearchCustomers,
                &Resource::Customers,
            )?;
            let id = storage::find_by_index(tx, &index)?
                .ok_or_else(|| not_found(&Resource::Customers))?;
            storage::load(tx, store, id)
        })
    }

    /// A page of at most `limit` (1 to 500) active customers in id order, which is
    /// registration order to the millisecond (ids are time-ordered UUIDs), starting
    /// after the customer `after` (`None` for the first page). Needs
    /// [`Action::SearchCustomers`].
    ///
    /// Keyset pagination: a page starts where the previous one ended, so customers registering
    /// meanwhile never shift a page or appear twice.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` (field `limit`) for a limit outside 1
    /// to 500.
    pub fn list(&self, after: Option<CustomerId>, limit: usize) -> Result<CustomerPage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(
                "limit",
                "a page holds 1 to 500 customers",
            ));
        }
        let store = self.store;
        store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::SearchCustomers,
                &Resource::Customers,
            )?;
            let start = after.unwrap_or_else(|| CustomerId::from_bytes([0; 16]));
            let mut ids: Vec<CustomerId> = tx.query_map(
                "SELECT id FROM shopkeep_customers
                     WHERE id > ?1 AND erased_at IS NULL ORDER BY id LIMIT ?2",
                args![start, i64::try_from(limit).unwrap_or(0).saturating_add(1)],
                |r| r.get(0),
            )?;
            let more = ids.len() > limit;
            ids.truncate(limit);
            let next = if more { ids.last().copied() } else { None };
            let customers = ids
                .into_iter()
                .map(|id| storage::load(tx, store, id))
                .collect::<Result<_>>()?;
            Ok(CustomerPage { customers, next })
        })
    }
}

fn stale() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "the customer's profile was changed meanwhile: reload it and try again",
    )
}
