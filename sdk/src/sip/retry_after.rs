//! The `Retry-After` header (RFC 3261 §20.33).
//!
//! ```text
//! Retry-After  =  "Retry-After" HCOLON delta-seconds [ comment ] *( SEMI retry-param )
//! retry-param  =  ("duration" EQUAL delta-seconds) / generic-param
//! comment      =  LPAREN *(ctext / quoted-pair / comment) RPAREN
//! ```
//!
//! Linear white space, including folded lines, is accepted wherever the
//! grammar has `SWS`/`LWS`; inside a comment a fold reads as one SP.

use super::lex::{delimited_text, is_token_byte, Cursor, TextError};
use std::fmt;
use std::net::Ipv6Addr;
use std::time::Duration;

/// A parsed `Retry-After` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// delta-seconds. A value beyond `u32::MAX` saturates to `u32::MAX`: the
    /// server asked for "very long" (RFC 3261 §25.1 caps delta-seconds for
    /// Expires the same way), which is better kept than rejected.
    pub seconds: u32,
    /// The comment, without its outer parentheses, with quoted-pairs
    /// unescaped (nested comments keep their parentheses).
    pub comment: Option<String>,
    /// The `duration` parameter, in seconds (saturating like `seconds`).
    pub duration: Option<u32>,
    /// Other parameters in order: (name, value). Names keep their case and
    /// compare case-insensitively ([`RetryAfter::param`]); values are kept
    /// verbatim (a quoted-string keeps its quotes).
    pub params: Vec<(String, Option<String>)>,
}

impl RetryAfter {
    /// Parses a `Retry-After` header value.
    pub fn parse(value: &str) -> Result<RetryAfter, RetryAfterError> {
        use RetryAfterErrorReason as R;
        let mut cur = Cursor::new(value);
        cur.skip_lws();
        if cur.at_end() {
            return Err(error(&cur, R::Empty));
        }
        let seconds = delta_seconds(&mut cur).ok_or_else(|| error(&cur, R::BadSeconds))?;
        cur.skip_lws();
        let comment = if cur.peek() == Some(b'(') {
            let c = parse_comment(&mut cur)?;
            cur.skip_lws();
            Some(c)
        } else {
            None
        };

        let mut duration = None;
        let mut params = Vec::new();
        while !cur.at_end() {
            if cur.peek() != Some(b';') {
                return Err(error(&cur, R::Unexpected));
            }
            cur.bump();
            cur.skip_lws();
            let name_pos = cur.pos;
            let name = cur.take_while(is_token_byte);
            if name.is_empty() {
                return Err(error(&cur, R::BadParam));
            }
            cur.skip_lws();
            let is_duration = name.eq_ignore_ascii_case("duration");
            if is_duration && duration.is_some() {
                return Err(RetryAfterError {
                    position: name_pos,
                    reason: R::DuplicateDuration,
                });
            }
            let value = if cur.peek() == Some(b'=') {
                cur.bump();
                cur.skip_lws();
                if is_duration {
                    duration =
                        Some(delta_seconds(&mut cur).ok_or_else(|| error(&cur, R::BadDuration))?);
                    None
                } else {
                    Some(gen_value(&mut cur)?)
                }
            } else if is_duration {
                return Err(error(&cur, R::BadDuration));
            } else {
                None
            };
            if !is_duration {
                params.push((name.to_owned(), value));
            }
            cur.skip_lws();
        }
        Ok(RetryAfter {
            seconds,
            comment,
            duration,
            params,
        })
    }

    /// How long to wait before retrying.
    pub fn delay(&self) -> Duration {
        Duration::from_secs(u64::from(self.seconds))
    }

    /// How long the server will be available after the wait, if it said.
    pub fn available_for(&self) -> Option<Duration> {
        self.duration.map(|d| Duration::from_secs(u64::from(d)))
    }

