//! A scripted SIP server for the `ua_agent_*` tests: one TCP connection or
//! one UDP socket on 127.0.0.1, read message by message. Every request the
//! user agent sends is checked on arrival: it must never carry an
//! `ms-diagnostics` or `ms-diagnostics-public` header (MS-OCER §3.1, §5.1).
//!
//! Every wait is bounded ([`LIMIT`]), so a broken user agent fails a test
//! instead of hanging it.

// Test support: a failed step panics, which fails the test that took it.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use ezk_sip_types::Name;
use ocer::sip::{frame_stream, parse_datagram, Framed, FramingLimits, SipMessage, TimerConfig};
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{UaEvent, UaEvents};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// The longest any single step of a test may take.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Small timers: UDP retransmissions and timeouts take little time.
pub fn fast_timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(50),
        t2: Duration::from_millis(400),
        t4: Duration::from_millis(500),
    }
}

/// Which transport a test runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Udp,
}

enum Wire {
    Tcp {
        listener: TcpListener,
        conn: Option<TcpStream>,
        buf: BytesMut,
    },
    Udp {
        socket: UdpSocket,
        peer: Option<SocketAddr>,
    },
}

/// The scripted server.
pub struct Server {
    wire: Wire,
    addr: SocketAddr,
    /// (top Via branch, CSeq) of every request seen: UDP retransmissions
    /// are skipped.
    seen: HashSet<(String, String)>,
    /// Every request received, retransmissions excluded.
    pub received: Vec<SipMessage>,
    /// Every response the UA sent (to requests of the server).
    pub responses: Vec<SipMessage>,
    /// How long a read waits for the UA; [`LIMIT`] unless a test (on paused
    /// time) waits out a long Retry-After.
    pub limit: Duration,
}

impl Server {
    pub async fn bind(kind: Kind) -> Server {
        let (wire, addr) = match kind {
            Kind::Tcp => {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                (
                    Wire::Tcp {
                        listener,
                        conn: None,
                        buf: BytesMut::new(),
                    },
                    addr,
                )
            }
            Kind::Udp => {
                let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let addr = socket.local_addr().unwrap();
                (Wire::Udp { socket, peer: None }, addr)
            }
        };
        Server {
            wire,
            addr,
            seen: HashSet::new(),
            received: Vec::new(),
            responses: Vec::new(),
            limit: LIMIT,
        }
    }

    pub fn target(&self) -> Target {
        match self.wire {
            Wire::Tcp { .. } => Target::new(TransportKind::Tcp, self.addr),
            Wire::Udp { .. } => Target::new(TransportKind::Udp, self.addr),
        }
    }

    async fn read_one(&mut self) -> SipMessage {
        match &mut self.wire {
            Wire::Tcp {
                listener,
                conn,
                buf,
            } => {
                if conn.is_none() {
                    let (stream, _) = tokio::time::timeout(self.limit, listener.accept())
                        .await
                        .expect("a connection in time")
                        .unwrap();
                    *conn = Some(stream);
                }
                let stream = conn.as_mut().unwrap();
                loop {
                    match frame_stream(buf, &FramingLimits::default()) {
                        Framed::Message { message, consumed } => {
                            buf.advance(consumed);
                            return message;
                        }
                        Framed::KeepAlive { consumed } => {
                            buf.advance(consumed);
                            continue;
                        }
                        Framed::Incomplete => {}
                        Framed::Error { error, .. } => panic!("the UA sent a bad message: {error}"),
                    }
                    let n = tokio::time::timeout(self.limit, stream.read_buf(buf))
                        .await
                        .expect("data from the UA in time")
                        .unwrap();
                    assert!(n > 0, "the UA closed the connection");
                }
            }
            Wire::Udp { socket, peer } => {
                let mut datagram = vec![0u8; 65_535];
                let (n, from) = tokio::time::timeout(self.limit, socket.recv_from(&mut datagram))
                    .await
                    .expect("a datagram in time")
                    .unwrap();
                *peer = Some(from);
                parse_datagram(&datagram[..n], &FramingLimits::default()).unwrap()
            }
        }
    }

    /// The next new request (retransmissions skipped), checked for
    /// diagnostics headers. Responses the UA sends are kept in `responses`.
    pub async fn next(&mut self) -> SipMessage {
        loop {
            let message = self.read_one().await;
            if !message.is_request() {
                self.responses.push(message);
                continue;
            }
            for (name, _) in message.headers.iter() {
                let name = name.as_print_str();
                assert!(
                    !name.eq_ignore_ascii_case("ms-diagnostics")
                        && !name.eq_ignore_ascii_case("ms-diagnostics-public"),
                    "the UA sent a diagnostics header:\n{message}"
                );
            }
            let key = (
                branch(&message).unwrap_or_default(),
                message
                    .header_value(&Name::CSEQ)
                    .unwrap_or_default()
                    .to_owned(),
            );
            if self.seen.insert(key) {
                self.received.push(message.clone());
                return message;
            }
        }
    }

