//! SIP requests as the test client sends them.
//!
//! An [`OutgoingRequest`] is built from a fixture (the MS-OCER 4.1 INVITE),
//! bound to one loopback transaction (its own `Via`, branch and `Call-ID`), and
//! written with a `Content-Length` that matches its body. [`OutgoingRequest::ack`]
//! builds the ACK for a non-2xx final response (RFC 3261 §17.1.1.3).
//!
//! This is a writer for requests the tests themselves compose, not a SIP parser:
//! header names are matched in their long form only, and folded lines are
//! unfolded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Transport;

/// The INVITE of the MS-OCER 4.1 example, as the `ocer` fixtures hold it.
pub const MS_OCER_4_1_INVITE: &[u8] =
    include_bytes!("../../sdk/tests/fixtures/ms-ocer-4.1/invite.sip");

/// The RFC 3261 §8.1.1.7 magic cookie every branch starts with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// Why a request could not be read or derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// No blank line ends the header section.
    #[error("no CRLF CRLF ends the header section")]
    NoHeaderEnd,
    /// The header section is not UTF-8.
    #[error("the header section is not UTF-8")]
    NotUtf8,
    /// The first line is not `METHOD Request-URI SIP/2.0`.
    #[error("malformed request line {0:?}")]
    RequestLine(String),
    /// A header line has no colon, or a continuation line comes first.
    #[error("malformed header line {0:?}")]
    HeaderLine(String),
    /// A header the operation needs is absent.
    #[error("the request has no {0} header")]
    MissingHeader(&'static str),
    /// The CSeq value does not start with a sequence number.
    #[error("malformed CSeq {0:?}")]
    CSeq(String),
}

/// One header line, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    name: String,
    value: String,
}

/// A SIP request the test client composes and sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    method: String,
    request_uri: String,
    /// In order, without `Content-Length`: that is written from the body.
    headers: Vec<Header>,
    body: Vec<u8>,
}

impl OutgoingRequest {
    /// Reads a request. Its `Content-Length` is dropped (it is rewritten from the
    /// body); the body is the rest of `bytes`, cut to `Content-Length` if given.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or(WireError::NoHeaderEnd)?;
        let head = std::str::from_utf8(bytes.get(..end).unwrap_or_default())
            .map_err(|_| WireError::NotUtf8)?;
        let mut body = bytes.get(end + 4..).unwrap_or_default().to_vec();

        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or_default();
        let mut parts = first.split(' ');
        let (Some(method), Some(request_uri), Some("SIP/2.0"), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(WireError::RequestLine(first.to_owned()));
        };
        if method.is_empty() || request_uri.is_empty() {
            return Err(WireError::RequestLine(first.to_owned()));
        }

