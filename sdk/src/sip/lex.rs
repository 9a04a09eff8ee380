//! The one lexer of the SIP header parsers (`Warning`, `Retry-After`,
//! `ms-diagnostics`, the message parser, the report writer): a byte cursor
//! over a header value, RFC 3261 §25.1 `token` characters, line folding, and
//! the text of `quoted-string`s and `comment`s.
//!
//! # Line folding, the one rule
//!
//! A fold is `*WSP line-break *WSP`, where a line break is CRLF or a bare LF
//! (a lone CR is not one), and it reads as one SP, inside quoted text too.
//! That is RFC 3261 §7.3.1 (`LWS = [*WSP CRLF] 1*WSP`: the white space
//! before the break belongs to the fold) with two leniencies real input
//! needs: a bare LF, and no white space after the break, because the MS-OCER
//! examples (§2.2.1.1, §4.1) are wrapped that way. A value taken from a
//! parsed message always has white space after its breaks (otherwise the
//! next line is a new header), so the leniency only matters for values
//! handed to the parsers directly (the C API, `explain`). Every parser uses
//! [`fold_end`] / [`lws_end`] / [`wsp_run_start`] or [`unfold`], so a value
//! reads the same in all of them.

use std::borrow::Cow;

/// SP or HTAB.
pub(crate) fn is_wsp(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// The length of the line break at `at`: 2 for CRLF, 1 for a bare LF, none
/// for anything else (a lone CR included).
pub(crate) fn line_break_len(b: &[u8], at: usize) -> Option<usize> {
    match (b.get(at), b.get(at + 1)) {
        (Some(b'\r'), Some(b'\n')) => Some(2),
        (Some(b'\n'), _) => Some(1),
        _ => None,
    }
}

/// Where the fold whose line break is at `at` ends: after the break and the
/// SP/HTAB that follow it. `None` if there is no line break at `at`.
pub(crate) fn fold_end(b: &[u8], at: usize) -> Option<usize> {
    let mut k = at + line_break_len(b, at)?;
    while b.get(k).copied().is_some_and(is_wsp) {
        k += 1;
    }
    Some(k)
}

/// Where the run of SP/HTAB that ends at `end` starts, not going below
/// `floor`: the white space before a line break, which belongs to its fold.
pub(crate) fn wsp_run_start(b: &[u8], floor: usize, end: usize) -> usize {
    let mut i = end;
    while i > floor && b.get(i - 1).copied().is_some_and(is_wsp) {
        i -= 1;
    }
    i
}

/// The end of the linear white space (SP, HTAB, folds) at `from`.
pub(crate) fn lws_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    loop {
        match b.get(i) {
            Some(&c) if is_wsp(c) => i += 1,
            Some(b'\r' | b'\n') => match fold_end(b, i) {
                Some(k) => i = k,
                None => return i,
            },
            _ => return i,
        }
    }
}

/// `raw` with each run of folds replaced by one SP (borrowed when it has
/// none): how a raw header value is written where line breaks cannot go.
pub(crate) fn unfold(raw: &str) -> Cow<'_, str> {
    let b = raw.as_bytes();
    let next_break = |from: usize| {
        (from..b.len())
            .find(|&i| matches!(b.get(i), Some(b'\r' | b'\n')) && line_break_len(b, i).is_some())
    };
    let Some(mut at) = next_break(0) else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    let mut kept = 0;
    loop {
        // Every index here is next to an ASCII byte, so on a char boundary.
        out.push_str(
            raw.get(kept..wsp_run_start(b, kept, at))
                .unwrap_or_default(),
        );
        out.push(' ');
        let mut k = at;
        while let Some(end) = fold_end(b, k) {
            k = end;
        }
        kept = k;
        match next_break(k) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(raw.get(kept..).unwrap_or_default());
    Cow::Owned(out)
}

/// A position in a header value; every advance is by a whole ASCII byte or a
/// whole character, so slicing at `pos` never splits a character.
pub(super) struct Cursor<'a> {
    s: &'a str,
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(super) fn peek_char(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    /// Advances past one ASCII byte (callers only bump after peeking one).
    pub(super) fn bump(&mut self) {
        self.pos += 1;
    }

    /// Takes the longest run of ASCII bytes matching `f`.
    pub(super) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !b.is_ascii() || !f(b) {
                break;
            }
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// The text from `start` up to the cursor.
    pub(super) fn slice_from(&self, start: usize) -> &'a str {
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Skips a fold (a line break and the SP/HTAB after it, see the module
    /// doc). Returns false, consuming nothing, if there is no line break here.
    pub(super) fn skip_fold(&mut self) -> bool {
        match fold_end(self.s.as_bytes(), self.pos) {
            Some(end) => {
                self.pos = end;
                true
            }
            None => false,
        }
    }

    /// Skips linear white space (SP, HTAB and folds). Returns whether any
    /// was skipped.
    pub(super) fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        self.pos = lws_end(self.s.as_bytes(), start);
        self.pos > start
    }
}

/// RFC 3261 `token` characters: alphanum / "-" / "." / "!" / "%" / "*" /
/// "_" / "+" / "`" / "'" / "~". A table, because this is the inner loop of
/// the `ms-diagnostics` parser.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

