//! Where customer data lives and how it is sealed: table names, the data subject, the places
//! ciphertexts are bound to, and reading a profile back. Shared by the customer repositories.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::business::{BusinessDetails, StoredBusiness};
use super::model::Customer;
use super::phone::Phone;
use crate::access::{CustomerId, Resource};
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::crypto::data_keys::{DataKey, Subject};
use crate::crypto::field::{self, Place};
use crate::crypto::keys::Mac256;
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

pub(super) const CUSTOMERS: &str = "shopkeep_customers";
pub(super) const ADDRESSES: &str = "shopkeep_customer_addresses";
/// Blind-index field label of customers' emails (separate from staff emails).
pub(super) const EMAIL_INDEX: &str = "customer_email";

/// The data subject whose key seals a customer's fields.
pub(super) fn subject(id: CustomerId) -> Subject {
    Subject::customer(&id.to_string())
}

/// The blind index of an email: the same for every spelling of one mailbox ([`Email::normalized`]).
/// `shopkeep_customers.email_index` holds it; the suppression list keeps it too.
pub(crate) fn email_index(store: &Store, email: &Email) -> Mac256 {
    store.keys().blind_index(EMAIL_INDEX, &email.normalized())
}

/// The auth MAC of a customer row: binds the password hash (`None` once erased) to the id, so
/// that a hash written or swapped in by someone with the file but not the key is refused.
pub(super) fn account_mac(store: &Store, id: CustomerId, password_hash: Option<&str>) -> Mac256 {
    store.keys().auth_mac(
        &auth_mac::CUSTOMERS,
        &[
            Some(id.as_bytes().as_slice()),
            password_hash.map(str::as_bytes),
        ],
    )
}

/// Checks a customer row's auth MAC before its password hash is trusted.
///
/// # Errors
///
/// `Crypto` if the hash or the MAC was altered outside shopkeep.
pub(super) fn verify_account(
    store: &Store,
    id: CustomerId,
    password_hash: Option<&str>,
    stored_mac: Option<&[u8]>,
) -> Result<()> {
    store.keys().verify_auth_mac(
        &auth_mac::CUSTOMERS,
        &[
            Some(id.as_bytes().as_slice()),
            password_hash.map(str::as_bytes),
        ],
        stored_mac,
    )
}

/// The auth MAC of a one-time token row: binds the customer it acts for and its purpose.
pub(super) fn token_mac(store: &Store, token_hash: &[u8], id: CustomerId, purpose: &str) -> Mac256 {
    store.keys().auth_mac(
        &auth_mac::CUSTOMER_TOKENS,
        &[
            Some(token_hash),
            Some(id.as_bytes().as_slice()),
            Some(purpose.as_bytes()),
        ],
    )
}

/// Checks a one-time token row's auth MAC before it acts for its customer.
///
/// # Errors
///
/// `Crypto` if the token was moved to another customer or purpose outside shopkeep.
pub(super) fn verify_token(
    store: &Store,
    token_hash: &[u8],
    id: CustomerId,
    purpose: &str,
    stored_mac: Option<&[u8]>,
) -> Result<()> {
    store.keys().verify_auth_mac(
        &auth_mac::CUSTOMER_TOKENS,
        &[
            Some(token_hash),
            Some(id.as_bytes().as_slice()),
            Some(purpose.as_bytes()),
        ],
        stored_mac,
    )
}

/// Encrypts `plain` for `table`/`column` of the row whose key is `row`.
pub(super) fn seal(
    key: &DataKey,
    table: &str,
    column: &str,
    row: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>> {
    field::encrypt(key, Place { table, column, row }, plain)
}

/// Encrypts a value as JSON (addresses, business details: one ciphertext per value).
pub(super) fn seal_json(
    key: &DataKey,
    table: &str,
    column: &str,
    row: &[u8],
    value: &impl serde::Serialize,
) -> Result<Vec<u8>> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|e| {
        Error::new(ErrorKind::Storage, "a value could not be encoded").with_source(e)
    })?);
    seal(key, table, column, row, &json)
}

