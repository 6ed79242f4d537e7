//! Invoices as one printable HTML page.

use super::templates::{HTML, InvoiceTemplates};
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;

/// Renders `document` as one self-contained HTML page (inline CSS, no external resources) that
/// prints cleanly on A4; every value is HTML-escaped.
///
/// ```
/// # use shopkeep::{Currency, Email, Money};
/// # use shopkeep::catalog::{Contact, PostalAddress, Seller};
/// # use shopkeep::customers::{Address, Country, Phone, VatId};
/// # use shopkeep::invoices::{Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument};
/// # use shopkeep::money::TaxRate;
/// # use shopkeep::orders::{PriceMode, PricedLine, VatCategory, VatTreatment};
/// use shopkeep::invoices::{InvoiceTemplates, to_html};
/// # let de = Country::parse("DE")?;
/// # let seller = Seller::new(
/// #     "Beispiel GmbH",
/// #     PostalAddress::new("Hauptstraße 1", "10115", "Berlin", de)?,
/// #     Contact::new("Erika Mustermann", Phone::parse("+49 30 1234567")?, Email::parse("shop@example.com")?)?,
/// # )?
/// # .vat_id(VatId::parse("DE123456789")?);
/// # let vat = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// # let mug = PricedLine::new(Money::parse("12.90", Currency::EUR)?, 2, vat)?;
/// let buyer = InvoiceBuyer::consumer(Address::new("Max <b>Muster</b>", "Marktplatz 5", "München", de)?);
/// # let document = InvoiceDocument::builder(
/// #     DocumentKind::Invoice, "INV-2026-000001", Date::new(2026, 3, 1)?, Currency::EUR,
/// #     PriceMode::TaxExclusive, seller, buyer,
/// # )
/// # .line(DocumentLine::new("1", "Mug", mug)?)
/// # .build()?;
/// let html = to_html(&document, &InvoiceTemplates::builtin())?;
/// assert!(html.contains("Max &lt;b&gt;Muster&lt;&#x2f;b&gt;"));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A `Validation` error (field `template`) if a host template fails.
pub fn to_html(document: &InvoiceDocument, templates: &InvoiceTemplates) -> Result<String> {
    templates.render(HTML, document)
}
