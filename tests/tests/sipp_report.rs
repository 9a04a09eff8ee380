//! Interop: the MS-OCER error report against SIPp, over TCP on loopback.
//!
//! The client builds the report of the 4.1 example (the INVITE that got `101` +
//! `504`, from the `ocer` fixtures), wraps it in a SERVICE request, sends it to
//! SIPp, collects SIPp's answer with `ocer::diag::Collector` and feeds it to the
//! retry policy. Each `tests/sipp/report_*.xml` scenario answers differently
//! (200, 413, 503 with ms-diagnostics 2019, bare 503, 503 with Retry-After) and
//! checks, with `ereg check_it`, that the body it received is the reportError
//! document naming the INVITE's Call-ID and `responseCode="504"`; SIPp fails the
//! call (and the test) otherwise.
//!
//! Needs `sipp` on PATH: run `scripts/install-test-deps`.

// Helpers outside #[test] functions fail the test the same way.
#![allow(clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ezk_sip_types::Name;
use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::report::{
    encode, finalize_request, service_request, tag_from, DiscardReason, ErrorReport, Outcome,
    ReportLimits, ReportRetry, RetryCause, RetryPolicy, ServiceParts, SessionGate, SuspendReason,
    Verdict, CONTENT_TYPE,
};
use ocer::sip::{frame_stream, Framed, FramingLimits, RequestIdentity, SipMessage};
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::wire::{fresh_branch, fresh_call_id};
use ocer_interop::Transport;

const IO_LIMIT: Duration = Duration::from_secs(10);
const AOR: &str = "sip:alice@contoso.com";
const INVITE_CALL_ID: &str = "f5290007af32443f8a82daa76c934880";

const INVITE: &[u8] = include_bytes!("../../sdk/tests/fixtures/ms-ocer-4.1/invite.sip");
const RESPONSES: [&[u8]; 3] = [
    include_bytes!("../../sdk/tests/fixtures/ms-ocer-4.1/100.sip"),
    include_bytes!("../../sdk/tests/fixtures/ms-ocer-4.1/101.sip"),
    include_bytes!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip"),
];

fn spec_4_1_record() -> TransactionRecord {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(INVITE, &limits).expect("fixture");
    let start = Instant::now();
    let identity = RequestIdentity::from_request(&invite).expect("identity");
    let mut collector = Collector::new(identity, start, CollectorLimits::default());
    for bytes in RESPONSES {
        let response = SipMessage::parse(bytes, &limits).expect("fixture");
        collector
            .observe_response(&response, start)
            .expect("same transaction");
    }
    collector.finish()
}

