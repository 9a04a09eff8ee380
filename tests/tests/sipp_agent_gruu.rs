//! Interop: the `ocer` UserAgent asks SIPp's registrar for a GRUU (RFC 5627:
//! `Supported: gruu-10`, a `+sip.instance` on the Contact), carries its
//! `epid` on From, and sends the MS-OCER §4.1 SERVICE as Lync does: Contact
//! the registered GRUU, the same epid on From
//! (`tests/sipp/agent_register_gruu_service.xml`; SIPp's regexp actions check
//! each with check_it, so a mismatch fails SIPp's run).
//!
//! Needs `sipp` (and stunnel for TLS): run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::ua::UaEvent;
use ocer_test_support::sipp::agent::*;

const SCENARIO: &str = include_str!("../sipp/agent_register_gruu_service.xml");

async fn service_uses_the_gruu_and_epid(wire: Wire) {
    let server = Server::start("agent_register_gruu_service", SCENARIO, wire);
    let (ua, mut events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let failure = tokio::time::timeout(STEP, ua.send_message(BOB, "hello"))
        .await
        .expect("send_message resolves")
        .expect_err("SIPp refuses the message");
    assert_eq!(failure.status().map(|s| s.0), Some(480), "{failure:?}");
    events
        .wait_for("ReportSent", |e| {
            matches!(e, UaEvent::ReportSent { .. }).then_some(())
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(received(&logs, "SERVICE"), 1, "{logs}");
}

#[tokio::test]
async fn service_contact_is_the_gruu_and_from_has_the_epid_over_udp() {
    service_uses_the_gruu_and_epid(Wire::Udp).await;
}

#[tokio::test]
async fn service_contact_is_the_gruu_and_from_has_the_epid_over_tcp() {
    service_uses_the_gruu_and_epid(Wire::Tcp).await;
}
