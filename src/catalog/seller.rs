//! The seller's legal data, as invoices must state it: name, address, tax ids, contact, bank.

use std::fmt;

use crate::customers::{Country, ElectronicAddress, Phone, VatId, norwegian_org_number, swiss_uid};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::text;

/// A postal address of the seller: one or two street lines, post code, city and country.
/// (Customers' addresses are [`Address`](crate::Address), which are personal data.)
///
/// ```
/// use shopkeep::catalog::PostalAddress;
/// use shopkeep::customers::Country;
///
/// let address = PostalAddress::new("Hauptstr. 1", "10115", "Berlin", Country::parse("DE")?)?
///     .line2("Hinterhaus")?;
/// assert_eq!(address.city(), "Berlin");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
/// use shopkeep::catalog::Iban;
///
/// let iban = Iban::parse("de89 3704 0044 0532 0130 00")?;
/// assert_eq!(iban.as_str(), "DE89370400440532013000");
/// assert_eq!(iban.to_string(), "DE89 3704 0044 0532 0130 00");
/// assert!(Iban::parse("DE89370400440532013001").is_err()); // one digit off
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

#[cfg(feature = "serde")]
impl serde::Serialize for Iban {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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
/// use shopkeep::catalog::Bic;
///
/// assert_eq!(Bic::parse("cobadeffxxx")?.as_str(), "COBADEFFXXX");
/// assert!(Bic::parse("COBADE").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

#[cfg(feature = "serde")]
impl serde::Serialize for Bic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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

/// A seller identifier (EN 16931 BT-29) with its scheme, an ISO/IEC 6523 ICD code: `0183` for
/// a Swiss UID, `0192` for a Norwegian organisation number, `0088` for a GS1 Global Location
/// Number, and so on. UBL states it as `cac:PartyIdentification/cbc:ID` with `schemeID`.
///
/// The scheme must be a code of the ICD list EN 16931 checks against (0002 to 0248, rule
/// BR-CL-10). For `0183`, `0192` and `0088` the number's check digit is verified and it is kept
/// compact; other schemes' values are kept as given.
///
/// ```
/// use shopkeep::catalog::SellerIdentifier;
///
/// let uid = SellerIdentifier::new("0183", "CHE-123.456.788")?;
/// assert_eq!((uid.scheme(), uid.value()), ("0183", "CHE123456788"));
/// let org = SellerIdentifier::new("0192", "923 609 016")?;
/// assert_eq!(org.value(), "923609016");
/// assert!(SellerIdentifier::new("0192", "923609017").is_err()); // wrong check digit
/// assert!(SellerIdentifier::new("9999", "42").is_err()); // not an ICD code
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SellerIdentifier {
    scheme: String,
    value: String,
}

impl SellerIdentifier {
    /// An identifier `value` in the ICD `scheme`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `seller_identifier`) if the scheme is not an ICD code
    /// EN 16931 accepts; if the value is empty, over 100 characters or holds control
    /// characters; or if a Swiss UID (`0183`: `CHE` and nine digits), Norwegian organisation
    /// number (`0192`: nine digits) or GLN (`0088`: thirteen digits) is malformed or its check
    /// digit does not match.
    pub fn new(scheme: &str, value: &str) -> Result<SellerIdentifier> {
        let invalid = |why: &str| Error::validation("seller_identifier", why.to_owned());
        let scheme = scheme.trim();
        if !is_icd(scheme) {
            return Err(invalid(
                "the scheme is an ISO/IEC 6523 ICD code from 0002 to 0248, such as 0183 (Swiss \
                 UID), 0192 (Norwegian organisation number) or 0088 (GLN)",
            ));
        }
        let value = text::required("seller_identifier", value, 100)?;
        let checked = match scheme {
            "0183" => swiss_uid(&value).ok_or_else(|| {
                invalid(
                    "a Swiss UID is CHE and nine digits, the last a check digit that must match",
                )
            })?,
            "0192" => norwegian_org_number(&value).ok_or_else(|| {
                invalid(
                    "a Norwegian organisation number is nine digits, the last a check digit \
                     that must match",
                )
            })?,
            "0088" => gln(&value).ok_or_else(|| {
                invalid("a GLN is thirteen digits, the last a check digit that must match")
            })?,
            _ => value,
        };
        Ok(SellerIdentifier {
            scheme: scheme.to_owned(),
            value: checked,
        })
    }

