//! Interop: `ocer::sip` framing and `ocer::diag::Collector` against SIPp, on
//! loopback, with plain `std::net` sockets.
//!
//! SIPp plays the server side of the MS-OCER 4.1 example
//! (`tests/sipp/invite_progress_504.xml`): `100 Trying`, then back to back a
//! `101 Progress Report` with `ms-diagnostics: 12006` and a `504 Server time-out`
//! with `ms-diagnostics: 1007`. The client sends the 4.1 INVITE, frames what comes
//! back, feeds it to a `Collector`, ACKs the 504, and checks the record. Many
//! calls share one connection (TCP) or socket (UDP), so a message lost or split
//! wrongly between reads shows up as a wrong record or a timeout. SIPp's exit
//! status then says whether it saw every call through, ACK included.
//!
//! Needs `sipp` on PATH: run `scripts/install-test-deps`.

// Helpers outside #[test] functions fail the test the same way.
#![allow(clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use ezk_sip_types::Name;
use ocer::diag::{
    Collector, CollectorLimits, DiagOrigin, Dropped, ErrorId, HeaderKind, TransactionRecord,
};
use ocer::sip::{
    frame_stream, parse_datagram, Framed, FramingLimits, RequestIdentity, SipMessage, StatusCode,
};
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::wire::{fresh_branch, fresh_call_id, OutgoingRequest};
use ocer_interop::Transport;
use ocer_test_support::sipp::driver::sipp_played_every_call;

/// Calls per SIPp run: enough for many different splits of the byte stream.
const CALLS: u32 = 50;
/// Every socket read is bounded by this, so a lost message fails the test
/// instead of hanging it.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// A client socket that sends requests and yields the messages SIPp sends back,
/// framed by `ocer`.
trait Wire {
    fn local_addr(&self) -> SocketAddr;
    fn send(&mut self, bytes: &[u8]);
    fn next_message(&mut self) -> SipMessage;
    /// Called before each transaction: lets the stream vary how it reads.
    fn start_call(&mut self, _call: u32) {}
}

/// One TCP connection, read in chunks of varying size and framed with
/// `frame_stream`.
struct StreamWire {
    stream: TcpStream,
    limits: FramingLimits,
    buf: Vec<u8>,
    chunk: usize,
    /// Sleep once after sending the next request, so that every response is
    /// queued before the first read.
    delay: Option<Duration>,
    /// Messages framed without reading since the previous one: they came in the
    /// same read (back to back).
    framed_from_buffer: u32,
    keep_alives: u32,
    /// Whether a read happened since the last message was framed.
    read_since_message: bool,
}

impl StreamWire {
    fn connect(server: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&server, IO_LIMIT).expect("connect to SIPp");
        stream
            .set_read_timeout(Some(IO_LIMIT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(IO_LIMIT))
            .expect("write timeout");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Self {
            stream,
            limits: FramingLimits::default(),
            buf: Vec::new(),
            chunk: 65_536,
            delay: None,
            framed_from_buffer: 0,
            keep_alives: 0,
            read_since_message: false,
        }
    }
}

