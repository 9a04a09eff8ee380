//! The non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).

use super::client::{ClientState, Core, TransactionEvent};
use super::error::TransportFailure;
use super::timers::{deadline, due, earliest, Retransmit};
use crate::sip::SipMessage;
use std::time::Instant;

#[derive(Debug)]
enum State {
    /// Timer E (unreliable transports only) and Timer F; `proceeding` once a
    /// provisional arrived, which pins Timer E at T2.
    Active {
        proceeding: bool,
        timer_e: Option<Retransmit>,
        timer_f: Option<Instant>,
    },
    /// Retransmitted finals are absorbed until Timer K.
    Completed {
        timer_k: Option<Instant>,
    },
    Terminated,
}

#[derive(Debug)]
pub(super) struct NonInviteClient {
    state: State,
}

impl NonInviteClient {
    /// Sends the request and enters Trying.
    pub(super) fn start(core: &mut Core, now: Instant) -> Self {
        core.transmit_request();
        let timer_e = core
            .is_unreliable()
            .then(|| Retransmit::start(now, core.timers.t1));
        let timer_f = deadline(now, core.timers.transaction_timeout());
        Self {
            state: State::Active {
                proceeding: false,
                timer_e,
                timer_f,
            },
        }
    }

    pub(super) fn state(&self) -> ClientState {
        match self.state {
            State::Active {
                proceeding: false, ..
            } => ClientState::Trying,
            State::Active {
                proceeding: true, ..
            } => ClientState::Proceeding,
            State::Completed { .. } => ClientState::Completed,
            State::Terminated => ClientState::Terminated,
        }
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Active {
                timer_e, timer_f, ..
            } => earliest([timer_e.and_then(|e| e.at), *timer_f]),
            State::Completed { timer_k } => *timer_k,
            State::Terminated => None,
        }
    }

    pub(super) fn on_response(&mut self, core: &mut Core, response: SipMessage, now: Instant) {
        let Some(status) = response.status() else {
            return;
        };
        let State::Active { proceeding, .. } = &mut self.state else {
            // Completed absorbs retransmitted finals; Terminated hears nothing.
            return;
        };
        if status.is_provisional() {
            *proceeding = true;
            core.event(TransactionEvent::Response(response));
        } else if status.is_final() {
            core.event(TransactionEvent::Response(response));
            core.release_request();
            let wait = core.timers.timer_k(core.reliability);
            if wait.is_zero() {
                self.finish(core);
            } else {
                self.state = State::Completed {
                    timer_k: deadline(now, wait),
                };
            }
        }
    }

    pub(super) fn on_timeout(&mut self, core: &mut Core, now: Instant) {
        match &mut self.state {
            State::Active {
                proceeding,
                timer_e,
                timer_f,
            } => {
                if due(*timer_f, now) {
                    core.event(TransactionEvent::Timeout);
                    self.finish(core);
                    return;
                }
                if let Some(e) = timer_e {
                    if due(e.at, now) {
                        core.transmit_request();
                        // Trying: double up to T2. Proceeding: T2 (§17.1.2.2).
                        let next = if *proceeding {
                            core.timers.t2
                        } else {
                            e.interval.saturating_mul(2).min(core.timers.t2)
                        };
                        e.reset(now, next);
                    }
                }
            }
            State::Completed { timer_k } => {
                if due(*timer_k, now) {
                    self.finish(core);
                }
            }
            State::Terminated => {}
        }
    }

    pub(super) fn on_transport_error(&mut self, core: &mut Core, error: TransportFailure) {
        match self.state {
            State::Active { .. } => {
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
