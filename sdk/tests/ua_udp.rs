//! The driver over UDP against an in-process peer: retransmissions, timeouts,
//! ACKs, malformed datagrams, and the requests a server sends.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::time::{Duration, Instant};

use ezk_sip_types::{Method, Name};
use ocer::sip::{response_for, StatusCode, TransactionEvent, TransportFailureKind};
use ocer::ua::driver::{Driver, DriverConfig};
use ocer_test_support::prelude::*;

#[tokio::test]
async fn a_silent_peer_gets_retransmissions_doubling_from_t1() {
    let peer = UdpPeer::bind().await;
    let (driver, _incoming) = driver(peer.target(), None).await;
    let t1 = fast_timers().t1;
    let mut stream = driver.send_request(request("INVITE", 1)).unwrap();

    // The first two INVITEs go unanswered.
    let mut arrivals = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let (message, from) = peer.next().await;
        arrivals.push(Instant::now());
        assert_eq!(message.method(), Some(&Method::INVITE));
        last = Some((message, from));
    }
    let (invite, ua) = last.unwrap();
    let (first, second) = (arrivals[1] - arrivals[0], arrivals[2] - arrivals[0]);
    // Timer A: T1, then 2·T1 later (3·T1 in all). Loosely: scheduling adds a
    // little, never takes away.
    assert!(first >= t1 && first < t1 * 2, "{first:?}");
    assert!(second >= t1 * 3 && second < t1 * 5, "{second:?}");

    // One datagram per response, back to back.
    for status in ["100 Trying", "101 Progress Report", "504 Server time-out"] {
        peer.socket
            .send_to(&response(&invite, status, "", ""), ua)
            .await
            .unwrap();
    }
    let events = collect_until_final(&mut stream, LIMIT).await;
    assert_eq!(statuses(&events), [100, 101, 504], "{events:?}");

    let (ack, _) = peer.next().await;
    assert_eq!(ack.method(), Some(&Method::ACK));
    assert_eq!(
        ack.header_value(&Name::VIA),
        invite.header_value(&Name::VIA)
    );
    driver.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_never_answers_times_out_after_64_t1() {
    let peer = UdpPeer::bind().await;
    let mut config = DriverConfig::new(peer.target());
    config.timers.t1 = Duration::from_millis(10);
    config.timers.t2 = Duration::from_millis(40);
    let (driver, _incoming) = Driver::start(config).await.unwrap();
    let started = Instant::now();
    let mut stream = driver.send_request(request("OPTIONS", 1)).unwrap();
    let events = collect(&mut stream).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(
            events[..],
            [TransactionEvent::Timeout, TransactionEvent::Terminated]
        ),
        "{events:?}"
    );
    assert!(elapsed >= Duration::from_millis(640), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // Timer E: 10, 20, 40, 40, ... ms until Timer F at 640 ms: about 18 sends.
    let mut sent = 0;
    while peer.next_within(Duration::from_millis(50)).await.is_some() {
        sent += 1;
    }
    assert!((12..=20).contains(&sent), "{sent} transmissions");
    driver.shutdown().await;
}

