//! The driver: one tokio task per user agent that owns its sockets and
//! timers and runs its transactions.
//!
//! The transactions themselves ([`ClientTransaction`],
//! [`ServerTransaction`](crate::sip::ServerTransaction)) are sans-IO state
//! machines; the driver is what feeds them. It is the only code that reads
//! the clock. One request's way through it:
//!
//! 1. [`Driver::send_request`] checks the request by building its
//!    transaction, and queues it to the task with a fresh branch.
//! 2. The task puts the top `Via` on (transport, local address, `rport`,
//!    branch; `Max-Forwards: 70` if missing), starts the transaction and
//!    sends what it transmits — over UDP at once; over TCP/TLS on the
//!    target's connection, opened on demand (a request waits while it
//!    connects, and fails with the connect error if that fails). A request
//!    over 1,300 bytes to a UDP target goes over TCP to the same address
//!    (RFC 3261 §18.1.1), or over UDP if that connection is refused.
//! 3. Transport tasks hand every message to the task over one channel, in
//!    the order read. A response goes to the transaction its top-`Via`
//!    branch and CSeq method name; the task drains the transaction's
//!    transmissions (the ACK for a non-2xx final) and events into the
//!    request's [`ResponseStream`] before it looks at the next message.
//!    So every `1xx` arrives, in order, before the final response.
//! 4. Timers: the task sleeps until the earliest
//!    [`poll_timeout`](crate::sip::ClientTransaction::poll_timeout) of all
//!    transactions (retransmissions over UDP, Timers B/D/F/K).
//! 5. A closed or broken connection fails every transaction on it at once
//!    with [`TransactionEvent::TransportError`]; the next request opens a
//!    new connection.
//!
//! Requests from the server (BYE, CANCEL, OPTIONS, NOTIFY, BENOTIFY, …) come
//! out of [`IncomingRequests`].
//!
//! Many user agents can share one driver ([`SharedDriver`]): one socket or
//! connection to the target, one task, one set of channels, as a client
//! farm facing a SIP proxy needs. Each member's requests are multiplexed on
//! it; responses find their transaction by branch as always (and the
//! member's [`ResponseFilter`] checks them); requests from the server go
//! to the member their Request-URI's user part names (each member's
//! Contact has its own, [`Driver::contact_user`]), else to the member whose
//! address-of-record user the `To` names, else the driver answers them. The app may answer one itself
//! ([`IncomingRequest::respond`], [`IncomingRequest::answer`]); whatever it
//! leaves unanswered — by dropping the [`IncomingRequest`], or the whole
//! [`IncomingRequests`] — the driver answers as
//! [`incoming_request_disposition`](crate::sip::incoming_request_disposition)
//! says for a user agent with no dialog. BENOTIFY and ACK are never answered.
//!
//! # Example
//!
//! An OPTIONS over UDP to a stand-in server on loopback, which answers with
//! [`response_for`](crate::sip::response_for).
//!
//! ```
//! use ocer::sip::{response_for, parse_datagram, FramingLimits, SipMessage, StatusCode, TransactionEvent};
//! use ocer::ua::driver::{Driver, DriverConfig};
//! use ocer::ua::transport::{Target, TransportKind};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
//! let target = Target::new(TransportKind::Udp, server.local_addr()?);
//! let (driver, incoming) = Driver::start(DriverConfig::new(target)).await?;
//! drop(incoming); // the driver answers server requests itself
//!
//! let options = SipMessage::parse(
//!     b"OPTIONS sip:pool.contoso.com SIP/2.0\r\n\
//!       From: <sip:alice@contoso.com>;tag=1\r\n\
//!       To: <sip:pool.contoso.com>\r\n\
//!       Call-ID: a84b4c76e66710\r\n\
//!       CSeq: 1 OPTIONS\r\n\r\n",
//!     &FramingLimits::default(),
//! )?;
//! let mut responses = driver.send_request(options)?;
//!
//! // The stand-in server: the request arrives with the driver's Via.
//! let mut datagram = [0u8; 65_535];
//! let (n, ua) = server.recv_from(&mut datagram).await?;
//! let request = parse_datagram(&datagram[..n], &FramingLimits::default())?;
//! assert!(request.header_values(&"Via".into()).next().unwrap().contains(";rport;branch=z9hG4bK"));
//! let ok = response_for(&request, StatusCode::OK, Some("srv"));
//! server.send_to(&ok.to_bytes(), ua).await?;
//!
//! let Some(TransactionEvent::Response(response)) = responses.recv().await else {
//!     panic!("expected the 200");
//! };
//! assert_eq!(response.status(), Some(StatusCode::OK));
//! driver.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })
//! # }
//! ```

