//! The transport seam: how the driver reaches its target.
//!
//! Everything that differs between UDP, TCP and TLS sits behind the
//! [`Transport`] trait, made by one [`TransportFactory`] per kind (the
//! shape of ezk-sip-core's `Transport`/`Factory`). The rest of the driver
//! asks a transport for a [`Route`] and hands it bytes; it never matches on
//! the kind. A new transport (WebSocket, RFC 7118) is a new factory here.
//!
//! [`Connections`] is the driver's side of it: the target, the transport,
//! and the requests and callers waiting for a connection being opened. For a
//! UDP target it also holds a TCP transport to the same address: RFC 3261
//! §18.1.1 sends a request larger than 1,300 bytes over TCP; if that
//! connection cannot be opened the request goes over UDP after all (and
//! fails with [`TransportFailureKind::TooLarge`] if it does not fit a
//! datagram, rather than being retransmitted in vain).
//!
//! RFC 3263 §4.3 failover lives here, and only here: [`Connections`] holds
//! the ordered list of targets and which one is in use. A connection that
//! cannot be opened is seen in [`State::on_closed`] with the requests that
//! waited for it, which go to the next target without having left; a
//! REGISTER answered `503` without `Retry-After` is seen in
//! [`State::fail_over_unavailable`] and sent again, in a new transaction,
//! to the next target. Each failure is told to the [`NoticeHook`]. The
//! target in use stays until it fails (a registration and its security
//! association belong to one pool); a lost connection starts the list
//! again from the top.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use super::task::{now, set_via, AddrReply, PendingRequest, State};
use super::{DriverError, DriverNotice, FailoverCause, NoticeHook, TargetFailure};
use crate::report::{finalize_request, finalize_response};
use crate::sip::transaction::TransactionKey;
use crate::sip::{SipMessage, TransactionEvent, TransportFailure, TransportFailureKind};
use crate::ua::transport::{
    connect, spawn_stream_tasks, spawn_udp_reader, tls, ConnId, Established, Event, Flow,
    StreamTasks, Target, TransportConfig, TransportKind, MAX_DATAGRAM_PAYLOAD, UDP_REQUEST_LIMIT,
};

/// How long large requests to a UDP target go straight over UDP after a TCP
/// connection to it could not be opened (rather than each trying again).
const TCP_REFUSED_HOLD: Duration = Duration::from_secs(60);

/// Connection numbers, unique in the process: a connection of a target left
/// behind may still report its end after the next target's have opened.
static NEXT_CONN: AtomicU64 = AtomicU64::new(0);

/// Where a new request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// On this flow now; `local` is the `Via` sent-by.
    Ready { flow: Flow, local: SocketAddr },
    /// On this connection once it is open ([`Event::Connected`]), or nowhere
    /// if opening it fails ([`Event::Closed`]).
    Connecting(ConnId),
}

/// What a message is, for a transport that must drop something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outgoing {
    /// A request (or an ACK) of this user agent.
    Request,
    /// An answer to a request of the server's.
    Response,
}

/// One kind of transport to the target: its sockets and connections.
pub(super) trait Transport: Send {
    /// Which kind it is (for `Via` and the transactions' reliability).
    fn kind(&self) -> TransportKind;
    /// Whether `flow` is one of this transport's.
    fn owns(&self, flow: Flow) -> bool;
    /// Where a new request to `target` goes; may start opening a connection.
    fn route(&mut self, target: &Target) -> Route;
    /// The flow to `target` if one is usable now, without opening any.
    fn ready(&self, target: &Target) -> Option<Route>;
    /// Queues or sends `bytes` on `flow`. `Err(Overflow)` when the flow's
    /// peer is not reading: the driver closes it.
    fn send(&mut self, flow: Flow, bytes: Bytes, what: Outgoing) -> Result<(), SendError>;
    /// A connection this transport was opening is up: its local address.
    fn connected(&mut self, id: ConnId, stream: Established) -> io::Result<SocketAddr>;
    /// A connection ended (or failed to open); forget it.
    fn closed(&mut self, id: ConnId);
    /// Closes everything (shutdown).
    fn close_all(&mut self);
    /// Sets how often its connections send a keep-alive ping when idle
    /// (`None`: never), for the open ones at once and the next ones; a
    /// transport without connections ignores it.
    fn set_keep_alive(&mut self, _interval: Option<Duration>) {}
}

