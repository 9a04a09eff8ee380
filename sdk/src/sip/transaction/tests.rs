//! Unit tests of the transaction state machines, driven with a fake clock:
//! `t0` is read once as the clock's origin and time only moves when a test
//! says so.

use super::*;
use crate::sip::{to_tag_of, FramingLimits, SipMessage, StatusCode};
use ezk_sip_types::{Method, Name};
use proptest::prelude::*;
use std::time::{Duration, Instant};

const BRANCH: &str = "z9hG4bKa1b2c3";
const T1: Duration = Duration::from_millis(500);

fn parse(text: &str) -> SipMessage {
    match SipMessage::parse(text.as_bytes(), &FramingLimits::default()) {
        Ok(m) => m,
        Err(e) => panic!("{e}: {text}"),
    }
}

fn request(method: &str) -> SipMessage {
    parse(&format!(
        "{method} sip:bob@contoso.com;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.7:5060;branch={BRANCH};rport\r\n\
         Max-Forwards: 69\r\n\
         Route: <sip:pool.contoso.com;lr>\r\n\
         Route: <sip:edge.contoso.com;lr>\r\n\
         From: \"Alice\" <sip:alice@contoso.com>;tag=a1\r\n\
         To: <sip:bob@contoso.com;user=phone>\r\n\
         Call-ID: call-1\r\n\
         CSeq: 7 {method}\r\n\
         Contact: <sip:alice@192.0.2.7:5060>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: 4\r\n\r\nv=0\n"
    ))
}

fn response_on(branch: &str, status: u16, method: &str, to_tag: Option<&str>) -> SipMessage {
    let tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let reason = StatusCode(status).reason_phrase().unwrap_or("Whatever");
    parse(&format!(
        "SIP/2.0 {status} {reason}\r\n\
         Via: SIP/2.0/UDP 192.0.2.7:5060;branch={branch};rport=5060;received=198.51.100.1\r\n\
         From: \"Alice\" <sip:alice@contoso.com>;tag=a1\r\n\
         To: <sip:bob@contoso.com;user=phone>{tag}\r\n\
         Call-ID: call-1\r\n\
         CSeq: 7 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

fn response(status: u16, method: &str, to_tag: Option<&str>) -> SipMessage {
    response_on(BRANCH, status, method, to_tag)
}

fn new_client(method: &str, reliability: Reliability, t0: Instant) -> ClientTransaction {
    match ClientTransaction::new(request(method), reliability, TimerConfig::default(), t0) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn transmits(txn: &mut ClientTransaction) -> Vec<SipMessage> {
    std::iter::from_fn(|| txn.poll_transmit()).collect()
}

/// Events, compactly: `101`, `504`, `timeout`, `transport`, `terminated`.
fn events(txn: &mut ClientTransaction) -> Vec<String> {
    std::iter::from_fn(|| txn.poll_event())
        .map(|e| match e {
            TransactionEvent::Response(r) => r.status().map_or("?".into(), |s| s.to_string()),
            TransactionEvent::Timeout => "timeout".into(),
            TransactionEvent::TransportError(f) => format!("transport {}", f.kind),
            TransactionEvent::Terminated => "terminated".into(),
        })
        .collect()
}

fn method_of(m: &SipMessage) -> String {
    m.method().map(ToString::to_string).unwrap_or_default()
}

/// Runs the transaction as a driver would, firing each timer exactly when it
/// is due, until `end` (inclusive) or termination. Returns the offsets from
/// `t0` at which requests went out (the initial send included if still
/// queued) and the events.
fn run(txn: &mut ClientTransaction, t0: Instant, end: Duration) -> (Vec<Duration>, Vec<String>) {
    let mut sends = Vec::new();
    let mut evs = Vec::new();
    let mut now = t0;
    loop {
        for m in transmits(txn) {
            assert!(m.is_request());
            sends.push(now - t0);
        }
        evs.extend(events(txn));
        match txn.poll_timeout() {
            Some(at) if at <= t0 + end && !txn.is_terminated() => {
                assert!(at >= now, "timer in the past");
                now = at;
                txn.handle_timeout(now);
            }
            _ => return (sends, evs),
        }
    }
}

fn t1s(multiples: &[u32]) -> Vec<Duration> {
    multiples.iter().map(|m| T1 * *m).collect()
}

#[test]
fn defaults_are_rfc_3261() {
    let t = TimerConfig::default();
    assert_eq!(
        (t.t1, t.t2, t.t4),
        (
            Duration::from_millis(500),
            Duration::from_secs(4),
            Duration::from_secs(5)
        )
    );
    assert_eq!(t.transaction_timeout(), Duration::from_secs(32));
    assert_eq!(t.timer_d(Reliability::Unreliable), Duration::from_secs(32));
    assert_eq!(t.timer_d(Reliability::Reliable), Duration::ZERO);
    assert_eq!(t.timer_k(Reliability::Unreliable), Duration::from_secs(5));
    assert_eq!(t.timer_k(Reliability::Reliable), Duration::ZERO);
    assert_eq!(t.timer_j(Reliability::Unreliable), Duration::from_secs(32));
    assert_eq!(t.timer_j(Reliability::Reliable), Duration::ZERO);
}

// ---- INVITE client, RFC 3261 §17.1.1 ----

#[test]
fn invite_timer_a_doubles_from_t1_until_timer_b() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Unreliable, t0);
    assert_eq!(txn.state(), ClientState::Calling);
    assert_eq!(txn.poll_timeout(), Some(t0 + T1));
    let (sends, evs) = run(&mut txn, t0, Duration::from_secs(100));
    // A: T1, 2·T1, 4·T1, … after each send; B at 64·T1 ends it.
    assert_eq!(sends, t1s(&[0, 1, 3, 7, 15, 31, 63]));
    assert_eq!(evs, ["timeout", "terminated"]);
    assert!(txn.is_terminated());
    assert_eq!(txn.state(), ClientState::Terminated);
    assert_eq!(txn.poll_timeout(), None);
}

#[test]
fn invite_timer_b_fires_at_64_t1_exactly() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Reliable, t0);
    assert_eq!(transmits(&mut txn).len(), 1);
    // Reliable: no Timer A, only B.
    assert_eq!(txn.poll_timeout(), Some(t0 + T1 * 64));
    txn.handle_timeout(t0 + T1 * 64 - Duration::from_nanos(1));
    assert!(events(&mut txn).is_empty());
    assert!(transmits(&mut txn).is_empty());
    txn.handle_timeout(t0 + T1 * 64);
    assert_eq!(events(&mut txn), ["timeout", "terminated"]);
    assert!(transmits(&mut txn).is_empty());
}