/// Sends the 4.1 report to a SIPp playing `scenario` and returns the policy's
/// verdict on its answer, with the time the answer was judged at.
fn report_to(scenario: Scenario) -> (Verdict, Instant) {
    let peer = SippPeer::start(&scenario, &SippConfig::new(Transport::Tcp, 1)).expect("start SIPp");
    let mut stream = TcpStream::connect_timeout(&peer.addr(), IO_LIMIT).expect("connect to SIPp");
    stream
        .set_read_timeout(Some(IO_LIMIT))
        .expect("read timeout");
    let local: SocketAddr = stream.local_addr().expect("local address");

    let record = spec_4_1_record();
    let report = ErrorReport::from_record(&record, AOR).expect("a failed transaction");
    let encoded = encode(report, &ReportLimits::default(), AOR).expect("within the limits");
    assert!(encoded.cuts.is_empty());
    let call_id = fresh_call_id();
    let tag = tag_from(u64::from(std::process::id()));
    let parts = ServiceParts {
        aor: AOR,
        call_id: &call_id,
        from_tag: &tag,
        cseq: 1,
        epid: None,
        contact: None,
        user_agent: Some("ocer-interop"),
    };
    let mut service = service_request(&parts, encoded.body.clone()).expect("SERVICE");
    service.headers.insert_front(
        Name::VIA,
        format!(
            "SIP/2.0/{} {local};branch={}",
            Transport::Tcp.via_token(),
            fresh_branch()
        ),
    );
    let wire = finalize_request(&service).expect("a sendable request");
    stream.write_all(&wire).expect("send the SERVICE");

    let started = Instant::now();
    let mut collector = Collector::new(
        RequestIdentity::from_request(&service).expect("identity"),
        started,
        CollectorLimits::default(),
    );
    let limits = FramingLimits::default();
    let mut buf = Vec::new();
    while !collector.has_final() {
        match frame_stream(&buf, &limits) {
            Framed::Incomplete => {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).expect("read from SIPp");
                assert_ne!(n, 0, "SIPp closed the connection");
                buf.extend_from_slice(&chunk[..n]);
            }
            Framed::KeepAlive { consumed } => {
                buf.drain(..consumed);
            }
            Framed::Message { message, consumed } => {
                buf.drain(..consumed);
                collector
                    .observe_response(&message, Instant::now())
                    .expect("our transaction");
            }
            Framed::Error { error, .. } => panic!("SIPp sent a bad message: {error}"),
        }
    }
    let now = Instant::now();
    let answer = collector
        .finish()
        .final_response()
        .cloned()
        .expect("final response");
    let verdict =
        ReportRetry::new(11).on_outcome(&RetryPolicy::default(), Outcome::from(&answer), now);

    let logs = peer
        .wait(IO_LIMIT)
        .expect("SIPp exits")
        .into_success()
        .expect("SIPp saw the report it expected");
    // SIPp's own log of what it received: the very body that was sent.
    assert!(
        logs.messages
            .contains(&format!("Content-Type: {CONTENT_TYPE}")),
        "{logs}"
    );
    assert!(logs.messages.contains(&encoded.body), "{logs}");
    assert!(
        logs.messages
            .contains(&format!("callId=\"{INVITE_CALL_ID}\"")),
        "{logs}"
    );
    (verdict, now)
}

fn scenario(name: &str, xml: &str) -> Scenario {
    Scenario::new(name, xml)
}

#[test]
fn a_200_delivers_the_report() {
    let (verdict, _) = report_to(scenario(
        "report_200",
        include_str!("../sipp/report_200.xml"),
    ));
    assert_eq!(verdict, Verdict::Delivered);
}

#[test]
fn a_413_discards_the_report() {
    let (verdict, _) = report_to(scenario(
        "report_413",
        include_str!("../sipp/report_413.xml"),
    ));
    assert_eq!(verdict, Verdict::Discard(DiscardReason::TooLarge));
}

#[test]
fn a_503_with_2019_suspends_reporting_for_the_session() {
    let (verdict, now) = report_to(scenario(
        "report_503_2019",
        include_str!("../sipp/report_503_2019.xml"),
    ));
    assert_eq!(
        verdict,
        Verdict::SuspendSession(SuspendReason::ServiceNotAvailable)
    );
    let mut gate = SessionGate::new();
    gate.observe(&verdict);
    assert_eq!(gate.next_send_at(now), None);
}

#[test]
fn a_bare_503_suspends_reporting_for_the_session() {
    let (verdict, _) = report_to(scenario(
        "report_503_bare",
        include_str!("../sipp/report_503_bare.xml"),
    ));
    assert_eq!(verdict, Verdict::SuspendSession(SuspendReason::NotEnabled));
}

#[test]
fn a_503_with_retry_after_is_retried_no_earlier() {
    let (verdict, now) = report_to(scenario(
        "report_503_retry_after",
        include_str!("../sipp/report_503_retry_after.xml"),
    ));
    assert_eq!(
        verdict,
        Verdict::RetryAt {
            at: now + Duration::from_secs(30),
            cause: RetryCause::RetryAfter
        }
    );
    let mut gate = SessionGate::new();
    gate.observe(&verdict);
    assert!(!gate.may_send(now + Duration::from_secs(29)));
    assert!(gate.may_send(now + Duration::from_secs(30)));
}
