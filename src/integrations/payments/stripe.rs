//! Stripe: webhook signatures (`Stripe-Signature`) and the events shopkeep acts on.
//!
//! Stripe signs `<t>.<raw body>` with HMAC-SHA256, keyed with the endpoint's whole signing
//! secret (`whsec_...`, the text's bytes as they are: nothing is decoded), and sends
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`. Several `v1` entries
//! appear while a secret is being rolled; any one matching is enough. `v0` (test mode's old
//! scheme) and unknown entries are skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::event::{
    DisputeStatus, Gateway, GatewayDispute, GatewayEvent, GatewayEventKind, GatewayPayment,
    GatewayRefund,
};
use super::scheme::{DEFAULT_TOLERANCE, GatewayScheme, SignatureError};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::orders::OrderId;

/// The metadata key under which the host puts the order's id when it creates the Stripe
/// PaymentIntent (and, for charges not made through a PaymentIntent, the charge):
/// `metadata: { "shopkeep_order_id": order.id().to_string() }`.
pub const ORDER_METADATA_KEY: &str = "shopkeep_order_id";

/// The longest signature header read, in bytes (a handful of signatures is ~400).
const MAX_HEADER: usize = 4096;

/// A Stripe endpoint's signing secret (`whsec_...`), kept for Stripe's scheme alone. Zeroized
/// when dropped; `Debug` shows nothing of it.
///
/// ```
/// use shopkeep::integrations::payments::StripeSecret;
///
/// let secret = StripeSecret::new("whsec_test_secret")?;
/// assert_eq!(format!("{secret:?}"), "StripeSecret(..)");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StripeSecret(Zeroizing<Vec<u8>>);

impl StripeSecret {
    /// The signing secret as Stripe's dashboard shows it: the whole text, prefix included, is
    /// the HMAC key.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `secret`) for a text that does not start with `whsec_` or
    /// has nothing after it.
    pub fn new(secret: &str) -> Result<StripeSecret> {
        let secret = secret.trim();
        match secret.strip_prefix("whsec_") {
            Some(rest) if !rest.is_empty() => {
                Ok(StripeSecret(Zeroizing::new(secret.as_bytes().to_vec())))
            }
            _ => Err(Error::validation(
                "secret",
                "a Stripe signing secret starts with whsec_",
            )),
        }
    }
}

impl fmt::Debug for StripeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StripeSecret(..)")
    }
}

/// Stripe's webhook scheme, for one endpoint's secret.
///
/// ```
/// use shopkeep::integrations::payments::{GatewayEventKind, GatewayScheme, Stripe, StripeSecret};
/// use shopkeep::clock::Timestamp;
///
/// let stripe = Stripe::new(StripeSecret::new("whsec_test_secret")?);
/// let body = br#"{"id":"evt_1","type":"customer.created","data":{"object":{}}}"#;
/// let now = Timestamp::from_unix_millis(1_767_225_600_000)?;
/// let header = stripe.signature_header(body, now); // what Stripe would send
/// let event = stripe.verify_and_parse(&header, body, now)?;
/// assert!(matches!(event.kind(), GatewayEventKind::Ignored { .. }));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Stripe {
    secret: StripeSecret,
    tolerance: Duration,
}