mod connections;
mod deadlines;
mod incoming;
mod task;
mod transactions;

use std::io;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use crate::report::check_request;
use crate::report::{finalize_response, OutgoingError};
use crate::sip::{
    ClientTransaction, SipMessage, TimerConfig, TransactionError, TransactionEvent,
    TransportFailure,
};
use crate::ua::transport::{self, tls::TlsSetupError, Target, TransportConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use task::{Command, Member, MemberId};

/// How a user agent's driver runs.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Where every request goes (the first of the RFC 3263 list).
    pub target: Target,
    /// The rest of the RFC 3263 list, in order: where requests go, one after
    /// the other, when the target in use fails (see [`FailoverCause`]).
    /// Empty for an explicit single target.
    pub alternates: Vec<Target>,
    /// T1, T2, T4 (RFC 3261 §17).
    pub timers: TimerConfig,
    /// Transport settings: limits, keep-alive, TLS.
    pub transport: TransportConfig,
    /// Checks every response before its transaction sees it; a refused one
    /// is dropped as if never received (MS-SIPAE: after the security
    /// association, an unsigned or badly signed response must not end a
    /// transaction).
    pub response_filter: Option<ResponseFilter>,
    /// Told of what the driver does on its own: leaving a target for the
    /// next, losing the connection to the target.
    pub notices: Option<NoticeHook>,
}

/// Why the driver left a target for the next one (RFC 3263 §4.3: "If a
/// failure occurs, the client SHOULD create a new request … to the next
/// element in the list").
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FailoverCause {
    /// The connection to it could not be opened (refused, unreachable, TLS
    /// handshake or certificate, timeout). The requests that waited for it
    /// never left, and go to the next target.
    Transport(TransportFailure),
    /// It answered a REGISTER `503 Service Unavailable` without
    /// `Retry-After` (the whole response: its diagnostics say why). The
    /// REGISTER goes to the next target in a new transaction.
    Unavailable(SipMessage),
}

/// One target given up for the next one.
#[derive(Debug, Clone)]
pub struct TargetFailure {
    /// The target that failed.
    pub target: Target,
    /// Why.
    pub cause: FailoverCause,
    /// Where requests go now.
    pub next: Target,
}

/// What the driver did on its own, for the user agent above it.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // a few per sign-in; the 503 is kept whole
pub enum DriverNotice {
    /// A target failed and requests go to the next one.
    TargetFailed(TargetFailure),
    /// The open connection to the target ended (closed by the server,
    /// broken, or closed for not reading). Every transaction on it failed;
    /// the next request opens a new connection, to the first target of the
    /// list again.
    ConnectionLost {
        /// The target the connection went to.
        target: Target,
        /// How it ended.
        failure: TransportFailure,
    },
}

/// Receives [`DriverNotice`]s. Called on the driver task: it must not block.
#[derive(Clone)]
pub struct NoticeHook(pub std::sync::Arc<dyn Fn(DriverNotice) + Send + Sync>);

impl std::fmt::Debug for NoticeHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeHook")
    }
}

/// A check on every response before the transaction layer: `false` drops it.
#[derive(Clone)]
pub struct ResponseFilter(pub std::sync::Arc<dyn Fn(&SipMessage) -> bool + Send + Sync>);

impl std::fmt::Debug for ResponseFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFilter")
    }
}

impl DriverConfig {
    /// Requests to `target`, RFC 3261 timers, default transport settings.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            alternates: Vec::new(),
            timers: TimerConfig::default(),
            transport: TransportConfig::default(),
            response_filter: None,
            notices: None,
        }
    }
}

