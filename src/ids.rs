//! Typed ids: time-ordered UUIDs (version 7) that cannot be mixed up with each other.

use crate::clock::Timestamp;
use crate::crypto::secret::random_array;
use crate::error::Result;

/// A fresh version-7 UUID for `now`: time-ordered, so new rows land at the end of the B-tree.
///
/// Ids made by this process are strictly increasing even within one millisecond (or when a
/// test clock stands still): an id that would not sort after the previous one becomes the
/// previous one plus one, so "oldest first" by id is creation order.
pub(crate) fn new_v7(now: Timestamp) -> Result<uuid::Uuid> {
    static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);
    let millis = u64::try_from(now.unix_millis()).unwrap_or(0);
    let random: [u8; 10] = random_array()?;
    let fresh = uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .as_u128();
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = if fresh > *last {
        fresh
    } else {
        last.wrapping_add(1)
    };
    *last = id;
    Ok(uuid::Uuid::from_u128(id))
}

/// Defines a public id newtype over a UUID, stored as a 16-byte blob, shown hyphenated.
macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub(crate) fn generate(now: $crate::clock::Timestamp) -> $crate::error::Result<Self> {
                $crate::ids::new_v7(now).map($name)
            }

            /// Parses the hyphenated form (`0190e6a4-7c1a-7000-8000-000000000001`).
            ///
            /// # Errors
            ///
            #[doc = concat!("A `Validation` error (field `", $field, "`) if the text is not a UUID.")]
            pub fn parse(text: &str) -> $crate::error::Result<Self> {
                uuid::Uuid::try_parse(text.trim()).map($name).map_err(|_| {
                    $crate::error::Error::validation($field, concat!("not a valid ", $field))
                })
            }

            /// The id whose 16 bytes these are (as stored in its blob column).
            pub(crate) fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(uuid::Uuid::from_bytes(bytes))
            }

            /// The 16 bytes, as stored in blob columns and bound into encrypted fields'
            /// associated data.
            pub(crate) fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(text: &str) -> $crate::error::Result<Self> {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(|e| serde::de::Error::custom(e.message()))
            }
        }

        // Bound and read through the crate-private `sql` traits: rusqlite's own would be
        // public API.
        impl $crate::sql::Param for $name {
            fn value(&self) -> $crate::sql::Value<'_> {
                $crate::sql::Value::Blob(self.as_bytes().as_slice().into())
            }
        }

        impl $crate::sql::Column for $name {
            fn column(value: $crate::sql::ValueRef<'_>) -> $crate::sql::ColumnResult<Self> {
                <[u8; 16] as $crate::sql::Column>::column(value).map($name::from_bytes)
            }
        }
    };
}

pub(crate) use define_id;