        let mut headers: Vec<Header> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers
                    .last_mut()
                    .ok_or_else(|| WireError::HeaderLine(line.to_owned()))?;
                last.value.push(' ');
                last.value.push_str(line.trim());
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| WireError::HeaderLine(line.to_owned()))?;
            headers.push(Header {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
            });
        }
        if let Some(length) = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("Content-Length"))
            .and_then(|h| h.value.parse::<usize>().ok())
        {
            body.truncate(length);
        }
        headers.retain(|h| !h.name.eq_ignore_ascii_case("Content-Length"));
        Ok(Self {
            method: method.to_owned(),
            request_uri: request_uri.to_owned(),
            headers,
            body,
        })
    }

    /// The INVITE of the MS-OCER 4.1 example ([`MS_OCER_4_1_INVITE`]).
    pub fn ms_ocer_4_1_invite() -> Result<Self, WireError> {
        Self::parse(MS_OCER_4_1_INVITE)
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The Request-URI.
    pub fn request_uri(&self) -> &str {
        &self.request_uri
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The first value of header `name` (case-insensitive, long form).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Sets header `name` to the single value `value`: the first occurrence is
    /// replaced in place and later ones removed; if absent it is appended.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .headers
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
        {
            Some(first) => {
                let mut index = 0;
                self.headers.retain(|h| {
                    let keep = index <= first || !h.name.eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
                if let Some(header) = self.headers.get_mut(first) {
                    header.value = value;
                }
            }
            None => self.headers.push(Header {
                name: name.to_owned(),
                value,
            }),
        }
    }

    /// Removes every header `name`.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    /// Changes the method, in the request line and in `CSeq` (keeping its number).
    pub fn set_method(&mut self, method: &str) -> Result<(), WireError> {
        let number = self.cseq_number()?;
        method.clone_into(&mut self.method);
        self.set_header("CSeq", format!("{number} {method}"));
        Ok(())
    }

    /// Replaces the body, and `Content-Type` with it (`None` removes it).
    pub fn set_body(&mut self, content_type: Option<&str>, body: impl Into<Vec<u8>>) {
        match content_type {
            Some(content_type) => self.set_header("Content-Type", content_type),
            None => self.remove_header("Content-Type"),
        }
        self.body = body.into();
    }

    /// Makes this the request of a new transaction sent from `local` over
    /// `transport`: a single `Via` with that sent-by and `branch`, and `call_id`.
    pub fn bind_to(
        &mut self,
        transport: Transport,
        local: SocketAddr,
        branch: &str,
        call_id: &str,
    ) {
        self.set_header(
            "Via",
            format!("SIP/2.0/{} {local};branch={branch}", transport.via_token()),
        );
        self.set_header("Call-ID", call_id);
    }

    /// The `CSeq` sequence number.
    pub fn cseq_number(&self) -> Result<u32, WireError> {
        let cseq = self
            .header("CSeq")
            .ok_or(WireError::MissingHeader("CSeq"))?;
        cseq.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| WireError::CSeq(cseq.to_owned()))
    }

    /// The ACK for a non-2xx final response to this INVITE whose `To` header
    /// value is `response_to` (RFC 3261 §17.1.1.3): same Request-URI, `Call-ID`,
    /// `From` and top `Via` (so the same branch), the response's `To` (with its
    /// tag), `CSeq` with the same number and method ACK, the same `Route`s.
    pub fn ack(&self, response_to: &str) -> Result<Self, WireError> {
        let required = |name: &'static str| self.header(name).ok_or(WireError::MissingHeader(name));
        let mut headers = vec![
            Header {
                name: "Via".into(),
                value: required("Via")?.to_owned(),
            },
            Header {
                name: "Max-Forwards".into(),
                value: "70".into(),
            },
            Header {
                name: "From".into(),
                value: required("From")?.to_owned(),
            },
            Header {
                name: "To".into(),
                value: response_to.to_owned(),
            },
            Header {
                name: "Call-ID".into(),
                value: required("Call-ID")?.to_owned(),
            },
            Header {
                name: "CSeq".into(),
                value: format!("{} ACK", self.cseq_number()?),
            },
        ];
        headers.extend(self.headers_named("Route").map(|route| Header {
            name: "Route".into(),
            value: route.to_owned(),
        }));
        Ok(Self {
            method: "ACK".into(),
            request_uri: self.request_uri.clone(),
            headers,
            body: Vec::new(),
        })
    }

    /// The request on the wire: CRLF line ends, `Content-Length` last.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("{} {} SIP/2.0\r\n", self.method, self.request_uri);
        for header in &self.headers {
            head.push_str(&header.name);
            head.push_str(": ");
            head.push_str(&header.value);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A token no other call of any test process has used: process id, wall-clock
/// nanoseconds at first use, and a counter.
pub fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}.{nanos:x}.{count}", std::process::id())
}

/// A fresh branch parameter, with the RFC 3261 magic cookie.
pub fn fresh_branch() -> String {
    format!("{BRANCH_COOKIE}{}", unique_token().replace('.', ""))
}

/// A fresh Call-ID.
pub fn fresh_call_id() -> String {
    format!("{}@ocer-interop.invalid", unique_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> OutgoingRequest {
        OutgoingRequest::ms_ocer_4_1_invite().unwrap()
    }

    #[test]
    fn the_fixture_round_trips_byte_for_byte() {
        assert_eq!(invite().to_bytes(), MS_OCER_4_1_INVITE);
    }

    #[test]
    fn binding_replaces_via_and_call_id_in_place() {
        let mut request = invite();
        request.bind_to(
            Transport::Tcp,
            "127.0.0.1:40000".parse().unwrap(),
            "z9hG4bKx1",
            "c1@x",
        );
        let text = String::from_utf8(request.to_bytes()).unwrap();
        assert!(text.starts_with(
            "INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bKx1\r\n"
        ));
        assert!(text.contains("\r\nCall-ID: c1@x\r\n"));
        assert_eq!(text.matches("Via:").count(), 1);
    }

    #[test]
    fn the_ack_follows_rfc_3261_17_1_1_3() {
        let mut request = invite();
        request.set_header("Route", "<sip:proxy.contoso.com;lr>");
        let to = "<sip:bob@contoso.com;user=phone>;tag=abc";
        let ack = request.ack(to).unwrap();
        assert_eq!(
            (ack.method(), ack.request_uri()),
            ("ACK", request.request_uri())
        );
        for name in ["Via", "From", "Call-ID", "Route"] {
            assert_eq!(ack.header(name), request.header(name), "{name}");
        }
        assert_eq!(ack.header("To"), Some(to));
        assert_eq!(ack.header("CSeq"), Some("1 ACK"));
        assert_eq!(ack.header("Contact"), None);
        assert!(ack.to_bytes().ends_with(b"\r\nContent-Length: 0\r\n\r\n"));
    }

    #[test]
    fn method_and_body_changes_keep_cseq_and_content_length_consistent() {
        let mut request = invite();
        request.set_method("MESSAGE").unwrap();
        request.set_body(Some("text/plain"), "hello");
        let text = String::from_utf8(request.to_bytes()).unwrap();
        assert!(text.starts_with("MESSAGE sip:bob@contoso.com;user=phone SIP/2.0\r\n"));
        assert!(text.contains("\r\nCSeq: 1 MESSAGE\r\n"));
        assert!(text.contains("\r\nContent-Type: text/plain\r\n"));
        assert!(text.ends_with("\r\nContent-Length: 5\r\n\r\nhello"));
    }

    #[test]
    fn set_header_collapses_repeats_and_folded_lines_unfold() {
        let mut request = OutgoingRequest::parse(
            b"OPTIONS sip:a SIP/2.0\r\nSupported: a\r\nX: 1\r\nSupported: b,\r\n c\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            request.headers_named("Supported").collect::<Vec<_>>(),
            vec!["a", "b, c"]
        );
        request.set_header("supported", "z");
        assert_eq!(
            request.to_bytes(),
            b"OPTIONS sip:a SIP/2.0\r\nSupported: z\r\nX: 1\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert_eq!(
            OutgoingRequest::parse(b"INVITE sip:a SIP/2.0\r\n"),
            Err(WireError::NoHeaderEnd)
        );
        assert!(matches!(
            OutgoingRequest::parse(b"SIP/2.0 200 OK\r\n\r\n"),
            Err(WireError::RequestLine(_))
        ));
        assert!(matches!(
            OutgoingRequest::parse(b"A b SIP/2.0\r\n c\r\n\r\n"),
            Err(WireError::HeaderLine(_))
        ));
        let no_cseq = OutgoingRequest::parse(b"A b SIP/2.0\r\nVia: x\r\n\r\n").unwrap();
        assert_eq!(no_cseq.ack("t"), Err(WireError::MissingHeader("From")));
        assert_eq!(no_cseq.cseq_number(), Err(WireError::MissingHeader("CSeq")));
    }

    #[test]
    fn tokens_are_fresh() {
        assert_ne!(fresh_branch(), fresh_branch());
        assert!(fresh_branch().starts_with(BRANCH_COOKIE));
        assert_ne!(fresh_call_id(), fresh_call_id());
    }
}
