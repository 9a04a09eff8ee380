//! The driver task itself: its state and its loop.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ezk_sip_types::Name;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::{DriverConfig, DriverError, IncomingRequest, Reply};
use crate::report::finalize_request;
use crate::sip::transaction::{top_via, TransactionKey};
use crate::sip::{
    incoming_request_disposition, response_for, ClientTransaction, Disposition, ServerTransaction,
    SipMessage, TimerConfig, TransactionEvent, TransportFailure, TransportFailureKind,
};
use crate::ua::transport::{
    self, connect, spawn_stream_tasks, spawn_udp_reader, tls, ConnId, Event, Flow, MalformedHint,
    StreamTasks, Target, TransportConfig, TransportKind,
};

/// How many transport events may wait for the driver before readers pause
/// (and TCP pushes back on the peer).
const EVENT_QUEUE: usize = 1024;

/// What the handles ask of the task.
#[derive(Debug)]
pub(super) enum Command {
    /// Start a client transaction.
    Send {
        request: SipMessage,
        branch: String,
        events: mpsc::UnboundedSender<TransactionEvent>,
    },
    /// Send an ACK for a 2xx, outside any transaction.
    SendAck { request: SipMessage, branch: String },
    /// Start the CANCEL of the pending INVITE whose branch this is.
    Cancel {
        request: SipMessage,
        invite_branch: String,
        events: mpsc::UnboundedSender<TransactionEvent>,
    },
    /// Tell the local address requests leave from (connecting if needed).
    LocalAddr { reply: AddrReply },
    /// Send the app's response to an incoming request.
    Respond { id: u64, response: SipMessage },
    /// Answer an incoming request per its disposition.
    Answer { id: u64, dialog_exists: bool },
    /// Stop.
    Shutdown { done: oneshot::Sender<()> },
}

/// Where the answer to [`Command::LocalAddr`] goes.
pub(super) type AddrReply = oneshot::Sender<Result<SocketAddr, TransportFailure>>;

/// The current clock, the one place the user agent reads it. (tokio's clock,
/// so that tests with paused time drive the timers.)
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Replaces every `Via` of `request` with ours, and adds `Max-Forwards: 70`
/// when it has none (RFC 3261 §8.1.1.6).
pub(super) fn set_via(
    request: &mut SipMessage,
    kind: TransportKind,
    local: SocketAddr,
    branch: &str,
) {
    request.headers.remove(&Name::VIA);
    request
        .headers
        .insert_front(Name::VIA, transport::via_value(kind, local, branch));
    if !request.headers.contains(&Name::MAX_FORWARDS) {
        request.headers.insert(Name::MAX_FORWARDS, "70");
    }
}

/// Binds the sockets and spawns the task.
pub(super) async fn spawn(
    config: DriverConfig,
) -> Result<
    (
        mpsc::UnboundedSender<Command>,
        mpsc::UnboundedReceiver<IncomingRequest>,
    ),
    DriverError,
