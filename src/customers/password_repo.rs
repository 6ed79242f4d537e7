//! Customers' passwords' SQL: change (with the current password) and reset (with a one-time
//! token the host emails).

use std::time::Duration;

use super::repo::CustomerRepo;
use super::storage;
use super::token::ResetToken;
use crate::access::audit::Outcome;
use crate::access::session_repo::{self, Holder};
use crate::access::throttle_repo::{blocked_until, clear_failures, record_failure};
use crate::access::{Action, CustomerId, Resource};
use crate::clock::Timestamp;
use crate::crypto::{Password, PasswordHash};
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx};

/// How long a password-reset token is valid.
const RESET_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The stored purpose of reset tokens (consent confirmations share the table).
const PURPOSE: &str = "password_reset";

impl CustomerRepo<'_> {
    /// Changes a customer's own password, given the current one. Every session of the account
    /// ends, the caller's included, and every pending reset token is void. Needs
    /// [`Action::ChangeCustomerPassword`], which only the customer has.
    ///
    /// A wrong current password counts as a failed login of the account's email, so that
    /// someone holding a stolen session cannot guess the password faster than at the login.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown or hidden customer; `Validation` (field `password`) if `new`
    /// fails the password policy; `TooManyAttempts` while the email must wait after failures;
    /// `Unauthenticated` if `current` is wrong; `Conflict` if the password changed meanwhile;
    /// `Crypto` if the stored password hash was altered outside shopkeep.
    pub fn change_password(
        &self,
        id: CustomerId,
        current: &Password,
        new: &Password,
    ) -> Result<()> {
        let store = self.store;
        let (customer, old_hash, blocked_until) = store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ChangeCustomerPassword,
                &Resource::Customer(id),
            )?;
            let customer = storage::load(tx, store, id)?;
            let (hash, mac): (String, Option<Vec<u8>>) = tx.query_row(
                "SELECT password_hash, auth_mac FROM shopkeep_customers WHERE id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            storage::verify_account(store, id, Some(&hash), mac.as_deref())?;
            let index = storage::email_index(store, &customer.email);
            let blocked_until = blocked_until(tx, &index)?;
            Ok((customer, hash, blocked_until))
        })?;
        store
            .password_policy()
            .check(new, &[customer.email.as_str(), &customer.name])?;
        let index = storage::email_index(store, &customer.email);
        let who = self.principal.audit_name();
        let what = Resource::Customer(id).to_string();
        store.refuse_if_blocked(blocked_until, &who, &what)?;
        if !store
            .passwords()
            .verify(current, &PasswordHash::parse(&old_hash)?)?
            .is_match()
        {
            store.write(|tx| {
                record_failure(tx, store, &index, &who, &what, "change_customer_password")
            })?;
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                "the current password is wrong",
            ));
        }
        let new_hash = store.passwords().hash(new)?;
        store.write(|tx| {
            let changed = tx.execute(
                "UPDATE shopkeep_customers SET password_hash = ?3, updated_at = ?4, auth_mac = ?5
                     WHERE id = ?1 AND password_hash = ?2 AND erased_at IS NULL",
                args![
                    id,
                    old_hash,
                    new_hash.as_str(),
                    tx.now(),
                    storage::account_mac(store, id, Some(new_hash.as_str())).as_slice()
                ],
            )?;
            if changed != 1 {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "the password was changed meanwhile",
                ));
            }
            after_password_change(tx, id, &index)?;
            tx.audit(
                self.principal,
                Action::ChangeCustomerPassword,
                &Resource::Customer(id),
            )
        })
    }
}

