//! The working keys of an open store, all derived from its root key.
//!
//! ```text
//! master key (host) ──wraps──▶ root key (random, stored wrapped)
//!                                 │ HKDF-SHA256, one `info` label per purpose
//!        ┌────────────────┬───────┴────────┬─────────────────┬──────────────────┐
//!  data-key wrapping   blind index      audit MAC        token hashing      request MAC
//!                                                                             auth MAC
//! ```
//!
//! The request MAC keys checkout's idempotency records: the hash of an idempotency key and of
//! the canonical form of the request it was first used with. The auth MAC binds the columns
//! that carry authority (ownership, credentials, roles) to their row (see `auth_mac`).
//!
//! A key is never used for two purposes. Because every purpose key comes from the root and not
//! from the master key, rotating the master key changes none of them.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::aead::NONCE_LEN;
use super::auth_mac::{self, BoundTable};
use super::data_keys::DataKey;
use super::sealed::{self, Purpose, Sealed};
use super::secret::{KEY_LEN, SecretKey, constant_time_eq, random_array};
use crate::error::{Error, ErrorKind, Result};

/// HKDF `info` labels, one per purpose. Part of the stored format: never change one.
const INFO_DATA_KEY_WRAP: &[u8] = b"shopkeep v1 data-key wrapping";
const INFO_BLIND_INDEX: &[u8] = b"shopkeep v1 blind index";
const INFO_AUDIT_MAC: &[u8] = b"shopkeep v1 audit mac";
const INFO_TOKEN_HASH: &[u8] = b"shopkeep v1 token hash";
const INFO_REQUEST_MAC: &[u8] = b"shopkeep v1 request mac";
const INFO_AUTH_MAC: &[u8] = b"shopkeep v1 auth mac";

/// Output of the blind index and of the token and audit MACs.
pub(crate) type Mac256 = [u8; 32];

/// The root key and the purpose keys derived from it.
pub(crate) struct Keys {
    root: SecretKey,
    data_key_wrap: SecretKey,
    blind_index: SecretKey,
    audit_mac: SecretKey,
    token_hash: SecretKey,
    request_mac: SecretKey,
    auth_mac: SecretKey,
}

impl Keys {
    /// Derives every purpose key from `root`.
    pub(crate) fn derive(root: SecretKey) -> Result<Keys> {
        let hkdf = Hkdf::<Sha256>::new(None, root.bytes());
        let expand = |info: &[u8]| -> Result<SecretKey> {
            let mut okm = [0u8; KEY_LEN];
            hkdf.expand(info, &mut okm)
                .map_err(|_| Error::new(ErrorKind::Crypto, "key derivation failed"))?;
            let key = SecretKey::from_bytes(okm);
            zeroize::Zeroize::zeroize(&mut okm);
            Ok(key)
        };
        Ok(Keys {
            data_key_wrap: expand(INFO_DATA_KEY_WRAP)?,
            blind_index: expand(INFO_BLIND_INDEX)?,
            audit_mac: expand(INFO_AUDIT_MAC)?,
            token_hash: expand(INFO_TOKEN_HASH)?,
            request_mac: expand(INFO_REQUEST_MAC)?,
            auth_mac: expand(INFO_AUTH_MAC)?,
            root,
        })
    }

    /// The root key, to re-wrap it under a new master key.
    pub(crate) fn root(&self) -> &SecretKey {
        &self.root
    }

    /// Wraps a subject's data key for storage, bound to the subject.
    pub(crate) fn wrap_data_key(&self, subject: &str, key: &DataKey) -> Result<Vec<u8>> {
        self.wrap_data_key_with_nonce(subject, key, &random_array()?)
    }