/// Makes the [`Transport`] of one kind.
pub(super) trait TransportFactory {
    /// The transport for `target`, reporting what it reads on `events`.
    fn create(
        &self,
        target: &Target,
        config: &TransportConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Box<dyn Transport>, DriverError>;
}

/// The factory for `kind`.
pub(super) fn factory(kind: TransportKind) -> &'static dyn TransportFactory {
    match kind {
        TransportKind::Udp => &UdpFactory,
        TransportKind::Tcp => &StreamFactory {
            kind: TransportKind::Tcp,
        },
        TransportKind::Tls => &StreamFactory {
            kind: TransportKind::Tls,
        },
    }
}

struct UdpFactory;

impl TransportFactory for UdpFactory {
    fn create(
        &self,
        target: &Target,
        config: &TransportConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Box<dyn Transport>, DriverError> {
        Ok(Box::new(Udp::bind(target, config, events)?))
    }
}

struct StreamFactory {
    kind: TransportKind,
}

impl TransportFactory for StreamFactory {
    fn create(
        &self,
        target: &Target,
        config: &TransportConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Box<dyn Transport>, DriverError> {
        let tls = match self.kind {
            TransportKind::Tls => {
                tls::server_name(target.server_name.as_deref(), target.addr)?;
                Some(match &config.tls {
                    Some(config) => Arc::clone(config),
                    None => tls::default_client_config()?,
                })
            }
            _ => None,
        };
        Ok(Box::new(Streams {
            kind: self.kind,
            tls,
            keep_alive: watch::Sender::new(config.keep_alive),
            config: config.clone(),
            conns: HashMap::new(),
            current: None,
            events,
        }))
    }
}

/// The UDP socket: the driver sends on it directly (a non-blocking send
/// never waits), its reader task receives on a second handle to the same
/// socket. (Not tokio's `try_send_to`: that refuses to send until the
/// reactor has seen the socket writable, which dropped retransmissions.)
struct Udp {
    socket: std::net::UdpSocket,
    /// The sent-by of our `Via`: the bound address, with the interface
    /// address toward the target if bound to the unspecified address.
    via_addr: SocketAddr,
    reader: AbortHandle,
}

impl Udp {
    fn bind(
        target: &Target,
        config: &TransportConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Udp, DriverError> {
        let bind = config.udp_bind.unwrap_or_else(|| {
            let any = match target.addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            SocketAddr::new(any, 0)
        });
        let socket = std::net::UdpSocket::bind(bind).map_err(DriverError::Udp)?;
        socket.set_nonblocking(true).map_err(DriverError::Udp)?;
        let receiver = socket
            .try_clone()
            .and_then(UdpSocket::from_std)
            .map_err(DriverError::Udp)?;
        let mut via_addr = socket.local_addr().map_err(DriverError::Udp)?;
        if via_addr.ip().is_unspecified() {
            // A connected probe socket learns the route's source address
            // without sending anything.
            let probe = std::net::UdpSocket::bind(SocketAddr::new(via_addr.ip(), 0))
                .and_then(|probe| probe.connect(target.addr).map(|()| probe))
                .and_then(|probe| probe.local_addr());
            match probe {
                Ok(local) => via_addr.set_ip(local.ip()),
                Err(error) => tracing::debug!(%error, "no route to the target yet"),
            }
        }
        let reader = spawn_udp_reader(Arc::new(receiver), config.limits, events);
        Ok(Udp {
            socket,
            via_addr,
            reader,
        })
    }
}

impl Transport for Udp {
    fn kind(&self) -> TransportKind {
        TransportKind::Udp
    }

    fn owns(&self, flow: Flow) -> bool {
        matches!(flow, Flow::Udp(_))
    }

    fn route(&mut self, target: &Target) -> Route {
        Route::Ready {
            flow: Flow::Udp(target.addr),
            local: self.via_addr,
        }
    }

