//! The templates invoices are rendered with as plain text and HTML.

use std::fmt;

use minijinja::Environment;

use super::view::InvoiceView;
use crate::error::Result;
use crate::invoices::model::InvoiceDocument;
use crate::orders::confirmation::{environment, template_error};

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
/// use shopkeep::InvoiceTemplates;
///
/// let templates = InvoiceTemplates::builtin()
///     .with_text("{{ title }} {{ number }}: {{ amount_due }}")?;
/// assert!(InvoiceTemplates::builtin().with_html("{% for %}").is_err()); // refused at once
/// # let _ = templates;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InvoiceTemplates {
    env: Environment<'static>,
}

impl InvoiceTemplates {
    /// shopkeep's own templates.
    pub fn builtin() -> Self {
        let mut templates = InvoiceTemplates { env: environment() };
        // The built-in sources are tested; a failure here would be a bug in this file.
        let _ = templates.set(TEXT, include_str!("../templates/invoice.txt"));
        let _ = templates.set(HTML, include_str!("../templates/invoice.html"));
        templates
    }

    /// Replaces the plain-text template.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_text(mut self, source: &str) -> Result<Self> {
        self.set(TEXT, source)?;
        Ok(self)
    }

    /// Replaces the HTML template (values are HTML-escaped automatically).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile.
    pub fn with_html(mut self, source: &str) -> Result<Self> {
        self.set(HTML, source)?;
        Ok(self)
    }

    fn set(&mut self, name: &'static str, source: &str) -> Result<()> {
        self.env
            .add_template_owned(name, source.to_owned())
            .map_err(template_error)
    }

    pub(super) fn render(&self, name: &str, document: &InvoiceDocument) -> Result<String> {
        let view = InvoiceView::of(document);
        self.env
            .get_template(name)
            .and_then(|t| t.render(&view))
            .map_err(template_error)
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
