//! The contact form: what a visitor sends, and its rules.

use std::fmt;

use super::pdf;
use crate::email::Email;
use crate::error::{Error, FieldError, Result};

/// The message shown when the name is blank.
pub const NAME_MISSING: &str = "Name missing";
/// The message shown when the email is not a valid address.
pub const EMAIL_INVALID: &str = "Email invalid";
/// The message shown when the message has fewer than 10 characters.
pub const MESSAGE_TOO_SHORT: &str = "Please enter at least 10 characters";
/// The message shown when the attachment is not a PDF or is over 10 MB.
pub const ATTACHMENT_INVALID: &str = "Please upload a PDF document with a maximum size of 10 MB";
/// The message shown when the terms were not accepted.
pub const TERMS_NOT_ACCEPTED: &str = "Please accept terms and conditions";

/// The message shown when the host named no valid consent-text version for the opt-in (1 to 50
/// characters, no control characters): a fault of the host's form, reported with the rest.
pub const OPT_IN_INVALID: &str = "The marketing opt-in names no valid consent text version";

/// The fewest characters a message may have, counted after trimming.
const MIN_MESSAGE_CHARS: usize = 10;

/// One submission of the shop's contact form, as the visitor sent it: nothing is checked
/// until [`LeadRepo::submit`](super::LeadRepo::submit), which checks every rule and reports
/// every failure at once.
///
/// ```
/// use shopkeep::leads::LeadForm;
///
/// let form = LeadForm::new("Ana Lima", "ana@example.com", "Do you ship to Norway?")
///     .accept_terms(true);
/// # let _ = form;
/// ```
#[derive(Clone, Default)]
pub struct LeadForm {
    name: String,
    email: String,
    message: String,
    attachment: Option<Vec<u8>>,
    terms_accepted: bool,
    /// The consent-text version of the marketing opt-in, if the visitor ticked it.
    marketing_opt_in: Option<String>,
}

impl LeadForm {
    /// A form with its three text fields; no attachment, terms not accepted.
    pub fn new(
        name: impl Into<String>,
        email: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        LeadForm {
            name: name.into(),
            email: email.into(),
            message: message.into(),
            attachment: None,
            terms_accepted: false,
            marketing_opt_in: None,
        }
    }

    /// Attaches a file: the bytes as uploaded. Its name and declared type are not asked for,
    /// since they prove nothing; the content must be a PDF of at most 10 MB.
    #[must_use]
    pub fn attachment(mut self, bytes: Vec<u8>) -> Self {
        self.attachment = Some(bytes);
        self
    }

    /// Whether the visitor ticked "I accept the terms and conditions".
    #[must_use]
    pub fn accept_terms(mut self, accepted: bool) -> Self {
        self.terms_accepted = accepted;
        self
    }

    /// The visitor ticked the form's optional marketing opt-in ("email me news and offers"),
    /// whose wording is the consent text of `text_version` (the host's own label, 1 to 50
    /// characters, e.g. `newsletter-2026-01`). The lead's email consent is then recorded as
    /// pending in the consent ledger and counts once the visitor confirms it by the link the
    /// host emails ([`LeadRepo::confirmation_token`](super::LeadRepo::confirmation_token)):
    /// double opt-in. Leaving the box unticked is simply not calling this.
    #[must_use]
    pub fn marketing_opt_in(mut self, text_version: impl Into<String>) -> Self {
        self.marketing_opt_in = Some(text_version.into());
        self
    }

    /// Checks every rule, in the form's order (name, email, message, attachment, terms).
    ///
    /// # Errors
    ///
    /// `InvalidFields`, listing every rule the form breaks.
    pub(crate) fn validate(self) -> Result<ValidLead> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", NAME_MISSING));
        }
        let email = Email::parse(&self.email).ok();
        if email.is_none() {
            errors.push(FieldError::new("email", EMAIL_INVALID));
        }
        let message = self.message.trim();
        if message.chars().count() < MIN_MESSAGE_CHARS {
            errors.push(FieldError::new("message", MESSAGE_TOO_SHORT));
        }
        if self
            .attachment
            .as_deref()
            .is_some_and(|bytes| !pdf::is_acceptable(bytes))
        {
            errors.push(FieldError::new("attachment", ATTACHMENT_INVALID));
        }
        if !self.terms_accepted {
            errors.push(FieldError::new("terms", TERMS_NOT_ACCEPTED));
        }
        // The version is the host's label, not the visitor's input; a bad one is still
        // reported with the rest, and nothing is written.
        let opt_in = match self
            .marketing_opt_in
            .as_deref()
            .map(super::consent::text_version)
        {
            Some(Err(_)) => {
                errors.push(FieldError::new("marketing_opt_in", OPT_IN_INVALID));
                None
            }
            Some(Ok(version)) => Some(version),
            None => None,
        };
        match email {
            Some(email) if errors.is_empty() => Ok(ValidLead {
                name: name.to_owned(),
                email,
                message: message.to_owned(),
                attachment: self.attachment,
                marketing_opt_in: opt_in,
            }),
            _ => Err(Error::invalid_fields(errors)),
        }
    }
}

/// Personal data: only the presence of each field is shown.
impl fmt::Debug for LeadForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeadForm")
            .field("attachment_bytes", &self.attachment.as_ref().map(Vec::len))
            .field("terms_accepted", &self.terms_accepted)
            .field("marketing_opt_in", &self.marketing_opt_in)
            .finish_non_exhaustive()
    }
}

/// A form that passed every rule: trimmed text, a parsed email, a PDF if any.
pub(crate) struct ValidLead {
    pub(crate) name: String,
    pub(crate) email: Email,
    pub(crate) message: String,
    pub(crate) attachment: Option<Vec<u8>>,
    /// The consent-text version of a ticked marketing opt-in.
    pub(crate) marketing_opt_in: Option<String>,
}
