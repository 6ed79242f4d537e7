//! Passwords: the policy a new password must meet, and argon2id hashing and verification.
//!
//! The policy follows NIST SP 800-63B-4 (section 3.1.1.2): a length floor, a generous ceiling,
//! no composition rules, and a block-list of common passwords. Hashing follows the OWASP
//! Password Storage Cheat Sheet: argon2id with m = 19 MiB, t = 2, p = 1 by default and a fresh
//! 16-byte random salt per hash, stored as a PHC string.

use std::collections::HashSet;
use std::fmt;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc;
// Traits imported without a name: `PasswordHasher` is the name of this module's own type.
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::secret::random_array;
use crate::error::{Error, ErrorKind, Result};

/// The longest password accepted, in characters (Unicode scalar values).
const MAX_CHARS: usize = 256;

/// The longest password accepted, in UTF-8 bytes. 256 characters of at most 4 bytes each fit;
/// the byte bound is checked first because it costs nothing, so a megabyte of input is refused
/// before anything walks over it.
const MAX_BYTES: usize = 1024;

/// The salt length, in bytes (the PHC string format's recommendation).
const SALT_LEN: usize = 16;

/// The argon2 output length, in bytes (argon2's default).
const OUTPUT_LEN: usize = 32;

/// OWASP's argon2id configurations of equal strength, as (memory KiB, iterations), p = 1.
/// Parameters are strong enough when they reach both numbers of at least one of these rows.
const OWASP_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// Upper bounds on parameters, for new parameters and for stored hashes alike: a stored hash
/// names its own cost, and a tampered one must not make a login allocate or spin without end.
const MAX_MEMORY_KIB: u32 = 1024 * 1024; // 1 GiB
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 64;

/// The common-password list: Django's list, entries of 8 or more characters; provenance and
/// licence are in the file's header.
const COMMON_PASSWORDS_TEXT: &str = include_str!("common_passwords.txt");

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TEXT
        .lines()
        .filter(|line| !line.is_empty() && *line != "#" && !line.starts_with("# "))
        .collect()
});

/// A candidate password, as typed by a person.
///
/// The text is wiped from memory when the value is dropped. `Password` is deliberately neither
/// `Clone` nor serialisable, and its `Debug` output never shows the text, so it cannot leak into
/// a log or a copy by accident.
///
/// ```
/// use shopkeep::crypto::Password;
///
/// let password = Password::new("correct horse battery staple");
/// assert_eq!(format!("{password:?}"), "Password([REDACTED])");
/// ```
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps the password text. No check happens here: see [`PasswordPolicy::check`] for a new
    /// password and [`PasswordHasher::verify`] for a login.
    pub fn new(text: impl Into<String>) -> Self {
        Password(Zeroizing::new(text.into()))
    }

    /// The UTF-8 bytes, for hashing.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// Refuses a password over the length ceiling. Shared by the policy and the hasher, so that
/// neither a sign-up nor a login spends argon2 time on an abusive input.
fn check_max_length(password: &Password) -> Result<()> {
    // Bytes first: `len` is free, counting characters walks the whole text.
    if password.as_bytes().len() > MAX_BYTES || password.as_str().chars().count() > MAX_CHARS {
        return Err(Error::validation(
            "password",
            format!("a password may be at most {MAX_CHARS} characters long"),
        ));
    }
    Ok(())
}

/// The rules a new password must meet, after NIST SP 800-63B-4.
///
/// - **Length**: at least [`DEFAULT_MIN_LENGTH`](Self::DEFAULT_MIN_LENGTH) = 15 characters by
///   default, the revision's minimum for a password that is the only authentication factor. A
///   host whose accounts also use a second factor may lower it, to no less than 8
///   ([`LOWEST_MIN_LENGTH`](Self::LOWEST_MIN_LENGTH)), the revision's minimum for a password used
///   with multi-factor authentication.
/// - **Ceiling**: at most 256 characters and at most 1024 bytes (the revision asks to accept at
///   least 64). Argon2's cost barely depends on the length, but an unbounded input still costs
///   memory and time to receive, copy and hash, so a bound stops that abuse.
/// - **No composition rules**: no "one digit, one symbol"; the revision forbids them.
/// - **Block-list**: a password that is, ignoring case and surrounding spaces, one of about
///   8,000 very common passwords, one character repeated, or one of the context strings the
///   caller passes (the email address, the shop's name) is refused.
///
/// Length is counted in Unicode scalar values (`char`s) of the text as given. shopkeep does not
/// normalise Unicode; a host that wants NFC or NFKC (as the revision suggests) normalises the
/// text before it builds the [`Password`], at sign-up and at login alike.
///
/// The policy applies to **new** passwords only (sign-up, change, reset). A login checks the
/// password against its hash with [`PasswordHasher::verify`] and never against the policy, so a
/// stricter policy does not lock out accounts whose passwords predate it.
///
/// ```
/// use shopkeep::ErrorKind;
/// use shopkeep::crypto::{Password, PasswordPolicy};
///
/// let policy = PasswordPolicy::new();
/// policy.check(&Password::new("correct horse battery staple"), &["ada@example.com"])?;
///
/// let err = policy.check(&Password::new("hunter2"), &[]).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Validation { field: "password" });
/// assert_eq!(err.message(), "a password must be at least 15 characters long");
///
/// // With a second factor, a host may accept shorter passwords, but never under 8.
/// let with_mfa = PasswordPolicy::new().min_length(10)?;
/// with_mfa.check(&Password::new("tangerine!"), &[])?;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
}

