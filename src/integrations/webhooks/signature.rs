//! The Standard Webhooks signature scheme: the secret, signing, and the verifier for hosts that
//! receive webhooks. Pure functions; no store, no SQL.
//!
//! ```text
//! secret    = "whsec_" || base64(key)            (the prefix is optional when verifying)
//! signed    = webhook-id || "." || webhook-timestamp || "." || body
//! signature = "v1," || base64(HMAC-SHA256(key, signed))
//! ```
//!
//! The key is the base64-*decoded* part after `whsec_` (unlike Stripe, which keys its HMAC
//! with the whole secret text and writes hex); `webhook-timestamp` is whole seconds since the
//! Unix epoch; `webhook-signature` may carry several space-separated entries (a sender rotating
//! its secret signs with both), and one matching `v1` entry suffices.

use std::fmt;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::clock::Timestamp;
use crate::crypto::secret::{constant_time_eq, random_array};
use crate::error::{Error, ErrorKind, Result};

/// The prefix of a secret's text form.
const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret the crate generates.
const GENERATED_KEY_LEN: usize = 32;
/// The largest key a secret may decode to (the scheme asks for 24 to 64 bytes).
const MAX_KEY_LEN: usize = 64;
/// The largest `webhook-signature` header the verifier reads; a sender rotating through a few
/// secrets stays far below it.
const MAX_SIGNATURE_HEADER: usize = 4096;
/// The largest `webhook-id` header the verifier reads.
const MAX_ID_HEADER: usize = 256;

/// The header names of the scheme, lower case as HTTP/2 writes them.
pub const HEADER_ID: &str = "webhook-id";
/// The header with the attempt's time, whole seconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header with the signatures, `v1,<base64>` entries separated by spaces.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// The default tolerance between a webhook's timestamp and the receiver's clock: 5 minutes,
/// either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// A Standard Webhooks signing secret: `whsec_` and the base64 of its key. Wiped on drop,
/// redacted in `Debug`, never serialised.
///
/// ```
/// use shopkeep::integrations::webhooks::WebhookSecret;
///
/// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// assert_eq!(format!("{secret:?}"), "WebhookSecret([REDACTED])");
/// assert_eq!(secret.expose().as_str(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// A fresh secret of 32 random bytes, as the store gives each endpoint.
    pub(crate) fn generate() -> Result<Self> {
        let key: Zeroizing<[u8; GENERATED_KEY_LEN]> = Zeroizing::new(random_array()?);
        Ok(WebhookSecret(Zeroizing::new(key.to_vec())))
    }

    /// A secret from its key bytes (as decrypted from the store).
    pub(crate) fn from_key(key: &[u8]) -> Self {
        WebhookSecret(Zeroizing::new(key.to_vec()))
    }

    /// Parses a secret's text: `whsec_` and standard base64 (with padding), or the base64
    /// alone, as the scheme's reference libraries accept it.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadSecret`] if the text is not base64 or decodes to no key or one over
    /// 64 bytes.
    pub fn parse(text: &str) -> std::result::Result<Self, VerifyError> {
        let text = text.trim();
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = Zeroizing::new(Base64::decode_vec(encoded).map_err(|_| VerifyError::BadSecret)?);
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(VerifyError::BadSecret);
        }
        Ok(WebhookSecret(key))
    }

    /// The secret's text, `whsec_…`, to hand to the receiver once (it is in a zeroizing
    /// buffer: keep it no longer than needed).
    pub fn expose(&self) -> Zeroizing<String> {
        // Every buffer that holds the encoded key is wiped, the intermediate one included.
        let encoded = Zeroizing::new(Base64::encode_string(self.0.as_slice()));
        let mut text = Zeroizing::new(String::with_capacity(SECRET_PREFIX.len() + encoded.len()));
        text.push_str(SECRET_PREFIX);
        text.push_str(&encoded);
        text
    }

    /// The key bytes, for sealing in the store.
    pub(crate) fn key(&self) -> &[u8] {
        &self.0
    }

    /// The raw HMAC-SHA256 of `id.timestamp.body` under this secret's key.
    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .map_err(|_| Error::new(ErrorKind::Crypto, "a webhook secret has no key"))?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(mac.finalize().into_bytes().into())
    }

    /// The `webhook-signature` header value of a message: `v1,<base64 HMAC-SHA256>` of
    /// `id.timestamp.body`, `timestamp` in whole seconds since the Unix epoch.
    ///
    /// ```
    /// use shopkeep::integrations::webhooks::WebhookSecret;
    ///
    /// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#)?;
    /// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Crypto` only if the secret holds no key, which no constructor allows.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
        Ok(format!(
            "v1,{}",
            Base64::encode_string(&self.mac(id, timestamp, body)?)
        ))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

