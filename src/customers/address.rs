//! Postal addresses of customers, for billing and shipping.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::country::Country;
use super::fields;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::define_id;
use crate::text;

define_id!(
    /// The id of one address in a customer's address book.
    AddressId,
    "address_id"
);

/// The longest name, company and street line accepted, in characters.
const MAX_LINE: usize = 200;
/// The longest city and region accepted, in characters.
const MAX_CITY: usize = 100;
/// The longest postal code accepted, in characters.
const MAX_POSTAL_CODE: usize = 16;

/// What an address is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressKind {
    /// Where invoices are addressed.
    Billing,
    /// Where parcels go.
    Shipping,
}

/// A postal address. Personal data: `Debug` redacts it.
///
/// Built from the required parts, with optional ones added after; every part is trimmed and
/// checked (no control characters, a bounded length), and the country is an ISO 3166-1 alpha-2
/// code. A blank optional part means "none".
///
/// ```
/// use shopkeep::customers::{Address, Country};
///
/// let home = Address::new("Ana Lima", "Invalidenstraße 117", "Berlin", Country::parse("DE")?)?
///     .with_postal_code("10115")?
///     .with_line2("3rd floor")?;
/// assert_eq!(home.postal_code(), Some("10115"));
/// assert_eq!(format!("{home:?}"), "Address([REDACTED])");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    recipient: String,
    company: Option<String>,
    line1: String,
    line2: Option<String>,
    postal_code: Option<String>,
    city: String,
    region: Option<String>,
    country: Country,
}

impl Address {
    /// An address with its required parts: who receives it, the street line, the city and the
    /// country.
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the part (`recipient`, `line1`, `city`) that is empty, too
    /// long (200 characters; 100 for the city) or holds control characters.
    pub fn new(recipient: &str, line1: &str, city: &str, country: Country) -> Result<Address> {
        Ok(Address {
            recipient: text::required("recipient", recipient, MAX_LINE)?,
            company: None,
            line1: text::required("line1", line1, MAX_LINE)?,
            line2: None,
            postal_code: None,
            city: text::required("city", city, MAX_CITY)?,
            region: None,
            country,
        })
    }

    /// Adds a company name line.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `company`) if it is over 200 characters or holds control
    /// characters.
    pub fn with_company(mut self, company: &str) -> Result<Address> {
        self.company = fields::optional("company", company, MAX_LINE)?;
        Ok(self)
    }

    /// Adds a second street line.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `line2`) if it is over 200 characters or holds control
    /// characters.
    pub fn with_line2(mut self, line2: &str) -> Result<Address> {
        self.line2 = fields::optional("line2", line2, MAX_LINE)?;
        Ok(self)
    }

    /// Adds the postal code.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `postal_code`) if it is over 16 characters or holds anything
    /// but letters, digits, spaces and hyphens.
    pub fn with_postal_code(mut self, postal_code: &str) -> Result<Address> {
        let code = fields::optional("postal_code", postal_code, MAX_POSTAL_CODE)?;
        if let Some(code) = &code
            && !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(crate::Error::validation(
                "postal_code",
                "a postal code holds only letters, digits, spaces and hyphens",
            ));
        }
        self.postal_code = code;
        Ok(self)
    }

    /// Adds a region (state, province, county).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `region`) if it is over 100 characters or holds control
    /// characters.
    pub fn with_region(mut self, region: &str) -> Result<Address> {
        self.region = fields::optional("region", region, MAX_CITY)?;
        Ok(self)
    }

    /// Who receives mail at this address.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The company line, if any.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The street line.
    pub fn line1(&self) -> &str {
        &self.line1
    }

    /// The second street line, if any.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }

    /// The postal code, if any (some countries have none).
    pub fn postal_code(&self) -> Option<&str> {
        self.postal_code.as_deref()
    }

    /// The city.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// The region, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The country.
    pub fn country(&self) -> Country {
        self.country
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address([REDACTED])")
    }
}

/// An address as stored inside its ciphertext (JSON); read back without re-validation, since
/// it was validated when written and the ciphertext cannot be altered undetected.
#[derive(Deserialize)]
pub(super) struct StoredAddress {
    recipient: String,
    company: Option<String>,
    line1: String,
    line2: Option<String>,
    postal_code: Option<String>,
    city: String,
    region: Option<String>,
    country: String,
}

impl StoredAddress {
    pub(super) fn into_address(self) -> Result<Address> {
        Ok(Address {
            recipient: self.recipient,
            company: self.company,
            line1: self.line1,
            line2: self.line2,
            postal_code: self.postal_code,
            city: self.city,
            region: self.region,
            country: Country::parse(&self.country)?,
        })
    }
}

/// One address of a customer's address book, with whether it is the default of each kind.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CustomerAddress {
    pub(super) id: AddressId,
    pub(super) address: Address,
    pub(super) default_billing: bool,
    pub(super) default_shipping: bool,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) created_at: Timestamp,
}

impl CustomerAddress {
    /// The address's id.
    pub fn id(&self) -> AddressId {
        self.id
    }

    /// The address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Whether it is the customer's default address of `kind`.
    pub fn is_default(&self, kind: AddressKind) -> bool {
        match kind {
            AddressKind::Billing => self.default_billing,
            AddressKind::Shipping => self.default_shipping,
        }
    }

    /// When it was added.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}

impl fmt::Debug for CustomerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerAddress")
            .field("id", &self.id)
            .field("address", &self.address)
            .field("default_billing", &self.default_billing)
            .field("default_shipping", &self.default_shipping)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn de() -> Country {
        Country::parse("DE").unwrap()
    }

    #[test]
    fn parts_are_trimmed_and_blank_optionals_are_none() {
        let a = Address::new("  Ana ", " Main St 1 ", " Berlin ", de())
            .unwrap()
            .with_line2("   ")
            .unwrap()
            .with_postal_code(" 10115 ")
            .unwrap();
        assert_eq!(
            (a.recipient(), a.line1(), a.city()),
            ("Ana", "Main St 1", "Berlin")
        );
        assert_eq!(a.line2(), None);
        assert_eq!(a.postal_code(), Some("10115"));
    }

    #[test]
    fn bad_parts_name_their_field() {
        let long = "x".repeat(201);
        let cases: Vec<(Result<Address>, &str)> = vec![
            (Address::new("", "Main St 1", "Berlin", de()), "recipient"),
            (Address::new("Ana", &long, "Berlin", de()), "line1"),
            (
                Address::new("Ana", "Main St 1", "Ber\u{0}lin", de()),
                "city",
            ),
            (
                Address::new("Ana", "Main St 1", "Berlin", de()).and_then(|a| a.with_line2("a\rb")),
                "line2",
            ),
            (
                Address::new("Ana", "Main St 1", "Berlin", de())
                    .and_then(|a| a.with_postal_code("10115;")),
                "postal_code",
            ),
            (
                Address::new("Ana", "Main St 1", "Berlin", de())
                    .and_then(|a| a.with_postal_code(&"1".repeat(17))),
                "postal_code",
            ),
            (
                Address::new("Ana", "Main St 1", "Berlin", de())
                    .and_then(|a| a.with_company(&long)),
                "company",
            ),
            (
                Address::new("Ana", "Main St 1", "Berlin", de())
                    .and_then(|a| a.with_region("\u{1b}[31m")),
                "region",
            ),
        ];
        for (result, field) in cases {
            assert_eq!(result.unwrap_err().kind(), ErrorKind::Validation { field });
        }
    }
}