impl Wire for StreamWire {
    fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send to SIPp");
        if let Some(delay) = self.delay.take() {
            thread::sleep(delay);
        }
    }

    fn start_call(&mut self, call: u32) {
        // Byte-at-a-time and odd sizes split messages at every possible point;
        // the large chunks with a delay take several messages in one read.
        const CHUNKS: [usize; 5] = [65_536, 1, 7, 100, 1024];
        self.chunk = CHUNKS[call as usize % CHUNKS.len()];
        self.delay = call.is_multiple_of(2).then_some(Duration::from_millis(50));
    }

    fn next_message(&mut self) -> SipMessage {
        loop {
            match frame_stream(&self.buf, &self.limits) {
                Framed::Incomplete => {
                    let mut chunk = vec![0u8; self.chunk];
                    let n = self.stream.read(&mut chunk).unwrap_or_else(|e| {
                        panic!(
                            "reading from SIPp: {e}; unframed bytes: {:?}",
                            String::from_utf8_lossy(&self.buf)
                        )
                    });
                    assert_ne!(
                        n,
                        0,
                        "SIPp closed the connection; unframed: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    );
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.read_since_message = true;
                }
                Framed::KeepAlive { consumed } => {
                    self.keep_alives += 1;
                    self.buf.drain(..consumed);
                }
                Framed::Message { message, consumed } => {
                    assert!(
                        consumed > 0 && consumed <= self.buf.len(),
                        "consumed {consumed} of {}",
                        self.buf.len()
                    );
                    self.buf.drain(..consumed);
                    if !self.read_since_message {
                        self.framed_from_buffer += 1;
                    }
                    self.read_since_message = false;
                    return message;
                }
                Framed::Error { error, skip } => panic!(
                    "framing error on SIPp's stream: {error} (skip {skip:?}); buffer: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        }
    }
}

/// One UDP socket; each datagram is parsed with `parse_datagram`.
struct DatagramWire {
    socket: UdpSocket,
    limits: FramingLimits,
}

impl DatagramWire {
    fn connect(server: SocketAddr) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        socket
            .set_read_timeout(Some(IO_LIMIT))
            .expect("read timeout");
        socket.connect(server).expect("connect UDP");
        Self {
            socket,
            limits: FramingLimits::default(),
        }
    }
}

impl Wire for DatagramWire {
    fn local_addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    fn send(&mut self, bytes: &[u8]) {
        let sent = self.socket.send(bytes).expect("send to SIPp");
        assert_eq!(sent, bytes.len());
    }

    fn next_message(&mut self) -> SipMessage {
        let mut datagram = vec![0u8; 65_535];
        let n = self
            .socket
            .recv(&mut datagram)
            .expect("a datagram from SIPp within the read timeout");
        parse_datagram(&datagram[..n], &self.limits).unwrap_or_else(|e| {
            panic!(
                "SIPp's datagram does not parse: {e}: {:?}",
                String::from_utf8_lossy(&datagram[..n])
            )
        })
    }
}

/// Sends `request`, collects every response until the final one, and returns the
/// record and the final response.
fn play_transaction(
    wire: &mut dyn Wire,
    request: &OutgoingRequest,
) -> (TransactionRecord, SipMessage) {
    let bytes = request.to_bytes();
    let parsed =
        SipMessage::parse(&bytes, &FramingLimits::default()).expect("our own request parses");
    let identity = RequestIdentity::from_request(&parsed).expect("our own request has an identity");
    let mut collector = Collector::new(identity, Instant::now(), CollectorLimits::default());
    wire.send(&bytes);
    loop {
        let response = wire.next_message();
        let status = response
            .status()
            .unwrap_or_else(|| panic!("SIPp sent a request: {response:?}"));
        collector
            .observe_response(&response, Instant::now())
            .unwrap_or_else(|e| {
                panic!("a response from SIPp was refused: {e}: {response:?}");
            });
        if status.0 >= 200 {
            return (collector.finish(), response);
        }
    }
}

/// The To tag SIPp's scenarios put on call `call` (0-based): `[pid]ocer[call_number]`.
fn sipp_to_tag(peer: &SippPeer, call: u32) -> String {
    format!("{}ocer{}", peer.pid(), call + 1)
}

/// One MS-OCER 4.1 INVITE transaction, with its ACK; checks the record.
fn invite_call(wire: &mut dyn Wire, transport: Transport, peer: &SippPeer, call: u32) {
    wire.start_call(call);
    let mut invite = OutgoingRequest::ms_ocer_4_1_invite().expect("the 4.1 INVITE fixture");
    let call_id = fresh_call_id();
    invite.bind_to(transport, wire.local_addr(), &fresh_branch(), &call_id);

    let (record, final_response) = play_transaction(wire, &invite);

    let to = final_response
        .header_values(&Name::TO)
        .next()
        .expect("the 504 has a To header");
    wire.send(&invite.ack(to).expect("the ACK for the 504").to_bytes());

    let context = format!("call {call}: {record:#?}");
    assert_eq!(record.identity.call_id, call_id, "{context}");
    assert_eq!(
        record
            .provisional
            .iter()
            .map(|p| p.status)
            .collect::<Vec<_>>(),
        vec![StatusCode(100), StatusCode(101)],
        "{context}"
    );
    assert_eq!(record.progress.len(), 1, "{context}");
    let progress = &record.progress[0];
    assert_eq!(
        progress.origin,
        DiagOrigin::Provisional(StatusCode(101)),
        "{context}"
    );
    assert_eq!(progress.kind, HeaderKind::Private, "{context}");
    assert_eq!(progress.error_id(), Some(ErrorId(12006)), "{context}");
    let parsed = progress
        .parsed
        .as_ref()
        .expect("the 101's ms-diagnostics parses");
    assert_eq!(
        parsed.reason.as_deref(),
        Some("Trying next hop"),
        "{context}"
    );

    let fin = record.final_response().expect("a final response");
    assert_eq!(
        (fin.status, fin.reason_phrase.as_str()),
        (StatusCode(504), "Server time-out"),
        "{context}"
    );
    assert_eq!(fin.diagnostics.len(), 1, "{context}");
    let diag = &fin.diagnostics[0];
    assert_eq!(diag.origin, DiagOrigin::Final(StatusCode(504)), "{context}");
    let parsed = diag
        .parsed
        .as_ref()
        .expect("the 504's ms-diagnostics parses");
    assert_eq!(parsed.error_id, ErrorId(1007), "{context}");
    assert_eq!(
        parsed.reason.as_deref(),
        Some("Temporarily cannot route"),
        "{context}"
    );
    assert_eq!(
        parsed.source.as_deref(),
        Some("server.contoso.com"),
        "{context}"
    );

    assert_eq!(
        record.identity.to_tag,
        Some(sipp_to_tag(peer, call)),
        "{context}"
    );
    assert_eq!(
        record
            .diagnostics_by_priority()
            .map(|d| d.error_id())
            .collect::<Vec<_>>(),
        vec![Some(ErrorId(1007)), Some(ErrorId(12006))],
        "{context}"
    );
    assert!(record.is_failure(), "{context}");
    assert_eq!(record.dropped, Dropped::default(), "{context}");
}

#[test]
fn invite_over_tcp_collects_back_to_back_diagnostics_for_every_call() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, CALLS),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut wire = StreamWire::connect(peer.addr());
    for call in 0..CALLS {
        invite_call(&mut wire, Transport::Tcp, &peer, call);
    }
    assert!(
        wire.buf.is_empty(),
        "bytes after the last response: {:?}",
        String::from_utf8_lossy(&wire.buf)
    );
    assert_eq!(wire.keep_alives, 0);
    eprintln!(
        "{} of {} responses were framed from bytes already buffered",
        wire.framed_from_buffer,
        CALLS * 3
    );
    // The delayed calls read all three responses at once: `frame_stream` must
    // have found messages already buffered, not only one per read.
    assert!(
        wire.framed_from_buffer > 0,
        "no two messages ever arrived in one read"
    );
    sipp_played_every_call(peer, CALLS as usize, IO_LIMIT);
}

