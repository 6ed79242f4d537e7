//! Turning what a visitor typed into an FTS5 query that can only ever mean text.
//!
//! FTS5 has a query language (`"phrases"`, `prefix*`, `AND`, `OR`, `NOT`, `NEAR(...)`,
//! `column:`, `^`, parentheses, `-`, `+`). A search box must not expose it: `"` alone, or
//! `NEAR(`, is a syntax error, and `name:` or `NOT` would change what is searched. So every
//! term becomes a quoted string (an FTS5 string has no syntax but its doubled `""`), and the
//! terms are joined by spaces, FTS5's implicit AND. The last term also matches as a prefix, so
//! results follow the visitor's typing. On PostgreSQL the same terms become quoted lexemes of a
//! `tsquery`, joined by `&`.

use crate::error::{Error, Result};

/// The longest search text, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 200;
/// The most terms one search has.
pub(crate) const MAX_TERMS: usize = 16;

/// The FTS5 query for `input`, or `None` if it has no terms at all.
///
/// # Errors
///
/// A `Validation` error (field `query`) for more than 200 characters or 16 terms.
pub(crate) fn fts_query(input: &str) -> Result<Option<String>> {
    // An FTS5 string has no syntax but its doubled `"`; juxtaposed strings are an AND.
    build(
        input,
        " ",
        |out, term| {
            out.push('"');
            out.push_str(&term.replace('"', "\"\""));
            out.push('"');
        },
        "*",
    )
}

/// The PostgreSQL `tsquery` text for `input` (for `to_tsquery('simple', ...)`), or `None` if
/// it has no terms: the same terms as [`fts_query`], each a quoted lexeme (which has no syntax
/// but its doubled `'` and its backslash escapes), joined by `&`, the last one a prefix.
///
/// # Errors
///
/// As [`fts_query`].
pub(crate) fn ts_query(input: &str) -> Result<Option<String>> {
    build(
        input,
        " & ",
        |out, term| {
            out.push('\'');
            out.push_str(&term.replace('\\', "\\\\").replace('\'', "''"));
            out.push('\'');
        },
        ":*",
    )
}

/// Splits `input` into at most [`MAX_TERMS`] terms and writes each with `quote`, `joiner`
/// between them and `prefix` after the last.
fn build(
    input: &str,
    joiner: &str,
    quote: impl Fn(&mut String, &str),
    prefix: &str,
) -> Result<Option<String>> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::validation(
            "query",
            format!("a search has at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    // Control characters separate terms: a NUL would end the query text inside SQLite.
    let terms: Vec<&str> = input
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|t| !t.is_empty())
        .collect();
    if terms.len() > MAX_TERMS {
        return Err(Error::validation(
            "query",
            format!("a search has at most {MAX_TERMS} words"),
        ));
    }
    let Some((last, rest)) = terms.split_last() else {
        return Ok(None);
    };
    let mut query = String::with_capacity(input.len() + 6 * terms.len());
    for term in rest {
        quote(&mut query, term);
        query.push_str(joiner);
    }
    quote(&mut query, last);
    query.push_str(prefix);
    Ok(Some(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_is_quoted_and_the_last_is_a_prefix() {
        assert_eq!(fts_query("mug").unwrap().unwrap(), r#""mug"*"#);
        assert_eq!(
            fts_query("  red  mug ").unwrap().unwrap(),
            r#""red" "mug"*"#
        );
        assert_eq!(
            fts_query(r#"a"b NEAR( x:"#).unwrap().unwrap(),
            r#""a""b" "NEAR(" "x:"*"#
        );
        assert_eq!(fts_query("a\u{0}b").unwrap().unwrap(), r#""a" "b"*"#);
        assert_eq!(fts_query(" \t\n").unwrap(), None);
        assert!(fts_query(&"x".repeat(201)).is_err());
        assert!(fts_query(&"x ".repeat(17)).is_err());
    }

    #[test]
    fn postgres_terms_are_quoted_lexemes_and_the_last_is_a_prefix() {
        assert_eq!(ts_query("mug").unwrap().unwrap(), "'mug':*");
        assert_eq!(
            ts_query(r"it's a\b & !x").unwrap().unwrap(),
            r"'it''s' & 'a\\b' & '&' & '!x':*"
        );
        assert_eq!(ts_query(" \t\n").unwrap(), None);
        assert!(ts_query(&"x ".repeat(17)).is_err());
    }
}