    /// The ICD scheme code (BT-29-1).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The identifier (BT-29).
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Whether `scheme` is on the ISO/IEC 6523 ICD list of EN 16931's code lists (1.3.16, rule
/// BR-CL-10): 0002 to 0248, less the codes never assigned.
fn is_icd(scheme: &str) -> bool {
    scheme.len() == 4
        && scheme.bytes().all(|b| b.is_ascii_digit())
        && scheme
            .parse::<u16>()
            .is_ok_and(|n| (2..=248).contains(&n) && ![92, 103, 181, 182].contains(&n))
}

/// A GS1 Global Location Number (thirteen digits; spaces optional), if its GS1 check digit
/// matches: the digits before it weighted 1, 3, 1, 3, ... from the left.
fn gln(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    let digits: Vec<u32> = compact
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    let [body @ .., check] = digits.as_slice() else {
        return None;
    };
    if body.len() != 12 {
        return None;
    }
    let sum: u32 = body
        .iter()
        .zip([1, 3].into_iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    ((10 - sum % 10) % 10 == *check).then_some(compact)
}

/// Why a seller that cannot be identified is refused: EN 16931 rule BR-CO-26.
const NOT_IDENTIFIED: &str = "the seller needs a VAT id, a legal registration id or a seller \
     identifier (EN 16931 BR-CO-26); a tax number alone does not identify a seller";

/// The seller: the legal entity that issues the shop's invoices.
///
/// E-invoices identify the seller by a seller identifier (BT-29,
/// [`identifier`](Seller::identifier)), a legal registration id (BT-30,
/// [`registration`](Seller::registration)) or a VAT id (BT-31, [`vat_id`](Seller::vat_id)):
/// one of these is required (BR-CO-26), and a tax number (BT-32) does not count. Invoices of
/// taxed sales need a VAT id or a tax number as well (BR-S-02). [`ShopSettings`] checks both
/// when it is built.
///
/// [`ShopSettings`]: crate::ShopSettings
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Seller {
    legal_name: String,
    address: PostalAddress,
    contact: Contact,
    identifier: Option<SellerIdentifier>,
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
            identifier: None,
            vat_id: None,
            tax_number: None,
            registration: None,
            bank_account: None,
            electronic_address: None,
        })
    }

    /// Sets the seller identifier (BT-29).
    #[must_use]
    pub fn identifier(mut self, identifier: SellerIdentifier) -> Seller {
        self.identifier = Some(identifier);
        self
    }

    /// Sets the VAT id (BT-31).
    #[must_use]
    pub fn vat_id(mut self, vat_id: VatId) -> Seller {
        self.vat_id = Some(vat_id);
        self
    }

    /// Sets the national tax number (BT-32; DE: Steuernummer).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `tax_number`) if it is empty, over 32 characters or holds
    /// control characters.
    pub fn tax_number(mut self, number: &str) -> Result<Seller> {
        self.tax_number = Some(text::required("tax_number", number, 32)?);
        Ok(self)
    }

    /// Sets the legal registration id (BT-30), such as the commercial register entry
    /// (`HRB 12345, Amtsgericht Berlin`).
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

    /// The seller identifier (BT-29), if any.
    pub fn identifier_code(&self) -> Option<&SellerIdentifier> {
        self.identifier.as_ref()
    }

    /// The VAT id, if any.
    pub fn vat_id_number(&self) -> Option<&VatId> {
        self.vat_id.as_ref()
    }

    /// Whether e-invoices can identify the seller (BR-CO-26): it has a seller identifier, a
    /// legal registration id or a VAT id. A tax number alone does not identify a seller.
    pub fn is_identified(&self) -> bool {
        self.identifier.is_some() || self.registration.is_some() || self.vat_id.is_some()
    }

    /// The `Validation` error for `field` that names BR-CO-26, unless the seller
    /// [is identified](Seller::is_identified).
    pub(crate) fn check_identified(&self, field: &'static str) -> Result<()> {
        if self.is_identified() {
            Ok(())
        } else {
            Err(Error::validation(field, NOT_IDENTIFIED))
        }
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
    fn seller_identifiers_have_an_icd_scheme_and_their_check_digits() {
        for (scheme, value, kept) in [
            ("0183", "CHE-116.281.710", "CHE116281710"),
            ("0192", "974 760 673", "974760673"),
            ("0088", "4000001000005", "4000001000005"),
            ("0060", "123456789", "123456789"),
            (" 0002 ", "ABC-1", "ABC-1"),
            ("0248", "x", "x"),
        ] {
            let id = SellerIdentifier::new(scheme, value).unwrap();
            assert_eq!((id.scheme(), id.value()), (scheme.trim(), kept));
        }
        for (scheme, value) in [
            // Not ICD codes EN 16931 knows.
            ("0001", "1"),
            ("0092", "1"),
            ("0181", "1"),
            ("0249", "1"),
            ("SEPA", "DE98ZZZ09999999999"),
            ("88", "4000001000005"),
            ("", "1"),
            // Values: empty, control characters, too long.
            ("0060", " "),
            ("0060", "12\n34"),
            ("0060", &"1".repeat(101)),
            // Check digits and shapes of the schemes that have them.
            ("0183", "CHE-116.281.711"),
            ("0183", "116281710"),
            ("0192", "974760674"),
            ("0192", "97476067"),
            ("0088", "4000001000006"),
            ("0088", "400000100000"),
        ] {
            let err = SellerIdentifier::new(scheme, value).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "seller_identifier"
                },
                "{scheme} {value}"
            );
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