#[test]
fn invite_over_udp_collects_diagnostics_for_every_call() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Udp, CALLS),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut wire = DatagramWire::connect(peer.addr());
    for call in 0..CALLS {
        invite_call(&mut wire, Transport::Udp, &peer, call);
    }
    sipp_played_every_call(peer, CALLS as usize, IO_LIMIT);
}

#[test]
fn message_over_tcp_collects_public_diagnostics() {
    const MESSAGES: u32 = 10;
    let peer = SippPeer::start(
        &Scenario::message_progress_403(),
        &SippConfig::new(Transport::Tcp, MESSAGES),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut wire = StreamWire::connect(peer.addr());
    for call in 0..MESSAGES {
        wire.start_call(call);
        let mut message = OutgoingRequest::ms_ocer_4_1_invite().expect("the 4.1 INVITE fixture");
        message.set_method("MESSAGE").expect("CSeq");
        message.remove_header("Contact");
        message.set_body(Some("text/plain;charset=UTF-8"), "Hello from ocer-interop");
        message.bind_to(
            Transport::Tcp,
            wire.local_addr(),
            &fresh_branch(),
            &fresh_call_id(),
        );

        let (record, _final) = play_transaction(&mut wire, &message);

        let context = format!("message {call}: {record:#?}");
        assert_eq!(record.identity.method, "MESSAGE", "{context}");
        assert_eq!(
            record
                .provisional
                .iter()
                .map(|p| p.status)
                .collect::<Vec<_>>(),
            vec![StatusCode(101)],
            "{context}"
        );
        assert_eq!(record.progress.len(), 1, "{context}");
        assert_eq!(record.progress[0].kind, HeaderKind::Public, "{context}");
        assert_eq!(
            record.progress[0].error_id(),
            Some(ErrorId(12006)),
            "{context}"
        );

        let fin = record.final_response().expect("a final response");
        assert_eq!(
            (fin.status, fin.reason_phrase.as_str()),
            (StatusCode(403), "Forbidden"),
            "{context}"
        );
        assert_eq!(fin.diagnostics.len(), 1, "{context}");
        let diag = &fin.diagnostics[0];
        assert_eq!(
            (diag.kind, &diag.origin),
            (HeaderKind::Public, &DiagOrigin::Final(StatusCode(403))),
            "{context}"
        );
        let parsed = diag
            .parsed
            .as_ref()
            .expect("the 403's ms-diagnostics-public parses");
        assert_eq!(parsed.error_id, ErrorId(3027), "{context}");
        assert_eq!(
            parsed.reason.as_deref().map(str::trim),
            Some("User not allowed in closed conference"),
            "{context}"
        );
        assert_eq!(parsed.source, None, "{context}");
        assert_eq!(
            record.identity.to_tag,
            Some(sipp_to_tag(&peer, call)),
            "{context}"
        );
        assert_eq!(record.dropped, Dropped::default(), "{context}");
    }
    assert!(
        wire.buf.is_empty(),
        "bytes after the last response: {:?}",
        String::from_utf8_lossy(&wire.buf)
    );
    // A non-INVITE transaction is not acknowledged.
    sipp_played_every_call(peer, 0, IO_LIMIT);
}
