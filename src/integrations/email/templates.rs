//! The templates messages are written with: subjects and bodies, shopkeep's own or a host's.

use std::fmt;

use serde::Serialize;

use super::message::MessageKind;
use crate::error::{Error, Result};
use crate::invoices::InvoiceTemplates;
use crate::orders::Templates;
use crate::templates::TemplateSet;

/// The template names of one kind of message: subject, plain text, HTML. `None` where the
/// body comes from elsewhere (the order confirmation's and the invoice's own templates) or
/// from the host (marketing).
struct Names {
    subject: Option<&'static str>,
    text: Option<&'static str>,
    html: Option<&'static str>,
}

fn names(kind: MessageKind) -> Names {
    let own = |subject, text, html| Names {
        subject: Some(subject),
        text: Some(text),
        html: Some(html),
    };
    let subject_only = |subject| Names {
        subject: Some(subject),
        text: None,
        html: None,
    };
    match kind {
        MessageKind::PasswordReset => own(
            "password_reset.subject",
            "password_reset.txt",
            "password_reset.html",
        ),
        MessageKind::ConsentConfirmation => own(
            "consent_confirmation.subject",
            "consent_confirmation.txt",
            "consent_confirmation.html",
        ),
        MessageKind::ShippingNotice => own(
            "shipping_notice.subject",
            "shipping_notice.txt",
            "shipping_notice.html",
        ),
        MessageKind::OrderConfirmation => subject_only("order_confirmation.subject"),
        MessageKind::Invoice => subject_only("invoice.subject"),
        MessageKind::Marketing => Names {
            subject: None,
            text: None,
            html: None,
        },
    }
}

/// shopkeep's own sources, by template name.
const BUILTIN: &[(&str, &str)] = &[
    (
        "password_reset.subject",
        include_str!("templates/password_reset.subject"),
    ),
    (
        "password_reset.txt",
        include_str!("templates/password_reset.txt"),
    ),
    (
        "password_reset.html",
        include_str!("templates/password_reset.html"),
    ),
    (
        "consent_confirmation.subject",
        include_str!("templates/consent_confirmation.subject"),
    ),
    (
        "consent_confirmation.txt",
        include_str!("templates/consent_confirmation.txt"),
    ),
    (
        "consent_confirmation.html",
        include_str!("templates/consent_confirmation.html"),
    ),
    (
        "shipping_notice.subject",
        include_str!("templates/shipping_notice.subject"),
    ),
    (
        "shipping_notice.txt",
        include_str!("templates/shipping_notice.txt"),
    ),
    (
        "shipping_notice.html",
        include_str!("templates/shipping_notice.html"),
    ),
    (
        "order_confirmation.subject",
        include_str!("templates/order_confirmation.subject"),
    ),
    ("invoice.subject", include_str!("templates/invoice.subject")),
];

/// The templates transactional messages are written with, each replaceable by the host like
/// the order confirmation's (and compiled when given, so a broken one is refused at once).
///
/// Each kind has a subject template; password reset, double opt-in and shipping notice have
/// their own text and HTML bodies (`src/integrations/email/templates/`); the order
/// confirmation's and the invoice's bodies are the documents themselves, rendered with
/// [`Templates`] and [`InvoiceTemplates`], which this holds too. HTML templates escape every
/// value; subjects are plain text, and their line breaks become spaces. The values each
/// template sees are listed in the [integrations guide](crate::guide::integrations).
///
/// ```
/// use shopkeep::integrations::email::{EmailTemplates, MessageKind};
///
/// let templates = EmailTemplates::builtin()
///     .with_subject(MessageKind::PasswordReset, "{{ shop }}: your new password")?
///     .with_text(MessageKind::PasswordReset, "Open {{ link }} within {{ valid_minutes }} minutes.")?;
/// assert!(EmailTemplates::builtin().with_html(MessageKind::ShippingNotice, "{% if %}").is_err());
/// # let _ = templates;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EmailTemplates {
    own: TemplateSet,
    order: Templates,
    invoice: InvoiceTemplates,
}

