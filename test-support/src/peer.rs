//! The in-process peer the tests script message by message, on 127.0.0.1 over
//! UDP, TCP or TLS, reading with ocer's own framer.
//!
//! The building blocks are [`StreamPeer`] (a TCP or TLS listener) with the
//! connections it accepts ([`PeerConn`]), and [`UdpPeer`] (a socket): driver
//! tests that open, lose and reopen connections use them directly.
//! [`Server`] is built from them: one connection or socket, read request by
//! request, for the user-agent tests and the hostile-server suite.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use ezk_sip_types::Name;
use ocer::sip::{frame_stream, parse_datagram, Framed, FramingLimits, SipMessage};
use ocer::ua::transport::{Target, TransportKind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::message::{assert_no_diagnostics, branch, response};
use crate::LIMIT;

/// A byte stream a peer reads and writes: TCP, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A TCP (optionally TLS) listener on 127.0.0.1.
pub struct StreamPeer {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl StreamPeer {
    /// Listens on a free port; TLS with `tls`.
    pub async fn bind(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self { listener, tls }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    /// Where the SDK connects (TLS: to `localhost`, which the test CA's
    /// certificate names).
    pub fn target(&self) -> Target {
        match self.tls {
            Some(_) => Target::new(TransportKind::Tls, self.addr()).with_server_name("localhost"),
            None => Target::new(TransportKind::Tcp, self.addr()),
        }
    }

    /// The next connection (TLS: after the handshake), within [`LIMIT`];
    /// it answers keep-alive pings.
    pub async fn accept(&self) -> PeerConn {
        let mut conn = self.accept_within(LIMIT).await;
        conn.pong = true;
        conn
    }

    /// The next connection within `limit`; it reads keep-alive pings
    /// without answering them.
    pub async fn accept_within(&self, limit: Duration) -> PeerConn {
        let (tcp, _) = tokio::time::timeout(limit, self.listener.accept())
            .await
            .expect("a connection in time")
            .unwrap();
        let io: Box<dyn Io> = match &self.tls {
            Some(acceptor) => Box::new(acceptor.accept(tcp).await.unwrap()),
            None => Box::new(tcp),
        };
        PeerConn {
            io,
            buf: BytesMut::new(),
            ping_bytes: 0,
            pong: false,
        }
    }

    /// Accepts one connection and expects its TLS handshake to fail.
    pub async fn accept_failing_handshake(&self) {
        let (tcp, _): (TcpStream, _) = tokio::time::timeout(LIMIT, self.listener.accept())
            .await
            .expect("a connection in time")
            .unwrap();
        if let Some(acceptor) = &self.tls {
            assert!(acceptor.accept(tcp).await.is_err());
        }
    }
}

/// One accepted connection, read with ocer's own stream framer.
pub struct PeerConn {
    /// The connection itself, for tests that write to it as they like.
    pub io: Box<dyn Io>,
    buf: BytesMut,
    /// Bytes of CRLFCRLF pings seen (back-to-back pings are framed as one).
    pub ping_bytes: usize,
    /// Whether a ping is answered with a CRLF pong (RFC 5626 §4.4.1).
    pong: bool,
}

impl PeerConn {
    /// The next message within [`LIMIT`]; keep-alive pings are counted (and
    /// answered if the connection answers them).
    pub async fn next(&mut self) -> SipMessage {
        self.next_within(LIMIT)
            .await
            .expect("the SDK closed the connection")
    }

    /// The next message, each read waiting up to `limit`; `None` if the SDK
    /// closed the connection (or it failed).
    pub async fn next_within(&mut self, limit: Duration) -> Option<SipMessage> {
        loop {
            match frame_stream(&self.buf, &FramingLimits::default()) {
                Framed::Message { message, consumed } => {
                    self.buf.advance(consumed);
                    return Some(message);
                }
                Framed::KeepAlive { consumed } => {
                    self.buf.advance(consumed);
                    self.ping_bytes += consumed;
                    if self.pong {
                        self.io.write_all(b"\r\n").await.unwrap();
                    }
                    continue;
                }
                Framed::Incomplete => {}
                Framed::Error { error, .. } => panic!("the SDK sent a bad message: {error}"),
            }
            let read = tokio::time::timeout(limit, self.io.read_buf(&mut self.buf))
                .await
                .expect("data from the SDK in time");
            if !matches!(read, Ok(n) if n > 0) {
                return None;
            }
        }
    }

    /// Sends `bytes`, which must go out.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).await.unwrap();
    }

    /// Sends `bytes`; an error (the SDK closed the connection) is returned.
    pub async fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }
}

/// A UDP socket on 127.0.0.1.
pub struct UdpPeer {
    /// The socket itself, for tests that send as they like.
    pub socket: UdpSocket,
}

impl UdpPeer {
    /// Binds a free port.
    pub async fn bind() -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    /// Where the SDK sends.
    pub fn target(&self) -> Target {
        Target::new(TransportKind::Udp, self.socket.local_addr().unwrap())
    }

    /// The next datagram and its source, within [`LIMIT`].
    pub async fn next(&self) -> (SipMessage, SocketAddr) {
        self.recv(LIMIT).await
    }

    /// The next datagram if one comes within `wait`.
    pub async fn next_within(&self, wait: Duration) -> Option<(SipMessage, SocketAddr)> {
        tokio::time::timeout(wait, self.next()).await.ok()
    }

    /// The next datagram, which must come within `limit`.
    async fn recv(&self, limit: Duration) -> (SipMessage, SocketAddr) {
        let mut buf = vec![0u8; 65_535];
        let (n, from) = tokio::time::timeout(limit, self.socket.recv_from(&mut buf))
            .await
            .expect("a datagram in time")
            .unwrap();
        (
            parse_datagram(&buf[..n], &FramingLimits::default()).unwrap(),
            from,
        )
    }
}

enum Wire {
    Stream {
        listener: StreamPeer,
        conn: Option<PeerConn>,
    },
    Udp {
        udp: UdpPeer,
        peer: Option<SocketAddr>,
    },
}

/// The scripted server: one connection (accepted when the SDK first sends)
/// or one UDP socket, read request by request. Every message the SDK sends
/// is checked on arrival: it never carries a diagnostics header
/// ([`assert_no_diagnostics`]).
pub struct Server {
    wire: Wire,
    kind: TransportKind,
    addr: SocketAddr,
    /// (top Via branch, CSeq) of every request seen: UDP retransmissions
    /// are skipped.
    seen: HashSet<(String, String)>,
    /// Every request received, retransmissions excluded.
    pub received: Vec<SipMessage>,
    /// Every response the SDK sent (to requests of the server) not yet
    /// taken by [`response`](Self::response).
    pub responses: Vec<SipMessage>,
    /// How long a read waits for the SDK; [`LIMIT`] unless a test sets it
    /// (on paused time, to wait out a long Retry-After; or the hostile
    /// suite's longer step).
    pub limit: Duration,
    /// Whether a connection the SDK closes is replaced by the next one it
    /// opens (the hostile suite) rather than failing the test.
    pub reconnect: bool,
}

impl Server {
    /// A TCP or UDP server.
    pub async fn bind(kind: TransportKind) -> Server {
        Self::bind_with(kind, None).await
    }

    /// A server over `kind`; TLS (which needs `tls`) presents `tls`'s
    /// certificate.
    pub async fn bind_with(kind: TransportKind, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        assert_eq!(
            kind == TransportKind::Tls,
            tls.is_some(),
            "a TLS server, and only one, has an acceptor"
        );
        let (wire, addr) = match kind {
            TransportKind::Udp => {
                let udp = UdpPeer::bind().await;
                let addr = udp.socket.local_addr().unwrap();
                (Wire::Udp { udp, peer: None }, addr)
            }
            _ => {
                let listener = StreamPeer::bind(tls).await;
                let addr = listener.addr();
                (
                    Wire::Stream {
                        listener,
                        conn: None,
                    },
                    addr,
                )
            }
        };
        Server {
            wire,
            kind,
            addr,
            seen: HashSet::new(),
            received: Vec::new(),
            responses: Vec::new(),
            limit: LIMIT,
            reconnect: false,
        }
    }

    /// Where the SDK sends.
    pub fn target(&self) -> Target {
        let target = Target::new(self.kind, self.addr);
        match self.kind {
            TransportKind::Tls => target.with_server_name("localhost"),
            _ => target,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server is a TCP or TLS one.
    pub fn is_stream(&self) -> bool {
        self.kind != TransportKind::Udp
    }

    /// The next message as it comes, within [`limit`](Self::limit).
    async fn read_one(&mut self) -> SipMessage {
        let limit = self.limit;
        match &mut self.wire {
            Wire::Stream { listener, conn } => loop {
                let stream = match conn {
                    Some(stream) => stream,
                    None => conn.insert(listener.accept_within(limit).await),
                };
                match stream.next_within(limit).await {
                    Some(message) => return message,
                    None if self.reconnect => *conn = None,
                    None => panic!("the SDK closed the connection"),
                }
            },
            Wire::Udp { udp, peer } => {
                let (message, from) = udp.recv(limit).await;
                *peer = Some(from);
                message
            }
        }
    }

    /// The next message as it comes (retransmissions included), checked for
    /// diagnostics headers.
    pub async fn raw(&mut self) -> SipMessage {
        let message = self.read_one().await;
        assert_no_diagnostics(&message);
        message
    }

    /// [`raw`](Self::raw), if a message comes within `wait`.
    pub async fn raw_within(&mut self, wait: Duration) -> Option<SipMessage> {
        tokio::time::timeout(wait, self.raw()).await.ok()
    }

    /// The next new request (retransmissions skipped), checked for
    /// diagnostics headers. Responses the SDK sends are kept in `responses`.
    pub async fn next(&mut self) -> SipMessage {
        loop {
            let message = self.raw().await;
            if !message.is_request() {
                self.responses.push(message);
                continue;
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

    /// The next new request if one comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<SipMessage> {
        tokio::time::timeout(wait, self.next()).await.ok()
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

    /// The next new request with `method`; any other (an ACK, a request of
    /// another kind) is passed over.
    pub async fn request(&mut self, method: &str) -> SipMessage {
        loop {
            let message = self.next().await;
            if message.method().map(ToString::to_string).as_deref() == Some(method) {
                return message;
            }
        }
    }

    /// The next response the SDK sends (to a request of the server).
    pub async fn response(&mut self) -> SipMessage {
        loop {
            if !self.responses.is_empty() {
                return self.responses.remove(0);
            }
            let message = self.raw().await;
            if message.is_request() {
                panic!("expected a response, got:\n{message}");
            }
            self.responses.push(message);
        }
    }

    /// Sends `bytes`, which must go out.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).await.unwrap();
    }

    /// Sends `bytes` on the connection (or to the last datagram's source);
    /// an error (the SDK closed a connection it gave up on) is returned.
    pub async fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.wire {
            Wire::Stream { conn, .. } => {
                let conn = conn.as_mut().expect("a connection to answer on");
                conn.try_send(bytes).await
            }
            Wire::Udp { udp, peer } => {
                let to = peer.expect("a datagram came first");
                udp.socket.send_to(bytes, to).await.map(drop)
            }
        }
    }

    /// Answers `request` with `status` and `extra` header lines.
    pub async fn reply(&mut self, request: &SipMessage, status: &str, extra: &str) {
        self.send(&response(request, status, extra, "")).await;
    }

    /// Closes the connection, as it is: no TLS close_notify, no pending
    /// bytes read. The next read accepts the SDK's next connection.
    pub fn close(&mut self) {
        if let Wire::Stream { conn, .. } = &mut self.wire {
            *conn = None;
        }
    }
}