impl Stripe {
    /// The scheme for `secret`, with the default tolerance of 300 seconds.
    pub fn new(secret: StripeSecret) -> Stripe {
        Stripe {
            secret,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// How far the signed timestamp may be from now, either way.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Stripe {
        self.tolerance = tolerance;
        self
    }

    /// The `Stripe-Signature` header Stripe would send for `body` at `timestamp` (one `v1`
    /// entry): for a host's tests of its webhook handler.
    pub fn signature_header(&self, body: &[u8], timestamp: Timestamp) -> String {
        let t = timestamp.unix_millis().div_euclid(1000).to_string();
        let signature = self
            .mac(&t, body)
            .map(|mac| hex(&mac.finalize().into_bytes()))
            .unwrap_or_default();
        format!("t={t},v1={signature}")
    }

    /// HMAC-SHA256 of `<t>.<body>` under the secret, as a MAC state to finish or verify.
    /// HMAC takes keys of any length, so `None` cannot happen; it would make every signature
    /// a mismatch.
    fn mac(&self, t: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret.0).ok()?;
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        Some(mac)
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// The bytes of a hex text, if it is one (either case).
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

/// The header's timestamp (as sent, and in seconds) and its `v1` signatures.
fn parse_header(header: &str) -> std::result::Result<(&str, i64, Vec<&str>), SignatureError> {
    if header.len() > MAX_HEADER {
        return Err(SignatureError::Malformed);
    }
    let mut t = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" if t.is_none() => t = Some(value),
            "t" => return Err(SignatureError::Malformed),
            "v1" => v1.push(value),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed);
    }
    let seconds = t.parse::<i64>().map_err(|_| SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    Ok((t, seconds, v1))
}

impl GatewayScheme for Stripe {
    fn verify(
        &self,
        signature: &str,
        body: &[u8],
        now: Timestamp,
    ) -> std::result::Result<(), SignatureError> {
        let (t, seconds, signatures) = parse_header(signature)?;
        let now = now.unix_millis().div_euclid(1000);
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if now.abs_diff(seconds) > tolerance.unsigned_abs() {
            return Err(SignatureError::OutsideTolerance);
        }
        let mac = self.mac(t, body).ok_or(SignatureError::Mismatch)?;
        // Every entry is checked (constant time each), so the time taken does not say which
        // one matched.
        let mut matched = false;
        for candidate in signatures {
            if let Some(bytes) = unhex(candidate) {
                matched |= mac.clone().verify_slice(&bytes).is_ok();
            }
        }
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    fn parse(&self, body: &[u8]) -> Result<GatewayEvent> {
        parse_event(body)
    }
}

/// A Stripe event, as far as shopkeep reads it.
#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: serde_json::Value,
}

/// A PaymentIntent.
#[derive(Deserialize)]
struct RawIntent {
    id: String,
    amount: i64,
    amount_received: Option<i64>,
    currency: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// A Charge.
#[derive(Deserialize)]
struct RawCharge {
    id: String,
    amount: i64,
    amount_captured: Option<i64>,
    #[serde(default)]
    amount_refunded: i64,
    captured: Option<bool>,
    currency: String,
    payment_intent: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

impl RawCharge {
    /// The payment's reference: its PaymentIntent's id, or the charge's own for a charge made
    /// without one.
    fn reference(&self) -> &str {
        self.payment_intent.as_deref().unwrap_or(&self.id)
    }
}

/// A Dispute.
#[derive(Deserialize)]
struct RawDispute {
    id: String,
    amount: i64,
    currency: String,
    charge: String,
    payment_intent: Option<String>,
    status: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::validation("body", message)
}

fn object<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| invalid(format!("not a Stripe {what}: {e}")))
}

fn money(amount: i64, currency: &str) -> Result<Money> {
    if amount < 0 {
        return Err(Error::validation("amount", "a negative amount"));
    }
    Ok(Money::new(
        amount,
        Currency::from_code(&currency.to_ascii_uppercase())?,
    ))
}

fn order(metadata: &BTreeMap<String, String>) -> Result<Option<OrderId>> {
    metadata
        .get(ORDER_METADATA_KEY)
        .map(|id| OrderId::parse(id))
        .transpose()
}

fn with_order<T>(value: T, order: Option<OrderId>, set: fn(T, OrderId) -> T) -> T {
    match order {
        Some(id) => set(value, id),
        None => value,
    }
}

/// Reads a Stripe event body.
pub(crate) fn parse_event(body: &[u8]) -> Result<GatewayEvent> {
    let raw: RawEvent =
        serde_json::from_slice(body).map_err(|e| invalid(format!("not a Stripe event: {e}")))?;
    let kind = match raw.kind.as_str() {
        "payment_intent.succeeded" => {
            let intent: RawIntent = object(raw.data.object, "PaymentIntent")?;
            let amount = money(
                intent.amount_received.unwrap_or(intent.amount),
                &intent.currency,
            )?;
            let paid = GatewayPayment::new(&intent.id, amount)?;
            GatewayEventKind::Succeeded(with_order(
                paid,
                order(&intent.metadata)?,
                GatewayPayment::order,
            ))
        }
        "charge.succeeded" => {
            let charge: RawCharge = object(raw.data.object, "Charge")?;
            if charge.captured == Some(false) {
                // Authorised only: the money is taken at capture (payment_intent.succeeded).
                GatewayEventKind::ignored("charge.succeeded (not captured)")?
            } else {
                let amount = money(
                    charge.amount_captured.unwrap_or(charge.amount),
                    &charge.currency,
                )?;
                let paid = GatewayPayment::new(charge.reference(), amount)?;
                GatewayEventKind::Succeeded(with_order(
                    paid,
                    order(&charge.metadata)?,
                    GatewayPayment::order,
                ))
            }
        }
        "charge.refunded" => {
            let charge: RawCharge = object(raw.data.object, "Charge")?;
            let total = money(charge.amount_refunded, &charge.currency)?;
            let refund = GatewayRefund::new(charge.reference(), total)?;
            GatewayEventKind::Refunded(with_order(
                refund,
                order(&charge.metadata)?,
                GatewayRefund::order,
            ))
        }
        "charge.dispute.created" | "charge.dispute.closed" => {
            let dispute: RawDispute = object(raw.data.object, "Dispute")?;
            let opened = raw.kind == "charge.dispute.created";
            let status = match dispute.status.as_str() {
                _ if opened => DisputeStatus::Open,
                "won" => DisputeStatus::Won,
                "lost" => DisputeStatus::Lost,
                _ => DisputeStatus::Closed,
            };
            let payment = dispute.payment_intent.as_deref().unwrap_or(&dispute.charge);
            let amount = money(dispute.amount, &dispute.currency)?;
            let found = GatewayDispute::new(&dispute.id, payment, amount, status)?;
            let found = with_order(found, order(&dispute.metadata)?, GatewayDispute::order);
            if opened {
                GatewayEventKind::DisputeOpened(found)
            } else {
                GatewayEventKind::DisputeClosed(found)
            }
        }
        other => GatewayEventKind::ignored(other)?,
    };
    GatewayEvent::new(Gateway::STRIPE, &raw.id, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xfe, 0xff];
        assert_eq!(hex(&bytes), "00017f80feff");
        assert_eq!(unhex("00017F80FEff").unwrap(), bytes);
        assert!(unhex("0").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn headers_need_one_timestamp_and_a_v1() {
        assert_eq!(parse_header("v1=00"), Err(SignatureError::Malformed));
        assert_eq!(
            parse_header("t=1,t=2,v1=00"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(parse_header("t=-1,v1=00"), Err(SignatureError::Malformed));
        assert_eq!(parse_header("t=1,v0=00"), Err(SignatureError::NoSignature));
        let (t, seconds, v1) = parse_header("t=12, v1=aa ,v0=bb,v1=cc").unwrap();
        assert_eq!((t, seconds), ("12", 12));
        assert_eq!(v1, ["aa", "cc"]);
    }
}
