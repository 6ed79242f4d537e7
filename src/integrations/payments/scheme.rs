//! What every payment gateway's webhook scheme offers: check that a delivery is the gateway's,
//! then read it as a [`GatewayEvent`]. Pure functions: no store, no SQL.

use std::fmt;
use std::time::Duration;

use super::event::GatewayEvent;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};

/// How far a signed timestamp may be from now by default: five minutes, as Stripe's own
/// libraries allow.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A payment gateway's webhook scheme: how its deliveries are signed, and how its events read.
///
/// [`Stripe`](super::Stripe) is the first; another gateway is another implementation, with a
/// key type of its own (keys are never shared between schemes). The host passes the raw
/// request body exactly as received (a re-serialised JSON document no longer matches its
/// signature) and the store's clock reading as `now`.
///
/// ```
/// use shopkeep::integrations::payments::{GatewayScheme, Stripe, StripeSecret};
/// use shopkeep::clock::Timestamp;
///
/// # fn handle(header: &str, body: &[u8], now: Timestamp) -> Result<(), shopkeep::Error> {
/// let stripe = Stripe::new(StripeSecret::new("whsec_test_secret")?);
/// let event = stripe.verify_and_parse(header, body, now)?; // `Unauthenticated` if forged
/// # let _ = event; Ok(()) }
/// ```
pub trait GatewayScheme {
    /// Checks that `body` was signed by the gateway: `signature` is the value of the
    /// gateway's signature header, `now` the time to judge the signature's age by.
    ///
    /// # Errors
    ///
    /// A [`SignatureError`] saying what is wrong; nothing about the key.
    fn verify(
        &self,
        signature: &str,
        body: &[u8],
        now: Timestamp,
    ) -> std::result::Result<(), SignatureError>;

    /// Reads a verified body as a [`GatewayEvent`]. Event types shopkeep does not act on are
    /// events too, of kind [`GatewayEventKind::Ignored`](super::GatewayEventKind::Ignored).
    ///
    /// # Errors
    ///
    /// A `Validation` error for a body that is not an event of this gateway (not JSON, a
    /// missing id or type, an amount or currency missing or out of range on an event that
    /// needs one, an order id that is not one).
    fn parse(&self, body: &[u8]) -> Result<GatewayEvent>;

    /// [`verify`](GatewayScheme::verify), then [`parse`](GatewayScheme::parse): what a
    /// webhook handler calls.
    ///
    /// # Errors
    ///
    /// `Unauthenticated` if the signature does not hold ([`Error::source`](std::error::Error::source)
    /// is the [`SignatureError`]); the errors of [`parse`](GatewayScheme::parse).
    fn verify_and_parse(
        &self,
        signature: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<GatewayEvent> {
        self.verify(signature, body, now)?;
        self.parse(body)
    }
}

/// Why a webhook signature was refused. A handler answers all of them alike (HTTP 400), and
/// logs the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is not of the scheme's form (for Stripe: `t=<unix seconds>,v1=<hex>,...`
    /// with exactly one timestamp).
    Malformed,
    /// The header carries no signature of a version this scheme checks (for Stripe: no `v1`).
    NoSignature,
    /// The signed timestamp is further from now than the tolerance: an old delivery replayed,
    /// or a clock far off.
    OutsideTolerance,
    /// No signature matches the body under the key.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Malformed => "the signature header is malformed",
            SignatureError::NoSignature => "the signature header carries no v1 signature",
            SignatureError::OutsideTolerance => {
                "the signature's timestamp is outside the tolerance"
            }
            SignatureError::Mismatch => "no signature matches the body",
        })
    }
}

impl std::error::Error for SignatureError {}

/// `Unauthenticated`, with the [`SignatureError`] as its source.
impl From<SignatureError> for Error {
    fn from(err: SignatureError) -> Error {
        Error::new(ErrorKind::Unauthenticated, err.to_string()).with_source(err)
    }
}
