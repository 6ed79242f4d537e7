//! Where an order came from: the campaign attribution a host passes at checkout.

use serde::Serialize;

use crate::error::{Error, Result};

/// The longest attribution value, in characters (UTM values are short labels, not documents).
const MAX_CHARS: usize = 200;

/// The campaign attribution of an order: the UTM parameters of the visit that led to it, and
/// the id of the marketing message the customer came from, if any. The host reads them from
/// the landing URL (`utm_source`, `utm_medium`, `utm_campaign`, `utm_term`, `utm_content`) and
/// passes them with [`Checkout::attribution`](crate::Checkout::attribution); the order keeps
/// them, and sales reports group by campaign.
///
/// Every part is optional, but an attribution names at least one. Values are trimmed, at most
/// 200 characters, without control or invisible characters. This is the one attribution model
/// of the crate: last-click message attribution extends it rather than adding another.
///
/// ```
/// use shopkeep::marketing::Attribution;
///
/// let spring = Attribution::new()
///     .with_source("newsletter")?
///     .with_medium("email")?
///     .with_campaign("spring-sale")?;
/// assert_eq!(spring.campaign(), Some("spring-sale"));
/// assert!(Attribution::new().with_source("  ").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[must_use]
pub struct Attribution {
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
    term: Option<String>,
    content: Option<String>,
    message_id: Option<String>,
}

fn value(field: &'static str, text: &str) -> Result<String> {
    crate::text::required(field, text, MAX_CHARS)
}

impl Attribution {
    /// An empty attribution, to fill with the builder methods.
    pub fn new() -> Attribution {
        Attribution::default()
    }

    /// The referrer (`utm_source`): `newsletter`, `google`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.source`) for an empty, too long or unprintable value.
    pub fn with_source(mut self, source: &str) -> Result<Attribution> {
        self.source = Some(value("attribution.source", source)?);
        Ok(self)
    }

    /// The marketing medium (`utm_medium`): `email`, `cpc`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.medium`), as [`with_source`](Self::with_source).
    pub fn with_medium(mut self, medium: &str) -> Result<Attribution> {
        self.medium = Some(value("attribution.medium", medium)?);
        Ok(self)
    }

    /// The campaign name (`utm_campaign`).
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.campaign`), as [`with_source`](Self::with_source).
    pub fn with_campaign(mut self, campaign: &str) -> Result<Attribution> {
        self.campaign = Some(value("attribution.campaign", campaign)?);
        Ok(self)
    }

    /// The paid search term (`utm_term`).
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.term`), as [`with_source`](Self::with_source).
    pub fn with_term(mut self, term: &str) -> Result<Attribution> {
        self.term = Some(value("attribution.term", term)?);
        Ok(self)
    }

    /// What was clicked (`utm_content`), to tell links of one campaign apart.
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.content`), as [`with_source`](Self::with_source).
    pub fn with_content(mut self, content: &str) -> Result<Attribution> {
        self.content = Some(value("attribution.content", content)?);
        Ok(self)
    }

    /// The id of the marketing message the customer came from.
    ///
    /// # Errors
    ///
    /// `Validation` (field `attribution.message_id`), as [`with_source`](Self::with_source).
    pub fn with_message_id(mut self, id: &str) -> Result<Attribution> {
        self.message_id = Some(value("attribution.message_id", id)?);
        Ok(self)
    }

    /// The referrer, if given.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The medium, if given.
    pub fn medium(&self) -> Option<&str> {
        self.medium.as_deref()
    }

    /// The campaign, if given.
    pub fn campaign(&self) -> Option<&str> {
        self.campaign.as_deref()
    }

    /// The search term, if given.
    pub fn term(&self) -> Option<&str> {
        self.term.as_deref()
    }

    /// The content label, if given.
    pub fn content(&self) -> Option<&str> {
        self.content.as_deref()
    }

    /// The message id, if given.
    pub fn message_id(&self) -> Option<&str> {
        self.message_id.as_deref()
    }

    /// The parts in a fixed order, for storage and the idempotency fingerprint.
    pub(crate) fn parts(&self) -> [Option<&str>; 6] {
        [
            self.source.as_deref(),
            self.medium.as_deref(),
            self.campaign.as_deref(),
            self.term.as_deref(),
            self.content.as_deref(),
            self.message_id.as_deref(),
        ]
    }

    /// An attribution from stored parts (in [`parts`](Self::parts) order).
    pub(crate) fn from_parts(parts: [Option<String>; 6]) -> Attribution {
        let [source, medium, campaign, term, content, message_id] = parts;
        Attribution {
            source,
            medium,
            campaign,
            term,
            content,
            message_id,
        }
    }

    /// Refuses an attribution that names nothing (checked at checkout).
    pub(crate) fn check_not_empty(&self) -> Result<()> {
        if self.parts().iter().all(Option::is_none) {
            return Err(Error::validation(
                "attribution",
                "an attribution names at least a source, medium, campaign, term, content or message",
            ));
        }
        Ok(())
    }

    /// The canonical form inside the checkout fingerprint: one line per part, each value
    /// length-prefixed so that no two attributions share a form.
    pub(crate) fn canonical(&self) -> String {
        let mut form = String::from("attribution");
        for part in self.parts() {
            match part {
                Some(v) => form.push_str(&format!(" {}:{v}", v.len())),
                None => form.push_str(" -"),
            }
        }
        form
    }
}
