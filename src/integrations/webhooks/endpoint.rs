//! Webhook endpoints: where deliveries go, which event types they take, and their validated
//! inputs. Plain data; no SQL.

use std::fmt;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::define_id;

use super::signature::WebhookSecret;

define_id!(
    /// A webhook endpoint's id.
    EndpointId,
    "endpoint_id"
);

/// The longest URL an endpoint may have.
pub const MAX_URL_LEN: usize = 2048;
/// The most event types one endpoint may subscribe to.
pub const MAX_EVENT_TYPES: usize = 64;
/// The longest event type name.
const MAX_EVENT_TYPE_LEN: usize = 64;
/// Event types of this prefix are the webhooks' own (endpoint changes, dead letters): they are
/// never delivered, so that a failing delivery cannot feed itself.
pub(crate) const OWN_EVENT_PREFIX: &str = "webhook.";

/// Hosts that may be reached over plain `http`, for development on one machine.
const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// A validated endpoint URL: `https://` with a host, or `http://` to `localhost`,
/// `127.0.0.1` or `[::1]` (development); no user name or password, no fragment, no spaces or
/// control characters, at most 2,048 bytes. The scheme and host are lower-cased.
///
/// ```
/// use shopkeep::integrations::webhooks::EndpointUrl;
///
/// let url = EndpointUrl::parse("HTTPS://Hooks.Example.com/shopkeep?src=shop")?;
/// assert_eq!(url.as_str(), "https://hooks.example.com/shopkeep?src=shop");
/// assert!(EndpointUrl::parse("http://localhost:8080/hook").is_ok());
/// assert!(EndpointUrl::parse("http://hooks.example.com/").is_err()); // cleartext to the world
/// assert!(EndpointUrl::parse("https://user:pw@hooks.example.com/").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    /// Checks and normalises `text`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `url`) naming the rule it breaks.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |why: &str| Error::validation("url", why.to_owned());
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("the URL is missing"));
        }
        if text.len() > MAX_URL_LEN {
            return Err(invalid("the URL is longer than 2,048 bytes"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("the URL contains spaces or control characters"));
        }
        if text.contains('#') {
            return Err(invalid("the URL has a fragment"));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("the URL has no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid("the URL carries a user name or password"));
        }
        let authority = authority.to_ascii_lowercase();
        let (host, port) =
            split_port(&authority).ok_or_else(|| invalid("the URL's port is not 1 to 65535"))?;
        if !valid_host(host) {
            return Err(invalid("the URL has no valid host"));
        }
        match scheme.as_str() {
            "https" => {}
            "http" if LOCAL_HOSTS.contains(&host) => {}
            "http" => {
                return Err(invalid(
                    "the URL must use https (http only to localhost or 127.0.0.1)",
                ));
            }
            _ => return Err(invalid("the URL must use https")),
        }
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        Ok(EndpointUrl(format!("{scheme}://{host}{port}{path}")))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Splits `host[:port]` (the host possibly a bracketed IPv6 literal); `None` for a port that
/// is not 1 to 65535.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let colon = match authority.rfind(':') {
        Some(i) if !authority.get(i..)?.contains(']') => i,
        _ => return Some((authority, None)),
    };
    let (host, port) = (authority.get(..colon)?, authority.get(colon + 1..)?);
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(p) => Some((host, Some(p))),
    }
}

/// A DNS name of letters, digits, hyphens and dots (Unicode names in their punycode form), or
/// a bracketed IPv6 literal.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    }
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['.', '-'])
        && !host.ends_with('-')
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EndpointUrl({})", self.0)
    }
}

/// Checks one event type name: dotted lower-case words (`order.placed`), at most 64 bytes,
/// not one of the webhooks' own (`webhook.…`).
fn check_event_type(name: &str) -> Result<()> {
    let invalid = |why: String| Error::validation("event_types", why);
    let words_ok = name.split('.').count() >= 2
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if name.len() > MAX_EVENT_TYPE_LEN || !words_ok {
        return Err(invalid(format!(
            "{name:?} is not an event type (dotted lower-case words, like order.placed)"
        )));
    }
    if name.starts_with(OWN_EVENT_PREFIX) {
        return Err(invalid(format!(
            "{name:?} is a webhook event of its own, which is never delivered"
        )));
    }
    Ok(())
}

/// An endpoint to register: its URL and the event types it subscribes to.
///
/// ```
/// use shopkeep::integrations::webhooks::NewEndpoint;
///
/// let new = NewEndpoint::new("https://hooks.example.com/shop", ["order.placed", "order.paid"])?;
/// assert_eq!(new.event_types(), ["order.paid", "order.placed"]);
/// assert!(NewEndpoint::new("https://hooks.example.com/shop", ["Order Placed"]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub(crate) url: EndpointUrl,
    pub(crate) event_types: Vec<String>,
}

