//! Sessions' SQL: open, resolve to a principal, revoke.

use super::audit::Outcome;
use super::principal::{CustomerId, Principal, StaffId};
use super::role::Role;
use super::session::SessionToken;
use super::staff_repo::Authority;
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx};

/// Whose session it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holder {
    Staff(StaffId),
    Customer(CustomerId),
}

impl Holder {
    fn kind(self) -> &'static str {
        match self {
            Holder::Staff(_) => "staff",
            Holder::Customer(_) => "customer",
        }
    }

    fn id_bytes(&self) -> &[u8; 16] {
        match self {
            Holder::Staff(id) => id.as_bytes(),
            Holder::Customer(id) => id.as_bytes(),
        }
    }
}

/// Opens a session for `holder` inside `tx`; returns its token and absolute expiry.
pub(crate) fn open(
    tx: &Tx<'_>,
    store: &Store,
    holder: Holder,
) -> Result<(SessionToken, Timestamp)> {
    let token = SessionToken::generate()?;
    let now = tx.now();
    let expires_at = now.checked_add(store.session_settings().absolute())?;
    let hash = store.keys().token_hash(token.as_str().as_bytes());
    // The text bound into the MAC is exactly the text stored.
    let expires_text = expires_at.to_rfc3339();
    let mac = store.keys().auth_mac(
        &auth_mac::SESSIONS,
        &[
            Some(hash.as_slice()),
            Some(holder.kind().as_bytes()),
            Some(holder.id_bytes().as_slice()),
            Some(expires_text.as_bytes()),
        ],
    );
    tx.execute(
        "INSERT INTO shopkeep_sessions (token_hash, holder_kind, holder_id, created_at, last_seen_at, expires_at, auth_mac)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
        args![
            hash.as_slice(),
            holder.kind(),
            holder.id_bytes().as_slice(),
            now,
            expires_text,
            mac.as_slice()
        ],
    )?;
    Ok((token, expires_at))
}

/// Ends every open session of `holder` inside `tx` (password change, disabling, erasure).
pub(crate) fn revoke_all(tx: &Tx<'_>, holder: Holder) -> Result<()> {
    tx.execute(
        "UPDATE shopkeep_sessions SET revoked_at = ?3
         WHERE holder_kind = ?1 AND holder_id = ?2 AND revoked_at IS NULL",
        args![holder.kind(), holder.id_bytes().as_slice(), tx.now()],
    )?;
    Ok(())
}

fn invalid() -> Error {
    Error::new(
        ErrorKind::Unauthenticated,
        "the session is not valid; log in again",
    )
}

/// A session row as read.
struct Row {
    holder_kind: String,
    holder_id: Vec<u8>,
    last_seen_at: Timestamp,
    expires_at: String,
    revoked: bool,
    mac: Option<Vec<u8>>,
    /// The holder's authority and its MAC, if the holder is a staff account that exists.
    staff: Option<(Authority, Option<Vec<u8>>)>,
    /// Whether the holder is a customer who exists and is not erased.
    customer_active: bool,
}

