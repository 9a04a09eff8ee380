//! A whole SIP message (request or response) as it came off the wire.

use super::framing::{parse_datagram, FrameError, FramingLimits, HeadEnd};
use super::lex::is_token_byte;
use super::status::{StatusClass, StatusCode};
use bytes::Bytes;
use ezk_sip_types::msg::{Line, MessageLine, PullParser};
use ezk_sip_types::parse::Parse;
use ezk_sip_types::print::{AppendCtx, PrintCtx};
use ezk_sip_types::{Headers, Method, Name};
use std::fmt;

/// One parsed SIP message: start line, headers (in wire order, raw values kept
/// byte-exact by `ezk-sip-types`) and body.
///
/// Header values are stored as the peer sent them, folded lines included
/// (`ms-diagnostics` is reported verbatim). `ezk-sip-types` groups values of
/// the same header name together, so headers of one name that were
/// interleaved with others print back next to each other.
#[derive(Debug, Clone)]
pub struct SipMessage {
    /// Request line or status line.
    pub line: MessageLine,
    /// All headers, in the order they arrived; unknown headers are kept raw.
    pub headers: Headers,
    /// The body, exactly `Content-Length` bytes.
    pub body: Bytes,
}

impl SipMessage {
    /// Parses one complete message, such as a datagram, with the rules of
    /// [`parse_datagram`]: leading line breaks are skipped, a missing
    /// `Content-Length` means the body is the rest of the bytes, and bytes
    /// after `Content-Length` are ignored.
    pub fn parse(bytes: &[u8], limits: &FramingLimits) -> Result<SipMessage, FrameError> {
        parse_datagram(bytes, limits)
    }

    /// The raw values of every header called `name`, in arrival order
    /// (compact and long forms are the same [`Name`]).
    pub fn header_values<'a>(&'a self, name: &Name) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.get_raw(name).map(|v| v.as_str())
    }

    /// The raw value of the first header called `name`.
    pub fn header_value(&self, name: &Name) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        self.line.is_request()
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.line {
            MessageLine::Response(s) => Some(StatusCode::from(s.code)),
            MessageLine::Request(_) => None,
        }
    }

    /// The reason phrase of a response, as sent (`None` if it was empty).
    pub fn reason_phrase(&self) -> Option<&str> {
        match &self.line {
            MessageLine::Response(s) => s.reason.as_ref().map(|r| r.as_str()),
            MessageLine::Request(_) => None,
        }
    }

    /// The method of a request. (A [`Method`], not a `&str`: ezk keeps known
    /// methods as constants with no borrowed text; compare with
    /// `Method::INVITE` or `Method::from("SERVICE")`, or print it.)
    pub fn method(&self) -> Option<&Method> {
        self.line.request_method()
    }

    /// The message in wire form: start line, `Name: value` CRLF per header,
    /// a `Content-Length` that matches the body (replacing any the headers
    /// had), an empty line and the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(self.headers.printed_len() + 128);
        // Writing into a String cannot fail.
        let _ = self.write_head(&mut head);
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    fn write_head(&self, w: &mut impl fmt::Write) -> fmt::Result {
        match &self.line {
            MessageLine::Request(r) => write!(w, "{}\r\n", r.print_ctx(PrintCtx::default()))?,
            MessageLine::Response(s) => write!(
                w,
                "SIP/2.0 {} {}\r\n",
                s.code.into_u16(),
                s.reason.as_ref().map_or("", |r| r.as_str())
            )?,
        }
        let mut length_written = false;
        for (name, value) in self.headers.iter() {
            if *name == Name::CONTENT_LENGTH {
                if !length_written {
                    write!(w, "Content-Length: {}\r\n", self.body.len())?;
                    length_written = true;
                }
            } else {
                write!(w, "{}: {}\r\n", name.as_print_str(), value)?;
            }
        }
        if !length_written {
            write!(w, "Content-Length: {}\r\n", self.body.len())?;
        }
        w.write_str("\r\n")
    }

    /// Parses a message whose framing has been checked: `wire` is exactly one
    /// message and `head` says where its header section ends.
    pub(super) fn from_wire(wire: &[u8], head: HeadEnd) -> Result<SipMessage, FrameError> {
        let whole = Bytes::copy_from_slice(wire);
        let lines = whole
            .get(..head.lines_end)
            .ok_or(FrameError::BadStartLine)?;
        let text = std::str::from_utf8(lines).map_err(|_| FrameError::NotUtf8)?;
        let line_no = |offset: usize| {
            1 + text
                .as_bytes()
                .get(..offset)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        };
        let line_error = |offset: usize| match line_no(offset) {
            1 => FrameError::BadStartLine,
            line => FrameError::BadHeaderLine { line },
        };
        // ezk's PullParser waits forever on a CR that is not part of CRLF.
        let bytes = text.as_bytes();
        if let Some(cr) = bytes
            .iter()
            .enumerate()
            .position(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        {
            return Err(line_error(cr));
        }

        let mut start_line: Option<MessageLine> = None;
        let mut headers = Headers::new();
        let mut handle = |offset: usize, line: &str| -> Result<(), FrameError> {
            if start_line.is_none() {
                start_line = Some(parse_start_line(&whole, line)?);
                return Ok(());
            }
            match Line::parse(&whole, line) {
                Ok((_, parsed))
                    if !parsed.name.as_print_str().is_empty()
                        && parsed.name.as_print_str().is_ascii() =>
                {
                    headers.insert(parsed.name, parsed.value);
                    Ok(())
                }
                _ => Err(line_error(offset)),
            }
        };

        // Fed only the header lines, PullParser yields every line but the last
        // and then reports "incomplete": it needs to see the byte after a line
        // break to rule out a continuation, and the last line's is not given.
        let mut parser = PullParser::new(bytes, 0);
        loop {
            let begin = parser.progress();
            match parser.next() {
                Some(Ok(slice)) => {
                    let line = text
                        .get(begin..begin + slice.len())
                        .ok_or_else(|| line_error(begin))?;
                    handle(begin, line)?;
                }
                Some(Err(_)) | None => {
                    let rest = text.get(begin..).unwrap_or("");
                    let rest = rest.strip_suffix('\n').unwrap_or(rest);
                    let rest = rest.strip_suffix('\r').unwrap_or(rest);
                    if !rest.is_empty() {
                        handle(begin, rest)?;
                    }
                    break;
                }
            }
        }
        let line = start_line.ok_or(FrameError::BadStartLine)?;
        let body = whole.slice(head.head_end.min(whole.len())..);
        Ok(SipMessage {
            line,
            headers,
            body,
        })
    }
}

