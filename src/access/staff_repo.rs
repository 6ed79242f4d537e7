//! Staff accounts' SQL: create, read, change role, disable, change password, log in.

use super::action::Action;
use super::audit::Outcome;
use super::principal::{Principal, StaffId};
use super::resource::Resource;
use super::role::Role;
use super::session::Login;
use super::session_repo::{self, Holder};
use super::staff::{NewStaff, StaffMember};
use super::throttle_repo::{blocked_until, clear_failures, record_failure};
use crate::crypto::auth_mac;
use crate::crypto::data_keys::{DataKey, Subject};
use crate::crypto::field::{self, Place};
use crate::crypto::keys::{Keys, Mac256};
use crate::crypto::{Password, PasswordHash};
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

const TABLE: &str = "shopkeep_staff";
/// Blind-index field label of staff emails (separate from customers' emails).
const EMAIL_INDEX: &str = "staff_email";

/// Staff accounts, as seen by one principal. From [`Store::staff`].
#[derive(Debug)]
pub struct StaffRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// Staff accounts, for `principal`.
    ///
    /// ```
    /// use shopkeep::{Email, KeyRing, Store};
    /// use shopkeep::access::{NewStaff, Role};
    /// use shopkeep::crypto::Password;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let email = Email::parse("owner@example.com")?;
    /// let password = Password::new("a long and unusual passphrase");
    /// let new = NewStaff::new(email.clone(), "Olga Owner", Role::Owner, password)?;
    /// let owner = store.staff(&store.system()).create(new)?;
    ///
    /// let login = store.login_staff(&email, &Password::new("a long and unusual passphrase"))?;
    /// let olga = store.principal_from_session(login.token())?;
    /// assert_eq!(olga.staff_id(), Some(owner.id()));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn staff<'s>(&'s self, principal: &'s Principal) -> StaffRepo<'s> {
        StaffRepo {
            store: self,
            principal,
        }
    }

    /// Logs a staff member in with email and password, and opens a session.
    ///
    /// An unknown email costs the same time as a wrong password (a real argon2 verification
    /// against a dummy hash), and both answer alike. A hash made with older parameters is
    /// upgraded. Successes and failures are audited (by id, never by email).
    ///
    /// Failed attempts are throttled per email exactly as customers' are
    /// ([`LoginThrottle`](crate::LoginThrottle)), whether or not the account exists.
    ///
    /// # Errors
    ///
    /// `Unauthenticated` for an unknown email, a wrong password or a disabled account (alike);
    /// `TooManyAttempts` while the email must wait after repeated failures; `Crypto` if the
    /// account's role, password hash or disabled time was altered outside shopkeep (see the
    /// auth MACs of `docs/security.md`).
    pub fn login_staff(&self, email: &Email, password: &Password) -> Result<Login> {
        let index = self.keys().blind_index(EMAIL_INDEX, &email.normalized());
        let (found, blocked): (Option<(StaffId, String, Role, bool)>, _) = self.read(|tx| {
            let id: Option<StaffId> = tx.query_opt(
                "SELECT id FROM shopkeep_staff WHERE email_index = ?1",
                args![index.as_slice()],
                |r| r.get(0),
            )?;
            let found = match id {
                Some(id) => {
                    let a = authority(tx, id)?.ok_or_else(|| not_found(&Resource::Staff(id)))?;
                    Some((id, a.password_hash, a.role, a.disabled_at.is_some()))
                }
                None => None,
            };
            Ok((found, blocked_until(tx, &index)?))
        })?;
        // Audited by id, never by email.
        let (who, what) = match &found {
            Some((id, ..)) => (format!("staff:{id}"), format!("staff:{id}")),
            None => ("anonymous".to_owned(), "staff".to_owned()),
        };
        // Throttled per email before any password work, whether or not the account exists.
        self.refuse_if_blocked(blocked, &who, &what)?;
        let passwords = self.passwords();
        // Hashing happens here, before any write lock is taken. Both paths parse a hash and
        // verify against it, so they cost the same (see `login` of customers).
        let stored = match &found {
            Some((_, hash, _, _)) => PasswordHash::parse(hash)?,
            None => PasswordHash::parse(passwords.dummy_hash()?.as_str())?,
        };
        let verification = passwords.verify(password, &stored);
        let matched = verification.as_ref().is_ok_and(|v| v.is_match());
        match found {
            Some((id, _, role, false)) if matched => {
                let rehash = match verification {
                    Ok(v) if v.needs_rehash() => Some(passwords.hash(password)?),
                    _ => None,
                };
                self.write(|tx| {
                    if let Some(hash) = &rehash {
                        // Only if the row is still what was verified: the MAC binds the role.
                        let authority = Authority {
                            role,
                            password_hash: hash.as_str().to_owned(),
                            disabled_at: None,
                        };
                        tx.execute(
                            "UPDATE shopkeep_staff SET password_hash = ?2, auth_mac = ?3
                             WHERE id = ?1 AND role = ?4 AND disabled_at IS NULL",
                            args![
                                id,
                                hash.as_str(),
                                authority.mac(tx.keys(), id).as_slice(),
                                role
                            ],
                        )?;
                    }
                    clear_failures(tx, &index)?;
                    let (token, expires_at) = session_repo::open(tx, self, Holder::Staff(id))?;
                    tx.audit_event(&who, "login", &what, Outcome::Allowed)?;
                    Ok(Login {
                        principal: Principal::staff(id, role),
                        token,
                        expires_at,
                    })
                })
            }
            _ => {
                self.write(|tx| record_failure(tx, self, &index, &who, &what, "login"))?;
                Err(Error::new(
                    ErrorKind::Unauthenticated,
                    "wrong email or password",
                ))
            }
        }
    }
}

