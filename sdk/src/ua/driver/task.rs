//! The driver task itself: its state, its loop, and what it is asked.
//!
//! The state is split by concern: [`connections`](super::connections) (the
//! transport seam), [`transactions`](super::transactions) (client and
//! server transactions, the ACK cache) and [`incoming`](super::incoming)
//! (requests from the server and the driver's own answers).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use ezk_sip_types::Name;
use tokio::sync::{mpsc, oneshot};

use super::connections::Connections;
use super::incoming::Unanswered;
use super::transactions::{Client, SentAck, Server};
use super::{DriverConfig, DriverError, IncomingRequest};
use crate::sip::transaction::TransactionKey;
use crate::sip::{
    SipMessage, TimerConfig, TransactionEvent, TransportFailure, TransportFailureKind,
};
use crate::ua::transport::{self, Event, TransportKind};

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
pub(super) type AddrReply = oneshot::Sender<Result<(SocketAddr, TransportKind), TransportFailure>>;

/// The current clock, the one place the user agent reads it. (tokio's clock,
/// so that tests with paused time drive the timers.)
pub(super) fn now() -> Instant {
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
        alternates,
        timers,
        transport,
        response_filter,
        notices,
    } = config;
    let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
    let mut targets = vec![target];
    targets.extend(alternates);
    let net = Connections::new(targets, transport, events_tx)?;
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (incoming_tx, incoming) = mpsc::unbounded_channel();
    let state = State {
        net,
        timers,
        response_filter,
        notices,
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

/// A request waiting for its connection.
pub(super) struct PendingRequest {
    pub(super) request: SipMessage,
    pub(super) branch: String,
    pub(super) events: mpsc::UnboundedSender<TransactionEvent>,
    /// For a request sent again to the next target: the local address and
    /// transport of the flow it first went on, which its `Contact` may name
    /// (rewritten to the new flow's).
    pub(super) moved_from: Option<(SocketAddr, TransportKind)>,
}

/// The driver's state, owned by its task.
pub(super) struct State {
    pub(super) net: Connections,
    pub(super) timers: TimerConfig,
    /// Checks every response before the transaction layer (MS-SIPAE).
    pub(super) response_filter: Option<super::ResponseFilter>,
    /// Told of failovers and lost connections.
    pub(super) notices: Option<super::NoticeHook>,
    pub(super) clients: HashMap<TransactionKey, Client>,
    pub(super) servers: HashMap<TransactionKey, Server>,
    pub(super) incoming: HashMap<u64, Unanswered>,
    pub(super) next_incoming: u64,
    /// `None` once the app dropped its [`IncomingRequests`](super::IncomingRequests).
    pub(super) incoming_tx: Option<mpsc::UnboundedSender<IncomingRequest>>,
    /// ACKs sent for 2xx, by Call-ID and CSeq number: sent again for each
    /// retransmission of the 2xx (RFC 3261 §13.2.2.4), for 64·T1.
    pub(super) acks: HashMap<(String, u32), SentAck>,
    /// Weak, so that the task ends when every handle is gone.
    pub(super) commands_tx: mpsc::WeakUnboundedSender<Command>,
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
            self.close_overflowed();
        };
        self.shut_down();
        if let Some(done) = done {
            let _ = done.send(());
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
                moved_from: None,
            }),
            Command::SendAck { request, branch } => self.send_ack(request, &branch),
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

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Message { flow, message } => {
                crate::ua::wire::received(&flow, &message);
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
        self.fail_all_waiting(&failure);
        self.servers.clear();
        self.incoming.clear();
        self.net.close_all();
    }
}