    fn ready(&self, target: &Target) -> Option<Route> {
        Some(Route::Ready {
            flow: Flow::Udp(target.addr),
            local: self.via_addr,
        })
    }

    /// A full send buffer drops the datagram (retransmission covers it); any
    /// other failure is returned.
    fn send(&mut self, flow: Flow, bytes: Bytes, _what: Outgoing) -> Result<(), SendError> {
        let Flow::Udp(peer) = flow else {
            return Err(SendError::Failed(TransportFailure::new(
                TransportFailureKind::Send,
                "not a UDP flow",
            )));
        };
        if bytes.len() > MAX_DATAGRAM_PAYLOAD {
            // Known before the system says EMSGSIZE, and final: every
            // retransmission would fail the same way.
            return Err(SendError::Failed(TransportFailure::new(
                TransportFailureKind::TooLarge,
                format!(
                    "{} bytes do not fit one UDP datagram ({MAX_DATAGRAM_PAYLOAD} at most)",
                    bytes.len()
                ),
            )));
        }
        match self.socket.send_to(&bytes, peer) {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                tracing::debug!(%peer, "UDP send buffer full; datagram dropped");
                Ok(())
            }
            Err(error) => {
                let mut failure = TransportFailure::from_io(&error);
                if failure.kind == TransportFailureKind::Other {
                    failure.kind = TransportFailureKind::Send;
                }
                Err(SendError::Failed(failure))
            }
        }
    }

    fn connected(&mut self, _id: ConnId, _stream: Established) -> io::Result<SocketAddr> {
        Err(io::Error::other("UDP opens no connections"))
    }

    fn closed(&mut self, _id: ConnId) {}

    fn close_all(&mut self) {
        self.reader.abort();
    }
}

/// A TCP or TLS connection, from the first request that needs it to its end.
enum Conn {
    Connecting(AbortHandle),
    Open(StreamTasks),
}

/// TCP or TLS: one connection to the target at a time, opened on demand.
struct Streams {
    kind: TransportKind,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The ping interval every connection's writer follows: the config's,
    /// until a pool's `ms-keep-alive` answer changes it.
    keep_alive: watch::Sender<Option<Duration>>,
    config: TransportConfig,
    conns: HashMap<ConnId, Conn>,
    /// The connection new requests go on.
    current: Option<ConnId>,
    events: mpsc::Sender<Event>,
}

impl Streams {
    /// Opens a connection to `target`.
    fn open(&mut self, target: &Target) -> ConnId {
        let id = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
        let task = tokio::spawn(connect(
            id,
            target.clone(),
            self.tls.clone(),
            self.config.connect_timeout,
            self.events.clone(),
        ))
        .abort_handle();
        self.conns.insert(id, Conn::Connecting(task));
        self.current = Some(id);
        id
    }

    fn current(&self) -> Option<(ConnId, &Conn)> {
        let id = self.current?;
        Some((id, self.conns.get(&id)?))
    }
}

impl Transport for Streams {
    fn kind(&self) -> TransportKind {
        self.kind
    }

    fn owns(&self, flow: Flow) -> bool {
        matches!(flow, Flow::Stream(id) if self.conns.contains_key(&id))
    }

    fn route(&mut self, target: &Target) -> Route {
        if let Some(route) = self.ready(target) {
            return route;
        }
        match self.current() {
            Some((id, Conn::Connecting(_))) => Route::Connecting(id),
            _ => Route::Connecting(self.open(target)),
        }
    }

    fn ready(&self, _target: &Target) -> Option<Route> {
        match self.current()? {
            (id, Conn::Open(tasks)) => Some(Route::Ready {
                flow: Flow::Stream(id),
                local: tasks.local,
            }),
            (_, Conn::Connecting(_)) => None,
        }
    }

