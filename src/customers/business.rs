//! The details a business customer's invoices need: company, VAT id, tax number, buyer
//! reference and electronic address (for reverse charge and e-invoices such as XRechnung).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::fields;
use super::vat_id::VatId;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::text;

/// The longest company name and buyer reference accepted, in characters.
const MAX_TEXT: usize = 200;
/// The longest tax number accepted, in characters.
const MAX_TAX_NUMBER: usize = 32;
/// The longest electronic address accepted, in characters.
const MAX_ADDRESS: usize = 254;

/// A business customer's invoicing details. Personal data of a sole trader: `Debug` redacts it.
///
/// ```
/// use shopkeep::customers::{BusinessDetails, ElectronicAddress, VatId};
///
/// let acme = BusinessDetails::new("ACME GmbH")?
///     .with_vat_id(VatId::parse("DE123456789")?)
///     .with_buyer_reference("04011000-1234512345-06")? // a German Leitweg-ID
///     .with_electronic_address(ElectronicAddress::new("0204", "04011000-1234512345-06")?);
/// assert_eq!(acme.vat_id().map(|v| v.prefix()), Some("DE"));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct BusinessDetails {
    company: String,
    vat_id: Option<VatId>,
    tax_number: Option<String>,
    buyer_reference: Option<String>,
    electronic_address: Option<ElectronicAddress>,
}

impl BusinessDetails {
    /// A business with its legal name.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `company`) for an empty name, one over 200 characters, or
    /// one with control characters.
    pub fn new(company: &str) -> Result<BusinessDetails> {
        Ok(BusinessDetails {
            company: text::required("company", company, MAX_TEXT)?,
            vat_id: None,
            tax_number: None,
            buyer_reference: None,
            electronic_address: None,
        })
    }

    /// Adds the VAT identification number (needed for reverse charge).
    pub fn with_vat_id(mut self, vat_id: VatId) -> BusinessDetails {
        self.vat_id = Some(vat_id);
        self
    }

    /// Adds the national tax number.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `tax_number`) if it is over 32 characters or holds anything
    /// but letters, digits, spaces, `/`, `-` and `.`.
    pub fn with_tax_number(mut self, tax_number: &str) -> Result<BusinessDetails> {
        let number = fields::optional("tax_number", tax_number, MAX_TAX_NUMBER)?;
        if let Some(number) = &number
            && !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '/' | '-' | '.'))
        {
            return Err(Error::validation(
                "tax_number",
                "a tax number holds only letters, digits, spaces, slashes, hyphens and dots",
            ));
        }
        self.tax_number = number;
        Ok(self)
    }

    /// Adds the buyer reference the customer asks to see on invoices (EN 16931 BT-10; for
    /// German public buyers, the Leitweg-ID).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `buyer_reference`) if it is over 200 characters or holds
    /// control characters.
    pub fn with_buyer_reference(mut self, reference: &str) -> Result<BusinessDetails> {
        self.buyer_reference = fields::optional("buyer_reference", reference, MAX_TEXT)?;
        Ok(self)
    }

    /// Adds the address e-invoices are delivered to (EN 16931 BT-49).
    pub fn with_electronic_address(mut self, address: ElectronicAddress) -> BusinessDetails {
        self.electronic_address = Some(address);
        self
    }

    /// The company's legal name.
    pub fn company(&self) -> &str {
        &self.company
    }

    /// The VAT identification number, if given.
    pub fn vat_id(&self) -> Option<&VatId> {
        self.vat_id.as_ref()
    }

    /// The tax number, if given.
    pub fn tax_number(&self) -> Option<&str> {
        self.tax_number.as_deref()
    }

    /// The buyer reference, if given.
    pub fn buyer_reference(&self) -> Option<&str> {
        self.buyer_reference.as_deref()
    }

    /// The electronic address for e-invoices, if given.
    pub fn electronic_address(&self) -> Option<&ElectronicAddress> {
        self.electronic_address.as_ref()
    }
}

impl fmt::Debug for BusinessDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BusinessDetails([REDACTED])")
    }
}

/// An electronic address for e-invoices: a scheme from the EAS code list (`0204` for a German
/// Leitweg-ID, `9930` for a German VAT number, `EM` for an email address, ...) and the value.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ElectronicAddress {
    scheme: String,
    value: String,
}

impl ElectronicAddress {
    /// An electronic address. The scheme is upper-cased; an `EM` value must be an email address.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `electronic_address`) if the scheme is not four digits or
    /// two letters (the shapes of EAS codes), the value is empty, over 254 characters or holds
    /// control characters, or an `EM` value is not an email address.
    pub fn new(scheme: &str, value: &str) -> Result<ElectronicAddress> {
        let invalid = |why: &str| Error::validation("electronic_address", why.to_owned());
        let scheme = scheme.trim().to_ascii_uppercase();
        let shaped = (scheme.len() == 4 && scheme.bytes().all(|b| b.is_ascii_digit()))
            || (scheme.len() == 2 && scheme.bytes().all(|b| b.is_ascii_uppercase()));
        if !shaped {
            return Err(invalid(
                "the scheme must be an EAS code: four digits or two letters",
            ));
        }
        let value = text::required("electronic_address", value, MAX_ADDRESS)?;
        if scheme == "EM" && Email::parse(&value).is_err() {
            return Err(invalid("an EM electronic address must be an email address"));
        }
        Ok(ElectronicAddress { scheme, value })
    }

    /// The EAS scheme code.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The address within the scheme.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for ElectronicAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElectronicAddress({}:[REDACTED])", self.scheme)
    }
}

/// Business details as stored inside their ciphertext (JSON); read back without re-validation,
/// since they were validated when written and the ciphertext cannot be altered undetected.
#[derive(Deserialize)]
pub(super) struct StoredBusiness {
    company: String,
    vat_id: Option<String>,
    tax_number: Option<String>,
    buyer_reference: Option<String>,
    electronic_address: Option<StoredElectronicAddress>,
}

#[derive(Deserialize)]
struct StoredElectronicAddress {
    scheme: String,
    value: String,
}

impl StoredBusiness {
    pub(super) fn into_details(self) -> BusinessDetails {
        BusinessDetails {
            company: self.company,
            vat_id: self.vat_id.map(VatId::from_stored),
            tax_number: self.tax_number,
            buyer_reference: self.buyer_reference,
            electronic_address: self.electronic_address.map(|a| ElectronicAddress {
                scheme: a.scheme,
                value: a.value,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn electronic_addresses_need_an_eas_shaped_scheme() {
        assert_eq!(
            ElectronicAddress::new("em", "ap@acme.example")
                .unwrap()
                .scheme(),
            "EM"
        );
        ElectronicAddress::new("9930", "DE123456789").unwrap();
        for (scheme, value) in [
            ("", "x"),
            ("99", "x"),
            ("12345", "x"),
            ("E1", "x"),
            ("EM", "not an email"),
            ("0204", ""),
            ("0204", "a\u{0}b"),
        ] {
            let err = ElectronicAddress::new(scheme, value).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "electronic_address"
                },
                "{scheme:?} {value:?}"
            );
        }
    }

    #[test]
    fn bad_details_name_their_field() {
        assert_eq!(
            BusinessDetails::new(" ").unwrap_err().kind(),
            ErrorKind::Validation { field: "company" }
        );
        let acme = BusinessDetails::new("ACME").unwrap();
        let err = acme.clone().with_tax_number("12/345<script>").unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "tax_number"
            }
        );
        let err = acme.with_buyer_reference(&"r".repeat(201)).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "buyer_reference"
            }
        );
    }
}