impl PasswordPolicy {
    /// The default minimum length in characters: NIST SP 800-63B-4's minimum for a password that
    /// is the only factor.
    pub const DEFAULT_MIN_LENGTH: usize = 15;

    /// The lowest minimum length a host may set: NIST SP 800-63B-4's minimum for a password used
    /// together with another authentication factor.
    pub const LOWEST_MIN_LENGTH: usize = 8;

    /// The highest minimum length a host may set: the revision asks verifiers to accept
    /// passwords of at least 64 characters, so no policy may demand more.
    pub const HIGHEST_MIN_LENGTH: usize = 64;

    /// The default policy: at least 15 characters.
    pub fn new() -> Self {
        PasswordPolicy {
            min_length: Self::DEFAULT_MIN_LENGTH,
        }
    }

    /// The same policy with another minimum length, in characters.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `min_length`) if `chars` is below
    /// [`LOWEST_MIN_LENGTH`](Self::LOWEST_MIN_LENGTH) (8) or above
    /// [`HIGHEST_MIN_LENGTH`](Self::HIGHEST_MIN_LENGTH) (64).
    pub fn min_length(self, chars: usize) -> Result<Self> {
        if chars < Self::LOWEST_MIN_LENGTH {
            return Err(Error::validation(
                "min_length",
                format!(
                    "a password policy may not require fewer than {} characters",
                    Self::LOWEST_MIN_LENGTH
                ),
            ));
        }
        if chars > Self::HIGHEST_MIN_LENGTH {
            return Err(Error::validation(
                "min_length",
                format!(
                    "a password policy may not require more than {} characters",
                    Self::HIGHEST_MIN_LENGTH
                ),
            ));
        }
        Ok(PasswordPolicy { min_length: chars })
    }

    /// The minimum length in characters this policy requires.
    pub fn minimum_length(&self) -> usize {
        self.min_length
    }

    /// Checks a new password against the policy.
    ///
    /// `context` holds strings the password must not equal, ignoring case and surrounding
    /// spaces: typically the account's email address and name and the shop's name. Empty
    /// context strings are ignored.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `password`) if the password is empty, shorter than the
    /// minimum, longer than 256 characters or 1024 bytes, one character repeated, equal to a
    /// context string, or a common password. The message is fit to show to the person choosing
    /// the password and never repeats the password.
    pub fn check(&self, password: &Password, context: &[&str]) -> Result<()> {
        let text = password.as_str();
        if text.is_empty() {
            return Err(Error::validation("password", "enter a password"));
        }
        check_max_length(password)?;
        if text.chars().count() < self.min_length {
            return Err(Error::validation(
                "password",
                format!(
                    "a password must be at least {} characters long",
                    self.min_length
                ),
            ));
        }

        // The lowered copy is as secret as the password itself. Lists and context strings are
        // compared without surrounding spaces, which a person rarely means as part of a choice.
        let lowered = Zeroizing::new(text.to_lowercase());
        let trimmed = lowered.trim();
        let mut chars = lowered.chars();
        if let Some(first) = chars.next()
            && chars.all(|c| c == first)
        {
            return Err(Error::validation(
                "password",
                "a password may not be one character repeated",
            ));
        }
        for item in context {
            let item = item.trim();
            if !item.is_empty() && item.to_lowercase() == trimmed {
                return Err(Error::validation(
                    "password",
                    "a password may not be the same as the account's details, such as its email address",
                ));
            }
        }
        if COMMON_PASSWORDS.contains(trimmed) {
            return Err(Error::validation(
                "password",
                "this password is too common; a phrase of several unrelated words is stronger and easy to remember",
            ));
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy::new()
    }
}

/// The cost parameters of argon2id: memory, iterations and parallelism.
///
/// The default, [`owasp`](Self::owasp), is the OWASP Password Storage Cheat Sheet's
/// recommendation: 19 MiB of memory, 2 iterations, 1 lane. A host on strong hardware may raise
/// the cost with [`new`](Self::new), which refuses anything weaker than OWASP's minimum.
///
/// ```
/// use shopkeep::crypto::PasswordParams;
///
/// let params = PasswordParams::owasp();
/// assert_eq!((params.memory_kib(), params.iterations(), params.parallelism()), (19_456, 2, 1));
/// assert_eq!(params, PasswordParams::default());
///
/// // Twice the memory is fine; half the memory at the same iterations is not.
/// PasswordParams::new(38_912, 2, 1)?;
/// assert!(PasswordParams::new(9_728, 2, 1).is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl PasswordParams {
    /// OWASP's recommended argon2id parameters: m = 19 MiB (19,456 KiB), t = 2, p = 1.
    pub const fn owasp() -> Self {
        PasswordParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }

