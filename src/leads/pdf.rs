//! The attachment check: a PDF by its content, of at most 10 MB.
//!
//! The name a browser sends proves nothing, so the bytes are read: a PDF starts with `%PDF-`
//! and ends with a trailer, `startxref`, the byte offset of the cross-reference section, and
//! `%%EOF`. The offset must point inside the file at a classic `xref` table or at an object
//! that is a cross-reference stream (`/Type /XRef`, PDF 1.5 and later). This is no full parse
//! (shopkeep renders PDFs, it does not read them); it refuses a renamed image or a truncated
//! upload, which is what a contact form needs.

/// The largest attachment accepted: 10 MB = 10,485,760 bytes.
pub(crate) const MAX_BYTES: usize = 10 * 1024 * 1024;

/// How far from the end `%%EOF` and `startxref` are looked for. Writers append at most a few
/// line ends after `%%EOF`; 1 KiB leaves room for the trailer dictionary of a classic table.
const TAIL: usize = 1024;

/// How far after the xref offset an xref stream's dictionary must name `/XRef`.
const XREF_STREAM_WINDOW: usize = 1024;

/// Whether `bytes` is a PDF of at most [`MAX_BYTES`] bytes, as far as its header and trailer
/// tell.
pub(crate) fn is_acceptable(bytes: &[u8]) -> bool {
    bytes.len() <= MAX_BYTES && bytes.starts_with(b"%PDF-") && xref_offset(bytes).is_some()
}

/// The offset `startxref` names, if the trailer is well formed and the offset points at a
/// cross-reference section inside the file.
fn xref_offset(bytes: &[u8]) -> Option<usize> {
    let tail_start = bytes.len().saturating_sub(TAIL);
    let tail = bytes.get(tail_start..)?;
    let eof = rfind(tail, b"%%EOF")?;
    // Only line ends may follow the final `%%EOF`.
    let after = tail.get(eof + b"%%EOF".len()..)?;
    if !after
        .iter()
        .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
    {
        return None;
    }
    let before_eof = tail.get(..eof)?;
    let startxref = rfind(before_eof, b"startxref")?;
    let number = before_eof.get(startxref + b"startxref".len()..)?;
    let offset = parse_offset(number)?;
    // The section lies before the trailer that points at it.
    if offset >= tail_start + startxref {
        return None;
    }
    let at = bytes.get(offset..)?;
    if at.starts_with(b"xref") || is_xref_stream(at) {
        Some(offset)
    } else {
        None
    }
}

/// Parses the decimal offset between `startxref` and `%%EOF`: whitespace, digits, whitespace.
fn parse_offset(text: &[u8]) -> Option<usize> {
    let text = trim(text);
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    text.iter().try_fold(0usize, |n, &d| {
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// Whether `at` starts with an indirect object header (`12 0 obj`) whose dictionary, close
/// after it, says `/Type /XRef`.
fn is_xref_stream(at: &[u8]) -> bool {
    let window = at
        .get(..XREF_STREAM_WINDOW.min(at.len()))
        .unwrap_or_default();
    let mut words = window
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let number = words
        .next()
        .is_some_and(|w| w.iter().all(u8::is_ascii_digit));
    let generation = words
        .next()
        .is_some_and(|w| w.iter().all(u8::is_ascii_digit));
    let obj = words.next().is_some_and(|w| w.starts_with(b"obj"));
    number && generation && obj && find(window, b"/XRef").is_some()
}

fn trim(mut text: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = text {
        if !first.is_ascii_whitespace() {
            break;
        }
        text = rest;
    }
    while let [rest @ .., last] = text {
        if !last.is_ascii_whitespace() {
            break;
        }
        text = rest;
    }
    text
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PDF with a classic xref table at the offset its trailer names.
    fn classic() -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\n");
        pdf.extend_from_slice(format!("startxref\n{xref}\n%%EOF\n").as_bytes());
        pdf
    }

    #[test]
    fn a_classic_table_and_an_xref_stream_are_pdfs() {
        assert!(is_acceptable(&classic()));
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let xref = pdf.len();
        pdf.extend_from_slice(b"7 0 obj\n<< /Type /XRef /Size 8 >>\nstream\nendstream\nendobj\n");
        pdf.extend_from_slice(format!("startxref\r\n{xref}\r\n%%EOF").as_bytes());
        assert!(is_acceptable(&pdf));
    }

    #[test]
    fn a_broken_trailer_is_refused() {
        let good = classic();
        let text = String::from_utf8(good.clone()).unwrap();
        // The offset one byte off, past the end, not a number; no %%EOF; junk after it.
        let xref = text.find("xref\n0 1").unwrap();
        for bad in [
            text.replace(
                &format!("startxref\n{xref}"),
                &format!("startxref\n{}", xref + 1),
            ),
            text.replace(&format!("startxref\n{xref}"), "startxref\n99999999"),
            text.replace(&format!("startxref\n{xref}"), "startxref\nabc"),
            text.replace("%%EOF", "%%EOX"),
            format!("{text}garbage"),
            text.replace("startxref", "startxrex"),
        ] {
            assert!(!is_acceptable(bad.as_bytes()), "accepted {bad:?}");
        }
        assert!(!is_acceptable(b"%PDF-"));
        assert!(!is_acceptable(b""));
    }
}