    /// Wraps with a given nonce: for `wrap_data_key` and the published test vectors only.
    pub(crate) fn wrap_data_key_with_nonce(
        &self,
        subject: &str,
        key: &DataKey,
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>> {
        sealed::seal_with_nonce(
            &self.data_key_wrap,
            key.id(),
            Purpose::DataKey,
            &[subject.as_bytes()],
            key.secret().bytes(),
            nonce,
        )
    }

    /// Unwraps a subject's stored data key.
    ///
    /// # Errors
    ///
    /// `Crypto` if the wrapped key was altered or belongs to another subject.
    pub(crate) fn unwrap_data_key(&self, subject: &str, wrapped: &[u8]) -> Result<DataKey> {
        let sealed = Sealed::parse(wrapped)?;
        let bytes = sealed.open(&self.data_key_wrap, Purpose::DataKey, &[subject.as_bytes()])?;
        Ok(DataKey::new(
            sealed.key_id(),
            SecretKey::from_slice(&bytes)?,
        ))
    }

    /// The blind index of a value for lookups while it is encrypted: HMAC-SHA256 under the
    /// blind-index key over `lp(field) || value`. The caller normalises the value first
    /// (for an email: trimmed and lower-cased), so equal values give equal indexes.
    pub(crate) fn blind_index(&self, field: &str, normalised: &str) -> Mac256 {
        mac(
            &self.blind_index,
            &[field.as_bytes(), normalised.as_bytes()],
        )
    }

    /// The keyed hash under which a session or reset token is stored.
    pub(crate) fn token_hash(&self, token: &[u8]) -> Mac256 {
        mac(&self.token_hash, &[token])
    }

    /// The keyed hash of a request's parts (idempotency keys and the canonical form of the
    /// request they were used with). The first part names what is hashed.
    pub(crate) fn request_mac(&self, parts: &[&[u8]]) -> Mac256 {
        mac(&self.request_mac, parts)
    }

    /// The MAC of an audit entry.
    pub(crate) fn audit_mac(&self, parts: &[&[u8]]) -> Mac256 {
        mac(&self.audit_mac, parts)
    }

    /// The auth MAC of a row of `table`: `values` are its bound columns, in the order
    /// `table.columns` lists them (`None` for NULL).
    pub(crate) fn auth_mac(&self, table: &BoundTable, values: &[Option<&[u8]>]) -> Mac256 {
        let encoded: Vec<Vec<u8>> = values.iter().map(|v| auth_mac::encode_value(*v)).collect();
        let mut parts: Vec<&[u8]> = vec![auth_mac::FORMAT, table.name.as_bytes()];
        for (column, value) in table.columns.iter().zip(&encoded) {
            parts.push(column.as_bytes());
            parts.push(value);
        }
        mac(&self.auth_mac, &parts)
    }

    /// The auth-MAC key itself, for the published test vectors.
    #[cfg(test)]
    pub(crate) fn auth_mac_key(&self) -> &SecretKey {
        &self.auth_mac
    }

    /// Checks the stored auth MAC of a row of `table` against its bound columns.
    ///
    /// # Errors
    ///
    /// `Crypto` if the MAC is missing or does not match: the row was edited outside shopkeep
    /// (an order moved to another customer, a password hash or a role replaced).
    pub(crate) fn verify_auth_mac(
        &self,
        table: &BoundTable,
        values: &[Option<&[u8]>],
        stored: Option<&[u8]>,
    ) -> Result<()> {
        let expected = self.auth_mac(table, values);
        match stored {
            Some(stored) if constant_time_eq(&expected, stored) => Ok(()),
            _ => Err(Error::new(
                ErrorKind::Crypto,
                format!(
                    "a row of {} was altered outside shopkeep: its owner, credentials or role \
                     do not match the row's MAC",
                    table.name
                ),
            )),
        }
    }
}

/// HMAC-SHA256 over length-prefixed parts.
fn mac(key: &SecretKey, parts: &[&[u8]]) -> Mac256 {
    // HMAC takes keys of any length, so this cannot fail for a 32-byte key; an empty MAC
    // state is the only alternative and would never match a real one.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key.bytes()) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        mac.update(&len.to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_keys_are_distinct_and_deterministic() {
        let a = Keys::derive(SecretKey::from_bytes([1; 32])).unwrap();
        let b = Keys::derive(SecretKey::from_bytes([1; 32])).unwrap();
        let all = [
            a.root.bytes(),
            a.data_key_wrap.bytes(),
            a.blind_index.bytes(),
            a.audit_mac.bytes(),
            a.token_hash.bytes(),
            a.request_mac.bytes(),
            a.auth_mac.bytes(),
        ];
        for (i, x) in all.iter().enumerate() {
            for y in all.iter().skip(i + 1) {
                assert_ne!(x, y, "two purposes share a key");
            }
        }
        assert_eq!(
            a.blind_index("email", "ana@example.com"),
            b.blind_index("email", "ana@example.com")
        );
        let other = Keys::derive(SecretKey::from_bytes([2; 32])).unwrap();
        assert_ne!(a.blind_index("email", "x"), other.blind_index("email", "x"));
    }

    #[test]
    fn blind_index_separates_fields_and_values() {
        let k = Keys::derive(SecretKey::from_bytes([3; 32])).unwrap();
        assert_ne!(
            k.blind_index("email", "a@b.de"),
            k.blind_index("phone", "a@b.de")
        );
        assert_ne!(
            k.blind_index("email", "a@b.de"),
            k.blind_index("email", "a@b.de ")
        );
        assert_ne!(k.blind_index("email", "a"), k.token_hash(b"a"));
    }

    #[test]
    fn an_auth_mac_binds_table_columns_and_null() {
        use super::auth_mac::{CUSTOMERS, ORDERS};
        let k = Keys::derive(SecretKey::from_bytes([5; 32])).unwrap();
        let mac = k.auth_mac(&ORDERS, &[Some(b"o1"), Some(b"c1")]);
        k.verify_auth_mac(&ORDERS, &[Some(b"o1"), Some(b"c1")], Some(&mac))
            .unwrap();
        for (table, values) in [
            (ORDERS, [Some(b"o1" as &[u8]), Some(b"c2")]),
            (ORDERS, [Some(b"o2"), Some(b"c1")]),
            (CUSTOMERS, [Some(b"o1"), Some(b"c1")]),
            (ORDERS, [Some(b"o1"), None]),
            (ORDERS, [Some(b"o1"), Some(b"")]),
        ] {
            let err = k.verify_auth_mac(&table, &values, Some(&mac)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Crypto);
        }
        assert_ne!(
            k.auth_mac(&ORDERS, &[Some(b"o1"), None]),
            k.auth_mac(&ORDERS, &[Some(b"o1"), Some(b"")])
        );
        let err = k
            .verify_auth_mac(&ORDERS, &[Some(b"o1"), Some(b"c1")], None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
    }

    #[test]
    fn a_data_key_is_bound_to_its_subject() {
        let k = Keys::derive(SecretKey::from_bytes([4; 32])).unwrap();
        let dk = DataKey::new(1, SecretKey::from_bytes([9; 32]));
        let wrapped = k.wrap_data_key("customer:1", &dk).unwrap();
        let back = k.unwrap_data_key("customer:1", &wrapped).unwrap();
        assert_eq!((back.id(), back.secret().bytes()), (1, &[9; 32]));
        let err = k.unwrap_data_key("customer:2", &wrapped).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
    }
}
