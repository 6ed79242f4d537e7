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
//! storage) is the repository's job, not this module's.

mod model;
mod render;

pub use model::{
    Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument, InvoiceDocumentBuilder,
    VatAccounting,
};
#[cfg(feature = "pdf")]
pub use render::to_pdf;
pub use render::{InvoiceTemplates, Profile, to_html, to_text, to_ubl};