/// Parses a start line with ezk, then checks what ezk is lenient about: a
/// status code of exactly three digits in 100–699 after `SIP/2.0 SP`, a
/// method of ASCII token characters, and nothing after `SIP/2.0` but blanks.
fn parse_start_line(src: &Bytes, line: &str) -> Result<MessageLine, FrameError> {
    let parsed = match MessageLine::parse(src)(line) {
        Ok((rest, parsed)) if rest.trim_matches([' ', '\t']).is_empty() => parsed,
        _ => return Err(FrameError::BadStartLine),
    };
    let valid = match &parsed {
        MessageLine::Response(s) => {
            let after = line.strip_prefix("SIP/2.0").unwrap_or("");
            let code = after.trim_start_matches([' ', '\t']);
            let b = code.as_bytes();
            code.len() < after.len()
                && b.len() >= 3
                && b.iter().take(3).all(u8::is_ascii_digit)
                && matches!(b.get(3), None | Some(b' ' | b'\t'))
                && StatusCode::from(s.code).class() != StatusClass::Unknown
        }
        MessageLine::Request(_) => line
            .bytes()
            .take_while(|b| !matches!(b, b' ' | b'\t'))
            .all(is_token_byte),
    };
    if valid {
        Ok(parsed)
    } else {
        Err(FrameError::BadStartLine)
    }
}

