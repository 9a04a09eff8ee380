//! The non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8): how we
//! answer requests the server sends us (BYE, CANCEL, OPTIONS, NOTIFY, ...),
//! and answer their retransmissions with the same response.

use super::error::{TransactionError, TransportFailure};
use super::key::{cseq_of, top_via, top_via_branch, TransactionKey, BRANCH_MAGIC_COOKIE};
use super::queue::Queue;
use super::timers::{deadline, due, Reliability, TimerConfig};
use crate::sip::SipMessage;
use ezk_sip_types::Method;
use std::time::Instant;

/// The RFC 3261 §17.2.2 state of a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerState {
    /// The request arrived; nothing has been sent. Retransmissions are
    /// discarded.
    Trying,
    /// A provisional response was sent; retransmissions get it again.
    Proceeding,
    /// The final response was sent; retransmissions get it again until Timer J.
    Completed,
    /// Over.
    Terminated,
}

#[derive(Debug)]
enum State {
    Trying,
    Proceeding {
        last: SipMessage,
    },
    Completed {
        last: SipMessage,
        timer_j: Option<Instant>,
    },
    Terminated,
}

/// A non-INVITE server transaction (RFC 3261 §17.2.2) as a sans-IO state
/// machine.
///
/// Create it when a request arrives, decide the answer (see
/// [`incoming_request_disposition`](super::incoming_request_disposition)),
/// [`respond`](Self::respond) with a response built by
/// [`response_for`](super::response_for), and feed it retransmissions of the
/// request ([`handle_request`](Self::handle_request)) and timeouts. Drain
/// [`poll_transmit`](Self::poll_transmit) after each input: on a reliable
/// transport Timer J is zero, so the transaction terminates with its final
/// response still queued.
///
/// INVITE server transactions (§17.2.1) are not provided: the user agent
/// rejects incoming INVITEs (405), and ACK is never a transaction.
///
/// ```
/// use std::time::{Duration, Instant};
/// use ocer::sip::transaction::{
///     incoming_request_disposition, response_for, Disposition, Reliability, ServerTransaction,
///     TimerConfig,
/// };
/// use ocer::sip::{FramingLimits, SipMessage, StatusCode};
///
/// let bye = SipMessage::parse(
///     b"BYE sip:alice@192.0.2.7:5060 SIP/2.0\r\n\
///       Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKs1\r\n\
///       From: <sip:bob@contoso.com>;tag=b7\r\n\
///       To: <sip:alice@contoso.com>;tag=a1\r\n\
///       Call-ID: c1\r\n\
///       CSeq: 3 BYE\r\n\
///       Content-Length: 0\r\n\r\n",
///     &FramingLimits::default(),
/// )?;
/// let t0 = Instant::now(); // the fake clock's origin
/// let Disposition::Respond(status) = incoming_request_disposition(&bye, true) else {
///     unreachable!("a BYE is always answered");
/// };
/// assert_eq!(status, StatusCode::OK);
///
/// let mut txn = ServerTransaction::new(bye.clone(), Reliability::Unreliable, TimerConfig::default(), t0)?;
/// txn.respond(response_for(&bye, status, None), t0)?;
/// assert_eq!(txn.poll_transmit().and_then(|r| r.status()), Some(StatusCode::OK));
///
/// // The 200 was lost and the BYE comes again: the same 200 goes out again.
/// txn.handle_request(bye, t0 + Duration::from_millis(500));
/// assert!(txn.poll_transmit().is_some());
///
/// // Timer J (64·T1 on UDP) ends the transaction.
/// assert_eq!(txn.poll_timeout(), Some(t0 + Duration::from_secs(32)));
/// txn.handle_timeout(t0 + Duration::from_secs(32));
/// assert!(txn.is_terminated());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ServerTransaction {
    request: SipMessage,
    key: TransactionKey,
    top_via: String,
    reliability: Reliability,
    timers: TimerConfig,
    state: State,
    transmits: Queue<SipMessage>,
}