/// Why the driver could not start or take a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The UDP socket could not be bound, or its address read.
    #[error("UDP socket: {0}")]
    Udp(#[source] io::Error),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// The request cannot start a transaction (or the timers are invalid).
    #[error("request refused: {0}")]
    Request(#[from] TransactionError),
    /// The response is not one the driver can send for this request.
    #[error("response refused: {0}")]
    Response(&'static str),
    /// The request or response may not leave this user agent (it carries a
    /// diagnostics header, a line break in a value, or — a request — lacks a
    /// mandatory header); see [`finalize_request`](crate::report::finalize_request), [`finalize_response`].
    #[error("message refused: {0}")]
    Outgoing(#[from] OutgoingError),
    /// The driver has shut down.
    #[error("the driver has shut down")]
    Stopped,
}

/// A handle to a running driver. Cheap to clone; the driver runs until
/// [`shutdown`](Self::shutdown), or until every handle (and every
/// [`IncomingRequest`]) is dropped.
#[derive(Debug, Clone)]
pub struct Driver {
    commands: mpsc::UnboundedSender<Command>,
    timers: TimerConfig,
    /// On a [`SharedDriver`]: the member this handle speaks for.
    member: Option<Arc<MemberHandle>>,
}

/// A member's seat on a shared driver; leaving it (the last handle dropped)
/// frees the seat, so a user agent dropped without `shutdown` leaks nothing.
#[derive(Debug)]
struct MemberHandle {
    id: MemberId,
    contact_user: String,
    commands: mpsc::UnboundedSender<Command>,
}

impl Drop for MemberHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Leave {
            id: self.id,
            done: None,
        });
    }
}

impl Driver {
    /// Starts the driver task on the current tokio runtime: binds the UDP
    /// socket (for a UDP target), builds the default TLS configuration (for
    /// a TLS target without one). Connections open on the first request.
    pub async fn start(config: DriverConfig) -> Result<(Driver, IncomingRequests), DriverError> {
        config.timers.validate()?;
        let timers = config.timers;
        let (commands, incoming) = task::spawn(config, false).await?;
        Ok((
            Driver {
                commands,
                timers,
                member: None,
            },
            IncomingRequests { requests: incoming },
        ))
    }

    /// The member this handle speaks for on a shared driver (0: none).
    fn member_id(&self) -> MemberId {
        self.member.as_ref().map_or(0, |member| member.id)
    }

    /// The user part a member's `Contact` must carry for requests from the
    /// server to reach it on a [`SharedDriver`] (`None` on a driver of its
    /// own, where every request is the one user agent's).
    pub fn contact_user(&self) -> Option<&str> {
        self.member
            .as_ref()
            .map(|member| member.contact_user.as_str())
    }

    /// Whether this handle is one member of a [`SharedDriver`].
    pub fn is_shared(&self) -> bool {
        self.member.is_some()
    }

    /// T1, T2, T4 of the driver's transactions.
    pub fn timers(&self) -> TimerConfig {
        self.timers
    }

    /// Sends `request` in a new client transaction and returns its events:
    /// every response in arrival order (each `1xx` included), or a timeout
    /// or transport error, and then [`TransactionEvent::Terminated`].
    ///
    /// The driver owns the `Via` header (any the request has are replaced)
    /// and writes `Content-Length`; it adds `Max-Forwards: 70` if missing.
    /// The request needs From, To, Call-ID and a CSeq whose method is the
    /// request's; ACK has no transaction ([`send_ack`](Self::send_ack)).
    pub fn send_request(&self, request: SipMessage) -> Result<ResponseStream, DriverError> {
        let branch = transport::new_branch();
        check(&request)?;
        let (events, receiver) = mpsc::unbounded_channel();
        self.commands
            .send(Command::Send {
                request,
                branch: branch.clone(),
                events,
                member: self.member_id(),
            })
            .map_err(|_| DriverError::Stopped)?;
        Ok(ResponseStream {
            branch,
            events: receiver,
        })
    }

    /// Sends `cancel` (a CANCEL built per RFC 3261 §9.1: the INVITE's
    /// Request-URI, Call-ID, From, To, Route and CSeq number) for the INVITE
    /// sent as `invite_branch` ([`ResponseStream::branch`]). The driver gives
    /// it the INVITE's top `Via`, so the same branch, and sends it on the
    /// INVITE's connection. If that INVITE has no transaction any more, the
    /// CANCEL ends at once with a transport error.
    ///
    /// Send it only after a provisional response (§9.1): before one, the
    /// CANCEL may overtake the INVITE.
    pub fn send_cancel(
        &self,
        invite_branch: &str,
        cancel: SipMessage,
    ) -> Result<ResponseStream, DriverError> {
        if cancel.method() != Some(&ezk_sip_types::Method::CANCEL) {
            return Err(DriverError::Response(
                "send_cancel sends CANCEL requests only",
            ));
        }
        check(&cancel)?;
        let (events, receiver) = mpsc::unbounded_channel();
        self.commands
            .send(Command::Cancel {
                request: cancel,
                invite_branch: invite_branch.to_owned(),
                events,
                member: self.member_id(),
            })
            .map_err(|_| DriverError::Stopped)?;
        Ok(ResponseStream {
            branch: invite_branch.to_owned(),
            events: receiver,
        })
    }

