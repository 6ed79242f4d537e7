//! The messages shopkeep writes: transactional ones from its renderers and templates, and
//! marketing ones around the host's content with the one-click unsubscribe headers.

use std::fmt;

use serde::Serialize;

use super::links::{LinkBase, UnsubscribeLinks};
use super::message::{
    Attachment, AttachmentBody, Draft, Ids, Message, MessageKind, Recipient, Sender, header_text,
    safe_filename,
};
use super::one_click::ONE_CLICK_BODY;
use super::templates::EmailTemplates;
use crate::catalog::ShopSettings;
use crate::clock::Timestamp;
use crate::customers::{ConsentToken, ResetToken, UnsubscribeToken};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::invoices::{Invoice, Profile, to_html, to_text};
use crate::orders::{Confirmation, Order, Shipment};

/// How long a reset link works, as the message states it (the token's lifetime).
const RESET_VALID_MINUTES: u32 = 60;
/// How long a double opt-in link works, as the message states it.
const CONFIRMATION_VALID_HOURS: u32 = 72;

/// Writes a shop's messages, each an RFC 5322 [`Message`] the host sends.
///
/// A composer holds the [`Sender`], the `Date` its messages carry (take it from the store's
/// clock, [`Store::now`](crate::Store::now), when a batch is written) and the
/// [`EmailTemplates`]. Writing a message queries nothing: pass what it shows (the order, the
/// invoice, the token the store issued). Every method fails with `Crypto` if the operating
/// system's random source fails (the Message-ID and MIME boundaries are random, unless
/// [`deterministic`](Self::deterministic)).
///
/// ```
/// use shopkeep::{Email, KeyRing, Store};
/// use shopkeep::integrations::email::{Composer, LinkBase, MessageKind, Recipient, Sender};
///
/// let store = Store::open_in_memory(KeyRing::generate()?)?;
/// let sender = Sender::new("Beispiel Shop", Email::parse("shop@example.com")?)?;
/// let composer = Composer::new(sender, store.now());
/// # let token = shopkeep::customers::ResetToken::new("shr_example");
/// // `token` from `store.request_password_reset(&email)?`
/// let message = composer.password_reset(
///     &Recipient::new(Email::parse("ana@example.com")?).name("Ana"),
///     &token,
///     &LinkBase::parse("https://shop.example/reset")?,
/// )?;
/// assert_eq!(message.kind(), MessageKind::PasswordReset);
/// let text = String::from_utf8_lossy(message.as_bytes());
/// assert!(text.contains("https://shop.example/reset?token=shr_example"));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Composer {
    sender: Sender,
    date: Timestamp,
    templates: EmailTemplates,
    ids: Ids,
}

impl Composer {
    /// A composer writing as `sender`, dating its messages `date`, with the built-in templates.
    pub fn new(sender: Sender, date: Timestamp) -> Composer {
        Composer {
            sender,
            date,
            templates: EmailTemplates::builtin(),
            ids: Ids::Random,
        }
    }

    /// Writes with `templates` instead of the built-in ones.
    #[must_use]
    pub fn templates(mut self, templates: EmailTemplates) -> Composer {
        self.templates = templates;
        self
    }

    /// Derives MIME boundaries and Message-IDs from `seed` instead of drawing them at random,
    /// so that the same inputs give the same bytes: for tests and snapshots. Real mail keeps
    /// the random ones (two messages of one kind from one seeded composer share a Message-ID).
    #[must_use]
    pub fn deterministic(mut self, seed: u64) -> Composer {
        self.ids = Ids::Seeded(seed);
        self
    }

    /// The order confirmation of `order`, to its buyer: the subject template, and the
    /// confirmation as text and HTML ([`Confirmation`], with the templates of
    /// [`EmailTemplates::with_order_confirmation`]).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails; as
    /// [`Confirmation::for_order`]; a `Validation` error (field `email`) if the stored buyer
    /// address no longer parses.
    pub fn order_confirmation(&self, order: &Order, settings: &ShopSettings) -> Result<Message> {
        let confirmation = Confirmation::for_order(order, settings)?;
        let templates = self.templates.order_templates();
        let subject = self.templates.subject(
            MessageKind::OrderConfirmation,
            &OrderSubject {
                shop: self.sender.name(),
                order_number: confirmation.order_number(),
            },
        )?;
        let to = buyer(order)?;
        self.draft(MessageKind::OrderConfirmation, &to, subject)
            .bodies(
                confirmation.render_text(templates)?,
                confirmation.render_html(templates)?,
            )
            .write()
    }

