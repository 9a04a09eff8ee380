//! The driver over TCP and TLS against in-process peers: ordered delivery
//! of back-to-back responses, failures that end a transaction at once with a
//! typed error (and leave the user agent working), keep-alives, certificates.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::time::{Duration, Instant};

use ocer::sip::{TransactionEvent, TransportFailureKind};
use ocer::ua::transport::{Target, TransportKind};
use ocer_test_support::prelude::*;

/// The transport failure a transaction ended with.
fn failure(events: &[TransactionEvent]) -> &ocer::sip::TransportFailure {
    match events {
        [.., TransactionEvent::TransportError(f), TransactionEvent::Terminated] => f,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

async fn peer(tls: bool) -> (StreamPeer, Option<TestCa>) {
    if tls {
        let ca = TestCa::new("ocer test CA");
        (StreamPeer::bind(Some(ca.acceptor())).await, Some(ca))
    } else {
        (StreamPeer::bind(None).await, None)
    }
}

/// 1,000 transactions, 16 in flight at a time, each answered by a 101 and a
/// final response written in one go: every 101 must come out, before its final.
async fn back_to_back_pairs(tls: bool) {
    const CALLS: usize = 1000;
    const IN_FLIGHT: usize = 16;
    let (peer, ca) = peer(tls).await;
    let (driver, _incoming) = driver(peer.target(), ca.map(|ca| ca.client_config())).await;
    let server = tokio::spawn(async move {
        let mut conn = peer.accept().await;
        for _ in 0..CALLS {
            let request = conn.next().await;
            conn.send(&progress_and_final(&request, "403 Forbidden"))
                .await;
        }
        conn
    });
    let mut sent = 0;
    let mut running = tokio::task::JoinSet::new();
    while sent < CALLS || !running.is_empty() {
        while sent < CALLS && running.len() < IN_FLIGHT {
            let mut stream = driver.send_request(request("MESSAGE", sent)).unwrap();
            running.spawn(async move { collect(&mut stream).await });
            sent += 1;
        }
        let events = running.join_next().await.unwrap().unwrap();
        assert_eq!(statuses(&events), [101, 403], "{events:?}");
        assert_eq!(events.len(), 3);
    }
    let conn = server.await.unwrap();
    assert_eq!(conn.ping_bytes, 0);
    driver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_back_to_back_101_and_final_over_tcp_keep_every_101() {
    back_to_back_pairs(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_back_to_back_101_and_final_over_tls_keep_every_101() {
    back_to_back_pairs(true).await;
}

/// An INVITE gets 100, 101 and 504 back to back: the events come in that
/// order and the transaction ACKs the 504 on the same connection.
async fn invite_504_and_ack(tls: bool) {
    let (peer, ca) = peer(tls).await;
    let (driver, _incoming) = driver(peer.target(), ca.map(|ca| ca.client_config())).await;
    let mut stream = driver.send_request(request("INVITE", 1)).unwrap();
    let mut conn = peer.accept().await;
    let invite = conn.next().await;
    let via = invite
        .header_value(&ezk_sip_types::Name::VIA)
        .unwrap()
        .to_owned();
    let token = if tls { "TLS" } else { "TCP" };
    assert!(
        via.starts_with(&format!("SIP/2.0/{token} 127.0.0.1:")),
        "{via}"
    );
    assert!(via.contains(";rport;branch=z9hG4bK"), "{via}");
    assert!(via.ends_with(stream.branch()), "{via}");
    assert_eq!(
        invite.header_value(&ezk_sip_types::Name::MAX_FORWARDS),
        Some("70")
    );
    let mut bytes = response(&invite, "100 Trying", "", "");
    bytes.extend(progress_and_final(&invite, "504 Server time-out"));
    conn.send(&bytes).await;

    let events = collect(&mut stream).await;
    assert_eq!(statuses(&events), [100, 101, 504], "{events:?}");
    let TransactionEvent::Response(progress) = &events[1] else {
        unreachable!()
    };
    assert!(progress
        .header_value(&ezk_sip_types::Name::from("ms-diagnostics"))
        .is_some_and(|d| d.starts_with("12006;")));

    let ack = conn.next().await;
    assert_eq!(ack.method(), Some(&ezk_sip_types::Method::ACK));
    assert_eq!(
        ack.header_value(&ezk_sip_types::Name::VIA),
        Some(via.as_str())
    );
    assert_eq!(ack.header_value(&ezk_sip_types::Name::CSEQ), Some("1 ACK"));
    assert!(ack
        .header_value(&ezk_sip_types::Name::TO)
        .is_some_and(|to| to.ends_with(";tag=srv1")));
    driver.shutdown().await;
}

#[tokio::test]
async fn invite_100_101_504_in_order_with_ack_over_tcp() {
    invite_504_and_ack(false).await;
}

#[tokio::test]
async fn invite_100_101_504_in_order_with_ack_over_tls() {
    invite_504_and_ack(true).await;
}

/// The first transaction fails as `bad` says; a second request succeeds, on
/// the connection `bad` gives back or else on a new one.
async fn fails_then_recovers(
    tls: bool,
    bad: impl AsyncFnOnce(PeerConn, ocer::sip::SipMessage) -> Option<PeerConn>,
) -> ocer::sip::TransportFailure {
    let (peer, ca) = peer(tls).await;
    let (driver, _incoming) = driver(peer.target(), ca.map(|ca| ca.client_config())).await;

    let mut first = driver.send_request(request("INVITE", 1)).unwrap();
    let mut conn = peer.accept().await;
    let invite = conn.next().await;
    conn.send(&response(&invite, "100 Trying", "", "")).await;
    let started = Instant::now();
    let kept = bad(conn, invite).await;
    let events = collect(&mut first).await;
    // "At once": far below Timer B (64·T1 = 3.2 s here, 32 s by default).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(statuses(&events), [100], "{events:?}");
    let failure = failure(&events).clone();

    let mut second = driver.send_request(request("MESSAGE", 2)).unwrap();
    let mut conn = match kept {
        Some(conn) => conn,
        None => peer.accept().await,
    };
    let message = conn.next().await;
    conn.send(&response(&message, "200 OK", "", "")).await;
    let events = collect(&mut second).await;
    assert_eq!(statuses(&events), [200], "{events:?}");
    driver.shutdown().await;
    failure
}

#[tokio::test]
async fn a_peer_closing_mid_transaction_fails_it_at_once() {
    for tls in [false, true] {
        let failure = fails_then_recovers(tls, async |conn, _| {
            drop(conn);
            None
        })
        .await;
        assert!(
            matches!(
                failure.kind,
                TransportFailureKind::ConnectionClosed | TransportFailureKind::ConnectionReset
            ),
            "tls {tls}: {failure:?}"
        );
    }
}

#[tokio::test]
async fn a_two_mebibyte_header_closes_the_connection_and_fails_the_transaction() {
    for tls in [false, true] {
        let failure = fails_then_recovers(tls, async |mut conn, invite| {
            let mut huge = response(&invite, "504 Server time-out", "", "");
            let filler = format!("X-Filler: {}\r\n", "a".repeat(2 * 1024 * 1024));
            let at = huge.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            huge.splice(at..at, filler.into_bytes());
            // The driver closes the connection part way through: the rest of
            // the write may fail, which is the point.
            let _ = tokio::io::AsyncWriteExt::write_all(&mut conn.io, &huge).await;
            // Keep the connection open: the failure must come from framing.
            tokio::time::sleep(Duration::from_millis(300)).await;
            None
        })
        .await;
        assert_eq!(
            failure.kind,
            TransportFailureKind::Framing,
            "tls {tls}: {failure:?}"
        );
        assert!(
            failure.message.contains("header section exceeds"),
            "{failure}"
        );
    }
}

/// Issue 17 item 1: a final response announcing `Content-Length:
/// 9999999999` and sending no body. Skipping the announced length left the
/// connection in use and deaf (every later response on it dropped); it is a
/// framing error: the connection closes, the transaction fails, the next
/// request opens a new connection and is answered.
#[tokio::test]
async fn a_content_length_over_the_limit_closes_the_connection_and_the_next_request_reconnects() {
    for tls in [false, true] {
        let run = fails_then_recovers(tls, async |mut conn, invite| {
            let bogus = String::from_utf8(response(&invite, "504 Server time-out", "", ""))
                .unwrap()
                .replace("Content-Length: 0\r\n", "Content-Length: 9999999999\r\n");
            conn.send(bogus.as_bytes()).await;
            // Kept open: on it the driver must not wait for 10 GB.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(conn);
            });
            None
        });
        // Bounded: on the deaf connection the second request never arrives.
        let failure = tokio::time::timeout(Duration::from_secs(4), run)
            .await
            .unwrap_or_else(|_| panic!("tls {tls}: the next request was never answered"));
        assert_eq!(
            failure.kind,
            TransportFailureKind::Framing,
            "tls {tls}: {failure:?}"
        );
    }
}

#[tokio::test]
async fn a_final_response_with_a_non_utf8_byte_fails_the_transaction() {
    for tls in [false, true] {
        let failure = fails_then_recovers(tls, async |mut conn, invite| {
            let good = response(&invite, "504 Server time-out", "X-Name: caf\u{e9}\r\n", "");
            let text = String::from_utf8(good).unwrap();
            // Latin-1 é: one byte, 0xE9, not UTF-8.
            let bad = text.replace("caf\u{e9}", "caf\u{1}").into_bytes();
            let bad: Vec<u8> = bad
                .into_iter()
                .map(|b| if b == 1 { 0xe9 } else { b })
                .collect();
            conn.send(&bad).await;
            // The message is skipped, the connection stays up and is reused.
            Some(conn)
        })
        .await;
        assert_eq!(
            failure.kind,
            TransportFailureKind::Framing,
            "tls {tls}: {failure:?}"
        );
        assert!(failure.message.contains("not UTF-8"), "{failure}");
    }
}

#[tokio::test]
async fn a_provisional_with_a_non_utf8_byte_is_skipped() {
    let (peer, _) = peer(false).await;
    let (driver, _incoming) = driver(peer.target(), None).await;
    let mut stream = driver.send_request(request("INVITE", 1)).unwrap();
    let mut conn = peer.accept().await;
    let invite = conn.next().await;
    let mut bytes = response(&invite, "180 Ringing", "X-Name: caf#\r\n", "");
    let hash = bytes.iter().position(|&b| b == b'#').unwrap();
    bytes[hash] = 0xe9;
    bytes.extend(progress_and_final(&invite, "504 Server time-out"));
    conn.send(&bytes).await;
    let events = collect(&mut stream).await;
    assert_eq!(statuses(&events), [101, 504], "{events:?}");
    driver.shutdown().await;
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_a_certificate_error() {
    let server_ca = TestCa::new("server CA");
    let other_ca = TestCa::new("some other CA");
    let peer = StreamPeer::bind(Some(server_ca.acceptor())).await;
    let (driver, _incoming) = driver(peer.target(), Some(other_ca.client_config())).await;
    let started = Instant::now();
    let mut stream = driver.send_request(request("OPTIONS", 1)).unwrap();
    peer.accept_failing_handshake().await;
    let events = collect(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let failure = failure(&events);
    assert_eq!(
        failure.kind,
        TransportFailureKind::Certificate,
        "{failure:?}"
    );
    assert!(failure.message.contains("UnknownIssuer"), "{failure}");
    assert_eq!(events.len(), 2);
    driver.shutdown().await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_certificate_error() {
    let ca = TestCa::new("ocer test CA");
    let peer = StreamPeer::bind(Some(ca.acceptor())).await;
    let target = peer.target().with_server_name("pool.contoso.com");
    let (driver, _incoming) = driver(target, Some(ca.client_config())).await;
    let mut stream = driver.send_request(request("OPTIONS", 1)).unwrap();
    peer.accept_failing_handshake().await;
    let events = collect(&mut stream).await;
    assert_eq!(failure(&events).kind, TransportFailureKind::Certificate);
    driver.shutdown().await;
}

#[tokio::test]
async fn a_refused_connection_carries_the_os_error() {
    // A port that was free a moment ago, and is closed now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (driver, _incoming) = driver(Target::new(TransportKind::Tcp, addr), None).await;
    let mut first = driver.send_request(request("OPTIONS", 1)).unwrap();
    let mut second = driver.send_request(request("OPTIONS", 2)).unwrap();
    for stream in [&mut first, &mut second] {
        let events = collect(stream).await;
        let failure = failure(&events);
        assert_eq!(failure.kind, TransportFailureKind::ConnectionRefused);
        let errno = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(failure.os_error.is_some(), "{failure:?} ({errno})");
        let io = std::io::Error::from_raw_os_error(failure.os_error.unwrap());
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    }
    driver.shutdown().await;
}

#[tokio::test]
async fn idle_connections_send_crlfcrlf_pings_and_accept_pongs() {
    let (peer, _) = peer(false).await;
    let mut config = ocer::ua::driver::DriverConfig::new(peer.target());
    config.timers = fast_timers();
    config.transport.keep_alive = Some(Duration::from_millis(50));
    let (driver, _incoming) = ocer::ua::driver::Driver::start(config).await.unwrap();
    let mut first = driver.send_request(request("OPTIONS", 1)).unwrap();
    let mut conn = peer.accept().await;
    let options = conn.next().await;
    conn.send(&response(&options, "200 OK", "", "")).await;
    assert_eq!(statuses(&collect(&mut first).await), [200]);

    // Idle: pings come (and `next` answers each with a CRLF pong); the
    // connection stays usable.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = driver.send_request(request("OPTIONS", 2)).unwrap();
    let options = conn.next().await;
    assert!(conn.ping_bytes >= 8, "{} bytes of pings", conn.ping_bytes);
    conn.send(&response(&options, "200 OK", "", "")).await;
    assert_eq!(statuses(&collect(&mut second).await), [200]);
    driver.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_pending_transactions() {
    let (peer, _) = peer(false).await;
    let (driver, _incoming) = driver(peer.target(), None).await;
    let mut stream = driver.send_request(request("INVITE", 1)).unwrap();
    let mut conn = peer.accept().await;
    let invite = conn.next().await;
    conn.send(&response(&invite, "100 Trying", "", "")).await;
    let TransactionEvent::Response(trying) = stream.recv().await.unwrap() else {
        panic!("expected the 100");
    };
    assert_eq!(trying.status().map(|s| s.0), Some(100));
    driver.shutdown().await;
    let events = collect(&mut stream).await;
    assert_eq!(failure(&events).kind, TransportFailureKind::Other);
    assert!(stream.recv().await.is_none());
    assert!(matches!(
        driver.send_request(request("OPTIONS", 2)),
        Err(ocer::ua::driver::DriverError::Stopped)
    ));
}

/// A driver toward `peer` whose connections hold at most 16 KiB the peer has
/// not read.
async fn small_queue_driver(
    peer: &StreamPeer,
) -> (ocer::ua::driver::Driver, ocer::ua::driver::IncomingRequests) {
    let mut config = ocer::ua::driver::DriverConfig::new(peer.target());
    config.timers = fast_timers();
    config.transport.max_write_queue = 16 * 1024;
    ocer::ua::driver::Driver::start(config).await.unwrap()
}

/// An OPTIONS from the server, numbered `n`, with a 4 KB `Via` (which its
/// answer copies: 3,000 answers are 13 MB, thrice the kernel's buffers).
fn server_options(n: usize) -> String {
    let padding = "p".repeat(4096);
    format!(
        "OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-flood-{n};x={padding}\r\n\
         From: <sip:pool.contoso.com>;tag=srv\r\n\
         To: <sip:alice@contoso.com>\r\n\
         Call-ID: flood-{n}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Issue 17 item 3: a server floods requests and never reads the answers.
/// The answers waiting for it are bounded (the rest dropped) instead of
/// growing the client's memory without limit (337 MB at 500k OPTIONS).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_a_peer_that_reads_nothing_are_bounded() {
    const FLOOD: usize = 3_000;
    // A small receive buffer, so that the kernel holds few of the answers
    // and what is held is the driver's.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(16).unwrap();
    let target = Target::new(TransportKind::Tcp, listener.local_addr().unwrap());
    let mut config = ocer::ua::driver::DriverConfig::new(target);
    config.timers = fast_timers();
    config.transport.max_write_queue = 16 * 1024;
    let (driver, mut incoming) = ocer::ua::driver::Driver::start(config).await.unwrap();
    let mut first = driver.send_request(request("OPTIONS", 0)).unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let (mut read, mut write) = tokio::io::split(tcp);
    let mut buf = bytes::BytesMut::new();
    let options = loop {
        tokio::io::AsyncReadExt::read_buf(&mut read, &mut buf)
            .await
            .unwrap();
        if let ocer::sip::Framed::Message { message, consumed } =
            ocer::sip::frame_stream(&buf, &ocer::sip::FramingLimits::default())
        {
            bytes::Buf::advance(&mut buf, consumed);
            break message;
        }
    };
    tokio::io::AsyncWriteExt::write_all(&mut write, &response(&options, "200 OK", "", ""))
        .await
        .unwrap();
    assert_eq!(statuses(&collect(&mut first).await), [200]);

    let flood = tokio::spawn(async move {
        for n in 0..FLOOD {
            tokio::io::AsyncWriteExt::write_all(&mut write, server_options(n).as_bytes())
                .await
                .unwrap();
        }
        write
    });
    // Every request reaches the app, which leaves it to the driver to answer.
    for _ in 0..FLOOD {
        let request = tokio::time::timeout(Duration::from_secs(30), incoming.recv())
            .await
            .expect("the flood reaches the app")
            .expect("the driver runs");
        drop(request);
    }
    let _write = flood.await.unwrap();
    // A command after every answer: once it is answered, all were sent or dropped.
    driver.local_addr().await.unwrap();

    let mut answered = 0;
    loop {
        let read = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::io::AsyncReadExt::read_buf(&mut read, &mut buf),
        )
        .await;
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
        while let ocer::sip::Framed::Message { message, consumed } =
            ocer::sip::frame_stream(&buf, &ocer::sip::FramingLimits::default())
        {
            bytes::Buf::advance(&mut buf, consumed);
            if message.status().is_some_and(|s| s.0 == 200) {
                answered += 1;
            }
        }
    }
    // The kernel's buffers (up to 4 MB on Linux) hold some; the driver held
    // 8 KiB of them at most, and dropped the rest.
    assert!(
        answered < FLOOD / 2,
        "{answered} of {FLOOD} answers were held for a peer that read nothing"
    );
    driver.shutdown().await;
}

/// Issue 17 item 3, the second bound: requests of the user agent's own that
/// the peer does not read close the connection past the bound, and fail.
#[tokio::test]
async fn requests_to_a_peer_that_reads_nothing_close_the_connection() {
    let peer = StreamPeer::bind(None).await;
    let (driver, _incoming) = small_queue_driver(&peer).await;
    let body = "x".repeat(8 * 1024);
    let big = |n: usize| {
        let text = format!(
            "MESSAGE sip:bob@contoso.com SIP/2.0\r\n\
             From: <sip:alice@contoso.com>;tag=a\r\nTo: <sip:bob@contoso.com>\r\n\
             Call-ID: big-{n}\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        ocer::sip::SipMessage::parse(text.as_bytes(), &ocer::sip::FramingLimits::default()).unwrap()
    };
    let mut streams = vec![driver.send_request(big(0)).unwrap()];
    let _conn = peer.accept().await; // accepted, never read
    for n in 1..2000 {
        streams.push(driver.send_request(big(n)).unwrap());
    }
    let mut closed = None;
    for stream in &mut streams {
        let events = tokio::time::timeout(LIMIT, collect(stream))
            .await
            .expect("each request ends");
        if let [.., TransactionEvent::TransportError(f), TransactionEvent::Terminated] = &events[..]
        {
            closed = Some(f.clone());
            break;
        }
    }
    let failure = closed.expect("the connection closed on an unread queue");
    assert!(failure.message.contains("read nothing"), "{failure}");
    driver.shutdown().await;
}
