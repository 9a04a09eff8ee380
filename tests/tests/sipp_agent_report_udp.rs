//! Interop: error reports larger than one UDP datagram, to a SIPp server on
//! UDP (issue 17 item 4; issue 10 item 5, RFC 3261 §18.1.1), with
//! `tests/sipp/agent_report_big.xml`: a call whose six 101s and 504 carry
//! ~12 KB diagnostics each, so its report is ~85 KB.
//!
//! - A second SIPp listens with TCP on the UDP server's port: a ~16 KB
//!   report goes there whole, over TCP, as RFC 3261 §18.1.1 says for a
//!   request over 1,300 bytes. (SIPp reads no message over 64 KB, so the
//!   ~85 KB one goes over TCP in `sdk/tests/ua_agent_reports.rs`.)
//! - Nothing on TCP there (the connection is refused): the report goes over
//!   UDP, cut by the MS-OCER §2.2.2 cut order to fit one datagram, and is
//!   delivered on the first datagram sent, not retried in vain.
//!
//! Needs `sipp` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::display::{Action, Mode};
use ocer::ua::transport::MAX_DATAGRAM_PAYLOAD;
use ocer::ua::UaEvent;
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::Transport;
use ocer_test_support::sipp::agent::*;

/// The scenario, its FILLER made `chars` characters.
fn scenario_xml(chars: usize) -> String {
    include_str!("../sipp/agent_report_big.xml").replace("FILLER", &"f".repeat(chars))
}

/// Registers, makes the call that fails with 504 and waits for its report's
/// fate (sent, or dropped: a failure).
async fn call_and_report(server: &Server) -> (ocer::ua::UserAgent, Events) {
    let (ua, mut events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let failure = tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call resolves")
    .expect_err("504");
    assert_eq!(failure.status().map(|s| s.0), Some(504));
    events
        .wait_for("the report delivered", |e| match e {
            UaEvent::ReportSent { .. } => Some(()),
            UaEvent::ReportDropped { why, .. } => panic!("report dropped: {why}"),
            _ => None,
        })
        .await;
    (ua, events)
}

/// The Content-Length of each SERVICE in `log`, each checked to carry a
/// report document naming the call.
fn service_lengths(logs: &ocer_interop::sipp::SippLogs) -> Vec<usize> {
    logs.message_log()
        .received("SERVICE")
        .map(|e| {
            assert!(
                e.message.contains("<reportError xmlns=") && e.message.contains("callId=\""),
                "{}",
                e.message
            );
            e.header("Content-Length")
                .and_then(|l| l.trim().parse().ok())
                .expect("a Content-Length")
        })
        .collect()
}

#[tokio::test]
async fn a_report_over_1300_bytes_goes_whole_over_tcp_to_the_same_port() {
    let xml = scenario_xml(2_000);
    let server = Server::start("agent_report_big", &xml, Wire::Udp);
    let mut config = SippConfig::new(Transport::Tcp, 1);
    config.port = Some(server.target().addr.port());
    config.bind_attempts = 1;
    config.run_limit = Duration::from_secs(30);
    let tcp = SippPeer::start(&Scenario::new("agent_report_big_tcp", xml.clone()), &config)
        .unwrap_or_else(|e| panic!("{e}"));

    let (ua, events) = call_and_report(&server).await;
    let tcp_logs =
        tokio::task::spawn_blocking(move || tcp.wait(STEP).and_then(|r| r.into_success()))
            .await
            .expect("the waiting thread")
            .unwrap_or_else(|e| panic!("the TCP SIPp: {e}"));
    let (udp_logs, _) = server.finish(ua, events).await;
    assert_eq!(
        service_lengths(&udp_logs),
        Vec::<usize>::new(),
        "{udp_logs}"
    );
    let over_tcp = service_lengths(&tcp_logs);
    assert_eq!(over_tcp.len(), 1, "{tcp_logs}");
    assert!(
        over_tcp[0] > 14_000,
        "the report went whole: {} bytes",
        over_tcp[0]
    );
}

#[tokio::test]
async fn a_report_too_large_for_udp_is_cut_to_one_datagram_when_tcp_is_refused() {
    let server = Server::start("agent_report_big", &scenario_xml(12_000), Wire::Udp);
    let (ua, events) = call_and_report(&server).await;
    let (logs, _) = server.finish(ua, events).await;
    let lengths = service_lengths(&logs);
    assert_eq!(lengths.len(), 1, "one datagram, delivered at once\n{logs}");
    assert!(
        lengths[0] < MAX_DATAGRAM_PAYLOAD - 1000 && lengths[0] > 24_000,
        "cut to fit one datagram, not emptied: {} bytes",
        lengths[0]
    );
}