    /// Bounds what waits for a peer that does not read
    /// ([`TransportConfig::max_write_queue`]): answers to the server's
    /// requests go first, then the connection.
    fn send(&mut self, flow: Flow, bytes: Bytes, what: Outgoing) -> Result<(), SendError> {
        let Flow::Stream(id) = flow else {
            return Err(SendError::Failed(TransportFailure::new(
                TransportFailureKind::Send,
                "not a connection",
            )));
        };
        let Some(Conn::Open(tasks)) = self.conns.get(&id) else {
            return Err(SendError::Failed(TransportFailure::new(
                TransportFailureKind::ConnectionClosed,
                "the connection is closed",
            )));
        };
        let limit = self.config.max_write_queue;
        let after = tasks.writer.queued().saturating_add(bytes.len());
        if what == Outgoing::Response && after > limit / 2 {
            tracing::debug!(
                conn = id.0,
                queued = after,
                "the peer is not reading; answer dropped"
            );
            return Ok(());
        }
        if after > limit {
            tracing::warn!(
                conn = id.0,
                queued = after,
                "the peer is not reading; closing"
            );
            return Err(SendError::Overflow(TransportFailure::new(
                TransportFailureKind::Send,
                format!("the peer read nothing of the last {after} bytes; connection closed"),
            )));
        }
        tasks.writer.send(bytes).map_err(|()| {
            SendError::Failed(TransportFailure::new(
                TransportFailureKind::ConnectionClosed,
                "the connection is closing",
            ))
        })
    }

    fn connected(&mut self, id: ConnId, stream: Established) -> io::Result<SocketAddr> {
        match self.conns.get(&id) {
            Some(Conn::Connecting(_)) => {}
            Some(Conn::Open(tasks)) => return Ok(tasks.local),
            // Given up on meanwhile (shutdown); dropping the stream closes it.
            None => return Err(io::Error::other("connection given up")),
        }
        let opened = spawn_stream_tasks(
            id,
            stream,
            self.config.limits,
            self.keep_alive.subscribe(),
            self.events.clone(),
        );
        match opened {
            Ok(tasks) => {
                let local = tasks.local;
                self.conns.insert(id, Conn::Open(tasks));
                Ok(local)
            }
            Err(error) => {
                self.closed(id);
                Err(error)
            }
        }
    }

    fn closed(&mut self, id: ConnId) {
        if self.current == Some(id) {
            self.current = None;
        }
        match self.conns.remove(&id) {
            Some(Conn::Open(tasks)) => tasks.abort(),
            Some(Conn::Connecting(task)) => task.abort(),
            None => {}
        }
    }

    fn close_all(&mut self) {
        self.current = None;
        for (_, conn) in self.conns.drain() {
            match conn {
                Conn::Connecting(task) => task.abort(),
                Conn::Open(tasks) => tasks.close(),
            }
        }
    }