#[test]
fn timers_follow_a_configured_t1() {
    let t0 = Instant::now();
    let t1 = Duration::from_millis(100);
    let timers = TimerConfig {
        t1,
        t2: Duration::from_millis(300),
        t4: Duration::from_secs(1),
    };
    let mut txn =
        ClientTransaction::new(request("INVITE"), Reliability::Unreliable, timers, t0).unwrap();
    let (sends, evs) = run(&mut txn, t0, Duration::from_secs(60));
    let expect: Vec<_> = [0, 1, 3, 7, 15, 31, 63].iter().map(|m| t1 * *m).collect();
    assert_eq!(sends, expect);
    assert_eq!(evs, ["timeout", "terminated"]);

    let mut txn =
        ClientTransaction::new(request("SERVICE"), Reliability::Unreliable, timers, t0).unwrap();
    let (sends, _) = run(&mut txn, t0, Duration::from_secs(60));
    // E: 100, 200, 300 (T2), 300 … until F at 6.4 s.
    let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
    let mut expect = vec![0, 100, 300];
    expect.extend((600..6400).step_by(300));
    assert_eq!(ms, expect);
}

#[test]
fn a_peer_that_drops_the_first_two_requests_sees_sends_at_0_t1_3t1() {
    for method in ["INVITE", "MESSAGE"] {
        let t0 = Instant::now();
        let mut txn = new_client(method, Reliability::Unreliable, t0);
        let (sends, evs) = run(&mut txn, t0, T1 * 3);
        assert_eq!(sends, t1s(&[0, 1, 3]), "{method}");
        assert!(evs.is_empty());
        // The third copy gets through; the answer stops the retransmissions.
        let now = t0 + T1 * 3 + Duration::from_millis(40);
        txn.handle_response(response(200, method, Some("b1")), now);
        let (sends, _) = run(&mut txn, t0, Duration::from_secs(100));
        assert!(sends.is_empty(), "{method}: {sends:?}");
    }
}

#[test]
fn invite_provisional_stops_timers_a_and_b() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Unreliable, t0);
    transmits(&mut txn);
    txn.handle_response(
        response(100, "INVITE", None),
        t0 + Duration::from_millis(30),
    );
    assert_eq!(txn.state(), ClientState::Proceeding);
    assert_eq!(txn.poll_timeout(), None);
    txn.handle_timeout(t0 + Duration::from_secs(3600));
    assert!(transmits(&mut txn).is_empty());
    assert_eq!(events(&mut txn), ["100"]);
    assert!(!txn.is_terminated());
    // The final still comes through after a long wait.
    txn.handle_response(
        response(486, "INVITE", Some("b1")),
        t0 + Duration::from_secs(3601),
    );
    assert_eq!(events(&mut txn), ["486"]);
}

#[test]
fn invite_2xx_terminates_without_an_ack() {
    for reliability in [Reliability::Unreliable, Reliability::Reliable] {
        let t0 = Instant::now();
        let mut txn = new_client("INVITE", reliability, t0);
        transmits(&mut txn);
        txn.handle_response(response(180, "INVITE", Some("b1")), t0);
        txn.handle_response(response(200, "INVITE", Some("b1")), t0);
        assert_eq!(events(&mut txn), ["180", "200", "terminated"]);
        // The ACK for a 2xx is the transaction user's.
        assert!(transmits(&mut txn).is_empty());
        assert!(txn.is_terminated());
        assert_eq!(txn.poll_timeout(), None);
        // A retransmitted 200 does not reach a terminated transaction's user.
        txn.handle_response(response(200, "INVITE", Some("b1")), t0);
        assert!(events(&mut txn).is_empty());
        assert!(transmits(&mut txn).is_empty());
    }
}