impl StaffRepo<'_> {
    /// Creates a staff account. Needs [`Action::CreateStaff`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` (field `password`) if the password
    /// fails the store's password policy; `AlreadyExists` if the email is already taken.
    pub fn create(&self, new: NewStaff) -> Result<StaffMember> {
        let store = self.store;
        // Authorise before the slow hash, so that a refused caller costs nothing.
        store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::CreateStaff,
                &Resource::StaffDirectory,
            )
        })?;
        store
            .password_policy()
            .check(&new.password, &[new.email.as_str(), &new.name])?;
        let hash = store.passwords().hash(&new.password)?;
        let index = store
            .keys()
            .blind_index(EMAIL_INDEX, &new.email.normalized());
        store.write(|tx| {
            let id = StaffId::generate(tx.now())?;
            let key = store.data_key_or_create(tx, &subject(id))?;
            let email = field::encrypt(&key, place(&id, "email"), new.email.as_str().as_bytes())?;
            let name = field::encrypt(&key, place(&id, "name"), new.name.as_bytes())?;
            let mac = Authority {
                role: new.role,
                password_hash: hash.as_str().to_owned(),
                disabled_at: None,
            }
            .mac(tx.keys(), id);
            let inserted = tx.execute(
                    "INSERT INTO shopkeep_staff (id, email_index, email, name, role, password_hash, created_at, updated_at, auth_mac)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) ON CONFLICT (email_index) DO NOTHING",
                args![id, index.as_slice(), email, name, new.role, hash.as_str(), tx.now(), mac.as_slice()],
            )?;
            if inserted == 0 {
                return Err(Error::new(ErrorKind::AlreadyExists, "a staff account with this email already exists"));
            }
            tx.audit(self.principal, Action::CreateStaff, &Resource::Staff(id))?;
            Ok(StaffMember {
                id,
                email: new.email.clone(),
                name: new.name.clone(),
                role: new.role,
                disabled: false,
                created_at: tx.now(),
            })
        })
    }

    /// Reads one account. Needs [`Action::ReadStaff`] (every staff member may read their own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such account or the principal may not read it; `Crypto` if
    /// its role, password hash or disabled time was altered outside shopkeep.
    pub fn get(&self, id: StaffId) -> Result<StaffMember> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadStaff, &Resource::Staff(id))?;
            load(tx, self.store, id)
        })
    }

    /// Every staff account, oldest first. Needs [`Action::ReadStaff`] on the whole directory.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Crypto` if an account's role, password hash or
    /// disabled time was altered outside shopkeep.
    pub fn list(&self) -> Result<Vec<StaffMember>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadStaff, &Resource::StaffDirectory)?;
            let ids: Vec<StaffId> =
                tx.query_map("SELECT id FROM shopkeep_staff ORDER BY id", args![], |r| {
                    r.get(0)
                })?;
            ids.into_iter().map(|id| load(tx, self.store, id)).collect()
        })
    }

    /// Changes an account's role; its sessions carry the new role from the next request on.
    /// Needs [`Action::ChangeStaffRole`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown account; `Forbidden` without the permission; `InvalidTransition`
    /// if it would leave the shop without an active owner.
    pub fn change_role(&self, id: StaffId, role: Role) -> Result<StaffMember> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ChangeStaffRole, &Resource::Staff(id))?;
            let member = load(tx, self.store, id)?;
            if member.role == Role::Owner && role != Role::Owner && !member.disabled {
                ensure_another_owner(tx, id)?;
            }
            let authority = Authority {
                role,
                ..verified_authority(tx, id)?
            };
            tx.execute(
                "UPDATE shopkeep_staff SET role = ?2, updated_at = ?3, version = version + 1, auth_mac = ?4
                 WHERE id = ?1",
                args![id, role, tx.now(), authority.mac(tx.keys(), id).as_slice()],
            )?;
            tx.audit(self.principal, Action::ChangeStaffRole, &Resource::Staff(id))?;
            Ok(StaffMember { role, ..member })
        })
    }

    /// Disables an account: it can no longer log in, and its sessions end at once.
    /// Needs [`Action::DisableStaff`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown account; `Forbidden` without the permission; `InvalidTransition`
    /// if it is already disabled, or is the last active owner.
    pub fn disable(&self, id: StaffId) -> Result<()> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::DisableStaff, &Resource::Staff(id))?;
            let member = load(tx, self.store, id)?;
            if member.disabled {
                return Err(Error::new(ErrorKind::InvalidTransition, "the staff account is already disabled"));
            }
            if member.role == Role::Owner {
                ensure_another_owner(tx, id)?;
            }
            // The text bound into the MAC is exactly the text stored.
            let now = tx.now().to_rfc3339();
            let authority = Authority {
                disabled_at: Some(now.clone()),
                ..verified_authority(tx, id)?
            };
            tx.execute(
                "UPDATE shopkeep_staff SET disabled_at = ?2, updated_at = ?2, version = version + 1, auth_mac = ?3
                 WHERE id = ?1",
                args![id, now, authority.mac(tx.keys(), id).as_slice()],
            )?;
            session_repo::revoke_all(tx, Holder::Staff(id))?;
            tx.audit(self.principal, Action::DisableStaff, &Resource::Staff(id))?;
            Ok(())
        })
    }

    /// Changes a staff member's own password, given the current one. Every session of the
    /// account ends, including the caller's. Needs [`Action::ChangeStaffPassword`].
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown account; `Forbidden` without the permission; `Unauthenticated`
    /// if `current` is wrong; `Validation` (field `password`) if `new` fails the policy.
    pub fn change_password(&self, id: StaffId, current: &Password, new: &Password) -> Result<()> {
        let store = self.store;
        let (member, hash) = store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ChangeStaffPassword,
                &Resource::Staff(id),
            )?;
            let member = load(tx, store, id)?;
            let hash = verified_authority(tx, id)?.password_hash;
            Ok((member, PasswordHash::parse(&hash)?))
        })?;
        if !store.passwords().verify(current, &hash)?.is_match() {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                "the current password is wrong",
            ));
        }
        store
            .password_policy()
            .check(new, &[member.email.as_str(), &member.name])?;
        let new_hash = store.passwords().hash(new)?;
        store.write(|tx| {
            let authority = Authority {
                password_hash: new_hash.as_str().to_owned(),
                ..verified_authority(tx, id)?
            };
            tx.execute(
                "UPDATE shopkeep_staff SET password_hash = ?2, updated_at = ?3, version = version + 1, auth_mac = ?4
                 WHERE id = ?1",
                args![id, new_hash.as_str(), tx.now(), authority.mac(tx.keys(), id).as_slice()],
            )?;
            session_repo::revoke_all(tx, Holder::Staff(id))?;
            tx.audit(self.principal, Action::ChangeStaffPassword, &Resource::Staff(id))?;
            Ok(())
        })
    }
}