impl Store {
    /// The principal a session token stands for, on the host's next request.
    ///
    /// # Errors
    ///
    /// `Unauthenticated` if the token is unknown, expired (absolute or idle), revoked by logout
    /// or a password change, or its account is disabled or erased. All of these answer alike.
    /// `Crypto` if the session's holder or expiry, or its staff account's role, password hash
    /// or disabled time, was altered outside shopkeep (see the auth MACs of
    /// `docs/security.md`).
    pub fn principal_from_session(&self, token: &SessionToken) -> Result<Principal> {
        let hash = self.keys().token_hash(token.as_str().as_bytes());
        let row: Option<Row> = self.read(|tx| {
            tx.query_opt(
                    "SELECT s.holder_kind, s.holder_id, s.last_seen_at, s.expires_at,
                            s.revoked_at IS NOT NULL, s.auth_mac,
                            st.role, st.password_hash, st.disabled_at, st.auth_mac,
                            c.id IS NOT NULL AND c.erased_at IS NULL
                     FROM shopkeep_sessions s
                     LEFT JOIN shopkeep_staff st ON s.holder_kind = 'staff' AND st.id = s.holder_id
                     LEFT JOIN shopkeep_customers c ON s.holder_kind = 'customer' AND c.id = s.holder_id
                     WHERE s.token_hash = ?1",
                args![hash.as_slice()],
                |r| {
                    let staff = match (r.get::<Option<Role>>(6)?, r.get(7)?) {
                        (Some(role), Some(password_hash)) => Some((
                            Authority {
                                role,
                                password_hash,
                                disabled_at: r.get(8)?,
                            },
                            r.get(9)?,
                        )),
                        _ => None,
                    };
                    Ok(Row {
                        holder_kind: r.get(0)?,
                        holder_id: r.get(1)?,
                        last_seen_at: r.get(2)?,
                        expires_at: r.get(3)?,
                        revoked: r.get(4)?,
                        mac: r.get(5)?,
                        staff,
                        customer_active: r.get(10)?,
                    })
                },
            )
        })?;
        let row = row.ok_or_else(invalid)?;
        // Who the session belongs to and until when are trusted only with their MAC: otherwise
        // anyone who can write the file could hand their session to the owner's account.
        self.keys().verify_auth_mac(
            &auth_mac::SESSIONS,
            &[
                Some(hash.as_slice()),
                Some(row.holder_kind.as_bytes()),
                Some(row.holder_id.as_slice()),
                Some(row.expires_at.as_bytes()),
            ],
            row.mac.as_deref(),
        )?;
        let expires_at = Timestamp::parse_rfc3339(&row.expires_at).map_err(|_| invalid())?;
        let now = self.now();
        let settings = self.session_settings();
        let idle_end = row.last_seen_at.checked_add(settings.idle())?;
        if row.revoked || now >= expires_at || now >= idle_end {
            return Err(invalid());
        }
        let id: [u8; 16] = row.holder_id.as_slice().try_into().map_err(|_| invalid())?;
        let principal = match (row.holder_kind.as_str(), row.staff) {
            ("staff", Some((authority, mac))) => {
                let staff = StaffId::from_bytes(id);
                authority.verify(self.keys(), staff, mac.as_deref())?;
                if authority.disabled_at.is_some() {
                    return Err(invalid());
                }
                Principal::staff(staff, authority.role)
            }
            ("customer", _) if row.customer_active => {
                Principal::customer(CustomerId::from_bytes(id))
            }
            _ => return Err(invalid()),
        };
        let stale = now
            .duration_since(row.last_seen_at)
            .is_some_and(|d| d >= settings.touch_interval());
        if stale {
            self.write(|tx| {
                tx.execute(
                    "UPDATE shopkeep_sessions SET last_seen_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                    args![hash.as_slice(), tx.now()],
                )?;
                Ok(())
            })?;
        }
        Ok(principal)
    }

    /// Ends the session of `token`. Ending an unknown or already ended session is not an
    /// error: logout is idempotent.
    ///
    /// # Errors
    ///
    /// `Storage` if the database cannot be written.
    pub fn logout(&self, token: &SessionToken) -> Result<()> {
        let hash = self.keys().token_hash(token.as_str().as_bytes());
        self.write(|tx| {
            let holder: Option<(String, Vec<u8>)> = tx.query_opt(
                "UPDATE shopkeep_sessions SET revoked_at = ?2
                     WHERE token_hash = ?1 AND revoked_at IS NULL
                     RETURNING holder_kind, holder_id",
                args![hash.as_slice(), tx.now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some((kind, id)) = holder {
                let id = id.as_slice().try_into().map(uuid_text).unwrap_or_default();
                tx.audit_event(
                    &format!("{kind}:{id}"),
                    "logout",
                    &format!("{kind}:{id}"),
                    Outcome::Allowed,
                )?;
            }
            Ok(())
        })
    }
}

fn uuid_text(bytes: [u8; 16]) -> String {
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}
