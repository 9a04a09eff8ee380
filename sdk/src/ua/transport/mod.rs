//! SIP transports (RFC 3261 §18): UDP, TCP and TLS.
//!
//! The transports move messages between sockets and the [driver]; they hold
//! no transaction state. What they guarantee:
//!
//! - **Order.** One reader task per connection (and one for the UDP socket)
//!   frames bytes with [`frame_stream`](crate::sip::frame_stream) (or
//!   [`parse_datagram`](crate::sip::parse_datagram)) within
//!   [`FramingLimits`] and hands each message to the driver over one channel,
//!   in arrival order. No task per message: that is how another stack lost a
//!   `101 Progress Report` that arrived back to back with the final response.
//! - **No silent hangs.** A message that cannot be parsed but whose extent is
//!   known is logged and skipped; if it was a final response (or its status is
//!   unreadable) the transaction it names fails at once. A stream that cannot
//!   be resynchronised (or announces a body over the limit, which may never
//!   come) is closed, and every transaction on it fails at once
//!   with a [`TransportFailure`] that carries
//!   the OS error code when there is one.
//! - **Keep-alives.** On TCP and TLS a CRLFCRLF ping (RFC 5626 §4.4.1) goes out
//!   when the connection has been idle for the configured interval; CRLF
//!   pongs and pings from the peer are consumed by the framer.
//! - **TLS** is rustls (ring provider) with certificate verification always
//!   on: the default configuration trusts the system's roots, or Mozilla's
//!   (webpki-roots) when the system has none; a caller may supply its own
//!   [`rustls::ClientConfig`].
//!
//! [driver]: crate::ua::driver
//!
//! # Example
//!
//! A [`Target`] says where requests go and over what; the driver
//! ([`Driver::start`](crate::ua::driver::Driver::start)) connects on demand.
//!
//! ```
//! use ocer::ua::transport::{Target, TransportConfig, TransportKind};
//!
//! let target = Target::new(TransportKind::Tls, "192.0.2.10:5061".parse()?)
//!     .with_server_name("pool.contoso.com");
//! assert_eq!(target.kind.via_token(), "TLS");
//!
//! // Everything else has defaults: Lync-sized framing limits, a keep-alive
//! // ping every 95 s, certificate verification against the system's roots.
//! let config = TransportConfig::default();
//! assert_eq!(config.keep_alive, Some(std::time::Duration::from_secs(95)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod inspect;
mod stream;
pub mod tls;
mod udp;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::sip::{FrameError, FramingLimits, Reliability, SipMessage, TransportFailure};

pub(crate) use inspect::MalformedHint;
pub(crate) use stream::{connect, spawn_stream_tasks, Established, StreamTasks};
pub(crate) use udp::spawn_udp_reader;

/// The transport a request goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// UDP: one socket sends and receives; requests are retransmitted.
    Udp,
    /// TCP: one connection per target, opened on demand.
    Tcp,
    /// TLS over TCP: one connection per target, opened on demand.
    Tls,
}

impl TransportKind {
    /// The transport token of a `Via` header (RFC 3261 §20.42).
    pub fn via_token(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
        }
    }

    /// The `transport` URI parameter (RFC 3261 §19.1.1) of a `Contact`
    /// reached over this transport.
    pub fn uri_param(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }

    /// Whether the transaction layer must retransmit (RFC 3261 §17).
    pub fn reliability(self) -> Reliability {
        match self {
            Self::Udp => Reliability::Unreliable,
            Self::Tcp | Self::Tls => Reliability::Reliable,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// Where requests go: the next hop (a Lync/Skype for Business pool, a
/// proxy), over which transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport.
    pub kind: TransportKind,
    /// The next hop's address.
    pub addr: SocketAddr,
    /// The name the TLS certificate must carry (SNI and verification). `None`
    /// checks the certificate against the IP address of `addr`. Ignored for
    /// UDP and TCP.
    pub server_name: Option<String>,
}

impl Target {
    /// `kind` to `addr`, with no TLS server name.
    pub fn new(kind: TransportKind, addr: SocketAddr) -> Self {
        Self {
            kind,
            addr,
            server_name: None,
        }
    }

    /// The same target with a TLS server name.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

/// How the transports behave. Every field has a default.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Size limits for each message received.
    pub limits: FramingLimits,
    /// On TCP and TLS, send a CRLFCRLF ping after the connection has been
    /// idle (nothing sent) this long; `None` sends none. Default 95 s, the
    /// low end of RFC 5626 §4.4.1's range for a flow without `Flow-Timer`.
    pub keep_alive: Option<Duration>,
    /// How long a TCP connect plus TLS handshake may take before the requests
    /// waiting for it fail with a timeout. Default 32 s (64·T1, Timer B).
    pub connect_timeout: Duration,
    /// The TLS client configuration. `None`: [`tls::default_client_config`],
    /// built when the driver starts.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The local address the UDP socket binds. `None`: an ephemeral port on
    /// every interface of the target's address family.
    pub udp_bind: Option<SocketAddr>,
    /// The most bytes queued for one TCP/TLS connection that the peer has
    /// not read yet. Past half of it, answers to the server's requests are
    /// dropped (a peer flooding requests and reading nothing cannot grow
    /// the client's memory); past all of it, the connection is closed and
    /// what was on it fails. Default 1 MiB.
    pub max_write_queue: usize,
}

impl TransportConfig {
    /// The default keep-alive interval.
    pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(95);
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(32);
    /// The default write-queue bound per connection.
    pub const DEFAULT_MAX_WRITE_QUEUE: usize = 1024 * 1024;
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            limits: FramingLimits::default(),
            keep_alive: Some(Self::DEFAULT_KEEP_ALIVE),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            tls: None,
            udp_bind: None,
            max_write_queue: Self::DEFAULT_MAX_WRITE_QUEUE,
        }
    }
}