/// Decrypts a text value.
pub(super) fn open_text(
    key: &DataKey,
    table: &str,
    column: &str,
    row: &[u8],
    stored: &[u8],
) -> Result<String> {
    let plain = field::decrypt(key, Place { table, column, row }, stored)?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| Error::new(ErrorKind::Crypto, "a decrypted field is not text"))
}

/// Decrypts a JSON value.
pub(super) fn open_json<T: DeserializeOwned>(
    key: &DataKey,
    table: &str,
    column: &str,
    row: &[u8],
    stored: &[u8],
) -> Result<T> {
    let plain = field::decrypt(key, Place { table, column, row }, stored)?;
    serde_json::from_slice(&plain).map_err(|e| {
        Error::new(
            ErrorKind::Crypto,
            "a decrypted field is not the expected document",
        )
        .with_source(e)
    })
}

/// The data key of a customer who must have one.
pub(super) fn key(tx: &Tx<'_>, store: &Store, id: CustomerId) -> Result<Arc<DataKey>> {
    store.data_key(tx, &subject(id))?.ok_or_else(missing_key)
}

fn missing_key() -> Error {
    Error::new(ErrorKind::Crypto, "the customer's data key is missing")
}

/// The profile columns, sealed for one row.
pub(super) struct SealedProfile {
    pub(super) email: Vec<u8>,
    pub(super) name: Vec<u8>,
    pub(super) phone: Option<Vec<u8>>,
    pub(super) business: Option<Vec<u8>>,
}

/// Seals the profile columns of customer `id`.
pub(super) fn seal_profile(
    key: &DataKey,
    id: CustomerId,
    email: &Email,
    name: &str,
    phone: Option<&Phone>,
    business: Option<&BusinessDetails>,
) -> Result<SealedProfile> {
    let row = id.as_bytes().as_slice();
    Ok(SealedProfile {
        email: seal(key, CUSTOMERS, "email", row, email.as_str().as_bytes())?,
        name: seal(key, CUSTOMERS, "name", row, name.as_bytes())?,
        phone: phone
            .map(|p| seal(key, CUSTOMERS, "phone", row, p.as_str().as_bytes()))
            .transpose()?,
        business: business
            .map(|b| seal_json(key, CUSTOMERS, "business", row, b))
            .transpose()?,
    })
}

/// A customer row as stored, fields still sealed.
struct Row {
    email: Vec<u8>,
    name: Vec<u8>,
    phone: Option<Vec<u8>>,
    business: Option<Vec<u8>>,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Option<Timestamp>,
    version: i64,
    /// The customer's wrapped data key, read in the same statement (`None`: it has none).
    wrapped_key: Option<Vec<u8>>,
}

/// Reads and decrypts the profile of an active (not erased) customer.
///
/// # Errors
///
/// `NotFound` for an unknown or erased customer.
pub(super) fn load(tx: &Tx<'_>, store: &Store, id: CustomerId) -> Result<Customer> {
    let subject = subject(id);
    // The wrapped data key comes with the row, in one statement: a profile read is short, and
    // a second statement for the key was a tenth of it.
    let row = tx
        .query_opt(
            "SELECT email, name, phone, business, created_at, updated_at, last_login_at, version,
                    (SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?2)
             FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL",
            args![id, subject.as_str()],
            |r| {
                Ok(Row {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    business: r.get(3)?,
                    created_at: r.get(4)?,
                    updated_at: r.get(5)?,
                    last_login_at: r.get(6)?,
                    version: r.get(7)?,
                    wrapped_key: r.get(8)?,
                })
            },
        )?
        .ok_or_else(|| not_found(&Resource::Customer(id)))?;
    let key = store
        .data_key_from_wrapped(&subject, row.wrapped_key)?
        .ok_or_else(missing_key)?;
    let at = id.as_bytes().as_slice();
    Ok(Customer {
        id,
        email: Email::from_stored(&open_text(&key, CUSTOMERS, "email", at, &row.email)?)?,
        name: open_text(&key, CUSTOMERS, "name", at, &row.name)?,
        phone: row
            .phone
            .map(|p| open_text(&key, CUSTOMERS, "phone", at, &p).map(Phone::from_stored))
            .transpose()?,
        business: row
            .business
            .map(|b| open_json::<StoredBusiness>(&key, CUSTOMERS, "business", at, &b))
            .transpose()?
            .map(StoredBusiness::into_details),
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_login_at: row.last_login_at,
        version: u64::try_from(row.version).unwrap_or(0),
    })
}

