//! The UDP socket's reader: each datagram is one message (RFC 3261 §18.3),
//! handed to the driver in arrival order. The driver sends on the same
//! socket, so responses come back to the port the requests left from.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::inspect::MalformedHint;
use super::{Event, Flow};
use crate::sip::{parse_datagram, FrameError, FramingLimits};

/// The largest UDP payload (IPv4: 65,535 − 8 − 20; a little more fits IPv6
/// jumbograms, which are not used).
const MAX_DATAGRAM: usize = 65_535;

/// Starts the task that reads `socket` until the driver goes away.
pub(crate) fn spawn_udp_reader(
    socket: Arc<UdpSocket>,
    limits: FramingLimits,
    events: mpsc::Sender<Event>,
) -> AbortHandle {
    tokio::spawn(read_loop(socket, limits, events)).abort_handle()
}

async fn read_loop(socket: Arc<UdpSocket>, limits: FramingLimits, events: mpsc::Sender<Event>) {
    let mut datagram = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, peer) = match socket.recv_from(&mut datagram).await {
            Ok(received) => received,
            Err(error) => {
                // ICMP errors for earlier sends surface here on some systems
                // (WSAECONNRESET on Windows); the socket itself is fine, and a
                // lost request is retransmitted or times out.
                tracing::debug!(%error, "UDP receive error");
                continue;
            }
        };
        let bytes = datagram.get(..len).unwrap_or_default();
        let flow = Flow::Udp(peer);
        let event = match parse_datagram(bytes, &limits) {
            Ok(message) => Event::Message { flow, message },
            // A keep-alive (CRLF) datagram.
            Err(FrameError::NoMessage) => continue,
            Err(error) => {
                tracing::warn!(%peer, %error, bytes = len, "skipping a malformed datagram");
                let hint = MalformedHint::inspect(bytes);
                Event::Malformed { flow, error, hint }
            }
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}
