//! Requests from the server: absorbing retransmissions in server
//! transactions, handing requests to the app, and the driver's own answers
//! to what the app leaves unanswered.

use tokio::sync::mpsc;

use super::task::{now, State};
use super::transactions::Server;
use super::{IncomingRequest, Reply};
use crate::sip::transaction::TransactionKey;
use crate::sip::{
    incoming_request_disposition, response_for, Disposition, ServerTransaction, SipMessage,
};
use crate::ua::transport::{self, Flow};

/// An incoming request the app may still answer.
pub(super) struct Unanswered {
    pub(super) request: SipMessage,
    pub(super) flow: Flow,
    /// Its server transaction, if it has one (INVITE gets stateless answers).
    pub(super) key: Option<TransactionKey>,
}

/// The most server transactions held at once. Over UDP each holds its
/// request and answer for Timer J (64·T1, 32 s) to absorb retransmissions,
/// so a flood of requests from any source would hold ~1 KB each for 32 s;
/// past this many, requests are answered statelessly (a retransmission is
/// answered again rather than absorbed). A user agent's server sends a
/// handful at a time (BYE, NOTIFY, OPTIONS).
pub(super) const MAX_SERVER_TRANSACTIONS: usize = 256;

impl State {
    pub(super) fn on_request(&mut self, flow: Flow, request: SipMessage) {
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
        let reliability = flow.reliability();
        let txn = if self.servers.len() < MAX_SERVER_TRANSACTIONS {
            ServerTransaction::new(request.clone(), reliability, self.timers, now)
                .map_err(|error| error.to_string())
        } else {
            Err(format!(
                "{MAX_SERVER_TRANSACTIONS} server transactions held already"
            ))
        };
        let key = match txn {
            Ok(txn) => {
                let key = txn.key().clone();
                self.servers.insert(key.clone(), Server { txn, flow });
                Some(key)
            }
            // INVITE, a request too broken for a transaction, or one too
            // many: answered statelessly on the flow it came in on.
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
    pub(super) fn deliver(&mut self, request: SipMessage, id: Option<u64>) {
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

    pub(super) fn answer(&mut self, id: u64, request: &SipMessage, dialog_exists: bool) {
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

    pub(super) fn respond(&mut self, id: u64, response: SipMessage) {
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
}
