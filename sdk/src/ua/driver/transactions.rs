//! Client and server transactions: starting them, feeding them responses,
//! requests and timeouts, sending what they transmit, and the ACKs kept for
//! 2xx retransmissions (RFC 3261 §13.2.2.4).

use std::net::SocketAddr;
use std::time::Instant;

use super::deadlines::Side;
use super::task::EventTx;
use ezk_sip_types::Name;

use super::task::{now, set_via, PendingRequest, State};
use crate::sip::transaction::{top_via, TransactionKey};
use crate::sip::{
    ClientTransaction, ServerTransaction, SipMessage, TransactionEvent, TransportFailure,
    TransportFailureKind,
};
use crate::ua::transport::{Flow, MalformedHint};

/// A request sent again on another flow (RFC 3263 failover) names the old
/// flow in its `Contact` (the user agent built it from the old connection's
/// local address): that address and `transport` parameter become the new
/// flow's, so the registrar binds what it can reach.
fn follow_flow(
    request: &mut SipMessage,
    (old_local, old_kind): (SocketAddr, crate::ua::transport::TransportKind),
    (local, kind): (SocketAddr, crate::ua::transport::TransportKind),
) {
    if old_local == local && old_kind == kind {
        return;
    }
    let contacts: Vec<String> = request
        .header_values(&Name::CONTACT)
        .map(|value| {
            value
                .replace(&format!("@{old_local}"), &format!("@{local}"))
                .replace(
                    &format!(";transport={}", old_kind.uri_param()),
                    &format!(";transport={}", kind.uri_param()),
                )
        })
        .collect();
    if contacts.is_empty() {
        return;
    }
    request.headers.remove(&Name::CONTACT);
    for contact in contacts {
        request.headers.insert(Name::CONTACT, contact);
    }
}

/// A running client transaction.
pub(super) struct Client {
    pub(super) txn: ClientTransaction,
    pub(super) flow: Flow,
    pub(super) events: EventTx,
    /// The member of a shared driver it is of (0: none).
    pub(super) member: super::task::MemberId,
    /// `sip.transaction` (method, Call-ID, branch): entered while it runs.
    pub(super) span: tracing::Span,
    /// The deadline it has in [`Deadlines`](super::deadlines::Deadlines).
    pub(super) armed: Option<Instant>,
}

/// A running server transaction.
pub(super) struct Server {
    pub(super) txn: ServerTransaction,
    pub(super) flow: Flow,
    /// The deadline it has in [`Deadlines`](super::deadlines::Deadlines).
    pub(super) armed: Option<Instant>,
}

/// An ACK for a 2xx, kept to answer the 2xx's retransmissions.
pub(super) struct SentAck {
    pub(super) request: SipMessage,
    pub(super) flow: Flow,
    pub(super) until: Instant,
}

