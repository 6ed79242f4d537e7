//! RFC 8058 one-click unsubscribing: the logic of the endpoint the host mounts.

use crate::customers::UnsubscribeToken;
use crate::error::{Error, Result};
use crate::store::Store;

/// The body of a one-click unsubscribe POST (RFC 8058 §3.1), and the value of the
/// `List-Unsubscribe-Post` header marketing messages carry.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";

/// Handles a one-click unsubscribe POST: the mail provider (not a person) POSTs
/// `List-Unsubscribe=One-Click` to the HTTPS link of a message's `List-Unsubscribe` header.
///
/// The host mounts this at that link: it passes the `token` query parameter (as its framework
/// decoded it) and the raw request body. The body must be exactly [`ONE_CLICK_BODY`]; then the
/// token is verified and the recipient's consent on its channel withdrawn in the consent
/// ledger (source `unsubscribe_link`, recorded by `anonymous`, audited), as
/// [`Store::unsubscribe`] does: a customer's token or a lead's (one endpoint serves both). Unsubscribing again succeeds and records nothing new, so a
/// provider's retry is harmless. Answer `200 OK` (or `204`) on `Ok` — never a redirect, which
/// RFC 8058 forbids — and `400` on an error, without saying whether the token existed.
///
/// RFC 8058 §3 also requires a DKIM signature covering both `List-Unsubscribe` and
/// `List-Unsubscribe-Post`: shopkeep does not sign, so the host's mail server must (list
/// both headers in its DKIM `h=` tag).
///
/// ```
/// use shopkeep::{Email, KeyRing, Principal, Store};
/// use shopkeep::crypto::Password;
/// use shopkeep::customers::{Channel, ConsentRequest, NewCustomer};
/// use shopkeep::integrations::email::{ONE_CLICK_BODY, one_click_unsubscribe};
///
/// let store = Store::open_in_memory(KeyRing::generate()?)?;
/// let new = NewCustomer::new(Email::parse("ana@example.com")?, Password::new("correct horse battery staple"), "Ana")?;
/// let ana = store.customers(&Principal::anonymous()).register(new)?.id();
/// let system = store.system();
/// let confirm = store.consents(&system)
///     .grant(ana, ConsentRequest::new(Channel::Email, "checkout", "v1")?)?
///     .expect("email needs double opt-in");
/// store.confirm_consent(&confirm)?;
/// let token = store.consents(&system).unsubscribe_token(ana, Channel::Email)?;
///
/// assert!(one_click_unsubscribe(&store, token.as_str(), b"unsubscribe").is_err());
/// one_click_unsubscribe(&store, token.as_str(), ONE_CLICK_BODY.as_bytes())?;
/// one_click_unsubscribe(&store, token.as_str(), ONE_CLICK_BODY.as_bytes())?; // idempotent
/// assert!(!store.consents(&system).state(ana)?.iter().any(|s| s.is_granted()));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// `Validation` (field `body`) if the body is not exactly `List-Unsubscribe=One-Click`;
/// `Validation` (field `token`) for an empty or unknown token (or one of an erased customer
/// or lead); `Crypto` if the token's stored row was altered outside shopkeep. Nothing is written on
/// error.
pub fn one_click_unsubscribe(store: &Store, token: &str, body: &[u8]) -> Result<()> {
    if body != ONE_CLICK_BODY.as_bytes() {
        return Err(Error::validation(
            "body",
            "a one-click unsubscribe body must be exactly List-Unsubscribe=One-Click",
        ));
    }
    if token.is_empty() {
        return Err(Error::validation(
            "token",
            "the link is invalid or has expired: ask for a new one",
        ));
    }
    store.unsubscribe(&UnsubscribeToken::new(token))
}
