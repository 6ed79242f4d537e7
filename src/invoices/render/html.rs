//! Invoices as one printable HTML page.

use super::templates::{HTML, InvoiceTemplates};
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;

/// Renders `document` as one self-contained HTML page (inline CSS, no external resources) that
/// prints cleanly on A4; every value is HTML-escaped.
///
/// # Errors
///
/// A `Validation` error (field `template`) if a host template fails.
pub fn to_html(document: &InvoiceDocument, templates: &InvoiceTemplates) -> Result<String> {
    templates.render(HTML, document)
}
