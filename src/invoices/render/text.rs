//! Invoices as aligned plain text, for plain-text email and logs.

use super::templates::{InvoiceTemplates, TEXT};
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;

/// Renders `document` as aligned plain text (78 columns with the built-in template), for a
/// plain-text email or a log. It states everything the HTML and PDF forms state.
///
/// ```
/// # use shopkeep::{Currency, Email, Money};
/// # use shopkeep::catalog::{Contact, PostalAddress, Seller};
/// # use shopkeep::customers::{Address, Country, Phone, VatId};
/// # use shopkeep::invoices::{Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument};
/// # use shopkeep::money::TaxRate;
/// # use shopkeep::orders::{PriceMode, PricedLine, VatCategory, VatTreatment};
/// use shopkeep::invoices::{InvoiceTemplates, to_text};
/// # let de = Country::parse("DE")?;
/// # let seller = Seller::new(
/// #     "Beispiel GmbH",
/// #     PostalAddress::new("Hauptstraße 1", "10115", "Berlin", de)?,
/// #     Contact::new("Erika Mustermann", Phone::parse("+49 30 1234567")?, Email::parse("shop@example.com")?)?,
/// # )?
/// # .vat_id(VatId::parse("DE123456789")?);
/// # let buyer = InvoiceBuyer::consumer(Address::new("Max Muster", "Marktplatz 5", "München", de)?);
/// # let vat = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// # let mug = PricedLine::new(Money::parse("12.90", Currency::EUR)?, 2, vat)?;
/// # let document = InvoiceDocument::builder(
/// #     DocumentKind::Invoice, "INV-2026-000001", Date::new(2026, 3, 1)?, Currency::EUR,
/// #     PriceMode::TaxExclusive, seller, buyer,
/// # )
/// # .line(DocumentLine::new("1", "Mug", mug)?)
/// # .build()?;
/// let text = to_text(&document, &InvoiceTemplates::builtin())?;
/// assert!(text.contains("Invoice INV-2026-000001"));
/// assert!(text.contains("30.70 EUR")); // 2 × 12.90 + 19 % VAT
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A `Validation` error (field `template`) if a host template fails.
pub fn to_text(document: &InvoiceDocument, templates: &InvoiceTemplates) -> Result<String> {
    templates.render(TEXT, document)
}
