//! The one error type of the crate.
//!
//! Every fallible function in shopkeep returns [`Result<T>`](crate::Result), whose error is
//! [`Error`]. An error carries an [`ErrorKind`] that a host matches on to decide what to do
//! (answer 404, 409, 422, retry, alert), a message a host can show or log, and, where a lower
//! layer failed, a [`source`](std::error::Error::source) chain. No type of a dependency
//! (rusqlite, chrono, ...) appears in this API: the source is an opaque `dyn Error`.

use std::fmt;
use std::time::Duration;

use crate::catalog::VariantId;

/// A specialised `Result` whose error is shopkeep's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a host can act on.
///
/// The enum is `#[non_exhaustive]`: new capabilities add kinds, so a `match` needs a wildcard arm.
///
/// ```
/// use shopkeep::{Currency, ErrorKind, Money};
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
    /// A unique value is taken: an email, a SKU, a coupon code, a payment reference that
    /// already paid another order. A host that must not reveal who is registered (see
    /// `docs/security.md`) answers a registration refused this way exactly like a success.
    AlreadyExists,
    /// The object changed since the caller read it (a stale version, a cart that changed since
    /// it was shown), or a concurrent write got there first: read it again and retry.
    Conflict,
    /// Less stock is on hand than a sale or a stock decrease asks for; nothing was taken.
    /// [`Error::out_of_stock`] gives the variant and the figures.
    OutOfStock,
    /// An idempotency key was used before with a different request: the first request's
    /// result is not this request's answer, so the caller needs a new key.
    IdempotencyMismatch,
    /// The object's current state does not allow the operation: an order that is not paid
    /// cannot be shipped, an archived product cannot be archived again, the last owner cannot
    /// be disabled.
    InvalidTransition,
    /// An input failed validation. `field` names the offending input (also given by
    /// [`Error::field`]). The caller can fix the request and send it again.
    Validation {
        /// The name of the field (or argument) that was rejected.
        field: &'static str,
    },
    /// Several inputs of one submission failed validation at once (the lead form): each is a
    /// [`FieldError`], listed by [`Error::field_errors`], so that a form shows them all.
    InvalidFields,
    /// The acting principal is not allowed to perform the operation.
    Forbidden,
    /// The caller could not be authenticated (wrong credentials, expired or revoked session).
    Unauthenticated,
    /// Too many failed attempts (logins): the caller must wait before trying again;
    /// [`Error::retry_after`] says how long.
    TooManyAttempts,
    /// The shop is not set up for the operation yet (no settings saved): the operator has to
    /// act, not the caller.
    NotConfigured,
    /// A cryptographic operation failed: a wrong key, a tampered or unknown ciphertext.
    Crypto,
    /// An arithmetic result does not fit the representable range (for money: an `i64` of minor units).
    Overflow,
    /// Two amounts in different currencies were combined.
    CurrencyMismatch,
    /// The file is not a SQLite database, is corrupted, or is a SQLite database of another application.
    NotADatabase,
    /// The database was written by a newer version of shopkeep than this one.
    SchemaTooNew,
    /// The database could not be read or written (I/O, locking, a full disk, a read-only path).
    Storage,
    /// The operation has no meaning on the store's engine: a file backup or a per-connection
    /// report of a PostgreSQL store (its server has its own tools for both).
    Unsupported,
    /// A fault inside shopkeep itself, such as an embedded resource (the invoice font) that
    /// cannot be read: nothing the caller or the operator did.
    Internal,
    /// A message was not handed over to the mail server (feature `smtp`): the server could not
    /// be reached, TLS or authentication failed, or the server refused the message or a
    /// recipient. [`Error::reply_code`] gives the server's SMTP reply code where it answered
    /// one: 4xx may succeed later, 5xx fails again as it is.
    Delivery,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::NotFound => f.write_str("not found"),
            ErrorKind::AlreadyExists => f.write_str("already exists"),
            ErrorKind::Conflict => f.write_str("conflict"),
            ErrorKind::OutOfStock => f.write_str("out of stock"),
            ErrorKind::IdempotencyMismatch => f.write_str("idempotency key reused"),
            ErrorKind::InvalidTransition => f.write_str("not allowed in the current state"),
            ErrorKind::Validation { field } => write!(f, "invalid {field}"),
            ErrorKind::InvalidFields => f.write_str("invalid fields"),
            ErrorKind::Forbidden => f.write_str("forbidden"),
            ErrorKind::Unauthenticated => f.write_str("unauthenticated"),
            ErrorKind::TooManyAttempts => f.write_str("too many attempts"),
            ErrorKind::NotConfigured => f.write_str("not configured"),
            ErrorKind::Crypto => f.write_str("cryptographic failure"),
            ErrorKind::Overflow => f.write_str("arithmetic overflow"),
            ErrorKind::CurrencyMismatch => f.write_str("currency mismatch"),
            ErrorKind::NotADatabase => f.write_str("not a shopkeep database"),
            ErrorKind::SchemaTooNew => f.write_str("database schema too new"),
            ErrorKind::Storage => f.write_str("storage failure"),
            ErrorKind::Unsupported => f.write_str("not supported on this engine"),
            ErrorKind::Internal => f.write_str("internal error"),
            ErrorKind::Delivery => f.write_str("mail delivery failed"),
        }
    }
}