/// Why a received webhook was refused. Each refusal says which check failed, never what the
/// expected signature was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The secret is not `whsec_` and base64 of 1 to 64 bytes.
    BadSecret,
    /// A required header is missing (its name).
    MissingHeader(&'static str),
    /// A header is malformed: a timestamp that is not whole seconds, an oversized value (its
    /// name).
    InvalidHeader(&'static str),
    /// The timestamp is older than the tolerance allows: a replay, or a very late retry.
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    TimestampTooNew,
    /// No `v1` entry of the signature header matches the body under the secret.
    NoMatchingSignature,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::BadSecret => f.write_str("the webhook secret is not whsec_ and base64"),
            VerifyError::MissingHeader(name) => write!(f, "the {name} header is missing"),
            VerifyError::InvalidHeader(name) => write!(f, "the {name} header is malformed"),
            VerifyError::TimestampTooOld => f.write_str("the webhook's timestamp is too old"),
            VerifyError::TimestampTooNew => {
                f.write_str("the webhook's timestamp is too far in the future")
            }
            VerifyError::NoMatchingSignature => {
                f.write_str("no signature of the webhook matches its body")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// A refusal as the crate's error: `Validation` (field `secret`) for a bad secret, which is
/// the receiver's configuration; `Unauthenticated` for everything the request got wrong.
impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::BadSecret => Error::validation("secret", e.to_string()),
            _ => Error::new(ErrorKind::Unauthenticated, e.to_string()),
        }
    }
}

/// The three headers of a received webhook, as the host's HTTP library hands them over.
///
/// ```
/// use shopkeep::integrations::webhooks::ReceivedHeaders;
///
/// let pairs = [("Webhook-Id", "msg_1"), ("Webhook-Timestamp", "1614265330"), ("Content-Type", "application/json")];
/// let headers = ReceivedHeaders::from_pairs(pairs);
/// assert_eq!(headers.id(), Some("msg_1"));
/// assert_eq!(headers.signature(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedHeaders {
    id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
}

impl ReceivedHeaders {
    /// The headers' values, each `None` where the request had none.
    pub fn new(id: Option<&str>, timestamp: Option<&str>, signature: Option<&str>) -> Self {
        ReceivedHeaders {
            id: id.map(str::to_owned),
            timestamp: timestamp.map(str::to_owned),
            signature: signature.map(str::to_owned),
        }
    }

    /// Picks the three headers out of all of a request's, by name in any letter case; other
    /// headers are ignored. Where a header repeats, the first one counts.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut headers = ReceivedHeaders::default();
        for (name, value) in pairs {
            let slot = if name.eq_ignore_ascii_case(HEADER_ID) {
                &mut headers.id
            } else if name.eq_ignore_ascii_case(HEADER_TIMESTAMP) {
                &mut headers.timestamp
            } else if name.eq_ignore_ascii_case(HEADER_SIGNATURE) {
                &mut headers.signature
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value.to_owned());
            }
        }
        headers
    }

    /// `webhook-id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `webhook-timestamp`.
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }

    /// `webhook-signature`.
    pub fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }
}