    fn set_keep_alive(&mut self, interval: Option<Duration>) {
        self.keep_alive.send_replace(interval);
    }
}

/// Why a message was not sent.
#[derive(Debug)]
pub(super) enum SendError {
    /// The send failed; the transaction that sent it fails.
    Failed(TransportFailure),
    /// The peer has not read what was queued: the connection must close.
    Overflow(TransportFailure),
}

/// TCP beside a UDP target, for requests too large for UDP.
struct Large {
    tcp: Box<dyn Transport>,
    /// Until when large requests go over UDP: a TCP connection failed to open.
    refused_until: Option<Instant>,
}

/// What waits for a connection being opened.
#[derive(Default)]
struct Waiting {
    requests: Vec<PendingRequest>,
    /// Callers of [`Command::LocalAddr`](super::task::Command::LocalAddr).
    addr_replies: Vec<AddrReply>,
}

/// The driver's side of the seam: the targets, the transport of the one in
/// use, and what waits for a connection.
pub(super) struct Connections {
    /// The RFC 3263 list, in order; never empty.
    targets: Vec<Target>,
    /// The one in use.
    index: usize,
    config: TransportConfig,
    events: mpsc::Sender<Event>,
    transport: Box<dyn Transport>,
    /// For a UDP target: TCP to the same address, for large requests.
    large: Option<Large>,
    waiting: HashMap<ConnId, Waiting>,
    /// Connections to close, found overflowing while sending.
    overflowed: Vec<(ConnId, TransportFailure)>,
}

impl Connections {
    /// The transport of the first target's kind. `targets` must not be
    /// empty (the driver's config always has one).
    pub(super) fn new(
        targets: Vec<Target>,
        config: TransportConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Connections, DriverError> {
        let first = targets
            .first()
            .ok_or(DriverError::Response("no target"))?
            .clone();
        let (transport, large) = Self::transports(&first, &config, &events)?;
        Ok(Connections {
            targets,
            index: 0,
            config,
            events,
            transport,
            large,
            waiting: HashMap::new(),
            overflowed: Vec::new(),
        })
    }

    /// The transport for `target`, and for a UDP one TCP beside it.
    fn transports(
        target: &Target,
        config: &TransportConfig,
        events: &mpsc::Sender<Event>,
    ) -> Result<(Box<dyn Transport>, Option<Large>), DriverError> {
        let transport = factory(target.kind).create(target, config, events.clone())?;
        let large = match target.kind {
            TransportKind::Udp => Some(Large {
                tcp: factory(TransportKind::Tcp).create(target, config, events.clone())?,
                refused_until: None,
            }),
            _ => None,
        };
        Ok((transport, large))
    }

    /// Where new requests go: the target of the list in use.
    pub(super) fn target(&self) -> &Target {
        // `new` refuses an empty list and `switch_to` only takes an index
        // of it.
        &self.targets[self.index]
    }

    /// Whether a target follows the one in use.
    fn has_next(&self) -> bool {
        self.index + 1 < self.targets.len()
    }

    /// Leaves the target in use for the one at `index`: its connections
    /// close (a transaction still on one fails when its end is seen), and
    /// the new target's transport is made.
    fn switch_to(&mut self, index: usize) -> Result<(), DriverError> {
        let target = self
            .targets
            .get(index)
            .ok_or(DriverError::Response("no such target"))?
            .clone();
        self.close_all();
        self.index = index;
        let (transport, large) = Self::transports(&target, &self.config, &self.events)?;
        self.transport = transport;
        self.large = large;
        Ok(())
    }

    /// The transport that carries `flow`.
    fn owner(&mut self, flow: Flow) -> Option<&mut Box<dyn Transport>> {
        if self.transport.owns(flow) {
            return Some(&mut self.transport);
        }
        self.large
            .as_mut()
            .map(|large| &mut large.tcp)
            .filter(|tcp| tcp.owns(flow))
    }

    /// The kind of the transport that carries `flow`.
    pub(super) fn kind_of(&self, flow: Flow) -> TransportKind {
        match &self.large {
            Some(large) if large.tcp.owns(flow) => large.tcp.kind(),
            _ => self.transport.kind(),
        }
    }

    /// Where a new request goes: for a UDP target, a request over
    /// [`UDP_REQUEST_LIMIT`] goes over TCP (RFC 3261 §18.1.1) unless a TCP
    /// connection to the target failed to open within
    /// [`TCP_REFUSED_HOLD`]; anything else on the target's transport.
    fn route(&mut self, request: &SipMessage) -> Route {
        if let Some(large) = &mut self.large {
            // The driver's Via and Max-Forwards are still to come.
            let size = request.to_bytes().len() + 120;
            let refused = large.refused_until.is_some_and(|until| until > now());
            if size > UDP_REQUEST_LIMIT && !refused {
                return large.tcp.route(&self.targets[self.index]);
            }
        }
        self.transport.route(&self.targets[self.index])
    }

    /// The flow a request would take now, without opening a connection.
    pub(super) fn ready(&self) -> Option<Route> {
        self.transport.ready(&self.targets[self.index])
    }

    /// Sends `message` on `flow`: the one exit of every message.
    pub(super) fn transmit(
        &mut self,
        flow: Flow,
        message: &SipMessage,
    ) -> Result<(), TransportFailure> {
        let bytes = if message.is_request() {
            // The one exit of every request (MS-OCER §3.1, §5.1: never an
            // ms-diagnostics header). `send_request` checked the request
            // already, so a refusal here is a bug, and nothing goes out.
            match finalize_request(message) {
                Ok(bytes) => Bytes::from(bytes),
                Err(error) => {
                    tracing::error!(%error, "request refused at the exit");
                    return Err(TransportFailure::new(
                        TransportFailureKind::Other,
                        format!("request refused: {error}"),
                    ));
                }
            }
        } else {
            // The same check for every response (the app's and our own).
            match finalize_response(message) {
                Ok(bytes) => Bytes::from(bytes),
                Err(error) => {
                    tracing::error!(%error, "response refused at the exit");
                    return Err(TransportFailure::new(
                        TransportFailureKind::Other,
                        format!("response refused: {error}"),
                    ));
                }
            }
        };
        crate::ua::wire::sent(&flow, &bytes);
        let what = if message.is_request() {
            Outgoing::Request
        } else {
            Outgoing::Response
        };
        let Some(transport) = self.owner(flow) else {
            return Err(TransportFailure::new(
                TransportFailureKind::ConnectionClosed,
                "the connection is closed",
            ));
        };
        match transport.send(flow, bytes, what) {
            Ok(()) => Ok(()),
            Err(SendError::Failed(failure)) => Err(failure),
            Err(SendError::Overflow(failure)) => {
                if let Flow::Stream(id) = flow {
                    self.overflowed.push((id, failure.clone()));
                }
                Err(failure)
            }
        }
    }

    pub(super) fn close_all(&mut self) {
        self.transport.close_all();
        self.large_close_all();
    }

    /// The keep-alive interval of the target in use, its connections'
    /// (`Driver::set_keep_alive`); a failover to the next target starts
    /// again from the configured one, until that pool answers.
    pub(super) fn set_keep_alive(&mut self, interval: Option<Duration>) {
        self.transport.set_keep_alive(interval);
    }

    /// The configured keep-alive interval.
    pub(super) fn configured_keep_alive(&self) -> Option<Duration> {
        self.config.keep_alive
    }

    fn large_close_all(&mut self) {
        if let Some(large) = &mut self.large {
            large.tcp.close_all();
        }
    }

    /// Takes every request and caller still waiting for a connection.
    fn take_all_waiting(&mut self) -> (Vec<PendingRequest>, Vec<AddrReply>) {
        let mut requests = Vec::new();
        let mut replies = Vec::new();
        for (_, waiting) in self.waiting.drain() {
            requests.extend(waiting.requests);
            replies.extend(waiting.addr_replies);
        }
        (requests, replies)
    }
}

impl State {
    /// Starts a client transaction now (UDP, or an open connection), or
    /// queues it for the connection being opened.
    pub(super) fn send(&mut self, pending: PendingRequest) {
        match self.net.route(&pending.request) {
            Route::Ready { flow, local } => self.start_client(pending, flow, local),
            Route::Connecting(id) => self
                .net
                .waiting
                .entry(id)
                .or_default()
                .requests
                .push(pending),
        }
    }

