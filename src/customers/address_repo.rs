//! Customers' address books' SQL: list, add, change, remove, choose the defaults.

use super::address::{Address, AddressId, AddressKind, CustomerAddress, StoredAddress};
use super::repo::CustomerRepo;
use super::storage::{self, ADDRESSES};
use crate::access::{Action, CustomerId, Resource};
use crate::crypto::data_keys::DataKey;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx};

/// The most addresses one customer may keep.
const MAX_ADDRESSES: i64 = 50;

/// Which defaults a new address becomes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Defaults {
    billing: bool,
    shipping: bool,
}

impl Defaults {
    pub(super) const BOTH: Defaults = Defaults {
        billing: true,
        shipping: true,
    };
    pub(super) const BILLING: Defaults = Defaults {
        billing: true,
        shipping: false,
    };
    pub(super) const SHIPPING: Defaults = Defaults {
        billing: false,
        shipping: true,
    };
}

impl CustomerRepo<'_> {
    /// A customer's addresses, oldest first. Needs [`Action::ReadCustomer`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer.
    pub fn addresses(&self, id: CustomerId) -> Result<Vec<CustomerAddress>> {
        self.store.read(|tx| {
            storage::authorize_active(tx, self.principal, Action::ReadCustomer, id)?;
            list_in(tx, self.store, id)
        })
    }

    /// Adds an address to a customer's address book. It becomes the default billing and the
    /// default shipping address if the customer has none of that kind yet. Needs
    /// [`Action::UpdateCustomer`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer; `Forbidden` if the principal may
    /// read but not update them; `Validation` (field `address`) if the customer already has 50
    /// addresses.
    pub fn add_address(&self, id: CustomerId, address: Address) -> Result<CustomerAddress> {
        let store = self.store;
        store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::UpdateCustomer, id)?;
            let (count, has_billing, has_shipping): (i64, bool, bool) = tx.query_row(
                "SELECT count(*), coalesce(max(default_billing), 0), coalesce(max(default_shipping), 0)
                     FROM shopkeep_customer_addresses WHERE customer_id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            if count >= MAX_ADDRESSES {
                return Err(Error::validation(
                    "address",
                    "a customer keeps at most 50 addresses: remove one first",
                ));
            }
            let key = storage::key(tx, store, id)?;
            let defaults = Defaults {
                billing: !has_billing,
                shipping: !has_shipping,
            };
            let added = insert(tx, &key, id, &address, defaults)?;
            tx.audit(self.principal, Action::UpdateCustomer, &Resource::Customer(id))?;
            Ok(added)
        })
    }

    /// Replaces one address of a customer's address book; it keeps its id and defaults. Needs
    /// [`Action::UpdateCustomer`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden customer or an address that is not theirs;
    /// `Forbidden` if the principal may read but not update them.
    pub fn update_address(
        &self,
        id: CustomerId,
        address_id: AddressId,
        address: Address,
    ) -> Result<CustomerAddress> {
        let store = self.store;
        store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::UpdateCustomer, id)?;
            let key = storage::key(tx, store, id)?;
            let sealed =
                storage::seal_json(&key, ADDRESSES, "data", address_id.as_bytes(), &address)?;
            let updated = tx
                .query_opt(
                    "UPDATE shopkeep_customer_addresses SET data = ?3, updated_at = ?4
                     WHERE id = ?1 AND customer_id = ?2
                     RETURNING default_billing, default_shipping, created_at",
                    args![address_id, id, sealed, tx.now()],
                    |r| {
                        Ok(CustomerAddress {
                            id: address_id,
                            address: address.clone(),
                            default_billing: r.get(0)?,
                            default_shipping: r.get(1)?,
                            created_at: r.get(2)?,
                        })
                    },
                )?
                .ok_or_else(no_such_address)?;
            tx.audit(
                self.principal,
                Action::UpdateCustomer,
                &Resource::Customer(id),
            )?;
            Ok(updated)
        })
    }

    /// Removes an address. If it was a default, the customer has no default of that kind until
    /// one is chosen. Needs [`Action::UpdateCustomer`].
    ///
    /// # Errors
    ///
    /// As [`update_address`](Self::update_address).
    pub fn remove_address(&self, id: CustomerId, address_id: AddressId) -> Result<()> {
        self.store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::UpdateCustomer, id)?;
            let removed = tx.execute(
                "DELETE FROM shopkeep_customer_addresses WHERE id = ?1 AND customer_id = ?2",
                args![address_id, id],
            )?;
            if removed != 1 {
                return Err(no_such_address());
            }
            tx.audit(
                self.principal,
                Action::UpdateCustomer,
                &Resource::Customer(id),
            )
        })
    }

    /// Makes an address the customer's default of `kind`. Needs [`Action::UpdateCustomer`].
    ///
    /// # Errors
    ///
    /// As [`update_address`](Self::update_address).
    pub fn set_default_address(
        &self,
        id: CustomerId,
        address_id: AddressId,
        kind: AddressKind,
    ) -> Result<()> {
        // Two statements: clearing the old default first keeps the one-default-per-kind index
        // satisfied at every row SQLite touches.
        let (clear, set) = match kind {
            AddressKind::Billing => (
                "UPDATE shopkeep_customer_addresses SET default_billing = 0 WHERE customer_id = ?1 AND default_billing = 1",
                "UPDATE shopkeep_customer_addresses SET default_billing = 1 WHERE id = ?2 AND customer_id = ?1",
            ),
            AddressKind::Shipping => (
                "UPDATE shopkeep_customer_addresses SET default_shipping = 0 WHERE customer_id = ?1 AND default_shipping = 1",
                "UPDATE shopkeep_customer_addresses SET default_shipping = 1 WHERE id = ?2 AND customer_id = ?1",
            ),
        };
        self.store.write(|tx| {
            storage::authorize_active(tx, self.principal, Action::UpdateCustomer, id)?;
            tx.execute(clear, args![id])?;
            if tx.execute(set, args![id, address_id])? != 1 {
                return Err(no_such_address());
            }
            tx.audit(
                self.principal,
                Action::UpdateCustomer,
                &Resource::Customer(id),
            )
        })
    }
}