#[test]
fn ack_for_a_non_2xx_final_follows_17_1_1_3() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Unreliable, t0);
    let invite = transmits(&mut txn).remove(0);
    txn.handle_response(response(100, "INVITE", None), t0);
    txn.handle_response(response(486, "INVITE", Some("s9")), t0 + T1);
    let mut sent = transmits(&mut txn);
    assert_eq!(sent.len(), 1);
    let ack = sent.remove(0);

    assert_eq!(ack.method(), Some(&Method::ACK));
    let request_uri = |m: &SipMessage| {
        m.to_string()
            .lines()
            .next()
            .map(|l| l.split(' ').nth(1).map(str::to_owned))
    };
    assert_eq!(request_uri(&ack), request_uri(&invite));
    assert!(ack
        .to_string()
        .starts_with("ACK sip:bob@contoso.com;user=phone SIP/2.0\r\n"));
    let values =
        |m: &SipMessage, n: Name| m.header_values(&n).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        values(&ack, Name::VIA),
        [format!("SIP/2.0/UDP 192.0.2.7:5060;branch={BRANCH};rport")]
    );
    assert_eq!(top_via_branch(&ack), Some(BRANCH));
    assert_eq!(
        values(&ack, Name::TO),
        ["<sip:bob@contoso.com;user=phone>;tag=s9"]
    );
    assert_eq!(to_tag_of(&ack).as_deref(), Some("s9"));
    assert_eq!(values(&ack, Name::FROM), values(&invite, Name::FROM));
    assert_eq!(values(&ack, Name::CALL_ID), ["call-1"]);
    assert_eq!(values(&ack, Name::CSEQ), ["7 ACK"]);
    assert_eq!(
        values(&ack, Name::ROUTE),
        ["<sip:pool.contoso.com;lr>", "<sip:edge.contoso.com;lr>"]
    );
    assert_eq!(values(&ack, Name::MAX_FORWARDS), ["69"]);
    assert!(values(&ack, Name::CONTACT).is_empty());
    assert!(values(&ack, Name::CONTENT_TYPE).is_empty());
    assert!(ack.body.is_empty());
    assert!(ack.to_string().ends_with("Content-Length: 0\r\n\r\n"));
    // The ACK survives a trip through the wire form.
    let again = parse(&ack.to_string());
    assert_eq!(again.to_bytes(), ack.to_bytes());

    assert_eq!(events(&mut txn), ["100", "486"]);
    assert_eq!(txn.state(), ClientState::Completed);
}

#[test]
fn the_request_is_released_at_the_final_response_and_the_ack_still_repeats() {
    let t0 = Instant::now();
    for method in ["REGISTER", "INVITE"] {
        let mut txn = new_client(method, Reliability::Unreliable, t0);
        transmits(&mut txn);
        txn.handle_response(response(100, method, None), t0 + T1);
        assert!(
            txn.request().is_some(),
            "{method}: kept while it may be sent"
        );
        txn.handle_response(response(486, method, Some("s1")), t0 + T1);
        let first = transmits(&mut txn);
        assert_eq!(txn.state(), ClientState::Completed, "{method}");
        assert!(
            txn.request().is_none(),
            "{method}: not kept through Timer D/K"
        );

        // A retransmitted final: the INVITE's ACK goes again, built before
        // the request was let go; a REGISTER sends nothing.
        txn.handle_response(response(486, method, Some("s1")), t0 + 2 * T1);
        let again = transmits(&mut txn);
        assert_eq!(again.len(), first.len(), "{method}");
        assert_eq!(
            again.iter().map(SipMessage::to_bytes).collect::<Vec<_>>(),
            first.iter().map(SipMessage::to_bytes).collect::<Vec<_>>()
        );
        // Nor does a timer retransmit it.
        txn.handle_timeout(t0 + 10 * T1);
        assert!(transmits(&mut txn).is_empty(), "{method}");
    }
}

#[test]
fn invite_timer_d_is_32_s_unreliable_and_retransmitted_finals_get_one_more_ack() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Unreliable, t0);
    transmits(&mut txn);
    let at = t0 + Duration::from_millis(200);
    txn.handle_response(response(503, "INVITE", Some("s1")), at);
    let first_ack = transmits(&mut txn);
    assert_eq!(first_ack.len(), 1);
    assert_eq!(events(&mut txn), ["503"]);
    assert_eq!(txn.poll_timeout(), Some(at + Duration::from_secs(32)));

    // The server did not get the ACK and sends the final again.
    txn.handle_response(response(503, "INVITE", Some("s1")), at + T1);
    let again = transmits(&mut txn);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), first_ack[0].to_bytes());
    assert!(events(&mut txn).is_empty(), "no duplicate response event");
    // Provisionals and 2xx after the final are not the user's business.
    txn.handle_response(response(180, "INVITE", Some("s1")), at + T1);
    txn.handle_response(response(200, "INVITE", Some("s1")), at + T1);
    assert!(events(&mut txn).is_empty());
    assert!(transmits(&mut txn).is_empty());
    // No Timer A in Completed.
    txn.handle_timeout(at + Duration::from_secs(32) - Duration::from_millis(1));
    assert!(transmits(&mut txn).is_empty());
    assert!(!txn.is_terminated());
    txn.handle_timeout(at + Duration::from_secs(32));
    assert_eq!(events(&mut txn), ["terminated"]);
    assert!(txn.is_terminated());
}

#[test]
fn invite_timer_d_is_zero_on_a_reliable_transport() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Reliable, t0);
    transmits(&mut txn);
    txn.handle_response(response(101, "INVITE", None), t0);
    txn.handle_response(response(504, "INVITE", Some("s1")), t0);
    // Terminated at once, with the ACK still to send.
    assert!(txn.is_terminated());
    assert_eq!(txn.poll_timeout(), None);
    let sent = transmits(&mut txn);
    assert_eq!(sent.iter().map(method_of).collect::<Vec<_>>(), ["ACK"]);
    assert_eq!(events(&mut txn), ["101", "504", "terminated"]);
}

