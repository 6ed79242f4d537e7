//! serde for the value types that have a text form (feature `serde`).
//!
//! Such a value serialises as its `Display` text and deserialises through the same parser as
//! its public constructor, so that JSON can never make a value the API would refuse.

/// Implements `Serialize` for `$ty` as its `Display` text and, given `$parse`, `Deserialize`
/// through that validating parser. Both only with the `serde` feature.
macro_rules! text_serde {
    ($ty:ty) => {
        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
    ($ty:ty, $parse:expr) => {
        $crate::serde_text::text_serde!($ty);

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let parse: fn(&str) -> $crate::error::Result<$ty> = $parse;
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                parse(&text).map_err(|e| serde::de::Error::custom(e))
            }
        }
    };
}

pub(crate) use text_serde;
