//! Login sessions: the settings, the opaque token a host puts in a cookie, and a login's result.

use std::fmt;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use super::principal::Principal;
use crate::clock::Timestamp;
use crate::crypto::secret::random_array;
use crate::error::{Error, Result};

/// How long sessions last.
///
/// A session ends at the first of: its absolute lifetime since login, an idle period without
/// use, logout, a password change, or the account being disabled or erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    idle: Duration,
    absolute: Duration,
}

impl Default for SessionSettings {
    /// 12 hours idle, 7 days absolute.
    fn default() -> Self {
        SessionSettings {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl SessionSettings {
    /// Sessions that end after `idle` without use, and `absolute` after login at the latest.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `sessions`) unless a minute ≤ `idle` ≤ `absolute` ≤ 365
    /// days. (A longer session is a standing credential; the bound also keeps every expiry
    /// inside the clock's range, so that no login fails later on an accepted setting.)
    pub fn new(idle: Duration, absolute: Duration) -> Result<Self> {
        let minute = Duration::from_secs(60);
        let year = Duration::from_secs(365 * 24 * 3600);
        if idle < minute || idle > absolute || absolute > year {
            return Err(Error::validation(
                "sessions",
                "session lifetimes are at least a minute and at most 365 days, and idle is at most absolute",
            ));
        }
        Ok(SessionSettings { idle, absolute })
    }

    /// The idle timeout.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The absolute lifetime.
    pub fn absolute(&self) -> Duration {
        self.absolute
    }

    /// How stale a session's last-use time may get before a request rewrites it: recording
    /// every request would turn every read into a write.
    pub(crate) fn touch_interval(&self) -> Duration {
        (self.idle / 10).min(Duration::from_secs(60))
    }
}

/// Prefix of session tokens, so that a leaked one is recognisable in logs and by scanners.
const PREFIX: &str = "shs_";

/// An opaque session token: 256 random bits, for the host to keep in a cookie and hand back on
/// the next request. The store keeps only its keyed hash. A secret: wiped on drop, redacted in
/// `Debug`, not `Clone`.
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// The token as the host received it (from a cookie or a header).
    pub fn new(text: impl Into<String>) -> Self {
        SessionToken(Zeroizing::new(text.into()))
    }

    pub(crate) fn generate() -> Result<Self> {
        let bytes = Zeroizing::new(random_array::<32>()?);
        Ok(SessionToken(Zeroizing::new(format!(
            "{PREFIX}{}",
            Base64UrlUnpadded::encode_string(bytes.as_slice())
        ))))
    }

    /// The token text, to put in a cookie (`Secure; HttpOnly; SameSite=Lax` at least).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([REDACTED])")
    }
}

/// A successful login: who logged in, and the session opened for them.
#[derive(Debug)]
pub struct Login {
    pub(crate) principal: Principal,
    pub(crate) token: SessionToken,
    pub(crate) expires_at: Timestamp,
}

impl Login {
    /// The logged-in principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The session token, for the host's cookie.
    pub fn token(&self) -> &SessionToken {
        &self.token
    }

    /// When the session ends at the latest (it may end earlier when idle).
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// Splits the login into its principal and token.
    pub fn into_parts(self) -> (Principal, SessionToken) {
        (self.principal, self.token)
    }
}
