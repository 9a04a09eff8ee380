//! The INVITE client transaction, RFC 3261 §17.1.1 (Figure 5), and the ACK
//! it sends for a non-2xx final (§17.1.1.3).

use super::client::{ClientState, Core, TransactionEvent};
use super::error::TransportFailure;
use super::key::top_via;
use super::timers::{deadline, due, earliest, Retransmit};
use crate::sip::SipMessage;
use bytes::Bytes;
use ezk_sip_types::msg::{MessageLine, RequestLine};
use ezk_sip_types::{Headers, Method, Name};
use std::time::Instant;

#[derive(Debug)]
enum State {
    /// Timer A (unreliable transports only) and Timer B.
    Calling {
        timer_a: Option<Retransmit>,
        timer_b: Option<Instant>,
    },
    Proceeding,
    /// The ACK is kept to answer retransmitted finals until Timer D.
    Completed {
        ack: Box<SipMessage>,
        timer_d: Option<Instant>,
    },
    Terminated,
}

#[derive(Debug)]
pub(super) struct InviteClient {
    state: State,
}

impl InviteClient {
    /// Sends the INVITE and enters Calling.
    pub(super) fn start(core: &mut Core, now: Instant) -> Self {
        core.transmit_request();
        let timer_a = core
            .is_unreliable()
            .then(|| Retransmit::start(now, core.timers.t1));
        let timer_b = deadline(now, core.timers.transaction_timeout());
        Self {
            state: State::Calling { timer_a, timer_b },
        }
    }

    pub(super) fn state(&self) -> ClientState {
        match self.state {
            State::Calling { .. } => ClientState::Calling,
            State::Proceeding => ClientState::Proceeding,
            State::Completed { .. } => ClientState::Completed,
            State::Terminated => ClientState::Terminated,
        }
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Calling { timer_a, timer_b } => earliest([timer_a.and_then(|a| a.at), *timer_b]),
            State::Completed { timer_d, .. } => *timer_d,
            State::Proceeding | State::Terminated => None,
        }
    }

    pub(super) fn on_response(&mut self, core: &mut Core, response: SipMessage, now: Instant) {
        let Some(status) = response.status() else {
            return;
        };
        match &self.state {
            State::Calling { .. } | State::Proceeding => {
                if status.is_provisional() {
                    self.state = State::Proceeding;
                    core.event(TransactionEvent::Response(response));
                } else if status.is_success() {
                    core.event(TransactionEvent::Response(response));
                    self.finish(core);
                } else if status.is_failure() {
                    let ack = core
                        .request()
                        .and_then(|request| build_ack(core, request, &response));
                    core.release_request();
                    if let Some(ack) = &ack {
                        core.transmit(ack.clone());
                    }
                    core.event(TransactionEvent::Response(response));
                    let wait = core.timers.timer_d(core.reliability);
                    match ack {
                        Some(ack) if !wait.is_zero() => {
                            self.state = State::Completed {
                                ack: Box::new(ack),
                                timer_d: deadline(now, wait),
                            };
                        }
                        // Calling and Proceeding always hold the request, so
                        // there is an ACK to keep unless Timer D is zero.
                        _ => self.finish(core),
                    }
                }
            }
            State::Completed { ack, .. } => {
                // A retransmitted final: the ACK was lost, send it again. The
                // user has the response already.
                if status.is_failure() {
                    core.transmit(SipMessage::clone(ack));
                }
            }
            State::Terminated => {}
        }
    }

    pub(super) fn on_timeout(&mut self, core: &mut Core, now: Instant) {
        match &mut self.state {
            State::Calling { timer_a, timer_b } => {
                if due(*timer_b, now) {
                    core.event(TransactionEvent::Timeout);
                    self.finish(core);
                    return;
                }
                if let Some(a) = timer_a {
                    if due(a.at, now) {
                        core.transmit_request();
                        a.reset(now, a.interval.saturating_mul(2));
                    }
                }
            }
            State::Completed { timer_d, .. } => {
                if due(*timer_d, now) {
                    self.finish(core);
                }
            }
            State::Proceeding | State::Terminated => {}
        }
    }

    pub(super) fn on_transport_error(&mut self, core: &mut Core, error: TransportFailure) {
        match self.state {
            State::Calling { .. } | State::Proceeding => {
                core.event(TransactionEvent::TransportError(error));
                self.finish(core);
            }
            State::Completed { .. } => self.finish(core),
            State::Terminated => {}
        }
    }

    fn finish(&mut self, core: &mut Core) {
        self.state = State::Terminated;
        core.terminate();
    }
}

/// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's
/// Request-URI, Call-ID, From and CSeq number (method ACK), only its top Via
/// (so the same branch), its Route headers, and the To of the response (with
/// the tag the server chose). No body.
/// `None` only if `request` is not a request (`ClientTransaction::new`
/// takes requests only).
fn build_ack(core: &Core, request: &SipMessage, response: &SipMessage) -> Option<SipMessage> {
    let MessageLine::Request(request_line) = &request.line else {
        return None;
    };
    let mut headers = Headers::new();
    if let Some(via) = top_via(request) {
        headers.insert(Name::VIA, via);
    }
    let max_forwards = request
        .header_value(&Name::MAX_FORWARDS)
        .unwrap_or("70")
        .to_owned();
    headers.insert(Name::MAX_FORWARDS, max_forwards);
    for route in request.header_values(&Name::ROUTE) {
        headers.insert(Name::ROUTE, route);
    }
    for (name, source) in [(Name::FROM, request), (Name::TO, response)] {
        if let Some(value) = source.header_value(&name) {
            headers.insert(name, value);
        }
    }
    if let Some(call_id) = request.header_value(&Name::CALL_ID) {
        headers.insert(Name::CALL_ID, call_id);
    }
    headers.insert(Name::CSEQ, format!("{} ACK", core.cseq));
    headers.insert(Name::CONTENT_LENGTH, "0");
    Some(SipMessage {
        line: MessageLine::Request(RequestLine {
            method: Method::ACK,
            uri: request_line.uri.clone(),
        }),
        headers,
        body: Bytes::new(),
    })
}