    /// Sends an ACK for a 2xx on the flow requests take now, outside any
    /// transaction, and keeps it for the 2xx's retransmissions.
    pub(super) fn send_ack(&mut self, mut request: SipMessage, branch: &str) {
        let Some(Route::Ready { flow, local }) = self.net.ready() else {
            tracing::warn!("ACK not sent: no open connection");
            return;
        };
        set_via(&mut request, self.net.kind_of(flow), local, branch);
        // An ACK lost here is recovered as any lost ACK is: the server
        // retransmits its 2xx and gets the ACK again.
        if let Err(failure) = self.net.transmit(flow, &request) {
            tracing::warn!(%failure, "ACK not sent");
        }
        self.remember_ack(request, flow);
    }

    /// Answers [`Command::LocalAddr`](super::task::Command::LocalAddr): the
    /// local address of the flow requests take, opening a connection if
    /// there is none.
    pub(super) fn local_addr(&mut self, reply: AddrReply) {
        let target = self.net.target().clone();
        match self.net.transport.route(&target) {
            Route::Ready { local, .. } => {
                let _ = reply.send(Ok((local, self.net.transport.kind())));
            }
            Route::Connecting(id) => self
                .net
                .waiting
                .entry(id)
                .or_default()
                .addr_replies
                .push(reply),
        }
    }

