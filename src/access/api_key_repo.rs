//! API keys' SQL: create, list, revoke, authenticate.

use super::action::Action;
use super::api_key::{ApiKeyInfo, ApiKeySecret, CreatedApiKey, NewApiKey};
use super::principal::{ApiKeyId, Principal};
use super::resource::Resource;
use super::role::Role;
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::crypto::keys::Mac256;
use crate::crypto::secret::constant_time_eq;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::{Row, args};
use crate::store::{Store, Tx, not_found};

/// How stale a key's last-used time may get before a call rewrites it.
const TOUCH_SECONDS: i64 = 60;

/// API keys, as seen by one principal. From [`Store::api_keys`].
#[derive(Debug)]
pub struct ApiKeyRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// API keys, for `principal`.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    /// use shopkeep::access::{NewApiKey, Role};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let created = store.api_keys(&store.system()).create(NewApiKey::new("ERP export", Role::Accountant)?)?;
    /// let erp = store.principal_from_api_key(created.secret())?;   // on each call of the integration
    /// assert_eq!(erp.role(), Some(Role::Accountant));
    /// store.api_keys(&store.system()).revoke(created.info().id())?;
    /// assert!(store.principal_from_api_key(created.secret()).is_err());
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_keys<'s>(&'s self, principal: &'s Principal) -> ApiKeyRepo<'s> {
        ApiKeyRepo {
            store: self,
            principal,
        }
    }

    /// The principal an API key stands for. Revocation takes effect on the very next call.
    ///
    /// # Errors
    ///
    /// `Unauthenticated` for a malformed, unknown or revoked key; all answer alike. `Crypto`
    /// if the key's row (its role, prefix or hash) was altered outside shopkeep (see the auth
    /// MACs of `docs/security.md`).
    pub fn principal_from_api_key(&self, key: &ApiKeySecret) -> Result<Principal> {
        let refused = || Error::new(ErrorKind::Unauthenticated, "the API key is not valid");
        let prefix = key.public_prefix().map_err(|_| refused())?;
        let hash = self.keys().token_hash(key.as_str().as_bytes());
        let row: Option<KeyRow> = self.read(|tx| {
            tx.query_opt(
                "SELECT id, key_hash, role, revoked_at IS NOT NULL, last_used_at, auth_mac FROM shopkeep_api_keys WHERE prefix = ?1",
                args![prefix],
                |r| {
                    Ok(KeyRow {
                        id: r.get(0)?,
                        hash: r.get(1)?,
                        role: r.get(2)?,
                        revoked: r.get(3)?,
                        last_used: r.get(4)?,
                        mac: r.get(5)?,
                    })
                },
            )
        })?;
        let Some(KeyRow {
            id,
            hash: stored,
            role,
            revoked,
            last_used,
            mac,
        }) = row
        else {
            return Err(refused());
        };
        // The role a key grants is trusted only with its MAC.
        verify(self, id, prefix, &stored, role, mac.as_deref())?;
        if !constant_time_eq(&hash, &stored) || revoked {
            return Err(refused());
        }
        let now = self.now();
        let stale =
            last_used.is_none_or(|t| now.unix_millis() - t.unix_millis() >= TOUCH_SECONDS * 1000);
        if stale {
            self.write(|tx| {
                tx.execute(
                    "UPDATE shopkeep_api_keys SET last_used_at = ?2 WHERE id = ?1",
                    args![id, tx.now()],
                )?;
                Ok(())
            })?;
        }
        Ok(Principal::api_key(id, role))
    }
}