#[tokio::test]
async fn a_final_datagram_with_a_non_utf8_byte_fails_the_transaction_at_once() {
    let peer = UdpPeer::bind().await;
    let (driver, _incoming) = driver(peer.target(), None).await;
    let mut stream = driver.send_request(request("MESSAGE", 1)).unwrap();
    let (message, from) = peer.next().await;
    let mut bad = response(&message, "403 Forbidden", "X-Name: caf#\r\n", "");
    let hash = bad.iter().position(|&b| b == b'#').unwrap();
    bad[hash] = 0xe9;
    let started = Instant::now();
    peer.socket.send_to(&bad, from).await.unwrap();
    let events = collect(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    match &events[..] {
        [TransactionEvent::TransportError(f), TransactionEvent::Terminated] => {
            assert_eq!(f.kind, TransportFailureKind::Framing, "{f:?}")
        }
        other => panic!("{other:?}"),
    }

    // The user agent keeps working.
    let mut stream = driver.send_request(request("MESSAGE", 2)).unwrap();
    let (message, from) = loop {
        let (m, from) = peer.next().await;
        if m.header_value(&Name::CALL_ID) == Some("call-2@ocer.test") {
            break (m, from);
        }
    };
    peer.socket
        .send_to(&response(&message, "200 OK", "", ""), from)
        .await
        .unwrap();
    assert_eq!(statuses(&collect(&mut stream).await), [200]);
    driver.shutdown().await;
}

/// A request as a server sends it to the user agent.
fn server_request(method: &str, branch: &str, to_tag: bool) -> Vec<u8> {
    let tag = if to_tag { ";tag=d1efe7a825" } else { "" };
    format!(
        "{method} sip:alice@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
         From: <sip:bob@contoso.com>;tag=srv1\r\n\
         To: <sip:alice@contoso.com>{tag}\r\n\
         Call-ID: srv-{branch}\r\n\
         CSeq: 5 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The UDP address the driver sends from, learnt from one request.
async fn driver_address(peer: &UdpPeer, driver: &Driver) -> std::net::SocketAddr {
    let mut stream = driver.send_request(request("OPTIONS", 0)).unwrap();
    let (options, from) = peer.next().await;
    peer.socket
        .send_to(&response(&options, "200 OK", "", ""), from)
        .await
        .unwrap();
    assert_eq!(statuses(&collect(&mut stream).await), [200]);
    from
}

#[tokio::test]
async fn without_the_app_server_requests_get_the_default_answers() {
    let peer = UdpPeer::bind().await;
    let (driver, incoming) = driver(peer.target(), None).await;
    drop(incoming);
    let ua = driver_address(&peer, &driver).await;

    for (method, expected) in [
        ("OPTIONS", 200),
        ("BYE", 481),
        ("NOTIFY", 481),
        ("INVITE", 405),
    ] {
        let branch = format!("z9hG4bK-{method}");
        peer.socket
            .send_to(&server_request(method, &branch, method != "INVITE"), ua)
            .await
            .unwrap();
        let (answer, _) = peer.next().await;
        assert_eq!(answer.status().map(|s| s.0), Some(expected), "{method}");
        assert_eq!(
            answer.header_value(&Name::VIA),
            Some(format!("SIP/2.0/UDP 127.0.0.1:5060;branch={branch}").as_str())
        );
        if method == "OPTIONS" || method == "INVITE" {
            assert!(answer.header_value(&Name::ALLOW).is_some(), "{method}");
        }
    }
    // BENOTIFY is never answered.
    peer.socket
        .send_to(&server_request("BENOTIFY", "z9hG4bK-be", true), ua)
        .await
        .unwrap();
    assert!(peer.next_within(Duration::from_millis(200)).await.is_none());
    driver.shutdown().await;
}

#[tokio::test]
async fn the_app_sees_server_requests_and_answers_them() {
    let peer = UdpPeer::bind().await;
    let (driver, mut incoming) = driver(peer.target(), None).await;
    let ua = driver_address(&peer, &driver).await;

    // A BYE the app knows the dialog of: 200, and a retransmitted BYE gets
    // the same 200 again from the server transaction, not a second delivery.
    peer.socket
        .send_to(&server_request("BYE", "z9hG4bKbye", true), ua)
        .await
        .unwrap();
    let bye = tokio::time::timeout(LIMIT, incoming.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bye.request().method(), Some(&Method::BYE));
    assert!(bye.expects_response());
    bye.answer(true);
    let (ok, _) = peer.next().await;
    assert_eq!(ok.status(), Some(StatusCode::OK));
    let tagged_to = ok.header_value(&Name::TO).unwrap().to_owned();
    peer.socket
        .send_to(&server_request("BYE", "z9hG4bKbye", true), ua)
        .await
        .unwrap();
    let (again, _) = peer.next().await;
    assert_eq!(again.status(), Some(StatusCode::OK));
    assert_eq!(again.header_value(&Name::TO), Some(tagged_to.as_str()));

    // An OPTIONS answered by the app with a response of its own.
    peer.socket
        .send_to(&server_request("OPTIONS", "z9hG4bKopt", false), ua)
        .await
        .unwrap();
    let mut options = tokio::time::timeout(LIMIT, incoming.recv())
        .await
        .unwrap()
        .unwrap();
    let busy = response_for(options.request(), StatusCode(486), Some("app"));
    options.respond(busy).unwrap();
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status(), Some(StatusCode(486)));
    drop(options);
    assert!(peer.next_within(Duration::from_millis(100)).await.is_none());

    // A NOTIFY the app drops unanswered: the driver answers it (no dialog).
    peer.socket
        .send_to(&server_request("NOTIFY", "z9hG4bKntf", true), ua)
        .await
        .unwrap();
    drop(
        tokio::time::timeout(LIMIT, incoming.recv())
            .await
            .unwrap()
            .unwrap(),
    );
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status(), Some(StatusCode(481)));

    // BENOTIFY reaches the app, which cannot answer it.
    peer.socket
        .send_to(&server_request("BENOTIFY", "z9hG4bKbe", true), ua)
        .await
        .unwrap();
    let mut benotify = tokio::time::timeout(LIMIT, incoming.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(!benotify.expects_response());
    let ok = response_for(benotify.request(), StatusCode::OK, None);
    assert!(benotify.respond(ok).is_err());
    drop(benotify);
    assert!(peer.next_within(Duration::from_millis(100)).await.is_none());
    driver.shutdown().await;
}

/// Issue 17 item 11: over UDP each server request held its transaction
/// (request and answer) for Timer J, whatever its source, without bound. Past
/// the bound requests are answered statelessly: a retransmission of the
/// newest is answered again (a fresh To tag) instead of from a held
/// transaction, while the oldest is still absorbed.
#[tokio::test]
async fn server_transactions_over_udp_are_bounded() {
    const REQUESTS: usize = 300;
    let peer = UdpPeer::bind().await;
    let (driver, incoming) = driver(peer.target(), None).await;
    drop(incoming);
    let ua = driver_address(&peer, &driver).await;
    let mut tags = Vec::new();
    for n in 0..REQUESTS {
        let branch = format!("z9hG4bK-many-{n}");
        peer.socket
            .send_to(&server_request("OPTIONS", &branch, false), ua)
            .await
            .unwrap();
        let (answer, _) = peer.next().await;
        tags.push(answer.header_value(&Name::TO).unwrap().to_owned());
    }
    let again = |n: usize| {
        let peer = &peer;
        async move {
            peer.socket
                .send_to(
                    &server_request("OPTIONS", &format!("z9hG4bK-many-{n}"), false),
                    ua,
                )
                .await
                .unwrap();
            let (answer, _) = peer.next().await;
            answer.header_value(&Name::TO).unwrap().to_owned()
        }
    };
    assert_eq!(again(0).await, tags[0], "the first is held and absorbed");
    assert_ne!(
        again(REQUESTS - 1).await,
        tags[REQUESTS - 1],
        "the last is past the bound: answered again, not held"
    );
    driver.shutdown().await;
}

#[tokio::test]
async fn spec_3_1_no_response_the_sdk_sends_carries_ms_diagnostics() {
    let peer = UdpPeer::bind().await;
    let (driver, mut incoming) = driver(peer.target(), None).await;
    let ua = driver_address(&peer, &driver).await;
    let diag = Name::from("ms-diagnostics");
    let public = Name::from("ms-diagnostics-public");

    // The app answers with a diagnostics header (any spelling): refused,
    // and nothing reaches the wire.
    peer.socket
        .send_to(&server_request("OPTIONS", "z9hG4bKdiag", false), ua)
        .await
        .unwrap();
    let mut options = tokio::time::timeout(LIMIT, incoming.recv())
        .await
        .unwrap()
        .unwrap();
    for name in ["ms-diagnostics", "MS-Diagnostics-Public"] {
        let mut busy = response_for(options.request(), StatusCode(486), Some("app"));
        busy.headers.insert(Name::from(name), "1000;reason=\"x\"");
        assert!(
            matches!(
                options.respond(busy),
                Err(ocer::ua::driver::DriverError::Outgoing(
                    ocer::report::OutgoingError::DiagnosticsHeader(_)
                ))
            ),
            "{name}"
        );
    }
    assert!(peer.next_within(Duration::from_millis(100)).await.is_none());
    // Still answerable with a clean response.
    options
        .respond(response_for(
            options.request(),
            StatusCode(486),
            Some("app"),
        ))
        .unwrap();
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status(), Some(StatusCode(486)));
    assert_eq!(answer.header_values(&diag).count(), 0);

    // The driver's own answer to a BYE that carried diagnostics has none.
    let mut bye = String::from_utf8(server_request("BYE", "z9hG4bKbyediag", true)).unwrap();
    bye = bye.replace(
        "Content-Length: 0",
        "ms-diagnostics: 3118;reason=\"removed\"\r\nms-diagnostics-public: 3118;reason=\"removed\"\r\nContent-Length: 0",
    );
    peer.socket.send_to(bye.as_bytes(), ua).await.unwrap();
    drop(
        tokio::time::timeout(LIMIT, incoming.recv())
            .await
            .unwrap()
            .unwrap(),
    );
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status(), Some(StatusCode(481)));
    assert_eq!(answer.header_values(&diag).count(), 0);
    assert_eq!(answer.header_values(&public).count(), 0);
    driver.shutdown().await;
}
