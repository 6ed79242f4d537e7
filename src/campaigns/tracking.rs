//! Click tracking: signed links in messages, the clicks the host reports, and last-click
//! attribution of orders.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::model::{CampaignId, FlowId, MessageId};
use crate::access::CustomerId;
use crate::access::audit::Outcome;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::integrations::email::LinkBase;
use crate::sql::args;
use crate::store::{Store, Tx};

/// The MAC bytes a token keeps (128 bits: forging one takes 2^128 guesses).
const MAC_LEN: usize = 16;
/// The longest URL a tracking link may lead to.
const MAX_URL: usize = 2000;
/// Who records clicks in the audit log: the person clicking is not logged in.
const LINK_HOLDER: &str = "anonymous";

/// Where the host's click endpoint is: each tracked link in a message becomes
/// `<base>?token=<token>`, the token naming the message and the destination, signed.
///
/// ```
/// use shopkeep::campaigns::TrackingLinks;
/// use shopkeep::integrations::email::LinkBase;
///
/// let links = TrackingLinks::new(LinkBase::parse("https://shop.example/c")?);
/// # let _ = links;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingLinks {
    base: LinkBase,
}

impl TrackingLinks {
    /// Links to the click endpoint at `base`.
    pub fn new(base: LinkBase) -> TrackingLinks {
        TrackingLinks { base }
    }
}

/// The signed token of a link to `url` in message `message`:
/// `base64url(message id || url) "." base64url(MAC)`, the MAC the first 16 bytes of
/// HMAC-SHA256 under the store's request-MAC key over the purpose, the message id and the URL.
fn token(store: &Store, message: MessageId, url: &str) -> String {
    let mut body = message.as_bytes().to_vec();
    body.extend_from_slice(url.as_bytes());
    let mac = mac(store, message, url);
    format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(&body),
        Base64UrlUnpadded::encode_string(&mac)
    )
}

fn mac(store: &Store, message: MessageId, url: &str) -> [u8; MAC_LEN] {
    let full = store.keys().request_mac(&[
        b"shopkeep.click.v1",
        message.as_bytes().as_slice(),
        url.as_bytes(),
    ]);
    let mut short = [0u8; MAC_LEN];
    for (to, from) in short.iter_mut().zip(full.as_slice()) {
        *to = *from;
    }
    short
}

/// The link a template's `track(url)` writes for message `message`.
pub(crate) fn tracked_link(
    store: &Store,
    links: Option<&TrackingLinks>,
    message: MessageId,
    url: &str,
) -> String {
    match links {
        Some(links) if is_trackable(url) => links.base.with_token(&token(store, message, url)),
        _ => url.to_owned(),
    }
}

/// Only web links are tracked: the endpoint redirects to them.
fn is_trackable(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL
        && !url.chars().any(char::is_control)
}

/// A click the host reported: where to send the person now.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Click {
    message: MessageId,
    url: String,
}

impl Click {
    /// The message whose link was clicked.
    pub fn message(&self) -> MessageId {
        self.message
    }

    /// The destination, as the message's template wrote it: redirect here (it is signed, so
    /// the endpoint is no open redirect).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for Click {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Click")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

fn invalid() -> Error {
    Error::validation("token", "the link is invalid")
}

impl Store {
    /// Records a click on a tracked link of a message and says where it leads. The host mounts
    /// this at the [`TrackingLinks`] base: it passes the `token` query parameter, then
    /// redirects (`303 See Other`) to [`Click::url`]. Needs no login: the token is signed by
    /// the store, bound to its message and destination. The click is kept for last-click
    /// attribution ([`CampaignRepo::attribution`](super::CampaignRepo::attribution)), audited
    /// (`record_click`, by `anonymous`) and announced (`message.clicked`).
    ///
    /// # Errors
    ///
    /// `Validation` (field `token`) for a token that is malformed, altered, or of a message
    /// this store never sent; nothing is written then.
    pub fn record_click(&self, token: &str) -> Result<Click> {
        let (body, given) = token.trim().split_once('.').ok_or_else(invalid)?;
        let body = Base64UrlUnpadded::decode_vec(body).map_err(|_| invalid())?;
        let given = Base64UrlUnpadded::decode_vec(given).map_err(|_| invalid())?;
        let (id, url) = body.split_at_checked(16).ok_or_else(invalid)?;
        let id: [u8; 16] = id.try_into().map_err(|_| invalid())?;
        let message = MessageId::from_bytes(id);
        let url = std::str::from_utf8(url).map_err(|_| invalid())?;
        let expected = mac(self, message, url);
        if !bool::from(expected.as_slice().ct_eq(given.as_slice())) || !is_trackable(url) {
            return Err(invalid());
        }
        self.write(|tx| {
            let customer: Option<Option<CustomerId>> = tx.query_opt(
                "SELECT customer_id FROM shopkeep_sends WHERE id = ?1 AND state = 'sent'",
                args![message],
                |r| r.get(0),
            )?;
            let Some(customer) = customer else {
                return Err(invalid());
            };
            tx.execute(
                "INSERT INTO shopkeep_message_clicks (message_id, customer_id, url, at)
                 VALUES (?1, ?2, ?3, ?4)",
                args![message, customer, url, tx.now()],
            )?;
            tx.audit_event(
                LINK_HOLDER,
                "record_click",
                &format!("message:{message}"),
                Outcome::Allowed,
            )?;
            tx.emit(&super::events::Clicked {
                message_id: message,
            })?;
            Ok(Click {
                message,
                url: url.to_owned(),
            })
        })
    }
}

/// The message an order is attributed to: the last one its customer clicked within the window
/// before placing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageAttribution {
    pub(crate) message: MessageId,
    pub(crate) campaign: Option<CampaignId>,
    pub(crate) flow: Option<FlowId>,
    pub(crate) clicked_at: Timestamp,
}

impl MessageAttribution {
    /// The message clicked.
    pub fn message(&self) -> MessageId {
        self.message
    }

    /// Its campaign, if a campaign sent it.
    pub fn campaign(&self) -> Option<CampaignId> {
        self.campaign
    }

    /// Its flow, if a flow sent it.
    pub fn flow(&self) -> Option<FlowId> {
        self.flow
    }

    /// When the click was.
    pub fn clicked_at(&self) -> Timestamp {
        self.clicked_at
    }
}

/// The last click of `customer` in `[from, to]`, with its campaign or flow.
pub(crate) fn last_click(
    tx: &Tx<'_>,
    customer: CustomerId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Option<MessageAttribution>> {
    tx.query_opt(
        "SELECT c.message_id, s.campaign_id, r.flow_id, c.at
         FROM shopkeep_message_clicks c
         JOIN shopkeep_sends s ON s.id = c.message_id
         LEFT JOIN shopkeep_flow_runs r ON r.id = s.run_id
         WHERE c.customer_id = ?1 AND c.at >= ?2 AND c.at <= ?3
         ORDER BY c.at DESC, c.seq DESC LIMIT 1",
        args![customer, from, to],
        |r| {
            Ok(MessageAttribution {
                message: r.get(0)?,
                campaign: r.get(1)?,
                flow: r.get(2)?,
                clicked_at: r.get(3)?,
            })
        },
    )
}
