//! Phone numbers in E.164 form.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// The longest input read, separators included.
const MAX_INPUT: usize = 32;

/// A phone number in E.164 form: `+`, a country code and the subscriber number, 7 to 15 digits
/// in all, no leading zero. Personal data: `Debug` redacts it.
///
/// Spaces, hyphens, dots, slashes and parentheses in the input are dropped, so
/// `+49 (30) 1234-5678` reads as `+493012345678`. A national form (`030 1234 5678`) or the
/// `00` international prefix is refused: only the host knows which country it meant.
///
/// ```
/// use shopkeep::customers::Phone;
///
/// assert_eq!(Phone::parse("+49 (30) 1234-5678")?.as_str(), "+493012345678");
/// assert!(Phone::parse("030 1234 5678").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Reads a number in international form.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `phone`) if the text does not start with `+`, holds anything
    /// but digits and the separators above, has fewer than 7 or more than 15 digits, or a
    /// country code starting with 0. The message does not repeat the number.
    pub fn parse(text: &str) -> Result<Phone> {
        let invalid =
            |why: &str| Error::validation("phone", format!("not an E.164 phone number: {why}"));
        let text = text.trim();
        if text.chars().count() > MAX_INPUT {
            return Err(invalid("it is too long"));
        }
        let Some(rest) = text.strip_prefix('+') else {
            return Err(invalid("it must start with + and the country code"));
        };
        let mut digits = String::with_capacity(15);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '/' | '(' | ')' => {}
                _ => return Err(invalid("it may hold only digits and separators")),
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(invalid("it must have 7 to 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(invalid("a country code never starts with 0"));
        }
        Ok(Phone(format!("+{digits}")))
    }

    /// The number in E.164 form (`+493012345678`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number read back from storage, where it was validated when written.
    pub(crate) fn from_stored(text: String) -> Phone {
        Phone(text)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone([REDACTED])")
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn international_numbers_are_normalised() {
        for (text, want) in [
            ("+4930123456", "+4930123456"),
            (" +49 30 123456 ", "+4930123456"),
            ("+1 (212) 555-0100", "+12125550100"),
            ("+33.1.23.45.67.89", "+33123456789"),
            ("+683 4002", "+6834002"),
            ("+123456789012345", "+123456789012345"),
        ] {
            assert_eq!(Phone::parse(text).unwrap().as_str(), want, "{text:?}");
        }
        assert_eq!(
            format!("{:?}", Phone::parse("+4930123456").unwrap()),
            "Phone([REDACTED])"
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "+",
            "030 123456",
            "0049 30 123456",
            "+0 30 123456",
            "+49 30 12345a",
            "+49\n30123456",
            "+49 30 123456 ext. 5",
            "+123456",
            "+1234567890123456",
            "++4930123456",
            "+٤٩٣٠١٢٣٤٥٦",
            "+49 30 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5",
        ] {
            let err = Phone::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "phone" },
                "{bad:?}"
            );
        }
    }
}