fn ensure_another_owner(tx: &Tx<'_>, id: StaffId) -> Result<()> {
    let others: Vec<StaffId> = tx.query_map(
        "SELECT id FROM shopkeep_staff WHERE role = 'owner' AND disabled_at IS NULL AND id != ?1",
        args![id],
        |r| r.get(0),
    )?;
    // An owner counts only with a valid MAC: a role raised by hand must not let the last real
    // owner be demoted or disabled.
    for other in &others {
        verified_authority(tx, *other)?;
    }
    if others.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            "this is the last active owner: make another owner first",
        ));
    }
    Ok(())
}

fn subject(id: StaffId) -> Subject {
    Subject::staff(&id.to_string())
}

/// Where a staff field lives: bound into its ciphertext, with the row id's 16 bytes.
fn place<'a>(id: &'a StaffId, column: &'static str) -> Place<'a> {
    Place {
        table: TABLE,
        column,
        row: id.as_bytes(),
    }
}

/// The columns of a staff row that grant authority, bound to the row by its auth MAC.
pub(super) struct Authority {
    pub(super) role: Role,
    pub(super) password_hash: String,
    /// As stored: the text of the time the account was disabled.
    pub(super) disabled_at: Option<String>,
}

impl Authority {
    /// The auth MAC of staff account `id` with this authority.
    pub(super) fn mac(&self, keys: &Keys, id: StaffId) -> Mac256 {
        keys.auth_mac(&auth_mac::STAFF, &self.bound(&id))
    }