    /// The first generic parameter called `name` (case-insensitive):
    /// `Some(None)` when it has no value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

/// Prints `seconds [SP (comment)] [;duration=N] *(;name[=value])`. The
/// comment escapes `(`, `)`, `\` and control characters; CR and LF cannot be
/// carried and print as SP. What the parser produces prints back to itself.
impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        if let Some(comment) = &self.comment {
            f.write_str(" (")?;
            for c in comment.chars() {
                match c {
                    '\r' | '\n' => f.write_str(" ")?,
                    '(' | ')' | '\\' => write!(f, "\\{c}")?,
                    '\t' => f.write_str("\t")?,
                    c if c.is_ascii_control() => write!(f, "\\{c}")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str(")")?;
        }
        if let Some(d) = self.duration {
            write!(f, ";duration={d}")?;
        }
        for (name, value) in &self.params {
            write!(f, ";{name}")?;
            if let Some(v) = value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

/// Why a `Retry-After` value did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryAfterErrorReason {
    /// The value is empty or only white space.
    #[error("empty value")]
    Empty,
    /// The value does not start with delta-seconds.
    #[error("expected delta-seconds")]
    BadSeconds,
    /// A comment has no closing parenthesis.
    #[error("unterminated comment")]
    UnterminatedComment,
    /// A backslash escapes CR, LF or a non-ASCII character.
    #[error("bad quoted-pair")]
    BadEscape,
    /// A control character, or a line break that is not a fold.
    #[error("character not allowed here")]
    BadChar,
    /// A quoted-string parameter value has no closing double quote.
    #[error("unterminated quoted-string")]
    UnterminatedQuote,
    /// A `;` is not followed by a parameter name.
    #[error("expected a parameter name")]
    BadParam,
    /// A parameter value is not a token, host or quoted-string.
    #[error("bad parameter value")]
    BadParamValue,
    /// `duration` has no value or a value that is not delta-seconds.
    #[error("duration must be delta-seconds")]
    BadDuration,
    /// `duration` appears twice.
    #[error("duplicate duration parameter")]
    DuplicateDuration,
    /// Something other than a comment or a `;` parameter follows.
    #[error("unexpected character")]
    Unexpected,
}

/// A `Retry-After` value that did not parse: the sender's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bad Retry-After value at byte {position}: {reason}")]
#[non_exhaustive]
pub struct RetryAfterError {
    /// Byte offset into the value where parsing failed.
    pub position: usize,
    /// What was wrong there.
    pub reason: RetryAfterErrorReason,
}

fn error(cur: &Cursor<'_>, reason: RetryAfterErrorReason) -> RetryAfterError {
    RetryAfterError {
        position: cur.pos,
        reason,
    }
}

/// `1*DIGIT`, saturating at `u32::MAX`.
fn delta_seconds(cur: &mut Cursor<'_>) -> Option<u32> {
    let digits = cur.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return None;
    }
    Some(digits.bytes().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// `gen-value = token / host / quoted-string`, returned verbatim.
fn gen_value(cur: &mut Cursor<'_>) -> Result<String, RetryAfterError> {
    let start = cur.pos;
    let bad = |pos| RetryAfterError {
        position: pos,
        reason: RetryAfterErrorReason::BadParamValue,
    };
    match cur.peek() {
        Some(b'"') => {
            cur.bump();
            loop {
                match cur.peek_char() {
                    None => return Err(error(cur, RetryAfterErrorReason::UnterminatedQuote)),
                    Some('"') => {
                        cur.bump();
                        break;
                    }
                    Some('\\') => {
                        cur.bump();
                        match cur.peek_char() {
                            Some(e) if e.is_ascii() && e != '\r' && e != '\n' => cur.bump(),
                            _ => return Err(error(cur, RetryAfterErrorReason::BadEscape)),
                        }
                    }
                    Some('\r' | '\n') => {
                        if !cur.skip_fold() {
                            return Err(error(cur, RetryAfterErrorReason::BadChar));
                        }
                    }
                    Some(c) if c.is_ascii_control() && c != '\t' => {
                        return Err(error(cur, RetryAfterErrorReason::BadChar));
                    }
                    Some(c) => cur.pos += c.len_utf8(),
                }
            }
        }
        Some(b'[') => {
            let v = cur.take_while(|b| b != b']' && (b.is_ascii_hexdigit() || b"[:.".contains(&b)));
            if cur.peek() != Some(b']')
                || v.get(1..)
                    .and_then(|a| a.parse::<Ipv6Addr>().ok())
                    .is_none()
            {
                return Err(bad(start));
            }
            cur.bump();
        }
        _ => {
            if cur.take_while(is_token_byte).is_empty() {
                return Err(bad(start));
            }
        }
    }
    Ok(cur.slice_from(start).to_owned())
}

/// Reads a comment at the cursor (which is on `(`) and returns its content
/// without the outer parentheses.
fn parse_comment(cur: &mut Cursor<'_>) -> Result<String, RetryAfterError> {
    delimited_text(cur, b'(', b')', true).map_err(|e| {
        let reason = match e {
            TextError::Unterminated => RetryAfterErrorReason::UnterminatedComment,
            TextError::BadEscape => RetryAfterErrorReason::BadEscape,
            TextError::BadChar => RetryAfterErrorReason::BadChar,
        };
        error(cur, reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(v: &str) -> RetryAfter {
        match RetryAfter::parse(v) {
            Ok(r) => r,
            Err(e) => panic!("{v:?}: {e}"),
        }
    }

    #[test]
    fn rfc_3261_examples() {
        let r = ok("18000;duration=3600");
        assert_eq!(r.seconds, 18000);
        assert_eq!(r.duration, Some(3600));
        assert_eq!(r.delay(), Duration::from_secs(18000));
        assert_eq!(r.available_for(), Some(Duration::from_secs(3600)));

        let r = ok("120 (I'm in a meeting)");
        assert_eq!(r.seconds, 120);
        assert_eq!(r.comment.as_deref(), Some("I'm in a meeting"));
        assert_eq!(r.duration, None);
        assert!(r.params.is_empty());
        assert_eq!(r.to_string(), "120 (I'm in a meeting)");
    }

    #[test]
    fn nested_comments_escapes_and_folds() {
        let r = ok("5 (a (nested \\(x\\)) c\\\\)");
        assert_eq!(r.comment.as_deref(), Some("a (nested (x)) c\\"));
        assert_eq!(ok(&r.to_string()), r);
        let r = ok(" 60\r\n (busy  \r\n   now) ;\r\n Duration = 10 ; foo");
        assert_eq!(r.seconds, 60);
        assert_eq!(r.comment.as_deref(), Some("busy now"));
        assert_eq!(r.duration, Some(10));
        assert_eq!(r.params, vec![("foo".to_owned(), None)]);
        let r = ok("1(x)");
        assert_eq!(r.comment.as_deref(), Some("x"));
    }

    #[test]
    fn generic_params_are_case_insensitive_and_verbatim() {
        let r = ok("30;Reason=\"overload, \\\"bad\\\"\";x=[2001:db8::1];Y=a.b-c;z");
        assert_eq!(r.param("reason"), Some(Some("\"overload, \\\"bad\\\"\"")));
        assert_eq!(r.param("X"), Some(Some("[2001:db8::1]")));
        assert_eq!(r.param("y"), Some(Some("a.b-c")));
        assert_eq!(r.param("z"), Some(None));
        assert_eq!(r.param("w"), None);
        assert_eq!(
            r.to_string(),
            "30;Reason=\"overload, \\\"bad\\\"\";x=[2001:db8::1];Y=a.b-c;z"
        );
    }

    #[test]
    fn huge_values_saturate() {
        let r = ok("99999999999999999999999;duration=4294967296");
        assert_eq!(r.seconds, u32::MAX);
        assert_eq!(r.duration, Some(u32::MAX));
        assert_eq!(ok("4294967295").seconds, u32::MAX);
        assert_eq!(ok("4294967294").seconds, u32::MAX - 1);
        assert_eq!(ok("007").seconds, 7);
    }

    #[test]
    fn errors_name_position_and_reason() {
        use RetryAfterErrorReason as R;
        let cases: &[(&str, usize, RetryAfterErrorReason)] = &[
            ("", 0, R::Empty),
            (" \r\n ", 4, R::Empty),
            ("abc", 0, R::BadSeconds),
            ("-5", 0, R::BadSeconds),
            ("5 x", 2, R::Unexpected),
            ("5 (x", 4, R::UnterminatedComment),
            ("5 (x (y)", 8, R::UnterminatedComment),
            ("5 (x\\", 5, R::UnterminatedComment),
            ("5 (x\\\u{e9})", 5, R::BadEscape),
            ("5 (x\ry)", 4, R::BadChar),
            ("5 (x\u{0})", 4, R::BadChar),
            ("5 (x) (y)", 6, R::Unexpected),
            ("5;", 2, R::BadParam),
            ("5;=3", 2, R::BadParam),
            ("5;duration", 10, R::BadDuration),
            ("5;duration=", 11, R::BadDuration),
            ("5;duration=x", 11, R::BadDuration),
            ("5;duration=1;DURATION=2", 13, R::DuplicateDuration),
            ("5;a=", 4, R::BadParamValue),
            ("5;a=(", 4, R::BadParamValue),
            ("5;a=[::g]", 4, R::BadParamValue),
            ("5;a=[::1", 4, R::BadParamValue),
            ("5;a=\"x", 6, R::UnterminatedQuote),
            ("5;a=\"x\\\r\n y\"", 7, R::BadEscape),
            ("5;a=b c", 6, R::Unexpected),
        ];
        for (input, position, reason) in cases {
            match RetryAfter::parse(input) {
                Err(e) => assert_eq!((e.position, e.reason), (*position, *reason), "{input:?}"),
                Ok(r) => panic!("{input:?} parsed: {r:?}"),
            }
        }
        assert_eq!(
            RetryAfter::parse("x").map_err(|e| e.to_string()),
            Err("bad Retry-After value at byte 0: expected delta-seconds".to_owned())
        );
    }

    fn arb_param_value() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            "[a-zA-Z0-9._!%*+`'~-]{1,10}".prop_map(Some),
            "[^\"\\\\\r\n\u{0}-\u{8}\u{a}-\u{1f}\u{7f}]{0,10}"
                .prop_map(|s| Some(format!("\"{s}\""))),
            any::<[u16; 8]>().prop_map(|a| Some(format!("[{}]", Ipv6Addr::from(a)))),
        ]
    }

    fn arb_retry_after() -> impl Strategy<Value = RetryAfter> {
        (
            any::<u32>(),
            prop::option::of("[^\r\n]{0,30}"),
            any::<Option<u32>>(),
            prop::collection::vec(
                ("[a-zA-Z0-9._!%*+`'~-]{1,10}", arb_param_value())
                    .prop_filter("duration is its own field", |(n, _)| {
                        !n.eq_ignore_ascii_case("duration")
                    }),
                0..4,
            ),
        )
            .prop_map(|(seconds, comment, duration, params)| RetryAfter {
                seconds,
                comment,
                duration,
                params,
            })
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = RetryAfter::parse(&s);
        }

        #[test]
        fn never_panics_on_near_valid(s in "[0-9 ()\\\\\r\n\t;=\"\\[\\]:a-f.é]{0,40}") {
            let _ = RetryAfter::parse(&s);
        }

        #[test]
        fn print_parse_round_trip(r in arb_retry_after()) {
            prop_assert_eq!(RetryAfter::parse(&r.to_string()), Ok(r));
        }
    }
}