    /// The local address requests leave from — what a `Contact` names. For
    /// UDP, the socket's (with the interface address toward the target); for
    /// TCP and TLS, the connection's, which this opens if there is none
    /// (and fails as opening it fails).
    pub async fn local_addr(&self) -> Result<std::net::SocketAddr, LocalAddrError> {
        self.local_flow().await.map(|(addr, _)| addr)
    }

    /// [`local_addr`](Self::local_addr) and the kind of the transport it is
    /// on: after a failover the target in use may speak another transport
    /// than the first one (what a `Contact`'s `transport` parameter names).
    pub async fn local_flow(
        &self,
    ) -> Result<(std::net::SocketAddr, transport::TransportKind), LocalAddrError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::LocalAddr { reply })
            .map_err(|_| LocalAddrError::Stopped)?;
        match answer.await {
            Ok(Ok(flow)) => Ok(flow),
            Ok(Err(failure)) => Err(LocalAddrError::Transport(failure)),
            Err(_) => Err(LocalAddrError::Stopped),
        }
    }

    /// Applies a pool's `ms-keep-alive` answer ([MS-CONMGMT] §2.2.1) to the
    /// connections of the target in use: with `hop-hop=yes` and a `timeout`
    /// the idle ping goes out at least every four fifths of that timeout
    /// ([`MsKeepAlive::ping_interval`](crate::sip::MsKeepAlive::ping_interval)),
    /// on the open connection at once and on the next ones. Over UDP it does
    /// nothing. On a shared driver it applies to every member: they share
    /// the connection.
    pub fn set_keep_alive(&self, answer: crate::sip::MsKeepAlive) -> Result<(), DriverError> {
        self.commands
            .send(Command::KeepAlive(answer))
            .map_err(|_| DriverError::Stopped)
    }

    /// Sends an ACK for a 2xx (RFC 3261 §13.2.2.4): outside any transaction,
    /// with a fresh branch; the driver sends the same ACK again for every
    /// retransmission of that 2xx (same Call-ID and CSeq number) that comes
    /// within 64·T1. (The ACK for a non-2xx final is sent by
    /// the INVITE's transaction itself.)
    pub fn send_ack(&self, ack: SipMessage) -> Result<(), DriverError> {
        if ack.method() != Some(&ezk_sip_types::Method::ACK) {
            return Err(DriverError::Response("send_ack sends ACK requests only"));
        }
        let branch = transport::new_branch();
        check_request(&ack)?;
        self.commands
            .send(Command::SendAck {
                request: ack,
                branch,
            })
            .map_err(|_| DriverError::Stopped)
    }

    /// Stops the driver: every pending transaction ends with a transport
    /// error and `Terminated`, connections are closed, sockets released.
    /// Returns once that is done (at once if it already stopped).
    ///
    /// On a member of a [`SharedDriver`] this only takes the member off it
    /// (its requests from the server stop; its transactions run to their
    /// end): the driver serves the others until [`SharedDriver::shutdown`].
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        let command = match &self.member {
            Some(member) => Command::Leave {
                id: member.id,
                done: Some(done),
            },
            None => Command::Shutdown { done },
        };
        if self.commands.send(command).is_ok() {
            let _ = finished.await;
        }
    }
}

/// Checks that `request` can start a transaction and may leave the user
/// agent — what [`ClientTransaction::new`] and [`finalize_request`](crate::report::finalize_request) would
/// refuse, without building either: the driver task builds the transaction
/// once, with the `Via` of the flow that carries it (which, with
/// `Max-Forwards`, it adds itself, so neither is checked here).
fn check(request: &SipMessage) -> Result<(), DriverError> {
    check_request(request)?;
    ClientTransaction::check_request(request)?;
    Ok(())
}

