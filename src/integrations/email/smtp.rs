//! Sending messages over SMTP submission (feature `smtp`), through lettre's blocking transport.
//!
//! Nothing of lettre is public: [`SmtpConfig`] and [`SmtpCredentials`] are shopkeep's own, and
//! every failure is an [`ErrorKind::Delivery`](crate::ErrorKind::Delivery) error.

use std::fmt;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use zeroize::Zeroizing;

use super::Message;
use crate::error::{Error, Result};

/// The longest host name accepted, in bytes (a DNS name is at most 253).
const MAX_HOST: usize = 253;

/// The longest user name accepted, in bytes.
const MAX_USERNAME: usize = 512;

/// How long one SMTP command may wait for the server, unless [`SmtpConfig::timeout`] says
/// otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest timeout accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// How the connection to the mail server is encrypted.
///
/// Both modes verify the server's certificate against Mozilla's root certificates (compiled
/// in) and the host name given to [`SmtpConfig::new`]. An unencrypted connection is only
/// available through [`SmtpConfig::unencrypted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SmtpTls {
    /// TLS from the first byte (RFC 8314 "implicit TLS", SMTPS); port 465 unless
    /// [`SmtpConfig::port`] says otherwise. The one to choose where the provider offers it.
    Implicit,
    /// A plain connection upgraded with `STARTTLS` (RFC 3207) before anything else is said;
    /// port 587 unless [`SmtpConfig::port`] says otherwise. A server that does not offer
    /// `STARTTLS` is refused: no credentials and no message go out unencrypted.
    StartTls,
}

/// How the connection is made: one of the TLS modes, or plaintext for a local relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tls(SmtpTls),
    Unencrypted,
}

/// A user name and password for SMTP authentication (`AUTH PLAIN` or `AUTH LOGIN`, whichever
/// the server offers), sent only over an encrypted connection.
///
/// `Debug` shows neither: the user name is often a mailbox address.
///
/// ```
/// use shopkeep::integrations::email::SmtpCredentials;
///
/// let credentials = SmtpCredentials::new("shop@example.com", "app-password")?;
/// assert_eq!(format!("{credentials:?}"), "SmtpCredentials([REDACTED])");
/// Ok::<(), shopkeep::Error>(())
/// ```
#[derive(Clone)]
pub struct SmtpCredentials {
    username: Zeroizing<String>,
    password: Zeroizing<String>,
}

impl SmtpCredentials {
    /// The user name and password of the mailbox or relay account.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `smtp_username`) for an empty user name or one over 512
    /// bytes, and (field `smtp_password`) for an empty password.
    pub fn new(username: &str, password: impl Into<String>) -> Result<SmtpCredentials> {
        let password = Zeroizing::new(password.into());
        if username.is_empty() || username.len() > MAX_USERNAME {
            return Err(Error::validation(
                "smtp_username",
                "the SMTP user name must have 1 to 512 bytes",
            ));
        }
        if password.is_empty() {
            return Err(Error::validation(
                "smtp_password",
                "the SMTP password must not be empty",
            ));
        }
        Ok(SmtpCredentials {
            username: Zeroizing::new(username.to_owned()),
            password,
        })
    }
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpCredentials([REDACTED])")
    }
}

/// Where and how an [`SmtpMailer`] submits messages: the mail server's host and port, the
/// encryption, the credentials, and how long to wait for the server.
///
/// ```
/// use std::time::Duration;
/// use shopkeep::integrations::email::{SmtpConfig, SmtpCredentials, SmtpTls};
///
/// let config = SmtpConfig::new("smtp.example.com", SmtpTls::Implicit)? // port 465
///     .credentials(SmtpCredentials::new("shop@example.com", "app-password")?)
///     .timeout(Duration::from_secs(20));
/// let debug = format!("{config:?}");
/// assert!(debug.contains("smtp.example.com") && !debug.contains("app-password"));
/// Ok::<(), shopkeep::Error>(())
/// ```
#[derive(Clone)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    mode: Mode,
    credentials: Option<SmtpCredentials>,
    timeout: Duration,
}