    pub(super) fn on_connected(&mut self, id: ConnId, stream: Established) {
        let waiting = self.net.waiting.remove(&id).unwrap_or_default();
        let connected = match self.net.owner(Flow::Stream(id)) {
            Some(transport) => transport.connected(id, stream),
            // Given up on meanwhile (shutdown); dropping the stream closes it.
            None => Err(io::Error::other("connection given up")),
        };
        match connected {
            Ok(local) => {
                let kind = self.net.kind_of(Flow::Stream(id));
                for reply in waiting.addr_replies {
                    let _ = reply.send(Ok((local, kind)));
                }
                for request in waiting.requests {
                    self.start_client(request, Flow::Stream(id), local);
                }
            }
            Err(error) => {
                let failure = TransportFailure::from_io(&error);
                for reply in waiting.addr_replies {
                    let _ = reply.send(Err(failure.clone()));
                }
                self.fail_pending(waiting.requests, &failure);
            }
        }
    }

    /// A connection failed to open, or ended. One to the target in use that
    /// failed to open: what waited for it goes to the next target, if there
    /// is one (RFC 3263 §4.3); else it fails. One that was open: every
    /// transaction on it fails, the [`NoticeHook`] hears of it, and the
    /// next request opens a new one, to the first target again.
    pub(super) fn on_closed(&mut self, id: ConnId, failure: TransportFailure) {
        let large = self
            .net
            .large
            .as_ref()
            .is_some_and(|large| large.tcp.owns(Flow::Stream(id)));
        let in_use = self.net.transport.owns(Flow::Stream(id));
        if let Some(transport) = self.net.owner(Flow::Stream(id)) {
            transport.closed(id);
        }
        let waiting = self.net.waiting.remove(&id);
        match waiting {
            Some(waiting) if in_use && self.net.has_next() => {
                if self.fail_over(FailoverCause::Transport(failure.clone())) {
                    // They never left: they go as they came, to the next target.
                    for reply in waiting.addr_replies {
                        self.local_addr(reply);
                    }
                    for request in waiting.requests {
                        self.send(request);
                    }
                } else {
                    for reply in waiting.addr_replies {
                        let _ = reply.send(Err(failure.clone()));
                    }
                    self.fail_pending(waiting.requests, &failure);
                }
                return;
            }
            None if in_use => {
                let target = self.net.target().clone();
                tracing::info!(%failure, ?target, "connection to the target lost");
                // Told before the transactions on it fail, so that the user
                // agent still knows what was on when it was lost.
                self.notify(DriverNotice::ConnectionLost {
                    target,
                    failure: failure.clone(),
                });
                self.fail_flow(Flow::Stream(id), &failure);
                if self.net.index != 0 {
                    // A new connection is a new sign-in: the list from the top.
                    if let Err(error) = self.net.switch_to(0) {
                        tracing::warn!(%error, "the first target cannot be used");
                    }
                }
                return;
            }
            _ => {}
        }
        if let Some(waiting) = waiting {
            if large {
                // RFC 3261 §18.1.1: TCP to a UDP target refused: "the element
                // SHOULD retry the request, using UDP".
                tracing::info!(%failure, "no TCP to the UDP target; large requests go over UDP");
                if let Some(large) = &mut self.net.large {
                    large.refused_until = Some(now() + TCP_REFUSED_HOLD);
                }
                for request in waiting.requests {
                    self.send(request);
                }
                return;
            }
            for reply in waiting.addr_replies {
                let _ = reply.send(Err(failure.clone()));
            }
            self.fail_pending(waiting.requests, &failure);
        }
        self.fail_flow(Flow::Stream(id), &failure);
    }

    /// Tells the [`NoticeHook`], and every member's: they share the flow.
    pub(super) fn notify(&self, notice: DriverNotice) {
        if let Some(NoticeHook(hook)) = &self.notices {
            hook(notice.clone());
        }
        for member in self.members.values() {
            if let Some(NoticeHook(hook)) = &member.notices {
                hook(notice.clone());
            }
        }
    }

