//! Framing of SIP messages on streams and datagrams.
//!
//! Both framers first check the bytes (line breaks, header-section end,
//! `Content-Length`, limits) without allocating, and only then copy one whole
//! message and parse it. Errors that depend only on the header section's
//! framing (limits, `Content-Length`) are reported as soon as the header
//! section is complete; errors in the content of the message (start line,
//! header lines, UTF-8) once the whole message has arrived. Either way the
//! result does not depend on how the bytes were split into reads.

use super::message::SipMessage;

/// Size limits for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingLimits {
    /// The most bytes the header section may take: start line, headers and
    /// the empty line that ends them.
    pub max_header_bytes: usize,
    /// The largest body accepted (`Content-Length`, or the rest of a datagram).
    pub max_body_bytes: usize,
}

impl FramingLimits {
    /// 128 KiB of headers: one `ms-diagnostics` value alone may be 65,535
    /// characters, and a response can carry it next to `ms-diagnostics-public`,
    /// authentication and routing headers.
    pub const DEFAULT_MAX_HEADER_BYTES: usize = 128 * 1024;
    /// 4 MiB of body: Lync NOTIFY/BENOTIFY bodies (roaming contacts, presence
    /// categories) reach hundreds of KiB, and a limit far above them costs
    /// nothing until a peer actually sends that much.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
}

/// Fits Lync / Skype for Business traffic; see the constants for why. (A
/// generic 64 KiB read cap would cut off legitimate Lync messages.)
impl Default for FramingLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: Self::DEFAULT_MAX_HEADER_BYTES,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Why bytes are not a SIP message. Always the sending peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The header section is longer than the limit.
    #[error("header section exceeds {limit} bytes")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The body is longer than the limit.
    #[error("body of {length} bytes exceeds the limit of {limit}")]
    BodyTooLarge {
        /// The announced (or, for a datagram without `Content-Length`, actual) length.
        length: u64,
        /// The limit in force.
        limit: usize,
    },
    /// A message on a stream has no `Content-Length` (RFC 3261 §18.3 requires it).
    #[error("missing Content-Length on a stream")]
    MissingContentLength,
    /// `Content-Length` is not a number, or several disagree.
    #[error("invalid Content-Length")]
    BadContentLength,
    /// The header section is not UTF-8.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// The start line is neither a request line nor a status line.
    #[error("invalid start line")]
    BadStartLine,
    /// A header line is malformed.
    #[error("invalid header line {line}")]
    BadHeaderLine {
        /// 1-based line number in the message (the start line is line 1,
        /// continuation lines count).
        line: usize,
    },
    /// A datagram ends before the empty line that ends the header section.
    #[error("header section not terminated")]
    HeadNotTerminated,
    /// A datagram is shorter than its `Content-Length` says.
    #[error("body truncated: Content-Length {length}, {available} bytes present")]
    BodyTruncated {
        /// The announced length.
        length: u64,
        /// The bytes present after the header section.
        available: usize,
    },
    /// There is no message at all: empty, or only line breaks (keep-alives).
    #[error("no message, only line breaks")]
    NoMessage,
}

/// What [`frame_stream`] found at the start of the buffer.
// The message is returned by value: a `Framed` is matched and taken apart at
// once, and boxing would add an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Framed {
    /// More bytes are needed; nothing is consumed.
    Incomplete,
    /// Line breaks before a start line: RFC 5626 keep-alives (CRLF pong,
    /// CRLFCRLF ping) or RFC 3261 §7.5 padding. Drop `consumed` bytes.
    KeepAlive {
        /// Bytes to drop.
        consumed: usize,
    },
    /// A whole message. Drop `consumed` bytes.
    Message {
        /// The message.
        message: SipMessage,
        /// Bytes to drop.
        consumed: usize,
    },
    /// A bad message.
    Error {
        /// What was wrong.
        error: FrameError,
        /// `Some(n)`: the message's extent was readable; drop `n` bytes (which
        /// may be more than are buffered yet: drop the rest as it arrives) and
        /// carry on with the next message. `None`: the stream cannot be
        /// resynchronised and the connection must be closed.
        skip: Option<usize>,
    },
}

/// Frames the message at the start of a stream buffer (TCP, TLS). Does not
/// modify `buf`; the caller drops what the result says was consumed.
///
/// A reader that calls this again each time more bytes arrive re-scans the
/// whole buffer each time; [`StreamScan::frame`] resumes where it stopped.
pub fn frame_stream(buf: &[u8], limits: &FramingLimits) -> Framed {
    StreamScan::default().frame(buf, limits)
}

/// How far [`StreamScan::frame`] got in a stream buffer that has only grown
/// since: a reader keeps one per connection, so that a message trickling in
/// (a 120 KB header one byte per segment) is scanned once, not once per read.
#[derive(Debug, Clone, Default)]
pub struct StreamScan {
    /// Bytes at the start of the buffer already searched for the empty line
    /// that ends the header section, without finding it.
    searched: usize,
    /// The header section, once found, and its `Content-Length`: only the
    /// body is awaited.
    head: Option<(HeadEnd, u64)>,
    /// Bytes looked at so far (what the tests bound).
    #[cfg(test)]
    examined: usize,
}

