//! The driver task itself: its state, its loop, and what it is asked.
//!
//! The state is split by concern: [`connections`](super::connections) (the
//! transport seam), [`transactions`](super::transactions) (client and
//! server transactions, the ACK cache) and [`incoming`](super::incoming)
//! (requests from the server and the driver's own answers).

use std::collections::HashMap;
use std::net::SocketAddr;

use ezk_sip_types::Name;
use tokio::sync::{mpsc, oneshot};

use super::connections::Connections;
use super::incoming::Unanswered;
use super::transactions::{Client, SentAck, Server};
use super::{DriverConfig, DriverError, IncomingRequest};
use crate::sip::transaction::TransactionKey;
use crate::sip::{
    MsKeepAlive, SipMessage, TimerConfig, TransactionEvent, TransportFailure, TransportFailureKind,
};
use crate::ua::transport::{self, Event, TransportKind};

/// How many transport events may wait for the driver before readers pause
/// (and TCP pushes back on the peer).
const EVENT_QUEUE: usize = 1024;

/// Where a client transaction's events go (boxed: a tokio channel's first
/// block holds 32 elements, and a UDP transaction keeps its channel through
/// Timer K).
pub(super) type EventTx = mpsc::UnboundedSender<Box<TransactionEvent>>;

/// A member of a shared driver, by number; 0 is none (a driver of its own).
pub(super) type MemberId = u64;

/// A member of a shared driver: where its requests from the server go, and
/// its own checks and hook.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) incoming: mpsc::UnboundedSender<Box<IncomingRequest>>,
    pub(super) filter: Option<super::ResponseFilter>,
    pub(super) notices: Option<super::NoticeHook>,
    /// The user part of its Contact (Request-URIs of requests for it).
    pub(super) contact_user: String,
    /// The user part of its address of record (`To` of requests for it).
    pub(super) aor_user: String,
}

/// What the handles ask of the task.
#[derive(Debug)]
pub(super) enum Command {
    /// Start a client transaction.
    Send {
        request: SipMessage,
        branch: String,
        events: EventTx,
        member: MemberId,
    },
    /// Send an ACK for a 2xx, outside any transaction.
    SendAck { request: SipMessage, branch: String },
    /// Start the CANCEL of the pending INVITE whose branch this is.
    Cancel {
        request: SipMessage,
        invite_branch: String,
        events: EventTx,
        member: MemberId,
    },
    /// A member joins the shared driver.
    Join { id: MemberId, member: Member },
    /// A member leaves the shared driver.
    Leave {
        id: MemberId,
        done: Option<oneshot::Sender<()>>,
    },
    /// How many members there are.
    Members { reply: oneshot::Sender<usize> },
    /// Tell the local address requests leave from (connecting if needed).
    LocalAddr { reply: AddrReply },
    /// Send the app's response to an incoming request.
    Respond { id: u64, response: SipMessage },
    /// Answer an incoming request per its disposition.
    Answer { id: u64, dialog_exists: bool },
    /// Apply a pool's `ms-keep-alive` answer to the connections.
    KeepAlive(MsKeepAlive),
    /// Stop.
    Shutdown { done: oneshot::Sender<()> },
}

/// Where the answer to [`Command::LocalAddr`] goes.
pub(super) type AddrReply = oneshot::Sender<Result<(SocketAddr, TransportKind), TransportFailure>>;