> {
    let DriverConfig {
        target,
        timers,
        transport,
        response_filter,
    } = config;
    let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
    let tls = match target.kind {
        TransportKind::Tls => {
            tls::server_name(target.server_name.as_deref(), target.addr)?;
            Some(match &transport.tls {
                Some(config) => Arc::clone(config),
                None => tls::default_client_config()?,
            })
        }
        _ => None,
    };
    let udp = match target.kind {
        TransportKind::Udp => Some(Udp::bind(&target, &transport, events_tx.clone())?),
        _ => None,
    };
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (incoming_tx, incoming) = mpsc::unbounded_channel();
    let state = State {
        net: Net {
            target,
            config: transport,
            tls,
            udp,
            conns: HashMap::new(),
            current: None,
            next_conn: 0,
            events_tx,
        },
        timers,
        response_filter,
        clients: HashMap::new(),
        servers: HashMap::new(),
        incoming: HashMap::new(),
        next_incoming: 0,
        incoming_tx: Some(incoming_tx),
        acks: HashMap::new(),
        commands_tx: commands_tx.downgrade(),
    };
    tokio::spawn(state.run(commands, events));
    Ok((commands_tx, incoming))
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

/// A request waiting for its connection.
struct PendingRequest {
    request: SipMessage,
    branch: String,
    events: mpsc::UnboundedSender<TransactionEvent>,
}

/// A TCP or TLS connection, from the first request that needs it to its end.
enum Conn {
    Connecting {
        task: AbortHandle,
        pending: Vec<PendingRequest>,
        /// Callers of [`Command::LocalAddr`] waiting for the connection.
        waiters: Vec<AddrReply>,
    },
    Open(StreamTasks),
}

/// Sockets and connections.
struct Net {
    target: Target,
    config: TransportConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    udp: Option<Udp>,
    conns: HashMap<ConnId, Conn>,
    /// The connection new requests go on.
    current: Option<ConnId>,
    next_conn: u64,
    events_tx: mpsc::Sender<Event>,
}

impl Net {
    /// Sends `message` on `flow`. A full UDP send buffer drops the datagram
    /// (retransmission covers it); any other failure is returned.
    fn transmit(&self, flow: Flow, message: &SipMessage) -> Result<(), TransportFailure> {
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
            Bytes::from(message.to_bytes())
        };
        match flow {
            Flow::Udp(peer) => {
                let Some(udp) = &self.udp else {
                    return Err(TransportFailure::new(
                        TransportFailureKind::Send,
                        "no UDP socket",
                    ));
                };
                match udp.socket.send_to(&bytes, peer) {
                    Ok(_) => Ok(()),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        tracing::debug!(%peer, "UDP send buffer full; datagram dropped");
                        Ok(())
                    }
                    Err(error) => {
                        let mut failure = TransportFailure::from_io(&error);
                        if failure.kind == TransportFailureKind::Other {
                            failure.kind = TransportFailureKind::Send;
                        }
                        Err(failure)
                    }
                }
            }
            Flow::Stream(id) => match self.conns.get(&id) {
                Some(Conn::Open(tasks)) => tasks.writer.send(bytes).map_err(|_| {
                    TransportFailure::new(
                        TransportFailureKind::ConnectionClosed,
                        "the connection is closing",
                    )
                }),
                _ => Err(TransportFailure::new(
                    TransportFailureKind::ConnectionClosed,
                    "the connection is closed",
                )),
            },
        }
    }

    /// Opens a connection to the target.
    fn open(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        let task = tokio::spawn(connect(
            id,
            self.target.clone(),
            self.tls.clone(),
            self.config.connect_timeout,
            self.events_tx.clone(),
        ))
        .abort_handle();
        self.conns.insert(
            id,
            Conn::Connecting {
                task,
                pending: Vec::new(),
                waiters: Vec::new(),
            },
        );
        self.current = Some(id);
        id
    }

    fn close_all(&mut self) {
        for (_, conn) in self.conns.drain() {
            match conn {
                Conn::Connecting { task, .. } => task.abort(),
                Conn::Open(tasks) => tasks.close(),
            }
        }
        if let Some(udp) = &self.udp {
            udp.reader.abort();
        }
    }
}

/// A running client transaction.
struct Client {
    txn: ClientTransaction,
    flow: Flow,
    events: mpsc::UnboundedSender<TransactionEvent>,
}

/// A running server transaction.
struct Server {
    txn: ServerTransaction,
    flow: Flow,
}

/// An ACK for a 2xx, kept to answer the 2xx's retransmissions.
struct SentAck {
    request: SipMessage,
    flow: Flow,
    until: Instant,
}

/// An incoming request the app may still answer.
struct Unanswered {
    request: SipMessage,
    flow: Flow,
    /// Its server transaction, if it has one (INVITE gets stateless answers).
    key: Option<TransactionKey>,
}

struct State {
    net: Net,
    timers: TimerConfig,
    response_filter: Option<super::ResponseFilter>,
    clients: HashMap<TransactionKey, Client>,
    servers: HashMap<TransactionKey, Server>,
    incoming: HashMap<u64, Unanswered>,
    next_incoming: u64,
    /// `None` once the app dropped its [`IncomingRequests`](super::IncomingRequests).
    incoming_tx: Option<mpsc::UnboundedSender<IncomingRequest>>,
    /// ACKs sent for 2xx, by Call-ID and CSeq number: sent again for each
    /// retransmission of the 2xx (RFC 3261 §13.2.2.4), for 64·T1.
    acks: HashMap<(String, u32), SentAck>,
    /// Weak, so that the task ends when every handle is gone.
    commands_tx: mpsc::WeakUnboundedSender<Command>,
}