impl StreamScan {
    /// [`frame_stream`], resumed: `buf` must be the buffer of the previous
    /// call with bytes appended, if that call returned [`Framed::Incomplete`];
    /// after any other result the caller drops bytes and the scan starts
    /// over (this resets itself).
    pub fn frame(&mut self, buf: &[u8], limits: &FramingLimits) -> Framed {
        let framed = self.frame_inner(buf, limits);
        if !matches!(framed, Framed::Incomplete) {
            *self = StreamScan {
                #[cfg(test)]
                examined: self.examined,
                ..StreamScan::default()
            };
        }
        framed
    }

    fn frame_inner(&mut self, buf: &[u8], limits: &FramingLimits) -> Framed {
        let (head, length) = match self.head {
            Some(found) => found,
            None => match self.find_head(buf, limits) {
                Ok(found) => found,
                Err(framed) => return framed,
            },
        };
        let total = usize::try_from(length)
            .ok()
            .and_then(|l| l.checked_add(head.head_end));
        if length > limits.max_body_bytes as u64 {
            // Not skipped: a peer that announces more than the limit may never
            // send it, and skipping would deafen the connection for the
            // announced length (issue: 9,999,999,999 bytes of nothing). The
            // connection is closed, what was on it fails, the next request
            // opens a new one.
            return Framed::Error {
                error: FrameError::BodyTooLarge {
                    length,
                    limit: limits.max_body_bytes,
                },
                skip: None,
            };
        }
        let Some(total) = total else {
            // Unreachable while max_body_bytes is a usize, kept for safety.
            return Framed::Error {
                error: FrameError::BadContentLength,
                skip: None,
            };
        };
        let Some(wire) = buf.get(..total) else {
            self.head = Some((head, length));
            return Framed::Incomplete;
        };
        match SipMessage::from_wire(wire, head) {
            Ok(message) => Framed::Message {
                message,
                consumed: total,
            },
            Err(error) => Framed::Error {
                error,
                skip: Some(total),
            },
        }
    }

    /// The header section and its `Content-Length`, or what to return now.
    // The `Err` is the result itself, returned at once; boxing it would add an
    // allocation per keep-alive and per incomplete read.
    #[allow(clippy::result_large_err)]
    fn find_head(&mut self, buf: &[u8], limits: &FramingLimits) -> Result<(HeadEnd, u64), Framed> {
        match leading_line_breaks(buf) {
            (0, LineBreaks::Bad) => {
                return Err(Framed::Error {
                    error: FrameError::BadStartLine,
                    skip: None,
                })
            }
            (0, LineBreaks::End) => return Err(Framed::Incomplete),
            (0, LineBreaks::Stopped) => {}
            (consumed, _) => return Err(Framed::KeepAlive { consumed }),
        }
        // The last bytes searched may be the start of the empty line.
        let from = self.searched.saturating_sub(3);
        #[cfg(test)]
        {
            self.examined += buf.len().min(limits.max_header_bytes).saturating_sub(from);
        }
        let Some(head) = find_head_end(buf, limits.max_header_bytes, from) else {
            return Err(if buf.len() >= limits.max_header_bytes {
                Framed::Error {
                    error: FrameError::HeaderTooLarge {
                        limit: limits.max_header_bytes,
                    },
                    skip: None,
                }
            } else {
                self.searched = buf.len();
                Framed::Incomplete
            });
        };
        #[cfg(test)]
        {
            self.examined += head.lines_end;
        }
        match content_length(buf.get(..head.lines_end).unwrap_or_default()) {
            Ok(Some(length)) => Ok((head, length)),
            Ok(None) => Err(Framed::Error {
                error: FrameError::MissingContentLength,
                skip: None,
            }),
            Err(error) => Err(Framed::Error { error, skip: None }),
        }
    }
}

