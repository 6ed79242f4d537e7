//! Links with a token in them: password reset, double opt-in, unsubscribe.

use std::fmt;

use crate::email::Email;
use crate::error::{Error, Result};

/// The longest link base accepted, in bytes.
const MAX_BASE: usize = 500;

/// The page a link in a message points to, given by the host (which serves it): an absolute
/// `https://` URL, to which shopkeep adds `token=…` as a query parameter.
///
/// ```
/// use shopkeep::integrations::email::LinkBase;
///
/// let reset = LinkBase::parse("https://shop.example/account/reset")?;
/// assert_eq!(reset.with_token("shr_abc"), "https://shop.example/account/reset?token=shr_abc");
/// let lang = LinkBase::parse("https://shop.example/reset?lang=de")?;
/// assert_eq!(lang.with_token("shr_abc"), "https://shop.example/reset?lang=de&token=shr_abc");
/// assert!(LinkBase::parse("http://shop.example/reset").is_err()); // tokens travel over TLS only
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LinkBase(String);

impl LinkBase {
    /// Checks a link base: `https://`, a host, printable ASCII without spaces, quotes, angle
    /// brackets or commas (it is written inside `<…>` in `List-Unsubscribe`), no fragment, at
    /// most 500 bytes (the header holding it stays within RFC 5322's 998).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `link`) saying what is wrong.
    pub fn parse(url: &str) -> Result<LinkBase> {
        let invalid = |why: &str| Error::validation("link", format!("not a usable link: {why}"));
        let url = url.trim();
        let Some(rest) = url.strip_prefix("https://") else {
            return Err(invalid("it must start with https://"));
        };
        if url.len() > MAX_BASE {
            return Err(invalid("it is longer than 500 bytes"));
        }
        if let Some(c) = url
            .chars()
            .find(|&c| !c.is_ascii_graphic() || "<>\",\\`{}|^".contains(c))
        {
            let what = if c.is_control() || c == ' ' {
                "it holds whitespace or a control character".to_owned()
            } else {
                format!("it holds the character {c:?}")
            };
            return Err(invalid(&what));
        }
        if url.contains('#') {
            return Err(invalid("it has a fragment (#…)"));
        }
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        if host.is_empty() || host.contains('@') {
            return Err(invalid("it needs a host (and no user name)"));
        }
        Ok(LinkBase(url.to_owned()))
    }

    /// The link with `token` added as the `token` query parameter (percent-encoded).
    pub fn with_token(&self, token: &str) -> String {
        let separator = if self.0.contains('?') {
            if self.0.ends_with('?') || self.0.ends_with('&') {
                ""
            } else {
                "&"
            }
        } else {
            "?"
        };
        format!("{}{separator}token={}", self.0, percent_encode(token))
    }

    /// The base as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LinkBase").field(&self.0).finish()
    }
}

/// Where a recipient unsubscribes from marketing mail: the host's HTTPS endpoint (which runs
/// [`one_click_unsubscribe`](super::one_click_unsubscribe) on POST and shows a page on GET),
/// and optionally a mailbox that unsubscribes whoever writes to it.
///
/// ```
/// use shopkeep::Email;
/// use shopkeep::integrations::email::{LinkBase, UnsubscribeLinks};
///
/// let links = UnsubscribeLinks::new(LinkBase::parse("https://shop.example/unsubscribe")?)
///     .mailto(Email::parse("unsubscribe@shop.example")?);
/// # let _ = links;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeLinks {
    https: LinkBase,
    mailto: Option<Email>,
}

impl UnsubscribeLinks {
    /// Unsubscribing through `https` (the token is added as `?token=…`).
    pub fn new(https: LinkBase) -> UnsubscribeLinks {
        UnsubscribeLinks {
            https,
            mailto: None,
        }
    }

    /// Also offers `mailto:` unsubscribing, to `address`, with the token in the subject
    /// (`unsubscribe shu_…`) for the host's mailbox processing to pass to
    /// [`Store::unsubscribe`](crate::Store::unsubscribe).
    #[must_use]
    pub fn mailto(mut self, address: Email) -> UnsubscribeLinks {
        self.mailto = Some(address);
        self
    }

    /// The HTTPS link for `token`, to show in the message body too.
    pub fn https_link(&self, token: &str) -> String {
        self.https.with_token(token)
    }

    /// The `List-Unsubscribe` value for `token` (RFC 2369): `<https://…?token=…>`, then
    /// `<mailto:…?subject=unsubscribe%20…>` if a mailbox was given.
    pub(crate) fn header(&self, token: &str) -> String {
        let mut value = format!("<{}>", self.https_link(token));
        if let Some(mailbox) = &self.mailto {
            value.push_str(&format!(
                ", <mailto:{}?subject=unsubscribe%20{}>",
                percent_encode_mailbox(mailbox.as_str()),
                percent_encode(token)
            ));
        }
        value
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a token cannot end the
/// query, the `<…>` of a header or the header line.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An address in a `mailto:` URI (RFC 6068): `@` stays, everything else outside the unreserved
/// set is percent-encoded.
fn percent_encode_mailbox(address: &str) -> String {
    address
        .split('@')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("@")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_bases_are_checked() {
        for bad in [
            "",
            "https://",
            "https:///path",
            "http://shop.example/x",
            "https://shop.example/x y",
            "https://shop.example/x\r\nBcc: a@b.c",
            "https://shop.example/<x>",
            "https://shop.example/a,b",
            "https://shop.example/#frag",
            "https://user@shop.example/",
            "https://shöp.example/",
        ] {
            assert!(LinkBase::parse(bad).is_err(), "{bad:?}");
        }
        let ok = LinkBase::parse("https://shop.example/u?").unwrap();
        assert_eq!(ok.with_token("a b"), "https://shop.example/u?token=a%20b");
    }

    #[test]
    fn the_unsubscribe_header_lists_both_links() {
        let links = UnsubscribeLinks::new(LinkBase::parse("https://s.example/u").unwrap())
            .mailto(Email::parse("unsub@s.example").unwrap());
        assert_eq!(
            links.header("shu_x+y"),
            "<https://s.example/u?token=shu_x%2By>, <mailto:unsub@s.example?subject=unsubscribe%20shu_x%2By>"
        );
    }
}