impl ServerTransaction {
    /// Starts a server transaction for a request that just arrived.
    ///
    /// The request needs a top Via with an RFC 3261 branch (`z9hG4bK…`) and
    /// a CSeq whose method equals the request's; INVITE and ACK are refused.
    pub fn new(
        request: SipMessage,
        reliability: Reliability,
        timers: TimerConfig,
        _now: Instant,
    ) -> Result<Self, TransactionError> {
        timers.validate()?;
        let method = request
            .method()
            .ok_or(TransactionError::NotARequest)?
            .clone();
        if method == Method::INVITE {
            return Err(TransactionError::InviteServerTransaction);
        }
        if method == Method::ACK {
            return Err(TransactionError::AckHasNoTransaction);
        }
        let top_via = top_via(&request)
            .ok_or(TransactionError::MissingVia)?
            .to_owned();
        let branch = top_via_branch(&request)
            .filter(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
            .ok_or(TransactionError::MissingBranch)?
            .to_owned();
        let (_, cseq_method) = cseq_of(&request).ok_or(crate::sip::IdentityError::Invalid {
            header: "CSeq",
            reason: "missing or unreadable",
        })?;
        let method = method.to_string();
        if cseq_method != method {
            return Err(TransactionError::MethodMismatch {
                request: method,
                cseq: cseq_method.to_owned(),
            });
        }
        Ok(Self {
            key: TransactionKey { branch, method },
            top_via,
            request,
            reliability,
            timers,
            state: State::Trying,
            transmits: Queue::default(),
        })
    }

    /// The request this transaction answers.
    pub fn request(&self) -> &SipMessage {
        &self.request
    }

    /// The branch of the request's top Via and its method.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The branch of the request's top Via.
    pub fn branch(&self) -> &str {
        &self.key.branch
    }

    /// The current RFC 3261 state.
    pub fn state(&self) -> ServerState {
        match self.state {
            State::Trying => ServerState::Trying,
            State::Proceeding { .. } => ServerState::Proceeding,
            State::Completed { .. } => ServerState::Completed,
            State::Terminated => ServerState::Terminated,
        }
    }

    /// Whether `request` is a retransmission of this transaction's request
    /// (RFC 3261 §17.2.3): the same top Via (branch and sent-by) and the same
    /// method.
    pub fn matches(&self, request: &SipMessage) -> bool {
        request.is_request()
            && top_via(request) == Some(self.top_via.as_str())
            && cseq_of(request).map(|(_, m)| m) == Some(self.key.method.as_str())
            && request.method().map(ToString::to_string).as_deref() == Some(&*self.key.method)
    }

    /// Sends `response`: a provisional one moves to Proceeding, a final one
    /// to Completed (Timer J: 64·T1 unreliable, 0 reliable — then straight to
    /// Terminated).
    pub fn respond(&mut self, response: SipMessage, now: Instant) -> Result<(), TransactionError> {
        let status = response.status().ok_or(TransactionError::NotAResponse)?;
        if !(status.is_provisional() || status.is_final()) {
            return Err(TransactionError::InvalidStatus(status.as_u16()));
        }
        if matches!(self.state, State::Completed { .. } | State::Terminated) {
            return Err(TransactionError::AlreadyAnswered);
        }
        self.transmits.push(response.clone());
        if status.is_provisional() {
            self.state = State::Proceeding { last: response };
        } else {
            let wait = self.timers.timer_j(self.reliability);
            self.state = if wait.is_zero() {
                State::Terminated
            } else {
                State::Completed {
                    last: response,
                    timer_j: deadline(now, wait),
                }
            };
        }
        Ok(())
    }

    /// The request arrived again: in Proceeding or Completed the last
    /// response is sent again; in Trying the retransmission is discarded.
    /// Requests that do not [match](Self::matches) are ignored.
    pub fn handle_request(&mut self, request: SipMessage, _now: Instant) {
        if !self.matches(&request) {
            return;
        }
        match &self.state {
            State::Proceeding { last } | State::Completed { last, .. } => {
                self.transmits.push(last.clone());
            }
            State::Trying | State::Terminated => {}
        }
    }

    /// Time passed: Timer J ends the Completed state.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Completed { timer_j, .. } = &self.state {
            if due(*timer_j, now) {
                self.state = State::Terminated;
            }
        }
    }

    /// The transport failed while sending a response (RFC 3261 §17.2.4):
    /// the transaction terminates; the peer will time out on its side.
    pub fn handle_transport_error(&mut self, error: TransportFailure, _now: Instant) {
        tracing::debug!(branch = %self.key.branch, %error, "server transaction transport failure");
        self.state = State::Terminated;
    }

    /// The next response to send.
    pub fn poll_transmit(&mut self) -> Option<SipMessage> {
        self.transmits.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Completed { timer_j, .. } => *timer_j,
            _ => None,
        }
    }

    /// Whether the transaction is over (a queued response may remain).
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, State::Terminated)
    }
}
