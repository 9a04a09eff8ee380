//! The UDP socket's reader: each datagram is one message (RFC 3261 §18.3),
//! handed to the driver in arrival order. The driver sends on the same
//! socket, so responses come back to the port the requests left from.

use std::cell::RefCell;
use std::io;
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

thread_local! {
    /// The receive buffer of every UDP reader on this thread. A datagram is
    /// parsed into an owned message before the reader awaits again, so one
    /// 64 KiB buffer per thread serves them all: a buffer per socket would
    /// be most of a registered user agent's memory (BENCHMARKS.md, "Scale").
    static DATAGRAM: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

async fn read_loop(socket: Arc<UdpSocket>, limits: FramingLimits, events: mpsc::Sender<Event>) {
    loop {
        if let Err(error) = socket.readable().await {
            // Only when the runtime is going away.
            tracing::debug!(%error, "UDP socket no longer readable");
            return;
        }
        let Some(event) = DATAGRAM.with(|datagram| receive(&socket, &limits, datagram)) else {
            continue;
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

/// Takes one datagram, if there is one, with `datagram` as the buffer.
fn receive(
    socket: &UdpSocket,
    limits: &FramingLimits,
    datagram: &RefCell<Vec<u8>>,
) -> Option<Event> {
    let mut datagram = datagram.borrow_mut();
    if datagram.len() < MAX_DATAGRAM {
        datagram.resize(MAX_DATAGRAM, 0);
    }
    let (len, peer) = match socket.try_recv_from(&mut datagram) {
        Ok(received) => received,
        // Readiness was stale; `try_recv_from` cleared it.
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => return None,
        Err(error) => {
            // ICMP errors for earlier sends surface here on some systems
            // (WSAECONNRESET on Windows); the socket itself is fine, and a
            // lost request is retransmitted or times out.
            tracing::debug!(%error, "UDP receive error");
            return None;
        }
    };
    let bytes = datagram.get(..len).unwrap_or_default();
    let flow = Flow::Udp(peer);
    match parse_datagram(bytes, limits) {
        Ok(message) => Some(Event::Message { flow, message }),
        // A keep-alive (CRLF) datagram.
        Err(FrameError::NoMessage) => None,
        Err(error) => {
            tracing::warn!(%peer, %error, bytes = len, "skipping a malformed datagram");
            let hint = MalformedHint::inspect(bytes);
            Some(Event::Malformed { flow, error, hint })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] =
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n\
        Call-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";

    async fn reader() -> (std::net::SocketAddr, mpsc::Receiver<Event>, AbortHandle) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("local address");
        let (tx, rx) = mpsc::channel(8);
        let task = spawn_udp_reader(Arc::new(socket), FramingLimits::default(), tx);
        (addr, rx, task)
    }

    fn status(event: Option<Event>) -> Option<u16> {
        match event {
            Some(Event::Message { message, .. }) => message.status().map(|s| s.0),
            _ => None,
        }
    }

    /// Several sockets on one thread share the receive buffer: each still
    /// gets its own datagrams, whole, in order; a keep-alive is skipped and a
    /// malformed datagram is reported with what could be read of it.
    #[tokio::test]
    async fn readers_on_one_thread_each_get_their_datagrams() {
        let (a, mut rx_a, task_a) = reader().await;
        let (b, mut rx_b, task_b) = reader().await;
        let peer = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let big = {
            let mut m = RESPONSE.to_vec();
            m.truncate(m.len() - "Content-Length: 0\r\n\r\n".len());
            m.extend_from_slice(
                format!("Content-Length: 30000\r\n\r\n{}", "x".repeat(30_000)).as_bytes(),
            );
            m
        };
        peer.send_to(b"\r\n\r\n", a).await.expect("send");
        peer.send_to(&big, a).await.expect("send");
        peer.send_to(RESPONSE, b).await.expect("send");
        peer.send_to(
            b"SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\nbroken\r\n\r\n",
            b,
        )
        .await
        .expect("send");
        peer.send_to(RESPONSE, a).await.expect("send");

        let first = rx_a.recv().await;
        let Some(Event::Message { message, .. }) = first else {
            panic!("the large datagram, whole");
        };
        assert_eq!(message.body.len(), 30_000);
        assert_eq!(status(rx_b.recv().await), Some(200));
        match rx_b.recv().await {
            Some(Event::Malformed { hint, .. }) => {
                assert_eq!(hint.status, Some(486));
                assert_eq!(hint.branch.as_deref(), Some("z9hG4bKb"));
            }
            _ => panic!("the malformed datagram is reported"),
        }
        assert_eq!(status(rx_a.recv().await), Some(200));
        task_a.abort();
        task_b.abort();
    }
}
