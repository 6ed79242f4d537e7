//! Invoices and credit notes: the document model and its renderers.
//!
//! An [`InvoiceDocument`] is pure data, validated against what EN 16931 requires when it is
//! built. Renderers are pure functions of it; none queries the store:
//!
//! - [`to_ubl`]: a UBL 2.1 `Invoice` or `CreditNote` for the EN 16931 or XRechnung profile;
//! - [`to_text`]: aligned plain text for plain-text email and logs;
//! - [`to_html`]: one self-contained, printable HTML page, every value escaped;
//! - `to_pdf` (feature `pdf`): an A4 PDF with an embedded font, as many pages as the lines need.
//!
//! Text and HTML go through [`InvoiceTemplates`], which a host may replace; the three human
//! forms print the same values, formatted once (amounts as `12.90 EUR`). Issuing (numbers,
//! storage) is the repository's job, not this module's: [`InvoiceRepo`]
//! ([`Store::invoices`](crate::Store::invoices)) issues an [`Invoice`] from an order, with a
//! gapless number, and keeps it unchangeable; refunds and cancellations issue credit notes.
//! The [invoicing guide](crate::guide::invoicing) covers the VAT rules and the validation.
//!
//! ```
//! use shopkeep::Store;
//! use shopkeep::invoices::{InvoiceTemplates, Profile, to_text};
//! use shopkeep::orders::OrderId;
//!
//! # fn demo(store: &Store, order: OrderId) -> Result<(), Box<dyn std::error::Error>> {
//! let invoice = store.invoices(&store.system()).issue(order)?;
//! let e_invoice = invoice.to_ubl(Profile::En16931)?; // UBL 2.1 XML, for the buyer's system
//! let email_body = to_text(invoice.document(), &InvoiceTemplates::builtin())?;
//! # let _ = (e_invoice, email_body);
//! # Ok(()) }
//! ```

mod credit;
mod currencies;
mod invoice;
mod invoice_repo;
mod model;
mod render;
mod repo;
mod spec;

pub use invoice::{Invoice, InvoiceId};
pub use repo::InvoiceRepo;

pub(crate) use credit::{CreditRequest, credit_note, credit_remaining};
pub(crate) use currencies::check_invoiceable;
pub(crate) use invoice_repo::is_invoiced;

/// A customer's invoices and credit notes, oldest first, for their GDPR export: the one way
/// another domain reads invoices (the export calls it inside its own authorised transaction).
///
/// # Errors
///
/// `Crypto` if a buyer snapshot cannot be decrypted; `Storage` for a malformed document.
pub(crate) fn invoices_for_export(
    tx: &crate::store::Tx<'_>,
    store: &crate::store::Store,
    customer: crate::access::CustomerId,
) -> crate::error::Result<Vec<Invoice>> {
    invoice_repo::of_customer(tx, customer)?
        .into_iter()
        .map(|id| invoice_repo::load(tx, store, id))
        .collect()
}

pub use model::{
    Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument, InvoiceDocumentBuilder,
    VatAccounting,
};
#[cfg(feature = "pdf")]
pub use render::to_pdf;
pub use render::{InvoiceTemplates, Profile, to_html, to_text, to_ubl};