pub(super) use crate::ua::clock::now;

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
    shared: bool,
) -> Result<
    (
        mpsc::UnboundedSender<Command>,
        mpsc::UnboundedReceiver<Box<IncomingRequest>>,
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
        deadlines: super::deadlines::Deadlines::default(),
        incoming: HashMap::new(),
        next_incoming: 0,
        // A shared driver routes requests to its members, never to one app.
        incoming_tx: (!shared).then_some(incoming_tx),
        shared,
        members: HashMap::new(),
        by_contact: HashMap::new(),
        by_aor: HashMap::new(),
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
    pub(super) events: EventTx,
    /// The member it is of (0: none).
    pub(super) member: MemberId,
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
    /// Boxed: a `Client` is about 1 KiB, and a map sized for a burst (every
    /// UDP transaction lives on for Timer K) would hold that much per empty
    /// slot too.
    pub(super) clients: HashMap<TransactionKey, Box<Client>>,
    pub(super) servers: HashMap<TransactionKey, Server>,
    /// Every transaction's next timer, in time order.
    pub(super) deadlines: super::deadlines::Deadlines,
    pub(super) incoming: HashMap<u64, Unanswered>,
    pub(super) next_incoming: u64,
    /// `None` once the app dropped its [`IncomingRequests`](super::IncomingRequests).
    pub(super) incoming_tx: Option<mpsc::UnboundedSender<Box<IncomingRequest>>>,
    /// Whether many user agents share this driver (requests from the server
    /// go to [`members`](Self::members)).
    pub(super) shared: bool,
    pub(super) members: HashMap<MemberId, Member>,
    /// Members by the user part of their Contact.
    pub(super) by_contact: HashMap<String, MemberId>,
    /// Members by the user part of their address of record (the first to
    /// join with it).
    pub(super) by_aor: HashMap<String, MemberId>,
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
                member,
            } => self.send(PendingRequest {
                request,
                branch,
                events,
                member,
                moved_from: None,
            }),
            Command::SendAck { request, branch } => self.send_ack(request, &branch),
            Command::Cancel {
                request,
                invite_branch,
                events,
                member,
            } => self.cancel(request, &invite_branch, events, member),
            Command::Join { id, member } => self.join(id, member),
            Command::Leave { id, done } => {
                self.leave(id);
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Command::Members { reply } => {
                let _ = reply.send(self.members.len());
            }
            Command::LocalAddr { reply } => self.local_addr(reply),
            Command::Respond { id, response } => self.respond(id, response),
            Command::Answer { id, dialog_exists } => {
                if let Some(unanswered) = self.incoming.get(&id) {
                    let request = unanswered.request.clone();
                    self.answer(id, &request, dialog_exists);
                }
            }
            Command::KeepAlive(answer) => {
                let interval = answer.ping_interval(self.net.configured_keep_alive());
                tracing::debug!(?interval, %answer, "ms-keep-alive: ping interval");
                self.net.set_keep_alive(interval);
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

    fn join(&mut self, id: MemberId, member: Member) {
        self.by_contact.insert(member.contact_user.clone(), id);
        self.by_aor.entry(member.aor_user.clone()).or_insert(id);
        self.members.insert(id, member);
    }

    /// Takes a member off: its requests from the server stop (its incoming
    /// channel closes); its transactions run to their end.
    fn leave(&mut self, id: MemberId) {
        let Some(member) = self.members.remove(&id) else {
            return;
        };
        self.by_contact.remove(&member.contact_user);
        if self.by_aor.get(&member.aor_user) == Some(&id) {
            self.by_aor.remove(&member.aor_user);
            // Another member of that user, if any, takes its place.
            if let Some((other, _)) = self
                .members
                .iter()
                .find(|(_, m)| m.aor_user == member.aor_user)
            {
                self.by_aor.insert(member.aor_user.clone(), *other);
            }
        }
        if self.members.is_empty() {
            // The last one gone: give the tables' memory back too.
            self.members.shrink_to_fit();
            self.by_contact.shrink_to_fit();
            self.by_aor.shrink_to_fit();
        }
    }

    /// The response filter for a transaction of `member`.
    pub(super) fn filter_of(&self, member: MemberId) -> Option<&super::ResponseFilter> {
        if member == 0 {
            return self.response_filter.as_ref();
        }
        self.members.get(&member).and_then(|m| m.filter.as_ref())
    }

    /// Ends every transaction with a transport error and closes everything.
    fn shut_down(&mut self) {
        let failure =
            TransportFailure::new(TransportFailureKind::Other, "the user agent shut down");
        let now = now();
        for (_, mut client) in self.clients.drain() {
            client.txn.handle_transport_error(failure.clone(), now);
            while let Some(event) = client.txn.poll_event() {
                let _ = client.events.send(Box::new(event));
            }
        }
        self.fail_all_waiting(&failure);
        self.servers.clear();
        self.deadlines.clear();
        self.incoming.clear();
        self.members.clear();
        self.net.close_all();
    }
}