#[test]
fn progress_report_and_final_back_to_back_come_out_in_order() {
    for (method, reliability) in [
        ("INVITE", Reliability::Reliable),
        ("INVITE", Reliability::Unreliable),
        ("SERVICE", Reliability::Reliable),
        ("SERVICE", Reliability::Unreliable),
    ] {
        let t0 = Instant::now();
        let mut txn = new_client(method, reliability, t0);
        txn.handle_response(response(100, method, None), t0);
        txn.handle_response(response(101, method, None), t0);
        txn.handle_response(response(504, method, Some("s1")), t0);
        let evs = events(&mut txn);
        assert_eq!(
            evs.get(..3),
            Some(&["100", "101", "504"].map(String::from)[..]),
            "{method}"
        );
    }
}

#[test]
fn a_thousand_provisionals_are_all_delivered() {
    for method in ["INVITE", "REGISTER"] {
        let t0 = Instant::now();
        let mut txn = new_client(method, Reliability::Reliable, t0);
        let mut expected = Vec::new();
        for i in 0..1000u32 {
            // Lync repeats 101 with a different diagnostic each time.
            let mut r = response(101, method, None);
            r.headers.insert(
                Name::from("ms-diagnostics"),
                format!("{};reason=\"step {i}\"", 12000 + i),
            );
            txn.handle_response(r, t0 + Duration::from_millis(u64::from(i)));
            expected.push(format!("{};reason=\"step {i}\"", 12000 + i));
        }
        txn.handle_response(
            response(487, method, Some("s1")),
            t0 + Duration::from_secs(2),
        );
        let mut diagnostics = Vec::new();
        let mut statuses = Vec::new();
        while let Some(e) = txn.poll_event() {
            match e {
                TransactionEvent::Response(r) => {
                    statuses.push(r.status().unwrap().as_u16());
                    if let Some(d) = r.header_value(&Name::from("ms-diagnostics")) {
                        diagnostics.push(d.to_owned());
                    }
                }
                TransactionEvent::Terminated => statuses.push(0),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(diagnostics, expected);
        let mut want = vec![101; 1000];
        want.extend([487, 0]);
        assert_eq!(statuses, want, "{method}");
    }
}

#[test]
fn a_transport_error_fails_the_transaction_at_once() {
    let failure = TransportFailure {
        kind: TransportFailureKind::ConnectionReset,
        os_error: Some(104),
        message: "connection reset by peer".into(),
    };
    for (method, provisional) in [
        ("INVITE", false),
        ("INVITE", true),
        ("OPTIONS", false),
        ("OPTIONS", true),
    ] {
        let t0 = Instant::now();
        let mut txn = new_client(method, Reliability::Reliable, t0);
        transmits(&mut txn);
        if provisional {
            txn.handle_response(response(100, method, None), t0);
        }
        txn.handle_transport_error(failure.clone(), t0 + T1);
        let mut evs = Vec::new();
        while let Some(e) = txn.poll_event() {
            evs.push(e);
        }
        let n = evs.len();
        assert!(matches!(&evs[n - 2], TransactionEvent::TransportError(f) if *f == failure));
        assert!(matches!(evs[n - 1], TransactionEvent::Terminated));
        assert!(txn.is_terminated());
        assert_eq!(txn.poll_timeout(), None);
        // Nothing more happens afterwards.
        txn.handle_response(response(200, method, Some("x")), t0 + T1);
        txn.handle_transport_error(failure.clone(), t0 + T1);
        txn.handle_timeout(t0 + Duration::from_secs(100));
        assert!(txn.poll_event().is_none());
        assert!(transmits(&mut txn).is_empty());
    }
}

#[test]
fn a_transport_error_after_the_final_only_terminates() {
    let t0 = Instant::now();
    for method in ["INVITE", "BYE"] {
        let mut txn = new_client(method, Reliability::Unreliable, t0);
        txn.handle_response(response(404, method, Some("s")), t0);
        assert_eq!(txn.state(), ClientState::Completed);
        events(&mut txn);
        txn.handle_transport_error(
            TransportFailure::new(TransportFailureKind::Unreachable, "ICMP port unreachable"),
            t0 + T1,
        );
        assert_eq!(events(&mut txn), ["terminated"]);
    }
}

// ---- non-INVITE client, RFC 3261 §17.1.2 ----

#[test]
fn non_invite_timer_e_doubles_up_to_t2_until_timer_f() {
    let t0 = Instant::now();
    let mut txn = new_client("SERVICE", Reliability::Unreliable, t0);
    assert_eq!(txn.state(), ClientState::Trying);
    let (sends, evs) = run(&mut txn, t0, Duration::from_secs(100));
    // Intervals 0.5, 1, 2, 4, 4, … (T2 = 8·T1): sends at 0, 1, 3, 7, 15, 23, … T1.
    let mut expect = vec![0, 1, 3, 7];
    expect.extend((15..64).step_by(8));
    assert_eq!(sends, t1s(&expect));
    assert_eq!(*sends.last().unwrap(), Duration::from_millis(31_500));
    assert_eq!(evs, ["timeout", "terminated"]);
}

#[test]
fn non_invite_timer_e_fires_at_t2_while_proceeding() {
    let t0 = Instant::now();
    let mut txn = new_client("REGISTER", Reliability::Unreliable, t0);
    transmits(&mut txn);
    // A provisional in Trying: Timer E stays set (at T1) …
    txn.handle_response(
        response(100, "REGISTER", None),
        t0 + Duration::from_millis(100),
    );
    assert_eq!(txn.state(), ClientState::Proceeding);
    assert_eq!(txn.poll_timeout(), Some(t0 + T1));
    // … and from then on is reset to T2, until Timer F.
    let (sends, evs) = run(&mut txn, t0, Duration::from_secs(100));
    let expect: Vec<Duration> =
        std::iter::successors(Some(T1), |d| Some(*d + Duration::from_secs(4)))
            .take_while(|d| *d < T1 * 64)
            .collect();
    assert_eq!(sends, expect);
    assert_eq!(expect.len(), 8);
    assert_eq!(evs, ["100", "timeout", "terminated"]);
}

#[test]
fn non_invite_reliable_has_no_timer_e_and_timer_f_at_64_t1() {
    let t0 = Instant::now();
    let mut txn = new_client("MESSAGE", Reliability::Reliable, t0);
    assert_eq!(txn.poll_timeout(), Some(t0 + T1 * 64));
    let (sends, evs) = run(&mut txn, t0, Duration::from_secs(100));
    assert_eq!(sends, [Duration::ZERO]);
    assert_eq!(evs, ["timeout", "terminated"]);
}

#[test]
fn non_invite_timer_f_applies_in_proceeding() {
    let t0 = Instant::now();
    let mut txn = new_client("MESSAGE", Reliability::Reliable, t0);
    txn.handle_response(response(101, "MESSAGE", None), t0 + T1);
    assert_eq!(txn.poll_timeout(), Some(t0 + T1 * 64));
    txn.handle_timeout(t0 + T1 * 64);
    assert_eq!(events(&mut txn), ["101", "timeout", "terminated"]);
}

#[test]
fn non_invite_timer_k_is_t4_unreliable_and_absorbs_retransmitted_finals() {
    let t0 = Instant::now();
    let mut txn = new_client("SERVICE", Reliability::Unreliable, t0);
    transmits(&mut txn);
    let at = t0 + Duration::from_millis(700);
    txn.handle_response(response(400, "SERVICE", Some("s")), at);
    assert_eq!(txn.state(), ClientState::Completed);
    assert_eq!(txn.poll_timeout(), Some(at + Duration::from_secs(5)));
    assert!(transmits(&mut txn).is_empty(), "no ACK outside INVITE");
    txn.handle_response(response(400, "SERVICE", Some("s")), at + T1);
    txn.handle_response(response(100, "SERVICE", None), at + T1);
    // No Timer E in Completed.
    txn.handle_timeout(at + Duration::from_secs(4));
    assert!(transmits(&mut txn).is_empty());
    assert_eq!(events(&mut txn), ["400"]);
    txn.handle_timeout(at + Duration::from_secs(5));
    assert_eq!(events(&mut txn), ["terminated"]);
}

#[test]
fn non_invite_timer_k_is_zero_on_a_reliable_transport() {
    let t0 = Instant::now();
    let mut txn = new_client("SERVICE", Reliability::Reliable, t0);
    txn.handle_response(response(200, "SERVICE", Some("s")), t0);
    assert!(txn.is_terminated());
    assert_eq!(events(&mut txn), ["200", "terminated"]);
    assert_eq!(txn.poll_timeout(), None);
}

// ---- matching and construction ----

#[test]
fn responses_of_other_transactions_are_ignored() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Reliable, t0);
    assert_eq!(txn.branch(), BRANCH);
    assert_eq!(
        txn.key(),
        &TransactionKey {
            branch: BRANCH.into(),
            method: "INVITE".into()
        }
    );
    let other_branch = response_on("z9hG4bKother", 486, "INVITE", Some("s"));
    let cancel = response(200, "CANCEL", Some("s"));
    assert!(!txn.matches(&other_branch));
    assert!(!txn.matches(&cancel));
    assert!(!txn.matches(&request("INVITE")));
    txn.handle_response(other_branch, t0);
    txn.handle_response(cancel, t0);
    txn.handle_response(request("INVITE"), t0);
    assert!(events(&mut txn).is_empty());
    assert_eq!(txn.state(), ClientState::Calling);
    assert_eq!(
        txn.request().and_then(SipMessage::method),
        Some(&Method::INVITE)
    );
}