    /// An invoice or credit note to `to`: the document as text and HTML body (with the
    /// templates of [`EmailTemplates::with_invoice`]), and attached the UBL e-invoice of
    /// `profile` (`application/xml`) and, with feature `pdf`, the PDF (`application/pdf`),
    /// both named after the document number.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails; as
    /// [`Invoice::to_ubl`] (e.g. a document lacking what XRechnung requires) and, with `pdf`,
    /// as [`to_pdf`](crate::invoices::to_pdf).
    pub fn invoice(&self, invoice: &Invoice, to: &Recipient, profile: Profile) -> Result<Message> {
        let document = invoice.document();
        let templates = self.templates.invoice_templates();
        let subject = self.templates.subject(
            MessageKind::Invoice,
            &InvoiceSubject {
                shop: self.sender.name(),
                number: invoice.number(),
                credit_note: invoice.is_credit_note(),
            },
        )?;
        let ubl = Attachment {
            content_type: "application/xml",
            filename: safe_filename(invoice.number(), "xml"),
            body: AttachmentBody::Text(invoice.to_ubl(profile)?),
        };
        #[cfg(feature = "pdf")]
        let attachments = vec![
            Attachment {
                content_type: "application/pdf",
                filename: safe_filename(invoice.number(), "pdf"),
                body: AttachmentBody::Binary(crate::invoices::to_pdf(document)?),
            },
            ubl,
        ];
        #[cfg(not(feature = "pdf"))]
        let attachments = vec![ubl];
        let mut draft = self
            .draft(MessageKind::Invoice, to, subject)
            .bodies(to_text(document, templates)?, to_html(document, templates)?);
        draft.attachments = attachments;
        draft.write()
    }

    /// A password-reset message to `to`, linking to `link` with `token` (from
    /// [`Store::request_password_reset`](crate::Store::request_password_reset)) added.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails.
    pub fn password_reset(
        &self,
        to: &Recipient,
        token: &ResetToken,
        link: &LinkBase,
    ) -> Result<Message> {
        let values = LinkValues {
            shop: self.sender.name(),
            name: to.display_name(),
            link: link.with_token(token.as_str()),
            valid_minutes: Some(RESET_VALID_MINUTES),
            valid_hours: None,
        };
        self.templated(MessageKind::PasswordReset, to, &values)
    }

    /// A double opt-in message to `to`, linking to `link` with `token` (from
    /// [`ConsentRepo::grant`](crate::customers::ConsentRepo::grant) on email) added; the host's
    /// page at `link` redeems it with [`Store::confirm_consent`](crate::Store::confirm_consent).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `template`) if a host template fails.
    pub fn consent_confirmation(
        &self,
        to: &Recipient,
        token: &ConsentToken,
        link: &LinkBase,
    ) -> Result<Message> {
        let values = LinkValues {
            shop: self.sender.name(),
            name: to.display_name(),
            link: link.with_token(token.as_str()),
            valid_minutes: None,
            valid_hours: Some(CONFIRMATION_VALID_HOURS),
        };
        self.templated(MessageKind::ConsentConfirmation, to, &values)
    }

    /// The shipping notice of `order`, to its buyer: what was shipped, where to, and the
    /// carrier and tracking reference of `shipment` (the one given to
    /// [`OrderRepo::ship`](crate::orders::OrderRepo::ship)).
    ///
    /// # Errors
    ///
    /// As [`order_confirmation`](Self::order_confirmation).
    pub fn shipping_notice(
        &self,
        order: &Order,
        shipment: &Shipment,
        settings: &ShopSettings,
    ) -> Result<Message> {
        let confirmation = Confirmation::for_order(order, settings)?;
        let values = ShippingValues {
            shop: self.sender.name(),
            name: &confirmation.customer.name,
            order_number: confirmation.order_number(),
            carrier: shipment.carrier.as_deref(),
            tracking: shipment.tracking.as_deref(),
            lines: confirmation
                .lines
                .iter()
                .map(|l| ShippedLine {
                    sku: &l.sku,
                    name: &l.name,
                    quantity: l.quantity,
                })
                .collect(),
            shipping: &confirmation.shipping,
        };
        self.templated(MessageKind::ShippingNotice, &buyer(order)?, &values)
    }

