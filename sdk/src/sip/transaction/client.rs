//! The client transaction: one public type over the INVITE (§17.1.1) and
//! non-INVITE (§17.1.2) state machines, chosen from the request's method.

use super::error::{TransactionError, TransportFailure};
use super::invite::InviteClient;
use super::key::{cseq_of, top_via_branch, TransactionKey, BRANCH_MAGIC_COOKIE};
use super::non_invite::NonInviteClient;
use super::queue::Queue;
use super::timers::{Reliability, TimerConfig};
use crate::sip::{RequestIdentity, SipMessage};
use ezk_sip_types::msg::MessageLine;
use ezk_sip_types::Method;
use std::time::Instant;

/// What a client transaction tells its user, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransactionEvent {
    /// A response, every one in arrival order: each provisional (duplicates
    /// included — Lync sends several `101 Progress Report`s with different
    /// diagnostics) and the final response. Retransmitted finals absorbed by
    /// the Completed state are not repeated.
    Response(SipMessage),
    /// Timer B or F fired: no final response came in time (the user sees
    /// 408 Request Timeout, RFC 3261 §8.1.3.1).
    Timeout,
    /// The transport failed before a final response arrived.
    TransportError(TransportFailure),
    /// The transaction is over; always the last event, exactly once.
    Terminated,
}

/// The RFC 3261 §17.1 state of a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientState {
    /// INVITE sent, nothing heard yet (Timers A, B).
    Calling,
    /// Non-INVITE request sent, nothing heard yet (Timers E, F).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; retransmitted finals are absorbed (Timers D, K).
    Completed,
    /// Over.
    Terminated,
}

/// What both state machines share: the request, its key, the configuration,
/// and the output queues.
#[derive(Debug)]
pub(super) struct Core {
    /// `None` once a final response came (or the end): the request is never
    /// sent again then (the ACK of an INVITE is built before), and a burst
    /// of UDP transactions waiting out Timer K or D would otherwise hold a
    /// request each for seconds.
    request: Option<SipMessage>,
    pub(super) key: TransactionKey,
    pub(super) cseq: u32,
    pub(super) reliability: Reliability,
    pub(super) timers: TimerConfig,
    transmits: Queue<SipMessage>,
    events: Queue<TransactionEvent>,
    terminated: bool,
}

impl Core {
    pub(super) fn transmit_request(&mut self) {
        if let Some(request) = &self.request {
            self.transmits.push(request.clone());
        }
    }

    /// The request, while it may still be sent.
    pub(super) fn request(&self) -> Option<&SipMessage> {
        self.request.as_ref()
    }

    /// Forgets the request: a final response came.
    pub(super) fn release_request(&mut self) {
        self.request = None;
    }

    pub(super) fn transmit(&mut self, message: SipMessage) {
        self.transmits.push(message);
    }

    pub(super) fn event(&mut self, event: TransactionEvent) {
        self.events.push(event);
    }

    /// Emits `Terminated`, once.
    pub(super) fn terminate(&mut self) {
        if !self.terminated {
            self.terminated = true;
            self.request = None;
            self.events.push(TransactionEvent::Terminated);
        }
    }

    pub(super) fn is_unreliable(&self) -> bool {
        self.reliability == Reliability::Unreliable
    }
}

#[derive(Debug)]
enum Machine {
    Invite(InviteClient),
    NonInvite(NonInviteClient),
}

/// A client transaction (RFC 3261 §17.1) as a sans-IO state machine: INVITE
/// or non-INVITE, chosen from the request's method.
///
/// Feed it what happens — [`handle_response`](Self::handle_response),
/// [`handle_timeout`](Self::handle_timeout),
/// [`handle_transport_error`](Self::handle_transport_error) — and after each
/// input drain what it wants done: [`poll_transmit`](Self::poll_transmit)
/// until `None`, [`poll_event`](Self::poll_event) until `None`, then arm a
/// timer for [`poll_timeout`](Self::poll_timeout). A transaction can
/// terminate with a message still queued (the ACK for a non-2xx final on a
/// reliable transport, where Timer D is zero), so drain both queues before
/// dropping a terminated transaction.
///
/// The ACK for a **2xx** is not this transaction's: a 2xx terminates an
/// INVITE transaction at once (§17.1.1.2) and the transaction user sends the
/// ACK in a new transaction of the dialog (§13.2.2.4), as it does for 2xx
/// retransmissions, which no longer match a transaction.
///
/// An INVITE in Proceeding has no timer: RFC 3261 lets it wait for the final
/// response as long as the server takes; the transaction user bounds it (by
/// sending CANCEL) if it wants.
#[derive(Debug)]
pub struct ClientTransaction {
    core: Core,
    machine: Machine,
}