/// The largest UDP payload over IPv4 (65,535 − 8 − 20): a message larger
/// than this cannot be sent as one datagram.
pub const MAX_DATAGRAM_PAYLOAD: usize = 65_507;

/// RFC 3261 §18.1.1: a request larger than this (the path MTU being unknown)
/// "MUST be sent using an RFC 2914 congestion controlled transport protocol,
/// such as TCP" — to the same address, when the target is UDP.
pub const UDP_REQUEST_LIMIT: usize = 1300;

/// One TCP or TLS connection, numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConnId(pub(crate) u64);

/// Where a message came from, and where its answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Flow {
    /// The UDP socket, to or from this peer.
    Udp(SocketAddr),
    /// A TCP or TLS connection.
    Stream(ConnId),
}

/// What the transport tasks tell the driver. Sent on one channel, so the
/// messages of one connection arrive in the order they were read.
#[derive(Debug)]
pub(crate) enum Event {
    /// A whole message.
    Message {
        /// Where it came from.
        flow: Flow,
        /// The message.
        message: SipMessage,
    },
    /// A message that could not be parsed; it was skipped.
    Malformed {
        /// Where it came from.
        flow: Flow,
        /// Why it could not be parsed.
        error: FrameError,
        /// What could be read of it byte-wise.
        hint: MalformedHint,
    },
    /// A connection attempt succeeded.
    Connected {
        /// The connection.
        id: ConnId,
        /// The established (TLS: handshaken) stream.
        stream: Established,
    },
    /// A connection attempt failed, or an established connection ended.
    Closed {
        /// The connection.
        id: ConnId,
        /// Why.
        failure: TransportFailure,
    },
}

/// The sending side of an established connection: bytes queued here are
/// written in order by the connection's writer task. The channel is
/// unbounded, so that the driver never waits on a slow peer; the driver
/// bounds it by the bytes it holds ([`StreamWriter::queued`]).
#[derive(Debug, Clone)]
pub(crate) struct StreamWriter {
    queue: mpsc::UnboundedSender<Bytes>,
    /// Bytes queued and not written yet (the writer task takes them off).
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

impl StreamWriter {
    pub(crate) fn new() -> (
        StreamWriter,
        mpsc::UnboundedReceiver<Bytes>,
        Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let (queue, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        (
            StreamWriter {
                queue,
                queued: Arc::clone(&queued),
            },
            receiver,
            queued,
        )
    }

    /// Queues `bytes`; `Err` if the writer has ended.
    pub(crate) fn send(&self, bytes: Bytes) -> Result<(), ()> {
        let len = bytes.len();
        self.queued
            .fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        self.queue.send(bytes).map_err(|_| {
            self.queued
                .fetch_sub(len, std::sync::atomic::Ordering::Relaxed);
        })
    }

    /// Bytes queued and not yet written to the socket.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }
}

// The one id generator (tags, branches) lives in `ua::ids`; these paths stay
// for the apps and examples that name them here.
pub use super::ids::{new_branch, new_tag};

/// The `Via` value a request leaves with (RFC 3261 §18.1.1): this transport,
/// the local address as sent-by, `rport` (RFC 3581) so the server answers
/// to the address it saw, and the branch.
pub fn via_value(kind: TransportKind, local: SocketAddr, branch: &str) -> String {
    format!("SIP/2.0/{} {local};rport;branch={branch}", kind.via_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_has_rport_and_branch() {
        let via = via_value(
            TransportKind::Tls,
            "192.168.66.91:49541".parse().unwrap(),
            "z9hG4bK1",
        );
        assert_eq!(via, "SIP/2.0/TLS 192.168.66.91:49541;rport;branch=z9hG4bK1");
        let v6 = via_value(
            TransportKind::Udp,
            "[::1]:5060".parse().unwrap(),
            "z9hG4bK2",
        );
        assert_eq!(v6, "SIP/2.0/UDP [::1]:5060;rport;branch=z9hG4bK2");
    }

    #[test]
    fn reliability_follows_the_transport() {
        assert_eq!(TransportKind::Udp.reliability(), Reliability::Unreliable);
        assert_eq!(TransportKind::Tcp.reliability(), Reliability::Reliable);
        assert_eq!(TransportKind::Tls.reliability(), Reliability::Reliable);
    }
}