/// Parses one datagram (UDP) per RFC 3261 §18.3: without `Content-Length`
/// the body is the rest of the datagram; with it, a longer length is an error
/// and bytes after the body are discarded. Leading line breaks are skipped.
pub fn parse_datagram(buf: &[u8], limits: &FramingLimits) -> Result<SipMessage, FrameError> {
    let mut start = 0;
    loop {
        match leading_line_breaks(buf.get(start..).unwrap_or_default()) {
            (0, LineBreaks::Stopped) => break,
            (0, LineBreaks::End) => return Err(FrameError::NoMessage),
            (0, LineBreaks::Bad) => return Err(FrameError::BadStartLine),
            (n, _) => start += n,
        }
    }
    let rest = buf.get(start..).unwrap_or_default();
    let Some(head) = find_head_end(rest, limits.max_header_bytes, 0) else {
        return Err(if rest.len() >= limits.max_header_bytes {
            FrameError::HeaderTooLarge {
                limit: limits.max_header_bytes,
            }
        } else {
            FrameError::HeadNotTerminated
        });
    };
    let available = rest.len().saturating_sub(head.head_end);
    let body_len = match content_length(rest.get(..head.lines_end).unwrap_or_default())? {
        Some(length) => {
            if length > limits.max_body_bytes as u64 {
                return Err(FrameError::BodyTooLarge {
                    length,
                    limit: limits.max_body_bytes,
                });
            }
            match usize::try_from(length) {
                Ok(l) if l <= available => l,
                _ => return Err(FrameError::BodyTruncated { length, available }),
            }
        }
        None if available > limits.max_body_bytes => {
            return Err(FrameError::BodyTooLarge {
                length: available as u64,
                limit: limits.max_body_bytes,
            })
        }
        None => available,
    };
    let wire = rest
        .get(..head.head_end + body_len)
        .ok_or(FrameError::HeadNotTerminated)?;
    SipMessage::from_wire(wire, head)
}

/// Where the header section of a message ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeadEnd {
    /// Just past the line break of the last header line (or the start line).
    pub(super) lines_end: usize,
    /// Just past the empty line: where the body starts.
    pub(super) head_end: usize,
}

/// Finds the first empty line within the first `max` bytes, searching from
/// `from` (bytes before it are known not to hold one). Line breaks are CRLF
/// or a bare LF (lenient, as ezk is); a bare CR never ends a line.
fn find_head_end(buf: &[u8], max: usize, from: usize) -> Option<HeadEnd> {
    let window = buf.get(..max.min(buf.len()))?;
    let mut from = from;
    while let Some(i) = window
        .get(from..)
        .and_then(|w| w.iter().position(|&b| b == b'\n'))
        .map(|p| p + from)
    {
        match (window.get(i + 1), window.get(i + 2)) {
            (Some(b'\n'), _) => {
                return Some(HeadEnd {
                    lines_end: i + 1,
                    head_end: i + 2,
                })
            }
            (Some(b'\r'), Some(b'\n')) => {
                return Some(HeadEnd {
                    lines_end: i + 1,
                    head_end: i + 3,
                })
            }
            (None, _) | (Some(b'\r'), None) => return None,
            _ => from = i + 1,
        }
    }
    None
}

/// How a run of leading line breaks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineBreaks {
    /// At the end of the buffer (possibly on a CR whose LF has not arrived).
    End,
    /// At a byte that may start a message.
    Stopped,
    /// At a CR followed by something other than LF.
    Bad,
}

/// Counts the CRLF / LF bytes at the start of `buf`.
fn leading_line_breaks(buf: &[u8]) -> (usize, LineBreaks) {
    let mut i = 0;
    loop {
        match (buf.get(i), buf.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            (Some(b'\r'), None) | (None, _) => return (i, LineBreaks::End),
            (Some(b'\r'), Some(_)) => return (i, LineBreaks::Bad),
            (Some(_), _) => return (i, LineBreaks::Stopped),
        }
    }
}

/// Reads `Content-Length` (or compact `l`) from the header lines, byte-wise
/// so that it works before UTF-8 and line syntax are checked. `Ok(None)` if
/// absent; several equal values are accepted, differing ones are not.
fn content_length(lines: &[u8]) -> Result<Option<u64>, FrameError> {
    let mut found: Option<u64> = None;
    for line in logical_lines(lines).skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = trim_ws(line.get(..colon).unwrap_or_default());
        if !name.eq_ignore_ascii_case(b"content-length") && !name.eq_ignore_ascii_case(b"l") {
            continue;
        }
        let value = trim_ws(line.get(colon + 1..).unwrap_or_default());
        if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
            return Err(FrameError::BadContentLength);
        }
        let n = value.iter().try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        match (n, found) {
            (None, _) => return Err(FrameError::BadContentLength),
            (Some(n), Some(f)) if n != f => return Err(FrameError::BadContentLength),
            (Some(n), _) => found = Some(n),
        }
    }
    Ok(found)
}

