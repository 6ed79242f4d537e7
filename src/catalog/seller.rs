//! The seller's legal data, as invoices must state it: name, address, tax ids, contact, bank.

use std::fmt;

use crate::customers::{Country, ElectronicAddress, Phone, VatId};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::text;

/// A postal address of the seller: one or two street lines, post code, city and country.
/// (Customers' addresses are [`Address`](crate::Address), which are personal data.)
///
/// ```
/// use shopkeep::{Country, PostalAddress};
///
/// let address = PostalAddress::new("Hauptstr. 1", "10115", "Berlin", Country::parse("DE")?)?
///     .line2("Hinterhaus")?;
/// assert_eq!(address.city(), "Berlin");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    line1: String,
    line2: Option<String>,
    post_code: String,
    city: String,
    country: Country,
}

impl PostalAddress {
    /// An address. XRechnung requires the post code, so it is not optional here.
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the field (`address_line`, `post_code`, `city`) that is
    /// empty, too long (100 characters, 16 for the post code) or holds control characters.
    pub fn new(
        line1: &str,
        post_code: &str,
        city: &str,
        country: Country,
    ) -> Result<PostalAddress> {
        Ok(PostalAddress {
            line1: text::required("address_line", line1, 100)?,
            line2: None,
            post_code: text::required("post_code", post_code, 16)?,
            city: text::required("city", city, 100)?,
            country,
        })
    }

    /// Adds a second street line.
    ///
    /// # Errors
    ///
    /// As [`PostalAddress::new`], for field `address_line`.
    pub fn line2(mut self, line: &str) -> Result<PostalAddress> {
        self.line2 = Some(text::required("address_line", line, 100)?);
        Ok(self)
    }

    /// The first street line.
    pub fn line1(&self) -> &str {
        &self.line1
    }

    /// The second street line, if any.
    pub fn second_line(&self) -> Option<&str> {
        self.line2.as_deref()
    }

    /// The post code.
    pub fn post_code(&self) -> &str {
        &self.post_code
    }

    /// The city.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// The country.
    pub fn country(&self) -> Country {
        self.country
    }
}

/// The seller's contact person, as XRechnung requires (BR-DE-5, -6, -7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    name: String,
    phone: Phone,
    email: Email,
}

impl Contact {
    /// A contact: name, telephone number and email.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `contact_name`) if the name is empty, over 100 characters
    /// or holds control characters.
    pub fn new(name: &str, phone: Phone, email: Email) -> Result<Contact> {
        Ok(Contact {
            name: text::required("contact_name", name, 100)?,
            phone,
            email,
        })
    }

    /// The contact person's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The telephone number.
    pub fn phone(&self) -> &Phone {
        &self.phone
    }

    /// The email address.
    pub fn email(&self) -> &Email {
        &self.email
    }
}

/// An International Bank Account Number, checked by its ISO 13616 check digits (mod 97).
///
/// Spaces are ignored and letters upper-cased; [`as_str`](Iban::as_str) gives the compact
/// electronic form and `Display` the grouped print form.
///
/// ```
/// use shopkeep::Iban;
///
/// let iban = Iban::parse("de89 3704 0044 0532 0130 00")?;
/// assert_eq!(iban.as_str(), "DE89370400440532013000");
/// assert_eq!(iban.to_string(), "DE89 3704 0044 0532 0130 00");
/// assert!(Iban::parse("DE89370400440532013001").is_err()); // one digit off
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    /// Parses and checks an IBAN.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `iban`) if it is not 15 to 34 letters and digits starting
    /// with a country code and two check digits, or if the check digits do not match.
    pub fn parse(text: &str) -> Result<Iban> {
        let compact: String = text
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = compact.as_bytes();
        let shape = (15..=34).contains(&b.len())
            && b.iter().take(2).all(u8::is_ascii_uppercase)
            && b.iter().skip(2).take(2).all(u8::is_ascii_digit)
            && b.iter().all(u8::is_ascii_alphanumeric);
        if !shape {
            return Err(Error::validation(
                "iban",
                "an IBAN is a country code, two check digits and up to 30 letters or digits",
            ));
        }
        // ISO 13616: move the first four characters to the end, read letters as 10..35, and
        // the whole number must leave 1 modulo 97.
        let remainder = b
            .iter()
            .skip(4)
            .chain(b.iter().take(4))
            .fold(0_u32, |acc, &c| {
                let value = if c.is_ascii_digit() {
                    u32::from(c - b'0')
                } else {
                    u32::from(c - b'A') + 10
                };
                let shift = if value >= 10 { 100 } else { 10 };
                (acc * shift + value) % 97
            });
        if remainder != 1 {
            return Err(Error::validation(
                "iban",
                "the IBAN's check digits do not match: a typing error?",
            ));
        }
        Ok(Iban(compact))
    }

    /// The compact electronic form (`DE89370400440532013000`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The print form, in groups of four.
impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.0)
    }
}

