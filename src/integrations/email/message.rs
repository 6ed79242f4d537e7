//! The message type, its sender and recipient, and the MIME assembly through mail-builder.

use std::fmt;

use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address as MailAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date as MailDate;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};

use crate::catalog::ShopSettings;
use crate::clock::Timestamp;
use crate::crypto::secret::random_array;
use crate::email::Email;
use crate::error::Result;
use crate::text;

/// The longest sender display name accepted, in characters.
const MAX_SENDER_NAME: usize = 200;

/// What a message is: transactional (sent because of something the customer did) or marketing
/// (sent only with consent, and carrying the one-click unsubscribe headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// An order confirmation.
    OrderConfirmation,
    /// An invoice or credit note, with its PDF and UBL attached.
    Invoice,
    /// A password-reset link.
    PasswordReset,
    /// A double opt-in confirmation link.
    ConsentConfirmation,
    /// A shipping notice.
    ShippingNotice,
    /// A marketing message (campaign, flow step, newsletter).
    Marketing,
}

impl MessageKind {
    /// The stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::OrderConfirmation => "order_confirmation",
            MessageKind::Invoice => "invoice",
            MessageKind::PasswordReset => "password_reset",
            MessageKind::ConsentConfirmation => "consent_confirmation",
            MessageKind::ShippingNotice => "shipping_notice",
            MessageKind::Marketing => "marketing",
        }
    }

    /// Whether the message is marketing (needs consent; carries `List-Unsubscribe`).
    pub fn is_marketing(self) -> bool {
        self == MessageKind::Marketing
    }

    /// A small distinct number, mixed into seeded ids so two kinds never share one.
    fn ordinal(self) -> u64 {
        match self {
            MessageKind::OrderConfirmation => 1,
            MessageKind::Invoice => 2,
            MessageKind::PasswordReset => 3,
            MessageKind::ConsentConfirmation => 4,
            MessageKind::ShippingNotice => 5,
            MessageKind::Marketing => 6,
        }
    }
}

/// A finished RFC 5322 message: the bytes to hand to a mail server (CRLF line ends, MIME
/// multipart, 7-bit safe headers). The host sends it; shopkeep never does.
///
/// `Debug` shows the kind and size only: the bytes hold addresses, names and links with
/// secret tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    kind: MessageKind,
    bytes: Vec<u8>,
    /// The SMTP envelope: the sender's address (`MAIL FROM`) and the recipients' (`RCPT TO`),
    /// domains in their ASCII form as the headers write them.
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    envelope_from: String,
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    envelope_to: Vec<String>,
}

impl Message {
    /// What the message is.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The message as bytes (headers, blank line, body), e.g. for an SMTP `DATA` command or a
    /// mail provider's "raw message" API.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message as bytes, taken out.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The envelope sender (`MAIL FROM`): the `From` address.
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    pub(crate) fn envelope_from(&self) -> &str {
        &self.envelope_from
    }

    /// The envelope recipients (`RCPT TO`): the `To` address (a message has one today).
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    pub(crate) fn envelope_to(&self) -> &[String] {
        &self.envelope_to
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Who a message is from: the `From` display name and address, and optionally a `Reply-To`.
///
/// ```
/// use shopkeep::Email;
/// use shopkeep::integrations::email::Sender;
///
/// let sender = Sender::new("Beispiel Shop", Email::parse("shop@example.com")?)?
///     .reply_to(Email::parse("help@example.com")?);
/// assert!(Sender::new("Shop\r\nBcc: x@example.com", Email::parse("shop@example.com")?).is_err());
/// # let _ = sender;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Sender {
    name: String,
    from: Email,
    reply_to: Option<Email>,
}

impl Sender {
    /// A sender with display name `name` and address `from`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `sender_name`) for an empty name, one over 200 characters,
    /// or one holding control characters (a line break would start a header of its own).
    pub fn new(name: &str, from: Email) -> Result<Sender> {
        Ok(Sender {
            name: text::required("sender_name", name, MAX_SENDER_NAME)?,
            from,
            reply_to: None,
        })
    }

    /// The shop as sender: the seller's legal name and contact address from the settings.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new) (a stored legal name always passes).
    pub fn from_settings(settings: &ShopSettings) -> Result<Sender> {
        let seller = settings.seller();
        Sender::new(seller.legal_name(), seller.contact().email().clone())
    }