impl SmtpConfig {
    /// The mail server at `host` (a DNS name or an IP address, as its certificate names it),
    /// encrypted as `tls` says, on that mode's standard port (465 for
    /// [`Implicit`](SmtpTls::Implicit), 587 for [`StartTls`](SmtpTls::StartTls)), without
    /// credentials, with a 60-second timeout.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `smtp_host`) for a host that is empty, longer than 253
    /// bytes, or has characters no host name or IP address has (a Unicode domain is given in
    /// its ASCII `xn--` form).
    pub fn new(host: &str, tls: SmtpTls) -> Result<SmtpConfig> {
        let port = match tls {
            SmtpTls::Implicit => 465,
            SmtpTls::StartTls => 587,
        };
        SmtpConfig::with_mode(host, port, Mode::Tls(tls))
    }

    /// An unencrypted connection to `host` on `port`: for a relay on the same machine or
    /// network (a local Postfix on port 25) and for tests, never across the internet. Such a
    /// mailer sends no credentials ([`SmtpMailer::new`] refuses them).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn unencrypted(host: &str, port: u16) -> Result<SmtpConfig> {
        SmtpConfig::with_mode(host, port, Mode::Unencrypted)
    }

    fn with_mode(host: &str, port: u16, mode: Mode) -> Result<SmtpConfig> {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
        if host.is_empty() || host.len() > MAX_HOST || !host.chars().all(valid) {
            return Err(Error::validation(
                "smtp_host",
                "the SMTP host must be a host name (ASCII form) or an IP address",
            ));
        }
        Ok(SmtpConfig {
            host: host.to_owned(),
            port,
            mode,
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Connects to `port` instead of the mode's standard one.
    #[must_use]
    pub fn port(mut self, port: u16) -> SmtpConfig {
        self.port = port;
        self
    }

    /// Authenticates with `credentials` once the connection is encrypted. A server that
    /// offers neither `AUTH PLAIN` nor `AUTH LOGIN` is then refused rather than sent to
    /// unauthenticated.
    #[must_use]
    pub fn credentials(mut self, credentials: SmtpCredentials) -> SmtpConfig {
        self.credentials = Some(credentials);
        self
    }

    /// How long one step (connecting, one SMTP command, the message data) may wait for the
    /// server; 60 seconds unless set. More than zero and at most 10 minutes
    /// ([`SmtpMailer::new`] checks).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> SmtpConfig {
        self.timeout = timeout;
        self
    }
}

/// Host, port and mode are configuration, not secrets; the credentials redact themselves.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode: &dyn fmt::Debug = match &self.mode {
            Mode::Tls(tls) => tls,
            Mode::Unencrypted => &format_args!("Unencrypted"),
        };
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", mode)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends [`Message`]s to a mail server over SMTP (feature `smtp`).
///
/// The envelope comes from the message: `MAIL FROM` is its sender's address, `RCPT TO` its
/// recipient's; the data is exactly [`Message::as_bytes`]. Each [`send`](Self::send) opens
/// one connection (TLS, `EHLO`, `AUTH` when configured), submits the message and quits; the
/// call blocks until the server has accepted the message or refused it, so an async host runs
/// it on its blocking pool. A mailer is `Send + Sync` and can be shared.
///
/// ```no_run
/// use shopkeep::integrations::email::{SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls};
/// # use shopkeep::{Email, ErrorKind};
/// # use shopkeep::integrations::email::{Composer, Recipient, Sender, LinkBase};
/// # let store = shopkeep::Store::open_in_memory(shopkeep::KeyRing::generate()?)?;
/// # let composer = Composer::new(Sender::new("Shop", Email::parse("shop@example.com")?)?, store.now());
/// # let token = shopkeep::customers::ResetToken::new("rst_example");
/// # let link = LinkBase::parse("https://shop.example/reset")?;
/// # let message = composer.password_reset(&Recipient::new(Email::parse("ana@example.com")?), &token, &link)?;
///
/// let mailer = SmtpMailer::new(
///     SmtpConfig::new("smtp.example.com", SmtpTls::Implicit)?
///         .credentials(SmtpCredentials::new("shop@example.com", "app-password")?),
/// )?;
/// match mailer.send(&message) {
///     Ok(()) => {}
///     // 4xx, or no answer at all: try again later; 5xx: it fails again as it is.
///     Err(e) if e.kind() == ErrorKind::Delivery && e.reply_code().is_some_and(|c| c >= 500) => {
///         /* give up on this message, tell the operator */
///     }
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SmtpMailer {
    config: SmtpConfig,
    transport: SmtpTransport,
}