/// A Business Identifier Code (SWIFT, ISO 9362): 8 or 11 characters.
///
/// ```
/// use shopkeep::Bic;
///
/// assert_eq!(Bic::parse("cobadeffxxx")?.as_str(), "COBADEFFXXX");
/// assert!(Bic::parse("COBADE").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl Bic {
    /// Parses a BIC; letters are upper-cased.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `bic`) unless it is four letters (bank), two letters
    /// (country), two letters or digits (location) and optionally three more (branch).
    pub fn parse(text: &str) -> Result<Bic> {
        let bic = text.trim().to_ascii_uppercase();
        let b = bic.as_bytes();
        let shape = matches!(b.len(), 8 | 11)
            && b.iter().take(6).all(u8::is_ascii_uppercase)
            && b.iter().skip(6).all(u8::is_ascii_alphanumeric);
        if !shape {
            return Err(Error::validation(
                "bic",
                "a BIC has 8 or 11 characters: bank, country, location and optional branch",
            ));
        }
        Ok(Bic(bic))
    }

    /// The BIC in upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bank account customers pay into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    iban: Iban,
    bic: Option<Bic>,
}

impl BankAccount {
    /// An account by IBAN (a BIC is optional within SEPA).
    pub fn new(iban: Iban) -> BankAccount {
        BankAccount { iban, bic: None }
    }

    /// Adds the BIC.
    #[must_use]
    pub fn bic(mut self, bic: Bic) -> BankAccount {
        self.bic = Some(bic);
        self
    }

    /// The IBAN.
    pub fn iban(&self) -> &Iban {
        &self.iban
    }

    /// The BIC, if given.
    pub fn bic_code(&self) -> Option<&Bic> {
        self.bic.as_ref()
    }
}

/// The seller: the legal entity that issues the shop's invoices.
///
/// A seller needs a VAT id or a national tax number (or both); [`ShopSettings`] checks that
/// when it is built.
///
/// [`ShopSettings`]: crate::ShopSettings
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    legal_name: String,
    address: PostalAddress,
    contact: Contact,
    vat_id: Option<VatId>,
    tax_number: Option<String>,
    registration: Option<String>,
    bank_account: Option<BankAccount>,
    electronic_address: Option<ElectronicAddress>,
}

impl Seller {
    /// A seller with its legal name, address and contact.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `legal_name`) if the name is empty, over 200 characters or
    /// holds control characters.
    pub fn new(legal_name: &str, address: PostalAddress, contact: Contact) -> Result<Seller> {
        Ok(Seller {
            legal_name: text::required("legal_name", legal_name, 200)?,
            address,
            contact,
            vat_id: None,
            tax_number: None,
            registration: None,
            bank_account: None,
            electronic_address: None,
        })
    }

    /// Sets the VAT id.
    #[must_use]
    pub fn vat_id(mut self, vat_id: VatId) -> Seller {
        self.vat_id = Some(vat_id);
        self
    }

    /// Sets the national tax number (DE: Steuernummer).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `tax_number`) if it is empty, over 32 characters or holds
    /// control characters.
    pub fn tax_number(mut self, number: &str) -> Result<Seller> {
        self.tax_number = Some(text::required("tax_number", number, 32)?);
        Ok(self)
    }

    /// Sets the commercial register entry (`HRB 12345, Amtsgericht Berlin`).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `registration`) if it is empty, over 200 characters or
    /// holds control characters.
    pub fn registration(mut self, registration: &str) -> Result<Seller> {
        self.registration = Some(text::required("registration", registration, 200)?);
        Ok(self)
    }

    /// Sets the bank account customers pay into.
    #[must_use]
    pub fn bank_account(mut self, account: BankAccount) -> Seller {
        self.bank_account = Some(account);
        self
    }

    /// The legal name.
    pub fn legal_name(&self) -> &str {
        &self.legal_name
    }

    /// The address.
    pub fn address(&self) -> &PostalAddress {
        &self.address
    }

    /// The contact person.
    pub fn contact(&self) -> &Contact {
        &self.contact
    }

    /// The VAT id, if any.
    pub fn vat_id_number(&self) -> Option<&VatId> {
        self.vat_id.as_ref()
    }

    /// The national tax number, if any.
    pub fn tax_number_text(&self) -> Option<&str> {
        self.tax_number.as_deref()
    }

    /// The commercial register entry, if any.
    pub fn registration_text(&self) -> Option<&str> {
        self.registration.as_deref()
    }

    /// The bank account, if any.
    pub fn bank(&self) -> Option<&BankAccount> {
        self.bank_account.as_ref()
    }

    /// Sets the seller's electronic address (EN 16931 BT-34), e.g. scheme `EM` with an email
    /// address, which XRechnung requires.
    #[must_use]
    pub fn electronic_address(mut self, address: ElectronicAddress) -> Seller {
        self.electronic_address = Some(address);
        self
    }

    /// The seller's electronic address (BT-34), if set.
    pub fn endpoint(&self) -> Option<&ElectronicAddress> {
        self.electronic_address.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        for good in [
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "CH9300762011623852957",
            "AT611904300234573201",
            "NL91ABNA0417164300",
            "XK051212012345678906",
        ] {
            Iban::parse(good).unwrap();
        }
        for bad in [
            "DE89370400440532013001",
            "DE88370400440532013000",
            "GB82WEST12345698765433",
            "DE89",
            "8989370400440532013000",
            "DE89-3704-0044-0532-0130-00",
            "",
        ] {
            let err = Iban::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation { field: "iban" }, "{bad}");
        }
    }

    #[test]
    fn bics_have_their_shape() {
        Bic::parse("DEUTDEFF").unwrap();
        Bic::parse("DEUTDEFF500").unwrap();
        for bad in ["DEUTDEF", "DEUTDEFF5", "1EUTDEFF", "DEUT-DEFF"] {
            let err = Bic::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation { field: "bic" }, "{bad}");
        }
    }
}