    /// Answers go to `address` instead of the `From` address.
    #[must_use]
    pub fn reply_to(mut self, address: Email) -> Sender {
        self.reply_to = Some(address);
        self
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `From` address.
    pub fn from_address(&self) -> &Email {
        &self.from
    }
}

/// The sender's address may be a person's: `Debug` shows only the name.
impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Who a message goes to: an address and, optionally, a display name.
///
/// The name may be any text (it usually comes from data: a customer's name): line breaks and
/// other control characters become spaces, and anything beyond ASCII is RFC 2047-encoded, so
/// no name can add a header.
///
/// ```
/// use shopkeep::Email;
/// use shopkeep::integrations::email::Recipient;
///
/// let ana = Recipient::new(Email::parse("ana@example.com")?).name("Ana Lima");
/// # let _ = ana;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    email: Email,
    name: Option<String>,
}

impl Recipient {
    /// A recipient without display name.
    pub fn new(email: Email) -> Recipient {
        Recipient { email, name: None }
    }

    /// With display name `name` (made safe as described above; a name that is only whitespace
    /// means none).
    #[must_use]
    pub fn name(mut self, name: &str) -> Recipient {
        let name = header_text(name);
        self.name = (!name.is_empty()).then_some(name);
        self
    }

    /// The address.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The display name, as it will be written.
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Personal data: `Debug` shows neither address nor name.
impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recipient([REDACTED])")
    }
}

/// Text for a header value from data: every run of whitespace and control characters (CR and
/// LF among them) becomes one space, and the ends are trimmed. What remains has no control
/// character, so it cannot end the header line; mail-builder encodes what is not ASCII.
pub(crate) fn header_text(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where MIME boundaries and the Message-ID come from: random for real mail, or derived from a
/// seed so that a test's message is the same bytes every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids {
    Random,
    Seeded(u64),
}

impl Ids {
    /// 128 bits for one message, as 32 hex digits.
    fn unique(self, kind: MessageKind) -> Result<String> {
        Ok(match self {
            Ids::Random => random_array::<16>()?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            Ids::Seeded(seed) => {
                let a = splitmix64(seed ^ kind.ordinal().wrapping_mul(0x9E37_79B9_7F4A_7C15));
                format!("{a:016x}{:016x}", splitmix64(a))
            }
        })
    }
}

/// SplitMix64's output function: spreads a seed over all 64 bits.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A file attached to a message.
pub(crate) struct Attachment {
    pub(crate) content_type: &'static str,
    pub(crate) filename: String,
    pub(crate) body: AttachmentBody,
}

/// Text attachments (XML) keep a charset; binary ones (PDF) are base64-encoded.
pub(crate) enum AttachmentBody {
    Text(String),
    #[cfg_attr(not(feature = "pdf"), allow(dead_code))]
    Binary(Vec<u8>),
}

/// A file name made of safe characters only (`INV/2026/1` becomes `INV_2026_1`): it is written
/// into a header parameter, and a mail client saves it to disk.
pub(crate) fn safe_filename(stem: &str, extension: &str) -> String {
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    let stem = if stem.is_empty() { "document" } else { stem };
    format!("{stem}.{extension}")
}

/// Everything a message is made of, before it is written.
pub(crate) struct Draft<'a> {
    pub(crate) kind: MessageKind,
    pub(crate) sender: &'a Sender,
    pub(crate) to: &'a Recipient,
    pub(crate) subject: String,
    pub(crate) date: Timestamp,
    pub(crate) ids: Ids,
    pub(crate) text: String,
    pub(crate) html: String,
    pub(crate) attachments: Vec<Attachment>,
    /// Extra headers, name and value; values are written as given, so they must be built by
    /// shopkeep from checked parts (the unsubscribe headers).
    pub(crate) extra: Vec<(&'static str, String)>,
}