fn no_such_address() -> Error {
    Error::new(ErrorKind::NotFound, "no such address")
}

/// Writes a new address of customer `id`, sealed under the customer's data key.
pub(super) fn insert(
    tx: &Tx<'_>,
    key: &DataKey,
    id: CustomerId,
    address: &Address,
    defaults: Defaults,
) -> Result<CustomerAddress> {
    let address_id = AddressId::generate(tx.now())?;
    let sealed = storage::seal_json(key, ADDRESSES, "data", address_id.as_bytes(), address)?;
    tx.execute(
        "INSERT INTO shopkeep_customer_addresses
             (id, customer_id, data, default_billing, default_shipping, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        args![
            address_id,
            id,
            sealed,
            defaults.billing,
            defaults.shipping,
            tx.now()
        ],
    )?;
    Ok(CustomerAddress {
        id: address_id,
        address: address.clone(),
        default_billing: defaults.billing,
        default_shipping: defaults.shipping,
        created_at: tx.now(),
    })
}

/// Every address of customer `id`, decrypted, oldest first: in insertion order (`rowid`), since
/// ids made in the same millisecond are not ordered among themselves.
pub(super) fn list_in(tx: &Tx<'_>, store: &Store, id: CustomerId) -> Result<Vec<CustomerAddress>> {
    // Insertion order: SQLite's rowid; PostgreSQL has none, and orders by the creation time,
    // then by the time-ordered id.
    let rows: Vec<(AddressId, Vec<u8>, bool, bool, crate::clock::Timestamp)> = tx.query_map(
        tx.dialect(
            "SELECT id, data, default_billing, default_shipping, created_at
             FROM shopkeep_customer_addresses WHERE customer_id = ?1 ORDER BY rowid",
            "SELECT id, data, default_billing, default_shipping, created_at
             FROM shopkeep_customer_addresses WHERE customer_id = ?1 ORDER BY created_at, id",
        ),
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = storage::key(tx, store, id)?;
    rows.into_iter()
        .map(|(address_id, data, billing, shipping, created_at)| {
            let stored: StoredAddress =
                storage::open_json(&key, ADDRESSES, "data", address_id.as_bytes(), &data)?;
            Ok(CustomerAddress {
                id: address_id,
                address: stored.into_address()?,
                default_billing: billing,
                default_shipping: shipping,
                created_at,
            })
        })
        .collect()
}
