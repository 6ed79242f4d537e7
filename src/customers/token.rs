//! One-time and link tokens a host hands to a customer by email: password reset, consent
//! confirmation, unsubscribe.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use crate::crypto::secret::random_array;
use crate::error::Result;

/// Defines a secret token type: 256 random bits behind a recognisable prefix, wiped on drop,
/// redacted in `Debug`, not `Clone`.
macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// The token as the host received it back (from a link the customer followed).
            pub fn new(text: impl Into<String>) -> Self {
                $name(Zeroizing::new(text.into()))
            }

            pub(crate) fn generate() -> Result<Self> {
                let bytes = Zeroizing::new(random_array::<32>()?);
                Ok($name(Zeroizing::new(format!(
                    "{}{}",
                    $prefix,
                    Base64UrlUnpadded::encode_string(bytes.as_slice())
                ))))
            }

            /// The token text, to put in a link.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }
    };
}

secret_token!(
    /// A password-reset token (`shr_…`): single use, short-lived, stored only as a keyed hash.
    /// From [`Store::request_password_reset`](crate::Store::request_password_reset), for the
    /// host to email as a link; redeemed with
    /// [`Store::reset_password`](crate::Store::reset_password).
    ResetToken,
    "shr_"
);

secret_token!(
    /// A double opt-in confirmation token (`shc_…`): single use, expires, stored only as a keyed
    /// hash. From [`ConsentRepo::grant`](crate::ConsentRepo::grant) on a channel that needs
    /// confirmation, for the host to email as a link; redeemed with
    /// [`Store::confirm_consent`](crate::Store::confirm_consent).
    ConsentToken,
    "shc_"
);

secret_token!(
    /// An unsubscribe token (`shu_…`) of one customer or lead and one channel, for the links
    /// in every marketing message; it works without logging in, with
    /// [`Store::unsubscribe`](crate::Store::unsubscribe), whichever kind it is. From
    /// [`ConsentRepo::unsubscribe_token`](crate::ConsentRepo::unsubscribe_token) or
    /// [`LeadRepo::unsubscribe_token`](crate::leads::LeadRepo::unsubscribe_token). Stable (the
    /// same token every time it is asked for) until the customer or lead is erased.
    UnsubscribeToken,
    "shu_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_redacted() {
        let a = ResetToken::generate().unwrap();
        let b = ResetToken::generate().unwrap();
        assert!(a.as_str().starts_with("shr_") && a.as_str().len() == 4 + 43);
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(format!("{a:?}"), "ResetToken([REDACTED])");
        assert!(
            ConsentToken::generate()
                .unwrap()
                .as_str()
                .starts_with("shc_")
        );
        assert!(
            UnsubscribeToken::generate()
                .unwrap()
                .as_str()
                .starts_with("shu_")
        );
    }
}