impl ClientTransaction {
    /// Starts a transaction for `request` and queues its first transmission.
    ///
    /// The request must have a top Via whose `branch` starts with `z9hG4bK`,
    /// and readable From, To, Call-ID and CSeq headers whose method equals the
    /// request's; ACK has no transaction of its own.
    pub fn new(
        request: SipMessage,
        reliability: Reliability,
        timers: TimerConfig,
        now: Instant,
    ) -> Result<Self, TransactionError> {
        timers.validate()?;
        let identity = Self::identity(&request)?;
        let MessageLine::Request(request_line) = &request.line else {
            return Err(TransactionError::NotARequest);
        };
        let invite = request_line.method == Method::INVITE;
        if super::key::top_via(&request).is_none() {
            return Err(TransactionError::MissingVia);
        }
        let branch = top_via_branch(&request)
            .filter(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
            .ok_or(TransactionError::MissingBranch)?
            .to_owned();
        let mut core = Core {
            request: Some(request),
            key: TransactionKey {
                branch,
                method: identity.method,
            },
            cseq: identity.cseq,
            reliability,
            timers,
            transmits: Queue::default(),
            events: Queue::default(),
            terminated: false,
        };
        let machine = if invite {
            Machine::Invite(InviteClient::start(&mut core, now))
        } else {
            Machine::NonInvite(NonInviteClient::start(&mut core, now))
        };
        Ok(Self { core, machine })
    }

    /// Checks what [`new`](Self::new) checks of `request` apart from its
    /// `Via` (a request, not ACK, readable From, To, Call-ID and CSeq, the
    /// CSeq's method the request's), without building the transaction: for
    /// a transport that refuses a bad request at once and sets the `Via`
    /// later.
    pub fn check_request(request: &SipMessage) -> Result<(), TransactionError> {
        Self::identity(request).map(|_| ())
    }

    fn identity(request: &SipMessage) -> Result<RequestIdentity, TransactionError> {
        let MessageLine::Request(request_line) = &request.line else {
            return Err(TransactionError::NotARequest);
        };
        if request_line.method == Method::ACK {
            return Err(TransactionError::AckHasNoTransaction);
        }
        let identity = RequestIdentity::from_request(request)?;
        let method = request_line.method.to_string();
        if identity.method != method {
            return Err(TransactionError::MethodMismatch {
                request: method,
                cseq: identity.method,
            });
        }
        Ok(identity)
    }

    /// The `branch` of the request's top Via.
    pub fn branch(&self) -> &str {
        &self.core.key.branch
    }

    /// The key responses are matched by: branch and CSeq method.
    pub fn key(&self) -> &TransactionKey {
        &self.core.key
    }

    /// The request this transaction sends; `None` once a final response
    /// arrived or the transaction ended (it is not sent again, and not
    /// kept through Timer D or K).
    pub fn request(&self) -> Option<&SipMessage> {
        self.core.request()
    }

    /// The current RFC 3261 state.
    pub fn state(&self) -> ClientState {
        match &self.machine {
            Machine::Invite(m) => m.state(),
            Machine::NonInvite(m) => m.state(),
        }
    }

    /// Whether `response` belongs to this transaction (RFC 3261 §17.1.3): its
    /// top Via has this branch and its CSeq this method.
    pub fn matches(&self, response: &SipMessage) -> bool {
        !response.is_request()
            && top_via_branch(response) == Some(self.core.key.branch.as_str())
            && cseq_of(response).map(|(_, m)| m) == Some(self.core.key.method.as_str())
    }

    /// A response arrived. Responses that do not [match](Self::matches), and
    /// requests, are ignored.
    pub fn handle_response(&mut self, response: SipMessage, now: Instant) {
        if !self.matches(&response) {
            tracing::debug!(
                branch = %self.core.key.branch,
                "response does not match the transaction; ignored"
            );
            return;
        }
        match &mut self.machine {
            Machine::Invite(m) => m.on_response(&mut self.core, response, now),
            Machine::NonInvite(m) => m.on_response(&mut self.core, response, now),
        }
    }

    /// Time passed: fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.machine {
            Machine::Invite(m) => m.on_timeout(&mut self.core, now),
            Machine::NonInvite(m) => m.on_timeout(&mut self.core, now),
        }
    }

    /// The transport failed (RFC 3261 §17.1.4). Before a final response this
    /// queues [`TransactionEvent::TransportError`] and terminates at once —
    /// no silent wait for Timer B or F. In Completed the request already has
    /// its outcome (only ACKs or nothing remain to be sent), so the
    /// transaction just terminates.
    pub fn handle_transport_error(&mut self, error: TransportFailure, _now: Instant) {
        match &mut self.machine {
            Machine::Invite(m) => m.on_transport_error(&mut self.core, error),
            Machine::NonInvite(m) => m.on_transport_error(&mut self.core, error),
        }
    }

    /// The next message to send: the request (first send and
    /// retransmissions) or the ACK for a non-2xx final.
    pub fn poll_transmit(&mut self) -> Option<SipMessage> {
        self.core.transmits.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next:
    /// the earliest pending timer, or `None` when none is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.machine {
            Machine::Invite(m) => m.next_timeout(),
            Machine::NonInvite(m) => m.next_timeout(),
        }
    }

    /// The next event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.core.events.pop()
    }

    /// Whether the transaction has terminated (queued transmits and events
    /// may remain; see the type's documentation).
    pub fn is_terminated(&self) -> bool {
        self.core.terminated
    }
}
