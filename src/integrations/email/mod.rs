//! Email messages (RFC 5322): the shop's transactional mail and its marketing mail, as bytes
//! the host's mailer sends.
//!
//! shopkeep writes messages; sending them is the host's, or, with the `smtp` feature,
//! `SmtpMailer`'s. A [`Composer`] turns what the crate already
//! renders — the order confirmation, the invoice (text and HTML, with its PDF and UBL
//! attached), a password-reset or double opt-in link, a shipping notice — into a
//! `multipart/alternative` message (plain text and HTML), addressed from a validated
//! [`Sender`] to a [`Recipient`], dated by the store's clock. Marketing messages carry the
//! recipient's own unsubscribe link as `List-Unsubscribe` and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), and
//! [`one_click_unsubscribe`] is the logic of the endpoint those headers point to.
//!
//! Messages are assembled with Stalwart's `mail-builder`, which folds and RFC 2047-encodes
//! header values; shopkeep first turns line breaks and control characters in any value that
//! comes from data (a customer's name, a subject) into spaces, so no value can start a header
//! of its own. The host's mail server must DKIM-sign both `List-Unsubscribe` headers (RFC 8058
//! §3); shopkeep does not sign. The guide is [`guide::integrations`](crate::guide::integrations).
//!
//! **Sending.** The host hands [`Message::as_bytes`] to its own mailer or a provider's API.
//! With the `smtp` feature (off by default), `SmtpMailer` submits a message to a mail server
//! itself: implicit TLS (port 465) or required `STARTTLS` (587) with credentials
//! (`SmtpConfig`, `SmtpCredentials`), the envelope taken from the message's `From` and
//! `To`, a refusal as an [`ErrorKind::Delivery`](crate::ErrorKind::Delivery) error with the
//! server's reply code.
//!
//! ```
//! use shopkeep::{Email, KeyRing, Store};
//! use shopkeep::customers::UnsubscribeToken;
//! use shopkeep::integrations::email::{
//!     Composer, LinkBase, MarketingContent, Recipient, Sender, UnsubscribeLinks,
//! };
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let composer = Composer::new(
//!     Sender::new("Beispiel Shop", Email::parse("news@shop.example")?)?,
//!     store.now(),
//! );
//! let links = UnsubscribeLinks::new(LinkBase::parse("https://shop.example/unsubscribe")?);
//! # let token = UnsubscribeToken::new("shu_example");
//! // `token` from `store.consents(&system).unsubscribe_token(customer, Channel::Email)?`
//! let message = composer.marketing(
//!     &Recipient::new(Email::parse("ana@example.com")?).name("Ana"),
//!     &MarketingContent::new("Spring sale", "20 % off mugs", "<p>20 % off mugs</p>")?,
//!     &token,
//!     &links,
//! )?;
//! let text = String::from_utf8_lossy(message.as_bytes());
//! assert!(text.contains("List-Unsubscribe: <https://shop.example/unsubscribe?token=shu_example>"));
//! assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compose;
mod links;
mod message;
mod one_click;
#[cfg(feature = "smtp")]
mod smtp;
mod templates;

pub use compose::{Composer, MarketingContent};
pub use links::{LinkBase, UnsubscribeLinks};
pub use message::{Message, MessageKind, Recipient, Sender};
pub use one_click::{ONE_CLICK_BODY, one_click_unsubscribe};
#[cfg(feature = "smtp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smtp")))]
pub use smtp::{SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls};
pub use templates::EmailTemplates;