/// Verifies webhooks signed by the Standard Webhooks scheme, for a host that receives them
/// (from shopkeep or any other sender).
///
/// Checks, in order: the three headers are present and well formed; the timestamp is within
/// the tolerance of `now` (5 minutes by default, either way), which refuses replays; one `v1`
/// entry of the signature header equals the HMAC-SHA256 of `id.timestamp.body`, compared in
/// constant time. Entries of other versions (`v1a`, `v2`) are skipped.
///
/// ```
/// use shopkeep::clock::Timestamp;
/// use shopkeep::integrations::webhooks::{ReceivedHeaders, Verifier, VerifyError};
///
/// let verifier = Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let body = br#"{"test": 2432232314}"#;
/// let headers = ReceivedHeaders::new(
///     Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
///     Some("1614265330"),
///     Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
/// );
/// let now = Timestamp::from_unix_millis(1_614_265_330_000 + 60_000)?;
/// verifier.verify(&headers, body, now)?;
/// let tampered = br#"{"test": 2432232315}"#;
/// assert_eq!(verifier.verify(&headers, tampered, now), Err(VerifyError::NoMatchingSignature));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Verifier {
    secret: WebhookSecret,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier for the secret's text (`whsec_…`), with the default tolerance.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadSecret`] if the text is not a secret ([`WebhookSecret::parse`]).
    pub fn new(secret: &str) -> std::result::Result<Self, VerifyError> {
        Ok(Verifier::with_secret(WebhookSecret::parse(secret)?))
    }

    /// A verifier for a parsed secret, with the default tolerance.
    pub fn with_secret(secret: WebhookSecret) -> Self {
        Verifier {
            secret,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// The same verifier with another tolerance between the timestamp and `now`.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies one received webhook: its headers, its raw body (the bytes as received, before
    /// any JSON parsing) and the receiver's `now` (its clock, injected).
    ///
    /// # Errors
    ///
    /// The first check that fails, as a [`VerifyError`].
    pub fn verify(
        &self,
        headers: &ReceivedHeaders,
        body: &[u8],
        now: Timestamp,
    ) -> std::result::Result<(), VerifyError> {
        let id = headers.id().ok_or(VerifyError::MissingHeader(HEADER_ID))?;
        let timestamp = headers
            .timestamp()
            .ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?;
        let signatures = headers
            .signature()
            .ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?;
        if id.is_empty() || id.len() > MAX_ID_HEADER {
            return Err(VerifyError::InvalidHeader(HEADER_ID));
        }
        if signatures.len() > MAX_SIGNATURE_HEADER {
            return Err(VerifyError::InvalidHeader(HEADER_SIGNATURE));
        }
        let seconds = parse_seconds(timestamp)?;
        let now_seconds = now.unix_millis().div_euclid(1000);
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if now_seconds.saturating_sub(seconds) > tolerance {
            return Err(VerifyError::TimestampTooOld);
        }
        if seconds.saturating_sub(now_seconds) > tolerance {
            return Err(VerifyError::TimestampTooNew);
        }
        let expected = self
            .secret
            .mac(id, seconds, body)
            .map_err(|_| VerifyError::BadSecret)?;
        // Every entry is looked at, matching or not, so the time taken says nothing about
        // which one matched.
        let mut matched = false;
        for entry in signatures.split(' ').filter(|e| !e.is_empty()) {
            let Some(("v1", encoded)) = entry.split_once(',') else {
                continue;
            };
            if let Ok(given) = Base64::decode_vec(encoded) {
                matched |= constant_time_eq(&given, &expected);
            }
        }
        if matched {
            Ok(())
        } else {
            Err(VerifyError::NoMatchingSignature)
        }
    }
}

/// Whole seconds since the epoch, as the scheme writes them: ASCII digits only.
fn parse_seconds(text: &str) -> std::result::Result<i64, VerifyError> {
    let invalid = VerifyError::InvalidHeader(HEADER_TIMESTAMP);
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid);
    }
    text.parse().map_err(|_| invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_round_trips_through_its_text() -> Result<()> {
        let secret = WebhookSecret::generate()?;
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        let parsed = WebhookSecret::parse(&text).map_err(Error::from)?;
        assert_eq!(parsed.key(), secret.key());
        assert_eq!(secret.key().len(), 32);
        Ok(())
    }

    #[test]
    fn secrets_that_are_not_base64_or_empty_are_refused() {
        for bad in ["whsec_", "whsec_not base64!", "", "whsec_AAAA=AAA"] {
            assert_eq!(
                WebhookSecret::parse(bad).err(),
                Some(VerifyError::BadSecret),
                "{bad}"
            );
        }
        let long = format!("whsec_{}", Base64::encode_string(&[7; 65]));
        assert_eq!(
            WebhookSecret::parse(&long).err(),
            Some(VerifyError::BadSecret)
        );
    }

    #[test]
    fn timestamps_are_digits_only() {
        for bad in ["", "-5", "+5", "1.5", " 5", "1614265330000000"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_seconds("1614265330"), Ok(1_614_265_330));
    }
}
