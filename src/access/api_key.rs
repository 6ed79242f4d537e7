//! API keys for back-office integrations: the model.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use super::principal::ApiKeyId;
use super::role::Role;
use crate::clock::Timestamp;
use crate::crypto::secret::random_array;
use crate::error::{Error, ErrorKind, Result};
use crate::text;

/// Every key starts with this, so a leaked key is recognisable in logs and by secret scanners.
const KEY_PREFIX: &str = "shk_";
/// Length of the public prefix that identifies a key (hex digits).
const PUBLIC_LEN: usize = 12;

/// An API key to create: a label for people, and the role it acts with.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub(crate) label: String,
    pub(crate) role: Role,
}

impl NewApiKey {
    /// A key acting with `role`, labelled for people (`"ERP export"`).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `label`) for an empty label, one over 100 characters, or one
    /// with control characters.
    pub fn new(label: &str, role: Role) -> Result<Self> {
        Ok(NewApiKey {
            label: text::required("label", label, 100)?,
            role,
        })
    }
}

/// What the store keeps about an API key: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub(crate) id: ApiKeyId,
    pub(crate) prefix: String,
    pub(crate) label: String,
    pub(crate) role: Role,
    pub(crate) created_by: String,
    pub(crate) created_at: Timestamp,
    pub(crate) last_used_at: Option<Timestamp>,
    pub(crate) revoked_at: Option<Timestamp>,
}

impl ApiKeyInfo {
    /// The key's id.
    pub fn id(&self) -> ApiKeyId {
        self.id
    }

    /// The public part that identifies the key (`shk_<prefix>_...`), safe to show and log.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The role the key acts with.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Who created it (`staff:<id>` or `system`).
    pub fn created_by(&self) -> &str {
        &self.created_by
    }

    /// When it was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When it was last used, to within a minute.
    pub fn last_used_at(&self) -> Option<Timestamp> {
        self.last_used_at
    }

    /// When it was revoked, if it was.
    pub fn revoked_at(&self) -> Option<Timestamp> {
        self.revoked_at
    }
}

/// The secret of an API key: `shk_<12 hex digits>_<43 characters>`. Shown once, at creation;
/// the store keeps only its keyed hash. A secret: wiped on drop, redacted in `Debug`.
pub struct ApiKeySecret(Zeroizing<String>);

impl ApiKeySecret {
    /// A key as the host received it (an `Authorization` header).
    pub fn new(text: impl Into<String>) -> Self {
        ApiKeySecret(Zeroizing::new(text.into()))
    }

    /// A fresh key; returns it with its public prefix.
    pub(crate) fn generate() -> Result<(ApiKeySecret, String)> {
        let public: [u8; PUBLIC_LEN / 2] = random_array()?;
        let public: String = public.iter().map(|b| format!("{b:02x}")).collect();
        let secret = Zeroizing::new(random_array::<32>()?);
        let text = format!(
            "{KEY_PREFIX}{public}_{}",
            Base64UrlUnpadded::encode_string(secret.as_slice())
        );
        Ok((ApiKeySecret(Zeroizing::new(text)), public))
    }

    /// The public prefix of a well-formed key.
    pub(crate) fn public_prefix(&self) -> Result<&str> {
        let malformed = || Error::new(ErrorKind::Unauthenticated, "not a valid API key");
        let rest = self.0.strip_prefix(KEY_PREFIX).ok_or_else(malformed)?;
        let (public, secret) = rest.split_once('_').ok_or_else(malformed)?;
        if public.len() != PUBLIC_LEN || secret.len() != 43 {
            return Err(malformed());
        }
        Ok(public)
    }

    /// The whole key text, to hand to the integration once.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret([REDACTED])")
    }
}

/// A key just created: its metadata, and its secret, which is shown this once.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub(crate) info: ApiKeyInfo,
    pub(crate) secret: ApiKeySecret,
}

impl CreatedApiKey {
    /// The stored metadata.
    pub fn info(&self) -> &ApiKeyInfo {
        &self.info
    }

    /// The secret, to give to the integration now: it cannot be read again.
    pub fn secret(&self) -> &ApiKeySecret {
        &self.secret
    }
}
