//! Requests from the server: absorbing retransmissions in server
//! transactions, handing requests to the app, and the driver's own answers
//! to what the app leaves unanswered.

use tokio::sync::mpsc;

use ezk_sip_types::msg::MessageLine;
use ezk_sip_types::uri::SipUriUserPart;
use ezk_sip_types::Name;

use super::task::{now, MemberId, State};
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
                self.servers.insert(
                    key.clone(),
                    Server {
                        txn,
                        flow,
                        armed: None,
                    },
                );
                // Arms its timer, if it starts with one.
                self.drain_server(&key);
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

    /// The member of a shared driver `request` is for: the one whose
    /// Contact user is the Request-URI's (a request in one of its dialogs,
    /// or to its registered Contact), else the one whose address-of-record
    /// user is the `To`'s.
    fn member_for(&self, request: &SipMessage) -> Option<MemberId> {
        let by_uri = match &request.line {
            MessageLine::Request(line) => match &line.uri.user_part {
                SipUriUserPart::User(user) => self.by_contact.get(&user[..]).copied(),
                _ => None,
            },
            MessageLine::Response(_) => None,
        };
        by_uri.or_else(|| {
            let to = request.header_value(&Name::TO)?;
            let uri = to.split('<').nth(1).unwrap_or(to);
            let user = super::uri_user(uri.trim())?;
            self.by_aor.get(user).copied()
        })
    }

    /// Hands a request to the app (on a shared driver, to its member), or
    /// answers it at once if nobody is listening.
    pub(super) fn deliver(&mut self, request: SipMessage, id: Option<u64>) {
        let reply = id.and_then(|id| {
            Some(Reply {
                id,
                commands: self.commands_tx.upgrade()?,
            })
        });
        let member = if self.shared {
            self.member_for(&request)
        } else {
            None
        };
        let sender = match member {
            Some(member) => self.members.get(&member).map(|m| &m.incoming),
            None => self.incoming_tx.as_ref(),
        };
        let Some(sender) = sender else {
            if self.shared {
                tracing::debug!(method = ?request.method(), "request for no member of the shared driver");
            }
            if let Some(id) = id {
                self.answer(id, &request, false);
            }
            return;
        };
        let incoming = Box::new(IncomingRequest { request, reply });
        if let Err(mpsc::error::SendError(mut unsent)) = sender.send(incoming) {
            if member.is_none() {
                self.incoming_tx = None;
            }
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