    /// Checks `stored` against this authority of account `id`.
    ///
    /// # Errors
    ///
    /// `Crypto` if the role, password hash, disabled time or MAC was altered outside shopkeep.
    pub(super) fn verify(&self, keys: &Keys, id: StaffId, stored: Option<&[u8]>) -> Result<()> {
        keys.verify_auth_mac(&auth_mac::STAFF, &self.bound(&id), stored)
    }

    fn bound<'a>(&'a self, id: &'a StaffId) -> [Option<&'a [u8]>; 4] {
        [
            Some(id.as_bytes().as_slice()),
            Some(self.role.as_str().as_bytes()),
            Some(self.password_hash.as_bytes()),
            self.disabled_at.as_deref().map(str::as_bytes),
        ]
    }
}

/// The verified authority of account `id`, `None` if there is no such account.
///
/// # Errors
///
/// `Crypto` if the row was altered outside shopkeep.
fn authority(tx: &Tx<'_>, id: StaffId) -> Result<Option<Authority>> {
    let row: Option<(Authority, Option<Vec<u8>>)> = tx.query_opt(
        "SELECT role, password_hash, disabled_at, auth_mac FROM shopkeep_staff WHERE id = ?1",
        args![id],
        |r| {
            Ok((
                Authority {
                    role: r.get(0)?,
                    password_hash: r.get(1)?,
                    disabled_at: r.get(2)?,
                },
                r.get(3)?,
            ))
        },
    )?;
    let Some((authority, mac)) = row else {
        return Ok(None);
    };
    authority.verify(tx.keys(), id, mac.as_deref())?;
    Ok(Some(authority))
}

fn verified_authority(tx: &Tx<'_>, id: StaffId) -> Result<Authority> {
    authority(tx, id)?.ok_or_else(|| not_found(&Resource::Staff(id)))
}

/// A staff row as stored, fields still encrypted.
struct StaffRow {
    email: Vec<u8>,
    name: Vec<u8>,
    created_at: crate::clock::Timestamp,
}

fn load(tx: &Tx<'_>, store: &Store, id: StaffId) -> Result<StaffMember> {
    let authority = verified_authority(tx, id)?;
    let row = tx
        .query_opt(
            "SELECT email, name, created_at FROM shopkeep_staff WHERE id = ?1",
            args![id],
            |r| {
                Ok(StaffRow {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                })
            },
        )?
        .ok_or_else(|| not_found(&Resource::Staff(id)))?;
    let key = store
        .data_key(tx, &subject(id))?
        .ok_or_else(|| Error::new(ErrorKind::Crypto, "the staff account's data key is missing"))?;
    Ok(StaffMember {
        id,
        email: Email::parse(&decrypt_text(&key, id, "email", &row.email)?)?,
        name: decrypt_text(&key, id, "name", &row.name)?,
        role: authority.role,
        disabled: authority.disabled_at.is_some(),
        created_at: row.created_at,
    })
}

fn decrypt_text(key: &DataKey, id: StaffId, column: &'static str, stored: &[u8]) -> Result<String> {
    let plain = field::decrypt(key, place(&id, column), stored)?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| Error::new(ErrorKind::Crypto, "a decrypted field is not text"))
}

impl StaffRepo<'_> {
    /// Recomputes every staff account's email blind index from the normalised email
    /// ([`Email::normalized`]), like
    /// [`CustomerRepo::reindex_emails`](crate::CustomerRepo::reindex_emails) for customers: run
    /// once after upgrading a store written before emails were normalised; running it again
    /// changes nothing. Returns how many accounts it moved. An account whose normalised email
    /// another account already has keeps its old index, and so cannot log in until the host
    /// disables one of the two. Needs [`Action::CreateStaff`] (system and owners).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Crypto` if a stored email cannot be decrypted.
    pub fn reindex_emails(&self) -> Result<usize> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::CreateStaff,
                &Resource::StaffDirectory,
            )?;
            let ids: Vec<StaffId> =
                tx.query_map("SELECT id FROM shopkeep_staff ORDER BY id", args![], |r| {
                    r.get(0)
                })?;
            let mut moved = 0;
            for id in ids {
                let member = load(tx, store, id)?;
                let index = store
                    .keys()
                    .blind_index(EMAIL_INDEX, &member.email.normalized());
                let changed = tx.execute(
                    "UPDATE shopkeep_staff SET email_index = ?2
                         WHERE id = ?1 AND email_index <> ?2
                           AND NOT EXISTS (SELECT 1 FROM shopkeep_staff WHERE email_index = ?2)",
                    args![id, index.as_slice()],
                )?;
                if changed == 1 {
                    tx.audit(self.principal, Action::CreateStaff, &Resource::Staff(id))?;
                    moved += 1;
                }
            }
            Ok(moved)
        })
    }
}
