//! XML 1.0 character escaping for the reportError writer.
//!
//! quick-xml's own escaping covers the five predefined entities only. A report
//! carries text a server (or an attacker behind it) chose, so the writer needs
//! three more rules, and it needs to know the escaped length before writing so
//! that the size limits can be applied without building the document twice:
//!
//! - characters XML 1.0 cannot carry at all, not even as a character
//!   reference (`Char` production, XML 1.0 §2.2: the C0 controls other than
//!   TAB, LF and CR, and U+FFFE / U+FFFF) are replaced with U+FFFD and counted,
//!   so the position of the damage stays visible to whoever reads the report;
//! - in attribute values TAB, LF and CR are written as character references,
//!   because a conforming reader turns literal ones into spaces (XML 1.0 §3.3.3
//!   attribute-value normalization);
//! - in text CR is written as `&#13;`, because a conforming reader turns a
//!   literal CR (or CR LF) into LF (XML 1.0 §2.11).

/// Where escaped text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// A double-quoted attribute value.
    Attribute,
    /// Character data of an element.
    Text,
}

/// The replacement for a character XML 1.0 cannot carry.
const REPLACEMENT: &str = "\u{FFFD}";

/// What one input byte (or the three-byte U+FFFE / U+FFFF) becomes.
enum Step {
    /// Copied as is.
    Keep,
    /// Replaced by an entity or character reference, consuming `1` byte.
    Escape(&'static str),
    /// Replaced by U+FFFD, consuming `len` bytes.
    Replace(usize),
}

/// Bytes that may need more than a copy, per context: a table lookup per byte
/// lets the common case (nothing to escape) run as a tight scan.
const fn special_bytes(attribute: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[0xEF] = true;
    if attribute {
        table[b'"' as usize] = true;
    } else {
        table[b'\t' as usize] = false;
        table[b'\n' as usize] = false;
    }
    table
}

static SPECIAL_IN_ATTRIBUTE: [bool; 256] = special_bytes(true);
static SPECIAL_IN_TEXT: [bool; 256] = special_bytes(false);

/// The index of the next byte at or after `from` that may need escaping.
#[inline]
fn next_special(bytes: &[u8], from: usize, context: Context) -> Option<usize> {
    let table = match context {
        Context::Attribute => &SPECIAL_IN_ATTRIBUTE,
        Context::Text => &SPECIAL_IN_TEXT,
    };
    let rest = bytes.get(from..)?;
    rest.iter()
        .position(|&b| table[usize::from(b)])
        .map(|at| from + at)
}

#[inline]
fn step(bytes: &[u8], i: usize, context: Context) -> Step {
    let Some(&b) = bytes.get(i) else {
        return Step::Keep;
    };
    let attribute = context == Context::Attribute;
    match b {
        b'&' => Step::Escape("&amp;"),
        b'<' => Step::Escape("&lt;"),
        // Only required in `]]>`, escaped always so no sequence can form one.
        b'>' => Step::Escape("&gt;"),
        b'"' if attribute => Step::Escape("&quot;"),
        b'\t' if attribute => Step::Escape("&#9;"),
        b'\n' if attribute => Step::Escape("&#10;"),
        b'\r' => Step::Escape("&#13;"),
        b'\t' | b'\n' => Step::Keep,
        0x00..=0x1F => Step::Replace(1),
        // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
        0xEF if bytes.get(i + 1) == Some(&0xBF)
            && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
        {
            Step::Replace(3)
        }
        _ => Step::Keep,
    }
}

/// Whether `c` is a character XML 1.0 can carry (`Char`, XML 1.0 §2.2).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The byte length of `value` once escaped for `context`.
pub(crate) fn escaped_len(value: &str, context: Context) -> usize {
    let bytes = value.as_bytes();
    let mut len = bytes.len();
    let mut from = 0;
    while let Some(i) = next_special(bytes, from, context) {
        from = match step(bytes, i, context) {
            Step::Keep => i + 1,
            Step::Escape(with) => {
                len += with.len() - 1;
                i + 1
            }
            Step::Replace(n) => {
                len = len + REPLACEMENT.len() - n;
                i + n
            }
        };
    }
    len
}

/// Appends `value`, escaped for `context`, to `out`; returns how many
/// characters were replaced with U+FFFD.
pub(crate) fn escape_into(out: &mut String, value: &str, context: Context) -> u32 {
    let bytes = value.as_bytes();
    let mut replaced = 0u32;
    let mut copied = 0;
    let mut from = 0;
    while let Some(i) = next_special(bytes, from, context) {
        let (with, n) = match step(bytes, i, context) {
            Step::Keep => {
                from = i + 1;
                continue;
            }
            Step::Escape(with) => (with, 1),
            Step::Replace(n) => {
                replaced = replaced.saturating_add(1);
                (REPLACEMENT, n)
            }
        };
        // `i` and `i + n` lie on char boundaries: every special byte is ASCII
        // or the first byte of a whole three-byte character.
        out.push_str(value.get(copied..i).unwrap_or_default());
        out.push_str(with);
        copied = i + n;
        from = copied;
    }
    out.push_str(value.get(copied..).unwrap_or_default());
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(value: &str, context: Context) -> (String, u32) {
        let mut out = String::new();
        let n = escape_into(&mut out, value, context);
        (out, n)
    }

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            escaped(r#"a<b>&"c"'d"#, Context::Attribute),
            ("a&lt;b&gt;&amp;&quot;c&quot;'d".to_owned(), 0)
        );
        assert_eq!(
            escaped(r#"a<b>&"c"]]>"#, Context::Text),
            (r#"a&lt;b&gt;&amp;"c"]]&gt;"#.to_owned(), 0)
        );
    }

    #[test]
    fn white_space_survives_normalization() {
        assert_eq!(
            escaped("a\tb\nc\rd", Context::Attribute),
            ("a&#9;b&#10;c&#13;d".to_owned(), 0)
        );
        assert_eq!(
            escaped("a\tb\nc\r\nd", Context::Text),
            ("a\tb\nc&#13;\nd".to_owned(), 0)
        );
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced_and_counted() {
        assert_eq!(
            escaped("\u{0}a\u{1B}b\u{FFFE}\u{FFFF}\u{FFFD}\u{7F}", Context::Text),
            (
                "\u{FFFD}a\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}\u{7F}".to_owned(),
                4
            )
        );
    }

    #[test]
    fn non_ascii_is_copied() {
        assert_eq!(
            escaped("Zoë 日本 😀", Context::Attribute),
            ("Zoë 日本 😀".to_owned(), 0)
        );
    }

    proptest! {
        #[test]
        fn escaped_len_is_exact(s in any::<String>()) {
            for context in [Context::Attribute, Context::Text] {
                let (out, _) = escaped(&s, context);
                prop_assert_eq!(out.len(), escaped_len(&s, context));
                prop_assert!(out.chars().all(is_xml_char));
                prop_assert!(!out.contains('<'));
                if context == Context::Attribute {
                    prop_assert!(!out.contains('"'));
                    prop_assert!(!out.contains(['\t', '\n', '\r']));
                }
            }
        }

        #[test]
        fn replacement_count_is_the_number_of_illegal_chars(s in any::<String>()) {
            let (_, n) = escaped(&s, Context::Text);
            prop_assert_eq!(n as usize, s.chars().filter(|&c| !is_xml_char(c)).count());
        }
    }
}