    /// Leaves the target in use for the next one that can be set up,
    /// telling the hook of each one left; `false` if none is left.
    fn fail_over(&mut self, mut cause: FailoverCause) -> bool {
        while self.net.has_next() {
            let failed = self.net.target().clone();
            let next_index = self.net.index + 1;
            let next = self.net.targets[next_index].clone();
            let switched = self.net.switch_to(next_index);
            tracing::warn!(
                ?failed,
                ?cause,
                ?next,
                "RFC 3263 failover: trying the next target"
            );
            self.notify(DriverNotice::TargetFailed(TargetFailure {
                target: failed,
                cause,
                next,
            }));
            match switched {
                Ok(()) => return true,
                Err(error) => {
                    cause = FailoverCause::Transport(TransportFailure::new(
                        TransportFailureKind::Other,
                        error.to_string(),
                    ));
                }
            }
        }
        false
    }

    /// A REGISTER answered `503` without `Retry-After` by the target in use
    /// goes, in a new transaction, to the next target (RFC 3263 §4.3);
    /// `true` if it did, and `response` is not for its transaction any more.
    ///
    /// Only REGISTER: it picks the pool the user agent signs in to. Once
    /// registered, a 503 to a SERVICE is MS-OCER §3.1.5's verdict on
    /// reporting, and to a call or IM the answer of the pool the user is
    /// signed in to — neither a reason to leave it.
    pub(super) fn fail_over_unavailable(
        &mut self,
        key: &TransactionKey,
        response: &SipMessage,
    ) -> bool {
        let unavailable = response.status().is_some_and(|s| s.0 == 503)
            && !response.headers.contains(&ezk_sip_types::Name::RETRY_AFTER)
            && key.method == "REGISTER";
        if !(unavailable && self.net.has_next()) {
            return false;
        }
        // The request is gone once a final response came: a 503 then is
        // not this transaction's answer any more.
        let Some(request) = self
            .clients
            .get(key)
            .filter(|client| self.net.transport.owns(client.flow))
            .and_then(|client| client.txn.request().cloned())
        else {
            return false;
        };
        let moved_from = match self.net.ready() {
            Some(Route::Ready { local, .. }) => Some((local, self.net.transport.kind())),
            _ => None,
        };
        let Some(mut client) = self.clients.remove(key) else {
            return false;
        };
        self.deadlines
            .rearm(super::deadlines::Side::Client, key, &mut client.armed, None);
        if !self.fail_over(FailoverCause::Unavailable(response.clone())) {
            // Nothing left to try: the 503 is the request's answer.
            let _ = client
                .events
                .send(Box::new(TransactionEvent::Response(response.clone())));
            let _ = client.events.send(Box::new(TransactionEvent::Terminated));
            return true;
        }
        self.send(PendingRequest {
            request,
            branch: crate::ua::transport::new_branch(),
            events: client.events,
            member: client.member,
            moved_from,
        });
        true
    }

    /// Requests whose connection never came up end as a transaction would
    /// have: the transport error, then `Terminated`.
    pub(super) fn fail_pending(
        &mut self,
        pending: Vec<PendingRequest>,
        failure: &TransportFailure,
    ) {
        for request in pending {
            let _ = request
                .events
                .send(Box::new(TransactionEvent::TransportError(failure.clone())));
            let _ = request.events.send(Box::new(TransactionEvent::Terminated));
        }
    }

    /// Closes the connections found overflowing (after the event or command
    /// that overflowed them: closing fails transactions, which must not
    /// happen while one is being drained).
    pub(super) fn close_overflowed(&mut self) {
        while let Some((id, failure)) = self.net.overflowed.pop() {
            self.on_closed(id, failure);
        }
    }

    /// Fails what still waits for a connection (shutdown).
    pub(super) fn fail_all_waiting(&mut self, failure: &TransportFailure) {
        // Callers of `local_addr` see the driver stop (their replies drop).
        let (requests, _replies) = self.net.take_all_waiting();
        self.fail_pending(requests, failure);
    }
}

impl Flow {
    /// Whether the transactions on this flow retransmit.
    pub(super) fn reliability(self) -> crate::sip::Reliability {
        match self {
            Flow::Udp(_) => TransportKind::Udp.reliability(),
            Flow::Stream(_) => TransportKind::Tcp.reliability(),
        }
    }
}