#[test]
fn early_timeouts_do_nothing() {
    let t0 = Instant::now();
    let mut txn = new_client("INVITE", Reliability::Unreliable, t0);
    transmits(&mut txn);
    for ms in [0, 1, 499] {
        txn.handle_timeout(t0 + Duration::from_millis(ms));
    }
    assert!(transmits(&mut txn).is_empty());
    assert_eq!(txn.poll_timeout(), Some(t0 + T1));
}

#[test]
fn bad_requests_are_refused() {
    let t0 = Instant::now();
    let timers = TimerConfig::default();
    let new = |m: SipMessage| ClientTransaction::new(m, Reliability::Unreliable, timers, t0).err();
    let edit =
        |method: &str, from: &str, to: &str| parse(&request(method).to_string().replace(from, to));

    assert_eq!(
        new(response(200, "INVITE", None)),
        Some(TransactionError::NotARequest)
    );
    assert_eq!(
        new(request("ACK")),
        Some(TransactionError::AckHasNoTransaction)
    );
    assert_eq!(
        new(edit(
            "INVITE",
            "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKa1b2c3;rport\r\n",
            ""
        )),
        Some(TransactionError::MissingVia)
    );
    assert_eq!(
        new(edit("INVITE", "branch=z9hG4bK", "branch=")),
        Some(TransactionError::MissingBranch)
    );
    assert_eq!(
        new(edit("INVITE", ";branch=z9hG4bKa1b2c3", "")),
        Some(TransactionError::MissingBranch)
    );
    assert_eq!(
        new(edit("INVITE", "CSeq: 7 INVITE", "CSeq: 7 BYE")),
        Some(TransactionError::MethodMismatch {
            request: "INVITE".into(),
            cseq: "BYE".into()
        })
    );
    assert!(matches!(
        new(edit("INVITE", "Call-ID: call-1\r\n", "")),
        Some(TransactionError::Identity(_))
    ));
    for (t1, t2) in [(0, 4000), (500, 400)] {
        let timers = TimerConfig {
            t1: Duration::from_millis(t1),
            t2: Duration::from_millis(t2),
            ..TimerConfig::default()
        };
        assert_eq!(
            ClientTransaction::new(request("INVITE"), Reliability::Reliable, timers, t0).err(),
            Some(TransactionError::InvalidTimers)
        );
    }
}