    /// Parameters of the host's choosing: memory in KiB, iterations (passes), parallelism
    /// (lanes).
    ///
    /// OWASP lists five argon2id configurations of equal strength, (memory, iterations) =
    /// (46 MiB, 1), (19 MiB, 2), (12 MiB, 3), (9 MiB, 4), (7 MiB, 5). The parameters are accepted
    /// when they reach both numbers of at least one of them. Parallelism is 1 to 64 (this build
    /// of argon2 computes lanes one after another, so more lanes do not make hashing faster);
    /// memory is at most 1 GiB and iterations at most 64, to keep a login bounded.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `password_params`) if the parameters are weaker than OWASP's
    /// minimum or outside those bounds.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        let params = PasswordParams {
            memory_kib,
            iterations,
            parallelism,
        };
        params.check_bounds().map_err(|message| {
            Error::validation("password_params", format!("argon2id parameters {message}"))
        })?;
        let strong_enough = OWASP_MINIMUMS
            .iter()
            .any(|&(m, t)| memory_kib >= m && iterations >= t);
        if !strong_enough {
            return Err(Error::validation(
                "password_params",
                "argon2id parameters weaker than OWASP's minimum (for example m = 19456 KiB, t = 2)",
            ));
        }
        Ok(params)
    }

    /// Parameters so cheap that hashing takes microseconds: m = 8 KiB (argon2's minimum),
    /// t = 1, p = 1.
    ///
    /// **Never use these in production.** A stolen hash made with them can be attacked at full
    /// speed. They exist only for test suites, only with the `insecure-test-params` feature,
    /// which nothing enables by default; [`new`](Self::new) would refuse them.
    #[cfg(feature = "insecure-test-params")]
    #[cfg_attr(docsrs, doc(cfg(feature = "insecure-test-params")))]
    pub const fn insecure_for_tests() -> Self {
        PasswordParams {
            memory_kib: Params::MIN_M_COST,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of iterations (passes over memory).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Degree of parallelism (lanes).
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// The hard bounds, shared with stored hashes; `Err` holds the end of a message.
    fn check_bounds(&self) -> std::result::Result<(), &'static str> {
        if self.memory_kib > MAX_MEMORY_KIB {
            return Err("use more than 1 GiB of memory");
        }
        if self.iterations > MAX_ITERATIONS {
            return Err("run more than 64 iterations");
        }
        if self.parallelism == 0 || self.parallelism > MAX_PARALLELISM {
            return Err("need a parallelism between 1 and 64");
        }
        Ok(())
    }

    fn argon2_params(&self) -> Result<Params> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|err| {
            Error::new(ErrorKind::Crypto, "invalid argon2id parameters").with_source(err)
        })
    }
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams::owasp()
    }
}

