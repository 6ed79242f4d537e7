//! The one error type of the crate.
//!
//! Every fallible function in shopkeep returns [`Result<T>`](crate::Result), whose error is
//! [`Error`]. An error carries an [`ErrorKind`] that a host matches on to decide what to do
//! (answer 404, 409, 422, retry, alert), a message a host can show or log, and, where a lower
//! layer failed, a [`source`](std::error::Error::source) chain. No type of a dependency
//! (rusqlite, chrono, ...) appears in this API: the source is an opaque `dyn Error`.

use std::fmt;

/// A specialised `Result` whose error is shopkeep's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a host can act on.
///
/// The enum is `#[non_exhaustive]`: new capabilities add kinds, so a `match` needs a wildcard arm.
///
/// ```
/// use shopkeep::{ErrorKind, Money, Currency};
///
/// let err = Money::parse("12.999", Currency::EUR).unwrap_err();
/// match err.kind() {
///     ErrorKind::Validation { field } => assert_eq!(field, "amount"),
///     other => panic!("unexpected kind {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object does not exist, or the acting principal may not see it (the two answer alike,
    /// so that an error never reveals that an object exists).
    NotFound,
    /// The operation conflicts with the current state: a duplicate unique value, a stale version,
    /// an idempotency key reused with another request.
    Conflict,
    /// An input failed validation. `field` names the offending input.
    Validation {
        /// The name of the field (or argument) that was rejected.
        field: &'static str,
    },
    /// The acting principal is not allowed to perform the operation.
    Forbidden,
    /// The caller could not be authenticated (wrong credentials, expired or revoked session).
    Unauthenticated,
    /// A cryptographic operation failed: a wrong key, a tampered or unknown ciphertext.
    Crypto,
    /// An arithmetic result does not fit the representable range (for money: an `i64` of minor units).
    Overflow,
    /// Two amounts in different currencies were combined.
    CurrencyMismatch,
    /// The requested state transition is not allowed from the object's current state.
    InvalidState,
    /// The file is not a SQLite database, is corrupted, or is a SQLite database of another application.
    NotADatabase,
    /// The database was written by a newer version of shopkeep than this one.
    SchemaTooNew,
    /// The database could not be read or written (I/O, locking, a full disk, a read-only path).
    Storage,
    /// Too many failed attempts (logins): the caller must wait before trying again; the
    /// message says how long.
    TooManyAttempts,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::NotFound => f.write_str("not found"),
            ErrorKind::Conflict => f.write_str("conflict"),
            ErrorKind::Validation { field } => write!(f, "invalid {field}"),
            ErrorKind::Forbidden => f.write_str("forbidden"),
            ErrorKind::Unauthenticated => f.write_str("unauthenticated"),
            ErrorKind::Crypto => f.write_str("cryptographic failure"),
            ErrorKind::Overflow => f.write_str("arithmetic overflow"),
            ErrorKind::CurrencyMismatch => f.write_str("currency mismatch"),
            ErrorKind::InvalidState => f.write_str("invalid state transition"),
            ErrorKind::NotADatabase => f.write_str("not a shopkeep database"),
            ErrorKind::SchemaTooNew => f.write_str("database schema too new"),
            ErrorKind::Storage => f.write_str("storage failure"),
            ErrorKind::TooManyAttempts => f.write_str("too many attempts"),
        }
    }
}

/// The error of every fallible shopkeep operation.
///
/// `Display` gives a one-line message fit for a log or, for validation errors, for the user;
/// [`kind`](Error::kind) classifies it; [`source`](std::error::Error::source) chains to the
/// underlying cause where there is one.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// A policy refusal still to be written to the audit log, in its own transaction, once the
    /// refused operation's transaction has rolled back.
    denial: Option<Box<Denial>>,
}

/// What the audit log records of a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denial {
    pub(crate) principal: String,
    pub(crate) action: &'static str,
    pub(crate) resource: String,
}

impl Error {
    /// Creates an error of the given kind with a message.
    ///
    /// Hosts that implement shopkeep traits (a [`Clock`](crate::Clock), later a policy) use this
    /// to report their own failures.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
            denial: None,
        }
    }

    /// Marks the error as a policy refusal for the audit log.
    pub(crate) fn with_denial(mut self, denial: Denial) -> Self {
        self.denial = Some(Box::new(denial));
        self
    }

    /// Takes the refusal to audit, if this error is one.
    pub(crate) fn take_denial(&mut self) -> Option<Denial> {
        self.denial.take().map(|d| *d)
    }

    /// A validation error for `field`.
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Validation { field }, message)
    }

    /// Attaches the underlying cause.
    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong, for a host to act on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// A SQLite failure as a `Storage`, `NotADatabase` or `Conflict` error; the rusqlite error stays
/// reachable only as an opaque `source()`.
///
/// A crate-private function rather than `From<rusqlite::Error> for Error`: a trait impl would be
/// public API, and a rusqlite major version would then break the hosts (`.map_err(sqlite)?`
/// where a repository runs SQL).
pub(crate) fn sqlite(err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let kind = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ErrorKind::NotADatabase,
        Some(ErrorCode::ConstraintViolation) => ErrorKind::Conflict,
        _ => ErrorKind::Storage,
    };
    Error::new(kind, err.to_string()).with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_kind_and_message_and_source_chains() {
        let io = std::io::Error::other("disk on fire");
        let err = Error::new(ErrorKind::Storage, "could not write").with_source(io);
        assert_eq!(err.to_string(), "storage failure: could not write");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
    }

    #[test]
    fn sqlite_codes_map_to_kinds() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1);")
            .unwrap();
        let err = sqlite(conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let err = sqlite(conn.execute("SELECT nope", []).unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Storage);
    }
}