impl SmtpMailer {
    /// A mailer for `config`. Nothing is sent and no connection is made yet.
    ///
    /// # Errors
    ///
    /// A `Validation` error for a port 0 (field `smtp_port`), a timeout of zero or over 10
    /// minutes (field `smtp_timeout`), or credentials on an [`unencrypted`](SmtpConfig::unencrypted)
    /// connection (field `smtp_credentials`); a `Delivery` error if TLS cannot be set up for the
    /// host.
    pub fn new(config: SmtpConfig) -> Result<SmtpMailer> {
        if config.port == 0 {
            return Err(Error::validation(
                "smtp_port",
                "the SMTP port must not be 0",
            ));
        }
        if config.timeout.is_zero() || config.timeout > MAX_TIMEOUT {
            return Err(Error::validation(
                "smtp_timeout",
                "the SMTP timeout must be more than zero and at most 10 minutes",
            ));
        }
        let tls = match config.mode {
            Mode::Tls(mode) => {
                let parameters = TlsParameters::new(config.host.clone())
                    .map_err(|e| delivery(e, "TLS could not be set up for the SMTP host"))?;
                match mode {
                    SmtpTls::Implicit => Tls::Wrapper(parameters),
                    SmtpTls::StartTls => Tls::Required(parameters),
                }
            }
            Mode::Unencrypted => {
                if config.credentials.is_some() {
                    return Err(Error::validation(
                        "smtp_credentials",
                        "credentials are never sent over an unencrypted connection",
                    ));
                }
                Tls::None
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(config.host.as_str())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.to_string(),
                credentials.password.to_string(),
            ));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            config,
        })
    }

    /// Submits `message`: `MAIL FROM` its sender, `RCPT TO` its recipient, `DATA` its bytes.
    /// When this returns `Ok`, the server has taken responsibility for the message.
    ///
    /// # Errors
    ///
    /// A `Delivery` error if the server cannot be reached, TLS or authentication fails, or the
    /// server refuses the sender, a recipient or the message; [`Error::reply_code`] gives
    /// the server's reply code where it answered one (the server's text is not kept: it often
    /// repeats the addresses). A `Validation` error (field `envelope`) if an address cannot go
    /// in an SMTP envelope. Nothing was accepted in either case.
    pub fn send(&self, message: &Message) -> Result<()> {
        let envelope = envelope(message)?;
        // lettre ends the data with CRLF "." CRLF of its own: that CRLF ends the message's
        // last line, so the message's own final CRLF is left off, or the server would store
        // an extra empty line.
        let bytes = message.as_bytes();
        let data = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
        self.transport
            .send_raw(&envelope, data)
            .map(|_| ())
            .map_err(|e| delivery(e, "the message was not handed to the mail server"))
    }
}

/// The configuration, credentials redacted; the transport adds nothing a reader needs.
impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The SMTP envelope of `message`, from the addresses its headers carry.
fn envelope(message: &Message) -> Result<Envelope> {
    let address = |text: &str| {
        text.parse::<Address>()
            .map_err(|_| Error::validation("envelope", "an address cannot go in an SMTP envelope"))
    };
    let from = address(message.envelope_from())?;
    let to = message
        .envelope_to()
        .iter()
        .map(|text| address(text))
        .collect::<Result<Vec<_>>>()?;
    Envelope::new(Some(from), to)
        .map_err(|_| Error::validation("envelope", "a message needs a recipient"))
}