/// A stored password hash: an argon2id PHC string such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// The host stores [`as_str`](Self::as_str) and gives it back to [`parse`](Self::parse). A hash
/// lets an attacker who steals it guess passwords offline, so `Debug` does not show it and there
/// is no `Display`.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Parses a stored PHC string.
    ///
    /// Older parameters are accepted (they verify, and [`Verification::needs_rehash`] then says
    /// so); parameters beyond the bounds of [`PasswordParams::new`] are not, so that a tampered
    /// hash cannot make a login allocate gigabytes.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `password_hash`) if the text is not an argon2id PHC string
    /// with a version, valid parameters, a salt and a hash. The message never repeats the text.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |what: &str| {
            Error::validation(
                "password_hash",
                format!("not a valid password hash: {what}"),
            )
        };
        let phc = phc::PasswordHash::new(text)
            .map_err(|err| invalid("not a PHC string").with_source(err))?;
        if phc.algorithm.as_str() != "argon2id" {
            return Err(invalid("the algorithm is not argon2id"));
        }
        let version = phc.version.ok_or_else(|| invalid("no version"))?;
        Version::try_from(version).map_err(|err| invalid("unknown version").with_source(err))?;
        let params =
            Params::try_from(&phc).map_err(|err| invalid("invalid parameters").with_source(err))?;
        let bounds = PasswordParams {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        };
        bounds
            .check_bounds()
            .map_err(|_| invalid("parameters out of bounds"))?;
        if phc.salt.is_none() || phc.hash.is_none() {
            return Err(invalid("no salt or no hash"));
        }
        Ok(PasswordHash(text.to_owned()))
    }

    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed form; the string was validated when this value was made.
    fn phc(&self) -> Result<phc::PasswordHash> {
        phc::PasswordHash::new(&self.0).map_err(|err| {
            Error::new(ErrorKind::Crypto, "malformed password hash").with_source(err)
        })
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

/// The outcome of a password verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verification {
    matched: bool,
    needs_rehash: bool,
}

impl Verification {
    /// Whether the password matched the hash.
    pub fn is_match(&self) -> bool {
        self.matched
    }

    /// Whether the host should hash the password again with [`PasswordHasher::hash`] and store
    /// the new hash, because the stored one was made with another algorithm version or other
    /// parameters than the hasher's current ones. Only ever true on a match: only the correct
    /// password can be hashed again.
    pub fn needs_rehash(&self) -> bool {
        self.needs_rehash
    }
}