    /// A marketing message to `to` with the host's `content`, carrying RFC 8058 one-click
    /// unsubscribing: `List-Unsubscribe` with the HTTPS link (and the `mailto:` one, if
    /// given) for `token`, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    ///
    /// `token` is the recipient's own, from
    /// [`ConsentRepo::unsubscribe_token`](crate::customers::ConsentRepo::unsubscribe_token)
    /// (a customer) or [`LeadRepo::unsubscribe_token`](crate::leads::LeadRepo::unsubscribe_token)
    /// (a lead) on [`Channel::Email`](crate::customers::Channel::Email); send marketing only to
    /// recipients whose consent is granted and whose address is not on the
    /// [suppression list](crate::marketing::SuppressionRepo). Mail providers honour the one-click headers only
    /// when a DKIM signature covers both: the host's mail server must sign them.
    ///
    /// # Errors
    ///
    /// `Crypto` if the operating system's random source fails (for the Message-ID and the
    /// MIME boundary), as every method here.
    pub fn marketing(
        &self,
        to: &Recipient,
        content: &MarketingContent,
        token: &UnsubscribeToken,
        links: &UnsubscribeLinks,
    ) -> Result<Message> {
        let mut draft = self
            .draft(MessageKind::Marketing, to, content.subject.clone())
            .bodies(content.text.clone(), content.html.clone());
        draft.extra = vec![
            ("List-Unsubscribe", links.header(token.as_str())),
            ("List-Unsubscribe-Post", ONE_CLICK_BODY.to_owned()),
        ];
        draft.write()
    }

    fn templated(
        &self,
        kind: MessageKind,
        to: &Recipient,
        values: &impl Serialize,
    ) -> Result<Message> {
        let subject = self.templates.subject(kind, values)?;
        let (text, html) = self.templates.bodies(kind, values)?;
        self.draft(kind, to, subject).bodies(text, html).write()
    }

    fn draft<'a>(&'a self, kind: MessageKind, to: &'a Recipient, subject: String) -> Draft<'a> {
        Draft {
            kind,
            sender: &self.sender,
            to,
            subject,
            date: self.date,
            ids: self.ids,
            text: String::new(),
            html: String::new(),
            attachments: Vec::new(),
            extra: Vec::new(),
        }
    }
}

impl fmt::Debug for Composer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Composer")
            .field("sender", &self.sender)
            .field("date", &self.date)
            .finish_non_exhaustive()
    }
}

impl Draft<'_> {
    fn bodies(mut self, text: String, html: String) -> Self {
        self.text = text;
        self.html = html;
        self
    }
}

/// The buyer of an order as recipient.
fn buyer(order: &Order) -> Result<Recipient> {
    let buyer = order.buyer();
    Ok(Recipient::new(Email::parse(buyer.email())?).name(buyer.name()))
}

/// A marketing message's content, as the host (or the campaign templates) rendered it for one
/// recipient: subject, plain text and HTML.
///
/// ```
/// use shopkeep::integrations::email::MarketingContent;
///
/// let spring = MarketingContent::new("Spring sale", "20 % off mugs", "<p>20 % off mugs</p>")?;
/// assert!(MarketingContent::new(" \r\n ", "text", "<p>html</p>").is_err());
/// # let _ = spring;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MarketingContent {
    subject: String,
    text: String,
    html: String,
}

impl MarketingContent {
    /// The content. The subject's line breaks and control characters become spaces.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `subject`) for a subject that is empty (or only
    /// whitespace), or (field `body`) for an empty text or HTML body.
    pub fn new(subject: &str, text: &str, html: &str) -> Result<MarketingContent> {
        let subject = header_text(subject);
        if subject.is_empty() {
            return Err(Error::validation("subject", "subject is required"));
        }
        if text.trim().is_empty() || html.trim().is_empty() {
            return Err(Error::validation(
                "body",
                "a marketing message needs a text and an HTML body",
            ));
        }
        Ok(MarketingContent {
            subject,
            text: text.to_owned(),
            html: html.to_owned(),
        })
    }
}

/// Personalised content: `Debug` shows its size only.
impl fmt::Debug for MarketingContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarketingContent")
            .field("text_len", &self.text.len())
            .field("html_len", &self.html.len())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct OrderSubject<'a> {
    shop: &'a str,
    order_number: &'a str,
}

#[derive(Serialize)]
struct InvoiceSubject<'a> {
    shop: &'a str,
    number: &'a str,
    credit_note: bool,
}

/// What the password-reset and double opt-in templates see.
#[derive(Serialize)]
struct LinkValues<'a> {
    shop: &'a str,
    name: Option<&'a str>,
    link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_hours: Option<u32>,
}

/// What the shipping-notice templates see.
#[derive(Serialize)]
struct ShippingValues<'a> {
    shop: &'a str,
    name: &'a str,
    order_number: &'a str,
    carrier: Option<&'a str>,
    tracking: Option<&'a str>,
    lines: Vec<ShippedLine<'a>>,
    shipping: &'a [String],
}

#[derive(Serialize)]
struct ShippedLine<'a> {
    sku: &'a str,
    name: &'a str,
    quantity: u32,
}