/// The message in wire form, as [`SipMessage::to_bytes`]; a body that is not
/// UTF-8 prints lossily.
impl fmt::Display for SipMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_head(f)?;
        f.write_str(&String::from_utf8_lossy(&self.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{frame_stream, Framed};
    use proptest::prelude::*;

    fn parse(text: &str) -> SipMessage {
        match SipMessage::parse(text.as_bytes(), &FramingLimits::default()) {
            Ok(m) => m,
            Err(e) => panic!("{e}: {text:?}"),
        }
    }

    fn header_list(m: &SipMessage) -> Vec<(String, String)> {
        m.headers
            .iter()
            .map(|(n, v)| (n.as_print_str().to_owned(), v.as_str().to_owned()))
            .collect()
    }

    #[test]
    fn accessors() {
        let r =
            parse("SERVICE sip:alice@contoso.com SIP/2.0\r\nCSeq: 1 SERVICE\r\nl: 3\r\n\r\nabc");
        assert!(r.is_request());
        assert_eq!(r.method(), Some(&Method::from("SERVICE")));
        assert_eq!(
            r.method().map(ToString::to_string).as_deref(),
            Some("SERVICE")
        );
        assert_eq!((r.status(), r.reason_phrase()), (None, None));
        assert_eq!(r.header_value(&Name::CSEQ), Some("1 SERVICE"));
        assert_eq!(r.header_value(&Name::CALL_ID), None);

        let b = parse("BENOTIFY sip:alice@contoso.com SIP/2.0\r\nl: 0\r\n\r\n");
        assert_eq!(
            b.method().map(ToString::to_string).as_deref(),
            Some("BENOTIFY")
        );

        let s = parse("SIP/2.0 180 Ringing\r\n\r\n");
        assert!(!s.is_request());
        assert_eq!(s.status(), Some(StatusCode::RINGING));
        assert_eq!(s.reason_phrase(), Some("Ringing"));
        assert_eq!(s.method(), None);
        let bare = parse("SIP/2.0 200\r\n\r\n");
        assert_eq!(
            (bare.status(), bare.reason_phrase()),
            (Some(StatusCode::OK), None)
        );
        assert_eq!(
            bare.to_string(),
            "SIP/2.0 200 \r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn prints_the_wire_form_with_a_matching_content_length() {
        let mut m = parse(
            "INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n\
             Via: SIP/2.0/TLS 192.168.66.91:49541\r\n\
             X-Folded: a,\r\n b\r\n\
             \r\n\
             v=0\r\n",
        );
        assert_eq!(&m.body[..], b"v=0\r\n");
        m.headers.insert(Name::CONTENT_LENGTH, "99");
        m.headers.insert(Name::from("X-Empty"), "");
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            "INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n\
             Via: SIP/2.0/TLS 192.168.66.91:49541\r\n\
             X-Folded: a,\r\n b\r\n\
             Content-Length: 5\r\n\
             X-Empty: \r\n\
             \r\n\
             v=0\r\n"
        );
        m.body = Bytes::from_static(b"\xff\xfe");
        let printed = m.to_bytes();
        assert!(printed.ends_with(b"Content-Length: 2\r\nX-Empty: \r\n\r\n\xff\xfe"));
        assert!(m.to_string().ends_with("\r\n\r\n\u{fffd}\u{fffd}"));
    }

    #[test]
    fn display_equals_to_bytes_for_text_bodies() {
        let m = parse("MESSAGE sip:a@b SIP/2.0\r\nc: text/plain\r\nl: 2\r\n\r\nhi");
        assert_eq!(m.to_string().into_bytes(), m.to_bytes());
    }

    #[derive(Debug, Clone)]
    struct Generated {
        wire: Vec<u8>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    fn header_value() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[!-~]",
                "[!-~][ -~]{0,20}[!-~]",
                "[!-~][ -~\u{e9}\u{4e2d}\u{1F600}]{0,10}[!-~]"
            ],
            1..4,
        )
        .prop_flat_map(|parts| {
            let n = parts.len();
            (
                Just(parts),
                prop::collection::vec(prop_oneof![Just("\r\n "), Just("\r\n\t"), Just(" ")], n),
            )
        })
        .prop_map(|(parts, seps)| {
            let mut v = String::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    v.push_str(seps[i]);
                }
                v.push_str(p);
            }
            v
        })
    }

    fn arb_message() -> impl Strategy<Value = Generated> {
        let start = prop_oneof![
            (
                prop_oneof![
                    Just("INVITE"),
                    Just("SERVICE"),
                    Just("BENOTIFY"),
                    Just("MESSAGE"),
                    Just("REGISTER"),
                    Just("X-CUSTOM")
                ],
                "[a-z][a-z0-9.]{0,10}",
                "[a-z]([a-z0-9-]{0,9}[a-z0-9])?(\\.[a-z]{1,5}){0,2}",
                prop::option::of(1u16..),
                prop::option::of(";user=phone"),
            )
                .prop_map(|(m, user, host, port, param)| {
                    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                    format!(
                        "{m} sip:{user}@{host}{port}{} SIP/2.0",
                        param.unwrap_or_default()
                    )
                }),
            (100u16..700, "([A-Za-z][A-Za-z -]{0,20}[A-Za-z])?")
                .prop_map(|(c, r)| format!("SIP/2.0 {c} {r}")),
        ];
        (
            start,
            prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", header_value()), 0..8),
            prop::collection::vec(any::<u8>(), 0..64),
            0usize..9,
            any::<bool>(),
        )
            .prop_map(|(start, raw_headers, body, cl_at, compact)| {
                let headers: Vec<(String, String)> = raw_headers
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, v))| (format!("X-{i}-{n}"), v))
                    .collect();
                let mut wire = format!("{start}\r\n");
                let cl_at = cl_at.min(headers.len());
                let cl_name = if compact { "l" } else { "Content-Length" };
                for (i, (n, v)) in headers.iter().enumerate() {
                    if i == cl_at {
                        wire.push_str(&format!("{cl_name}: {}\r\n", body.len()));
                    }
                    wire.push_str(&format!("{n}: {v}\r\n"));
                }
                if cl_at == headers.len() {
                    wire.push_str(&format!("{cl_name}: {}\r\n", body.len()));
                }
                wire.push_str("\r\n");
                let mut wire = wire.into_bytes();
                wire.extend_from_slice(&body);
                Generated {
                    wire,
                    headers,
                    body,
                }
            })
    }

    proptest! {
        /// Framing is fine, so ezk's start-line, URI and header-line parsers
        /// see the hostile part.
        #[test]
        fn hostile_lines_never_panic(
            method in prop_oneof!["[A-Za-z\u{e9}]{0,8}", "[A-Z]{1,8}"],
            uri in "[a-z0-9@:;=?&%.\\[\\]<>\"/ \u{e9}+-]{0,40}",
            status in prop_oneof!["[0-9 ]{0,6}", "[1-6][0-9][0-9] "],
            reason in "[ -~\u{e9}]{0,10}",
            name in "[ -~\u{e9}]{0,10}",
            value in "[ -~\u{e9}]{0,30}",
        ) {
            let limits = FramingLimits::default();
            for start in [
                format!("{method} {uri} SIP/2.0"),
                format!("{method} sip:{uri} SIP/2.0"),
                format!("SIP/2.0 {status}{reason}"),
            ] {
                for text in [
                    format!("{start}\r\n{name}: {value}\r\nl: 0\r\n\r\n"),
                    format!("{start}\r\n{name}{value}\r\nl: 0\r\n\r\n"),
                ] {
                    if let Ok(m) = SipMessage::parse(text.as_bytes(), &limits) {
                        let again = SipMessage::parse(&m.to_bytes(), &limits);
                        prop_assert!(again.is_ok(), "{:?} printed as {:?}: {:?}", text, m.to_string(), again);
                    }
                    let _ = frame_stream(text.as_bytes(), &limits);
                }
            }
        }

        #[test]
        fn print_parse_round_trip(g in arb_message()) {
            let limits = FramingLimits::default();
            let m1 = SipMessage::parse(&g.wire, &limits).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got: Vec<(String, String)> = header_list(&m1)
                .into_iter()
                .filter(|(n, _)| n != "Content-Length")
                .collect();
            prop_assert_eq!(got, g.headers.clone());
            prop_assert_eq!(&m1.body[..], &g.body[..]);

            let b1 = m1.to_bytes();
            let m2 = SipMessage::parse(&b1, &limits).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(header_list(&m2), header_list(&m1));
            prop_assert_eq!(&m2.body, &m1.body);
            prop_assert_eq!(m2.status(), m1.status());
            prop_assert_eq!(m2.reason_phrase(), m1.reason_phrase());
            prop_assert_eq!(m2.method(), m1.method());
            prop_assert_eq!(m2.to_bytes(), b1.clone());

            // The stream framer reads exactly the same message.
            match frame_stream(&b1, &limits) {
                Framed::Message { message, consumed } => {
                    prop_assert_eq!(consumed, b1.len());
                    prop_assert_eq!(message.to_bytes(), b1);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