/// One driver — one socket or connection to the target, one task — for many
/// user agents, as a client farm facing a SIP proxy runs them: each
/// [`UserAgent`](crate::ua::UserAgent) built with
/// [`UserAgentBuilder::shared_driver`](crate::ua::UserAgentBuilder::shared_driver)
/// is a *member*. Their requests are multiplexed on the driver's flow;
/// responses reach the member's transaction by branch; requests from the
/// server reach the member their Request-URI names (each member's Contact
/// has its own user part, [`Driver::contact_user`]) or, failing that, the
/// member whose address-of-record user is in `To`; the driver answers what
/// reaches none as a user agent with no dialog would. [`DriverNotice`]s
/// (failover, a lost connection) go to every member: they share the flow.
///
/// A member costs its registration, dialogs and reporter, not a socket, a
/// task and channels of its own (BENCHMARKS.md, "Scale").
///
/// # Example
///
/// ```no_run
/// use ocer::ua::driver::{DriverConfig, SharedDriver};
/// use ocer::ua::transport::{Target, TransportKind};
/// use ocer::ua::UserAgent;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let target = Target::new(TransportKind::Tcp, "192.0.2.10:5060".parse()?);
/// let shared = SharedDriver::start(DriverConfig::new(target.clone())).await?;
/// let mut agents = Vec::new();
/// for user in ["alice", "bob", "carol"] {
///     let (ua, _events) = UserAgent::builder(format!("sip:{user}@contoso.com"), target.clone())
///         .credentials(user, "secret")
///         .shared_driver(&shared)
///         .build()
///         .await?;
///     ua.register().await?; // all three over the one TCP connection
///     agents.push(ua);
/// }
/// for ua in &agents {
///     ua.shutdown().await; // unregisters, leaves the driver
/// }
/// shared.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SharedDriver {
    driver: Driver,
    next_member: Arc<AtomicU64>,
}

impl SharedDriver {
    /// Starts the driver task on the current tokio runtime, as
    /// [`Driver::start`] does. `config`'s response filter and notice hook,
    /// if any, apply to every member (each member adds its own).
    pub async fn start(config: DriverConfig) -> Result<SharedDriver, DriverError> {
        config.timers.validate()?;
        let timers = config.timers;
        let (commands, _incoming) = task::spawn(config, true).await?;
        Ok(SharedDriver {
            driver: Driver {
                commands,
                timers,
                member: None,
            },
            next_member: Arc::new(AtomicU64::new(1)),
        })
    }

    /// A new member: a [`Driver`] handle whose requests are this member's,
    /// and the requests from the server routed to it. `aor` is the member's
    /// address of record; its Contact must carry
    /// [`Driver::contact_user`]. `filter` checks the responses to the
    /// member's requests (its MS-SIPAE security association); `notices`
    /// hears what the driver does on its own.
    pub fn join(
        &self,
        aor: &str,
        filter: Option<ResponseFilter>,
        notices: Option<NoticeHook>,
    ) -> Result<(Driver, IncomingRequests), DriverError> {
        let id = self.next_member.fetch_add(1, Ordering::Relaxed);
        let aor_user = uri_user(aor).unwrap_or("ocer").to_owned();
        // The member number makes it unique on this driver even when the
        // same user signs in twice (two endpoints).
        let contact_user = format!("{aor_user}-{id}");
        let (incoming_tx, incoming) = mpsc::unbounded_channel();
        self.driver
            .commands
            .send(Command::Join {
                id,
                member: Member {
                    incoming: incoming_tx,
                    filter,
                    notices,
                    contact_user: contact_user.clone(),
                    aor_user,
                },
            })
            .map_err(|_| DriverError::Stopped)?;
        let handle = MemberHandle {
            id,
            contact_user,
            commands: self.driver.commands.clone(),
        };
        Ok((
            Driver {
                commands: self.driver.commands.clone(),
                timers: self.driver.timers,
                member: Some(Arc::new(handle)),
            },
            IncomingRequests { requests: incoming },
        ))
    }

    /// How many members the driver holds now (0 once every one left).
    pub async fn members(&self) -> usize {
        let (reply, answer) = oneshot::channel();
        if self
            .driver
            .commands
            .send(Command::Members { reply })
            .is_err()
        {
            return 0;
        }
        answer.await.unwrap_or(0)
    }

    /// The local address requests leave from ([`Driver::local_addr`]).
    pub async fn local_addr(&self) -> Result<std::net::SocketAddr, LocalAddrError> {
        self.driver.local_addr().await
    }

    /// Stops the driver for every member, as [`Driver::shutdown`] does for
    /// a driver of its own.
    pub async fn shutdown(&self) {
        self.driver.shutdown().await;
    }
}

