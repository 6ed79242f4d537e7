//! Customer login, and the SQL of login throttling.
//!
//! Order of work in a login, and why:
//! 1. one read: the email's failure count and the account (if any);
//! 2. a throttled email is refused here, before any argon2 work, known account or not;
//! 3. argon2 runs with no lock held: a real verification against the account's hash, or
//!    against a dummy hash when there is no account, so both cost the same;
//! 4. one write: the failure is counted (per email blind index, account or not), or the
//!    session is opened; either way the audit log records it, by id, never by email.

use super::storage;
use crate::access::audit::Outcome;
use crate::access::session_repo::{self, Holder};
use crate::access::throttle_repo::{blocked_until, clear_failures, record_failure};
use crate::access::{CustomerId, Login, Principal};
use crate::crypto::{Password, PasswordHash};
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::Store;

/// An account found by email: its id and stored password hash.
struct Account {
    id: CustomerId,
    hash: String,
}

impl Store {
    /// Logs a customer in with email and password, and opens a session.
    ///
    /// Failed attempts are counted per email, whether or not an account has it, and throttled
    /// by the store's [`LoginThrottle`](crate::LoginThrottle); a throttled attempt is refused
    /// before the password is checked. An unknown email costs the same time as a wrong password
    /// (a real argon2 verification against a dummy hash, with the same allocations as a real
    /// one) and both answer alike. A hash made with
    /// older parameters is upgraded. Logins, failures, throttled attempts and the start of each
    /// wait are audited, by customer id (or `anonymous`), never by email.
    ///
    /// ```
    /// use shopkeep::{Email, ErrorKind, KeyRing, Principal, Store};
    /// use shopkeep::crypto::Password;
    /// use shopkeep::customers::NewCustomer;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let email = Email::parse("ana@example.com")?;
    /// let pw = "correct horse battery staple";
    /// store.customers(&Principal::anonymous()).register(NewCustomer::new(email.clone(), Password::new(pw), "Ana")?)?;
    ///
    /// let login = store.login(&Email::parse("ANA@example.com")?, &Password::new(pw))?;
    /// assert!(login.principal().customer_id().is_some());
    /// let err = store.login(&email, &Password::new("wrong")).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Unauthenticated` for an unknown email, a wrong password or an erased account (alike);
    /// `TooManyAttempts` while the email must wait after repeated failures (the message says
    /// how long); `Crypto` if the account's password hash was altered outside shopkeep (see
    /// the auth MACs of `docs/security.md`).
    pub fn login(&self, email: &Email, password: &Password) -> Result<Login> {
        let index = storage::email_index(self, email);
        let (blocked_until, account) = self.read(|tx| {
            let account = tx.query_opt(
                "SELECT id, password_hash, auth_mac FROM shopkeep_customers
                     WHERE email_index = ?1 AND erased_at IS NULL",
                args![index.as_slice()],
                |r| {
                    Ok((
                        Account {
                            id: r.get(0)?,
                            hash: r.get(1)?,
                        },
                        r.get::<Option<Vec<u8>>>(2)?,
                    ))
                },
            )?;
            // A hash is trusted only with its MAC: otherwise anyone who can write the file
            // could set a hash of their own password on any account.
            let account = match account {
                Some((account, mac)) => {
                    storage::verify_account(self, account.id, Some(&account.hash), mac.as_deref())?;
                    Some(account)
                }
                None => None,
            };
            Ok((blocked_until(tx, &index)?, account))
        })?;
        let (who, what) = match &account {
            Some(a) => (format!("customer:{}", a.id), format!("customer:{}", a.id)),
            None => ("anonymous".to_owned(), "customers".to_owned()),
        };
        self.refuse_if_blocked(blocked_until, &who, &what)?;

        // Hashing happens here, before any write lock is taken. An unknown email is verified
        // against a fresh parse of the dummy hash, exactly as a known one is against a fresh
        // parse of its stored hash: measured, `verify_unknown_account` (which reuses the cached
        // dummy) left the allocator in another state, and argon2's 19 MiB then cost 2.5 ms
        // more in page faults on one path than the other, which a response time would show.
        let passwords = self.passwords();
        let stored = match &account {
            Some(a) => PasswordHash::parse(&a.hash)?,
            None => PasswordHash::parse(passwords.dummy_hash()?.as_str())?,
        };
        let verification = passwords.verify(password, &stored);
        let matched = verification.as_ref().is_ok_and(|v| v.is_match());
        let Some(account) = account.filter(|_| matched) else {
            self.write(|tx| record_failure(tx, self, &index, &who, &what, "login"))?;
            return Err(wrong_credentials());
        };
        let rehash = match verification {
            Ok(v) if v.needs_rehash() => Some(passwords.hash(password)?),
            _ => None,
        };
        self.write(|tx| {
            // The account may have been erased, or its password changed, since it was read.
            let current = tx.execute(
                "UPDATE shopkeep_customers
                     SET password_hash = coalesce(?3, password_hash), last_login_at = ?4,
                         auth_mac = coalesce(?5, auth_mac)
                     WHERE id = ?1 AND password_hash = ?2 AND erased_at IS NULL",
                args![
                    account.id,
                    account.hash,
                    rehash.as_ref().map(PasswordHash::as_str),
                    tx.now(),
                    rehash.as_ref().map(|h| {
                        storage::account_mac(self, account.id, Some(h.as_str())).to_vec()
                    })
                ],
            )?;
            if current != 1 {
                return Err(wrong_credentials());
            }
            clear_failures(tx, &index)?;
            let (token, expires_at) = session_repo::open(tx, self, Holder::Customer(account.id))?;
            tx.audit_event(&who, "login", &what, Outcome::Allowed)?;
            Ok(Login {
                principal: Principal::customer(account.id),
                token,
                expires_at,
            })
        })
    }
}

fn wrong_credentials() -> Error {
    Error::new(ErrorKind::Unauthenticated, "wrong email or password")
}
