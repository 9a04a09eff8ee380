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
//! out of [`IncomingRequests`]. The app may answer one itself
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
mod incoming;
mod task;
mod transactions;

use std::io;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use crate::report::{finalize_request, finalize_response, OutgoingError};
use crate::sip::{
    ClientTransaction, SipMessage, TimerConfig, TransactionError, TransactionEvent,
    TransportFailure,
};
use crate::ua::transport::{self, tls::TlsSetupError, Target, TransportConfig};

use task::Command;

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
    /// mandatory header); see [`finalize_request`], [`finalize_response`].
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
}

impl Driver {
    /// Starts the driver task on the current tokio runtime: binds the UDP
    /// socket (for a UDP target), builds the default TLS configuration (for
    /// a TLS target without one). Connections open on the first request.
    pub async fn start(config: DriverConfig) -> Result<(Driver, IncomingRequests), DriverError> {
        config.timers.validate()?;
        let timers = config.timers;
        let (commands, incoming) = task::spawn(config).await?;
        Ok((
            Driver { commands, timers },
            IncomingRequests { requests: incoming },
        ))
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
        self.check(&request, &branch)?;
        let (events, receiver) = mpsc::unbounded_channel();
        self.commands
            .send(Command::Send {
                request,
                branch: branch.clone(),
                events,
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
        self.check(&cancel, invite_branch)?;
        let (events, receiver) = mpsc::unbounded_channel();
        self.commands
            .send(Command::Cancel {
                request: cancel,
                invite_branch: invite_branch.to_owned(),
                events,
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

    /// Checks that `request` can start a transaction and may leave the user
    /// agent, by building the transaction it will run with a stand-in `Via`
    /// (the real one gets the Via of the connection that carries it).
    fn check(&self, request: &SipMessage, branch: &str) -> Result<(), DriverError> {
        let mut probe = request.clone();
        task::set_via(
            &mut probe,
            transport::TransportKind::Udp,
            std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            branch,
        );
        finalize_request(&probe)?;
        // The instant is only a starting point for timers that are never polled.
        let probe_start = std::time::Instant::now();
        ClientTransaction::new(
            probe,
            transport::TransportKind::Udp.reliability(),
            self.timers,
            probe_start,
        )?;
        Ok(())
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
        let mut probe = ack.clone();
        task::set_via(
            &mut probe,
            transport::TransportKind::Udp,
            std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            &branch,
        );
        finalize_request(&probe)?;
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
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown { done }).is_ok() {
            let _ = finished.await;
        }
    }
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
    events: mpsc::UnboundedReceiver<TransactionEvent>,
}

impl ResponseStream {
    /// The branch of the request's `Via` (the transaction's identity, with
    /// the CSeq method).
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The next event.
    pub async fn recv(&mut self) -> Option<TransactionEvent> {
        self.events.recv().await
    }

    /// Polls for the next event (for hand-written futures and streams).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<TransactionEvent>> {
        self.events.poll_recv(cx)
    }
}

/// Requests the server sent, in arrival order (retransmissions absorbed).
/// Drop it to have the driver answer every request itself.
#[derive(Debug)]
pub struct IncomingRequests {
    requests: mpsc::UnboundedReceiver<IncomingRequest>,
}

impl IncomingRequests {
    /// The next request; `None` once the driver has stopped.
    pub async fn recv(&mut self) -> Option<IncomingRequest> {
        self.requests.recv().await
    }

    /// Polls for the next request.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<IncomingRequest>> {
        self.requests.poll_recv(cx)
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
