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
        match email {
            Some(email) if errors.is_empty() => Ok(ValidLead {
                name: name.to_owned(),
                email,
                message: message.to_owned(),
                attachment: self.attachment,
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
            .finish_non_exhaustive()
    }
}

/// A form that passed every rule: trimmed text, a parsed email, a PDF if any.
pub(crate) struct ValidLead {
    pub(crate) name: String,
    pub(crate) email: Email,
    pub(crate) message: String,
    pub(crate) attachment: Option<Vec<u8>>,
}
