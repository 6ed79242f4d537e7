//! Validation of free text fields.

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::error::{Error, Result};

/// Zero width non-joiner and zero width joiner: format characters that Persian, Indic and other
/// scripts need inside words to choose the right letter forms.
const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Trims `value` and checks it is non-empty, at most `max_chars` characters, and free of control
/// and invisible format characters ([`refuse_invisible`]). The message names the field, never
/// the value.
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
    refuse_invisible(field, value)?;
    Ok(value.to_owned())
}

/// Refuses format characters (Unicode general category Cf): bidirectional overrides, embeddings
/// and isolates, marks such as U+200E, zero-width spaces and joiners, the byte order mark, soft
/// hyphens, tags. They are invisible, so a name or an address holding them shows one text and
/// is another (`U+202E` makes a file name ending in `gpj.exe` read as one ending in `exe.jpg`),
/// and a zero-width space makes two names that look alike differ. ZWJ and ZWNJ are the
/// exception where a script needs them: between two letters of a non-ASCII script (a combining
/// mark, such as an Indic virama, counts as part of its letter). Latin text never needs them, so
/// `An` + ZWJ + `a` is refused.
pub(crate) fn refuse_invisible(field: &'static str, value: &str) -> Result<()> {
    let mut previous: Option<char> = None;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c.general_category() == GeneralCategory::Format {
            let joins_letters = matches!(c, ZWJ | ZWNJ)
                && previous.is_some_and(is_letter_or_mark)
                && chars.peek().copied().is_some_and(is_letter_or_mark);
            if !joins_letters {
                return Err(Error::validation(
                    field,
                    format!(
                        "{field} contains an invisible formatting character (U+{:04X})",
                        u32::from(c)
                    ),
                ));
            }
        }
        previous = Some(c);
    }
    Ok(())
}

fn is_letter_or_mark(c: char) -> bool {
    !c.is_ascii()
        && matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
        )
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

    #[test]
    fn refuses_bidi_controls_and_invisible_characters() {
        for bad in [
            "Ana\u{202E}gpj.exe",  // right-to-left override
            "Ana\u{202D}Lima",     // left-to-right override
            "\u{2067}Ana\u{2069}", // right-to-left isolate
            "Ana\u{200F}",         // right-to-left mark
            "Ana\u{061C}Lima",     // Arabic letter mark
            "An\u{200B}a",         // zero width space
            "\u{FEFF}Ana",         // byte order mark
            "An\u{00AD}a",         // soft hyphen
            "Ana\u{2060}Lima",     // word joiner
            "Ana\u{E0041}",        // tag character
            "Ana\u{200D}",         // a joiner at the end joins nothing
            "\u{200C}Ana",         // nor at the start
            "Ana \u{200D} Lima",   // nor between spaces
            "1\u{200D}2",          // nor between digits
        ] {
            let err = required("name", bad, 100).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "name" },
                "{bad:?}"
            );
            assert!(err.to_string().contains("invisible"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn keeps_joiners_that_a_script_needs_inside_a_word() {
        for good in [
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}", // Persian: ZWNJ between letters
            "\u{0915}\u{094D}\u{200D}\u{0937}", // Devanagari: ZWJ after a virama (a mark)
        ] {
            assert_eq!(required("name", good, 100).unwrap(), good);
        }
        assert!(required("name", "José Müller-Lüdenscheidt", 100).is_ok());
        assert!(required("name", "\u{05E9}\u{05DC}\u{05D5}\u{05DD}", 100).is_ok()); // Hebrew, no marks
    }

    proptest::proptest! {
        /// Whatever surrounds it, a bidi control or a zero-width space never gets through, and
        /// text made only of letters, digits, spaces and punctuation always does.
        #[test]
        fn no_bidi_control_or_zero_width_space_gets_through(
            before in "[\\p{L}\\p{N} .,'-]{0,20}",
            after in "[\\p{L}\\p{N} .,'-]{0,20}",
            invisible in proptest::sample::select(vec![
                '\u{061C}', '\u{200B}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}',
                '\u{202C}', '\u{202D}', '\u{202E}', '\u{2060}', '\u{2066}', '\u{2067}',
                '\u{2068}', '\u{2069}', '\u{FEFF}',
            ]),
        ) {
            let text = format!("x{before}{invisible}{after}x");
            proptest::prop_assert!(required("name", &text, 100).is_err());
            let plain = format!("x{before}{after}x");
            proptest::prop_assert!(required("name", &plain, 100).is_ok());
        }
    }
}