#[test]
fn huge_timers_never_fire_instead_of_panicking() {
    let t0 = Instant::now();
    let timers = TimerConfig {
        t1: Duration::MAX,
        t2: Duration::MAX,
        t4: Duration::MAX,
    };
    let mut txn =
        ClientTransaction::new(request("OPTIONS"), Reliability::Unreliable, timers, t0).unwrap();
    assert_eq!(txn.poll_timeout(), None);
    txn.handle_response(response(200, "OPTIONS", None), t0);
    assert_eq!(txn.poll_timeout(), None);
    assert_eq!(events(&mut txn), ["200"]);
}

#[test]
fn transport_failure_from_io_keeps_the_os_code() {
    let e = std::io::Error::from_raw_os_error(111);
    let f = TransportFailure::from_io(&e);
    assert_eq!(f.os_error, Some(111));
    assert_eq!(f.message, e.to_string());
    let f = TransportFailure::from(&std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
    assert_eq!((f.kind, f.os_error), (TransportFailureKind::TimedOut, None));
    assert_eq!(f.to_string(), "timed out: slow");
}

// ---- server side, RFC 3261 §17.2.2 ----

fn incoming(method: &str) -> SipMessage {
    parse(&format!(
        "{method} sip:alice@192.0.2.7:5060 SIP/2.0\r\n\
         Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKsrv1\r\n\
         Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bKsrv0;received=10.0.0.2\r\n\
         From: <sip:bob@contoso.com>;tag=b7\r\n\
         To: <sip:alice@contoso.com>;tag=a1\r\n\
         Call-ID: call-1\r\n\
         CSeq: 12 {method}\r\n\
         Timestamp: 54\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

#[test]
fn server_timer_j_is_64_t1_unreliable_and_retransmissions_get_the_response_again() {
    let t0 = Instant::now();
    let mut st = ServerTransaction::new(
        incoming("BYE"),
        Reliability::Unreliable,
        TimerConfig::default(),
        t0,
    )
    .unwrap();
    assert_eq!(st.state(), ServerState::Trying);
    assert_eq!(st.branch(), "z9hG4bKsrv1");
    // Retransmissions before any response are discarded.
    st.handle_request(incoming("BYE"), t0 + T1);
    assert_eq!(st.poll_transmit().map(|m| m.status()), None);

    st.respond(
        response_for(&incoming("BYE"), StatusCode(100), None),
        t0 + T1,
    )
    .unwrap();
    assert_eq!(st.state(), ServerState::Proceeding);
    assert_eq!(
        st.poll_transmit().and_then(|m| m.status()),
        Some(StatusCode(100))
    );
    st.handle_request(incoming("BYE"), t0 + T1 * 2);
    assert_eq!(
        st.poll_transmit().and_then(|m| m.status()),
        Some(StatusCode(100))
    );

    let at = t0 + T1 * 3;
    st.respond(response_for(&incoming("BYE"), StatusCode::OK, None), at)
        .unwrap();
    assert_eq!(st.state(), ServerState::Completed);
    assert_eq!(
        st.poll_transmit().and_then(|m| m.status()),
        Some(StatusCode::OK)
    );
    assert_eq!(st.poll_timeout(), Some(at + T1 * 64));
    // A retransmitted BYE gets the 200 again; another request does not.
    st.handle_request(incoming("BYE"), at + Duration::from_secs(10));
    assert_eq!(
        st.poll_transmit().and_then(|m| m.status()),
        Some(StatusCode::OK)
    );
    st.handle_request(incoming("NOTIFY"), at + Duration::from_secs(10));
    st.handle_request(
        parse(
            &incoming("BYE")
                .to_string()
                .replace("branch=z9hG4bKsrv1", "branch=z9hG4bKsrv2"),
        ),
        at,
    );
    assert!(st.poll_transmit().is_none());
    assert_eq!(
        st.respond(response_for(&incoming("BYE"), StatusCode::OK, None), at),
        Err(TransactionError::AlreadyAnswered)
    );

    st.handle_timeout(at + T1 * 64 - Duration::from_millis(1));
    assert!(!st.is_terminated());
    st.handle_timeout(at + T1 * 64);
    assert!(st.is_terminated());
    assert_eq!(st.state(), ServerState::Terminated);
    assert_eq!(st.poll_timeout(), None);
    st.handle_request(incoming("BYE"), at + T1 * 65);
    assert!(st.poll_transmit().is_none());
}

#[test]
fn server_timer_j_is_zero_on_a_reliable_transport() {
    let t0 = Instant::now();
    let mut st = ServerTransaction::new(
        incoming("NOTIFY"),
        Reliability::Reliable,
        TimerConfig::default(),
        t0,
    )
    .unwrap();
    st.respond(response_for(&incoming("NOTIFY"), StatusCode::OK, None), t0)
        .unwrap();
    assert!(st.is_terminated());
    assert_eq!(
        st.poll_transmit().and_then(|m| m.status()),
        Some(StatusCode::OK)
    );
    assert_eq!(st.poll_timeout(), None);
}

#[test]
fn server_transaction_errors() {
    let t0 = Instant::now();
    let timers = TimerConfig::default();
    let new = |m| ServerTransaction::new(m, Reliability::Reliable, timers, t0).err();
    assert_eq!(
        new(incoming("INVITE")),
        Some(TransactionError::InviteServerTransaction)
    );
    assert_eq!(
        new(incoming("ACK")),
        Some(TransactionError::AckHasNoTransaction)
    );
    assert_eq!(
        new(response(200, "BYE", None)),
        Some(TransactionError::NotARequest)
    );
    assert_eq!(
        new(parse(
            &incoming("BYE")
                .to_string()
                .replace("CSeq: 12 BYE", "CSeq: 12 NOTIFY")
        )),
        Some(TransactionError::MethodMismatch {
            request: "BYE".into(),
            cseq: "NOTIFY".into()
        })
    );
    let mut st =
        ServerTransaction::new(incoming("OPTIONS"), Reliability::Reliable, timers, t0).unwrap();
    assert_eq!(
        st.respond(incoming("OPTIONS"), t0),
        Err(TransactionError::NotAResponse)
    );
    st.handle_transport_error(
        TransportFailure::new(TransportFailureKind::ConnectionClosed, "gone"),
        t0,
    );
    assert!(st.is_terminated());
    assert_eq!(
        st.respond(response_for(&incoming("OPTIONS"), StatusCode::OK, None), t0),
        Err(TransactionError::AlreadyAnswered)
    );
}

#[test]
fn response_for_copies_the_transaction_headers() {
    let mut req = incoming("BYE");
    req.headers.remove(&Name::TO);
    req.headers.insert(Name::TO, "<sip:alice@contoso.com>");
    let r = response_for(
        &req,
        StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        Some("u1"),
    );
    assert_eq!(
        r.to_string(),
        "SIP/2.0 481 Call/Transaction Does Not Exist\r\n\
         Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKsrv1\r\n\
         Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bKsrv0;received=10.0.0.2\r\n\
         From: <sip:bob@contoso.com>;tag=b7\r\n\
         To: <sip:alice@contoso.com>;tag=u1\r\n\
         Call-ID: call-1\r\n\
         CSeq: 12 BYE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(parse(&r.to_string()).to_bytes(), r.to_bytes());
    // A To that has a tag keeps it; 100 Trying gets no tag but the Timestamp.
    let ok = response_for(&incoming("BYE"), StatusCode::OK, Some("u1"));
    assert_eq!(
        ok.header_value(&Name::TO),
        Some("<sip:alice@contoso.com>;tag=a1")
    );
    let trying = response_for(&req, StatusCode::TRYING, Some("u1"));
    assert_eq!(
        trying.header_value(&Name::TO),
        Some("<sip:alice@contoso.com>")
    );
    assert_eq!(trying.header_value(&Name::TIMESTAMP), Some("54"));
    assert_eq!(ok.header_value(&Name::TIMESTAMP), None);
    // Allow on 405 and on the answer to OPTIONS.
    let allow = "ACK, BYE, CANCEL, OPTIONS, NOTIFY, BENOTIFY";
    let refused = response_for(&incoming("INFO"), StatusCode::METHOD_NOT_ALLOWED, None);
    assert_eq!(refused.header_value(&Name::ALLOW), Some(allow));
    assert_eq!(refused.reason_phrase(), Some("Method Not Allowed"));
    let options = response_for(&incoming("OPTIONS"), StatusCode::OK, None);
    assert_eq!(options.header_value(&Name::ALLOW), Some(allow));
    assert_eq!(ok.header_value(&Name::ALLOW), None);
    // An unknown code still makes a valid status line.
    let odd = response_for(&incoming("BYE"), StatusCode(599), None);
    assert_eq!(odd.status(), Some(StatusCode(599)));
    assert!(parse(&odd.to_string()).status() == Some(StatusCode(599)));
}

#[test]
fn the_disposition_table() {
    use Disposition::*;
    let d = incoming_request_disposition;
    let cases: &[(&str, bool, Disposition)] = &[
        ("BYE", true, Respond(StatusCode::OK)),
        ("BYE", false, Respond(StatusCode(481))),
        ("CANCEL", true, CancelPending),
        ("CANCEL", false, Respond(StatusCode(481))),
        ("NOTIFY", true, Respond(StatusCode::OK)),
        ("NOTIFY", false, Respond(StatusCode(481))),
        ("OPTIONS", true, Respond(StatusCode::OK)),
        ("OPTIONS", false, Respond(StatusCode::OK)),
        ("BENOTIFY", true, NoResponse),
        ("BENOTIFY", false, NoResponse),
        ("ACK", true, NoResponse),
        ("ACK", false, NoResponse),
        ("INVITE", false, Respond(StatusCode(405))),
        ("MESSAGE", true, Respond(StatusCode(405))),
        ("INFO", true, Respond(StatusCode(405))),
        ("SERVICE", false, Respond(StatusCode(405))),
        ("SUBSCRIBE", false, Respond(StatusCode(405))),
        ("FROBNICATE", true, Respond(StatusCode(501))),
    ];
    for (method, dialog, want) in cases {
        assert_eq!(
            d(&incoming(method), *dialog),
            *want,
            "{method} dialog={dialog}"
        );
    }
    // The request line and CSeq must agree (ezk reads "BYEX" as BYE).
    let bad = parse(&incoming("BYEX").to_string());
    assert_eq!(d(&bad, true), Respond(StatusCode::BAD_REQUEST));
    let mut no_cseq = incoming("BYE");
    no_cseq.headers.remove(&Name::CSEQ);
    assert_eq!(d(&no_cseq, true), Respond(StatusCode::BAD_REQUEST));
    // BENOTIFY stays unanswered even when malformed; responses are not requests.
    let mut benotify = incoming("BENOTIFY");
    benotify.headers.remove(&Name::CSEQ);
    assert_eq!(d(&benotify, false), NoResponse);
    assert_eq!(d(&response(200, "BYE", None), true), NoResponse);
}

// ---- no input sequence panics, and the event stream stays well formed ----

#[derive(Debug, Clone)]
enum Input {
    Response { status: u16, matching: bool },
    Advance(u64),
    TransportError,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (prop_oneof![100u16..200, 100u16..700], prop::bool::weighted(0.9))
            .prop_map(|(status, matching)| Input::Response { status, matching }),
        3 => prop_oneof![0u64..2_000, 0u64..70_000].prop_map(Input::Advance),
        1 => Just(Input::TransportError),
    ]
}

proptest! {
    #[test]
    fn arbitrary_inputs_never_panic(
        method in prop_oneof![Just("INVITE"), Just("SERVICE")],
        reliable in any::<bool>(),
        inputs in prop::collection::vec(input(), 0..60),
    ) {
        let reliability = if reliable { Reliability::Reliable } else { Reliability::Unreliable };
        let t0 = Instant::now();
        let mut now = t0;
        let mut txn = new_client(method, reliability, t0);
        let mut finals = 0;
        let mut terminated_events = 0;
        let mut fed_before_final = 0usize;
        let mut responses_out = 0usize;
        let mut final_seen = false;
        for inp in inputs {
            let was_terminated = txn.is_terminated();
            match inp {
                Input::Response { status, matching } => {
                    let branch = if matching { BRANCH } else { "z9hG4bKelse" };
                    if matching && !final_seen && !was_terminated {
                        fed_before_final += 1;
                        final_seen = status >= 200;
                    }
                    txn.handle_response(response_on(branch, status, method, Some("t")), now);
                }
                Input::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    txn.handle_timeout(now);
                    // A fired timer is always re-armed in the future.
                    prop_assert!(txn.poll_timeout().is_none_or(|at| at > now));
                }
                Input::TransportError => txn.handle_transport_error(
                    TransportFailure::new(TransportFailureKind::ConnectionClosed, "closed"), now),
            }
            while txn.poll_transmit().is_some() {}
            while let Some(e) = txn.poll_event() {
                prop_assert_eq!(terminated_events, 0, "event after Terminated: {:?}", e);
                match e {
                    TransactionEvent::Response(r) => {
                        responses_out += 1;
                        if r.status().is_some_and(StatusCode::is_final) { finals += 1; }
                    }
                    TransactionEvent::Terminated => terminated_events += 1,
                    TransactionEvent::Timeout | TransactionEvent::TransportError(_) => {}
                }
            }
            prop_assert_eq!(terminated_events, usize::from(txn.is_terminated()));
            if txn.is_terminated() { prop_assert_eq!(txn.poll_timeout(), None); }
        }
        prop_assert!(finals <= 1);
        prop_assert_eq!(responses_out, fed_before_final);
    }
}

#[test]
fn transactions_can_move_between_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ClientTransaction>();
    send_sync::<ServerTransaction>();
    send_sync::<TransactionEvent>();
    send_sync::<TransportFailure>();
}

#[derive(Debug, Clone)]
enum ServerInput {
    Respond(u16),
    Retransmission,
    Advance(u64),
    TransportError,
}

proptest! {
    #[test]
    fn server_transactions_never_panic(
        reliable in any::<bool>(),
        inputs in prop::collection::vec(prop_oneof![
            (0u16..800).prop_map(ServerInput::Respond),
            Just(ServerInput::Retransmission),
            (0u64..40_000).prop_map(ServerInput::Advance),
            Just(ServerInput::TransportError),
        ], 0..40),
    ) {
        let reliability = if reliable { Reliability::Reliable } else { Reliability::Unreliable };
        let t0 = Instant::now();
        let mut now = t0;
        let req = incoming("NOTIFY");
        let mut st = ServerTransaction::new(req.clone(), reliability, TimerConfig::default(), t0).unwrap();
        let mut finals_sent = 0;
        for inp in inputs {
            match inp {
                ServerInput::Respond(code) => {
                    let before = st.state();
                    let result = st.respond(response_for(&req, StatusCode(code), Some("x")), now);
                    let valid = (100..700).contains(&code);
                    let open = matches!(before, ServerState::Trying | ServerState::Proceeding);
                    prop_assert_eq!(result.is_ok(), valid && open);
                    if result.is_ok() && code >= 200 { finals_sent += 1; }
                }
                ServerInput::Retransmission => st.handle_request(req.clone(), now),
                ServerInput::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    st.handle_timeout(now);
                    prop_assert!(st.poll_timeout().is_none_or(|at| at > now));
                }
                ServerInput::TransportError => st.handle_transport_error(
                    TransportFailure::new(TransportFailureKind::ConnectionReset, "reset"), now),
            }
            while let Some(r) = st.poll_transmit() {
                prop_assert!(!r.is_request());
            }
        }
        prop_assert!(finals_sent <= 1);
    }
}