impl NewEndpoint {
    /// Validates the URL ([`EndpointUrl::parse`]) and the event types: 1 to 64 names, each
    /// dotted lower-case words (`order.placed`, `customer.registered`), none of the webhooks'
    /// own `webhook.…` events. Duplicates are dropped; the list is kept sorted.
    ///
    /// # Errors
    ///
    /// `Validation`, field `url` or `event_types`.
    pub fn new<S: AsRef<str>>(url: &str, event_types: impl IntoIterator<Item = S>) -> Result<Self> {
        let url = EndpointUrl::parse(url)?;
        let mut types = Vec::new();
        for name in event_types {
            let name = name.as_ref().trim();
            check_event_type(name)?;
            types.push(name.to_owned());
        }
        types.sort();
        types.dedup();
        if types.is_empty() || types.len() > MAX_EVENT_TYPES {
            return Err(Error::validation(
                "event_types",
                "an endpoint subscribes to 1 to 64 event types",
            ));
        }
        Ok(NewEndpoint {
            url,
            event_types: types,
        })
    }

    /// The URL.
    pub fn url(&self) -> &EndpointUrl {
        &self.url
    }

    /// The event types, sorted, without duplicates.
    pub fn event_types(&self) -> &[String] {
        &self.event_types
    }
}

/// A registered endpoint, as staff see it (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub(crate) id: EndpointId,
    pub(crate) url: EndpointUrl,
    pub(crate) event_types: Vec<String>,
    pub(crate) enabled: bool,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

impl Endpoint {
    /// Its id.
    pub fn id(&self) -> EndpointId {
        self.id
    }

    /// Where deliveries are sent.
    pub fn url(&self) -> &EndpointUrl {
        &self.url
    }

    /// The event types it takes, sorted.
    pub fn event_types(&self) -> &[String] {
        &self.event_types
    }

    /// Whether it takes deliveries. A disabled endpoint gets no new deliveries and its pending
    /// ones wait until it is enabled again.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// When it was registered.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

/// What registering an endpoint returns: the endpoint and its signing secret, which is shown
/// this once (the store keeps it encrypted and never returns it again).
#[derive(Debug)]
pub struct RegisteredEndpoint {
    pub(crate) endpoint: Endpoint,
    pub(crate) secret: WebhookSecret,
}

impl RegisteredEndpoint {
    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The signing secret (`whsec_…`), to configure on the receiving side now.
    pub fn secret(&self) -> &WebhookSecret {
        &self.secret
    }

    /// The endpoint, dropping the secret.
    pub fn into_endpoint(self) -> Endpoint {
        self.endpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_rules() {
        let good = [
            ("https://example.com", "https://example.com"),
            (
                "https://EXAMPLE.com:8443/a/B?x=Y",
                "https://example.com:8443/a/B?x=Y",
            ),
            ("http://localhost/hook", "http://localhost/hook"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]:3000/h", "http://[::1]:3000/h"),
            ("https://[2001:db8::1]/h", "https://[2001:db8::1]/h"),
        ];
        for (text, want) in good {
            assert_eq!(
                EndpointUrl::parse(text).map(|u| u.0).ok().as_deref(),
                Some(want),
                "{text}"
            );
        }
        let bad = [
            "",
            "example.com/hook",
            "ftp://example.com",
            "http://example.com",
            "http://localhost.example.com",
            "https://",
            "https://exa mple.com",
            "https://a@example.com",
            "https://example.com/#frag",
            "https://example.com:0",
            "https://example.com:65536",
            "https://example.com:",
            "https://-example.com",
            "https://exa..mple.com",
            "https://exam_ple.com",
        ];
        for text in bad {
            assert!(EndpointUrl::parse(text).is_err(), "{text}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(EndpointUrl::parse(&long).is_err());
    }

    #[test]
    fn event_types_are_dotted_words_and_not_our_own() {
        for good in ["order.placed", "lead.status_changed", "a.b.c2"] {
            assert!(check_event_type(good).is_ok(), "{good}");
        }
        for bad in [
            "order",
            "Order.placed",
            "order..placed",
            ".order",
            "order.",
            "order placed",
            "webhook.dead_lettered",
        ] {
            assert!(check_event_type(bad).is_err(), "{bad}");
        }
        let none: [&str; 0] = [];
        assert!(NewEndpoint::new("https://example.com", none).is_err());
        let many: Vec<String> = (0..65).map(|i| format!("e.t{i}")).collect();
        assert!(NewEndpoint::new("https://example.com", &many).is_err());
    }
}