fn trim_ws(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

/// Splits header lines at line breaks not followed by SP/HTAB (continuation
/// lines stay with their line, line breaks included).
fn logical_lines(lines: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = lines;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut from = 0;
        let end = loop {
            match rest
                .get(from..)
                .and_then(|r| r.iter().position(|&b| b == b'\n'))
            {
                Some(p) if matches!(rest.get(from + p + 1), Some(b' ' | b'\t')) => {
                    from += p + 1;
                }
                Some(p) => break from + p + 1,
                None => break rest.len(),
            }
        };
        let (line, tail) = rest.split_at(end.min(rest.len()));
        rest = tail;
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ezk_sip_types::Name;
    use proptest::prelude::*;

    /// The 101 of MS-OCER §4.1. The specification's line wraps (PDF) are
    /// folded with a leading space so the message is valid SIP; the tag's
    /// PDF look-alike `l` is written `1`.
    const PROGRESS_101: &str = "SIP/2.0 101 Progress Report\r\n\
Authentication-Info: NTLM rspauth=\"0100000406D6963237FA4C142032BDB\", srand=\"5D210485\",\r\n \
snum=\"971\", opaque=\"08E69302\", qop=\"auth\", targetname=\"server.contoso.com\", realm=\"SIP\r\n \
Communications Service\"\r\n\
Content-Length: 0\r\n\
Via: SIP/2.0/TLS 192.168.66.91:49541;received=10.54.78.109;ms-received-port=1334;ms-received-\r\n \
cid=141FA900\r\n\
From: \"Alice\"<sip:alice@contoso.com>;tag=d1efe7a825;epid=d08da2d0b3\r\n\
To: <sip:bob@contoso.com;user=phone>\r\n\
Call-ID: f5290007af32443f8a82daa76c934880\r\n\
CSeq: 1 INVITE\r\n\
ms-diagnostics: 12006;reason=\"Trying next hop\";source=\"red-lsapf-\r\n \
01.exchange.corp.contoso.com\";PhoneUsage=\"CN={44924569-8F42-48AD-B926-78F11B418D7E},CN=Phone\r\n \
Route Usages,CN=RTC Service,CN=Contoso,CN=System,\r\n \
DC=contoso,DC=com\";PhoneRoute=\"RedLocalRoute\";Gateway=\"gateway.contoso.com:5061\";\r\n \
appName=\"OutboundRouting\"\r\n\
Server: OutboundRouting/3.0.0.0\r\n\
\r\n";

    /// The 504 of MS-OCER §4.1, folded the same way.
    const TIMEOUT_504: &str = "SIP/2.0 504 Server time-out\r\n\
Authentication-Info: NTLM rspauth=\"0100000048964310BE12908D42032BDB\", srand=\"1D0EFB7D\",\r\n \
snum=\"972\", opaque=\"08E69302\", qop=\"auth\", targetname=\"server.contoso.com\", realm=\"SIP\r\n \
Communications Service\"\r\n\
Via: SIP/2.0/TLS 192.168.66.91:49541; received=10.54.78.109; ms-received-port=1334; ms-received-\r\n \
cid=141FA900\r\n\
From: \"Alice\"<sip:alice@contoso.com>;tag=d1efe7a825;epid=d08da2d0b3\r\n\
To:<sip:bob@contoso.com;user=phone>;tag=66643C5C12E2A03D937F1045F8E8484F\r\n\
Call-ID: f5290007af32443f8a82daa76c934880\r\n\
CSeq: 1 INVITE\r\n\
ms-diagnostics: 1007; reason=\"Temporarily cannot\r\n \
route\";source=\"server.contoso.com\";ErrorType=\"Connect Attempt\r\n \
Failure\"; WinsockFailureDescription=\"The peer actively refused the connection\r\n \
attempt\";WinsockFailureCode=\"274D(WSAECONNREFUSED)\";Peer=\"gateway.contoso.com \"\r\n\
Server: OutboundRouting/3.0.0.0\r\n\
Content-Length: 0\r\n\
\r\n";

    /// An RFC 3261 §24.2 style MESSAGE with a body and compact headers.
    const MESSAGE_BODY: &str = "MESSAGE sip:bob@contoso.com SIP/2.0\r\n\
v: SIP/2.0/TCP client.contoso.com:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
t: Bob <sip:bob@contoso.com>\r\n\
f: Alice <sip:alice@contoso.com>;tag=1928301774\r\n\
i: a84b4c76e66710@pc33.contoso.com\r\n\
CSeq: 314159 MESSAGE\r\n\
c: text/plain\r\n\
l: 12\r\n\
\r\n\
Hello, Bob!\n";

    fn limits() -> FramingLimits {
        FramingLimits::default()
    }

    fn message(framed: Framed) -> (SipMessage, usize) {
        match framed {
            Framed::Message { message, consumed } => (message, consumed),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn stream_error(framed: Framed) -> (FrameError, Option<usize>) {
        match framed {
            Framed::Error { error, skip } => (error, skip),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn ms_ocer_4_1_responses_frame_and_keep_diagnostics_verbatim() {
        let (m, consumed) = message(frame_stream(PROGRESS_101.as_bytes(), &limits()));
        assert_eq!(consumed, PROGRESS_101.len());
        assert_eq!(m.status().map(|s| s.0), Some(101));
        assert_eq!(m.reason_phrase(), Some("Progress Report"));
        let diag: Vec<&str> = m.header_values(&Name::from("MS-Diagnostics")).collect();
        assert_eq!(
            diag,
            vec![
                "12006;reason=\"Trying next hop\";source=\"red-lsapf-\r\n \
01.exchange.corp.contoso.com\";PhoneUsage=\"CN={44924569-8F42-48AD-B926-78F11B418D7E},CN=Phone\r\n \
Route Usages,CN=RTC Service,CN=Contoso,CN=System,\r\n \
DC=contoso,DC=com\";PhoneRoute=\"RedLocalRoute\";Gateway=\"gateway.contoso.com:5061\";\r\n \
appName=\"OutboundRouting\""
            ]
        );

        let (m, consumed) = message(frame_stream(TIMEOUT_504.as_bytes(), &limits()));
        assert_eq!(consumed, TIMEOUT_504.len());
        assert_eq!(m.status().map(|s| s.0), Some(504));
        assert_eq!(m.reason_phrase(), Some("Server time-out"));
        let diag: Vec<&str> = m.header_values(&Name::from("ms-diagnostics")).collect();
        assert!(diag[0].starts_with("1007; reason=\"Temporarily cannot\r\n route\""));
        assert!(diag[0].ends_with("Peer=\"gateway.contoso.com \""));
        assert_eq!(
            crate::sip::to_tag_of(&m).as_deref(),
            Some("66643C5C12E2A03D937F1045F8E8484F")
        );
    }

    #[test]
    fn compact_headers_and_body() {
        let (m, consumed) = message(frame_stream(MESSAGE_BODY.as_bytes(), &limits()));
        assert_eq!(consumed, MESSAGE_BODY.len());
        assert_eq!(&m.body[..], b"Hello, Bob!\n");
        assert_eq!(
            m.method().map(ToString::to_string).as_deref(),
            Some("MESSAGE")
        );
        assert_eq!(
            m.header_values(&Name::CALL_ID).collect::<Vec<_>>(),
            vec!["a84b4c76e66710@pc33.contoso.com"]
        );
        assert_eq!(m.header_values(&Name::VIA).count(), 1);
    }

    #[test]
    fn keep_alives_are_reported_before_messages() {
        let mut buf = b"\r\n\r\n\n".to_vec();
        buf.extend_from_slice(TIMEOUT_504.as_bytes());
        assert!(matches!(
            frame_stream(&buf, &limits()),
            Framed::KeepAlive { consumed: 5 }
        ));
        let (_, consumed) = message(frame_stream(&buf[5..], &limits()));
        assert_eq!(consumed, TIMEOUT_504.len());
        assert!(matches!(frame_stream(b"", &limits()), Framed::Incomplete));
        assert!(matches!(frame_stream(b"\r", &limits()), Framed::Incomplete));
        assert!(matches!(
            frame_stream(b"\r\n\r", &limits()),
            Framed::KeepAlive { consumed: 2 }
        ));
        assert_eq!(
            stream_error(frame_stream(b"\rX", &limits())),
            (FrameError::BadStartLine, None)
        );
    }

    #[test]
    fn stream_needs_content_length() {
        let no_cl = "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n";
        assert_eq!(
            stream_error(frame_stream(no_cl.as_bytes(), &limits())),
            (FrameError::MissingContentLength, None)
        );
        for bad in [
            "l: x",
            "Content-Length: -1",
            "Content-Length: 1 2",
            "Content-Length:",
            "l: 99999999999999999999999",
        ] {
            let text = format!("SIP/2.0 200 OK\r\n{bad}\r\n\r\n");
            assert_eq!(
                stream_error(frame_stream(text.as_bytes(), &limits())),
                (FrameError::BadContentLength, None),
                "{bad}"
            );
        }
        let differing = "SIP/2.0 200 OK\r\nContent-Length: 0\r\nl: 1\r\n\r\nx";
        assert_eq!(
            stream_error(frame_stream(differing.as_bytes(), &limits())),
            (FrameError::BadContentLength, None)
        );
        let agreeing = "SIP/2.0 200 OK\r\nContent-Length: 1\r\nl:\r\n 1\r\n\r\nx";
        let (m, consumed) = message(frame_stream(agreeing.as_bytes(), &limits()));
        assert_eq!((consumed, &m.body[..]), (agreeing.len(), &b"x"[..]));
    }

    #[test]
    fn header_limit_at_and_over() {
        let text = "SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let head_len = text.len() - 3;
        let at = FramingLimits {
            max_header_bytes: head_len,
            max_body_bytes: 3,
        };
        let (_, consumed) = message(frame_stream(text.as_bytes(), &at));
        assert_eq!(consumed, text.len());
        assert!(parse_datagram(text.as_bytes(), &at).is_ok());

        let over = FramingLimits {
            max_header_bytes: head_len - 1,
            ..at
        };
        let too_large = FrameError::HeaderTooLarge {
            limit: head_len - 1,
        };
        assert_eq!(
            stream_error(frame_stream(text.as_bytes(), &over)),
            (too_large.clone(), None)
        );
        assert_eq!(
            parse_datagram(text.as_bytes(), &over).err(),
            Some(too_large.clone())
        );
        // No end in sight: the error comes as soon as the limit is reached,
        // without waiting for more bytes; below it, the framer waits.
        let endless = vec![b'a'; head_len - 1];
        assert_eq!(
            stream_error(frame_stream(&endless, &over)),
            (too_large, None)
        );
        assert!(matches!(
            frame_stream(&endless[..head_len - 2], &over),
            Framed::Incomplete
        ));
    }

    #[test]
    fn body_limit_at_and_over() {
        let text = "SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let at = FramingLimits {
            max_header_bytes: 1000,
            max_body_bytes: 3,
        };
        assert!(matches!(
            frame_stream(text.as_bytes(), &at),
            Framed::Message { .. }
        ));
        let over = FramingLimits {
            max_body_bytes: 2,
            ..at
        };
        let too_large = FrameError::BodyTooLarge {
            length: 3,
            limit: 2,
        };
        // Reported as soon as the header section is there; on a stream it
        // cannot be skipped (the body may never come): the connection closes.
        assert_eq!(
            stream_error(frame_stream(&text.as_bytes()[..text.len() - 3], &over)),
            (too_large.clone(), None)
        );
        assert_eq!(
            parse_datagram(text.as_bytes(), &over).err(),
            Some(too_large)
        );
        let no_cl = "SIP/2.0 200 OK\r\n\r\nabc";
        assert_eq!(
            parse_datagram(no_cl.as_bytes(), &over).err(),
            Some(FrameError::BodyTooLarge {
                length: 3,
                limit: 2
            })
        );
        let huge = "SIP/2.0 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n";
        assert!(matches!(
            stream_error(frame_stream(huge.as_bytes(), &over)),
            (
                FrameError::BodyTooLarge {
                    length: u64::MAX,
                    ..
                },
                None
            )
        ));
    }

    #[test]
    fn content_errors_skip_the_message() {
        let latin1 = b"SIP/2.0 200 OK\r\nSubject: caf\xe9\r\nContent-Length: 2\r\n\r\nhi";
        assert_eq!(
            stream_error(frame_stream(latin1, &limits())),
            (FrameError::NotUtf8, Some(latin1.len()))
        );
        assert_eq!(
            parse_datagram(latin1, &limits()).err(),
            Some(FrameError::NotUtf8)
        );
        let cases: &[(&str, FrameError)] = &[
            ("HELLO\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/2.0 2000 OK\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/2.0 099 Low\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/2.0 700 High\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/2.0 20 OK\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/2.0200 OK\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            ("SIP/3.0 200 OK\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            (
                "INVITE sip:a@b SIP/2.0 x\r\nl: 0\r\n\r\n",
                FrameError::BadStartLine,
            ),
            ("INVITE sip:a@b\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            (
                "SIP/2.0 200 OK\r\n more\r\nl: 0\r\n\r\n",
                FrameError::BadStartLine,
            ),
            ("SIP/2.0 200 O\rK\r\nl: 0\r\n\r\n", FrameError::BadStartLine),
            (
                "SIP/2.0 200 OK\r\nl: 0\r\nNo colon\r\n\r\n",
                FrameError::BadHeaderLine { line: 3 },
            ),
            (
                "SIP/2.0 200 OK\r\nl: 0\r\n: x\r\n\r\n",
                FrameError::BadHeaderLine { line: 3 },
            ),
            (
                "SIP/2.0 200 OK\r\nA: 1\r\n b\r\nBad Name: 2\r\nl: 0\r\n\r\n",
                FrameError::BadHeaderLine { line: 4 },
            ),
            (
                "SIP/2.0 200 OK\r\nA: x\ry\r\nl: 0\r\n\r\n",
                FrameError::BadHeaderLine { line: 2 },
            ),
            (
                "SIP/2.0 200 OK\r\nNämé: x\r\nl: 0\r\n\r\n",
                FrameError::BadHeaderLine { line: 2 },
            ),
        ];
        for (text, error) in cases {
            assert_eq!(
                stream_error(frame_stream(text.as_bytes(), &limits())),
                (error.clone(), Some(text.len())),
                "{text:?}"
            );
            assert_eq!(
                parse_datagram(text.as_bytes(), &limits()).err(),
                Some(error.clone()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn datagram_rules() {
        let l = limits();
        let no_cl = "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nbody bytes";
        assert_eq!(
            &parse_datagram(no_cl.as_bytes(), &l).unwrap().body[..],
            b"body bytes"
        );
        let extra = "SIP/2.0 200 OK\r\nl: 4\r\n\r\nbody bytes";
        assert_eq!(
            &parse_datagram(extra.as_bytes(), &l).unwrap().body[..],
            b"body"
        );
        let short = "SIP/2.0 200 OK\r\nl: 40\r\n\r\nbody bytes";
        assert_eq!(
            parse_datagram(short.as_bytes(), &l).err(),
            Some(FrameError::BodyTruncated {
                length: 40,
                available: 10
            })
        );
        assert_eq!(
            parse_datagram(b"SIP/2.0 200 OK\r\nl: 0\r\n", &l).err(),
            Some(FrameError::HeadNotTerminated)
        );
        assert_eq!(parse_datagram(b"", &l).err(), Some(FrameError::NoMessage));
        assert_eq!(
            parse_datagram(b"\r\n\r\n", &l).err(),
            Some(FrameError::NoMessage)
        );
        assert_eq!(
            parse_datagram(b"\r\n\rX", &l).err(),
            Some(FrameError::BadStartLine)
        );
        let padded = format!("\r\n\r\n{TIMEOUT_504}");
        assert_eq!(
            parse_datagram(padded.as_bytes(), &l)
                .unwrap()
                .status()
                .map(|s| s.0),
            Some(504)
        );
        // Bare LF line breaks and mixed endings.
        for text in [
            "SIP/2.0 200 OK\nl: 1\n\nx",
            "SIP/2.0 200 OK\r\nl: 1\r\n\nx",
            "SIP/2.0 200 OK\nl: 1\n\r\nx",
            "SIP/2.0 200 OK\r\nA: 1\nl: 1\r\n\r\nx",
        ] {
            let m = parse_datagram(text.as_bytes(), &l).unwrap();
            assert_eq!(&m.body[..], b"x", "{text:?}");
            assert_eq!(
                m.header_values(&Name::CONTENT_LENGTH).collect::<Vec<_>>(),
                vec!["1"]
            );
            let (_, consumed) = message(frame_stream(text.as_bytes(), &l));
            assert_eq!(consumed, text.len());
        }
        let only_start = parse_datagram(b"SIP/2.0 100 Trying\r\n\r\n", &l).unwrap();
        assert_eq!(only_start.headers.iter().count(), 0);
    }

    /// Feeds `chunks` to a receive buffer the way a transport would (one
    /// [`StreamScan`] resumed across reads) and returns what came out:
    /// printed messages, keep-alive bytes, errors.
    fn drive(chunks: &[&[u8]], limits: &FramingLimits) -> (Vec<Vec<u8>>, usize, Vec<FrameError>) {
        let mut scan = StreamScan::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut to_discard = 0usize;
        let (mut messages, mut keep_alive, mut errors) = (Vec::new(), 0, Vec::new());
        for chunk in chunks {
            let drop_now = to_discard.min(chunk.len());
            to_discard -= drop_now;
            buf.extend_from_slice(&chunk[drop_now..]);
            loop {
                match scan.frame(&buf, limits) {
                    Framed::Incomplete => break,
                    Framed::KeepAlive { consumed } => {
                        keep_alive += consumed;
                        buf.drain(..consumed);
                    }
                    Framed::Message { message, consumed } => {
                        messages.push(message.to_bytes());
                        buf.drain(..consumed);
                    }
                    Framed::Error { error, skip } => {
                        errors.push(error);
                        let Some(skip) = skip else {
                            return (messages, keep_alive, errors);
                        };
                        if skip <= buf.len() {
                            buf.drain(..skip);
                        } else {
                            to_discard = skip - buf.len();
                            buf.clear();
                        }
                    }
                }
            }
        }
        (messages, keep_alive, errors)
    }

    fn back_to_back() -> Vec<u8> {
        let mut buf = Vec::new();
        buf.extend_from_slice(b"\r\n\r\n");
        buf.extend_from_slice(PROGRESS_101.as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(MESSAGE_BODY.as_bytes());
        buf.extend_from_slice(
            b"SIP/2.0 200 OK\r\nX-Bad: caf\xe9\r\nContent-Length: 5\r\n\r\n12345",
        );
        buf.extend_from_slice(b"SIP/2.0 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789");
        buf.extend_from_slice(TIMEOUT_504.as_bytes());
        buf.extend_from_slice(b"\n");
        buf
    }

    #[test]
    fn back_to_back_messages_survive_every_split() {
        let limits = FramingLimits {
            max_header_bytes: 4096,
            max_body_bytes: 20,
        };
        let buf = back_to_back();
        let whole = drive(&[&buf], &limits);
        assert_eq!(whole.0.len(), 4, "101, MESSAGE, 200 and 504");
        assert_eq!(whole.1, 7);
        assert_eq!(whole.2, vec![FrameError::NotUtf8]);
        let reparsed: Vec<Option<u16>> = whole
            .0
            .iter()
            .map(|m| {
                parse_datagram(m, &limits)
                    .ok()
                    .and_then(|m| m.status())
                    .map(|s| s.0)
            })
            .collect();
        assert_eq!(reparsed, vec![Some(101), None, Some(200), Some(504)]);

        for k in 0..=buf.len() {
            assert_eq!(
                drive(&[&buf[..k], &buf[k..]], &limits),
                whole,
                "split at {k}"
            );
        }
        let bytes: Vec<&[u8]> = buf.chunks(1).collect();
        assert_eq!(drive(&bytes, &limits), whole, "byte by byte");
        let threes: Vec<&[u8]> = buf.chunks(3).collect();
        assert_eq!(drive(&threes, &limits), whole, "three at a time");
    }

    /// Issue 17 item 1: `Content-Length: 9999999999` and no body. Skipping
    /// it would swallow every later message on the connection (the report's
    /// 200); it is a framing error that closes the stream instead.
    #[test]
    fn a_content_length_over_the_limit_closes_the_stream() {
        let mut buf = b"SIP/2.0 200 OK\r\nContent-Length: 9999999999\r\n\r\n".to_vec();
        buf.extend_from_slice(TIMEOUT_504.as_bytes());
        let (messages, _, errors) = drive(&[&buf], &limits());
        assert!(messages.is_empty());
        assert_eq!(
            errors,
            vec![FrameError::BodyTooLarge {
                length: 9_999_999_999,
                limit: limits().max_body_bytes
            }]
        );
        assert!(matches!(
            frame_stream(&buf, &limits()),
            Framed::Error { skip: None, .. }
        ));
    }

    /// Issue 17 item 8: a 120 KB header section trickling in one byte per
    /// read, then its body one byte per read, is looked at about once — not
    /// once per read (quadratic: 7 GB of scanning for this message).
    #[test]
    fn a_trickled_message_is_scanned_once() {
        let mut text = String::from("SIP/2.0 200 OK\r\n");
        while text.len() < 120 * 1024 {
            text.push_str("X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        text.push_str("Content-Length: 2000\r\n\r\n");
        text.push_str(&"b".repeat(2000));
        let limits = FramingLimits {
            max_header_bytes: 128 * 1024,
            max_body_bytes: 4096,
        };
        let mut scan = StreamScan::default();
        let mut framed = 0;
        for end in 1..=text.len() {
            match scan.frame(&text.as_bytes()[..end], &limits) {
                Framed::Incomplete => {}
                Framed::Message { consumed, .. } => {
                    assert_eq!(end, text.len());
                    framed = consumed;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(framed, text.len());
        assert!(
            scan.examined < 6 * text.len(),
            "{} bytes looked at for a {}-byte message",
            scan.examined,
            text.len()
        );
    }

    #[test]
    fn a_stream_that_cannot_resync_stops() {
        let mut buf = TIMEOUT_504.as_bytes().to_vec();
        buf.extend_from_slice(b"SIP/2.0 200 OK\r\n\r\n");
        buf.extend_from_slice(TIMEOUT_504.as_bytes());
        let (messages, _, errors) = drive(&[&buf], &limits());
        assert_eq!(messages.len(), 1);
        assert_eq!(errors, vec![FrameError::MissingContentLength]);
    }

    fn small_limits() -> impl Strategy<Value = FramingLimits> {
        (0usize..300, 0usize..100).prop_map(|(h, b)| FramingLimits {
            max_header_bytes: h,
            max_body_bytes: b,
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), l in small_limits()) {
            let _ = frame_stream(&bytes, &l);
            let _ = frame_stream(&bytes, &FramingLimits::default());
            let _ = parse_datagram(&bytes, &l);
            let _ = parse_datagram(&bytes, &FramingLimits::default());
        }

        #[test]
        fn sip_like_bytes_never_panic(
            parts in prop::collection::vec(prop_oneof![
                Just("\r\n".to_owned()), Just("\n".to_owned()), Just("\r".to_owned()), Just(" ".to_owned()),
                Just(":".to_owned()), Just("SIP/2.0 ".to_owned()), Just("INVITE sip:a@b SIP/2.0".to_owned()),
                Just("l: ".to_owned()), Just("Content-Length:".to_owned()), Just("<sip:".to_owned()),
                Just("\"".to_owned()), Just(";".to_owned()), Just("é".to_owned()), Just("[::1]".to_owned()),
                "[0-9]{1,3}", "[a-zA-Z%-]{1,5}",
            ], 0..60),
            l in small_limits(),
        ) {
            let bytes = parts.concat().into_bytes();
            let _ = frame_stream(&bytes, &l);
            let _ = frame_stream(&bytes, &FramingLimits::default());
            let _ = parse_datagram(&bytes, &FramingLimits::default());
        }

        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..3,
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = [PROGRESS_101, TIMEOUT_504, MESSAGE_BODY][which].as_bytes().to_vec();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let _ = frame_stream(&bytes, &limits());
            let _ = parse_datagram(&bytes, &limits());
            let cut = cut.index(bytes.len() + 1);
            let _ = frame_stream(&bytes[..cut], &limits());
            let _ = parse_datagram(&bytes[..cut], &limits());
        }

        #[test]
        fn logical_lines_cover_the_input(bytes in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), Just(b'a')], 0..40)) {
            prop_assert_eq!(logical_lines(&bytes).collect::<Vec<_>>().concat(), bytes);
        }
    }
}
