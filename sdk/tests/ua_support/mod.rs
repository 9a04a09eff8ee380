//! In-process SIP peers for the `ua_*` tests: a TCP/TLS listener and a UDP
//! socket on 127.0.0.1 that the test scripts message by message, a test CA
//! made with rcgen, and request/response builders.
//!
//! Every wait is bounded ([`LIMIT`]), so a broken driver fails a test instead
//! of hanging it.

// Test support: a failed step panics, which fails the test that took it.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use ocer::sip::{
    frame_stream, parse_datagram, Framed, FramingLimits, SipMessage, TimerConfig, TransactionEvent,
};
use ocer::ua::driver::{Driver, DriverConfig, IncomingRequests, ResponseStream};
use ocer::ua::transport::{tls, Target, TransportKind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// The longest any single step of a test may take.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Small timers, so that UDP retransmissions and timeouts take little time.
pub fn fast_timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(50),
        t2: Duration::from_millis(400),
        t4: Duration::from_millis(500),
    }
}

/// A test certificate authority and one server certificate it issued for
/// `localhost` and 127.0.0.1.
pub struct TestCa {
    pub ca_der: rustls::pki_types::CertificateDer<'static>,
    pub server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

        let server_key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let server = params.signed_by(&server_key, &ca).unwrap();
        Self {
            ca_der: ca.der().clone(),
            server_chain: vec![server.der().clone()],
            server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        }
    }

    /// A client configuration that trusts this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        Arc::new(tls::client_config_with_roots(roots).unwrap())
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), self.server_key.clone_key())
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

/// A request as the app would build it (no Via: the driver adds it).
pub fn request(method: &str, call: usize) -> SipMessage {
    let text = format!(
        "{method} sip:bob@contoso.com;user=phone SIP/2.0\r\n\
         From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
         To: <sip:bob@contoso.com;user=phone>\r\n\
         Call-ID: call-{call}@ocer.test\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap()
}

/// A response to `request`: its Via, From, Call-ID and CSeq; To with a tag;
/// `extra` header lines (each ending CRLF) before Content-Length.
pub fn response(request: &SipMessage, status: &str, extra: &str) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {status}\r\n");
    for via in request.header_values(&ezk_sip_types::Name::VIA) {
        text.push_str(&format!("Via: {via}\r\n"));
    }
    let header = |name: &ezk_sip_types::Name| request.header_value(name).unwrap_or_default();
    text.push_str(&format!(
        "From: {}\r\nTo: {};tag=peer1\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
        header(&ezk_sip_types::Name::FROM),
        header(&ezk_sip_types::Name::TO),
        header(&ezk_sip_types::Name::CALL_ID),
        header(&ezk_sip_types::Name::CSEQ),
    ));
    text.into_bytes()
}

/// The 101 and 504 of MS-OCER 4.1, for `request`, back to back in one buffer.
pub fn progress_and_final(request: &SipMessage, final_status: &str) -> Vec<u8> {
    let mut bytes = response(
        request,
        "101 Progress Report",
        "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n",
    );
    bytes.extend(response(
        request,
        final_status,
        "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n",
    ));
    bytes
}

/// Status codes of the responses in `events`, and whether it ended with
/// `Terminated` (and nothing after it).
pub fn statuses(events: &[TransactionEvent]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            TransactionEvent::Response(r) => r.status().map(|s| s.0),
            _ => None,
        })
        .collect()
}

/// Every event of a transaction, until `Terminated` (which is included).
pub async fn collect(stream: &mut ResponseStream) -> Vec<TransactionEvent> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(LIMIT, stream.recv())
            .await
            .expect("the transaction ends in time")
            .expect("the stream ends with Terminated");
        let last = matches!(event, TransactionEvent::Terminated);
        events.push(event);
        if last {
            return events;
        }
    }
}

/// Every event of a transaction up to its final response (or its end). Over
/// UDP an INVITE transaction stays Completed for Timer D (32 s, whatever T1)
/// after a non-2xx final to absorb retransmissions; the app has its answer
/// before that.
pub async fn collect_until_final(stream: &mut ResponseStream) -> Vec<TransactionEvent> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(LIMIT, stream.recv())
            .await
            .expect("the transaction ends in time")
            .expect("the stream ends with Terminated");
        let last = match &event {
            TransactionEvent::Response(r) => r.status().is_some_and(|s| s.0 >= 200),
            _ => true,
        };
        events.push(event);
        if last {
            return events;
        }
    }
}

/// Starts a driver toward `target`.
pub async fn driver(
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> (Driver, IncomingRequests) {
    let mut config = DriverConfig::new(target);
    config.timers = fast_timers();
    config.transport.tls = tls;
    Driver::start(config).await.unwrap()
}

/// A TCP (optionally TLS) listener on 127.0.0.1.
pub struct StreamPeer {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl StreamPeer {
    pub async fn bind(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self { listener, tls }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    pub fn target(&self) -> Target {
        match self.tls {
            Some(_) => Target::new(TransportKind::Tls, self.addr()).with_server_name("localhost"),
            None => Target::new(TransportKind::Tcp, self.addr()),
        }
    }

    /// The next connection (TLS: after the handshake).
    pub async fn accept(&self) -> PeerConn {
        let (tcp, _) = tokio::time::timeout(LIMIT, self.listener.accept())
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
    pub io: Box<dyn Io>,
    buf: BytesMut,
    /// Bytes of CRLFCRLF pings seen (back-to-back pings are framed as one).
    pub ping_bytes: usize,
}

impl PeerConn {
    /// The next message; keep-alive pings are counted and answered with a
    /// CRLF pong.
    pub async fn next(&mut self) -> SipMessage {
        loop {
            match frame_stream(&self.buf, &FramingLimits::default()) {
                Framed::Message { message, consumed } => {
                    self.buf.advance(consumed);
                    return message;
                }
                Framed::KeepAlive { consumed } => {
                    self.buf.advance(consumed);
                    self.ping_bytes += consumed;
                    self.io.write_all(b"\r\n").await.unwrap();
                    continue;
                }
                Framed::Incomplete => {}
                Framed::Error { error, .. } => panic!("the driver sent a bad message: {error}"),
            }
            let n = tokio::time::timeout(LIMIT, self.io.read_buf(&mut self.buf))
                .await
                .expect("data from the driver in time")
                .unwrap();
            assert!(n > 0, "the driver closed the connection");
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
        self.io.flush().await.unwrap();
    }
}

/// A UDP socket on 127.0.0.1.
pub struct UdpPeer {
    pub socket: UdpSocket,
}

impl UdpPeer {
    pub async fn bind() -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    pub fn target(&self) -> Target {
        Target::new(TransportKind::Udp, self.socket.local_addr().unwrap())
    }

    pub async fn next(&self) -> (SipMessage, SocketAddr) {
        let mut buf = vec![0u8; 65_535];
        let (n, from) = tokio::time::timeout(LIMIT, self.socket.recv_from(&mut buf))
            .await
            .expect("a datagram in time")
            .unwrap();
        (
            parse_datagram(&buf[..n], &FramingLimits::default()).unwrap(),
            from,
        )
    }

    /// The next datagram if one comes within `wait`.
    pub async fn next_within(&self, wait: Duration) -> Option<(SipMessage, SocketAddr)> {
        tokio::time::timeout(wait, self.next()).await.ok()
    }
}