impl EmailTemplates {
    /// shopkeep's own templates.
    pub fn builtin() -> EmailTemplates {
        let mut own = TemplateSet::builtin(
            (
                "password_reset.txt",
                include_str!("templates/password_reset.txt"),
            ),
            (
                "password_reset.html",
                include_str!("templates/password_reset.html"),
            ),
        );
        for (name, source) in BUILTIN {
            // The built-in sources are tested; a failure here would be a bug in shopkeep.
            let _ = own.set(name, source);
        }
        EmailTemplates {
            own,
            order: Templates::builtin(),
            invoice: InvoiceTemplates::builtin(),
        }
    }

    /// Replaces the subject template of `kind`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile, or for
    /// [`MessageKind::Marketing`], whose subject the host writes.
    pub fn with_subject(mut self, kind: MessageKind, source: &str) -> Result<EmailTemplates> {
        let name = names(kind)
            .subject
            .ok_or_else(|| not_templated(kind, "subject"))?;
        self.own.set(name, source)?;
        Ok(self)
    }

    /// Replaces the plain-text body template of `kind`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if the source does not compile, or for a kind
    /// whose body is not one of these templates (order confirmation and invoice: use
    /// [`with_order_confirmation`](Self::with_order_confirmation) and
    /// [`with_invoice`](Self::with_invoice); marketing: the host writes it).
    pub fn with_text(mut self, kind: MessageKind, source: &str) -> Result<EmailTemplates> {
        let name = names(kind)
            .text
            .ok_or_else(|| not_templated(kind, "body"))?;
        self.own.set(name, source)?;
        Ok(self)
    }

    /// Replaces the HTML body template of `kind` (values are HTML-escaped automatically).
    ///
    /// # Errors
    ///
    /// As [`with_text`](Self::with_text).
    pub fn with_html(mut self, kind: MessageKind, source: &str) -> Result<EmailTemplates> {
        let name = names(kind)
            .html
            .ok_or_else(|| not_templated(kind, "body"))?;
        self.own.set(name, source)?;
        Ok(self)
    }

    /// The order confirmation's bodies come from `templates`.
    #[must_use]
    pub fn with_order_confirmation(mut self, templates: Templates) -> EmailTemplates {
        self.order = templates;
        self
    }

    /// The invoice message's bodies (the invoice as text and HTML) come from `templates`.
    #[must_use]
    pub fn with_invoice(mut self, templates: InvoiceTemplates) -> EmailTemplates {
        self.invoice = templates;
        self
    }

    pub(crate) fn order_templates(&self) -> &Templates {
        &self.order
    }

    pub(crate) fn invoice_templates(&self) -> &InvoiceTemplates {
        &self.invoice
    }

    /// The subject of `kind` with `values`.
    pub(crate) fn subject(&self, kind: MessageKind, values: &impl Serialize) -> Result<String> {
        let name = names(kind)
            .subject
            .ok_or_else(|| not_templated(kind, "subject"))?;
        self.own.render(name, values)
    }

    /// The text and HTML bodies of `kind` with `values`.
    pub(crate) fn bodies(
        &self,
        kind: MessageKind,
        values: &impl Serialize,
    ) -> Result<(String, String)> {
        let names = names(kind);
        let (Some(text), Some(html)) = (names.text, names.html) else {
            return Err(not_templated(kind, "body"));
        };
        Ok((
            self.own.render(text, values)?,
            self.own.render(html, values)?,
        ))
    }
}

impl Default for EmailTemplates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl fmt::Debug for EmailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailTemplates")
    }
}

fn not_templated(kind: MessageKind, part: &str) -> Error {
    Error::validation(
        "template",
        format!(
            "the {part} of a {} message is not one of the email templates",
            kind.as_str()
        ),
    )
}