    /// The next new request, which must be `method`.
    pub async fn expect(&mut self, method: &str) -> SipMessage {
        let message = self.next().await;
        assert_eq!(
            message.method().map(ToString::to_string).as_deref(),
            Some(method),
            "expected {method}, got:\n{message}"
        );
        message
    }

    /// The next response the UA sends (to a request of the server).
    pub async fn response(&mut self) -> SipMessage {
        loop {
            if !self.responses.is_empty() {
                return self.responses.remove(0);
            }
            let message = self.read_one().await;
            if message.is_request() {
                panic!("expected a response, got:\n{message}");
            }
            self.responses.push(message);
        }
    }

    /// The next message as it comes (retransmissions included), checked
    /// for diagnostics headers, if one comes within `wait`.
    pub async fn raw_within(&mut self, wait: Duration) -> Option<SipMessage> {
        let message = tokio::time::timeout(wait, self.read_one()).await.ok()?;
        for (name, _) in message.headers.iter() {
            assert!(!name
                .as_print_str()
                .to_ascii_lowercase()
                .starts_with("ms-diagnostics"));
        }
        Some(message)
    }

    /// The next new request if one comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<SipMessage> {
        tokio::time::timeout(wait, self.next()).await.ok()
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        match &mut self.wire {
            Wire::Tcp { conn, .. } => {
                let stream = conn.as_mut().expect("a connection to answer on");
                stream.write_all(bytes).await.unwrap();
                stream.flush().await.unwrap();
            }
            Wire::Udp { socket, peer } => {
                let to = peer.expect("a peer to answer");
                socket.send_to(bytes, to).await.unwrap();
            }
        }
    }

    /// Answers `request` with `status` and `extra` header lines.
    pub async fn reply(&mut self, request: &SipMessage, status: &str, extra: &str) {
        self.send(&response(request, status, extra, "")).await;
    }
}

/// The top Via's branch.
pub fn branch(message: &SipMessage) -> Option<String> {
    let via = message.header_value(&Name::VIA)?;
    via.split(';')
        .find_map(|p| p.trim().strip_prefix("branch="))
        .map(|b| b.split(',').next().unwrap_or(b).to_owned())
}

/// A response to `request`: its Via, From, Call-ID and CSeq; To with the
/// tag `srv1` if it has none; `extra` header lines (each ending CRLF); `body`.
pub fn response(request: &SipMessage, status: &str, extra: &str, body: &str) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {status}\r\n");
    for via in request.header_values(&Name::VIA) {
        text.push_str(&format!("Via: {via}\r\n"));
    }
    let header = |name: &Name| request.header_value(name).unwrap_or_default().to_owned();
    let to = header(&Name::TO);
    let to = if to.contains(";tag=") || status.starts_with("100") {
        to
    } else {
        format!("{to};tag=srv1")
    };
    text.push_str(&format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        header(&Name::FROM),
        header(&Name::CALL_ID),
        header(&Name::CSEQ),
        body.len(),
    ));
    text.into_bytes()
}

/// The value of header `name` of `message`.
pub fn header<'a>(message: &'a SipMessage, name: &str) -> Option<&'a str> {
    message.header_value(&Name::from(name))
}

/// The next event, within [`LIMIT`].
pub async fn event(events: &mut UaEvents) -> UaEvent {
    tokio::time::timeout(LIMIT, events.recv())
        .await
        .expect("an event in time")
        .expect("the event stream is open")
}

/// Events until one matches `pred` (returned); the others are returned too,
/// in order.
pub async fn until(
    events: &mut UaEvents,
    mut pred: impl FnMut(&UaEvent) -> bool,
) -> (UaEvent, Vec<UaEvent>) {
    let mut before = Vec::new();
    loop {
        let e = event(events).await;
        if pred(&e) {
            return (e, before);
        }
        before.push(e);
    }
}

/// A WWW-Authenticate challenge.
pub const CHALLENGE: &str =
    "WWW-Authenticate: Digest realm=\"contoso.com\", nonce=\"4f1b2c3d\", algorithm=MD5, qop=\"auth\"\r\n";

/// The start line of `message`.
pub fn start_line(message: &SipMessage) -> String {
    message
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
