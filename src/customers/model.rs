//! Customer accounts: the model. Plain validated data, no SQL.

use std::fmt;

use serde::Serialize;

use super::address::Address;
use super::business::BusinessDetails;
use super::fields;
use super::phone::Phone;
use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::crypto::Password;
use crate::email::Email;
use crate::error::Result;
use crate::text;

/// The longest customer name accepted, in characters.
pub(super) const MAX_NAME: usize = 200;

/// A customer account to register. The password is checked against the store's password
/// policy (with the email and name as context) and hashed before anything is written.
///
/// ```
/// use shopkeep::Email;
/// use shopkeep::crypto::Password;
/// use shopkeep::customers::{Address, Country, NewCustomer, Phone};
///
/// let new = NewCustomer::new(
///     Email::parse("ana@example.com")?,
///     Password::new("correct horse battery staple"),
///     "Ana Lima",
/// )?
/// .phone(Phone::parse("+49 30 1234567")?)
/// .billing_address(Address::new("Ana Lima", "Main St 1", "Berlin", Country::parse("DE")?)?);
/// # let _ = new;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NewCustomer {
    pub(super) email: Email,
    pub(super) password: Password,
    pub(super) name: String,
    pub(super) phone: Option<Phone>,
    pub(super) business: Option<BusinessDetails>,
    pub(super) billing: Option<Address>,
    pub(super) shipping: Option<Address>,
}

impl NewCustomer {
    /// A consumer account with the required parts.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `name`) for an empty name, one over 200 characters, or one
    /// with control characters.
    pub fn new(email: Email, password: Password, name: &str) -> Result<NewCustomer> {
        Ok(NewCustomer {
            email,
            password,
            name: text::required("name", name, MAX_NAME)?,
            phone: None,
            business: None,
            billing: None,
            shipping: None,
        })
    }

    /// Adds a phone number.
    #[must_use]
    pub fn phone(mut self, phone: Phone) -> NewCustomer {
        self.phone = Some(phone);
        self
    }

    /// Makes the account a business customer's.
    #[must_use]
    pub fn business(mut self, details: BusinessDetails) -> NewCustomer {
        self.business = Some(details);
        self
    }

    /// Adds the default billing address.
    #[must_use]
    pub fn billing_address(mut self, address: Address) -> NewCustomer {
        self.billing = Some(address);
        self
    }

    /// Adds the default shipping address.
    #[must_use]
    pub fn shipping_address(mut self, address: Address) -> NewCustomer {
        self.shipping = Some(address);
        self
    }
}

impl fmt::Debug for NewCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCustomer")
            .field("business", &self.business.is_some())
            .finish_non_exhaustive()
    }
}

/// A customer's profile as stored. Personal data: `Debug` shows the id only.
///
/// Serialises (for a host's API or the GDPR export) with every field in clear.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub(super) id: CustomerId,
    #[serde(serialize_with = "fields::email")]
    pub(super) email: Email,
    pub(super) name: String,
    pub(super) phone: Option<Phone>,
    pub(super) business: Option<BusinessDetails>,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) created_at: Timestamp,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) updated_at: Timestamp,
    #[serde(serialize_with = "fields::optional_timestamp")]
    pub(super) last_login_at: Option<Timestamp>,
    pub(super) version: u64,
}

impl Customer {
    /// The customer's id.
    pub fn id(&self) -> CustomerId {
        self.id
    }

    /// The login email.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The phone number, if given.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    /// The business details of a business customer; `None` for a consumer.
    pub fn business(&self) -> Option<&BusinessDetails> {
        self.business.as_ref()
    }

    /// When the account was registered.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When the profile last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// When the customer last logged in, if ever.
    pub fn last_login_at(&self) -> Option<Timestamp> {
        self.last_login_at
    }

    /// The profile's version, for [`ProfileUpdate::new`]: an update made from an older version
    /// is refused.
    pub fn version(&self) -> u64 {
        self.version
    }
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A change to a customer's profile, made from the version the editor saw (optimistic
/// concurrency: if someone changed the profile since, the update is a `Conflict`). Parts not
/// set stay as they are.
///
/// ```
/// use shopkeep::customers::{Phone, ProfileUpdate};
///
/// # let version = 1;
/// let change = ProfileUpdate::new(version).name("Ana Lima-Santos")?.phone(Some(Phone::parse("+351 21 1234567")?));
/// # let _ = change;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProfileUpdate {
    pub(super) expected_version: u64,
    pub(super) email: Option<Email>,
    pub(super) name: Option<String>,
    pub(super) phone: Option<Option<Phone>>,
    pub(super) business: Option<Option<BusinessDetails>>,
}

impl ProfileUpdate {
    /// An empty change to the profile at `expected_version` ([`Customer::version`]).
    pub fn new(expected_version: u64) -> ProfileUpdate {
        ProfileUpdate {
            expected_version,
            email: None,
            name: None,
            phone: None,
            business: None,
        }
    }

    /// A new login email. Email marketing consent given for the old address does not carry
    /// over: it is withdrawn (source `email_changed`) and must be asked for again.
    #[must_use]
    pub fn email(mut self, email: Email) -> ProfileUpdate {
        self.email = Some(email);
        self
    }

    /// A new name.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `name`) as for [`NewCustomer::new`].
    pub fn name(mut self, name: &str) -> Result<ProfileUpdate> {
        self.name = Some(text::required("name", name, MAX_NAME)?);
        Ok(self)
    }

    /// A new phone number, or `None` to remove it.
    #[must_use]
    pub fn phone(mut self, phone: Option<Phone>) -> ProfileUpdate {
        self.phone = Some(phone);
        self
    }

    /// New business details, or `None` to make the account a consumer's.
    #[must_use]
    pub fn business(mut self, details: Option<BusinessDetails>) -> ProfileUpdate {
        self.business = Some(details);
        self
    }
}

impl fmt::Debug for ProfileUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileUpdate")
            .field("expected_version", &self.expected_version)
            .finish_non_exhaustive()
    }
}

/// One page of customers in id order (registration order to the millisecond), and where the
/// next page starts.
#[derive(Debug, Clone)]
pub struct CustomerPage {
    pub(super) customers: Vec<Customer>,
    pub(super) next: Option<CustomerId>,
}

impl CustomerPage {
    /// The customers on this page.
    pub fn customers(&self) -> &[Customer] {
        &self.customers
    }

    /// The cursor of the next page (pass it as `after`), or `None` on the last page.
    pub fn next(&self) -> Option<CustomerId> {
        self.next
    }

    /// The customers, by value.
    pub fn into_customers(self) -> Vec<Customer> {
        self.customers
    }
}
