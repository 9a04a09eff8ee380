//! Lexing shared by the SIP header parsers: a byte cursor over a header value,
//! RFC 3261 §25.1 `token` characters, line folding, and the text of
//! `quoted-string`s and `comment`s.

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

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.s.as_bytes().get(self.pos + offset).copied()
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

    /// Skips a line break followed by at least one SP/HTAB (and that white
    /// space). Returns false, consuming nothing, if there is no such fold.
    pub(super) fn skip_fold(&mut self) -> bool {
        let brk = match (self.peek(), self.peek_at(1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(b'\n'), _) => 1,
            _ => return false,
        };
        if !matches!(self.peek_at(brk), Some(b' ' | b'\t')) {
            return false;
        }
        self.pos += brk;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        true
    }

    /// Skips linear white space (SP, HTAB and folds). Returns whether any
    /// was skipped.
    pub(super) fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\r' | b'\n') => {
                    if !self.skip_fold() {
                        break;
                    }
                }
                _ => break,
            }
        }
        self.pos > start
    }
}

/// RFC 3261 `token` characters.
pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Why [`delimited_text`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextError {
    /// The closing delimiter never came.
    Unterminated,
    /// A backslash escapes CR, LF or a non-ASCII character: a quoted-pair is
    /// `\` followed by %x00-09 / %x0B-0C / %x0E-7F.
    BadEscape,
    /// A control character, or a line break that is not a fold.
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
