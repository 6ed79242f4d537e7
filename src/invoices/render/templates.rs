//! The templates invoices are rendered with as plain text and HTML.

use std::fmt;

use super::view::InvoiceView;
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;
use crate::templates::TemplateSet;

pub(super) const TEXT: &str = "invoice.txt";
pub(super) const HTML: &str = "invoice.html";

/// The templates [`to_text`](crate::to_text) and [`to_html`](crate::to_html) render invoices and credit notes with: shopkeep's
/// own (`src/invoices/templates/`), or a host's replacement for either, compiled when given.
///
/// Templates see one value per field of the document, already formatted (amounts as
/// `12.90 EUR`); `docs/invoicing.md` lists them. A template that names a value that does not
/// exist fails instead of printing nothing, and HTML output escapes every value.
///
/// ```
/// use shopkeep::invoices::InvoiceTemplates;
///
/// let templates = InvoiceTemplates::builtin()
///     .with_text("{{ title }} {{ number }}: {{ amount_due }}")?;
/// assert!(InvoiceTemplates::builtin().with_html("{% for %}").is_err()); // refused at once
/// # let _ = templates;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InvoiceTemplates(TemplateSet);

impl InvoiceTemplates {
    /// shopkeep's own templates.
    pub fn builtin() -> Self {
        InvoiceTemplates(TemplateSet::builtin(
            (TEXT, include_str!("../templates/invoice.txt")),
            (HTML, include_str!("../templates/invoice.html")),
        ))
    }

    /// Replaces the plain-text template.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_text(mut self, source: &str) -> Result<Self> {
        self.0.set(TEXT, source)?;
        Ok(self)
    }

    /// Replaces the HTML template (values are HTML-escaped automatically).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_html(mut self, source: &str) -> Result<Self> {
        self.0.set(HTML, source)?;
        Ok(self)
    }

    pub(super) fn render(&self, name: &str, document: &InvoiceDocument) -> Result<String> {
        self.0.render(name, &InvoiceView::of(document))
    }
}

impl Default for InvoiceTemplates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl fmt::Debug for InvoiceTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvoiceTemplates")
    }
}