/// Hashes and verifies passwords with argon2id.
///
/// - [`hash`](Self::hash) makes a PHC string with a fresh 16-byte random salt from the operating
///   system.
/// - [`verify`](Self::verify) recomputes argon2id with the stored hash's own salt and parameters
///   and compares the result with the stored output in constant time (argon2's verifier compares
///   with `subtle`), so the time taken does not depend on how many bytes matched.
/// - [`verify_unknown_account`](Self::verify_unknown_account) is for a login naming an account
///   that does not exist: it performs a real argon2id verification of equal cost and answers
///   "no match", so that the response time does not reveal which accounts exist.
///
/// A hasher is `Send + Sync`; share one (for example in an `Arc`) rather than making one per
/// request, since the dummy hash of the unknown-account path is made once per hasher.
///
/// ```
/// use shopkeep::crypto::{Password, PasswordHash, PasswordHasher, PasswordParams};
///
/// let hasher = PasswordHasher::new(PasswordParams::owasp());
/// let stored = hasher.hash(&Password::new("correct horse battery staple"))?;
/// assert!(stored.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
///
/// // Later, at login:
/// let stored = PasswordHash::parse(stored.as_str())?;
/// let outcome = hasher.verify(&Password::new("correct horse battery staple"), &stored)?;
/// assert!(outcome.is_match());
/// assert!(!outcome.needs_rehash());
/// assert!(!hasher.verify(&Password::new("Correct horse battery staple"), &stored)?.is_match());
///
/// // No account with that email: same cost, always no match.
/// assert!(!hasher.verify_unknown_account(&Password::new("anything"))?.is_match());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PasswordHasher {
    params: PasswordParams,
    /// Made on first use, with `params`, so that its verification costs what a real one does.
    dummy: OnceLock<PasswordHash>,
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// A hasher that makes new hashes with `params`.
    pub fn new(params: PasswordParams) -> Self {
        PasswordHasher {
            params,
            dummy: OnceLock::new(),
            verifications: AtomicU64::new(0),
        }
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    fn argon2(&self) -> Result<Argon2<'static>> {
        Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.argon2_params()?,
        ))
    }

    /// Hashes a password with the hasher's parameters and a fresh random salt.
    ///
    /// This does not apply a [`PasswordPolicy`]; check a new password first.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `password`) if the password is longer than 256 characters or
    /// 1024 bytes, checked before any hashing. A `Crypto` error if the operating system's random
    /// number generator or argon2 fails.
    pub fn hash(&self, password: &Password) -> Result<PasswordHash> {
        check_max_length(password)?;
        let salt: [u8; SALT_LEN] = random_array()?;
        let phc = self
            .argon2()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|err| {
                Error::new(ErrorKind::Crypto, "hashing the password failed").with_source(err)
            })?;
        Ok(PasswordHash(phc.to_string()))
    }

    /// Verifies a password against a stored hash.
    ///
    /// argon2id runs with the stored hash's salt and parameters, whatever the hasher's current
    /// parameters are; the outputs are compared in constant time.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `password`) if the password is longer than 256 characters or
    /// 1024 bytes: no hash made by shopkeep can match it, so no time is spent on it. A `Crypto`
    /// error if argon2 fails for a reason other than a mismatch. A wrong password is not an
    /// error: it is a [`Verification`] that is not a match.
    pub fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<Verification> {
        check_max_length(password)?;
        let matched = self.run_verification(password, hash)?;
        Ok(Verification {
            matched,
            needs_rehash: matched && self.needs_rehash(hash),
        })
    }

    /// The login path for an account that does not exist: performs a real argon2id verification
    /// of `password` against a dummy hash made with the hasher's current parameters, and always
    /// answers "no match" (even for an empty password).
    ///
    /// Calling this where [`verify`](Self::verify) would have run makes a failed login cost the
    /// same whether or not the account exists. The dummy hash is made on the first call, which
    /// therefore costs one extra hash; a host that minds can call this once at start-up.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), plus a `Crypto` error if making the dummy hash fails.
    pub fn verify_unknown_account(&self, password: &Password) -> Result<Verification> {
        check_max_length(password)?;
        // A fresh parse, exactly as a known account's stored hash is parsed before `verify`:
        // reusing the cached value was measured to leave the allocator in another state, and
        // argon2's 19 MiB then cost milliseconds more in page faults on one path.
        let dummy = PasswordHash::parse(self.dummy_hash()?.as_str())?;
        // The answer is ignored, but the work must happen; `black_box` keeps it observable.
        std::hint::black_box(self.run_verification(password, &dummy)?);
        Ok(Verification {
            matched: false,
            needs_rehash: false,
        })
    }

    /// Whether `hash` was made with another algorithm version, other parameters, or another
    /// output or salt length than this hasher would use now.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        let Ok(phc) = hash.phc() else {
            return true;
        };
        let Ok(params) = Params::try_from(&phc) else {
            return true;
        };
        let current = &self.params;
        phc.algorithm.as_str() != "argon2id"
            || phc.version != Some(u32::from(Version::V0x13))
            || params.m_cost() != current.memory_kib
            || params.t_cost() != current.iterations
            || params.p_cost() != current.parallelism
            || !params.keyid().is_empty()
            || !params.data().is_empty()
            || params.output_len() != Some(OUTPUT_LEN)
            || phc.salt.is_none_or(|salt| salt.as_ref().len() < SALT_LEN)
    }

    /// How many argon2 verifications this hasher has performed, through
    /// [`verify`](Self::verify) and [`verify_unknown_account`](Self::verify_unknown_account)
    /// alike.
    ///
    /// This exists so that tests can check, without timing anything, that the unknown-account
    /// path really runs argon2: it must advance this counter exactly as a wrong password does.
    pub fn verifications_performed(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// The one place argon2 verification happens, for real and dummy accounts alike.
    fn run_verification(&self, password: &Password, hash: &PasswordHash) -> Result<bool> {
        let phc = hash.phc()?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        // The verifier takes algorithm, version, parameters and salt from `phc`, and compares
        // the outputs with a constant-time equality.
        match self.argon2()?.verify_password(password.as_bytes(), &phc) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(err) => {
                Err(Error::new(ErrorKind::Crypto, "verifying the password failed").with_source(err))
            }
        }
    }

    /// The dummy hash, made once with the current parameters from a random secret nobody knows.
    pub(crate) fn dummy_hash(&self) -> Result<&PasswordHash> {
        if let Some(dummy) = self.dummy.get() {
            return Ok(dummy);
        }
        let mut secret: [u8; 32] = random_array()?;
        let mut text = Zeroizing::new(String::with_capacity(secret.len() * 2));
        for byte in secret {
            // Writing to a `String` cannot fail.
            let _ = write!(text, "{byte:02x}");
        }
        zeroize::Zeroize::zeroize(&mut secret);
        let made = self.hash(&Password(text))?;
        // Two threads may race to make it; either hash serves, and the first one set stays.
        Ok(self.dummy.get_or_init(|| made))
    }
}