impl State {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: mpsc::Receiver<Event>,
    ) {
        let done = loop {
            let deadline = self.next_deadline().map(tokio::time::Instant::from_std);
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // Unbiased: under a flood of messages, commands and timers still
            // get their turn. Order within each source is kept by its channel.
            tokio::select! {
                Some(event) = events.recv() => self.on_event(event),
                command = commands.recv() => match command {
                    Some(Command::Shutdown { done }) => break Some(done),
                    Some(command) => self.on_command(command),
                    None => break None,
                },
                () = timer => self.on_timeout(),
            }
        };
        self.shut_down();
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let clients = self.clients.values().filter_map(|c| c.txn.poll_timeout());
        let servers = self.servers.values().filter_map(|s| s.txn.poll_timeout());
        clients.chain(servers).min()
    }

    fn on_timeout(&mut self) {
        let now = now();
        let due: Vec<TransactionKey> = self
            .clients
            .iter()
            .filter(|(_, c)| c.txn.poll_timeout().is_some_and(|at| at <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(client) = self.clients.get_mut(&key) {
                client.txn.handle_timeout(now);
            }
            self.drain_client(&key);
        }
        let due: Vec<TransactionKey> = self
            .servers
            .iter()
            .filter(|(_, s)| s.txn.poll_timeout().is_some_and(|at| at <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(server) = self.servers.get_mut(&key) {
                server.txn.handle_timeout(now);
            }
            self.drain_server(&key);
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Send {
                request,
                branch,
                events,
            } => self.send(PendingRequest {
                request,
                branch,
                events,
            }),
            Command::SendAck {
                mut request,
                branch,
            } => {
                let flow = match self.net.target.kind {
                    TransportKind::Udp => self.net.udp.as_ref().map(|udp| {
                        set_via(&mut request, TransportKind::Udp, udp.via_addr, &branch);
                        Flow::Udp(self.net.target.addr)
                    }),
                    TransportKind::Tcp | TransportKind::Tls => {
                        match self
                            .net
                            .current
                            .and_then(|id| Some((id, self.net.conns.get(&id)?)))
                        {
                            Some((id, Conn::Open(tasks))) => {
                                set_via(&mut request, self.net.target.kind, tasks.local, &branch);
                                Some(Flow::Stream(id))
                            }
                            _ => None,
                        }
                    }
                };
                // An ACK lost here is recovered as any lost ACK is: the
                // server retransmits its 2xx and gets the ACK again.
                match flow.map(|flow| (flow, self.net.transmit(flow, &request))) {
                    Some((flow, result)) => {
                        if let Err(failure) = result {
                            tracing::warn!(%failure, "ACK not sent");
                        }
                        self.remember_ack(request, flow);
                    }
                    None => tracing::warn!("ACK not sent: no open connection"),
                }
            }
            Command::Cancel {
                request,
                invite_branch,
                events,
            } => self.cancel(request, &invite_branch, events),
            Command::LocalAddr { reply } => self.local_addr(reply),
            Command::Respond { id, response } => self.respond(id, response),
            Command::Answer { id, dialog_exists } => {
                if let Some(unanswered) = self.incoming.get(&id) {
                    let request = unanswered.request.clone();
                    self.answer(id, &request, dialog_exists);
                }
            }
            Command::Shutdown { .. } => {}
        }
    }

    /// Starts a client transaction now (UDP, or an open connection), or
    /// queues it for the connection being opened.
    fn send(&mut self, pending: PendingRequest) {
        match self.net.target.kind {
            TransportKind::Udp => {
                let Some(via_addr) = self.net.udp.as_ref().map(|udp| udp.via_addr) else {
                    return;
                };
                let flow = Flow::Udp(self.net.target.addr);
                self.start_client(pending, flow, via_addr);
            }
            TransportKind::Tcp | TransportKind::Tls => {
                let id = match self.net.current {
                    Some(id) if self.net.conns.contains_key(&id) => id,
                    _ => self.net.open(),
                };
                match self.net.conns.get_mut(&id) {
                    Some(Conn::Open(tasks)) => {
                        let local = tasks.local;
                        self.start_client(pending, Flow::Stream(id), local);
                    }
                    Some(Conn::Connecting { pending: queue, .. }) => queue.push(pending),
                    None => {}
                }
            }
        }
    }

    /// Starts the CANCEL of a pending INVITE (RFC 3261 §9.1): the INVITE's
    /// top Via (so its branch), on the INVITE's flow. With no INVITE pending
    /// on that branch there is nothing to cancel, and the CANCEL fails as a
    /// transaction would.
    fn cancel(
        &mut self,
        mut request: SipMessage,
        invite_branch: &str,
        events: mpsc::UnboundedSender<TransactionEvent>,
    ) {
        let invite = TransactionKey {
            branch: invite_branch.to_owned(),
            method: "INVITE".to_owned(),
        };
        let Some((flow, via)) = self.clients.get(&invite).and_then(|client| {
            let via = top_via(client.txn.request())?.to_owned();
            Some((client.flow, via))
        }) else {
            let failure = TransportFailure::new(
                TransportFailureKind::Other,
                "no INVITE pending on this branch",
            );
            let _ = events.send(TransactionEvent::TransportError(failure));
            let _ = events.send(TransactionEvent::Terminated);
            return;
        };
        request.headers.remove(&Name::VIA);
        request.headers.insert_front(Name::VIA, via);
        if !request.headers.contains(&Name::MAX_FORWARDS) {
            request.headers.insert(Name::MAX_FORWARDS, "70");
        }
        self.start_transaction(request, flow, events);
    }

    /// Answers [`Command::LocalAddr`]: the UDP socket's address at once; for
    /// TCP and TLS the current connection's, opening one if there is none.
    fn local_addr(&mut self, reply: AddrReply) {
        match self.net.target.kind {
            TransportKind::Udp => {
                let addr = self
                    .net
                    .udp
                    .as_ref()
                    .map(|udp| udp.via_addr)
                    .ok_or_else(|| {
                        TransportFailure::new(TransportFailureKind::Send, "no UDP socket")
                    });
                let _ = reply.send(addr);
            }
            TransportKind::Tcp | TransportKind::Tls => {
                let id = match self.net.current {
                    Some(id) if self.net.conns.contains_key(&id) => id,
                    _ => self.net.open(),
                };
                match self.net.conns.get_mut(&id) {
                    Some(Conn::Open(tasks)) => {
                        let _ = reply.send(Ok(tasks.local));
                    }
                    Some(Conn::Connecting { waiters, .. }) => waiters.push(reply),
                    None => {}
                }
            }
        }
    }

    fn start_client(&mut self, pending: PendingRequest, flow: Flow, local: SocketAddr) {
        let PendingRequest {
            mut request,
            branch,
            events,
        } = pending;
        let kind = self.net.target.kind;
        set_via(&mut request, kind, local, &branch);
        self.start_transaction(request, flow, events);
    }

    /// Starts a client transaction for `request` (its Via already set) on `flow`.
    fn start_transaction(
        &mut self,
        request: SipMessage,
        flow: Flow,
        events: mpsc::UnboundedSender<TransactionEvent>,
    ) {
        let kind = self.net.target.kind;
        let txn = match ClientTransaction::new(request, kind.reliability(), self.timers, now()) {
            Ok(txn) => txn,
            Err(error) => {
                // `send_request` built the same transaction, so this is only
                // reachable if the request changed in between; say so.
                tracing::error!(%error, "request refused by the transaction layer");
                let failure = TransportFailure::new(TransportFailureKind::Other, error.to_string());
                let _ = events.send(TransactionEvent::TransportError(failure));
                let _ = events.send(TransactionEvent::Terminated);
                return;
            }
        };
        let key = txn.key().clone();
        if self.clients.contains_key(&key) {
            // 128 random bits make this a bug, not bad luck.
            tracing::error!(branch = %key.branch, "duplicate branch; request refused");
            let failure = TransportFailure::new(TransportFailureKind::Other, "duplicate branch");
            let _ = events.send(TransactionEvent::TransportError(failure));
            let _ = events.send(TransactionEvent::Terminated);
            return;
        }
        self.clients
            .insert(key.clone(), Client { txn, flow, events });
        self.drain_client(&key);
    }

    /// Sends what the transaction wants sent and passes on its events; a
    /// failed send is fed back as a transport error. Removes it once over.
    fn drain_client(&mut self, key: &TransactionKey) {
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        loop {
            let mut progressed = false;
            while let Some(message) = client.txn.poll_transmit() {
                progressed = true;
                if let Err(failure) = self.net.transmit(client.flow, &message) {
                    client.txn.handle_transport_error(failure, now());
                }
            }
            while let Some(event) = client.txn.poll_event() {
                progressed = true;
                // The app may have stopped listening; the transaction still
                // runs to its end (it must still ACK, absorb retransmissions).
                let _ = client.events.send(event);
            }
            if !progressed {
                break;
            }
        }
        if client.txn.is_terminated() {
            self.clients.remove(key);
        }
    }

    fn drain_server(&mut self, key: &TransactionKey) {
        let Some(server) = self.servers.get_mut(key) else {
            return;
        };
        while let Some(message) = server.txn.poll_transmit() {
            if let Err(failure) = self.net.transmit(server.flow, &message) {
                server.txn.handle_transport_error(failure, now());
            }
        }
        if server.txn.is_terminated() {
            self.servers.remove(key);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Message { flow, message } => {
                if message.is_request() {
                    self.on_request(flow, message);
                } else {
                    self.on_response(message);
                }
            }
            Event::Malformed { flow, error, hint } => self.on_malformed(flow, &error, hint),
            Event::Connected { id, stream } => self.on_connected(id, stream),
            Event::Closed { id, failure } => self.on_closed(id, failure),
        }
    }

    fn on_response(&mut self, response: SipMessage) {
        if let Some(filter) = &self.response_filter {
            if !(filter.0)(&response) {
                tracing::debug!(status = ?response.status(), "response refused by the filter");
                return;
            }
        }
        let Some(key) = TransactionKey::of(&response) else {
            tracing::debug!("response without branch or CSeq dropped");
            return;
        };
        match self.clients.get_mut(&key) {
            Some(client) => {
                client.txn.handle_response(response, now());
                self.drain_client(&key);
            }
            // 2xx retransmissions to a finished INVITE get their ACK again;
            // other late responses are dropped.
            None => {
                if !self.ack_again(&response) {
                    tracing::debug!(branch = %key.branch, status = ?response.status(), "stray response dropped")
                }
            }
        }
    }

    /// Keeps a 2xx's ACK for the 2xx's retransmissions (and forgets those
    /// kept longer than 64·T1, when the server has stopped retransmitting).
    fn remember_ack(&mut self, ack: SipMessage, flow: Flow) {
        let now = now();
        self.acks.retain(|_, sent| sent.until > now);
        let Some((cseq, _)) = crate::sip::transaction::cseq_of(&ack) else {
            return;
        };
        let Some(call_id) = ack
            .header_value(&Name::CALL_ID)
            .map(|c| c.trim().to_owned())
        else {
            return;
        };
        let until = now + self.timers.transaction_timeout();
        self.acks.insert(
            (call_id, cseq),
            SentAck {
                request: ack,
                flow,
                until,
            },
        );
    }

    /// Sends the ACK again if `response` is a retransmitted 2xx to an INVITE
    /// already ACKed; whether it was.
    fn ack_again(&mut self, response: &SipMessage) -> bool {
        if !response.status().is_some_and(|s| s.is_success()) {
            return false;
        }
        let Some((cseq, "INVITE")) = crate::sip::transaction::cseq_of(response) else {
            return false;
        };
        let Some(call_id) = response.header_value(&Name::CALL_ID).map(str::trim) else {
            return false;
        };
        let Some(sent) = self.acks.get(&(call_id.to_owned(), cseq)) else {
            return false;
        };
        if sent.until <= now() {
            return false;
        }
        tracing::debug!(call_id, cseq, "2xx retransmitted; ACK sent again");
        if let Err(failure) = self.net.transmit(sent.flow, &sent.request) {
            tracing::warn!(%failure, "ACK not sent again");
        }
        true
    }

    /// A response that could not be parsed: if it was (or may have been) a
    /// final response, its transaction fails now rather than time out.
    fn on_malformed(&mut self, flow: Flow, error: &crate::sip::FrameError, hint: MalformedHint) {
        if hint.is_request || hint.status.is_some_and(|s| s < 200) {
            return;
        }
        let Some(branch) = hint.branch else {
            return;
        };
        let keys: Vec<TransactionKey> = self
            .clients
            .iter()
            .filter(|(k, c)| {
                k.branch == branch
                    && hint.cseq_method.as_ref().is_none_or(|m| *m == k.method)
                    && (matches!(flow, Flow::Udp(_)) || c.flow == flow)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let failure = TransportFailure::new(
            TransportFailureKind::Framing,
            format!("malformed response: {error}"),
        );
        for key in keys {
            if let Some(client) = self.clients.get_mut(&key) {
                client.txn.handle_transport_error(failure.clone(), now());
            }
            self.drain_client(&key);
        }
    }

    fn on_connected(&mut self, id: ConnId, stream: transport::Established) {
        let (pending, waiters) = match self.net.conns.remove(&id) {
            Some(Conn::Connecting {
                pending, waiters, ..
            }) => (pending, waiters),
            Some(open @ Conn::Open(_)) => {
                self.net.conns.insert(id, open);
                return;
            }
            // Given up on meanwhile (shutdown); dropping the stream closes it.
            None => return,
        };
        let tasks = match spawn_stream_tasks(
            id,
            stream,
            self.net.config.limits,
            self.net.config.keep_alive,
            self.net.events_tx.clone(),
        ) {
            Ok(tasks) => tasks,
            Err(error) => {
                let failure = TransportFailure::from_io(&error);
                for waiter in waiters {
                    let _ = waiter.send(Err(failure.clone()));
                }
                self.fail_pending(pending, &failure);
                if self.net.current == Some(id) {
                    self.net.current = None;
                }
                return;
            }
        };
        let local = tasks.local;
        self.net.conns.insert(id, Conn::Open(tasks));
        for waiter in waiters {
            let _ = waiter.send(Ok(local));
        }
        for request in pending {
            self.start_client(request, Flow::Stream(id), local);
        }
    }

    fn on_closed(&mut self, id: ConnId, failure: TransportFailure) {
        if self.net.current == Some(id) {
            self.net.current = None;
        }
        match self.net.conns.remove(&id) {
            Some(Conn::Connecting {
                pending, waiters, ..
            }) => {
                for waiter in waiters {
                    let _ = waiter.send(Err(failure.clone()));
                }
                self.fail_pending(pending, &failure);
            }
            Some(Conn::Open(tasks)) => tasks.abort(),
            None => return,
        }
        let flow = Flow::Stream(id);
        let now = now();
        let clients: Vec<TransactionKey> = self
            .clients
            .iter()
            .filter(|(_, c)| c.flow == flow)
            .map(|(k, _)| k.clone())
            .collect();
        for key in clients {
            if let Some(client) = self.clients.get_mut(&key) {
                client.txn.handle_transport_error(failure.clone(), now);
            }
            self.drain_client(&key);
        }
        let servers: Vec<TransactionKey> = self
            .servers
            .iter()
            .filter(|(_, s)| s.flow == flow)
            .map(|(k, _)| k.clone())
            .collect();
        for key in servers {
            if let Some(server) = self.servers.get_mut(&key) {
                server.txn.handle_transport_error(failure.clone(), now);
            }
            self.drain_server(&key);
        }
    }

    /// Requests whose connection never came up end as a transaction would
    /// have: the transport error, then `Terminated`.
    fn fail_pending(&mut self, pending: Vec<PendingRequest>, failure: &TransportFailure) {
        for request in pending {
            let _ = request
                .events
                .send(TransactionEvent::TransportError(failure.clone()));
            let _ = request.events.send(TransactionEvent::Terminated);
        }
    }

    fn on_request(&mut self, flow: Flow, request: SipMessage) {
        let now = now();
        let key = TransactionKey::of(&request);
        if let Some(key) = &key {
            if let Some(server) = self.servers.get_mut(key) {
                if server.txn.matches(&request) {
                    server.txn.handle_request(request, now);
                    self.drain_server(key);
                    return;
                }
            }
        }
        if incoming_request_disposition(&request, false) == Disposition::NoResponse {
            self.deliver(request, None);
            return;
        }
        let reliability = match flow {
            Flow::Udp(_) => transport::TransportKind::Udp.reliability(),
            Flow::Stream(_) => transport::TransportKind::Tcp.reliability(),
        };
        let key = match ServerTransaction::new(request.clone(), reliability, self.timers, now) {
            Ok(txn) => {
                let key = txn.key().clone();
                self.servers.insert(key.clone(), Server { txn, flow });
                Some(key)
            }
            // INVITE, or a request too broken for a transaction: answered
            // statelessly on the flow it came in on.
            Err(error) => {
                tracing::debug!(%error, "incoming request without a server transaction");
                None
            }
        };
        let id = self.next_incoming;
        self.next_incoming += 1;
        self.incoming.insert(
            id,
            Unanswered {
                request: request.clone(),
                flow,
                key,
            },
        );
        self.deliver(request, Some(id));
    }

    /// Hands a request to the app, or answers it at once if the app is not
    /// listening.
    fn deliver(&mut self, request: SipMessage, id: Option<u64>) {
        let reply = id.and_then(|id| {
            Some(Reply {
                id,
                commands: self.commands_tx.upgrade()?,
            })
        });
        let Some(sender) = &self.incoming_tx else {
            if let Some(id) = id {
                self.answer(id, &request, false);
            }
            return;
        };
        let incoming = IncomingRequest { request, reply };
        if let Err(mpsc::error::SendError(mut unsent)) = sender.send(incoming) {
            self.incoming_tx = None;
            // Answered here, not by its drop: the command channel would bring
            // the answer back only after this event.
            let request = unsent.request.clone();
            unsent.reply = None;
            if let Some(id) = id {
                self.answer(id, &request, false);
            }
        }
    }

    fn answer(&mut self, id: u64, request: &SipMessage, dialog_exists: bool) {
        let status = match incoming_request_disposition(request, dialog_exists) {
            Disposition::Respond(status) => status,
            Disposition::CancelPending => crate::sip::StatusCode::OK,
            _ => {
                self.incoming.remove(&id);
                return;
            }
        };
        let tag = transport::new_tag();
        self.respond(id, response_for(request, status, Some(&tag)));
    }

    fn respond(&mut self, id: u64, response: SipMessage) {
        let Some(unanswered) = self.incoming.get(&id) else {
            tracing::debug!(id, "response to a request already answered");
            return;
        };
        let flow = unanswered.flow;
        let final_response = response.status().is_some_and(|s| s.is_final());
        match unanswered.key.clone() {
            Some(key) => {
                if let Some(server) = self.servers.get_mut(&key) {
                    if let Err(error) = server.txn.respond(response, now()) {
                        tracing::warn!(%error, "response refused by the server transaction");
                    }
                    self.drain_server(&key);
                }
            }
            None => {
                if let Err(failure) = self.net.transmit(flow, &response) {
                    tracing::debug!(%failure, "response not sent");
                }
            }
        }
        if final_response {
            self.incoming.remove(&id);
        }
    }

    /// Ends every transaction with a transport error and closes everything.
    fn shut_down(&mut self) {
        let failure =
            TransportFailure::new(TransportFailureKind::Other, "the user agent shut down");
        let now = now();
        for (_, mut client) in self.clients.drain() {
            client.txn.handle_transport_error(failure.clone(), now);
            while let Some(event) = client.txn.poll_event() {
                let _ = client.events.send(event);
            }
        }
        let pending: Vec<PendingRequest> = self
            .net
            .conns
            .values_mut()
            .flat_map(|conn| match conn {
                Conn::Connecting { pending, .. } => std::mem::take(pending),
                Conn::Open(_) => Vec::new(),
            })
            .collect();
        self.fail_pending(pending, &failure);
        self.servers.clear();
        self.incoming.clear();
        self.net.close_all();
    }
}