/// Checks that `id` is an active customer, without decrypting anything.
///
/// # Errors
///
/// `NotFound` for an unknown or erased customer.
/// Asks the policy for `action` on customer `id`, then checks the customer exists and is not
/// erased: the first two steps of every call on one customer.
pub(super) fn authorize_active(
    tx: &Tx<'_>,
    principal: &crate::access::Principal,
    action: crate::access::Action,
    id: CustomerId,
) -> Result<()> {
    tx.authorize(principal, action, &Resource::Customer(id))?;
    ensure_active(tx, id)
}

/// Checks that `id` is an active (not erased) customer, without decrypting anything.
///
/// # Errors
///
/// `NotFound` for an unknown or erased customer.
pub(crate) fn ensure_active(tx: &Tx<'_>, id: CustomerId) -> Result<()> {
    let active: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM shopkeep_customers WHERE id = ?1 AND erased_at IS NULL)",
        args![id],
        |r| r.get(0),
    )?;
    if active {
        Ok(())
    } else {
        Err(not_found(&Resource::Customer(id)))
    }
}

/// The active customer with this email's blind index, if any.
pub(super) fn find_by_index(tx: &Tx<'_>, index: &Mac256) -> Result<Option<CustomerId>> {
    tx.query_opt(
        "SELECT id FROM shopkeep_customers WHERE email_index = ?1 AND erased_at IS NULL",
        args![index.as_slice()],
        |r| r.get(0),
    )
}

/// What an order needs of its buyer: the name, email, business details and default addresses.
pub(crate) struct OrderBuyer {
    /// The name.
    pub(crate) name: String,
    /// The email, as stored (it was validated when written).
    pub(crate) email: String,
    /// The business details, for a business customer.
    pub(crate) business: Option<BusinessDetails>,
    /// The default shipping address, if there is one.
    pub(crate) shipping: Option<super::address::Address>,
    /// The default billing address, if there is one.
    pub(crate) billing: Option<super::address::Address>,
}

/// Reads and decrypts only what an order needs of an active customer: checkout runs this on
/// every order, inside its own transaction and authorisation, so the phone and the addresses
/// that are no default stay sealed.
///
/// # Errors
///
/// `NotFound` for an unknown or erased customer; `Crypto` if a field cannot be decrypted.
pub(crate) fn load_buyer(tx: &Tx<'_>, store: &Store, id: CustomerId) -> Result<OrderBuyer> {
    let (email, name, business): (Vec<u8>, Vec<u8>, Option<Vec<u8>>) = tx
        .query_opt(
            "SELECT email, name, business FROM shopkeep_customers
             WHERE id = ?1 AND erased_at IS NULL",
            args![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .ok_or_else(|| not_found(&Resource::Customer(id)))?;
    let key = key(tx, store, id)?;
    let at = id.as_bytes().as_slice();
    let mut buyer = OrderBuyer {
        name: open_text(&key, CUSTOMERS, "name", at, &name)?,
        email: open_text(&key, CUSTOMERS, "email", at, &email)?,
        business: business
            .map(|b| open_json::<StoredBusiness>(&key, CUSTOMERS, "business", at, &b))
            .transpose()?
            .map(StoredBusiness::into_details),
        shipping: None,
        billing: None,
    };
    tx.query_each(
        "SELECT id, data, default_billing, default_shipping FROM shopkeep_customer_addresses
         WHERE customer_id = ?1 AND (default_billing = 1 OR default_shipping = 1)",
        args![id],
        |r| {
            let address_id: super::address::AddressId = r.get(0)?;
            let data: Vec<u8> = r.get(1)?;
            let stored: super::address::StoredAddress =
                open_json(&key, ADDRESSES, "data", address_id.as_bytes(), &data)?;
            let address = stored.into_address()?;
            let (billing, shipping): (bool, bool) = (r.get(2)?, r.get(3)?);
            if billing {
                buyer.billing = Some(address.clone());
            }
            if shipping {
                buyer.shipping = Some(address);
            }
            Ok(())
        },
    )?;
    Ok(buyer)
}