impl ApiKeyRepo<'_> {
    /// Creates a key. Its secret is in the result and nowhere else. Needs
    /// [`Action::CreateApiKey`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn create(&self, new: NewApiKey) -> Result<CreatedApiKey> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::CreateApiKey, &Resource::ApiKeys)?;
            let id = ApiKeyId::generate(tx.now())?;
            let (secret, prefix) = ApiKeySecret::generate()?;
            let hash = self.store.keys().token_hash(secret.as_str().as_bytes());
            let info = ApiKeyInfo {
                id,
                prefix,
                label: new.label.clone(),
                role: new.role,
                created_by: self.principal.audit_name(),
                created_at: tx.now(),
                last_used_at: None,
                revoked_at: None,
            };
            let mac = key_mac(self.store, id, &info.prefix, &hash, info.role);
            tx.execute(
                "INSERT INTO shopkeep_api_keys (id, prefix, key_hash, label, role, created_by, created_at, auth_mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![
                    id,
                    info.prefix,
                    hash.as_slice(),
                    info.label,
                    info.role,
                    info.created_by,
                    info.created_at,
                    mac.as_slice()
                ],
            )?;
            tx.audit(self.principal, Action::CreateApiKey, &Resource::ApiKey(id))?;
            Ok(CreatedApiKey { info, secret })
        })
    }

    /// Every key, revoked ones included, oldest first. Needs [`Action::ReadApiKey`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Crypto` if a key's row was altered outside
    /// shopkeep.
    pub fn list(&self) -> Result<Vec<ApiKeyInfo>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadApiKey, &Resource::ApiKeys)?;
            let rows = tx.query_map(
                &format!("{SELECT_INFO} ORDER BY id"),
                args![],
                info_from_row,
            )?;
            rows.into_iter()
                .map(|row| verified_info(self.store, row))
                .collect()
        })
    }

    /// One key's metadata. Needs [`Action::ReadApiKey`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown key or one the principal may not read; `Crypto` if its row
    /// was altered outside shopkeep.
    pub fn get(&self, id: ApiKeyId) -> Result<ApiKeyInfo> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadApiKey, &Resource::ApiKey(id))?;
            load(tx, self.store, id)
        })
    }

    /// Revokes a key; the next call made with it is refused. Needs [`Action::RevokeApiKey`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown key; `InvalidTransition` if it is already revoked.
    pub fn revoke(&self, id: ApiKeyId) -> Result<()> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::RevokeApiKey, &Resource::ApiKey(id))?;
            if load(tx, self.store, id)?.revoked_at.is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    "the API key is already revoked",
                ));
            }
            tx.execute(
                "UPDATE shopkeep_api_keys SET revoked_at = ?2 WHERE id = ?1",
                args![id, tx.now()],
            )?;
            tx.audit(self.principal, Action::RevokeApiKey, &Resource::ApiKey(id))?;
            Ok(())
        })
    }
}

/// The columns authentication needs.
struct KeyRow {
    id: ApiKeyId,
    hash: Vec<u8>,
    role: Role,
    revoked: bool,
    last_used: Option<Timestamp>,
    mac: Option<Vec<u8>>,
}

/// The auth MAC of an API key row: binds the prefix that finds it, the hash that proves it
/// and the role it grants to its id.
fn key_mac(store: &Store, id: ApiKeyId, prefix: &str, hash: &[u8], role: Role) -> Mac256 {
    store.keys().auth_mac(
        &auth_mac::API_KEYS,
        &[
            Some(id.as_bytes().as_slice()),
            Some(prefix.as_bytes()),
            Some(hash),
            Some(role.as_str().as_bytes()),
        ],
    )
}

/// Checks an API key row's auth MAC.
///
/// # Errors
///
/// `Crypto` if the prefix, hash, role or MAC was altered outside shopkeep.
fn verify(
    store: &Store,
    id: ApiKeyId,
    prefix: &str,
    hash: &[u8],
    role: Role,
    mac: Option<&[u8]>,
) -> Result<()> {
    store.keys().verify_auth_mac(
        &auth_mac::API_KEYS,
        &[
            Some(id.as_bytes().as_slice()),
            Some(prefix.as_bytes()),
            Some(hash),
            Some(role.as_str().as_bytes()),
        ],
        mac,
    )
}

const SELECT_INFO: &str = "SELECT id, prefix, label, role, created_by, created_at, last_used_at, revoked_at, key_hash, auth_mac FROM shopkeep_api_keys";

/// A key's metadata with the hash and MAC it is verified with.
type InfoRow = (ApiKeyInfo, Vec<u8>, Option<Vec<u8>>);

fn info_from_row(r: &Row<'_>) -> Result<InfoRow> {
    let info = ApiKeyInfo {
        id: r.get(0)?,
        prefix: r.get(1)?,
        label: r.get(2)?,
        role: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
    };
    Ok((info, r.get(8)?, r.get(9)?))
}

fn verified_info(store: &Store, (info, hash, mac): InfoRow) -> Result<ApiKeyInfo> {
    verify(
        store,
        info.id,
        &info.prefix,
        &hash,
        info.role,
        mac.as_deref(),
    )?;
    Ok(info)
}

fn load(tx: &Tx<'_>, store: &Store, id: ApiKeyId) -> Result<ApiKeyInfo> {
    let row = tx
        .query_opt(
            &format!("{SELECT_INFO} WHERE id = ?1"),
            args![id],
            info_from_row,
        )?
        .ok_or_else(|| not_found(&Resource::ApiKey(id)))?;
    verified_info(store, row)
}