impl Draft<'_> {
    /// Writes the message: headers, then `multipart/alternative` (text, HTML), wrapped in
    /// `multipart/mixed` when there are attachments.
    pub(crate) fn write(self) -> Result<Message> {
        let unique = self.ids.unique(self.kind)?;
        let boundary = |n: u32| format!("shopkeep-{unique}-{n}");
        let mut builder = MessageBuilder::new()
            .from(MailAddress::new_address(
                Some(self.sender.name.clone()),
                header_address(&self.sender.from),
            ))
            .to(MailAddress::new_address(
                self.to.name.clone(),
                header_address(&self.to.email),
            ));
        if let Some(reply_to) = &self.sender.reply_to {
            builder = builder.reply_to(MailAddress::new_address(
                None::<String>,
                header_address(reply_to),
            ));
        }
        builder = builder
            .subject(Text::new(header_text(&self.subject)))
            .date(MailDate::new(self.date.unix_millis().div_euclid(1000)))
            .message_id(MessageId::new(format!(
                "{unique}@{}",
                domain(&self.sender.from)
            )));
        for (name, value) in self.extra {
            builder = builder.header(name, HeaderType::Raw(value.into()));
        }
        let alternative = MimePart::new(
            ContentType::new("multipart/alternative").attribute("boundary", boundary(1)),
            vec![
                MimePart::new("text/plain", BodyPart::Text(self.text.into())),
                MimePart::new("text/html", BodyPart::Text(self.html.into())),
            ],
        );
        let body = if self.attachments.is_empty() {
            alternative
        } else {
            let mut parts = vec![alternative];
            for attachment in self.attachments {
                let contents = match attachment.body {
                    AttachmentBody::Text(text) => BodyPart::Text(text.into()),
                    AttachmentBody::Binary(bytes) => BodyPart::Binary(bytes.into()),
                };
                parts.push(
                    MimePart::new(ContentType::new(attachment.content_type), contents)
                        .attachment(attachment.filename),
                );
            }
            MimePart::new(
                ContentType::new("multipart/mixed").attribute("boundary", boundary(0)),
                parts,
            )
        };
        let mut bytes = Vec::new();
        builder.body(body).serialize(&mut bytes);
        Ok(Message {
            kind: self.kind,
            bytes,
            envelope_from: header_address(&self.sender.from),
            envelope_to: vec![header_address(&self.to.email)],
        })
    }
}

/// An address as a header carries it: the domain in its ASCII (punycode) form, so that a
/// Unicode domain needs no SMTPUTF8; the local part as given (a non-ASCII one does need it).
fn header_address(email: &Email) -> String {
    let text = email.as_str();
    match text.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() => match idna::domain_to_ascii(domain) {
            Ok(ascii) => format!("{local}@{ascii}"),
            Err(_) => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// The domain of the sender's address in its ASCII form, for the Message-ID.
fn domain(email: &Email) -> String {
    let normalized = email.normalized();
    normalized
        .rsplit_once('@')
        .map_or_else(|| "localhost".to_owned(), |(_, d)| d.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_folds_line_breaks_and_controls_into_spaces() {
        assert_eq!(
            header_text("  Ana\r\nBcc: x@y.z\t\u{7} Lima "),
            "Ana Bcc: x@y.z Lima"
        );
        assert_eq!(header_text("\r\n"), "");
        assert_eq!(header_text("Müller"), "Müller");
    }

    #[test]
    fn unicode_domains_are_written_in_punycode() {
        let email = Email::parse("Ana@Bücher.example").unwrap();
        assert_eq!(header_address(&email), "Ana@xn--bcher-kva.example");
        let ascii = Email::parse("Ana@Example.com").unwrap();
        assert_eq!(header_address(&ascii), "Ana@Example.com");
    }

    #[test]
    fn filenames_are_safe() {
        assert_eq!(safe_filename("INV/2026\r\n1", "pdf"), "INV_2026__1.pdf");
        assert_eq!(safe_filename("..", "xml"), "document.xml");
    }

    #[test]
    fn seeded_ids_repeat_and_differ_by_kind() {
        let a = Ids::Seeded(7).unique(MessageKind::Invoice).unwrap();
        assert_eq!(a, Ids::Seeded(7).unique(MessageKind::Invoice).unwrap());
        assert_ne!(a, Ids::Seeded(7).unique(MessageKind::Marketing).unwrap());
        assert_ne!(a, Ids::Seeded(8).unique(MessageKind::Invoice).unwrap());
        assert_ne!(
            Ids::Random.unique(MessageKind::Invoice).unwrap(),
            Ids::Random.unique(MessageKind::Invoice).unwrap()
        );
        assert_eq!(a.len(), 32);
    }
}