impl State {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.next()
    }

    pub(super) fn on_timeout(&mut self) {
        let now = now();
        for (at, side, key) in self.deadlines.due(now) {
            let txn = match side {
                Side::Client => self
                    .clients
                    .get_mut(&key)
                    .map(|c| c.txn.handle_timeout(now)),
                Side::Server => self
                    .servers
                    .get_mut(&key)
                    .map(|s| s.txn.handle_timeout(now)),
            };
            match (txn, side) {
                (Some(()), Side::Client) => self.drain_client(&key),
                (Some(()), Side::Server) => self.drain_server(&key),
                // Every removal disarms; should one not, its entry must not
                // wake the driver in a loop.
                (None, _) => self.deadlines.rearm(side, &key, &mut Some(at), None),
            }
        }
    }

    /// Starts the CANCEL of a pending INVITE (RFC 3261 §9.1): the INVITE's
    /// top Via (so its branch), on the INVITE's flow. With no INVITE pending
    /// on that branch there is nothing to cancel, and the CANCEL fails as a
    /// transaction would.
    pub(super) fn cancel(
        &mut self,
        mut request: SipMessage,
        invite_branch: &str,
        events: EventTx,
        member: super::task::MemberId,
    ) {
        let invite = TransactionKey {
            branch: invite_branch.to_owned(),
            method: "INVITE".to_owned(),
        };
        let Some((flow, via)) = self.clients.get(&invite).and_then(|client| {
            let via = top_via(client.txn.request()?)?.to_owned();
            Some((client.flow, via))
        }) else {
            let failure = TransportFailure::new(
                TransportFailureKind::Other,
                "no INVITE pending on this branch",
            );
            let _ = events.send(Box::new(TransactionEvent::TransportError(failure)));
            let _ = events.send(Box::new(TransactionEvent::Terminated));
            return;
        };
        request.headers.remove(&Name::VIA);
        request.headers.insert_front(Name::VIA, via);
        if !request.headers.contains(&Name::MAX_FORWARDS) {
            request.headers.insert(Name::MAX_FORWARDS, "70");
        }
        self.start_transaction(request, flow, events, member);
    }

    /// Answers [`Command::LocalAddr`]: the UDP socket's address at once; for
    /// TCP and TLS the current connection's, opening one if there is none.
    pub(super) fn start_client(&mut self, pending: PendingRequest, flow: Flow, local: SocketAddr) {
        let PendingRequest {
            mut request,
            branch,
            events,
            member,
            moved_from,
        } = pending;
        let kind = self.net.kind_of(flow);
        if let Some((old_local, old_kind)) = moved_from {
            follow_flow(&mut request, (old_local, old_kind), (local, kind));
        }
        set_via(&mut request, kind, local, &branch);
        self.start_transaction(request, flow, events, member);
    }

    /// Starts a client transaction for `request` (its Via already set) on `flow`.
    pub(super) fn start_transaction(
        &mut self,
        request: SipMessage,
        flow: Flow,
        events: EventTx,
        member: super::task::MemberId,
    ) {
        let reliability = flow.reliability();
        let txn = match ClientTransaction::new(request, reliability, self.timers, now()) {
            Ok(txn) => txn,
            Err(error) => {
                // `send_request` checked the request, so this is only
                // reachable if the checks disagree; say so.
                tracing::error!(%error, "request refused by the transaction layer");
                let failure = TransportFailure::new(TransportFailureKind::Other, error.to_string());
                let _ = events.send(Box::new(TransactionEvent::TransportError(failure)));
                let _ = events.send(Box::new(TransactionEvent::Terminated));
                return;
            }
        };
        let key = txn.key().clone();
        let span = txn.request().map_or_else(tracing::Span::none, |request| {
            crate::ua::wire::transaction_span(request, &key.branch)
        });
        if self.clients.contains_key(&key) {
            // 128 random bits make this a bug, not bad luck.
            tracing::error!(branch = %key.branch, "duplicate branch; request refused");
            let failure = TransportFailure::new(TransportFailureKind::Other, "duplicate branch");
            let _ = events.send(Box::new(TransactionEvent::TransportError(failure)));
            let _ = events.send(Box::new(TransactionEvent::Terminated));
            return;
        }
        self.clients.insert(
            key.clone(),
            Box::new(Client {
                txn,
                flow,
                events,
                member,
                span,
                armed: None,
            }),
        );
        self.drain_client(&key);
    }

    /// Sends what the transaction wants sent and passes on its events; a
    /// failed send is fed back as a transport error. Removes it once over.
    pub(super) fn drain_client(&mut self, key: &TransactionKey) {
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        let span = client.span.clone();
        let _in_transaction = span.enter();
        loop {
            let mut progressed = false;
            while let Some(message) = client.txn.poll_transmit() {
                progressed = true;
                if let Err(failure) = self.net.transmit(client.flow, &message) {
                    client.txn.handle_transport_error(failure, now());
                }
            }
            while let Some(event) = client.txn.poll_event() {
                progressed = true;
                // The app may have stopped listening; the transaction still
                // runs to its end (it must still ACK, absorb retransmissions).
                let _ = client.events.send(Box::new(event));
            }
            if !progressed {
                break;
            }
        }
        let next = client
            .txn
            .poll_timeout()
            .filter(|_| !client.txn.is_terminated());
        self.deadlines
            .rearm(Side::Client, key, &mut client.armed, next);
        if client.txn.is_terminated() {
            self.clients.remove(key);
            shrink_if_sparse(&mut self.clients);
        }
    }

    pub(super) fn drain_server(&mut self, key: &TransactionKey) {
        let Some(server) = self.servers.get_mut(key) else {
            return;
        };
        while let Some(message) = server.txn.poll_transmit() {
            if let Err(failure) = self.net.transmit(server.flow, &message) {
                server.txn.handle_transport_error(failure, now());
            }
        }
        let next = server
            .txn
            .poll_timeout()
            .filter(|_| !server.txn.is_terminated());
        self.deadlines
            .rearm(Side::Server, key, &mut server.armed, next);
        if server.txn.is_terminated() {
            self.servers.remove(key);
        }
    }

    pub(super) fn on_response(&mut self, response: SipMessage) {
        let key = TransactionKey::of(&response);
        // The driver's own filter, then (on a shared driver) the filter of
        // the member whose transaction it answers: each member has its own
        // security association.
        let member = key
            .as_ref()
            .and_then(|key| self.clients.get(key))
            .map_or(0, |client| client.member);
        let filters = [
            self.response_filter.as_ref(),
            (member != 0).then(|| self.filter_of(member)).flatten(),
        ];
        for filter in filters.into_iter().flatten() {
            if !(filter.0)(&response) {
                tracing::debug!(status = ?response.status(), "response refused by the filter");
                return;
            }
        }
        let Some(key) = key else {
            tracing::debug!("response without branch or CSeq dropped");
            return;
        };
        if self.fail_over_unavailable(&key, &response) {
            return;
        }
        match self.clients.get_mut(&key) {
            Some(client) => {
                client.txn.handle_response(response, now());
                self.drain_client(&key);
            }
            // 2xx retransmissions to a finished INVITE get their ACK again;
            // other late responses are dropped.
            None => {
                if !self.ack_again(&response) {
                    tracing::debug!(branch = %key.branch, status = ?response.status(), "stray response dropped")
                }
            }
        }
    }

    /// Keeps a 2xx's ACK for the 2xx's retransmissions (and forgets those
    /// kept longer than 64·T1, when the server has stopped retransmitting).
    pub(super) fn remember_ack(&mut self, ack: SipMessage, flow: Flow) {
        let now = now();
        self.acks.retain(|_, sent| sent.until > now);
        let Some((cseq, _)) = crate::sip::transaction::cseq_of(&ack) else {
            return;
        };
        let Some(call_id) = ack
            .header_value(&Name::CALL_ID)
            .map(|c| c.trim().to_owned())
        else {
            return;
        };
        let until = now + self.timers.transaction_timeout();
        self.acks.insert(
            (call_id, cseq),
            SentAck {
                request: ack,
                flow,
                until,
            },
        );
    }

    /// Sends the ACK again if `response` is a retransmitted 2xx to an INVITE
    /// already ACKed; whether it was.
    pub(super) fn ack_again(&mut self, response: &SipMessage) -> bool {
        if !response.status().is_some_and(|s| s.is_success()) {
            return false;
        }
        let Some((cseq, "INVITE")) = crate::sip::transaction::cseq_of(response) else {
            return false;
        };
        let Some(call_id) = response.header_value(&Name::CALL_ID).map(str::trim) else {
            return false;
        };
        let Some(sent) = self.acks.get(&(call_id.to_owned(), cseq)) else {
            return false;
        };
        if sent.until <= now() {
            return false;
        }
        tracing::debug!(call_id, cseq, "2xx retransmitted; ACK sent again");
        if let Err(failure) = self.net.transmit(sent.flow, &sent.request) {
            tracing::warn!(%failure, "ACK not sent again");
        }
        true
    }

    /// A response that could not be parsed: if it was (or may have been) a
    /// final response, its transaction fails now rather than time out.
    pub(super) fn on_malformed(
        &mut self,
        flow: Flow,
        error: &crate::sip::FrameError,
        hint: MalformedHint,
    ) {
        if hint.is_request || hint.status.is_some_and(|s| s < 200) {
            return;
        }
        let Some(branch) = hint.branch else {
            return;
        };
        let keys: Vec<TransactionKey> = self
            .clients
            .iter()
            .filter(|(k, c)| {
                k.branch == branch
                    && hint.cseq_method.as_ref().is_none_or(|m| *m == k.method)
                    && (matches!(flow, Flow::Udp(_)) || c.flow == flow)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let failure = TransportFailure::new(
            TransportFailureKind::Framing,
            format!("malformed response: {error}"),
        );
        for key in keys {
            if let Some(client) = self.clients.get_mut(&key) {
                client.txn.handle_transport_error(failure.clone(), now());
            }
            self.drain_client(&key);
        }
    }

    /// Fails every transaction on `flow` (its connection ended).
    pub(super) fn fail_flow(&mut self, flow: Flow, failure: &TransportFailure) {
        let now = now();
        let clients: Vec<TransactionKey> = self
            .clients
            .iter()
            .filter(|(_, c)| c.flow == flow)
            .map(|(k, _)| k.clone())
            .collect();
        for key in clients {
            if let Some(client) = self.clients.get_mut(&key) {
                client.txn.handle_transport_error(failure.clone(), now);
            }
            self.drain_client(&key);
        }
        let servers: Vec<TransactionKey> = self
            .servers
            .iter()
            .filter(|(_, s)| s.flow == flow)
            .map(|(k, _)| k.clone())
            .collect();
        for key in servers {
            if let Some(server) = self.servers.get_mut(&key) {
                server.txn.handle_transport_error(failure.clone(), now);
            }
            self.drain_server(&key);
        }
    }
}

/// Gives back a map's memory once a burst is over. Over UDP a client
/// transaction lives through Timer K (T4) after its response, so a burst
/// (10,000 agents registering at once) grows the map to thousands of entries
/// held inline; a `HashMap` keeps that capacity for good, which idle agents
/// would then pay for. Shrinks to twice the length when under a quarter full.
pub(super) fn shrink_if_sparse<K: Eq + std::hash::Hash, V>(
    map: &mut std::collections::HashMap<K, V>,
) {
    const FLOOR: usize = 64;
    if map.capacity() > FLOOR && map.len() < map.capacity() / 4 {
        map.shrink_to((map.len() * 2).max(FLOOR));
    }
}

#[cfg(test)]
mod shrink_tests {
    use super::shrink_if_sparse;
    use std::collections::HashMap;

    #[test]
    fn a_map_gives_back_its_memory_once_a_burst_is_over() {
        let mut map: HashMap<u32, [u8; 256]> = (0..10_000).map(|i| (i, [0; 256])).collect();
        let peak = map.capacity();
        for i in 0..9_990 {
            map.remove(&i);
            shrink_if_sparse(&mut map);
        }
        assert_eq!(map.len(), 10);
        assert!(map.capacity() < peak / 16, "{} of {peak}", map.capacity());
        assert!(map.capacity() >= 64);
        // Small maps are left alone: no shrinking back and forth.
        let mut small: HashMap<u32, u8> = (0..40).map(|i| (i, 0)).collect();
        let capacity = small.capacity();
        small.clear();
        shrink_if_sparse(&mut small);
        assert_eq!(small.capacity(), capacity);
    }
}