impl Default for PasswordHasher {
    /// A hasher with [`PasswordParams::owasp`].
    fn default() -> Self {
        PasswordHasher::new(PasswordParams::owasp())
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("verifications", &self.verifications_performed())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn hasher_and_hash_are_send_and_sync() {
        assert_send_sync::<PasswordHasher>();
        assert_send_sync::<PasswordHash>();
        assert_send_sync::<Password>();
    }

    #[test]
    fn common_list_skips_the_header_and_keeps_every_entry() {
        assert_eq!(COMMON_PASSWORDS.len(), 8354);
        assert!(COMMON_PASSWORDS.contains("password1"));
        // An entry that starts with '#' but is no header line.
        assert!(COMMON_PASSWORDS.contains("#1stunna"));
        assert!(
            COMMON_PASSWORDS
                .iter()
                .all(|entry| !entry.starts_with("# ") && entry.chars().count() >= 8)
        );
        assert!(
            COMMON_PASSWORDS
                .iter()
                .all(|entry| *entry == entry.to_lowercase())
        );
    }

    #[test]
    fn owasp_floor_accepts_each_listed_configuration_and_nothing_below() {
        for (m, t) in OWASP_MINIMUMS {
            assert!(PasswordParams::new(m, t, 1).is_ok(), "m={m} t={t}");
            assert!(
                PasswordParams::new(m - 1, t, 1).is_err(),
                "m={} t={t}",
                m - 1
            );
            assert!(
                PasswordParams::new(m, t - 1, 1).is_err(),
                "m={m} t={}",
                t - 1
            );
        }
    }

    #[test]
    fn needs_rehash_flags_a_short_salt_and_other_output_lengths() {
        let hasher = PasswordHasher::new(PasswordParams::owasp());
        // Hand-made strings with current params: 8-byte salt, 32-byte output.
        let short_salt = PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        )
        .unwrap();
        assert!(hasher.needs_rehash(&short_salt));
        // 16-byte salt, 16-byte output.
        let short_output = PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZg",
        )
        .unwrap();
        assert!(hasher.needs_rehash(&short_output));
        let current = PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        )
        .unwrap();
        assert!(!hasher.needs_rehash(&current));
        let old_version = PasswordHash::parse(
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        )
        .unwrap();
        assert!(hasher.needs_rehash(&old_version));
    }

    #[cfg(feature = "insecure-test-params")]
    #[test]
    fn dummy_hash_uses_the_current_params_and_is_made_once() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests());
        let dummy = hasher.dummy_hash().unwrap().as_str().to_owned();
        assert!(dummy.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{dummy}");
        assert!(!hasher.needs_rehash(hasher.dummy_hash().unwrap()));
        assert_eq!(hasher.dummy_hash().unwrap().as_str(), dummy);
        // Making it is a hash, not a verification.
        assert_eq!(hasher.verifications_performed(), 0);

        let owasp = PasswordHasher::new(PasswordParams::owasp());
        let dummy = owasp.dummy_hash().unwrap();
        assert!(
            dummy
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{dummy:?}"
        );
        assert!(!owasp.needs_rehash(dummy));
    }

    #[cfg(feature = "insecure-test-params")]
    #[test]
    fn unknown_account_runs_argon2_on_the_dummy_hash() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests());
        // The dummy's password is random hex; even a guess of that shape does not match.
        let guess = Password::new("0".repeat(64));
        let outcome = hasher.verify_unknown_account(&guess).unwrap();
        assert!(!outcome.is_match());
        assert_eq!(hasher.verifications_performed(), 1);
        // The same work, done by hand, is a real (non-matching) verification.
        let dummy = hasher.dummy_hash().unwrap().clone();
        assert!(!hasher.run_verification(&guess, &dummy).unwrap());
        assert_eq!(hasher.verifications_performed(), 2);
    }

    #[test]
    fn parse_rejects_hashes_whose_cost_is_out_of_bounds() {
        for text in [
            "$argon2id$v=19$m=2097152,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
            "$argon2id$v=19$m=19456,t=65,p=1$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
            "$argon2id$v=19$m=19456,t=2,p=65$c2FsdHNhbHRzYWx0c2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        ] {
            let err = PasswordHash::parse(text).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "password_hash"
                },
                "{text}"
            );
        }
    }
}