impl Store {
    /// Starts a password reset for the account with `email`, if there is one: returns a
    /// single-use token, valid for an hour, for the host to send **to that email address** as a
    /// link. Any older reset token of the account stops working.
    ///
    /// `None` means there is no active account with this email. The host must not show that
    /// difference to its user: answer "if an account exists, we have sent an email" in both
    /// cases, and send the email outside the request (a queue, a background job) so that the
    /// response time does not tell either. Both cases write one audit entry, by customer id or
    /// as `anonymous`, never the email.
    ///
    /// ```
    /// use shopkeep::{Email, KeyRing, Principal, Store};
    /// use shopkeep::crypto::Password;
    /// use shopkeep::customers::NewCustomer;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let email = Email::parse("ana@example.com")?;
    /// let new = NewCustomer::new(email.clone(), Password::new("correct horse battery staple"), "Ana")?;
    /// store.customers(&Principal::anonymous()).register(new)?;
    ///
    /// if let Some(token) = store.request_password_reset(&email)? {
    ///     // Email a link with `token.as_str()` to the address; then, when it is followed:
    ///     store.reset_password(&token, &Password::new("a brand new long passphrase"))?;
    /// }
    /// store.login(&email, &Password::new("a brand new long passphrase"))?;
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Storage` if the database cannot be written; `Crypto` if the random number generator
    /// fails.
    pub fn request_password_reset(&self, email: &Email) -> Result<Option<ResetToken>> {
        let index = storage::email_index(self, email);
        self.write(|tx| {
            let Some(id) = storage::find_by_index(tx, &index)? else {
                tx.audit_event("anonymous", "request_password_reset", "customers", Outcome::Denied)?;
                return Ok(None);
            };
            tx.execute(
                "DELETE FROM shopkeep_customer_tokens WHERE customer_id = ?1 AND purpose = ?2",
                args![id, PURPOSE],
            )?;
            let token = ResetToken::generate()?;
            let token_hash = self.keys().token_hash(token.as_str().as_bytes());
            let now = tx.now();
            tx.execute(
                "INSERT INTO shopkeep_customer_tokens (token_hash, customer_id, purpose, created_at, expires_at, auth_mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![
                    token_hash.as_slice(),
                    id,
                    PURPOSE,
                    now,
                    now.checked_add(RESET_TOKEN_LIFETIME)?,
                    storage::token_mac(self, &token_hash, id, PURPOSE).as_slice()
                ],
            )?;
            tx.audit_event(
                "anonymous",
                "request_password_reset",
                &Resource::Customer(id).to_string(),
                Outcome::Allowed,
            )?;
            Ok(Some(token))
        })
    }

    /// Sets a new password with a reset token from
    /// [`request_password_reset`](Self::request_password_reset). The token is used up; every
    /// session of the account ends; the email's failed-login count is cleared.
    ///
    /// # Errors
    ///
    /// `Validation` (field `token`) if the token is unknown, expired, already used or replaced
    /// by a newer one (all alike); `Validation` (field `password`) if the new password fails
    /// the policy (the token stays valid, so the customer can try another); `Crypto` if the
    /// token was moved to another customer outside shopkeep (see the auth MACs of
    /// `docs/security.md`).
    pub fn reset_password(&self, token: &ResetToken, new: &Password) -> Result<()> {
        let hash = self.keys().token_hash(token.as_str().as_bytes());
        let customer = self.read(|tx| {
            let found: Option<(CustomerId, Timestamp, Option<Vec<u8>>)> = tx.query_opt(
                "SELECT customer_id, expires_at, auth_mac FROM shopkeep_customer_tokens
                     WHERE token_hash = ?1 AND purpose = ?2",
                args![hash.as_slice(), PURPOSE],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            match found {
                Some((id, expires_at, mac)) if tx.now() < expires_at => {
                    storage::verify_token(self, &hash, id, PURPOSE, mac.as_deref())?;
                    storage::load(tx, self, id).map_err(|_| invalid_token())
                }
                _ => Err(invalid_token()),
            }
        })?;
        self.password_policy()
            .check(new, &[customer.email.as_str(), &customer.name])?;
        let new_hash = self.passwords().hash(new)?;
        let index = storage::email_index(self, &customer.email);
        self.write(|tx| {
            let redeemed: Option<CustomerId> = tx.query_opt(
                "DELETE FROM shopkeep_customer_tokens
                     WHERE token_hash = ?1 AND purpose = ?2 AND expires_at > ?3
                     RETURNING customer_id",
                args![hash.as_slice(), PURPOSE, tx.now()],
                |r| r.get(0),
            )?;
            if redeemed != Some(customer.id) {
                return Err(invalid_token());
            }
            let changed = tx.execute(
                "UPDATE shopkeep_customers SET password_hash = ?2, updated_at = ?3, auth_mac = ?4
                     WHERE id = ?1 AND erased_at IS NULL",
                args![
                    customer.id,
                    new_hash.as_str(),
                    tx.now(),
                    storage::account_mac(self, customer.id, Some(new_hash.as_str())).as_slice()
                ],
            )?;
            if changed != 1 {
                return Err(invalid_token());
            }
            after_password_change(tx, customer.id, &index)?;
            tx.audit_event(
                "anonymous",
                "reset_password",
                &Resource::Customer(customer.id).to_string(),
                Outcome::Allowed,
            )
        })
    }
}

/// What every password change does besides the hash: reset tokens are void, sessions end, and
/// the email's failed-login count is cleared.
fn after_password_change(
    tx: &Tx<'_>,
    id: CustomerId,
    index: &crate::crypto::keys::Mac256,
) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_customer_tokens WHERE customer_id = ?1 AND purpose = ?2",
        args![id, PURPOSE],
    )?;
    session_repo::revoke_all(tx, Holder::Customer(id))?;
    clear_failures(tx, index)
}

/// The one answer for a token that is unknown, expired, used or replaced.
pub(super) fn invalid_token() -> Error {
    Error::validation(
        "token",
        "the link is invalid or has expired: ask for a new one",
    )
}