/// A lettre failure as a `Delivery` error. A refusal keeps the server's reply code and drops
/// its text, which often repeats the addresses (personal data in a log); other failures
/// (connection, TLS, a missing server extension) keep lettre's error as the source.
fn delivery(err: lettre::transport::smtp::Error, context: &str) -> Error {
    if let Some(code) = err.status() {
        let code = u16::from(code);
        let class = if err.is_permanent() {
            "permanent"
        } else {
            "transient"
        };
        return Error::delivery(
            Some(code),
            format!("{context}: the server refused it with reply {code} ({class})"),
        );
    }
    let what = if err.is_timeout() {
        "the server did not answer in time"
    } else if err.is_tls() {
        "TLS failed"
    } else if err.is_response() {
        "the server's reply could not be read"
    } else if err.is_client() {
        "the server lacks what the message or the configuration needs"
    } else {
        "the connection failed"
    };
    let error = Error::delivery(None, format!("{context}: {what}"));
    if err.is_response() {
        // The unreadable reply is the server's text: not kept, as above.
        error
    } else {
        // Opaque: reachable as a `dyn Error` only, never as lettre's type in a signature.
        error.with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked() {
        assert!(SmtpConfig::new("smtp.example.com", SmtpTls::Implicit).is_ok());
        assert!(SmtpConfig::new("127.0.0.1", SmtpTls::StartTls).is_ok());
        assert!(SmtpConfig::unencrypted("::1", 25).is_ok());
        for bad in [
            "",
            "smtp.example.com\r\nRCPT",
            "smtp example",
            "bücher.example",
        ] {
            let err = SmtpConfig::new(bad, SmtpTls::Implicit).unwrap_err();
            assert_eq!(err.field(), Some("smtp_host"), "{bad:?}");
        }
        assert!(SmtpConfig::new(&"a".repeat(254), SmtpTls::Implicit).is_err());
    }

    #[test]
    fn modes_have_their_standard_ports() {
        let implicit = SmtpConfig::new("smtp.example.com", SmtpTls::Implicit).unwrap();
        assert_eq!(
            (implicit.port, implicit.mode),
            (465, Mode::Tls(SmtpTls::Implicit))
        );
        let starttls = SmtpConfig::new("smtp.example.com", SmtpTls::StartTls).unwrap();
        assert_eq!(
            (starttls.port, starttls.mode),
            (587, Mode::Tls(SmtpTls::StartTls))
        );
        assert_eq!(starttls.port(2587).port, 2587);
    }

    #[test]
    fn the_mailer_refuses_what_it_cannot_use() {
        let secret = || SmtpCredentials::new("shop", "hunter2").unwrap();
        let plain = SmtpConfig::unencrypted("127.0.0.1", 2525).unwrap();
        let err = SmtpMailer::new(plain.clone().credentials(secret())).unwrap_err();
        assert_eq!(err.field(), Some("smtp_credentials"));
        let err = SmtpMailer::new(plain.clone().port(0)).unwrap_err();
        assert_eq!(err.field(), Some("smtp_port"));
        let err = SmtpMailer::new(plain.clone().timeout(Duration::ZERO)).unwrap_err();
        assert_eq!(err.field(), Some("smtp_timeout"));
        assert!(SmtpMailer::new(plain).is_ok());
        let tls = SmtpConfig::new("smtp.example.com", SmtpTls::StartTls).unwrap();
        assert!(SmtpMailer::new(tls.credentials(secret())).is_ok());
    }

    #[test]
    fn credentials_are_checked() {
        assert_eq!(
            SmtpCredentials::new("", "pw").unwrap_err().field(),
            Some("smtp_username")
        );
        assert_eq!(
            SmtpCredentials::new("shop", "").unwrap_err().field(),
            Some("smtp_password")
        );
    }
}