/// Whether `b` is an RFC 3261 `token` character.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// Why [`delimited_text`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextError {
    /// The closing delimiter never came.
    Unterminated,
    /// A backslash escapes CR, LF or a non-ASCII character: a quoted-pair is
    /// `\` followed by %x00-09 / %x0B-0C / %x0E-7F.
    BadEscape,
    /// A control character, or a lone CR.
    BadChar,
}

/// Reads the text between `open` (under the cursor) and its matching `close`,
/// unescaping quoted-pairs and reading each fold as one SP: a `quoted-string`
/// (`"`, `"`, not nesting) or a `comment` (`(`, `)`, nesting, RFC 3261 §25.1).
/// The outer delimiters are not part of the result; nested ones are.
pub(super) fn delimited_text(
    cur: &mut Cursor<'_>,
    open: u8,
    close: u8,
    nests: bool,
) -> Result<String, TextError> {
    cur.bump();
    let mut depth = 1usize;
    let mut out = String::new();
    // Where a run of raw white space began in `out`: if a line break follows,
    // that run belongs to the fold and is replaced with it by one SP.
    let mut raw_ws_start: Option<usize> = None;
    loop {
        let Some(c) = cur.peek_char() else {
            return Err(TextError::Unterminated);
        };
        match c {
            c if c == char::from(close) => {
                cur.bump();
                depth -= 1;
                if depth == 0 {
                    return Ok(out);
                }
                out.push(c);
                raw_ws_start = None;
            }
            c if nests && c == char::from(open) => {
                cur.bump();
                depth += 1;
                out.push(c);
                raw_ws_start = None;
            }
            '\\' => {
                cur.bump();
                match cur.peek_char() {
                    None => return Err(TextError::Unterminated),
                    Some(e) if e.is_ascii() && e != '\r' && e != '\n' => {
                        cur.bump();
                        out.push(e);
                        raw_ws_start = None;
                    }
                    Some(_) => return Err(TextError::BadEscape),
                }
            }
            '\r' | '\n' => {
                if !cur.skip_fold() {
                    return Err(TextError::BadChar);
                }
                if let Some(start) = raw_ws_start.take() {
                    out.truncate(start);
                }
                out.push(' ');
            }
            ' ' | '\t' => {
                cur.bump();
                raw_ws_start.get_or_insert(out.len());
                out.push(c);
            }
            c if c.is_ascii_control() => return Err(TextError::BadChar),
            c => {
                cur.pos += c.len_utf8();
                out.push(c);
                raw_ws_start = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{DiagnosticsHeader, HeaderKind};
    use crate::sip::{parse_warning_values, RetryAfter};

    /// Before there was one rule, the `ms-diagnostics` parser kept the white
    /// space before a break ("a  b") and the Warning and Retry-After parsers
    /// refused a break without white space after it. Every parser, and the
    /// report writer's `unfold`, now reads each of these texts the same.
    #[test]
    fn every_parser_reads_a_fold_the_same() {
        let cases = [
            ("a\r\n b", "a b"),
            ("a \r\n \t b", "a b"),
            ("a\t\n\tb", "a b"),
            ("a\nb", "a b"),
            ("a  \r\nb", "a b"),
            ("a\r\n b\r\n c", "a b c"),
        ];
        for (text, want) in cases {
            let diag =
                DiagnosticsHeader::parse(HeaderKind::Private, &format!("1;reason=\"{text}\""))
                    .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(
                diag.reason.as_deref(),
                Some(want),
                "ms-diagnostics {text:?}"
            );
            let warning = parse_warning_values(&format!("399 h \"{text}\""))
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(warning[0].text, want, "Warning {text:?}");
            let retry = RetryAfter::parse(&format!("5 ({text})"))
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(retry.comment.as_deref(), Some(want), "Retry-After {text:?}");
            assert_eq!(unfold(text), want, "unfold {text:?}");
        }
        // A lone CR is not a line break anywhere.
        assert!(DiagnosticsHeader::parse(HeaderKind::Private, "1;reason=\"a\rb\"").is_err());
        assert!(parse_warning_values("399 h \"a\rb\"").is_err());
        assert!(RetryAfter::parse("5 (a\rb)").is_err());
        assert_eq!(unfold("a\rb"), "a\rb");
        // Outside quoted text, folds between parameters are white space.
        let d =
            DiagnosticsHeader::parse(HeaderKind::Private, "1;\n reason=\"r\" \r\n;x=y").unwrap();
        assert_eq!(d.reason.as_deref(), Some("r"));
        let w = parse_warning_values("399\nh\r\n \"t\"").unwrap();
        assert_eq!(w[0].text, "t");
    }

    #[test]
    fn unfold_collapses_runs_of_folds_and_borrows_without_one() {
        assert!(matches!(unfold("a;b"), Cow::Borrowed("a;b")));
        assert_eq!(unfold("a \r\n\r\n\t b"), "a b");
        assert_eq!(unfold("é\n ☎"), "é ☎");
        assert_eq!(unfold("x\r\n"), "x ");
        assert_eq!(lws_end(b"1; \r\n\tx", 2), 6);
        assert_eq!(lws_end(b"1; \rx", 2), 3);
    }
}
