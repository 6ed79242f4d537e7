//! Stock-keeping units: the shop's own names for what it sells.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The longest SKU, in characters.
const MAX_LEN: usize = 64;

/// A stock-keeping unit: the code a shop gives a product or one of its variants (`MUG-1`,
/// `TSHIRT-M-RED`).
///
/// A SKU is 1 to 64 ASCII characters: letters, digits, and `-`, `_`, `.`, `/` between them
/// (it starts and ends with a letter or a digit). Surrounding spaces are trimmed. The case is
/// kept as written, but SKUs are compared, unique and found regardless of case: `mug-1` and
/// `MUG-1` are the same SKU, so a shop cannot end up with two that look alike on a label.
///
/// ```
/// use shopkeep::catalog::Sku;
///
/// let sku = Sku::parse(" Mug-1 ")?;
/// assert_eq!(sku.as_str(), "Mug-1");
/// assert_eq!(sku, Sku::parse("MUG-1")?);
/// assert!(Sku::parse("MUG 1").is_err());
/// assert!(Sku::parse("-MUG").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Sku(String);

impl Sku {
    /// Parses and validates a SKU.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `sku`) if the text is empty, longer than 64 characters, has
    /// a character other than ASCII letters, digits, `-`, `_`, `.` and `/`, or does not start
    /// and end with a letter or a digit.
    pub fn parse(text: &str) -> Result<Sku> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::validation("sku", "a SKU is required"));
        }
        if text.len() > MAX_LEN {
            return Err(Error::validation(
                "sku",
                format!("a SKU has at most {MAX_LEN} characters"),
            ));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/');
        if !text.bytes().all(allowed) {
            return Err(Error::validation(
                "sku",
                "a SKU has only ASCII letters, digits, '-', '_', '.' and '/'",
            ));
        }
        let bytes = text.as_bytes();
        let edges_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
        if !edges_ok {
            return Err(Error::validation(
                "sku",
                "a SKU starts and ends with a letter or a digit",
            ));
        }
        Ok(Sku(text.to_owned()))
    }

    /// The SKU as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Equal regardless of ASCII case, as the database compares them.
impl PartialEq for Sku {
    fn eq(&self, other: &Sku) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Sku {}

impl Hash for Sku {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_uppercase());
        }
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sku({})", self.0)
    }
}

impl FromStr for Sku {
    type Err = Error;

    fn from_str(text: &str) -> Result<Sku> {
        Sku::parse(text)
    }
}

impl Serialize for Sku {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Sku, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Sku::parse(&text).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl crate::sql::Param for Sku {
    fn value(&self) -> crate::sql::Value<'_> {
        crate::sql::Value::Text(self.0.as_str().into())
    }
}

impl crate::sql::Column for Sku {
    fn column(value: crate::sql::ValueRef<'_>) -> crate::sql::ColumnResult<Sku> {
        Sku::parse(value.as_str()?).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn accepts_the_charset_and_compares_without_case() {
        for good in [
            "A",
            "mug-1",
            "TSHIRT-M-RED",
            "a.b_c/d",
            "0",
            &"X".repeat(64),
        ] {
            assert_eq!(Sku::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(Sku::parse("abc").unwrap(), Sku::parse("ABC").unwrap());
        assert_ne!(Sku::parse("abc").unwrap(), Sku::parse("abd").unwrap());
    }

    #[test]
    fn refuses_everything_else() {
        let long = "X".repeat(65);
        for bad in [
            "", "  ", "a b", "-a", "a-", ".a", "a/", "ä", "a\u{0}", "a,b", "a\"b", &long,
        ] {
            let err = Sku::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "sku" },
                "{bad:?}"
            );
        }
    }
}