/// The user part of a SIP URI (`alice` of `sip:alice@contoso.com;x=y`).
pub(crate) fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sips:")
        .or_else(|| uri.strip_prefix("sip:"))
        .unwrap_or(uri);
    let (user, _) = rest.split_once('@')?;
    let user = user.split([';', ':']).next().unwrap_or(user);
    (!user.is_empty()).then_some(user)
}

/// Why [`Driver::local_addr`] has no address.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LocalAddrError {
    /// The connection to the target could not be opened.
    #[error(transparent)]
    Transport(TransportFailure),
    /// The driver has shut down.
    #[error("the driver has shut down")]
    Stopped,
}

/// The events of one client transaction, in order. Ends (`None`) after
/// [`TransactionEvent::Terminated`], or if the driver stopped.
#[derive(Debug)]
pub struct ResponseStream {
    branch: String,
    // Boxed: a tokio channel's first block holds 32 elements, and an
    // event is ~240 B; a UDP transaction keeps its channel through Timer K.
    events: mpsc::UnboundedReceiver<Box<TransactionEvent>>,
}

impl ResponseStream {
    /// The branch of the request's `Via` (the transaction's identity, with
    /// the CSeq method).
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The next event.
    pub async fn recv(&mut self) -> Option<TransactionEvent> {
        self.events.recv().await.map(|event| *event)
    }

    /// Polls for the next event (for hand-written futures and streams).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<TransactionEvent>> {
        self.events
            .poll_recv(cx)
            .map(|event| event.map(|event| *event))
    }
}

/// Requests the server sent, in arrival order (retransmissions absorbed).
/// Drop it to have the driver answer every request itself.
#[derive(Debug)]
pub struct IncomingRequests {
    // Boxed, for the size of the channel's first block (one per member).
    requests: mpsc::UnboundedReceiver<Box<IncomingRequest>>,
}

impl IncomingRequests {
    /// The next request; `None` once the driver has stopped.
    pub async fn recv(&mut self) -> Option<IncomingRequest> {
        self.requests.recv().await.map(|request| *request)
    }

    /// Polls for the next request.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<IncomingRequest>> {
        self.requests
            .poll_recv(cx)
            .map(|request| request.map(|request| *request))
    }
}

/// One request from the server, and the means to answer it. Dropping it
/// without a final response lets the driver answer it as
/// [`answer(false)`](Self::answer) would.
#[derive(Debug)]
pub struct IncomingRequest {
    request: SipMessage,
    reply: Option<Reply>,
}

#[derive(Debug)]
struct Reply {
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
}

impl IncomingRequest {
    /// The request.
    pub fn request(&self) -> &SipMessage {
        &self.request
    }

    /// Whether the request expects a response at all (BENOTIFY and ACK do
    /// not).
    pub fn expects_response(&self) -> bool {
        self.reply.is_some()
    }

    /// Sends `response` (build it with
    /// [`response_for`](crate::sip::response_for)). A provisional response
    /// may be followed by others; a final one ends the exchange.
    pub fn respond(&mut self, response: SipMessage) -> Result<(), DriverError> {
        let status = response
            .status()
            .ok_or(DriverError::Response("not a response"))?;
        let final_response = status.is_final();
        // No diagnostics header in anything we send (MS-OCER §3.1): refused
        // here, where the app can be told, and again at the exit.
        finalize_response(&response)?;
        let reply = self
            .reply
            .as_ref()
            .ok_or(DriverError::Response("this request is never answered"))?;
        reply
            .commands
            .send(Command::Respond {
                id: reply.id,
                response,
            })
            .map_err(|_| DriverError::Stopped)?;
        if final_response {
            self.reply = None;
        }
        Ok(())
    }

    /// Answers as [`incoming_request_disposition`](crate::sip::incoming_request_disposition)
    /// says, given whether the request matches a dialog (or, for CANCEL, a
    /// pending INVITE) the app holds. For a CANCEL of a pending INVITE the
    /// driver answers the CANCEL; the INVITE's `487` is the app's to send.
    pub fn answer(mut self, dialog_exists: bool) {
        self.send_answer(dialog_exists);
    }

    fn send_answer(&mut self, dialog_exists: bool) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.commands.send(Command::Answer {
                id: reply.id,
                dialog_exists,
            });
        }
    }
}

impl Drop for IncomingRequest {
    fn drop(&mut self) {
        self.send_answer(false);
    }
}
