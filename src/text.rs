//! Validation of free text fields.

use crate::error::{Error, Result};

/// Trims `value` and checks it is non-empty, at most `max_chars` characters, and free of control
/// characters. The message names the field, never the value.
pub(crate) fn required(field: &'static str, value: &str, max_chars: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::validation(field, format!("{field} is required")));
    }
    if value.chars().count() > max_chars {
        return Err(Error::validation(
            field,
            format!("{field} is longer than {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn trims_and_refuses_empty_long_and_control() {
        assert_eq!(required("name", "  Ana  ", 10).unwrap(), "Ana");
        for bad in [
            "",
            "   ",
            "a\u{7}b",
            "line\nbreak",
            "ＡＢＣＤＥＦＧＨＩＪＫ",
        ] {
            let err = required("name", bad, 10).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "name" },
                "{bad:?}"
            );
        }
        assert_eq!(
            required("name", "ＡＢＣＤＥＦＧＨＩＪ", 10)
                .unwrap()
                .chars()
                .count(),
            10
        );
    }
}