/// The figures of an [`ErrorKind::OutOfStock`] error: which variant, how many are on hand and
/// how many were asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StockShortage {
    variant: VariantId,
    available: u64,
    requested: u64,
}

impl StockShortage {
    /// The variant that is short.
    pub fn variant(&self) -> VariantId {
        self.variant
    }

    /// How many units were on hand.
    pub fn available(&self) -> u64 {
        self.available
    }

    /// How many units the refused sale or decrease asked for.
    pub fn requested(&self) -> u64 {
        self.requested
    }
}

/// One rejected input of an [`ErrorKind::InvalidFields`] error: the field and the message a
/// form shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    field: &'static str,
    message: &'static str,
}

impl FieldError {
    /// A rejected `field` with the `message` to show.
    pub(crate) fn new(field: &'static str, message: &'static str) -> Self {
        FieldError { field, message }
    }

    /// The name of the rejected field.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The message to show beside the field.
    pub fn message(&self) -> &'static str {
        self.message
    }
}

/// Structured detail some kinds carry besides the message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Detail {
    RetryAfter(Duration),
    OutOfStock(StockShortage),
    Fields(Vec<FieldError>),
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    ReplyCode(u16),
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
    detail: Option<Detail>,
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
            detail: None,
            denial: None,
        }
    }

    /// A `TooManyAttempts` error: the caller may try again after `wait`.
    pub(crate) fn too_many_attempts(wait: Duration, message: impl Into<String>) -> Self {
        let mut err = Error::new(ErrorKind::TooManyAttempts, message);
        err.detail = Some(Detail::RetryAfter(wait));
        err
    }

    /// An `OutOfStock` error: `requested` units of `variant` asked for, `available` on hand.
    pub(crate) fn out_of_stock_error(variant: VariantId, available: u64, requested: u64) -> Self {
        let mut err = Error::new(
            ErrorKind::OutOfStock,
            format!("not enough stock: {available} on hand, {requested} asked for"),
        );
        err.detail = Some(Detail::OutOfStock(StockShortage {
            variant,
            available,
            requested,
        }));
        err
    }

    /// An `InvalidFields` error listing every rejected field of one submission.
    pub(crate) fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut err = Error::new(ErrorKind::InvalidFields, message);
        err.detail = Some(Detail::Fields(fields));
        err
    }

    /// A `Delivery` error; `reply` is the mail server's SMTP reply code, where it answered one.
    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    pub(crate) fn delivery(reply: Option<u16>, message: impl Into<String>) -> Self {
        let mut err = Error::new(ErrorKind::Delivery, message);
        err.detail = reply.map(Detail::ReplyCode);
        err
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

    /// The rejected field of a [`Validation`](ErrorKind::Validation) error; `None` for other
    /// kinds.
    pub fn field(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::Validation { field } => Some(field),
            _ => None,
        }
    }

    /// How long to wait before trying again, for a
    /// [`TooManyAttempts`](ErrorKind::TooManyAttempts) error (a host sends it as
    /// `Retry-After`, rounded up to whole seconds); `None` for other kinds.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.detail {
            Some(Detail::RetryAfter(wait)) => Some(wait),
            _ => None,
        }
    }

    /// The rejected fields of an [`InvalidFields`](ErrorKind::InvalidFields) error, in the
    /// order the form has them; empty for other kinds.
    pub fn field_errors(&self) -> &[FieldError] {
        match &self.detail {
            Some(Detail::Fields(fields)) => fields,
            _ => &[],
        }
    }

    /// The SMTP reply code (RFC 5321 §4.2, e.g. `550`) with which the mail server refused a
    /// message, for a [`Delivery`](ErrorKind::Delivery) error; `None` where the server did not
    /// answer one (unreachable, TLS failed) and for other kinds. A 4xx code is transient (try
    /// again later), a 5xx code permanent.
    pub fn reply_code(&self) -> Option<u16> {
        match self.detail {
            Some(Detail::ReplyCode(code)) => Some(code),
            _ => None,
        }
    }

    /// The variant and figures of an [`OutOfStock`](ErrorKind::OutOfStock) error; `None` for
    /// other kinds.
    pub fn out_of_stock(&self) -> Option<StockShortage> {
        match self.detail {
            Some(Detail::OutOfStock(shortage)) => Some(shortage),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(detail) = &self.detail {
            d.field("detail", detail);
        }
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

    /// The kind's name as the table in docs/architecture.md writes it, and the status the
    /// table gives it. The match has no wildcard: a new kind does not compile until it is
    /// placed here, and the test below then fails until the table has its row.
    fn documented(kind: ErrorKind) -> (&'static str, u16) {
        match kind {
            ErrorKind::NotFound => ("NotFound", 404),
            ErrorKind::AlreadyExists => ("AlreadyExists", 409),
            ErrorKind::Conflict => ("Conflict", 409),
            ErrorKind::OutOfStock => ("OutOfStock", 409),
            ErrorKind::InvalidTransition => ("InvalidTransition", 409),
            ErrorKind::IdempotencyMismatch => ("IdempotencyMismatch", 422),
            ErrorKind::Validation { .. } => ("Validation { field }", 422),
            ErrorKind::InvalidFields => ("InvalidFields", 422),
            ErrorKind::Overflow => ("Overflow", 422),
            ErrorKind::CurrencyMismatch => ("CurrencyMismatch", 422),
            ErrorKind::Forbidden => ("Forbidden", 403),
            ErrorKind::Unauthenticated => ("Unauthenticated", 401),
            ErrorKind::TooManyAttempts => ("TooManyAttempts", 429),
            ErrorKind::NotConfigured => ("NotConfigured", 500),
            ErrorKind::Crypto => ("Crypto", 500),
            ErrorKind::NotADatabase => ("NotADatabase", 500),
            ErrorKind::SchemaTooNew => ("SchemaTooNew", 500),
            ErrorKind::Storage => ("Storage", 500),
            ErrorKind::Unsupported => ("Unsupported", 501),
            ErrorKind::Internal => ("Internal", 500),
            ErrorKind::Delivery => ("Delivery", 502),
        }
    }

    /// Every kind once, in the table's order.
    const ALL: [ErrorKind; 21] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::OutOfStock,
        ErrorKind::InvalidTransition,
        ErrorKind::IdempotencyMismatch,
        ErrorKind::Validation { field: "field" },
        ErrorKind::InvalidFields,
        ErrorKind::Overflow,
        ErrorKind::CurrencyMismatch,
        ErrorKind::Forbidden,
        ErrorKind::Unauthenticated,
        ErrorKind::TooManyAttempts,
        ErrorKind::NotConfigured,
        ErrorKind::Crypto,
        ErrorKind::NotADatabase,
        ErrorKind::SchemaTooNew,
        ErrorKind::Storage,
        ErrorKind::Unsupported,
        ErrorKind::Internal,
        ErrorKind::Delivery,
    ];

    /// The rows `| `Kind` | status | ... |` of the kind-to-HTTP table in docs/architecture.md.
    fn http_table() -> Vec<(String, u16)> {
        let doc = include_str!("../docs/architecture.md");
        let section = doc.split("## Errors").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((name.to_owned(), cells.get(2)?.parse().unwrap()))
            })
            .collect()
    }

    #[test]
    fn the_http_table_names_every_kind() {
        let table = http_table();
        let documented: Vec<(String, u16)> = ALL
            .iter()
            .map(|&kind| {
                let (name, status) = documented(kind);
                (name.to_owned(), status)
            })
            .collect();
        // Same rows, same order: no kind missing, none twice, no row for a kind that is gone.
        assert_eq!(table, documented);
    }

    #[test]
    fn details_are_reachable_only_on_their_kind() {
        let wait = Duration::from_millis(1500);
        let throttled = Error::too_many_attempts(wait, "wait");
        assert_eq!(throttled.kind(), ErrorKind::TooManyAttempts);
        assert_eq!(throttled.retry_after(), Some(wait));
        assert_eq!(throttled.out_of_stock(), None);
        assert_eq!(throttled.field(), None);

        let variant = VariantId::from_bytes([7; 16]);
        let short = Error::out_of_stock_error(variant, 2, 5);
        assert_eq!(short.kind(), ErrorKind::OutOfStock);
        let figures = short.out_of_stock().unwrap();
        assert_eq!(
            (figures.variant(), figures.available(), figures.requested()),
            (variant, 2, 5)
        );
        assert_eq!(short.retry_after(), None);
        assert_eq!(
            short.to_string(),
            "out of stock: not enough stock: 2 on hand, 5 asked for"
        );

        let invalid = Error::validation("email", "not an email");
        assert_eq!(invalid.field(), Some("email"));
        assert_eq!(invalid.out_of_stock(), None);
        assert_eq!(invalid.reply_code(), None);

        let refused = Error::delivery(Some(550), "refused");
        assert_eq!(refused.kind(), ErrorKind::Delivery);
        assert_eq!(refused.reply_code(), Some(550));
        assert_eq!(refused.retry_after(), None);
        assert_eq!(Error::delivery(None, "unreachable").reply_code(), None);
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
